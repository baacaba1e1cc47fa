// SPDX-License-Identifier: GPL-2.0-only
/*
 * amdgpu ioctls (amdgpu_drm.h). No amdgpu hardware here either: the table
 * is proven by the marshaling unit tests. It lists every amdgpu ioctl that
 * libdrm_amdgpu and Mesa's amdgpu winsys (radeonsi, ac_gpu_info) issue to
 * start and to submit work: INFO, GEM_CREATE/MMAP/WAIT_IDLE/VA/OP/METADATA,
 * CTX, BO_LIST, CS, WAIT_CS, WAIT_FENCES, FENCE_TO_HANDLE, VM and SCHED.
 * The rest they use (VERSION, GET_CAP, GET_CLIENT, GEM_CLOSE, PRIME,
 * SYNCOBJ_*) is in the DRM core table. Checked against the sources of
 * libdrm 2.4.114 and Mesa 22.3.5: only GET_CLIENT was missing (asked by
 * amdgpu_device_initialize() on a primary node; added to the core table
 * with the driver domain's pid and uid scrubbed).
 *
 * INFO: the answer goes to return_pointer, return_size bytes; the driver
 * writes min(return_size, what the query has) and never reads it. IN|OUT
 * keeps the guest's bytes beyond what the driver writes; a return_size
 * over the wire bound is lowered (the driver copies no more than its own
 * size anyway) and put back. The query's inputs are inline in the union.
 *
 * CS: as radeon, `chunks` points to num_chunks pointers, each to a
 * drm_amdgpu_cs_chunk whose chunk_data points to length_dw dwords, except
 * that a BO_HANDLES chunk holds a drm_amdgpu_bo_list_in with a pointer of
 * its own (bo_info_ptr, bo_number entries). Which one a chunk is, is known
 * only from its header, so those descriptors carry conditions on the
 * header's chunk_id (ELEM_COND). A BO_HANDLES chunk must be exactly one
 * drm_amdgpu_bo_list_in long (the driver accepts longer ones and ignores
 * the rest; libdrm and Mesa send exactly that).
 *
 * BO_LIST and BO_HANDLES: entries are bo_info_size bytes apart; the driver
 * accepts any size and copies what it knows. Only the size of
 * drm_amdgpu_bo_list_entry, which libdrm and Mesa always pass, is
 * described; others are refused with -EINVAL.
 *
 * GEM_OP GET_GEM_CREATE_INFO: `value` is a pointer the driver writes a
 * drm_amdgpu_gem_create_in to; for SET_PLACEMENT it is a plain value.
 *
 * FENCE_TO_HANDLE: for GET_SYNCOBJ_FD and GET_SYNC_FILE_FD the returned
 * handle is a new file descriptor. SCHED: in.fd is a DRM file of the
 * caller (the guest's must be a forwarded amdgpu file).
 *
 * Left out (refused with -ENOTTY): GEM_USERPTR, which pins the caller's
 * pages in the GPU's address space; a copy made by the backend cannot give
 * the guest's pages. Mesa uses it only for buffers made from application
 * memory (AMD_pinned_memory, OpenCL host pointers), never to start.
 */
#include "pd_ioctl.h"
#include <drm/drm.h>
#include <drm/amdgpu_drm.h>

PD_ASSERT_SIZE(union drm_amdgpu_cs, 24);
PD_ASSERT_SIZE(struct drm_amdgpu_cs_chunk, 16);
PD_ASSERT_SIZE(struct drm_amdgpu_bo_list_in, 24);
PD_ASSERT_SIZE(struct drm_amdgpu_bo_list_entry, 8);
PD_ASSERT_SIZE(union drm_amdgpu_bo_list, 24);
PD_ASSERT_SIZE(struct drm_amdgpu_info, 32);
PD_ASSERT_SIZE(struct drm_amdgpu_fence, 24);
PD_ASSERT_SIZE(union drm_amdgpu_wait_fences, 24);
PD_ASSERT_SIZE(union drm_amdgpu_fence_to_handle, 32);
PD_ASSERT_SIZE(struct drm_amdgpu_gem_op, 16);
PD_ASSERT_SIZE(struct drm_amdgpu_gem_create_in, 32);
PD_ASSERT_SIZE(union drm_amdgpu_sched, 16);

#define BO_ENTRY	sizeof(struct drm_amdgpu_bo_list_entry)
#define BO_LIST_IN	sizeof(struct drm_amdgpu_bo_list_in)

