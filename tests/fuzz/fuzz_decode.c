// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target on the backend's ioctl decoder and, downstream of it,
 * the reply builder and the frontend's completion.
 *
 * Input layout: byte 0 picks the mode, byte 1 the class, byte 2 the DRM
 * driver, byte 3 the command (an index into the class's tables, so the
 * fuzzer need not guess 32-bit command numbers; with bit 7 of byte 0 set
 * the body's own command number is kept), byte 4 the per-file ALSA state,
 * byte 5 the driver's result and fill pattern.
 *
 *   mode 0, raw: from byte 6 on, a request body, decoded as is; with bit
 *     6 of byte 0 set, its framing (header lengths, reserved field) is
 *     first made consistent, so that the buffer table is what gets tested.
 *   mode 1, structured: byte 6 says how many bytes (0..3) of the encoded
 *     request to corrupt, and the 3-byte records after it which (offset
 *     hi, lo, xor mask). The rest is "guest memory": the argument sits at
 *     guest offset 8 and pointers are offsets below 4 KiB. The frontend
 *     encoder builds a well-formed request from it, which is corrupted as
 *     said and decoded. This reaches deep into the walk, which random
 *     bodies rarely do.
 *
 * A request the decoder accepts is played through a fake driver that
 * writes every byte of every buffer it may write and returns new
 * descriptors, then the reply is built and completed into guest memory.
 * Any out-of-bounds access, undefined behaviour or leak is a finding.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"

#define GUEST_SIZE	4096u
#define NEW_FD0		3000

static __u8 guest[GUEST_SIZE];
static struct pd_dec_call *dc;
static struct pd_ioc_call *front;
/* how deep the inputs got, reported at exit: a target that never gets
 * past the first check would fuzz nothing */
static unsigned long tried[2], accepted[2], completed;

static void report(void)
{
	fprintf(stderr, "fuzz_decode: raw %lu/%lu accepted, structured "
		"%lu/%lu accepted, %lu replies completed\n", accepted[0],
		tried[0], accepted[1], tried[1], completed);
}

static int g_from(void *ctx, void *dst, __u64 uaddr, __u32 len)
{
	if (!uaddr || uaddr > GUEST_SIZE || len > GUEST_SIZE - uaddr)
		return -EFAULT;
	memcpy(dst, guest + uaddr, len);
	return 0;
}

static int g_to(void *ctx, __u64 uaddr, const void *src, __u32 len)
{
	if (!uaddr || uaddr > GUEST_SIZE || len > GUEST_SIZE - uaddr)
		return -EFAULT;
	memcpy(guest + uaddr, src, len);
	return 0;
}

static int g_fd_to_handle(void *ctx, __s32 fd, __u32 *handle)
{
	if (fd < 100 || fd > 110)
		return -EBADF;
	*handle = (__u32)fd - 99;
	return 0;
}

static int g_install(void *ctx, __u32 handle, __u32 flags, __s32 *fd)
{
	*fd = (__s32)(handle & 0xffff) + 200;
	return (handle & 1) ? 0 : -EMFILE;
}

static void g_discard(void *ctx, __u32 handle)
{
}

static int g_grow(void *ctx, struct pd_ioc_msg *msg, __u32 need)
{
	__u8 *p = realloc(msg->buf, need);

	if (!p)
		return -ENOMEM;
	msg->buf = p;
	msg->cap = need;
	return 0;
}

static const struct pd_ioc_front_ops front_ops = {
	.copy_from_user = g_from,
	.copy_to_user = g_to,
	.fd_to_handle = g_fd_to_handle,
	.install = g_install,
	.discard = g_discard,
	.grow = g_grow,
};

static int b_handle_to_fd(void *ctx, __u32 handle, int *fd)
{
	if (handle < 1 || handle > 11)
		return -EBADF;
	*fd = 1000 + (int)handle;
	return 0;
}

static int b_adopt(void *ctx, int fd, __u32 *handle, __u32 *flags)
{
	if (fd < NEW_FD0)
		return -EMFILE;	/* never a real descriptor: nothing to close */
	*handle = (__u32)fd;
	*flags = PD_WIRE_O_RDWR;
	return 0;
}

static void b_release(void *ctx, __u32 handle)
{
}

static const struct pd_dec_ops dec_ops = {
	.handle_to_fd = b_handle_to_fd,
	.adopt = b_adopt,
	.release = b_release,
};

static const struct pd_ioc_state states[4] = {
	{ 0, 0, 0, 0 },		/* no HW_PARAMS yet */
	{ 32, 16, 2, 0 },	/* S16 stereo */
	{ 8, 8, 1, 0 },		/* U8 mono */
	{ 192, 32, 6, 0 },	/* 24-in-32, 5.1 */
};

/* The n-th command of a class, counting through its tables. */
static __u32 pick_cmd(unsigned int cl, unsigned int drv, unsigned int n)
{
	const struct pd_ioc_table *const *t = pd_ioc_tables(cl, drv);
	unsigned int total = pd_ioc_count_entries(cl, drv);
	const struct pd_ioc_entry *e;

	if (!t || !total)
		return 0;
	n %= total;
	while (n >= (*t)->count)
		n -= (*t++)->count;
	e = &(*t)->entries[n];
	if (e->flags & PD_IOC_F_VARSIZE)	/* a size and number in range */
		return (e->cmd & ~(_IOC_SIZEMASK << _IOC_SIZESHIFT)) |
		       ((n * 37u % (e->max_size + 1u)) << _IOC_SIZESHIFT);
	return e->cmd;
}

/* Play the real ioctl, build the reply, complete it in the guest. */
static void drive(struct pd_ioc_state *st, __u8 pattern, int complete)
{
	struct pd_ioc_call *c = &dc->ioc;
	__s64 result = (pattern & 3) == 3 ? -EINVAL : (pattern & 3) * 7;
	unsigned int i;
	size_t len;
	__u8 *rsp;

	for (i = 0; i < c->nbufs; i++)
		if (!(c->buf[i].flags & PD_WIRE_BUF_NULL) &&
		    (c->buf[i].flags & PD_WIRE_BUF_OUT))
			memset(dc->arena + c->buf[i].off, pattern,
			       c->buf[i].len);
	for (i = 0; i < c->nfix; i++)
		if (c->fix[i].kind == PD_IOC_D_FD_NEW &&
		    !(c->buf[c->fix[i].buf].flags & PD_WIRE_BUF_NULL))
			pd_ioc_put(dc->arena + c->buf[c->fix[i].buf].off +
				   c->fix[i].off, 4, NEW_FD0 + i);
	result = pd_dec_after(dc, st, result);
	len = pd_dec_reply_len(dc);
	rsp = malloc(len);
	if (!rsp)
		return;
	if (!pd_dec_reply_write(dc, rsp, len) && complete &&
	    pd_ioc_complete(front, st, result, rsp, (__u32)len, &front_ops,
			    NULL) != -EIO)
		completed++;
	free(rsp);
}

/* Make header lengths agree with the body's size; returns the new size. */
static size_t fix_framing(__u8 *body, size_t size)
{
	struct pd_wire_ioctl_req h;
	size_t rem;

	if (size < sizeof(h))
		return size;
	memcpy(&h, body, sizeof(h));
	h.new_handle = 0;
	h.nbufs %= 8;
	if (h.nbufs * 16u > size - sizeof(h))
		h.nbufs = (__u32)((size - sizeof(h)) / 16);
	rem = size - sizeof(h) - h.nbufs * 16u;
	rem &= ~(size_t)7;
	h.data_len = (__u32)(rem ? rem - (h.data_len & 7) : 0);
	memcpy(body, &h, sizeof(h));
	return sizeof(h) + rem + h.nbufs * 16u;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned int cl, drv, mode;
	struct pd_ioc_state st;
	__u32 cmd;
	__u8 *body;

	if (size < 6)
		return 0;
	if (!dc) {
		dc = pd_dec_create();
		front = calloc(1, sizeof(*front));
		if (!dc || !front)
			abort();
		atexit(report);
	}
	mode = data[0] & 1;
	cl = data[1] % PD_WIRE_CLASS_COUNT;
	drv = data[2] % PD_WIRE_DRIVER_COUNT;
	cmd = pick_cmd(cl, drv, data[3]);
	st = states[data[4] & 3];

	if (mode == 0) {
		size -= 6;
		body = malloc(size ? size : 1);
		if (!body)
			return 0;
		memcpy(body, data + 6, size);
		if (size >= 4 && !(data[0] & 0x80))
			memcpy(body, &cmd, 4);
		if (data[0] & 0x40)
			size = fix_framing(body, size);
		tried[0]++;
		if (!pd_dec_ioctl(dc, cl, drv, &st, body, size, &dec_ops, NULL,
				  data[5] & 0x80 ? PD_DEC_ALLOW_SCREENED : 0)) {
			accepted[0]++;
			drive(&st, data[5], 0);
		}
		free(body);
		return 0;
	} else {
		const struct pd_ioc_entry *e;
		struct pd_ioc_state fst = st;
		struct pd_ioc_msg msg = { 0 };
		unsigned int flags, i, nflip;
		const uint8_t *flips = data + 7;
		size_t glen;

		nflip = size > 6 ? data[6] & 3 : 0;
		if (size < 7 + 3u * nflip)
			return 0;
		glen = size - 7 - 3u * nflip;
		memset(guest, 0, sizeof(guest));
		if (glen > GUEST_SIZE)
			glen = GUEST_SIZE;
		memcpy(guest, data + 7 + 3u * nflip, glen);
		e = pd_ioc_lookup(cl, drv, cmd, &flags);
		if (!e)
			return 0;
		/* the argument lives at guest offset 8 (0 is NULL) */
		if (pd_ioc_encode(front, e, flags, cmd, 8, &fst, &front_ops,
				  NULL, &msg)) {
			free(msg.buf);
			return 0;
		}
		for (i = 0; i < nflip; i++) {
			const uint8_t *f = flips + 3 * i;
			__u32 at = ((__u32)f[0] << 8 | f[1]) % msg.len;

			msg.buf[at] ^= f[2];
		}
		body = malloc(msg.len ? msg.len : 1);
		if (body) {
			memcpy(body, msg.buf, msg.len);
			tried[1]++;
			if (!pd_dec_ioctl(dc, cl, drv, &st, body, msg.len,
					  &dec_ops, NULL,
					  PD_DEC_ALLOW_SCREENED)) {
				accepted[1]++;
				drive(&st, data[5], 1);
			}
			free(body);
		}
		free(msg.buf);
	}
	return 0;
}
