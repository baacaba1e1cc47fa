// SPDX-License-Identifier: GPL-2.0-only
/*
 * The legacy KMS ioctls of a guest's virtual display. SETCRTC, PAGE_FLIP
 * and SETPLANE each say how the guest's state is to change: here that is
 * translated into a new state (state.h) and handed to the one commit
 * entry point, vkms_commit() (commit.c), as the atomic helpers of 6.1 do
 * (drm_atomic_helper_set_config(), drm_atomic_helper_page_flip(),
 * drm_atomic_helper_update_plane()). The rest are answered from the
 * guest's own state: GETCRTC, the guest's DPMS (SETPROPERTY,
 * GETCONNECTOR), gamma (SETGAMMA, GETGAMMA) and DIRTYFB.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "priv.h"

/*
 * SETCRTC as a new state of one CRTC: its mode, the guest's framebuffer
 * at (x, y) covering it, its connectors (which leave the CRTC they were
 * on, as drm_atomic_set_crtc_for_connector()). Checked as
 * drm_mode_setcrtc(): a connector that is not one of the card's: ENOENT;
 * the fb not this guest's: ENOENT; the mode beyond the fb: ENOSPC.
 */
static int build_setcrtc(struct vkms *v, void *ctx,
			 const struct kms_state *cur, struct kms_state *next,
			 uint32_t *crtcs)
{
	const struct drm_mode_crtc *req = ctx;
	const uint32_t *conn =
		(const uint32_t *)(uintptr_t)req->set_connectors_ptr;
	uint32_t fb_id = req->fb_id;
	struct kms_crtc *k;
	struct vfb *fb;
	unsigned int i, j;

	if (kms_find(&v->card, req->crtc_id, &i) != KMS_CRTC)
		return -ENOENT;
	k = &next->crtc[i];
	if (fb_id == (uint32_t)-1)	/* legacy: keep the current fb */
		fb_id = cur->crtc[i].fb;
	for (j = 0; j < v->card.nconns; j++)
		if (next->conn_crtc[j] == req->crtc_id)
			next->conn_crtc[j] = 0;
	*crtcs |= 1u << i;
	if (!req->mode_valid) {
		memset(k, 0, sizeof(*k));
		k->vrr = cur->crtc[i].vrr;
		return 0;
	}
	fb = vkms_fb_find(v, fb_id);
	if (!fb)
		return -ENOENT;	/* not this guest's: as if none */
	if ((uint64_t)req->x + req->mode.hdisplay > fb->width ||
	    (uint64_t)req->y + req->mode.vdisplay > fb->height)
		return -ENOSPC;
	if (!req->count_connectors)
		return -EINVAL;
	for (uint32_t n = 0; n < req->count_connectors; n++) {
		if (kms_find(&v->card, conn[n], &j) != KMS_CONN)
			return -ENOENT;
		next->conn_crtc[j] = req->crtc_id;
	}
	/* the same mode keeps its MODE_ID blob; a new one is made when the
	 * guest reads it (object_ioctls.c) */
	if (!cur->crtc[i].enable ||
	    memcmp(&cur->crtc[i].mode, &req->mode, sizeof(req->mode)))
		k->mode_blob = 0;
	k->enable = k->active = true;
	memcpy(&k->mode, &req->mode, sizeof(k->mode));
	k->fb = fb_id;
	k->plane_crtc = req->crtc_id;
	k->src_x = req->x << 16;
	k->src_y = req->y << 16;
	k->src_w = (uint32_t)req->mode.hdisplay << 16;
	k->src_h = (uint32_t)req->mode.vdisplay << 16;
	k->crtc_x = k->crtc_y = 0;
	k->crtc_w = req->mode.hdisplay;
	k->crtc_h = req->mode.vdisplay;
	return 0;
}

static int do_setcrtc(struct vkms *v, struct be_handle *h,
		      struct drm_mode_crtc *req)
{
	struct drm_mode_crtc real;
	int r = vkms_real_crtc(h->fd, req->crtc_id, &real);

