// SPDX-License-Identifier: GPL-2.0-only
/*
 * The guest's virtual display (when hostd started this backend and gave it
 * a display connection, PD_DISPLAY_FD; without one, e.g. under pdctl, DRM
 * ioctls run on the real card as before).
 *
 * The guest's display ioctls never reach the card: this file keeps the
 * guest's own view of its CRTCs, planes and connectors (GETCRTC, GETPLANE
 * and OBJ_GETPROPERTIES read back what it set, with SETCRTC, PAGE_FLIP or
 * atomic commits, whose rules are in display_atomic.c), and
 * sends the state to hostd (include/paradice/pd_display.h), which shows
 * the foreground guest's and paces the others' flips. The backend is not
 * DRM master; buffers and framebuffers are still made on the guest's own
 * descriptors by the real driver.
 *
 * What must hold:
 *   - every fb id the guest names (SETCRTC, PAGE_FLIP, SETPLANE, DIRTYFB,
 *     RMFB) is one this guest made with ADDFB/ADDFB2 on a descriptor it
 *     still has; ids are device-global and reused, so an fb is forgotten
 *     (and taken off the guest's CRTCs, hostd told first) before its RMFB
 *     or its descriptor's release;
 *   - no answer shows another guest's state (GETCRTC, GETPLANE are
 *     answered from this guest's state);
 *   - one flip at a time per CRTC (-EBUSY, as a real driver): hostd
 *     answers each, and the guest's DRM_EVENT_FLIP_COMPLETE is made here
 *     and merged into the read() and poll() of the file that flipped;
 *   - gamma (GETGAMMA), DPMS (GETCONNECTOR, be_display_dpms_get()) and
 *     vblank counts (WAIT_VBLANK, CRTC sequences, flip events) are the
 *     guest's own: one 60 Hz timeline from the backend's start, never the
 *     card's (which shows the foreground guest's, or has none).
 *
 * hostd restarted (pd_display.h): when the connection closes, the guest
 * notices nothing. Its state stays here, its flips complete here at 60 Hz
 * (nothing is shown), and the display thread connects to
 * PD_DISPLAY_SOCKET until a new hostd answers, then sends HELLO with the
 * guest's uinput descriptors (held here so that its virtual keyboard and
 * pointer outlive hostd), its DPMS and the state and gamma of every CRTC,
 * so that the new hostd shows the guest's latest frame if it is in front.
 * If none answers within PD_DISPLAY_REATTACH_S, the process exits with
 * PD_DISPLAY_EXIT_NO_HOSTD and its monitor ends (the guest gets EIO, its
 * framebuffers go with the real files, nothing stays on the screen).
 *
 * Locking: `lock` guards everything below (and sends on `sock`); it is
 * never held across a blocking call but a send on the SEQPACKET socket.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#ifndef __user
#define __user
#endif
#include <drm/drm.h>
#include <drm/drm_mode.h>
#include <paradice/pd_display.h>

#include "backend.h"
#include "display.h"
#include "display_atomic.h"

_Static_assert(sizeof(struct pd_disp_mode) == sizeof(struct drm_mode_modeinfo),
	       "pd_disp_mode is drm_mode_modeinfo");

#define MAX_FBS		256
#define MAX_EVENTS	128	/* queued per guest, beyond: dropped */
#define MAX_WAITS	64	/* vblank events asked for, beyond: ENOMEM */
#define TICK_NS		16666667L	/* our own 60 Hz; the vblank period */
#define VBLANK_WAIT_NS	3000000000LL	/* WAIT_VBLANK gives up: EBUSY */
#define CONNECT_TICKS	15		/* try PD_DISPLAY_SOCKET every 250 ms */
#define MAX_BLOBS	64		/* property blobs a guest made */
#define MAX_ATOMIC_FILES 64

struct vfb {
	uint32_t id;		/* 0: free slot */
	uint32_t handle;	/* the guest file that made it */
	uint32_t width, height;
};

struct vcrtc {
	uint32_t id;		/* 0: free slot */
	struct pd_disp_crtc st;
	bool flip_pending;
	uint64_t flip_cookie;	/* of the FLIP hostd has */
	bool flip_event;	/* the guest asked for an event */
	uint32_t flip_handle;
	uint64_t flip_user_data;
	/* what atomic adds to st (display_atomic.h) */
	bool inactive;		/* a mode, but ACTIVE 0: nothing shown */
	uint32_t mode_blob;	/* MODE_ID as the guest reads it, 0: none yet */
	uint64_t vrr;
	bool gamma_set;		/* the guest's SETGAMMA, else the ramp */
	struct pd_disp_gamma gamma;
};

/* An event for the guest's read(): flip, vblank, CRTC sequence. */
union vev {
	struct drm_event base;
	struct drm_event_vblank vbl;
	struct drm_event_crtc_sequence seq;
};

struct vevent {
	uint32_t handle;
	union vev ev;
};

/* A vblank event the guest asked for (WAIT_VBLANK, QUEUE_SEQUENCE),
 * queued as an event at vblank `sequence` of the virtual timeline. */
struct vwait {
	uint32_t handle;
	uint64_t sequence;
	union vev ev;
};

static struct {
	pthread_mutex_t lock;
	struct be *be;
	bool on;		/* hostd gave us a display connection */
	int sock;		/* -1: no hostd now (flips complete here) */
	int wake;		/* eventfd: an event was queued */
	int input[PD_DISPLAY_MAX_INPUT];	/* uinput files we keep */
	unsigned int ninput;
	uint64_t cookie;
	struct vfb fbs[MAX_FBS];
	struct vcrtc crtcs[PD_DISPLAY_MAX_CRTCS];
	struct vevent events[MAX_EVENTS];
	unsigned int nevents;
	struct pd_disp_dpms dpms[PD_DISPLAY_MAX_DPMS];	/* the guest's */
	unsigned int ndpms;
	/* the virtual timeline: vblank k of every CRTC is at epoch + k ticks */
	uint64_t epoch_ns;
	struct vwait waits[MAX_WAITS];
	unsigned int nwaits;
	pthread_cond_t waits_changed;	/* CLOCK_MONOTONIC */
	uint32_t dpms_prop;	/* the card's DPMS property id; 0: not known */
	int dirtyfb;		/* the card's DIRTYFB answer (0 or -ENOSYS) */
	uint32_t card_crtcs[PD_DISPLAY_MAX_CRTCS];	/* pipe -> CRTC id */
	unsigned int ncard_crtcs;	/* 0: not asked yet */
	pthread_cond_t flipped;	/* a flip completed */
	/* atomic (display_atomic.h): the card as learned once, the mode
	 * blobs the guest made, the files that asked for the atomic cap */
	pthread_mutex_t learn_lock;
	bool card_known;
	int qfd;		/* our own descriptor of the card, for queries */
	struct kms_card card;
	struct { uint32_t id, handle; } blobs[MAX_BLOBS];
	uint32_t atomic_handles[MAX_ATOMIC_FILES];
} d = { .lock = PTHREAD_MUTEX_INITIALIZER, .sock = -1, .wake = -1,
	.flipped = PTHREAD_COND_INITIALIZER,
	.learn_lock = PTHREAD_MUTEX_INITIALIZER, .qfd = -1 };

/*
 * Under lock. Without hostd (or when it has just gone) the message is
 * not lost: the state it carries is here and goes to the next hostd, and
 * a flip completes here. So this never fails.
 */
static int send_on(int sock, uint16_t type, const void *body, size_t len)
{
	struct {
		struct pd_disp_hdr hdr;
		uint8_t body[PD_DISP_MAX_MSG - sizeof(struct pd_disp_hdr)];
	} m = { .hdr = { .type = type, .len = (uint16_t)len } };

	memcpy(m.body, body, len);
	return send(sock, &m, sizeof(m.hdr) + len, MSG_NOSIGNAL) ==
	       (ssize_t)(sizeof(m.hdr) + len) ? 0 : -1;
}

static int send_msg(uint16_t type, const void *body, size_t len)
{
	if (d.sock >= 0 && send_on(d.sock, type, body, len))
		be_log(d.be, "display: cannot reach hostd: %s", strerror(errno));
	return 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The virtual timeline: the count of vblanks by t, and the time of one. */
static uint64_t vblank_count(uint64_t t_ns)
{
	return t_ns > d.epoch_ns ? (t_ns - d.epoch_ns) / TICK_NS : 0;
}

static uint64_t vblank_time(uint64_t seq)
{
	return d.epoch_ns + seq * TICK_NS;
}

/* Under lock. */
static struct vfb *fb_find(uint32_t id)
{
	for (unsigned int i = 0; id && i < MAX_FBS; i++)
		if (d.fbs[i].id == id)
			return &d.fbs[i];
	return NULL;
}

/* DRM's object type of each kind of object in display_atomic.h */
static const uint32_t obj_type[] = {
	[KMS_CRTC] = DRM_MODE_OBJECT_CRTC,
	[KMS_PLANE] = DRM_MODE_OBJECT_PLANE,
	[KMS_CONN] = DRM_MODE_OBJECT_CONNECTOR,
};

/* Under lock: the slot of CRTC id, without making one. */
static struct vcrtc *crtc_find(uint32_t id)
{
	for (unsigned int i = 0; id && i < PD_DISPLAY_MAX_CRTCS; i++)
		if (d.crtcs[i].id == id)
			return &d.crtcs[i];
	return NULL;
}

/* Under lock: the CRTC's slot, made on first use; NULL if all taken. */
static struct vcrtc *crtc_get(uint32_t id)
{
	struct vcrtc *free_slot = NULL;

	for (unsigned int i = 0; i < PD_DISPLAY_MAX_CRTCS; i++) {
		if (d.crtcs[i].id == id)
			return &d.crtcs[i];
		if (!d.crtcs[i].id && !free_slot)
			free_slot = &d.crtcs[i];
	}
	if (free_slot) {
		memset(free_slot, 0, sizeof(*free_slot));
		free_slot->id = id;
		free_slot->st.crtc_id = id;
	}
	return free_slot;
}

/* Under lock: what hostd is to show of c: the guest's state, or off
 * while the guest keeps its CRTC inactive (ACTIVE 0, DPMS off). */
static void shown(const struct vcrtc *c, struct pd_disp_crtc *st)
{
	*st = c->st;
	if (c->inactive || !st->fb_id || !st->mode_valid) {
		memset(st, 0, sizeof(*st));
		st->crtc_id = c->id;
	}
}

/* Under lock: c's state to hostd. */
static int send_crtc(const struct vcrtc *c)
{
	struct pd_disp_crtc st;

	shown(c, &st);
	return send_msg(PD_DISP_SET_CRTC, &st, sizeof(st));
}

/*
 * A DRM file opened while no hostd holds the card (it restarts) would be
 * its master (drm_master_open()), and the next hostd could not be: under
 * hostd, our files never stay master. (Dropping is allowed to the file's
 * own opener, drm_master_check_perm(); -EINVAL when it is not master.)
 */
static void not_master(int fd)
{
	ioctl(fd, DRM_IOCTL_DROP_MASTER, 0);
}

/* Under lock: take fb off every CRTC showing it, telling hostd. */
static void fb_unshow(uint32_t id)
{
	for (unsigned int i = 0; i < PD_DISPLAY_MAX_CRTCS; i++) {
		struct vcrtc *c = &d.crtcs[i];

		if (!c->id || c->st.fb_id != id)
			continue;
		c->st.fb_id = 0;
		c->st.mode_valid = 0;
		c->st.nconn = 0;
		memset(c->st.conn, 0, sizeof(c->st.conn));
		memset(&c->st.mode, 0, sizeof(c->st.mode));
		c->inactive = false;
		c->mode_blob = 0;
		send_crtc(c);
	}
}

/* Is crtc_id a CRTC of the real card? Fills *real (gamma size etc.). */
static int real_crtc(int fd, uint32_t crtc_id, struct drm_mode_crtc *real)
{
	memset(real, 0, sizeof(*real));
	real->crtc_id = crtc_id;
	if (ioctl(fd, DRM_IOCTL_MODE_GETCRTC, real))
		return -errno;
	return 0;
}

static int do_addfb(struct be_handle *h, unsigned int cmd, void *arg)
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
	pthread_mutex_lock(&d.lock);
	for (unsigned int i = 0; i < MAX_FBS && !slot; i++)
		if (!d.fbs[i].id || d.fbs[i].id == id)
			slot = &d.fbs[i];
	if (slot)
		*slot = (struct vfb){ id, h->handle, w, hgt };
	pthread_mutex_unlock(&d.lock);
	if (!slot) {
		ioctl(h->fd, DRM_IOCTL_MODE_RMFB, &id);
		be_log(d.be, "display: more than %d framebuffers", MAX_FBS);
		return -ENOSPC;
	}
	return 0;
}

