// SPDX-License-Identifier: GPL-2.0-only
/*
 * pd-backend's request handlers (hostd/backend/ops.c) fed hostile and
 * valid requests through a transport that records replies in memory. The
 * "device files" are /dev/null and /dev/zero described by hand, so the
 * test needs no device and no kernel module. What it proves: every bad
 * header or body gets its errno and nothing else (no crash, no file
 * opened), requests before CONNECT are refused, handles are checked, and
 * valid requests do what they say; the guest's clock offsets (PD_OP_CLOCK)
 * make evdev event times the guest's.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/input.h>

#ifndef __user
#define __user
#endif
#include <drm/drm.h>
#include <drm/drm_mode.h>
#include <linux/videodev2.h>
#include <sound/asound.h>

#include "backend.h"
#include "nodisplay.h"
#include "v4l2own.h"
#include "tap.h"

/* The last message the backend sent. */
static uint8_t last[PD_WIRE_MAX_IO + 256];
static size_t last_len;
static int sent;

static int mem_send(struct be_transport *t, const void *msg, size_t len)
{
	(void)t;
	if (len > sizeof(last))
		return -1;
	memcpy(last, msg, len);
	last_len = len;
	sent++;
	return 0;
}

static int attached;

static int mem_attach(struct be_transport *t, uint32_t handle, int fd)
{
	(void)t;
	(void)handle;
	(void)fd;
	attached++;
	return 0;
}

static const struct be_transport_impl mem_impl = {
	.name = "memory",
	.features = PD_WIRE_FEAT_POLL_EVENTS | PD_WIRE_FEAT_CANCEL |
		    PD_WIRE_FEAT_NEWFD,
	.send = mem_send,
	.attach = mem_attach,
};

static struct be_transport mem_tp = { .impl = &mem_impl, .fd = -1 };
static struct be_export exports[2];
static struct be be;

static void setup(void)
{
	if (be.tp) {
		be_maps_finish(&be);
		be_handles_finish(&be);
		pthread_mutex_destroy(&be.lock);
	}
	memset(&be, 0, sizeof(be));
	be.tp = &mem_tp;
	be.name = "test";
	be.epfd = be.wakefd = be.sigfd = -1;
	pthread_mutex_init(&be.lock, NULL);
	strcpy(exports[0].path, "/dev/zero");
	exports[0].info.class = PD_WIRE_CLASS_EVDEV;
	strcpy(exports[0].info.name, "event0");
	strcpy(exports[1].path, "/dev/null");
	exports[1].info.class = PD_WIRE_CLASS_V4L2;
	strcpy(exports[1].info.name, "video0");
	be.exports = exports;
	be.nexports = 2;
}

/* Run one request with flags; returns the reply's result (checks it is
 * a reply to it) and leaves the body in last + sizeof(hdr). */
static int64_t call_flags(uint16_t op, uint32_t handle, uint16_t flags,
			  const void *body, uint32_t len)
{
	static uint64_t id;
	struct be_job job = { 0 };
	struct pd_wire_hdr rh;

	job.hdr.id = ++id;
	job.hdr.flags = flags;
	job.hdr.op = op;
	job.hdr.handle = handle;
	job.hdr.len = len;
	job.body = malloc(len ? len : 1);
	if (len)
		memcpy(job.body, body, len);
	sent = 0;
	be_run_job(&be, &job);
	free(job.body);
	CHECK_EQ(sent, 1);
	memcpy(&rh, last, sizeof(rh));
	CHECK_EQ(rh.id, id);
	CHECK_EQ(rh.op, op);
	CHECK(rh.flags & PD_WIRE_F_REPLY);
	CHECK_EQ(rh.len, last_len - sizeof(rh));
	return rh.result;
}

static int64_t call(uint16_t op, uint32_t handle, const void *body,
		    uint32_t len)
{
	return call_flags(op, handle, 0, body, len);
}

static size_t body_len(void)
{
	return last_len - sizeof(struct pd_wire_hdr);
}

static void connect_ok(void)
{
	struct pd_wire_connect c = {
		.major = PD_WIRE_VERSION_MAJOR, .max_msg = PD_WIRE_MAX_MSG,
		.features = PD_WIRE_FEAT_ALL,
	};

	CHECK_EQ(call(PD_OP_CONNECT, PD_WIRE_HANDLE_NONE, &c, sizeof(c)), 0);
}

static uint32_t open_ok(uint32_t index, uint32_t flags)
{
	struct pd_wire_open_req o = { .index = index, .flags = flags };
	struct pd_wire_open_rsp r;

	CHECK_EQ(call(PD_OP_OPEN, PD_WIRE_HANDLE_NONE, &o, sizeof(o)), 0);
	CHECK_EQ(body_len(), sizeof(r));
	memcpy(&r, last + sizeof(struct pd_wire_hdr), sizeof(r));
	CHECK_EQ(r.class, exports[index].info.class);
	return r.handle;
}

static void test_nothing_before_connect(void)
{
	struct pd_wire_export_req e = { 0 };
	struct pd_wire_open_req o = { 0 };

	setup();
	CHECK_EQ(call(PD_OP_EXPORT_INFO, PD_WIRE_HANDLE_NONE, &e, sizeof(e)),
		 -ENOTCONN);
	CHECK_EQ(call(PD_OP_OPEN, PD_WIRE_HANDLE_NONE, &o, sizeof(o)),
		 -ENOTCONN);
	CHECK_EQ(attached, 0);
}

static void test_connect_checks(void)
{
	struct pd_wire_connect c = {
		.major = PD_WIRE_VERSION_MAJOR + 1, .features = PD_WIRE_FEAT_ALL,
	}, r;

	setup();
	CHECK_EQ(call(PD_OP_CONNECT, PD_WIRE_HANDLE_NONE, &c, sizeof(c)),
		 -EPROTO);
	CHECK_EQ(call(PD_OP_CONNECT, PD_WIRE_HANDLE_NONE, &c, 3), -EINVAL);
	c.major = PD_WIRE_VERSION_MAJOR;
	CHECK_EQ(call(PD_OP_CONNECT, PD_WIRE_HANDLE_NONE, &c, sizeof(c)), 0);
	CHECK_EQ(body_len(), sizeof(r));
	memcpy(&r, last + sizeof(struct pd_wire_hdr), sizeof(r));
	CHECK_EQ(r.nexports, 2);
	/* only what both the guest and the transport have, and the clock
	 * offsets, revocations, asynchronous (and ordered) requests, poll
	 * sequences and states and pushed events, which need nothing of the
	 * transport; named new files need the transport's new files */
	CHECK_EQ(r.features, mem_impl.features | PD_WIRE_FEAT_CLOCK |
		 PD_WIRE_FEAT_REVOKE | PD_WIRE_FEAT_ASYNC |
		 PD_WIRE_FEAT_ASYNC_ORDERED |
		 (mem_impl.features & PD_WIRE_FEAT_NEWFD ?
		  PD_WIRE_FEAT_NEWFD_NAMED : 0) |
		 PD_WIRE_FEAT_POLL_SEQ | PD_WIRE_FEAT_POLL_STATE |
		 PD_WIRE_FEAT_EVENT_PUSH);
}

static void test_export_info(void)
{
	struct pd_wire_export_req e = { .index = 1 };
	struct pd_wire_export x;

	setup();
	connect_ok();
	CHECK_EQ(call(PD_OP_EXPORT_INFO, PD_WIRE_HANDLE_NONE, &e, sizeof(e)), 0);
	memcpy(&x, last + sizeof(struct pd_wire_hdr), sizeof(x));
	CHECK(!strcmp(x.name, "video0"));
	e.index = 2;
	CHECK_EQ(call(PD_OP_EXPORT_INFO, PD_WIRE_HANDLE_NONE, &e, sizeof(e)),
		 -EINVAL);
	e.index = 0xffffffffu;
	CHECK_EQ(call(PD_OP_EXPORT_INFO, PD_WIRE_HANDLE_NONE, &e, sizeof(e)),
		 -EINVAL);
	e.index = 0;
	e.reserved = 1;
	CHECK_EQ(call(PD_OP_EXPORT_INFO, PD_WIRE_HANDLE_NONE, &e, sizeof(e)),
		 -EINVAL);
}

