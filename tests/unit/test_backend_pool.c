// SPDX-License-Identifier: GPL-2.0-only
/*
 * The backend's worker pool (hostd/backend/pool.c) with a stand-in for
 * the request runner: every job blocks until all jobs of its round run
 * at once, as requests that wait in the real driver for each other do (a
 * read waiting for the write another request makes). The pool promises
 * that a request never waits for a busy worker, so each round must
 * finish however its submissions race with workers waking up.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "../../hostd/backend/backend.h"
#include "tap.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static unsigned int running, want, stuck;

/* Jobs with ids from HOLD_ID wait for `released` instead (at most 10 s). */
#define HOLD_ID		1000
static bool released;
static uint64_t ran_id, replied_id;
static int64_t replied;

static void hold(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 10;
	pthread_mutex_lock(&lock);
	running++;
	pthread_cond_broadcast(&cond);
	while (!released)
		if (pthread_cond_timedwait(&cond, &lock, &ts) == ETIMEDOUT) {
			stuck++;
			break;
		}
	pthread_mutex_unlock(&lock);
}

/* The pool's answer to a request it does not run. */
int be_reply(struct be *be, const struct pd_wire_hdr *req, int64_t result,
	     const void *body, size_t len)
{
	(void)be;
	(void)body;
	(void)len;
	pthread_mutex_lock(&lock);
	replied_id = req->id;
	replied = result;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
	return 0;
}

/* No job of this test holds a file's order (request.c). */
void be_order_continue(struct be *be, struct be_handle *h)
{
	(void)be;
	(void)h;
}

/* The pool's runner: wait (at most 5 s) until the whole round runs. */
bool be_run_job(struct be *be, struct be_job *job)
{
	struct timespec ts;

	(void)be;
	if (job->hdr.id >= HOLD_ID) {
		if (job->hdr.id == HOLD_ID + 5000) {
			pthread_mutex_lock(&lock);
			ran_id = job->hdr.id;
			pthread_cond_broadcast(&cond);
			pthread_mutex_unlock(&lock);
		} else
			hold();
		return true;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 5;
	pthread_mutex_lock(&lock);
	running++;
	pthread_cond_broadcast(&cond);
	while (running < want)
		if (pthread_cond_timedwait(&cond, &lock, &ts) == ETIMEDOUT) {
			stuck++;
			break;
		}
	pthread_mutex_unlock(&lock);
	return true;
}

static struct be be = { .name = "pool-test" };

static void round_of(unsigned int n)
{
	pthread_mutex_lock(&lock);
	running = 0;
	want = n;
	pthread_mutex_unlock(&lock);
	for (unsigned int i = 0; i < n; i++) {
		struct be_job *job = calloc(1, sizeof(*job));

		job->owner = &be;
		be_pool_submit(&be, job);
	}
	pthread_mutex_lock(&lock);
	while (running < want && !stuck)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
}

/* Bursts larger than the idle workers, submitted while the woken ones
 * have not run yet: each job still gets a worker of its own. */
static void test_burst_never_waits_for_a_busy_worker(void)
{
	CHECK_EQ(be_pool_start(&be), 0);
	for (unsigned int r = 0; r < 50 && !stuck; r++) {
		usleep(2000);	/* the workers of the last round go idle */
		round_of(9 + r % 8);
		/* until the round's jobs have left their workers */
		usleep(2000);
	}
	CHECK_EQ(stuck, 0);
}

static void submit_id(uint64_t id)
{
	struct be_job *job = calloc(1, sizeof(*job));

	job->owner = &be;
	job->hdr.id = id;
	be_pool_submit(&be, job);
}

/* Every worker the pool may start (512) waits in the driver; a request
 * then waits in the queue, and its caller in the guest gives up
 * (CANCEL): once a worker is free the request is answered -EINTR and
 * never run (run, a read could wait for good for a caller long gone). */
static void test_cancel_reaches_a_queued_request(void)
{
	const unsigned int max = 512;
	uint64_t late = HOLD_ID + 5000;
	struct timespec ts;

	pthread_mutex_lock(&lock);
	running = 0;
	released = false;
	pthread_mutex_unlock(&lock);
	for (unsigned int i = 0; i < max; i++)
		submit_id(HOLD_ID + i);
	pthread_mutex_lock(&lock);
	while (running < max && !stuck)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	CHECK_EQ(running, max);
	submit_id(late);
	CHECK(!be_pool_cancel(&be, 77));	/* nothing by that id */
	CHECK(be_pool_cancel(&be, late));
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 5;
	pthread_mutex_lock(&lock);
	released = true;
	pthread_cond_broadcast(&cond);
	while (replied_id != late && !ran_id && !stuck)
		if (pthread_cond_timedwait(&cond, &lock, &ts) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&lock);
	CHECK_EQ(replied_id, late);
	CHECK_EQ(replied, -EINTR);
	CHECK_EQ(ran_id, 0);
	CHECK_EQ(stuck, 0);
}

int main(void)
{
	pthread_mutex_init(&be.lock, NULL);
	RUN(test_burst_never_waits_for_a_busy_worker);
	RUN(test_cancel_reaches_a_queued_request);
	return tap_done();
}