static int do_rmfb(struct be_handle *h, uint32_t *arg)
{
	struct vfb *fb;
	uint32_t id = *arg;

	pthread_mutex_lock(&d.lock);
	fb = fb_find(id);
	if (!fb || fb->handle != h->handle) {
		pthread_mutex_unlock(&d.lock);
		return -ENOENT;
	}
	fb_unshow(id);
	fb->id = 0;
	pthread_mutex_unlock(&d.lock);
	return ioctl(h->fd, DRM_IOCTL_MODE_RMFB, &id) ? -errno : 0;
}

static int do_setcrtc(struct be_handle *h, struct drm_mode_crtc *req)
{
	struct drm_mode_crtc real;
	const uint32_t *conn = (const uint32_t *)(uintptr_t)req->set_connectors_ptr;
	struct vcrtc *c;
	struct vfb *fb;
	uint32_t fb_id = req->fb_id;
	int r = real_crtc(h->fd, req->crtc_id, &real);

	if (r)
		return r;
	if (req->count_connectors > PD_DISPLAY_MAX_CONN ||
	    req->mode_valid > 1 || (req->count_connectors && !conn))
		return -EINVAL;
	pthread_mutex_lock(&d.lock);
	c = crtc_get(req->crtc_id);
	if (!c) {
		r = -ENOSPC;
		goto out;
	}
	if (fb_id == (uint32_t)-1)	/* legacy: keep the current fb */
		fb_id = c->st.fb_id;
	if (!req->mode_valid) {
		fb_id = 0;
	} else {
		fb = fb_find(fb_id);
		if (!fb) {
			r = -ENOENT;	/* not this guest's: as if none */
			goto out;
		}
		if ((uint64_t)req->x + req->mode.hdisplay > fb->width ||
		    (uint64_t)req->y + req->mode.vdisplay > fb->height) {
			r = -ENOSPC;
			goto out;
		}
		if (!req->count_connectors) {
			r = -EINVAL;
			goto out;
		}
	}
	if (memcmp(&c->st.mode, &req->mode, sizeof(c->st.mode)) ||
	    !req->mode_valid)
		c->mode_blob = 0;	/* a new one when the guest asks */
	c->inactive = false;
	c->st.fb_id = fb_id;
	c->st.x = req->mode_valid ? req->x : 0;
	c->st.y = req->mode_valid ? req->y : 0;
	c->st.mode_valid = req->mode_valid;
	memset(&c->st.mode, 0, sizeof(c->st.mode));
	if (req->mode_valid)
		memcpy(&c->st.mode, &req->mode, sizeof(c->st.mode));
	c->st.nconn = req->mode_valid ? req->count_connectors : 0;
	memset(c->st.conn, 0, sizeof(c->st.conn));
	for (uint32_t i = 0; i < c->st.nconn; i++)
		c->st.conn[i] = conn[i];
	r = send_crtc(c);
out:
	pthread_mutex_unlock(&d.lock);
	return r;
}

static int do_getcrtc(struct be_handle *h, struct drm_mode_crtc *req)
{
	struct drm_mode_crtc real;
	int r = real_crtc(h->fd, req->crtc_id, &real);
	struct vcrtc *c;

	if (r)
		return r;
	req->gamma_size = real.gamma_size;
	req->fb_id = 0;
	req->x = req->y = 0;
	req->mode_valid = 0;
	memset(&req->mode, 0, sizeof(req->mode));
	pthread_mutex_lock(&d.lock);
	for (unsigned int i = 0; i < PD_DISPLAY_MAX_CRTCS; i++) {
		c = &d.crtcs[i];
		if (c->id != req->crtc_id)
			continue;
		req->fb_id = c->st.fb_id;
		req->x = c->st.x;
		req->y = c->st.y;
		req->mode_valid = c->st.mode_valid;
		memcpy(&req->mode, &c->st.mode, sizeof(req->mode));
	}
	pthread_mutex_unlock(&d.lock);
	return 0;
}

static int do_page_flip(struct be_handle *h, struct drm_mode_crtc_page_flip *f)
{
	struct pd_disp_flip m;
	struct vcrtc *c;
	int r = 0;

	if (f->flags & ~(uint32_t)(DRM_MODE_PAGE_FLIP_EVENT |
				   DRM_MODE_PAGE_FLIP_ASYNC) || f->reserved)
		return -EINVAL;
	pthread_mutex_lock(&d.lock);
	c = crtc_find(f->crtc_id);
	if (!c || !c->st.mode_valid || c->inactive) {
		r = -EINVAL;	/* off: as a real driver */
		goto out;
	}
	if (!fb_find(f->fb_id)) {
		r = -ENOENT;
		goto out;
	}
	if (c->flip_pending) {
		r = -EBUSY;
		goto out;
	}
	c->flip_pending = true;
	c->flip_event = f->flags & DRM_MODE_PAGE_FLIP_EVENT;
	c->flip_handle = h->handle;
	c->flip_user_data = f->user_data;
	c->flip_cookie = ++d.cookie;
	c->st.fb_id = f->fb_id;
	m = (struct pd_disp_flip){ .cookie = c->flip_cookie,
				   .crtc_id = f->crtc_id, .fb_id = f->fb_id };
	r = send_msg(PD_DISP_FLIP, &m, sizeof(m));
	if (r)
		c->flip_pending = false;
out:
	pthread_mutex_unlock(&d.lock);
	return r;
}

static int check_fb(uint32_t id)
{
	int r;

	if (!id)
		return 0;
	pthread_mutex_lock(&d.lock);
	r = fb_find(id) ? 0 : -ENOENT;
	pthread_mutex_unlock(&d.lock);
	return r;
}

/* Legacy SETPROPERTY: a connector's DPMS is the guest's
 * (be_display_dpms_set()), anything else is refused. Not a connector:
 * ENOENT, as the kernel's object lookup. */
static int do_setproperty(struct be_handle *h, struct drm_mode_connector_set_property *p)
{
	struct drm_mode_get_property prop = { .prop_id = p->prop_id };
	struct drm_mode_obj_get_properties obj = {
		.obj_id = p->connector_id,
		.obj_type = DRM_MODE_OBJECT_CONNECTOR,
	};

	if (ioctl(h->fd, DRM_IOCTL_MODE_GETPROPERTY, &prop))
		return -errno;
	if (strcmp(prop.name, "DPMS"))
		return -EPERM;
	if (ioctl(h->fd, DRM_IOCTL_MODE_OBJ_GETPROPERTIES, &obj))
		return -errno;
	pthread_mutex_lock(&d.lock);
	d.dpms_prop = p->prop_id;
	pthread_mutex_unlock(&d.lock);
	return be_display_dpms_set(p->connector_id, p->value);
}

/* GETCONNECTOR: the real card's answer, but its DPMS value is the
 * guest's (the card's is the foreground guest's). The DPMS property is
 * found by name once (one id for every connector). */
static int do_getconnector(struct be_handle *h, struct drm_mode_get_connector *c)
{
	uint32_t given = c->count_props, n, dpms;
	const uint32_t *props = (const uint32_t *)(uintptr_t)c->props_ptr;
	uint64_t *values = (uint64_t *)(uintptr_t)c->prop_values_ptr;

	if (ioctl(h->fd, DRM_IOCTL_MODE_GETCONNECTOR, c))
		return -errno;
	if (!props || !values)
		return 0;
	n = c->count_props < given ? c->count_props : given;
	pthread_mutex_lock(&d.lock);
	dpms = d.dpms_prop;
	pthread_mutex_unlock(&d.lock);
	for (uint32_t i = 0; !dpms && i < n; i++) {
		struct drm_mode_get_property p = { .prop_id = props[i] };

		if (ioctl(h->fd, DRM_IOCTL_MODE_GETPROPERTY, &p) == 0 &&
		    !strcmp(p.name, "DPMS"))
			dpms = props[i];
	}
	for (uint32_t i = 0; dpms && i < n; i++)
		if (props[i] == dpms)
			be_display_dpms_get(c->connector_id, &values[i]);
	pthread_mutex_lock(&d.lock);
	d.dpms_prop = dpms;
	pthread_mutex_unlock(&d.lock);
	return 0;
}

/* ---- atomic modesetting (rules in display_atomic.c) ---- */

static uint32_t queue_event(uint32_t handle, uint64_t user_data,
			    uint32_t crtc_id, uint64_t time_us,
			    uint32_t sequence);
static void notify(uint32_t handle);

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
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

