// SPDX-License-Identifier: GPL-2.0-only
/*
 * Frontend side of an ioctl: encode the request from the calling program's
 * memory, and complete the call from the backend's reply. All access to
 * the program goes through pd_ioc_front_ops, so this runs unchanged in the
 * guest kernel (copy_from_user/copy_to_user) and in the unit tests.
 */
#include "pd_ioctl.h"

struct enc {
	const struct pd_ioc_front_ops *ops;
	void *ctx;
	struct pd_ioc_msg *msg;
	__u32 data_start;	/* offset of the data area in msg->buf */
	__u32 data_len;		/* bytes used in it */
};

static __u32 align8(__u32 v)
{
	return (v + 7) & ~7u;
}

static __u8 *enc_base(void *ctx)
{
	struct enc *e = ctx;

	return e->msg->buf + e->data_start;
}

/* Room for `more` bytes after `used` bytes of data, growing the message. */
static int enc_reserve(struct enc *e, __u64 end)
{
	__u64 need = e->data_start + end;

	if (need > PD_WIRE_MAX_MSG)
		return -E2BIG;
	if (need > e->msg->cap) {
		int ret = e->ops->grow(e->ctx, e->msg, (__u32)need);

		if (ret)
			return ret;
		if (e->msg->cap < need)
			return -ENOMEM;
	}
	return 0;
}

/*
 * A buffer was found: copy its IN bytes from the program into the data
 * area, 8-aligned. OUT-only buffers take no room; their bytes come back in
 * the reply. A NULL pointer is sent as such: copying from it would fault,
 * which the copy callback reports.
 */
static int enc_take(void *ctx, struct pd_ioc_call *call, unsigned int index)
{
	struct enc *e = ctx;
	struct pd_ioc_buf *b = &call->buf[index];
	__u32 off;
	int ret;

	b->off = 0;
	if (!(b->flags & PD_WIRE_BUF_IN) || !b->len) {
		if (!b->uaddr)
			b->flags |= PD_WIRE_BUF_NULL;
		return 0;
	}
	off = align8(e->data_len);
	ret = enc_reserve(e, (__u64)off + b->len);
	if (ret)
		return ret;
	ret = e->ops->copy_from_user(e->ctx, enc_base(e) + off, b->uaddr,
				     b->len);
	if (ret)
		return ret;
	b->off = off;
	e->data_len = off + b->len;
	return 0;
}

static const struct pd_ioc_walk_ops enc_walk_ops = {
	.take = enc_take,
	.base = enc_base,
};

static bool has_bytes(const struct pd_ioc_buf *b)
{
	return (b->flags & PD_WIRE_BUF_IN) && !(b->flags & PD_WIRE_BUF_NULL);
}

/*
 * Encode an ioctl into msg (after the msg->len bytes the caller reserved
 * for its header): walk the tables over the program's memory, copy what
 * the driver reads, replace the program's pointers by 0 and its
 * descriptors by handles. `call` keeps what the reply needs: the program's
 * addresses and the values to put back.
 */
int pd_ioc_encode(struct pd_ioc_call *call, const struct pd_ioc_entry *ent,
		  unsigned int flags, __u32 cmd, __u64 arg,
		  const struct pd_ioc_state *st,
		  const struct pd_ioc_front_ops *ops, void *ctx,
		  struct pd_ioc_msg *msg)
{
	struct enc e = { .ops = ops, .ctx = ctx, .msg = msg };
	struct pd_wire_ioctl_req req;
	struct pd_wire_buf wb;
	__u32 table, i;
	__u8 *data;
	int ret;

	if (msg->len > PD_WIRE_MAX_MSG - sizeof(req))
		return -E2BIG;
	e.data_start = msg->len + sizeof(req);
	ret = enc_reserve(&e, 0);
	if (ret)
		return ret;
	ret = pd_ioc_call_init(call, ent, flags, cmd, arg);
	if (ret)
		return ret;
	ret = pd_ioc_walk(call, st, &enc_walk_ops, &e);
	if (ret)
		return ret;
	data = enc_base(&e);

