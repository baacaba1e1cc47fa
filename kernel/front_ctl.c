// SPDX-License-Identifier: GPL-2.0-only
/*
 * The guest's control file (PD_WIRE_CLASS_CONTROL, wire 1.3): no device
 * of the driver domain but the guest's line to hostd, which the switcher
 * agent in the guest talks through (include/paradice/pd_control.h). The
 * node is a misc device, /dev/paradice/control, whose file operations are
 * pd_fops: misc_open() installs them and calls our open, so every read,
 * write and poll travels like any forwarded file's; the backend answers
 * them (hostd/backend/control.c). Its ioctls find no table (-ENOTTY).
 *
 * A connection has at most one control export; a second connection's
 * (two backends of one guest) gets no node: the misc name is taken.
 */
#include <linux/miscdevice.h>
#include <linux/platform_device.h>
#include <linux/slab.h>

#include "front.h"

static int pd_ctl_create(struct pd_export *exp)
{
	struct miscdevice *misc;
	int ret;

	misc = kzalloc(sizeof(*misc), GFP_KERNEL);
	if (!misc)
		return -ENOMEM;
	misc->minor = MISC_DYNAMIC_MINOR;
	misc->name = "paradice-control";
	misc->nodename = "paradice/control";
	misc->mode = exp->info.mode & 0777;
	misc->fops = &pd_fops;
	misc->parent = &exp->conn->pdev->dev;
	ret = misc_register(misc);
	if (ret) {
		kfree(misc);
		return ret;
	}
	/* an open before this line finds no export and gets -ENODEV; the
	 * agent opens again */
	exp->devt = MKDEV(MISC_MAJOR, misc->minor);
	ret = pd_node_register(exp->devt, exp);
	if (ret) {
		misc_deregister(misc);
		kfree(misc);
		return ret;
	}
	snprintf(exp->path, sizeof(exp->path), "/dev/paradice/control");
	exp->cls_priv = misc;
	return 0;
}

static void pd_ctl_destroy(struct pd_export *exp)
{
	struct miscdevice *misc = exp->cls_priv;

	pd_node_unregister(exp->devt);
	misc_deregister(misc);
	kfree(misc);
	exp->cls_priv = NULL;
}

const struct pd_class_ops pd_ctl_class = {
	.name = "control",
	.wire_classes = BIT(PD_WIRE_CLASS_CONTROL),
	.create = pd_ctl_create,
	.destroy = pd_ctl_destroy,
};
