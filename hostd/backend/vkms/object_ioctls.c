// SPDX-License-Identifier: GPL-2.0-only
/*
 * The ioctls on the objects of a guest's virtual display (objects.c):
 * ADDFB, ADDFB2 and RMFB (an fb leaves the guest's CRTCs, hostd told,
 * before it goes), CREATEPROPBLOB, DESTROYPROPBLOB, SET_CLIENT_CAP, and
 * the answers that list them (GETPLANERESOURCES, GETPLANE,
 * OBJ_GETPROPERTIES, GETPROPBLOB) from the guest's own state; the
 * guest's last close of a file, for its objects.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "priv.h"

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
	int r = vkms_learn_card(v, h);

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
	r = vkms_obj_props(h->fd, g->obj_id, g->obj_type, ids, vals,
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
	int e = vkms_learn_card(v, h);

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
	int r = vkms_learn_card(v, h);

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

			if (!objs[o] || vkms_obj_props(v->qfd, objs[o], vkms_obj_type[kind],
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
	int r = vkms_learn_card(v, h);

	if (r)
		return r;
	pthread_mutex_lock(&v->lock);
	ok = vkms_own_blob(v, b->blob_id);
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
