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
 * A drm_device always has a primary minor (6.1's drm_dev_init() allocates
 * it unconditionally, and drm_dev_register() registers it and logs its
 * index); for an exported render node it gets a render minor too
 * (DRIVER_RENDER). Left registered, that primary minor was an extra
 * /dev/dri/cardN in the guest for every forwarded render node: a card
 * whose opens gave -ENODEV (only the exported minor is registered with
 * us), and worse, listed beside renderD128 under the parent device's
 * drm/ directory, where libdrm (drmGetDeviceNameFromFd2(), drmGetDevices2)
 * looks for the card of a render node and the other way round. So a
 * render export's primary minor is hidden: no device number (no devtmpfs
 * node), no uevent, and taken out of sysfs and debugfs right after
 * registration (hide_primary()), before anyone could open it.
 * DRM_IOCTL_VERSION is forwarded like every other ioctl, so programs see
 * the real driver's name (modetest -M bochs-drm) and not this driver's.
 */
#include <linux/slab.h>
#include <linux/platform_device.h>
#include <linux/debugfs.h>
#include <drm/drm_debugfs.h>
#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_mode.h>
#include <drm/virtgpu_drm.h>

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

/*
 * Before drm_dev_register(): the render export's primary minor gets no
 * device number (device_add() then makes no dev attribute, no
 * /sys/dev/char link and no devtmpfs node) and sends no uevent, so udev
 * never sees a card.
 */
static void quiet_primary(struct drm_device *drm)
{
	drm->primary->kdev->devt = 0;
	dev_set_uevent_suppress(drm->primary->kdev, 1);
}

/*
 * After drm_dev_register(): what 6.1's drm_minor_unregister() does to a
 * minor, but for the idr slot (static to drm_drv.c; it still points at
 * the minor until the device's release, and only an open of a node with
 * its number could find it: none exists). drm_dev_unregister() later
 * skips the minor, as it is no longer registered, so its debugfs
 * directory (whose files point into the drm_device) goes here, with the
 * nodes drm_debugfs_init() listed on the minor.
 */
static void hide_primary(struct drm_device *drm)
{
	struct drm_minor *minor = drm->primary;
	struct drm_info_node *node;

	device_del(minor->kdev);
	if (!IS_ENABLED(CONFIG_DEBUG_FS))
		return;	/* drm_debugfs_init() made nothing */
	for (;;) {
		mutex_lock(&minor->debugfs_lock);
		node = list_first_entry_or_null(&minor->debugfs_list,
						struct drm_info_node, list);
		mutex_unlock(&minor->debugfs_lock);
		if (!node)
			break;
		drm_debugfs_remove_files(node->info_ent, 1, minor);
	}
	debugfs_remove(minor->debugfs_root);
	minor->debugfs_root = NULL;
}

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
	if (render)
		quiet_primary(drm);
	ret = drm_dev_register(drm, 0);
	if (ret)
		goto err_put;
	if (render)
		hide_primary(drm);
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

/*
 * Ioctls nobody waits for (pd_wire.h 1.7, PD_IOC_F_ORDERED): the backend
 * runs them in the file's order, and an error comes back for the file's
 * next call. So only calls whose outcome the guest knows go so:
 *
 *   - PAGE_FLIP with an event (and no other flag) while none of the
 *     file's flips is owed its event: a program's flip loop meets one
 *     error, EBUSY for a flip pending, and the guest sees its flips end
 *     in the events pushed to it (struct pd_flips, common/pd_async.h has
 *     the count's rules). Needs the events pushed (pf->evbuf).
 *   - virtio-gpu EXECBUFFER with no fence descriptor in: it names only
 *     this file's objects (a fence file's handle would be resolved
 *     later, maybe after its close). Nothing comes back but an
 *     out-fence, if asked: a file under a handle the guest names
 *     (pd_wire.h 1.8, front_ioctl.c), which Mesa's virgl asks at every
 *     flush with a fence, a frame's among them.
 */
static bool counts_flips(const struct pd_file *pf)
{
	return pf->evbuf && (pf->conn->features & PD_WIRE_FEAT_ASYNC_ORDERED);
}

static bool pd_drm_ioctl_async(struct pd_file *pf, unsigned int cmd,
			       const void *arg, u32 len)
{
	switch (cmd) {
	case DRM_IOCTL_MODE_PAGE_FLIP: {
		const struct drm_mode_crtc_page_flip *f = arg;
		unsigned long flags;
		bool ok;

		if (!counts_flips(pf) || len < sizeof(*f) ||
		    !(f->flags & DRM_MODE_PAGE_FLIP_EVENT))
			return false;
		spin_lock_irqsave(&pf->as->lock, flags);
		ok = pd_flips_send(&pf->as->flips,
				   f->flags == DRM_MODE_PAGE_FLIP_EVENT);
		spin_unlock_irqrestore(&pf->as->lock, flags);
		return ok;
	}
	case DRM_IOCTL_VIRTGPU_EXECBUFFER: {
		const struct drm_virtgpu_execbuffer *x = arg;

		/* front_ioctl.c checked that an out-fence can be named */
		return pf->driver == PD_WIRE_DRIVER_DRM_VIRTGPU &&
		       len >= sizeof(*x) &&
		       !(x->flags & VIRTGPU_EXECBUF_FENCE_FD_IN);
	}
	default:
		return false;
	}
}

/* A synchronous flip with an event that failed; an atomic commit with
 * events (see above). */
static void pd_drm_ioctl_fixup(struct pd_file *pf, unsigned int cmd,
			       unsigned long arg, long ret)
{
	size_t off = cmd == DRM_IOCTL_MODE_ATOMIC ?
		     offsetof(struct drm_mode_atomic, flags) :
		     offsetof(struct drm_mode_crtc_page_flip, flags);
	unsigned long irq;
	u32 flags;

	if (!counts_flips(pf) || (cmd != DRM_IOCTL_MODE_PAGE_FLIP &&
				  cmd != DRM_IOCTL_MODE_ATOMIC) ||
	    get_user(flags, (u32 __user *)(arg + off)) ||
	    !(flags & DRM_MODE_PAGE_FLIP_EVENT))
		return;
	spin_lock_irqsave(&pf->as->lock, irq);
	if (cmd == DRM_IOCTL_MODE_ATOMIC && !ret)
		pd_flips_atomic(&pf->as->flips);
	else if (cmd == DRM_IOCTL_MODE_PAGE_FLIP && ret)
		pd_flips_failed(&pf->as->flips);
	spin_unlock_irqrestore(&pf->as->lock, irq);
}

/* Flips ended: their events came (under pf->as->lock). */
static void pd_drm_events_pushed(struct pd_file *pf, const u8 *data, u32 len)
{
	struct drm_event e;

	while (len >= sizeof(e)) {
		memcpy(&e, data, sizeof(e));
		if (e.length < sizeof(e) || e.length > len)
			break;
		if (e.type == DRM_EVENT_FLIP_COMPLETE)
			pd_flips_event(&pf->as->flips);
		data += e.length;
		len -= e.length;
	}
}

const struct pd_class_ops pd_drm_class = {
	.name = "drm",
	.wire_classes = BIT(PD_WIRE_CLASS_DRM),
	.create = pd_drm_create,
	.destroy = pd_drm_destroy,
	.ioctl_fixup = pd_drm_ioctl_fixup,
	.ioctl_async = pd_drm_ioctl_async,
	.events_pushed = pd_drm_events_pushed,
};
