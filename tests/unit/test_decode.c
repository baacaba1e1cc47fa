// SPDX-License-Identifier: GPL-2.0-only
/*
 * The backend's request decoder against hostile requests: truncated ones,
 * counts over the bounds, products and sums that overflow, offsets outside
 * the payload, buffer lists that differ from the tables' walk, unknown
 * commands and handles. Each must get its errno and never reach the
 * driver. Also the frontend's check of replies, and every single-byte
 * corruption of valid requests of each class (run under ASan/UBSan).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "rt.h"

#include <drm/drm.h>
#include <drm/drm_mode.h>
#include <drm/radeon_drm.h>
#include <drm/amdgpu_drm.h>
#include <drm/virtgpu_drm.h>
#include <linux/input.h>
#include <linux/videodev2.h>
#include <linux/dma-buf.h>
#include <sound/asound.h>

#define PTR(p) ((__u64)(uintptr_t)(p))

static struct rt rt;

static void start(unsigned int cl, unsigned int drv)
{
	rt_finish(&rt);
	rt_init(&rt, cl, drv);
}

/* ------------------------------------------------------------------------ */
/* Requests built by hand, as a hostile frontend would                       */

struct req {
	unsigned char data[8192];
	__u32 data_len;
	struct pd_wire_buf bufs[16];
	__u32 nbufs;
	__u32 cmd;
	__u64 arg;
	unsigned char body[16384];
	size_t len;
};

static void req_begin(struct req *r, __u32 cmd, __u64 arg)
{
	memset(r, 0, sizeof(*r));
	r->cmd = cmd;
	r->arg = arg;
}

/* Append a buffer; data may be NULL for one whose bytes are not sent. */
static void req_buf(struct req *r, const void *data, __u32 len, __u32 flags)
{
	struct pd_wire_buf *b = &r->bufs[r->nbufs++];

	b->len = len;
	b->flags = flags;
	if (data && (flags & PD_WIRE_BUF_IN)) {
		r->data_len = (r->data_len + 7) & ~7u;
		b->offset = r->data_len;
		memcpy(r->data + r->data_len, data, len);
		r->data_len += len;
	}
}

static const void *req_end(struct req *r)
{
	struct pd_wire_ioctl_req h = {
		.cmd = r->cmd, .nbufs = r->nbufs, .arg = r->arg,
		.data_len = r->data_len,
	};
	size_t table = sizeof(h) + ((r->data_len + 7) & ~7u);

	memset(r->body, 0, sizeof(r->body));
	memcpy(r->body, &h, sizeof(h));
	memcpy(r->body + sizeof(h), r->data, r->data_len);
	memcpy(r->body + table, r->bufs, r->nbufs * sizeof(r->bufs[0]));
	r->len = table + r->nbufs * sizeof(r->bufs[0]);
	return r->body;
}

static int decode(struct req *r)
{
	const void *body = req_end(r);	/* sets r->len */

	return rt_decode(&rt, body, r->len);
}

#define IN PD_WIRE_BUF_IN
#define OUT PD_WIRE_BUF_OUT
#define INOUT (PD_WIRE_BUF_IN | PD_WIRE_BUF_OUT)

/* ------------------------------------------------------------------------ */

static void test_valid_hand_built_request_passes(void)
{
	static struct req r;
	struct drm_mode_get_plane_res p = { .count_planes = 2 };
	__u32 ids[2] = { 0 };

	/* the baseline the rejections below are variations of */
	start(PD_WIRE_CLASS_DRM, PD_WIRE_DRIVER_DRM_GENERIC);
	req_begin(&r, DRM_IOCTL_MODE_GETPLANERESOURCES, 0);
	req_buf(&r, &p, sizeof(p), INOUT);
	req_buf(&r, ids, sizeof(ids), INOUT);
	CHECK_EQ(decode(&r), 0);
	CHECK(rt.dc->arg != 0);
	CHECK(rt_backend_owns((void *)rt.dc->arg, sizeof(p)));
}

static void test_truncated_and_padded_requests(void)
{
	static struct req r;
	struct drm_mode_get_plane_res p = { .count_planes = 2 };
	__u32 ids[2] = { 0 };
	const unsigned char *body;
	size_t n, rejected = 0;
	unsigned char *copy;

	start(PD_WIRE_CLASS_DRM, PD_WIRE_DRIVER_DRM_GENERIC);
	req_begin(&r, DRM_IOCTL_MODE_GETPLANERESOURCES, 0);
	req_buf(&r, &p, sizeof(p), INOUT);
	req_buf(&r, ids, sizeof(ids), INOUT);
	body = req_end(&r);
	/* every prefix, in its own allocation so ASan sees any overread */
	for (n = 0; n < r.len; n++) {
		copy = malloc(n ? n : 1);
		memcpy(copy, body, n);
		rejected += rt_decode(&rt, copy, n) == -EINVAL;
		free(copy);
	}
	CHECK_EQ(rejected, r.len);
	copy = calloc(1, r.len + 8);
	memcpy(copy, body, r.len);
	CHECK_EQ(rt_decode(&rt, copy, r.len + 8), -EINVAL);
	free(copy);
}

