// SPDX-License-Identifier: GPL-2.0-only
/*
 * The grant helper's region bookkeeping (kernel/dom0/pd_grant_slots.c),
 * the very file the pdgrant module builds, with Xen played by fake
 * callbacks: a table of which references "the guest maps". What it
 * proves: a live slot is never overwritten (the fill is refused, the old
 * grant stays recorded); try_end ends only what the guest does not map
 * and drops its page; revoke ends what it can and hands what the guest
 * still maps to the deferred end with its page (never dropped, never
 * lost), after which every slot is free and can be granted again; the
 * live count matches the slots throughout. This is the retry path of a
 * MAP whose references a guest guessed and mapped before they were
 * published.
 */
#include <stdbool.h>
#include <string.h>

#include "../../kernel/dom0/pd_grant_slots.h"
#include "tap.h"

#define N 8

static bool mapped[64];		/* by ref: the guest maps it */
static bool ended[64];
static int nput, defers;
static u32 deferred_ref[64];
static void *deferred_page[64];
static char page_obj[64];	/* fake pages: &page_obj[ref] */

static int fake_try_end(u32 ref)
{
	if (mapped[ref])
		return 0;
	ended[ref] = true;
	return 1;
}

static void fake_put(void *page)
{
	(void)page;
	nput++;
}

static void fake_defer(u32 ref, void *page)
{
	deferred_ref[defers] = ref;
	deferred_page[defers] = page;
	defers++;
}

static const struct pdg_slot_ops ops = {
	.try_end = fake_try_end,
	.put = fake_put,
	.defer = fake_defer,
};

static u32 refs[N];
static void *pages[N];
static struct pdg_slots s;

static void reset(void)
{
	memset(mapped, 0, sizeof(mapped));
	memset(ended, 0, sizeof(ended));
	nput = defers = 0;
	pdg_slots_init(&s, N, refs, pages);
}

static u32 count_live(void)
{
	u32 n = 0;

	for (u32 i = 0; i < N; i++)
		n += refs[i] != PDG_NO_REF;
	return n;
}

static void fill_all(u32 first_ref)
{
	for (u32 i = 0; i < N; i++)
		CHECK_EQ(pdg_slot_fill(&s, i, first_ref + i,
				       &page_obj[first_ref + i]), 0);
}

static void test_fill_refuses_a_live_slot(void)
{
	reset();
	fill_all(10);
	CHECK_EQ(s.live, N);
	CHECK_EQ(pdg_slot_fill(&s, 3, 40, &page_obj[40]), -EBUSY);
	CHECK_EQ(refs[3], 13);		/* the old grant is still recorded */
	CHECK(pages[3] == &page_obj[13]);
	CHECK_EQ(s.live, N);
	CHECK_EQ(pdg_slot_fill(&s, N, 40, &page_obj[40]), -EINVAL);
	CHECK_EQ(pdg_slot_fill(&s, 0, PDG_NO_REF, NULL), -EINVAL);
}

static void test_try_end_keeps_what_the_guest_maps(void)
{
	reset();
	fill_all(10);
	mapped[12] = mapped[15] = true;
	CHECK_EQ(pdg_slots_try_end(&s, &ops), N - 2);
	CHECK_EQ(s.live, 2);
	CHECK_EQ(count_live(), 2);
	CHECK_EQ(nput, N - 2);
	CHECK_EQ(refs[2], 12);
	CHECK_EQ(refs[5], 15);
	CHECK(!ended[12] && !ended[15] && ended[10]);
	/* a retry must not reuse slot 2 while ref 12 lives */
	CHECK_EQ(pdg_slot_fill(&s, 2, 30, &page_obj[30]), -EBUSY);
}

static void test_revoke_defers_mapped_grants_with_their_pages(void)
{
	u32 gone;

	reset();
	fill_all(10);
	mapped[11] = mapped[17] = true;	/* guessed and mapped by the guest */
	CHECK_EQ(pdg_slots_revoke(&s, &ops, &gone), 2);
	CHECK_EQ(gone, N - 2);
	CHECK_EQ(s.live, 0);
	CHECK_EQ(count_live(), 0);
	CHECK_EQ(nput, N - 2);		/* the deferred pages are not put */
	CHECK_EQ(defers, 2);
	CHECK_EQ(deferred_ref[0], 11);
	CHECK(deferred_page[0] == &page_obj[11]);
	CHECK_EQ(deferred_ref[1], 17);
	CHECK(deferred_page[1] == &page_obj[17]);
	/* every slot is free: the retry grants again, nothing overwritten */
	fill_all(20);
	CHECK_EQ(s.live, N);
}

static void test_nothing_mapped_nothing_deferred(void)
{
	u32 gone;

	reset();
	fill_all(10);
	CHECK_EQ(pdg_slots_revoke(&s, &ops, &gone), 0);
	CHECK_EQ(gone, N);
	CHECK_EQ(defers, 0);
	CHECK_EQ(nput, N);
	/* an empty region: nothing to do */
	CHECK_EQ(pdg_slots_revoke(&s, &ops, &gone), 0);
	CHECK_EQ(gone, 0);
}

int main(void)
{
	RUN(test_fill_refuses_a_live_slot);
	RUN(test_try_end_keeps_what_the_guest_maps);
	RUN(test_revoke_defers_mapped_grants_with_their_pages);
	RUN(test_nothing_mapped_nothing_deferred);
	return tap_done();
}
