/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The state of a guest's virtual display and the rules a commit of it
 * must follow, without a card (the rules are in rules.c). objects.c
 * learns what the real card has (struct kms_card), commit.c keeps the
 * guest's state and commits what these functions accept, whatever path
 * (legacy.c or atomic.c) the new state came by.
 *
 * The virtual display a guest sees: every CRTC of the card, one primary
 * plane per CRTC, the card's connectors; no cursor or overlay planes (they
 * are hidden: hostd shows one framebuffer per CRTC). The primary plane
 * covers its CRTC exactly, unscaled (as bochs' and other simple drivers'
 * planes must), so the state of a CRTC is what a legacy SETCRTC says.
 */
#ifndef PD_BACKEND_VKMS_STATE_H
#define PD_BACKEND_VKMS_STATE_H

#include <stdbool.h>
#include <stdint.h>

#ifndef __user
#define __user
#endif
#include <drm/drm_mode.h>
#include <paradice/pd_display.h>

#define KMS_MAX_CRTCS	PD_DISPLAY_MAX_CRTCS
#define KMS_MAX_CONNS	8
#define KMS_MAX_HIDDEN	16	/* planes a guest does not see */
#define KMS_MAX_PROPS	32	/* per kind of object */

enum kms_kind { KMS_NONE, KMS_CRTC, KMS_PLANE, KMS_CONN, KMS_HIDDEN };

/* The properties with a virtual value; others read the card's. */
enum kms_prop {
	KP_OTHER,	/* the card's value; a change is refused */
	KP_FB_ID, KP_CRTC_ID,
	KP_SRC_X, KP_SRC_Y, KP_SRC_W, KP_SRC_H,
	KP_CRTC_X, KP_CRTC_Y, KP_CRTC_W, KP_CRTC_H,
	KP_IN_FENCE_FD, KP_FB_DAMAGE_CLIPS,
	KP_ACTIVE, KP_MODE_ID, KP_OUT_FENCE_PTR, KP_VRR_ENABLED,
	KP_DPMS, KP_LINK_STATUS,
};

struct kms_prop_id {
	uint32_t id;
	char name[DRM_PROP_NAME_LEN];	/* for the log of what was asked */
	uint8_t kp;	/* enum kms_prop */
	bool hidden;	/* not listed to the guest */
	bool blob;	/* its value is a blob id */
};

/* What the real card has, learned once. */
struct kms_card {
	unsigned int ncrtcs, nconns, nhidden;
	uint32_t crtc[KMS_MAX_CRTCS];
	uint32_t primary[KMS_MAX_CRTCS];	/* the CRTC's primary plane */
	uint32_t conn[KMS_MAX_CONNS];
	uint32_t hidden[KMS_MAX_HIDDEN];	/* cursor and overlay planes */
	/* the properties each kind of object has */
	unsigned int nprops[KMS_CONN + 1];
	struct kms_prop_id props[KMS_CONN + 1][KMS_MAX_PROPS];
};

/* One CRTC and its primary plane, as the guest set them. */
struct kms_crtc {
	bool enable, active;
	struct drm_mode_modeinfo mode;	/* when enable */
	uint32_t mode_blob;		/* MODE_ID as the guest reads it */
	uint64_t vrr;
	uint32_t fb, plane_crtc;	/* the primary plane */
	uint32_t src_x, src_y, src_w, src_h;	/* 16.16 */
	int32_t crtc_x, crtc_y;
	uint32_t crtc_w, crtc_h;
};

struct kms_state {
	struct kms_crtc crtc[KMS_MAX_CRTCS];
	uint32_t conn_crtc[KMS_MAX_CONNS];	/* CRTC id, 0: none */
};

/* What only the vkms knows: this guest's framebuffers and blobs. */
struct kms_lookup {
	void *ctx;
	/* 0 and the size if fb is one of this guest's, else -ENOENT */
	int (*fb)(void *ctx, uint32_t fb, uint32_t *w, uint32_t *h);
	/* 0 and the mode if blob is this guest's mode blob, else -EINVAL */
	int (*mode)(void *ctx, uint32_t blob, struct drm_mode_modeinfo *m);
};

/* Which object id is (*idx: its index in crtc[], primary[], conn[]). */
enum kms_kind kms_find(const struct kms_card *card, uint32_t id,
		       unsigned int *idx);
/* The property prop_id of an object of kind, or NULL: not its own. */
const struct kms_prop_id *kms_prop(const struct kms_card *card,
				   enum kms_kind kind, uint32_t prop_id);
/*
 * One property of one object set in s, as drm_atomic_set_property()
 * would; *crtcs gets the bits of the CRTCs (by index) now in the commit.
 * 0 or -errno (-ENOENT: no such object or property on it).
 */
int kms_set(const struct kms_card *card, struct kms_state *s, uint32_t obj,
	    uint32_t prop_id, uint64_t value, const struct kms_lookup *l,
	    uint32_t *crtcs);
/*
 * The check of a commit of the CRTCs in crtcs from old to s: 0 or
 * -errno; *modeset gets the CRTCs that need a full modeset (refused
 * with -EINVAL unless allow_modeset).
 */
int kms_check(const struct kms_card *card, const struct kms_state *old,
	      const struct kms_state *s, uint32_t crtcs, bool allow_modeset,
	      const struct kms_lookup *l, uint32_t *modeset);
/* The virtual value of a property (true), or false: the card's stands
 * (DPMS: commit.c keeps it, as for legacy SETPROPERTY). */
bool kms_get(const struct kms_card *card, const struct kms_state *s,
	     uint32_t obj, const struct kms_prop_id *p, uint64_t *value);
/* The kms_prop a property's name stands for on an object of kind. */
enum kms_prop kms_prop_by_name(enum kms_kind kind, const char *name);

#endif /* PD_BACKEND_VKMS_STATE_H */