static void test_header_fields(void)
{
	static struct req r;
	struct pd_wire_ioctl_req *h = (void *)r.body;
	int v = 0;

	start(PD_WIRE_CLASS_EVDEV, 0);
	req_begin(&r, EVIOCGVERSION, 0);
	req_buf(&r, NULL, sizeof(v), OUT);
	req_end(&r);
	CHECK_EQ(rt_decode(&rt, r.body, r.len), 0);

	/* kept for ops.c, which checks it against the job's reservation */
	h->new_handle = PD_WIRE_HANDLE_NAMED_MIN + 1;
	CHECK_EQ(rt_decode(&rt, r.body, r.len), 0);
	CHECK_EQ(rt.dc->new_handle, PD_WIRE_HANDLE_NAMED_MIN + 1);
	h->new_handle = 0;
	h->nbufs = PD_WIRE_IOCTL_MAX_BUFS + 1;
	CHECK_EQ(rt_decode(&rt, r.body, r.len), -E2BIG);
	h->nbufs = 1;
	h->data_len = PD_WIRE_IOCTL_MAX_DATA + 1;
	CHECK_EQ(rt_decode(&rt, r.body, r.len), -E2BIG);
	h->data_len = 0xfffffff8u;
	CHECK_EQ(rt_decode(&rt, r.body, r.len), -E2BIG);
	h->data_len = 0;
	/* a value where the argument is a pointer */
	h->arg = 0x7fff0000;
	CHECK_EQ(rt_decode(&rt, r.body, r.len), -EINVAL);
	CHECK(rt.dc->why != NULL);
}

static void test_offsets_outside_payload(void)
{
	static struct req r;
	struct drm_mode_get_plane_res p = { .count_planes = 2 };
	__u32 ids[2] = { 0 };

	start(PD_WIRE_CLASS_DRM, PD_WIRE_DRIVER_DRM_GENERIC);
	req_begin(&r, DRM_IOCTL_MODE_GETPLANERESOURCES, 0);
	req_buf(&r, &p, sizeof(p), INOUT);
	req_buf(&r, ids, sizeof(ids), INOUT);
	r.bufs[1].offset = r.data_len - 4;	/* straddles the end */
	CHECK_EQ(decode(&r), -EINVAL);
	r.bufs[1].offset = 0xfffffffcu;		/* offset + len wraps */
	CHECK_EQ(decode(&r), -EINVAL);
	r.bufs[1].offset = 0;
	r.bufs[1].len = 0xffffffffu;
	CHECK_EQ(decode(&r), -E2BIG);
	r.bufs[1].len = 8;
	r.bufs[1].flags = INOUT | 0x100;	/* unknown flag */
	CHECK_EQ(decode(&r), -EINVAL);
	r.bufs[1].flags = INOUT | PD_WIRE_BUF_NULL;	/* NULL with bytes */
	CHECK_EQ(decode(&r), -EINVAL);
	r.bufs[1].flags = INOUT;
	r.bufs[1].reserved = 1;
	CHECK_EQ(decode(&r), -EINVAL);
	r.bufs[1].reserved = 0;
	CHECK_EQ(decode(&r), 0);
}

static void test_buffer_list_must_match_walk(void)
{
	static struct req r;
	struct drm_mode_get_plane_res p = { .count_planes = 2 };
	__u32 ids[3] = { 0 };

	start(PD_WIRE_CLASS_DRM, PD_WIRE_DRIVER_DRM_GENERIC);
	/* the guest claims a longer array than its count says */
	req_begin(&r, DRM_IOCTL_MODE_GETPLANERESOURCES, 0);
	req_buf(&r, &p, sizeof(p), INOUT);
	req_buf(&r, ids, 12, INOUT);
	CHECK_EQ(decode(&r), -EINVAL);
	/* a direction the table does not give */
	req_begin(&r, DRM_IOCTL_MODE_GETPLANERESOURCES, 0);
	req_buf(&r, &p, sizeof(p), INOUT);
	req_buf(&r, NULL, 8, OUT);
	CHECK_EQ(decode(&r), -EINVAL);
	/* an extra buffer the walk does not find */
	req_begin(&r, DRM_IOCTL_MODE_GETPLANERESOURCES, 0);
	req_buf(&r, &p, sizeof(p), INOUT);
	req_buf(&r, ids, 8, INOUT);
	req_buf(&r, ids, 4, INOUT);
	CHECK_EQ(decode(&r), -EINVAL);
	/* a missing one */
	req_begin(&r, DRM_IOCTL_MODE_GETPLANERESOURCES, 0);
	req_buf(&r, &p, sizeof(p), INOUT);
	CHECK_EQ(decode(&r), -EINVAL);
	/* an argument of the wrong size */
	req_begin(&r, DRM_IOCTL_MODE_GETPLANERESOURCES, 0);
	req_buf(&r, &p, sizeof(p) - 4, INOUT);
	CHECK_EQ(decode(&r), -EINVAL);
}

