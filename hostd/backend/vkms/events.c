// SPDX-License-Identifier: GPL-2.0-only
/*
 * The guest's events and its virtual 60 Hz vblank timeline. Vblank k of
 * every CRTC is at the vkms's creation + k ticks: WAIT_VBLANK, the CRTC
 * sequence ioctls, vblank events and flip and modeset events all count on
 * it and carry its times, never the card's (which shows the foreground
 * guest's, or has none) nor hostd's time of a real flip.
 *
 * One timeline, as a real CRTC's (Weston asserts it: a flip's time is
 * never before the vblank it last read): a flip completes at a vblank of
 * the grid, the first after its commit or, if hostd shows it later, the
 * first after that; a modeset's event comes at the next vblank; every
 * time is the vblank's, in the guest's CLOCK_MONOTONIC (our time plus the
 * offset its frontend measured, clock.c), and no time told goes below one
 * told before (told_seq/told_ns: the offset may be measured again). Events
 * (flip completions, vblank events the guest asked for) queue here, per
 * guest file, and come out of that file's read(), ahead of the real
 * file's; its poll() says POLLIN while one waits, and a PD_EV_POLL wakes
 * the guest's poll when one is queued. A thread of its own moves the
 * vblank events asked for to the queue at their vblank.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include "priv.h"

#define VBLANK_WAIT_NS	3000000000LL	/* WAIT_VBLANK gives up: EBUSY */

uint64_t vkms_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The virtual timeline: the count of vblanks by t, and the time of one. */
uint64_t vkms_vblank_count(const struct vkms *v, uint64_t t_ns)
{
	return t_ns > v->epoch_ns ? (t_ns - v->epoch_ns) / VKMS_TICK_NS : 0;
}

static uint64_t vblank_time(const struct vkms *v, uint64_t seq)
{
	return v->epoch_ns + seq * VKMS_TICK_NS;
}

/* Under lock: the time of vblank seq as told to the guest (its
 * CLOCK_MONOTONIC, ns); never below a time told for an earlier or the
 * same vblank, never above one told for a later. */
static int64_t told_time(struct vkms *v, uint64_t seq)
{
	int64_t t = be_clock_to_guest(v->be, PD_WIRE_CLOCK_MONOTONIC,
				      (int64_t)vblank_time(v, seq));

	if (t < 0)
		t = 0;
	if (seq >= v->told_seq) {
		if (t < v->told_ns)
			t = v->told_ns;
		v->told_seq = seq;
		v->told_ns = t;
	} else if (t > v->told_ns) {
		t = v->told_ns;
	}
	return t;
}

/* Under lock: the current vblank, never below one already told. */
static uint64_t current_seq(struct vkms *v)
{
	uint64_t seq = vkms_vblank_count(v, vkms_now_ns());

	return seq > v->told_seq ? seq : v->told_seq;
}

/* Under lock: the CRTC of pipe index `pipe` (WAIT_VBLANK's high-crtc
 * bits), in the card's order; 0: none. */
static uint32_t pipe_crtc(struct vkms *v, int fd, unsigned int pipe)
{
	if (!v->ncard_crtcs) {
		struct drm_mode_card_res res = { 0 };

		if (ioctl(fd, DRM_IOCTL_MODE_GETRESOURCES, &res) == 0) {
			res.count_crtcs = res.count_crtcs > PD_DISPLAY_MAX_CRTCS ?
					  PD_DISPLAY_MAX_CRTCS : res.count_crtcs;
			res.crtc_id_ptr = (uintptr_t)v->card_crtcs;
			res.count_fbs = res.count_connectors = 0;
			res.count_encoders = 0;
			if (ioctl(fd, DRM_IOCTL_MODE_GETRESOURCES, &res) == 0)
				v->ncard_crtcs = res.count_crtcs;
		}
	}
	return pipe < v->ncard_crtcs ? v->card_crtcs[pipe] : 0;
}

/* Under lock: is the guest's CRTC on (a mode set)? Its vblanks count then,
 * also while its DPMS is off (pd_display.h: its flips complete too). */
static bool crtc_on(struct vkms *v, uint32_t crtc_id)
{
	for (unsigned int i = 0; i < PD_DISPLAY_MAX_CRTCS; i++)
		if (crtc_id && v->crtcs[i].id == crtc_id)
			return v->crtcs[i].st.mode_valid;
	return false;
}

