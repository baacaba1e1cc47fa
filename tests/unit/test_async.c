// SPDX-License-Identifier: GPL-2.0-only
/*
 * The frontend's rules for what it does not wait for (common/pd_async.h,
 * used by kernel/front_file.c and front_fops.c): an asynchronous
 * request's error surfaces on the file's next call, once, and the first
 * one is kept; poll readiness is believed only from a reply or event
 * newer than everything known, never while or after another request on
 * the file went out, so a stale event (an older sequence, or one that
 * may predate a read) never answers a poll; a reply older than an event
 * already seen is not believed over it; a request's reply carries the
 * state after it, believed only if nothing overlapped the request; and
 * "not ready" is answered without a trip only while the backend's
 * registration stays armed for the events asked.
 */
#include <stdint.h>

#include "pd_async.h"
#include "tap.h"

#define IN	0x1u
#define OUT	0x4u
#define ERR	0x8u

static void test_async_error_surfaces_once(void)
{
	struct pd_async_err e = { 0 };

	CHECK_EQ(pd_async_err_take(&e), 0);
	pd_async_err_set(&e, 0);		/* a success leaves nothing */
	CHECK_EQ(pd_async_err_take(&e), 0);
	pd_async_err_set(&e, -EINVAL);		/* GEM_CLOSE of a bad handle */
	pd_async_err_set(&e, -ENOENT);		/* a later one: the first stays */
	CHECK_EQ(pd_async_err_take(&e), -EINVAL);	/* the next call */
	CHECK_EQ(pd_async_err_take(&e), 0);	/* and only that one */
	pd_async_err_set(&e, -EIO);		/* the connection died */
	CHECK_EQ(pd_async_err_take(&e), -EIO);
}

/* Known fresh after a poll trip: a ready answer without a trip. */
static void test_poll_reply_then_event(void)
{
	struct pd_pollc p = { 0 };
	uint32_t mask = 0;
	struct pd_pollc_tok tok;

	CHECK(!pd_pollc_answer(&p, IN, &mask));	/* nothing known */
	tok = pd_pollc_poll_begin(&p);
	pd_pollc_poll_reply(&p, tok, IN, 6, 0, false);	/* not ready, armed */
	CHECK(!pd_pollc_answer(&p, IN, &mask));	/* not ready: travels */
	CHECK(pd_pollc_event(&p, 7, IN));	/* the flip is done */
	CHECK(pd_pollc_answer(&p, IN, &mask));
	CHECK_EQ(mask, IN);
	/* only what the backend was armed for */
	CHECK(!pd_pollc_answer(&p, IN | OUT, &mask));
	/* ERR comes whether asked or not */
	CHECK(pd_pollc_event(&p, 8, IN | ERR));
	CHECK(pd_pollc_answer(&p, IN, &mask));
	CHECK_EQ(mask, IN | ERR);
}

/* An event older than what a poll trip told is stale. */
static void test_stale_event_not_believed(void)
{
	struct pd_pollc p = { 0 };
	uint32_t mask = 0;
	struct pd_pollc_tok tok;

	tok = pd_pollc_poll_begin(&p);
	pd_pollc_poll_reply(&p, tok, IN, 10, 0, false);
	CHECK(!pd_pollc_event(&p, 9, IN));	/* sent before the look */
	CHECK(!pd_pollc_event(&p, 10, IN));	/* as old as the look */
	CHECK(!pd_pollc_answer(&p, IN, &mask));
	/* wrapping sequences */
	p = (struct pd_pollc){ 0 };
	tok = pd_pollc_poll_begin(&p);
	pd_pollc_poll_reply(&p, tok, IN, 0xfffffffeu, 0, false);
	CHECK(!pd_pollc_event(&p, 0xfffffffdu, IN));
	CHECK(pd_pollc_event(&p, 1, IN));
	CHECK(pd_pollc_answer(&p, IN, &mask));
	/* an older poll reply after a newer event changes nothing */
	tok = pd_pollc_poll_begin(&p);
	pd_pollc_poll_reply(&p, tok, IN, 0xffffffffu, 0, false);
	CHECK(pd_pollc_answer(&p, IN, &mask));
}

