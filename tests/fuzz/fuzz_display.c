// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target on a guest's virtual display (hostd/backend/vkms/): the
 * ioctls the vkms answers for the guest's card (vkms.c's hook, as ops.c
 * calls it once decode.c has rebuilt the argument in our memory): ATOMIC
 * and OBJ_SETPROPERTY (atomic.c, by the rules of rules.c, through the one
 * commit of commit.c), the object queries and property blobs
 * (object_ioctls.c), framebuffers, legacy SETCRTC, PAGE_FLIP, SETPLANE,
 * GETCRTC, gamma and DIRTYFB (legacy.c), client caps, vblank events and
 * their reads (events.c: never a blocking wait). The real card is a pretend one (the
 * card's ioctls land in a stub) whose shape the input gives: the vkms
 * learns it as from bochs or any other card (objects.c). hostd is absent
 * (no socket), and completes every flip at once when a commit waits for
 * one; a commit that would wait for the next vblank does not.
 *
 * Arguments are built as decode.c leaves them: every array the counts
 * name is there, in our memory, of that many entries.
 *
 * Input: byte 0 the card (bits 0-1: CRTCs - 1, bits 2-3: connectors - 1,
 * bits 4-5: hidden planes), byte 1 which of its properties it lacks (a
 * mask), then records, each a byte (op % 18) and its arguments (see
 * run()). Ids the guest names come from a selector byte: below 0xc0 an id
 * of the card or of the guest's framebuffers and blobs, else a forged
 * one.
 *
 * Checked besides the sanitizers: an ioctl answered here returns 0 or -1
 * with an errno; the vkms's counts (framebuffers, blobs, events) stay in
 * their tables.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vkms/priv.h"
#include "vkms/state.h"

/* ---- the pretend card ---- */

enum { CRTC0 = 31, PLANE0 = 41, CONN0 = 51, HIDDEN0 = 61, PROP0 = 100 };

static const char *const prop_names[3][12] = {
	{ "ACTIVE", "MODE_ID", "OUT_FENCE_PTR", "VRR_ENABLED", "GAMMA_LUT" },
	{ "type", "FB_ID", "CRTC_ID", "SRC_X", "SRC_Y", "SRC_W", "SRC_H",
	  "CRTC_X", "CRTC_Y", "CRTC_W", "CRTC_H", "IN_FENCE_FD" },
	{ "CRTC_ID", "DPMS", "EDID", "link-status", "other" },
};
static const unsigned int prop_count[3] = { 5, 12, 5 };

static unsigned int ncrtcs, nconns, nhidden, prop_mask;
static bool answering;		/* ioctls are the pretend card's */
static uint32_t next_fb, next_blob;
static struct { uint32_t id; struct drm_mode_modeinfo mode; uint32_t len; }
	blobs[16];

static unsigned int kind_of(uint32_t obj)
{
	if (obj >= CRTC0 && obj < CRTC0 + ncrtcs)
		return 0;
	if ((obj >= PLANE0 && obj < PLANE0 + ncrtcs) ||
	    (obj >= HIDDEN0 && obj < HIDDEN0 + nhidden))
		return 1;
	if (obj >= CONN0 && obj < CONN0 + nconns)
		return 2;
	return 3;
}

static int fail(int e)
{
	errno = e;
	return -1;
}

static int card_ioctl(unsigned long req, void *arg)
{
	switch (req) {
	case DRM_IOCTL_SET_CLIENT_CAP:
	case DRM_IOCTL_DROP_MASTER:
	case DRM_IOCTL_MODE_RMFB:
	case DRM_IOCTL_MODE_DESTROYPROPBLOB:
		return 0;
	case DRM_IOCTL_MODE_GETRESOURCES: {
		struct drm_mode_card_res *r = arg;
		uint32_t *c = (uint32_t *)(uintptr_t)r->crtc_id_ptr;
		uint32_t *k = (uint32_t *)(uintptr_t)r->connector_id_ptr;

		for (unsigned int i = 0; i < ncrtcs && i < r->count_crtcs; i++)
			c[i] = CRTC0 + i;
		for (unsigned int i = 0; i < nconns && i < r->count_connectors;
		     i++)
			k[i] = CONN0 + i;
		r->count_crtcs = ncrtcs;
		r->count_connectors = nconns;
		return 0;
	}
	case DRM_IOCTL_MODE_GETPLANERESOURCES: {
		struct drm_mode_get_plane_res *r = arg;
		uint32_t *p = (uint32_t *)(uintptr_t)r->plane_id_ptr;
		unsigned int n = 0;

		for (unsigned int i = 0; i < ncrtcs + nhidden; i++, n++)
			if (n < r->count_planes && p)
				p[n] = i < ncrtcs ? PLANE0 + i :
						     HIDDEN0 + i - ncrtcs;
		r->count_planes = n;
		return 0;
	}
	case DRM_IOCTL_MODE_GETPLANE: {
		struct drm_mode_get_plane *p = arg;

		if (kind_of(p->plane_id) != 1)
			return fail(ENOENT);
		p->possible_crtcs = p->plane_id >= HIDDEN0 ? 1 :
				    1u << (p->plane_id - PLANE0);
		p->count_format_types = 0;
		return 0;
	}
	case DRM_IOCTL_MODE_OBJ_GETPROPERTIES: {
		struct drm_mode_obj_get_properties *g = arg;
		uint32_t *ids = (uint32_t *)(uintptr_t)g->props_ptr;
		uint64_t *vals = (uint64_t *)(uintptr_t)g->prop_values_ptr;
		unsigned int kind = kind_of(g->obj_id), n = 0;

		if (kind == 3)
			return fail(ENOENT);
		for (unsigned int i = 0; i < prop_count[kind]; i++) {
			if (i && (prop_mask >> (kind * 5 + i % 5)) & 1)
				continue;	/* the card lacks it */
			if (n < g->count_props && ids && vals) {
				ids[n] = PROP0 + kind * 16 + i;
				vals[n] = kind == 1 && i == 0 ?
					  (g->obj_id >= HIDDEN0 ? 2 : 1) : 0;
			}
			n++;
		}
		g->count_props = n;
		return 0;
	}
	case DRM_IOCTL_MODE_GETPROPERTY: {
		struct drm_mode_get_property *p = arg;
		unsigned int kind = (p->prop_id - PROP0) / 16;
		unsigned int i = (p->prop_id - PROP0) % 16;

		if (p->prop_id < PROP0 || kind > 2 || i >= prop_count[kind])
			return fail(ENOENT);
		snprintf(p->name, sizeof(p->name), "%s", prop_names[kind][i]);
		p->flags = !strcmp(p->name, "MODE_ID") ||
			   !strcmp(p->name, "EDID") ? DRM_MODE_PROP_BLOB : 0;
		return 0;
	}
	case DRM_IOCTL_MODE_GETCRTC: {
		struct drm_mode_crtc *c = arg;

		if (kind_of(c->crtc_id) != 0)
			return fail(ENOENT);
		c->gamma_size = 256;
		return 0;
	}
	case DRM_IOCTL_MODE_GETCONNECTOR: {
		struct drm_mode_get_connector *c = arg;

		if (kind_of(c->connector_id) != 2)
			return fail(ENOENT);
		c->count_modes = c->count_props = c->count_encoders = 0;
		c->connection = 1;
		return 0;
	}
	case DRM_IOCTL_MODE_ADDFB:
		((struct drm_mode_fb_cmd *)arg)->fb_id = ++next_fb;
		return 0;
	case DRM_IOCTL_MODE_ADDFB2:
		((struct drm_mode_fb_cmd2 *)arg)->fb_id = ++next_fb;
		return 0;
	case DRM_IOCTL_MODE_CREATEPROPBLOB: {
		struct drm_mode_create_blob *b = arg;
		unsigned int i = next_blob % 16;

		blobs[i].id = 1000 + ++next_blob;
		blobs[i].len = b->length;
		memset(&blobs[i].mode, 0, sizeof(blobs[i].mode));
		memcpy(&blobs[i].mode, (void *)(uintptr_t)b->data,
		       b->length < sizeof(blobs[i].mode) ? b->length :
							   sizeof(blobs[i].mode));
		b->blob_id = blobs[i].id;
		return 0;
	}
	case DRM_IOCTL_MODE_GETPROPBLOB: {
		struct drm_mode_get_blob *b = arg;

		for (unsigned int i = 0; i < 16; i++) {
			if (blobs[i].id != b->blob_id || !blobs[i].id)
				continue;
			if (b->length >= blobs[i].len &&
			    blobs[i].len <= sizeof(blobs[i].mode) && b->data)
				memcpy((void *)(uintptr_t)b->data,
				       &blobs[i].mode, blobs[i].len);
			b->length = blobs[i].len;
			return 0;
		}
		return fail(ENOENT);
	}
	}
	return fail(ENOTTY);
}

int __real_ioctl(int fd, unsigned long req, ...);
int __wrap_ioctl(int fd, unsigned long req, ...);

int __wrap_ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (!answering)
		return __real_ioctl(fd, req, arg);
	return card_ioctl(req, arg);
}

