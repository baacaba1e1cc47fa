// SPDX-License-Identifier: GPL-2.0-only
/*
 * The descriptor tables: every table passes the self-check, the commands
 * the issue names are found for the right class and refused for others,
 * variable-size commands match by number with the size from the command,
 * the self-check does catch the table mistakes it is there for, and the
 * class registry finds every class the wire names and calls a table's
 * learn hook for its LEARN command.
 */
#include <string.h>

#include "tap.h"
#include "pd_ioctl.h"

#include <drm/drm.h>
#include <drm/drm_mode.h>
#include <drm/radeon_drm.h>
#include <drm/amdgpu_drm.h>
#include <drm/vgem_drm.h>
#include <drm/virtgpu_drm.h>
#include <linux/input.h>
#include <linux/videodev2.h>
#include <linux/dma-buf.h>
#include <sound/asound.h>

static int found(unsigned int cl, unsigned int drv, __u32 cmd)
{
	return pd_ioc_lookup(cl, drv, cmd, NULL) != NULL;
}

static void test_all_tables_pass_self_check(void)
{
	char why[160] = "";
	int ret = pd_ioc_check_tables(why, sizeof(why));

	if (ret)
		printf("# %s\n", why);
	CHECK_EQ(ret, 0);
}

static void test_drm_coverage(void)
{
	static const __u32 core[] = {
		DRM_IOCTL_VERSION, DRM_IOCTL_GET_UNIQUE, DRM_IOCTL_GET_CAP,
		DRM_IOCTL_SET_CLIENT_CAP, DRM_IOCTL_GEM_CLOSE,
		DRM_IOCTL_PRIME_HANDLE_TO_FD, DRM_IOCTL_PRIME_FD_TO_HANDLE,
		DRM_IOCTL_MODE_GETRESOURCES, DRM_IOCTL_MODE_GETCONNECTOR,
		DRM_IOCTL_MODE_GETENCODER, DRM_IOCTL_MODE_GETCRTC,
		DRM_IOCTL_MODE_SETCRTC, DRM_IOCTL_MODE_GETPROPERTY,
		DRM_IOCTL_MODE_GETPROPBLOB, DRM_IOCTL_MODE_CREATEPROPBLOB,
		DRM_IOCTL_MODE_DESTROYPROPBLOB,
		DRM_IOCTL_MODE_OBJ_GETPROPERTIES,
		DRM_IOCTL_MODE_OBJ_SETPROPERTY,
		DRM_IOCTL_MODE_GETPLANERESOURCES, DRM_IOCTL_MODE_GETPLANE,
		DRM_IOCTL_MODE_SETPLANE, DRM_IOCTL_MODE_ADDFB,
		DRM_IOCTL_MODE_ADDFB2, DRM_IOCTL_MODE_RMFB,
		DRM_IOCTL_MODE_PAGE_FLIP, DRM_IOCTL_MODE_DIRTYFB,
		DRM_IOCTL_MODE_CREATE_DUMB, DRM_IOCTL_MODE_MAP_DUMB,
		DRM_IOCTL_MODE_DESTROY_DUMB, DRM_IOCTL_MODE_ATOMIC,
		DRM_IOCTL_MODE_CURSOR, DRM_IOCTL_MODE_CURSOR2,
		DRM_IOCTL_MODE_GETGAMMA, DRM_IOCTL_MODE_SETGAMMA,
		DRM_IOCTL_SYNCOBJ_CREATE, DRM_IOCTL_SYNCOBJ_DESTROY,
		DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD, DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE,
		DRM_IOCTL_SYNCOBJ_WAIT, DRM_IOCTL_SYNCOBJ_RESET,
		DRM_IOCTL_SYNCOBJ_SIGNAL, DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT,
		DRM_IOCTL_SYNCOBJ_QUERY, DRM_IOCTL_SYNCOBJ_TRANSFER,
		DRM_IOCTL_SYNCOBJ_TIMELINE_SIGNAL,
	};
	static const __u32 virtgpu[] = {
		DRM_IOCTL_VIRTGPU_MAP, DRM_IOCTL_VIRTGPU_EXECBUFFER,
		DRM_IOCTL_VIRTGPU_GETPARAM, DRM_IOCTL_VIRTGPU_RESOURCE_CREATE,
		DRM_IOCTL_VIRTGPU_RESOURCE_INFO,
		DRM_IOCTL_VIRTGPU_TRANSFER_FROM_HOST,
		DRM_IOCTL_VIRTGPU_TRANSFER_TO_HOST, DRM_IOCTL_VIRTGPU_WAIT,
		DRM_IOCTL_VIRTGPU_GET_CAPS,
		DRM_IOCTL_VIRTGPU_RESOURCE_CREATE_BLOB,
		DRM_IOCTL_VIRTGPU_CONTEXT_INIT,
	};
	unsigned int i;

	for (i = 0; i < PD_ARRAY_SIZE(core); i++) {
		CHECK(found(PD_WIRE_CLASS_DRM, PD_WIRE_DRIVER_DRM_GENERIC,
			    core[i]));
		CHECK(found(PD_WIRE_CLASS_DRM, PD_WIRE_DRIVER_DRM_RADEON,
			    core[i]));
		CHECK(!found(PD_WIRE_CLASS_V4L2, 0, core[i]));
	}
	for (i = 0; i < PD_ARRAY_SIZE(virtgpu); i++) {
		CHECK(found(PD_WIRE_CLASS_DRM, PD_WIRE_DRIVER_DRM_VIRTGPU,
			    virtgpu[i]));
		/* driver-private numbers mean nothing for another driver */
		CHECK(!found(PD_WIRE_CLASS_DRM, PD_WIRE_DRIVER_DRM_GENERIC,
			     virtgpu[i]));
	}
	CHECK(found(PD_WIRE_CLASS_DRM, PD_WIRE_DRIVER_DRM_VGEM,
		    DRM_IOCTL_VGEM_FENCE_ATTACH));
	CHECK(found(PD_WIRE_CLASS_DRM, PD_WIRE_DRIVER_DRM_RADEON,
		    DRM_IOCTL_RADEON_CS));
	CHECK(found(PD_WIRE_CLASS_DRM, PD_WIRE_DRIVER_DRM_RADEON,
		    DRM_IOCTL_RADEON_INFO));
	/* global names between guests are refused */
	CHECK(!found(PD_WIRE_CLASS_DRM, PD_WIRE_DRIVER_DRM_GENERIC,
		     DRM_IOCTL_GEM_FLINK));
	CHECK(!found(PD_WIRE_CLASS_DRM, PD_WIRE_DRIVER_DRM_GENERIC,
		     DRM_IOCTL_GEM_OPEN));
	CHECK(!found(PD_WIRE_CLASS_DRM, PD_WIRE_DRIVER_DRM_RADEON,
		     DRM_IOCTL_RADEON_GEM_USERPTR));
	CHECK(!found(PD_WIRE_CLASS_DRM, 99, DRM_IOCTL_VERSION));
}