/*
 * The race of a request in flight: the event of seq s + 1 comes before
 * the reply that carries seq s. The event is not believed (it came while
 * the request was in flight), but it is remembered: the older reply is
 * not believed over it; since the reply's sequence proves the event was
 * looked at after the request ran, the event's state is what holds.
 */
static void test_older_reply_after_newer_event(void)
{
	struct pd_pollc p = { 0 };
	struct pd_pollc_tok tok;
	uint32_t mask = 0;

	tok = pd_pollc_poll_begin(&p);
	pd_pollc_poll_reply(&p, tok, IN, 4, 0, true);	/* armed, not ready */
	tok = pd_pollc_op_begin(&p);			/* PAGE_FLIP goes */
	CHECK(!pd_pollc_event(&p, 5, IN));		/* its event, early */
	pd_pollc_op_end_state(&p, tok, IN, 4, 0);	/* reply: seq 4, not ready */
	CHECK(pd_pollc_answer(&p, IN, &mask));
	CHECK_EQ(mask, IN);				/* the event's, not 0 */
	/* the same for a poll trip: an event after it went, before its reply */
	p = (struct pd_pollc){ 0 };
	tok = pd_pollc_poll_begin(&p);
	CHECK(!pd_pollc_event(&p, 9, IN));		/* nothing known yet */
	pd_pollc_poll_reply(&p, tok, IN, 8, 0, true);
	CHECK(pd_pollc_answer(&p, IN, &mask));
	CHECK_EQ(mask, IN);
	/* an event older than the reply leaves the reply's state */
	p = (struct pd_pollc){ 0 };
	tok = pd_pollc_op_begin(&p);
	CHECK(!pd_pollc_event(&p, 3, IN));
	pd_pollc_op_end_state(&p, tok, IN, 3, 0);	/* looked after it */
	CHECK(pd_pollc_answer(&p, IN, &mask));
	CHECK_EQ(mask, 0);
	/* a believed newer event is not undone by an older poll reply */
	tok = pd_pollc_poll_begin(&p);
	CHECK(pd_pollc_event(&p, 4, IN));
	pd_pollc_poll_reply(&p, tok, IN, 3, 0, true);
	CHECK(pd_pollc_answer(&p, IN, &mask));
	CHECK_EQ(mask, IN);
}

/* After a request the state is unknown until its reply carries one. */
static void test_state_in_reply(void)
{
	struct pd_pollc p = { 0 };
	struct pd_pollc_tok tok;
	uint32_t mask = 0;

	tok = pd_pollc_poll_begin(&p);
	pd_pollc_poll_reply(&p, tok, IN, 1, 0, true);
	CHECK(pd_pollc_answer(&p, IN, &mask));
	tok = pd_pollc_op_begin(&p);			/* read() goes */
	CHECK(!pd_pollc_answer(&p, IN, &mask));	/* unknown meanwhile */
	pd_pollc_op_end(&p);				/* no state: an old peer */
	CHECK(!pd_pollc_answer(&p, IN, &mask));	/* still unknown */
	tok = pd_pollc_op_begin(&p);
	pd_pollc_op_end_state(&p, tok, IN, 1, IN);	/* state after it */
	CHECK(pd_pollc_answer(&p, IN, &mask));
	CHECK_EQ(mask, IN);
	CHECK(!pd_pollc_event(&p, 1, 0));		/* as old: stale */
	CHECK(pd_pollc_answer(&p, IN, &mask));
	CHECK_EQ(mask, IN);
	/* two requests overlapping: neither reply's state is believed */
	tok = pd_pollc_op_begin(&p);
	{
		struct pd_pollc_tok tok2 = pd_pollc_op_begin(&p);

		pd_pollc_op_end_state(&p, tok2, IN, 2, IN);
		CHECK(!pd_pollc_answer(&p, IN, &mask));	/* one in flight */
	}
	pd_pollc_op_end_state(&p, tok, IN, 2, 0);	/* sent before the other */
	CHECK(!pd_pollc_answer(&p, IN, &mask));
	/* a request that went while another was in flight, replied last */
	tok = pd_pollc_op_begin(&p);
	{
		struct pd_pollc_tok tok2 = pd_pollc_op_begin(&p);

		pd_pollc_op_end_state(&p, tok, IN, 3, 0);
		/* it may have run before the first one */
		pd_pollc_op_end_state(&p, tok2, IN, 3, 0);
	}
	CHECK(!pd_pollc_answer(&p, IN, &mask));
	/* a poll sent while a request was in flight, replied after it */
	tok = pd_pollc_op_begin(&p);
	{
		struct pd_pollc_tok ptok = pd_pollc_poll_begin(&p);

		pd_pollc_op_end(&p);
		pd_pollc_poll_reply(&p, ptok, IN, 4, IN, true);
	}
	CHECK(!pd_pollc_answer(&p, IN, &mask));
}

