// SPDX-License-Identifier: GPL-2.0-only
/*
 * The rules of a guest's atomic commits (hostd/backend/vkms/rules.c), on
 * a card described by hand as objects.c would learn bochs': one CRTC,
 * its primary plane, a cursor plane the guest must not see, one connector.
 * The guest has framebuffers 50 and 51 (1024x768, 640x480) and the mode
 * blob 60 (1024x768); 70 and 61 are another guest's framebuffer and blob.
 */
#include <errno.h>
#include <string.h>

#include "vkms/state.h"
#include "tap.h"

enum { CRTC = 31, PLANE = 33, CURSOR = 34, CONN = 35 };
enum {	/* property ids */
	P_FB = 10, P_PCRTC, P_SRC_X, P_SRC_Y, P_SRC_W, P_SRC_H, P_CRTC_X,
	P_CRTC_Y, P_CRTC_W, P_CRTC_H, P_FENCE, P_TYPE,
	C_ACTIVE = 22, C_MODE, C_OUT_FENCE,
	K_CRTC = 26, K_DPMS, K_EDID,
};

static struct kms_card card;
static const struct drm_mode_modeinfo mode = {
	.clock = 65000, .hdisplay = 1024, .vdisplay = 768, .vrefresh = 60,
	.name = "1024x768",
};

static int fb(void *ctx, uint32_t id, uint32_t *w, uint32_t *h)
{
	(void)ctx;
	if (id == 50)
		return *w = 1024, *h = 768, 0;
	if (id == 51)
		return *w = 640, *h = 480, 0;
	return -ENOENT;
}

static int blob(void *ctx, uint32_t id, struct drm_mode_modeinfo *m)
{
	(void)ctx;
	if (id != 60)
		return -EINVAL;
	*m = mode;
	return 0;
}

static const struct kms_lookup l = { NULL, fb, blob };

static void add(enum kms_kind kind, uint32_t id, const char *name)
{
	struct kms_prop_id *p = &card.props[kind][card.nprops[kind]++];

	p->id = id;
	p->kp = (uint8_t)kms_prop_by_name(kind, name);
	p->hidden = p->kp == KP_IN_FENCE_FD || p->kp == KP_OUT_FENCE_PTR;
}

static void setup(void)
{
	static const char *plane[] = { "FB_ID", "CRTC_ID", "SRC_X", "SRC_Y",
		"SRC_W", "SRC_H", "CRTC_X", "CRTC_Y", "CRTC_W", "CRTC_H",
		"IN_FENCE_FD", "type" };

	card = (struct kms_card){ .ncrtcs = 1, .crtc = { CRTC },
				  .primary = { PLANE }, .nconns = 1,
				  .conn = { CONN }, .nhidden = 1,
				  .hidden = { CURSOR } };
	for (unsigned int i = 0; i < 12; i++)
		add(KMS_PLANE, P_FB + i, plane[i]);
	add(KMS_CRTC, C_ACTIVE, "ACTIVE");
	add(KMS_CRTC, C_MODE, "MODE_ID");
	add(KMS_CRTC, C_OUT_FENCE, "OUT_FENCE_PTR");
	add(KMS_CONN, K_CRTC, "CRTC_ID");
	add(KMS_CONN, K_DPMS, "DPMS");
	add(KMS_CONN, K_EDID, "EDID");
}

/* What a compositor's first commit sets: mode, connector, plane. */
static int first_commit(struct kms_state *s, uint32_t *crtcs)
{
	static const struct { uint32_t obj, prop; uint64_t v; } set[] = {
		{ CONN, K_CRTC, CRTC }, { CRTC, C_MODE, 60 },
		{ CRTC, C_ACTIVE, 1 }, { PLANE, P_FB, 50 },
		{ PLANE, P_PCRTC, CRTC }, { PLANE, P_SRC_X, 0 },
		{ PLANE, P_SRC_Y, 0 }, { PLANE, P_SRC_W, 1024 << 16 },
		{ PLANE, P_SRC_H, 768 << 16 }, { PLANE, P_CRTC_X, 0 },
		{ PLANE, P_CRTC_Y, 0 }, { PLANE, P_CRTC_W, 1024 },
		{ PLANE, P_CRTC_H, 768 },
	};

	for (unsigned int i = 0; i < sizeof(set) / sizeof(set[0]); i++) {
		int r = kms_set(&card, s, set[i].obj, set[i].prop, set[i].v,
				&l, crtcs);
		if (r)
			return r;
	}
	return 0;
}

