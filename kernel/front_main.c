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

static int __init pd_front_init(void)
{
	pr_info("paradice: frontend loaded, wire ABI %u.%u\n",
		PD_WIRE_VERSION_MAJOR, PD_WIRE_VERSION_MINOR);
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