static void test_oversized_counts(void)
{
	static struct req r;
	struct drm_mode_get_connector c = { .count_modes = 2000 };
	struct v4l2_plane planes[9];
	struct v4l2_buffer b = {
		.type = V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE,
		.memory = V4L2_MEMORY_MMAP, .length = 9,
	};
	struct snd_ctl_elem_list l = { .space = PD_IOC_MAX_SND_ELEM_IDS + 1 };

	start(PD_WIRE_CLASS_DRM, PD_WIRE_DRIVER_DRM_GENERIC);
	req_begin(&r, DRM_IOCTL_MODE_GETCONNECTOR, 0);
	req_buf(&r, &c, sizeof(c), INOUT);
	req_buf(&r, NULL, 0, INOUT | PD_WIRE_BUF_NULL);	/* encoders */
	req_buf(&r, NULL, 0, INOUT | PD_WIRE_BUF_NULL);	/* modes */
	CHECK_EQ(decode(&r), -EINVAL);
	/* the log line can name the command, the field and the reason */
	CHECK(rt.dc->name && !strcmp(rt.dc->name,
				     "DRM_IOCTL_MODE_GETCONNECTOR"));
	CHECK(rt.dc->field && !strcmp(rt.dc->field, "modes_ptr"));
	CHECK(rt.dc->why && !strcmp(rt.dc->why, "count over its bound"));

	start(PD_WIRE_CLASS_V4L2, 0);
	memset(planes, 0, sizeof(planes));
	req_begin(&r, VIDIOC_QBUF, 0);
	req_buf(&r, &b, sizeof(b), INOUT);
	req_buf(&r, planes, sizeof(planes), INOUT);
	CHECK_EQ(decode(&r), -EINVAL);

	start(PD_WIRE_CLASS_SND_CTL, 0);
	req_begin(&r, SNDRV_CTL_IOCTL_ELEM_LIST, 0);
	req_buf(&r, &l, sizeof(l), INOUT);
	CHECK_EQ(decode(&r), -EINVAL);
}

static void test_overflowing_products_and_sums(void)
{
	static struct req r;
	struct drm_radeon_cs_chunk ck = { RADEON_CHUNK_ID_IB, 0x40000001u, 0 };
	__u64 chunks[1] = { 0 };
	struct drm_radeon_cs cs = { .num_chunks = 1 };
	__u32 objs[2] = { 1, 2 }, counts[2] = { 0xffffffffu, 2 };
	struct drm_mode_atomic a = { .count_objs = 2 };
	struct ff_effect eff = {
		.type = FF_PERIODIC,
		.u.periodic = { .waveform = FF_CUSTOM,
				.custom_len = 0xffffffffu },
	};
	struct snd_xferi xi = { .frames = 1ull << 62 };

	/* length_dw * 4 wraps a u32 */
	start(PD_WIRE_CLASS_DRM, PD_WIRE_DRIVER_DRM_RADEON);
	req_begin(&r, DRM_IOCTL_RADEON_CS, 0);
	req_buf(&r, &cs, sizeof(cs), INOUT);
	req_buf(&r, chunks, 8, IN);
	req_buf(&r, &ck, sizeof(ck), IN);
	req_buf(&r, NULL, 4, IN);	/* what a wrapped product would give */
	CHECK_EQ(decode(&r), -EINVAL);

	/* the sum of property counts does not fit 32 bits */
	start(PD_WIRE_CLASS_DRM, PD_WIRE_DRIVER_DRM_GENERIC);
	rt.dec_flags = PD_DEC_ALLOW_SCREENED;
	req_begin(&r, DRM_IOCTL_MODE_ATOMIC, 0);
	req_buf(&r, &a, sizeof(a), INOUT);
	req_buf(&r, objs, 8, IN);
	req_buf(&r, counts, 8, IN);
	req_buf(&r, NULL, 4, IN);
	req_buf(&r, NULL, 8, IN);
	CHECK_EQ(decode(&r), -EINVAL);
	/* a sum within 32 bits but over the bound */
	counts[0] = PD_IOC_MAX_ATOMIC_PROPS;
	req_begin(&r, DRM_IOCTL_MODE_ATOMIC, 0);
	req_buf(&r, &a, sizeof(a), INOUT);
	req_buf(&r, objs, 8, IN);
	req_buf(&r, counts, 8, IN);
	CHECK_EQ(decode(&r), -EINVAL);

	/* custom_len samples of 2 bytes */
	start(PD_WIRE_CLASS_EVDEV, 0);
	req_begin(&r, EVIOCSFF, 0);
	req_buf(&r, &eff, sizeof(eff), INOUT);
	req_buf(&r, NULL, 0xfffffffeu, IN);
	CHECK_EQ(decode(&r), -E2BIG);
	req_begin(&r, EVIOCSFF, 0);
	req_buf(&r, &eff, sizeof(eff), INOUT);
	CHECK_EQ(decode(&r), -EINVAL);

	/* frames x frame bits: the backend lowers the count, and then the
	 * guest's length no longer matches */
	start(PD_WIRE_CLASS_SND_PCM, 0);
	rt.back_st.frame_bits = 32;
	rt.back_st.sample_bits = 16;
	rt.back_st.channels = 2;
	req_begin(&r, SNDRV_PCM_IOCTL_WRITEI_FRAMES, 0);
	req_buf(&r, &xi, sizeof(xi), INOUT);
	req_buf(&r, NULL, 0, IN);
	CHECK_EQ(decode(&r), -EINVAL);
}