/* Under lock: queue a vblank event for vblank seq (in the past: now). */
static int queue_wait(struct vkms *v, uint32_t handle, uint64_t seq,
		      const union vev *ev)
{
	if (v->nwaits >= VKMS_MAX_WAITS)
		return -ENOMEM;	/* as a full event space */
	v->waits[v->nwaits++] = (struct vwait){ handle, seq, *ev };
	pthread_cond_signal(&v->waits_changed);
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
 * A blocking commit that changes nothing on the screen of an active CRTC
 * still completes at the next vblank, as a real driver's does (6.1's
 * atomic helpers complete its flip_done at the vblank): compositors and
 * modetest that commit in a loop are paced at 60 Hz by it. Not under the
 * lock.
 */
int vkms_sleep_to_next_vblank(const struct vkms *v)
{
	return sleep_until(vblank_time(v, vkms_vblank_count(v,
				       vkms_now_ns()) + 1));
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
int vkms_wait_vblank(struct vkms *v, struct be_handle *h,
		     union drm_wait_vblank *w)
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
	pthread_mutex_lock(&v->lock);
	crtc_id = pipe_crtc(v, h->fd, pipe);
	if (!crtc_id || !crtc_on(v, crtc_id)) {
		r = -EINVAL;
		goto out;
	}
	seq = current_seq(v);
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

		r = queue_wait(v, h->handle, req, &ev);
		if (!r)
			w->reply.sequence = (uint32_t)((int64_t)(seq - req) >= 0 ?
						       seq : req);
		goto out;
	}
	pthread_mutex_unlock(&v->lock);
	t = vblank_time(v, req);
	if ((int64_t)(seq - req) < 0) {
		uint64_t limit = vkms_now_ns() + VBLANK_WAIT_NS;

		r = sleep_until(t < limit ? t : limit);
		if (!r && t >= limit)
			r = -EBUSY;
	}
	if (r != -EINTR) {
		int64_t gt;

		pthread_mutex_lock(&v->lock);
		seq = current_seq(v);
		gt = told_time(v, seq);
		pthread_mutex_unlock(&v->lock);
		w->reply.sequence = (uint32_t)seq;
		w->reply.tval_sec = (long)(gt / 1000000000);
		w->reply.tval_usec = (long)(gt % 1000000000 / 1000);
	}
	return r;
out:
	pthread_mutex_unlock(&v->lock);
	return r;
}

/* CRTC_GET_SEQUENCE and CRTC_QUEUE_SEQUENCE, from the same timeline, as
 * 6.1's drm_crtc_get_sequence_ioctl() and drm_crtc_queue_sequence_ioctl():
 * not a CRTC: ENOENT; no mode set by the guest: EINVAL. */
int vkms_crtc_sequence(struct vkms *v, struct be_handle *h, unsigned int cmd,
		       void *arg)
{
	struct drm_mode_crtc real;
	uint32_t crtc_id = *(uint32_t *)arg;	/* first field of both */
	uint64_t seq, req;
	int r = vkms_real_crtc(h->fd, crtc_id, &real);

	if (r)
		return r;
	if (cmd == DRM_IOCTL_CRTC_QUEUE_SEQUENCE &&
	    (((struct drm_crtc_queue_sequence *)arg)->flags &
	     ~(uint32_t)(DRM_CRTC_SEQUENCE_RELATIVE |
			 DRM_CRTC_SEQUENCE_NEXT_ON_MISS)))
		return -EINVAL;
	pthread_mutex_lock(&v->lock);
	if (!crtc_on(v, crtc_id)) {
		r = -EINVAL;
		goto out;
	}
	seq = current_seq(v);
	if (cmd == DRM_IOCTL_CRTC_GET_SEQUENCE) {
		struct drm_crtc_get_sequence *g = arg;

		g->active = 1;
		g->sequence = seq;
		g->sequence_ns = told_time(v, seq);
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
		r = queue_wait(v, h->handle, req, &ev);
		if (!r)
			q->sequence = (int64_t)(seq - req) >= 0 ? seq : req;
	}
out:
	pthread_mutex_unlock(&v->lock);
	return r;
}

