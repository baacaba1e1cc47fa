// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-gpu (virtgpu_drm.h), every ioctl of the 6.1 driver.
 *
 * EXECBUFFER is the interesting one: a command stream and a handle array
 * behind pointers, and one fence_fd field that is an input descriptor when
 * FENCE_FD_IN is set and is overwritten with a new descriptor when
 * FENCE_FD_OUT is set (both may be). GETPARAM's value is a pointer to an
 * int the driver writes.
 */
#include "pd_ioctl.h"
#include <drm/drm.h>
#include <drm/virtgpu_drm.h>

PD_ASSERT_SIZE(struct drm_virtgpu_execbuffer, 40);
PD_ASSERT_SIZE(struct drm_virtgpu_context_set_param, 16);

static const struct pd_ioc_desc execbuffer_desc[] = {
	{ PD_PTR_N(struct drm_virtgpu_execbuffer, command, size, 1,
		   PD_IOC_MAX_VIRTGPU_CMD, PD_IOC_IN, PD_IOC_O_FULL) },
	{ PD_PTR_N(struct drm_virtgpu_execbuffer, bo_handles, num_bo_handles,
		   4, PD_IOC_MAX_VIRTGPU_BOS, PD_IOC_IN, PD_IOC_O_FULL) },
	{ PD_FD(PD_IOC_D_FD_IN, struct drm_virtgpu_execbuffer, fence_fd),
	  .cond = { PD_COND(struct drm_virtgpu_execbuffer, flags, PD_IOC_C_ANY,
			    VIRTGPU_EXECBUF_FENCE_FD_IN) } },
	{ PD_FD(PD_IOC_D_FD_NEW, struct drm_virtgpu_execbuffer, fence_fd),
	  .cond = { PD_COND(struct drm_virtgpu_execbuffer, flags, PD_IOC_C_ANY,
			    VIRTGPU_EXECBUF_FENCE_FD_OUT) } },
};

/* The driver writes sizeof(int); the backend allocates a u64 anyway. */
static const struct pd_ioc_desc getparam_desc[] = {
	{ PD_PTR_1(struct drm_virtgpu_getparam, value, sizeof(int),
		   PD_IOC_OUT), .alloc_min = 8 },
};

/* The driver copies min(size, capset size): the guest's bytes go in so the
 * rest of its buffer comes back as it was. */
static const struct pd_ioc_desc get_caps_desc[] = {
	{ PD_PTR_N(struct drm_virtgpu_get_caps, addr, size, 1,
		   PD_IOC_MAX_VIRTGPU_CAPS, PD_IOC_INOUT, PD_IOC_O_FULL) },
};

static const struct pd_ioc_desc create_blob_desc[] = {
	{ PD_PTR_N(struct drm_virtgpu_resource_create_blob, cmd, cmd_size, 1,
		   PD_IOC_MAX_VIRTGPU_CMD, PD_IOC_IN, PD_IOC_O_FULL) },
};

static const struct pd_ioc_desc context_init_desc[] = {
	{ PD_PTR_N(struct drm_virtgpu_context_init, ctx_set_params,
		   num_params, sizeof(struct drm_virtgpu_context_set_param),
		   PD_IOC_MAX_VIRTGPU_PARAMS, PD_IOC_IN, PD_IOC_O_FULL) },
};

static const struct pd_ioc_entry virtgpu_entries[] = {
	PD_IOC0(DRM_IOCTL_VIRTGPU_MAP, 0),
	PD_IOC(DRM_IOCTL_VIRTGPU_EXECBUFFER, PD_IOC_F_ORDERED, execbuffer_desc),
	/* inline (hostd/backend/inline.c): a field of the device, no lock */
	PD_IOC(DRM_IOCTL_VIRTGPU_GETPARAM, PD_IOC_F_INLINE, getparam_desc),
	PD_IOC0(DRM_IOCTL_VIRTGPU_RESOURCE_CREATE, 0),
	PD_IOC0(DRM_IOCTL_VIRTGPU_RESOURCE_INFO, 0),
	PD_IOC0(DRM_IOCTL_VIRTGPU_TRANSFER_FROM_HOST, 0),
	PD_IOC0(DRM_IOCTL_VIRTGPU_TRANSFER_TO_HOST, PD_IOC_F_ASYNC),
	PD_IOC0(DRM_IOCTL_VIRTGPU_WAIT, 0),
	PD_IOC(DRM_IOCTL_VIRTGPU_GET_CAPS, 0, get_caps_desc),
	PD_IOC(DRM_IOCTL_VIRTGPU_RESOURCE_CREATE_BLOB, 0, create_blob_desc),
	PD_IOC(DRM_IOCTL_VIRTGPU_CONTEXT_INIT, 0, context_init_desc),
};

const struct pd_ioc_table pd_ioc_drm_virtgpu = {
	.name = "virtgpu",
	.entries = virtgpu_entries,
	.count = PD_ARRAY_SIZE(virtgpu_entries),
	.flags = PD_IOC_F_ARG_ON_ERR,
};
