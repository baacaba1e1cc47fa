// SPDX-License-Identifier: GPL-2.0-only
/*
 * The objects of a guest's virtual display, below every ioctl: what the
 * real card has (CRTCs, primary and hidden planes, connectors, their
 * properties), learned once through a descriptor of our own (never master
 * of the card); the guest's CRTC slots (struct vcrtc) and what hostd is
 * to show of one; the guest's framebuffers and property blobs (ids are
 * device-global: a guest may only name its own) as the rules ask of them
 * (struct kms_lookup); which of its files have the atomic cap. Calls
 * nothing of the vkms but the rules (rules.c); the ioctls that make and
 * list these objects are in object_ioctls.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "priv.h"

/*
 * The log of what a guest asked: each distinct line once (FNV-1a of the
 * line), the first VKMS_MAX_ASKED of them, until the guest's last file of
 * the card closes (vkms_asked_forget()); a compositor asks the same
 * things at every start and every frame, so the log shows what each
 * session needs without growing with it.
 */
void vkms_asked(struct vkms *v, const char *fmt, ...)
{
	char line[256];
	uint32_t hash = 2166136261u;
	bool seen = false;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	for (const char *c = line; *c; c++)
		hash = (hash ^ (uint8_t)*c) * 16777619u;
	pthread_mutex_lock(&v->asked_lock);
	for (unsigned int i = 0; i < v->nasked && !seen; i++)
		seen = v->asked[i] == hash;
	if (!seen && v->nasked < VKMS_MAX_ASKED)
		v->asked[v->nasked++] = hash;
	else
		seen = true;
	pthread_mutex_unlock(&v->asked_lock);
	if (!seen)
		be_log(v->be, "display: asked %s", line);
}

void vkms_asked_forget(struct vkms *v)
{
	pthread_mutex_lock(&v->asked_lock);
	v->nasked = 0;
	pthread_mutex_unlock(&v->asked_lock);
}

const char *vkms_kind_name(unsigned int kind)
{
	static const char *const names[] = {
		[KMS_NONE] = "object", [KMS_CRTC] = "CRTC",
		[KMS_PLANE] = "plane", [KMS_CONN] = "connector",
		[KMS_HIDDEN] = "hidden plane",
	};

	return kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "?";
}

/* Is crtc_id a CRTC of the real card? Fills *real (gamma size etc.). */
int vkms_real_crtc(int fd, uint32_t crtc_id, struct drm_mode_crtc *real)
{
	memset(real, 0, sizeof(*real));
	real->crtc_id = crtc_id;
	if (ioctl(fd, DRM_IOCTL_MODE_GETCRTC, real))
		return -errno;
	return 0;
}

/*
 * A DRM file opened while no hostd holds the card (it restarts) would be
 * its master (drm_master_open()), and the next hostd could not be: under
 * hostd, our files never stay master. (Dropping is allowed to the file's
 * own opener, drm_master_check_perm(); -EINVAL when it is not master.)
 */
void vkms_not_master(int fd)
{
	ioctl(fd, DRM_IOCTL_DROP_MASTER, 0);
}

/* Under lock: the guest's framebuffer id, or NULL: not one of its own. */
struct vfb *vkms_fb_find(struct vkms *v, uint32_t id)
{
	for (unsigned int i = 0; id && i < VKMS_MAX_FBS; i++)
		if (v->fbs[i].id == id)
			return &v->fbs[i];
	return NULL;
}

/* DRM's object type of each kind of object in state.h */
const uint32_t vkms_obj_type[] = {
	[KMS_CRTC] = DRM_MODE_OBJECT_CRTC,
	[KMS_PLANE] = DRM_MODE_OBJECT_PLANE,
	[KMS_CONN] = DRM_MODE_OBJECT_CONNECTOR,
};

/* Properties of object id of the card (our own descriptor): up to max. */
int vkms_obj_props(int fd, uint32_t id, uint32_t type, uint32_t *ids,
		   uint64_t *vals, uint32_t max, uint32_t *n)
{
	struct drm_mode_obj_get_properties g = {
		.props_ptr = (uintptr_t)ids, .prop_values_ptr = (uintptr_t)vals,
		.count_props = max, .obj_id = id, .obj_type = type,
	};

	if (ioctl(fd, DRM_IOCTL_MODE_OBJ_GETPROPERTIES, &g))
		return -errno;
	*n = g.count_props < max ? g.count_props : max;
	return 0;
}