/* Under lock: does handle have an event queued? */
static bool has_event(struct vkms *v, uint32_t handle)
{
	for (unsigned int i = 0; i < v->nevents; i++)
		if (v->events[i].handle == handle)
			return true;
	return false;
}

/* Under lock: move up to count bytes of whole events of handle to buf,
 * oldest first (none after the first that does not fit). */
static ssize_t take_events(struct vkms *v, uint32_t handle, uint8_t *buf,
			   size_t count)
{
	size_t n = 0;
	unsigned int i = 0, kept = 0;
	bool full = false;

	for (i = 0; i < v->nevents; i++) {
		struct vevent *e = &v->events[i];

		if (e->handle == handle && !full &&
		    n + e->ev.base.length <= count) {
			memcpy(buf + n, &e->ev, e->ev.base.length);
			n += e->ev.base.length;
		} else {
			if (e->handle == handle)
				full = true;
			v->events[kept++] = *e;
		}
	}
	v->nevents = kept;
	return (ssize_t)n;
}

/*
 * read() of a DRM file: the events made here first (flips, vblanks), then
 * the real file's (none the guest asked for through us; e.g. of a
 * driver-private ioctl). A blocking read waits for either. Returns true
 * if it answered (*n as from read(2)); false: read the real file.
 *
 * With PD_WIRE_FEAT_EVENT_PUSH the guest holds none of what we pushed
 * when it sends a read, and seen is its total: that much it has read
 * (what is not yet pushed may go now). A read that crossed a push on its
 * way (seen is not our total), or that waits while one goes, ends with
 * ESTALE: the guest reads what it was sent (pd_wire.h).
 */
bool vkms_events_read(struct vkms *v, struct be_handle *h, void *buf,
		      size_t count, bool nonblock, uint32_t seen, ssize_t *n)
{
	bool push = v->be->features & PD_WIRE_FEAT_EVENT_PUSH;

	if (push)
		atomic_store(&h->ev_acked, seen);
	for (;;) {
		struct pollfd p[2] = {
			{ .fd = h->fd, .events = POLLIN },
			{ .fd = v->wake, .events = POLLIN },
		};
		uint64_t one;

		pthread_mutex_lock(&v->lock);
		if (push && atomic_load(&h->ev_pushed) != seen) {
			pthread_mutex_unlock(&v->lock);
			errno = ESTALE;
			*n = -1;
			return true;
		}
		*n = has_event(v, h->handle) ?
		     take_events(v, h->handle, buf, count) : -1;
		pthread_mutex_unlock(&v->lock);
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
		if (p[1].revents && read(v->wake, &one, sizeof(one)) < 0)
			continue;
	}
}

/* poll() of a DRM file: POLLIN while one of our events waits for it. */
uint32_t vkms_events_poll(struct vkms *v, struct be_handle *h)
{
	uint32_t r;

	pthread_mutex_lock(&v->lock);
	r = has_event(v, h->handle) ? POLLIN | POLLRDNORM : 0;
	pthread_mutex_unlock(&v->lock);
	return r;
}

/* Under lock: the guest's last close of handle: drop its events, the
 * vblank events it asked for, and the event of a flip it made. */
void vkms_events_release(struct vkms *v, uint32_t handle)
{
	unsigned int kept = 0;

	for (unsigned int i = 0; i < v->nevents; i++)
		if (v->events[i].handle != handle)
			v->events[kept++] = v->events[i];
	v->nevents = kept;
	kept = 0;
	for (unsigned int i = 0; i < v->nwaits; i++)
		if (v->waits[i].handle != handle)
			v->waits[kept++] = v->waits[i];
	v->nwaits = kept;
	for (unsigned int i = 0; i < PD_DISPLAY_MAX_CRTCS; i++)
		if (v->crtcs[i].flip_handle == handle)
			v->crtcs[i].flip_event = false;
}

/* Under lock: a DRM_EVENT_FLIP_COMPLETE (or DRM_EVENT_VBLANK) at vblank
 * seq; the handle to vkms_notify(), 0 if the queue is full (dropped). */
