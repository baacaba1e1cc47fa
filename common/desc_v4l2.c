// SPDX-License-Identifier: GPL-2.0-only
/*
 * V4L2 (videodev2.h): what video_usercopy() and the drivers of 6.1 do with
 * user memory, for the ioctls v4l2-ctl, GStreamer and libcamera's V4L2
 * path use.
 *
 * Nested memory: multi-planar buffers point to `length` v4l2_plane;
 * EXT_CTRLS point to `count` controls, each of which points to `size` bytes
 * of payload when it is a string or compound control (size 0: the field is
 * a value, and the kernel never dereferences it); G/S_EDID point to
 * `blocks` 128-byte blocks; overlay formats point to `clipcount` clips.
 * The kernel copies these arrays back even when the call fails.
 *
 * Refused: USERPTR memory (the driver would pin the caller's pages, which
 * a copy cannot give: REQBUFS and CREATE_BUFS answer -EINVAL, as a driver
 * without USERPTR support does); media requests (request_fd names a file
 * the backend does not have); overlay bitmaps (read by the driver itself);
 * S_FBUF (a physical address); the DBG register ioctls.
 * DMABUF descriptors passed to QBUF become handles; the descriptor numbers
 * the driver reports back are the backend's and are replaced by -1.
 */
#include "pd_ioctl.h"
#include <linux/videodev2.h>

PD_ASSERT_SIZE(struct v4l2_buffer, 88);
PD_ASSERT_SIZE(struct v4l2_plane, 64);
PD_ASSERT_SIZE(struct v4l2_ext_control, 20);
PD_ASSERT_SIZE(struct v4l2_ext_controls, 32);
PD_ASSERT_SIZE(struct v4l2_format, 208);
PD_ASSERT_SIZE(struct v4l2_clip, 24);
PD_ASSERT_SIZE(struct v4l2_edid, 40);
PD_ASSERT_SIZE(struct v4l2_event, 136);
PD_ASSERT_SIZE(struct v4l2_framebuffer, 48);

#define MPLANE_TYPES ((1ull << V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE) | \
		      (1ull << V4L2_BUF_TYPE_VIDEO_OUTPUT_MPLANE))
#define OVERLAY_TYPES ((1ull << V4L2_BUF_TYPE_VIDEO_OVERLAY) | \
		       (1ull << V4L2_BUF_TYPE_VIDEO_OUTPUT_OVERLAY))

#define BUF_COND(f, op, v) PD_COND(struct v4l2_buffer, f, op, v)

#define NO_USERPTR \
	{ .kind = PD_IOC_D_REJECT, .parent = PD_IOC_PARENT_ARG, \
	  .val = EINVAL, \
	  .cond = { BUF_COND(memory, PD_IOC_C_EQ, V4L2_MEMORY_USERPTR) } }

#define PLANES /* descriptor 1 or 2 below */ \
	{ PD_PTR_N(struct v4l2_buffer, m.planes, length, \
		   sizeof(struct v4l2_plane), PD_IOC_MAX_V4L2_PLANES, \
		   PD_IOC_INOUT, PD_IOC_O_FULL), \
	  .cond = { BUF_COND(type, PD_IOC_C_IN, MPLANE_TYPES) } }

/* A DMABUF descriptor in the single-planar m.fd or in each plane. */
#define BUF_FD(k, planes_desc) \
	{ PD_FD(k, struct v4l2_buffer, m.fd), \
	  .cond = { BUF_COND(memory, PD_IOC_C_EQ, V4L2_MEMORY_DMABUF), \
		    BUF_COND(type, PD_IOC_C_NOT_IN, MPLANE_TYPES) } }, \
	{ .kind = (k), .parent = (planes_desc), \
	  .off = offsetof(struct v4l2_plane, m.fd), .width = 4, \
	  .cond = { BUF_COND(memory, PD_IOC_C_EQ, V4L2_MEMORY_DMABUF) } }