/* What libdrm_amdgpu and Mesa's amdgpu winsys issue to start and submit. */
static void test_amdgpu_coverage(void)
{
	static const __u32 amdgpu[] = {
		DRM_IOCTL_AMDGPU_GEM_CREATE, DRM_IOCTL_AMDGPU_GEM_MMAP,
		DRM_IOCTL_AMDGPU_CTX, DRM_IOCTL_AMDGPU_BO_LIST,
		DRM_IOCTL_AMDGPU_CS, DRM_IOCTL_AMDGPU_INFO,
		DRM_IOCTL_AMDGPU_GEM_METADATA, DRM_IOCTL_AMDGPU_GEM_WAIT_IDLE,
		DRM_IOCTL_AMDGPU_GEM_VA, DRM_IOCTL_AMDGPU_WAIT_CS,
		DRM_IOCTL_AMDGPU_GEM_OP, DRM_IOCTL_AMDGPU_WAIT_FENCES,
		DRM_IOCTL_AMDGPU_VM, DRM_IOCTL_AMDGPU_FENCE_TO_HANDLE,
		DRM_IOCTL_AMDGPU_SCHED,
	};
	static const __u32 core[] = {
		DRM_IOCTL_VERSION, DRM_IOCTL_GET_CAP, DRM_IOCTL_GEM_CLOSE,
		DRM_IOCTL_PRIME_HANDLE_TO_FD, DRM_IOCTL_PRIME_FD_TO_HANDLE,
		DRM_IOCTL_SYNCOBJ_CREATE, DRM_IOCTL_SYNCOBJ_DESTROY,
		DRM_IOCTL_SYNCOBJ_WAIT, DRM_IOCTL_SYNCOBJ_RESET,
		DRM_IOCTL_SYNCOBJ_SIGNAL, DRM_IOCTL_SYNCOBJ_QUERY,
		DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT,
		DRM_IOCTL_SYNCOBJ_TIMELINE_SIGNAL,
		DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD,
		DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE, DRM_IOCTL_SYNCOBJ_TRANSFER,
		/* amdgpu_device_initialize() on a card node (amdgpu_get_auth) */
		DRM_IOCTL_GET_CLIENT,
	};
	static const __u32 radeon[] = {
		DRM_IOCTL_RADEON_GEM_INFO, DRM_IOCTL_RADEON_GEM_CREATE,
		DRM_IOCTL_RADEON_GEM_MMAP, DRM_IOCTL_RADEON_GEM_SET_DOMAIN,
		DRM_IOCTL_RADEON_GEM_WAIT_IDLE, DRM_IOCTL_RADEON_CS,
		DRM_IOCTL_RADEON_INFO, DRM_IOCTL_RADEON_GEM_SET_TILING,
		DRM_IOCTL_RADEON_GEM_GET_TILING, DRM_IOCTL_RADEON_GEM_BUSY,
		DRM_IOCTL_RADEON_GEM_VA, DRM_IOCTL_RADEON_GEM_OP,
	};
	unsigned int i;

	for (i = 0; i < PD_ARRAY_SIZE(amdgpu); i++) {
		CHECK(found(PD_WIRE_CLASS_DRM, PD_WIRE_DRIVER_DRM_AMDGPU,
			    amdgpu[i]));
		CHECK(!found(PD_WIRE_CLASS_DRM, PD_WIRE_DRIVER_DRM_RADEON,
			     amdgpu[i]));
	}
	for (i = 0; i < PD_ARRAY_SIZE(core); i++) {
		CHECK(found(PD_WIRE_CLASS_DRM, PD_WIRE_DRIVER_DRM_AMDGPU,
			    core[i]));
		CHECK(found(PD_WIRE_CLASS_DRM, PD_WIRE_DRIVER_DRM_RADEON,
			    core[i]));
	}
	for (i = 0; i < PD_ARRAY_SIZE(radeon); i++) {
		CHECK(found(PD_WIRE_CLASS_DRM, PD_WIRE_DRIVER_DRM_RADEON,
			    radeon[i]));
		CHECK(!found(PD_WIRE_CLASS_DRM, PD_WIRE_DRIVER_DRM_AMDGPU,
			     radeon[i]));
	}
	/* pins the caller's pages: refused */
	CHECK(!found(PD_WIRE_CLASS_DRM, PD_WIRE_DRIVER_DRM_AMDGPU,
		     DRM_IOCTL_AMDGPU_GEM_USERPTR));
	CHECK_EQ(pd_ioc_count_entries(PD_WIRE_CLASS_DRM,
				      PD_WIRE_DRIVER_DRM_AMDGPU),
		 pd_ioc_count_entries(PD_WIRE_CLASS_DRM,
				      PD_WIRE_DRIVER_DRM_GENERIC) +
		 PD_ARRAY_SIZE(amdgpu));
}