static const struct pd_ioc_desc cs_desc[] = {
	/* 0: the array of chunk pointers */
	{ PD_PTR_N(union drm_amdgpu_cs, in.chunks, in.num_chunks, 8,
		   PD_IOC_MAX_AMDGPU_CHUNKS, PD_IOC_IN, PD_IOC_O_FULL) },
	/* 1: each element of 0 points to one chunk header */
	{ .kind = PD_IOC_D_PTR, .parent = 0, .dir = PD_IOC_IN, .off = 0,
	  .width = 8, .count = PD_IOC_N_ONE, .name = "chunk",
	  .elem = sizeof(struct drm_amdgpu_cs_chunk), .max = 1 },
	/* 2: a BO_HANDLES chunk is one drm_amdgpu_bo_list_in, no more */
	{ .kind = PD_IOC_D_REJECT, .parent = 1, .val = EINVAL,
	  .flags = PD_IOC_DF_ELEM_COND, .name = "length_dw",
	  .cond = { PD_COND(struct drm_amdgpu_cs_chunk, chunk_id,
			    PD_IOC_C_EQ, AMDGPU_CHUNK_ID_BO_HANDLES),
		    PD_COND(struct drm_amdgpu_cs_chunk, length_dw,
			    PD_IOC_C_NE, BO_LIST_IN / 4) } },
	/* 3: any other chunk points to length_dw dwords of inline data */
	{ .kind = PD_IOC_D_PTR, .parent = 1, .dir = PD_IOC_IN,
	  .flags = PD_IOC_DF_ELEM_COND, .name = "chunk_data",
	  .off = offsetof(struct drm_amdgpu_cs_chunk, chunk_data), .width = 8,
	  .count = PD_IOC_N_FIELD,
	  .count_off = offsetof(struct drm_amdgpu_cs_chunk, length_dw),
	  .count_width = 4, .elem = 4, .max = PD_IOC_MAX_AMDGPU_CHUNK_DW,
	  .cond = { PD_COND(struct drm_amdgpu_cs_chunk, chunk_id,
			    PD_IOC_C_NE, AMDGPU_CHUNK_ID_BO_HANDLES) } },
	/* 4: a BO_HANDLES chunk points to a drm_amdgpu_bo_list_in */
	{ .kind = PD_IOC_D_PTR, .parent = 1, .dir = PD_IOC_IN,
	  .flags = PD_IOC_DF_ELEM_COND, .name = "chunk_data (bo list)",
	  .off = offsetof(struct drm_amdgpu_cs_chunk, chunk_data), .width = 8,
	  .count = PD_IOC_N_ONE, .elem = BO_LIST_IN, .max = 1,
	  .cond = { PD_COND(struct drm_amdgpu_cs_chunk, chunk_id,
			    PD_IOC_C_EQ, AMDGPU_CHUNK_ID_BO_HANDLES) } },
	/* 5: entries of another size than drm_amdgpu_bo_list_entry */
	{ .kind = PD_IOC_D_REJECT, .parent = 4, .val = EINVAL,
	  .flags = PD_IOC_DF_ELEM_COND, .name = "bo_info_size",
	  .cond = { PD_COND(struct drm_amdgpu_bo_list_in, bo_info_size,
			    PD_IOC_C_NE, BO_ENTRY),
		    PD_COND(struct drm_amdgpu_bo_list_in, bo_number,
			    PD_IOC_C_NE, 0) } },
	/* 6: the list's bo_number entries */
	{ .kind = PD_IOC_D_PTR, .parent = 4, .dir = PD_IOC_IN,
	  .name = "bo_info_ptr",
	  .off = offsetof(struct drm_amdgpu_bo_list_in, bo_info_ptr),
	  .width = 8, .count = PD_IOC_N_FIELD,
	  .count_off = offsetof(struct drm_amdgpu_bo_list_in, bo_number),
	  .count_width = 4, .elem = BO_ENTRY, .max = PD_IOC_MAX_AMDGPU_BOS },
};

static const struct pd_ioc_desc bo_list_desc[] = {
	{ .kind = PD_IOC_D_REJECT, .parent = PD_IOC_PARENT_ARG, .val = EINVAL,
	  .name = "in.bo_info_size",
	  .cond = { PD_COND(union drm_amdgpu_bo_list, in.bo_info_size,
			    PD_IOC_C_NE, BO_ENTRY),
		    PD_COND(union drm_amdgpu_bo_list, in.bo_number,
			    PD_IOC_C_NE, 0) } },
	{ PD_PTR_N(union drm_amdgpu_bo_list, in.bo_info_ptr, in.bo_number,
		   BO_ENTRY, PD_IOC_MAX_AMDGPU_BOS, PD_IOC_IN, PD_IOC_O_FULL) },
};

