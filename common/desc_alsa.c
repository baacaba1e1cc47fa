// SPDX-License-Identifier: GPL-2.0-only
/*
 * ALSA (sound/asound.h): control, PCM and timer devices, one table each.
 *
 * PCM transfers are the case for per-file state. WRITEI/READI move
 * `frames` frames of the size the stream was configured with; WRITEN/READN
 * point to one buffer per channel of `frames` samples each. Neither size
 * is in the argument: both ends learn it from the reply of a successful
 * HW_PARAMS (snd_learn below, the PCM table's learn hook) and forget it on HW_FREE. A transfer
 * larger than a wire buffer is shortened (CLAMP): ALSA allows short
 * transfers and alsa-lib loops over them. The driver writes `result` back
 * even when it fails, so the argument returns on error too.
 *
 * Driver quirks followed: PAUSE and LINK pass integers (LINK a descriptor
 * of another PCM); REWIND/FORWARD write their result into the _IOW
 * argument; CHANNEL_INFO, PCM_NEXT_DEVICE and HWDEP_INFO read their _IOR
 * argument. TLV ioctls have a flexible array after the header (a tail).
 */
#include "pd_ioctl.h"
#include <sound/asound.h>

/*
 * The kernel's view of asound.h hides struct snd_pcm_status and struct
 * snd_timer_status (it handles the 32- and 64-bit time layouts itself), so
 * the commands a 64-bit program sends are spelled out here by size, and
 * checked against the userspace header where it is visible.
 */
#define PD_SND_PCM_STATUS_SIZE		152
#define PD_SND_TIMER_STATUS_SIZE	96
#define PD_SNDRV_PCM_IOCTL_STATUS \
	_IOC(_IOC_READ, 'A', 0x20, PD_SND_PCM_STATUS_SIZE)
#define PD_SNDRV_PCM_IOCTL_STATUS_EXT \
	_IOC(_IOC_READ | _IOC_WRITE, 'A', 0x24, PD_SND_PCM_STATUS_SIZE)
#define PD_SNDRV_TIMER_IOCTL_STATUS \
	_IOC(_IOC_READ, 'T', 0x14, PD_SND_TIMER_STATUS_SIZE)
#ifndef __KERNEL__
_Static_assert(PD_SNDRV_PCM_IOCTL_STATUS == SNDRV_PCM_IOCTL_STATUS,
	       "PCM STATUS command as userspace sends it");
_Static_assert(PD_SNDRV_PCM_IOCTL_STATUS_EXT == SNDRV_PCM_IOCTL_STATUS_EXT,
	       "PCM STATUS_EXT command as userspace sends it");
_Static_assert(PD_SNDRV_TIMER_IOCTL_STATUS == SNDRV_TIMER_IOCTL_STATUS,
	       "timer STATUS command as userspace sends it");
#endif

PD_ASSERT_SIZE(struct snd_xferi, 24);
PD_ASSERT_SIZE(struct snd_xfern, 24);
PD_ASSERT_SIZE(struct snd_ctl_elem_list, 80);
PD_ASSERT_SIZE(struct snd_ctl_elem_id, 64);
PD_ASSERT_SIZE(struct snd_ctl_tlv, 8);
PD_ASSERT_SIZE(struct snd_pcm_hw_params, 608);
PD_ASSERT_SIZE(struct snd_pcm_sync_ptr, 136);
PD_ASSERT_SIZE(struct snd_interval, 12);

/* ------------------------------------------------------------------------ */
/* Control                                                                   */

/* Element ids: `space` slots offered, `used` filled. */
static const struct pd_ioc_desc elem_list_desc[] = {
	{ .kind = PD_IOC_D_PTR, .parent = PD_IOC_PARENT_ARG, .dir = PD_IOC_OUT,
	  .off = offsetof(struct snd_ctl_elem_list, pids), .width = 8,
	  .count = PD_IOC_N_FIELD,
	  .count_off = offsetof(struct snd_ctl_elem_list, space),
	  .count_width = 4, .elem = sizeof(struct snd_ctl_elem_id),
	  .max = PD_IOC_MAX_SND_ELEM_IDS, .out = PD_IOC_O_FIELD,
	  .out_off = offsetof(struct snd_ctl_elem_list, used) },
};

/* User-defined enumerated controls come with their item names. */
static const struct pd_ioc_desc elem_add_desc[] = {
	{ PD_PTR_N(struct snd_ctl_elem_info, value.enumerated.names_ptr,
		   value.enumerated.names_length, 1, PD_IOC_MAX_SND_TLV,
		   PD_IOC_IN, PD_IOC_O_FULL),
	  .cond = { PD_COND(struct snd_ctl_elem_info, type, PD_IOC_C_EQ,
			    SNDRV_CTL_ELEM_TYPE_ENUMERATED) } },
};

