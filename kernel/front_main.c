// SPDX-License-Identifier: GPL-2.0-only
/*
 * Paradice guest frontend: module entry points.
 *
 * The frontend creates virtual device files in the guest and forwards every
 * file operation on them to the backend in the driver domain. This file only
 * registers the module; the transports, the file operations and the ioctl
 * descriptor engine live in their own files.
 */
#include <linux/module.h>
#include <linux/init.h>
#include <linux/printk.h>

#include <paradice/pd_wire.h>

#include "pd_ioctl.h"

/*
 * The descriptor tables are shared with the backend (common/); check them
 * once at load, so that a table mistake shows up here rather than as a
 * wrong copy in some later ioctl.
 */
static int __init pd_front_init(void)
{
	char why[128];
	int ret;

	ret = pd_ioc_check_tables(why, sizeof(why));
	if (ret) {
		pr_err("paradice: ioctl descriptor tables: %s\n", why);
		return ret;
	}
	pr_info("paradice: frontend loaded, wire ABI %u.%u, ioctls described: drm %u (+vgem %u, virtgpu %u, radeon %u), evdev %u, v4l2 %u, alsa %u/%u/%u\n",
		PD_WIRE_VERSION_MAJOR, PD_WIRE_VERSION_MINOR,
		pd_ioc_count_entries(PD_WIRE_CLASS_DRM,
				     PD_WIRE_DRIVER_DRM_GENERIC),
		pd_ioc_drm_vgem.count, pd_ioc_drm_virtgpu.count,
		pd_ioc_drm_radeon.count,
		pd_ioc_count_entries(PD_WIRE_CLASS_EVDEV, 0),
		pd_ioc_count_entries(PD_WIRE_CLASS_V4L2, 0),
		pd_ioc_count_entries(PD_WIRE_CLASS_SND_CTL, 0),
		pd_ioc_count_entries(PD_WIRE_CLASS_SND_PCM, 0),
		pd_ioc_count_entries(PD_WIRE_CLASS_SND_TIMER, 0));
	return 0;
}

static void __exit pd_front_exit(void)
{
	pr_info("paradice: frontend unloaded\n");
}

module_init(pd_front_init);
module_exit(pd_front_exit);

MODULE_DESCRIPTION("Paradice: device files forwarded from the driver domain");
MODULE_AUTHOR("Paradice developers");
MODULE_LICENSE("GPL");