static void learn_props(enum kms_kind kind, uint32_t obj, uint32_t type)
{
	uint32_t ids[KMS_MAX_PROPS], n = 0;
	uint64_t vals[KMS_MAX_PROPS];

	if (!obj || obj_props(d.qfd, obj, type, ids, vals, KMS_MAX_PROPS, &n))
		return;
	for (uint32_t i = 0; i < n; i++) {
		struct drm_mode_get_property p = { .prop_id = ids[i] };
		struct kms_prop_id *k = &d.card.props[kind][i];

		if (ioctl(d.qfd, DRM_IOCTL_MODE_GETPROPERTY, &p))
			continue;
		p.name[sizeof(p.name) - 1] = 0;
		k->id = ids[i];
		k->kp = (uint8_t)kms_prop_by_name(kind, p.name);
		/* a guest descriptor or address would be meaningless here */
		k->hidden = k->kp == KP_IN_FENCE_FD ||
			    k->kp == KP_OUT_FENCE_PTR;
		k->blob = p.flags & DRM_MODE_PROP_BLOB;
		d.card.nprops[kind] = i + 1;
	}
}

/* Is plane a primary one (its "type" property)? */
static bool is_primary(uint32_t plane)
{
	uint32_t ids[KMS_MAX_PROPS], n = 0;
	uint64_t vals[KMS_MAX_PROPS];

	if (obj_props(d.qfd, plane, DRM_MODE_OBJECT_PLANE, ids, vals,
		      KMS_MAX_PROPS, &n))
		return false;
	for (uint32_t i = 0; i < n; i++) {
		struct drm_mode_get_property p = { .prop_id = ids[i] };

		if (!ioctl(d.qfd, DRM_IOCTL_MODE_GETPROPERTY, &p) &&
		    !strcmp(p.name, "type"))
			return vals[i] == 1;	/* DRM_PLANE_TYPE_PRIMARY */
	}
	return false;
}

/*
 * What the card has, learned once through our own descriptor of it (a
 * new open of the guest's file: the caps we set stay ours). 0 or -errno.
 */
static int learn_card(int fd)
{
	uint32_t crtcs[KMS_MAX_CRTCS * 2], conns[KMS_MAX_CONNS * 2];
	uint32_t planes[KMS_MAX_CRTCS + KMS_MAX_HIDDEN];
	struct drm_mode_card_res res = { 0 };
	struct drm_mode_get_plane_res pres = { 0 };
	char path[64];
	int r = 0;

	pthread_mutex_lock(&d.learn_lock);
	if (d.card_known)
		goto out;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	d.qfd = open(path, O_RDWR | O_CLOEXEC);
	if (d.qfd >= 0)
		not_master(d.qfd);
	if (d.qfd < 0 ||
	    ioctl(d.qfd, DRM_IOCTL_SET_CLIENT_CAP, &(struct drm_set_client_cap){
		  DRM_CLIENT_CAP_ATOMIC, 1 })) {
		r = -errno;
		be_log(d.be, "display: cannot query the card: %s", strerror(-r));
		if (d.qfd >= 0)
			close(d.qfd);
		d.qfd = -1;
		goto out;
	}
	res.crtc_id_ptr = (uintptr_t)crtcs;
	res.count_crtcs = KMS_MAX_CRTCS * 2;
	res.connector_id_ptr = (uintptr_t)conns;
	res.count_connectors = KMS_MAX_CONNS * 2;
	pres.plane_id_ptr = (uintptr_t)planes;
	pres.count_planes = KMS_MAX_CRTCS + KMS_MAX_HIDDEN;
	if (ioctl(d.qfd, DRM_IOCTL_MODE_GETRESOURCES, &res) ||
	    ioctl(d.qfd, DRM_IOCTL_MODE_GETPLANERESOURCES, &pres)) {
		r = -errno;
		goto out;
	}
	if (res.count_crtcs > KMS_MAX_CRTCS ||
	    res.count_connectors > KMS_MAX_CONNS ||
	    pres.count_planes > KMS_MAX_CRTCS + KMS_MAX_HIDDEN) {
		be_log(d.be, "display: the card has more CRTCs, connectors or "
		       "planes than the virtual display handles");
		r = -E2BIG;
		goto out;
	}
	d.card.ncrtcs = res.count_crtcs;
	memcpy(d.card.crtc, crtcs, res.count_crtcs * sizeof(uint32_t));
	d.card.nconns = res.count_connectors;
	memcpy(d.card.conn, conns, res.count_connectors * sizeof(uint32_t));
	for (uint32_t i = 0; i < pres.count_planes; i++) {
		struct drm_mode_get_plane p = { .plane_id = planes[i] };
		unsigned int c;

		if (ioctl(d.qfd, DRM_IOCTL_MODE_GETPLANE, &p))
			continue;
		c = p.possible_crtcs ? (unsigned int)__builtin_ctz(p.possible_crtcs) : 32;
		if (c < d.card.ncrtcs && !d.card.primary[c] &&
		    is_primary(planes[i]))
			d.card.primary[c] = planes[i];
		else if (d.card.nhidden < KMS_MAX_HIDDEN)
			d.card.hidden[d.card.nhidden++] = planes[i];
	}
	learn_props(KMS_CRTC, d.card.crtc[0], DRM_MODE_OBJECT_CRTC);
	learn_props(KMS_PLANE, d.card.primary[0], DRM_MODE_OBJECT_PLANE);
	learn_props(KMS_CONN, d.card.conn[0], DRM_MODE_OBJECT_CONNECTOR);
	d.card_known = true;
out:
	pthread_mutex_unlock(&d.learn_lock);
	return r;
}

/* Under lock: the guest's state as the atomic rules see it. */
static void snapshot(struct kms_state *s)
{
	memset(s, 0, sizeof(*s));
	for (unsigned int i = 0; i < d.card.ncrtcs; i++) {
		const struct vcrtc *c = crtc_find(d.card.crtc[i]);
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
		for (unsigned int n = 0; n < c->st.nconn; n++)
			for (unsigned int j = 0; j < d.card.nconns; j++)
				if (d.card.conn[j] == c->st.conn[n])
					s->conn_crtc[j] = c->id;
	}
	/* a mode without a framebuffer (ACTIVE 0) keeps its connectors */
	for (unsigned int i = 0; i < d.card.ncrtcs; i++) {
		const struct vcrtc *c = crtc_find(d.card.crtc[i]);

		for (unsigned int n = 0; c && !c->st.fb_id && n < c->st.nconn; n++)
			for (unsigned int j = 0; j < d.card.nconns; j++)
				if (d.card.conn[j] == c->st.conn[n])
					s->conn_crtc[j] = c->id;
	}
}

static int lookup_fb(void *ctx, uint32_t id, uint32_t *w, uint32_t *h)
{
	const struct vfb *fb = fb_find(id);

	(void)ctx;
	if (!fb)
		return -ENOENT;
	*w = fb->width;
	*h = fb->height;
	return 0;
}

/* Under lock: blob id is one this guest made? */
static bool own_blob(uint32_t id)
{
	for (unsigned int i = 0; id && i < MAX_BLOBS; i++)
		if (d.blobs[i].id == id)
			return true;
	return false;
}

static int lookup_mode(void *ctx, uint32_t id, struct drm_mode_modeinfo *m)
{
	struct drm_mode_get_blob b = { .blob_id = id, .length = sizeof(*m),
				       .data = (uintptr_t)m };

	(void)ctx;
	if (!own_blob(id) || ioctl(d.qfd, DRM_IOCTL_MODE_GETPROPBLOB, &b) ||
	    b.length != sizeof(*m))
		return -EINVAL;
	return 0;
}

static const struct kms_lookup lookup = { NULL, lookup_fb, lookup_mode };

/* Under lock: s becomes the guest's state of the CRTCs in crtcs. */
static void write_back(const struct kms_state *s, uint32_t crtcs)
{
	for (unsigned int i = 0; i < d.card.ncrtcs; i++) {
		const struct kms_crtc *k = &s->crtc[i];
		struct vcrtc *c;
		unsigned int n = 0;

		if (!(crtcs & (1u << i)) || !(c = crtc_get(d.card.crtc[i])))
			continue;
		c->st.fb_id = k->enable ? k->fb : 0;
		c->st.x = k->fb ? k->src_x >> 16 : 0;
		c->st.y = k->fb ? k->src_y >> 16 : 0;
		c->st.mode_valid = k->enable;
		memcpy(&c->st.mode, &k->mode, sizeof(c->st.mode));
		memset(c->st.conn, 0, sizeof(c->st.conn));
		for (unsigned int j = 0; j < d.card.nconns; j++)
			if (s->conn_crtc[j] == c->id && n < PD_DISPLAY_MAX_CONN)
				c->st.conn[n++] = d.card.conn[j];
		c->st.nconn = k->enable ? n : 0;
		c->inactive = k->enable && !k->active;
		c->mode_blob = k->mode_blob;
		c->vrr = k->vrr;
	}
}

/* Under lock: a flip waits on one of the CRTCs in crtcs? */
static bool flip_waits(uint32_t crtcs)
{
	for (unsigned int i = 0; i < d.card.ncrtcs; i++) {
		const struct vcrtc *c = crtc_find(d.card.crtc[i]);

		if ((crtcs & (1u << i)) && c && c->flip_pending)
			return true;
	}
	return false;
}

/* Under lock: wait (at most 1 s) until no flip waits on crtcs. */
static int wait_flips(uint32_t crtcs)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_sec += 1;
	while (flip_waits(crtcs))
		if (pthread_cond_timedwait(&d.flipped, &d.lock, &t))
			return -EBUSY;
	return 0;
}

/*
 * Under lock: commit s (already checked) for the CRTCs in crtcs from
 * old; modeset says which need a full SETCRTC at hostd. With an event,
 * each CRTC gets one: a flip's when it completes, a modeset's now. The
 * handles to notify() go to wake (one per CRTC).
 */
static void commit(struct be_handle *h, const struct kms_state *old,
		   const struct kms_state *s, uint32_t crtcs, uint32_t modeset,
		   bool event, uint64_t user_data, uint32_t *wake)
{
	write_back(s, crtcs);
	for (unsigned int i = 0; i < d.card.ncrtcs; i++) {
		const struct kms_crtc *a = &old->crtc[i], *b = &s->crtc[i];
		struct vcrtc *c = crtc_find(d.card.crtc[i]);
		struct pd_disp_flip m;

		wake[i] = 0;
		if (!(crtcs & (1u << i)) || !c)
			continue;
		if ((modeset & (1u << i)) || !b->active ||
		    a->src_x != b->src_x || a->src_y != b->src_y) {
			send_crtc(c);
			if (event)
				wake[i] = queue_event(h->handle, user_data,
						      c->id, now_us(), (uint32_t)
						      vblank_count(now_ns()));
			continue;
		}
		if (a->fb == b->fb && !event)
			continue;	/* nothing to show */
		c->flip_pending = true;
		c->flip_event = event;
		c->flip_handle = h->handle;
		c->flip_user_data = user_data;
		c->flip_cookie = ++d.cookie;
		m = (struct pd_disp_flip){ .cookie = c->flip_cookie,
					   .crtc_id = c->id, .fb_id = b->fb };
		send_msg(PD_DISP_FLIP, &m, sizeof(m));
	}
}