static void test_evdev_variable_sizes(void)
{
	const struct pd_ioc_entry *e;
	unsigned int fl = 0;

	e = pd_ioc_lookup(PD_WIRE_CLASS_EVDEV, 0, EVIOCGNAME(256), &fl);
	CHECK(e && (fl & PD_IOC_F_VARSIZE) && (fl & PD_IOC_F_ARG_RET));
	CHECK_EQ(pd_ioc_arg_size(e, fl, EVIOCGNAME(256)), 256);
	CHECK(found(PD_WIRE_CLASS_EVDEV, 0, EVIOCGPHYS(1)));
	CHECK(found(PD_WIRE_CLASS_EVDEV, 0, EVIOCGUNIQ(64)));
	CHECK(found(PD_WIRE_CLASS_EVDEV, 0, EVIOCGPROP(4)));
	CHECK(found(PD_WIRE_CLASS_EVDEV, 0, EVIOCGKEY(96)));
	CHECK(found(PD_WIRE_CLASS_EVDEV, 0, EVIOCGSW(8)));
	CHECK(found(PD_WIRE_CLASS_EVDEV, 0, EVIOCGBIT(0, 8)));
	CHECK(found(PD_WIRE_CLASS_EVDEV, 0, EVIOCGBIT(EV_KEY, 96)));
	CHECK(found(PD_WIRE_CLASS_EVDEV, 0, EVIOCGBIT(EV_MAX, 1)));
	CHECK(found(PD_WIRE_CLASS_EVDEV, 0, EVIOCGMTSLOTS(64)));
	CHECK(found(PD_WIRE_CLASS_EVDEV, 0, EVIOCGABS(ABS_MT_POSITION_X)));
	CHECK(found(PD_WIRE_CLASS_EVDEV, 0, EVIOCSABS(ABS_X)));
	CHECK(found(PD_WIRE_CLASS_EVDEV, 0, EVIOCGKEYCODE_V2));
	CHECK(found(PD_WIRE_CLASS_EVDEV, 0, EVIOCSFF));
	CHECK(found(PD_WIRE_CLASS_EVDEV, 0, EVIOCGMASK));
	/* the write direction of a read number is another command */
	CHECK(!found(PD_WIRE_CLASS_EVDEV, 0,
		     _IOC(_IOC_WRITE, 'E', 0x06, 256)));
	/* EVIOCGABS is bounded by its struct */
	CHECK(!found(PD_WIRE_CLASS_EVDEV, 0,
		     _IOC(_IOC_READ, 'E', 0x40, 4096)));
}

