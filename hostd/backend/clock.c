// SPDX-License-Identifier: GPL-2.0-only
/*
 * The guest's clocks (PD_OP_CLOCK, pd_wire.h): the offsets its frontend
 * measured between its CLOCK_MONOTONIC, CLOCK_BOOTTIME and CLOCK_REALTIME
 * and ours, and the times we hand out made the guest's with them.
 *
 * Why here and not in the guest: the backend makes or reads every time a
 * guest gets (the virtual display's vblank timeline, evdev events read
 * from the real file, ALSA PCM status), so one addition at one place
 * covers them; the
 * frontend only measures (it is the side that can time a round trip with
 * the guest's clock). Before a SET, or with a frontend without
 * PD_WIRE_FEAT_CLOCK, the offsets are 0: times stay ours, as before 1.2.
 *
 * What must hold: offsets are read and written atomically (worker
 * threads read them while a CLOCK request changes them); a guest's
 * offset never makes an addition overflow (bounded at SET).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <linux/input.h>
#include <sound/asound.h>

#include "backend.h"

/* No clock of a guest is 146 years off ours; anything beyond is refused,
 * so that time + offset never overflows. */
#define MAX_OFFSET_NS	(INT64_C(1) << 62)

static const clockid_t ids[PD_WIRE_CLOCK_COUNT] = {
	[PD_WIRE_CLOCK_MONOTONIC] = CLOCK_MONOTONIC,
	[PD_WIRE_CLOCK_BOOTTIME] = CLOCK_BOOTTIME,
	[PD_WIRE_CLOCK_REALTIME] = CLOCK_REALTIME,
};