static bool has_atomic(uint32_t handle)
{
	for (unsigned int i = 0; i < MAX_ATOMIC_FILES; i++)
		if (d.atomic_handles[i] == handle)
			return true;
	return false;
}

static int do_atomic(struct be_handle *h, struct drm_mode_atomic *a)
{
	const uint32_t *objs = (const uint32_t *)(uintptr_t)a->objs_ptr;
	const uint32_t *nprops = (const uint32_t *)(uintptr_t)a->count_props_ptr;
	const uint32_t *props = (const uint32_t *)(uintptr_t)a->props_ptr;
	const uint64_t *vals = (const uint64_t *)(uintptr_t)a->prop_values_ptr;
	bool event = a->flags & DRM_MODE_PAGE_FLIP_EVENT;
	uint32_t crtcs, modeset, wake[KMS_MAX_CRTCS] = { 0 };
	struct kms_state old, s;
	int r;

	if ((a->flags & ~(uint32_t)DRM_MODE_ATOMIC_FLAGS) || a->reserved ||
	    (a->flags & DRM_MODE_PAGE_FLIP_ASYNC) ||
	    ((a->flags & DRM_MODE_ATOMIC_TEST_ONLY) && event))
		return -EINVAL;
	r = learn_card(h->fd);
	if (r)
		return r;
	pthread_mutex_lock(&d.lock);
	if (!has_atomic(h->handle)) {
		r = -EINVAL;	/* the cap first, as DRM */
		goto out;
	}
again:
	snapshot(&old);
	s = old;
	crtcs = 0;
	for (uint32_t o = 0, k = 0; o < a->count_objs; o++) {
		unsigned int idx;

		enum kms_kind kind = kms_find(&d.card, objs[o], &idx);

		if (kind == KMS_NONE || kind == KMS_HIDDEN) {
			r = -ENOENT;
			goto out;
		}
		for (uint32_t j = 0; j < nprops[o]; j++, k++) {
			r = kms_set(&d.card, &s, objs[o], props[k], vals[k],
				    &lookup, &crtcs);
			if (r)
				goto out;
		}
	}
	r = kms_check(&d.card, &old, &s, crtcs,
		      a->flags & DRM_MODE_ATOMIC_ALLOW_MODESET, &lookup,
		      &modeset);
	for (unsigned int i = 0; !r && event && i < d.card.ncrtcs; i++)
		if ((crtcs & (1u << i)) && !s.crtc[i].active &&
		    !old.crtc[i].active)
			r = -EINVAL;	/* an event, but the CRTC is off */
	if (r || (a->flags & DRM_MODE_ATOMIC_TEST_ONLY))
		goto out;
	if (flip_waits(crtcs)) {
		if (a->flags & DRM_MODE_ATOMIC_NONBLOCK) {
			r = -EBUSY;
			goto out;
		}
		r = wait_flips(crtcs);
		if (r)
			goto out;
		goto again;	/* the state may have moved meanwhile */
	}
	commit(h, &old, &s, crtcs, modeset, event, a->user_data, wake);
	/* a blocking commit returns when it is done (a flip completing
	 * later than 1 s is not an error of this commit) */
	if (!(a->flags & DRM_MODE_ATOMIC_NONBLOCK))
		(void)wait_flips(crtcs);
out:
	pthread_mutex_unlock(&d.lock);
	for (unsigned int i = 0; i < KMS_MAX_CRTCS; i++)
		notify(wake[i]);
	return r;
}

/* OBJ_SETPROPERTY: a blocking commit of one property (DPMS: the legacy
 * way, drm_atomic_connector_commit_dpms()). */
static int do_obj_setproperty(struct be_handle *h,
			      struct drm_mode_obj_set_property *p)
{
	uint32_t crtcs = 0, modeset, wake[KMS_MAX_CRTCS] = { 0 };
	const struct kms_prop_id *k;
	struct kms_state old, s;
	enum kms_kind kind;
	unsigned int idx;
	int r = learn_card(h->fd);

	if (r)
		return r;
	pthread_mutex_lock(&d.lock);
	kind = kms_find(&d.card, p->obj_id, &idx);
	if (kind == KMS_NONE || kind == KMS_HIDDEN ||
	    (p->obj_type && p->obj_type != obj_type[kind])) {
		r = -ENOENT;
		goto out;
	}
	k = kms_prop(&d.card, kind, p->prop_id);
	if (!k || k->hidden) {
		r = -EINVAL;
		goto out;
	}
	if (kind == KMS_CONN && k->kp == KP_DPMS) {
		pthread_mutex_unlock(&d.lock);
		return be_display_dpms_set(p->obj_id, p->value);
	}
	r = wait_flips(~0u);
	if (r)
		goto out;
	snapshot(&old);
	s = old;
	r = kms_set(&d.card, &s, p->obj_id, p->prop_id, p->value, &lookup,
		    &crtcs);
	if (!r)
		r = kms_check(&d.card, &old, &s, crtcs, true, &lookup, &modeset);
	if (!r)
		commit(h, &old, &s, crtcs, modeset, false, 0, wake);
out:
	pthread_mutex_unlock(&d.lock);
	return r;
}

/* Under lock: a mode blob of the guest's for c's mode, made on h's file
 * (the guest set the mode with SETCRTC; it reads MODE_ID back). */
static uint32_t mode_blob(struct be_handle *h, struct vcrtc *c)
{
	struct drm_mode_create_blob b = { .data = (uintptr_t)&c->st.mode,
					  .length = sizeof(c->st.mode) };
	unsigned int i;

	if (c->mode_blob || !c->st.mode_valid)
		return c->mode_blob;
	for (i = 0; i < MAX_BLOBS && d.blobs[i].id; i++)
		;
	if (i == MAX_BLOBS || ioctl(h->fd, DRM_IOCTL_MODE_CREATEPROPBLOB, &b))
		return 0;
	d.blobs[i].id = b.blob_id;
	d.blobs[i].handle = h->handle;
	c->mode_blob = b.blob_id;
	return c->mode_blob;
}

/*
 * OBJ_GETPROPERTIES of a CRTC, primary plane or connector: the card's
 * list for this file (it has the atomic cap or not), without the hidden
 * properties, with the guest's own values for what it sets. Other
 * objects: the card's answer (false).
 */
static bool do_obj_getproperties(struct be_handle *h,
				 struct drm_mode_obj_get_properties *g, int *ret)
{
	uint32_t ids[KMS_MAX_PROPS], n = 0, out = 0;
	uint64_t vals[KMS_MAX_PROPS];
	uint32_t *gids = (uint32_t *)(uintptr_t)g->props_ptr;
	uint64_t *gvals = (uint64_t *)(uintptr_t)g->prop_values_ptr;
	struct kms_state s;
	enum kms_kind kind;
	unsigned int idx;
	int r = learn_card(h->fd);

	if (r) {
		*ret = r;
		return true;
	}
	kind = kms_find(&d.card, g->obj_id, &idx);
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
	pthread_mutex_lock(&d.lock);
	snapshot(&s);
	for (uint32_t i = 0; i < n; i++) {
		const struct kms_prop_id *k = kms_prop(&d.card, kind, ids[i]);

		if (k && k->hidden)
			continue;
		if (k && k->kp != KP_OTHER) {
			if (kind == KMS_CRTC && k->kp == KP_MODE_ID) {
				struct vcrtc *c = crtc_find(g->obj_id);

				vals[i] = c ? mode_blob(h, c) : 0;
			} else if (k->kp == KP_DPMS) {
				vals[i] = DRM_MODE_DPMS_ON;
				for (unsigned int j = 0; j < d.ndpms; j++)
					if (d.dpms[j].conn_id == g->obj_id)
						vals[i] = d.dpms[j].mode;
			} else {
				kms_get(&d.card, &s, g->obj_id, k, &vals[i]);
			}
		}
		if (out < g->count_props && gids && gvals) {
			gids[out] = ids[i];
			gvals[out] = vals[i];
		}
		out++;
	}
	pthread_mutex_unlock(&d.lock);
	g->count_props = out;
	*ret = 0;
	return true;
}

/* GETPLANERESOURCES: the card's list without the hidden planes. */
static int do_getplaneres(struct be_handle *h, struct drm_mode_get_plane_res *g)
{
	uint32_t ids[KMS_MAX_CRTCS + KMS_MAX_HIDDEN], out = 0;
	uint32_t *gids = (uint32_t *)(uintptr_t)g->plane_id_ptr;
	struct drm_mode_get_plane_res r = {
		.plane_id_ptr = (uintptr_t)ids,
		.count_planes = KMS_MAX_CRTCS + KMS_MAX_HIDDEN };
	unsigned int idx;
	int e = learn_card(h->fd);

	if (e)
		return e;
	if (ioctl(h->fd, DRM_IOCTL_MODE_GETPLANERESOURCES, &r))
		return -errno;
	for (uint32_t i = 0; i < r.count_planes &&
	     i < KMS_MAX_CRTCS + KMS_MAX_HIDDEN; i++) {
		if (kms_find(&d.card, ids[i], &idx) != KMS_PLANE)
			continue;
		if (out < g->count_planes && gids)
			gids[out] = ids[i];
		out++;
	}
	g->count_planes = out;
	return 0;
}

/* GETPLANE: a primary plane shows the guest's CRTC and framebuffer. */
static int do_getplane(struct be_handle *h, struct drm_mode_get_plane *p)
{
	unsigned int idx;
	int r = learn_card(h->fd);

	if (r)
		return r;
	if (kms_find(&d.card, p->plane_id, &idx) != KMS_PLANE)
		return -ENOENT;
	if (ioctl(h->fd, DRM_IOCTL_MODE_GETPLANE, p))
		return -errno;
	pthread_mutex_lock(&d.lock);
	{
		const struct vcrtc *c = crtc_find(d.card.crtc[idx]);

		p->crtc_id = c && c->st.fb_id ? c->id : 0;
		p->fb_id = c ? c->st.fb_id : 0;
	}
	pthread_mutex_unlock(&d.lock);
	return 0;
}

/* CREATEPROPBLOB: the blob is this guest's (MODE_ID may name it). */
static int do_createblob(struct be_handle *h, struct drm_mode_create_blob *b)
{
	unsigned int i;
	int r = 0;

	if (ioctl(h->fd, DRM_IOCTL_MODE_CREATEPROPBLOB, b))
		return -errno;
	pthread_mutex_lock(&d.lock);
	for (i = 0; i < MAX_BLOBS && d.blobs[i].id; i++)
		;
	if (i < MAX_BLOBS) {
		d.blobs[i].id = b->blob_id;
		d.blobs[i].handle = h->handle;
	} else {
		r = -ENOSPC;
	}
	pthread_mutex_unlock(&d.lock);
	if (r) {
		ioctl(h->fd, DRM_IOCTL_MODE_DESTROYPROPBLOB,
		      &(struct drm_mode_destroy_blob){ b->blob_id });
		be_log(d.be, "display: more than %d property blobs", MAX_BLOBS);
	}
	return r;
}

