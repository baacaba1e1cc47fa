/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pd-mixer's pure part (docs/audio.md), shared with hostd and the unit
 * tests: the volume curve, the mix of the guests' periods into one, which
 * guests are heard and which get the microphone (the policy of
 * paradice.conf's [audio] applied to the foreground guest and each
 * guest's volume and mute), and the one message hostd sends pd-mixer.
 */
#ifndef HOSTD_MIXER_MIX_H
#define HOSTD_MIXER_MIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* The format of every stream pd-mixer opens: each guest's card shows its
 * guest this format only (snd-aloop's two sides share one). */
#define PD_MIX_RATE		48000u
#define PD_MIX_CHANNELS		2u
#define PD_MIX_PERIOD		960u	/* frames: 20 ms */
#define PD_MIX_UNITY		65536u	/* a gain of 1.0 (Q16) */
#define PD_MIX_VOLUME_MAX	100u	/* percent */

/*
 * hostd -> pd-mixer, over a SOCK_SEQPACKET pair: the whole state each
 * time (a message lost or coalesced loses nothing), indexed by the
 * guest's place in paradice.conf. gain 0 is silence.
 */
#define PD_MIX_MSG_MAGIC 0x58494d50u	/* "PMIX" */
struct pd_mix_msg {
	uint32_t magic;
	uint32_t capture;			/* bit per guest: gets the mic */
	uint32_t gain[HOSTD_MAX_GUESTS];	/* Q16, at most PD_MIX_UNITY */
};

/* What hostd holds per guest (set over D-Bus). */
struct pd_mix_guest {
	unsigned int volume;	/* 0 .. PD_MIX_VOLUME_MAX */
	bool muted;
	bool has_audio;		/* paradice.conf gives it an audio card */
};

/*
 * A volume in percent as a gain: the cube of the fraction, as PulseAudio
 * maps its percentages, so that the slider's halfway is clearly quieter
 * (50% = 0.125, -18 dB) rather than hardly (linear: -6 dB). Above the
 * maximum: unity.
 */
uint32_t pd_mix_gain(unsigned int volume);

/*
 * out[i] = sum over the n inputs of in[k][i] * gain[k] (Q16), clipped to
 * 16 bits; an input NULL or of gain 0 adds nothing. samples: frames x
 * channels.
 */
void pd_mix_samples(int16_t *out, const int16_t *const *in,
		    const uint32_t *gain, size_t n, size_t samples);

/*
 * The message for this moment: guest i is heard when it has audio, the
 * policy's audible says so (all; foreground: i == active; its bit in the
 * list) and it is not muted, at its volume's gain; it gets the microphone
 * when capture says so. active may be past the guests (dom0's entry in
 * front): then no guest is the foreground one.
 */
void pd_mix_policy(struct pd_mix_msg *m, const struct hostd_audio_config *a,
		   const struct pd_mix_guest *g, unsigned int nguests,
		   unsigned int active);

/* Is m a message pd-mixer may apply (magic, gains in range)? */
bool pd_mix_msg_valid(const struct pd_mix_msg *m, size_t len);

#endif /* HOSTD_MIXER_MIX_H */
