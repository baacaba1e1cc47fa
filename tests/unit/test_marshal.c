// SPDX-License-Identifier: GPL-2.0-only
/*
 * Marshaling round trips, one or more per class: a "guest" argument goes
 * through the frontend encoder, the backend decoder, a fake driver that
 * does to the rebuilt argument what the real driver does, the backend
 * reply and the frontend completion. Each test checks what the program
 * sees afterwards, that the fake driver only ever saw backend memory, and
 * that what the driver did not write is left as the program had it.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>

#include "tap.h"
#include "rt.h"

#include <drm/drm.h>
#include <drm/drm_mode.h>
#include <drm/radeon_drm.h>
#include <drm/amdgpu_drm.h>
#include <drm/vgem_drm.h>
#include <drm/virtgpu_drm.h>
#include <linux/input.h>
#include <linux/videodev2.h>
#include <sound/asound.h>

#define G(x) rt_guest_region(&(x), sizeof(x))
#define PTR(p) ((__u64)(uintptr_t)(p))
#define OWNS(p, n) CHECK(rt_backend_owns((const void *)(uintptr_t)(p), (n)))

static int called;
static struct rt rt;

static void start(unsigned int cl, unsigned int drv)
{
	rt_finish(&rt);
	rt_init(&rt, cl, drv);
	called = 0;
}

static int all(const void *p, int c, size_t n)
{
	const unsigned char *b = p;

	while (n--)
		if (*b++ != (unsigned char)c)
			return 0;
	return 1;
}

/* ======================================================================== */
/* DRM                                                                      */

static void put_str(__u64 ptr, __kernel_size_t *len, const char *s)
{
	size_t n = strlen(s);

	if (n > *len)
		n = *len;
	if (*len)
		OWNS(ptr, *len);
	if (ptr)
		memcpy((void *)(uintptr_t)ptr, s, n);
	*len = strlen(s);
}

static long drv_version(__u32 cmd, unsigned long arg)
{
	struct drm_version *v = (void *)arg;

	called++;
	CHECK(cmd == DRM_IOCTL_VERSION);
	OWNS(v, sizeof(*v));
	CHECK(v->desc == NULL);
	v->version_major = 1;
	v->version_minor = 2;
	put_str(PTR(v->name), &v->name_len, "bochs-drm");
	put_str(PTR(v->date), &v->date_len, "20130925");
	put_str(PTR(v->desc), &v->desc_len, "bochs dispi vga interface");
	return 0;
}

static void test_drm_version_strings(void)
{
	char name[4], date[32];
	struct drm_version v = {
		.name_len = sizeof(name), .name = name,
		.date_len = sizeof(date), .date = date,
	};

	start(PD_WIRE_CLASS_DRM, PD_WIRE_DRIVER_DRM_GENERIC);
	memset(name, 'x', sizeof(name));
	memset(date, 'x', sizeof(date));
	G(v), G(name), G(date);
	CHECK_EQ(rt_ioctl(&rt, DRM_IOCTL_VERSION, (unsigned long)&v,
			  drv_version), 0);
	CHECK_EQ(called, 1);
	CHECK_EQ(v.version_minor, 2);
	CHECK(!memcmp(name, "boch", 4));
	CHECK_EQ(v.name_len, 9);
	CHECK(!memcmp(date, "20130925", 8));
	CHECK(all(date + 8, 'x', sizeof(date) - 8));
	CHECK_EQ(v.desc_len, 25);
	/* the program's pointers, not the backend's */
	CHECK(v.name == name && v.date == date && v.desc == NULL);
}

static long drv_getresources(__u32 cmd, unsigned long arg)
{
	struct drm_mode_card_res *r = (void *)arg;
	__u32 *p;

	called++;
	if (r->count_crtcs >= 1) {
		OWNS(r->crtc_id_ptr, 4);
		p = (void *)(uintptr_t)r->crtc_id_ptr;
		p[0] = 37;
	}
	if (r->count_connectors >= 1) {
		p = (void *)(uintptr_t)r->connector_id_ptr;
		p[0] = 38;
	}
	if (r->count_encoders >= 1) {
		p = (void *)(uintptr_t)r->encoder_id_ptr;
		p[0] = 39;
	}
	r->count_fbs = 0;
	r->count_crtcs = 1;
	r->count_connectors = 1;
	r->count_encoders = 1;
	r->max_width = 16384;
	return 0;
}

static void test_drm_getresources_two_passes(void)
{
	struct drm_mode_card_res r = { 0 };
	__u32 crtc[4], conn[4], enc[4];

	start(PD_WIRE_CLASS_DRM, PD_WIRE_DRIVER_DRM_GENERIC);
	G(r), G(crtc), G(conn), G(enc);
	CHECK_EQ(rt_ioctl(&rt, DRM_IOCTL_MODE_GETRESOURCES,
			  (unsigned long)&r, drv_getresources), 0);
	CHECK_EQ(r.count_crtcs, 1);
	CHECK_EQ(r.max_width, 16384);
	CHECK(r.crtc_id_ptr == 0);

	memset(crtc, 0xee, sizeof(crtc));
	memset(conn, 0xee, sizeof(conn));
	memset(enc, 0xee, sizeof(enc));
	r.crtc_id_ptr = PTR(crtc);
	r.connector_id_ptr = PTR(conn);
	r.encoder_id_ptr = PTR(enc);
	r.count_crtcs = r.count_connectors = r.count_encoders = 4;
	CHECK_EQ(rt_ioctl(&rt, DRM_IOCTL_MODE_GETRESOURCES,
			  (unsigned long)&r, drv_getresources), 0);
	CHECK_EQ(crtc[0], 37);
	CHECK_EQ(conn[0], 38);
	CHECK_EQ(enc[0], 39);
	CHECK(all(&crtc[1], 0xee, 12));
	CHECK_EQ(r.crtc_id_ptr, PTR(crtc));
}

static long drv_getconnector(__u32 cmd, unsigned long arg)
{
	struct drm_mode_get_connector *c = (void *)arg;
	__u32 *u;
	__u64 *v;

	called++;
	/* like drm_mode_getconnector(): modes only if all fit */
	if (c->count_modes >= 2) {
		struct drm_mode_modeinfo *m = (void *)(uintptr_t)c->modes_ptr;

		OWNS(m, 2 * sizeof(*m));
		m[0].hdisplay = 1024;
		m[1].hdisplay = 800;
	}
	c->count_modes = 2;
	if (c->count_encoders >= 1) {
		u = (void *)(uintptr_t)c->encoders_ptr;
		u[0] = 31;
	}
	c->count_encoders = 1;
	/* properties: as many as asked for, up to the 2 there are */
	u = (void *)(uintptr_t)c->props_ptr;
	v = (void *)(uintptr_t)c->prop_values_ptr;
	for (unsigned int i = 0; i < 2 && i < c->count_props; i++) {
		OWNS(&u[i], 4);
		OWNS(&v[i], 8);
		u[i] = 1 + i;
		v[i] = 100 + i;
	}
	c->count_props = 2;
	c->connection = 1;
	return 0;
}

static void test_drm_getconnector(void)
{
	struct drm_mode_get_connector c = { .connector_id = 38 };
	struct drm_mode_modeinfo modes[1];
	__u32 enc[1], props[3];
	__u64 vals[3];

	start(PD_WIRE_CLASS_DRM, PD_WIRE_DRIVER_DRM_GENERIC);
	memset(modes, 0xee, sizeof(modes));
	memset(props, 0xee, sizeof(props));
	memset(vals, 0xee, sizeof(vals));
	c.modes_ptr = PTR(modes);
	c.count_modes = 1;
	c.encoders_ptr = PTR(enc);
	c.count_encoders = 1;
	c.props_ptr = PTR(props);
	c.prop_values_ptr = PTR(vals);
	c.count_props = 3;
	G(c), G(modes), G(enc), G(props), G(vals);
	CHECK_EQ(rt_ioctl(&rt, DRM_IOCTL_MODE_GETCONNECTOR,
			  (unsigned long)&c, drv_getconnector), 0);
	CHECK_EQ(c.count_modes, 2);
	/* the driver wrote no mode: the program's bytes are untouched */
	CHECK(all(modes, 0xee, sizeof(modes)));
	CHECK_EQ(enc[0], 31);
	CHECK_EQ(props[0], 1);
	CHECK_EQ(props[1], 2);
	CHECK(all(&props[2], 0xee, 4));
	CHECK_EQ(vals[1], 101);
	CHECK(all(&vals[2], 0xee, 8));
	CHECK_EQ(c.count_props, 2);
	CHECK_EQ(c.connection, 1);
	CHECK_EQ(c.modes_ptr, PTR(modes));
}

