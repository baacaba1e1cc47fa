// SPDX-License-Identifier: GPL-2.0-only
/*
 * The bound on log lines a guest causes (hostd/ratelimit.c): a burst goes
 * out, a flood is held back and counted, the refill follows the clock, the
 * count reaches the next line out, and no clock value overflows it.
 */
#include <stdint.h>

#include "ratelimit.h"
#include "tap.h"

static unsigned int out_of(struct pd_ratelimit *rl, uint64_t now,
			   unsigned int n, uint64_t *held_sum)
{
	unsigned int out = 0;
	uint64_t held;

	for (unsigned int i = 0; i < n; i++)
		if (pd_ratelimit_take(rl, now, &held)) {
			out++;
			*held_sum += held;
		}
	return out;
}

static void test_burst_then_flood_held(void)
{
	struct pd_ratelimit rl = PD_RATELIMIT_INIT(100, 10);
	uint64_t held = 0;

	CHECK_EQ(out_of(&rl, 5000000, 100000, &held), 100);
	CHECK_EQ(held, 0);
	CHECK_EQ(rl.held, 100000 - 100);
	/* 0.35 s later: 3 lines of credit */
	CHECK_EQ(out_of(&rl, 5350000, 1000, &held), 3);
	CHECK_EQ(held, 100000 - 100);	/* the count came with the first */
	CHECK_EQ(rl.held, 997);
}

static void test_steady_rate_under_the_limit_never_held(void)
{
	struct pd_ratelimit rl = PD_RATELIMIT_INIT(5, 10);
	uint64_t held = 0;
	unsigned int out = 0;

	/* 9 lines a second for 100 s */
	for (uint64_t t = 0; t < 100000000; t += 111112)
		out += out_of(&rl, t, 1, &held);
	CHECK_EQ(out, 900);
	CHECK_EQ(rl.held, 0);
}

static void test_flood_over_time_is_the_rate(void)
{
	struct pd_ratelimit rl = PD_RATELIMIT_INIT(20, 10);
	uint64_t held = 0;
	unsigned int out = 0;

	/* 1000 lines a second for 60 s: the burst, then 10 a second */
	for (uint64_t t = 0; t < 60000000; t += 1000)
		out += out_of(&rl, t, 1, &held);
	CHECK(out >= 20 + 599 && out <= 20 + 600);
	CHECK_EQ(held + rl.held + out, 60000);
}

static void test_clock_extremes(void)
{
	struct pd_ratelimit rl = PD_RATELIMIT_INIT(3, 4000000000u);
	uint64_t held = 0;

	CHECK_EQ(out_of(&rl, 0, 10, &held), 3);
	/* a long time later: full again, never more than the burst */
	CHECK_EQ(out_of(&rl, UINT64_MAX, 10, &held), 3);
	/* a clock going back refills nothing */
	CHECK_EQ(out_of(&rl, 1, 10, &held), 0);
	{
		struct pd_ratelimit none = PD_RATELIMIT_INIT(2, 0);

		CHECK_EQ(out_of(&none, 0, 5, &held), 2);
		CHECK_EQ(out_of(&none, UINT64_MAX, 5, &held), 0);
	}
}

int main(void)
{
	RUN(test_burst_then_flood_held);
	RUN(test_steady_rate_under_the_limit_never_held);
	RUN(test_flood_over_time_is_the_rate);
	RUN(test_clock_extremes);
	return tap_done();
}