#define TLV_TAIL(d) \
	{ .kind = PD_IOC_D_TAIL, .parent = PD_IOC_PARENT_ARG, .dir = (d), \
	  .count = PD_IOC_N_FIELD, \
	  .count_off = offsetof(struct snd_ctl_tlv, length), .count_width = 4, \
	  .elem = 1, .max = PD_IOC_MAX_SND_TLV }

/* The driver writes the TLV and leaves the rest of the guest's buffer. */
static const struct pd_ioc_desc tlv_read_desc[] = { TLV_TAIL(PD_IOC_INOUT) };
static const struct pd_ioc_desc tlv_write_desc[] = { TLV_TAIL(PD_IOC_IN) };

static const struct pd_ioc_entry snd_ctl_entries[] = {
	PD_IOC0(SNDRV_CTL_IOCTL_PVERSION, PD_IOC_F_INLINE),
	PD_IOC0(SNDRV_CTL_IOCTL_CARD_INFO, 0),
	PD_IOC(SNDRV_CTL_IOCTL_ELEM_LIST, 0, elem_list_desc),
	PD_IOC0(SNDRV_CTL_IOCTL_ELEM_INFO, 0),
	PD_IOC0(SNDRV_CTL_IOCTL_ELEM_READ, 0),
	PD_IOC0(SNDRV_CTL_IOCTL_ELEM_WRITE, 0),
	PD_IOC0(SNDRV_CTL_IOCTL_ELEM_LOCK, 0),
	PD_IOC0(SNDRV_CTL_IOCTL_ELEM_UNLOCK, 0),
	PD_IOC0(SNDRV_CTL_IOCTL_SUBSCRIBE_EVENTS, 0),
	PD_IOC(SNDRV_CTL_IOCTL_ELEM_ADD, 0, elem_add_desc),
	PD_IOC(SNDRV_CTL_IOCTL_ELEM_REPLACE, 0, elem_add_desc),
	PD_IOC0(SNDRV_CTL_IOCTL_ELEM_REMOVE, 0),
	PD_IOC(SNDRV_CTL_IOCTL_TLV_READ, 0, tlv_read_desc),
	PD_IOC(SNDRV_CTL_IOCTL_TLV_WRITE, 0, tlv_write_desc),
	PD_IOC(SNDRV_CTL_IOCTL_TLV_COMMAND, 0, tlv_write_desc),
	PD_IOC0(SNDRV_CTL_IOCTL_HWDEP_NEXT_DEVICE, 0),
	PD_IOC0(SNDRV_CTL_IOCTL_HWDEP_INFO, PD_IOC_F_ARG_IN),
	PD_IOC0(SNDRV_CTL_IOCTL_PCM_NEXT_DEVICE, PD_IOC_F_ARG_IN),
	PD_IOC0(SNDRV_CTL_IOCTL_PCM_INFO, 0),
	PD_IOC0(SNDRV_CTL_IOCTL_PCM_PREFER_SUBDEVICE, 0),
	PD_IOC0(SNDRV_CTL_IOCTL_RAWMIDI_NEXT_DEVICE, 0),
	PD_IOC0(SNDRV_CTL_IOCTL_RAWMIDI_INFO, 0),
	PD_IOC0(SNDRV_CTL_IOCTL_RAWMIDI_PREFER_SUBDEVICE, 0),
	PD_IOC0(SNDRV_CTL_IOCTL_POWER_STATE, 0),
};

const struct pd_ioc_table pd_ioc_snd_ctl = {
	.name = "snd-ctl",
	.entries = snd_ctl_entries,
	.count = PD_ARRAY_SIZE(snd_ctl_entries),
};

/* ------------------------------------------------------------------------ */
/* PCM                                                                       */

/* Interleaved: frames x frame size, the count lowered to fit a buffer. */
#define XFERI(d) \
	{ .kind = PD_IOC_D_PTR, .parent = PD_IOC_PARENT_ARG, .dir = (d), \
	  .flags = PD_IOC_DF_CLAMP | PD_IOC_DF_SIGNED, \
	  .off = offsetof(struct snd_xferi, buf), .width = 8, \
	  .count = PD_IOC_N_FIELD, \
	  .count_off = offsetof(struct snd_xferi, frames), .count_width = 8, \
	  .scale = PD_IOC_S_FRAME, .max = 0xffffffffu, \
	  .out = (d) == PD_IOC_OUT ? PD_IOC_O_ARG : PD_IOC_O_FULL, \
	  .out_off = offsetof(struct snd_xferi, result) }

