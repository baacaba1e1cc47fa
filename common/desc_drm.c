// SPDX-License-Identifier: GPL-2.0-only
/*
 * DRM core and KMS ioctls (drm.h, drm_mode.h).
 *
 * drm_ioctl() copies the argument back even when the handler fails, so the
 * table says ARG_ON_ERR for all of them. Arrays the kernel fills "up to the
 * count you gave, then tells you the real count" are IN|OUT with O_FIELD:
 * the guest's own bytes go in, so whatever the driver leaves alone comes
 * back unchanged, and no more than the reported count comes back.
 *
 * Left out on purpose (refused with -ENOTTY):
 *  - GEM_FLINK/GEM_OPEN: global names on the real device, which would
 *    let one guest open another guest's buffers. libdrm_radeon,
 *    libdrm_amdgpu and Mesa use FLINK/OPEN only for buffers shared by
 *    flink name (DRI2); with DRI3, GBM or a render node they are never
 *    called.
 *
 * GET_MAGIC/AUTH_MAGIC are screened: magics are names in the real
 * master's namespace, so they never reach the card; the guest's virtual
 * display answers them from its own master (hostd/backend/vkms/vkms.c),
 * which is what libdrm's drmIsMaster() (AUTH_MAGIC(0): EACCES for a file
 * that is not master, EINVAL for the master) and Mesa's DRI2 and Wayland
 * EGL on a primary node ask. Without a virtual display they are refused.
 *  - MODE_GETFB/GETFB2: hand out a handle to whatever framebuffer an id
 *    names, possibly another guest's or dom0's; in no table, so refused
 *    in the guest, and a forged one in the backend's decoder, with hostd
 *    or without (tests/xen/test_xen_attack.py tries ids 1-256).
 *  - leases (CREATE_LEASE is screened: the guest's virtual display
 *    answers it as a card that leases nothing, vkms/prime.c), legacy
 *    DRI1 maps/contexts/buffers/AGP/SG.
 */
#include "pd_ioctl.h"
#include <drm/drm.h>
#include <drm/drm_mode.h>
#ifdef __KERNEL__
#include <uapi/linux/dma-buf.h>
#else
#include <linux/dma-buf.h>
#endif

/* Layouts with size_t or pointers: the same in the kernel and userspace. */
PD_ASSERT_SIZE(struct drm_version, 64);
PD_ASSERT_SIZE(struct drm_unique, 16);
PD_ASSERT_SIZE(struct drm_mode_modeinfo, 68);
PD_ASSERT_SIZE(struct drm_mode_property_enum, 40);
PD_ASSERT_SIZE(struct drm_clip_rect, 8);

#define KMS PD_IOC_F_DISPLAY
/*
 * Inline (the backend may run them on its reader): VERSION (no lock),
 * GET_UNIQUE (the master's name under dev->master_mutex, which set/drop
 * master and opens hold for no wait) and GET_CAP (no lock; under hostd
 * the virtual KMS answers it, and runs it on a worker: hostd/backend/
 * inline.c). drm_ioctl.c of 6.1.
 */
#define INL PD_IOC_F_INLINE

/* Strings the kernel truncates to the given length, then reports. */
static const struct pd_ioc_desc version_desc[] = {
	{ PD_PTR_N(struct drm_version, name, name_len, 1,
		   PD_IOC_MAX_DRM_STRING, PD_IOC_INOUT, PD_IOC_O_FIELD) },
	{ PD_PTR_N(struct drm_version, date, date_len, 1,
		   PD_IOC_MAX_DRM_STRING, PD_IOC_INOUT, PD_IOC_O_FIELD) },
	{ PD_PTR_N(struct drm_version, desc, desc_len, 1,
		   PD_IOC_MAX_DRM_STRING, PD_IOC_INOUT, PD_IOC_O_FIELD) },
};

static const struct pd_ioc_desc unique_desc[] = {
	{ PD_PTR_N(struct drm_unique, unique, unique_len, 1,
		   PD_IOC_MAX_DRM_STRING, PD_IOC_INOUT, PD_IOC_O_FIELD) },
};

/*
 * GET_CLIENT: libdrm_amdgpu's amdgpu_device_initialize() asks it, on any
 * node but a render node, whether its file is authenticated, and fails to
 * open the device if the call fails. The 6.1 driver answers only idx 0,
 * about the caller's own file: `auth`, the pid of the calling task (here
 * the backend's pid in the driver domain), overflowuid, and zeros. The pid is replaced with 0, and the uid with overflowuid's
 * default in case an older kernel gave the real one: neither may tell a
 * guest anything about the driver domain.
 */
