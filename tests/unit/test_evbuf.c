// SPDX-License-Identifier: GPL-2.0-only
/*
 * The events a backend pushes for a DRM file, kept in the guest until its
 * read() (common/pd_evbuf.h, used by kernel/front_fops.c): taken whole and
 * in order as a DRM or evdev file gives them, never more than asked for; bytes that
 * are not whole records, a total that does not follow, or more than the
 * bound are refused and keep nothing, while the total is still taken (the
 * next PD_OP_READ says it).
 */
#include <stdint.h>
#include <string.h>

#include "pd_evbuf.h"
#include "tap.h"

/* A record of len bytes (>= 8) of type t, its payload filled with t. */
static uint32_t rec(uint8_t *p, uint32_t t, uint32_t len)
{
	memset(p, (int)t, len);
	memcpy(p, &t, 4);
	memcpy(p + 4, &len, 4);
	return len;
}

static uint32_t type_at(const struct pd_evbuf *b, uint32_t off)
{
	uint32_t t;

	memcpy(&t, b->data + off, 4);
	return t;
}

static void test_whole_records_in_order(void)
{
	static struct pd_evbuf b;
	uint8_t in[64];
	uint32_t n;

	n = rec(in, 1, 32);
	n += rec(in + n, 2, 32);
	CHECK_EQ(pd_evbuf_put(&b, in, n, 64), 0);
	n = rec(in, 3, 24);
	CHECK_EQ(pd_evbuf_put(&b, in, n, 88), 0);
	CHECK_EQ(b.len, 88u);
	/* a read of 40 bytes gets the first record only, as drm_read() */
	CHECK_EQ(pd_evbuf_peek(&b, 40), 32u);
	CHECK_EQ(type_at(&b, 0), 1u);
	pd_evbuf_drop(&b, 32);
	/* one of 4096 gets both that are left, in order */
	CHECK_EQ(pd_evbuf_peek(&b, 4096), 56u);
	CHECK_EQ(type_at(&b, 0), 2u);
	CHECK_EQ(type_at(&b, 32), 3u);
	/* too small a buffer for the first: nothing */
	CHECK_EQ(pd_evbuf_peek(&b, 31), 0u);
	pd_evbuf_drop(&b, 56);
	CHECK_EQ(b.len, 0u);
	CHECK_EQ(pd_evbuf_peek(&b, 4096), 0u);
	CHECK_EQ(b.pushed, 88u);
}

static void test_bad_pushes_keep_nothing(void)
{
	static struct pd_evbuf b;
	uint8_t in[64];
	uint32_t len;

	/* a record that claims more than was sent */
	rec(in, 1, 32);
	len = 40;
	memcpy(in + 4, &len, 4);
	CHECK_EQ(pd_evbuf_put(&b, in, 32, 32), -EPROTO);
	CHECK_EQ(b.len, 0u);
	CHECK_EQ(b.pushed, 32u);	/* the total is taken all the same */
	/* a length below the header's */
	len = 4;
	memcpy(in + 4, &len, 4);
	CHECK_EQ(pd_evbuf_put(&b, in, 32, 64), -EPROTO);
	/* a total that does not follow the last one */
	rec(in, 1, 32);
	CHECK_EQ(pd_evbuf_put(&b, in, 32, 200), -EPROTO);
	CHECK_EQ(b.len, 0u);
	/* after which the next that follows is kept */
	CHECK_EQ(pd_evbuf_put(&b, in, 32, 232), 0);
	CHECK_EQ(b.len, 32u);
	/* nothing, or half a header */
	CHECK_EQ(pd_evbuf_put(&b, in, 0, 232), -EPROTO);
	CHECK_EQ(pd_evbuf_put(&b, in, 4, 236), -EPROTO);
	CHECK_EQ(b.len, 32u);
}

static void test_bound_and_wrap(void)
{
	static struct pd_evbuf b;
	uint8_t in[64];
	uint32_t total = 0xffffffc0u;	/* the running total wraps */

	b.pushed = total;
	rec(in, 7, 64);
	for (uint32_t i = 0; i < PD_WIRE_PUSH_MAX / 64; i++) {
		total += 64;
		CHECK_EQ(pd_evbuf_put(&b, in, 64, total), 0);
	}
	CHECK_EQ(b.len, PD_WIRE_PUSH_MAX);
	total += 64;
	CHECK_EQ(pd_evbuf_put(&b, in, 64, total), -ENOSPC);
	CHECK_EQ(b.len, PD_WIRE_PUSH_MAX);
	CHECK_EQ(b.pushed, total);
	pd_evbuf_drop(&b, pd_evbuf_peek(&b, 128));
	CHECK_EQ(b.len, PD_WIRE_PUSH_MAX - 128);
	total += 64;
	CHECK_EQ(pd_evbuf_put(&b, in, 64, total), 0);
}

