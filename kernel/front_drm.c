// SPDX-License-Identifier: GPL-2.0-only
/*
 * How a forwarded DRM file looks to the guest: a real drm_device of a tiny
 * drm_driver whose .fops is pd_fops. DRM's stub open (drm_stub_open in
 * drm_drv.c) installs driver->fops on every file of the device's minors
 * before calling its open, so from then on DRM core never sees the file
 * again and every operation is ours to forward. What registering a real
 * drm_device gives for free is what libdrm and udev look at: the
 * /dev/dri/cardN or renderDN node on major 226, /sys/class/drm/<node>, and
 * /sys/dev/char/226:N/device/drm (drmGetDevice checks it).
 *
 * A drm_device always has a primary minor; for an exported render node
 * it gets a render minor too (DRIVER_RENDER), and only the minor that
 * matches the export is registered with us: opening the other one gives
 * -ENODEV. DRM_IOCTL_VERSION is forwarded like every other ioctl, so
 * programs see the real driver's name (modetest -M bochs-drm) and not
 * this driver's.
 */
#include <linux/slab.h>
#include <linux/platform_device.h>
#include <drm/drm_drv.h>
#include <drm/drm_file.h>

#include "front.h"

static const struct drm_driver pd_drm_driver = {
	.name = "paradice",
	.desc = "Paradice forwarded DRM device",
	.date = "20260101",
	.major = 1,
	.fops = &pd_fops,
};

static const struct drm_driver pd_drm_render_driver = {
	.driver_features = DRIVER_RENDER,
	.name = "paradice",
	.desc = "Paradice forwarded DRM render node",
	.date = "20260101",
	.major = 1,
	.fops = &pd_fops,
};

static int pd_drm_create(struct pd_export *exp)
{
	bool render = !strncmp(exp->info.name, "renderD", 7);
	struct drm_device *drm;
	struct drm_minor *minor;
	int ret;

	drm = drm_dev_alloc(render ? &pd_drm_render_driver : &pd_drm_driver,
			    &exp->conn->pdev->dev);
	if (IS_ERR(drm))
		return PTR_ERR(drm);
	ret = drm_dev_register(drm, 0);
	if (ret)
		goto err_put;
	minor = render ? drm->render : drm->primary;
	exp->devt = minor->kdev->devt;
	snprintf(exp->path, sizeof(exp->path), "/dev/dri/%s%d",
		 render ? "renderD" : "card", minor->index);
	ret = pd_node_register(exp->devt, exp);
	if (ret)
		goto err_unregister;
	exp->cls_priv = drm;
	return 0;

err_unregister:
	drm_dev_unregister(drm);
err_put:
	drm_dev_put(drm);
	return ret;
}

static void pd_drm_destroy(struct pd_export *exp)
{
	struct drm_device *drm = exp->cls_priv;

	pd_node_unregister(exp->devt);
	drm_dev_unregister(drm);
	drm_dev_put(drm);
	exp->cls_priv = NULL;
}

const struct pd_class_ops pd_drm_class = {
	.name = "drm",
	.wire_classes = BIT(PD_WIRE_CLASS_DRM),
	.create = pd_drm_create,
	.destroy = pd_drm_destroy,
};