static void test_v4l2_alsa_coverage(void)
{
	static const __u32 v4l2[] = {
		VIDIOC_QUERYCAP, VIDIOC_ENUM_FMT, VIDIOC_G_FMT, VIDIOC_S_FMT,
		VIDIOC_TRY_FMT, VIDIOC_REQBUFS, VIDIOC_QUERYBUF, VIDIOC_QBUF,
		VIDIOC_DQBUF, VIDIOC_EXPBUF, VIDIOC_STREAMON,
		VIDIOC_STREAMOFF, VIDIOC_G_CTRL, VIDIOC_S_CTRL,
		VIDIOC_G_EXT_CTRLS, VIDIOC_S_EXT_CTRLS, VIDIOC_TRY_EXT_CTRLS,
		VIDIOC_QUERYCTRL, VIDIOC_QUERY_EXT_CTRL, VIDIOC_QUERYMENU,
		VIDIOC_G_PARM, VIDIOC_S_PARM, VIDIOC_ENUMINPUT,
		VIDIOC_G_INPUT, VIDIOC_S_INPUT, VIDIOC_ENUMSTD, VIDIOC_G_STD,
		VIDIOC_S_STD, VIDIOC_QUERYSTD, VIDIOC_SUBSCRIBE_EVENT,
		VIDIOC_DQEVENT, VIDIOC_CREATE_BUFS, VIDIOC_ENUM_FRAMESIZES,
		VIDIOC_ENUM_FRAMEINTERVALS, VIDIOC_G_SELECTION,
		VIDIOC_G_PRIORITY, VIDIOC_LOG_STATUS, VIDIOC_G_EDID,
	};
	static const __u32 ctl[] = {
		SNDRV_CTL_IOCTL_CARD_INFO, SNDRV_CTL_IOCTL_ELEM_LIST,
		SNDRV_CTL_IOCTL_ELEM_INFO, SNDRV_CTL_IOCTL_ELEM_READ,
		SNDRV_CTL_IOCTL_ELEM_WRITE, SNDRV_CTL_IOCTL_TLV_READ,
		SNDRV_CTL_IOCTL_TLV_WRITE, SNDRV_CTL_IOCTL_TLV_COMMAND,
		SNDRV_CTL_IOCTL_SUBSCRIBE_EVENTS,
		SNDRV_CTL_IOCTL_PCM_PREFER_SUBDEVICE, SNDRV_CTL_IOCTL_PCM_INFO,
	};
	static const __u32 pcm[] = {
		SNDRV_PCM_IOCTL_INFO, SNDRV_PCM_IOCTL_PVERSION,
		SNDRV_PCM_IOCTL_TTSTAMP, SNDRV_PCM_IOCTL_USER_PVERSION,
		SNDRV_PCM_IOCTL_HW_REFINE, SNDRV_PCM_IOCTL_HW_PARAMS,
		SNDRV_PCM_IOCTL_HW_FREE, SNDRV_PCM_IOCTL_SW_PARAMS,
		SNDRV_PCM_IOCTL_STATUS, SNDRV_PCM_IOCTL_STATUS_EXT,
		SNDRV_PCM_IOCTL_DELAY, SNDRV_PCM_IOCTL_HWSYNC,
		SNDRV_PCM_IOCTL_SYNC_PTR, SNDRV_PCM_IOCTL_CHANNEL_INFO,
		SNDRV_PCM_IOCTL_PREPARE, SNDRV_PCM_IOCTL_RESET,
		SNDRV_PCM_IOCTL_START, SNDRV_PCM_IOCTL_DROP,
		SNDRV_PCM_IOCTL_DRAIN, SNDRV_PCM_IOCTL_PAUSE,
		SNDRV_PCM_IOCTL_REWIND, SNDRV_PCM_IOCTL_FORWARD,
		SNDRV_PCM_IOCTL_RESUME, SNDRV_PCM_IOCTL_XRUN,
		SNDRV_PCM_IOCTL_WRITEI_FRAMES, SNDRV_PCM_IOCTL_READI_FRAMES,
		SNDRV_PCM_IOCTL_WRITEN_FRAMES, SNDRV_PCM_IOCTL_READN_FRAMES,
		SNDRV_PCM_IOCTL_LINK, SNDRV_PCM_IOCTL_UNLINK,
	};
	unsigned int i;

	for (i = 0; i < PD_ARRAY_SIZE(v4l2); i++)
		CHECK(found(PD_WIRE_CLASS_V4L2, 0, v4l2[i]));
	for (i = 0; i < PD_ARRAY_SIZE(ctl); i++)
		CHECK(found(PD_WIRE_CLASS_SND_CTL, 0, ctl[i]));
	for (i = 0; i < PD_ARRAY_SIZE(pcm); i++) {
		CHECK(found(PD_WIRE_CLASS_SND_PCM, 0, pcm[i]));
		CHECK(!found(PD_WIRE_CLASS_SND_CTL, 0, pcm[i]));
	}
	CHECK(found(PD_WIRE_CLASS_SND_TIMER, 0, SNDRV_TIMER_IOCTL_STATUS));
	CHECK(found(PD_WIRE_CLASS_SND_TIMER, 0, SNDRV_TIMER_IOCTL_START));
	CHECK(!found(PD_WIRE_CLASS_V4L2, 0, VIDIOC_S_FBUF));
	CHECK(!found(PD_WIRE_CLASS_V4L2, 0, VIDIOC_DBG_G_REGISTER));
	/* a file an ioctl made (a dma-buf): only the dma-buf's SYNC */
	CHECK_EQ(pd_ioc_count_entries(PD_WIRE_CLASS_NONE, 0), 1);
	CHECK(found(PD_WIRE_CLASS_NONE, 0, DMA_BUF_IOCTL_SYNC));
	CHECK(!found(PD_WIRE_CLASS_NONE, 0, DRM_IOCTL_VERSION));
	CHECK(!found(PD_WIRE_CLASS_V4L2, 0, DMA_BUF_IOCTL_SYNC));
	CHECK(!found(PD_WIRE_CLASS_DRM, PD_WIRE_DRIVER_DRM_VGEM,
		     DMA_BUF_IOCTL_SYNC));
	CHECK(pd_ioc_tables(PD_WIRE_CLASS_COUNT, 0) == NULL);
}

