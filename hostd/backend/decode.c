// SPDX-License-Identifier: GPL-2.0-only
/*
 * Backend ioctl decoder: see decode.h. Everything a guest sends is named
 * untrusted_* until the checks in the marked section below have passed;
 * after them the decoder only touches its own copies.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "decode.h"

static __u32 align16(__u32 v)
{
	return (v + 15) & ~15u;
}

struct pd_dec_call *pd_dec_create(void)
{
	return calloc(1, sizeof(struct pd_dec_call));
}

void pd_dec_destroy(struct pd_dec_call *dc)
{
	if (!dc)
		return;
	free(dc->arena);
	free(dc);
}

static int refuse(struct pd_dec_call *dc, int err, const char *why)
{
	dc->why = why;
	return err;
}

static __u8 *dec_base(void *ctx)
{
	struct pd_dec_call *dc = ctx;

	return dc->arena;
}

/* Room for `size` more bytes at dc->arena_used; the arena may move. */
static int arena_reserve(struct pd_dec_call *dc, __u32 start, __u32 size)
{
	__u64 end = (__u64)start + size;
	__u32 cap;
	__u8 *p;

	if (end > PD_WIRE_IOCTL_MAX_DATA + PD_WIRE_IOCTL_MAX_BUFS * 16ull +
		  PD_WIRE_IOCTL_MAX_BUF)
		return -E2BIG;
	if (end <= dc->arena_cap)
		return 0;
	cap = dc->arena_cap ? dc->arena_cap : 4096;
	while (cap < end)
		cap *= 2;
	p = realloc(dc->arena, cap);
	if (!p)
		return -ENOMEM;
	memset(p + dc->arena_cap, 0, cap - dc->arena_cap);
	dc->arena = p;
	dc->arena_cap = cap;
	return 0;
}

/*
 * ===========================================================================
 *                       UNTRUSTED INPUT CHECKS
 * ===========================================================================
 * check_request() reads the fixed header and the buffer table of the
 * request once, into dc, and checks every field of them. dec_take() then
 * compares every buffer the table walk finds (from bytes already copied
 * into the arena) with the guest's entry for it, and copies the guest's
 * bytes once. Nothing else reads untrusted memory. The values inside the
 * copied bytes (counts, selectors, conditions) are bounded by the walk in
 * common/pd_ioctl.c, the same code that bounds them in the guest.
 */
static int check_request(struct pd_dec_call *dc, const __u8 *untrusted_body,
			 size_t untrusted_len, struct pd_wire_ioctl_req *req)
{
	__u64 table, total = 0;
	__u32 i;

	if (untrusted_len < sizeof(*req))
		return refuse(dc, -EINVAL, "request shorter than its header");
	if (untrusted_len > PD_WIRE_MAX_MSG)
		return refuse(dc, -E2BIG, "request over the message limit");
	memcpy(req, untrusted_body, sizeof(*req));
	/* ops.c checks it against the handle reserved for the job */
	dc->new_handle = req->new_handle;
	if (req->nbufs > PD_WIRE_IOCTL_MAX_BUFS)
		return refuse(dc, -E2BIG, "too many buffers");
	if (req->data_len > PD_WIRE_IOCTL_MAX_DATA)
		return refuse(dc, -E2BIG, "data over the ioctl limit");
	table = sizeof(*req) + (((__u64)req->data_len + 7) & ~7ull);
	if (table + (__u64)req->nbufs * sizeof(struct pd_wire_buf) !=
	    untrusted_len)
		return refuse(dc, -EINVAL, "length does not match the table");
	memcpy(dc->wire, untrusted_body + table,
	       req->nbufs * sizeof(struct pd_wire_buf));
	dc->wire_nbufs = req->nbufs;
	dc->untrusted_data = untrusted_body + sizeof(*req);
	dc->untrusted_data_len = req->data_len;

	for (i = 0; i < req->nbufs; i++) {
		const struct pd_wire_buf *w = &dc->wire[i];

		if ((w->flags & ~PD_WIRE_BUF_ALL) || w->reserved)
			return refuse(dc, -EINVAL, "unknown buffer flags");
		if (w->len > PD_WIRE_IOCTL_MAX_BUF)
			return refuse(dc, -E2BIG, "buffer over the limit");
		if ((w->flags & PD_WIRE_BUF_NULL) &&
		    (w->flags & PD_WIRE_BUF_IN) && w->len)
			return refuse(dc, -EINVAL, "bytes of a NULL buffer");
		if ((w->flags & PD_WIRE_BUF_IN) &&
		    !(w->flags & PD_WIRE_BUF_NULL) &&
		    (__u64)w->offset + w->len > req->data_len)
			return refuse(dc, -EINVAL,
				      "buffer outside the data area");
		total += w->len;
	}
	if (total > PD_WIRE_IOCTL_MAX_DATA)
		return refuse(dc, -E2BIG, "buffers over the ioctl limit");
	return 0;
}