static const struct pd_ioc_desc writei_desc[] = { XFERI(PD_IOC_IN) };
static const struct pd_ioc_desc readi_desc[] = { XFERI(PD_IOC_OUT) };

/* Non-interleaved: one pointer per channel, each to frames samples. */
#define XFERN(d) \
	{ .kind = PD_IOC_D_PTR, .parent = PD_IOC_PARENT_ARG, .dir = PD_IOC_IN, \
	  .off = offsetof(struct snd_xfern, bufs), .width = 8, \
	  .count = PD_IOC_N_CHANNELS, .elem = 8, \
	  .max = PD_IOC_MAX_SND_CHANNELS }, \
	{ .kind = PD_IOC_D_PTR, .parent = 0, .dir = (d), \
	  .flags = PD_IOC_DF_CLAMP | PD_IOC_DF_SIGNED, .off = 0, .width = 8, \
	  .count = PD_IOC_N_ARG, \
	  .count_off = offsetof(struct snd_xfern, frames), .count_width = 8, \
	  .scale = PD_IOC_S_SAMPLE, .max = 0xffffffffu, \
	  .out = (d) == PD_IOC_OUT ? PD_IOC_O_ARG : PD_IOC_O_FULL, \
	  .out_off = offsetof(struct snd_xfern, result) }

static const struct pd_ioc_desc writen_desc[] = { XFERN(PD_IOC_IN) };
static const struct pd_ioc_desc readn_desc[] = { XFERN(PD_IOC_OUT) };

#define XFER_FLAGS (PD_IOC_F_ARG_IN | PD_IOC_F_ARG_OUT | \
		    PD_IOC_F_ARG_ON_ERR | PD_IOC_F_USES_STATE)

/*
 * Inline (the backend may run them on its reader): the versions and the
 * PCM's INFO, constants and fields of the substream, no lock (6.1
 * pcm_native.c). Not SYNC_PTR, HWSYNC, STATUS, DELAY: a nonatomic PCM
 * takes a mutex there that it holds across its driver's trigger, which
 * may wait for a DSP.
 */
static const struct pd_ioc_entry snd_pcm_entries[] = {
	PD_IOC0(SNDRV_PCM_IOCTL_PVERSION, PD_IOC_F_INLINE),
	PD_IOC0(SNDRV_PCM_IOCTL_INFO, PD_IOC_F_INLINE),
	PD_IOC0(SNDRV_PCM_IOCTL_TSTAMP, 0),
	PD_IOC0(SNDRV_PCM_IOCTL_TTSTAMP, 0),
	PD_IOC0(SNDRV_PCM_IOCTL_USER_PVERSION, 0),
	PD_IOC0(SNDRV_PCM_IOCTL_HW_REFINE, 0),
	PD_IOC0(SNDRV_PCM_IOCTL_HW_PARAMS, PD_IOC_F_LEARN),
	PD_IOC0(SNDRV_PCM_IOCTL_HW_FREE, PD_IOC_F_FORGET),
	PD_IOC0(SNDRV_PCM_IOCTL_SW_PARAMS, 0),
	PD_IOC0(PD_SNDRV_PCM_IOCTL_STATUS, 0),
	PD_IOC0(PD_SNDRV_PCM_IOCTL_STATUS_EXT, 0),
	PD_IOC0(SNDRV_PCM_IOCTL_DELAY, 0),
	PD_IOC0(SNDRV_PCM_IOCTL_HWSYNC, 0),
	PD_IOC0(SNDRV_PCM_IOCTL_SYNC_PTR, 0),
	PD_IOC0(SNDRV_PCM_IOCTL_CHANNEL_INFO, PD_IOC_F_ARG_IN),
	PD_IOC0(SNDRV_PCM_IOCTL_PREPARE, 0),
	PD_IOC0(SNDRV_PCM_IOCTL_RESET, 0),
	PD_IOC0(SNDRV_PCM_IOCTL_START, 0),
	PD_IOC0(SNDRV_PCM_IOCTL_DROP, 0),
	PD_IOC0(SNDRV_PCM_IOCTL_DRAIN, 0),
	PD_IOC0(SNDRV_PCM_IOCTL_PAUSE, PD_IOC_F_ARG_VALUE),
	PD_IOC0(SNDRV_PCM_IOCTL_REWIND, PD_IOC_F_ARG_OUT),
	PD_IOC0(SNDRV_PCM_IOCTL_FORWARD, PD_IOC_F_ARG_OUT),
	PD_IOC0(SNDRV_PCM_IOCTL_RESUME, 0),
	PD_IOC0(SNDRV_PCM_IOCTL_XRUN, 0),
	PD_IOC(SNDRV_PCM_IOCTL_WRITEI_FRAMES, XFER_FLAGS, writei_desc),
	PD_IOC(SNDRV_PCM_IOCTL_READI_FRAMES, XFER_FLAGS, readi_desc),
	PD_IOC(SNDRV_PCM_IOCTL_WRITEN_FRAMES, XFER_FLAGS, writen_desc),
	PD_IOC(SNDRV_PCM_IOCTL_READN_FRAMES, XFER_FLAGS, readn_desc),
	PD_IOC0(SNDRV_PCM_IOCTL_LINK, PD_IOC_F_ARG_VALUE | PD_IOC_F_ARG_FD),
	PD_IOC0(SNDRV_PCM_IOCTL_UNLINK, 0),
};