	/* the backend writes its own addresses into pointer fields */
	for (i = 1; i < call->nbufs; i++) {
		const struct pd_ioc_buf *b = &call->buf[i];
		const struct pd_ioc_buf *p = &call->buf[b->parent];

		if (ent->desc[b->desc].kind != PD_IOC_D_PTR || !has_bytes(p))
			continue;
		pd_ioc_put(data + p->off + b->field, 8, 0);
	}
	/* descriptors become handles */
	for (i = 0; i < call->nfix; i++) {
		struct pd_ioc_fix *f = &call->fix[i];
		const struct pd_ioc_buf *p = &call->buf[f->buf];
		__u32 handle = PD_WIRE_HANDLE_NONE;

		if (f->kind != PD_IOC_D_FD_IN)
			continue;
		if (!has_bytes(p))
			return -EINVAL;
		f->guest = (__s32)pd_ioc_get(data + p->off + f->off, 4);
		if (f->guest >= 0) {
			ret = ops->fd_to_handle(ctx, f->guest, &handle);
			if (ret)
				return ret;
		}
		pd_ioc_put(data + p->off + f->off, 4, handle);
	}
	if (call->flags & PD_IOC_F_ARG_FD) {
		__u32 handle = PD_WIRE_HANDLE_NONE;

		if ((__s32)arg >= 0) {
			ret = ops->fd_to_handle(ctx, (__s32)arg, &handle);
			if (ret)
				return ret;
		}
		call->arg = handle;
	}

