// SPDX-License-Identifier: GPL-2.0-only
/* Round trips of ioctls through encoder, decoder and completion: rt.h. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rt.h"

#define MAX_REGIONS 64

static struct {
	uintptr_t p;
	size_t len;
} regions[MAX_REGIONS];
static unsigned int nregions;
static struct rt *cur;

void rt_guest_region(const void *p, size_t len)
{
	if (nregions < MAX_REGIONS) {
		regions[nregions].p = (uintptr_t)p;
		regions[nregions].len = len;
		nregions++;
	}
}

void rt_guest_reset(void)
{
	nregions = 0;
}

static int guest_ok(__u64 uaddr, __u32 len)
{
	unsigned int i;

	if (!uaddr)
		return 0;
	for (i = 0; i < nregions; i++)
		if (uaddr >= regions[i].p &&
		    uaddr + len <= regions[i].p + regions[i].len &&
		    uaddr + len >= uaddr)
			return 1;
	return 0;
}

static int rt_from_user(void *ctx, void *dst, __u64 uaddr, __u32 len)
{
	if (!guest_ok(uaddr, len))
		return -EFAULT;
	memcpy(dst, (const void *)(uintptr_t)uaddr, len);
	return 0;
}

static int rt_to_user(void *ctx, __u64 uaddr, const void *src, __u32 len)
{
	if (!guest_ok(uaddr, len))
		return -EFAULT;
	memcpy((void *)(uintptr_t)uaddr, src, len);
	return 0;
}

static int rt_fd_to_handle(void *ctx, __s32 fd, __u32 *handle)
{
	if (fd < RT_GUEST_FD0 || fd >= RT_GUEST_FD0 + 64)
		return -EBADF;
	*handle = (__u32)(fd - RT_GUEST_FD0 + 1);
	return 0;
}

static int rt_install(void *ctx, __u32 handle, __u32 flags, __s32 *fd)
{
	struct rt *rt = ctx;

	rt->installed++;
	rt->last_handle = handle;
	*fd = (__s32)handle + 1000;
	return 0;
}

static void rt_discard(void *ctx, __u32 handle)
{
	struct rt *rt = ctx;

	rt->discarded++;
}

static int rt_grow(void *ctx, struct pd_ioc_msg *msg, __u32 need)
{
	__u32 cap = msg->cap ? msg->cap : 64;
	__u8 *p;

	while (cap < need)
		cap *= 2;
	p = realloc(msg->buf, cap);
	if (!p)
		return -ENOMEM;
	msg->buf = p;
	msg->cap = cap;
	return 0;
}

const struct pd_ioc_front_ops rt_front_ops = {
	.copy_from_user = rt_from_user,
	.copy_to_user = rt_to_user,
	.fd_to_handle = rt_fd_to_handle,
	.install = rt_install,
	.discard = rt_discard,
	.grow = rt_grow,
};

static int rt_handle_to_fd(void *ctx, __u32 handle, int *fd)
{
	if (handle < 1 || handle > 64)
		return -EBADF;
	*fd = RT_BACK_FD0 + (int)handle;
	return 0;
}

static int rt_adopt(void *ctx, int fd, __u32 *handle, __u32 *flags)
{
	struct rt *rt = ctx;

	if (rt->fail_adopt || fd < RT_NEW_FD0)
		return -EMFILE;
	rt->adopted++;
	*handle = (__u32)(fd - RT_NEW_FD0 + 500);
	*flags = PD_WIRE_O_RDWR;
	return 0;
}

static void rt_release(void *ctx, __u32 handle)
{
	struct rt *rt = ctx;

	rt->released++;
}

const struct pd_dec_ops rt_dec_ops = {
	.handle_to_fd = rt_handle_to_fd,
	.adopt = rt_adopt,
	.release = rt_release,
};

void rt_init(struct rt *rt, unsigned int dev_class, unsigned int driver)
{
	memset(rt, 0, sizeof(*rt));
	rt->dev_class = dev_class;
	rt->driver = driver;
	rt->dc = pd_dec_create();
	rt_guest_reset();
}

void rt_finish(struct rt *rt)
{
	pd_dec_destroy(rt->dc);
	free(rt->req);
	free(rt->rsp);
	rt->dc = NULL;
	rt->req = NULL;
	rt->rsp = NULL;
}

static struct pd_ioc_call *front_call;

int rt_encode(struct rt *rt, __u32 cmd, unsigned long arg)
{
	const struct pd_ioc_entry *e;
	struct pd_ioc_msg msg = { 0 };
	unsigned int flags;
	int ret;

	free(rt->req);
	rt->req = NULL;
	rt->req_len = 0;
	if (!front_call)
		front_call = malloc(sizeof(*front_call));
	e = pd_ioc_lookup(rt->dev_class, rt->driver, cmd, &flags);
	if (!e)
		return -ENOTTY;
	ret = pd_ioc_encode(front_call, e, flags, cmd, arg, &rt->front_st,
			    &rt_front_ops, rt, &msg);
	if (ret) {
		free(msg.buf);
		return ret;
	}
	rt->req = msg.buf;
	rt->req_len = msg.len;
	return 0;
}

int rt_decode(struct rt *rt, const void *body, size_t len)
{
	cur = rt;
	return pd_dec_ioctl(rt->dc, rt->dev_class, rt->driver, &rt->back_st,
			    body, len, &rt_dec_ops, rt, rt->dec_flags);
}

int rt_reply_leaks(const struct rt *rt)
{
	uintptr_t base = (uintptr_t)rt->dc->arena;
	size_t i;
	__u64 v;
	__s32 fd;

	/* fields are naturally aligned and every buffer starts 8-aligned */
	for (i = 0; rt->rsp && i + 4 <= rt->rsp_len; i += 4) {
		if (!(i & 7) && i + 8 <= rt->rsp_len) {
			memcpy(&v, rt->rsp + i, 8);
			if (v >= base && v < base + rt->dc->arena_cap)
				return 1;
		}
		memcpy(&fd, rt->rsp + i, 4);
		if (fd > RT_BACK_FD0 && fd <= RT_BACK_FD0 + 64)
			return 1;
		if (fd >= RT_NEW_FD0 && fd < RT_NEW_FD0 + 64)
			return 1;
	}
	return 0;
}

