// SPDX-License-Identifier: GPL-2.0-only
/*
 * hostd's event loop (hostd/poller.c), fed by pipes: a registered
 * descriptor's callback runs with its data when it is readable and not
 * otherwise; callbacks run in the order the watches were added; a watch
 * removed during a dispatch is not called any more in it, even when its
 * descriptor was ready and is already closed; one added during a dispatch
 * is called from the next; a hang-up is reported; nothing is called when
 * the timeout passes.
 */
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "poller.h"
#include "tap.h"

struct end {
	int rd, wr;
	struct hostd_watch *w;
	unsigned int calls;
	short revents;
	unsigned int order;	/* the call's rank in its dispatch */
	/* what the callback does besides counting */
	struct end *remove;	/* remove (and close) this one's watch */
	struct end *add;	/* add this one's watch */
};

static struct hostd_poller *p;
static unsigned int rank;

static void on_end(int fd, short revents, void *data)
{
	struct end *e = data;
	char c;

	CHECK_EQ(fd, e->rd);
	e->calls++;
	e->revents = revents;
	e->order = ++rank;
	if (revents & POLLIN)
		CHECK(read(fd, &c, 1) >= 0);
	if (e->remove) {
		hostd_watch_remove(e->remove->w);
		e->remove->w = NULL;
		close(e->remove->rd);
		e->remove->rd = -1;
	}
	if (e->add)
		e->add->w = hostd_poller_add(p, e->add->rd, POLLIN, on_end,
					     e->add);
}

static void open_end(struct end *e)
{
	int fds[2];

	memset(e, 0, sizeof(*e));
	CHECK(pipe(fds) == 0);
	e->rd = fds[0];
	e->wr = fds[1];
}

static void close_end(struct end *e)
{
	hostd_watch_remove(e->w);
	if (e->rd >= 0)
		close(e->rd);
	if (e->wr >= 0)
		close(e->wr);
}

static void poke(struct end *e)
{
	CHECK(write(e->wr, "x", 1) == 1);
}

static int dispatch(int timeout_ms)
{
	rank = 0;
	return hostd_poller_dispatch(p, timeout_ms);
}

static void test_only_the_ready_one_is_called(void)
{
	struct end a, b;

	open_end(&a);
	open_end(&b);
	a.w = hostd_poller_add(p, a.rd, POLLIN, on_end, &a);
	b.w = hostd_poller_add(p, b.rd, POLLIN, on_end, &b);
	CHECK(a.w && b.w);
	CHECK_EQ(dispatch(10), 0);		/* the timeout, nothing called */
	CHECK_EQ(a.calls + b.calls, 0);
	poke(&b);
	CHECK_EQ(dispatch(1000), 1);
	CHECK_EQ(a.calls, 0);
	CHECK_EQ(b.calls, 1);
	CHECK(b.revents & POLLIN);
	poke(&a);
	poke(&b);
	CHECK_EQ(dispatch(1000), 2);
	CHECK_EQ(a.calls, 1);
	CHECK_EQ(b.calls, 2);
	CHECK_EQ(a.order, 1);			/* in the order added */
	CHECK_EQ(b.order, 2);
	/* removed: no longer called, though readable */
	hostd_watch_remove(a.w);
	a.w = NULL;
	poke(&a);
	CHECK_EQ(dispatch(10), 0);
	CHECK_EQ(a.calls, 1);
	close_end(&a);
	close_end(&b);
}

static void test_removal_during_dispatch(void)
{
	struct end a, b, c;

	open_end(&a);
	open_end(&b);
	open_end(&c);
	a.w = hostd_poller_add(p, a.rd, POLLIN, on_end, &a);
	b.w = hostd_poller_add(p, b.rd, POLLIN, on_end, &b);
	c.w = hostd_poller_add(p, c.rd, POLLIN, on_end, &c);
	/* a removes b and closes its descriptor; c removes itself */
	a.remove = &b;
	c.remove = &c;
	poke(&a);
	poke(&b);
	poke(&c);
	CHECK_EQ(dispatch(1000), 2);
	CHECK_EQ(a.calls, 1);
	CHECK_EQ(b.calls, 0);		/* ready, but removed before its turn */
	CHECK_EQ(c.calls, 1);
	/* the closed descriptor is not polled again: a is the only one */
	a.remove = NULL;
	poke(&a);
	CHECK_EQ(dispatch(1000), 1);
	CHECK_EQ(a.calls, 2);
	CHECK_EQ(b.calls, 0);
	CHECK_EQ(c.calls, 1);
	close_end(&a);
	close_end(&b);
	close_end(&c);
}

static void test_added_during_dispatch_waits_for_the_next(void)
{
	struct end a, b;

	open_end(&a);
	open_end(&b);
	a.w = hostd_poller_add(p, a.rd, POLLIN, on_end, &a);
	a.add = &b;
	poke(&a);
	poke(&b);
	CHECK_EQ(dispatch(1000), 1);
	CHECK_EQ(a.calls, 1);
	CHECK_EQ(b.calls, 0);
	CHECK(b.w != NULL);
	a.add = NULL;
	CHECK_EQ(dispatch(1000), 1);
	CHECK_EQ(b.calls, 1);
	close_end(&a);
	close_end(&b);
}

static void test_hangup_is_reported(void)
{
	struct end a;

	open_end(&a);
	a.w = hostd_poller_add(p, a.rd, POLLIN, on_end, &a);
	close(a.wr);
	a.wr = -1;
	CHECK_EQ(dispatch(1000), 1);
	CHECK(a.revents & POLLHUP);
	close_end(&a);
	CHECK(hostd_poller_add(p, -1, POLLIN, on_end, &a) == NULL);
}

int main(void)
{
	p = hostd_poller_create();
	CHECK(p != NULL);
	RUN(test_only_the_ready_one_is_called);
	RUN(test_removal_during_dispatch);
	RUN(test_added_during_dispatch_waits_for_the_next);
	RUN(test_hangup_is_reported);
	hostd_poller_destroy(p);
	return tap_done();
}