static const __u32 atomic_objs[2] = { 31, 37 };
static const __u32 atomic_counts[2] = { 2, 3 };
static const __u32 atomic_props[5] = { 10, 11, 20, 21, 22 };
static const __u64 atomic_vals[5] = { 1, 2, 3, 4, 0x123456789ull };

static long drv_atomic(__u32 cmd, unsigned long arg)
{
	struct drm_mode_atomic *a = (void *)arg;

	called++;
	CHECK_EQ(a->count_objs, 2);
	OWNS(a->objs_ptr, 8);
	OWNS(a->count_props_ptr, 8);
	OWNS(a->props_ptr, 20);
	OWNS(a->prop_values_ptr, 40);
	CHECK(!memcmp((void *)(uintptr_t)a->objs_ptr, atomic_objs, 8));
	CHECK(!memcmp((void *)(uintptr_t)a->count_props_ptr, atomic_counts,
		      8));
	CHECK(!memcmp((void *)(uintptr_t)a->props_ptr, atomic_props, 20));
	CHECK(!memcmp((void *)(uintptr_t)a->prop_values_ptr, atomic_vals,
		      40));
	return 0;
}

static void test_drm_atomic_sum_of_counts(void)
{
	__u32 objs[2], counts[2], props[5];
	__u64 vals[5];
	struct drm_mode_atomic a = {
		.flags = DRM_MODE_ATOMIC_TEST_ONLY, .count_objs = 2,
		.objs_ptr = PTR(objs), .count_props_ptr = PTR(counts),
		.props_ptr = PTR(props), .prop_values_ptr = PTR(vals),
	};

	start(PD_WIRE_CLASS_DRM, PD_WIRE_DRIVER_DRM_GENERIC);
	rt.dec_flags = PD_DEC_ALLOW_SCREENED;
	memcpy(objs, atomic_objs, sizeof(objs));
	memcpy(counts, atomic_counts, sizeof(counts));
	memcpy(props, atomic_props, sizeof(props));
	memcpy(vals, atomic_vals, sizeof(vals));
	G(a), G(objs), G(counts), G(props), G(vals);
	CHECK_EQ(rt_ioctl(&rt, DRM_IOCTL_MODE_ATOMIC, (unsigned long)&a,
			  drv_atomic), 0);
	CHECK_EQ(called, 1);
	CHECK_EQ(a.props_ptr, PTR(props));

	/* without a screening caller the backend refuses it */
	start(PD_WIRE_CLASS_DRM, PD_WIRE_DRIVER_DRM_GENERIC);
	G(a), G(objs), G(counts), G(props), G(vals);
	CHECK_EQ(rt_ioctl(&rt, DRM_IOCTL_MODE_ATOMIC, (unsigned long)&a,
			  drv_atomic), -EPERM);
	CHECK_EQ(called, 0);

	/* a program whose props array is one short faults, as natively */
	start(PD_WIRE_CLASS_DRM, PD_WIRE_DRIVER_DRM_GENERIC);
	G(a), G(objs), G(counts), G(vals);
	rt_guest_region(props, 16);
	CHECK_EQ(rt_ioctl(&rt, DRM_IOCTL_MODE_ATOMIC, (unsigned long)&a,
			  drv_atomic), -EFAULT);
	CHECK_EQ(called, 0);
}

static long drv_prime_to_fd(__u32 cmd, unsigned long arg)
{
	struct drm_prime_handle *p = (void *)arg;

	called++;
	CHECK_EQ(p->fd, -1);
	CHECK_EQ(p->handle, 5);
	p->fd = RT_NEW_FD0 + 7;
	return 0;
}

static long drv_prime_from_fd(__u32 cmd, unsigned long arg)
{
	struct drm_prime_handle *p = (void *)arg;

	called++;
	CHECK_EQ(p->fd, RT_BACK_FD0 + 6);
	p->handle = 42;
	return 0;
}

static void test_drm_prime_fds(void)
{
	struct drm_prime_handle p = { .handle = 5, .flags = DRM_CLOEXEC,
				      .fd = 77 };

	start(PD_WIRE_CLASS_DRM, PD_WIRE_DRIVER_DRM_VGEM);
	G(p);
	CHECK_EQ(rt_ioctl(&rt, DRM_IOCTL_PRIME_HANDLE_TO_FD,
			  (unsigned long)&p, drv_prime_to_fd), 0);
	CHECK_EQ(rt.adopted, 1);
	CHECK_EQ(rt.installed, 1);
	CHECK_EQ(rt.last_handle, 507);
	CHECK_EQ(p.fd, 1507);

	/* the program's descriptor becomes the backend's, and comes back */
	p.fd = RT_GUEST_FD0 + 5;
	p.handle = 0;
	CHECK_EQ(rt_ioctl(&rt, DRM_IOCTL_PRIME_FD_TO_HANDLE,
			  (unsigned long)&p, drv_prime_from_fd), 0);
	CHECK_EQ(p.handle, 42);
	CHECK_EQ(p.fd, RT_GUEST_FD0 + 5);

	/* a descriptor that is not a forwarded file */
	p.fd = 3;
	called = 0;
	CHECK_EQ(rt_ioctl(&rt, DRM_IOCTL_PRIME_FD_TO_HANDLE,
			  (unsigned long)&p, drv_prime_from_fd), -EBADF);
	CHECK_EQ(called, 0);

	/* the backend cannot adopt: error, nothing installed */
	start(PD_WIRE_CLASS_DRM, PD_WIRE_DRIVER_DRM_VGEM);
	rt.fail_adopt = 1;
	p.handle = 5;
	G(p);
	CHECK_EQ(rt_ioctl(&rt, DRM_IOCTL_PRIME_HANDLE_TO_FD,
			  (unsigned long)&p, drv_prime_to_fd), -EMFILE);
	CHECK_EQ(rt.installed, 0);
	CHECK_EQ(p.fd, -1);
}

/*
 * GET_CLIENT as the 6.1 driver answers it for idx 0 (drm_getclient): the
 * caller's auth flag, the calling task's pid, overflowuid, zeros.
 */
static long drv_getclient(__u32 cmd, unsigned long arg)
{
	struct drm_client *c = (void *)arg;

	called++;
	if (c->idx != 0)
		return -EINVAL;
	c->auth = 1;
	c->pid = 4242;		/* the backend's pid in the driver domain */
	c->uid = 1000;		/* what a kernel older than 4.x gave */
	c->magic = 0;
	c->iocs = 0;
	return 0;
}

/*
 * libdrm_amdgpu cannot open a card node unless GET_CLIENT answers: it is
 * forwarded, the auth flag comes back, the driver domain's pid and uid do
 * not, and the driver's -EINVAL for another idx reaches the program.
 */
static void test_drm_getclient_scrubs_host_ids(void)
{
	struct drm_client c = { .idx = 0, .pid = 77, .uid = 77 };

	start(PD_WIRE_CLASS_DRM, PD_WIRE_DRIVER_DRM_AMDGPU);
	G(c);
	CHECK_EQ(rt_ioctl(&rt, DRM_IOCTL_GET_CLIENT, (unsigned long)&c,
			  drv_getclient), 0);
	CHECK_EQ(called, 1);
	CHECK_EQ(c.auth, 1);
	CHECK_EQ(c.pid, 0);
	CHECK_EQ(c.uid, 65534);
	CHECK_EQ(c.magic, 0);

	c.idx = 1;
	CHECK_EQ(rt_ioctl(&rt, DRM_IOCTL_GET_CLIENT, (unsigned long)&c,
			  drv_getclient), -EINVAL);
	CHECK_EQ(called, 2);
}

static long drv_dirtyfb(__u32 cmd, unsigned long arg)
{
	struct drm_mode_fb_dirty_cmd *d = (void *)arg;
	struct drm_clip_rect *c = (void *)(uintptr_t)d->clips_ptr;

	called++;
	OWNS(c, 3 * sizeof(*c));
	CHECK_EQ(c[2].x2, 300);
	return 0;
}

static long drv_fail_but_write(__u32 cmd, unsigned long arg)
{
	struct drm_mode_create_dumb *d = (void *)arg;

	called++;
	d->pitch = 1234;
	return -EINVAL;
}

