// SPDX-License-Identifier: GPL-2.0-only
/*
 * pd-mixer's pure part (hostd/mixer/mix.c): the volume curve, the mix of
 * the guests' periods (gains, rounding, clipping, absent inputs), the
 * policy of [audio] (who is heard, who gets the microphone, with the
 * foreground guest, mutes and dom0's entry in front), and the checks of
 * hostd's message.
 */
#include <string.h>

#include "mixer/mix.h"
#include "tap.h"

static void test_gain_curve(void)
{
	CHECK_EQ(pd_mix_gain(100), PD_MIX_UNITY);
	CHECK_EQ(pd_mix_gain(250), PD_MIX_UNITY);
	CHECK_EQ(pd_mix_gain(0), 0);
	CHECK_EQ(pd_mix_gain(50), PD_MIX_UNITY / 8);	/* -18 dB */
	CHECK_EQ(pd_mix_gain(10), 66);			/* 0.001, -60 dB */
	CHECK_EQ(pd_mix_gain(1), 0);			/* 1e-6: rounds to 0 */
	/* never decreasing */
	for (unsigned int v = 1; v <= 100; v++)
		CHECK(pd_mix_gain(v) >= pd_mix_gain(v - 1));
}

static void test_mix(void)
{
	const int16_t a[4] = { 1000, -1000, 30000, -30000 };
	const int16_t b[4] = { 500, 500, 30000, -30000 };
	const int16_t *in[3] = { a, b, NULL };
	uint32_t gain[3] = { PD_MIX_UNITY, PD_MIX_UNITY, PD_MIX_UNITY };
	int16_t out[4];

	/* a sum; past 16 bits clipped, never wrapped */
	pd_mix_samples(out, in, gain, 3, 4);
	CHECK_EQ(out[0], 1500);
	CHECK_EQ(out[1], -500);
	CHECK_EQ(out[2], INT16_MAX);
	CHECK_EQ(out[3], INT16_MIN);
	/* halves, rounded to nearest */
	gain[0] = gain[1] = PD_MIX_UNITY / 2;
	pd_mix_samples(out, in, gain, 3, 4);
	CHECK_EQ(out[0], 750);
	CHECK_EQ(out[1], -250);
	CHECK_EQ(out[2], 30000);
	/* gain 0 and a missing input add nothing */
	gain[0] = 0;
	gain[1] = PD_MIX_UNITY;
	pd_mix_samples(out, in, gain, 3, 4);
	CHECK_EQ(out[0], 500);
	CHECK_EQ(out[3], -30000);
	/* nothing at all: silence */
	pd_mix_samples(out, in, gain, 0, 4);
	CHECK_EQ(out[0] | out[1] | out[2] | out[3], 0);
	/* the extremes at unity come back unchanged */
	{
		const int16_t x[2] = { INT16_MIN, INT16_MAX };
		const int16_t *one[1] = { x };
		uint32_t g = PD_MIX_UNITY;

		pd_mix_samples(out, one, &g, 1, 2);
		CHECK_EQ(out[0], INT16_MIN);
		CHECK_EQ(out[1], INT16_MAX);
	}
}

static void test_policy(void)
{
	struct hostd_audio_config a = { .present = true,
					.audible = HOSTD_AUDIO_ALL,
					.capture = HOSTD_AUDIO_FOREGROUND };
	struct pd_mix_guest g[3] = {
		{ .volume = 100, .has_audio = true },
		{ .volume = 50, .has_audio = true },
		{ .volume = 100, .has_audio = false },
	};
	struct pd_mix_msg m;

	/* all heard at their volume; the mic to guest 0, in front */
	pd_mix_policy(&m, &a, g, 3, 0);
	CHECK_EQ(m.magic, PD_MIX_MSG_MAGIC);
	CHECK_EQ(m.gain[0], PD_MIX_UNITY);
	CHECK_EQ(m.gain[1], PD_MIX_UNITY / 8);
	CHECK_EQ(m.gain[2], 0);		/* no audio card: never */
	CHECK_EQ(m.capture, 1u << 0);
	/* the mic follows the foreground guest; dom0 in front: nobody's */
	pd_mix_policy(&m, &a, g, 3, 1);
	CHECK_EQ(m.capture, 1u << 1);
	pd_mix_policy(&m, &a, g, 3, 2);
	CHECK_EQ(m.capture, 0);
	pd_mix_policy(&m, &a, g, 3, 3);
	CHECK_EQ(m.capture, 0);
	CHECK_EQ(m.gain[0], PD_MIX_UNITY);

	/* muted: silent, whatever its volume */
	g[0].muted = true;
	pd_mix_policy(&m, &a, g, 3, 0);
	CHECK_EQ(m.gain[0], 0);
	CHECK_EQ(m.capture, 1u << 0);	/* a mute is of its sound only */
	g[0].muted = false;

	/* the foreground guest only */
	a.audible = HOSTD_AUDIO_FOREGROUND;
	pd_mix_policy(&m, &a, g, 3, 1);
	CHECK_EQ(m.gain[0], 0);
	CHECK_EQ(m.gain[1], PD_MIX_UNITY / 8);
	pd_mix_policy(&m, &a, g, 3, 3);
	CHECK_EQ(m.gain[0] | m.gain[1], 0);

	/* lists; capture to everyone, to nobody */
	a.audible = HOSTD_AUDIO_LIST;
	a.audible_guests = 1u << 1;
	a.capture = HOSTD_AUDIO_ALL;
	pd_mix_policy(&m, &a, g, 3, 0);
	CHECK_EQ(m.gain[0], 0);
	CHECK_EQ(m.gain[1], PD_MIX_UNITY / 8);
	CHECK_EQ(m.capture, (1u << 0) | (1u << 1));
	a.capture = HOSTD_AUDIO_NONE;
	a.audible = HOSTD_AUDIO_NONE;
	pd_mix_policy(&m, &a, g, 3, 0);
	CHECK_EQ(m.capture, 0);
	CHECK_EQ(m.gain[0] | m.gain[1], 0);
	a.capture = HOSTD_AUDIO_LIST;
	a.capture_guests = 1u << 0;
	pd_mix_policy(&m, &a, g, 3, 1);
	CHECK_EQ(m.capture, 1u << 0);
}

static void test_message(void)
{
	struct hostd_audio_config a = { .audible = HOSTD_AUDIO_ALL };
	struct pd_mix_guest g[1] = { { .volume = 100, .has_audio = true } };
	struct pd_mix_msg m;

	pd_mix_policy(&m, &a, g, 1, 0);
	CHECK(pd_mix_msg_valid(&m, sizeof(m)));
	CHECK(!pd_mix_msg_valid(&m, sizeof(m) - 1));
	m.gain[HOSTD_MAX_GUESTS - 1] = PD_MIX_UNITY + 1;
	CHECK(!pd_mix_msg_valid(&m, sizeof(m)));
	m.gain[HOSTD_MAX_GUESTS - 1] = 0;
	m.magic ^= 1;
	CHECK(!pd_mix_msg_valid(&m, sizeof(m)));
}

int main(void)
{
	RUN(test_gain_curve);
	RUN(test_mix);
	RUN(test_policy);
	RUN(test_message);
	return tap_done();
}
