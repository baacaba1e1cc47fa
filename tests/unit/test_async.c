// SPDX-License-Identifier: GPL-2.0-only
/*
 * The frontend's rules for what it does not wait for (common/pd_async.h,
 * used by kernel/front_file.c and front_fops.c): an asynchronous
 * request's error surfaces on the file's next call, once, and the first
 * one is kept; poll readiness is believed only from a reply or event
 * newer than everything known, never while or after another request on
 * the file went out, so a stale event (an older sequence, or one that
 * may predate a read) never answers a poll.
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
	uint32_t mask = 0, tok;

	CHECK(!pd_pollc_answer(&p, IN, &mask));	/* nothing known */
	tok = pd_pollc_poll_begin(&p);
	pd_pollc_poll_reply(&p, tok, IN, 6, 0);	/* not ready, armed */
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
	uint32_t mask = 0, tok;

	tok = pd_pollc_poll_begin(&p);
	pd_pollc_poll_reply(&p, tok, IN, 10, 0);
	CHECK(!pd_pollc_event(&p, 9, IN));	/* sent before the look */
	CHECK(!pd_pollc_event(&p, 10, IN));	/* as old as the look */
	CHECK(!pd_pollc_answer(&p, IN, &mask));
	/* wrapping sequences */
	p = (struct pd_pollc){ 0 };
	tok = pd_pollc_poll_begin(&p);
	pd_pollc_poll_reply(&p, tok, IN, 0xfffffffeu, 0);
	CHECK(!pd_pollc_event(&p, 0xfffffffdu, IN));
	CHECK(pd_pollc_event(&p, 1, IN));
	CHECK(pd_pollc_answer(&p, IN, &mask));
	/* an older poll reply after a newer event changes nothing */
	tok = pd_pollc_poll_begin(&p);
	pd_pollc_poll_reply(&p, tok, IN, 0xffffffffu, 0);
	CHECK(pd_pollc_answer(&p, IN, &mask));
}

/* A read (any request) may consume readiness: no belief until the next
 * poll trip, also for events that come after it. */
static void test_request_ends_belief(void)
{
	struct pd_pollc p = { 0 };
	uint32_t mask = 0, tok;

	tok = pd_pollc_poll_begin(&p);
	pd_pollc_poll_reply(&p, tok, IN, 3, IN);	/* ready at the look */
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
	pd_pollc_poll_reply(&p, tok, IN, 6, IN);
	pd_pollc_op_end(&p);
	CHECK(!pd_pollc_answer(&p, IN, &mask));
	/* nor one sent before a request that has finished since */
	tok = pd_pollc_poll_begin(&p);
	pd_pollc_op_begin(&p);
	pd_pollc_op_end(&p);
	pd_pollc_poll_reply(&p, tok, IN, 7, IN);
	CHECK(!pd_pollc_answer(&p, IN, &mask));
	/* the next clean trip is */
	tok = pd_pollc_poll_begin(&p);
	pd_pollc_poll_reply(&p, tok, IN, 8, IN);
	CHECK(pd_pollc_answer(&p, IN, &mask));
}

int main(void)
{
	RUN(test_async_error_surfaces_once);
	RUN(test_poll_reply_then_event);
	RUN(test_stale_event_not_believed);
	RUN(test_request_ends_belief);
	return tap_done();
}