static void test_drm_dirtyfb_and_errors(void)
{
	struct drm_clip_rect clips[3] = { { 0 }, { 0 }, { .x2 = 300 } };
	struct drm_mode_fb_dirty_cmd d = { .fb_id = 3, .num_clips = 3,
					   .clips_ptr = PTR(clips) };
	struct drm_mode_create_dumb cd = { .width = 64, .height = 64 };

	start(PD_WIRE_CLASS_DRM, PD_WIRE_DRIVER_DRM_GENERIC);
	G(d), G(clips), G(cd);
	CHECK_EQ(rt_ioctl(&rt, DRM_IOCTL_MODE_DIRTYFB, (unsigned long)&d,
			  drv_dirtyfb), 0);
	CHECK_EQ(called, 1);
	/* drm_ioctl copies the argument back even when the handler fails */
	CHECK_EQ(rt_ioctl(&rt, DRM_IOCTL_MODE_CREATE_DUMB, (unsigned long)&cd,
			  drv_fail_but_write), -EINVAL);
	CHECK_EQ(cd.pitch, 1234);
	/* more clips than DRM allows */
	d.num_clips = PD_IOC_MAX_KMS_CLIPS + 1;
	CHECK_EQ(rt_ioctl(&rt, DRM_IOCTL_MODE_DIRTYFB, (unsigned long)&d,
			  drv_dirtyfb), -EINVAL);
	/* a command in no table */
	CHECK_EQ(rt_ioctl(&rt, DRM_IOCTL_GEM_FLINK, (unsigned long)&d,
			  drv_dirtyfb), -ENOTTY);
	CHECK_EQ(called, 2);
}

static long drv_vgem_fence(__u32 cmd, unsigned long arg)
{
	struct drm_vgem_fence_attach *f = (void *)arg;

	called++;
	CHECK_EQ(f->handle, 9);
	f->out_fence = 4;
	return 0;
}

static void test_vgem_fence(void)
{
	struct drm_vgem_fence_attach f = { .handle = 9 };

	start(PD_WIRE_CLASS_DRM, PD_WIRE_DRIVER_DRM_VGEM);
	G(f);
	CHECK_EQ(rt_ioctl(&rt, DRM_IOCTL_VGEM_FENCE_ATTACH, (unsigned long)&f,
			  drv_vgem_fence), 0);
	CHECK_EQ(f.out_fence, 4);
	/* not a vgem file: another driver's number */
	start(PD_WIRE_CLASS_DRM, PD_WIRE_DRIVER_DRM_GENERIC);
	G(f);
	CHECK_EQ(rt_ioctl(&rt, DRM_IOCTL_VGEM_FENCE_ATTACH, (unsigned long)&f,
			  drv_vgem_fence), -ENOTTY);
}

/* ======================================================================== */
/* virtio-gpu                                                               */

static long drv_execbuffer(__u32 cmd, unsigned long arg)
{
	struct drm_virtgpu_execbuffer *x = (void *)arg;
	const unsigned char *c = (void *)(uintptr_t)x->command;
	const __u32 *h = (void *)(uintptr_t)x->bo_handles;

	called++;
	OWNS(c, x->size);
	OWNS(h, x->num_bo_handles * 4);
	CHECK(c[0] == 0xc0 && c[63] == 0xc0 + 63);
	CHECK(h[0] == 7 && h[2] == 9);
	if (x->flags & VIRTGPU_EXECBUF_FENCE_FD_IN)
		CHECK_EQ(x->fence_fd, RT_BACK_FD0 + 2);
	if (x->flags & VIRTGPU_EXECBUF_FENCE_FD_OUT)
		x->fence_fd = RT_NEW_FD0 + 1;
	return 0;
}

static void test_virtgpu_execbuffer_fences(void)
{
	unsigned char cmdbuf[64];
	__u32 bos[3] = { 7, 8, 9 };
	struct drm_virtgpu_execbuffer x = {
		.flags = VIRTGPU_EXECBUF_FENCE_FD_IN |
			 VIRTGPU_EXECBUF_FENCE_FD_OUT,
		.size = sizeof(cmdbuf), .command = PTR(cmdbuf),
		.bo_handles = PTR(bos), .num_bo_handles = 3,
		.fence_fd = RT_GUEST_FD0 + 1,
	};

	for (unsigned int i = 0; i < sizeof(cmdbuf); i++)
		cmdbuf[i] = (unsigned char)(0xc0 + i);
	start(PD_WIRE_CLASS_DRM, PD_WIRE_DRIVER_DRM_VIRTGPU);
	G(x), G(cmdbuf), G(bos);
	CHECK_EQ(rt_ioctl(&rt, DRM_IOCTL_VIRTGPU_EXECBUFFER,
			  (unsigned long)&x, drv_execbuffer), 0);
	CHECK_EQ(x.fence_fd, 1501);
	CHECK_EQ(rt.installed, 1);
	CHECK_EQ(x.command, PTR(cmdbuf));

	/* no fence flags: fence_fd is not a descriptor and is left alone */
	x.flags = 0;
	x.fence_fd = 12345;
	CHECK_EQ(rt_ioctl(&rt, DRM_IOCTL_VIRTGPU_EXECBUFFER,
			  (unsigned long)&x, drv_execbuffer), 0);
	CHECK_EQ(x.fence_fd, 12345);
	CHECK_EQ(rt.installed, 1);
}

static long drv_getparam(__u32 cmd, unsigned long arg)
{
	struct drm_virtgpu_getparam *g = (void *)arg;

	called++;
	OWNS(g->value, 8);	/* alloc_min: room for a u64 */
	*(int *)(uintptr_t)g->value = 1;
	return 0;
}

static long drv_context_init(__u32 cmd, unsigned long arg)
{
	struct drm_virtgpu_context_init *c = (void *)arg;
	struct drm_virtgpu_context_set_param *p =
		(void *)(uintptr_t)c->ctx_set_params;

	called++;
	OWNS(p, 2 * sizeof(*p));
	CHECK(p[1].param == VIRTGPU_CONTEXT_PARAM_NUM_RINGS &&
	      p[1].value == 2);
	return 0;
}

static long drv_get_caps(__u32 cmd, unsigned long arg)
{
	struct drm_virtgpu_get_caps *c = (void *)arg;

	called++;
	OWNS(c->addr, c->size);
	memset((void *)(uintptr_t)c->addr, 0x11, 8);
	return 0;
}

static void test_virtgpu_pointers(void)
{
	int value[2] = { 0, 99 };
	struct drm_virtgpu_getparam g = {
		.param = VIRTGPU_PARAM_3D_FEATURES, .value = PTR(value),
	};
	struct drm_virtgpu_context_set_param params[2] = {
		{ VIRTGPU_CONTEXT_PARAM_CAPSET_ID, 1 },
		{ VIRTGPU_CONTEXT_PARAM_NUM_RINGS, 2 },
	};
	struct drm_virtgpu_context_init ci = {
		.num_params = 2, .ctx_set_params = PTR(params),
	};
	unsigned char caps[16];
	struct drm_virtgpu_get_caps gc = { .cap_set_id = 1,
					   .addr = PTR(caps), .size = 16 };

	start(PD_WIRE_CLASS_DRM, PD_WIRE_DRIVER_DRM_VIRTGPU);
	memset(caps, 0xee, sizeof(caps));
	G(g), G(value), G(ci), G(params), G(gc), G(caps);
	CHECK_EQ(rt_ioctl(&rt, DRM_IOCTL_VIRTGPU_GETPARAM, (unsigned long)&g,
			  drv_getparam), 0);
	CHECK_EQ(value[0], 1);
	CHECK_EQ(value[1], 99);
	CHECK_EQ(rt_ioctl(&rt, DRM_IOCTL_VIRTGPU_CONTEXT_INIT,
			  (unsigned long)&ci, drv_context_init), 0);
	CHECK_EQ(rt_ioctl(&rt, DRM_IOCTL_VIRTGPU_GET_CAPS,
			  (unsigned long)&gc, drv_get_caps), 0);
	CHECK(all(caps, 0x11, 8) && all(caps + 8, 0xee, 8));
	CHECK_EQ(called, 3);
}

/* ======================================================================== */
/* radeon                                                                   */

static const __u32 ib_dw[4] = { 0xc0001000, 1, 2, 3 };
static const __u32 reloc_dw[2] = { 0xaaaa, 0xbbbb };

static long drv_radeon_cs(__u32 cmd, unsigned long arg)
{
	struct drm_radeon_cs *cs = (void *)arg;
	const __u64 *chunks = (void *)(uintptr_t)cs->chunks;
	unsigned int i;

	called++;
	CHECK_EQ(cs->num_chunks, 3);
	OWNS(chunks, 3 * 8);
	for (i = 0; i < 3; i++) {
		const struct drm_radeon_cs_chunk *c =
			(void *)(uintptr_t)chunks[i];

		OWNS(c, sizeof(*c));
		if (c->length_dw)
			OWNS(c->chunk_data, c->length_dw * 4);
		if (c->chunk_id == RADEON_CHUNK_ID_IB)
			CHECK(c->length_dw == 4 &&
			      !memcmp((void *)(uintptr_t)c->chunk_data, ib_dw,
				      16));
		if (c->chunk_id == RADEON_CHUNK_ID_RELOCS)
			CHECK(c->length_dw == 2 &&
			      !memcmp((void *)(uintptr_t)c->chunk_data,
				      reloc_dw, 8));
		if (c->chunk_id == RADEON_CHUNK_ID_FLAGS)
			CHECK_EQ(c->length_dw, 0);
	}
	cs->cs_id = 77;
	return 0;
}

