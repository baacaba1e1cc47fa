// SPDX-License-Identifier: GPL-2.0-only
/*
 * Which requests the backend's reader runs itself (hostd/backend/
 * inline.c, request.c). What it proves: the rule picks only requests
 * that cannot wait (the pure rule, case by case); such a request is
 * answered on the calling thread before be_take_request() returns, any
 * other by a worker; a request that would have to wait for a lock a
 * worker holds (the file's lock, evdev's gate) goes to a worker instead
 * of waiting, and is answered once the lock is free; PD_BACKEND_INLINE's
 * switch (be.inline_off) sends everything to the workers. And the order
 * of a file with an asynchronous ordered ioctl on a worker (a page flip):
 * later requests about it wait for it and come in order, other files'
 * do not. The "device files" are /dev/zero (as evdev and as a DRM card)
 * and /dev/null (as V4L2).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/input.h>
#include <libdrm/drm.h>

#include "backend.h"
#include "inline.h"
#include "tap.h"

/* ------------------------------------------------------------------ */
/* The pure rule                                                       */

static bool rule(uint16_t op, uint16_t wflags, uint16_t cls,
		 unsigned int ioc, bool hooks, bool never_wait)
{
	struct be_inline_req q = {
		.op = op, .wire_flags = wflags, .dev_class = cls,
		.ioc_flags = ioc, .hook_ioctl = hooks, .hook_read = hooks,
		.hook_poll = hooks, .hooks_never_wait = never_wait,
	};

	return be_inline_rule(&q);
}

static void test_rule(void)
{
	const uint16_t drm = PD_WIRE_CLASS_DRM, ev = PD_WIRE_CLASS_EVDEV;

	/* ioctls by their table entry */
	CHECK(rule(PD_OP_IOCTL, 0, ev, PD_IOC_F_INLINE, false, false));
	CHECK(rule(PD_OP_IOCTL, 0, drm, PD_IOC_F_ASYNC, false, false));
	CHECK(!rule(PD_OP_IOCTL, 0, ev, 0, false, false));
	CHECK(!rule(PD_OP_IOCTL, 0, drm, PD_IOC_F_DISPLAY, false, false));
	/* a display ioctl the class hooks answer: only if they never wait */
	CHECK(rule(PD_OP_IOCTL, 0, drm, PD_IOC_F_INLINE | PD_IOC_F_DISPLAY,
		   false, false));
	CHECK(!rule(PD_OP_IOCTL, 0, drm, PD_IOC_F_INLINE | PD_IOC_F_DISPLAY,
		    true, false));
	CHECK(rule(PD_OP_IOCTL, 0, drm, PD_IOC_F_INLINE | PD_IOC_F_DISPLAY,
		   true, true));
	/* hooks do not see a plain ioctl */
	CHECK(rule(PD_OP_IOCTL, 0, drm, PD_IOC_F_INLINE, true, false));
	CHECK(!rule(PD_OP_IOCTL, 0, PD_WIRE_CLASS_V4L2,
		    PD_IOC_F_INLINE | PD_IOC_F_OWNER, true, false));
	/* polls of DRM and evdev files, without hooks that may wait */
	CHECK(rule(PD_OP_POLL, 0, drm, 0, false, false));
	CHECK(rule(PD_OP_POLL, 0, ev, 0, false, false));
	CHECK(!rule(PD_OP_POLL, 0, drm, 0, true, false));
	CHECK(rule(PD_OP_POLL, 0, drm, 0, true, true));
	CHECK(!rule(PD_OP_POLL, 0, PD_WIRE_CLASS_SND_PCM, 0, false, false));
	CHECK(!rule(PD_OP_POLL, 0, PD_WIRE_CLASS_V4L2, 0, false, false));
	CHECK(!rule(PD_OP_POLL, 0, PD_WIRE_CLASS_NONE, 0, false, false));
	/* reads: only non-blocking ones */
	CHECK(rule(PD_OP_READ, PD_WIRE_F_NONBLOCK, ev, 0, false, false));
	CHECK(rule(PD_OP_READ, PD_WIRE_F_NONBLOCK, drm, 0, false, false));
	CHECK(!rule(PD_OP_READ, 0, ev, 0, false, false));
	CHECK(!rule(PD_OP_READ, PD_WIRE_F_NONBLOCK, drm, 0, true, false));
	CHECK(!rule(PD_OP_READ, PD_WIRE_F_NONBLOCK, PD_WIRE_CLASS_SND_PCM, 0,
		    false, false));
	/* nothing else, whatever the flags */
	CHECK(!rule(PD_OP_WRITE, PD_WIRE_F_NONBLOCK, ev, PD_IOC_F_INLINE,
		    false, true));
	CHECK(!rule(PD_OP_OPEN, 0, ev, PD_IOC_F_INLINE, false, true));
	CHECK(!rule(PD_OP_RELEASE, 0, ev, PD_IOC_F_INLINE, false, true));
	CHECK(!rule(PD_OP_FLUSH, 0, ev, PD_IOC_F_INLINE, false, true));
	CHECK(!rule(PD_OP_MMAP, 0, drm, PD_IOC_F_INLINE, false, true));
	CHECK(!rule(PD_OP_FASYNC, 0, ev, PD_IOC_F_INLINE, false, true));
	CHECK(!rule(PD_OP_LLSEEK, 0, ev, PD_IOC_F_INLINE, false, true));
}