/* ---- hostd, the clock, the rest of the backend ---- */

static struct vkms *v;

void be_log(struct be *b, const char *fmt, ...)
{
}

/* events.c's look at a handle's readiness (for PD_WIRE_FEAT_POLL_SEQ) */
uint32_t be_poll_look(struct be_handle *h)
{
	(void)h;
	return 0;
}

/* events.c's pushes (PD_WIRE_FEAT_EVENT_PUSH, not agreed here) */
uint32_t be_push_room(struct be_handle *h)
{
	(void)h;
	return 0;
}

int be_push_send(struct be *b, struct be_handle *h, const void *recs,
		 size_t n)
{
	(void)b;
	(void)h;
	(void)recs;
	(void)n;
	abort();	/* never without the feature */
}

int __real_pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m,
				  const struct timespec *t);
int __wrap_pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m,
				  const struct timespec *t);
int __wrap_clock_nanosleep(clockid_t id, int flags,
			   const struct timespec *t, struct timespec *rem);

/* A commit waits for its flips (v->lock held): hostd shows them now. */
int __wrap_pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m,
				  const struct timespec *t)
{
	uint32_t handles[PD_DISPLAY_MAX_CRTCS];

	if (!answering || c != &v->flipped)
		return __real_pthread_cond_timedwait(c, m, t);
	for (unsigned int i = 0; i < PD_DISPLAY_MAX_CRTCS; i++)
		if (v->crtcs[i].flip_pending)
			v->crtcs[i].flip_seq = 0;	/* its vblank passed */
	vkms_complete_all(v, handles);
	return 0;
}

