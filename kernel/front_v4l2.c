// SPDX-License-Identifier: GPL-2.0-only
/*
 * How a forwarded V4L2 file looks to the guest: a video_device with the
 * real device's card name and capabilities, registered with the V4L2
 * core (so /dev/videoN, /sys/class/video4linux/videoN/name and the
 * device's index exist as V4L2 tools expect), whose v4l2_file_operations
 * forward. It has no ioctl_ops: v4l2_ioctl() then calls our
 * unlocked_ioctl for every command instead of decoding it, and the core
 * keeps no per-file state of its own.
 *
 * The name and capabilities come from a VIDIOC_QUERYCAP the module itself
 * forwards when it creates the node (device_caps must be set before
 * registration, and decides the direction of the node).
 */
#include <linux/slab.h>
#include <linux/platform_device.h>
#include <media/v4l2-dev.h>
#include <media/v4l2-device.h>
#include <linux/videodev2.h>

#include "front.h"

struct pd_v4l2 {
	struct v4l2_device v4l2_dev;
	struct video_device vdev;
};

static int pd_v4l2_open(struct file *file)
{
	struct pd_export *exp = pd_node_get(file_inode(file)->i_rdev);

	if (!exp)
		return -ENODEV;
	return pd_fops_open_export(exp, file);
}

static int pd_v4l2_release(struct file *file)
{
	return pd_fop_release(file_inode(file), file);
}

static const struct v4l2_file_operations pd_v4l2_fops = {
	.owner = THIS_MODULE,
	.open = pd_v4l2_open,
	.release = pd_v4l2_release,
	.read = pd_fop_read,
	.write = pd_fop_write,
	.poll = pd_fop_poll,
	.unlocked_ioctl = pd_fop_ioctl,
	.mmap = pd_fop_mmap,
};

static void pd_v4l2_free(struct v4l2_device *v4l2_dev)
{
	kfree(container_of(v4l2_dev, struct pd_v4l2, v4l2_dev));
}

/* Node type from the export's name, as the V4L2 core names them. */
static int pd_v4l2_type(const char *name)
{
	if (!strncmp(name, "vbi", 3))
		return VFL_TYPE_VBI;
	if (!strncmp(name, "radio", 5))
		return VFL_TYPE_RADIO;
	if (!strncmp(name, "swradio", 7))
		return VFL_TYPE_SDR;
	if (!strncmp(name, "v4l-touch", 9))
		return VFL_TYPE_TOUCH;
	return VFL_TYPE_VIDEO;
}

static int pd_v4l2_create(struct pd_export *exp)
{
	struct v4l2_capability *cap;
	struct pd_file *pf;
	struct pd_v4l2 *pv;
	u32 caps;
	int ret;

	cap = kzalloc(sizeof(*cap), GFP_KERNEL);
	if (!cap)
		return -ENOMEM;
	pd_conn_get(exp->conn);
	pf = pd_file_open(exp, O_RDWR | O_NONBLOCK, &ret);
	if (!pf)
		goto out_cap;
	ret = pd_ioctl_kernel(pf, VIDIOC_QUERYCAP, cap);
	pd_file_close(pf);
	if (ret < 0)
		goto out_cap;
	caps = (cap->capabilities & V4L2_CAP_DEVICE_CAPS) ? cap->device_caps :
							     cap->capabilities;
	caps &= ~V4L2_CAP_DEVICE_CAPS;
	if (!caps) {
		ret = -EINVAL;
		goto out_cap;
	}

	pv = kzalloc(sizeof(*pv), GFP_KERNEL);
	if (!pv) {
		ret = -ENOMEM;
		goto out_cap;
	}
	snprintf(pv->v4l2_dev.name, sizeof(pv->v4l2_dev.name), "%s-%u-%u",
		 PD_FRONT_NAME, exp->conn->id, exp->index);
	ret = v4l2_device_register(&exp->conn->pdev->dev, &pv->v4l2_dev);
	if (ret) {
		kfree(pv);
		goto out_cap;
	}
	pv->v4l2_dev.release = pd_v4l2_free;
	strscpy(pv->vdev.name, cap->card, sizeof(pv->vdev.name));
	pv->vdev.fops = &pd_v4l2_fops;
	pv->vdev.release = video_device_release_empty;
	pv->vdev.v4l2_dev = &pv->v4l2_dev;
	pv->vdev.device_caps = caps;
	if (caps & (V4L2_CAP_VIDEO_M2M | V4L2_CAP_VIDEO_M2M_MPLANE))
		pv->vdev.vfl_dir = VFL_DIR_M2M;
	else if (caps & (V4L2_CAP_VIDEO_OUTPUT | V4L2_CAP_VIDEO_OUTPUT_MPLANE |
			 V4L2_CAP_VBI_OUTPUT | V4L2_CAP_SLICED_VBI_OUTPUT |
			 V4L2_CAP_SDR_OUTPUT | V4L2_CAP_META_OUTPUT |
			 V4L2_CAP_MODULATOR | V4L2_CAP_AUDIO))
		pv->vdev.vfl_dir = (caps & (V4L2_CAP_VIDEO_CAPTURE |
					    V4L2_CAP_VBI_CAPTURE |
					    V4L2_CAP_SDR_CAPTURE |
					    V4L2_CAP_TUNER)) ?
				   VFL_DIR_RX : VFL_DIR_TX;
	else
		pv->vdev.vfl_dir = VFL_DIR_RX;
	ret = video_register_device(&pv->vdev, pd_v4l2_type(exp->info.name),
				    -1);
	if (ret) {
		v4l2_device_unregister(&pv->v4l2_dev);
		v4l2_device_put(&pv->v4l2_dev);
		goto out_cap;
	}
	exp->devt = pv->vdev.dev.devt;
	snprintf(exp->path, sizeof(exp->path), "/dev/%s",
		 video_device_node_name(&pv->vdev));
	ret = pd_node_register(exp->devt, exp);
	if (ret) {
		video_unregister_device(&pv->vdev);
		v4l2_device_unregister(&pv->v4l2_dev);
		v4l2_device_put(&pv->v4l2_dev);
		goto out_cap;
	}
	exp->cls_priv = pv;
out_cap:
	kfree(cap);
	return ret;
}

static void pd_v4l2_destroy(struct pd_export *exp)
{
	struct pd_v4l2 *pv = exp->cls_priv;

	pd_node_unregister(exp->devt);
	video_unregister_device(&pv->vdev);
	v4l2_device_unregister(&pv->v4l2_dev);
	/* freed by pd_v4l2_free once the last open file is closed */
	v4l2_device_put(&pv->v4l2_dev);
	exp->cls_priv = NULL;
}

const struct pd_class_ops pd_v4l2_class = {
	.name = "v4l2",
	.wire_classes = BIT(PD_WIRE_CLASS_V4L2),
	.create = pd_v4l2_create,
	.destroy = pd_v4l2_destroy,
};