int rt_backend_owns(const void *p, size_t len)
{
	uintptr_t a = (uintptr_t)p, base;

	if (!cur || !cur->dc->arena)
		return 0;
	base = (uintptr_t)cur->dc->arena;
	return a >= base && a + len <= base + cur->dc->arena_used;
}

long rt_ioctl(struct rt *rt, __u32 cmd, unsigned long arg, rt_driver_fn drv)
{
	unsigned char *rsp;
	size_t rsp_len;
	long ret;

	rt->encode_ret = rt_encode(rt, cmd, arg);
	if (rt->encode_ret)
		return rt->ret = rt->encode_ret;
	rt->decode_ret = rt_decode(rt, rt->req, rt->req_len);
	if (rt->decode_ret)
		return rt->ret = rt->decode_ret;
	ret = drv(rt->dc->cmd, rt->dc->arg);
	rt->after_ret = pd_dec_after(rt->dc, &rt->back_st, ret);
	rsp_len = pd_dec_reply_len(rt->dc);
	rsp = malloc(rsp_len);
	if (!rsp || pd_dec_reply_write(rt->dc, rsp, rsp_len)) {
		free(rsp);
		return rt->ret = -ENOMEM;
	}
	free(rt->rsp);
	rt->rsp = malloc(rsp_len);
	memcpy(rt->rsp, rsp, rsp_len);
	rt->rsp_len = rsp_len;
	ret = pd_ioc_complete(front_call, &rt->front_st, rt->after_ret, rsp,
			      (__u32)rsp_len, &rt_front_ops, rt);
	free(rsp);
	return rt->ret = ret;
}
