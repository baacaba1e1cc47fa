// SPDX-License-Identifier: GPL-2.0-only
/*
 * evdev (linux/input.h), every EVIOC* of the 6.1 driver.
 *
 * Several commands carry their buffer size in the command number
 * (EVIOCGNAME(len), EVIOCGBIT(ev, len), EVIOCGKEY(len) ...): they match by
 * type and number range whatever the size, up to PD_IOC_MAX_EVDEV_LEN. The
 * driver returns how many bytes it wrote and leaves the rest of the buffer
 * alone, so only that many come back (ARG_RET).
 *
 * Quirks of the driver the table follows: EVIOCGKEYCODE(_V2), EVIOCGMTSLOTS
 * and EVIOCGMASK are _IOR but read their argument first (ARG_IN); EVIOCSFF
 * writes the effect id back (ARG_OUT); EVIOCRMFF, EVIOCGRAB and EVIOCREVOKE
 * pass an integer, not a pointer (ARG_VALUE).
 */
#include "pd_ioctl.h"
#include <linux/input.h>

PD_ASSERT_SIZE(struct input_mask, 16);
PD_ASSERT_SIZE(struct ff_effect, 48);
PD_ASSERT_SIZE(struct input_absinfo, 24);

/* Masks of codes per event type: a byte array of codes_size bytes. */
static const struct pd_ioc_desc gmask_desc[] = {
	{ PD_PTR_N(struct input_mask, codes_ptr, codes_size, 1,
		   PD_IOC_MAX_EVDEV_MASK, PD_IOC_OUT, PD_IOC_O_FULL) },
};

static const struct pd_ioc_desc smask_desc[] = {
	{ PD_PTR_N(struct input_mask, codes_ptr, codes_size, 1,
		   PD_IOC_MAX_EVDEV_MASK, PD_IOC_IN, PD_IOC_O_FULL) },
};

/* A periodic effect with a custom waveform points to its samples. */
static const struct pd_ioc_desc sff_desc[] = {
	{ PD_PTR_N(struct ff_effect, u.periodic.custom_data,
		   u.periodic.custom_len, 2, PD_IOC_MAX_FF_CUSTOM, PD_IOC_IN,
		   PD_IOC_O_FULL),
	  .cond = { PD_COND(struct ff_effect, type, PD_IOC_C_EQ, FF_PERIODIC),
		    PD_COND(struct ff_effect, u.periodic.waveform,
			    PD_IOC_C_EQ, FF_CUSTOM) } },
};

#define RANGE(c, last, fl) \
	PD_IOC_VAR(c, last, PD_IOC_MAX_EVDEV_LEN, fl)

/*
 * Inline (the backend may run them on its reader): the queries (EVIOCG*).
 * In 6.1 they take evdev->mutex and spinlocks, nothing else; evdev->mutex
 * is held across waits only by EVIOCSFF/EVIOCRMFF (a uinput device waits
 * for its owner), by the flush at a close and by open and close (the
 * device's open/close), and the backend keeps the guest's own such
 * requests from overlapping an inline query (hostd/backend/inline.c).
 */
#define INL PD_IOC_F_INLINE

static const struct pd_ioc_entry evdev_entries[] = {
	PD_IOC0(EVIOCGVERSION, INL),
	PD_IOC0(EVIOCGID, INL),
	PD_IOC0(EVIOCGREP, INL),
	PD_IOC0(EVIOCSREP, 0),
	PD_IOC0(EVIOCGKEYCODE, PD_IOC_F_ARG_IN | INL),
	PD_IOC0(EVIOCGKEYCODE_V2, PD_IOC_F_ARG_IN | INL),
	PD_IOC0(EVIOCSKEYCODE, 0),
	PD_IOC0(EVIOCSKEYCODE_V2, 0),
	/* EVIOCGNAME, EVIOCGPHYS, EVIOCGUNIQ, EVIOCGPROP */
	RANGE(EVIOCGNAME(0), _IOC_NR(EVIOCGPROP(0)),
	      PD_IOC_F_ARG_RET | INL),
	RANGE(EVIOCGMTSLOTS(0), _IOC_NR(EVIOCGMTSLOTS(0)),
	      PD_IOC_F_ARG_IN | INL),
	/* EVIOCGKEY, EVIOCGLED, EVIOCGSND, EVIOCGSW */
	RANGE(EVIOCGKEY(0), _IOC_NR(EVIOCGSW(0)), PD_IOC_F_ARG_RET | INL),
	RANGE(EVIOCGBIT(0, 0), _IOC_NR(EVIOCGBIT(EV_MAX, 0)),
	      PD_IOC_F_ARG_RET | INL),
	/* the driver copies min(size, sizeof(struct input_absinfo)) */
	PD_IOC_VAR(EVIOCGABS(0), _IOC_NR(EVIOCGABS(ABS_MAX)),
		   sizeof(struct input_absinfo), INL),
	PD_IOC_VAR(EVIOCSABS(0), _IOC_NR(EVIOCSABS(ABS_MAX)),
		   sizeof(struct input_absinfo), 0),
	PD_IOC(EVIOCSFF, PD_IOC_F_ARG_OUT, sff_desc),
	PD_IOC0(EVIOCRMFF, PD_IOC_F_ARG_VALUE),
	PD_IOC0(EVIOCGEFFECTS, INL),
	PD_IOC0(EVIOCGRAB, PD_IOC_F_ARG_VALUE),
	PD_IOC0(EVIOCREVOKE, PD_IOC_F_ARG_VALUE),
	PD_IOC(EVIOCGMASK, PD_IOC_F_ARG_IN | INL, gmask_desc),
	PD_IOC(EVIOCSMASK, 0, smask_desc),
	PD_IOC0(EVIOCSCLOCKID, 0),
};

const struct pd_ioc_table pd_ioc_evdev = {
	.name = "evdev",
	.entries = evdev_entries,
	.count = PD_ARRAY_SIZE(evdev_entries),
};
