// SPDX-License-Identifier: GPL-2.0-only
/*
 * radeon KMS ioctls (radeon_drm.h). There is no radeon hardware here: this
 * table is proven by the marshaling unit tests. It lists every radeon ioctl
 * libdrm_radeon (bo_gem, cs_gem, surface) and Mesa's radeon winsys issue,
 * checked against the sources of libdrm 2.4.114 and Mesa 22.3.5 (nothing
 * radeon-specific was missing; see docs/ARCHITECTURE.md):
 * INFO (device id, tiling and pipe configuration, tile mode tables, VA
 * start, counters, READ_REG, RING_WORKING ...), GEM_INFO, GEM_CREATE,
 * GEM_MMAP, GEM_SET_DOMAIN, GEM_WAIT_IDLE, GEM_BUSY, GEM_SET/GET_TILING,
 * GEM_VA, GEM_OP and CS with its IB, RELOCS and FLAGS chunks; the core
 * ones (VERSION, GEM_CLOSE, PRIME) are in the DRM core table. Every INFO
 * request of the 6.1 driver is sized below; unknown ones get a u32.
 *
 * CS: `chunks` points to num_chunks pointers, each to a drm_radeon_cs_chunk
 * whose chunk_data points to length_dw dwords. Three levels, all read by
 * the driver.
 *
 * INFO: `value` points to a buffer whose size depends on `request`: a u32
 * by default (some requests read it first: RING_WORKING, READ_REG ...), a
 * u64 for counters, 32 or 16 u32 for the tiling tables. IN|OUT keeps the
 * guest's bytes beyond what the driver writes. The backend allocates at
 * least the largest size, so a request a newer kernel answers with more
 * bytes cannot write past its buffer.
 *
 * Left out (refused with -ENOTTY): GEM_USERPTR (pins the caller's pages,
 * which a copy cannot give; Mesa uses it only for buffers made from
 * application memory; at start-up the winsys probes it with a zeroed
 * argument and takes any answer but -EACCES for "no userptr", so -ENOTTY
 * only turns that feature off), GEM_PREAD/PWRITE (the driver
 * answers -ENOSYS), the DRI1 ioctls.
 */
#include "pd_ioctl.h"
#include <drm/drm.h>
#include <drm/radeon_drm.h>

PD_ASSERT_SIZE(struct drm_radeon_cs, 32);
PD_ASSERT_SIZE(struct drm_radeon_cs_chunk, 16);
PD_ASSERT_SIZE(struct drm_radeon_info, 16);

static const struct pd_ioc_desc cs_desc[] = {
	/* 0: the array of chunk pointers */
	{ PD_PTR_N(struct drm_radeon_cs, chunks, num_chunks, 8,
		   PD_IOC_MAX_RADEON_CHUNKS, PD_IOC_IN, PD_IOC_O_FULL) },
	/* 1: each element of 0 points to one chunk header */
	{ .kind = PD_IOC_D_PTR, .parent = 0, .dir = PD_IOC_IN, .off = 0,
	  .width = 8, .count = PD_IOC_N_ONE,
	  .elem = sizeof(struct drm_radeon_cs_chunk), .max = 1 },
	/* 2: each chunk header points to length_dw dwords */
	{ .kind = PD_IOC_D_PTR, .parent = 1, .dir = PD_IOC_IN,
	  .off = offsetof(struct drm_radeon_cs_chunk, chunk_data), .width = 8,
	  .count = PD_IOC_N_FIELD,
	  .count_off = offsetof(struct drm_radeon_cs_chunk, length_dw),
	  .count_width = 4, .elem = 4, .max = PD_IOC_MAX_RADEON_CHUNK_DW },
};

static const struct pd_ioc_select info_sizes[] = {
	{ RADEON_INFO_TIMESTAMP, 8 },
	{ RADEON_INFO_NUM_BYTES_MOVED, 8 },
	{ RADEON_INFO_VRAM_USAGE, 8 },
	{ RADEON_INFO_GTT_USAGE, 8 },
	{ RADEON_INFO_SI_TILE_MODE_ARRAY, 32 * 4 },
	{ RADEON_INFO_CIK_MACROTILE_MODE_ARRAY, 16 * 4 },
};

static const struct pd_ioc_desc info_desc[] = {
	{ .kind = PD_IOC_D_PTR, .parent = PD_IOC_PARENT_ARG,
	  .dir = PD_IOC_INOUT, .off = offsetof(struct drm_radeon_info, value),
	  .width = 8, .count = PD_IOC_N_SELECT,
	  .count_off = offsetof(struct drm_radeon_info, request),
	  .count_width = 4, .elem = 4, .select = info_sizes,
	  .nselect = PD_ARRAY_SIZE(info_sizes), .alloc_min = 32 * 4 },
};

static const struct pd_ioc_entry radeon_entries[] = {
	PD_IOC0(DRM_IOCTL_RADEON_GEM_INFO, 0),
	PD_IOC0(DRM_IOCTL_RADEON_GEM_CREATE, 0),
	PD_IOC0(DRM_IOCTL_RADEON_GEM_MMAP, 0),
	PD_IOC0(DRM_IOCTL_RADEON_GEM_SET_DOMAIN, 0),
	PD_IOC0(DRM_IOCTL_RADEON_GEM_WAIT_IDLE, 0),
	PD_IOC(DRM_IOCTL_RADEON_CS, 0, cs_desc),
	PD_IOC(DRM_IOCTL_RADEON_INFO, 0, info_desc),
	PD_IOC0(DRM_IOCTL_RADEON_GEM_SET_TILING, 0),
	PD_IOC0(DRM_IOCTL_RADEON_GEM_GET_TILING, 0),
	PD_IOC0(DRM_IOCTL_RADEON_GEM_BUSY, 0),
	PD_IOC0(DRM_IOCTL_RADEON_GEM_VA, 0),
	PD_IOC0(DRM_IOCTL_RADEON_GEM_OP, 0),
};

const struct pd_ioc_table pd_ioc_drm_radeon = {
	.name = "radeon",
	.entries = radeon_entries,
	.count = PD_ARRAY_SIZE(radeon_entries),
	.flags = PD_IOC_F_ARG_ON_ERR,
};