	if (r)
		return r;
	if (req->count_connectors > PD_DISPLAY_MAX_CONN ||
	    req->mode_valid > 1 ||
	    (req->count_connectors && !req->set_connectors_ptr))
		return -EINVAL;
	return vkms_commit(v, h, build_setcrtc, req,
			   VKMS_COMMIT_LEGACY_SET | VKMS_COMMIT_ALLOW_MODESET |
			   VKMS_COMMIT_NONBLOCK, 0);
}

/* PAGE_FLIP: a new framebuffer on an active CRTC (off: EINVAL, as a real
 * driver; the fb not this guest's: ENOENT); a flip pending: EBUSY. */
static int build_flip(struct vkms *v, void *ctx, const struct kms_state *cur,
		      struct kms_state *next, uint32_t *crtcs)
{
	const struct drm_mode_crtc_page_flip *f = ctx;
	unsigned int i;

	if (kms_find(&v->card, f->crtc_id, &i) != KMS_CRTC ||
	    !cur->crtc[i].active)
		return -EINVAL;
	if (!vkms_fb_find(v, f->fb_id))
		return -ENOENT;
	next->crtc[i].fb = f->fb_id;
	*crtcs |= 1u << i;
	return 0;
}

static int do_page_flip(struct vkms *v, struct be_handle *h,
			struct drm_mode_crtc_page_flip *f)
{
	if (f->flags & ~(uint32_t)(DRM_MODE_PAGE_FLIP_EVENT |
				   DRM_MODE_PAGE_FLIP_ASYNC) || f->reserved)
		return -EINVAL;
	return vkms_commit(v, h, build_flip, f, VKMS_COMMIT_NONBLOCK |
			   (f->flags & DRM_MODE_PAGE_FLIP_EVENT ?
			    VKMS_COMMIT_EVENT : 0), f->user_data);
}

/*
 * SETPLANE of a primary plane: SETCRTC, PAGE_FLIP and atomic commits
 * drive it; legacy SETPLANE may only turn it off (first cut), which the
 * rules allow while its CRTC is not active. Hidden planes and others:
 * ENOENT.
 */
static int build_setplane(struct vkms *v, void *ctx,
			  const struct kms_state *cur, struct kms_state *next,
			  uint32_t *crtcs)
{
	const struct drm_mode_set_plane *p = ctx;
	unsigned int i;

	(void)cur;
	if (kms_find(&v->card, p->plane_id, &i) != KMS_PLANE)
		return -ENOENT;
	if (p->fb_id && !vkms_fb_find(v, p->fb_id))
		return -ENOENT;
	if (p->fb_id)
		return -EINVAL;
	next->crtc[i].fb = 0;
	next->crtc[i].plane_crtc = 0;
	*crtcs |= 1u << i;
	return 0;
}

/* GETCRTC: the guest's own state of a CRTC of the card. */
static int do_getcrtc(struct vkms *v, struct be_handle *h,
		      struct drm_mode_crtc *req)
{
	struct drm_mode_crtc real;
	int r = vkms_real_crtc(h->fd, req->crtc_id, &real);
	struct vcrtc *c;

	if (r)
		return r;
	req->gamma_size = real.gamma_size;
	req->fb_id = 0;
	req->x = req->y = 0;
	req->mode_valid = 0;
	memset(&req->mode, 0, sizeof(req->mode));
	pthread_mutex_lock(&v->lock);
	for (unsigned int i = 0; i < PD_DISPLAY_MAX_CRTCS; i++) {
		c = &v->crtcs[i];
		if (c->id != req->crtc_id)
			continue;
		req->fb_id = c->st.fb_id;
		req->x = c->st.x;
		req->y = c->st.y;
		req->mode_valid = c->st.mode_valid;
		memcpy(&req->mode, &c->st.mode, sizeof(req->mode));
	}
	pthread_mutex_unlock(&v->lock);
	return 0;
}

