// SPDX-License-Identifier: GPL-2.0-only
/*
 * pd-backend's reader (hostd/backend/reader.c) on a transport in memory:
 * requests are queued by the test, replies recorded with the thread that
 * sent them. The "device file" is /dev/zero described as an evdev node.
 * What it proves: POLL and PD_IOC_F_QUICK ioctls run in the reader
 * itself, READ and other ioctls in a worker; and a request the reader
 * runs that does not come back (here: its reply blocks) does not stall
 * the requests behind it: the stand-in takes over the reading.
 */
#include <errno.h>
#include <linux/input.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend.h"
#include "tap.h"

#define MAXMSG	64

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;

/* requests not yet read */
static struct {
	uint8_t *msg;
	size_t len;
} queue[MAXMSG];
static unsigned int qhead, qtail;
static bool closed;
static pthread_t last_reader;

/* replies, by request id */
struct reply {
	bool got;
	int64_t result;
	pthread_t thread;
	uint8_t body[64];
};
static struct reply replies[MAXMSG];
static uint64_t block_id;	/* its reply waits until unblocked */
static bool unblocked;

static ssize_t mem_recv(struct be_transport *t, void *buf, size_t cap)
{
	size_t n;

	(void)t;
	pthread_mutex_lock(&lock);
	while (qhead == qtail && !closed)
		pthread_cond_wait(&cond, &lock);
	if (qhead == qtail) {
		pthread_mutex_unlock(&lock);
		return 0;
	}
	last_reader = pthread_self();
	n = queue[qhead % MAXMSG].len;
	if (n > cap)
		n = cap;
	memcpy(buf, queue[qhead % MAXMSG].msg, n);
	free(queue[qhead % MAXMSG].msg);
	qhead++;
	pthread_mutex_unlock(&lock);
	return (ssize_t)n;
}

static int mem_send(struct be_transport *t, const void *msg, size_t len)
{
	struct pd_wire_hdr hdr;
	struct reply *r;

	(void)t;
	memcpy(&hdr, msg, sizeof(hdr));
	if (!(hdr.flags & PD_WIRE_F_REPLY) || hdr.id >= MAXMSG)
		return 0;
	pthread_mutex_lock(&lock);
	while (hdr.id == block_id && !unblocked)
		pthread_cond_wait(&cond, &lock);
	r = &replies[hdr.id];
	r->got = true;
	r->result = hdr.result;
	r->thread = pthread_self();
	len -= sizeof(hdr);
	memcpy(r->body, (const uint8_t *)msg + sizeof(hdr),
	       len < sizeof(r->body) ? len : sizeof(r->body));
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
	return 0;
}

static const struct be_transport_impl mem_impl = {
	.name = "memory",
	.features = PD_WIRE_FEAT_POLL_EVENTS | PD_WIRE_FEAT_CANCEL,
	.recv = mem_recv,
	.send = mem_send,
};

static struct be_transport mem_tp = { .impl = &mem_impl, .fd = -1 };
static struct be_export exports[1];
static struct be be;
static uint64_t next_id;

static uint64_t push(uint16_t op, uint32_t handle, const void *body,
		     uint32_t len)
{
	struct pd_wire_hdr hdr = {
		.id = ++next_id, .op = op, .handle = handle, .len = len,
	};
	uint8_t *msg = malloc(sizeof(hdr) + len);

	memcpy(msg, &hdr, sizeof(hdr));
	memcpy(msg + sizeof(hdr), body, len);
	pthread_mutex_lock(&lock);
	queue[qtail % MAXMSG].msg = msg;
	queue[qtail % MAXMSG].len = sizeof(hdr) + len;
	qtail++;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
	return hdr.id;
}

/* Wait up to 5 s for the reply to id; NULL if none came. */
static struct reply *wait_reply(uint64_t id)
{
	struct timespec until;
	struct reply *r = NULL;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 5;
	pthread_mutex_lock(&lock);
	while (!replies[id].got &&
	       pthread_cond_timedwait(&cond, &lock, &until) != ETIMEDOUT)
		;
	if (replies[id].got)
		r = &replies[id];
	pthread_mutex_unlock(&lock);
	return r;
}

static pthread_t reader_now(void)
{
	pthread_t t;

	pthread_mutex_lock(&lock);
	t = last_reader;
	pthread_mutex_unlock(&lock);
	return t;
}

static uint32_t handle;

static void test_connect_and_open(void)
{
	struct pd_wire_connect c = {
		.major = PD_WIRE_VERSION_MAJOR, .max_msg = PD_WIRE_MAX_MSG,
		.features = PD_WIRE_FEAT_ALL,
	};
	struct pd_wire_open_req o = { .index = 0, .flags = PD_WIRE_O_RDWR };
	struct pd_wire_open_rsp rsp;
	struct reply *r;

	r = wait_reply(push(PD_OP_CONNECT, PD_WIRE_HANDLE_NONE, &c, sizeof(c)));
	CHECK(r && r->result == 0);
	r = wait_reply(push(PD_OP_OPEN, PD_WIRE_HANDLE_NONE, &o, sizeof(o)));
	CHECK(r && r->result == 0);
	if (r) {
		memcpy(&rsp, r->body, sizeof(rsp));
		handle = rsp.handle;
	}
}

