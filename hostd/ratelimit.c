// SPDX-License-Identifier: GPL-2.0-only
/* A token bucket for log lines: see ratelimit.h. */
#include "ratelimit.h"

#define UNIT 1000000ull		/* one line of credit */

bool pd_ratelimit_take(struct pd_ratelimit *rl, uint64_t now_us,
		       uint64_t *held)
{
	uint64_t cap = (uint64_t)rl->burst * UNIT;

	*held = 0;
	if (!rl->started) {
		rl->started = true;
		rl->credit = cap;
	} else if (now_us > rl->last_us && rl->per_sec) {
		uint64_t dt = now_us - rl->last_us;
		uint64_t room = cap - rl->credit;

		/* compared by division first: dt * per_sec may not fit */
		if (dt >= (room + rl->per_sec - 1) / rl->per_sec)
			rl->credit = cap;
		else
			rl->credit += dt * rl->per_sec;
	}
	rl->last_us = now_us;
	if (rl->credit < UNIT) {
		rl->held++;
		return false;
	}
	rl->credit -= UNIT;
	*held = rl->held;
	rl->held = 0;
	return true;
}