static void test_radeon_cs_chunks(void)
{
	__u32 ib[4], relocs[2];
	struct drm_radeon_cs_chunk ck[3] = {
		{ RADEON_CHUNK_ID_IB, 4, PTR(ib) },
		{ RADEON_CHUNK_ID_RELOCS, 2, PTR(relocs) },
		{ RADEON_CHUNK_ID_FLAGS, 0, 0 },
	};
	__u64 chunks[3] = { PTR(&ck[0]), PTR(&ck[1]), PTR(&ck[2]) };
	struct drm_radeon_cs cs = { .num_chunks = 3, .chunks = PTR(chunks) };

	memcpy(ib, ib_dw, sizeof(ib));
	memcpy(relocs, reloc_dw, sizeof(relocs));
	start(PD_WIRE_CLASS_DRM, PD_WIRE_DRIVER_DRM_RADEON);
	G(cs), G(chunks), G(ck), G(ib), G(relocs);
	CHECK_EQ(rt_ioctl(&rt, DRM_IOCTL_RADEON_CS, (unsigned long)&cs,
			  drv_radeon_cs), 0);
	CHECK_EQ(called, 1);
	CHECK_EQ(cs.cs_id, 77);
	/* the program's pointers are where it left them */
	CHECK_EQ(chunks[1], PTR(&ck[1]));
	CHECK_EQ(ck[0].chunk_data, PTR(ib));

	/* a chunk pointer outside the program's memory faults */
	chunks[2] = 0x10;
	CHECK_EQ(rt_ioctl(&rt, DRM_IOCTL_RADEON_CS, (unsigned long)&cs,
			  drv_radeon_cs), -EFAULT);
	CHECK_EQ(called, 1);
}

static long drv_radeon_info(__u32 cmd, unsigned long arg)
{
	struct drm_radeon_info *in = (void *)arg;
	void *v = (void *)(uintptr_t)in->value;
	__u32 i, *u = v;

	called++;
	OWNS(v, 32 * 4);	/* alloc_min covers the largest answer */
	switch (in->request) {
	case RADEON_INFO_TIMESTAMP:
		*(__u64 *)v = 0x1122334455667788ull;
		break;
	case RADEON_INFO_SI_TILE_MODE_ARRAY:
		for (i = 0; i < 32; i++)
			u[i] = 0x51000000 | i;
		break;
	case RADEON_INFO_READ_REG:
		u[0] = u[0] + 0x100;	/* reads the register number first */
		break;
	default:
		u[0] = 0x6779;
	}
	return 0;
}

static void test_radeon_info_sizes(void)
{
	__u32 tiles[33];
	__u64 ts[2] = { 0, 5 };
	__u32 dev[2] = { 0, 5 };
	struct drm_radeon_info in = { .request = RADEON_INFO_TIMESTAMP,
				      .value = PTR(ts) };

	start(PD_WIRE_CLASS_DRM, PD_WIRE_DRIVER_DRM_RADEON);
	G(in), G(tiles), G(ts), G(dev);
	CHECK_EQ(rt_ioctl(&rt, DRM_IOCTL_RADEON_INFO, (unsigned long)&in,
			  drv_radeon_info), 0);
	CHECK_EQ(ts[0], 0x1122334455667788ull);
	CHECK_EQ(ts[1], 5);

	memset(tiles, 0xee, sizeof(tiles));
	in.request = RADEON_INFO_SI_TILE_MODE_ARRAY;
	in.value = PTR(tiles);
	CHECK_EQ(rt_ioctl(&rt, DRM_IOCTL_RADEON_INFO, (unsigned long)&in,
			  drv_radeon_info), 0);
	CHECK_EQ(tiles[31], 0x5100001f);
	CHECK(all(&tiles[32], 0xee, 4));

	in.request = RADEON_INFO_DEVICE_ID;
	in.value = PTR(dev);
	CHECK_EQ(rt_ioctl(&rt, DRM_IOCTL_RADEON_INFO, (unsigned long)&in,
			  drv_radeon_info), 0);
	CHECK_EQ(dev[0], 0x6779);
	CHECK_EQ(dev[1], 5);

	dev[0] = 0x20;
	in.request = RADEON_INFO_READ_REG;
	CHECK_EQ(rt_ioctl(&rt, DRM_IOCTL_RADEON_INFO, (unsigned long)&in,
			  drv_radeon_info), 0);
	CHECK_EQ(dev[0], 0x120);
	/* a u32 answer needs 4 readable bytes only, as natively */
	in.value = PTR(&dev[1]);
	rt_guest_reset();
	G(in);
	rt_guest_region(&dev[1], 4);
	CHECK_EQ(rt_ioctl(&rt, DRM_IOCTL_RADEON_INFO, (unsigned long)&in,
			  drv_radeon_info), 0);
}

/* ======================================================================== */
/* amdgpu                                                                   */

static long drv_amdgpu_info(__u32 cmd, unsigned long arg)
{
	struct drm_amdgpu_info *in = (void *)arg;
	void *out = (void *)(uintptr_t)in->return_pointer;

	called++;
	OWNS(out, in->return_size);
	if (in->query == AMDGPU_INFO_DEV_INFO) {
		struct drm_amdgpu_info_device dev = { .device_id = 0x73bf,
						      .family = 143 };

		memcpy(out, &dev, in->return_size < sizeof(dev) ?
		       in->return_size : sizeof(dev));
	} else if (in->query == AMDGPU_INFO_ACCEL_WORKING) {
		*(__u32 *)out = 1;
	} else {
		/* a large answer: the count was lowered to the bound */
		CHECK_EQ(in->return_size, PD_IOC_MAX_AMDGPU_INFO);
		memset(out, 0x42, in->return_size);
	}
	return 0;
}

static void test_amdgpu_info(void)
{
	struct drm_amdgpu_info_device dev;
	__u32 ok[2] = { 0, 9 };
	struct drm_amdgpu_info in = { .return_pointer = PTR(&dev),
				      .return_size = sizeof(dev),
				      .query = AMDGPU_INFO_DEV_INFO };
	unsigned char *big;

	start(PD_WIRE_CLASS_DRM, PD_WIRE_DRIVER_DRM_AMDGPU);
	G(in), G(dev), G(ok);
	memset(&dev, 0xee, sizeof(dev));
	CHECK_EQ(rt_ioctl(&rt, DRM_IOCTL_AMDGPU_INFO, (unsigned long)&in,
			  drv_amdgpu_info), 0);
	CHECK_EQ(dev.device_id, 0x73bf);
	CHECK_EQ(dev.family, 143);

	/* only return_size bytes are touched, the rest is the guest's */
	in.query = AMDGPU_INFO_ACCEL_WORKING;
	in.return_pointer = PTR(ok);
	in.return_size = 4;
	CHECK_EQ(rt_ioctl(&rt, DRM_IOCTL_AMDGPU_INFO, (unsigned long)&in,
			  drv_amdgpu_info), 0);
	CHECK_EQ(ok[0], 1);
	CHECK_EQ(ok[1], 9);

	/* a size over the wire bound is lowered, and put back */
	big = calloc(1, PD_IOC_MAX_AMDGPU_INFO + 4096);
	CHECK(big != NULL);
	rt_guest_region(big, PD_IOC_MAX_AMDGPU_INFO + 4096);
	in.query = AMDGPU_INFO_VBIOS;
	in.return_pointer = PTR(big);
	in.return_size = PD_IOC_MAX_AMDGPU_INFO + 4096;
	CHECK_EQ(rt_ioctl(&rt, DRM_IOCTL_AMDGPU_INFO, (unsigned long)&in,
			  drv_amdgpu_info), 0);
	CHECK_EQ(in.return_size, PD_IOC_MAX_AMDGPU_INFO + 4096);
	CHECK(all(big, 0x42, PD_IOC_MAX_AMDGPU_INFO));
	CHECK(all(big + PD_IOC_MAX_AMDGPU_INFO, 0, 4096));
	CHECK_EQ(called, 3);
	free(big);
}

