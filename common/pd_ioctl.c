// SPDX-License-Identifier: GPL-2.0-only
/*
 * The ioctl descriptor engine: whether an entry matches a command, the walk
 * that turns a command and its argument bytes into the list of buffers the
 * call touches, and the lengths that go back after the call. It works on
 * one table entry at a time and names no class: which tables a class has
 * is pd_ioc_class.c's, the self-check of a table pd_ioc_check.c's. Shared
 * by the guest kernel module and the backend.
 */
#include "pd_ioctl.h"

/* ------------------------------------------------------------------------ */
/* Matching                                                                  */

/* Does entry e stand for command cmd (a range of them for VARSIZE)? */
bool pd_ioc_entry_matches(const struct pd_ioc_entry *e, __u32 cmd)
{
	unsigned int nr = _IOC_NR(cmd);

	if (!(e->flags & PD_IOC_F_VARSIZE))
		return e->cmd == cmd;
	return _IOC_DIR(cmd) == _IOC_DIR(e->cmd) &&
	       _IOC_TYPE(cmd) == _IOC_TYPE(e->cmd) &&
	       nr >= _IOC_NR(e->cmd) && nr <= e->nr_last &&
	       _IOC_SIZE(cmd) <= e->max_size;
}

/* ------------------------------------------------------------------------ */
/* Field access                                                              */

__u64 pd_ioc_get(const __u8 *p, unsigned int width)
{
	__u8 v8;
	__u16 v16;
	__u32 v32;
	__u64 v64;

	switch (width) {
	case 1:
		pd_memcpy(&v8, p, 1);
		return v8;
	case 2:
		pd_memcpy(&v16, p, 2);
		return v16;
	case 4:
		pd_memcpy(&v32, p, 4);
		return v32;
	case 8:
		pd_memcpy(&v64, p, 8);
		return v64;
	default:
		return 0;
	}
}

void pd_ioc_put(__u8 *p, unsigned int width, __u64 v)
{
	__u8 v8 = (__u8)v;
	__u16 v16 = (__u16)v;
	__u32 v32 = (__u32)v;

	switch (width) {
	case 1:
		pd_memcpy(p, &v8, 1);
		break;
	case 2:
		pd_memcpy(p, &v16, 2);
		break;
	case 4:
		pd_memcpy(p, &v32, 4);
		break;
	case 8:
		pd_memcpy(p, &v, 8);
		break;
	}
}

static __s64 get_signed(const __u8 *p, unsigned int width)
{
	__u64 v = pd_ioc_get(p, width);

	switch (width) {
	case 1:
		return (__s8)v;
	case 2:
		return (__s16)v;
	case 4:
		return (__s32)v;
	default:
		return (__s64)v;
	}
}

/* ------------------------------------------------------------------------ */
/* The argument                                                              */

__u32 pd_ioc_arg_size(const struct pd_ioc_entry *e, unsigned int flags,
		      __u32 cmd)
{
	if (flags & PD_IOC_F_ARG_VALUE)
		return 0;
	if (_IOC_DIR(cmd) == _IOC_NONE &&
	    !(flags & (PD_IOC_F_ARG_IN | PD_IOC_F_ARG_OUT)))
		return 0;
	return _IOC_SIZE(cmd);
}

/*
 * Direction of the argument buffer: _IOC_WRITE means the program writes
 * it (the driver reads: IN). Some drivers read _IOR arguments or write
 * _IOW ones; their tables say so with ARG_IN and ARG_OUT.
 */
unsigned int pd_ioc_arg_dir(const struct pd_ioc_entry *e, unsigned int flags,
			    __u32 cmd)
{
	unsigned int dir = 0;

	if (flags & PD_IOC_F_ARG_VALUE)
		return 0;
	if (_IOC_DIR(cmd) == _IOC_NONE &&
	    !(flags & (PD_IOC_F_ARG_IN | PD_IOC_F_ARG_OUT)))
		return 0;
	if ((_IOC_DIR(cmd) & _IOC_WRITE) || (flags & PD_IOC_F_ARG_IN))
		dir |= PD_IOC_IN;
	if ((_IOC_DIR(cmd) & _IOC_READ) || (flags & PD_IOC_F_ARG_OUT))
		dir |= PD_IOC_OUT;
	return dir;
}

