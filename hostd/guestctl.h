/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What a guest may ask hostd (include/paradice/pd_control.h): each
 * guest's backend gets a control channel at its start, over which every
 * control file the guest opens arrives; each request on such a file is
 * checked against that guest's `allow` (paradice.conf), carried out
 * through the switcher and logged with the guest's name.
 */
#ifndef HOSTD_GUESTCTL_H
#define HOSTD_GUESTCTL_H

#include <stddef.h>

struct hostd_guestctl;
struct hostd_poller;
struct hostd_switcher;

struct hostd_guestctl *hostd_guestctl_create(struct hostd_switcher *sw,
					     struct hostd_poller *p);
/* Closes every channel and control file. NULL is ignored. */
void hostd_guestctl_destroy(struct hostd_guestctl *gc);

/* A new channel for guest g's backend (the old one and its files are
 * dropped): the backend's end, which the caller passes on and closes, or
 * -1 (logged). gc may be NULL (-1). */
int hostd_guestctl_backend_fd(struct hostd_guestctl *gc, unsigned int g);

/* A backend that outlived the last hostd reattached (reattach.c checked
 * it) with fd, its end of a new channel for guest g: it replaces g's
 * channel (fd is taken: closed on failure). 0, or -1 (not a Unix
 * SOCK_SEQPACKET socket, logged otherwise). */
int hostd_guestctl_adopt(struct hostd_guestctl *gc, unsigned int g, int fd);

/* The VM list or a VM's state changed: every control file that asked
 * WATCH (its guest's allow has list) gets an EVENT, without waiting on
 * any (also called by the switcher after each switch). NULL is ignored. */
void hostd_guestctl_notify(struct hostd_guestctl *gc);

/*
 * One request of guest g, untrusted_req[0..len) as it came, answered:
 * checked, carried out, logged; the reply (NUL-terminated, at most
 * cap - 1 bytes, cap >= 128) in reply. Its length.
 */
size_t hostd_guestctl_answer(struct hostd_switcher *sw, unsigned int g,
			     const char *untrusted_req, size_t len,
			     char *reply, size_t cap);

#endif /* HOSTD_GUESTCTL_H */
