// SPDX-License-Identifier: GPL-2.0-only
/*
 * The Xen transport's checks of what a frontend writes into the rings
 * (hostd/backend/xen/slot.c), fed forged rings and data areas in plain
 * memory: a real one-page ring (the ring macros of <xen/io/ring.h>, the
 * test playing the frontend) and a data area of 4 pages, no Xen. What it
 * proves: a good slot yields a copy of its request and the run its reply
 * must go into; a slot whose offset or length leaves the data area (also
 * by 32-bit wrap), shorter than a header, with id 0, or naming another
 * request than the one it holds is consumed and dropped, and the next slot
 * is served; a producer index more than a ring ahead breaks the
 * connection and consumes nothing; a request is copied once, so what the
 * guest writes afterwards never reaches the copy; a header that claims
 * more than its run is cut to the run; an id already in flight is refused;
 * an event buffer outside the area or too small for the event is refused.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "xen/slot.h"
#include "tap.h"

#define AREA_PAGES	4u
#define AREA		(AREA_PAGES * PAGE)
#define HDR		sizeof(struct pd_wire_hdr)

static struct be be = { .name = "test_xen_slot" };
static struct pdx_sring *sring;		/* the shared page */
static struct pdx_front_ring front;	/* the guest's end, played here */
static struct pdx_back_ring back;	/* the backend's end */
static uint8_t *area;			/* the data area */
static uint8_t *buf;			/* the backend's copy */
static const size_t buf_cap = PD_WIRE_MAX_MSG;

static void setup(void)
{
	if (!sring) {
		sring = aligned_alloc(PAGE, PAGE);
		area = malloc(AREA);
		buf = malloc(buf_cap);
		if (!sring || !area || !buf)
			abort();
	}
	memset(sring, 0, PAGE);
	memset(area, 0, AREA);
	memset(buf, 0, buf_cap);
	SHARED_RING_INIT(sring);
	FRONT_RING_INIT(&front, sring, PAGE);
	BACK_RING_INIT(&back, sring, PAGE);
}

/* A request with id and body_len bytes of body at offset. */
static void put_request(uint32_t offset, uint64_t id, uint32_t body_len)
{
	struct pd_wire_hdr h = { .id = id, .op = PD_OP_READ, .len = body_len };

	memcpy(area + offset, &h, sizeof(h));
	memset(area + offset + sizeof(h), 0xab, body_len);
}

/* A slot on the request ring, as the frontend posts it. */
static void post(uint64_t id, uint32_t offset, uint32_t len)
{
	*RING_GET_REQUEST(&front, front.req_prod_pvt) =
		(struct pd_wire_xen_slot){ .id = id, .offset = offset,
					   .len = len };
	front.req_prod_pvt++;
	RING_PUSH_REQUESTS(&front);
}

static ssize_t next_cap(struct inflight *run, size_t cap)
{
	return be_xen_slot_next(&be, &back, area, AREA, buf, cap, run);
}

static ssize_t next(struct inflight *run)
{
	return next_cap(run, buf_cap);
}

static void test_good_slot_gives_a_copy_and_its_run(void)
{
	struct inflight run = { 0 };

	setup();
	CHECK_EQ(next(&run), 0);		/* empty ring */
	put_request(PAGE, 7, 100);
	post(7, PAGE, 2 * PAGE);
	CHECK_EQ(next(&run), HDR + 100);
	CHECK(!memcmp(buf, area + PAGE, HDR + 100));
	CHECK_EQ(run.id, 7);
	CHECK_EQ(run.offset, PAGE);
	CHECK_EQ(run.cap, 2 * PAGE);
	CHECK_EQ(back.req_cons, 1);
	CHECK_EQ(next(&run), 0);
	/* the whole area, to its last byte, is a run */
	put_request(0, 8, 0);
	post(8, 0, AREA);
	CHECK_EQ(next(&run), HDR);
	CHECK_EQ(run.cap, AREA);
	/* a bare header is the smallest request */
	post(8, 0, HDR);
	CHECK_EQ(next(&run), HDR);
}

/* A bad slot is consumed and dropped; the good one after it is served. */
static void check_dropped(uint64_t id, uint32_t offset, uint32_t len)
{
	struct inflight run = { .id = 99, .offset = 99, .cap = 99 };
	RING_IDX cons = back.req_cons;

	put_request(2 * PAGE, 5, 16);
	post(id, offset, len);
	post(5, 2 * PAGE, PAGE);
	CHECK_EQ(next(&run), BE_XEN_SLOT_BAD);
	CHECK_EQ(back.req_cons, cons + 1);
	CHECK_EQ(run.id, 99);			/* no run for a bad slot */
	CHECK_EQ(next(&run), HDR + 16);
	CHECK_EQ(run.id, 5);
}