static void test_open_checks(void)
{
	struct pd_wire_open_req o = { .index = 7 };

	setup();
	connect_ok();
	attached = 0;
	CHECK_EQ(call(PD_OP_OPEN, PD_WIRE_HANDLE_NONE, &o, sizeof(o)), -EINVAL);
	o.index = 0;
	o.flags = 3;	/* no such access mode */
	CHECK_EQ(call(PD_OP_OPEN, PD_WIRE_HANDLE_NONE, &o, sizeof(o)), -EINVAL);
	o.flags = 1u << 12;	/* unknown flag */
	CHECK_EQ(call(PD_OP_OPEN, PD_WIRE_HANDLE_NONE, &o, sizeof(o)), -EINVAL);
	CHECK_EQ(call(PD_OP_OPEN, PD_WIRE_HANDLE_NONE, &o, 4), -EINVAL);
	CHECK_EQ(attached, 0);
	open_ok(0, PD_WIRE_O_RDONLY);
	CHECK_EQ(attached, 1);	/* the real file named for mmap */
}

static void test_read_write_llseek(void)
{
	struct pd_wire_read_req r = { .count = 100 };
	struct pd_wire_llseek_req l = { .whence = 9 };
	struct pd_wire_write_req wr = { .count = 5 };
	uint8_t w[sizeof(wr) + 5];
	uint32_t zero, null;
	uint8_t *data;

	setup();
	connect_ok();
	zero = open_ok(0, PD_WIRE_O_RDONLY);
	null = open_ok(1, PD_WIRE_O_WRONLY);
	CHECK_EQ(call(PD_OP_READ, zero, &r, sizeof(r)), 100);
	CHECK_EQ(body_len(), sizeof(struct pd_wire_io_rsp) + 100);
	data = last + sizeof(struct pd_wire_hdr) + sizeof(struct pd_wire_io_rsp);
	CHECK(data[0] == 0 && data[99] == 0);
	r.count = PD_WIRE_MAX_IO + 1;
	CHECK_EQ(call(PD_OP_READ, zero, &r, sizeof(r)), -EINVAL);
	r.count = 1;
	/* pushed events agreed, an evdev file: a read that says it has seen
	 * what was never pushed crossed nothing real, but cannot be told
	 * from one that did */
	r.seen = 5;
	CHECK_EQ(call(PD_OP_READ, zero, &r, sizeof(r)), -ESTALE);
	r.seen = 0;
	CHECK_EQ(call(PD_OP_READ, zero, &r, sizeof(r)), 1);
	CHECK_EQ(call(PD_OP_READ, zero, &r, sizeof(r) - 1), -EINVAL);
	memcpy(w, &wr, sizeof(wr));
	memcpy(w + sizeof(wr), "abcde", 5);
	CHECK_EQ(call(PD_OP_WRITE, null, w, sizeof(w)), 5);
	wr.count = 6;	/* more than the message carries */
	memcpy(w, &wr, sizeof(wr));
	CHECK_EQ(call(PD_OP_WRITE, null, w, sizeof(w)), -EINVAL);
	wr.count = 0xffffffffu;
	memcpy(w, &wr, sizeof(wr));
	CHECK_EQ(call(PD_OP_WRITE, null, w, sizeof(w)), -EINVAL);
	CHECK_EQ(call(PD_OP_WRITE, null, w, 3), -EINVAL);
	CHECK_EQ(call(PD_OP_LLSEEK, zero, &l, sizeof(l)), -EINVAL);
}

static int64_t now_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*
 * PD_OP_CLOCK: refused unless agreed at CONNECT; a bad body, flags or an
 * offset that could overflow gets its errno and changes nothing; a query
 * answers our clocks; a SET makes our times the guest's
 * (be_clock_to_guest) and evdev events read from the real file carry
 * the guest's time of the clock the file was told (REALTIME until
 * EVIOCSCLOCKID; here /dev/zero reads as events at time 0).
 */
static void test_clock_offsets(void)
{
	struct pd_wire_connect c = {
		.major = PD_WIRE_VERSION_MAJOR, .max_msg = PD_WIRE_MAX_MSG,
		.features = PD_WIRE_FEAT_POLL_EVENTS,
	};
	struct pd_wire_clock_req q = { 0 };
	struct pd_wire_clock_rsp rsp;
	struct pd_wire_read_req rd = { .count = 2 * sizeof(struct input_event) };
	struct input_event ev[2];
	struct be_handle *h;
	int64_t t0, t1;
	uint32_t zero;

	setup();
	CHECK_EQ(call(PD_OP_CONNECT, PD_WIRE_HANDLE_NONE, &c, sizeof(c)), 0);
	CHECK_EQ(call(PD_OP_CLOCK, PD_WIRE_HANDLE_NONE, &q, sizeof(q)),
		 -EOPNOTSUPP);
	setup();
	connect_ok();
	CHECK_EQ(call(PD_OP_CLOCK, PD_WIRE_HANDLE_NONE, &q, sizeof(q) - 1),
		 -EINVAL);
	q.flags = 2;
	CHECK_EQ(call(PD_OP_CLOCK, PD_WIRE_HANDLE_NONE, &q, sizeof(q)),
		 -EINVAL);
	q.flags = PD_WIRE_CLOCK_SET;
	q.offset_ns[PD_WIRE_CLOCK_BOOTTIME] = INT64_MIN;
	CHECK_EQ(call(PD_OP_CLOCK, PD_WIRE_HANDLE_NONE, &q, sizeof(q)),
		 -ERANGE);
	CHECK_EQ(be_clock_to_guest(&be, PD_WIRE_CLOCK_BOOTTIME, 7), 7);
	/* a query: our clocks, now */
	q.flags = 0;
	t0 = now_ns(CLOCK_MONOTONIC);
	CHECK_EQ(call(PD_OP_CLOCK, PD_WIRE_HANDLE_NONE, &q, sizeof(q)), 0);
	t1 = now_ns(CLOCK_MONOTONIC);
	CHECK_EQ(body_len(), sizeof(rsp));
	memcpy(&rsp, last + sizeof(struct pd_wire_hdr), sizeof(rsp));
	CHECK(rsp.now_ns[PD_WIRE_CLOCK_MONOTONIC] >= t0 &&
	      rsp.now_ns[PD_WIRE_CLOCK_MONOTONIC] <= t1);
	CHECK(llabs(rsp.now_ns[PD_WIRE_CLOCK_REALTIME] -
		    now_ns(CLOCK_REALTIME)) < 1000000000);
	CHECK_EQ(be_clock_to_guest(&be, PD_WIRE_CLOCK_MONOTONIC, 7), 7);
	/* the guest's monotonic clock is 60 s behind ours (it booted
	 * later), its wall clock 1.5 s ahead */
	q.flags = PD_WIRE_CLOCK_SET;
	q.offset_ns[PD_WIRE_CLOCK_MONOTONIC] = -INT64_C(60000000000);
	q.offset_ns[PD_WIRE_CLOCK_BOOTTIME] = -INT64_C(61000000000);
	q.offset_ns[PD_WIRE_CLOCK_REALTIME] = INT64_C(1500000000);
	CHECK_EQ(call(PD_OP_CLOCK, PD_WIRE_HANDLE_NONE, &q, sizeof(q)), 0);
	CHECK_EQ(be_clock_to_guest(&be, PD_WIRE_CLOCK_MONOTONIC,
				   INT64_C(213000000000)), INT64_C(153000000000));
	CHECK_EQ(be_clock_to_guest(&be, PD_WIRE_CLOCK_BOOTTIME,
				   INT64_C(213000000000)), INT64_C(152000000000));
	/* evdev: REALTIME until told otherwise */
	zero = open_ok(0, PD_WIRE_O_RDONLY);
	CHECK_EQ(call(PD_OP_READ, zero, &rd, sizeof(rd)), sizeof(ev));
	memcpy(ev, last + sizeof(struct pd_wire_hdr) +
	       sizeof(struct pd_wire_io_rsp), sizeof(ev));
	CHECK_EQ(ev[0].input_event_sec, 1);
	CHECK_EQ(ev[0].input_event_usec, 500000);
	CHECK_EQ(ev[1].input_event_sec, 1);
	CHECK_EQ(ev[1].type, 0);
	/* as after EVIOCSCLOCKID(CLOCK_MONOTONIC): a time before the guest's
	 * clock began is its 0 */
	h = be_handle_get(&be, zero);
	CHECK(h != NULL);
	atomic_store(&h->evdev_clock, CLOCK_MONOTONIC);
	be_handle_put(&be, h);
	CHECK_EQ(call(PD_OP_READ, zero, &rd, sizeof(rd)), sizeof(ev));
	memcpy(ev, last + sizeof(struct pd_wire_hdr) +
	       sizeof(struct pd_wire_io_rsp), sizeof(ev));
	CHECK_EQ(ev[0].input_event_sec, 0);
	CHECK_EQ(ev[0].input_event_usec, 0);
	/* and a dom0 time 213.25 s is the guest's 153.25 s */
	ev[0].input_event_sec = 213;
	ev[0].input_event_usec = 250000;
	ev[1] = ev[0];
	be_clock_evdev_fix(&be, CLOCK_MONOTONIC, ev, sizeof(ev) - 1);
	CHECK_EQ(ev[0].input_event_sec, 153);
	CHECK_EQ(ev[0].input_event_usec, 250000);
	CHECK_EQ(ev[1].input_event_sec, 213);	/* partial: left alone */
	be_clock_evdev_fix(&be, CLOCK_BOOTTIME, ev, sizeof(ev[0]));
	CHECK_EQ(ev[0].input_event_sec, 92);
	be_clock_evdev_fix(&be, CLOCK_TAI, ev, sizeof(ev[0]));	/* not evdev's */
	CHECK_EQ(ev[0].input_event_sec, 92);
	/* what is not a time is left alone, never overflowing */
	ev[0].input_event_sec = INT64_MAX / 1000;
	be_clock_evdev_fix(&be, CLOCK_MONOTONIC, ev, sizeof(ev[0]));
	CHECK_EQ(ev[0].input_event_sec, INT64_MAX / 1000);
	ev[0].input_event_sec = 213;
	ev[0].input_event_usec = LONG_MAX;
	be_clock_evdev_fix(&be, CLOCK_MONOTONIC, ev, sizeof(ev[0]));
	CHECK_EQ(ev[0].input_event_sec, 213);
	CHECK_EQ(ev[0].input_event_usec, LONG_MAX);
}