/*
 * The walk found buffer `index` (length and direction computed by the
 * backend's own walk over bytes it already holds). It must be exactly the
 * guest's entry `index`; then it gets zeroed room in the arena (at least
 * the descriptor's alloc_min) and, if the driver reads it, the guest's
 * bytes, copied once. A tail goes right after its argument, as the driver
 * expects a flexible array member.
 */
static int dec_take(void *ctx, struct pd_ioc_call *call, unsigned int index)
{
	struct pd_dec_call *dc = ctx;
	struct pd_ioc_buf *b = &call->buf[index];
	const struct pd_wire_buf *w;
	const struct pd_ioc_desc *d = NULL;
	__u32 start, size;
	int ret;

	if (index >= dc->wire_nbufs)
		return refuse(dc, -EINVAL, "more buffers than the request has");
	w = &dc->wire[index];
	if ((w->flags & (PD_WIRE_BUF_IN | PD_WIRE_BUF_OUT)) != b->flags)
		return refuse(dc, -EINVAL, "buffer direction differs");
	if (w->len != b->len)
		return refuse(dc, -EINVAL, "buffer length differs");
	b->off = dc->arena_used;
	if (w->flags & PD_WIRE_BUF_NULL) {
		b->flags |= PD_WIRE_BUF_NULL;
		return 0;
	}
	if (b->desc != PD_IOC_ARG_DESC)
		d = &call->entry->desc[b->desc];
	size = b->len;
	if (d && d->alloc_min > size)
		size = d->alloc_min;
	if (d && d->kind == PD_IOC_D_TAIL) {
		const struct pd_ioc_buf *p = &call->buf[b->parent];

		start = p->off + p->len;
		if (b->parent != 0 || start != dc->arena_used)
			return refuse(dc, -EINVAL, "tail not after its argument");
	} else {
		start = align16(dc->arena_used);
	}
	ret = arena_reserve(dc, start, size);
	if (ret)
		return refuse(dc, ret, "out of memory for buffers");
	memset(dc->arena + start, 0, size);
	if (b->flags & PD_WIRE_BUF_IN)
		memcpy(dc->arena + start, dc->untrusted_data + w->offset,
		       b->len);
	b->off = start;
	/* no trailing alignment: a tail may follow the argument directly */
	dc->arena_used = start + size;
	return 0;
}

/* ========================= end of untrusted input ======================== */

static const struct pd_ioc_walk_ops dec_walk_ops = {
	.take = dec_take,
	.base = dec_base,
};

static bool in_arena(const struct pd_ioc_buf *b)
{
	return !(b->flags & PD_WIRE_BUF_NULL);
}

