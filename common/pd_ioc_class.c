// SPDX-License-Identifier: GPL-2.0-only
/*
 * The registry of device classes: which tables apply to a file of a class
 * (and, for DRM, of a driver), in one table, pd_ioc_classes[]. This is the
 * one file of common/ that names every class; the engine (pd_ioctl.c) and
 * the self-check (pd_ioc_check.c) work on whatever table they are given,
 * and a class's own knowledge of per-file state stays in its desc_*.c,
 * behind its table's learn hook. A new class is a desc_*.c and a line here.
 */
#include "pd_ioctl.h"

static const struct pd_ioc_table *const drm_generic_tables[] = {
	&pd_ioc_drm_core, NULL,
};
static const struct pd_ioc_table *const drm_vgem_tables[] = {
	&pd_ioc_drm_core, &pd_ioc_drm_vgem, NULL,
};
static const struct pd_ioc_table *const drm_virtgpu_tables[] = {
	&pd_ioc_drm_core, &pd_ioc_drm_virtgpu, NULL,
};
static const struct pd_ioc_table *const drm_radeon_tables[] = {
	&pd_ioc_drm_core, &pd_ioc_drm_radeon, NULL,
};
static const struct pd_ioc_table *const drm_amdgpu_tables[] = {
	&pd_ioc_drm_core, &pd_ioc_drm_amdgpu, NULL,
};
static const struct pd_ioc_table *const evdev_tables[] = {
	&pd_ioc_evdev, NULL,
};
static const struct pd_ioc_table *const v4l2_tables[] = {
	&pd_ioc_v4l2, NULL,
};
static const struct pd_ioc_table *const snd_ctl_tables[] = {
	&pd_ioc_snd_ctl, NULL,
};
static const struct pd_ioc_table *const snd_pcm_tables[] = {
	&pd_ioc_snd_pcm, NULL,
};
static const struct pd_ioc_table *const snd_timer_tables[] = {
	&pd_ioc_snd_timer, NULL,
};
static const struct pd_ioc_table *const adopted_tables[] = {
	&pd_ioc_adopted, NULL,
};

#define DRM(drv, t) { .dev_class = PD_WIRE_CLASS_DRM, \
		      .driver = PD_WIRE_DRIVER_DRM_##drv, .tables = (t) }
/* Classes other than DRM have one driver: any driver id names it. */
#define CLASS(cl, t) { .dev_class = PD_WIRE_CLASS_##cl, .any_driver = true, \
		       .tables = (t) }

const struct pd_ioc_class pd_ioc_classes[] = {
	DRM(GENERIC, drm_generic_tables),
	DRM(VGEM, drm_vgem_tables),
	DRM(VIRTGPU, drm_virtgpu_tables),
	DRM(RADEON, drm_radeon_tables),
	DRM(AMDGPU, drm_amdgpu_tables),
	CLASS(EVDEV, evdev_tables),
	CLASS(V4L2, v4l2_tables),
	CLASS(SND_CTL, snd_ctl_tables),
	CLASS(SND_PCM, snd_pcm_tables),
	CLASS(SND_TIMER, snd_timer_tables),
	/* files made by an ioctl (PRIME, EXPBUF, fences): dma-buf's SYNC */
	CLASS(NONE, adopted_tables),
};
const unsigned int pd_ioc_nclasses = PD_ARRAY_SIZE(pd_ioc_classes);

/*
 * The tables that apply to a file of a class (and, for DRM, of a driver):
 * a NULL-terminated list, or NULL for a class this build does not know.
 */
const struct pd_ioc_table *const *pd_ioc_tables(unsigned int dev_class,
						unsigned int driver)
{
	unsigned int i;

	for (i = 0; i < pd_ioc_nclasses; i++) {
		const struct pd_ioc_class *c = &pd_ioc_classes[i];

		if (c->dev_class == dev_class &&
		    (c->any_driver || c->driver == driver))
			return c->tables;
	}
	return NULL;
}

/*
 * Find the descriptor of a command for a file of the given class. Returns
 * NULL for a command in no table: the caller refuses it with -ENOTTY and
 * logs it once. *flags gets the entry's flags merged with its table's.
 */
const struct pd_ioc_entry *pd_ioc_lookup(unsigned int dev_class,
					 unsigned int driver, __u32 cmd,
					 unsigned int *flags)
{
	const struct pd_ioc_table *const *t = pd_ioc_tables(dev_class, driver);
	unsigned int i;

	for (; t && *t; t++) {
		for (i = 0; i < (*t)->count; i++) {
			const struct pd_ioc_entry *e = &(*t)->entries[i];

			if (pd_ioc_entry_matches(e, cmd)) {
				if (flags)
					*flags = e->flags | (*t)->flags;
				return e;
			}
		}
	}
	return NULL;
}

unsigned int pd_ioc_count_entries(unsigned int dev_class, unsigned int driver)
{
	const struct pd_ioc_table *const *t = pd_ioc_tables(dev_class, driver);
	unsigned int n = 0;

	for (; t && *t; t++)
		n += (*t)->count;
	return n;
}

/* The registered table whose entries array holds e, or NULL. */
static const struct pd_ioc_table *table_of(const struct pd_ioc_entry *e)
{
	unsigned int i;

	for (i = 0; i < pd_ioc_nclasses; i++) {
		const struct pd_ioc_table *const *t = pd_ioc_classes[i].tables;

		/* unsigned: an entry before the array is far past its end */
		for (; *t; t++)
			if ((unsigned long)e - (unsigned long)(*t)->entries <
			    (unsigned long)(*t)->count * sizeof(*e))
				return *t;
	}
	return NULL;
}

/*
 * Per-file state: a LEARN command (ALSA HW_PARAMS) teaches it through its
 * table's learn hook, a FORGET command (HW_FREE) and a failed LEARN
 * command forget it (the kernel leaves the stream unconfigured after a
 * failed HW_PARAMS). Both ends call this with the argument as the call
 * returned it; the backend's copy comes from the real driver.
 */
void pd_ioc_learn(const struct pd_ioc_call *call, struct pd_ioc_state *st,
		  const __u8 *arg, __u32 arg_len, __s64 result)
{
	const struct pd_ioc_table *t;

	if (!st)
		return;
	if (call->flags & PD_IOC_F_FORGET) {
		if (result == 0)
			pd_memset(st, 0, sizeof(*st));
		return;
	}
	if (!(call->flags & PD_IOC_F_LEARN))
		return;
	pd_memset(st, 0, sizeof(*st));
	t = table_of(call->entry);
	if (result == 0 && arg && t && t->learn)
		t->learn(st, arg, arg_len);
}

/* Check every registered table (once each); 0 or -EINVAL with the
 * reason. */
int pd_ioc_check_tables(char *why, unsigned int why_len)
{
	unsigned int i, j;
	int ret;

	for (i = 0; i < pd_ioc_nclasses; i++) {
		const struct pd_ioc_table *const *t = pd_ioc_classes[i].tables;

		if (!t || !*t)
			return -EINVAL;
		for (; *t; t++) {
			bool seen = false;

			/* drm-core is in every DRM class: check it once */
			for (j = 0; j < i && !seen; j++) {
				const struct pd_ioc_table *const *o =
					pd_ioc_classes[j].tables;

				for (; *o && !seen; o++)
					seen = *o == *t;
			}
			if (seen)
				continue;
			ret = pd_ioc_check_table(*t, why, why_len);
			if (ret)
				return ret;
		}
	}
	return 0;
}