/* 0, or -ENOENT: id is neither 0 nor a framebuffer of the guest's. */
static int check_fb(struct vkms *v, uint32_t id)
{
	int r;

	if (!id)
		return 0;
	pthread_mutex_lock(&v->lock);
	r = vkms_fb_find(v, id) ? 0 : -ENOENT;
	pthread_mutex_unlock(&v->lock);
	return r;
}

/*
 * Legacy SETPROPERTY of a connector, answered as 6.1 answers it on an
 * atomic driver (drm_mode_obj_set_property_ioctl(), set_property_atomic(),
 * drm_atomic_connector_set_property()): not a connector: ENOENT; a
 * property the connector does not have: EINVAL; DPMS: the guest's
 * (vkms_dpms_set()); link-status: 0 for a value of its enum (the kernel
 * never lets userspace turn a good link bad, and the guest's link is
 * always good: Xorg's modesetting driver sets it to "Good"); any other
 * (EDID, TILE, non-desktop... immutable on the card, or a setting of the
 * real connector the guest does not own): EINVAL, where it had EPERM
 * before (Xorg's RandR output properties). The property's name is the
 * card's (one id for every connector).
 */
static int do_setproperty(struct vkms *v, struct be_handle *h,
			  struct drm_mode_connector_set_property *p)
{
	struct drm_mode_get_property prop = { .prop_id = p->prop_id };
	uint32_t ids[KMS_MAX_PROPS], n = 0;
	uint64_t vals[KMS_MAX_PROPS];
	bool has = false;
	int r;

	r = vkms_obj_props(h->fd, p->connector_id, DRM_MODE_OBJECT_CONNECTOR,
			   ids, vals, KMS_MAX_PROPS, &n);
	if (r)
		return r;	/* not a connector: ENOENT */
	for (uint32_t i = 0; i < n; i++)
		has |= ids[i] == p->prop_id;
	if (!has || ioctl(h->fd, DRM_IOCTL_MODE_GETPROPERTY, &prop)) {
		vkms_asked(v, "SETPROPERTY of property %u: %s", p->prop_id,
			   strerror(EINVAL));
		return -EINVAL;
	}
	prop.name[sizeof(prop.name) - 1] = 0;
	if (!strcmp(prop.name, "DPMS")) {
		pthread_mutex_lock(&v->lock);
		v->dpms_prop = p->prop_id;
		pthread_mutex_unlock(&v->lock);
		r = vkms_dpms_set(v, p->connector_id, p->value);
	} else if (!strcmp(prop.name, "link-status")) {
		r = p->value == DRM_MODE_LINK_STATUS_GOOD ||
		    p->value == DRM_MODE_LINK_STATUS_BAD ? 0 : -EINVAL;
	} else {
		r = -EINVAL;
	}
	vkms_asked(v, "SETPROPERTY %s: %s", prop.name,
		   r ? strerror(-r) : "0, the guest's");
	return r;
}

/* GETCONNECTOR: the real card's answer, but its DPMS value is the
 * guest's (the card's is the foreground guest's). The DPMS property is
 * found by name once (one id for every connector). */
static int do_getconnector(struct vkms *v, struct be_handle *h,
			   struct drm_mode_get_connector *c)
{
	uint32_t given = c->count_props, n, dpms;
	const uint32_t *props = (const uint32_t *)(uintptr_t)c->props_ptr;
	uint64_t *values = (uint64_t *)(uintptr_t)c->prop_values_ptr;

	if (ioctl(h->fd, DRM_IOCTL_MODE_GETCONNECTOR, c))
		return -errno;
	if (!props || !values)
		return 0;
	n = c->count_props < given ? c->count_props : given;
	pthread_mutex_lock(&v->lock);
	dpms = v->dpms_prop;
	pthread_mutex_unlock(&v->lock);
	for (uint32_t i = 0; !dpms && i < n; i++) {
		struct drm_mode_get_property p = { .prop_id = props[i] };

		if (ioctl(h->fd, DRM_IOCTL_MODE_GETPROPERTY, &p) == 0 &&
		    !strcmp(p.name, "DPMS"))
			dpms = props[i];
	}
	for (uint32_t i = 0; dpms && i < n; i++)
		if (props[i] == dpms)
			vkms_dpms_get(v, c->connector_id, &values[i]);
	pthread_mutex_lock(&v->lock);
	v->dpms_prop = dpms;
	pthread_mutex_unlock(&v->lock);
	return 0;
}