static const __u32 amd_ib_dw[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

static long drv_amdgpu_cs(__u32 cmd, unsigned long arg)
{
	union drm_amdgpu_cs *cs = (void *)arg;
	const __u64 *chunks = (void *)(uintptr_t)cs->in.chunks;
	unsigned int i, nbo = 0;

	called++;
	CHECK_EQ(cs->in.num_chunks, 2);
	OWNS(chunks, 2 * 8);
	for (i = 0; i < 2; i++) {
		const struct drm_amdgpu_cs_chunk *c =
			(void *)(uintptr_t)chunks[i];

		OWNS(c, sizeof(*c));
		OWNS(c->chunk_data, c->length_dw * 4);
		if (c->chunk_id == AMDGPU_CHUNK_ID_IB) {
			CHECK(c->length_dw == 8 &&
			      !memcmp((void *)(uintptr_t)c->chunk_data,
				      amd_ib_dw, 32));
		} else if (c->chunk_id == AMDGPU_CHUNK_ID_BO_HANDLES) {
			const struct drm_amdgpu_bo_list_in *l =
				(void *)(uintptr_t)c->chunk_data;
			const struct drm_amdgpu_bo_list_entry *e =
				(void *)(uintptr_t)l->bo_info_ptr;

			CHECK_EQ(c->length_dw, 6);
			CHECK_EQ(l->bo_number, 3);
			OWNS(e, 3 * sizeof(*e));
			CHECK(e[0].bo_handle == 10 && e[2].bo_handle == 12 &&
			      e[2].bo_priority == 7);
			nbo++;
		}
	}
	CHECK_EQ(nbo, 1);
	cs->out.handle = 0x1234;
	return 0;
}

static void test_amdgpu_cs_bo_handles(void)
{
	__u32 ib[8];
	struct drm_amdgpu_bo_list_entry bos[3] = {
		{ 10, 0 }, { 11, 0 }, { 12, 7 },
	};
	struct drm_amdgpu_bo_list_in bl = {
		.bo_number = 3, .bo_info_size = sizeof(bos[0]),
		.bo_info_ptr = PTR(bos),
	};
	struct drm_amdgpu_cs_chunk ck[2] = {
		{ AMDGPU_CHUNK_ID_BO_HANDLES, sizeof(bl) / 4, PTR(&bl) },
		{ AMDGPU_CHUNK_ID_IB, 8, PTR(ib) },
	};
	__u64 chunks[2] = { PTR(&ck[0]), PTR(&ck[1]) };
	union drm_amdgpu_cs cs = { .in = { .ctx_id = 1, .num_chunks = 2,
					   .chunks = PTR(chunks) } };

	memcpy(ib, amd_ib_dw, sizeof(ib));
	start(PD_WIRE_CLASS_DRM, PD_WIRE_DRIVER_DRM_AMDGPU);
	G(cs), G(chunks), G(ck), G(ib), G(bl), G(bos);
	CHECK_EQ(rt_ioctl(&rt, DRM_IOCTL_AMDGPU_CS, (unsigned long)&cs,
			  drv_amdgpu_cs), 0);
	CHECK_EQ(called, 1);
	CHECK_EQ(cs.out.handle, 0x1234);
	/* the program's pointers are where it left them */
	CHECK_EQ(ck[0].chunk_data, PTR(&bl));
	CHECK_EQ(bl.bo_info_ptr, PTR(bos));

	/* the chunk order does not matter */
	cs.in.num_chunks = 2;
	cs.in.chunks = PTR(chunks);
	chunks[0] = PTR(&ck[1]);
	chunks[1] = PTR(&ck[0]);
	CHECK_EQ(rt_ioctl(&rt, DRM_IOCTL_AMDGPU_CS, (unsigned long)&cs,
			  drv_amdgpu_cs), 0);
	CHECK_EQ(called, 2);

	/* entries of another size, a longer BO_HANDLES chunk: refused */
	bl.bo_info_size = 16;
	CHECK_EQ(rt_ioctl(&rt, DRM_IOCTL_AMDGPU_CS, (unsigned long)&cs,
			  drv_amdgpu_cs), -EINVAL);
	bl.bo_info_size = sizeof(bos[0]);
	ck[0].length_dw = 7;
	CHECK_EQ(rt_ioctl(&rt, DRM_IOCTL_AMDGPU_CS, (unsigned long)&cs,
			  drv_amdgpu_cs), -EINVAL);
	ck[0].length_dw = 6;
	/* a BO list pointer outside the program's memory faults */
	bl.bo_info_ptr = 0x10;
	CHECK_EQ(rt_ioctl(&rt, DRM_IOCTL_AMDGPU_CS, (unsigned long)&cs,
			  drv_amdgpu_cs), -EFAULT);
	CHECK_EQ(called, 2);
}

static long drv_amdgpu_bo_list(__u32 cmd, unsigned long arg)
{
	union drm_amdgpu_bo_list *bl = (void *)arg;
	const struct drm_amdgpu_bo_list_entry *e =
		(void *)(uintptr_t)bl->in.bo_info_ptr;

	called++;
	if (bl->in.operation == AMDGPU_BO_LIST_OP_CREATE) {
		CHECK_EQ(bl->in.bo_number, 2);
		OWNS(e, 2 * sizeof(*e));
		CHECK(e[0].bo_handle == 5 && e[1].bo_handle == 6);
		bl->out.list_handle = 99;
	} else {
		CHECK_EQ(bl->in.bo_number, 0);
	}
	return 0;
}

static void test_amdgpu_bo_list_and_gem_op(void)
{
	struct drm_amdgpu_bo_list_entry bos[2] = { { 5, 0 }, { 6, 1 } };
	union drm_amdgpu_bo_list bl = { .in = {
		.operation = AMDGPU_BO_LIST_OP_CREATE, .bo_number = 2,
		.bo_info_size = sizeof(bos[0]), .bo_info_ptr = PTR(bos) } };

	start(PD_WIRE_CLASS_DRM, PD_WIRE_DRIVER_DRM_AMDGPU);
	G(bl), G(bos);
	CHECK_EQ(rt_ioctl(&rt, DRM_IOCTL_AMDGPU_BO_LIST, (unsigned long)&bl,
			  drv_amdgpu_bo_list), 0);
	CHECK_EQ(bl.out.list_handle, 99);

	/* DESTROY passes no entries, whatever the size field says */
	memset(&bl, 0, sizeof(bl));
	bl.in.operation = AMDGPU_BO_LIST_OP_DESTROY;
	bl.in.list_handle = 99;
	CHECK_EQ(rt_ioctl(&rt, DRM_IOCTL_AMDGPU_BO_LIST, (unsigned long)&bl,
			  drv_amdgpu_bo_list), 0);
	CHECK_EQ(called, 2);

	bl.in.operation = AMDGPU_BO_LIST_OP_UPDATE;
	bl.in.bo_number = 2;
	bl.in.bo_info_size = 12;
	bl.in.bo_info_ptr = PTR(bos);
	CHECK_EQ(rt_ioctl(&rt, DRM_IOCTL_AMDGPU_BO_LIST, (unsigned long)&bl,
			  drv_amdgpu_bo_list), -EINVAL);
	bl.in.bo_info_size = sizeof(bos[0]);
	bl.in.bo_number = PD_IOC_MAX_AMDGPU_BOS + 1;
	CHECK_EQ(rt_ioctl(&rt, DRM_IOCTL_AMDGPU_BO_LIST, (unsigned long)&bl,
			  drv_amdgpu_bo_list), -EINVAL);
	CHECK_EQ(called, 2);
}

static long drv_amdgpu_gem_op(__u32 cmd, unsigned long arg)
{
	struct drm_amdgpu_gem_op *op = (void *)arg;

	called++;
	if (op->op == AMDGPU_GEM_OP_GET_GEM_CREATE_INFO) {
		struct drm_amdgpu_gem_create_in *ci =
			(void *)(uintptr_t)op->value;

		OWNS(ci, sizeof(*ci));
		ci->bo_size = 1 << 20;
		ci->domains = AMDGPU_GEM_DOMAIN_VRAM;
	} else {
		CHECK_EQ(op->value, AMDGPU_GEM_DOMAIN_GTT);
	}
	return 0;
}

static void test_amdgpu_gem_op(void)
{
	struct drm_amdgpu_gem_create_in ci;
	struct drm_amdgpu_gem_op op = {
		.handle = 3, .op = AMDGPU_GEM_OP_GET_GEM_CREATE_INFO,
		.value = PTR(&ci) };

	start(PD_WIRE_CLASS_DRM, PD_WIRE_DRIVER_DRM_AMDGPU);
	G(op), G(ci);
	memset(&ci, 0, sizeof(ci));
	CHECK_EQ(rt_ioctl(&rt, DRM_IOCTL_AMDGPU_GEM_OP, (unsigned long)&op,
			  drv_amdgpu_gem_op), 0);
	CHECK_EQ(ci.bo_size, 1 << 20);
	CHECK_EQ(ci.domains, AMDGPU_GEM_DOMAIN_VRAM);
	CHECK_EQ(op.value, PTR(&ci));
	/* SET_PLACEMENT: value is a domain, not a pointer */
	op.op = AMDGPU_GEM_OP_SET_PLACEMENT;
	op.value = AMDGPU_GEM_DOMAIN_GTT;
	CHECK_EQ(rt_ioctl(&rt, DRM_IOCTL_AMDGPU_GEM_OP, (unsigned long)&op,
			  drv_amdgpu_gem_op), 0);
	CHECK_EQ(called, 2);
}

/* ======================================================================== */
/* evdev                                                                    */

static long drv_evdev(__u32 cmd, unsigned long arg)
{
	unsigned char *p = (void *)arg;

	called++;
	if (_IOC_NR(cmd) == _IOC_NR(EVIOCGBIT(EV_KEY, 0))) {
		OWNS(p, _IOC_SIZE(cmd));
		memset(p, 0x5a, 40);	/* KEY_MAX bits in longs */
		return 40;
	}
	if (_IOC_NR(cmd) == _IOC_NR(EVIOCGNAME(0))) {
		OWNS(p, _IOC_SIZE(cmd));
		memcpy(p, "Paradice kbd", 13);
		return 13;
	}
	if (cmd == EVIOCGABS(ABS_Y)) {
		struct input_absinfo *a = (void *)p;

		a->maximum = 767;
		return 0;
	}
	if (cmd == EVIOCGKEYCODE) {
		unsigned int *k = (void *)p;

		CHECK_EQ(k[0], 0x1e);	/* the scancode the program asked */
		k[1] = KEY_A;
		return 0;
	}
	if (cmd == EVIOCGRAB) {
		CHECK_EQ(arg, 1);
		return 0;
	}
	if (cmd == EVIOCSFF) {
		struct ff_effect *e = (void *)p;
		const __s16 *s = e->u.periodic.custom_data;

		OWNS(s, e->u.periodic.custom_len * 2);
		CHECK_EQ(s[2], -300);
		e->id = 3;
		return 0;
	}
	if (cmd == EVIOCGMASK) {
		struct input_mask *m = (void *)p;

		OWNS(m->codes_ptr, m->codes_size);
		memset((void *)(uintptr_t)m->codes_ptr, 0xf0, m->codes_size);
		return 0;
	}
	return -ENOTTY;
}

static void test_evdev_variable_and_values(void)
{
	unsigned char bits[96], name[256];
	struct input_absinfo abs = { 0 };
	unsigned int kc[2] = { 0x1e, 0 };
	__s16 samples[4] = { 0, 100, -300, 7 };
	struct ff_effect eff = {
		.type = FF_PERIODIC, .id = -1,
		.u.periodic = { .waveform = FF_CUSTOM, .custom_len = 4,
				.custom_data = samples },
	};
	unsigned char codes[8];
	struct input_mask mask = { .type = EV_KEY, .codes_size = 8,
				   .codes_ptr = PTR(codes) };

	start(PD_WIRE_CLASS_EVDEV, 0);
	memset(bits, 0xee, sizeof(bits));
	memset(name, 0xee, sizeof(name));
	G(bits), G(name), G(abs), G(kc), G(samples), G(eff), G(codes), G(mask);
	CHECK_EQ(rt_ioctl(&rt, EVIOCGBIT(EV_KEY, sizeof(bits)),
			  (unsigned long)bits, drv_evdev), 40);
	CHECK(all(bits, 0x5a, 40));
	CHECK(all(bits + 40, 0xee, sizeof(bits) - 40));
	CHECK_EQ(rt_ioctl(&rt, EVIOCGNAME(sizeof(name)), (unsigned long)name,
			  drv_evdev), 13);
	CHECK(!strcmp((char *)name, "Paradice kbd"));
	CHECK_EQ(name[13], 0xee);
	CHECK_EQ(rt_ioctl(&rt, EVIOCGABS(ABS_Y), (unsigned long)&abs,
			  drv_evdev), 0);
	CHECK_EQ(abs.maximum, 767);
	CHECK_EQ(rt_ioctl(&rt, EVIOCGKEYCODE, (unsigned long)kc, drv_evdev),
		 0);
	CHECK_EQ(kc[1], KEY_A);
	CHECK_EQ(rt_ioctl(&rt, EVIOCGRAB, 1, drv_evdev), 0);
	CHECK_EQ(rt_ioctl(&rt, EVIOCSFF, (unsigned long)&eff, drv_evdev), 0);
	CHECK_EQ(eff.id, 3);
	CHECK(eff.u.periodic.custom_data == samples);
	CHECK_EQ(rt_ioctl(&rt, EVIOCGMASK, (unsigned long)&mask, drv_evdev),
		 0);
	CHECK(all(codes, 0xf0, sizeof(codes)));
	CHECK_EQ(called, 7);
}

/* ======================================================================== */
/* V4L2                                                                     */

static long drv_v4l2_buf(__u32 cmd, unsigned long arg)
{
	struct v4l2_buffer *b = (void *)arg;
	unsigned int i;

	called++;
	if (V4L2_TYPE_IS_MULTIPLANAR(b->type)) {
		OWNS(b->m.planes, b->length * sizeof(struct v4l2_plane));
		for (i = 0; i < b->length; i++) {
			struct v4l2_plane *p = &b->m.planes[i];

			if (cmd == VIDIOC_QBUF &&
			    b->memory == V4L2_MEMORY_DMABUF)
				CHECK_EQ(p->m.fd, RT_BACK_FD0 + 1 + (int)i);
			if (cmd == VIDIOC_DQBUF) {
				p->bytesused = 1000 + i;
				if (b->memory == V4L2_MEMORY_MMAP)
					p->m.mem_offset = 0x10000 * i;
				else
					p->m.fd = RT_BACK_FD0 + 9; /* vb2 */
			}
		}
	} else if (b->memory == V4L2_MEMORY_DMABUF && cmd == VIDIOC_QBUF) {
		CHECK_EQ(b->m.fd, RT_BACK_FD0 + 4);
	} else if (cmd == VIDIOC_QUERYBUF) {
		/* vb2 reports the queue's memory and the fd it holds */
		b->memory = V4L2_MEMORY_DMABUF;
		b->m.fd = RT_BACK_FD0 + 4;
	}
	b->flags |= V4L2_BUF_FLAG_QUEUED;
	if (cmd == VIDIOC_DQBUF)
		b->sequence = 41;
	return 0;
}

static void test_v4l2_multiplanar_buffers(void)
{
	struct v4l2_plane planes[3];
	struct v4l2_buffer b = {
		.index = 1, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE,
		.memory = V4L2_MEMORY_DMABUF, .length = 3,
		.m.planes = planes,
	};
	unsigned int i;

	memset(planes, 0, sizeof(planes));
	for (i = 0; i < 3; i++)
		planes[i].m.fd = RT_GUEST_FD0 + (int)i;
	start(PD_WIRE_CLASS_V4L2, 0);
	G(b), G(planes);
	CHECK_EQ(rt_ioctl(&rt, VIDIOC_QBUF, (unsigned long)&b, drv_v4l2_buf),
		 0);
	CHECK(b.flags & V4L2_BUF_FLAG_QUEUED);
	CHECK(b.m.planes == planes);
	CHECK_EQ(planes[2].m.fd, RT_GUEST_FD0 + 2);

	/* DQBUF: the backend's descriptor numbers do not come back */
	CHECK_EQ(rt_ioctl(&rt, VIDIOC_DQBUF, (unsigned long)&b, drv_v4l2_buf),
		 0);
	CHECK_EQ(b.sequence, 41);
	CHECK_EQ(planes[1].bytesused, 1001);
	CHECK_EQ(planes[0].m.fd, -1);
	CHECK_EQ(planes[2].m.fd, -1);

	/* MMAP memory: offsets come back as the driver set them */
	b.memory = V4L2_MEMORY_MMAP;
	CHECK_EQ(rt_ioctl(&rt, VIDIOC_DQBUF, (unsigned long)&b, drv_v4l2_buf),
		 0);
	CHECK_EQ(planes[2].m.mem_offset, 0x20000);

	/* more planes than V4L2 has */
	b.length = 9;
	CHECK_EQ(rt_ioctl(&rt, VIDIOC_QBUF, (unsigned long)&b, drv_v4l2_buf),
		 -EINVAL);
	CHECK_EQ(called, 3);
}

static void test_v4l2_single_plane_and_refusals(void)
{
	struct v4l2_buffer b = {
		.type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
		.memory = V4L2_MEMORY_DMABUF, .m.fd = RT_GUEST_FD0 + 3,
		.length = 4096,
	};
	struct v4l2_requestbuffers rb = { .count = 4,
		.type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
		.memory = V4L2_MEMORY_USERPTR };

	start(PD_WIRE_CLASS_V4L2, 0);
	G(b), G(rb);
	CHECK_EQ(rt_ioctl(&rt, VIDIOC_QBUF, (unsigned long)&b, drv_v4l2_buf),
		 0);
	CHECK_EQ(b.m.fd, RT_GUEST_FD0 + 3);
	/* whatever memory type the program passed, the backend's descriptor
	 * number the driver reports does not come back */
	b.memory = V4L2_MEMORY_MMAP;
	CHECK_EQ(rt_ioctl(&rt, VIDIOC_QUERYBUF, (unsigned long)&b,
			  drv_v4l2_buf), 0);
	CHECK_EQ(b.memory, V4L2_MEMORY_DMABUF);
	CHECK_EQ(b.m.fd, -1);
	/* USERPTR: refused before the driver, as a driver without it does */
	CHECK_EQ(rt_ioctl(&rt, VIDIOC_REQBUFS, (unsigned long)&rb,
			  drv_v4l2_buf), -EINVAL);
	b.memory = V4L2_MEMORY_USERPTR;
	CHECK_EQ(rt_ioctl(&rt, VIDIOC_QBUF, (unsigned long)&b, drv_v4l2_buf),
		 -EINVAL);
	/* media requests name files the backend does not have */
	b.memory = V4L2_MEMORY_MMAP;
	b.flags = V4L2_BUF_FLAG_REQUEST_FD;
	b.request_fd = 5;
	CHECK_EQ(rt_ioctl(&rt, VIDIOC_QBUF, (unsigned long)&b, drv_v4l2_buf),
		 -EINVAL);
	CHECK_EQ(called, 2);
}

static long drv_ext_ctrls(__u32 cmd, unsigned long arg)
{
	struct v4l2_ext_controls *cs = (void *)arg;
	struct v4l2_ext_control *c = cs->controls;

	called++;
	OWNS(c, cs->count * sizeof(*c));
	CHECK_EQ(c[0].value64, 7);	/* a value, not a pointer */
	OWNS(c[1].string, c[1].size);
	OWNS(c[2].ptr, c[2].size);
	strcpy(c[1].string, "hello");
	CHECK_EQ(((__u32 *)c[2].ptr)[1], 0xabcd);
	((__u32 *)c[2].ptr)[0] = 640;
	c[0].value64 = 8;
	return 0;
}

static void test_v4l2_ext_ctrls_payloads(void)
{
	char str[16];
	__u32 area[2] = { 0, 0xabcd };
	struct v4l2_ext_control c[3] = {
		{ .id = V4L2_CID_BRIGHTNESS, .size = 0, .value64 = 7 },
		{ .id = V4L2_CID_BASE + 0x100, .size = sizeof(str),
		  .string = str },
		{ .id = V4L2_CID_BASE + 0x101, .size = sizeof(area),
		  .p_u32 = area },
	};
	struct v4l2_ext_controls cs = { .which = V4L2_CTRL_WHICH_CUR_VAL,
					.count = 3, .controls = c };

	memset(str, 'x', sizeof(str));
	start(PD_WIRE_CLASS_V4L2, 0);
	G(cs), G(c), G(str), G(area);
	CHECK_EQ(rt_ioctl(&rt, VIDIOC_G_EXT_CTRLS, (unsigned long)&cs,
			  drv_ext_ctrls), 0);
	CHECK(!strcmp(str, "hello"));
	CHECK_EQ(area[0], 640);
	CHECK_EQ(c[0].value64, 8);
	CHECK(c[1].string == str && c[2].p_u32 == area);
	CHECK(cs.controls == c);

	cs.which = V4L2_CTRL_WHICH_REQUEST_VAL;
	CHECK_EQ(rt_ioctl(&rt, VIDIOC_S_EXT_CTRLS, (unsigned long)&cs,
			  drv_ext_ctrls), -EINVAL);
	CHECK_EQ(called, 1);
}

static long drv_expbuf(__u32 cmd, unsigned long arg)
{
	called++;
	if (cmd == VIDIOC_EXPBUF) {
		((struct v4l2_exportbuffer *)arg)->fd = RT_NEW_FD0 + 2;
		return 0;
	}
	if (cmd == VIDIOC_G_FBUF) {
		((struct v4l2_framebuffer *)arg)->base = (void *)0xfd000000ul;
		((struct v4l2_framebuffer *)arg)->fmt.width = 640;
		return 0;
	}
	((struct v4l2_capability *)arg)->version = 0x60100;
	return -EINVAL;
}

static void test_v4l2_expbuf_fbuf_errors(void)
{
	struct v4l2_exportbuffer e = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
				       .index = 0, .fd = 55 };
	struct v4l2_framebuffer fb;
	struct v4l2_capability cap = { .version = 1 };

	start(PD_WIRE_CLASS_V4L2, 0);
	G(e), G(fb), G(cap);
	CHECK_EQ(rt_ioctl(&rt, VIDIOC_EXPBUF, (unsigned long)&e, drv_expbuf),
		 0);
	CHECK_EQ(e.fd, 1502);
	CHECK_EQ(rt.installed, 1);
	/* a physical address of the driver domain never reaches the guest */
	CHECK_EQ(rt_ioctl(&rt, VIDIOC_G_FBUF, (unsigned long)&fb, drv_expbuf),
		 0);
	CHECK(fb.base == NULL);
	CHECK_EQ(fb.fmt.width, 640);
	/* V4L2 copies nothing back from a failed plain ioctl */
	CHECK_EQ(rt_ioctl(&rt, VIDIOC_QUERYCAP, (unsigned long)&cap,
			  drv_expbuf), -EINVAL);
	CHECK_EQ(cap.version, 1);
}