static void set_ts(void *at, int64_t sec, int64_t nsec)
{
	memcpy(at, &sec, 8);
	memcpy((uint8_t *)at + 8, &nsec, 8);
}

static int ts_is(const void *at, int64_t sec, int64_t nsec)
{
	int64_t s, n;

	memcpy(&s, at, 8);
	memcpy(&n, (const uint8_t *)at + 8, 8);
	return s == sec && n == nsec;
}

/*
 * ALSA PCM status stamps (be_clock_snd_fix): in the clock the guest
 * chose, gettimeofday until TTSTAMP or SW_PARAMS (protocol 2.0.12 or
 * later) chose another; SYNC_PTR's and STATUS's system times made the
 * guest's, 0 and what is not a time left alone, the audio time (not a
 * system clock) untouched; be_clock_offset_set says whether a guest's
 * clock differs (maps.c then refuses the status page).
 */
static void test_clock_snd_status(void)
{
	struct pd_wire_clock_req q = { .flags = PD_WIRE_CLOCK_SET };
	struct snd_pcm_sync_ptr sp;
	struct snd_pcm_status st;
	struct snd_pcm_sw_params sw;
	atomic_int type = 0;
	int v;

	setup();
	connect_ok();
	CHECK(!be_clock_offset_set(&be));
	q.offset_ns[PD_WIRE_CLOCK_MONOTONIC] = -INT64_C(60000000000);
	q.offset_ns[PD_WIRE_CLOCK_REALTIME] = INT64_C(1500000000);
	CHECK_EQ(call(PD_OP_CLOCK, PD_WIRE_HANDLE_NONE, &q, sizeof(q)), 0);
	CHECK(be_clock_offset_set(&be));
	/* gettimeofday: the wall clock, 1.5 s ahead */
	memset(&sp, 0, sizeof(sp));
	set_ts(&sp.s.status.tstamp, 213, 750000000);
	set_ts(&sp.s.status.audio_tstamp, 5, 0);
	be_clock_snd_fix(&be, &type, SNDRV_PCM_IOCTL_SYNC_PTR, &sp);
	CHECK(ts_is(&sp.s.status.tstamp, 215, 250000000));
	CHECK(ts_is(&sp.s.status.audio_tstamp, 5, 0));
	/* TTSTAMP(MONOTONIC): 60 s behind */
	v = SNDRV_PCM_TSTAMP_TYPE_MONOTONIC;
	be_clock_snd_fix(&be, &type, SNDRV_PCM_IOCTL_TTSTAMP, &v);
	CHECK_EQ(atomic_load(&type), SNDRV_PCM_TSTAMP_TYPE_MONOTONIC);
	set_ts(&sp.s.status.tstamp, 213, 750000000);
	be_clock_snd_fix(&be, &type, SNDRV_PCM_IOCTL_SYNC_PTR, &sp);
	CHECK(ts_is(&sp.s.status.tstamp, 153, 750000000));
	/* no stamp yet, a stamp before the guest's clock began, not a time */
	set_ts(&sp.s.status.tstamp, 0, 0);
	be_clock_snd_fix(&be, &type, SNDRV_PCM_IOCTL_SYNC_PTR, &sp);
	CHECK(ts_is(&sp.s.status.tstamp, 0, 0));
	set_ts(&sp.s.status.tstamp, 59, 0);
	be_clock_snd_fix(&be, &type, SNDRV_PCM_IOCTL_SYNC_PTR, &sp);
	CHECK(ts_is(&sp.s.status.tstamp, 0, 0));
	set_ts(&sp.s.status.tstamp, 100, 1000000000);
	be_clock_snd_fix(&be, &type, SNDRV_PCM_IOCTL_SYNC_PTR, &sp);
	CHECK(ts_is(&sp.s.status.tstamp, 100, 1000000000));
	set_ts(&sp.s.status.tstamp, INT64_MAX, 0);
	be_clock_snd_fix(&be, &type, SNDRV_PCM_IOCTL_SYNC_PTR, &sp);
	CHECK(ts_is(&sp.s.status.tstamp, INT64_MAX, 0));
	/* STATUS and STATUS_EXT: trigger, now and driver stamps */
	memset(&st, 0, sizeof(st));
	set_ts(&st.trigger_tstamp, 100, 0);
	set_ts(&st.tstamp, 101, 5);
	set_ts(&st.driver_tstamp, 102, 0);
	set_ts(&st.audio_tstamp, 1, 0);
	be_clock_snd_fix(&be, &type, SNDRV_PCM_IOCTL_STATUS, &st);
	CHECK(ts_is(&st.trigger_tstamp, 40, 0));
	CHECK(ts_is(&st.tstamp, 41, 5));
	CHECK(ts_is(&st.driver_tstamp, 42, 0));
	CHECK(ts_is(&st.audio_tstamp, 1, 0));
	be_clock_snd_fix(&be, &type, SNDRV_PCM_IOCTL_STATUS_EXT, &st);
	CHECK(ts_is(&st.tstamp, 0, 0));	/* 41 s before its clock began */
	/* MONOTONIC_RAW takes the monotonic offset */
	v = SNDRV_PCM_TSTAMP_TYPE_MONOTONIC_RAW;
	be_clock_snd_fix(&be, &type, SNDRV_PCM_IOCTL_TTSTAMP, &v);
	set_ts(&sp.s.status.tstamp, 70, 0);
	be_clock_snd_fix(&be, &type, SNDRV_PCM_IOCTL_SYNC_PTR, &sp);
	CHECK(ts_is(&sp.s.status.tstamp, 10, 0));
	/* an unknown type is not kept */
	v = SNDRV_PCM_TSTAMP_TYPE_LAST + 1;
	be_clock_snd_fix(&be, &type, SNDRV_PCM_IOCTL_TTSTAMP, &v);
	CHECK_EQ(atomic_load(&type), SNDRV_PCM_TSTAMP_TYPE_MONOTONIC_RAW);
	/* SW_PARAMS chooses from protocol 2.0.12 on */
	memset(&sw, 0, sizeof(sw));
	sw.proto = SNDRV_PROTOCOL_VERSION(2, 0, 11);
	sw.tstamp_type = SNDRV_PCM_TSTAMP_TYPE_GETTIMEOFDAY;
	be_clock_snd_fix(&be, &type, SNDRV_PCM_IOCTL_SW_PARAMS, &sw);
	CHECK_EQ(atomic_load(&type), SNDRV_PCM_TSTAMP_TYPE_MONOTONIC_RAW);
	sw.proto = SNDRV_PROTOCOL_VERSION(2, 0, 12);
	be_clock_snd_fix(&be, &type, SNDRV_PCM_IOCTL_SW_PARAMS, &sw);
	CHECK_EQ(atomic_load(&type), SNDRV_PCM_TSTAMP_TYPE_GETTIMEOFDAY);
	sw.tstamp_type = 9;
	be_clock_snd_fix(&be, &type, SNDRV_PCM_IOCTL_SW_PARAMS, &sw);
	CHECK_EQ(atomic_load(&type), SNDRV_PCM_TSTAMP_TYPE_GETTIMEOFDAY);
	/* other commands: nothing */
	set_ts(&st.tstamp, 101, 0);
	be_clock_snd_fix(&be, &type, SNDRV_PCM_IOCTL_HWSYNC, &st);
	CHECK(ts_is(&st.tstamp, 101, 0));
}