static void test_evdev_blockers(void)
{
	const uint16_t ev = PD_WIRE_CLASS_EVDEV;

	CHECK(be_inline_evdev_blocker(PD_OP_OPEN, ev, 0));
	CHECK(be_inline_evdev_blocker(PD_OP_FLUSH, ev, 0));
	CHECK(be_inline_evdev_blocker(PD_OP_RELEASE, ev, 0));
	CHECK(be_inline_evdev_blocker(PD_OP_IOCTL, ev, 0));	/* EVIOCSFF */
	CHECK(!be_inline_evdev_blocker(PD_OP_IOCTL, ev, PD_IOC_F_INLINE));
	CHECK(!be_inline_evdev_blocker(PD_OP_READ, ev, 0));
	CHECK(!be_inline_evdev_blocker(PD_OP_POLL, ev, 0));
	CHECK(!be_inline_evdev_blocker(PD_OP_IOCTL, PD_WIRE_CLASS_DRM, 0));
	CHECK(!be_inline_evdev_blocker(PD_OP_RELEASE, PD_WIRE_CLASS_DRM, 0));
}

/* ------------------------------------------------------------------ */
/* Where requests run                                                  */

static pthread_mutex_t sent_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sent_cond = PTHREAD_COND_INITIALIZER;
static uint8_t last[4096];
static uint64_t sent_ids[64];	/* in the order they were sent */
static unsigned int nsent_ids;
static int sent;
static bool sent_here;		/* by the thread that took the request */
static pthread_t taker;

static int mem_send(struct be_transport *t, const void *msg, size_t len)
{
	(void)t;
	pthread_mutex_lock(&sent_lock);
	memcpy(last, msg, len < sizeof(last) ? len : sizeof(last));
	if (nsent_ids < PD_ARRAY_SIZE(sent_ids))
		sent_ids[nsent_ids++] = ((const struct pd_wire_hdr *)msg)->id;
	sent++;
	sent_here = pthread_equal(pthread_self(), taker);
	pthread_cond_broadcast(&sent_cond);
	pthread_mutex_unlock(&sent_lock);
	return 0;
}

static const struct be_transport_impl mem_impl = {
	.name = "memory",
	.features = PD_WIRE_FEAT_POLL_EVENTS | PD_WIRE_FEAT_CANCEL |
		    PD_WIRE_FEAT_NEWFD,
	.send = mem_send,
};

static struct be_transport mem_tp = { .impl = &mem_impl, .fd = -1 };
static struct be_export exports[3];
static struct be be;

