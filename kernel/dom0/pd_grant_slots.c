// SPDX-License-Identifier: GPL-2.0-only
/*
 * A region's grant bookkeeping (pd_grant_slots.h says what must hold).
 * No kernel calls here: the module and tests/unit/test_grant_slots.c both
 * build this file.
 */
#include "pd_grant_slots.h"

void pdg_slots_init(struct pdg_slots *s, u32 n, u32 *refs, void **pages)
{
	u32 i;

	s->n = n;
	s->live = 0;
	s->refs = refs;
	s->pages = pages;
	for (i = 0; i < n; i++) {
		refs[i] = PDG_NO_REF;
		pages[i] = 0;
	}
}

int pdg_slot_fill(struct pdg_slots *s, u32 i, u32 ref, void *page)
{
	if (i >= s->n || ref == PDG_NO_REF)
		return -EINVAL;
	if (s->refs[i] != PDG_NO_REF)
		return -EBUSY;
	s->refs[i] = ref;
	s->pages[i] = page;
	s->live++;
	return 0;
}

static void slot_free(struct pdg_slots *s, u32 i)
{
	s->refs[i] = PDG_NO_REF;
	s->pages[i] = 0;
	s->live--;
}

u32 pdg_slots_try_end(struct pdg_slots *s, const struct pdg_slot_ops *ops)
{
	u32 i, ended = 0;

	for (i = 0; i < s->n && s->live; i++) {
		if (s->refs[i] == PDG_NO_REF || !ops->try_end(s->refs[i]))
			continue;
		if (s->pages[i])
			ops->put(s->pages[i]);
		slot_free(s, i);
		ended++;
	}
	return ended;
}

u32 pdg_slots_revoke(struct pdg_slots *s, const struct pdg_slot_ops *ops,
		     u32 *ended)
{
	u32 i, deferred = 0;

	*ended = pdg_slots_try_end(s, ops);
	for (i = 0; i < s->n && s->live; i++) {
		if (s->refs[i] == PDG_NO_REF)
			continue;
		ops->defer(s->refs[i], s->pages[i]);
		slot_free(s, i);
		deferred++;
	}
	return deferred;
}
