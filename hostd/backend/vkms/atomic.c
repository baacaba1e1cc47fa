// SPDX-License-Identifier: GPL-2.0-only
/*
 * Atomic modesetting of a guest's virtual display: ATOMIC and
 * OBJ_SETPROPERTY, property changes that build a new state (state.h) by
 * the rules of rules.c and hand it to the one commit entry point,
 * vkms_commit() (commit.c), which checks it. A connector's DPMS set by
 * OBJ_SETPROPERTY is the guest's (vkms_dpms_set(), commit.c).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "priv.h"
#include "state.h"


/* The log of a property a guest set (vkms_asked()): the value only when
 * it was refused. */
static void log_set(struct vkms *v, const char *how, enum kms_kind kind,
		    uint32_t prop, uint64_t value, int r)
{
	const struct kms_prop_id *p = kms_prop(&v->card, kind, prop);
	char name[48];

	if (p)
		snprintf(name, sizeof(name), "%s", p->name);
	else
		snprintf(name, sizeof(name), "property %u", prop);
	if (r)
		vkms_asked(v, "%s %s %s = %llu: %s", how, vkms_kind_name(kind),
			   name, (unsigned long long)value, strerror(-r));
	else
		vkms_asked(v, "%s %s %s: the guest's", how,
			   vkms_kind_name(kind), name);
}

/* ATOMIC's arrays, rebuilt in our memory by decode.c (checked there). */
static int build_atomic(struct vkms *v, void *ctx, const struct kms_state *cur,
			struct kms_state *next, uint32_t *crtcs)
{
	const struct drm_mode_atomic *a = ctx;
	const uint32_t *objs = (const uint32_t *)(uintptr_t)a->objs_ptr;
	const uint32_t *nprops = (const uint32_t *)(uintptr_t)a->count_props_ptr;
	const uint32_t *props = (const uint32_t *)(uintptr_t)a->props_ptr;
	const uint64_t *vals = (const uint64_t *)(uintptr_t)a->prop_values_ptr;

	(void)cur;
	for (uint32_t o = 0, k = 0; o < a->count_objs; o++) {
		unsigned int idx;
		enum kms_kind kind = kms_find(&v->card, objs[o], &idx);

		if (kind == KMS_NONE || kind == KMS_HIDDEN) {
			vkms_asked(v, "ATOMIC on %s %u: -ENOENT",
				   vkms_kind_name(kind), objs[o]);
			return -ENOENT;
		}
		for (uint32_t j = 0; j < nprops[o]; j++, k++) {
			int r = kms_set(&v->card, next, objs[o], props[k],
					vals[k], &v->lookup, crtcs);

			log_set(v, "ATOMIC", kind, props[k], vals[k], r);
			if (r)
				return r;
		}
	}
	return 0;
}

/* ATOMIC: the flags as drm_mode_atomic_ioctl() checks them (no async
 * commits: EINVAL), the atomic cap first, then one commit. */
int vkms_atomic(struct vkms *v, struct be_handle *h, struct drm_mode_atomic *a)
{
	uint32_t flags = 0;
	bool cap;

	if ((a->flags & ~(uint32_t)DRM_MODE_ATOMIC_FLAGS) || a->reserved ||
	    (a->flags & DRM_MODE_PAGE_FLIP_ASYNC) ||
	    ((a->flags & DRM_MODE_ATOMIC_TEST_ONLY) &&
	     (a->flags & DRM_MODE_PAGE_FLIP_EVENT)))
		return -EINVAL;
	pthread_mutex_lock(&v->lock);
	cap = vkms_has_atomic(v, h->handle);
	pthread_mutex_unlock(&v->lock);
	if (!cap)
		return -EINVAL;	/* the cap first, as DRM */
	if (a->flags & DRM_MODE_PAGE_FLIP_EVENT)
		flags |= VKMS_COMMIT_EVENT;
	if (a->flags & DRM_MODE_ATOMIC_NONBLOCK)
		flags |= VKMS_COMMIT_NONBLOCK;
	if (a->flags & DRM_MODE_ATOMIC_ALLOW_MODESET)
		flags |= VKMS_COMMIT_ALLOW_MODESET;
	if (a->flags & DRM_MODE_ATOMIC_TEST_ONLY)
		flags |= VKMS_COMMIT_TEST_ONLY;
	return vkms_commit(v, h, build_atomic, a, flags, a->user_data);
}

static int build_one(struct vkms *v, void *ctx, const struct kms_state *cur,
		     struct kms_state *next, uint32_t *crtcs)
{
	const struct drm_mode_obj_set_property *p = ctx;

	(void)cur;
	return kms_set(&v->card, next, p->obj_id, p->prop_id, p->value,
		       &v->lookup, crtcs);
}

/* OBJ_SETPROPERTY: a blocking commit of one property (DPMS: the legacy
 * way, drm_atomic_connector_commit_dpms()). */
int vkms_obj_setproperty(struct vkms *v, struct be_handle *h,
			 struct drm_mode_obj_set_property *p)
{
	const struct kms_prop_id *k;
	enum kms_kind kind;
	unsigned int idx;
	int r = vkms_learn_card(v, h);

	if (r)
		return r;
	kind = kms_find(&v->card, p->obj_id, &idx);
	if (kind == KMS_NONE || kind == KMS_HIDDEN ||
	    (p->obj_type && p->obj_type != vkms_obj_type[kind]))
		return -ENOENT;
	k = kms_prop(&v->card, kind, p->prop_id);
	if (!k || k->hidden) {
		log_set(v, "OBJ_SETPROPERTY", kind, p->prop_id, p->value,
			-EINVAL);
		return -EINVAL;
	}
	if (kind == KMS_CONN && k->kp == KP_DPMS)
		r = vkms_dpms_set(v, p->obj_id, p->value);
	else
		r = vkms_commit(v, h, build_one, p, VKMS_COMMIT_ALLOW_MODESET,
				0);
	log_set(v, "OBJ_SETPROPERTY", kind, p->prop_id, p->value, r);
	return r;
}