/* QBUF, PREPARE_BUF: descriptors go in. */
static const struct pd_ioc_desc qbuf_desc[] = {
	NO_USERPTR,
	{ .kind = PD_IOC_D_REJECT, .parent = PD_IOC_PARENT_ARG, .val = EINVAL,
	  .cond = { BUF_COND(flags, PD_IOC_C_ANY, V4L2_BUF_FLAG_REQUEST_FD) } },
	PLANES,
	BUF_FD(PD_IOC_D_FD_IN, 2),
};

/*
 * QUERYBUF, DQBUF: descriptor numbers come back; hide them. The driver
 * reports the queue's memory type whatever the program passed, so the
 * decision is taken on the returned argument.
 */
static const struct pd_ioc_desc dqbuf_desc[] = {
	NO_USERPTR,
	PLANES,
	{ PD_FD(PD_IOC_D_SCRUB, struct v4l2_buffer, m.fd), .val = -1,
	  .flags = PD_IOC_DF_POST_COND,
	  .cond = { BUF_COND(memory, PD_IOC_C_EQ, V4L2_MEMORY_DMABUF),
		    BUF_COND(type, PD_IOC_C_NOT_IN, MPLANE_TYPES) } },
	{ .kind = PD_IOC_D_SCRUB, .parent = 1, .flags = PD_IOC_DF_POST_COND,
	  .off = offsetof(struct v4l2_plane, m.fd), .width = 4, .val = -1,
	  .cond = { BUF_COND(memory, PD_IOC_C_EQ, V4L2_MEMORY_DMABUF) } },
};

static const struct pd_ioc_desc reqbufs_desc[] = {
	{ .kind = PD_IOC_D_REJECT, .parent = PD_IOC_PARENT_ARG, .val = EINVAL,
	  .cond = { PD_COND(struct v4l2_requestbuffers, memory, PD_IOC_C_EQ,
			    V4L2_MEMORY_USERPTR) } },
};

static const struct pd_ioc_desc create_bufs_desc[] = {
	{ .kind = PD_IOC_D_REJECT, .parent = PD_IOC_PARENT_ARG, .val = EINVAL,
	  .cond = { PD_COND(struct v4l2_create_buffers, memory, PD_IOC_C_EQ,
			    V4L2_MEMORY_USERPTR) } },
};

static const struct pd_ioc_desc expbuf_desc[] = {
	{ PD_FD(PD_IOC_D_FD_NEW, struct v4l2_exportbuffer, fd) },
};

/*
 * Controls, then each control's payload. A control whose size is 0 keeps
 * its value in the union: VALUE_IF_EMPTY leaves that field alone.
 */
static const struct pd_ioc_desc ext_ctrls_desc[] = {
	{ .kind = PD_IOC_D_REJECT, .parent = PD_IOC_PARENT_ARG, .val = EINVAL,
	  .cond = { PD_COND(struct v4l2_ext_controls, which, PD_IOC_C_EQ,
			    V4L2_CTRL_WHICH_REQUEST_VAL) } },
	{ PD_PTR_N(struct v4l2_ext_controls, controls, count,
		   sizeof(struct v4l2_ext_control), PD_IOC_MAX_V4L2_CTRLS,
		   PD_IOC_INOUT, PD_IOC_O_FULL) },
	{ .kind = PD_IOC_D_PTR, .parent = 1, .dir = PD_IOC_INOUT,
	  .flags = PD_IOC_DF_VALUE_IF_EMPTY,
	  .off = offsetof(struct v4l2_ext_control, ptr), .width = 8,
	  .count = PD_IOC_N_FIELD,
	  .count_off = offsetof(struct v4l2_ext_control, size),
	  .count_width = 4, .elem = 1, .max = PD_IOC_MAX_V4L2_PAYLOAD },
};

static const struct pd_ioc_desc edid_desc[] = {
	{ PD_PTR_N(struct v4l2_edid, edid, blocks, 128,
		   PD_IOC_MAX_V4L2_EDID_BLOCKS, PD_IOC_INOUT, PD_IOC_O_FULL) },
};

#define FMT_COND(f, op, v) PD_COND(struct v4l2_format, f, op, v)