/* Is there an input descriptor fix at the same place as fix `n`? */
static int same_place_fd_in(const struct pd_dec_call *dc, __u32 n)
{
	const struct pd_ioc_call *call = &dc->ioc;
	__u32 i;

	for (i = 0; i < call->nfix; i++)
		if (i != n && call->fix[i].kind == PD_IOC_D_FD_IN &&
		    call->fix[i].buf == call->fix[n].buf &&
		    call->fix[i].off == call->fix[n].off)
			return (int)i;
	return -1;
}

/*
 * Decode one IOCTL request body for a file of the given class. On success
 * dc->cmd and dc->arg are ready for ioctl(2) on the file's descriptor.
 */
int pd_dec_ioctl(struct pd_dec_call *dc, unsigned int dev_class,
		 unsigned int driver, const struct pd_ioc_state *st,
		 const void *untrusted_body, size_t untrusted_len,
		 const struct pd_dec_ops *ops, void *ctx, unsigned int flags)
{
	struct pd_ioc_call *call = &dc->ioc;
	const struct pd_ioc_entry *e;
	struct pd_wire_ioctl_req req;
	unsigned int eflags;
	__u32 i;
	int ret, fd;

	dc->why = NULL;
	dc->name = NULL;
	dc->field = NULL;
	dc->ops = ops;
	dc->ctx = ctx;
	dc->arena_used = 0;
	dc->nnewfd = 0;
	dc->result = 0;
	dc->arg = 0;

	ret = check_request(dc, untrusted_body, untrusted_len, &req);
	if (ret)
		return ret;
	e = pd_ioc_lookup(dev_class, driver, req.cmd, &eflags);
	if (!e)
		return refuse(dc, -ENOTTY, "command in no table");
	dc->name = e->name;
	dc->cmd = req.cmd;
	dc->flags = eflags;
	if ((eflags & PD_IOC_F_SCREEN) && !(flags & PD_DEC_ALLOW_SCREENED))
		return refuse(dc, -EPERM, "command needs screening");
	if (!(eflags & PD_IOC_F_ARG_VALUE) && req.arg)
		return refuse(dc, -EINVAL, "value for a pointer argument");
	ret = pd_ioc_call_init(call, e, eflags, req.cmd, req.arg);
	if (ret)
		return refuse(dc, ret, "bad table entry");
	ret = pd_ioc_walk(call, st, &dec_walk_ops, dc);
	if (ret) {
		if (call->why_desc < e->ndesc)
			dc->field = e->desc[call->why_desc].name;
		return dc->why ? ret : refuse(dc, ret, call->why ? call->why :
					      "walk of the tables failed");
	}
	if (call->nbufs != dc->wire_nbufs)
		return refuse(dc, -EINVAL, "fewer buffers than the request has");

	/* pointers to backend buffers */
	for (i = 1; i < call->nbufs; i++) {
		const struct pd_ioc_buf *b = &call->buf[i];
		const struct pd_ioc_buf *p = &call->buf[b->parent];
		__u64 addr = 0;

		if (e->desc[b->desc].kind != PD_IOC_D_PTR || !in_arena(p))
			continue;
		if (in_arena(b))
			addr = (__u64)(unsigned long)(dc->arena + b->off);
		pd_ioc_put(dc->arena + p->off + b->field, 8, addr);
	}
	/* handles to backend descriptors; new-file fields start at -1 */
	for (i = 0; i < call->nfix; i++) {
		struct pd_ioc_fix *f = &call->fix[i];
		const struct pd_ioc_buf *p = &call->buf[f->buf];
		__u32 h;

		dc->fix_fd[i] = -1;
		if (!in_arena(p))
			continue;
		if (f->kind == PD_IOC_D_FD_IN) {
			h = (__u32)pd_ioc_get(dc->arena + p->off + f->off, 4);
			fd = -1;
			if (h != PD_WIRE_HANDLE_NONE &&
			    (ops->handle_to_fd(ctx, h, &fd) || fd < 0))
				return refuse(dc, -EBADF, "unknown handle");
			dc->fix_fd[i] = fd;
			pd_ioc_put(dc->arena + p->off + f->off, 4, (__u32)fd);
		}
	}
	for (i = 0; i < call->nfix; i++) {
		struct pd_ioc_fix *f = &call->fix[i];
		const struct pd_ioc_buf *p = &call->buf[f->buf];

		if (f->kind == PD_IOC_D_FD_NEW && in_arena(p) &&
		    same_place_fd_in(dc, i) < 0)
			pd_ioc_put(dc->arena + p->off + f->off, 4, (__u32)-1);
	}

	if (eflags & PD_IOC_F_ARG_VALUE) {
		dc->arg = (unsigned long)req.arg;
		if (eflags & PD_IOC_F_ARG_FD) {
			fd = -1;
			if ((__u32)req.arg != PD_WIRE_HANDLE_NONE &&
			    (req.arg > 0xffffffffull ||
			     ops->handle_to_fd(ctx, (__u32)req.arg, &fd) ||
			     fd < 0))
				return refuse(dc, -EBADF, "unknown handle");
			dc->arg = (unsigned long)(long)fd;
		}
	} else if (call->nbufs && in_arena(&call->buf[0])) {
		dc->arg = (unsigned long)(dc->arena + call->buf[0].off);
	}
	return 0;
}

