// SPDX-License-Identifier: GPL-2.0-only
/*
 * The one commit entry point of the virtual KMS (vkms.h vkms_commit()).
 * Every path that changes what a guest shows (legacy.c: SETCRTC,
 * PAGE_FLIP, SETPLANE; atomic.c: ATOMIC, OBJ_SETPROPERTY) builds a whole
 * new state (state.h) from a snapshot of the guest's and hands it here:
 * one check (the rules of rules.c), one treatment of a pending flip, one
 * write back, one way to tell hostd (a modeset is a SET_CRTC, anything
 * else a FLIP hostd answers with FLIP_DONE), one way to make events.
 *
 * The guest's state itself is kept per CRTC as hostd is told it (struct
 * vcrtc, priv.h); vkms_snapshot() and write_back() translate.
 *
 * A connector's DPMS, which both legacy SETPROPERTY and OBJ_SETPROPERTY
 * set, is the guest's too: kept and sent to hostd here (vkms_dpms_set()).
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "priv.h"

/* Under lock: c's state to hostd. */
void vkms_send_crtc(struct vkms *v, const struct vcrtc *c)
{
	struct pd_disp_crtc st;

	vkms_shown(c, &st);
	vkms_send(v, PD_DISP_SET_CRTC, &st, sizeof(st));
}

static void conns_of(const struct vkms *v, const struct vcrtc *c,
		     struct kms_state *s)
{
	for (unsigned int n = 0; n < c->st.nconn; n++)
		for (unsigned int j = 0; j < v->card.nconns; j++)
			if (v->card.conn[j] == c->st.conn[n])
				s->conn_crtc[j] = c->id;
}

/* Under lock, the card known: the guest's state as the rules see it. */
void vkms_snapshot(struct vkms *v, struct kms_state *s)
{
	memset(s, 0, sizeof(*s));
	for (unsigned int i = 0; i < v->card.ncrtcs; i++) {
		const struct vcrtc *c = vkms_crtc_find(v, v->card.crtc[i]);
		struct kms_crtc *k = &s->crtc[i];

		if (!c)
			continue;
		k->enable = c->st.mode_valid;
		k->active = k->enable && !c->inactive;
		memcpy(&k->mode, &c->st.mode, sizeof(k->mode));
		k->mode_blob = c->mode_blob;
		k->vrr = c->vrr;
		if (!c->st.fb_id)
			continue;
		k->fb = c->st.fb_id;
		k->plane_crtc = c->id;
		k->src_x = c->st.x << 16;
		k->src_y = c->st.y << 16;
		k->src_w = (uint32_t)c->st.mode.hdisplay << 16;
		k->src_h = (uint32_t)c->st.mode.vdisplay << 16;
		k->crtc_w = c->st.mode.hdisplay;
		k->crtc_h = c->st.mode.vdisplay;
		conns_of(v, c, s);
	}
	/* a mode without a framebuffer (ACTIVE 0) keeps its connectors */
	for (unsigned int i = 0; i < v->card.ncrtcs; i++) {
		const struct vcrtc *c = vkms_crtc_find(v, v->card.crtc[i]);

		if (c && !c->st.fb_id)
			conns_of(v, c, s);
	}
}

/* Under lock: s becomes the guest's state of the CRTCs in crtcs. */
static void write_back(struct vkms *v, const struct kms_state *s,
		       uint32_t crtcs)
{
	for (unsigned int i = 0; i < v->card.ncrtcs; i++) {
		const struct kms_crtc *k = &s->crtc[i];
		struct vcrtc *c;
		unsigned int n = 0;

		if (!(crtcs & (1u << i)) ||
		    !(c = vkms_crtc_get(v, v->card.crtc[i])))
			continue;
		c->st.fb_id = k->enable ? k->fb : 0;
		c->st.x = k->fb ? k->src_x >> 16 : 0;
		c->st.y = k->fb ? k->src_y >> 16 : 0;
		c->st.mode_valid = k->enable;
		memcpy(&c->st.mode, &k->mode, sizeof(c->st.mode));
		memset(c->st.conn, 0, sizeof(c->st.conn));
		for (unsigned int j = 0; j < v->card.nconns; j++)
			if (s->conn_crtc[j] == c->id && n < PD_DISPLAY_MAX_CONN)
				c->st.conn[n++] = v->card.conn[j];
		c->st.nconn = k->enable ? n : 0;
		c->inactive = k->enable && !k->active;
		c->mode_blob = k->mode_blob;
		c->vrr = k->vrr;
	}
}

