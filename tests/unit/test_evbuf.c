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

int main(void)
{
	RUN(test_whole_records_in_order);
	RUN(test_bad_pushes_keep_nothing);
	RUN(test_bound_and_wrap);
	return tap_done();
}
