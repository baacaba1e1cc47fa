// SPDX-License-Identifier: GPL-2.0-only
/*
 * The reader: requests off the transport, one at a time. A request that
 * never waits (be_job_inline(): PD_OP_POLL and ioctls whose table entry
 * says PD_IOC_F_QUICK) runs right here, in the reader; any other goes to a
 * worker (pool.c). Running a small ioctl here saves a thread handoff on
 * its path (waking a worker, switching to it, the worker going back to
 * sleep), which was most of what forwarding cost it (docs/ARCHITECTURE.md,
 * "Benchmarks").
 *
 * What must hold: no request of the guest waits for another one. A
 * request in a worker never delays the reader. A request run here is
 * supposed to be quick, but a table can be wrong, and a quick ioctl can
 * still wait for a driver lock that a slow request holds (an evdev
 * EVIOCSFF on a uinput device holds the device's mutex until the uinput
 * owner answers). So a stand-in thread watches: when the reader has been
 * inside one request for BE_INLINE_MAX_MS, the stand-in becomes the reader
 * (and starts a new stand-in), and the old reader, once its request is
 * done, ends. Exactly one thread is the reader at any time: the role
 * passes by a compare-and-swap on inline_seq, which is odd while the
 * reader runs a request itself.
 *
 * The stand-in costs nothing per request: it looks at inline_seq every
 * BE_INLINE_MAX_MS while requests come, and after BE_STANDBY_IDLE quiet
 * looks it sleeps until the reader wakes it at its next inline request.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend.h"

#define BE_INLINE_MAX_MS	20
#define BE_STANDBY_IDLE		5

/* Odd while the reader runs a request inline; every change is made by
 * the reader or, taking the role over, by the stand-in. Sequentially
 * consistent with standby_deep (see wake_standby()). */
static _Atomic uint64_t inline_seq;
/* The op of the request the reader runs, for the stand-in's log line. */
static _Atomic uint16_t inline_op;
/* The stand-in sleeps on standby_cond until the next inline request. */
static atomic_bool standby_deep;
/* Protects the stand-in's deep sleep (and ended). */
static pthread_mutex_t standby_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t standby_cond = PTHREAD_COND_INITIALIZER;
/* The connection ended (some reader saw it); main's be_serve() returns. */
static bool ended;
static pthread_cond_t ended_cond = PTHREAD_COND_INITIALIZER;

enum reader_end { READER_ENDED, READER_REPLACED };

static int start_thread(struct be *be, void *(*fn)(void *));
static void *standby(void *arg);

/* The reader is about to run a request: a stand-in deep asleep must
 * watch again. The store to inline_seq (by the caller) and the load of
 * standby_deep here pair with the stand-in's store to standby_deep and
 * load of inline_seq: one of the two sides sees the other's. */
static void wake_standby(void)
{
	if (!atomic_load(&standby_deep))
		return;
	pthread_mutex_lock(&standby_lock);
	pthread_cond_signal(&standby_cond);
	pthread_mutex_unlock(&standby_lock);
}

/* Run one request in the reader. Returns false if the stand-in took the
 * reader's role meanwhile. */
static bool run_inline(struct be *be, struct be_job *job)
{
	uint64_t s;

	atomic_store_explicit(&inline_op, job->hdr.op, memory_order_relaxed);
	s = atomic_fetch_add(&inline_seq, 1) + 1;
	wake_standby();
	be_pool_run(be, job);
	return atomic_compare_exchange_strong(&inline_seq, &s, s + 1);
}