/* Hand one request to the reader's entry; sent is reset first. */
static void take(uint64_t id, uint16_t op, uint16_t flags, uint32_t handle,
		 const void *body, uint32_t len)
{
	uint8_t buf[512];
	struct pd_wire_hdr h = { .id = id, .op = op, .flags = flags,
				 .handle = handle, .len = len };

	pthread_mutex_lock(&sent_lock);
	sent = 0;
	sent_here = false;
	pthread_mutex_unlock(&sent_lock);
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), body, len);
	taker = pthread_self();
	be_take_request(&be, buf, sizeof(h) + len);
}

/* The reply's result once one came (at most 5 s), its id checked. */
static int64_t reply(uint64_t id)
{
	struct timespec ts;
	struct pd_wire_hdr h;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 5;
	pthread_mutex_lock(&sent_lock);
	while (!sent && pthread_cond_timedwait(&sent_cond, &sent_lock,
					       &ts) != ETIMEDOUT)
		;
	memcpy(&h, last, sizeof(h));
	pthread_mutex_unlock(&sent_lock);
	CHECK_EQ(sent, 1);
	CHECK_EQ(h.id, id);
	return h.result;
}

static int sent_now(void)
{
	int n;

	pthread_mutex_lock(&sent_lock);
	n = sent;
	pthread_mutex_unlock(&sent_lock);
	return n;
}

static uint32_t open_export(uint32_t index)
{
	struct pd_wire_open_req o = { .index = index,
				      .flags = PD_WIRE_O_RDONLY };
	struct pd_wire_open_rsp r;

	take(1000 + index, PD_OP_OPEN, 0, PD_WIRE_HANDLE_NONE, &o, sizeof(o));
	CHECK_EQ(reply(1000 + index), 0);
	CHECK(!sent_here);		/* OPEN: a worker's */
	memcpy(&r, last + sizeof(struct pd_wire_hdr), sizeof(r));
	return r.handle;
}

static void setup(void)
{
	struct pd_wire_connect c = {
		.major = PD_WIRE_VERSION_MAJOR, .max_msg = PD_WIRE_MAX_MSG,
		.features = PD_WIRE_FEAT_ALL,
	};

	be.tp = &mem_tp;
	be.name = "test";
	be.epfd = be.wakefd = be.sigfd = -1;
	pthread_mutex_init(&be.lock, NULL);
	pthread_mutex_init(&be.gate_lock, NULL);
	pthread_cond_init(&be.gate_cond, NULL);
	strcpy(exports[0].path, "/dev/zero");
	exports[0].info.class = PD_WIRE_CLASS_EVDEV;
	strcpy(exports[1].path, "/dev/null");
	exports[1].info.class = PD_WIRE_CLASS_V4L2;
	strcpy(exports[2].path, "/dev/zero");
	exports[2].info.class = PD_WIRE_CLASS_DRM;
	exports[2].info.driver = PD_WIRE_DRIVER_DRM_GENERIC;
	be.exports = exports;
	be.nexports = 3;
	CHECK_EQ(be_pool_start(&be), 0);
	take(1, PD_OP_CONNECT, 0, PD_WIRE_HANDLE_NONE, &c, sizeof(c));
	CHECK_EQ(reply(1), 0);
}

/* EVIOCGVERSION as the frontend sends it. */
struct gversion {
	struct pd_wire_ioctl_req r;
	struct pd_wire_buf b;
};

static struct gversion gversion(void)
{
	struct gversion m = { 0 };

	m.r.cmd = EVIOCGVERSION;
	m.r.nbufs = 1;
	m.b.len = sizeof(int);
	m.b.flags = PD_WIRE_BUF_OUT;
	return m;
}

