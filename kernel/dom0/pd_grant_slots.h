/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One region's grants, as bookkeeping with no kernel in it: compiled into
 * the pdgrant module (pd_grant.c) and into a userspace unit test
 * (tests/unit/test_grant_slots.c), which plays Xen with fake callbacks.
 *
 * Slot i is free (ref PDG_NO_REF, no page) or live: a grant the guest may
 * have mapped, with the page we hold for it. What must hold:
 * - a live slot is never overwritten: pdg_slot_fill() refuses it, so a
 *   grant is never forgotten while a guest can reach its frame;
 * - a slot is freed only when its grant ended (the guest does not map it)
 *   or when it was handed, with its page, to the deferred end (the guest
 *   still maps it; the page stays held until it lets go);
 * - live counts the live slots, always.
 */
#ifndef PD_GRANT_SLOTS_H
#define PD_GRANT_SLOTS_H

#ifdef __KERNEL__
#include <linux/errno.h>
#include <linux/types.h>
#else
#include <errno.h>
#include <stdint.h>
typedef uint32_t u32;
#endif

#define PDG_NO_REF	((u32)~0u)	/* Linux's INVALID_GRANT_REF */

struct pdg_slots {
	u32 n;
	u32 live;
	u32 *refs;		/* n entries, PDG_NO_REF when free */
	void **pages;		/* n entries, the page held, NULL when free */
};

/* What ending a grant takes; the kernel's are gnttab_*() and put_page(). */
struct pdg_slot_ops {
	/* 1: the grant ended (the guest did not map it); 0: still mapped */
	int (*try_end)(u32 ref);
	/* drop our reference on a page whose grant ended */
	void (*put)(void *page);
	/* the grant is still mapped: end it later, then drop the page */
	void (*defer)(u32 ref, void *page);
};

/* Every slot free; refs and pages are the caller's, n entries each. */
void pdg_slots_init(struct pdg_slots *s, u32 n, u32 *refs, void **pages);

/* Record a new grant in slot i: 0, -EINVAL (no such slot) or -EBUSY (the
 * slot is live: the caller must end the new grant itself). */
int pdg_slot_fill(struct pdg_slots *s, u32 i, u32 ref, void *page);

/* End every grant the guest no longer maps; returns how many ended. */
u32 pdg_slots_try_end(struct pdg_slots *s, const struct pdg_slot_ops *ops);

/* End every grant: what the guest still maps goes to ops->defer. Every
 * slot is free afterwards; returns how many were deferred. */
u32 pdg_slots_revoke(struct pdg_slots *s, const struct pdg_slot_ops *ops,
		     u32 *ended);

#endif /* PD_GRANT_SLOTS_H */
