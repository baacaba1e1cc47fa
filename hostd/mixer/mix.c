// SPDX-License-Identifier: GPL-2.0-only
/*
 * pd-mixer's pure part: the volume curve, the mix, the policy (mix.h).
 * No I/O here: tests/unit/test_mixer_mix.c runs it on plain memory.
 */
#include <string.h>

#include "mix.h"

uint32_t pd_mix_gain(unsigned int volume)
{
	uint64_t v;

	if (volume >= PD_MIX_VOLUME_MAX)
		return PD_MIX_UNITY;
	v = volume;
	/* (v / 100)^3 in Q16, rounded */
	return (uint32_t)((v * v * v * PD_MIX_UNITY + 500000u) / 1000000u);
}

void pd_mix_samples(int16_t *out, const int16_t *const *in,
		    const uint32_t *gain, size_t n, size_t samples)
{
	for (size_t i = 0; i < samples; i++) {
		int64_t acc = 0;

		for (size_t k = 0; k < n; k++)
			if (in[k] && gain[k])
				acc += (int64_t)in[k][i] * gain[k];
		/* round to nearest, then clip: an overload is a clipped
		 * peak, never a wrapped one */
		acc = (acc + (PD_MIX_UNITY / 2)) >> 16;
		if (acc > INT16_MAX)
			acc = INT16_MAX;
		else if (acc < INT16_MIN)
			acc = INT16_MIN;
		out[i] = (int16_t)acc;
	}
}

static bool chosen(enum hostd_audio_who who, unsigned int list,
		   unsigned int i, unsigned int active)
{
	switch (who) {
	case HOSTD_AUDIO_ALL:
		return true;
	case HOSTD_AUDIO_FOREGROUND:
		return i == active;
	case HOSTD_AUDIO_LIST:
		return list & (1u << i);
	default:
		return false;
	}
}

void pd_mix_policy(struct pd_mix_msg *m, const struct hostd_audio_config *a,
		   const struct pd_mix_guest *g, unsigned int nguests,
		   unsigned int active)
{
	memset(m, 0, sizeof(*m));
	m->magic = PD_MIX_MSG_MAGIC;
	for (unsigned int i = 0; i < nguests && i < HOSTD_MAX_GUESTS; i++) {
		if (!g[i].has_audio)
			continue;
		if (chosen(a->audible, a->audible_guests, i, active) &&
		    !g[i].muted)
			m->gain[i] = pd_mix_gain(g[i].volume);
		if (chosen(a->capture, a->capture_guests, i, active))
			m->capture |= 1u << i;
	}
}

bool pd_mix_msg_valid(const struct pd_mix_msg *m, size_t len)
{
	if (len != sizeof(*m) || m->magic != PD_MIX_MSG_MAGIC)
		return false;
	for (unsigned int i = 0; i < HOSTD_MAX_GUESTS; i++)
		if (m->gain[i] > PD_MIX_UNITY)
			return false;
	return true;
}