static void test_offset_or_length_out_of_the_area_refused(void)
{
	setup();
	put_request(0, 3, 0);
	check_dropped(3, AREA + 1, HDR);	/* offset past the end */
	check_dropped(3, AREA, HDR);			/* starts at the end */
	check_dropped(3, AREA - HDR + 1, HDR);		/* ends one past */
	check_dropped(3, 0, AREA + 1);			/* longer than all */
	check_dropped(3, PAGE, AREA);		/* too long from there */
	/* offset + len wraps around 2^32 into the area */
	check_dropped(3, 0xfffffff0u, 0x20);
	check_dropped(3, PAGE, 0xffffffffu);
	check_dropped(3, 0xffffffffu, 0xffffffffu);
}

static void test_short_or_nameless_slot_refused(void)
{
	setup();
	put_request(0, 3, 0);
	check_dropped(3, 0, HDR - 1);		/* no room for a header */
	check_dropped(3, 0, 0);
	put_request(PAGE, 0, 0);
	check_dropped(0, PAGE, PAGE);			/* id 0 */
}

static void test_forged_slot_naming_another_request_refused(void)
{
	setup();
	put_request(0, 8, 10);
	check_dropped(9, 0, PAGE);		/* slot 9 holds request 8 */
	/* a run starting inside another request's run: the bytes there are
	 * no header of the slot's id */
	check_dropped(8, 4, PAGE);
}

static void test_overran_ring_breaks_the_connection(void)
{
	struct inflight run = { 0 };
	unsigned int i;

	setup();
	/* a full ring is allowed: RING_SLOTS requests, all served */
	put_request(0, 1, 0);
	for (i = 0; i < RING_SLOTS; i++)
		post(1, 0, PAGE);
	for (i = 0; i < RING_SLOTS; i++)
		CHECK_EQ(next(&run), HDR);
	CHECK_EQ(next(&run), 0);
	/* one more than the ring holds past what we answered */
	sring->req_prod = back.rsp_prod_pvt + RING_SLOTS + 1;
	CHECK_EQ(next(&run), BE_XEN_RING_BROKEN);
	CHECK_EQ(back.req_cons, RING_SLOTS);	/* nothing consumed */
	/* far ahead, or behind what we answered */
	sring->req_prod = back.req_cons + 0x80000000u;
	CHECK_EQ(next(&run), BE_XEN_RING_BROKEN);
	sring->req_prod = back.rsp_prod_pvt - 1;
	CHECK_EQ(next(&run), BE_XEN_RING_BROKEN);
	CHECK_EQ(back.req_cons, RING_SLOTS);
}

/*
 * With a request in flight (taken, not answered), a producer index moved
 * back behind what the backend took is refused at once, not walked as
 * 2^32 stale slots.
 */
static void test_producer_moved_back_breaks_the_connection(void)
{
	struct inflight run = { 0 };

	setup();
	put_request(0, 1, 0);
	post(1, 0, PAGE);
	post(1, 0, PAGE);
	CHECK_EQ(next(&run), HDR);	/* one taken, none answered */
	CHECK_EQ(next(&run), HDR);
	sring->req_prod = back.req_cons - 1;
	CHECK_EQ(next(&run), BE_XEN_RING_BROKEN);
	CHECK_EQ(back.req_cons, 2);	/* nothing consumed */
}

static void test_request_copied_once(void)
{
	struct inflight run = { 0 };
	uint8_t before[HDR + 64];

	setup();
	put_request(PAGE, 4, 64);
	post(4, PAGE, PAGE);
	memcpy(before, area + PAGE, sizeof(before));
	CHECK_EQ(next(&run), sizeof(before));
	/* the guest rewrites its request and the slot after the fact */
	put_request(PAGE, 77, 4000);
	RING_GET_REQUEST(&front, 0)->offset = 3 * PAGE;
	CHECK(!memcmp(buf, before, sizeof(before)));
	CHECK_EQ(run.id, 4);
	CHECK_EQ(run.offset, PAGE);
}

