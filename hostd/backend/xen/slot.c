// SPDX-License-Identifier: GPL-2.0-only
/*
 * The checks of what a frontend writes into the Xen transport's rings:
 * request slots, the in-flight table they fill, and the event ring's
 * buffers. Pure functions over memory (no Xen call, no lock), so that
 * tests/unit/test_xen_slot.c can feed them forged rings; ring.c calls them
 * with the mapped rings and data area.
 *
 * Owns: the rules a slot must follow (pd_wire.h, "Transports and framing
 * of messages"): a producer index at most one ring ahead of us; a run
 * [offset, offset + len) inside the data area, large enough for a header;
 * an id that is not 0, equal to the id of the request it holds, and not
 * already in flight.
 *
 * Trusts: nothing the guest wrote, which may change under us at any
 * moment: a slot is copied out of the ring once (untrusted_slot) and a
 * request out of the data area once, and only the copies are checked and
 * used. The caller's ring (its own indices) and the size of the data area
 * it mapped are ours.
 */
#include <errno.h>
#include <string.h>

#include "backend.h"
#include "slot.h"

/*
 * The next request off the request ring, copied into buf (cap >=
 * PD_WIRE_MAX_MSG): its length, and in *run where its reply must go. 0 if
 * the ring is empty; BE_XEN_RING_BROKEN if the frontend overran the ring
 * (the connection must end); BE_XEN_SLOT_BAD if the slot was bad (it is
 * consumed and dropped). Logged once, with the values, when refused.
 */
ssize_t be_xen_slot_next(struct be *be, struct pdx_back_ring *ring,
			 const uint8_t *data, size_t data_len, void *buf,
			 size_t cap, struct inflight *run)
{
	struct pd_wire_xen_slot untrusted_slot;
	struct pd_wire_hdr hdr;
	RING_IDX rp = ring->sring->req_prod;
	size_t len, n;

	xen_rmb();	/* the slots after the producer index */
	/*
	 * The producer index may run at most one ring ahead of what we
	 * answered, and never behind what we took: a guest that moves it
	 * back while a request is in flight would otherwise have us walk
	 * some 2^32 stale slots, logging each.
	 */
	if (RING_REQUEST_PROD_OVERFLOW(ring, rp) ||
	    (RING_IDX)(rp - ring->req_cons) > RING_SIZE(ring)) {
		be_log(be, "frontend overran the request ring (%u, %u)",
		       rp, ring->req_cons);
		return BE_XEN_RING_BROKEN;
	}
	if (ring->req_cons == rp)
		return 0;
	memcpy(&untrusted_slot, RING_GET_REQUEST(ring, ring->req_cons),
	       sizeof(untrusted_slot));
	ring->req_cons++;

	/* the one place a slot is checked: everything below uses copies */
	len = untrusted_slot.len;
	if (untrusted_slot.offset > data_len ||
	    len > data_len - untrusted_slot.offset ||
	    len < sizeof(hdr) || !untrusted_slot.id) {
		be_log(be, "bad slot (id %llu, offset %u, len %u) dropped",
		       (unsigned long long)untrusted_slot.id, untrusted_slot.offset,
		       untrusted_slot.len);
		return BE_XEN_SLOT_BAD;
	}
	n = len < cap ? len : cap;
	memcpy(buf, data + untrusted_slot.offset, n);
	memcpy(&hdr, buf, sizeof(hdr));
	if (hdr.id != untrusted_slot.id) {
		be_log(be, "slot %llu holds request %llu: dropped",
		       (unsigned long long)untrusted_slot.id,
		       (unsigned long long)hdr.id);
		return BE_XEN_SLOT_BAD;
	}
	*run = (struct inflight){
		.id = hdr.id, .offset = untrusted_slot.offset, .cap = (uint32_t)len,
	};
	/* the header's own length, if it fits in the run; else main.c sees
	 * the mismatch and refuses the request */
	if (hdr.len <= n - sizeof(hdr))
		return (ssize_t)(sizeof(hdr) + hdr.len);
	return (ssize_t)n;
}

/*
 * Record a request taken: 0, -EEXIST if its id is already in flight (the
 * guest reused it: the request is dropped), -ENOSPC if the table is full
 * (cannot happen: the reader takes a request only when there is room).
 */
int be_xen_inflight_add(struct inflight table[RING_SLOTS],
			const struct inflight *run)
{
	unsigned int i;

	if (be_xen_inflight_find(table, run->id) >= 0)
		return -EEXIST;
	for (i = 0; i < RING_SLOTS; i++)
		if (!table[i].id)
			break;
	if (i == RING_SLOTS)
		return -ENOSPC;
	table[i] = *run;
	return 0;
}

/* The entry of request id, or -1 (never for id 0, which marks a free one). */
int be_xen_inflight_find(const struct inflight table[RING_SLOTS], uint64_t id)
{
	for (unsigned int i = 0; i < RING_SLOTS; i++)
		if (table[i].id && table[i].id == id)
			return (int)i;
	return -1;
}

/* May an event of len bytes go into the buffer the frontend posted? */
bool be_xen_event_buf_fits(const struct pd_wire_xen_slot *untrusted_buf,
			   size_t data_len, size_t len)
{
	return untrusted_buf->offset <= data_len &&
	       untrusted_buf->len <= data_len - untrusted_buf->offset &&
	       untrusted_buf->len >= len;
}