/* "Not ready" is answered without a trip only when the registration is
 * known to stay armed for the events asked. */
static void test_not_ready_local_only_armed(void)
{
	struct pd_pollc p = { 0 };
	struct pd_pollc_tok tok;
	uint32_t mask = 1234;

	tok = pd_pollc_poll_begin(&p);
	pd_pollc_poll_reply(&p, tok, IN, 1, 0, false);	/* 1.4: one shot */
	CHECK(!pd_pollc_answer(&p, IN, &mask));
	tok = pd_pollc_poll_begin(&p);
	pd_pollc_poll_reply(&p, tok, IN, 1, 0, true);	/* 1.5: stays */
	CHECK(pd_pollc_answer(&p, IN, &mask));
	CHECK_EQ(mask, 0);
	CHECK(!pd_pollc_answer(&p, OUT, &mask));	/* not armed for OUT */
	CHECK(!pd_pollc_answer(&p, IN | OUT, &mask));
	CHECK(!pd_pollc_answer(&p, 0, &mask));
	/* the readiness then comes as an event, believed */
	CHECK(pd_pollc_event(&p, 2, IN | OUT));
	CHECK(pd_pollc_answer(&p, IN, &mask));
	CHECK_EQ(mask, IN);				/* only what was armed */
	/* a request's state says armed */
	tok = pd_pollc_op_begin(&p);
	pd_pollc_op_end_state(&p, tok, IN | OUT, 2, 0);
	CHECK(pd_pollc_answer(&p, IN | OUT, &mask));
	CHECK_EQ(mask, 0);
	/* ERR and HUP are answered though not asked */
	tok = pd_pollc_op_begin(&p);
	pd_pollc_op_end_state(&p, tok, IN, 3, ERR);
	CHECK(pd_pollc_answer(&p, IN, &mask));
	CHECK_EQ(mask, ERR);
}

/* A file an ioctl made (a fence) starts with the state the ioctl's reply
 * carried: its first poll needs no trip, and an event that came first
 * (the fence signalled at once) is not lost. */
static void test_new_file_state(void)
{
	struct pd_pollc p = { 0 };
	struct pd_pollc_tok tok;
	uint32_t mask = 0;

	tok = pd_pollc_poll_begin(&p);			/* nothing sent on it */
	pd_pollc_poll_reply(&p, tok, IN, 0, 0, true);
	CHECK(pd_pollc_answer(&p, IN, &mask));
	CHECK_EQ(mask, 0);
	CHECK(pd_pollc_event(&p, 1, IN));		/* signalled */
	CHECK(pd_pollc_answer(&p, IN, &mask));
	CHECK_EQ(mask, IN);
	p = (struct pd_pollc){ 0 };
	CHECK(!pd_pollc_event(&p, 1, IN));		/* before the state */
	tok = pd_pollc_poll_begin(&p);
	pd_pollc_poll_reply(&p, tok, IN, 0, 0, true);
	CHECK(pd_pollc_answer(&p, IN, &mask));
	CHECK_EQ(mask, IN);
}