/* DESTROYPROPBLOB: only the guest's own (the kernel checks the file). */
static int do_destroyblob(struct be_handle *h, struct drm_mode_destroy_blob *b)
{
	int r = -EPERM;

	pthread_mutex_lock(&d.lock);
	for (unsigned int i = 0; i < MAX_BLOBS; i++)
		if (b->blob_id && d.blobs[i].id == b->blob_id &&
		    d.blobs[i].handle == h->handle) {
			r = ioctl(h->fd, DRM_IOCTL_MODE_DESTROYPROPBLOB, b) ?
				-errno : 0;
			if (!r)
				d.blobs[i].id = 0;
		}
	pthread_mutex_unlock(&d.lock);
	return r;
}

/* Is blob the card's value of a property a guest sees (EDID, IN_FORMATS,
 * TILE...), not one of another guest's (a MODE_ID is virtual)? */
static bool card_blob(uint32_t blob)
{

	for (unsigned int kind = KMS_CRTC; kind <= KMS_CONN; kind++) {
		const uint32_t *objs = kind == KMS_CRTC ? d.card.crtc :
				       kind == KMS_PLANE ? d.card.primary :
				       d.card.conn;
		unsigned int n = kind == KMS_CONN ? d.card.nconns :
						    d.card.ncrtcs;

		for (unsigned int o = 0; o < n; o++) {
			uint32_t ids[KMS_MAX_PROPS], np = 0;
			uint64_t vals[KMS_MAX_PROPS];

			if (!objs[o] || obj_props(d.qfd, objs[o], obj_type[kind],
						  ids, vals, KMS_MAX_PROPS, &np))
				continue;
			for (uint32_t i = 0; i < np; i++) {
				const struct kms_prop_id *k =
					kms_prop(&d.card, (enum kms_kind)kind,
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
static int do_getblob(struct be_handle *h, struct drm_mode_get_blob *b)
{
	bool ok;
	int r = learn_card(h->fd);

	if (r)
		return r;
	pthread_mutex_lock(&d.lock);
	ok = own_blob(b->blob_id);
	pthread_mutex_unlock(&d.lock);
	if (!ok && !card_blob(b->blob_id))
		return -ENOENT;	/* as for no such blob */
	return ioctl(h->fd, DRM_IOCTL_MODE_GETPROPBLOB, b) ? -errno : 0;
}

/* SET_CLIENT_CAP: on the guest's file; the atomic cap is remembered. */
static int do_client_cap(struct be_handle *h, struct drm_set_client_cap *c)
{
	if (ioctl(h->fd, DRM_IOCTL_SET_CLIENT_CAP, c))
		return -errno;
	if (c->capability != DRM_CLIENT_CAP_ATOMIC)
		return 0;
	pthread_mutex_lock(&d.lock);
	for (unsigned int i = 0; i < MAX_ATOMIC_FILES; i++) {
		if (c->value && !d.atomic_handles[i] && !has_atomic(h->handle))
			d.atomic_handles[i] = h->handle;
		else if (!c->value && d.atomic_handles[i] == h->handle)
			d.atomic_handles[i] = 0;
	}
	pthread_mutex_unlock(&d.lock);
	return 0;
}

void be_display_opened(const struct be_handle *h)
{
	if (d.on && h->dev_class == PD_WIRE_CLASS_DRM)
		not_master(h->fd);
}

bool be_display_screens(const struct be_handle *h)
{
	return d.on && h->dev_class == PD_WIRE_CLASS_DRM;
}

/*
 * SETGAMMA: kept per CRTC (GETGAMMA reads it back) and sent to hostd,
 * which sets it on the card while the guest is in front. Errors as 6.1's
 * drm_mode_gamma_set_ioctl(): a CRTC without legacy gamma (gamma_size 0:
 * bochs, virtio-gpu) gets ENOSYS, a wrong size EINVAL. A card with more
 * than PD_DISPLAY_MAX_GAMMA entries also gets ENOSYS (none known).
 */
static int do_setgamma(struct be_handle *h, struct drm_mode_crtc_lut *l)
{
	struct drm_mode_crtc real;
	struct vcrtc *c;
	size_t n;
	int r = real_crtc(h->fd, l->crtc_id, &real);

	if (r)
		return r;
	if (!real.gamma_size || real.gamma_size > PD_DISPLAY_MAX_GAMMA)
		return -ENOSYS;
	if (l->gamma_size != real.gamma_size)
		return -EINVAL;
	n = l->gamma_size * sizeof(uint16_t);
	pthread_mutex_lock(&d.lock);
	c = crtc_get(l->crtc_id);
	if (!c) {
		pthread_mutex_unlock(&d.lock);
		return -ENOSPC;
	}
	memset(&c->gamma, 0, sizeof(c->gamma));
	c->gamma.crtc_id = l->crtc_id;
	c->gamma.size = l->gamma_size;
	memcpy(c->gamma.red, (const void *)(uintptr_t)l->red, n);
	memcpy(c->gamma.green, (const void *)(uintptr_t)l->green, n);
	memcpy(c->gamma.blue, (const void *)(uintptr_t)l->blue, n);
	c->gamma_set = true;
	send_msg(PD_DISP_GAMMA, &c->gamma, sizeof(c->gamma));
	pthread_mutex_unlock(&d.lock);
	return 0;
}

/* GETGAMMA: the guest's own table; never set: the kernel's initial ramp
 * (drm_mode_crtc_set_gamma_size(): entry i is i << 8, in 16 bits). */
static int do_getgamma(struct be_handle *h, struct drm_mode_crtc_lut *l)
{
	struct drm_mode_crtc real;
	uint16_t *rgb[3] = { (uint16_t *)(uintptr_t)l->red,
			     (uint16_t *)(uintptr_t)l->green,
			     (uint16_t *)(uintptr_t)l->blue };
	const struct vcrtc *c = NULL;
	int r = real_crtc(h->fd, l->crtc_id, &real);

	if (r)
		return r;
	if (l->gamma_size != real.gamma_size)
		return -EINVAL;
	pthread_mutex_lock(&d.lock);
	for (unsigned int i = 0; i < PD_DISPLAY_MAX_CRTCS; i++)
		if (d.crtcs[i].id == l->crtc_id && d.crtcs[i].gamma_set &&
		    d.crtcs[i].gamma.size == l->gamma_size)
			c = &d.crtcs[i];
	for (uint32_t i = 0; i < l->gamma_size; i++) {
		rgb[0][i] = c ? c->gamma.red[i] : (uint16_t)(i << 8);
		rgb[1][i] = c ? c->gamma.green[i] : (uint16_t)(i << 8);
		rgb[2][i] = c ? c->gamma.blue[i] : (uint16_t)(i << 8);
	}
	pthread_mutex_unlock(&d.lock);
	return 0;
}

/*
 * The guest's DPMS of a connector: kept here, sent to hostd (which sets
 * the real connector's while the guest is in front, blanking the screen
 * when it is off). Values as the atomic helpers keep them
 * (drm_atomic_connector_commit_dpms(): anything but ON is OFF); above 3,
 * not a value of the enum: EINVAL. The caller has checked that conn_id is
 * a connector of the card.
 */
int be_display_dpms_set(uint32_t conn_id, uint64_t v)
{
	struct pd_disp_dpms *e = NULL;

	if (v > PD_DISP_DPMS_OFF)
		return -EINVAL;
	pthread_mutex_lock(&d.lock);
	for (unsigned int i = 0; i < d.ndpms && !e; i++)
		if (d.dpms[i].conn_id == conn_id)
			e = &d.dpms[i];
	if (!e && d.ndpms < PD_DISPLAY_MAX_DPMS)
		e = &d.dpms[d.ndpms++];
	if (!e) {
		pthread_mutex_unlock(&d.lock);
		return -ENOSPC;
	}
	*e = (struct pd_disp_dpms){
		.conn_id = conn_id,
		.mode = v == DRM_MODE_DPMS_ON ? PD_DISP_DPMS_ON : PD_DISP_DPMS_OFF,
	};
	send_msg(PD_DISP_DPMS, e, sizeof(*e));
	pthread_mutex_unlock(&d.lock);
	return 0;
}

int be_display_dpms_get(uint32_t conn_id, uint64_t *v)
{
	*v = DRM_MODE_DPMS_ON;
	pthread_mutex_lock(&d.lock);
	for (unsigned int i = 0; i < d.ndpms; i++)
		if (d.dpms[i].conn_id == conn_id)
			*v = d.dpms[i].mode;
	pthread_mutex_unlock(&d.lock);
	return 0;
}

/*
 * DIRTYFB of one of the guest's framebuffers: checked as 6.1's
 * drm_mode_dirtyfb_ioctl() does, and sent to hostd when the fb is on one
 * of the guest's CRTCs (hostd passes it to the card if the guest is in
 * front: what a virtio-gpu shadow framebuffer needs to reach the screen).
 * The guest gets what the card answers (PD_DISPLAY_DIRTYFB_ENV, probed by
 * hostd: DIRTYFB is master-only, we cannot ask): ENOSYS on bochs, which
 * has no dirty hook (Xorg's modesetting driver then stops sending
 * damage), 0 on virtio-gpu; then nothing goes to hostd.
 */
static int do_dirtyfb(struct drm_mode_fb_dirty_cmd *c)
{
	const struct drm_clip_rect *clips =
		(const struct drm_clip_rect *)(uintptr_t)c->clips_ptr;
	struct pd_disp_dirty m = { .fb_id = c->fb_id, .color = c->color };
	uint32_t flags = c->flags & DRM_MODE_FB_DIRTY_FLAGS;
	bool shown = false;

	if (!c->fb_id || check_fb(c->fb_id))
		return -ENOENT;
	if (!c->num_clips != !clips)
		return -EINVAL;
	if ((flags & DRM_MODE_FB_DIRTY_ANNOTATE_COPY) && (c->num_clips % 2))
		return -EINVAL;
	if (c->num_clips > DRM_MODE_FB_DIRTY_MAX_CLIPS)
		return -EINVAL;
	if (d.dirtyfb)
		return d.dirtyfb;
	if (c->num_clips <= PD_DISPLAY_MAX_CLIPS) {
		m.flags = flags;
		m.nclips = c->num_clips;
		memcpy(m.clips, clips, c->num_clips * sizeof(m.clips[0]));
	}	/* else the whole fb, no annotation */
	pthread_mutex_lock(&d.lock);
	for (unsigned int i = 0; i < PD_DISPLAY_MAX_CRTCS; i++)
		if (d.crtcs[i].id && d.crtcs[i].st.mode_valid &&
		    d.crtcs[i].st.fb_id == c->fb_id)
			shown = true;
	if (shown)
		send_msg(PD_DISP_DIRTY, &m, sizeof(m));
	pthread_mutex_unlock(&d.lock);
	return 0;
}

/* Under lock: the CRTC of pipe index `pipe` (WAIT_VBLANK's high-crtc
 * bits), in the card's order; 0: none. */
static uint32_t pipe_crtc(int fd, unsigned int pipe)
{
	if (!d.ncard_crtcs) {
		struct drm_mode_card_res res = { 0 };

		if (ioctl(fd, DRM_IOCTL_MODE_GETRESOURCES, &res) == 0) {
			res.count_crtcs = res.count_crtcs > PD_DISPLAY_MAX_CRTCS ?
					  PD_DISPLAY_MAX_CRTCS : res.count_crtcs;
			res.crtc_id_ptr = (uintptr_t)d.card_crtcs;
			res.count_fbs = res.count_connectors = 0;
			res.count_encoders = 0;
			if (ioctl(fd, DRM_IOCTL_MODE_GETRESOURCES, &res) == 0)
				d.ncard_crtcs = res.count_crtcs;
		}
	}
	return pipe < d.ncard_crtcs ? d.card_crtcs[pipe] : 0;
}

/* Under lock: is the guest's CRTC on (a mode set)? Its vblanks count then,
 * also while its DPMS is off (pd_display.h: its flips complete too). */
static bool crtc_on(uint32_t crtc_id)
{
	for (unsigned int i = 0; i < PD_DISPLAY_MAX_CRTCS; i++)
		if (crtc_id && d.crtcs[i].id == crtc_id)
			return d.crtcs[i].st.mode_valid;
	return false;
}

/* Under lock: queue a vblank event for vblank seq (in the past: now). */
static int queue_wait(uint32_t handle, uint64_t seq, const union vev *ev)
{
	if (d.nwaits >= MAX_WAITS)
		return -ENOMEM;	/* as a full event space */
	d.waits[d.nwaits++] = (struct vwait){ handle, seq, *ev };
	pthread_cond_signal(&d.waits_changed);
	return 0;
}

/* Sleep until CLOCK_MONOTONIC t_ns; -EINTR when the request is cancelled
 * (the worker gets a signal). */
static int sleep_until(uint64_t t_ns)
{
	struct timespec ts = { .tv_sec = (time_t)(t_ns / 1000000000u),
			       .tv_nsec = (long)(t_ns % 1000000000u) };
	int r;

	while ((r = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL)))
		if (r == EINTR)
			return -EINTR;
	return 0;
}

/*
 * WAIT_VBLANK, answered from the guest's virtual timeline (60 Hz, the
 * same count as its flip events' sequence), as 6.1's
 * drm_wait_vblank_ioctl() answers: the pipe from the high-crtc bits or
 * SECONDARY, in the card's CRTC order; a pipe past the card's CRTCs or a
 * CRTC the guest has not set a mode on: EINVAL (its vblank is off);
 * RELATIVE or ABSOLUTE (32 bits, widened), NEXTONMISS, EVENT (queued with
 * flip events, into the same read()); a blocking wait ends at the vblank
 * or after 3 s with EBUSY. The real card's vblanks (bochs has none:
 * EOPNOTSUPP) are never asked.
 */
static int do_wait_vblank(struct be_handle *h, union drm_wait_vblank *w)
{
	const uint32_t flags_mask = _DRM_VBLANK_EVENT | _DRM_VBLANK_SIGNAL |
				    _DRM_VBLANK_SECONDARY | _DRM_VBLANK_NEXTONMISS;
	uint32_t type = w->request.type, flags = type & flags_mask;
	uint32_t high = type & _DRM_VBLANK_HIGH_CRTC_MASK, crtc_id;
	unsigned int pipe;
	uint64_t seq, req, t;
	int r = 0;

	if (type & _DRM_VBLANK_SIGNAL)
		return -EINVAL;
	if (type & ~(_DRM_VBLANK_TYPES_MASK | flags_mask |
		     _DRM_VBLANK_HIGH_CRTC_MASK))
		return -EINVAL;
	pipe = high ? high >> _DRM_VBLANK_HIGH_CRTC_SHIFT :
	       (flags & _DRM_VBLANK_SECONDARY ? 1 : 0);
	pthread_mutex_lock(&d.lock);
	crtc_id = pipe_crtc(h->fd, pipe);
	if (!crtc_id || !crtc_on(crtc_id)) {
		r = -EINVAL;
		goto out;
	}
	seq = vblank_count(now_ns());
	if (type & _DRM_VBLANK_RELATIVE) {
		req = seq + w->request.sequence;
		w->request.sequence = (uint32_t)req;
		w->request.type &= ~(uint32_t)_DRM_VBLANK_RELATIVE;
	} else {	/* widen_32_to_64() */
		req = seq + (int32_t)(w->request.sequence - (uint32_t)seq);
	}
	if ((flags & _DRM_VBLANK_NEXTONMISS) && (int64_t)(seq - req) >= 0) {
		req = seq + 1;
		w->request.type &= ~(uint32_t)_DRM_VBLANK_NEXTONMISS;
		w->request.sequence = (uint32_t)req;
	}
	if (flags & _DRM_VBLANK_EVENT) {
		union vev ev = { .vbl = {
			.base = { .type = DRM_EVENT_VBLANK,
				  .length = sizeof(ev.vbl) },
			.user_data = w->request.signal,
			.crtc_id = crtc_id,
		} };

		r = queue_wait(h->handle, req, &ev);
		if (!r)
			w->reply.sequence = (uint32_t)((int64_t)(seq - req) >= 0 ?
						       seq : req);
		goto out;
	}
	pthread_mutex_unlock(&d.lock);
	t = vblank_time(req);
	if ((int64_t)(seq - req) < 0) {
		uint64_t limit = now_ns() + VBLANK_WAIT_NS;

		r = sleep_until(t < limit ? t : limit);
		if (!r && t >= limit)
			r = -EBUSY;
	}
	if (r != -EINTR) {
		seq = vblank_count(now_ns());
		t = vblank_time(seq);
		w->reply.sequence = (uint32_t)seq;
		w->reply.tval_sec = (long)(t / 1000000000u);
		w->reply.tval_usec = (long)(t % 1000000000u / 1000u);
	}
	return r;
out:
	pthread_mutex_unlock(&d.lock);
	return r;
}

/* CRTC_GET_SEQUENCE and CRTC_QUEUE_SEQUENCE, from the same timeline, as
 * 6.1's drm_crtc_get_sequence_ioctl() and drm_crtc_queue_sequence_ioctl():
 * not a CRTC: ENOENT; no mode set by the guest: EINVAL. */
static int do_crtc_sequence(struct be_handle *h, unsigned int cmd, void *arg)
{
	struct drm_mode_crtc real;
	uint32_t crtc_id = *(uint32_t *)arg;	/* first field of both */
	uint64_t seq, req;
	int r = real_crtc(h->fd, crtc_id, &real);

	if (r)
		return r;
	if (cmd == DRM_IOCTL_CRTC_QUEUE_SEQUENCE &&
	    (((struct drm_crtc_queue_sequence *)arg)->flags &
	     ~(uint32_t)(DRM_CRTC_SEQUENCE_RELATIVE |
			 DRM_CRTC_SEQUENCE_NEXT_ON_MISS)))
		return -EINVAL;
	pthread_mutex_lock(&d.lock);
	if (!crtc_on(crtc_id)) {
		r = -EINVAL;
		goto out;
	}
	seq = vblank_count(now_ns());
	if (cmd == DRM_IOCTL_CRTC_GET_SEQUENCE) {
		struct drm_crtc_get_sequence *g = arg;

		g->active = 1;
		g->sequence = seq;
		g->sequence_ns = (int64_t)vblank_time(seq);
	} else {
		struct drm_crtc_queue_sequence *q = arg;
		union vev ev = { .seq = {
			.base = { .type = DRM_EVENT_CRTC_SEQUENCE,
				  .length = sizeof(ev.seq) },
			.user_data = q->user_data,
		} };

		req = q->sequence;
		if (q->flags & DRM_CRTC_SEQUENCE_RELATIVE)
			req += seq;
		if ((q->flags & DRM_CRTC_SEQUENCE_NEXT_ON_MISS) &&
		    (int64_t)(seq - req) >= 0)
			req = seq + 1;
		r = queue_wait(h->handle, req, &ev);
		if (!r)
			q->sequence = (int64_t)(seq - req) >= 0 ? seq : req;
	}
out:
	pthread_mutex_unlock(&d.lock);
	return r;
}

/*
 * A display ioctl of the guest on h, its argument already rebuilt in our
 * memory by decode.c. Returns true if it was answered here (*ret as from
 * ioctl(2), errno set on -1); false: run it on the real file.
 */
bool be_display_ioctl(struct be *be, struct be_handle *h, unsigned int cmd,
		      void *arg, int *ret)
{
	int r;

	(void)be;
	if (!d.on || h->dev_class != PD_WIRE_CLASS_DRM)
		return false;
	switch (cmd) {
	case DRM_IOCTL_MODE_ADDFB:
	case DRM_IOCTL_MODE_ADDFB2:
		r = do_addfb(h, cmd, arg);
		break;
	case DRM_IOCTL_MODE_RMFB:
		r = do_rmfb(h, arg);
		break;
	case DRM_IOCTL_MODE_SETCRTC:
		r = do_setcrtc(h, arg);
		break;
	case DRM_IOCTL_MODE_GETCRTC:
		r = do_getcrtc(h, arg);
		break;
	case DRM_IOCTL_MODE_PAGE_FLIP:
		r = do_page_flip(h, arg);
		break;
	case DRM_IOCTL_MODE_SETPLANE: {
		struct drm_mode_set_plane *p = arg;
		unsigned int idx;

		/* the primary plane: SETCRTC, PAGE_FLIP and atomic drive
		 * it; legacy SETPLANE may only turn it off (first cut) */
		r = learn_card(h->fd);
		if (!r && kms_find(&d.card, p->plane_id, &idx) != KMS_PLANE)
			r = -ENOENT;
		if (!r)
			r = check_fb(p->fb_id);
		if (!r && p->fb_id)
			r = -EINVAL;
		break;
	}
	case DRM_IOCTL_MODE_GETPLANE:
		r = do_getplane(h, arg);
		break;
	case DRM_IOCTL_MODE_GETPLANERESOURCES:
		r = do_getplaneres(h, arg);
		break;
	case DRM_IOCTL_MODE_OBJ_GETPROPERTIES:
		if (!do_obj_getproperties(h, arg, &r))
			return false;	/* not a CRTC, plane or connector */
		break;
	case DRM_IOCTL_MODE_OBJ_SETPROPERTY:
		r = do_obj_setproperty(h, arg);
		break;
	case DRM_IOCTL_MODE_ATOMIC:
		r = do_atomic(h, arg);
		break;
	case DRM_IOCTL_MODE_CREATEPROPBLOB:
		r = do_createblob(h, arg);
		break;
	case DRM_IOCTL_MODE_DESTROYPROPBLOB:
		r = do_destroyblob(h, arg);
		break;
	case DRM_IOCTL_MODE_GETPROPBLOB:
		r = do_getblob(h, arg);
		break;
	case DRM_IOCTL_MODE_DIRTYFB:
		r = do_dirtyfb(arg);
		break;
	case DRM_IOCTL_MODE_CURSOR:
	case DRM_IOCTL_MODE_CURSOR2: {
		struct drm_mode_cursor *c = arg;
		struct drm_mode_crtc real;

		/* bochs has no cursor plane: what the real driver answers */
		r = real_crtc(h->fd, c->crtc_id, &real);
		if (!r)
			r = -ENXIO;
		break;
	}
	case DRM_IOCTL_MODE_SETGAMMA:
		r = do_setgamma(h, arg);
		break;
	case DRM_IOCTL_MODE_GETGAMMA:
		r = do_getgamma(h, arg);
		break;
	case DRM_IOCTL_WAIT_VBLANK:
		r = do_wait_vblank(h, arg);
		break;
	case DRM_IOCTL_CRTC_GET_SEQUENCE:
	case DRM_IOCTL_CRTC_QUEUE_SEQUENCE:
		r = do_crtc_sequence(h, cmd, arg);
		break;
	case DRM_IOCTL_MODE_SETPROPERTY:
		r = do_setproperty(h, arg);
		break;
	case DRM_IOCTL_MODE_GETCONNECTOR:
		r = do_getconnector(h, arg);
		break;
	case DRM_IOCTL_SET_CLIENT_CAP:
		r = do_client_cap(h, arg);
		break;
	default:
		return false;	/* reads of the real card: resources etc. */
	}
	*ret = r < 0 ? -1 : r;
	errno = r < 0 ? -r : 0;
	return true;
}

/* Under lock: does handle have an event queued? */
static bool has_event(uint32_t handle)
{
	for (unsigned int i = 0; i < d.nevents; i++)
		if (d.events[i].handle == handle)
			return true;
	return false;
}

/* Under lock: move up to count bytes of whole events of handle to buf. */
static ssize_t take_events(uint32_t handle, uint8_t *buf, size_t count)
{
	size_t n = 0;
	unsigned int i = 0, kept = 0;

	for (i = 0; i < d.nevents; i++) {
		struct vevent *e = &d.events[i];

		if (e->handle == handle && n + e->ev.base.length <= count) {
			memcpy(buf + n, &e->ev, e->ev.base.length);
			n += e->ev.base.length;
		} else {
			d.events[kept++] = *e;
		}
	}
	d.nevents = kept;
	return (ssize_t)n;
}

/*
 * read() of a DRM file: the events made here first (flips, vblanks), then
 * the real file's (none the guest asked for through us; e.g. of a
 * driver-private ioctl). A blocking read waits for either. Returns true
 * if it answered (*n as from read(2)); false: read the real file.
 */
bool be_display_read(struct be *be, struct be_handle *h, void *buf,
		     size_t count, bool nonblock, ssize_t *n)
{
	(void)be;
	if (!d.on || h->dev_class != PD_WIRE_CLASS_DRM)
		return false;
	for (;;) {
		struct pollfd p[2] = {
			{ .fd = h->fd, .events = POLLIN },
			{ .fd = d.wake, .events = POLLIN },
		};
		uint64_t v;

		pthread_mutex_lock(&d.lock);
		*n = has_event(h->handle) ? take_events(h->handle, buf, count) : -1;
		pthread_mutex_unlock(&d.lock);
		if (*n > 0)
			return true;
		if (*n == 0) {
			errno = EINVAL;	/* as DRM: buffer too small */
			*n = -1;
			return true;
		}
		if (poll(p, 1, 0) > 0)
			return false;
		if (nonblock) {
			errno = EAGAIN;
			return true;
		}
		/* woken by a queued event, the real file, or a cancel */
		if (poll(p, 2, 100) < 0 && errno == EINTR)
			return true;
		if (p[1].revents && read(d.wake, &v, sizeof(v)) < 0)
			continue;
	}
}

/* poll() of a DRM file: POLLIN while one of our events waits for it. */
uint32_t be_display_poll(struct be *be, struct be_handle *h)
{
	uint32_t r;

	(void)be;
	if (!d.on || h->dev_class != PD_WIRE_CLASS_DRM)
		return 0;
	pthread_mutex_lock(&d.lock);
	r = has_event(h->handle) ? POLLIN | POLLRDNORM : 0;
	pthread_mutex_unlock(&d.lock);
	return r;
}

/* The guest's last close of handle: its framebuffers go with the real
 * file; take them off the screen first, and drop its events. */
void be_display_release(struct be *be, uint32_t handle)
{
	unsigned int kept = 0;

	(void)be;
	if (!d.on)
		return;
	pthread_mutex_lock(&d.lock);
	for (unsigned int i = 0; i < MAX_FBS; i++)
		if (d.fbs[i].id && d.fbs[i].handle == handle) {
			fb_unshow(d.fbs[i].id);
			d.fbs[i].id = 0;
		}
	for (unsigned int i = 0; i < d.nevents; i++)
		if (d.events[i].handle != handle)
			d.events[kept++] = d.events[i];
	d.nevents = kept;
	kept = 0;
	for (unsigned int i = 0; i < d.nwaits; i++)
		if (d.waits[i].handle != handle)
			d.waits[kept++] = d.waits[i];
	d.nwaits = kept;
	for (unsigned int i = 0; i < PD_DISPLAY_MAX_CRTCS; i++)
		if (d.crtcs[i].flip_handle == handle)
			d.crtcs[i].flip_event = false;
	/* its blobs go with the real file too */
	for (unsigned int i = 0; i < MAX_BLOBS; i++) {
		if (!d.blobs[i].id || d.blobs[i].handle != handle)
			continue;
		for (unsigned int j = 0; j < PD_DISPLAY_MAX_CRTCS; j++)
			if (d.crtcs[j].mode_blob == d.blobs[i].id)
				d.crtcs[j].mode_blob = 0;
		d.blobs[i].id = 0;
	}
	for (unsigned int i = 0; i < MAX_ATOMIC_FILES; i++)
		if (d.atomic_handles[i] == handle)
			d.atomic_handles[i] = 0;
	pthread_mutex_unlock(&d.lock);
}

/* where a new hostd listens (tests: be_display_set_socket()) */
static const char *socket_path = PD_DISPLAY_SOCKET;

void be_display_set_socket(const char *path)
{
	socket_path = path;
}

/* Under lock: c's flip is done at time_us; queues the guest's event,
 * with the vblank count of the guest's timeline at that time (as
 * WAIT_VBLANK counts; hostd's sequence is another display's). Returns the
 * handle to wake (notify()), 0 for none. */
static uint32_t complete_flip(struct vcrtc *c, uint64_t time_us)
{
	c->flip_pending = false;
	pthread_cond_broadcast(&d.flipped);
	if (!c->flip_event)
		return 0;
	return queue_event(c->flip_handle, c->flip_user_data, c->id, time_us,
			   (uint32_t)vblank_count(time_us * 1000u));
}

/* Under lock: a DRM_EVENT_FLIP_COMPLETE for handle's read(). Returns the
 * handle to wake (notify()), 0 if the queue is full (dropped). */
static uint32_t queue_event(uint32_t handle, uint64_t user_data,
			    uint32_t crtc_id, uint64_t time_us,
			    uint32_t sequence)
{
	struct vevent *e;

	if (d.nevents >= MAX_EVENTS)
		return 0;
	e = &d.events[d.nevents++];
	e->handle = handle;
	e->ev.vbl = (struct drm_event_vblank){
		.base = { .type = DRM_EVENT_FLIP_COMPLETE,
			  .length = sizeof(e->ev.vbl) },
		.user_data = user_data,
		.tv_sec = (uint32_t)(time_us / 1000000u),
		.tv_usec = (uint32_t)(time_us % 1000000u),
		.sequence = sequence,
		.crtc_id = crtc_id,
	};
	return handle;
}

static void notify(uint32_t handle);

/*
 * The guest's vblank events (WAIT_VBLANK with EVENT, QUEUE_SEQUENCE): at
 * each asked-for vblank of the virtual timeline, move them to the event
 * queue (count and time of the vblank that passed) and wake their files.
 * Sleeps while none waits.
 */
static void *vblank_thread(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&d.lock);
	for (;;) {
		uint32_t wake[MAX_WAITS];
		unsigned int nwake = 0, kept = 0;
		uint64_t seq = vblank_count(now_ns()), next = UINT64_MAX;

		for (unsigned int i = 0; i < d.nwaits; i++) {
			struct vwait *w = &d.waits[i];
			struct vevent *e;
			uint64_t t = vblank_time(seq);

			if ((int64_t)(seq - w->sequence) < 0) {
				if (w->sequence < next)
					next = w->sequence;
				d.waits[kept++] = *w;
				continue;
			}
			if (d.nevents >= MAX_EVENTS)
				continue;	/* dropped, as a full queue */
			e = &d.events[d.nevents++];
			e->handle = w->handle;
			e->ev = w->ev;
			if (e->ev.base.type == DRM_EVENT_VBLANK) {
				e->ev.vbl.sequence = (uint32_t)seq;
				e->ev.vbl.tv_sec = (uint32_t)(t / 1000000000u);
				e->ev.vbl.tv_usec =
					(uint32_t)(t % 1000000000u / 1000u);
			} else {
				e->ev.seq.sequence = seq;
				e->ev.seq.time_ns = (int64_t)t;
			}
			wake[nwake++] = w->handle;
		}
		d.nwaits = kept;
		if (nwake) {
			pthread_mutex_unlock(&d.lock);
			for (unsigned int i = 0; i < nwake; i++)
				notify(wake[i]);
			pthread_mutex_lock(&d.lock);
			continue;
		}
		if (next == UINT64_MAX) {
			pthread_cond_wait(&d.waits_changed, &d.lock);
		} else {
			uint64_t t = vblank_time(next);
			struct timespec ts = {
				.tv_sec = (time_t)(t / 1000000000u),
				.tv_nsec = (long)(t % 1000000000u),
			};

			pthread_cond_timedwait(&d.waits_changed, &d.lock, &ts);
		}
	}
	return NULL;
}

/* Not under lock: wake a read() and the guest's poll on handle. */
static void notify(uint32_t handle)
{
	struct be_handle *h;
	uint64_t one = 1;

	if (!handle)
		return;
	if (write(d.wake, &one, sizeof(one)) < 0)
		be_log(d.be, "display: wake: %s", strerror(errno));
	h = be_handle_get(d.be, handle);
	if (h) {
		struct pd_wire_poll_ev pe = {
			.revents = POLLIN | POLLRDNORM,
			.seq = ++h->poll_seq,
		};

		be_send_event(d.be, PD_EV_POLL, h->handle, &pe, sizeof(pe));
		be_handle_put(d.be, h);
	}
}

/* hostd finished a flip: the guest's event, and a wake of its poll. */
static void flip_done(const struct pd_disp_flip_done *m)
{
	struct vcrtc *c = NULL;
	uint32_t handle;

	pthread_mutex_lock(&d.lock);
	c = crtc_find(m->crtc_id);
	if (!c || !c->flip_pending || m->cookie != c->flip_cookie) {
		pthread_mutex_unlock(&d.lock);
		be_log(d.be, "display: unexpected FLIP_DONE from hostd");
		return;
	}
	handle = complete_flip(c, m->time_us);
	pthread_mutex_unlock(&d.lock);
	notify(handle);
}

/* Under lock: complete every flip waiting, as a 60 Hz display would;
 * handles (PD_DISPLAY_MAX_CRTCS) get what to notify(). Returns how many. */
static unsigned int complete_locked(uint32_t *handles)
{
	unsigned int n = 0;
	struct timespec ts;
	uint64_t now;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
	for (unsigned int i = 0; i < PD_DISPLAY_MAX_CRTCS; i++)
		if (d.crtcs[i].id && d.crtcs[i].flip_pending)
			handles[n++] = complete_flip(&d.crtcs[i], now);
	return n;
}

/* No hostd: complete every flip waiting (our own vblank). */
static void complete_here(void)
{
	uint32_t handles[PD_DISPLAY_MAX_CRTCS];
	unsigned int n;

	pthread_mutex_lock(&d.lock);
	n = complete_locked(handles);
	pthread_mutex_unlock(&d.lock);
	for (unsigned int i = 0; i < n; i++)
		notify(handles[i]);
}

/* Under lock: HELLO on sock, with the input descriptors if reattaching. */
static int send_hello(int sock, bool reattach)
{
	struct {
		struct pd_disp_hdr hdr;
		struct pd_disp_hello m;
	} b = {
		.hdr = { .type = PD_DISP_HELLO, .len = sizeof(b.m) },
		.m = { .version = PD_DISPLAY_VERSION,
		       .flags = reattach ? PD_DISP_HELLO_REATTACH : 0,
		       .domid = d.be->domid,
		       .ninput = reattach ? d.ninput : 0 },
	};
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * PD_DISPLAY_MAX_INPUT)];
	} ctl;
	struct iovec iov = { &b, sizeof(b) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	snprintf(b.m.guest, sizeof(b.m.guest), "%s", d.be->name);
	if (b.m.ninput) {
		struct cmsghdr *c;

		memset(&ctl, 0, sizeof(ctl));
		msg.msg_control = ctl.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * b.m.ninput);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * b.m.ninput);
		memcpy(CMSG_DATA(c), d.input, sizeof(int) * b.m.ninput);
	}
	return sendmsg(sock, &msg, MSG_NOSIGNAL) == (ssize_t)sizeof(b) ? 0 : -1;
}