static uint32_t queue_vblank_event(struct vkms *v, uint32_t handle,
				   const union vev *ev, uint64_t seq)
{
	struct vevent *e;
	int64_t t;

	if (v->nevents >= VKMS_MAX_EVENTS)
		return 0;
	t = told_time(v, seq);
	e = &v->events[v->nevents++];
	e->handle = handle;
	e->ev = *ev;
	if (ev->base.type == DRM_EVENT_CRTC_SEQUENCE) {
		e->ev.seq.sequence = seq;
		e->ev.seq.time_ns = t;
	} else {
		e->ev.vbl.sequence = (uint32_t)seq;
		e->ev.vbl.tv_sec = (uint32_t)(t / 1000000000);
		e->ev.vbl.tv_usec = (uint32_t)(t % 1000000000 / 1000);
	}
	return handle;
}

static union vev make_flip_event(uint64_t user_data, uint32_t crtc_id)
{
	return (union vev){ .vbl = {
		.base = { .type = DRM_EVENT_FLIP_COMPLETE,
			  .length = sizeof(struct drm_event_vblank) },
		.user_data = user_data,
		.crtc_id = crtc_id,
	} };
}

void vkms_flip_sent(struct vkms *v, struct vcrtc *c)
{
	c->flip_seq = current_seq(v) + 1;
	c->flip_done = false;
}

/* Under lock: c's flip completes at vblank seq (now or passed). */
static uint32_t complete_at(struct vkms *v, struct vcrtc *c, uint64_t seq)
{
	union vev ev = make_flip_event(c->flip_user_data, c->id);

	c->flip_pending = false;
	c->flip_done = false;
	pthread_cond_broadcast(&v->flipped);
	if (!c->flip_event)
		return 0;
	return queue_vblank_event(v, c->flip_handle, &ev, seq);
}

uint32_t vkms_complete_flip(struct vkms *v, struct vcrtc *c)
{
	uint64_t seq = current_seq(v);

	if (seq >= c->flip_seq)
		return complete_at(v, c, seq);
	c->flip_done = true;	/* the vblank thread completes it */
	pthread_cond_signal(&v->waits_changed);
	return 0;
}

uint32_t vkms_queue_modeset_event(struct vkms *v, uint32_t handle,
				  uint64_t user_data, uint32_t crtc_id)
{
	union vev ev = make_flip_event(user_data, crtc_id);
	uint64_t seq = current_seq(v);

	if (!queue_wait(v, handle, seq + 1, &ev))
		return 0;
	return queue_vblank_event(v, handle, &ev, seq);	/* no room: now */
}

/*
 * The guest's vblank events (WAIT_VBLANK with EVENT, QUEUE_SEQUENCE,
 * modeset events) and the flips hostd showed before their vblank: at
 * each asked-for vblank of the virtual timeline, move them to the event
 * queue (count and time of the vblank that passed) and wake their files.
 * Sleeps while none waits.
 */
static void *vblank_thread(void *arg)
{
	struct vkms *v = arg;

	pthread_mutex_lock(&v->lock);
	while (!v->stopping) {
		uint32_t wake[VKMS_MAX_WAITS + PD_DISPLAY_MAX_CRTCS];
		unsigned int nwake = 0, kept = 0;
		uint64_t seq = current_seq(v);
		uint64_t next = UINT64_MAX;

		for (unsigned int i = 0; i < v->nwaits; i++) {
			struct vwait *w = &v->waits[i];
			uint32_t hd;

			if ((int64_t)(seq - w->sequence) < 0) {
				if (w->sequence < next)
					next = w->sequence;
				v->waits[kept++] = *w;
				continue;
			}
			hd = queue_vblank_event(v, w->handle, &w->ev, seq);
			if (hd)	/* else dropped, as from a full queue */
				wake[nwake++] = hd;
		}
		v->nwaits = kept;
		for (unsigned int i = 0; i < PD_DISPLAY_MAX_CRTCS; i++) {
			struct vcrtc *c = &v->crtcs[i];
			uint32_t hd;

			if (!c->id || !c->flip_pending || !c->flip_done)
				continue;
			if (seq < c->flip_seq) {
				if (c->flip_seq < next)
					next = c->flip_seq;
				continue;
			}
			hd = complete_at(v, c, seq);
			if (hd)
				wake[nwake++] = hd;
		}
		if (nwake) {
			pthread_mutex_unlock(&v->lock);
			for (unsigned int i = 0; i < nwake; i++)
				vkms_notify(v, wake[i]);
			pthread_mutex_lock(&v->lock);
			continue;
		}
		if (next == UINT64_MAX) {
			pthread_cond_wait(&v->waits_changed, &v->lock);
		} else {
			uint64_t t = vblank_time(v, next);
			struct timespec ts = {
				.tv_sec = (time_t)(t / 1000000000u),
				.tv_nsec = (long)(t % 1000000000u),
			};

			pthread_cond_timedwait(&v->waits_changed, &v->lock,
					       &ts);
		}
	}
	pthread_mutex_unlock(&v->lock);
	return NULL;
}