/* ======================================================================== */
/* ALSA                                                                     */

static long drv_elem_list(__u32 cmd, unsigned long arg)
{
	struct snd_ctl_elem_list *l = (void *)arg;
	unsigned int i;

	called++;
	OWNS(l->pids, l->space * sizeof(*l->pids));
	for (i = 0; i < 3 && i < l->space; i++) {
		l->pids[i].numid = 1 + i;
		strcpy((char *)l->pids[i].name, "Master Playback Volume");
	}
	l->used = i;
	l->count = 3;
	return 0;
}

static long drv_tlv(__u32 cmd, unsigned long arg)
{
	struct snd_ctl_tlv *t = (void *)arg;

	called++;
	/* the flexible array follows the header in the same buffer */
	OWNS(t, sizeof(*t) + t->length);
	CHECK_EQ(t->numid, 5);
	t->tlv[0] = 1 /* SNDRV_CTL_TLVT_DB_SCALE */;
	t->tlv[1] = 4;
	t->tlv[2] = 0xffffe890;
	return 0;
}

static void test_alsa_control(void)
{
	struct snd_ctl_elem_id ids[10];
	struct snd_ctl_elem_list l = { .space = 10, .pids = ids };
	/* a header followed by its flexible array, as alsa-lib lays it out */
	unsigned int tlv[2 + 8];
	struct snd_ctl_tlv *h = (void *)tlv;
	unsigned int *tlv_data = tlv + 2;

	memset(ids, 0xee, sizeof(ids));
	memset(tlv, 0xee, sizeof(tlv));
	h->numid = 5;
	h->length = 8 * 4;
	start(PD_WIRE_CLASS_SND_CTL, 0);
	G(l), G(ids), G(tlv);
	CHECK_EQ(rt_ioctl(&rt, SNDRV_CTL_IOCTL_ELEM_LIST, (unsigned long)&l,
			  drv_elem_list), 0);
	CHECK_EQ(l.used, 3);
	CHECK_EQ(ids[2].numid, 3);
	CHECK(all(&ids[3], 0xee, 7 * sizeof(ids[0])));
	CHECK(l.pids == ids);
	CHECK_EQ(rt_ioctl(&rt, SNDRV_CTL_IOCTL_TLV_READ, (unsigned long)h,
			  drv_tlv), 0);
	CHECK_EQ(tlv_data[0], 1 /* SNDRV_CTL_TLVT_DB_SCALE */);
	CHECK_EQ(tlv_data[2], 0xffffe890);
	CHECK(all(&tlv_data[3], 0xee, 5 * 4));
}

