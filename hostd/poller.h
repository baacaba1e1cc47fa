/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hostd's event loop: a callback per descriptor. A module registers each
 * descriptor it owns when it opens it (hostd_poller_add) and removes the
 * watch before it closes it (hostd_watch_remove); the loop in hostd.c
 * only calls hostd_poller_dispatch(), so it needs to know no module's
 * descriptors and no module needs to know the loop.
 *
 * One thread: everything runs from the callbacks. A callback may add and
 * remove watches, its own or others', at any time: a watch removed during
 * a dispatch is not called any more in that dispatch (its descriptor may
 * already be closed and its number reused), and one added during a
 * dispatch is polled from the next.
 */
#ifndef HOSTD_POLLER_H
#define HOSTD_POLLER_H

#include <stdint.h>

struct hostd_poller;
struct hostd_watch;

/* revents: what poll(2) said (POLLIN, POLLHUP, POLLERR ...). */
typedef void (*hostd_watch_fn)(int fd, short revents, void *data);

struct hostd_poller *hostd_poller_create(void);
/* Frees every watch still registered (their descriptors stay open). */
void hostd_poller_destroy(struct hostd_poller *p);

/*
 * Call fn(fd, revents, data) whenever poll(2) reports one of events (or
 * POLLHUP, POLLERR, which it always reports) on fd. NULL (errno set) if
 * out of memory or fd is negative.
 */
struct hostd_watch *hostd_poller_add(struct hostd_poller *p, int fd,
				     short events, hostd_watch_fn fn,
				     void *data);
/* Stop watching; before the descriptor is closed. NULL is ignored. */
void hostd_watch_remove(struct hostd_watch *w);

/*
 * One poll(2) over every watch, waiting at most timeout_ms (-1: no
 * limit), then the callbacks of the ready ones, in the order they were
 * added. Returns how many were called, or -1 with errno (EINTR: a signal
 * came; nothing was called).
 */
int hostd_poller_dispatch(struct hostd_poller *p, int timeout_ms);

#endif /* HOSTD_POLLER_H */