static void test_unknown_commands_and_handles(void)
{
	static struct req r;
	struct drm_prime_handle p = { .fd = 999 };
	struct drm_version v = { 0 };

	start(PD_WIRE_CLASS_DRM, PD_WIRE_DRIVER_DRM_GENERIC);
	req_begin(&r, 0xdeadbeef, 0);
	CHECK_EQ(decode(&r), -ENOTTY);
	req_begin(&r, VIDIOC_QUERYCAP, 0);
	req_buf(&r, NULL, sizeof(struct v4l2_capability), OUT);
	CHECK_EQ(decode(&r), -ENOTTY);
	/* same number, another class */
	start(PD_WIRE_CLASS_V4L2, 0);
	req_begin(&r, DRM_IOCTL_VERSION, 0);
	req_buf(&r, &v, sizeof(v), INOUT);
	CHECK_EQ(decode(&r), -ENOTTY);
	start(PD_WIRE_CLASS_NONE, 0);
	CHECK_EQ(decode(&r), -ENOTTY);
	/* a file an ioctl made (a dma-buf) takes the dma-buf's SYNC, its
	 * flags as the program wrote them; no device class does */
	{
		struct dma_buf_sync sync = {
			.flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ,
		};

		req_begin(&r, DMA_BUF_IOCTL_SYNC, 0);
		req_buf(&r, &sync, sizeof(sync), IN);
		CHECK_EQ(decode(&r), 0);
		CHECK(rt.dc->arg != 0);
		CHECK_EQ(((struct dma_buf_sync *)rt.dc->arg)->flags,
			 (__u64)(DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ));
		start(PD_WIRE_CLASS_V4L2, 0);
		req_begin(&r, DMA_BUF_IOCTL_SYNC, 0);
		req_buf(&r, &sync, sizeof(sync), IN);
		CHECK_EQ(decode(&r), -ENOTTY);
	}

	/* a handle this guest does not have */
	start(PD_WIRE_CLASS_DRM, PD_WIRE_DRIVER_DRM_GENERIC);
	req_begin(&r, DRM_IOCTL_PRIME_FD_TO_HANDLE, 0);
	req_buf(&r, &p, sizeof(p), INOUT);
	CHECK_EQ(decode(&r), -EBADF);
	p.fd = 3;
	req_begin(&r, DRM_IOCTL_PRIME_FD_TO_HANDLE, 0);
	req_buf(&r, &p, sizeof(p), INOUT);
	CHECK_EQ(decode(&r), 0);
	CHECK_EQ(((struct drm_prime_handle *)rt.dc->arg)->fd, RT_BACK_FD0 + 3);

	start(PD_WIRE_CLASS_SND_PCM, 0);
	req_begin(&r, SNDRV_PCM_IOCTL_LINK, 999);
	CHECK_EQ(decode(&r), -EBADF);
	req_begin(&r, SNDRV_PCM_IOCTL_LINK, 0x100000002ull);
	CHECK_EQ(decode(&r), -EBADF);
	req_begin(&r, SNDRV_PCM_IOCTL_LINK, 2);
	CHECK_EQ(decode(&r), 0);
	CHECK_EQ((long)rt.dc->arg, RT_BACK_FD0 + 2);
}

static void test_tail_and_state(void)
{
	static struct req r;
	struct snd_ctl_tlv h = { .numid = 1, .length = 32 };
	unsigned char tail[32] = { 0 };
	struct snd_xferi xi = { .frames = 10 };

	start(PD_WIRE_CLASS_SND_CTL, 0);
	req_begin(&r, SNDRV_CTL_IOCTL_TLV_READ, 0);
	req_buf(&r, &h, sizeof(h), INOUT);
	req_buf(&r, tail, 16, INOUT);
	CHECK_EQ(decode(&r), -EINVAL);
	req_begin(&r, SNDRV_CTL_IOCTL_TLV_READ, 0);
	req_buf(&r, &h, sizeof(h), INOUT);
	req_buf(&r, tail, 32, INOUT);
	CHECK_EQ(decode(&r), 0);
	/* the tail sits right after the header in backend memory */
	CHECK(rt_backend_owns((void *)rt.dc->arg, sizeof(h) + 32));

	/* no HW_PARAMS seen by the backend: its state decides, not the guest */
	start(PD_WIRE_CLASS_SND_PCM, 0);
	req_begin(&r, SNDRV_PCM_IOCTL_WRITEI_FRAMES, 0);
	req_buf(&r, &xi, sizeof(xi), INOUT);
	req_buf(&r, tail, 10, IN);
	CHECK_EQ(decode(&r), -EBADFD);
}