PD_ASSERT_SIZE(struct drm_client, 40);

static const struct pd_ioc_desc getclient_desc[] = {
	{ PD_FD(PD_IOC_D_SCRUB, struct drm_client, pid), .val = 0 },
	{ PD_FD(PD_IOC_D_SCRUB, struct drm_client, uid), .val = 65534 },
};

static const struct pd_ioc_desc prime_to_fd_desc[] = {
	{ PD_FD(PD_IOC_D_FD_NEW, struct drm_prime_handle, fd) },
};

static const struct pd_ioc_desc prime_from_fd_desc[] = {
	{ PD_FD(PD_IOC_D_FD_IN, struct drm_prime_handle, fd) },
};

static const struct pd_ioc_desc getresources_desc[] = {
	{ PD_PTR_N(struct drm_mode_card_res, fb_id_ptr, count_fbs, 4,
		   PD_IOC_MAX_KMS_IDS, PD_IOC_INOUT, PD_IOC_O_FIELD) },
	{ PD_PTR_N(struct drm_mode_card_res, crtc_id_ptr, count_crtcs, 4,
		   PD_IOC_MAX_KMS_IDS, PD_IOC_INOUT, PD_IOC_O_FIELD) },
	{ PD_PTR_N(struct drm_mode_card_res, connector_id_ptr,
		   count_connectors, 4, PD_IOC_MAX_KMS_IDS, PD_IOC_INOUT,
		   PD_IOC_O_FIELD) },
	{ PD_PTR_N(struct drm_mode_card_res, encoder_id_ptr, count_encoders,
		   4, PD_IOC_MAX_KMS_IDS, PD_IOC_INOUT, PD_IOC_O_FIELD) },
};

static const struct pd_ioc_desc setcrtc_desc[] = {
	{ PD_PTR_N(struct drm_mode_crtc, set_connectors_ptr, count_connectors,
		   4, PD_IOC_MAX_KMS_IDS, PD_IOC_IN, PD_IOC_O_FULL) },
};

/* Three LUT channels of gamma_size 16-bit entries each. */
#define GAMMA(f, d) \
	{ PD_PTR_N(struct drm_mode_crtc_lut, f, gamma_size, 2, \
		   PD_IOC_MAX_KMS_GAMMA, d, PD_IOC_O_FULL) }
static const struct pd_ioc_desc getgamma_desc[] = {
	GAMMA(red, PD_IOC_OUT), GAMMA(green, PD_IOC_OUT),
	GAMMA(blue, PD_IOC_OUT),
};
static const struct pd_ioc_desc setgamma_desc[] = {
	GAMMA(red, PD_IOC_IN), GAMMA(green, PD_IOC_IN),
	GAMMA(blue, PD_IOC_IN),
};

static const struct pd_ioc_desc getconnector_desc[] = {
	{ PD_PTR_N(struct drm_mode_get_connector, encoders_ptr,
		   count_encoders, 4, PD_IOC_MAX_KMS_IDS, PD_IOC_INOUT,
		   PD_IOC_O_FIELD) },
	{ PD_PTR_N(struct drm_mode_get_connector, modes_ptr, count_modes,
		   sizeof(struct drm_mode_modeinfo), PD_IOC_MAX_KMS_MODES,
		   PD_IOC_INOUT, PD_IOC_O_FIELD) },
	{ PD_PTR_N(struct drm_mode_get_connector, props_ptr, count_props, 4,
		   PD_IOC_MAX_KMS_PROPS, PD_IOC_INOUT, PD_IOC_O_FIELD) },
	{ PD_PTR_N(struct drm_mode_get_connector, prop_values_ptr,
		   count_props, 8, PD_IOC_MAX_KMS_PROPS, PD_IOC_INOUT,
		   PD_IOC_O_FIELD) },
};

static const struct pd_ioc_desc getproperty_desc[] = {
	{ PD_PTR_N(struct drm_mode_get_property, values_ptr, count_values, 8,
		   PD_IOC_MAX_KMS_ENUMS, PD_IOC_INOUT, PD_IOC_O_FIELD) },
	{ PD_PTR_N(struct drm_mode_get_property, enum_blob_ptr,
		   count_enum_blobs, sizeof(struct drm_mode_property_enum),
		   PD_IOC_MAX_KMS_ENUMS, PD_IOC_INOUT, PD_IOC_O_FIELD) },
};