/* Try the new hostd's socket once: 0 and d.sock set, or -1. */
static int reattach(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	uint32_t handles[PD_DISPLAY_MAX_CRTCS];
	struct pd_disp_crtc st;
	unsigned int ndone;
	int r = 0;

	if (s < 0)
		return -1;
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", socket_path);
	if (connect(s, (struct sockaddr *)&a, sizeof(a))) {
		close(s);
		return -1;
	}
	/* nothing outstanding at the new hostd: flips waiting now are
	 * ours to complete first, in the same hold of the lock as d.sock
	 * is set (a flip asked meanwhile would wait for nobody) */
	pthread_mutex_lock(&d.lock);
	ndone = complete_locked(handles);
	r = send_hello(s, true);
	/* DPMS first: a CRTC it blanks is never shown on the way */
	for (unsigned int i = 0; !r && i < d.ndpms; i++)
		r = send_on(s, PD_DISP_DPMS, &d.dpms[i], sizeof(d.dpms[i]));
	for (unsigned int i = 0; !r && i < PD_DISPLAY_MAX_CRTCS; i++) {
		if (!d.crtcs[i].id)
			continue;
		shown(&d.crtcs[i], &st);
		r = send_on(s, PD_DISP_SET_CRTC, &st, sizeof(st));
		if (!r && d.crtcs[i].gamma_set)
			r = send_on(s, PD_DISP_GAMMA, &d.crtcs[i].gamma,
				    sizeof(d.crtcs[i].gamma));
	}
	if (!r)
		d.sock = s;
	pthread_mutex_unlock(&d.lock);
	for (unsigned int i = 0; i < ndone; i++)
		notify(handles[i]);
	if (r) {
		close(s);
		return -1;
	}
	be_log(d.be, "display: reattached to a new hostd (%u input devices "
	       "handed back)", d.ninput);
	return 0;
}