/* The next vblank comes at once. */
int __wrap_clock_nanosleep(clockid_t id, int flags,
			   const struct timespec *t, struct timespec *rem)
{
	return 0;
}

static int fake_send(struct be_transport *t, const void *msg, size_t len)
{
	return 0;
}

static const struct be_transport_impl fake_impl = {
	.name = "fuzz", .send = fake_send,
};
static struct be_transport fake_tp = { .impl = &fake_impl, .fd = -1 };
static struct be be = { .tp = &fake_tp, .name = "fuzz", .epfd = -1,
			.wakefd = -1, .sigfd = -1 };

/* ---- input ---- */

struct in {
	const uint8_t *p;
	size_t left;
};

static uint64_t get(struct in *in, unsigned int bytes)
{
	uint64_t x = 0;

	while (bytes--) {
		x = x << 8 | (in->left ? *in->p : 0);
		if (in->left) {
			in->p++;
			in->left--;
		}
	}
	return x;
}

/* An id the guest names: one of the card's, its framebuffers', blobs',
 * or forged. */
static uint32_t sel(struct in *in)
{
	unsigned int s = (unsigned int)get(in, 1);

	switch (s >> 5) {
	case 0:
		return CRTC0 + s % 4;
	case 1:
		return PLANE0 + s % 4;
	case 2:
		return CONN0 + s % 3;
	case 3:
		return HIDDEN0 + s % 3;
	case 4:
		return next_fb - s % 4;
	case 5:
		return 1000 + next_blob - s % 4;
	default:
		return s & 0x20 ? s : (uint32_t)get(in, 4);
	}
}

static uint32_t prop_sel(struct in *in)
{
	unsigned int s = (unsigned int)get(in, 1);

	return s < 0xf0 ? PROP0 + (s >> 4) % 3 * 16 + s % 16 : s;
}

static uint64_t value(struct in *in, uint32_t prop)
{
	unsigned int s = (unsigned int)get(in, 1);

	switch (s & 7) {
	case 0:
		return 0;
	case 1:
		return 1;
	case 2:		/* an id */
		return sel(in);
	case 3:		/* a 16.16 size */
		return get(in, 2) << 16;
	case 4:
		return get(in, 2);
	default:
		return get(in, 8);
	}
}

