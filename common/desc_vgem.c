// SPDX-License-Identifier: GPL-2.0-only
/*
 * vgem: the DRM core table plus its two fence ioctls. The fence it returns
 * is a per-file id, not a descriptor; buffers are created with the core
 * dumb-buffer ioctls and shared with PRIME.
 */
#include "pd_ioctl.h"
#include <drm/drm.h>
#include <drm/vgem_drm.h>

static const struct pd_ioc_entry vgem_entries[] = {
	PD_IOC0(DRM_IOCTL_VGEM_FENCE_ATTACH, 0),
	PD_IOC0(DRM_IOCTL_VGEM_FENCE_SIGNAL, 0),
};

const struct pd_ioc_table pd_ioc_drm_vgem = {
	.name = "vgem",
	.entries = vgem_entries,
	.count = PD_ARRAY_SIZE(vgem_entries),
	.flags = PD_IOC_F_ARG_ON_ERR,
};