static const struct pd_ioc_desc getpropblob_desc[] = {
	{ PD_PTR_N(struct drm_mode_get_blob, data, length, 1,
		   PD_IOC_MAX_KMS_BLOB, PD_IOC_INOUT, PD_IOC_O_FIELD) },
};

static const struct pd_ioc_desc createpropblob_desc[] = {
	{ PD_PTR_N(struct drm_mode_create_blob, data, length, 1,
		   PD_IOC_MAX_KMS_BLOB, PD_IOC_IN, PD_IOC_O_FULL) },
};

static const struct pd_ioc_desc dirtyfb_desc[] = {
	{ PD_PTR_N(struct drm_mode_fb_dirty_cmd, clips_ptr, num_clips,
		   sizeof(struct drm_clip_rect), PD_IOC_MAX_KMS_CLIPS,
		   PD_IOC_IN, PD_IOC_O_FULL) },
};

static const struct pd_ioc_desc getplaneres_desc[] = {
	{ PD_PTR_N(struct drm_mode_get_plane_res, plane_id_ptr, count_planes,
		   4, PD_IOC_MAX_KMS_IDS, PD_IOC_INOUT, PD_IOC_O_FIELD) },
};

static const struct pd_ioc_desc getplane_desc[] = {
	{ PD_PTR_N(struct drm_mode_get_plane, format_type_ptr,
		   count_format_types, 4, PD_IOC_MAX_KMS_IDS, PD_IOC_INOUT,
		   PD_IOC_O_FIELD) },
};

static const struct pd_ioc_desc obj_getprops_desc[] = {
	{ PD_PTR_N(struct drm_mode_obj_get_properties, props_ptr, count_props,
		   4, PD_IOC_MAX_KMS_PROPS, PD_IOC_INOUT, PD_IOC_O_FIELD) },
	{ PD_PTR_N(struct drm_mode_obj_get_properties, prop_values_ptr,
		   count_props, 8, PD_IOC_MAX_KMS_PROPS, PD_IOC_INOUT,
		   PD_IOC_O_FIELD) },
};

/*
 * ATOMIC: count_objs object ids and as many property counts; then, for all
 * objects together, sum(count_props) property ids and values.
 */
static const struct pd_ioc_desc atomic_desc[] = {
	{ PD_PTR_N(struct drm_mode_atomic, objs_ptr, count_objs, 4,
		   PD_IOC_MAX_ATOMIC_OBJS, PD_IOC_IN, PD_IOC_O_FULL) },
	{ PD_PTR_N(struct drm_mode_atomic, count_props_ptr, count_objs, 4,
		   PD_IOC_MAX_ATOMIC_OBJS, PD_IOC_IN, PD_IOC_O_FULL) },
	{ .kind = PD_IOC_D_PTR, .parent = PD_IOC_PARENT_ARG, .dir = PD_IOC_IN,
	  .off = offsetof(struct drm_mode_atomic, props_ptr), .width = 8,
	  .count = PD_IOC_N_SUM, .count_off = 1, .elem = 4,
	  .max = PD_IOC_MAX_ATOMIC_PROPS },
	{ .kind = PD_IOC_D_PTR, .parent = PD_IOC_PARENT_ARG, .dir = PD_IOC_IN,
	  .off = offsetof(struct drm_mode_atomic, prop_values_ptr),
	  .width = 8, .count = PD_IOC_N_SUM, .count_off = 1, .elem = 8,
	  .max = PD_IOC_MAX_ATOMIC_PROPS },
};

static const struct pd_ioc_desc syncobj_to_fd_desc[] = {
	{ PD_FD(PD_IOC_D_FD_NEW, struct drm_syncobj_handle, fd) },
};

static const struct pd_ioc_desc syncobj_from_fd_desc[] = {
	{ PD_FD(PD_IOC_D_FD_IN, struct drm_syncobj_handle, fd) },
};

static const struct pd_ioc_desc syncobj_wait_desc[] = {
	{ PD_PTR_N(struct drm_syncobj_wait, handles, count_handles, 4,
		   PD_IOC_MAX_SYNCOBJS, PD_IOC_IN, PD_IOC_O_FULL) },
};

static const struct pd_ioc_desc syncobj_array_desc[] = {
	{ PD_PTR_N(struct drm_syncobj_array, handles, count_handles, 4,
		   PD_IOC_MAX_SYNCOBJS, PD_IOC_IN, PD_IOC_O_FULL) },
};