static void put_scrub(__u8 *p, unsigned int width, __s32 val)
{
	pd_ioc_put(p, width, (__u64)(__s64)val);
}

/*
 * After the real ioctl returned `result` (or -errno): adopt the files the
 * driver created, hide everything of the backend's that the guest must
 * not see (addresses, descriptor numbers, scrubbed fields), update the
 * file's state, and decide how much of each buffer goes back. Returns the
 * result to send, which differs from `result` only if a new file could not
 * be adopted.
 */
__s64 pd_dec_after(struct pd_dec_call *dc, struct pd_ioc_state *st,
		   __s64 result)
{
	struct pd_ioc_call *call = &dc->ioc;
	__u32 i;
	int err;

	for (i = 0; i < call->nfix; i++) {
		struct pd_ioc_fix *f = &call->fix[i];
		const struct pd_ioc_buf *p = &call->buf[f->buf];
		__u8 *field;
		int in, fd;
		__u32 h, fl;

		if (!in_arena(p))
			continue;
		field = dc->arena + p->off + f->off;
		switch (f->kind) {
		case PD_IOC_D_FD_NEW:
			fd = (__s32)pd_ioc_get(field, 4);
			in = same_place_fd_in(dc, i);
			pd_ioc_put(field, 4, (__u32)-1);
			if (result < 0 || fd < 0 ||
			    (in >= 0 && fd == dc->fix_fd[in]))
				break;
			if (dc->nnewfd >= PD_WIRE_IOCTL_MAX_NEWFDS) {
				close(fd);
				result = -EMFILE;
				break;
			}
			err = dc->ops->adopt(dc->ctx, fd, &h, &fl);
			if (err) {
				result = err;
				break;
			}
			dc->newfd[dc->nnewfd].handle = h;
			dc->newfd[dc->nnewfd].buf = f->buf;
			dc->newfd[dc->nnewfd].offset = f->off;
			dc->newfd[dc->nnewfd].flags = fl;
			dc->nnewfd++;
			break;
		case PD_IOC_D_SCRUB: {
			const struct pd_ioc_desc *d = &call->entry->desc[f->desc];
			bool holds = true;

			/* on the argument as the driver returned it */
			if ((d->flags & PD_IOC_DF_POST_COND) &&
			    (!in_arena(&call->buf[0]) ||
			     pd_ioc_conds_hold(d, dc->arena + call->buf[0].off,
					       call->buf[0].len, &holds)))
				holds = true;	/* cannot tell: hide it */
			if (holds)
				put_scrub(field, f->width, d->val);
			break;
		}
		default:
			break;
		}
	}
	for (i = 0; i < call->nfix; i++) {
		const struct pd_ioc_fix *f = &call->fix[i];
		const struct pd_ioc_buf *p = &call->buf[f->buf];

		if (f->kind == PD_IOC_D_FD_IN && in_arena(p))
			pd_ioc_put(dc->arena + p->off + f->off, 4, (__u32)-1);
	}
	if (result < 0 && dc->nnewfd) {
		for (i = 0; i < dc->nnewfd; i++)
			dc->ops->release(dc->ctx, dc->newfd[i].handle);
		dc->nnewfd = 0;
	}
	/* no backend address goes back; a pointer the driver cleared is
	 * marked so that the guest sees NULL there too */
	for (i = 1; i < call->nbufs; i++) {
		const struct pd_ioc_buf *b = &call->buf[i];
		const struct pd_ioc_buf *p = &call->buf[b->parent];
		__u8 *field = dc->arena + p->off + b->field;

		if (call->entry->desc[b->desc].kind == PD_IOC_D_PTR &&
		    in_arena(p))
			pd_ioc_put(field, 8, in_arena(b) && !pd_ioc_get(field, 8) ?
				   PD_WIRE_PTR_CLEARED : 0);
	}
	if (call->nbufs && in_arena(&call->buf[0]))
		pd_ioc_learn(call, st, dc->arena + call->buf[0].off,
			     call->buf[0].len, result);
	else
		pd_ioc_learn(call, st, NULL, 0, result);
	if (pd_ioc_out_lengths(call, dc->arena, result))
		for (i = 0; i < call->nbufs; i++)
			call->buf[i].out_len = 0;
	dc->result = result;
	return result;
}