static void test_handles_are_checked(void)
{
	struct pd_wire_read_req r = { .count = 1 };
	uint32_t h;

	setup();
	connect_ok();
	CHECK_EQ(call(PD_OP_READ, 0, &r, sizeof(r)), -EBADF);
	CHECK_EQ(call(PD_OP_READ, 0xfffffffeu, &r, sizeof(r)), -EBADF);
	h = open_ok(0, PD_WIRE_O_RDONLY);
	CHECK_EQ(call(PD_OP_READ, h, &r, sizeof(r)), 1);
	CHECK_EQ(call(PD_OP_RELEASE, h, NULL, 0), 0);
	CHECK_EQ(call(PD_OP_READ, h, &r, sizeof(r)), -EBADF);
	CHECK_EQ(call(PD_OP_RELEASE, h, NULL, 0), -EBADF);
	/* a new handle never takes an old one's number */
	CHECK(open_ok(0, PD_WIRE_O_RDONLY) != h);
}

/* Open/close churn reuses the slots (the table does not grow), a stale
 * handle of a reused slot names nothing, and max.handles caps what is
 * open at once with EMFILE. */
static void test_handles_are_reused_and_capped(void)
{
	struct pd_wire_read_req r = { .count = 1 };
	uint32_t h, first, held[4];

	setup();
	connect_ok();
	first = open_ok(0, PD_WIRE_O_RDONLY);
	CHECK_EQ(call(PD_OP_RELEASE, first, NULL, 0), 0);
	for (int i = 0; i < 5000; i++) {
		h = open_ok(0, PD_WIRE_O_RDONLY);
		CHECK_EQ(call(PD_OP_RELEASE, h, NULL, 0), 0);
	}
	CHECK_EQ(be.nhandles, 64);
	CHECK_EQ(be.open_handles, 0);
	h = open_ok(0, PD_WIRE_O_RDONLY);
	CHECK_EQ(h & 0xfffff, first & 0xfffff);	/* the same slot */
	CHECK(h != first);			/* another generation */
	CHECK_EQ(call(PD_OP_READ, first, &r, sizeof(r)), -EBADF);
	CHECK_EQ(call(PD_OP_RELEASE, first, NULL, 0), -EBADF);
	CHECK_EQ(call(PD_OP_READ, h, &r, sizeof(r)), 1);
	CHECK_EQ(call(PD_OP_RELEASE, h, NULL, 0), 0);

	be.max.handles = 4;
	for (int i = 0; i < 4; i++)
		held[i] = open_ok(0, PD_WIRE_O_RDONLY);
	CHECK_EQ(call(PD_OP_OPEN, PD_WIRE_HANDLE_NONE, &(struct
		 pd_wire_open_req){ .index = 0, .flags = PD_WIRE_O_RDONLY },
		 sizeof(struct pd_wire_open_req)), -EMFILE);
	CHECK_EQ(call(PD_OP_RELEASE, held[2], NULL, 0), 0);
	CHECK(open_ok(0, PD_WIRE_O_RDONLY) != held[2]);
}

/* Request bodies in flight are capped per guest: past max.inflight a
 * charge is refused, and a freed job gives its bytes back. */
static void test_inflight_bytes_capped(void)
{
	struct be_job *job;

	setup();
	be.max.inflight = 1000;
	CHECK(be_inflight_charge(&be, 600));
	CHECK(!be_inflight_charge(&be, 401));
	CHECK(be_inflight_charge(&be, 400));
	CHECK_EQ(be.inflight, 1000);
	CHECK(!be_inflight_charge(&be, 1));
	job = calloc(1, sizeof(*job));
	job->owner = &be;
	job->charged = 600;
	be_job_free(job);
	CHECK_EQ(be.inflight, 400);
	CHECK(be_inflight_charge(&be, 600));
	be_inflight_uncharge(&be, 1000);
	CHECK_EQ(be.inflight, 0);
	/* 0: the default, 64 MiB, where the wire's largest message (4 MiB
	 * and a header's worth) fits 15 times, not 128 */
	be.max.inflight = 0;
	for (int i = 0; i < 15; i++)
		CHECK(be_inflight_charge(&be, PD_WIRE_MAX_MSG));
	CHECK(!be_inflight_charge(&be, PD_WIRE_MAX_MSG));
	be_inflight_uncharge(&be, 15 * PD_WIRE_MAX_MSG);
}

static void test_bad_ioctls_get_errnos(void)
{
	uint8_t junk[64];
	struct pd_wire_ioctl_req q = { .cmd = 0x12345678 };
	uint32_t h;

	setup();
	connect_ok();
	h = open_ok(0, PD_WIRE_O_RDONLY);
	memset(junk, 0xa5, sizeof(junk));
	CHECK(call(PD_OP_IOCTL, h, junk, sizeof(junk)) < 0);
	CHECK_EQ(body_len(), 0);
	CHECK(call(PD_OP_IOCTL, h, junk, 3) < 0);
	CHECK_EQ(call(PD_OP_IOCTL, h, &q, sizeof(q)), -ENOTTY);
	CHECK_EQ(body_len(), 0);
}

/* A class's hooks (struct be_class_hooks), counted: what they answer. */
static int n_opened, n_read, n_poll, n_release;

static void hk_opened(void *data, struct be_handle *h)
{
	CHECK(data == &n_opened);
	CHECK_EQ(h->dev_class, PD_WIRE_CLASS_V4L2);
	n_opened++;
}

