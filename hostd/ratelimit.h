/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A bound on log lines a guest can cause: a bucket of `burst` lines that
 * refills at `per_sec` lines a second. A line taken from an empty bucket
 * is held back (counted, not written); the next line that goes out says
 * how many were. Pure: the caller passes the clock and does the locking.
 * Used by the backend's log (one bucket per backend, so per guest) and by
 * hostd for what a guest asks through its control file.
 */
#ifndef HOSTD_RATELIMIT_H
#define HOSTD_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct pd_ratelimit {
	uint32_t burst;		/* lines at once */
	uint32_t per_sec;	/* lines a second after that */
	bool started;
	uint64_t last_us;	/* when the bucket was last filled */
	uint64_t credit;	/* lines in the bucket, in millionths */
	uint64_t held;		/* lines held back since the last one out */
};

#define PD_RATELIMIT_INIT(b, s) { .burst = (b), .per_sec = (s) }
/* What a guest may make dom0 log: a start-up's worth, then 10 a second. */
#define PD_RATELIMIT_GUEST PD_RATELIMIT_INIT(200, 10)

/*
 * Whether one more line may go out at now_us (a monotonic clock). If it
 * may and lines were held back before it, *held is their count (else 0).
 */
bool pd_ratelimit_take(struct pd_ratelimit *rl, uint64_t now_us,
		       uint64_t *held);

#endif /* HOSTD_RATELIMIT_H */