static void test_first_commit_is_a_modeset(void)
{
	struct kms_state old = { 0 }, s = { 0 };
	uint32_t crtcs = 0, modeset = 0;
	uint64_t v = 0;

	CHECK_EQ(first_commit(&s, &crtcs), 0);
	CHECK_EQ(crtcs, 1);
	/* without ALLOW_MODESET: refused, as by the kernel */
	CHECK_EQ(kms_check(&card, &old, &s, crtcs, false, &l, &modeset),
		 -EINVAL);
	CHECK_EQ(kms_check(&card, &old, &s, crtcs, true, &l, &modeset), 0);
	CHECK_EQ(modeset, 1);
	/* reads back what it set */
	CHECK(kms_get(&card, &s, PLANE, kms_prop(&card, KMS_PLANE, P_FB), &v));
	CHECK_EQ(v, 50);
	CHECK(kms_get(&card, &s, CRTC, kms_prop(&card, KMS_CRTC, C_MODE), &v));
	CHECK_EQ(v, 60);
	CHECK(kms_get(&card, &s, CONN, kms_prop(&card, KMS_CONN, K_CRTC), &v));
	CHECK_EQ(v, CRTC);
	CHECK(!kms_get(&card, &s, CONN, kms_prop(&card, KMS_CONN, K_EDID), &v));
}

static void test_a_flip_is_no_modeset(void)
{
	struct kms_state old = { 0 }, s = { 0 };
	uint32_t crtcs = 0, modeset = 0;

	CHECK_EQ(first_commit(&old, &crtcs), 0);
	s = old;
	crtcs = 0;
	CHECK_EQ(kms_set(&card, &s, PLANE, P_FB, 50, &l, &crtcs), 0);
	CHECK_EQ(kms_check(&card, &old, &s, crtcs, false, &l, &modeset), 0);
	CHECK_EQ(modeset, 0);
	/* a framebuffer too small for the mode */
	CHECK_EQ(kms_set(&card, &s, PLANE, P_FB, 51, &l, &crtcs), 0);
	CHECK_EQ(kms_check(&card, &old, &s, crtcs, false, &l, &modeset),
		 -ENOSPC);
}

static void test_another_guests_objects_are_refused(void)
{
	struct kms_state s = { 0 };
	uint32_t crtcs = 0;

	CHECK_EQ(kms_set(&card, &s, PLANE, P_FB, 70, &l, &crtcs), -ENOENT);
	CHECK_EQ(kms_set(&card, &s, CRTC, C_MODE, 61, &l, &crtcs), -EINVAL);
	/* the cursor plane is not in the guest's view */
	CHECK_EQ(kms_set(&card, &s, CURSOR, P_FB, 50, &l, &crtcs), -ENOENT);
	/* a property of another kind of object */
	CHECK_EQ(kms_set(&card, &s, PLANE, C_ACTIVE, 1, &l, &crtcs), -ENOENT);
	CHECK_EQ(kms_set(&card, &s, 99, P_FB, 50, &l, &crtcs), -ENOENT);
	CHECK_EQ(crtcs, 0);
}