	/* request header, padding, buffer table */
	table = align8(e.data_len);
	ret = enc_reserve(&e, (__u64)table + call->nbufs * sizeof(wb));
	if (ret)
		return ret;
	data = enc_base(&e);
	pd_memset(data + e.data_len, 0, table - e.data_len);
	for (i = 0; i < call->nbufs; i++) {
		const struct pd_ioc_buf *b = &call->buf[i];

		wb.offset = b->off;
		wb.len = b->len;
		wb.flags = b->flags;
		wb.reserved = 0;
		pd_memcpy(data + table + i * sizeof(wb), &wb, sizeof(wb));
	}
	req.cmd = cmd;
	req.nbufs = call->nbufs;
	req.arg = (call->flags & PD_IOC_F_ARG_VALUE) ? call->arg : 0;
	req.data_len = e.data_len;
	req.new_handle = 0;	/* the frontend names one (pd_wire.h 1.8) */
	pd_memcpy(msg->buf + e.data_start - sizeof(req), &req, sizeof(req));
	msg->len = e.data_start + table + call->nbufs * sizeof(wb);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Completion                                                                */

static void discard_all(const struct pd_wire_newfd *nfd, __u32 n,
			const struct pd_ioc_front_ops *ops, void *ctx)
{
	__u32 i;

	for (i = 0; i < n; i++)
		ops->discard(ctx, nfd[i].handle);
}

/* Is there a new-file descriptor field at (buf, off) that has no record? */
static struct pd_ioc_fix *find_newfd(struct pd_ioc_call *call, __u32 buf,
				     __u32 off)
{
	__u32 i;

	for (i = 0; i < call->nfix; i++) {
		struct pd_ioc_fix *f = &call->fix[i];

		if (f->kind == PD_IOC_D_FD_NEW && f->buf == buf &&
		    f->off == off && !f->guest)
			return f;
	}
	return NULL;
}

/*
 * Check the reply against the call, put the program's own pointer and
 * descriptor values back into the returned bytes, install new files, and
 * copy everything out. The reply is trusted no further than the call's own
 * buffer list: every length and offset in it is checked, and a reply that
 * does not fit gets -EIO (and its new files released), not a write outside
 * the program's buffers. Returns the ioctl's result or a negative errno.
 */
long pd_ioc_complete(struct pd_ioc_call *call, struct pd_ioc_state *st,
		     __s64 result, __u8 *rsp, __u32 rsp_len,
		     const struct pd_ioc_front_ops *ops, void *ctx)
{
	struct pd_wire_newfd nfd[PD_WIRE_IOCTL_MAX_NEWFDS];
	struct pd_wire_ioctl_rsp hdr;
	struct pd_wire_buf wb;
	__u64 table, end;
	__u32 i, j;
	__u8 *data;
	long ret = result;
	int err;

	if (rsp_len < sizeof(hdr))
		return -EIO;
	pd_memcpy(&hdr, rsp, sizeof(hdr));
	data = rsp + sizeof(hdr);
	table = sizeof(hdr) + (((__u64)hdr.data_len + 7) & ~7ull);
	if (hdr.nfds > PD_WIRE_IOCTL_MAX_NEWFDS || hdr.nbufs != call->nbufs)
		return -EIO;
	end = table + (__u64)hdr.nbufs * sizeof(wb) +
	      (__u64)hdr.nfds * sizeof(nfd[0]);
	if (end != rsp_len)
		return -EIO;
	pd_memcpy(nfd, rsp + table + hdr.nbufs * sizeof(wb),
		  hdr.nfds * sizeof(nfd[0]));

	for (i = 0; i < call->nbufs; i++) {
		struct pd_ioc_buf *b = &call->buf[i];

		pd_memcpy(&wb, rsp + table + i * sizeof(wb), sizeof(wb));
		b->out_len = 0;
		if (!(wb.flags & PD_WIRE_BUF_OUT)) {
			if (wb.len)
				goto bad;
			continue;
		}
		if (!(b->flags & PD_WIRE_BUF_OUT) ||
		    (b->flags & PD_WIRE_BUF_NULL) || wb.len > b->len ||
		    (__u64)wb.offset + wb.len > hdr.data_len)
			goto bad;
		b->off = wb.offset;
		b->out_len = wb.len;
	}
	if (hdr.nfds && result < 0)
		goto bad;
	for (i = 0; i < hdr.nfds; i++) {
		struct pd_ioc_fix *f = find_newfd(call, nfd[i].buf,
						  nfd[i].offset);

		if (!f || f->off + 4 > call->buf[f->buf].out_len)
			goto bad;
		f->guest = 1 + (__s32)i;	/* claimed by record i */
	}

	if (call->nbufs && call->buf[0].desc == PD_IOC_ARG_DESC &&
	    call->buf[0].out_len)
		pd_ioc_learn(call, st, data + call->buf[0].off,
			     call->buf[0].out_len, result);
	else
		pd_ioc_learn(call, st, NULL, 0, result);

	/* the program's own pointers, descriptors and counts go back */
	for (i = 1; i < call->nbufs; i++) {
		const struct pd_ioc_buf *b = &call->buf[i];
		const struct pd_ioc_buf *p = &call->buf[b->parent];

		__u8 *field = data + p->off + b->field;

		if (call->entry->desc[b->desc].kind == PD_IOC_D_PTR &&
		    b->field + 8 <= p->out_len)
			pd_ioc_put(field, 8,
				   pd_ioc_get(field, 8) == PD_WIRE_PTR_CLEARED ?
				   0 : b->uaddr);
	}
	for (i = 0; i < call->nfix; i++) {
		const struct pd_ioc_fix *f = &call->fix[i];
		const struct pd_ioc_buf *p = &call->buf[f->buf];

		if (f->off + f->width > p->out_len)
			continue;
		if (f->kind == PD_IOC_D_FD_IN)
			pd_ioc_put(data + p->off + f->off, 4, (__u32)f->guest);
		else if (f->kind == PD_IOC_FIX_CLAMP)
			pd_ioc_put(data + p->off + f->off, f->width,
				   (__u64)f->orig);
	}
	/* new files: install each, or release what cannot be installed */
	for (i = 0; i < hdr.nfds; i++) {
		struct pd_ioc_fix *f = NULL;
		__s32 fd = -1;

		for (j = 0; j < call->nfix && !f; j++)
			if (call->fix[j].kind == PD_IOC_D_FD_NEW &&
			    call->fix[j].guest == 1 + (__s32)i)
				f = &call->fix[j];
		if (!f)
			continue;	/* cannot happen: claimed above */
		err = ops->install(ctx, nfd[i].handle, nfd[i].flags, &fd);
		if (err) {
			ops->discard(ctx, nfd[i].handle);
			if (ret >= 0)
				ret = err;
			fd = -1;
		}
		pd_ioc_put(data + call->buf[f->buf].off + f->off, 4,
			   (__u32)fd);
	}
	/* nested buffers first, the argument last, as drivers do */
	for (i = call->nbufs; i-- > 0;) {
		const struct pd_ioc_buf *b = &call->buf[i];

		if (!b->out_len)
			continue;
		err = ops->copy_to_user(ctx, b->uaddr, data + b->off,
					b->out_len);
		if (err && ret >= 0)
			ret = err;
	}
	return ret;

bad:
	discard_all(nfd, hdr.nfds, ops, ctx);
	return -EIO;
}
