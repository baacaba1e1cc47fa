// SPDX-License-Identifier: GPL-2.0-only
/*
 * The backend's log: one line on stderr per event, naming the guest, so
 * that the lines of several backends (one per guest, all writing to the
 * journal of hostd's unit) can be told apart. A guest causes most of
 * them (every refusal names it), so they are bounded (hostd/ratelimit.h:
 * one bucket per process, a backend serving one guest); the line after a
 * flood says how many were held back. The ground floor of the backend: it
 * calls nothing of the backend's own.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "backend.h"
#include "ratelimit.h"

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pd_ratelimit log_rl = PD_RATELIMIT_GUEST;

void be_log(struct be *be, const char *fmt, ...)
{
	char line[512];
	struct timespec ts;
	uint64_t held;
	va_list ap;
	bool ok;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	pthread_mutex_lock(&log_lock);
	ok = pd_ratelimit_take(&log_rl, (uint64_t)ts.tv_sec * 1000000u +
			       (uint64_t)ts.tv_nsec / 1000u, &held);
	pthread_mutex_unlock(&log_lock);
	if (!ok)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (held)
		fprintf(stderr, "pd-backend[%s]: %s (and %llu earlier lines "
			"held back: more than %u a second)\n", be->name, line,
			(unsigned long long)held, log_rl.per_sec);
	else
		fprintf(stderr, "pd-backend[%s]: %s\n", be->name, line);
}