static void test_where_requests_run(void)
{
	struct pd_wire_poll_req p = { .events = 1 /* POLLIN */ };
	struct pd_wire_read_req rd = { .count = 8 };
	struct gversion m = gversion();
	uint32_t ev, v4l2;

	ev = open_export(0);
	v4l2 = open_export(1);

	/* a poll of an evdev file: answered before take() returns */
	take(10, PD_OP_POLL, 0, ev, &p, sizeof(p));
	CHECK_EQ(sent_now(), 1);
	CHECK(sent_here);
	reply(10);
	/* a V4L2 file's poll: a worker's */
	take(11, PD_OP_POLL, 0, v4l2, &p, sizeof(p));
	reply(11);
	CHECK(!sent_here);
	/* an inline ioctl (the real one fails on /dev/zero: ENOTTY) */
	take(12, PD_OP_IOCTL, 0, ev, &m, sizeof(m));
	CHECK_EQ(sent_now(), 1);
	CHECK(sent_here);
	CHECK_EQ(reply(12), -ENOTTY);
	/* a non-blocking read inline, a blocking one on a worker */
	take(13, PD_OP_READ, PD_WIRE_F_NONBLOCK, ev, &rd, sizeof(rd));
	CHECK(sent_here);
	CHECK_EQ(reply(13), 8);
	take(14, PD_OP_READ, 0, ev, &rd, sizeof(rd));
	CHECK_EQ(reply(14), 8);
	CHECK(!sent_here);
	/* a bad body still gets its errno, on the reader */
	take(15, PD_OP_POLL, 0, ev, &p, 3);
	CHECK_EQ(reply(15), -EINVAL);
	/* an unknown handle: a worker says EBADF */
	take(16, PD_OP_POLL, 0, 777, &p, sizeof(p));
	CHECK_EQ(reply(16), -EBADF);
	CHECK(!sent_here);

	/* switched off: every request to a worker */
	atomic_store(&be.inline_off, true);
	take(17, PD_OP_POLL, 0, ev, &p, sizeof(p));
	reply(17);
	CHECK(!sent_here);
	take(18, PD_OP_IOCTL, 0, ev, &m, sizeof(m));
	CHECK_EQ(reply(18), -ENOTTY);
	CHECK(!sent_here);
	atomic_store(&be.inline_off, false);
}

/* A worker holding the file's lock (a stateful ioctl that blocks) or
 * evdev's gate does not make the reader wait: the request goes to a
 * worker, which answers it once the lock is free. */
static void test_busy_locks_go_to_workers(void)
{
	struct gversion m = gversion();
	struct pd_wire_read_req rd = { .count = 8 };
	struct be_handle *h;
	uint32_t ev = open_export(0);

	h = be_handle_get(&be, ev);
	CHECK(h != NULL);
	pthread_mutex_lock(&h->lock);
	take(20, PD_OP_IOCTL, 0, ev, &m, sizeof(m));
	CHECK_EQ(sent_now(), 0);	/* the reader went on */
	pthread_mutex_unlock(&h->lock);
	CHECK_EQ(reply(20), -ENOTTY);
	CHECK(!sent_here);
	/* a read of a file whose events are pushed (evdev's here) takes
	 * only its read lock: the reader answers it at once */
	pthread_mutex_lock(&h->lock);
	take(21, PD_OP_READ, PD_WIRE_F_NONBLOCK, ev, &rd, sizeof(rd));
	CHECK_EQ(sent_now(), 1);
	pthread_mutex_unlock(&h->lock);
	CHECK_EQ(reply(21), 8);
	CHECK(sent_here);
	be_handle_put(&be, h);

	be_evdev_gate_enter(&be);
	take(22, PD_OP_IOCTL, 0, ev, &m, sizeof(m));
	/* a worker ran it (the gate does not keep workers out) */
	CHECK_EQ(reply(22), -ENOTTY);
	CHECK(!sent_here);
	/* polls do not need the gate */
	take(23, PD_OP_POLL, 0, ev, &(struct pd_wire_poll_req){ .events = 1 },
	     sizeof(struct pd_wire_poll_req));
	CHECK(sent_here);
	reply(23);
	be_evdev_gate_leave(&be);
	take(24, PD_OP_IOCTL, 0, ev, &m, sizeof(m));
	CHECK(sent_here);
	CHECK_EQ(reply(24), -ENOTTY);
}

/* Wait (at most 5 s) until n messages were sent since nsent_ids was 0. */
static void wait_sent(unsigned int n)
{
	for (int i = 0; i < 500 && __atomic_load_n(&nsent_ids, __ATOMIC_SEQ_CST) < n;
	     i++)
		usleep(10000);
}

