// SPDX-License-Identifier: GPL-2.0-only
/*
 * pd-backend's request handlers (hostd/backend/ops.c) fed hostile and
 * valid requests through a transport that records replies in memory. The
 * "device files" are /dev/null and /dev/zero described by hand, so the
 * test needs no device and no kernel module. What it proves: every bad
 * header or body gets its errno and nothing else (no crash, no file
 * opened), requests before CONNECT are refused, handles are checked, and
 * valid requests do what they say.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
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

/* Run one request; returns the reply's result (checks it is a reply to
 * it) and leaves the body in last + sizeof(hdr). */
static int64_t call(uint16_t op, uint32_t handle, const void *body,
		    uint32_t len)
{
	static uint64_t id;
	struct be_job job = { 0 };
	struct pd_wire_hdr rh;

	job.hdr.id = ++id;
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
	/* only what both the guest and the transport have */
	CHECK_EQ(r.features, mem_impl.features);
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
	r.reserved = 5;
	CHECK_EQ(call(PD_OP_READ, zero, &r, sizeof(r)), -EINVAL);
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
		    size_t count, bool nonblock, ssize_t *n)
{
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
	be.hooks_class = PD_WIRE_CLASS_V4L2;
	be.hooks = &counted;
	be.hooks_data = &n_opened;
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

int main(void)
{
	RUN(test_nothing_before_connect);
	RUN(test_connect_checks);
	RUN(test_export_info);
	RUN(test_open_checks);
	RUN(test_read_write_llseek);
	RUN(test_handles_are_checked);
	RUN(test_handles_are_reused_and_capped);
	RUN(test_inflight_bytes_capped);
	RUN(test_bad_ioctls_get_errnos);
	RUN(test_unknown_op);
	RUN(test_class_hooks);
	be_maps_finish(&be);
	be_handles_finish(&be);
	return tap_done();
}
