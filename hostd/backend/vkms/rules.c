// SPDX-License-Identifier: GPL-2.0-only
/*
 * The rules of a state of a guest's virtual display (state.h): which
 * property of which object a guest may set to what, and which states a
 * commit may reach. The rules (kms_*) use no card, no locks and nothing
 * else of the vkms: commit.c checks every new state with them, under the
 * vkms's lock, whatever path (legacy.c, atomic.c) made it.
 *
 * The rules follow Linux 6.1's atomic core (drm_atomic_uapi.c
 * drm_atomic_set_property(), drm_atomic.c drm_atomic_crtc_check() and
 * drm_atomic_plane_check(), drm_atomic_helper.c
 * drm_atomic_helper_check_modeset()) for the errors a client can meet,
 * and add what hostd can show: a primary plane that covers its CRTC
 * exactly, unscaled, at whole-pixel offsets into a framebuffer of this
 * guest's, on an enabled CRTC, while an active CRTC has its plane.
 */
#include <errno.h>
#include <string.h>

#include "state.h"

enum kms_kind kms_find(const struct kms_card *card, uint32_t id,
		       unsigned int *idx)
{
	if (!id)
		return KMS_NONE;
	for (unsigned int i = 0; i < card->ncrtcs; i++) {
		*idx = i;
		if (card->crtc[i] == id)
			return KMS_CRTC;
		if (card->primary[i] == id)
			return KMS_PLANE;
	}
	for (unsigned int i = 0; i < card->nconns; i++) {
		*idx = i;
		if (card->conn[i] == id)
			return KMS_CONN;
	}
	for (unsigned int i = 0; i < card->nhidden; i++) {
		*idx = i;
		if (card->hidden[i] == id)
			return KMS_HIDDEN;
	}
	return KMS_NONE;
}

const struct kms_prop_id *kms_prop(const struct kms_card *card,
				   enum kms_kind kind, uint32_t prop_id)
{
	if (kind < KMS_CRTC || kind > KMS_CONN)
		return NULL;
	for (unsigned int i = 0; i < card->nprops[kind]; i++)
		if (card->props[kind][i].id == prop_id)
			return &card->props[kind][i];
	return NULL;
}

enum kms_prop kms_prop_by_name(enum kms_kind kind, const char *name)
{
	static const struct { uint8_t kind, kp; const char *name; } names[] = {
		{ KMS_PLANE, KP_FB_ID, "FB_ID" },
		{ KMS_PLANE, KP_CRTC_ID, "CRTC_ID" },
		{ KMS_PLANE, KP_SRC_X, "SRC_X" },
		{ KMS_PLANE, KP_SRC_Y, "SRC_Y" },
		{ KMS_PLANE, KP_SRC_W, "SRC_W" },
		{ KMS_PLANE, KP_SRC_H, "SRC_H" },
		{ KMS_PLANE, KP_CRTC_X, "CRTC_X" },
		{ KMS_PLANE, KP_CRTC_Y, "CRTC_Y" },
		{ KMS_PLANE, KP_CRTC_W, "CRTC_W" },
		{ KMS_PLANE, KP_CRTC_H, "CRTC_H" },
		{ KMS_PLANE, KP_IN_FENCE_FD, "IN_FENCE_FD" },
		{ KMS_PLANE, KP_FB_DAMAGE_CLIPS, "FB_DAMAGE_CLIPS" },
		{ KMS_CRTC, KP_ACTIVE, "ACTIVE" },
		{ KMS_CRTC, KP_MODE_ID, "MODE_ID" },
		{ KMS_CRTC, KP_OUT_FENCE_PTR, "OUT_FENCE_PTR" },
		{ KMS_CRTC, KP_VRR_ENABLED, "VRR_ENABLED" },
		{ KMS_CONN, KP_CRTC_ID, "CRTC_ID" },
		{ KMS_CONN, KP_DPMS, "DPMS" },
		{ KMS_CONN, KP_LINK_STATUS, "link-status" },
	};

	for (unsigned int i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].kind == kind && !strcmp(names[i].name, name))
			return (enum kms_prop)names[i].kp;
	return KP_OTHER;
}

static int crtc_index(const struct kms_card *card, uint32_t id,
		      unsigned int *i)
{
	return kms_find(card, id, i) == KMS_CRTC ? 0 : -EINVAL;
}