static void set_interval(struct snd_pcm_hw_params *p, int param,
			 unsigned int v)
{
	struct snd_interval *i =
		&p->intervals[param - SNDRV_PCM_HW_PARAM_FIRST_INTERVAL];

	i->min = i->max = v;
	i->integer = 1;
}

static long drv_pcm(__u32 cmd, unsigned long arg)
{
	called++;
	switch (cmd) {
	case SNDRV_PCM_IOCTL_HW_PARAMS: {
		struct snd_pcm_hw_params *p = (void *)arg;

		set_interval(p, SNDRV_PCM_HW_PARAM_SAMPLE_BITS, 16);
		set_interval(p, SNDRV_PCM_HW_PARAM_FRAME_BITS, 32);
		set_interval(p, SNDRV_PCM_HW_PARAM_CHANNELS, 2);
		return 0;
	}
	case SNDRV_PCM_IOCTL_HW_FREE:
		return 0;
	case SNDRV_PCM_IOCTL_WRITEI_FRAMES: {
		struct snd_xferi *x = (void *)arg;
		const unsigned char *b = x->buf;

		OWNS(b, x->frames * 4);
		if (x->frames == 100)
			CHECK(b[0] == 0 && b[399] == (unsigned char)399);
		x->result = (snd_pcm_sframes_t)x->frames;
		return 0;
	}
	case SNDRV_PCM_IOCTL_READI_FRAMES: {
		struct snd_xferi *x = (void *)arg;

		OWNS(x->buf, x->frames * 4);
		memset(x->buf, 0x33, 30 * 4);
		x->result = 30;
		return 0;
	}
	case SNDRV_PCM_IOCTL_WRITEN_FRAMES:
	case SNDRV_PCM_IOCTL_READN_FRAMES: {
		struct snd_xfern *x = (void *)arg;

		OWNS(x->bufs, 2 * sizeof(void *));
		for (int c = 0; c < 2; c++) {
			unsigned char *b = x->bufs[c];

			OWNS(b, x->frames * 2);
			if (cmd == SNDRV_PCM_IOCTL_WRITEN_FRAMES)
				CHECK_EQ(b[x->frames * 2 - 1], 0x10 + c);
			else
				memset(b, 0x40 + c, 5 * 2);
		}
		x->result = cmd == SNDRV_PCM_IOCTL_READN_FRAMES ? 5 :
			    (snd_pcm_sframes_t)x->frames;
		return 0;
	}
	case SNDRV_PCM_IOCTL_LINK:
		CHECK_EQ(arg, RT_BACK_FD0 + 4);
		return 0;
	}
	return -ENOTTY;
}