static const struct pd_ioc_desc syncobj_timeline_wait_desc[] = {
	{ PD_PTR_N(struct drm_syncobj_timeline_wait, handles, count_handles,
		   4, PD_IOC_MAX_SYNCOBJS, PD_IOC_IN, PD_IOC_O_FULL) },
	{ PD_PTR_N(struct drm_syncobj_timeline_wait, points, count_handles,
		   8, PD_IOC_MAX_SYNCOBJS, PD_IOC_IN, PD_IOC_O_FULL) },
};

static const struct pd_ioc_desc syncobj_query_desc[] = {
	{ PD_PTR_N(struct drm_syncobj_timeline_array, handles, count_handles,
		   4, PD_IOC_MAX_SYNCOBJS, PD_IOC_IN, PD_IOC_O_FULL) },
	{ PD_PTR_N(struct drm_syncobj_timeline_array, points, count_handles,
		   8, PD_IOC_MAX_SYNCOBJS, PD_IOC_OUT, PD_IOC_O_FULL) },
};

static const struct pd_ioc_desc syncobj_timeline_signal_desc[] = {
	{ PD_PTR_N(struct drm_syncobj_timeline_array, handles, count_handles,
		   4, PD_IOC_MAX_SYNCOBJS, PD_IOC_IN, PD_IOC_O_FULL) },
	{ PD_PTR_N(struct drm_syncobj_timeline_array, points, count_handles,
		   8, PD_IOC_MAX_SYNCOBJS, PD_IOC_IN, PD_IOC_O_FULL) },
};