/* evdev: records of one size (struct input_event), a read of less than
 * one gets none */
static void test_fixed_size_records(void)
{
	static struct pd_evbuf b = { .rec = 24 };
	uint8_t in[72] = { 0 };

	CHECK_EQ(pd_evbuf_put(&b, in, 72, 72), 0);
	CHECK_EQ(pd_evbuf_put(&b, in, 30, 102), -EPROTO);	/* 1.25 records */
	CHECK_EQ(b.len, 72u);
	CHECK_EQ(pd_evbuf_peek(&b, 23), 0u);
	CHECK_EQ(pd_evbuf_peek(&b, 50), 48u);
	CHECK_EQ(pd_evbuf_peek(&b, 4096), 72u);
}

/* An input_event-like record: 16 bytes of time, type, code, value. */
static uint32_t ev(uint8_t *p, uint16_t type, uint16_t code, int32_t value)
{
	memset(p, 0xee, 16);
	memcpy(p + 16, &type, 2);
	memcpy(p + 18, &code, 2);
	memcpy(p + 20, &value, 4);
	return 24;
}

static void codes(const struct pd_evbuf *b, char *out)
{
	uint32_t i;
	uint16_t t, c;

	for (i = 0; i + 24 <= b->len; i += 24) {
		memcpy(&t, b->data + i + 16, 2);
		memcpy(&c, b->data + i + 18, 2);
		*out++ = t == 0 ? 'S' : (char)('a' + c);
	}
	*out = 0;
}

/* evdev: EVIOCGKEY drops the held key events, and a report left with no
 * event before it since the last report; a leading report stays, as in
 * evdev's own queue (evdev_handle_get_val()) */
static void test_evdev_flush_of_a_type(void)
{
	static struct pd_evbuf b = { .rec = 24 };
	uint8_t in[24 * 9];
	uint32_t n = 0;
	char got[16];

	n += ev(in + n, 0, 0, 0);	/* S: a leading report */
	n += ev(in + n, 1, 0, 1);	/* a: key */
	n += ev(in + n, 0, 0, 0);	/* S: empty once a goes */
	n += ev(in + n, 4, 1, 5);	/* b: msc */
	n += ev(in + n, 1, 2, 1);	/* c: key */
	n += ev(in + n, 0, 0, 0);	/* S: kept (b before it) */
	n += ev(in + n, 1, 3, 0);	/* d: key */
	n += ev(in + n, 0, 0, 0);	/* S: empty */
	n += ev(in + n, 2, 4, 1);	/* e: rel, no report yet */
	CHECK_EQ(pd_evbuf_put(&b, in, n, n), 0);
	pd_evbuf_flush_type(&b, 1, 16);
	codes(&b, got);
	CHECK(!strcmp(got, "SbSe"));
	CHECK_EQ(b.pushed, n);		/* the total is the backend's */
	pd_evbuf_flush_type(&b, 0, 16);	/* EV_SYN: never */
	CHECK_EQ(b.len, 4u * 24);
	pd_evbuf_flush_type(&b, 7, 16);	/* nothing of it: the same */
	codes(&b, got);
	CHECK(!strcmp(got, "SbSe"));
}

/*
 * 128 flip events (32 bytes each: 4 KiB) pushed and read, no read trip
 * acknowledging them: the backend may hold the next back, so the file's
 * readiness is no longer the guest's to tell (the display suite's flip
 * loops stalled at 128 events when it was). Less out: it is.
 */
static void test_held_back_past_the_window(void)
{
	static struct pd_evbuf b;
	uint8_t in[32];
	uint32_t total = 0xfffff000u;	/* wraps on the way */

	b.pushed = b.acked = total;
	rec(in, 2 /* DRM_EVENT_FLIP_COMPLETE */, 32);
	for (int i = 0; i < 128; i++) {
		total += 32;
		CHECK_EQ(pd_evbuf_put(&b, in, 32, total), 0);
		pd_evbuf_drop(&b, pd_evbuf_peek(&b, 32));
		CHECK_EQ(pd_evbuf_may_hold_back(&b),
			 (i + 1) * 32 > (int)(PD_WIRE_PUSH_MAX -
					      PD_WIRE_EV_DATA_MAX));
	}
	CHECK(pd_evbuf_may_hold_back(&b));
	b.acked = b.pushed;		/* a read trip said seen */
	CHECK(!pd_evbuf_may_hold_back(&b));
}

int main(void)
{
	RUN(test_whole_records_in_order);
	RUN(test_bad_pushes_keep_nothing);
	RUN(test_bound_and_wrap);
	RUN(test_fixed_size_records);
	RUN(test_evdev_flush_of_a_type);
	RUN(test_held_back_past_the_window);
	return tap_done();
}
