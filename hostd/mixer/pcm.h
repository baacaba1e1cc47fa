/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pd-mixer's PCM streams, on the kernel's ALSA interface (<sound/asound.h>)
 * without alsa-lib: hw devices only, one fixed format (mix.h), interleaved
 * read/write, non-blocking. Each failure is returned as a negative errno;
 * the caller logs it once.
 */
#ifndef HOSTD_MIXER_PCM_H
#define HOSTD_MIXER_PCM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pd_pcm {
	int fd;			/* -1: closed */
	bool capture;
	unsigned long buffer;	/* frames */
	unsigned int xruns;	/* over- or underruns recovered */
	char path[48];
};

/* The card number of an ALSA card id or number (paradice.conf's form), or
 * a negative errno (-ENOENT: no such card). */
int pd_pcm_card(const char *name);

/* Is card number card an snd-aloop card (its /proc/asound id file says
 * "Loopback" as its driver)? */
bool pd_pcm_is_loopback(int card);

/*
 * Open /dev/snd/pcmC<card>D<device><p|c> in the mix's format with a
 * buffer of periods periods, prepared (a capture started). 0 or a
 * negative errno (the stream left closed).
 */
int pd_pcm_open(struct pd_pcm *pcm, int card, int device, bool capture,
		unsigned int periods);
void pd_pcm_close(struct pd_pcm *pcm);

/* Frames that can be read or written now, or a negative errno. */
long pd_pcm_avail(struct pd_pcm *pcm);

/*
 * Read or write up to frames frames (interleaved): how many, 0 when none
 * can be now, or a negative errno the stream could not recover from. An
 * over- or underrun is recovered here (prepared again, counted).
 */
long pd_pcm_read(struct pd_pcm *pcm, int16_t *buf, unsigned long frames);
long pd_pcm_write(struct pd_pcm *pcm, const int16_t *buf,
		  unsigned long frames);

#endif /* HOSTD_MIXER_PCM_H */
