// SPDX-License-Identifier: GPL-2.0-only
/*
 * Paradice guest frontend: module entry points. The top of the module's
 * layers: it registers the classes, then starts the transports, which
 * create connections.
 *
 * The frontend creates virtual device files in the guest and forwards every
 * file operation on them to the backend in the driver domain. The files of
 * the module are listed in front.h.
 */
#include <linux/init.h>
#include <linux/module.h>
#include <linux/printk.h>

#include "front.h"

/* The classes of device files, registered before any transport starts. */
static const struct pd_class_ops *const pd_front_classes[] = {
	&pd_drm_class,
	&pd_evdev_class,
	&pd_v4l2_class,
	&pd_snd_class,
	&pd_ctl_class,
};

static void pd_front_unregister_classes(unsigned int n)
{
	while (n--)
		pd_class_unregister(pd_front_classes[n]);
}

static int pd_front_register_classes(void)
{
	unsigned int i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(pd_front_classes); i++) {
		ret = pd_class_register(pd_front_classes[i]);
		if (ret) {
			pr_err("paradice: class %s: %d\n",
			       pd_front_classes[i]->name, ret);
			pd_front_unregister_classes(i);
			return ret;
		}
	}
	return 0;
}

static int __init pd_front_init(void)
{
	char why[128];
	int ret;

	ret = pd_ioc_check_tables(why, sizeof(why));
	if (ret) {
		pr_err("paradice: ioctl tables are broken: %s\n", why);
		return ret;
	}
	pd_stats_init();
	ret = pd_front_register_classes();
	if (ret)
		goto fail_stats;
	ret = pd_loop_init();
	if (ret)
		goto fail_classes;
	ret = pd_xen_init();
	if (ret)
		goto fail_loop;
	pr_info("paradice: frontend loaded, wire ABI %u.%u\n",
		PD_WIRE_VERSION_MAJOR, PD_WIRE_VERSION_MINOR);
	return 0;

fail_loop:
	pd_loop_exit();
fail_classes:
	pd_front_unregister_classes(ARRAY_SIZE(pd_front_classes));
fail_stats:
	pd_stats_exit();
	return ret;
}

static void __exit pd_front_exit(void)
{
	pd_xen_exit();
	pd_loop_exit();
	pd_front_unregister_classes(ARRAY_SIZE(pd_front_classes));
	pd_stats_exit();
	pr_info("paradice: frontend unloaded\n");
}

module_init(pd_front_init);
module_exit(pd_front_exit);

MODULE_DESCRIPTION("Paradice: device files forwarded from the driver domain");
MODULE_AUTHOR("Paradice developers");
MODULE_LICENSE("GPL");