static bool hk_read(void *data, struct be_handle *h, void *buf,
		    size_t count, bool nonblock, uint32_t seen, ssize_t *n)
{
	(void)seen;
	(void)data;
	(void)h;
	(void)nonblock;
	memset(buf, 'h', count);
	*n = (ssize_t)count;
	n_read++;
	return true;
}

static uint32_t hk_poll(void *data, struct be_handle *h)
{
	(void)data;
	(void)h;
	n_poll++;
	return POLLPRI;
}

static void hk_release(void *data, struct be_handle *h)
{
	(void)data;
	(void)h;
	n_release++;
}

static const struct be_class_hooks counted = {
	.opened = hk_opened, .read = hk_read, .poll = hk_poll,
	.release = hk_release,
};

/* The dispatcher reaches class-specific behaviour only through the table
 * set on a handle at open: a file of the hooked class (video0, /dev/null
 * here) gets its read and poll from the hooks, its open and release are
 * told; a file of another class (event0, /dev/zero) is plainly forwarded
 * and no hook is called for it. */
static void test_class_hooks(void)
{
	struct pd_wire_read_req r = { .count = 4 };
	struct pd_wire_poll_req pr = { .events = POLLIN | POLLPRI };
	uint32_t zero, null;
	uint8_t *data;

	setup();
	be.hooks[PD_WIRE_CLASS_V4L2] = &counted;
	be.hooks_data[PD_WIRE_CLASS_V4L2] = &n_opened;
	connect_ok();
	zero = open_ok(0, PD_WIRE_O_RDONLY);
	CHECK_EQ(n_opened, 0);
	null = open_ok(1, PD_WIRE_O_RDWR);
	CHECK_EQ(n_opened, 1);
	/* /dev/null would read 0 bytes: the hook answers */
	CHECK_EQ(call(PD_OP_READ, null, &r, sizeof(r)), 4);
	data = last + sizeof(struct pd_wire_hdr) + sizeof(struct pd_wire_io_rsp);
	CHECK(data[0] == 'h' && data[3] == 'h');
	CHECK_EQ(call(PD_OP_READ, zero, &r, sizeof(r)), 4);
	CHECK(data[0] == 0 && data[3] == 0);
	CHECK_EQ(n_read, 1);
	CHECK(call(PD_OP_POLL, null, &pr, sizeof(pr)) & POLLPRI);
	CHECK_EQ(n_poll, 1);
	CHECK(!(call(PD_OP_POLL, zero, &pr, sizeof(pr)) & POLLPRI));
	CHECK_EQ(n_poll, 1);
	CHECK_EQ(call(PD_OP_RELEASE, zero, NULL, 0), 0);
	CHECK_EQ(n_release, 0);
	CHECK_EQ(call(PD_OP_RELEASE, null, NULL, 0), 0);
	CHECK_EQ(n_release, 1);
}

/* One ioctl whose argument is a single buffer of at most 128 bytes (or
 * none): in's bytes, or zeros. */
static int64_t buf_ioctl(uint32_t h, unsigned int cmd, const void *in)
{
	uint8_t m[sizeof(struct pd_wire_ioctl_req) + 128 +
		  sizeof(struct pd_wire_buf)] = { 0 };
	struct pd_wire_ioctl_req q = { .cmd = cmd };
	struct pd_wire_buf b = { .flags = PD_WIRE_BUF_IN | PD_WIRE_BUF_OUT };
	uint32_t len = _IOC_SIZE(cmd), pad = (len + 7) & ~7u;

	CHECK(len <= 128);
	if (len) {
		q.nbufs = 1;
		q.data_len = len;
		b.len = len;
		if (in)
			memcpy(m + sizeof(q), in, len);
		memcpy(m + sizeof(q) + pad, &b, sizeof(b));
	}
	memcpy(m, &q, sizeof(q));
	return call(PD_OP_IOCTL, h, m,
		    sizeof(q) + (len ? pad + sizeof(b) : 0));
}

static int64_t drm_ioctl(uint32_t h, unsigned int cmd)
{
	return buf_ioctl(h, cmd, NULL);
}

/* A guest's card that no hostd shows (nodisplay.c): what the card keeps
 * for its master is answered as for a client that is not master, and the
 * real file never sees it (/dev/null would say ENOTTY); other ioctls
 * still reach it. */
static void test_card_without_display_keeps_master_ioctls(void)
{
	uint32_t h;

	setup();
	exports[1].info.class = PD_WIRE_CLASS_DRM;
	exports[1].info.driver = PD_WIRE_DRIVER_DRM_GENERIC;
	be.hooks[PD_WIRE_CLASS_DRM] = &be_nodisplay_hooks;
	be.hooks_data[PD_WIRE_CLASS_DRM] = &be;
	connect_ok();
	h = open_ok(1, PD_WIRE_O_RDWR);
	CHECK_EQ(drm_ioctl(h, DRM_IOCTL_SET_MASTER), -EBUSY);
	CHECK_EQ(drm_ioctl(h, DRM_IOCTL_DROP_MASTER), -EINVAL);
	CHECK_EQ(drm_ioctl(h, DRM_IOCTL_MODE_PAGE_FLIP), -EACCES);
	CHECK_EQ(drm_ioctl(h, DRM_IOCTL_GET_CAP), -ENOTTY);
	CHECK_EQ(drm_ioctl(h, DRM_IOCTL_DROP_MASTER), -EINVAL);
	/* the same file without the hooks: plain forwarding */
	be.hooks[PD_WIRE_CLASS_DRM] = NULL;
	h = open_ok(1, PD_WIRE_O_RDWR);
	CHECK_EQ(drm_ioctl(h, DRM_IOCTL_SET_MASTER), -ENOTTY);
	exports[1].info.class = PD_WIRE_CLASS_V4L2;
	exports[1].info.driver = PD_WIRE_DRIVER_NONE;
}

/* A V4L2 queue's buffers are the file's that made them (v4l2own.c): a
 * file that made none gets EBUSY for QUERYBUF, EXPBUF and mmap, where
 * Linux would answer any opener (/dev/null says ENOTTY: the hook answered,
 * the file was not asked); REQBUFS itself reaches the file. */
static void test_v4l2_buffers_are_their_owners(void)
{
	struct v4l2_buffer qb = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
				  .memory = V4L2_MEMORY_MMAP };
	struct v4l2_requestbuffers rb = { .count = 4,
					  .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
					  .memory = V4L2_MEMORY_MMAP };
	struct pd_wire_mmap_req mm = { 0 };
	uint32_t h;

	setup();
	be.hooks[PD_WIRE_CLASS_V4L2] = &be_v4l2own_hooks;
	be.hooks_data[PD_WIRE_CLASS_V4L2] = &be;
	connect_ok();
	h = open_ok(1, PD_WIRE_O_RDWR);
	CHECK_EQ(buf_ioctl(h, VIDIOC_REQBUFS, &rb), -ENOTTY);
	CHECK_EQ(buf_ioctl(h, VIDIOC_QUERYBUF, &qb), -EBUSY);
	CHECK_EQ(buf_ioctl(h, VIDIOC_EXPBUF, NULL), -EBUSY);
	CHECK_EQ(call(PD_OP_MMAP, h, &mm, sizeof(mm)), -EBUSY);
	/* without the hooks: the file is asked */
	be.hooks[PD_WIRE_CLASS_V4L2] = NULL;
	h = open_ok(1, PD_WIRE_O_RDWR);
	CHECK_EQ(buf_ioctl(h, VIDIOC_QUERYBUF, &qb), -ENOTTY);
}

/* hostd's CAMERA (the camera went to another guest): every guest file of
 * that path gets PD_EV_REVOKE with the reason and then ENODEV for all but
 * FLUSH and RELEASE, as an unplugged device answers; the guest's other
 * files are untouched; a new open works but gets no buffers (REQBUFS,
 * read: EBUSY) until hostd says the camera is the guest's again (then
 * REQBUFS reaches the file: /dev/null says ENOTTY). */