static void test_screened_and_rejected(void)
{
	static struct req r;
	struct drm_mode_obj_set_property sp = { 0 };
	struct v4l2_requestbuffers rb = { .memory = V4L2_MEMORY_USERPTR };

	start(PD_WIRE_CLASS_DRM, PD_WIRE_DRIVER_DRM_GENERIC);
	req_begin(&r, DRM_IOCTL_MODE_OBJ_SETPROPERTY, 0);
	req_buf(&r, &sp, sizeof(sp), INOUT);
	CHECK_EQ(decode(&r), -EPERM);
	rt.dec_flags = PD_DEC_ALLOW_SCREENED;
	CHECK_EQ(decode(&r), 0);
	CHECK(rt.dc->flags & PD_IOC_F_DISPLAY);

	start(PD_WIRE_CLASS_V4L2, 0);
	req_begin(&r, VIDIOC_REQBUFS, 0);
	req_buf(&r, &rb, sizeof(rb), INOUT);
	CHECK_EQ(decode(&r), -EINVAL);
}

/* ------------------------------------------------------------------------ */
/* The frontend checks replies too                                           */

static long drv_nop(__u32 cmd, unsigned long arg)
{
	return 0;
}

static void test_frontend_rejects_bad_replies(void)
{
	static struct pd_ioc_call call;
	__u32 ids[2] = { 7, 8 };
	struct drm_mode_get_plane_res p = { .plane_id_ptr = PTR(ids),
					    .count_planes = 2 };
	const struct pd_ioc_entry *e;
	struct pd_ioc_msg msg = { 0 };
	unsigned char rsp[256];
	struct pd_wire_ioctl_rsp *h = (void *)rsp;
	struct pd_wire_buf *t;
	struct pd_wire_newfd *nfd;
	unsigned int flags;

	start(PD_WIRE_CLASS_DRM, PD_WIRE_DRIVER_DRM_GENERIC);
	rt_guest_region(&p, sizeof(p));
	rt_guest_region(ids, sizeof(ids));
	CHECK_EQ(rt_ioctl(&rt, DRM_IOCTL_MODE_GETPLANERESOURCES,
			  (unsigned long)&p, drv_nop), 0);
	e = pd_ioc_lookup(PD_WIRE_CLASS_DRM, PD_WIRE_DRIVER_DRM_GENERIC,
			  DRM_IOCTL_MODE_GETPLANERESOURCES, &flags);
	CHECK_EQ(pd_ioc_encode(&call, e, flags,
			       DRM_IOCTL_MODE_GETPLANERESOURCES,
			       (unsigned long)&p, NULL, &rt_front_ops, &rt,
			       &msg), 0);
	free(msg.buf);

	/* a well-formed reply returning 8 bytes of the argument */
	memset(rsp, 0, sizeof(rsp));
	h->nbufs = 2;
	h->data_len = 8;
	t = (void *)(rsp + sizeof(*h) + 8);
	t[0] = (struct pd_wire_buf){ .offset = 0, .len = 8,
				     .flags = PD_WIRE_BUF_OUT };
	CHECK_EQ(pd_ioc_complete(&call, NULL, 0, rsp,
				 sizeof(*h) + 8 + 2 * sizeof(*t),
				 &rt_front_ops, &rt), 0);
	/* wrong number of buffers */
	h->nbufs = 1;
	CHECK_EQ(pd_ioc_complete(&call, NULL, 0, rsp,
				 sizeof(*h) + 8 + 1 * sizeof(*t),
				 &rt_front_ops, &rt), -EIO);
	h->nbufs = 2;
	/* more bytes than the buffer has */
	t[0].len = sizeof(p) + 8;
	h->data_len = sizeof(p) + 8;
	CHECK_EQ(pd_ioc_complete(&call, NULL, 0, rsp, sizeof(rsp),
				 &rt_front_ops, &rt), -EIO);
	/* bytes outside the reply's data */
	h->data_len = 8;
	t[0].offset = 4;
	t[0].len = 8;
	CHECK_EQ(pd_ioc_complete(&call, NULL, 0, rsp,
				 sizeof(*h) + 8 + 2 * sizeof(*t),
				 &rt_front_ops, &rt), -EIO);
	/* a length that is not the reply's */
	t[0].offset = 0;
	CHECK_EQ(pd_ioc_complete(&call, NULL, 0, rsp, 7, &rt_front_ops, &rt),
		 -EIO);
	/* a new file where the tables have no descriptor field */
	h->nfds = 1;
	nfd = (void *)(t + 2);
	*nfd = (struct pd_wire_newfd){ .handle = 9, .buf = 0, .offset = 0 };
	rt.discarded = 0;
	CHECK_EQ(pd_ioc_complete(&call, NULL, 0, rsp,
				 sizeof(*h) + 8 + 2 * sizeof(*t) +
				 sizeof(*nfd), &rt_front_ops, &rt), -EIO);
	CHECK_EQ(rt.discarded, 1);
	CHECK_EQ(rt.installed, 0);
}