/* A one-entry table around a descriptor list, for the negative checks. */
static int check_one(__u32 cmd, unsigned int flags,
		     const struct pd_ioc_desc *d, unsigned int n)
{
	struct pd_ioc_entry e = {
		.cmd = cmd, .flags = flags, .desc = d, .ndesc = n,
		.name = "test",
	};
	struct pd_ioc_table t = {
		.name = "broken", .entries = &e, .count = 1,
	};
	char why[160];

	return pd_ioc_check_table(&t, why, sizeof(why));
}

struct two_ptrs {
	__u64 a, b;
	__u32 na, nb;
};

static void test_self_check_catches_mistakes(void)
{
	const __u32 rw = _IOWR('x', 1, struct two_ptrs);
	const __u32 r = _IOR('x', 1, struct two_ptrs);
	struct pd_ioc_desc d[2];

	/* a correct descriptor passes: the checks below are not vacuous */
	memset(d, 0, sizeof(d));
	d[0] = (struct pd_ioc_desc){ PD_PTR_N(struct two_ptrs, a, na, 4, 16,
					      PD_IOC_IN, PD_IOC_O_FULL) };
	CHECK_EQ(check_one(rw, 0, d, 1), 0);

	/* pointer in an argument the driver never reads */
	CHECK_EQ(check_one(r, 0, d, 1), -EINVAL);
	/* unbounded count */
	d[0].max = 0;
	CHECK_EQ(check_one(rw, 0, d, 1), -EINVAL);
	d[0].max = 16;
	/* pointer field outside the argument */
	d[0].off = sizeof(struct two_ptrs) - 4;
	CHECK_EQ(check_one(rw, 0, d, 1), -EINVAL);
	d[0].off = 0;
	/* count field outside the argument */
	d[0].count_off = sizeof(struct two_ptrs);
	CHECK_EQ(check_one(rw, 0, d, 1), -EINVAL);
	d[0].count_off = offsetof(struct two_ptrs, na);
	/* a child whose parent comes later */
	d[1] = d[0];
	d[0].parent = 1;
	CHECK_EQ(check_one(rw, 0, d, 2), -EINVAL);
	d[0].parent = PD_IOC_PARENT_ARG;
	/* a state-scaled buffer without USES_STATE */
	d[0].scale = PD_IOC_S_FRAME;
	CHECK_EQ(check_one(rw, 0, d, 1), -EINVAL);
	CHECK_EQ(check_one(rw, PD_IOC_F_USES_STATE, d, 1), 0);
	d[0].scale = PD_IOC_S_ELEM;
	/* a reject without an errno */
	memset(&d[1], 0, sizeof(d[1]));
	d[1].kind = PD_IOC_D_REJECT;
	d[1].parent = PD_IOC_PARENT_ARG;
	d[1].cond[0] = (struct pd_ioc_cond)PD_COND(struct two_ptrs, na,
						  PD_IOC_C_EQ, 1);
	CHECK_EQ(check_one(rw, 0, d, 2), -EINVAL);
	d[1].val = EINVAL;
	CHECK_EQ(check_one(rw, 0, d, 2), 0);
	/* element conditions: inside the parent element, and present */
	d[1] = (struct pd_ioc_desc){ .kind = PD_IOC_D_PTR, .parent = 0,
		.dir = PD_IOC_IN, .flags = PD_IOC_DF_ELEM_COND, .width = 8,
		.count = PD_IOC_N_ONE, .elem = 8, .max = 1,
		.cond = { { .op = PD_IOC_C_NE, .width = 4, .off = 0 } } };
	d[0].elem = 8;
	CHECK_EQ(check_one(rw, 0, d, 2), 0);
	d[1].cond[0].off = 6;
	CHECK_EQ(check_one(rw, 0, d, 2), -EINVAL);
	d[1].cond[0].off = 0;
	d[1].cond[0].op = PD_IOC_C_NONE;
	CHECK_EQ(check_one(rw, 0, d, 2), -EINVAL);
	d[1].cond[0].op = PD_IOC_C_NE;
	d[0].dir = PD_IOC_OUT;
	CHECK_EQ(check_one(rw, 0, d, 2), -EINVAL);
	d[0].dir = PD_IOC_IN;
	d[0].elem = 4;
	/* a descriptor on a value argument */
	CHECK_EQ(check_one(_IOW('x', 2, int), PD_IOC_F_ARG_VALUE, d, 1),
		 -EINVAL);
}

