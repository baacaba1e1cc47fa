// SPDX-License-Identifier: GPL-2.0-only
/*
 * Worker threads. A request may block in the real driver for as long as
 * the guest's program would have (a read of an evdev file waits for a key):
 * so a request never waits for a busy worker. Idle workers take queued
 * requests; when no idle one is left for a job a new worker starts, up to
 * BE_POOL_MAX, and workers idle for a while exit again down to
 * BE_POOL_KEEP.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend.h"
#include "config.h"

#define BE_POOL_MAX	512
#define BE_POOL_KEEP	8

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_cond = PTHREAD_COND_INITIALIZER;
static struct be_job *queue_head, *queue_tail;
/* nidle counts the workers in their wait, also those already woken for a
 * job that have not taken it yet: so a job needs a new worker when the
 * queue holds more jobs than there are idle workers, not when none is. */
static unsigned int nthreads, nidle, nqueued;
static struct be *pool_be;

/*
 * The request bodies the workers hold, per guest, against max.inflight
 * (paradice.conf max_inflight): the ring lets a guest point every slot at
 * the same megabytes, each copied once per slot. Past the limit a request
 * gets -ENOBUFS; the log says so at the first refusal of a burst and
 * every 1024th after.
 */
bool be_inflight_charge(struct be *be, uint32_t len)
{
	static unsigned int refused;
	uint64_t max = be->max.inflight ? be->max.inflight :
					   HOSTD_DEFAULT_MAX_INFLIGHT;
	uint64_t now;
	bool ok;

	pthread_mutex_lock(&be->lock);
	now = be->inflight;
	ok = now + len <= max;
	if (ok)
		be->inflight += len;
	pthread_mutex_unlock(&be->lock);
	if (ok) {
		refused = 0;
		return true;
	}
	if (refused++ % 1024 == 0)
		be_log(be, "request of %u bytes refused: %llu bytes in flight, "
		       "the limit is %llu (max_inflight)", len,
		       (unsigned long long)now, (unsigned long long)max);
	return false;
}

void be_inflight_uncharge(struct be *be, uint32_t len)
{
	pthread_mutex_lock(&be->lock);
	be->inflight -= len;
	pthread_mutex_unlock(&be->lock);
}

void be_job_free(struct be_job *job)
{
	if (!job)
		return;
	if (job->charged) {
		pthread_mutex_lock(&job->owner->lock);
		job->owner->inflight -= job->charged;
		pthread_mutex_unlock(&job->owner->lock);
	}
	free(job->body);
	free(job);
}

static void running_add(struct be *be, struct be_job *job)
{
	pthread_mutex_lock(&be->lock);
	job->thread = pthread_self();
	job->next = be->running;
	be->running = job;
	atomic_store(&job->running, true);
	pthread_mutex_unlock(&be->lock);
}

static void running_del(struct be *be, struct be_job *job)
{
	struct be_job **p;

	pthread_mutex_lock(&be->lock);
	atomic_store(&job->running, false);
	for (p = &be->running; *p; p = &(*p)->next)
		if (*p == job) {
			*p = job->next;
			break;
		}
	pthread_mutex_unlock(&be->lock);
}

static void *worker(void *arg)
{
	struct be *be = arg;
	struct be_handle *ordered;
	struct be_job *job;
	struct timespec ts;

	pthread_mutex_lock(&pool_lock);
	for (;;) {
		while (!queue_head) {
			int ret;

			nidle++;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 10;
			ret = pthread_cond_timedwait(&pool_cond, &pool_lock, &ts);
			nidle--;
			if (ret == ETIMEDOUT && !queue_head &&
			    nthreads > BE_POOL_KEEP) {
				nthreads--;
				pthread_mutex_unlock(&pool_lock);
				return NULL;
			}
		}
		job = queue_head;
		queue_head = job->next;
		if (!queue_head)
			queue_tail = NULL;
		nqueued--;
		/* queued or running, never neither while pool_lock is free:
		 * so be_pool_cancel() finds every request not answered yet */
		job->next = NULL;
		running_add(be, job);
		pthread_mutex_unlock(&pool_lock);

		if (atomic_load(&job->cancel))
			/* cancelled before it ran: as if interrupted at once
			 * (its caller in the guest may be gone: a request run
			 * now could wait in the driver for good) */
			be_reply(be, &job->hdr, -EINTR, NULL, 0);
		else
			be_run_job(be, job);
		running_del(be, job);
		ordered = job->ordered;
		be_job_free(job);
		/* an ordered ioctl's file: what waited for it (request.c) */
		if (ordered)
			be_order_continue(be, ordered);

		pthread_mutex_lock(&pool_lock);
	}
}

static int spawn(struct be *be)
{
	pthread_attr_t attr;
	pthread_t t;
	int ret;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	ret = pthread_create(&t, &attr, worker, be);
	pthread_attr_destroy(&attr);
	if (!ret)
		nthreads++;
	return ret;
}

int be_pool_start(struct be *be)
{
	int ret = 0;

	pool_be = be;
	pthread_mutex_lock(&pool_lock);
	for (unsigned int i = 0; i < BE_POOL_KEEP && !ret; i++)
		ret = spawn(be);
	pthread_mutex_unlock(&pool_lock);
	return ret;
}

/*
 * PD_OP_CANCEL of request target: a queued one is marked (the worker that
 * takes it answers -EINTR instead of running it), a running one is marked
 * and its worker signalled (BE_SIG_CANCEL interrupts its call; events.c
 * signals it again while it still runs). True if target was found.
 */
bool be_pool_cancel(struct be *be, uint64_t target)
{
	struct be_job *j;
	bool found = false;

	pthread_mutex_lock(&pool_lock);
	for (j = queue_head; j; j = j->next)
		if (j->hdr.id == target) {
			atomic_store(&j->cancel, true);
			found = true;
		}
	pthread_mutex_lock(&be->lock);
	for (j = be->running; j; j = j->next)
		if (j->hdr.id == target && atomic_load(&j->running)) {
			atomic_store(&j->cancel, true);
			pthread_kill(j->thread, BE_SIG_CANCEL);
			found = true;
		}
	pthread_mutex_unlock(&be->lock);
	pthread_mutex_unlock(&pool_lock);
	return found;
}

void be_pool_submit(struct be *be, struct be_job *job)
{
	job->next = NULL;
	pthread_mutex_lock(&pool_lock);
	if (queue_tail)
		queue_tail->next = job;
	else
		queue_head = job;
	queue_tail = job;
	nqueued++;
	if (nqueued > nidle && nthreads < BE_POOL_MAX && spawn(be))
		be_log(be, "cannot start a worker: %s", strerror(errno));
	pthread_cond_signal(&pool_cond);
	pthread_mutex_unlock(&pool_lock);
}
