// SPDX-License-Identifier: GPL-2.0-only
/*
 * The guest's virtual display (when hostd started this backend and gave it
 * a display connection, PD_DISPLAY_FD; without one, e.g. under pdctl, DRM
 * ioctls run on the real card as before).
 *
 * The guest's display ioctls never reach the card: this file keeps the
 * guest's own view of its CRTCs (GETCRTC reads back what it set), and
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
 *     and merged into the read() and poll() of the file that flipped.
 *
 * hostd restarted (pd_display.h): when the connection closes, the guest
 * notices nothing. Its state stays here, its flips complete here at 60 Hz
 * (nothing is shown), and the display thread connects to
 * PD_DISPLAY_SOCKET until a new hostd answers, then sends HELLO with the
 * guest's uinput descriptors (held here so that its virtual keyboard and
 * pointer outlive hostd) and the state of every CRTC, so that the new
 * hostd shows the guest's latest frame if it is in front. If none answers
 * within PD_DISPLAY_REATTACH_S, the process exits with
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

_Static_assert(sizeof(struct pd_disp_mode) == sizeof(struct drm_mode_modeinfo),
	       "pd_disp_mode is drm_mode_modeinfo");

#define MAX_FBS		256
#define MAX_EVENTS	64	/* queued per guest, beyond: dropped */
#define TICK_NS		16666667L	/* our own 60 Hz while no hostd */
#define CONNECT_TICKS	15		/* try PD_DISPLAY_SOCKET every 250 ms */

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
	uint32_t dpms;
};

struct vevent {
	uint32_t handle;
	struct drm_event_vblank ev;
};

static struct {
	pthread_mutex_t lock;
	struct be *be;
	bool on;		/* hostd gave us a display connection */
	int sock;		/* -1: no hostd now (flips complete here) */
	int wake;		/* eventfd: an event was queued */
	int input[PD_DISPLAY_MAX_INPUT];	/* uinput files we keep */
	unsigned int ninput;
	uint32_t sequence;	/* of flips completed here */
	uint64_t cookie;
	struct vfb fbs[MAX_FBS];
	struct vcrtc crtcs[PD_DISPLAY_MAX_CRTCS];
	struct vevent events[MAX_EVENTS];
	unsigned int nevents;
} d = { .lock = PTHREAD_MUTEX_INITIALIZER, .sock = -1, .wake = -1 };

/*
 * Under lock. Without hostd (or when it has just gone) the message is
 * not lost: the state it carries is here and goes to the next hostd, and
 * a flip completes here. So this never fails.
 */
static int send_msg(uint16_t type, const void *body, size_t len)
{
	struct {
		struct pd_disp_hdr hdr;
		uint8_t body[sizeof(struct pd_disp_crtc)];
	} m = { .hdr = { .type = type, .len = (uint16_t)len } };

	memcpy(m.body, body, len);
	if (d.sock >= 0 &&
	    send(d.sock, &m, sizeof(m.hdr) + len, MSG_NOSIGNAL) < 0)
		be_log(d.be, "display: cannot reach hostd: %s", strerror(errno));
	return 0;
}

/* Under lock. */
static struct vfb *fb_find(uint32_t id)
{
	for (unsigned int i = 0; id && i < MAX_FBS; i++)
		if (d.fbs[i].id == id)
			return &d.fbs[i];
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
		send_msg(PD_DISP_SET_CRTC, &c->st, sizeof(c->st));
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
	r = send_msg(PD_DISP_SET_CRTC, &c->st, sizeof(c->st));
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
	c = NULL;
	for (unsigned int i = 0; i < PD_DISPLAY_MAX_CRTCS; i++)
		if (d.crtcs[i].id && d.crtcs[i].id == f->crtc_id)
			c = &d.crtcs[i];
	if (!c || !c->st.mode_valid) {
		r = -EINVAL;
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

/* Legacy SETPROPERTY: DPMS is kept (and reads back through GETCONNECTOR's
 * real value only; first cut), anything else is refused. */
static int do_setproperty(struct be_handle *h, struct drm_mode_connector_set_property *p)
{
	struct drm_mode_get_property prop = { .prop_id = p->prop_id };

	if (ioctl(h->fd, DRM_IOCTL_MODE_GETPROPERTY, &prop))
		return -errno;
	if (strcmp(prop.name, "DPMS") || p->value > 3)
		return -EPERM;
	return 0;
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

		/* first cut: checked, kept nowhere (bochs has only the
		 * primary plane, which SETCRTC and PAGE_FLIP drive) */
		r = check_fb(p->fb_id);
		if (!r && p->fb_id)
			r = -EINVAL;
		break;
	}
	case DRM_IOCTL_MODE_GETPLANE: {
		struct drm_mode_get_plane *p = arg;

		if (ioctl(h->fd, cmd, arg)) {
			r = -errno;
			break;
		}
		/* the card shows hostd's choice: only ours may show */
		if (check_fb(p->fb_id))
			p->fb_id = p->crtc_id = 0;
		r = 0;
		break;
	}
	case DRM_IOCTL_MODE_DIRTYFB: {
		struct drm_mode_fb_dirty_cmd *c = arg;

		r = check_fb(c->fb_id);
		if (!c->fb_id)
			r = -ENOENT;
		break;
	}
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
	case DRM_IOCTL_MODE_SETGAMMA: {
		struct drm_mode_crtc_lut *l = arg;
		struct drm_mode_crtc real;

		r = real_crtc(h->fd, l->crtc_id, &real);
		if (!r && (!real.gamma_size || l->gamma_size != real.gamma_size))
			r = -EINVAL;
		break;
	}
	case DRM_IOCTL_MODE_SETPROPERTY:
		r = do_setproperty(h, arg);
		break;
	case DRM_IOCTL_SET_CLIENT_CAP: {
		struct drm_set_client_cap *c = arg;

		/* The virtual display is legacy KMS: answered as a driver
		 * without atomic modesetting would, so a compositor (Weston,
		 * mutter, KWin) falls back to SETCRTC and PAGE_FLIP instead
		 * of failing at its first atomic commit. Other caps go on. */
		if (c->capability != DRM_CLIENT_CAP_ATOMIC)
			return false;
		r = -EOPNOTSUPP;
		break;
	}
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

		if (e->handle == handle && n + sizeof(e->ev) <= count) {
			memcpy(buf + n, &e->ev, sizeof(e->ev));
			n += sizeof(e->ev);
		} else {
			d.events[kept++] = *e;
		}
	}
	d.nevents = kept;
	return (ssize_t)n;
}