/* The card's ioctls held on its file's lock, as a flip waiting in the
 * driver would be; the replies' order counted from here. */
static void hold(struct be_handle *h)
{
	CHECK(h != NULL);
	pthread_mutex_lock(&h->lock);
	pthread_mutex_lock(&sent_lock);
	nsent_ids = 0;
	pthread_mutex_unlock(&sent_lock);
}

/* A PAGE_FLIP with an event as the frontend sends it; new_handle: the
 * handle it names for a new file (pd_wire.h 1.8), or 0. */
struct flip {
	struct pd_wire_ioctl_req r;
	struct drm_mode_crtc_page_flip f;
	struct pd_wire_buf b;
};

static struct flip flip(uint32_t new_handle)
{
	struct flip m = { 0 };

	m.r.cmd = DRM_IOCTL_MODE_PAGE_FLIP;
	m.r.nbufs = 1;
	m.r.data_len = sizeof(m.f);
	m.r.new_handle = new_handle;
	m.f.flags = DRM_MODE_PAGE_FLIP_EVENT;
	m.b.len = sizeof(m.f);
	m.b.flags = PD_WIRE_BUF_IN | PD_WIRE_BUF_OUT;
	return m;
}

/*
 * An asynchronous PAGE_FLIP (PD_IOC_F_ORDERED) runs on a worker, here held
 * on its file's lock as a flip waiting in the driver would be: a poll of
 * the same file, which the reader would answer at once, waits and comes
 * after it, as does a second flip; another file's poll does not wait.
 */
static void test_ordered_requests_wait_for_their_file(void)
{
	struct flip m = flip(0);
	struct pd_wire_poll_req p = { .events = 1 /* POLLIN */ };
	uint32_t card = open_export(2), ev = open_export(0);
	struct be_handle *h = be_handle_get(&be, card);

	hold(h);
	take(40, PD_OP_IOCTL, PD_WIRE_F_ASYNC, card, &m, sizeof(m));
	take(41, PD_OP_POLL, 0, card, &p, sizeof(p));
	take(42, PD_OP_IOCTL, PD_WIRE_F_ASYNC, card, &m, sizeof(m));
	take(43, PD_OP_POLL, 0, ev, &p, sizeof(p));
	CHECK(sent_here);		/* the other file's, at once */
	usleep(200000);
	pthread_mutex_lock(&sent_lock);
	CHECK_EQ(nsent_ids, 1);
	CHECK_EQ(sent_ids[0], 43);
	pthread_mutex_unlock(&sent_lock);
	pthread_mutex_unlock(&h->lock);
	wait_sent(4);
	pthread_mutex_lock(&sent_lock);
	CHECK_EQ(nsent_ids, 4);
	CHECK_EQ(sent_ids[1], 40);	/* the flip ran (ENOTTY on /dev/zero) */
	/* the poll went to a worker once the flip was done: it may pass the
	 * second flip, which it came before */
	CHECK((sent_ids[2] == 41 && sent_ids[3] == 42) ||
	      (sent_ids[2] == 42 && sent_ids[3] == 41));
	pthread_mutex_unlock(&sent_lock);
	/* the file left its order: the reader answers its poll again */
	take(44, PD_OP_POLL, 0, card, &p, sizeof(p));
	CHECK(sent_here);
	reply(44);
	be_handle_put(&be, h);
}

/*
 * A handle the guest names for the file an ordered ioctl makes (pd_wire.h
 * 1.8) is reserved as the ioctl arrives: a poll of it, which the reader
 * would answer at once (EBADF, no such handle), waits in the maker's
 * order instead; naming it again while it is reserved is refused; the
 * flip made no file (ENOTTY on /dev/zero), so afterwards it names
 * nothing. A handle outside the named range, or one named by a request
 * that is not ordered, is refused.
 */