static __u32 out_data_len(const struct pd_dec_call *dc)
{
	__u32 i, n = 0;

	for (i = 0; i < dc->ioc.nbufs; i++)
		if (dc->ioc.buf[i].out_len)
			n = ((n + 7) & ~7u) + dc->ioc.buf[i].out_len;
	return n;
}

/* Bytes of the reply body pd_dec_reply_write() produces. */
size_t pd_dec_reply_len(const struct pd_dec_call *dc)
{
	return sizeof(struct pd_wire_ioctl_rsp) +
	       ((out_data_len(dc) + 7) & ~7u) +
	       dc->ioc.nbufs * sizeof(struct pd_wire_buf) +
	       dc->nnewfd * sizeof(struct pd_wire_newfd);
}

/* Write the reply body (see pd_wire.h); returns 0 or -ENOSPC. */
int pd_dec_reply_write(const struct pd_dec_call *dc, void *out, size_t cap)
{
	const struct pd_ioc_call *call = &dc->ioc;
	struct pd_wire_ioctl_rsp rsp;
	struct pd_wire_buf wb;
	__u8 *o = out, *data, *table;
	__u32 i, pos = 0;

	if (cap < pd_dec_reply_len(dc))
		return -ENOSPC;
	memset(out, 0, pd_dec_reply_len(dc));
	rsp.nbufs = call->nbufs;
	rsp.nfds = dc->nnewfd;
	rsp.data_len = out_data_len(dc);
	rsp.reserved = 0;
	memcpy(o, &rsp, sizeof(rsp));
	data = o + sizeof(rsp);
	table = data + ((rsp.data_len + 7) & ~7u);
	for (i = 0; i < call->nbufs; i++) {
		const struct pd_ioc_buf *b = &call->buf[i];

		memset(&wb, 0, sizeof(wb));
		if (b->out_len) {
			pos = (pos + 7) & ~7u;
			memcpy(data + pos, dc->arena + b->off, b->out_len);
			wb.offset = pos;
			wb.len = b->out_len;
			wb.flags = PD_WIRE_BUF_OUT;
			pos += b->out_len;
		}
		memcpy(table + i * sizeof(wb), &wb, sizeof(wb));
	}
	memcpy(table + call->nbufs * sizeof(wb), dc->newfd,
	       dc->nnewfd * sizeof(dc->newfd[0]));
	return 0;
}
