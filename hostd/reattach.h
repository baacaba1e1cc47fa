/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * reattach.c: backends that outlived a previous hostd connect again
 * (PD_DISPLAY_SOCKET): checked, then given to display.c, input.c and
 * guestctl.c (its control channel).
 */
#ifndef HOSTD_REATTACH_H
#define HOSTD_REATTACH_H

#include <stdbool.h>

struct hostd_display;
struct hostd_guestctl;
struct hostd_input;
struct hostd_poller;
struct hostd_reattach;
struct hostd_switcher;

/* Listen on path for backends of an earlier hostd; check_peer: the peer
 * must be a pd-backend process (off in unit tests). in may be NULL (no
 * input), gc too (a control channel that comes is closed). NULL on
 * failure. */
struct hostd_reattach *hostd_reattach_create(struct hostd_switcher *sw,
					     struct hostd_poller *p,
					     struct hostd_display *d,
					     struct hostd_input *in,
					     struct hostd_guestctl *gc,
					     const char *path, bool check_peer);
void hostd_reattach_destroy(struct hostd_reattach *r);

#endif /* HOSTD_REATTACH_H */