static int set_plane(const struct kms_card *card, struct kms_crtc *c,
		     unsigned int ci, enum kms_prop kp, uint64_t v,
		     const struct kms_lookup *l)
{
	uint32_t w, h;
	unsigned int to;

	switch (kp) {
	case KP_FB_ID:
		if (v > UINT32_MAX)
			return -EINVAL;
		if (v && l->fb(l->ctx, (uint32_t)v, &w, &h))
			return -ENOENT;	/* not this guest's: as if none */
		c->fb = (uint32_t)v;
		return 0;
	case KP_CRTC_ID:
		/* a primary plane can only be on its own CRTC */
		if (v && (v > UINT32_MAX || crtc_index(card, (uint32_t)v, &to) ||
			  to != ci))
			return -EINVAL;
		c->plane_crtc = (uint32_t)v;
		return 0;
	case KP_SRC_X: case KP_SRC_Y: case KP_SRC_W: case KP_SRC_H:
	case KP_CRTC_W: case KP_CRTC_H:
		if (v > UINT32_MAX)
			return -EINVAL;
		if (kp == KP_SRC_X)
			c->src_x = (uint32_t)v;
		else if (kp == KP_SRC_Y)
			c->src_y = (uint32_t)v;
		else if (kp == KP_SRC_W)
			c->src_w = (uint32_t)v;
		else if (kp == KP_SRC_H)
			c->src_h = (uint32_t)v;
		else if (kp == KP_CRTC_W)
			c->crtc_w = (uint32_t)v;
		else
			c->crtc_h = (uint32_t)v;
		return 0;
	case KP_CRTC_X: case KP_CRTC_Y:
		/* signed 32-bit range properties: the value sign-extends */
		if ((int64_t)v < INT32_MIN || (int64_t)v > INT32_MAX)
			return -EINVAL;
		if (kp == KP_CRTC_X)
			c->crtc_x = (int32_t)v;
		else
			c->crtc_y = (int32_t)v;
		return 0;
	case KP_IN_FENCE_FD:
		/* a descriptor of the guest's: meaningless here (hidden) */
		return (int64_t)v == -1 ? 0 : -EINVAL;
	case KP_FB_DAMAGE_CLIPS:
		/* a hint; the whole frame is shown anyway */
		return 0;
	default:
		return -EINVAL;	/* immutable (type, IN_FORMATS, ...) */
	}
}

static int set_crtc(struct kms_crtc *c, enum kms_prop kp, uint64_t v,
		    const struct kms_lookup *l)
{
	struct drm_mode_modeinfo m;

	switch (kp) {
	case KP_ACTIVE:
		if (v > 1)
			return -EINVAL;
		c->active = v;
		return 0;
	case KP_MODE_ID:
		if (!v) {
			c->enable = false;
			c->mode_blob = 0;
			memset(&c->mode, 0, sizeof(c->mode));
			return 0;
		}
		if (v > UINT32_MAX || l->mode(l->ctx, (uint32_t)v, &m))
			return -EINVAL;
		if (!m.hdisplay || !m.vdisplay || !m.clock)
			return -EINVAL;	/* drm_mode_convert_umode() */
		c->enable = true;
		c->mode_blob = (uint32_t)v;
		c->mode = m;
		return 0;
	case KP_OUT_FENCE_PTR:
		return v ? -EINVAL : 0;	/* a guest address: hidden */
	case KP_VRR_ENABLED:
		if (v > 1)
			return -EINVAL;
		c->vrr = v;
		return 0;
	default:
		return -EINVAL;
	}
}

int kms_set(const struct kms_card *card, struct kms_state *s, uint32_t obj,
	    uint32_t prop_id, uint64_t value, const struct kms_lookup *l,
	    uint32_t *crtcs)
{
	unsigned int i, to;
	enum kms_kind kind = kms_find(card, obj, &i);
	const struct kms_prop_id *p = kms_prop(card, kind, prop_id);
	int r;

	if (!p)
		return -ENOENT;
	switch (kind) {
	case KMS_PLANE: {
		struct kms_crtc *c = &s->crtc[i];

		r = set_plane(card, c, i, (enum kms_prop)p->kp, value, l);
		if (!r)
			*crtcs |= 1u << i;	/* its one possible CRTC */
		return r;
	}
	case KMS_CRTC:
		r = set_crtc(&s->crtc[i], (enum kms_prop)p->kp, value, l);
		if (!r)
			*crtcs |= 1u << i;
		return r;
	case KMS_CONN:
		if (p->kp == KP_CRTC_ID) {
			if (value && (value > UINT32_MAX ||
				      crtc_index(card, (uint32_t)value, &to)))
				return -EINVAL;
			if (kms_find(card, s->conn_crtc[i], &to) == KMS_CRTC)
				*crtcs |= 1u << to;	/* the old one */
			if (value) {
				crtc_index(card, (uint32_t)value, &to);
				*crtcs |= 1u << to;
			}
			s->conn_crtc[i] = (uint32_t)value;
			return 0;
		}
		if (p->kp == KP_LINK_STATUS)	/* only "Good" may be set */
			return value == DRM_MODE_LINK_STATUS_GOOD ? 0 : -EINVAL;
		/* DPMS: legacy only (OBJ_SETPROPERTY, SETPROPERTY); in an
		 * atomic commit it is refused (drm_atomic_connector_set_property()) */
		return -EINVAL;
	default:
		return -ENOENT;
	}
}