/*
 * After a successful HW_PARAMS every interval the stream depends on is a
 * single value. Take sample bits, frame bits and channels from it; if they
 * are not fixed, out of bounds or inconsistent, know nothing, so transfers
 * fail with -EBADFD rather than move a wrong number of bytes.
 */
static void snd_learn(struct pd_ioc_state *st, const __u8 *arg, __u32 len)
{
	static const unsigned int params[3] = {
		SNDRV_PCM_HW_PARAM_SAMPLE_BITS, SNDRV_PCM_HW_PARAM_FRAME_BITS,
		SNDRV_PCM_HW_PARAM_CHANNELS,
	};
	__u32 v[3];
	unsigned int i, off;

	pd_memset(st, 0, sizeof(*st));
	if (len < sizeof(struct snd_pcm_hw_params))
		return;
	for (i = 0; i < 3; i++) {
		off = offsetof(struct snd_pcm_hw_params, intervals) +
		      (params[i] - SNDRV_PCM_HW_PARAM_FIRST_INTERVAL) *
		      sizeof(struct snd_interval);
		v[i] = (__u32)pd_ioc_get(arg + off +
					 offsetof(struct snd_interval, min), 4);
		if (v[i] != (__u32)pd_ioc_get(arg + off +
					      offsetof(struct snd_interval,
						       max), 4))
			return;
	}
	if (!v[0] || v[0] > PD_IOC_MAX_SND_SAMPLE_BITS || !v[2] ||
	    v[2] > PD_IOC_MAX_SND_CHANNELS || v[1] != v[0] * v[2])
		return;
	st->sample_bits = v[0];
	st->frame_bits = v[1];
	st->channels = v[2];
}

const struct pd_ioc_table pd_ioc_snd_pcm = {
	.name = "snd-pcm",
	.entries = snd_pcm_entries,
	.count = PD_ARRAY_SIZE(snd_pcm_entries),
	.learn = snd_learn,
};

/* ------------------------------------------------------------------------ */
/* Timer                                                                     */

static const struct pd_ioc_entry snd_timer_entries[] = {
	PD_IOC0(SNDRV_TIMER_IOCTL_PVERSION, 0),
	PD_IOC0(SNDRV_TIMER_IOCTL_NEXT_DEVICE, 0),
	PD_IOC0(SNDRV_TIMER_IOCTL_TREAD_OLD, 0),
	PD_IOC0(SNDRV_TIMER_IOCTL_TREAD64, 0),
	PD_IOC0(SNDRV_TIMER_IOCTL_GINFO, 0),
	PD_IOC0(SNDRV_TIMER_IOCTL_GPARAMS, 0),
	PD_IOC0(SNDRV_TIMER_IOCTL_GSTATUS, 0),
	PD_IOC0(SNDRV_TIMER_IOCTL_SELECT, 0),
	PD_IOC0(SNDRV_TIMER_IOCTL_INFO, 0),
	PD_IOC0(SNDRV_TIMER_IOCTL_PARAMS, 0),
	PD_IOC0(PD_SNDRV_TIMER_IOCTL_STATUS, 0),
	PD_IOC0(SNDRV_TIMER_IOCTL_START, 0),
	PD_IOC0(SNDRV_TIMER_IOCTL_STOP, 0),
	PD_IOC0(SNDRV_TIMER_IOCTL_CONTINUE, 0),
	PD_IOC0(SNDRV_TIMER_IOCTL_PAUSE, 0),
};

const struct pd_ioc_table pd_ioc_snd_timer = {
	.name = "snd-timer",
	.entries = snd_timer_entries,
	.count = PD_ARRAY_SIZE(snd_timer_entries),
};