static struct be_handle files[2];
static struct be_handle *h;

static void call(unsigned int cmd, void *arg)
{
	int ret = 0;

	errno = 0;
	answering = true;
	if (vkms_card_hooks.ioctl(v, h, cmd, arg, &ret) &&
	    (ret < -1 || (ret == -1 && !errno)))
		abort();	/* not what ioctl(2) returns */
	answering = false;
	if (v->nevents > VKMS_MAX_EVENTS || v->nwaits > VKMS_MAX_WAITS ||
	    v->ndpms > PD_DISPLAY_MAX_DPMS)
		abort();
}

static void atomic(struct in *in)
{
	uint32_t objs[8], nprops[8], props[64];
	uint64_t vals[64];
	struct drm_mode_atomic a = { 0 };
	unsigned int n = (unsigned int)get(in, 1), total = 0;

	a.flags = (uint32_t)get(in, 2);
	/* a commit that waits: only with NONBLOCK or TEST_ONLY here */
	if (!(a.flags & DRM_MODE_ATOMIC_TEST_ONLY))
		a.flags |= DRM_MODE_ATOMIC_NONBLOCK;
	a.user_data = get(in, 1);
	a.count_objs = n % 9;
	for (unsigned int o = 0; o < a.count_objs; o++) {
		objs[o] = sel(in);
		nprops[o] = (uint32_t)get(in, 1) % 9;
		for (unsigned int j = 0; j < nprops[o] && total < 64; j++) {
			props[total] = prop_sel(in);
			vals[total] = value(in, props[total]);
			total++;
		}
		if (total == 64)
			nprops[o] = 0;
	}
	a.objs_ptr = (uintptr_t)objs;
	a.count_props_ptr = (uintptr_t)nprops;
	a.props_ptr = (uintptr_t)props;
	a.prop_values_ptr = (uintptr_t)vals;
	call(DRM_IOCTL_MODE_ATOMIC, &a);
}