/* Under lock: a flip waits on one of the CRTCs in crtcs? */
static bool flip_waits(struct vkms *v, uint32_t crtcs)
{
	for (unsigned int i = 0; i < v->card.ncrtcs; i++) {
		const struct vcrtc *c = vkms_crtc_find(v, v->card.crtc[i]);

		if ((crtcs & (1u << i)) && c && c->flip_pending)
			return true;
	}
	return false;
}

/* Under lock: wait (at most 1 s) until no flip waits on crtcs. */
int vkms_wait_flips(struct vkms *v, uint32_t crtcs)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_sec += 1;
	while (flip_waits(v, crtcs))
		if (pthread_cond_timedwait(&v->flipped, &v->lock, &t))
			return -EBUSY;
	return 0;
}

/*
 * Under lock: s (checked) becomes the guest's for the CRTCs in crtcs, from
 * old; modeset says which need a full SET_CRTC at hostd. With an event,
 * each CRTC gets one: a flip's when it completes, a modeset's now. The
 * handles to vkms_notify() go to wake (one per CRTC).
 */
static bool apply(struct vkms *v, struct be_handle *h,
		  const struct kms_state *old, const struct kms_state *s,
		  uint32_t crtcs, uint32_t modeset, bool event,
		  uint64_t user_data, uint32_t *wake)
{
	bool unchanged = false;

	write_back(v, s, crtcs);
	for (unsigned int i = 0; i < v->card.ncrtcs; i++) {
		const struct kms_crtc *a = &old->crtc[i], *b = &s->crtc[i];
		struct vcrtc *c = vkms_crtc_find(v, v->card.crtc[i]);
		struct pd_disp_flip m;

		if (!(crtcs & (1u << i)) || !c)
			continue;
		if ((modeset & (1u << i)) || !b->active ||
		    a->src_x != b->src_x || a->src_y != b->src_y) {
			vkms_send_crtc(v, c);
			if (event)
				wake[i] = vkms_queue_modeset_event(v,
					h->handle, user_data, c->id);
			continue;
		}
		if (a->fb == b->fb && !event) {
			unchanged = true;	/* nothing to show */
			continue;
		}
		c->flip_pending = true;
		c->flip_event = event;
		c->flip_handle = h->handle;
		c->flip_user_data = user_data;
		c->flip_cookie = ++v->cookie;
		vkms_flip_sent(v, c);
		m = (struct pd_disp_flip){ .cookie = c->flip_cookie,
					   .crtc_id = c->id, .fb_id = b->fb };
		vkms_send(v, PD_DISP_FLIP, &m, sizeof(m));
	}
	return unchanged;
}