static const struct pd_ioc_entry drm_core_entries[] = {
	PD_IOC(DRM_IOCTL_VERSION, INL, version_desc),
	PD_IOC(DRM_IOCTL_GET_UNIQUE, INL, unique_desc),
	PD_IOC(DRM_IOCTL_GET_CLIENT, 0, getclient_desc),
	PD_IOC0(DRM_IOCTL_GET_CAP, KMS | INL),
	PD_IOC0(DRM_IOCTL_SET_CLIENT_CAP, KMS),	/* ATOMIC: noted by hostd's backend */
	PD_IOC0(DRM_IOCTL_SET_VERSION, 0),
	PD_IOC0(DRM_IOCTL_GEM_CLOSE, PD_IOC_F_ASYNC),
	PD_IOC(DRM_IOCTL_PRIME_HANDLE_TO_FD, KMS, prime_to_fd_desc),
	PD_IOC(DRM_IOCTL_PRIME_FD_TO_HANDLE, KMS, prime_from_fd_desc),
	PD_IOC0(DRM_IOCTL_SET_MASTER, KMS),
	PD_IOC0(DRM_IOCTL_DROP_MASTER, KMS),
	PD_IOC0(DRM_IOCTL_GET_MAGIC, KMS | PD_IOC_F_SCREEN),
	PD_IOC0(DRM_IOCTL_AUTH_MAGIC, KMS | PD_IOC_F_SCREEN),
	PD_IOC0(DRM_IOCTL_MODE_CREATE_LEASE, KMS | PD_IOC_F_SCREEN),
	PD_IOC0(DRM_IOCTL_WAIT_VBLANK, KMS),
	PD_IOC0(DRM_IOCTL_CRTC_GET_SEQUENCE, KMS),
	PD_IOC0(DRM_IOCTL_CRTC_QUEUE_SEQUENCE, KMS),
	PD_IOC(DRM_IOCTL_MODE_GETRESOURCES, KMS, getresources_desc),
	PD_IOC0(DRM_IOCTL_MODE_GETCRTC, KMS),
	PD_IOC(DRM_IOCTL_MODE_SETCRTC, KMS, setcrtc_desc),
	PD_IOC0(DRM_IOCTL_MODE_CURSOR, KMS),
	PD_IOC0(DRM_IOCTL_MODE_CURSOR2, KMS),
	PD_IOC(DRM_IOCTL_MODE_GETGAMMA, KMS, getgamma_desc),
	PD_IOC(DRM_IOCTL_MODE_SETGAMMA, KMS, setgamma_desc),
	PD_IOC0(DRM_IOCTL_MODE_GETENCODER, KMS),
	PD_IOC(DRM_IOCTL_MODE_GETCONNECTOR, KMS, getconnector_desc),
	PD_IOC(DRM_IOCTL_MODE_GETPROPERTY, KMS, getproperty_desc),
	PD_IOC0(DRM_IOCTL_MODE_SETPROPERTY, KMS),
	PD_IOC(DRM_IOCTL_MODE_GETPROPBLOB, KMS, getpropblob_desc),
	PD_IOC(DRM_IOCTL_MODE_CREATEPROPBLOB, KMS, createpropblob_desc),
	PD_IOC0(DRM_IOCTL_MODE_DESTROYPROPBLOB, KMS),
	PD_IOC(DRM_IOCTL_MODE_OBJ_GETPROPERTIES, KMS, obj_getprops_desc),
	/* property values may be descriptors or pointers (IN_FENCE_FD,
	 * OUT_FENCE_PTR) that no table can tell from numbers */
	PD_IOC0(DRM_IOCTL_MODE_OBJ_SETPROPERTY, KMS | PD_IOC_F_SCREEN),
	PD_IOC(DRM_IOCTL_MODE_GETPLANERESOURCES, KMS, getplaneres_desc),
	PD_IOC(DRM_IOCTL_MODE_GETPLANE, KMS, getplane_desc),
	PD_IOC0(DRM_IOCTL_MODE_SETPLANE, KMS),
	PD_IOC0(DRM_IOCTL_MODE_ADDFB, KMS),
	PD_IOC0(DRM_IOCTL_MODE_ADDFB2, KMS),
	PD_IOC0(DRM_IOCTL_MODE_RMFB, KMS),
	PD_IOC0(DRM_IOCTL_MODE_PAGE_FLIP, KMS | PD_IOC_F_ORDERED),
	PD_IOC(DRM_IOCTL_MODE_DIRTYFB, KMS, dirtyfb_desc),
	PD_IOC0(DRM_IOCTL_MODE_CREATE_DUMB, 0),
	PD_IOC0(DRM_IOCTL_MODE_MAP_DUMB, 0),
	PD_IOC0(DRM_IOCTL_MODE_DESTROY_DUMB, 0),
	PD_IOC(DRM_IOCTL_MODE_ATOMIC, KMS | PD_IOC_F_SCREEN, atomic_desc),
	PD_IOC0(DRM_IOCTL_SYNCOBJ_CREATE, 0),
	PD_IOC0(DRM_IOCTL_SYNCOBJ_DESTROY, PD_IOC_F_ASYNC),
	PD_IOC(DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD, 0, syncobj_to_fd_desc),
	PD_IOC(DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE, 0, syncobj_from_fd_desc),
	PD_IOC(DRM_IOCTL_SYNCOBJ_WAIT, 0, syncobj_wait_desc),
	PD_IOC(DRM_IOCTL_SYNCOBJ_RESET, 0, syncobj_array_desc),
	PD_IOC(DRM_IOCTL_SYNCOBJ_SIGNAL, 0, syncobj_array_desc),
	PD_IOC(DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT, 0,
	       syncobj_timeline_wait_desc),
	PD_IOC(DRM_IOCTL_SYNCOBJ_QUERY, 0, syncobj_query_desc),
	PD_IOC0(DRM_IOCTL_SYNCOBJ_TRANSFER, 0),
	PD_IOC(DRM_IOCTL_SYNCOBJ_TIMELINE_SIGNAL, 0,
	       syncobj_timeline_signal_desc),
};

const struct pd_ioc_table pd_ioc_drm_core = {
	.name = "drm",
	.entries = drm_core_entries,
	.count = PD_ARRAY_SIZE(drm_core_entries),
	.flags = PD_IOC_F_ARG_ON_ERR,
};

/*
 * Files an ioctl made (PD_IOC_D_FD_NEW: the dma-bufs of PRIME and of
 * V4L2's EXPBUF, sync_files, syncobj files) are of no device class; the
 * one call programs make on them is the dma-buf's own: DMA_BUF_IOCTL_SYNC
 * brackets CPU access through a mapping (GStreamer's dmabuf memory at
 * every map and unmap, Mesa, Wayland compositors). The exporter's cache
 * maintenance then runs on the real dma-buf, whose pages the guest maps,
 * and the program gets the driver's answer (0 from vivid's vb2-vmalloc
 * buffers) instead of -ENOTTY. A sync_file or syncobj file answers it
 * -ENOTTY, as natively.
 */
static const struct pd_ioc_entry adopted_entries[] = {
	PD_IOC0(DMA_BUF_IOCTL_SYNC, 0),
};

const struct pd_ioc_table pd_ioc_adopted = {
	.name = "dma-buf",
	.entries = adopted_entries,
	.count = PD_ARRAY_SIZE(adopted_entries),
};
