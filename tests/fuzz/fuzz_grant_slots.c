// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target on the grant helper's region bookkeeping
 * (kernel/dom0/pd_grant_slots.c, the very file the pdgrant module builds):
 * the pure part of its ioctl, where a guest's behaviour (which grants it
 * maps, when it lets go) decides what happens. Xen is played by a table
 * of which references the guest maps.
 *
 * Input: byte 0 the number of slots (1..32), then 2-byte operations:
 *   op % 6 == 0  fill slot arg % (n + 2) (out of range too) with a fresh
 *                reference and page
 *   1            the guest maps reference arg
 *   2            the guest unmaps reference arg
 *   3            try_end
 *   4            revoke (then every slot must be free)
 *   5            the deferred end: the guest let go of the deferred refs
 * After every operation the invariants of pd_grant_slots.h are checked
 * against a model: live counts the live slots; a live slot is never
 * overwritten; a page is dropped exactly once, and only when its grant
 * ended or after the deferred end; no reference is lost (every fresh
 * reference is, at all times, in a slot, ended, or deferred).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../kernel/dom0/pd_grant_slots.h"

#define MAXN	32u
#define MAXREF	256u

enum ref_state { R_NONE, R_SLOT, R_ENDED, R_DEFERRED };

static bool mapped[MAXREF];
static enum ref_state state[MAXREF];
static int page_puts[MAXREF];	/* page of ref r is &pages_obj[r] */
static char pages_obj[MAXREF];
static u32 nrefs;
static u32 in_slots;		/* references in state R_SLOT */
static uint8_t seen[MAXREF];	/* check(): a reference in two slots */

static int fake_try_end(u32 ref)
{
	if (ref >= nrefs || state[ref] != R_SLOT)
		abort();	/* ending a grant that is not in a slot */
	if (mapped[ref])
		return 0;
	state[ref] = R_ENDED;
	in_slots--;
	return 1;
}

static void fake_put(void *page)
{
	size_t r = (size_t)((char *)page - pages_obj);

	if (r >= nrefs || state[r] != R_ENDED || page_puts[r]++)
		abort();	/* a page dropped twice, or while granted */
}

static void fake_defer(u32 ref, void *page)
{
	if (ref >= nrefs || state[ref] != R_SLOT || page != &pages_obj[ref])
		abort();
	state[ref] = R_DEFERRED;
	in_slots--;
}

static const struct pdg_slot_ops ops = {
	.try_end = fake_try_end,
	.put = fake_put,
	.defer = fake_defer,
};

static void check(const struct pdg_slots *s)
{
	u32 live = 0;

	for (u32 i = 0; i < s->n; i++) {
		u32 r = s->refs[i];

		if (r == PDG_NO_REF) {
			if (s->pages[i])
				abort();	/* a free slot holds a page */
			continue;
		}
		live++;
		if (r >= nrefs || state[r] != R_SLOT ||
		    s->pages[i] != &pages_obj[r] || seen[r]++)
			abort();
	}
	for (u32 i = 0; i < s->n; i++)
		if (s->refs[i] != PDG_NO_REF)
			seen[s->refs[i]] = 0;
	/* every reference meant to be in a slot is in exactly one */
	if (live != s->live || live != in_slots)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	u32 refs[MAXN];
	void *pages[MAXN];
	struct pdg_slots s;
	u32 n, ended;

	if (size < 1)
		return 0;
	n = data[0] % MAXN + 1;
	memset(mapped, 0, sizeof(mapped));
	memset(state, 0, sizeof(state));
	memset(page_puts, 0, sizeof(page_puts));
	nrefs = in_slots = 0;
	pdg_slots_init(&s, n, refs, pages);
	check(&s);
	for (size_t k = 1; k + 1 < size; k += 2) {
		unsigned int op = data[k] % 6, arg = data[k + 1];
		u32 r, before = s.live;
		int ret;

		switch (op) {
		case 0:
			if (nrefs == MAXREF)
				break;
			r = nrefs++;
			ret = pdg_slot_fill(&s, arg % (n + 2), r,
					    &pages_obj[r]);
			if (ret) {
				/* refused: the caller ends the new grant */
				if ((arg % (n + 2) < n) != (ret == -EBUSY))
					abort();
				state[r] = R_ENDED;
				page_puts[r] = 1;
			} else {
				state[r] = R_SLOT;
				in_slots++;
				if (s.live != before + 1)
					abort();
			}
			break;
		case 1:
		case 2:
			if (nrefs)
				mapped[arg % nrefs] = op == 1;
			break;
		case 3:
			ended = pdg_slots_try_end(&s, &ops);
			if (ended != before - s.live)
				abort();
			break;
		case 4: {
			u32 deferred = pdg_slots_revoke(&s, &ops, &ended);

			if (s.live || ended + deferred != before)
				abort();
			break;
		}
		case 5:
			for (r = 0; r < nrefs; r++)
				if (state[r] == R_DEFERRED && !mapped[r]) {
					state[r] = R_ENDED;
					page_puts[r]++;
				}
			break;
		}
		check(&s);
	}
	/* at the end: every ended reference's page was dropped once */
	for (u32 r = 0; r < nrefs; r++)
		if (state[r] == R_ENDED && page_puts[r] != 1)
			abort();
	return 0;
}
