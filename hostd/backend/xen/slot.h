/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The Xen transport's rings as data (no Xen library: only the ring macros
 * of <xen/io/ring.h>), and the checks of what a frontend writes into
 * them, in slot.c. ring.c drives the rings; tests/unit/test_xen_slot.c
 * feeds the checks rings and data areas in plain memory.
 */
#ifndef PD_BACKEND_XEN_SLOT_H
#define PD_BACKEND_XEN_SLOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <paradice/pd_wire.h>

#include <xen/io/ring.h>
/* The ring macros want the barriers of the build's architecture; with the
 * interface version the headers pick they would name the kernel's. */
#undef xen_mb
#undef xen_rmb
#undef xen_wmb
#define xen_mb()	__atomic_thread_fence(__ATOMIC_SEQ_CST)
#define xen_rmb()	__atomic_thread_fence(__ATOMIC_ACQUIRE)
#define xen_wmb()	__atomic_thread_fence(__ATOMIC_RELEASE)

DEFINE_RING_TYPES(pdx, struct pd_wire_xen_slot, struct pd_wire_xen_slot);

#define PAGE		4096u
#define RING_SLOTS	__CONST_RING_SIZE(pdx, PAGE)

struct be;

/* A request taken and not yet answered: where its reply must go. */
struct inflight {
	uint64_t id;			/* 0: free */
	uint32_t offset;		/* of the run the frontend gave */
	uint32_t cap;			/* its bytes */
	uint64_t taken_ns;		/* CLOCK_MONOTONIC when taken (ring.c) */
};

/* be_xen_slot_next(): the frontend broke the ring / posted a bad slot. */
#define BE_XEN_RING_BROKEN	(-1)
#define BE_XEN_SLOT_BAD		(-2)

ssize_t be_xen_slot_next(struct be *be, struct pdx_back_ring *ring,
			 const uint8_t *data, size_t data_len, void *buf,
			 size_t cap, struct inflight *run);
int be_xen_inflight_add(struct inflight table[RING_SLOTS],
			const struct inflight *run);
int be_xen_inflight_find(const struct inflight table[RING_SLOTS],
			 uint64_t id);
bool be_xen_event_buf_fits(const struct pd_wire_xen_slot *untrusted_buf,
			   size_t data_len, size_t len);

#endif /* PD_BACKEND_XEN_SLOT_H */