static __u16 dir_to_wire(unsigned int dir)
{
	return ((dir & PD_IOC_IN) ? PD_WIRE_BUF_IN : 0) |
	       ((dir & PD_IOC_OUT) ? PD_WIRE_BUF_OUT : 0);
}

/*
 * Start a call: buffer 0 is the argument unless the command passes a value
 * or nothing. The walk (pd_ioc_walk) then adds the nested buffers.
 */
int pd_ioc_call_init(struct pd_ioc_call *call, const struct pd_ioc_entry *e,
		     unsigned int flags, __u32 cmd, __u64 arg)
{
	unsigned int dir = pd_ioc_arg_dir(e, flags, cmd);
	struct pd_ioc_buf *b;

	call->entry = e;
	call->cmd = cmd;
	call->flags = flags;
	call->arg = 0;
	call->nbufs = 0;
	call->nfix = 0;
	call->total = 0;
	call->in_total = 0;
	if (e->ndesc > PD_IOC_MAX_DESC)
		return -EINVAL;
	if (flags & PD_IOC_F_ARG_VALUE) {
		call->arg = arg;
		return 0;
	}
	if (!dir)
		return 0;
	b = &call->buf[0];
	pd_memset(b, 0, sizeof(*b));
	b->uaddr = arg;
	b->len = pd_ioc_arg_size(e, flags, cmd);
	b->parent = PD_IOC_NO_BUF;
	b->desc = PD_IOC_ARG_DESC;
	b->flags = dir_to_wire(dir);
	call->nbufs = 1;
	call->total = b->len;
	if (dir & PD_IOC_IN)
		call->in_total = b->len;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* The walk                                                                  */

struct walk {
	struct pd_ioc_call *call;
	const struct pd_ioc_state *st;
	const struct pd_ioc_walk_ops *ops;
	void *ctx;
};

/* Fail with err, keeping the first reason for the caller's log line. */
static int walk_fail(struct walk *w, int err, const char *reason)
{
	if (!w->call->why)
		w->call->why = reason;
	return err;
}

/* Bytes of buffer `b`, or NULL when it has none to read. */
static __u8 *buf_bytes(struct walk *w, const struct pd_ioc_buf *b)
{
	if (!(b->flags & PD_WIRE_BUF_IN) || (b->flags & PD_WIRE_BUF_NULL))
		return NULL;
	return w->ops->base(w->ctx) + b->off;
}

/* A field of the argument: NULL if the argument is absent or too short. */
static __u8 *arg_field(struct walk *w, unsigned int off, unsigned int width)
{
	const struct pd_ioc_buf *a = &w->call->buf[0];
	__u8 *p;

	if (!w->call->nbufs || a->desc != PD_IOC_ARG_DESC)
		return NULL;
	if (off + width > a->len)
		return NULL;
	p = buf_bytes(w, a);
	return p ? p + off : NULL;
}

static int cond_holds(const struct pd_ioc_cond *c, const __u8 *arg,
		      __u32 arg_len, bool *holds)
{
	__u64 v;

	if (c->op == PD_IOC_C_NONE) {
		*holds = true;
		return 0;
	}
	if (!pd_ioc_valid_width(c->width) || !arg || c->off + c->width > arg_len)
		return -EINVAL;
	v = pd_ioc_get(arg + c->off, c->width);
	switch (c->op) {
	case PD_IOC_C_EQ:
		*holds = v == c->val;
		return 0;
	case PD_IOC_C_NE:
		*holds = v != c->val;
		return 0;
	case PD_IOC_C_ANY:
		*holds = (v & c->val) != 0;
		return 0;
	case PD_IOC_C_IN:
		*holds = v < 64 && ((c->val >> v) & 1);
		return 0;
	case PD_IOC_C_NOT_IN:
		*holds = !(v < 64 && ((c->val >> v) & 1));
		return 0;
	default:
		return -EINVAL;
	}
}

/*
 * Do a descriptor's conditions hold for this argument? Both must; a
 * condition on a field the argument does not have is an error.
 */
int pd_ioc_conds_hold(const struct pd_ioc_desc *d, const __u8 *arg,
		      __u32 arg_len, bool *holds)
{
	unsigned int i;
	int ret;

	for (i = 0; i < PD_ARRAY_SIZE(d->cond); i++) {
		ret = cond_holds(&d->cond[i], arg, arg_len, holds);
		if (ret || !*holds)
			return ret;
	}
	return 0;
}

static int conds_hold(struct walk *w, const struct pd_ioc_desc *d,
		      bool *holds)
{
	const struct pd_ioc_buf *a = &w->call->buf[0];
	const __u8 *arg = NULL;

	/* decided after the call, or element by element in the walk */
	if (d->flags & (PD_IOC_DF_POST_COND | PD_IOC_DF_ELEM_COND)) {
		*holds = true;
		return 0;
	}
	if (w->call->nbufs && a->desc == PD_IOC_ARG_DESC)
		arg = buf_bytes(w, a);
	return pd_ioc_conds_hold(d, arg, arg ? a->len : 0, holds);
}

static int add_fix(struct pd_ioc_call *call, unsigned int buf,
		   unsigned int off, unsigned int kind, unsigned int width,
		   unsigned int desc, __s64 orig)
{
	struct pd_ioc_fix *f;

	if (call->nfix >= PD_IOC_MAX_FIX)
		return -E2BIG;
	f = &call->fix[call->nfix++];
	f->buf = buf;
	f->off = off;
	f->kind = kind;
	f->width = width;
	f->desc = desc;
	f->guest = 0;
	f->orig = orig;
	return 0;
}

/* Sum of the u32 arrays that descriptor `src` produced (DRM ATOMIC). */
static int sum_u32(struct walk *w, unsigned int src, __u64 *sum)
{
	struct pd_ioc_call *call = w->call;
	unsigned int i, j;

	*sum = 0;
	for (i = call->first[src]; i < call->end[src]; i++) {
		const struct pd_ioc_buf *b = &call->buf[i];
		const __u8 *p = buf_bytes(w, b);

		if (!p) {
			if (b->len)
				return walk_fail(w, -EINVAL, "sum of an unread array");
			continue;
		}
		for (j = 0; j + 4 <= b->len; j += 4) {
			*sum += pd_ioc_get(p + j, 4);
			if (*sum > 0xffffffffu)
				return walk_fail(w, -EINVAL, "sum of counts too large");
		}
	}
	return 0;
}

/* Bits per element for a frame- or sample-scaled buffer; 0 if unknown. */
static __u32 state_bits(const struct pd_ioc_state *st, unsigned int scale)
{
	if (!st)
		return 0;
	return scale == PD_IOC_S_FRAME ? st->frame_bits : st->sample_bits;
}

/*
 * The length of the buffer a PTR or TAIL descriptor names in one element of
 * its parent (the element's bytes are at `el`, `esz` long). Applies the
 * bound of the descriptor and of the wire, or lowers the count when the
 * descriptor allows it (recording the guest's count to put back).
 */
static int buf_length(struct walk *w, unsigned int di, unsigned int pb,
		      __u32 eo, __u32 esz, __u32 *len)
{
	const struct pd_ioc_desc *d = &w->call->entry->desc[di];
	const struct pd_ioc_state *st = w->st;
	unsigned int cbuf = pb, coff = eo + d->count_off, i;
	__u8 *cnt = NULL, *el;
	__u64 count, bytes, max = d->max, limit;
	__u32 bits = 0;
	int ret;

	switch (d->count) {
	case PD_IOC_N_ONE:
		count = 1;
		break;
	case PD_IOC_N_FIELD:
		el = buf_bytes(w, &w->call->buf[pb]);
		if (!el || !pd_ioc_valid_width(d->count_width) ||
		    d->count_off + d->count_width > esz)
			return walk_fail(w, -EINVAL, "count outside its element");
		cnt = el + eo + d->count_off;
		count = pd_ioc_get(cnt, d->count_width);
		break;
	case PD_IOC_N_ARG:
		cbuf = 0;
		coff = d->count_off;
		if (!pd_ioc_valid_width(d->count_width))
			return -EINVAL;
		cnt = arg_field(w, d->count_off, d->count_width);
		if (!cnt)
			return walk_fail(w, -EINVAL, "count outside the argument");
		count = pd_ioc_get(cnt, d->count_width);
		break;
	case PD_IOC_N_SUM:
		if (d->count_off >= di ||
		    w->call->entry->desc[d->count_off].kind != PD_IOC_D_PTR)
			return -EINVAL;
		ret = sum_u32(w, d->count_off, &count);
		if (ret)
			return ret;
		break;
	case PD_IOC_N_CHANNELS:
		if (!st || !st->channels)
			return walk_fail(w, -EBADFD, "no channel count (no HW_PARAMS)");
		count = st->channels;
		break;
	case PD_IOC_N_SELECT:
		cnt = arg_field(w, d->count_off, d->count_width);
		if (!cnt || !pd_ioc_valid_width(d->count_width))
			return -EINVAL;
		count = pd_ioc_get(cnt, d->count_width);
		*len = d->elem;
		for (i = 0; i < d->nselect; i++)
			if (d->select[i].value == count)
				*len = d->select[i].bytes;
		return *len > PD_WIRE_IOCTL_MAX_BUF ? -EINVAL : 0;
	default:
		return -EINVAL;
	}

	if (d->scale != PD_IOC_S_ELEM) {
		bits = state_bits(st, d->scale);
		if (!bits)
			return walk_fail(w, -EBADFD, "no frame size (no HW_PARAMS)");
		/* lowering keeps all channels of a frame within one buffer */
		limit = (__u64)PD_WIRE_IOCTL_MAX_BUF * 8 /
			(st->frame_bits ? st->frame_bits : bits);
	} else {
		if (!d->elem)
			return -EINVAL;
		limit = PD_WIRE_IOCTL_MAX_BUF / d->elem;
	}
	if (limit < max)
		max = limit;
	if (count > max) {
		if (!(d->flags & PD_IOC_DF_CLAMP) || !cnt)
			return walk_fail(w, -EINVAL, "count over its bound");
		ret = add_fix(w->call, cbuf, coff, PD_IOC_FIX_CLAMP,
			      d->count_width, di, (__s64)count);
		if (ret)
			return ret;
		count = max;
		pd_ioc_put(cnt, d->count_width, count);
	}
	if (d->scale == PD_IOC_S_ELEM)
		bytes = count * d->elem;
	else
		bytes = (count * bits + 7) / 8;
	if (bytes > PD_WIRE_IOCTL_MAX_BUF)
		return walk_fail(w, -EINVAL, "buffer over the wire limit");
	*len = (__u32)bytes;
	return 0;
}

/* A PTR or TAIL descriptor met in one element: add its buffer. */
static int visit_buffer(struct walk *w, unsigned int di, unsigned int pb,
			__u32 eo, __u32 esz)
{
	const struct pd_ioc_desc *d = &w->call->entry->desc[di];
	struct pd_ioc_call *call = w->call;
	struct pd_ioc_buf *b, *p;
	__u8 *el;
	__u32 len;
	int ret;

	ret = buf_length(w, di, pb, eo, esz, &len);
	if (ret)
		return ret;
	if (!len && (d->flags & PD_IOC_DF_VALUE_IF_EMPTY))
		return 0;
	if (call->nbufs >= PD_WIRE_IOCTL_MAX_BUFS)
		return walk_fail(w, -E2BIG, "too many buffers");
	if (call->total + (__u64)len > PD_WIRE_IOCTL_MAX_DATA)
		return walk_fail(w, -E2BIG, "ioctl data over the wire limit");

	p = &call->buf[pb];
	b = &call->buf[call->nbufs];
	pd_memset(b, 0, sizeof(*b));
	b->len = len;
	b->parent = pb;
	b->desc = di;
	b->flags = dir_to_wire(d->dir);
	if (d->scale == PD_IOC_S_ELEM && d->count != PD_IOC_N_SELECT)
		b->elem = d->elem;
	else if (d->scale != PD_IOC_S_ELEM)
		b->bits = state_bits(w->st, d->scale);
	if (d->kind == PD_IOC_D_TAIL) {
		if (pb != 0 || eo != 0 ||
		    pd_add_overflow(p->uaddr, (__u64)p->len, &b->uaddr))
			return -EINVAL;
		b->field = p->len;
	} else {
		el = buf_bytes(w, p);
		if (!el || d->off + 8u > esz)
			return -EINVAL;
		b->field = eo + d->off;
		b->uaddr = pd_ioc_get(el + b->field, 8);
	}
	call->nbufs++;
	call->total += len;
	if (b->flags & PD_WIRE_BUF_IN)
		call->in_total += len;
	return w->ops->take(w->ctx, call, call->nbufs - 1);
}

/* One descriptor in one element of one parent buffer. */
static int visit(struct walk *w, unsigned int di, unsigned int pb, __u32 eo,
		 __u32 esz)
{
	const struct pd_ioc_desc *d = &w->call->entry->desc[di];
	const struct pd_ioc_buf *p = &w->call->buf[pb];

	switch (d->kind) {
	case PD_IOC_D_PTR:
	case PD_IOC_D_TAIL:
		return visit_buffer(w, di, pb, eo, esz);
	case PD_IOC_D_FD_IN:
	case PD_IOC_D_FD_NEW:
	case PD_IOC_D_SCRUB:
		if (!pd_ioc_valid_width(d->width) || d->off + d->width > esz ||
		    eo + d->off + d->width > p->len)
			return -EINVAL;
		if (d->kind == PD_IOC_D_FD_IN && !buf_bytes(w, p))
			return -EINVAL;
		return add_fix(w->call, pb, eo + d->off, d->kind, d->width, di,
			       0);
	case PD_IOC_D_REJECT:
		return walk_fail(w, d->val > 0 ? -d->val : -EINVAL,
				 "value refused by the table");
	default:
		return -EINVAL;
	}
}

/*
 * Walk the descriptors of the call's entry over the bytes of its buffers,
 * adding every nested buffer (and handing it to ops->take so its bytes are
 * there for the descriptors after it) and recording every descriptor or
 * scrub field. Descriptors only look at earlier buffers, so one pass in
 * table order suffices. Every read is bounds-checked here even though the
 * self-check already vets the tables: in the backend the counts are
 * hostile.
 */
int pd_ioc_walk(struct pd_ioc_call *call, const struct pd_ioc_state *st,
		const struct pd_ioc_walk_ops *ops, void *ctx)
{
	const struct pd_ioc_entry *e = call->entry;
	struct walk w = { .call = call, .st = st, .ops = ops, .ctx = ctx };
	unsigned int di, pb, pb_end, n, i;
	bool holds;
	int ret;

	call->why = NULL;
	call->why_desc = PD_IOC_ARG_DESC;
	if (call->nbufs) {
		ret = ops->take(ctx, call, 0);
		if (ret)
			return ret;
	}
	for (di = 0; di < e->ndesc; di++) {
		const struct pd_ioc_desc *d = &e->desc[di];

		call->why_desc = di;
		call->first[di] = call->end[di] = call->nbufs;
		ret = conds_hold(&w, d, &holds);
		if (ret)
			return walk_fail(&w, ret, "condition on a missing field");
		if (!holds)
			continue;
		if (d->parent == PD_IOC_PARENT_ARG) {
			if (!call->nbufs)
				return -EINVAL;
			pb = 0;
			pb_end = 1;
		} else {
			if (d->parent >= di ||
			    e->desc[d->parent].kind != PD_IOC_D_PTR)
				return -EINVAL;
			pb = call->first[d->parent];
			pb_end = call->end[d->parent];
		}
		for (; pb < pb_end; pb++) {
			const struct pd_ioc_buf *p = &call->buf[pb];
			__u32 esz = d->parent == PD_IOC_PARENT_ARG ?
				    p->len : p->elem;

			if (!esz || (p->flags & PD_WIRE_BUF_NULL))
				continue;
			n = p->len / esz;
			for (i = 0; i < n; i++) {
				if (d->flags & PD_IOC_DF_ELEM_COND) {
					const __u8 *el = buf_bytes(&w, p);

					ret = pd_ioc_conds_hold(d,
						el ? el + i * esz : NULL, esz,
						&holds);
					if (ret)
						return walk_fail(&w, ret,
							"condition on a missing field");
					if (!holds)
						continue;
				}
				ret = visit(&w, di, pb, i * esz, esz);
				if (ret)
					return walk_fail(&w, ret, "bad field");
			}
		}
		call->end[di] = call->nbufs;
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* After the call                                                            */

/*
 * How many bytes of each buffer go back to the guest, from the buffers as
 * the real driver left them (`base` is the backend's storage) and the
 * call's result. A failed call returns nothing unless the entry says the
 * driver writes back on failure too.
 */
int pd_ioc_out_lengths(struct pd_ioc_call *call, const __u8 *base,
		       __s64 result)
{
	unsigned int i;

	for (i = 0; i < call->nbufs; i++) {
		struct pd_ioc_buf *b = &call->buf[i];
		const struct pd_ioc_desc *d;
		const __u8 *src;
		__s64 n;
		__u64 bytes;
		__u32 eo;
		unsigned int w;

		b->out_len = 0;
		if (!(b->flags & PD_WIRE_BUF_OUT) ||
		    (b->flags & PD_WIRE_BUF_NULL))
			continue;
		if (result < 0 && !(call->flags & PD_IOC_F_ALL_ON_ERR) &&
		    !(i == 0 && (call->flags & PD_IOC_F_ARG_ON_ERR)))
			continue;
		if (b->desc == PD_IOC_ARG_DESC) {
			b->out_len = b->len;
			if (call->flags & PD_IOC_F_ARG_RET)
				b->out_len = result < 0 ? 0 :
					     result < b->len ? (__u32)result :
					     b->len;
			continue;
		}
		d = &call->entry->desc[b->desc];
		switch (d->out) {
		case PD_IOC_O_FULL:
			b->out_len = b->len;
			continue;
		case PD_IOC_O_RET:
			b->out_len = result < 0 ? 0 :
				     result < b->len ? (__u32)result : b->len;
			continue;
		case PD_IOC_O_FIELD:
			if (d->kind == PD_IOC_D_TAIL)
				eo = 0;
			else
				eo = b->field - d->off;
			src = base + call->buf[b->parent].off + eo;
			if (eo + d->out_off + d->count_width >
			    call->buf[b->parent].len)
				return -EINVAL;
			break;
		case PD_IOC_O_ARG:
			if (!call->nbufs ||
			    d->out_off + d->count_width > call->buf[0].len)
				return -EINVAL;
			src = base + call->buf[0].off;
			break;
		default:
			return -EINVAL;
		}
		w = d->count_width;
		if (!pd_ioc_valid_width(w))
			return -EINVAL;
		n = (d->flags & PD_IOC_DF_SIGNED) ?
		    get_signed(src + d->out_off, w) :
		    (__s64)pd_ioc_get(src + d->out_off, w);
		if (n <= 0) {
			b->out_len = 0;
			continue;
		}
		if (d->scale == PD_IOC_S_ELEM) {
			if (pd_mul_overflow((__u64)n, (__u64)d->elem, &bytes))
				bytes = b->len;
		} else if (!b->bits || (__u64)n > 0xffffffffull) {
			bytes = b->len;	/* the min() below picks len */
		} else {
			bytes = ((__u64)n * b->bits + 7) / 8;
		}
		b->out_len = bytes < b->len ? (__u32)bytes : b->len;
	}
	return 0;
}