static int check_crtc(const struct kms_card *card, const struct kms_state *s,
		      unsigned int i, const struct kms_lookup *l)
{
	const struct kms_crtc *c = &s->crtc[i];
	bool has_conn = false;
	uint32_t w, h;

	if (c->active && !c->enable)
		return -EINVAL;		/* active without a mode */
	for (unsigned int k = 0; k < card->nconns; k++)
		if (s->conn_crtc[k] == card->crtc[i])
			has_conn = true;
	if (c->enable != has_conn)
		return -EINVAL;		/* enabled/connectors mismatch */
	if (!c->plane_crtc != !c->fb)
		return -EINVAL;		/* CRTC and FB: both or neither */
	if (!c->fb)
		return c->active ? -EINVAL : 0;	/* nothing to show */
	if (!c->enable)
		return -EINVAL;		/* a plane on a CRTC that is off */
	if (l->fb(l->ctx, c->fb, &w, &h))
		return -ENOENT;		/* gone since it was set */
	/* the plane covers the CRTC, unscaled, at a whole-pixel offset */
	if (c->crtc_x || c->crtc_y || c->crtc_w != c->mode.hdisplay ||
	    c->crtc_h != c->mode.vdisplay ||
	    c->src_w != (uint32_t)c->mode.hdisplay << 16 ||
	    c->src_h != (uint32_t)c->mode.vdisplay << 16 ||
	    (c->src_x & 0xffff) || (c->src_y & 0xffff))
		return -EINVAL;
	if ((uint64_t)c->src_x + c->src_w > (uint64_t)w << 16 ||
	    (uint64_t)c->src_y + c->src_h > (uint64_t)h << 16)
		return -ENOSPC;		/* outside the framebuffer */
	return 0;
}

static bool needs_modeset(const struct kms_card *card,
			  const struct kms_state *old,
			  const struct kms_state *s, unsigned int i)
{
	const struct kms_crtc *a = &old->crtc[i], *b = &s->crtc[i];

	if (a->enable != b->enable || a->active != b->active ||
	    memcmp(&a->mode, &b->mode, sizeof(a->mode)))
		return true;
	for (unsigned int k = 0; k < card->nconns; k++)
		if ((old->conn_crtc[k] == card->crtc[i]) !=
		    (s->conn_crtc[k] == card->crtc[i]))
			return true;
	return false;
}

int kms_check(const struct kms_card *card, const struct kms_state *old,
	      const struct kms_state *s, uint32_t crtcs, bool allow_modeset,
	      const struct kms_lookup *l, uint32_t *modeset)
{
	*modeset = 0;
	for (unsigned int i = 0; i < card->ncrtcs; i++) {
		int r;

		if (!(crtcs & (1u << i)))
			continue;
		r = check_crtc(card, s, i, l);
		if (r)
			return r;
		if (needs_modeset(card, old, s, i))
			*modeset |= 1u << i;
	}
	return *modeset && !allow_modeset ? -EINVAL : 0;
}

bool kms_get(const struct kms_card *card, const struct kms_state *s,
	     uint32_t obj, const struct kms_prop_id *p, uint64_t *v)
{
	unsigned int i = 0;
	enum kms_kind kind = kms_find(card, obj, &i);
	const struct kms_crtc *c = kind == KMS_PLANE || kind == KMS_CRTC ?
				   &s->crtc[i] : NULL;

	if (kind == KMS_PLANE) {
		switch (p->kp) {
		case KP_FB_ID: *v = c->fb; return true;
		case KP_CRTC_ID: *v = c->plane_crtc; return true;
		case KP_SRC_X: *v = c->src_x; return true;
		case KP_SRC_Y: *v = c->src_y; return true;
		case KP_SRC_W: *v = c->src_w; return true;
		case KP_SRC_H: *v = c->src_h; return true;
		case KP_CRTC_X: *v = (uint64_t)(int64_t)c->crtc_x; return true;
		case KP_CRTC_Y: *v = (uint64_t)(int64_t)c->crtc_y; return true;
		case KP_CRTC_W: *v = c->crtc_w; return true;
		case KP_CRTC_H: *v = c->crtc_h; return true;
		case KP_IN_FENCE_FD: *v = (uint64_t)-1; return true;
		case KP_FB_DAMAGE_CLIPS: *v = 0; return true;
		default: return false;
		}
	}
	if (kind == KMS_CRTC) {
		switch (p->kp) {
		case KP_ACTIVE: *v = c->active; return true;
		case KP_MODE_ID: *v = c->mode_blob; return true;
		case KP_OUT_FENCE_PTR: *v = 0; return true;
		case KP_VRR_ENABLED: *v = c->vrr; return true;
		default: return false;
		}
	}
	if (kind == KMS_CONN) {
		switch (p->kp) {
		case KP_CRTC_ID: *v = s->conn_crtc[i]; return true;
		default: return false;
		}
	}
	return false;
}