static void test_self_check_catches_duplicates(void)
{
	struct pd_ioc_entry e[2] = {
		PD_IOC0(_IOR('x', 3, int), 0),
		PD_IOC0(_IOR('x', 3, int), 0),
	};
	struct pd_ioc_table t = { .name = "dup", .entries = e, .count = 2 };
	struct pd_ioc_entry v[2] = {
		PD_IOC_VAR(_IOC(_IOC_READ, 'x', 0x10, 0), 0x1f, 64, 0),
		PD_IOC0(_IOC(_IOC_READ, 'x', 0x12, 8), 0),
	};
	struct pd_ioc_table tv = { .name = "range", .entries = v, .count = 2 };

	CHECK_EQ(pd_ioc_check_table(&t, NULL, 0), -EINVAL);
	CHECK_EQ(pd_ioc_check_table(&tv, NULL, 0), -EINVAL);
	t.count = 1;
	CHECK_EQ(pd_ioc_check_table(&t, NULL, 0), 0);
}

/* Every class and DRM driver the wire defines has its tables in the
 * registry, and every entry of them is found for it; a DRM file of no
 * known driver and an unknown class get none. */
static void test_class_registry_finds_every_class(void)
{
	static const unsigned int classes[] = {
		PD_WIRE_CLASS_EVDEV, PD_WIRE_CLASS_V4L2, PD_WIRE_CLASS_SND_CTL,
		PD_WIRE_CLASS_SND_PCM, PD_WIRE_CLASS_SND_TIMER,
		PD_WIRE_CLASS_NONE,
	};
	unsigned int i, drv, n = 0;

	for (drv = PD_WIRE_DRIVER_DRM_GENERIC; drv < PD_WIRE_DRIVER_COUNT; drv++)
		CHECK(pd_ioc_tables(PD_WIRE_CLASS_DRM, drv) != NULL);
	CHECK(pd_ioc_tables(PD_WIRE_CLASS_DRM, PD_WIRE_DRIVER_NONE) == NULL);
	for (i = 0; i < PD_ARRAY_SIZE(classes); i++) {
		CHECK(pd_ioc_tables(classes[i], 0) != NULL);
		/* not DRM: the driver id is not looked at */
		CHECK(pd_ioc_tables(classes[i], 0) ==
		      pd_ioc_tables(classes[i], PD_WIRE_DRIVER_DRM_VGEM));
	}
	CHECK_EQ(pd_ioc_nclasses,
		 (PD_WIRE_DRIVER_COUNT - PD_WIRE_DRIVER_DRM_GENERIC) +
		 PD_ARRAY_SIZE(classes));
	for (i = 0; i < pd_ioc_nclasses; i++) {
		const struct pd_ioc_class *c = &pd_ioc_classes[i];
		const struct pd_ioc_table *const *t;

		CHECK(pd_ioc_tables(c->dev_class, c->driver) == c->tables);
		for (t = c->tables; *t; t++)
			for (unsigned int j = 0; j < (*t)->count; j++, n++)
				CHECK(found(c->dev_class, c->driver,
					    (*t)->entries[j].cmd));
	}
	CHECK(n > 0);
}