/*
 * SETGAMMA: kept per CRTC (GETGAMMA reads it back) and sent to hostd,
 * which sets it on the card while the guest is in front. Errors as 6.1's
 * drm_mode_gamma_set_ioctl(): a CRTC without legacy gamma (gamma_size 0:
 * bochs, virtio-gpu) gets ENOSYS, a wrong size EINVAL. A card with more
 * than PD_DISPLAY_MAX_GAMMA entries also gets ENOSYS (none known).
 */
static int do_setgamma(struct vkms *v, struct be_handle *h,
		       struct drm_mode_crtc_lut *l)
{
	struct drm_mode_crtc real;
	struct vcrtc *c;
	size_t n;
	int r = vkms_real_crtc(h->fd, l->crtc_id, &real);

	if (r)
		return r;
	if (!real.gamma_size || real.gamma_size > PD_DISPLAY_MAX_GAMMA)
		return -ENOSYS;
	if (l->gamma_size != real.gamma_size)
		return -EINVAL;
	n = l->gamma_size * sizeof(uint16_t);
	pthread_mutex_lock(&v->lock);
	c = vkms_crtc_get(v, l->crtc_id);
	if (!c) {
		pthread_mutex_unlock(&v->lock);
		return -ENOSPC;
	}
	memset(&c->gamma, 0, sizeof(c->gamma));
	c->gamma.crtc_id = l->crtc_id;
	c->gamma.size = l->gamma_size;
	memcpy(c->gamma.red, (const void *)(uintptr_t)l->red, n);
	memcpy(c->gamma.green, (const void *)(uintptr_t)l->green, n);
	memcpy(c->gamma.blue, (const void *)(uintptr_t)l->blue, n);
	c->gamma_set = true;
	vkms_send(v, PD_DISP_GAMMA, &c->gamma, sizeof(c->gamma));
	pthread_mutex_unlock(&v->lock);
	return 0;
}

/* GETGAMMA: the guest's own table; never set: the kernel's initial ramp
 * (drm_mode_crtc_set_gamma_size(): entry i is i << 8, in 16 bits). */
static int do_getgamma(struct vkms *v, struct be_handle *h,
		       struct drm_mode_crtc_lut *l)
{
	struct drm_mode_crtc real;
	uint16_t *rgb[3] = { (uint16_t *)(uintptr_t)l->red,
			     (uint16_t *)(uintptr_t)l->green,
			     (uint16_t *)(uintptr_t)l->blue };
	const struct vcrtc *c = NULL;
	int r = vkms_real_crtc(h->fd, l->crtc_id, &real);

	if (r)
		return r;
	if (l->gamma_size != real.gamma_size)
		return -EINVAL;
	pthread_mutex_lock(&v->lock);
	for (unsigned int i = 0; i < PD_DISPLAY_MAX_CRTCS; i++)
		if (v->crtcs[i].id == l->crtc_id && v->crtcs[i].gamma_set &&
		    v->crtcs[i].gamma.size == l->gamma_size)
			c = &v->crtcs[i];
	for (uint32_t i = 0; i < l->gamma_size; i++) {
		rgb[0][i] = c ? c->gamma.red[i] : (uint16_t)(i << 8);
		rgb[1][i] = c ? c->gamma.green[i] : (uint16_t)(i << 8);
		rgb[2][i] = c ? c->gamma.blue[i] : (uint16_t)(i << 8);
	}
	pthread_mutex_unlock(&v->lock);
	return 0;
}