/* A read (any request) may consume readiness: no belief until the next
 * poll trip, also for events that come after it. */
static void test_request_ends_belief(void)
{
	struct pd_pollc p = { 0 };
	uint32_t mask = 0;
	struct pd_pollc_tok tok;

	tok = pd_pollc_poll_begin(&p);
	pd_pollc_poll_reply(&p, tok, IN, 3, IN, false);	/* ready at the look */
	CHECK(pd_pollc_answer(&p, IN, &mask));
	pd_pollc_op_begin(&p);				/* read() goes */
	CHECK(!pd_pollc_answer(&p, IN, &mask));
	CHECK(!pd_pollc_event(&p, 4, IN));	/* may predate the read */
	pd_pollc_op_end(&p);
	CHECK(!pd_pollc_event(&p, 5, IN));
	CHECK(!pd_pollc_answer(&p, IN, &mask));
	/* a poll trip while a request is in flight is not believed */
	tok = pd_pollc_poll_begin(&p);
	pd_pollc_op_begin(&p);
	pd_pollc_poll_reply(&p, tok, IN, 6, IN, false);
	pd_pollc_op_end(&p);
	CHECK(!pd_pollc_answer(&p, IN, &mask));
	/* nor one sent before a request that has finished since */
	tok = pd_pollc_poll_begin(&p);
	pd_pollc_op_begin(&p);
	pd_pollc_op_end(&p);
	pd_pollc_poll_reply(&p, tok, IN, 7, IN, false);
	CHECK(!pd_pollc_answer(&p, IN, &mask));
	/* the next clean trip is */
	tok = pd_pollc_poll_begin(&p);
	pd_pollc_poll_reply(&p, tok, IN, 8, IN, false);
	CHECK(pd_pollc_answer(&p, IN, &mask));
}

/* A flip goes without a wait only while no flip's event is owed; an
 * event that comes before its flip's reply, a failed flip and an atomic
 * commit with events are all counted right. */
static void test_flips_owed(void)
{
	struct pd_flips f = { 0 };

	CHECK(pd_flips_send(&f, true));		/* none owed: no wait */
	CHECK(!pd_flips_send(&f, true));	/* one pending: waits (EBUSY) */
	pd_flips_failed(&f);			/* ... and it failed */
	CHECK_EQ(f.owed, 1);
	pd_flips_event(&f);			/* the first one's event */
	CHECK_EQ(f.owed, 0);
	CHECK(!pd_flips_send(&f, false));	/* another flag: waits */
	pd_flips_event(&f);			/* its event before its reply */
	CHECK_EQ(f.owed, 0);
	CHECK(pd_flips_send(&f, true));
	pd_flips_failed(&f);			/* its asynchronous error */
	CHECK_EQ(f.owed, 0);
	pd_flips_event(&f);			/* a stray event owes nothing */
	CHECK_EQ(f.owed, 0);
	pd_flips_atomic(&f);
	CHECK(!pd_flips_send(&f, true));
	pd_flips_event(&f);
	CHECK(!pd_flips_send(&f, true));	/* for good */
}

int main(void)
{
	RUN(test_async_error_surfaces_once);
	RUN(test_poll_reply_then_event);
	RUN(test_stale_event_not_believed);
	RUN(test_request_ends_belief);
	RUN(test_older_reply_after_newer_event);
	RUN(test_state_in_reply);
	RUN(test_not_ready_local_only_armed);
	RUN(test_new_file_state);
	RUN(test_flips_owed);
	return tap_done();
}