static bool inline_ioctl(uint32_t cmd)
{
	struct pd_wire_ioctl_req req = { .cmd = cmd };
	uint8_t body[sizeof(req)];
	struct be_job job = {
		.hdr = { .id = 1, .op = PD_OP_IOCTL, .handle = handle,
			 .len = sizeof(req) },
		.body = body,
	};

	memcpy(body, &req, sizeof(req));
	return be_job_inline(&be, &job);
}

static void test_which_run_inline(void)
{
	struct pd_wire_poll_req p = { .events = 1 };
	struct be_job job = {
		.hdr = { .id = 1, .op = PD_OP_POLL, .handle = handle,
			 .len = sizeof(p) },
		.body = (uint8_t *)&p,
	};

	CHECK(be_job_inline(&be, &job));
	job.hdr.op = PD_OP_READ;
	CHECK(!be_job_inline(&be, &job));
	CHECK(inline_ioctl(EVIOCGVERSION));
	CHECK(inline_ioctl(EVIOCGNAME(64)));
	CHECK(!inline_ioctl(EVIOCSFF));		/* waits for a uinput owner */
	CHECK(!inline_ioctl(EVIOCGRAB));
	CHECK(!inline_ioctl(0x12345678));	/* in no table */
	job.hdr.handle = handle + 100;		/* no such handle */
	job.hdr.op = PD_OP_POLL;
	CHECK(be_job_inline(&be, &job));	/* runs, and gets EBADF */
}

static void test_reader_runs_poll_worker_runs_read(void)
{
	struct pd_wire_poll_req p = { .events = 1 };
	struct pd_wire_read_req rd = { .count = 8 };
	struct reply *r;

	r = wait_reply(push(PD_OP_POLL, handle, &p, sizeof(p)));
	CHECK(r && r->result == 1);
	CHECK(r && pthread_equal(r->thread, reader_now()));
	r = wait_reply(push(PD_OP_READ, handle, &rd, sizeof(rd)));
	CHECK(r && r->result == 8);
	CHECK(r && !pthread_equal(r->thread, reader_now()));
}

static void test_stuck_inline_request_does_not_stall(void)
{
	struct pd_wire_poll_req p = { .events = 1 };
	struct pd_wire_read_req rd = { .count = 8 };
	pthread_t first = reader_now();
	uint64_t stuck, a, b;
	struct reply *r;

	pthread_mutex_lock(&lock);
	block_id = next_id + 1;
	pthread_mutex_unlock(&lock);
	stuck = push(PD_OP_POLL, handle, &p, sizeof(p));
	CHECK_EQ(stuck, block_id);
	a = push(PD_OP_POLL, handle, &p, sizeof(p));
	b = push(PD_OP_READ, handle, &rd, sizeof(rd));
	r = wait_reply(a);
	CHECK(r && r->result == 1);
	CHECK(wait_reply(b) != NULL);
	CHECK(!replies[stuck].got);
	CHECK(!pthread_equal(reader_now(), first));	/* the stand-in reads */
	pthread_mutex_lock(&lock);
	unblocked = true;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
	r = wait_reply(stuck);
	CHECK(r && r->result == 1);
	CHECK(r && pthread_equal(r->thread, first));
	/* and the new reader still serves, inline too */
	r = wait_reply(push(PD_OP_POLL, handle, &p, sizeof(p)));
	CHECK(r && pthread_equal(r->thread, reader_now()));
}

static void *serve(void *arg)
{
	(void)arg;
	return (void *)(intptr_t)be_serve(&be);
}

int main(void)
{
	pthread_t server;
	void *ret = NULL;

	be.tp = &mem_tp;
	be.name = "test";
	be.epfd = be.wakefd = be.sigfd = -1;
	pthread_mutex_init(&be.lock, NULL);
	strcpy(exports[0].path, "/dev/zero");
	exports[0].info.class = PD_WIRE_CLASS_EVDEV;
	strcpy(exports[0].info.name, "event0");
	be.exports = exports;
	be.nexports = 1;
	if (be_pool_start(&be) ||
	    pthread_create(&server, NULL, serve, NULL))
		return 1;

	RUN(test_connect_and_open);
	RUN(test_which_run_inline);
	RUN(test_reader_runs_poll_worker_runs_read);
	RUN(test_stuck_inline_request_does_not_stall);

	pthread_mutex_lock(&lock);
	closed = true;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
	pthread_join(server, &ret);
	CHECK(ret == NULL);
	return tap_done();
}