/*
 * DIRTYFB of one of the guest's framebuffers: checked as 6.1's
 * drm_mode_dirtyfb_ioctl() does, and sent to hostd when the fb is on one
 * of the guest's CRTCs (hostd passes it to the card if the guest is in
 * front: what a virtio-gpu shadow framebuffer needs to reach the screen).
 * The guest gets what the card answers (vkms_config.dirtyfb, probed by
 * hostd: DIRTYFB is master-only, we cannot ask): ENOSYS on bochs, which
 * has no dirty hook (Xorg's modesetting driver then stops sending
 * damage), 0 on virtio-gpu; then nothing goes to hostd.
 */
static int do_dirtyfb(struct vkms *v, struct drm_mode_fb_dirty_cmd *c)
{
	const struct drm_clip_rect *clips =
		(const struct drm_clip_rect *)(uintptr_t)c->clips_ptr;
	struct pd_disp_dirty m = { .fb_id = c->fb_id, .color = c->color };
	uint32_t flags = c->flags & DRM_MODE_FB_DIRTY_FLAGS;
	bool shown = false;

	if (!c->fb_id || check_fb(v, c->fb_id))
		return -ENOENT;
	if (!c->num_clips != !clips)
		return -EINVAL;
	if ((flags & DRM_MODE_FB_DIRTY_ANNOTATE_COPY) && (c->num_clips % 2))
		return -EINVAL;
	if (c->num_clips > DRM_MODE_FB_DIRTY_MAX_CLIPS)
		return -EINVAL;
	if (v->dirtyfb)
		return v->dirtyfb;
	if (c->num_clips <= PD_DISPLAY_MAX_CLIPS) {
		m.flags = flags;
		m.nclips = c->num_clips;
		if (c->num_clips)	/* none: clips is NULL */
			memcpy(m.clips, clips,
			       c->num_clips * sizeof(m.clips[0]));
	}	/* else the whole fb, no annotation */
	pthread_mutex_lock(&v->lock);
	for (unsigned int i = 0; i < PD_DISPLAY_MAX_CRTCS; i++)
		if (v->crtcs[i].id && v->crtcs[i].st.mode_valid &&
		    v->crtcs[i].st.fb_id == c->fb_id)
			shown = true;
	if (shown)
		vkms_send(v, PD_DISP_DIRTY, &m, sizeof(m));
	pthread_mutex_unlock(&v->lock);
	return 0;
}

/*
 * The legacy ioctls: *answered false if cmd is not one of them. The
 * result as from the handler: 0 or more, or -errno.
 */
int vkms_legacy_ioctl(struct vkms *v, struct be_handle *h, unsigned int cmd,
		      void *arg, bool *answered)
{
	*answered = true;
	switch (cmd) {
	case DRM_IOCTL_MODE_SETCRTC:
		return do_setcrtc(v, h, arg);
	case DRM_IOCTL_MODE_GETCRTC:
		return do_getcrtc(v, h, arg);
	case DRM_IOCTL_MODE_PAGE_FLIP:
		return do_page_flip(v, h, arg);
	case DRM_IOCTL_MODE_SETPLANE:
		return vkms_commit(v, h, build_setplane, arg,
				   VKMS_COMMIT_NONBLOCK, 0);
	case DRM_IOCTL_MODE_DIRTYFB:
		return do_dirtyfb(v, arg);
	case DRM_IOCTL_MODE_CURSOR:
	case DRM_IOCTL_MODE_CURSOR2: {
		struct drm_mode_cursor *c = arg;
		struct drm_mode_crtc real;
		int r = vkms_real_crtc(h->fd, c->crtc_id, &real);

		/* bochs has no cursor plane: what the real driver answers */
		return r ? r : -ENXIO;
	}
	case DRM_IOCTL_MODE_SETGAMMA:
		return do_setgamma(v, h, arg);
	case DRM_IOCTL_MODE_GETGAMMA:
		return do_getgamma(v, h, arg);
	case DRM_IOCTL_MODE_SETPROPERTY:
		return do_setproperty(v, h, arg);
	case DRM_IOCTL_MODE_GETCONNECTOR:
		return do_getconnector(v, h, arg);
	default:
		*answered = false;
		return 0;
	}
}