/* Take requests off the transport until it ends or the role is taken. */
static enum reader_end read_requests(struct be *be, uint8_t *buf)
{
	for (;;) {
		struct be_job job = { 0 };
		struct be_job *copy;
		ssize_t n = be->tp->impl->recv(be->tp, buf, PD_WIRE_MAX_MSG);

		if (n == 0)
			return READER_ENDED;
		if (n < 0) {
			be_log(be, "transport: %s", strerror(errno));
			return READER_ENDED;
		}
		if ((size_t)n < sizeof(job.hdr)) {
			be_log(be, "short message (%zd bytes) dropped", n);
			continue;
		}
		memcpy(&job.hdr, buf, sizeof(job.hdr));
		if (job.hdr.len != (size_t)n - sizeof(job.hdr) || !job.hdr.id ||
		    job.hdr.flags & ~(uint16_t)PD_WIRE_F_NONBLOCK ||
		    job.hdr.result || job.hdr.reserved) {
			be_log(be, "malformed request header (op %u)",
			       job.hdr.op);
			if (job.hdr.id)
				be_reply(be, &job.hdr, -EINVAL, NULL, 0);
			continue;
		}
		if (job.hdr.op == PD_OP_CANCEL) {
			struct pd_wire_cancel_req cr;
			int64_t r = -EINVAL;

			if (job.hdr.len == sizeof(cr)) {
				memcpy(&cr, buf + sizeof(job.hdr), sizeof(cr));
				be_cancel(be, cr.target, &r);
			}
			be_reply(be, &job.hdr, r, NULL, 0);
			continue;
		}
		job.body = buf + sizeof(job.hdr);
		if (be_job_inline(be, &job)) {
			if (!run_inline(be, &job))
				return READER_REPLACED;
			continue;
		}
		copy = calloc(1, sizeof(*copy));
		if (!copy || !(copy->body = malloc(job.hdr.len ? job.hdr.len : 1))) {
			free(copy);
			be_reply(be, &job.hdr, -ENOMEM, NULL, 0);
			continue;
		}
		copy->hdr = job.hdr;
		memcpy(copy->body, job.body, job.hdr.len);
		be_pool_submit(be, copy);
	}
}

/* Be the reader in this thread until the connection ends (then tell
 * be_serve()) or the role is taken (then this thread has nothing more to
 * do). */
static void *reader(void *arg)
{
	struct be *be = arg;
	uint8_t *buf = malloc(PD_WIRE_MAX_MSG);
	enum reader_end end = READER_ENDED;

	if (buf)
		end = read_requests(be, buf);
	else
		be_log(be, "no memory for the reader");
	free(buf);
	if (end == READER_ENDED) {
		pthread_mutex_lock(&standby_lock);
		ended = true;
		pthread_cond_broadcast(&ended_cond);
		pthread_mutex_unlock(&standby_lock);
	}
	return NULL;
}

/*
 * The stand-in: look at inline_seq every BE_INLINE_MAX_MS; the same odd
 * value twice means the reader has been in one request for that long, so
 * take its role (the compare-and-swap fails if it just finished). After
 * BE_STANDBY_IDLE looks with no inline request, sleep until the next one.
 */
static void *standby(void *arg)
{
	struct be *be = arg;
	const struct timespec tick = { .tv_nsec = BE_INLINE_MAX_MS * 1000000L };
	uint64_t last = atomic_load(&inline_seq);
	unsigned int quiet = 0;

	for (;;) {
		uint64_t s;

		nanosleep(&tick, NULL);
		s = atomic_load(&inline_seq);
		if (s == last && (s & 1) &&
		    atomic_compare_exchange_strong(&inline_seq, &s, s + 1)) {
			be_log(be, "a request (op %u) has run %d+ ms in the "
			       "reader: another thread reads meanwhile",
			       (unsigned int)atomic_load(&inline_op),
			       BE_INLINE_MAX_MS);
			if (start_thread(be, standby))
				be_log(be, "no new stand-in: %s",
				       strerror(errno));
			return reader(be);
		}
		quiet = s == last ? quiet + 1 : 0;
		last = s;
		if (quiet < BE_STANDBY_IDLE)
			continue;
		pthread_mutex_lock(&standby_lock);
		atomic_store(&standby_deep, true);
		while (atomic_load(&inline_seq) == last && !ended)
			pthread_cond_wait(&standby_cond, &standby_lock);
		atomic_store(&standby_deep, false);
		if (ended) {
			pthread_mutex_unlock(&standby_lock);
			return NULL;
		}
		pthread_mutex_unlock(&standby_lock);
		quiet = 0;
		last = atomic_load(&inline_seq);
	}
}

static int start_thread(struct be *be, void *(*fn)(void *))
{
	pthread_attr_t attr;
	pthread_t t;
	int ret;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	ret = pthread_create(&t, &attr, fn, be);
	pthread_attr_destroy(&attr);
	if (ret)
		errno = ret;
	return ret ? -1 : 0;
}

/*
 * Serve the connection: a reader and a stand-in thread; returns when the
 * transport ended, whichever thread was the reader then (this thread is
 * never one: a reader may be stuck in a driver for good, and the caller
 * must still be able to finish). 0, or -1 if the threads could not start.
 */
int be_serve(struct be *be)
{
	if (start_thread(be, standby) || start_thread(be, reader)) {
		be_log(be, "reader threads: %s", strerror(errno));
		return -1;
	}
	pthread_mutex_lock(&standby_lock);
	while (!ended)
		pthread_cond_wait(&ended_cond, &standby_lock);
	pthread_mutex_unlock(&standby_lock);
	return 0;
}
