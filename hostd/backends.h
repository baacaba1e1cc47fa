/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * backends.c: one pd-backend process per running guest; keeps the
 * backends an earlier hostd left.
 */
#ifndef HOSTD_BACKENDS_H
#define HOSTD_BACKENDS_H

#include <stdbool.h>

struct hostd_backends;
struct hostd_display;
struct hostd_input;
struct hostd_poller;
struct hostd_switcher;

/* spawn: start backends at all (not without Xen, nor with
 * --no-backends); config_path: what they read. */
struct hostd_backends *hostd_backends_create(struct hostd_switcher *sw,
					     struct hostd_poller *p,
					     const char *config_path,
					     bool spawn);
/* Leaves the processes running (they outlive hostd). */
void hostd_backends_destroy(struct hostd_backends *b);
/* At start, before the guests' input devices are made: backends an
 * earlier hostd left running are kept (they reattach); those of domains
 * that are gone are stopped. */
void hostd_backends_adopt(struct hostd_backends *b);
/* What a backend started from now on gets: its guest's input devices
 * and its display connection (either may be NULL). */
void hostd_backends_set_peers(struct hostd_backends *b, struct hostd_input *in,
			      struct hostd_display *d);
/* Each backend started from now on gets a control channel of gc's. */
struct hostd_guestctl;
void hostd_backends_set_guestctl(struct hostd_backends *b,
				 struct hostd_guestctl *gc);
/* Start the backends of running guests that have none, stop those of
 * guests that went. */
void hostd_backends_update(struct hostd_backends *b);
/* Collect exited backends; returns true while one waits to be restarted. */
bool hostd_backends_reap(struct hostd_backends *b);

#endif /* HOSTD_BACKENDS_H */