static void run(struct in *in)
{
	switch (get(in, 1) % 18) {
	case 0:
		atomic(in);
		break;
	case 1: {	/* OBJ_SETPROPERTY */
		struct drm_mode_obj_set_property p = { 0 };
		static const uint32_t types[] = { 0, DRM_MODE_OBJECT_CRTC,
			DRM_MODE_OBJECT_PLANE, DRM_MODE_OBJECT_CONNECTOR };

		p.obj_id = sel(in);
		p.prop_id = prop_sel(in);
		p.value = value(in, p.prop_id);
		p.obj_type = types[get(in, 1) % 4];
		call(DRM_IOCTL_MODE_OBJ_SETPROPERTY, &p);
		break;
	}
	case 2: {	/* ADDFB */
		struct drm_mode_fb_cmd f = { 0 };

		f.width = (uint32_t)get(in, 2);
		f.height = (uint32_t)get(in, 2);
		f.bpp = 32;
		f.depth = 24;
		f.pitch = f.width * 4;
		call(DRM_IOCTL_MODE_ADDFB, &f);
		break;
	}
	case 3: {	/* RMFB */
		uint32_t id = sel(in);

		call(DRM_IOCTL_MODE_RMFB, &id);
		break;
	}
	case 4: {	/* CREATEPROPBLOB: a mode, or something else */
		struct drm_mode_modeinfo m = { 0 };
		uint8_t raw[96] = { 0 };
		struct drm_mode_create_blob b = { 0 };
		unsigned int s = (unsigned int)get(in, 1);

		m.hdisplay = (uint16_t)get(in, 2);
		m.vdisplay = (uint16_t)get(in, 2);
		m.clock = (uint32_t)get(in, 2);
		m.vrefresh = 60;
		memcpy(raw, &m, sizeof(m));
		b.length = s & 1 ? sizeof(m) : s % sizeof(raw);
		b.data = (uintptr_t)raw;
		call(DRM_IOCTL_MODE_CREATEPROPBLOB, &b);
		break;
	}
	case 5: {	/* DESTROYPROPBLOB */
		struct drm_mode_destroy_blob b = { .blob_id = sel(in) };

		call(DRM_IOCTL_MODE_DESTROYPROPBLOB, &b);
		break;
	}
	case 6: {	/* GETPROPBLOB */
		uint8_t buf[128];
		struct drm_mode_get_blob b = { 0 };

		b.blob_id = sel(in);
		b.length = (uint32_t)get(in, 1) % sizeof(buf);
		b.data = b.length ? (uintptr_t)buf : 0;
		call(DRM_IOCTL_MODE_GETPROPBLOB, &b);
		break;
	}
	case 7: {	/* OBJ_GETPROPERTIES */
		uint32_t ids[40];
		uint64_t vals[40];
		struct drm_mode_obj_get_properties g = { 0 };

		g.obj_id = sel(in);
		g.obj_type = (uint32_t)get(in, 1) & 1 ? 0 :
			     DRM_MODE_OBJECT_PLANE;
		g.count_props = (uint32_t)get(in, 1) % 41;
		if (g.count_props) {
			g.props_ptr = (uintptr_t)ids;
			g.prop_values_ptr = (uintptr_t)vals;
		}
		call(DRM_IOCTL_MODE_OBJ_GETPROPERTIES, &g);
		break;
	}
	case 8: {	/* GETPLANERESOURCES, GETPLANE */
		uint32_t ids[8], fmts[8];
		struct drm_mode_get_plane_res r = { 0 };
		struct drm_mode_get_plane p = { 0 };

		r.count_planes = (uint32_t)get(in, 1) % 9;
		r.plane_id_ptr = r.count_planes ? (uintptr_t)ids : 0;
		call(DRM_IOCTL_MODE_GETPLANERESOURCES, &r);
		p.plane_id = sel(in);
		p.count_format_types = (uint32_t)get(in, 1) % 9;
		p.format_type_ptr = p.count_format_types ? (uintptr_t)fmts : 0;
		call(DRM_IOCTL_MODE_GETPLANE, &p);
		break;
	}
	case 9: {	/* SET_CLIENT_CAP */
		struct drm_set_client_cap c = { 0 };

		c.capability = get(in, 1) % 7;
		c.value = get(in, 1) % 3;
		call(DRM_IOCTL_SET_CLIENT_CAP, &c);
		break;
	}
	case 10: {	/* SETCRTC */
		uint32_t conns[4];
		struct drm_mode_crtc c = { 0 };

		c.crtc_id = sel(in);
		c.fb_id = sel(in);
		c.x = (uint32_t)get(in, 1);
		c.y = (uint32_t)get(in, 1);
		c.mode_valid = (uint32_t)get(in, 1) & 1;
		c.mode.hdisplay = (uint16_t)get(in, 2);
		c.mode.vdisplay = (uint16_t)get(in, 2);
		c.mode.clock = 65000;
		c.count_connectors = (uint32_t)get(in, 1) % 5;
		for (unsigned int i = 0; i < c.count_connectors; i++)
			conns[i] = sel(in);
		c.set_connectors_ptr = c.count_connectors ? (uintptr_t)conns : 0;
		call(DRM_IOCTL_MODE_SETCRTC, &c);
		c.crtc_id = sel(in);
		call(DRM_IOCTL_MODE_GETCRTC, &c);
		break;
	}
	case 11: {	/* PAGE_FLIP */
		struct drm_mode_crtc_page_flip f = { 0 };

		f.crtc_id = sel(in);
		f.fb_id = sel(in);
		f.flags = (uint32_t)get(in, 1);
		f.user_data = 7;
		call(DRM_IOCTL_MODE_PAGE_FLIP, &f);
		break;
	}
	case 12: {	/* SETPLANE */
		struct drm_mode_set_plane p = { 0 };

		p.plane_id = sel(in);
		p.crtc_id = sel(in);
		p.fb_id = sel(in);
		p.crtc_w = (uint32_t)get(in, 2);
		p.crtc_h = (uint32_t)get(in, 2);
		p.src_w = p.crtc_w << 16;
		p.src_h = p.crtc_h << 16;
		call(DRM_IOCTL_MODE_SETPLANE, &p);
		break;
	}
	case 14: {	/* SETGAMMA, GETGAMMA (the card's size is 256) */
		static uint16_t r[1024], g[1024], b[1024];
		struct drm_mode_crtc_lut l = { 0 };

		l.crtc_id = sel(in);
		l.gamma_size = get(in, 1) & 1 ? 256 : (uint32_t)get(in, 2) % 1025;
		l.red = (uintptr_t)r;
		l.green = (uintptr_t)g;
		l.blue = (uintptr_t)b;
		r[1] = (uint16_t)get(in, 2);
		call(get(in, 1) & 1 ? DRM_IOCTL_MODE_GETGAMMA :
				      DRM_IOCTL_MODE_SETGAMMA, &l);
		break;
	}
	case 15: {	/* DIRTYFB */
		struct drm_clip_rect clips[20];
		struct drm_mode_fb_dirty_cmd c = { 0 };

		c.fb_id = sel(in);
		c.flags = (uint32_t)get(in, 1) % 4;
		c.num_clips = (uint32_t)get(in, 1) % 21;
		for (unsigned int i = 0; i < c.num_clips; i++)
			clips[i] = (struct drm_clip_rect){
				(unsigned short)get(in, 1), 0,
				(unsigned short)get(in, 2), 100 };
		c.clips_ptr = c.num_clips ? (uintptr_t)clips : 0;
		call(DRM_IOCTL_MODE_DIRTYFB, &c);
		break;
	}
	case 16: {	/* vblank events and sequences (never a wait) */
		union drm_wait_vblank w = { 0 };
		struct drm_crtc_get_sequence gs = { 0 };
		struct drm_crtc_queue_sequence qs = { 0 };

		w.request.type = ((uint32_t)get(in, 1) &
				  ~(uint32_t)_DRM_VBLANK_SIGNAL) |
				 _DRM_VBLANK_EVENT;
		w.request.sequence = (uint32_t)get(in, 1);
		call(DRM_IOCTL_WAIT_VBLANK, &w);
		gs.crtc_id = sel(in);
		call(DRM_IOCTL_CRTC_GET_SEQUENCE, &gs);
		qs.crtc_id = sel(in);
		qs.flags = (uint32_t)get(in, 1) & 3;
		qs.sequence = get(in, 1);
		call(DRM_IOCTL_CRTC_QUEUE_SEQUENCE, &qs);
		break;
	}
	case 17: {	/* the guest reads its events (non-blocking) */
		uint8_t buf[256];
		size_t count = (size_t)get(in, 1);
		ssize_t n = 0;

		answering = true;
		if (vkms_card_hooks.read(v, h, buf, count, true, 0, &n) &&
		    n > (ssize_t)count)
			abort();
		answering = false;
		break;
	}
	case 13:	/* the other file; with bit 7, its last close */
		if (get(in, 1) & 0x80) {
			answering = true;
			vkms_card_hooks.release(v, h);
			answering = false;
		}
		h = h == &files[0] ? &files[1] : &files[0];
		break;
	}
}