static void test_v4l2_camera_taken_away(void)
{
	struct v4l2_requestbuffers rb = { .count = 4,
					  .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
					  .memory = V4L2_MEMORY_MMAP };
	struct pd_wire_read_req r = { .count = 8 };
	struct pd_wire_write_req wr = { .count = 1 };
	struct pd_wire_revoke_ev ev;
	struct pd_wire_hdr eh;
	uint8_t w[sizeof(wr) + 1];
	uint32_t zero, v1, v2, v3;

	setup();
	be.hooks[PD_WIRE_CLASS_V4L2] = &be_v4l2own_hooks;
	be.hooks_data[PD_WIRE_CLASS_V4L2] = &be;
	connect_ok();
	zero = open_ok(0, PD_WIRE_O_RDONLY);
	v1 = open_ok(1, PD_WIRE_O_RDWR);
	v2 = open_ok(1, PD_WIRE_O_RDWR);
	memcpy(w, &wr, sizeof(wr));
	w[sizeof(wr)] = 'x';
	CHECK_EQ(call(PD_OP_WRITE, v1, w, sizeof(w)), 1);
	sent = 0;
	be_v4l2own_camera(&be, "/dev/null", false, -ENODEV);
	CHECK_EQ(sent, 2);
	memcpy(&eh, last, sizeof(eh));
	CHECK_EQ(eh.op, PD_EV_REVOKE);
	CHECK(eh.handle == v1 || eh.handle == v2);
	CHECK_EQ(eh.len, sizeof(ev));
	memcpy(&ev, last + sizeof(eh), sizeof(ev));
	CHECK_EQ(ev.reason, -ENODEV);
	CHECK_EQ(call(PD_OP_WRITE, v1, w, sizeof(w)), -ENODEV);
	CHECK_EQ(call(PD_OP_READ, v2, &r, sizeof(r)), -ENODEV);
	CHECK_EQ(call(PD_OP_IOCTL, v2, NULL, 0), -ENODEV);
	CHECK_EQ(call(PD_OP_FLUSH, v1, NULL, 0), 0);
	CHECK_EQ(call(PD_OP_READ, zero, &r, sizeof(r)), 8);
	/* once only: a second one finds nothing left to take */
	sent = 0;
	be_v4l2own_camera(&be, "/dev/null", false, 5);
	CHECK_EQ(sent, 0);
	CHECK_EQ(call(PD_OP_RELEASE, v1, NULL, 0), 0);
	CHECK_EQ(call(PD_OP_RELEASE, v2, NULL, 0), 0);
	v3 = open_ok(1, PD_WIRE_O_RDWR);
	CHECK_EQ(call(PD_OP_WRITE, v3, w, sizeof(w)), 1);
	CHECK_EQ(buf_ioctl(v3, VIDIOC_REQBUFS, &rb), -EBUSY);
	CHECK_EQ(call(PD_OP_READ, v3, &r, sizeof(r)), -EBUSY);
	/* not one of its exports: nothing happens */
	be_v4l2own_camera(&be, "/dev/video9", false, -ENODEV);
	be_v4l2own_camera(&be, "/dev/null", true, 0);
	CHECK_EQ(buf_ioctl(v3, VIDIOC_REQBUFS, &rb), -ENOTTY);
	CHECK_EQ(call(PD_OP_READ, v3, &r, sizeof(r)), 0);
}

static void test_unknown_op(void)
{
	uint32_t h;

	setup();
	connect_ok();
	h = open_ok(0, PD_WIRE_O_RDONLY);
	CHECK_EQ(call(PD_OP_FAULT, h, NULL, 0), -EOPNOTSUPP);
	CHECK_EQ(call(0x77, h, NULL, 0), -EOPNOTSUPP);
	CHECK_EQ(call(PD_OP_FLUSH, h, "x", 1), -EINVAL);
	CHECK_EQ(call(PD_OP_FLUSH, h, NULL, 0), 0);
}

/* One message as the reader hands it over (request.c); replies sent
 * before it returns counted in `sent`. */
static void take(uint64_t id, uint16_t op, uint16_t flags, uint32_t handle,
		 const void *body, uint32_t len)
{
	uint8_t msg[256];
	struct pd_wire_hdr h = { .id = id, .op = op, .flags = flags,
				 .handle = handle, .len = len };

	memcpy(msg, &h, sizeof(h));
	if (len)
		memcpy(msg + sizeof(h), body, len);
	sent = 0;
	be_take_request(&be, msg, sizeof(h) + len);
}

static int64_t last_result(void)
{
	struct pd_wire_hdr rh;

	memcpy(&rh, last, sizeof(rh));
	return rh.result;
}

/* Make handle h's real file one that polls (/dev/zero does not: epoll
 * refuses it): an eventfd, readable if count is not 0. */
static void pollable(uint32_t h, uint64_t count)
{
	struct be_handle *bh = be_handle_get(&be, h);
	int efd = eventfd(0, EFD_CLOEXEC);

	CHECK(bh && efd >= 0);
	if (count)
		CHECK_EQ(write(efd, &count, sizeof(count)), sizeof(count));
	CHECK_EQ(dup2(efd, bh->fd), bh->fd);
	close(efd);
	be_handle_put(&be, bh);
}

/*
 * Asynchronous requests (PD_WIRE_F_ASYNC) run on the reader: done and
 * answered before the next message is taken, so a later request on the
 * same handle (or any) sees their effect; only the allowed ones, and
 * their errors come back in their reply for the guest to report.
 */
static void test_async_requests_in_order(void)
{
	struct pd_wire_read_req rd = { .count = 4 };
	struct pd_wire_poll_req pr = { .events = POLLIN };
	struct pd_wire_poll_ev pe;
	uint32_t h;

	setup();
	be.epfd = epoll_create1(EPOLL_CLOEXEC);	/* the poll registers */
	connect_ok();
	CHECK(be.features & PD_WIRE_FEAT_ASYNC);
	h = open_ok(0, PD_WIRE_O_RDONLY);
	take(9001, PD_OP_FLUSH, PD_WIRE_F_ASYNC, h, NULL, 0);
	CHECK_EQ(sent, 1);			/* ran before take() returned */
	CHECK_EQ(last_result(), 0);
	/* a blocking one may not: it would stall the reader */
	take(9002, PD_OP_READ, PD_WIRE_F_ASYNC, h, &rd, sizeof(rd));
	CHECK_EQ(sent, 1);
	CHECK_EQ(last_result(), -EINVAL);
	/* a poll re-registration may; its reply has the event sequence */
	pollable(h, 1);
	take(9003, PD_OP_POLL, PD_WIRE_F_ASYNC, h, &pr, sizeof(pr));
	CHECK_EQ(sent, 1);
	CHECK_EQ(last_result(), POLLIN);
	CHECK_EQ(last_len, sizeof(struct pd_wire_hdr) + sizeof(pe));
	memcpy(&pe, last + sizeof(struct pd_wire_hdr), sizeof(pe));
	CHECK_EQ(pe.revents, POLLIN);
	CHECK_EQ(pe.seq, 0);
	/* the release is done before the next request is taken */
	take(9004, PD_OP_RELEASE, PD_WIRE_F_ASYNC, h, NULL, 0);
	CHECK_EQ(sent, 1);
	CHECK_EQ(last_result(), 0);
	CHECK_EQ(call(PD_OP_FLUSH, h, NULL, 0), -EBADF);
	/* an error goes back in the reply (the guest reports it later) */
	take(9005, PD_OP_RELEASE, PD_WIRE_F_ASYNC, h, NULL, 0);
	CHECK_EQ(sent, 1);
	CHECK_EQ(last_result(), -EBADF);
	close(be.epfd);
}