/*
 * Not under lock: push handle's queued events into the guest
 * (PD_WIRE_FEAT_EVENT_PUSH), as many as PD_WIRE_PUSH_MAX lets go, in
 * order. Taken off the queue and counted in ev_pushed under v->lock, so
 * that a read waiting in vkms_events_read() sees either the events or the
 * new total; sent in the order counted (be->push_lock, events.c). True if
 * nothing of handle's is left queued.
 */
static bool push_events(struct vkms *v, struct be_handle *h)
{
	uint8_t recs[PD_WIRE_EV_DATA_MAX];
	bool left = false;

	pthread_mutex_lock(&v->be->push_lock);
	for (;;) {
		uint32_t room;
		ssize_t n;

		pthread_mutex_lock(&v->lock);
		room = be_push_room(h);
		n = has_event(v, h->handle) ?
		    take_events(v, h->handle, recs,
				room < sizeof(recs) ? room : sizeof(recs)) : 0;
		if (n > 0)
			atomic_fetch_add(&h->ev_pushed, (uint32_t)n);
		left = has_event(v, h->handle);
		pthread_mutex_unlock(&v->lock);
		if (n <= 0)
			break;
		be_push_send(v->be, h, recs, (size_t)n);
	}
	pthread_mutex_unlock(&v->be->push_lock);
	return !left;
}

/* Not under lock: wake a read() and the guest's poll on handle. */
void vkms_notify(struct vkms *v, uint32_t handle)
{
	struct be_handle *h;
	uint64_t one = 1;

	if (!handle)
		return;
	h = be_handle_get(v->be, handle);
	if (h && (v->be->features & PD_WIRE_FEAT_EVENT_PUSH) &&
	    push_events(v, h)) {
		be_handle_put(v->be, h);
		h = NULL;
	}
	/* a read waiting here: the events, or a push it crossed */
	if (write(v->wake, &one, sizeof(one)) < 0)
		be_log(v->be, "display: wake: %s", strerror(errno));
	if (h) {
		struct pd_wire_poll_ev pe = {
			.revents = POLLIN | POLLRDNORM,
			.seq = atomic_fetch_add(&h->poll_seq, 1) + 1,
		};

		/* looked at after the sequence was taken (events.c) */
		if (v->be->features & PD_WIRE_FEAT_POLL_SEQ)
			pe.revents = be_poll_look(h);

		be_send_event(v->be, PD_EV_POLL, h->handle, &pe, sizeof(pe));
		be_handle_put(v->be, h);
	}
}

/* Under lock: complete every flip waiting, as a 60 Hz display would:
 * at their vblank of the guest's timeline. */
unsigned int vkms_complete_all(struct vkms *v, uint32_t *handles)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < PD_DISPLAY_MAX_CRTCS; i++)
		if (v->crtcs[i].id && v->crtcs[i].flip_pending &&
		    !v->crtcs[i].flip_done)
			handles[n++] = vkms_complete_flip(v, &v->crtcs[i]);
	return n;
}

int vkms_events_start(struct vkms *v)
{
	pthread_condattr_t ca;
	int r;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&v->waits_changed, &ca);
	pthread_condattr_destroy(&ca);
	v->epoch_ns = vkms_now_ns();
	r = pthread_create(&v->vblank_thread, NULL, vblank_thread, v);
	if (r) {
		pthread_cond_destroy(&v->waits_changed);
		errno = r;
		return -1;
	}
	return 0;
}

/* After v->stopping is set (under lock). */
void vkms_events_stop(struct vkms *v)
{
	pthread_mutex_lock(&v->lock);
	pthread_cond_broadcast(&v->waits_changed);
	pthread_mutex_unlock(&v->lock);
	pthread_join(v->vblank_thread, NULL);
	pthread_cond_destroy(&v->waits_changed);
}
