/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * audio.c: every guest's sound mixed in dom0 (docs/audio.md). hostd keeps
 * each guest's volume and mute, applies paradice.conf's [audio] policy to
 * them and to the foreground guest, and tells pd-mixer (hostd/mixer/), a
 * process of its own that it starts and restarts, never waiting for it.
 */
#ifndef HOSTD_AUDIO_H
#define HOSTD_AUDIO_H

#include <stdbool.h>

struct hostd_audio;
struct hostd_poller;
struct hostd_switcher;

/*
 * The guests' audio state (every volume 100, none muted) and, when spawn
 * is true, the volumes kept from before and, if the config mixes any
 * guest, pd-mixer: an earlier hostd's taken over when it mixes the same
 * configuration, else ours. Sets the switcher's audio hook. NULL only
 * when out of memory.
 */
struct hostd_audio *hostd_audio_create(struct hostd_switcher *sw,
				       struct hostd_poller *p, bool spawn);
/* Our end of pd-mixer closed: it mixes on for the next hostd, or ends by
 * itself a minute later. */
void hostd_audio_destroy(struct hostd_audio *a);

/* Guest g has an audio card that pd-mixer mixes (paradice.conf). */
bool hostd_audio_has(const struct hostd_audio *a, unsigned int g);
unsigned int hostd_audio_volume(const struct hostd_audio *a, unsigned int g);
bool hostd_audio_muted(const struct hostd_audio *a, unsigned int g);

/*
 * Guest g's volume (0-100; negative: unchanged) and mute (0, 1; negative:
 * unchanged), logged and sent to pd-mixer. 0, -ENOENT (no such guest) or
 * -EINVAL (volume out of range).
 */
int hostd_audio_set(struct hostd_audio *a, unsigned int g, int volume,
		    int muted);

#endif /* HOSTD_AUDIO_H */