/*
 * read() of a DRM file: the events made here first, then the real file's
 * (events of WAIT_VBLANK). A blocking read waits for either. Returns true
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
	for (unsigned int i = 0; i < PD_DISPLAY_MAX_CRTCS; i++)
		if (d.crtcs[i].flip_handle == handle)
			d.crtcs[i].flip_event = false;
	pthread_mutex_unlock(&d.lock);
}

/* where a new hostd listens (tests: be_display_set_socket()) */
static const char *socket_path = PD_DISPLAY_SOCKET;

void be_display_set_socket(const char *path)
{
	socket_path = path;
}

/* Under lock: c's flip is done; queues the guest's event. Returns the
 * handle to wake (notify()), 0 for none. */
static uint32_t complete_flip(struct vcrtc *c, uint64_t time_us,
			      uint32_t sequence)
{
	struct vevent *e;

	c->flip_pending = false;
	if (!c->flip_event || d.nevents >= MAX_EVENTS)
		return 0;
	e = &d.events[d.nevents++];
	e->handle = c->flip_handle;
	e->ev = (struct drm_event_vblank){
		.base = { .type = DRM_EVENT_FLIP_COMPLETE,
			  .length = sizeof(e->ev) },
		.user_data = c->flip_user_data,
		.tv_sec = (uint32_t)(time_us / 1000000u),
		.tv_usec = (uint32_t)(time_us % 1000000u),
		.sequence = sequence,
		.crtc_id = c->id,
	};
	return c->flip_handle;
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
	for (unsigned int i = 0; i < PD_DISPLAY_MAX_CRTCS; i++)
		if (d.crtcs[i].id && d.crtcs[i].id == m->crtc_id)
			c = &d.crtcs[i];
	if (!c || !c->flip_pending || m->cookie != c->flip_cookie) {
		pthread_mutex_unlock(&d.lock);
		be_log(d.be, "display: unexpected FLIP_DONE from hostd");
		return;
	}
	handle = complete_flip(c, m->time_us, m->sequence);
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
	d.sequence++;
	for (unsigned int i = 0; i < PD_DISPLAY_MAX_CRTCS; i++)
		if (d.crtcs[i].id && d.crtcs[i].flip_pending)
			handles[n++] = complete_flip(&d.crtcs[i], now,
						     d.sequence);
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
	for (unsigned int i = 0; !r && i < PD_DISPLAY_MAX_CRTCS; i++) {
		struct {
			struct pd_disp_hdr hdr;
			struct pd_disp_crtc st;
		} m = { .hdr = { .type = PD_DISP_SET_CRTC,
				 .len = sizeof(m.st) } };

		if (!d.crtcs[i].id)
			continue;
		m.st = d.crtcs[i].st;
		if (send(s, &m, sizeof(m), MSG_NOSIGNAL) != sizeof(m))
			r = -1;
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

/* No hostd: complete flips here and look for a new one until deadline
 * (CLOCK_MONOTONIC seconds). 0: reattached; -1: none came. */
static int wait_for_hostd(time_t deadline)
{
	struct timespec tick = { .tv_nsec = TICK_NS }, now;

	for (unsigned int t = 0;; t++) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec >= deadline)
			return -1;
		if (t % CONNECT_TICKS == 0 && reattach() == 0)
			return 0;
		nanosleep(&tick, NULL);
		complete_here();
	}
}

/* hostd's messages; hostd is trusted, but its messages are still checked. */
static void *display_thread(void *arg)
{
	uint8_t buf[PD_DISP_MAX_MSG];
	struct timespec since = { 0 }, now;
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
			if (!deadline || now.tv_sec - since.tv_sec > 2)
				deadline = now.tv_sec + PD_DISPLAY_REATTACH_S;
			be_log(d.be, "display: no hostd; flips complete here, "
			       "waiting up to %ld s for a new hostd",
			       (long)(deadline - now.tv_sec));
			if (wait_for_hostd(deadline)) {
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
	d.wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (d.wake < 0)
		return -1;
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
	d.on = true;
	be_log(be, "display: virtual, shown by hostd");
	return 0;
}