static void learn_props(struct vkms *v, enum kms_kind kind, uint32_t obj,
			uint32_t type)
{
	uint32_t ids[KMS_MAX_PROPS], n = 0;
	uint64_t vals[KMS_MAX_PROPS];

	if (!obj || vkms_obj_props(v->qfd, obj, type, ids, vals, KMS_MAX_PROPS, &n))
		return;
	for (uint32_t i = 0; i < n; i++) {
		struct drm_mode_get_property p = { .prop_id = ids[i] };
		struct kms_prop_id *k = &v->card.props[kind][i];

		if (ioctl(v->qfd, DRM_IOCTL_MODE_GETPROPERTY, &p))
			continue;
		p.name[sizeof(p.name) - 1] = 0;
		k->id = ids[i];
		memcpy(k->name, p.name, sizeof(k->name));
		k->kp = (uint8_t)kms_prop_by_name(kind, p.name);
		/* a guest descriptor or address would be meaningless here */
		k->hidden = k->kp == KP_IN_FENCE_FD ||
			    k->kp == KP_OUT_FENCE_PTR;
		k->blob = p.flags & DRM_MODE_PROP_BLOB;
		v->card.nprops[kind] = i + 1;
	}
}

/* Is plane a primary one (its "type" property)? */
static bool is_primary(struct vkms *v, uint32_t plane)
{
	uint32_t ids[KMS_MAX_PROPS], n = 0;
	uint64_t vals[KMS_MAX_PROPS];

	if (vkms_obj_props(v->qfd, plane, DRM_MODE_OBJECT_PLANE, ids, vals,
		      KMS_MAX_PROPS, &n))
		return false;
	for (uint32_t i = 0; i < n; i++) {
		struct drm_mode_get_property p = { .prop_id = ids[i] };

		if (!ioctl(v->qfd, DRM_IOCTL_MODE_GETPROPERTY, &p) &&
		    !strcmp(p.name, "type"))
			return vals[i] == 1;	/* DRM_PLANE_TYPE_PRIMARY */
	}
	return false;
}

/*
 * What the card has, learned once through our own descriptor of it (a
 * new open of the guest's file h: the caps we set stay ours; by hostd
 * when we are confined). 0 or -errno.
 */
int vkms_learn_card(struct vkms *v, const struct be_handle *h)
{
	uint32_t crtcs[KMS_MAX_CRTCS * 2], conns[KMS_MAX_CONNS * 2];
	uint32_t planes[KMS_MAX_CRTCS + KMS_MAX_HIDDEN];
	struct drm_mode_card_res res = { 0 };
	struct drm_mode_get_plane_res pres = { 0 };
	char path[64];
	int r = 0;

	pthread_mutex_lock(&v->learn_lock);
	if (v->card_known)
		goto out;
	if (v->be->open_file && h->path) {
		v->qfd = v->be->open_file(v->be->open_data, h->path,
					  O_RDWR | O_CLOEXEC);
	} else {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", h->fd);
		v->qfd = open(path, O_RDWR | O_CLOEXEC);
	}
	if (v->qfd >= 0)
		vkms_not_master(v->qfd);
	if (v->qfd < 0 ||
	    ioctl(v->qfd, DRM_IOCTL_SET_CLIENT_CAP, &(struct drm_set_client_cap){
		  DRM_CLIENT_CAP_ATOMIC, 1 })) {
		r = -errno;
		be_log(v->be, "display: cannot query the card: %s", strerror(-r));
		if (v->qfd >= 0)
			close(v->qfd);
		v->qfd = -1;
		goto out;
	}
	res.crtc_id_ptr = (uintptr_t)crtcs;
	res.count_crtcs = KMS_MAX_CRTCS * 2;
	res.connector_id_ptr = (uintptr_t)conns;
	res.count_connectors = KMS_MAX_CONNS * 2;
	pres.plane_id_ptr = (uintptr_t)planes;
	pres.count_planes = KMS_MAX_CRTCS + KMS_MAX_HIDDEN;
	if (ioctl(v->qfd, DRM_IOCTL_MODE_GETRESOURCES, &res) ||
	    ioctl(v->qfd, DRM_IOCTL_MODE_GETPLANERESOURCES, &pres)) {
		r = -errno;
		goto out;
	}
	if (res.count_crtcs > KMS_MAX_CRTCS ||
	    res.count_connectors > KMS_MAX_CONNS ||
	    pres.count_planes > KMS_MAX_CRTCS + KMS_MAX_HIDDEN) {
		be_log(v->be, "display: the card has more CRTCs, connectors or "
		       "planes than the virtual display handles");
		r = -E2BIG;
		goto out;
	}
	v->card.ncrtcs = res.count_crtcs;
	memcpy(v->card.crtc, crtcs, res.count_crtcs * sizeof(uint32_t));
	v->card.nconns = res.count_connectors;
	memcpy(v->card.conn, conns, res.count_connectors * sizeof(uint32_t));
	for (uint32_t i = 0; i < pres.count_planes; i++) {
		struct drm_mode_get_plane p = { .plane_id = planes[i] };
		unsigned int c;

		if (ioctl(v->qfd, DRM_IOCTL_MODE_GETPLANE, &p))
			continue;
		c = p.possible_crtcs ? (unsigned int)__builtin_ctz(p.possible_crtcs) : 32;
		if (c < v->card.ncrtcs && !v->card.primary[c] &&
		    is_primary(v, planes[i]))
			v->card.primary[c] = planes[i];
		else if (v->card.nhidden < KMS_MAX_HIDDEN)
			v->card.hidden[v->card.nhidden++] = planes[i];
	}
	learn_props(v, KMS_CRTC, v->card.crtc[0], DRM_MODE_OBJECT_CRTC);
	learn_props(v, KMS_PLANE, v->card.primary[0], DRM_MODE_OBJECT_PLANE);
	learn_props(v, KMS_CONN, v->card.conn[0], DRM_MODE_OBJECT_CONNECTOR);
	v->card_known = true;
out:
	pthread_mutex_unlock(&v->learn_lock);
	return r;
}

