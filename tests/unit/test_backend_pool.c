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
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "../../hostd/backend/backend.h"
#include "tap.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static unsigned int running, want, stuck;

/* The pool's runner: wait (at most 5 s) until the whole round runs. */
void be_run_job(struct be *be, struct be_job *job)
{
	struct timespec ts;

	(void)be;
	(void)job;
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

int main(void)
{
	pthread_mutex_init(&be.lock, NULL);
	RUN(test_burst_never_waits_for_a_busy_worker);
	return tap_done();
}