/* The poll states at the end of the last reply: their number (0 if the
 * reply has none), the op's own body length in *body. */
static uint32_t last_states(struct pd_wire_poll_state *ps, uint32_t max,
			    size_t *body)
{
	struct pd_wire_poll_tail t;
	struct pd_wire_hdr rh;
	size_t n;

	memcpy(&rh, last, sizeof(rh));
	*body = rh.len;
	if (!(rh.flags & PD_WIRE_F_POLL_STATE))
		return 0;
	CHECK(rh.len >= sizeof(t));
	memcpy(&t, last + sizeof(rh) + rh.len - sizeof(t), sizeof(t));
	CHECK(t.count >= 1 && t.count <= max);
	n = t.count * sizeof(*ps);
	CHECK(rh.len >= n + sizeof(t));
	*body = rh.len - n - sizeof(t);
	memcpy(ps, last + sizeof(rh) + *body, n);
	return t.count;
}

/*
 * Poll states in replies (PD_WIRE_FEAT_POLL_STATE, wire 1.5): once a
 * handle's registration is armed, the reply of a synchronous request on
 * it ends with its readiness after the request ran, after the op's own
 * body; the registration only grows (the union of what was asked); a
 * handle not armed, an asynchronous request, a frontend without the
 * feature or a failed registration get replies as before.
 */
static void test_poll_state_in_replies(void)
{
	struct pd_wire_read_req r = { .count = 8 };
	struct pd_wire_poll_req pr = { .events = POLLIN };
	struct pd_wire_poll_state ps[2];
	struct pd_wire_poll_ev pe;
	uint32_t h;
	size_t body;

	setup();
	be.epfd = epoll_create1(EPOLL_CLOEXEC);
	connect_ok();
	CHECK(be.features & PD_WIRE_FEAT_POLL_STATE);
	h = open_ok(0, PD_WIRE_O_RDONLY);
	pollable(h, 2);				/* readable */
	CHECK_EQ(call(PD_OP_READ, h, &r, sizeof(r)), 8);
	CHECK_EQ(last_states(ps, 2, &body), 0);	/* not armed yet */
	CHECK_EQ(body, sizeof(struct pd_wire_io_rsp) + 8);
	CHECK_EQ(call(PD_OP_POLL, h, &pr, sizeof(pr)), 0);
	CHECK_EQ(body_len(), sizeof(pe));	/* armed: the body says so */
	memcpy(&pe, last + sizeof(struct pd_wire_hdr), sizeof(pe));
	CHECK_EQ(pe.seq, 0);
	pollable(h, 3);				/* readable again */
	CHECK_EQ(call(PD_OP_READ, h, &r, sizeof(r)), 8);
	CHECK_EQ(last_states(ps, 2, &body), 1);
	CHECK_EQ(body, sizeof(struct pd_wire_io_rsp) + 8);
	CHECK_EQ(ps[0].handle, h);
	CHECK_EQ(ps[0].events, POLLIN);
	CHECK_EQ(ps[0].revents, 0);		/* after the read ran */
	CHECK_EQ(ps[0].seq, 0);
	/* the registration grows, never shrinks */
	pr.events = POLLOUT;
	CHECK_EQ(call(PD_OP_POLL, h, &pr, sizeof(pr)), POLLOUT);
	pollable(h, 4);
	CHECK_EQ(call(PD_OP_READ, h, &r, sizeof(r)), 8);
	CHECK_EQ(last_states(ps, 2, &body), 1);
	CHECK_EQ(ps[0].events, POLLIN | POLLOUT);
	CHECK_EQ(ps[0].revents, POLLOUT);
	/* an error reply of a request that ran has it too (a write of 2
	 * bytes to an eventfd) */
	{
		struct {
			struct pd_wire_write_req w;
			uint8_t data[2];
		} wm = { .w = { .count = 2 } };

		CHECK(call(PD_OP_WRITE, h, &wm, sizeof(wm.w) + 2) < 0);
		CHECK_EQ(last_states(ps, 2, &body), 1);
		CHECK_EQ(body, 0);
	}
	/* asynchronous requests' replies have none */
	take(9201, PD_OP_FLUSH, PD_WIRE_F_ASYNC, h, NULL, 0);
	CHECK_EQ(sent, 1);
	CHECK_EQ(last_states(ps, 2, &body), 0);
	CHECK_EQ(body, 0);
	close(be.epfd);
	/* a frontend without the feature: 1.4 replies */
	setup();
	be.epfd = epoll_create1(EPOLL_CLOEXEC);
	{
		struct pd_wire_connect c = {
			.major = PD_WIRE_VERSION_MAJOR,
			.max_msg = PD_WIRE_MAX_MSG,
			.features = PD_WIRE_FEAT_ALL & ~PD_WIRE_FEAT_POLL_STATE,
		};

		CHECK_EQ(call(PD_OP_CONNECT, PD_WIRE_HANDLE_NONE, &c,
			      sizeof(c)), 0);
	}
	CHECK(!(be.features & PD_WIRE_FEAT_POLL_STATE));
	h = open_ok(0, PD_WIRE_O_RDONLY);
	pollable(h, 1);
	pr.events = POLLIN;
	call(PD_OP_POLL, h, &pr, sizeof(pr));
	CHECK_EQ(body_len(), sizeof(pe));
	CHECK_EQ(call(PD_OP_READ, h, &r, sizeof(r)), 8);
	CHECK_EQ(last_states(ps, 2, &body), 0);
	close(be.epfd);
	/* a registration that fails (/dev/zero does not poll): no poll
	 * body, no states */
	setup();
	be.epfd = epoll_create1(EPOLL_CLOEXEC);
	connect_ok();
	h = open_ok(0, PD_WIRE_O_RDONLY);
	CHECK_EQ(call(PD_OP_POLL, h, &pr, sizeof(pr)), POLLIN);
	CHECK_EQ(body_len(), 0);
	CHECK_EQ(call(PD_OP_READ, h, &r, sizeof(r)), 8);
	CHECK_EQ(last_states(ps, 2, &body), 0);
	close(be.epfd);
	/* and without POLL_SEQ (nor POLL_EVENTS) no states are agreed */
	setup();
	{
		struct pd_wire_connect c = {
			.major = PD_WIRE_VERSION_MAJOR,
			.max_msg = PD_WIRE_MAX_MSG,
			.features = PD_WIRE_FEAT_POLL_STATE |
				    PD_WIRE_FEAT_POLL_EVENTS,
		};

		CHECK_EQ(call(PD_OP_CONNECT, PD_WIRE_HANDLE_NONE, &c,
			      sizeof(c)), 0);
	}
	CHECK(!(be.features & PD_WIRE_FEAT_POLL_STATE));
}

/* An ioctl may be asynchronous only if its table entry says so. */
static void test_async_ioctl_must_be_allowed(void)
{
	struct {
		struct pd_wire_ioctl_req r;
		uint8_t data[8];
		struct pd_wire_buf b;
	} m = { 0 };
	uint32_t h;

	setup();
	connect_ok();
	h = open_ok(0, PD_WIRE_O_RDONLY);	/* an evdev export */
	m.r.cmd = EVIOCGVERSION;
	m.r.nbufs = 1;
	m.b.len = sizeof(int);
	m.b.flags = PD_WIRE_BUF_OUT;
	take(9101, PD_OP_IOCTL, PD_WIRE_F_ASYNC, h, &m.r,
	     sizeof(m.r) + sizeof(m.b));
	CHECK_EQ(sent, 1);
	CHECK_EQ(last_result(), -EINVAL);
	/* without the feature nothing may be */
	setup();
	{
		struct pd_wire_connect c = {
			.major = PD_WIRE_VERSION_MAJOR,
			.max_msg = PD_WIRE_MAX_MSG,
			.features = PD_WIRE_FEAT_POLL_EVENTS,
		};

		CHECK_EQ(call(PD_OP_CONNECT, PD_WIRE_HANDLE_NONE, &c,
			      sizeof(c)), 0);
	}
	h = open_ok(0, PD_WIRE_O_RDONLY);
	take(9102, PD_OP_FLUSH, PD_WIRE_F_ASYNC, h, NULL, 0);
	CHECK_EQ(sent, 1);
	CHECK_EQ(last_result(), -EINVAL);
}