/* No hostd since `lost`: complete flips here and look for a new one
 * until deadline (CLOCK_MONOTONIC seconds). 0: reattached; -1: none came. */
static int wait_for_hostd(const struct timespec *lost, time_t deadline)
{
	struct timespec tick = { .tv_nsec = TICK_NS }, now;

	for (unsigned int t = 0;; t++) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec >= deadline)
			return -1;
		if (t % CONNECT_TICKS == 0 && reattach() == 0) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			be_log(d.be, "display: the guest was %.1f s without "
			       "hostd", (double)(now.tv_sec - lost->tv_sec) +
			       (now.tv_nsec - lost->tv_nsec) / 1e9);
			return 0;
		}
		nanosleep(&tick, NULL);
		complete_here();
	}
}

/* hostd's messages; hostd is trusted, but its messages are still checked. */
static void *display_thread(void *arg)
{
	uint8_t buf[PD_DISP_MAX_MSG];
	struct timespec since = { 0 }, lost = { 0 }, now;
	time_t deadline = 0;

	(void)arg;
	for (;;) {
		struct pd_disp_hdr hdr;
		struct pd_disp_flip_done m;
		ssize_t n;
		int sock;

		pthread_mutex_lock(&d.lock);
		sock = d.sock;
		pthread_mutex_unlock(&d.lock);
		if (sock < 0) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			/* a connection refused at once (or lost within 2 s)
			 * does not give the guest more time */
			if (!deadline || now.tv_sec - since.tv_sec > 2) {
				deadline = now.tv_sec + PD_DISPLAY_REATTACH_S;
				lost = now;
			}
			be_log(d.be, "display: no hostd; flips complete here, "
			       "waiting up to %ld s for a new hostd",
			       (long)(deadline - now.tv_sec));
			if (wait_for_hostd(&lost, deadline)) {
				/* the guest must not be shown anything
				 * with nobody in charge, nor hang in a
				 * flip: its monitor ends too */
				be_log(d.be, "display: no hostd came back; "
				       "exiting");
				_exit(PD_DISPLAY_EXIT_NO_HOSTD);
			}
			clock_gettime(CLOCK_MONOTONIC, &since);
			continue;
		}
		n = recv(sock, buf, sizeof(buf), 0);
		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			be_log(d.be, "display: hostd connection %s",
			       n ? strerror(errno) : "closed");
			pthread_mutex_lock(&d.lock);
			close(d.sock);
			d.sock = -1;	/* flips it had: ours now */
			pthread_mutex_unlock(&d.lock);
			continue;
		}
		memcpy(&hdr, buf, sizeof(hdr) <= (size_t)n ? sizeof(hdr) : 0);
		if ((size_t)n != sizeof(hdr) + sizeof(m) ||
		    hdr.type != PD_DISP_FLIP_DONE || hdr.len != sizeof(m)) {
			be_log(d.be, "display: bad message from hostd");
			continue;
		}
		memcpy(&m, buf + sizeof(hdr), sizeof(m));
		flip_done(&m);
	}
	return NULL;
}