int vkms_commit(struct vkms *v, struct be_handle *h, vkms_build_fn build,
		void *ctx, uint32_t flags, uint64_t user_data)
{
	bool event = flags & VKMS_COMMIT_EVENT;
	uint32_t crtcs, modeset, wake[KMS_MAX_CRTCS] = { 0 };
	bool unchanged = false;
	struct kms_state old, s;
	int r = vkms_learn_card(v, h);

	if (r)
		return r;
	pthread_mutex_lock(&v->lock);
again:
	vkms_snapshot(v, &old);
	s = old;
	crtcs = 0;
	r = build(v, ctx, &old, &s, &crtcs);
	if (!r)
		r = kms_check(&v->card, &old, &s, crtcs,
			      flags & VKMS_COMMIT_ALLOW_MODESET, &v->lookup,
			      &modeset);
	for (unsigned int i = 0; !r && event && i < v->card.ncrtcs; i++)
		if ((crtcs & (1u << i)) && !s.crtc[i].active &&
		    !old.crtc[i].active)
			r = -EINVAL;	/* an event, but the CRTC is off */
	if (r) {
		v->stats.refused++;
		vkms_asked(v, "a commit (flags 0x%x) of CRTCs 0x%x: refused, %s",
			   flags, crtcs, strerror(-r));
		goto out;
	}
	if (flags & VKMS_COMMIT_TEST_ONLY) {
		v->stats.tests++;
		goto out;
	}
	if (flags & VKMS_COMMIT_LEGACY_SET) {
		/* SETCRTC replaces the CRTC's state whatever flip is
		 * pending (that flip still completes), always by a
		 * SET_CRTC at hostd, as this display always did */
		modeset |= crtcs;
	} else if (flip_waits(v, crtcs)) {
		if (flags & VKMS_COMMIT_NONBLOCK) {
			r = -EBUSY;
			goto out;
		}
		r = vkms_wait_flips(v, crtcs);
		if (r)
			goto out;
		goto again;	/* the state may have moved meanwhile */
	}
	unchanged = apply(v, h, &old, &s, crtcs, modeset, event, user_data,
			  wake);
	v->stats.commits++;
	/* a blocking commit returns when it is done (a flip completing
	 * later than 1 s is not an error of this commit) */
	if (!(flags & VKMS_COMMIT_NONBLOCK))
		(void)vkms_wait_flips(v, crtcs);
out:
	pthread_mutex_unlock(&v->lock);
	for (unsigned int i = 0; i < KMS_MAX_CRTCS; i++)
		vkms_notify(v, wake[i]);
	/* a blocking commit that showed nothing new ends at the vblank */
	if (!r && unchanged && !(flags & VKMS_COMMIT_NONBLOCK))
		(void)vkms_sleep_to_next_vblank(v);
	return r;
}

/*
 * The guest's DPMS of a connector: kept here, sent to hostd (which sets
 * the real connector's while the guest is in front, blanking the screen
 * when it is off). Values as the atomic helpers keep them
 * (drm_atomic_connector_commit_dpms(): anything but ON is OFF); above 3,
 * not a value of the enum: EINVAL. The caller has checked that conn_id is
 * a connector of the card.
 */
int vkms_dpms_set(struct vkms *v, uint32_t conn_id, uint64_t value)
{
	struct pd_disp_dpms *e = NULL;

	if (value > PD_DISP_DPMS_OFF)
		return -EINVAL;
	pthread_mutex_lock(&v->lock);
	for (unsigned int i = 0; i < v->ndpms && !e; i++)
		if (v->dpms[i].conn_id == conn_id)
			e = &v->dpms[i];
	if (!e && v->ndpms < PD_DISPLAY_MAX_DPMS)
		e = &v->dpms[v->ndpms++];
	if (!e) {
		pthread_mutex_unlock(&v->lock);
		return -ENOSPC;
	}
	*e = (struct pd_disp_dpms){
		.conn_id = conn_id,
		.mode = value == DRM_MODE_DPMS_ON ? PD_DISP_DPMS_ON :
						   PD_DISP_DPMS_OFF,
	};
	vkms_send(v, PD_DISP_DPMS, e, sizeof(*e));
	pthread_mutex_unlock(&v->lock);
	return 0;
}

int vkms_dpms_get(struct vkms *v, uint32_t conn_id, uint64_t *value)
{
	*value = DRM_MODE_DPMS_ON;
	pthread_mutex_lock(&v->lock);
	for (unsigned int i = 0; i < v->ndpms; i++)
		if (v->dpms[i].conn_id == conn_id)
			*value = v->dpms[i].mode;
	pthread_mutex_unlock(&v->lock);
	return 0;
}

void vkms_get_stats(struct vkms *v, struct vkms_stats *s)
{
	pthread_mutex_lock(&v->lock);
	*s = v->stats;
	pthread_mutex_unlock(&v->lock);
}