/* ------------------------------------------------------------------------ */
/* Nothing of the backend's leaves in a reply                                */

static long drv_leaky(__u32 cmd, unsigned long arg)
{
	/* drivers hand back what they were given: pointers, descriptors */
	if (cmd == DRM_IOCTL_PRIME_HANDLE_TO_FD)
		((struct drm_prime_handle *)arg)->fd = RT_NEW_FD0 + 1;
	if (cmd == VIDIOC_DQBUF) {
		struct v4l2_buffer *b = (void *)arg;

		b->m.planes[0].m.fd = RT_BACK_FD0 + 1;
	}
	return 0;
}

static void test_replies_carry_no_backend_values(void)
{
	__u32 ids[4] = { 0 };
	struct drm_mode_get_plane_res p = { .plane_id_ptr = PTR(ids),
					    .count_planes = 4 };
	struct drm_prime_handle ph = { .handle = 1, .fd = RT_GUEST_FD0 + 1 };
	struct v4l2_plane planes[2] = { { .m.fd = RT_GUEST_FD0 + 1 },
					{ .m.fd = RT_GUEST_FD0 + 2 } };
	struct v4l2_buffer b = {
		.type = V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE,
		.memory = V4L2_MEMORY_DMABUF, .length = 2, .m.planes = planes,
	};
	__u32 counts[2] = { 1, 1 };
	unsigned char ch0[8], ch1[8];
	void *chans[2] = { ch0, ch1 };
	struct snd_xfern xn = { .bufs = chans, .frames = 2 };

	start(PD_WIRE_CLASS_DRM, PD_WIRE_DRIVER_DRM_GENERIC);
	rt_guest_region(&p, sizeof(p));
	rt_guest_region(ids, sizeof(ids));
	rt_guest_region(&ph, sizeof(ph));
	CHECK_EQ(rt_ioctl(&rt, DRM_IOCTL_MODE_GETPLANERESOURCES,
			  (unsigned long)&p, drv_leaky), 0);
	CHECK(rt.rsp_len > 0 && !rt_reply_leaks(&rt));
	CHECK_EQ(rt_ioctl(&rt, DRM_IOCTL_PRIME_FD_TO_HANDLE,
			  (unsigned long)&ph, drv_leaky), 0);
	CHECK(!rt_reply_leaks(&rt));
	CHECK_EQ(rt_ioctl(&rt, DRM_IOCTL_PRIME_HANDLE_TO_FD,
			  (unsigned long)&ph, drv_leaky), 0);
	CHECK(!rt_reply_leaks(&rt));

	start(PD_WIRE_CLASS_V4L2, 0);
	rt_guest_region(&b, sizeof(b));
	rt_guest_region(planes, sizeof(planes));
	CHECK_EQ(rt_ioctl(&rt, VIDIOC_QBUF, (unsigned long)&b, drv_leaky), 0);
	CHECK(!rt_reply_leaks(&rt));
	CHECK_EQ(rt_ioctl(&rt, VIDIOC_DQBUF, (unsigned long)&b, drv_leaky), 0);
	CHECK(!rt_reply_leaks(&rt));

	start(PD_WIRE_CLASS_SND_PCM, 0);
	rt.front_st = (struct pd_ioc_state){ 32, 16, 2, 0 };
	rt.back_st = rt.front_st;
	rt_guest_region(&xn, sizeof(xn));
	rt_guest_region(chans, sizeof(chans));
	rt_guest_region(ch0, sizeof(ch0));
	rt_guest_region(ch1, sizeof(ch1));
	rt_guest_region(counts, sizeof(counts));
	CHECK_EQ(rt_ioctl(&rt, SNDRV_PCM_IOCTL_READN_FRAMES,
			  (unsigned long)&xn, drv_leaky), 0);
	CHECK(!rt_reply_leaks(&rt));
}

/* ------------------------------------------------------------------------ */
/* Every byte of valid requests corrupted in turn                            */

static long drv_touch_all(__u32 cmd, unsigned long arg)
{
	struct pd_ioc_call *c = &rt.dc->ioc;
	unsigned int i;

	/* a driver writing every byte it was given: ASan checks the sizes */
	for (i = 0; i < c->nbufs; i++)
		if (!(c->buf[i].flags & PD_WIRE_BUF_NULL) &&
		    (c->buf[i].flags & PD_WIRE_BUF_OUT))
			memset(rt.dc->arena + c->buf[i].off, 0x5a,
			       c->buf[i].len);
	return 0;
}