/* PD_INPUT_FDS="KBD,PTR": the guest's uinput files, to keep. */
static void keep_input(const char *env)
{
	char *end;

	for (const char *p = env; p && *p && d.ninput < PD_DISPLAY_MAX_INPUT;) {
		long fd = strtol(p, &end, 10);

		if (end == p || fd < 0 || fd > 1 << 20 ||
		    fcntl((int)fd, F_SETFD, FD_CLOEXEC)) {
			be_log(d.be, "display: bad %s=%s", PD_DISPLAY_INPUT_ENV,
			       env);
			d.ninput = 0;
			return;
		}
		d.input[d.ninput++] = (int)fd;
		p = *end == ',' ? end + 1 : end;
	}
}

int be_display_start(struct be *be)
{
	const char *env = getenv(PD_DISPLAY_FD_ENV);
	pthread_t t;
	char *end;
	long fd;

	d.be = be;
	if (!env)
		return 0;
	fd = strtol(env, &end, 10);
	if (*end || fd < 0 || fd > 1 << 20) {
		be_log(be, "display: bad %s=%s", PD_DISPLAY_FD_ENV, env);
		return -1;
	}
	d.sock = (int)fd;
	fcntl(d.sock, F_SETFD, FD_CLOEXEC);
	unsetenv(PD_DISPLAY_FD_ENV);
	keep_input(getenv(PD_DISPLAY_INPUT_ENV));
	unsetenv(PD_DISPLAY_INPUT_ENV);
	env = getenv(PD_DISPLAY_DIRTYFB_ENV);
	d.dirtyfb = env && strtol(env, NULL, 10) == -ENOSYS ? -ENOSYS : 0;
	unsetenv(PD_DISPLAY_DIRTYFB_ENV);
	d.wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (d.wake < 0)
		return -1;
	d.epoch_ns = now_ns();
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&d.waits_changed, &ca);
		pthread_condattr_destroy(&ca);
	}
	/* the hostd that started our monitor may be gone (this is a later
	 * server): then look for the next one */
	if (send_hello(d.sock, false)) {
		be_log(be, "display: the hostd that started us is gone");
		close(d.sock);
		d.sock = -1;
	}
	if (pthread_create(&t, NULL, display_thread, NULL))
		return -1;
	pthread_detach(t);
	if (pthread_create(&t, NULL, vblank_thread, NULL))
		return -1;
	pthread_detach(t);
	d.on = true;
	be_log(be, "display: virtual, shown by hostd");
	return 0;
}
