// SPDX-License-Identifier: GPL-2.0-only
/*
 * hostd's event loop (poller.h): a list of watches and poll(2). The list
 * is rebuilt into a pollfd array at every dispatch, as hostd's loop did
 * by hand before: a few dozen descriptors at most (a card, a timer, a
 * socket per guest, the bus), so poll(2) costs nothing worth an epoll.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>

#include "log.h"
#include "poller.h"

struct hostd_watch {
	struct hostd_poller *p;
	struct hostd_watch *next;	/* in the order added */
	int fd;
	short events;
	hostd_watch_fn fn;
	void *data;
	bool removed;	/* during a dispatch: freed at its end */
	bool invalid;	/* POLLNVAL: closed under us, no longer polled */
};

struct hostd_poller {
	struct hostd_watch *head, **tail;
	bool dispatching;
	/* the dispatch's snapshot: pfd[i] is watch[i]'s */
	struct pollfd *pfd;
	struct hostd_watch **watch;
	unsigned int cap;
};

struct hostd_poller *hostd_poller_create(void)
{
	struct hostd_poller *p = calloc(1, sizeof(*p));

	if (p)
		p->tail = &p->head;
	return p;
}

void hostd_poller_destroy(struct hostd_poller *p)
{
	struct hostd_watch *w, *next;

	if (!p)
		return;
	for (w = p->head; w; w = next) {
		next = w->next;
		free(w);
	}
	free(p->pfd);
	free(p->watch);
	free(p);
}

struct hostd_watch *hostd_poller_add(struct hostd_poller *p, int fd,
				     short events, hostd_watch_fn fn,
				     void *data)
{
	struct hostd_watch *w;

	if (fd < 0 || !fn) {
		errno = EINVAL;
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	*w = (struct hostd_watch){ .p = p, .fd = fd, .events = events,
				   .fn = fn, .data = data };
	*p->tail = w;
	p->tail = &w->next;
	return w;
}

/* Unlink and free every watch removed while a dispatch ran. */
static void sweep(struct hostd_poller *p)
{
	struct hostd_watch **pw = &p->head, *w;

	p->tail = &p->head;
	while ((w = *pw)) {
		if (w->removed) {
			*pw = w->next;
			free(w);
			continue;
		}
		p->tail = &w->next;
		pw = &w->next;
	}
}

void hostd_watch_remove(struct hostd_watch *w)
{
	struct hostd_poller *p;

	if (!w)
		return;
	p = w->p;
	w->removed = true;
	if (!p->dispatching)
		sweep(p);
}

/* Room for n watches in the snapshot; 0 or -1 (ENOMEM). */
static int reserve(struct hostd_poller *p, unsigned int n)
{
	struct pollfd *pfd;
	struct hostd_watch **watch;
	unsigned int cap = p->cap ? p->cap : 16;

	if (n <= p->cap)
		return 0;
	while (cap < n)
		cap *= 2;
	pfd = realloc(p->pfd, cap * sizeof(*pfd));
	if (!pfd)
		return -1;
	p->pfd = pfd;
	watch = realloc(p->watch, cap * sizeof(*watch));
	if (!watch)
		return -1;
	p->watch = watch;
	p->cap = cap;
	return 0;
}

int hostd_poller_dispatch(struct hostd_poller *p, int timeout_ms)
{
	struct hostd_watch *w;
	unsigned int n = 0, i;
	int called = 0, r;

	for (w = p->head; w; w = w->next)
		n++;
	if (reserve(p, n))
		return -1;
	n = 0;
	for (w = p->head; w; w = w->next) {
		if (w->invalid)
			continue;
		p->pfd[n] = (struct pollfd){ .fd = w->fd, .events = w->events };
		p->watch[n++] = w;
	}
	r = poll(p->pfd, n, timeout_ms);
	if (r <= 0)
		return r;
	p->dispatching = true;
	for (i = 0; i < n; i++) {
		w = p->watch[i];
		if (!p->pfd[i].revents || w->removed)
			continue;
		if (p->pfd[i].revents & POLLNVAL) {
			/* its owner closed it without removing the watch: a
			 * bug; polling it again would spin */
			hostd_log("poller: descriptor %d closed while watched",
				  w->fd);
			w->invalid = true;
			continue;
		}
		w->fn(w->fd, p->pfd[i].revents, w->data);
		called++;
	}
	p->dispatching = false;
	sweep(p);
	return called;
}