int64_t be_clock_now(unsigned int clock)
{
	struct timespec ts;

	clock_gettime(ids[clock < PD_WIRE_CLOCK_COUNT ? clock : 0], &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t be_clock_to_guest(struct be *be, unsigned int clock, int64_t ns)
{
	if (!be || clock >= PD_WIRE_CLOCK_COUNT)
		return ns;
	return ns + atomic_load(&be->clock_off[clock]);
}

bool be_clock_time_to_guest(struct be *be, unsigned int clock,
			    int64_t *sec, int64_t *nsec)
{
	int64_t t;

	/* below 2^62 ns, so that adding an offset (at most as much) never
	 * overflows */
	if (*sec < 0 || *sec >= MAX_OFFSET_NS / 1000000000 ||
	    *nsec < 0 || *nsec >= 1000000000)
		return false;
	t = be_clock_to_guest(be, clock, *sec * 1000000000 + *nsec);
	if (t < 0)
		t = 0;		/* before the guest's clock began */
	*sec = t / 1000000000;
	*nsec = t % 1000000000;
	return true;
}

int be_clock_of(int linux_clockid)
{
	switch (linux_clockid) {
	case CLOCK_MONOTONIC:
		return PD_WIRE_CLOCK_MONOTONIC;
	case CLOCK_BOOTTIME:
		return PD_WIRE_CLOCK_BOOTTIME;
	case CLOCK_REALTIME:
		return PD_WIRE_CLOCK_REALTIME;
	default:
		return -1;
	}
}

/*
 * PD_OP_CLOCK: reply with our clocks; with SET, keep the guest's offsets
 * first. The body is untrusted: exact length, known flags only, each
 * offset within MAX_OFFSET_NS.
 */
void be_op_clock(struct be *be, struct be_job *job)
{
	struct pd_wire_clock_req untrusted_req;
	struct pd_wire_clock_rsp rsp;

	if (!(be->features & PD_WIRE_FEAT_CLOCK)) {
		be_reply(be, &job->hdr, -EOPNOTSUPP, NULL, 0);
		return;
	}
	if (job->hdr.len != sizeof(untrusted_req)) {
		be_reply(be, &job->hdr, -EINVAL, NULL, 0);
		return;
	}
	memcpy(&untrusted_req, job->body, sizeof(untrusted_req));
	if (untrusted_req.flags & ~PD_WIRE_CLOCK_SET) {
		be_log(be, "clock: unknown flags 0x%x", untrusted_req.flags);
		be_reply(be, &job->hdr, -EINVAL, NULL, 0);
		return;
	}
	if (untrusted_req.flags & PD_WIRE_CLOCK_SET) {
		for (unsigned int i = 0; i < PD_WIRE_CLOCK_COUNT; i++) {
			int64_t o = untrusted_req.offset_ns[i];

			if (o > MAX_OFFSET_NS || o < -MAX_OFFSET_NS) {
				be_log(be, "clock: offset %u out of range", i);
				be_reply(be, &job->hdr, -ERANGE, NULL, 0);
				return;
			}
		}
		for (unsigned int i = 0; i < PD_WIRE_CLOCK_COUNT; i++)
			atomic_store(&be->clock_off[i],
				     untrusted_req.offset_ns[i]);
		if (!atomic_exchange(&be->clock_set, true) || be->verbose)
			be_log(be, "clock: the guest's monotonic clock is ours "
			       "%+.6f s (+- %u us)",
			       (double)untrusted_req.offset_ns[0] / 1e9,
			       untrusted_req.error_ns / 1000);
	}
	for (unsigned int i = 0; i < PD_WIRE_CLOCK_COUNT; i++)
		rsp.now_ns[i] = be_clock_now(i);
	be_reply(be, &job->hdr, 0, &rsp, sizeof(rsp));
}

/*
 * n bytes of struct input_event just read from a real evdev file whose
 * clock is linux_clockid (EVIOCSCLOCKID, CLOCK_REALTIME by default):
 * their times become the guest's same clock. A partial event at the end
 * (evdev never returns one) is left alone.
 */
void be_clock_evdev_fix(struct be *be, int linux_clockid, void *buf, size_t n)
{
	int clock = be_clock_of(linux_clockid);
	int64_t off;

	if (clock < 0)
		return;
	off = atomic_load(&be->clock_off[clock]);
	if (!off)
		return;
	for (size_t i = 0; i + sizeof(struct input_event) <= n;
	     i += sizeof(struct input_event)) {
		struct input_event ev;
		int64_t sec, nsec;

		memcpy(&ev, (uint8_t *)buf + i, sizeof(ev));
		sec = ev.input_event_sec;
		nsec = (int64_t)ev.input_event_usec;
		if (nsec < 0 || nsec >= 1000000)
			continue;	/* not a time evdev makes */
		nsec *= 1000;
		if (!be_clock_time_to_guest(be, clock, &sec, &nsec))
			continue;	/* not a time evdev makes */
		ev.input_event_sec = sec;
		ev.input_event_usec = nsec / 1000;
		memcpy((uint8_t *)buf + i, &ev, sizeof(ev));
	}
}

/*
 * ALSA PCM (a real pcmC*D* file): the driver stamps its status with the
 * clock the program chose (TTSTAMP, or SW_PARAMS' tstamp_type from
 * protocol 2.0.12; gettimeofday until then), as ours. A timer-driven
 * server (PulseAudio's tsched) feeds those stamps to its smoother
 * against its own clock, so a guest must get its own: after a successful
 * ioctl with argument arg (as the reply will carry it), the choice is
 * kept in h and the stamps of SYNC_PTR and STATUS/STATUS_EXT made the
 * guest's. A stamp of 0 (never triggered) stays 0; MONOTONIC_RAW, which
 * the guest does not measure, takes MONOTONIC's offset (both tick at
 * Xen's system time rate). The status page holds the same stamps and
 * cannot be rewritten: maps.c refuses to map it while an offset is set
 * (be_clock_offset_set), and alsa-lib then asks SYNC_PTR.
 */
static void snd_fix_ts(struct be *be, int type, uint8_t *ts)
{
	int clock = type == SNDRV_PCM_TSTAMP_TYPE_GETTIMEOFDAY ?
		    PD_WIRE_CLOCK_REALTIME : PD_WIRE_CLOCK_MONOTONIC;
	int64_t sec, nsec;

	memcpy(&sec, ts, 8);
	memcpy(&nsec, ts + 8, 8);
	if (!sec && !nsec)
		return;
	if (!be_clock_time_to_guest(be, clock, &sec, &nsec))
		return;		/* not a time the driver makes */
	memcpy(ts, &sec, 8);
	memcpy(ts + 8, &nsec, 8);
}

void be_clock_snd_fix(struct be *be, atomic_int *tstamp_type,
		      unsigned int cmd, void *arg)
{
	uint8_t *a = arg;
	int type = atomic_load(tstamp_type);

	switch (cmd) {
	case SNDRV_PCM_IOCTL_TTSTAMP: {
		int v;

		memcpy(&v, a, sizeof(v));
		if (v >= 0 && v <= SNDRV_PCM_TSTAMP_TYPE_LAST)
			atomic_store(tstamp_type, v);
		return;
	}
	case SNDRV_PCM_IOCTL_SW_PARAMS: {
		struct snd_pcm_sw_params p;

		memcpy(&p, a, sizeof(p));
		if (p.proto >= SNDRV_PROTOCOL_VERSION(2, 0, 12) &&
		    p.tstamp_type <= SNDRV_PCM_TSTAMP_TYPE_LAST)
			atomic_store(tstamp_type, (int)p.tstamp_type);
		return;
	}
	case SNDRV_PCM_IOCTL_SYNC_PTR:
		snd_fix_ts(be, type, a + offsetof(struct snd_pcm_sync_ptr,
						   s.status.tstamp));
		return;
	case SNDRV_PCM_IOCTL_STATUS:
	case SNDRV_PCM_IOCTL_STATUS_EXT:
		snd_fix_ts(be, type, a + offsetof(struct snd_pcm_status,
						   trigger_tstamp));
		snd_fix_ts(be, type, a + offsetof(struct snd_pcm_status,
						   tstamp));
		snd_fix_ts(be, type, a + offsetof(struct snd_pcm_status,
						   driver_tstamp));
		return;
	default:
		return;
	}
}

bool be_clock_offset_set(struct be *be)
{
	for (unsigned int i = 0; i < PD_WIRE_CLOCK_COUNT; i++)
		if (atomic_load(&be->clock_off[i]))
			return true;
	return false;
}