static unsigned int flip_all_bytes(void)
{
	unsigned char *copy;
	size_t i, n = rt.req_len;
	unsigned int accepted = 0;
	int bit;

	for (i = 0; i < n; i++) {
		for (bit = 0; bit < 8; bit += 7) {
			copy = malloc(n);
			memcpy(copy, rt.req, n);
			copy[i] ^= (unsigned char)(1u << bit);
			if (!rt_decode(&rt, copy, n)) {
				size_t len;
				void *out;

				accepted++;
				drv_touch_all(rt.dc->cmd, rt.dc->arg);
				pd_dec_after(rt.dc, &rt.back_st, 0);
				len = pd_dec_reply_len(rt.dc);
				out = malloc(len);
				CHECK_EQ(pd_dec_reply_write(rt.dc, out, len),
					 0);
				free(out);
			}
			free(copy);
		}
	}
	return accepted;
}

static void test_corrupted_valid_requests(void)
{
	__u32 objs[2] = { 1, 2 }, counts[2] = { 1, 2 }, props[3] = { 0 };
	__u64 vals[3] = { 0 };
	struct drm_mode_atomic a = {
		.count_objs = 2, .objs_ptr = PTR(objs),
		.count_props_ptr = PTR(counts), .props_ptr = PTR(props),
		.prop_values_ptr = PTR(vals),
	};
	__u32 ib[4] = { 0 };
	struct drm_radeon_cs_chunk ck = { RADEON_CHUNK_ID_IB, 4, PTR(ib) };
	__u64 chunks[1] = { PTR(&ck) };
	struct drm_radeon_cs cs = { .num_chunks = 1, .chunks = PTR(chunks) };
	char str[8] = "abc";
	struct v4l2_ext_control c[2] = {
		{ .id = 1, .size = 0, .value = 3 },
		{ .id = 2, .size = sizeof(str), .string = str },
	};
	struct v4l2_ext_controls cs2 = { .count = 2, .controls = c };
	unsigned char ch0[8], ch1[8];
	void *chans[2] = { ch0, ch1 };
	struct snd_xfern xn = { .bufs = chans, .frames = 2 };
	unsigned int accepted;

	start(PD_WIRE_CLASS_DRM, PD_WIRE_DRIVER_DRM_GENERIC);
	rt.dec_flags = PD_DEC_ALLOW_SCREENED;
	rt_guest_region(&a, sizeof(a));
	rt_guest_region(objs, sizeof(objs));
	rt_guest_region(counts, sizeof(counts));
	rt_guest_region(props, sizeof(props));
	rt_guest_region(vals, sizeof(vals));
	CHECK_EQ(rt_encode(&rt, DRM_IOCTL_MODE_ATOMIC, (unsigned long)&a), 0);
	accepted = flip_all_bytes();
	CHECK(accepted > 0 && accepted < 2 * rt.req_len);
	printf("# atomic: %u of %zu corruptions accepted\n", accepted,
	       2 * rt.req_len);

	start(PD_WIRE_CLASS_DRM, PD_WIRE_DRIVER_DRM_RADEON);
	rt_guest_region(&cs, sizeof(cs));
	rt_guest_region(chunks, sizeof(chunks));
	rt_guest_region(&ck, sizeof(ck));
	rt_guest_region(ib, sizeof(ib));
	CHECK_EQ(rt_encode(&rt, DRM_IOCTL_RADEON_CS, (unsigned long)&cs), 0);
	accepted = flip_all_bytes();
	CHECK(accepted > 0 && accepted < 2 * rt.req_len);

	start(PD_WIRE_CLASS_V4L2, 0);
	rt_guest_region(&cs2, sizeof(cs2));
	rt_guest_region(c, sizeof(c));
	rt_guest_region(str, sizeof(str));
	CHECK_EQ(rt_encode(&rt, VIDIOC_S_EXT_CTRLS, (unsigned long)&cs2), 0);
	accepted = flip_all_bytes();
	CHECK(accepted > 0 && accepted < 2 * rt.req_len);

	start(PD_WIRE_CLASS_SND_PCM, 0);
	rt.front_st = (struct pd_ioc_state){ 32, 16, 2, 0 };
	rt.back_st = rt.front_st;
	rt_guest_region(&xn, sizeof(xn));
	rt_guest_region(chans, sizeof(chans));
	rt_guest_region(ch0, sizeof(ch0));
	rt_guest_region(ch1, sizeof(ch1));
	CHECK_EQ(rt_encode(&rt, SNDRV_PCM_IOCTL_READN_FRAMES,
			   (unsigned long)&xn), 0);
	accepted = flip_all_bytes();
	CHECK(accepted > 0 && accepted < 2 * rt.req_len);
}

/*
 * amdgpu CS: what a chunk's data holds is decided by the backend from its
 * own copy of the chunk header, so a request whose buffers follow another
 * chunk_id than the header's does not decode; a well-formed one survives
 * single-bit corruption only where the layout still holds.
 */
