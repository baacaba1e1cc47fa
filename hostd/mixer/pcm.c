// SPDX-License-Identifier: GPL-2.0-only
/*
 * pd-mixer's PCM streams on the kernel interface (pcm.h). Why not
 * alsa-lib: pd-mixer opens hw devices in one format and needs open,
 * HW_PARAMS, PREPARE, START, READI/WRITEI and STATUS only; the ioctls
 * are a stable ABI, and dom0 then needs no libasound.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <sound/asound.h>

#include "mix.h"
#include "pcm.h"

int pd_pcm_card(const char *name)
{
	char path[96], link[64];
	ssize_t n;
	int card;

	if (name[0] >= '0' && name[0] <= '9')
		return atoi(name);
	snprintf(path, sizeof(path), "/proc/asound/%s", name);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return errno == EINVAL ? -ENOENT : -errno;
	link[n] = '\0';
	if (sscanf(link, "card%d", &card) != 1)
		return -ENOENT;
	return card;
}

bool pd_pcm_is_loopback(int card)
{
	char path[64], line[128];
	bool yes = false;
	FILE *f;

	/* /proc/asound/cards: " N [ID    ]: DRIVER - NAME" */
	f = fopen("/proc/asound/cards", "r");
	if (!f)
		return false;
	snprintf(path, sizeof(path), "%d [", card);
	while (fgets(line, sizeof(line), f)) {
		const char *s = line;

		while (*s == ' ')
			s++;
		if (strncmp(s, path, strlen(path)) == 0 &&
		    strstr(s, "]: Loopback - "))
			yes = true;
	}
	fclose(f);
	return yes;
}

static void mask_one(struct snd_pcm_hw_params *p, int param, unsigned int bit)
{
	struct snd_mask *m = &p->masks[param - SNDRV_PCM_HW_PARAM_FIRST_MASK];

	memset(m, 0, sizeof(*m));
	m->bits[bit >> 5] = 1u << (bit & 31);
}

static void interval_one(struct snd_pcm_hw_params *p, int param,
			 unsigned int v)
{
	struct snd_interval *i =
		&p->intervals[param - SNDRV_PCM_HW_PARAM_FIRST_INTERVAL];

	i->min = i->max = v;
	i->openmin = i->openmax = 0;
	i->integer = 1;
}

/* Every parameter open (alsa-lib's "any"), then the mix's format. */
static void mix_params(struct snd_pcm_hw_params *p, unsigned int periods)
{
	memset(p, 0, sizeof(*p));
	for (int k = 0; k <= SNDRV_PCM_HW_PARAM_LAST_MASK -
			     SNDRV_PCM_HW_PARAM_FIRST_MASK; k++)
		memset(&p->masks[k], 0xff, sizeof(p->masks[k]));
	for (int k = 0; k <= SNDRV_PCM_HW_PARAM_LAST_INTERVAL -
			     SNDRV_PCM_HW_PARAM_FIRST_INTERVAL; k++)
		p->intervals[k].max = UINT_MAX;
	p->rmask = ~0u;
	p->info = ~0u;
	mask_one(p, SNDRV_PCM_HW_PARAM_ACCESS,
		 SNDRV_PCM_ACCESS_RW_INTERLEAVED);
	mask_one(p, SNDRV_PCM_HW_PARAM_FORMAT,
		 (unsigned int)SNDRV_PCM_FORMAT_S16_LE);
	mask_one(p, SNDRV_PCM_HW_PARAM_SUBFORMAT,
		 (unsigned int)SNDRV_PCM_SUBFORMAT_STD);
	interval_one(p, SNDRV_PCM_HW_PARAM_CHANNELS, PD_MIX_CHANNELS);
	interval_one(p, SNDRV_PCM_HW_PARAM_RATE, PD_MIX_RATE);
	interval_one(p, SNDRV_PCM_HW_PARAM_PERIOD_SIZE, PD_MIX_PERIOD);
	interval_one(p, SNDRV_PCM_HW_PARAM_PERIODS, periods);
}

int pd_pcm_open(struct pd_pcm *pcm, int card, int device, bool capture,
		unsigned int periods)
{
	struct snd_pcm_hw_params p;
	int r;

	pcm->capture = capture;
	pcm->xruns = 0;
	snprintf(pcm->path, sizeof(pcm->path), "/dev/snd/pcmC%dD%d%c", card,
		 device, capture ? 'c' : 'p');
	pcm->fd = open(pcm->path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (pcm->fd < 0)
		return -errno;
	mix_params(&p, periods);
	if (ioctl(pcm->fd, SNDRV_PCM_IOCTL_HW_PARAMS, &p) < 0 ||
	    ioctl(pcm->fd, SNDRV_PCM_IOCTL_PREPARE) < 0 ||
	    (capture && ioctl(pcm->fd, SNDRV_PCM_IOCTL_START) < 0)) {
		r = -errno;
		pd_pcm_close(pcm);
		return r;
	}
	pcm->buffer = p.intervals[SNDRV_PCM_HW_PARAM_BUFFER_SIZE -
				  SNDRV_PCM_HW_PARAM_FIRST_INTERVAL].min;
	return 0;
}

void pd_pcm_close(struct pd_pcm *pcm)
{
	if (pcm->fd >= 0)
		close(pcm->fd);
	pcm->fd = -1;
}

long pd_pcm_avail(struct pd_pcm *pcm)
{
	struct snd_pcm_status st;

	memset(&st, 0, sizeof(st));
	if (ioctl(pcm->fd, SNDRV_PCM_IOCTL_STATUS, &st) < 0)
		return -errno;
	return (long)st.avail;
}

/* An xrun (EPIPE) or a suspend (ESTRPIPE): prepared again, a capture
 * started again. 0 or a negative errno. */
static int recover(struct pd_pcm *pcm)
{
	pcm->xruns++;
	if (ioctl(pcm->fd, SNDRV_PCM_IOCTL_PREPARE) < 0)
		return -errno;
	if (pcm->capture && ioctl(pcm->fd, SNDRV_PCM_IOCTL_START) < 0)
		return -errno;
	return 0;
}

static long xfer(struct pd_pcm *pcm, void *buf, unsigned long frames,
		 unsigned long req)
{
	for (int tries = 0; tries < 2; tries++) {
		struct snd_xferi x = { .buf = buf,
				       .frames = (snd_pcm_uframes_t)frames };

		if (ioctl(pcm->fd, req, &x) == 0)
			return (long)x.result;
		if (errno == EAGAIN)
			return 0;
		if (errno != EPIPE && errno != ESTRPIPE)
			return -errno;
		if (recover(pcm) < 0)
			return -errno;
	}
	return 0;
}

long pd_pcm_read(struct pd_pcm *pcm, int16_t *buf, unsigned long frames)
{
	return xfer(pcm, buf, frames, SNDRV_PCM_IOCTL_READI_FRAMES);
}

long pd_pcm_write(struct pd_pcm *pcm, const int16_t *buf,
		  unsigned long frames)
{
	return xfer(pcm, (void *)buf, frames, SNDRV_PCM_IOCTL_WRITEI_FRAMES);
}
