// SPDX-License-Identifier: GPL-2.0-only
/*
 * The objects of a guest's virtual display: what the real card has
 * (CRTCs, primary and hidden planes, connectors, their properties),
 * learned once through a descriptor of our own; the guest's framebuffers
 * and property blobs (ids are device-global: a guest may only name its
 * own); and the answers that list them (GETPLANERESOURCES, GETPLANE,
 * OBJ_GETPROPERTIES, GETPROPBLOB) from the guest's own state.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "priv.h"
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

/* Under lock: take fb off every CRTC showing it, telling hostd. */
void vkms_fb_unshow(struct vkms *v, uint32_t id)
{
	for (unsigned int i = 0; i < PD_DISPLAY_MAX_CRTCS; i++) {
		struct vcrtc *c = &v->crtcs[i];

		if (!c->id || c->st.fb_id != id)
			continue;
		c->st.fb_id = 0;
		c->st.mode_valid = 0;
		c->st.nconn = 0;
		memset(c->st.conn, 0, sizeof(c->st.conn));
		memset(&c->st.mode, 0, sizeof(c->st.mode));
		c->inactive = false;
		c->mode_blob = 0;
		vkms_send_crtc(v, c);
	}
}

/* ADDFB, ADDFB2 on the guest's file: the framebuffer is this guest's. */
int vkms_addfb(struct vkms *v, struct be_handle *h, unsigned int cmd,
	       void *arg)
{
	uint32_t id, w, hgt;
	struct vfb *slot = NULL;

	if (ioctl(h->fd, cmd, arg))
		return -errno;
	if (cmd == DRM_IOCTL_MODE_ADDFB) {
		struct drm_mode_fb_cmd *f = arg;

		id = f->fb_id, w = f->width, hgt = f->height;
	} else {
		struct drm_mode_fb_cmd2 *f = arg;

		id = f->fb_id, w = f->width, hgt = f->height;
	}
	pthread_mutex_lock(&v->lock);
	for (unsigned int i = 0; i < VKMS_MAX_FBS && !slot; i++)
		if (!v->fbs[i].id || v->fbs[i].id == id)
			slot = &v->fbs[i];
	if (slot)
		*slot = (struct vfb){ id, h->handle, w, hgt };
	pthread_mutex_unlock(&v->lock);
	if (!slot) {
		ioctl(h->fd, DRM_IOCTL_MODE_RMFB, &id);
		be_log(v->be, "display: more than %d framebuffers", VKMS_MAX_FBS);
		return -ENOSPC;
	}
	return 0;
}

/* RMFB: only the guest file's own; off the screen first. */
int vkms_rmfb(struct vkms *v, struct be_handle *h, uint32_t *arg)
{
	struct vfb *fb;
	uint32_t id = *arg;

	pthread_mutex_lock(&v->lock);
	fb = vkms_fb_find(v, id);
	if (!fb || fb->handle != h->handle) {
		pthread_mutex_unlock(&v->lock);
		return -ENOENT;
	}
	vkms_fb_unshow(v, id);
	fb->id = 0;
	pthread_mutex_unlock(&v->lock);
	return ioctl(h->fd, DRM_IOCTL_MODE_RMFB, &id) ? -errno : 0;
}