/* A PCM file's state comes from its table's learn hook after a good
 * HW_PARAMS, and goes on a failed one and on HW_FREE. */
static void test_learn_hook_called(void)
{
	struct snd_pcm_hw_params hp;
	struct pd_ioc_state st;
	struct pd_ioc_call call;
	const struct pd_ioc_entry *e;
	unsigned int flags;
	struct {
		unsigned int param, val;
	} fixed[] = {
		{ SNDRV_PCM_HW_PARAM_SAMPLE_BITS, 16 },
		{ SNDRV_PCM_HW_PARAM_FRAME_BITS, 32 },
		{ SNDRV_PCM_HW_PARAM_CHANNELS, 2 },
	};

	memset(&hp, 0, sizeof(hp));
	for (unsigned int i = 0; i < PD_ARRAY_SIZE(fixed); i++) {
		struct snd_interval *iv = &hp.intervals[fixed[i].param -
					SNDRV_PCM_HW_PARAM_FIRST_INTERVAL];

		iv->min = iv->max = fixed[i].val;
	}
	CHECK(pd_ioc_snd_pcm.learn != NULL);
	e = pd_ioc_lookup(PD_WIRE_CLASS_SND_PCM, 0, SNDRV_PCM_IOCTL_HW_PARAMS,
			  &flags);
	CHECK(e != NULL);
	if (!e)
		return;
	CHECK_EQ(pd_ioc_call_init(&call, e, flags, SNDRV_PCM_IOCTL_HW_PARAMS,
				  0), 0);
	memset(&st, 0, sizeof(st));
	pd_ioc_learn(&call, &st, (const __u8 *)&hp, sizeof(hp), 0);
	CHECK_EQ(st.sample_bits, 16);
	CHECK_EQ(st.frame_bits, 32);
	CHECK_EQ(st.channels, 2);
	/* a failed HW_PARAMS: the hook is not called, the state goes */
	pd_ioc_learn(&call, &st, (const __u8 *)&hp, sizeof(hp), -EINVAL);
	CHECK_EQ(st.frame_bits, 0);
	/* HW_FREE forgets */
	pd_ioc_learn(&call, &st, (const __u8 *)&hp, sizeof(hp), 0);
	CHECK_EQ(st.frame_bits, 32);
	e = pd_ioc_lookup(PD_WIRE_CLASS_SND_PCM, 0, SNDRV_PCM_IOCTL_HW_FREE,
			  &flags);
	CHECK(e != NULL);
	if (!e)
		return;
	CHECK_EQ(pd_ioc_call_init(&call, e, flags, SNDRV_PCM_IOCTL_HW_FREE, 0),
		 0);
	pd_ioc_learn(&call, &st, NULL, 0, 0);
	CHECK_EQ(st.frame_bits, 0);
	CHECK_EQ(st.channels, 0);
}