static void test_header_longer_than_its_run_is_cut(void)
{
	struct inflight run = { 0 };

	setup();
	/* hdr.len 1000 in a run of HDR + 10: the run's length, so that
	 * main.c sees the mismatch and refuses the request */
	put_request(0, 6, 1000);
	post(6, 0, HDR + 10);
	CHECK_EQ(next(&run), HDR + 10);
	CHECK_EQ(run.cap, HDR + 10);
	/* a run larger than the caller's buffer: copied up to the buffer */
	put_request(0, 6, 150);
	post(6, 0, 200);
	CHECK_EQ(next_cap(&run, 64), 64);
	CHECK_EQ(run.cap, 200);			/* the reply still has 200 */
}

/* Overlapping runs are not refused: each request is copied out when it is
 * taken, so overlap only lets a guest garble its own replies. */
static void test_overlapping_runs_are_the_guests_own(void)
{
	struct inflight a = { 0 }, b = { 0 };

	setup();
	put_request(PAGE, 1, 8);
	put_request(2 * PAGE, 2, 8);
	post(1, PAGE, 2 * PAGE);
	post(2, 2 * PAGE, PAGE);
	CHECK_EQ(next(&a), HDR + 8);
	CHECK_EQ(next(&b), HDR + 8);
	CHECK_EQ(a.id, 1);
	CHECK_EQ(b.id, 2);
}

static void test_inflight_id_reuse_refused(void)
{
	static struct inflight table[RING_SLOTS];
	struct inflight run = { .id = 1, .offset = 0, .cap = PAGE };
	unsigned int i;

	memset(table, 0, sizeof(table));
	CHECK_EQ(be_xen_inflight_find(table, 1), -1);
	CHECK_EQ(be_xen_inflight_add(table, &run), 0);
	CHECK(be_xen_inflight_find(table, 1) >= 0);
	CHECK_EQ(table[be_xen_inflight_find(table, 1)].cap, PAGE);
	/* the same id again, even with another run */
	run.offset = PAGE;
	CHECK_EQ(be_xen_inflight_add(table, &run), -EEXIST);
	/* id 0 marks a free entry: never found */
	CHECK_EQ(be_xen_inflight_find(table, 0), -1);
	CHECK_EQ(be_xen_inflight_find(table, 2), -1);
	for (i = 2; i <= RING_SLOTS; i++) {
		run.id = i;
		CHECK_EQ(be_xen_inflight_add(table, &run), 0);
	}
	run.id = RING_SLOTS + 1;
	CHECK_EQ(be_xen_inflight_add(table, &run), -ENOSPC);
	/* answered: its entry is free again, for any id */
	table[be_xen_inflight_find(table, 5)].id = 0;
	CHECK_EQ(be_xen_inflight_find(table, 5), -1);
	CHECK_EQ(be_xen_inflight_add(table, &run), 0);
	CHECK(be_xen_inflight_find(table, RING_SLOTS + 1) >= 0);
}

static void test_event_buffer_checked(void)
{
	struct pd_wire_xen_slot b = { .id = 0, .offset = 0, .len = 128 };

	CHECK(be_xen_event_buf_fits(&b, AREA, 128));
	CHECK(be_xen_event_buf_fits(&b, AREA, HDR));
	CHECK(!be_xen_event_buf_fits(&b, AREA, 129));	/* too small */
	b.offset = AREA - 128;
	CHECK(be_xen_event_buf_fits(&b, AREA, 128));
	b.offset = AREA - 127;				/* one past the end */
	CHECK(!be_xen_event_buf_fits(&b, AREA, 64));
	b.offset = AREA + 1;
	b.len = 0;
	CHECK(!be_xen_event_buf_fits(&b, AREA, 0));
	b.offset = 0xffffff80u;				/* wraps */
	b.len = 0x100;
	CHECK(!be_xen_event_buf_fits(&b, AREA, 64));
	b.offset = 64;
	b.len = 0xffffffffu;
	CHECK(!be_xen_event_buf_fits(&b, AREA, 64));
}

int main(void)
{
	RUN(test_good_slot_gives_a_copy_and_its_run);
	RUN(test_offset_or_length_out_of_the_area_refused);
	RUN(test_short_or_nameless_slot_refused);
	RUN(test_forged_slot_naming_another_request_refused);
	RUN(test_overran_ring_breaks_the_connection);
	RUN(test_producer_moved_back_breaks_the_connection);
	RUN(test_request_copied_once);
	RUN(test_header_longer_than_its_run_is_cut);
	RUN(test_overlapping_runs_are_the_guests_own);
	RUN(test_inflight_id_reuse_refused);
	RUN(test_event_buffer_checked);
	free(sring);
	free(area);
	free(buf);
	return tap_done();
}