static void test_what_hostd_cannot_show_is_refused(void)
{
	struct kms_state old = { 0 }, s;
	uint32_t crtcs = 0, modeset;

	CHECK_EQ(first_commit(&old, &crtcs), 0);
	/* scaled, positioned, at a fraction of a pixel */
	s = old;
	CHECK_EQ(kms_set(&card, &s, PLANE, P_CRTC_W, 800, &l, &crtcs), 0);
	CHECK_EQ(kms_check(&card, &old, &s, crtcs, true, &l, &modeset), -EINVAL);
	s = old;
	CHECK_EQ(kms_set(&card, &s, PLANE, P_CRTC_X, (uint64_t)-8, &l,
			 &crtcs), 0);
	CHECK_EQ(s.crtc[0].crtc_x, -8);
	CHECK_EQ(kms_check(&card, &old, &s, crtcs, true, &l, &modeset), -EINVAL);
	s = old;
	CHECK_EQ(kms_set(&card, &s, PLANE, P_SRC_X, 0x8000, &l, &crtcs), 0);
	CHECK_EQ(kms_check(&card, &old, &s, crtcs, true, &l, &modeset), -EINVAL);
	/* active without a mode; a plane without a framebuffer */
	s = old;
	CHECK_EQ(kms_set(&card, &s, CRTC, C_MODE, 0, &l, &crtcs), 0);
	CHECK_EQ(kms_check(&card, &old, &s, crtcs, true, &l, &modeset), -EINVAL);
	s = old;
	CHECK_EQ(kms_set(&card, &s, PLANE, P_FB, 0, &l, &crtcs), 0);
	CHECK_EQ(kms_check(&card, &old, &s, crtcs, true, &l, &modeset), -EINVAL);
	/* a mode without a connector */
	s = old;
	CHECK_EQ(kms_set(&card, &s, CONN, K_CRTC, 0, &l, &crtcs), 0);
	CHECK_EQ(kms_check(&card, &old, &s, crtcs, true, &l, &modeset), -EINVAL);
	/* fences are the guest's descriptors and addresses */
	CHECK_EQ(kms_set(&card, &s, PLANE, P_FENCE, 3, &l, &crtcs), -EINVAL);
	CHECK_EQ(kms_set(&card, &s, PLANE, P_FENCE, (uint64_t)-1, &l, &crtcs), 0);
	CHECK_EQ(kms_set(&card, &s, CRTC, C_OUT_FENCE, 0x1000, &l, &crtcs),
		 -EINVAL);
	/* immutable ones */
	CHECK_EQ(kms_set(&card, &s, PLANE, P_TYPE, 0, &l, &crtcs), -EINVAL);
	CHECK_EQ(kms_set(&card, &s, CONN, K_DPMS, 3, &l, &crtcs), -EINVAL);
}

static void test_turning_off(void)
{
	struct kms_state old = { 0 }, s;
	uint32_t crtcs = 0, modeset;

	CHECK_EQ(first_commit(&old, &crtcs), 0);
	/* all off: no mode, no plane, no connector */
	s = old;
	crtcs = 0;
	CHECK_EQ(kms_set(&card, &s, CRTC, C_ACTIVE, 0, &l, &crtcs), 0);
	CHECK_EQ(kms_set(&card, &s, CRTC, C_MODE, 0, &l, &crtcs), 0);
	CHECK_EQ(kms_set(&card, &s, PLANE, P_FB, 0, &l, &crtcs), 0);
	CHECK_EQ(kms_set(&card, &s, PLANE, P_PCRTC, 0, &l, &crtcs), 0);
	CHECK_EQ(kms_set(&card, &s, CONN, K_CRTC, 0, &l, &crtcs), 0);
	CHECK_EQ(kms_check(&card, &old, &s, crtcs, true, &l, &modeset), 0);
	CHECK_EQ(modeset, 1);
}

int main(void)
{
	setup();
	RUN(test_first_commit_is_a_modeset);
	RUN(test_a_flip_is_no_modeset);
	RUN(test_another_guests_objects_are_refused);
	RUN(test_what_hostd_cannot_show_is_refused);
	RUN(test_turning_off);
	return tap_done();
}