static void test_amdgpu_cs_chunk_kinds(void)
{
	static struct req r;
	__u32 ib[4] = { 0 };
	struct drm_amdgpu_bo_list_entry bos[2] = { { 1, 0 }, { 2, 0 } };
	struct drm_amdgpu_bo_list_in bl = { .bo_number = 2,
		.bo_info_size = sizeof(bos[0]), .bo_info_ptr = PTR(bos) };
	struct drm_amdgpu_cs_chunk ck[2] = {
		{ AMDGPU_CHUNK_ID_IB, 4, PTR(ib) },
		{ AMDGPU_CHUNK_ID_BO_HANDLES, sizeof(bl) / 4, PTR(&bl) },
	};
	__u64 chunks[2] = { PTR(&ck[0]), PTR(&ck[1]) };
	union drm_amdgpu_cs cs = { .in = { .num_chunks = 2,
					   .chunks = PTR(chunks) } };
	struct drm_amdgpu_cs_chunk hdr = { AMDGPU_CHUNK_ID_IB, 6, 1 };
	union drm_amdgpu_cs one = { .in = { .num_chunks = 1, .chunks = 1 } };
	__u64 ptr1 = 1;
	unsigned int accepted;

	/* the header says IB: no BO list behind its data */
	start(PD_WIRE_CLASS_DRM, PD_WIRE_DRIVER_DRM_AMDGPU);
	req_begin(&r, DRM_IOCTL_AMDGPU_CS, 0);
	req_buf(&r, &one, sizeof(one), INOUT);
	req_buf(&r, &ptr1, 8, IN);
	req_buf(&r, &hdr, sizeof(hdr), IN);
	req_buf(&r, &bl, sizeof(bl), IN);
	req_buf(&r, bos, sizeof(bos), IN);
	CHECK_EQ(decode(&r), -EINVAL);
	/* the header says BO_HANDLES: its list must be there, bounded */
	hdr.chunk_id = AMDGPU_CHUNK_ID_BO_HANDLES;
	req_begin(&r, DRM_IOCTL_AMDGPU_CS, 0);
	req_buf(&r, &one, sizeof(one), INOUT);
	req_buf(&r, &ptr1, 8, IN);
	req_buf(&r, &hdr, sizeof(hdr), IN);
	req_buf(&r, &bl, sizeof(bl), IN);
	CHECK_EQ(decode(&r), -EINVAL);
	bl.bo_number = PD_IOC_MAX_AMDGPU_BOS + 1;
	req_begin(&r, DRM_IOCTL_AMDGPU_CS, 0);
	req_buf(&r, &one, sizeof(one), INOUT);
	req_buf(&r, &ptr1, 8, IN);
	req_buf(&r, &hdr, sizeof(hdr), IN);
	req_buf(&r, &bl, sizeof(bl), IN);
	req_buf(&r, NULL, 8, IN);
	CHECK_EQ(decode(&r), -EINVAL);
	/* ... and exactly what the header and list say passes */
	bl.bo_number = 2;
	req_begin(&r, DRM_IOCTL_AMDGPU_CS, 0);
	req_buf(&r, &one, sizeof(one), INOUT);
	req_buf(&r, &ptr1, 8, IN);
	req_buf(&r, &hdr, sizeof(hdr), IN);
	req_buf(&r, &bl, sizeof(bl), IN);
	req_buf(&r, bos, sizeof(bos), IN);
	CHECK_EQ(decode(&r), 0);

	start(PD_WIRE_CLASS_DRM, PD_WIRE_DRIVER_DRM_AMDGPU);
	bl.bo_info_ptr = PTR(bos);
	rt_guest_region(&cs, sizeof(cs));
	rt_guest_region(chunks, sizeof(chunks));
	rt_guest_region(ck, sizeof(ck));
	rt_guest_region(ib, sizeof(ib));
	rt_guest_region(&bl, sizeof(bl));
	rt_guest_region(bos, sizeof(bos));
	CHECK_EQ(rt_encode(&rt, DRM_IOCTL_AMDGPU_CS, (unsigned long)&cs), 0);
	CHECK_EQ(rt_decode(&rt, rt.req, rt.req_len), 0);
	accepted = flip_all_bytes();
	CHECK(accepted > 0 && accepted < 2 * rt.req_len);
	printf("# amdgpu cs: %u of %zu corruptions accepted\n", accepted,
	       2 * rt.req_len);
}

int main(void)
{
	RUN(test_valid_hand_built_request_passes);
	RUN(test_truncated_and_padded_requests);
	RUN(test_header_fields);
	RUN(test_offsets_outside_payload);
	RUN(test_buffer_list_must_match_walk);
	RUN(test_oversized_counts);
	RUN(test_overflowing_products_and_sums);
	RUN(test_unknown_commands_and_handles);
	RUN(test_tail_and_state);
	RUN(test_screened_and_rejected);
	RUN(test_frontend_rejects_bad_replies);
	RUN(test_replies_carry_no_backend_values);
	RUN(test_corrupted_valid_requests);
	RUN(test_amdgpu_cs_chunk_kinds);
	rt_finish(&rt);
	return tap_done();
}