static void dummy_learn(struct pd_ioc_state *st, const __u8 *arg, __u32 len)
{
	(void)arg;
	st->channels = len;
}

/* A LEARN command needs its table's learn hook. */
static void test_self_check_wants_learn_hook(void)
{
	struct pd_ioc_entry e = {
		.cmd = _IO('x', 1), .flags = PD_IOC_F_LEARN, .name = "learns",
	};
	struct pd_ioc_table t = {
		.name = "t", .entries = &e, .count = 1,
	};
	char why[160] = "";

	CHECK_EQ(pd_ioc_check_table(&t, why, sizeof(why)), -EINVAL);
	CHECK(strstr(why, "learn hook") != NULL);
	t.learn = dummy_learn;
	CHECK_EQ(pd_ioc_check_table(&t, why, sizeof(why)), 0);
}

int main(void)
{
	RUN(test_all_tables_pass_self_check);
	RUN(test_drm_coverage);
	RUN(test_amdgpu_coverage);
	RUN(test_evdev_variable_sizes);
	RUN(test_v4l2_alsa_coverage);
	RUN(test_self_check_catches_mistakes);
	RUN(test_self_check_catches_duplicates);
	RUN(test_class_registry_finds_every_class);
	RUN(test_learn_hook_called);
	RUN(test_self_check_wants_learn_hook);
	return tap_done();
}