static const struct pd_ioc_desc fmt_desc[] = {
	{ .kind = PD_IOC_D_REJECT, .parent = PD_IOC_PARENT_ARG, .val = EINVAL,
	  .cond = { FMT_COND(type, PD_IOC_C_IN, OVERLAY_TYPES),
		    FMT_COND(fmt.win.bitmap, PD_IOC_C_NE, 0) } },
	{ PD_PTR_N(struct v4l2_format, fmt.win.clips, fmt.win.clipcount,
		   sizeof(struct v4l2_clip), PD_IOC_MAX_V4L2_CLIPS,
		   PD_IOC_INOUT, PD_IOC_O_FULL),
	  .cond = { FMT_COND(type, PD_IOC_C_IN, OVERLAY_TYPES) } },
};

/* The physical address of a framebuffer stays in the driver domain. */
static const struct pd_ioc_desc g_fbuf_desc[] = {
	{ PD_FD(PD_IOC_D_SCRUB, struct v4l2_framebuffer, base), .val = 0 },
};

#define ARRAYS PD_IOC_F_ALL_ON_ERR

static const struct pd_ioc_entry v4l2_entries[] = {
	PD_IOC0(VIDIOC_QUERYCAP, 0),
	PD_IOC0(VIDIOC_ENUM_FMT, 0),
	PD_IOC(VIDIOC_G_FMT, 0, fmt_desc),
	PD_IOC(VIDIOC_S_FMT, 0, fmt_desc),
	PD_IOC(VIDIOC_TRY_FMT, 0, fmt_desc),
	/* OWNER: the backend ties a queue's buffers to the file that made
	 * them (hostd/backend/v4l2own.c); a DQBUF waiting on a file the
	 * backend takes away (the camera went to another guest) ends ENODEV */
	PD_IOC(VIDIOC_REQBUFS, PD_IOC_F_OWNER, reqbufs_desc),
	PD_IOC(VIDIOC_CREATE_BUFS, PD_IOC_F_OWNER, create_bufs_desc),
	PD_IOC(VIDIOC_QUERYBUF, ARRAYS | PD_IOC_F_OWNER, dqbuf_desc),
	PD_IOC(VIDIOC_QBUF, ARRAYS, qbuf_desc),
	PD_IOC(VIDIOC_PREPARE_BUF, ARRAYS, qbuf_desc),
	PD_IOC(VIDIOC_DQBUF, ARRAYS | PD_IOC_F_OWNER, dqbuf_desc),
	PD_IOC(VIDIOC_EXPBUF, PD_IOC_F_OWNER, expbuf_desc),
	PD_IOC(VIDIOC_G_FBUF, 0, g_fbuf_desc),
	PD_IOC0(VIDIOC_OVERLAY, 0),
	PD_IOC0(VIDIOC_STREAMON, 0),
	PD_IOC0(VIDIOC_STREAMOFF, 0),
	PD_IOC0(VIDIOC_G_PARM, 0),
	PD_IOC0(VIDIOC_S_PARM, 0),
	PD_IOC0(VIDIOC_G_STD, 0),
	PD_IOC0(VIDIOC_S_STD, 0),
	PD_IOC0(VIDIOC_ENUMSTD, 0),
	PD_IOC0(VIDIOC_QUERYSTD, 0),
	PD_IOC0(VIDIOC_ENUMINPUT, 0),
	PD_IOC0(VIDIOC_G_INPUT, 0),
	PD_IOC0(VIDIOC_S_INPUT, 0),
	PD_IOC0(VIDIOC_ENUMOUTPUT, 0),
	PD_IOC0(VIDIOC_G_OUTPUT, 0),
	PD_IOC0(VIDIOC_S_OUTPUT, 0),
	PD_IOC0(VIDIOC_G_CTRL, 0),
	PD_IOC0(VIDIOC_S_CTRL, 0),
	PD_IOC0(VIDIOC_QUERYCTRL, 0),
	PD_IOC0(VIDIOC_QUERY_EXT_CTRL, 0),
	PD_IOC0(VIDIOC_QUERYMENU, 0),
	PD_IOC(VIDIOC_G_EXT_CTRLS, ARRAYS, ext_ctrls_desc),
	PD_IOC(VIDIOC_S_EXT_CTRLS, ARRAYS, ext_ctrls_desc),
	PD_IOC(VIDIOC_TRY_EXT_CTRLS, ARRAYS, ext_ctrls_desc),
	PD_IOC0(VIDIOC_G_TUNER, 0),
	PD_IOC0(VIDIOC_S_TUNER, 0),
	PD_IOC0(VIDIOC_G_MODULATOR, 0),
	PD_IOC0(VIDIOC_S_MODULATOR, 0),
	PD_IOC0(VIDIOC_G_FREQUENCY, 0),
	PD_IOC0(VIDIOC_S_FREQUENCY, 0),
	PD_IOC0(VIDIOC_ENUM_FREQ_BANDS, 0),
	PD_IOC0(VIDIOC_S_HW_FREQ_SEEK, 0),
	PD_IOC0(VIDIOC_G_AUDIO, 0),
	PD_IOC0(VIDIOC_S_AUDIO, 0),
	PD_IOC0(VIDIOC_ENUMAUDIO, 0),
	PD_IOC0(VIDIOC_G_AUDOUT, 0),
	PD_IOC0(VIDIOC_S_AUDOUT, 0),
	PD_IOC0(VIDIOC_ENUMAUDOUT, 0),
	PD_IOC0(VIDIOC_CROPCAP, 0),
	PD_IOC0(VIDIOC_G_CROP, 0),
	PD_IOC0(VIDIOC_S_CROP, 0),
	PD_IOC0(VIDIOC_G_SELECTION, 0),
	PD_IOC0(VIDIOC_S_SELECTION, 0),
	PD_IOC0(VIDIOC_G_JPEGCOMP, 0),
	PD_IOC0(VIDIOC_S_JPEGCOMP, 0),
	PD_IOC0(VIDIOC_G_PRIORITY, 0),
	PD_IOC0(VIDIOC_S_PRIORITY, 0),
	PD_IOC0(VIDIOC_G_SLICED_VBI_CAP, 0),
	PD_IOC0(VIDIOC_LOG_STATUS, 0),
	PD_IOC0(VIDIOC_ENUM_FRAMESIZES, 0),
	PD_IOC0(VIDIOC_ENUM_FRAMEINTERVALS, 0),
	PD_IOC0(VIDIOC_G_ENC_INDEX, 0),
	PD_IOC0(VIDIOC_ENCODER_CMD, 0),
	PD_IOC0(VIDIOC_TRY_ENCODER_CMD, 0),
	PD_IOC0(VIDIOC_DECODER_CMD, 0),
	PD_IOC0(VIDIOC_TRY_DECODER_CMD, 0),
	PD_IOC0(VIDIOC_S_DV_TIMINGS, 0),
	PD_IOC0(VIDIOC_G_DV_TIMINGS, 0),
	PD_IOC0(VIDIOC_ENUM_DV_TIMINGS, 0),
	/* returns results with some errors (-ENOLCK, -ERANGE) */
	PD_IOC0(VIDIOC_QUERY_DV_TIMINGS, PD_IOC_F_ARG_ON_ERR),
	PD_IOC0(VIDIOC_DV_TIMINGS_CAP, 0),
	PD_IOC(VIDIOC_G_EDID, ARRAYS, edid_desc),
	PD_IOC(VIDIOC_S_EDID, ARRAYS, edid_desc),
	PD_IOC0(VIDIOC_SUBSCRIBE_EVENT, 0),
	PD_IOC0(VIDIOC_UNSUBSCRIBE_EVENT, 0),
	PD_IOC0(VIDIOC_DQEVENT, 0),
	PD_IOC0(VIDIOC_DBG_G_CHIP_INFO, 0),
};

const struct pd_ioc_table pd_ioc_v4l2 = {
	.name = "v4l2",
	.entries = v4l2_entries,
	.count = PD_ARRAY_SIZE(v4l2_entries),
};