/* Under lock: the slot of CRTC id, without making one. */
struct vcrtc *vkms_crtc_find(struct vkms *v, uint32_t id)
{
	for (unsigned int i = 0; id && i < PD_DISPLAY_MAX_CRTCS; i++)
		if (v->crtcs[i].id == id)
			return &v->crtcs[i];
	return NULL;
}

/* Under lock: the CRTC's slot, made on first use; NULL if all taken. */
struct vcrtc *vkms_crtc_get(struct vkms *v, uint32_t id)
{
	struct vcrtc *free_slot = NULL;

	for (unsigned int i = 0; i < PD_DISPLAY_MAX_CRTCS; i++) {
		if (v->crtcs[i].id == id)
			return &v->crtcs[i];
		if (!v->crtcs[i].id && !free_slot)
			free_slot = &v->crtcs[i];
	}
	if (free_slot) {
		memset(free_slot, 0, sizeof(*free_slot));
		free_slot->id = id;
		free_slot->st.crtc_id = id;
	}
	return free_slot;
}

/* What hostd is to show of c: the guest's state, or off while the guest
 * keeps its CRTC inactive (ACTIVE 0, no framebuffer). */
void vkms_shown(const struct vcrtc *c, struct pd_disp_crtc *st)
{
	*st = c->st;
	if (c->inactive || !st->fb_id || !st->mode_valid) {
		memset(st, 0, sizeof(*st));
		st->crtc_id = c->id;
	}
}

/* What the rules ask of this guest's objects (state.h), under lock. */
static int lookup_fb(void *ctx, uint32_t id, uint32_t *w, uint32_t *h)
{
	const struct vfb *fb = vkms_fb_find(ctx, id);

	if (!fb)
		return -ENOENT;
	*w = fb->width;
	*h = fb->height;
	return 0;
}

/* Under lock: blob id is one this guest made? */
bool vkms_own_blob(struct vkms *v, uint32_t id)
{
	for (unsigned int i = 0; id && i < VKMS_MAX_BLOBS; i++)
		if (v->blobs[i].id == id)
			return true;
	return false;
}

static int lookup_mode(void *ctx, uint32_t id, struct drm_mode_modeinfo *m)
{
	struct drm_mode_get_blob b = { .blob_id = id, .length = sizeof(*m),
				       .data = (uintptr_t)m };
	struct vkms *v = ctx;

	if (!vkms_own_blob(v, id) || ioctl(v->qfd, DRM_IOCTL_MODE_GETPROPBLOB, &b) ||
	    b.length != sizeof(*m))
		return -EINVAL;
	return 0;
}

void vkms_objects_init(struct vkms *v)
{
	v->lookup = (struct kms_lookup){ v, lookup_fb, lookup_mode };
	v->qfd = -1;
}

/* Under lock: has handle's file the atomic client cap? */
bool vkms_has_atomic(struct vkms *v, uint32_t handle)
{
	for (unsigned int i = 0; i < VKMS_MAX_ATOMIC_FILES; i++)
		if (v->atomic_handles[i] == handle)
			return true;
	return false;
}