/* Properties of object id of the card (our own descriptor): up to max. */
static int obj_props(int fd, uint32_t id, uint32_t type, uint32_t *ids,
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

	if (!obj || obj_props(v->qfd, obj, type, ids, vals, KMS_MAX_PROPS, &n))
		return;
	for (uint32_t i = 0; i < n; i++) {
		struct drm_mode_get_property p = { .prop_id = ids[i] };
		struct kms_prop_id *k = &v->card.props[kind][i];

		if (ioctl(v->qfd, DRM_IOCTL_MODE_GETPROPERTY, &p))
			continue;
		p.name[sizeof(p.name) - 1] = 0;
		k->id = ids[i];
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

	if (obj_props(v->qfd, plane, DRM_MODE_OBJECT_PLANE, ids, vals,
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
 * new open of the guest's file: the caps we set stay ours). 0 or -errno.
 */
int vkms_learn_card(struct vkms *v, int fd)
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
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	v->qfd = open(path, O_RDWR | O_CLOEXEC);
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
static bool own_blob(struct vkms *v, uint32_t id)
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

	if (!own_blob(v, id) || ioctl(v->qfd, DRM_IOCTL_MODE_GETPROPBLOB, &b) ||
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

/* Under lock: a mode blob of the guest's for c's mode, made on h's file
 * (the guest set the mode with SETCRTC; it reads MODE_ID back). */
static uint32_t mode_blob(struct vkms *v, struct be_handle *h,
			 struct vcrtc *c)
{
	struct drm_mode_create_blob b = { .data = (uintptr_t)&c->st.mode,
					  .length = sizeof(c->st.mode) };
	unsigned int i;

	if (c->mode_blob || !c->st.mode_valid)
		return c->mode_blob;
	for (i = 0; i < VKMS_MAX_BLOBS && v->blobs[i].id; i++)
		;
	if (i == VKMS_MAX_BLOBS ||
	    ioctl(h->fd, DRM_IOCTL_MODE_CREATEPROPBLOB, &b))
		return 0;
	v->blobs[i].id = b.blob_id;
	v->blobs[i].handle = h->handle;
	c->mode_blob = b.blob_id;
	return c->mode_blob;
}

/*
 * OBJ_GETPROPERTIES of a CRTC, primary plane or connector: the card's
 * list for this file (it has the atomic cap or not), without the hidden
 * properties, with the guest's own values for what it sets. Other
 * objects: the card's answer (false).
 */
bool vkms_obj_getproperties(struct vkms *v, struct be_handle *h,
			    struct drm_mode_obj_get_properties *g, int *ret)
{
	uint32_t ids[KMS_MAX_PROPS], n = 0, out = 0;
	uint64_t vals[KMS_MAX_PROPS];
	uint32_t *gids = (uint32_t *)(uintptr_t)g->props_ptr;
	uint64_t *gvals = (uint64_t *)(uintptr_t)g->prop_values_ptr;
	struct kms_state s;
	enum kms_kind kind;
	unsigned int idx;
	int r = vkms_learn_card(v, h->fd);

	if (r) {
		*ret = r;
		return true;
	}
	kind = kms_find(&v->card, g->obj_id, &idx);
	if (kind == KMS_NONE)
		return false;
	*ret = -ENOENT;
	if (kind == KMS_HIDDEN)
		return true;
	r = obj_props(h->fd, g->obj_id, g->obj_type, ids, vals,
		      KMS_MAX_PROPS, &n);
	if (r) {
		*ret = r;
		return true;
	}
	pthread_mutex_lock(&v->lock);
	vkms_snapshot(v, &s);
	for (uint32_t i = 0; i < n; i++) {
		const struct kms_prop_id *k = kms_prop(&v->card, kind, ids[i]);

		if (k && k->hidden)
			continue;
		if (k && k->kp != KP_OTHER) {
			if (kind == KMS_CRTC && k->kp == KP_MODE_ID) {
				struct vcrtc *c = vkms_crtc_find(v, g->obj_id);

				vals[i] = c ? mode_blob(v, h, c) : 0;
			} else if (k->kp == KP_DPMS) {
				vals[i] = DRM_MODE_DPMS_ON;
				for (unsigned int j = 0; j < v->ndpms; j++)
					if (v->dpms[j].conn_id == g->obj_id)
						vals[i] = v->dpms[j].mode;
			} else {
				kms_get(&v->card, &s, g->obj_id, k, &vals[i]);
			}
		}
		if (out < g->count_props && gids && gvals) {
			gids[out] = ids[i];
			gvals[out] = vals[i];
		}
		out++;
	}
	pthread_mutex_unlock(&v->lock);
	g->count_props = out;
	*ret = 0;
	return true;
}

/* GETPLANERESOURCES: the card's list without the hidden planes. */
int vkms_getplaneres(struct vkms *v, struct be_handle *h,
		     struct drm_mode_get_plane_res *g)
{
	uint32_t ids[KMS_MAX_CRTCS + KMS_MAX_HIDDEN], out = 0;
	uint32_t *gids = (uint32_t *)(uintptr_t)g->plane_id_ptr;
	struct drm_mode_get_plane_res r = {
		.plane_id_ptr = (uintptr_t)ids,
		.count_planes = KMS_MAX_CRTCS + KMS_MAX_HIDDEN };
	unsigned int idx;
	int e = vkms_learn_card(v, h->fd);

	if (e)
		return e;
	if (ioctl(h->fd, DRM_IOCTL_MODE_GETPLANERESOURCES, &r))
		return -errno;
	for (uint32_t i = 0; i < r.count_planes &&
	     i < KMS_MAX_CRTCS + KMS_MAX_HIDDEN; i++) {
		if (kms_find(&v->card, ids[i], &idx) != KMS_PLANE)
			continue;
		if (out < g->count_planes && gids)
			gids[out] = ids[i];
		out++;
	}
	g->count_planes = out;
	return 0;
}

/* GETPLANE: a primary plane shows the guest's CRTC and framebuffer. */
int vkms_getplane(struct vkms *v, struct be_handle *h,
		  struct drm_mode_get_plane *p)
{
	unsigned int idx;
	int r = vkms_learn_card(v, h->fd);

	if (r)
		return r;
	if (kms_find(&v->card, p->plane_id, &idx) != KMS_PLANE)
		return -ENOENT;
	if (ioctl(h->fd, DRM_IOCTL_MODE_GETPLANE, p))
		return -errno;
	pthread_mutex_lock(&v->lock);
	{
		const struct vcrtc *c = vkms_crtc_find(v, v->card.crtc[idx]);

		p->crtc_id = c && c->st.fb_id ? c->id : 0;
		p->fb_id = c ? c->st.fb_id : 0;
	}
	pthread_mutex_unlock(&v->lock);
	return 0;
}

/* CREATEPROPBLOB: the blob is this guest's (MODE_ID may name it). */
int vkms_createblob(struct vkms *v, struct be_handle *h,
		    struct drm_mode_create_blob *b)
{
	unsigned int i;
	int r = 0;

	if (ioctl(h->fd, DRM_IOCTL_MODE_CREATEPROPBLOB, b))
		return -errno;
	pthread_mutex_lock(&v->lock);
	for (i = 0; i < VKMS_MAX_BLOBS && v->blobs[i].id; i++)
		;
	if (i < VKMS_MAX_BLOBS) {
		v->blobs[i].id = b->blob_id;
		v->blobs[i].handle = h->handle;
	} else {
		r = -ENOSPC;
	}
	pthread_mutex_unlock(&v->lock);
	if (r) {
		ioctl(h->fd, DRM_IOCTL_MODE_DESTROYPROPBLOB,
		      &(struct drm_mode_destroy_blob){ b->blob_id });
		be_log(v->be, "display: more than %d property blobs", VKMS_MAX_BLOBS);
	}
	return r;
}

/* DESTROYPROPBLOB: only the guest's own (the kernel checks the file). */
int vkms_destroyblob(struct vkms *v, struct be_handle *h,
		     struct drm_mode_destroy_blob *b)
{
	int r = -EPERM;

	pthread_mutex_lock(&v->lock);
	for (unsigned int i = 0; i < VKMS_MAX_BLOBS; i++)
		if (b->blob_id && v->blobs[i].id == b->blob_id &&
		    v->blobs[i].handle == h->handle) {
			r = ioctl(h->fd, DRM_IOCTL_MODE_DESTROYPROPBLOB, b) ?
				-errno : 0;
			if (!r)
				v->blobs[i].id = 0;
		}
	pthread_mutex_unlock(&v->lock);
	return r;
}

/* Is blob the card's value of a property a guest sees (EDID, IN_FORMATS,
 * TILE...), not one of another guest's (a MODE_ID is virtual)? */
static bool card_blob(struct vkms *v, uint32_t blob)
{

	for (unsigned int kind = KMS_CRTC; kind <= KMS_CONN; kind++) {
		const uint32_t *objs = kind == KMS_CRTC ? v->card.crtc :
				       kind == KMS_PLANE ? v->card.primary :
				       v->card.conn;
		unsigned int n = kind == KMS_CONN ? v->card.nconns :
						    v->card.ncrtcs;

		for (unsigned int o = 0; o < n; o++) {
			uint32_t ids[KMS_MAX_PROPS], np = 0;
			uint64_t vals[KMS_MAX_PROPS];

			if (!objs[o] || obj_props(v->qfd, objs[o], vkms_obj_type[kind],
						  ids, vals, KMS_MAX_PROPS, &np))
				continue;
			for (uint32_t i = 0; i < np; i++) {
				const struct kms_prop_id *k =
					kms_prop(&v->card, (enum kms_kind)kind,
						 ids[i]);

				if (k && k->blob && k->kp == KP_OTHER &&
				    vals[i] == blob)
					return true;
			}
		}
	}
	return false;
}

/* GETPROPBLOB: the guest's own blobs and the card's (blob ids are
 * device-global: another guest's mode is none of its business). */
int vkms_getblob(struct vkms *v, struct be_handle *h,
		 struct drm_mode_get_blob *b)
{
	bool ok;
	int r = vkms_learn_card(v, h->fd);

	if (r)
		return r;
	pthread_mutex_lock(&v->lock);
	ok = own_blob(v, b->blob_id);
	pthread_mutex_unlock(&v->lock);
	if (!ok && !card_blob(v, b->blob_id))
		return -ENOENT;	/* as for no such blob */
	return ioctl(h->fd, DRM_IOCTL_MODE_GETPROPBLOB, b) ? -errno : 0;
}

/* SET_CLIENT_CAP: on the guest's file; the atomic cap is remembered. */
int vkms_client_cap(struct vkms *v, struct be_handle *h,
		    struct drm_set_client_cap *c)
{
	if (ioctl(h->fd, DRM_IOCTL_SET_CLIENT_CAP, c))
		return -errno;
	if (c->capability != DRM_CLIENT_CAP_ATOMIC)
		return 0;
	pthread_mutex_lock(&v->lock);
	for (unsigned int i = 0; i < VKMS_MAX_ATOMIC_FILES; i++) {
		if (c->value && !v->atomic_handles[i] && !vkms_has_atomic(v, h->handle))
			v->atomic_handles[i] = h->handle;
		else if (!c->value && v->atomic_handles[i] == h->handle)
			v->atomic_handles[i] = 0;
	}
	pthread_mutex_unlock(&v->lock);
	return 0;
}


/* Under lock: the guest's last close of handle: its framebuffers and
 * blobs go with the real file (off the screen first), and its cap. */
void vkms_objects_release(struct vkms *v, uint32_t handle)
{
	for (unsigned int i = 0; i < VKMS_MAX_FBS; i++)
		if (v->fbs[i].id && v->fbs[i].handle == handle) {
			vkms_fb_unshow(v, v->fbs[i].id);
			v->fbs[i].id = 0;
		}
	for (unsigned int i = 0; i < VKMS_MAX_BLOBS; i++) {
		if (!v->blobs[i].id || v->blobs[i].handle != handle)
			continue;
		for (unsigned int j = 0; j < PD_DISPLAY_MAX_CRTCS; j++)
			if (v->crtcs[j].mode_blob == v->blobs[i].id)
				v->crtcs[j].mode_blob = 0;
		v->blobs[i].id = 0;
	}
	for (unsigned int i = 0; i < VKMS_MAX_ATOMIC_FILES; i++)
		if (v->atomic_handles[i] == handle)
			v->atomic_handles[i] = 0;
}