static void test_alsa_pcm_frames(void)
{
	static struct snd_pcm_hw_params hw;
	static unsigned char data[400], in[400], ch0[20], ch1[20];
	void *chans[2] = { ch0, ch1 };
	struct snd_xferi xi = { .buf = data, .frames = 100 };
	struct snd_xfern xn = { .bufs = chans, .frames = 10 };
	unsigned int i;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)i;
	start(PD_WIRE_CLASS_SND_PCM, 0);
	G(hw), G(data), G(in), G(ch0), G(ch1), G(chans), G(xi), G(xn);

	/* before HW_PARAMS the frame size is unknown: as the device says */
	CHECK_EQ(rt_ioctl(&rt, SNDRV_PCM_IOCTL_WRITEI_FRAMES,
			  (unsigned long)&xi, drv_pcm), -EBADFD);
	CHECK_EQ(called, 0);

	CHECK_EQ(rt_ioctl(&rt, SNDRV_PCM_IOCTL_HW_PARAMS, (unsigned long)&hw,
			  drv_pcm), 0);
	CHECK_EQ(rt.front_st.frame_bits, 32);
	CHECK_EQ(rt.back_st.frame_bits, 32);
	CHECK_EQ(rt.back_st.channels, 2);

	CHECK_EQ(rt_ioctl(&rt, SNDRV_PCM_IOCTL_WRITEI_FRAMES,
			  (unsigned long)&xi, drv_pcm), 0);
	CHECK_EQ(xi.result, 100);
	CHECK(xi.buf == data);

	memset(in, 0xee, sizeof(in));
	xi.buf = in;
	CHECK_EQ(rt_ioctl(&rt, SNDRV_PCM_IOCTL_READI_FRAMES,
			  (unsigned long)&xi, drv_pcm), 0);
	CHECK_EQ(xi.result, 30);
	CHECK(all(in, 0x33, 120));
	CHECK(all(in + 120, 0xee, sizeof(in) - 120));

	memset(ch0, 0x10, sizeof(ch0));
	memset(ch1, 0x11, sizeof(ch1));
	CHECK_EQ(rt_ioctl(&rt, SNDRV_PCM_IOCTL_WRITEN_FRAMES,
			  (unsigned long)&xn, drv_pcm), 0);
	CHECK_EQ(xn.result, 10);
	memset(ch0, 0xee, sizeof(ch0));
	memset(ch1, 0xee, sizeof(ch1));
	CHECK_EQ(rt_ioctl(&rt, SNDRV_PCM_IOCTL_READN_FRAMES,
			  (unsigned long)&xn, drv_pcm), 0);
	CHECK(all(ch0, 0x40, 10) && all(ch0 + 10, 0xee, 10));
	CHECK(all(ch1, 0x41, 10) && all(ch1 + 10, 0xee, 10));
	CHECK(xn.bufs == chans);

	CHECK_EQ(rt_ioctl(&rt, SNDRV_PCM_IOCTL_LINK, RT_GUEST_FD0 + 3,
			  drv_pcm), 0);

	CHECK_EQ(rt_ioctl(&rt, SNDRV_PCM_IOCTL_HW_FREE, 0, drv_pcm), 0);
	CHECK_EQ(rt.front_st.frame_bits, 0);
	CHECK_EQ(rt.back_st.frame_bits, 0);
	CHECK_EQ(rt_ioctl(&rt, SNDRV_PCM_IOCTL_WRITEI_FRAMES,
			  (unsigned long)&xi, drv_pcm), -EBADFD);
}

static long drv_big_write(__u32 cmd, unsigned long arg)
{
	struct snd_xferi *x = (void *)arg;

	called++;
	if (cmd == SNDRV_PCM_IOCTL_HW_PARAMS)
		return drv_pcm(cmd, arg);
	/* lowered to what fits one wire buffer */
	CHECK_EQ(x->frames, PD_WIRE_IOCTL_MAX_BUF / 4);
	OWNS(x->buf, x->frames * 4);
	x->result = (snd_pcm_sframes_t)x->frames;
	return 0;
}

static void test_alsa_pcm_clamped_transfer(void)
{
	static struct snd_pcm_hw_params hw;
	const size_t frames = PD_WIRE_IOCTL_MAX_BUF / 4 * 3;
	unsigned char *big = calloc(frames, 4);
	struct snd_xferi xi = { .buf = big, .frames = frames };

	start(PD_WIRE_CLASS_SND_PCM, 0);
	G(hw), G(xi);
	rt_guest_region(big, frames * 4);
	CHECK_EQ(rt_ioctl(&rt, SNDRV_PCM_IOCTL_HW_PARAMS, (unsigned long)&hw,
			  drv_big_write), 0);
	CHECK_EQ(rt_ioctl(&rt, SNDRV_PCM_IOCTL_WRITEI_FRAMES,
			  (unsigned long)&xi, drv_big_write), 0);
	/* a short write, as ALSA allows; the program's count is its own */
	CHECK_EQ(xi.result, PD_WIRE_IOCTL_MAX_BUF / 4);
	CHECK_EQ(xi.frames, frames);
	CHECK(xi.buf == big);
	free(big);
}

static long drv_timer(__u32 cmd, unsigned long arg)
{
	called++;
	if (cmd == SNDRV_TIMER_IOCTL_START) {
		CHECK_EQ(arg, 0);	/* _IO: the program's value stays home */
		return 0;
	}
	OWNS(arg, 96);
	((unsigned int *)arg)[4] = 1000;	/* resolution */
	return 0;
}

static void test_alsa_timer(void)
{
	unsigned char st[96];

	memset(st, 0, sizeof(st));
	start(PD_WIRE_CLASS_SND_TIMER, 0);
	G(st);
	CHECK_EQ(rt_ioctl(&rt, _IOC(_IOC_READ, 'T', 0x14, 96),
			  (unsigned long)st, drv_timer), 0);
	CHECK_EQ(((unsigned int *)st)[4], 1000);
	CHECK_EQ(rt_ioctl(&rt, SNDRV_TIMER_IOCTL_START, 0x1234, drv_timer), 0);
}

int main(void)
{
	RUN(test_drm_version_strings);
	RUN(test_drm_getresources_two_passes);
	RUN(test_drm_getconnector);
	RUN(test_drm_atomic_sum_of_counts);
	RUN(test_drm_prime_fds);
	RUN(test_drm_getclient_scrubs_host_ids);
	RUN(test_drm_dirtyfb_and_errors);
	RUN(test_vgem_fence);
	RUN(test_virtgpu_execbuffer_fences);
	RUN(test_virtgpu_pointers);
	RUN(test_radeon_cs_chunks);
	RUN(test_radeon_info_sizes);
	RUN(test_amdgpu_info);
	RUN(test_amdgpu_cs_bo_handles);
	RUN(test_amdgpu_bo_list_and_gem_op);
	RUN(test_amdgpu_gem_op);
	RUN(test_evdev_variable_and_values);
	RUN(test_v4l2_multiplanar_buffers);
	RUN(test_v4l2_single_plane_and_refusals);
	RUN(test_v4l2_ext_ctrls_payloads);
	RUN(test_v4l2_expbuf_fbuf_errors);
	RUN(test_alsa_control);
	RUN(test_alsa_pcm_frames);
	RUN(test_alsa_pcm_clamped_transfer);
	RUN(test_alsa_timer);
	rt_finish(&rt);
	return tap_done();
}