static const struct pd_ioc_desc info_desc[] = {
	{ PD_PTR_N(struct drm_amdgpu_info, return_pointer, return_size, 1,
		   PD_IOC_MAX_AMDGPU_INFO, PD_IOC_INOUT, PD_IOC_O_FULL),
	  .flags = PD_IOC_DF_CLAMP },
};

static const struct pd_ioc_desc wait_fences_desc[] = {
	{ PD_PTR_N(union drm_amdgpu_wait_fences, in.fences, in.fence_count,
		   sizeof(struct drm_amdgpu_fence), PD_IOC_MAX_AMDGPU_FENCES,
		   PD_IOC_IN, PD_IOC_O_FULL) },
};

static const struct pd_ioc_desc gem_op_desc[] = {
	{ PD_PTR_1(struct drm_amdgpu_gem_op, value,
		   sizeof(struct drm_amdgpu_gem_create_in), PD_IOC_OUT),
	  .cond = { PD_COND(struct drm_amdgpu_gem_op, op, PD_IOC_C_EQ,
			    AMDGPU_GEM_OP_GET_GEM_CREATE_INFO) } },
};

static const struct pd_ioc_desc fence_to_handle_desc[] = {
	{ PD_FD(PD_IOC_D_FD_NEW, union drm_amdgpu_fence_to_handle,
		out.handle),
	  .cond = { PD_COND(union drm_amdgpu_fence_to_handle, in.what,
			    PD_IOC_C_IN,
			    (1ull << AMDGPU_FENCE_TO_HANDLE_GET_SYNCOBJ_FD) |
			    (1ull << AMDGPU_FENCE_TO_HANDLE_GET_SYNC_FILE_FD)) } },
};

static const struct pd_ioc_desc sched_desc[] = {
	{ PD_FD(PD_IOC_D_FD_IN, union drm_amdgpu_sched, in.fd),
	  .cond = { PD_COND(union drm_amdgpu_sched, in.op, PD_IOC_C_IN,
			    (1ull << AMDGPU_SCHED_OP_PROCESS_PRIORITY_OVERRIDE) |
			    (1ull << AMDGPU_SCHED_OP_CONTEXT_PRIORITY_OVERRIDE)) } },
};

static const struct pd_ioc_entry amdgpu_entries[] = {
	PD_IOC0(DRM_IOCTL_AMDGPU_GEM_CREATE, 0),
	PD_IOC0(DRM_IOCTL_AMDGPU_GEM_MMAP, 0),
	PD_IOC0(DRM_IOCTL_AMDGPU_CTX, 0),
	PD_IOC(DRM_IOCTL_AMDGPU_BO_LIST, 0, bo_list_desc),
	PD_IOC(DRM_IOCTL_AMDGPU_CS, 0, cs_desc),
	PD_IOC(DRM_IOCTL_AMDGPU_INFO, 0, info_desc),
	PD_IOC0(DRM_IOCTL_AMDGPU_GEM_METADATA, 0),
	PD_IOC0(DRM_IOCTL_AMDGPU_GEM_WAIT_IDLE, 0),
	PD_IOC0(DRM_IOCTL_AMDGPU_GEM_VA, 0),
	PD_IOC0(DRM_IOCTL_AMDGPU_WAIT_CS, 0),
	PD_IOC(DRM_IOCTL_AMDGPU_GEM_OP, 0, gem_op_desc),
	PD_IOC(DRM_IOCTL_AMDGPU_WAIT_FENCES, 0, wait_fences_desc),
	PD_IOC0(DRM_IOCTL_AMDGPU_VM, 0),
	PD_IOC(DRM_IOCTL_AMDGPU_FENCE_TO_HANDLE, 0, fence_to_handle_desc),
	PD_IOC(DRM_IOCTL_AMDGPU_SCHED, 0, sched_desc),
};

const struct pd_ioc_table pd_ioc_drm_amdgpu = {
	.name = "amdgpu",
	.entries = amdgpu_entries,
	.count = PD_ARRAY_SIZE(amdgpu_entries),
	.flags = PD_IOC_F_ARG_ON_ERR,
};