static int card_fd = -1;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { data, size };
	unsigned int shape;

	if (card_fd < 0) {
		card_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (card_fd < 0)
			abort();
	}
	shape = (unsigned int)get(&in, 1);
	ncrtcs = (shape & 3) + 1;
	nconns = (shape >> 2 & 3) % 3 + 1;
	nhidden = (shape >> 4 & 3) % 3;
	prop_mask = (unsigned int)get(&in, 2);
	next_fb = 200;
	next_blob = 0;
	memset(blobs, 0, sizeof(blobs));

	v = calloc(1, sizeof(*v));
	if (!v)
		return 0;
	v->be = &be;
	v->sock = v->wake = v->gone = -1;
	pthread_mutex_init(&v->lock, NULL);
	pthread_mutex_init(&v->learn_lock, NULL);
	pthread_cond_init(&v->flipped, NULL);
	vkms_objects_init(v);
	for (unsigned int i = 0; i < 2; i++)
		files[i] = (struct be_handle){ .handle = 9 + i, .fd = card_fd,
			.dev_class = PD_WIRE_CLASS_DRM,
			.hooks = &vkms_card_hooks, .hooks_data = v };
	h = &files[0];
	while (in.left)
		run(&in);
	if (v->qfd >= 0)
		close(v->qfd);
	pthread_cond_destroy(&v->flipped);
	pthread_mutex_destroy(&v->learn_lock);
	pthread_mutex_destroy(&v->lock);
	free(v);
	return 0;
}