/* Writes one 32-byte record into the FIFO after 150 ms. */
static void *late_record(void *arg)
{
	int fd = *(int *)arg;
	uint32_t rec[8] = { 7, 32 };

	usleep(150000);
	if (write(fd, rec, sizeof(rec)) != sizeof(rec))
		abort();
	return NULL;
}

/* Pushed events agreed (pd_wire.h "Events pushed into the guest"): a DRM
 * file's descriptor never blocks; a read that crossed a push says ESTALE
 * before it takes anything, one that did not takes what is there and
 * says what the guest has seen; a read the guest blocks in waits here; a
 * push carries the running total, a fresh sequence and the whole records. */
static void test_pushed_events(void)
{
	char dir[] = "/tmp/pd-push-XXXXXX";
	uint32_t rec[8] = { 1, 32 };
	struct pd_wire_read_req r = { .count = 64 };
	struct pd_wire_data_ev ev;
	struct pd_wire_hdr eh;
	struct be_handle *h;
	struct timespec t0, t1;
	pthread_t t;
	uint32_t hd;
	int w;

	CHECK(mkdtemp(dir) != NULL);
	setup();
	snprintf(exports[0].path, sizeof(exports[0].path), "%s/card", dir);
	CHECK_EQ(mkfifo(exports[0].path, 0600), 0);
	exports[0].info.class = PD_WIRE_CLASS_DRM;
	exports[0].info.driver = PD_WIRE_DRIVER_DRM_GENERIC;
	connect_ok();
	hd = open_ok(0, PD_WIRE_O_RDWR);
	h = be_handle_get(&be, hd);
	CHECK(h && h->push_real);
	CHECK(fcntl(h->fd, F_GETFL) & O_NONBLOCK);
	/* an ioctl of a blocking guest file leaves it so (the event thread
	 * would wait in its read) */
	CHECK(drm_ioctl(hd, DRM_IOCTL_GET_CAP) < 0);
	CHECK(fcntl(h->fd, F_GETFL) & O_NONBLOCK);
	if (!(fcntl(h->fd, F_GETFL) & O_NONBLOCK))
		return;		/* the reads below would wait for ever */
	w = open(exports[0].path, O_WRONLY | O_NONBLOCK);
	CHECK(w >= 0);

	/* nothing there, the guest's file non-blocking */
	CHECK_EQ(call_flags(PD_OP_READ, hd, PD_WIRE_F_NONBLOCK, &r, sizeof(r)),
		 -EAGAIN);
	CHECK_EQ(write(w, rec, sizeof(rec)), sizeof(rec));
	CHECK_EQ(call(PD_OP_READ, hd, &r, sizeof(r)), 32);
	/* 32 bytes were pushed that the guest had not seen when it sent
	 * its read: the next record stays for the guest's next read */
	atomic_store(&h->ev_pushed, 32);
	CHECK_EQ(write(w, rec, sizeof(rec)), sizeof(rec));
	CHECK_EQ(call(PD_OP_READ, hd, &r, sizeof(r)), -ESTALE);
	CHECK_EQ(be_push_room(h), PD_WIRE_PUSH_MAX - 32);
	r.seen = 32;
	CHECK_EQ(call(PD_OP_READ, hd, &r, sizeof(r)), 32);
	CHECK_EQ(atomic_load(&h->ev_acked), 32);
	CHECK_EQ(be_push_room(h), PD_WIRE_PUSH_MAX);
	/* a lie about what it has seen gets no more pushed */
	atomic_store(&h->ev_acked, 100);
	CHECK_EQ(be_push_room(h), 0);
	atomic_store(&h->ev_acked, 32);

	/* blocking: waits here until the record comes */
	CHECK_EQ(pthread_create(&t, NULL, late_record, &w), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK_EQ(call(PD_OP_READ, hd, &r, sizeof(r)), 32);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	pthread_join(t, NULL);
	CHECK((t1.tv_sec - t0.tv_sec) * 1000000000L +
	      (t1.tv_nsec - t0.tv_nsec) >= 100000000L);

	/* a push */
	sent = 0;
	atomic_store(&h->ev_pushed, 64);
	CHECK_EQ(be_push_send(&be, h, rec, sizeof(rec)), 0);
	CHECK_EQ(sent, 1);
	CHECK_EQ(last_len, sizeof(eh) + sizeof(ev) + sizeof(rec));
	memcpy(&eh, last, sizeof(eh));
	memcpy(&ev, last + sizeof(eh), sizeof(ev));
	CHECK_EQ(eh.op, PD_EV_DATA);
	CHECK(eh.flags & PD_WIRE_F_EVENT);
	CHECK_EQ(eh.handle, hd);
	CHECK_EQ(ev.pushed, 64);
	CHECK_EQ(ev.seq, 1);
	CHECK_EQ(ev.revents, 0);	/* nothing left in the file */
	CHECK(!memcmp(last + sizeof(eh) + sizeof(ev), rec, sizeof(rec)));
	CHECK_EQ(be_push_send(&be, h, rec, PD_WIRE_EV_DATA_MAX + 1), -1);

	be_handle_put(&be, h);
	close(w);
	unlink(exports[0].path);
	rmdir(dir);
	exports[0].info.class = PD_WIRE_CLASS_EVDEV;
}

/* An evdev file's events are pushed too: its descriptor never blocks,
 * whatever a blocking guest file's ioctls say. The hostd suite once
 * lost a key's release to it: the event thread waited in read() on one
 * file while the guest's other events waited behind it. */
static void test_pushed_evdev_never_blocks(void)
{
	struct {
		struct pd_wire_ioctl_req r;
		struct pd_wire_buf b;
	} m = { 0 };
	struct be_handle *bh;
	uint32_t h;

	setup();
	connect_ok();
	h = open_ok(0, PD_WIRE_O_RDONLY);	/* an evdev export */
	bh = be_handle_get(&be, h);
	CHECK(bh && bh->push_real);
	if (!bh)
		return;
	CHECK(fcntl(bh->fd, F_GETFL) & O_NONBLOCK);
	m.r.cmd = EVIOCGVERSION;
	m.r.nbufs = 1;
	m.b.len = sizeof(int);
	m.b.flags = PD_WIRE_BUF_OUT;
	take(9201, PD_OP_IOCTL, 0, h, &m.r, sizeof(m.r) + sizeof(m.b));
	CHECK_EQ(sent, 1);
	CHECK(fcntl(bh->fd, F_GETFL) & O_NONBLOCK);
	be_handle_put(&be, bh);
}

int main(void)
{
	RUN(test_nothing_before_connect);
	RUN(test_pushed_evdev_never_blocks);
	RUN(test_connect_checks);
	RUN(test_export_info);
	RUN(test_clock_offsets);
	RUN(test_clock_snd_status);
	RUN(test_open_checks);
	RUN(test_read_write_llseek);
	RUN(test_handles_are_checked);
	RUN(test_handles_are_reused_and_capped);
	RUN(test_inflight_bytes_capped);
	RUN(test_bad_ioctls_get_errnos);
	RUN(test_unknown_op);
	RUN(test_class_hooks);
	RUN(test_card_without_display_keeps_master_ioctls);
	RUN(test_v4l2_buffers_are_their_owners);
	RUN(test_v4l2_camera_taken_away);
	RUN(test_async_requests_in_order);
	RUN(test_async_ioctl_must_be_allowed);
	RUN(test_pushed_events);
	RUN(test_poll_state_in_replies);
	be_maps_finish(&be);
	be_handles_finish(&be);
	return tap_done();
}