static void test_named_handle_waits_for_its_maker(void)
{
	const uint32_t named = PD_WIRE_HANDLE_NAMED_MIN + 7;
	struct flip m = flip(named);
	struct pd_wire_poll_req p = { .events = 1 /* POLLIN */ };
	uint32_t card = open_export(2);
	struct be_handle *h = be_handle_get(&be, card);

	hold(h);
	take(50, PD_OP_IOCTL, PD_WIRE_F_ASYNC, card, &m, sizeof(m));
	CHECK(be_handle_get(&be, named) == NULL);	/* not made yet */
	take(51, PD_OP_POLL, 0, named, &p, sizeof(p));
	take(52, PD_OP_IOCTL, PD_WIRE_F_ASYNC, card, &m, sizeof(m));
	CHECK_EQ(reply(52), -EBUSY);			/* still reserved */
	CHECK(sent_here);
	usleep(200000);
	pthread_mutex_lock(&sent_lock);
	CHECK_EQ(nsent_ids, 1);				/* 52's only */
	pthread_mutex_unlock(&sent_lock);
	pthread_mutex_unlock(&h->lock);
	wait_sent(3);
	pthread_mutex_lock(&sent_lock);
	CHECK_EQ(sent_ids[1], 50);
	CHECK_EQ(sent_ids[2], 51);
	pthread_mutex_unlock(&sent_lock);
	/* the flip made no file: the handle names nothing */
	CHECK(be_handle_get(&be, named) == NULL);
	CHECK(be_handle_awaited(&be, named) == NULL);
	take(53, PD_OP_POLL, 0, named, &p, sizeof(p));
	CHECK_EQ(reply(53), -EBADF);
	/* not a named handle */
	m.r.new_handle = 5;
	take(54, PD_OP_IOCTL, PD_WIRE_F_ASYNC, card, &m, sizeof(m));
	CHECK_EQ(reply(54), -EINVAL);
	/* named by a request that waits: refused when it runs */
	m.r.new_handle = named;
	take(55, PD_OP_IOCTL, 0, card, &m, sizeof(m));
	CHECK_EQ(reply(55), -EINVAL);
	be_handle_put(&be, h);
}

/* A named handle's life in the table: reserved (only its maker's order
 * finds it), given its file, released; its number then free again. */
static void test_named_handle_life(void)
{
	const uint32_t named = PD_WIRE_HANDLE_NAMED_MIN + 9;
	uint32_t card = open_export(2);
	struct be_handle *maker = be_handle_get(&be, card), *h, *w;
	int fd = dup(0);

	CHECK(maker != NULL && fd >= 0);
	CHECK_EQ(be_handle_reserve(&be, named, maker), 0);
	CHECK_EQ(be_handle_reserve(&be, named, maker), -EBUSY);
	CHECK_EQ(be_handle_reserve(&be, card, maker), -EINVAL);
	CHECK(be_handle_get(&be, named) == NULL);
	w = be_handle_awaited(&be, named);
	CHECK(w == maker);
	be_handle_put(&be, w);
	h = be_handle_bind(&be, named, fd);
	CHECK(h != NULL && h->fd == fd);
	be_handle_put(&be, h);
	CHECK(be_handle_bind(&be, named, fd) == NULL);	/* given once */
	be_handle_unreserve(&be, named);		/* made: stays */
	h = be_handle_get(&be, named);
	CHECK(h != NULL);
	be_handle_put(&be, h);
	CHECK(be_handle_awaited(&be, named) == NULL);
	CHECK_EQ(be_handle_release(&be, named), 0);
	CHECK(be_handle_get(&be, named) == NULL);
	CHECK_EQ(be_handle_release(&be, named), -EBADF);
	CHECK_EQ(be_handle_reserve(&be, named, maker), 0);
	be_handle_unreserve(&be, named);
	CHECK(be_handle_get(&be, named) == NULL);
	be_handle_put(&be, maker);
}

int main(void)
{
	RUN(test_rule);
	RUN(test_evdev_blockers);
	setup();
	RUN(test_where_requests_run);
	RUN(test_busy_locks_go_to_workers);
	RUN(test_ordered_requests_wait_for_their_file);
	RUN(test_named_handle_waits_for_its_maker);
	RUN(test_named_handle_life);
	return tap_done();
}
