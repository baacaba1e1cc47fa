// SPDX-License-Identifier: GPL-2.0-only
/*
 * Ioctls: the shared descriptor engine (common/pd_ioctl.h) walks the
 * command's tables over the program's memory and builds the request; the
 * reply is checked against the same walk and copied back. This file only
 * gives the engine its ways into the guest: user copies (or kernel copies
 * for the module's own identity queries), descriptors to handles, and new
 * files for the handles the backend creates. Those files get the file
 * operations the caller names (pd_fops, from front_fops.c, which sits
 * above this file).
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "front.h"

struct pd_front_ctx {
	struct pd_file *pf;
	bool kernel;			/* arg and buffers are kernel memory */
	/* of new files and of the files descriptors may name; NULL: none */
	const struct file_operations *fops;
	/* the request whose reply is completed (NULL: from the cache), and
	 * conn->unknown_poll_events before it went, for new files' states */
	const struct pd_req *req;
	u32 unknown_before;
};

static int ctx_copy_from(void *c, void *dst, __u64 uaddr, __u32 len)
{
	struct pd_front_ctx *ctx = c;

	if (ctx->kernel) {
		memcpy(dst, (const void *)(unsigned long)uaddr, len);
		return 0;
	}
	return copy_from_user(dst, u64_to_user_ptr(uaddr), len) ? -EFAULT : 0;
}

static int ctx_copy_to(void *c, __u64 uaddr, const void *src, __u32 len)
{
	struct pd_front_ctx *ctx = c;

	if (ctx->kernel) {
		memcpy((void *)(unsigned long)uaddr, src, len);
		return 0;
	}
	return copy_to_user(u64_to_user_ptr(uaddr), src, len) ? -EFAULT : 0;
}

/* A descriptor the program passes must be a forwarded file of the same
 * connection; its handle goes on the wire.
 */
static int ctx_fd_to_handle(void *c, __s32 fd, __u32 *handle)
{
	struct pd_front_ctx *ctx = c;
	struct file *f = fget(fd);
	int ret = 0;

	if (!f)
		return -EBADF;
	if (!ctx->fops || f->f_op != ctx->fops ||
	    ((struct pd_file *)f->private_data)->conn != ctx->pf->conn)
		ret = -EINVAL;
	else
		*handle = ((struct pd_file *)f->private_data)->handle;
	fput(f);
	return ret;
}

static int ctx_install(void *c, __u32 handle, __u32 flags, __s32 *fdp)
{
	struct pd_front_ctx *ctx = c;
	struct pd_file *pf;
	struct file *f;
	int fd, err;

	if (ctx->kernel || !ctx->fops)
		return -EINVAL;
	pf = pd_file_adopt(ctx->pf->conn, handle, &err);
	if (!pf)
		return err;
	/* a sync_file the backend armed: its readiness came with the reply */
	pd_file_new_state(pf, ctx->req, ctx->unknown_before);
	fd = get_unused_fd_flags((flags & PD_WIRE_O_CLOEXEC) ? O_CLOEXEC : 0);
	if (fd < 0) {
		pd_file_forget(pf);
		return fd;
	}
	f = anon_inode_getfile("[paradice]", ctx->fops, pf,
			       O_RDWR | ((flags & PD_WIRE_O_NONBLOCK) ?
					 O_NONBLOCK : 0));
	if (IS_ERR(f)) {
		put_unused_fd(fd);
		pd_file_forget(pf);
		return PTR_ERR(f);
	}
	fd_install(fd, f);
	*fdp = fd;
	return 0;
}

/* A new file the engine could not install (or did not expect): the
 * backend closes it. A failed install has forgotten its pd_file without
 * releasing the handle, so the release happens here, once.
 */
static void ctx_discard(void *c, __u32 handle)
{
	struct pd_front_ctx *ctx = c;
	struct pd_conn *conn = ctx->pf->conn;
	struct pd_req *req;
	struct file *real;

	if (xa_load(&conn->files, handle))
		return;		/* installed and owned by a file */
	if (conn->tp->take_real_file) {
		real = conn->tp->take_real_file(conn, handle);
		if (real)
			fput(real);
	}
	req = pd_req_alloc(PD_OP_RELEASE, handle, 0);
	if (!req)
		return;
	pd_req_run(conn, req, PD_WAIT_UNINTR);
	pd_req_put(req);
}

static int ctx_grow(void *c, struct pd_ioc_msg *msg, __u32 need)
{
	__u32 cap = msg->cap ?: 4096;
	void *p;

	while (cap < need)
		cap = cap > PD_WIRE_MAX_MSG / 2 ? PD_WIRE_MAX_MSG : cap * 2;
	if (cap < need)
		return -E2BIG;
	p = kvrealloc(msg->buf, msg->cap, cap, GFP_KERNEL);
	if (!p)
		return -ENOMEM;
	msg->buf = p;
	msg->cap = cap;
	return 0;
}

static const struct pd_ioc_front_ops front_ops = {
	.copy_from_user = ctx_copy_from,
	.copy_to_user = ctx_copy_to,
	.fd_to_handle = ctx_fd_to_handle,
	.install = ctx_install,
	.discard = ctx_discard,
	.grow = ctx_grow,
};

/*
 * A marshaling state for one call. struct pd_ioc_call is 44 KiB (room for
 * every buffer a command may have), and Debian's kernels zero every
 * allocation (init_on_alloc): allocating one per ioctl cost more than
 * the small ioctl itself. A few free ones are kept per connection; the
 * walk initialises what it uses (pd_ioc_call_init), so a reused one needs
 * no clearing.
 */
static struct pd_ioc_call *call_get(struct pd_conn *conn)
{
	struct pd_ioc_call *call = NULL;

	spin_lock(&conn->call_lock);
	if (conn->ncalls)
		call = conn->calls[--conn->ncalls];
	spin_unlock(&conn->call_lock);
	return call ?: kvmalloc(sizeof(*call), GFP_KERNEL);
}

static void call_put(struct pd_conn *conn, struct pd_ioc_call *call)
{
	if (!call)
		return;
	spin_lock(&conn->call_lock);
	if (conn->ncalls < PD_CONN_CALLS) {
		conn->calls[conn->ncalls++] = call;
		call = NULL;
	}
	spin_unlock(&conn->call_lock);
	kvfree(call);
}

void pd_ioctl_conn_finish(struct pd_conn *conn)
{
	while (conn->ncalls)
		kvfree(conn->calls[--conn->ncalls]);
}

/*
 * The one new-file field of the call (its argument's, a fence's), or NULL
 * if none; *many if there is more than one or it is elsewhere.
 */
static const struct pd_ioc_fix *new_file_field(const struct pd_ioc_call *call,
					       bool *many)
{
	const struct pd_ioc_fix *found = NULL;
	__u32 i;

	*many = false;
	for (i = 0; i < call->nfix; i++) {
		if (call->fix[i].kind != PD_IOC_D_FD_NEW)
			continue;
		if (found || call->fix[i].buf != 0)
			*many = true;
		found = &call->fix[i];
	}
	return found;
}

/*
 * May this PD_IOC_F_ORDERED ioctl go without waiting (pd_wire.h 1.7)?
 * The class looks at the argument as encoded in req (the walk's buffer 0,
 * the arg itself). One that makes a file needs a handle the guest names
 * for it (1.8) and a place to put its descriptor (*made_field).
 */
static bool ordered_async(struct pd_file *pf, unsigned int cmd,
			  const struct pd_ioc_call *call, struct pd_req *req,
			  const struct file_operations *fops,
			  const struct pd_ioc_fix **made_field)
{
	const struct pd_class_ops *cls = pf->exp ? pf->exp->cls : NULL;
	const struct pd_wire_ioctl_req *r = pd_req_body(req);
	const struct pd_ioc_buf *b = &call->buf[0];
	bool many;

	*made_field = new_file_field(call, &many);
	if (*made_field &&
	    (many || !fops ||
	     !(pf->conn->features & PD_WIRE_FEAT_NEWFD_NAMED)))
		return false;
	if (!(pf->conn->features & PD_WIRE_FEAT_ASYNC_ORDERED) || !cls ||
	    !cls->ioctl_async || !call->nbufs || b->desc != PD_IOC_ARG_DESC ||
	    !(b->flags & PD_WIRE_BUF_IN) || b->off > r->data_len ||
	    b->len > r->data_len - b->off)
		return false;
	return cls->ioctl_async(pf, cmd, (const u8 *)(r + 1) + b->off, b->len);
}

/*
 * The file an ioctl sent without a wait will make (pd_wire.h 1.8): a
 * guest file under a handle named here, published (its events find it),
 * its descriptor reserved and written into the program's argument now,
 * as the driver's reply would have. It is installed only once the
 * request went, so no request about it can overtake the one that makes
 * it. New descriptors are close-on-exec, as every driver's out-fence.
 */
static int made_prepare(struct pd_file *pf, const struct pd_ioc_call *call,
			const struct pd_ioc_fix *field,
			const struct file_operations *fops, struct pd_req *req,
			struct pd_file **made, struct file **file)
{
	struct pd_wire_ioctl_req *r = pd_req_body(req);
	u64 uaddr = call->buf[field->buf].uaddr + field->off;
	int fd, err;

	*made = pd_file_adopt_named(pf->conn, &err);
	if (!*made)
		return err;
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		err = fd;
		goto forget;
	}
	if (put_user(fd, (s32 __user *)u64_to_user_ptr(uaddr))) {
		err = -EFAULT;
		goto put_fd;
	}
	*file = anon_inode_getfile("[paradice]", fops, *made, O_RDWR);
	if (IS_ERR(*file)) {
		err = PTR_ERR(*file);
		goto put_fd;
	}
	r->new_handle = (*made)->handle;
	return fd;
put_fd:
	put_unused_fd(fd);
forget:
	pd_file_forget(*made);
	return err;
}

/*
 * Forward one ioctl. A command in no table of the file's class is
 * refused with -ENOTTY and logged once per command. Stateful commands
 * (ALSA transfers sized by the stream's geometry) hold the file's state
 * lock from encoding to completion, so both ends size buffers alike.
 * Immutable queries are answered from the export's cache when the same
 * request was answered before (front_qcache.c), through the same
 * completion as a reply that travelled.
 */
static long pd_ioctl_run(struct pd_file *pf, unsigned int cmd, u64 arg,
			 bool kernel, const struct file_operations *fops,
			 bool nonblock)
{
	static DEFINE_XARRAY(logged);
	struct pd_front_ctx ctx = { .pf = pf, .kernel = kernel, .fops = fops };
	struct pd_ioc_msg msg = { 0 };
	const struct pd_ioc_entry *e;
	struct pd_ioc_call *call;
	struct pd_wire_hdr *hdr;
	const struct pd_qcache_entry *hit;
	struct pd_pollc_tok tok;
	struct pd_req *req = NULL;
	const struct pd_ioc_fix *made_field = NULL;
	struct pd_file *made = NULL;
	struct file *made_file = NULL;
	int made_fd = -1;
	void *body, *kept = NULL;
	bool locked = false, immutable;
	unsigned int flags;
	u32 rsp_len;
	s64 result;
	long ret;

	if (READ_ONCE(pf->revoked))
		return -ENODEV;
	if (!kernel) {
		/* an asynchronous request's error is this call's (front_file.c) */
		ret = pd_file_async_err(pf);
		if (ret)
			return ret;
	}
	e = pd_ioc_lookup(pf->dev_class, pf->driver, cmd, &flags);
	if (!e) {
		if (!xa_load(&logged, cmd) &&
		    !xa_is_err(xa_store(&logged, cmd, xa_mk_value(1),
					GFP_KERNEL)))
			pr_info("paradice: ioctl 0x%08x of class %u refused: in no table\n",
				cmd, pf->dev_class);
		return -ENOTTY;
	}
	call = call_get(pf->conn);
	if (!call)
		return -ENOMEM;
	msg.len = sizeof(*hdr);
	ret = ctx_grow(&ctx, &msg, 4096);
	if (ret)
		goto out;
	if (flags & (PD_IOC_F_USES_STATE | PD_IOC_F_LEARN | PD_IOC_F_FORGET)) {
		mutex_lock(&pf->state_lock);
		locked = true;
	}
	ret = pd_ioc_encode(call, e, flags, cmd, arg, &pf->st, &front_ops,
			    &ctx, &msg);
	if (ret)
		goto out;
	immutable = pd_qcache_immutable(pf, cmd) && !pd_conn_is_dead(pf->conn);
	if (immutable) {
		/* the request body, after the header, is the key */
		hit = pd_qcache_find(pf->exp, msg.buf + sizeof(*hdr),
				     msg.len - sizeof(*hdr));
		if (hit) {
			body = kept = pd_qcache_reply(hit, &result, &rsp_len);
			if (!body) {
				ret = -ENOMEM;
				goto out;
			}
			pd_stats_cached(cmd);
			atomic64_inc(&pf->cached);
			goto complete;
		}
	}
	req = pd_req_from_msg(msg.buf, msg.len, PD_OP_IOCTL, pf->handle);
	if (!req) {
		ret = -ENOMEM;
		goto out;
	}
	msg.buf = NULL;		/* the request owns it now */
	if (nonblock)
		req->msg->flags |= PD_WIRE_F_NONBLOCK;
	if (!kernel && pd_file_async_ok(pf) &&
	    ((flags & PD_IOC_F_ASYNC) ||
	     ((flags & PD_IOC_F_ORDERED) &&
	      ordered_async(pf, cmd, call, req, fops, &made_field)))) {
		/* nothing comes back but its result, which a later call of
		 * the file reports if it is an error (pd_wire.h), and the
		 * state of the file it makes */
		if (made_field) {
			made_fd = made_prepare(pf, call, made_field, fops, req,
					       &made, &made_file);
			if (made_fd < 0) {
				ret = made_fd;
				goto out;
			}
		}
		pd_file_send_async(pf, req, made);
		req = NULL;
		if (made)
			fd_install(made_fd, made_file);
		ret = 0;
		goto out;
	}
	ctx.unknown_before = READ_ONCE(pf->conn->unknown_poll_events);
	tok = pd_file_op_begin(pf);
	ret = pd_req_run(pf->conn, req, kernel ? PD_WAIT_UNINTR : PD_WAIT_INTR);
	pd_file_op_end(pf, tok, ret ? NULL : req);
	if (ret)
		goto out;
	ctx.req = req;
	if (!req->rsp_len) {
		/* refused before the call: no body */
		ret = req->result < 0 ? pd_errno(req->result) : -EIO;
		goto out;
	}
	body = pd_rsp_body(req);
	result = req->result;
	rsp_len = req->rsp_len;
	/* kept before the completion, which writes into the reply */
	if (immutable)
		pd_qcache_add(pf->exp, req->msg + 1, req->msg_len - sizeof(*hdr),
			      result, body, rsp_len);
complete:
	ret = pd_ioc_complete(call, &pf->st, result, body, rsp_len,
			      &front_ops, &ctx);
	if (ret < 0)
		ret = pd_errno(ret);
	if (pf->exp && pf->exp->cls && pf->exp->cls->ioctl_fixup && !kernel)
		pf->exp->cls->ioctl_fixup(pf, cmd, arg, ret);
out:
	if (locked)
		mutex_unlock(&pf->state_lock);
	pd_req_put(req);
	kfree(kept);
	kvfree(msg.buf);
	call_put(pf->conn, call);
	return ret;
}

/* An ioctl of a program on a forwarded file. */
long pd_ioctl_forward(struct pd_file *pf, unsigned int cmd, u64 arg,
		      const struct file_operations *fops, bool nonblock)
{
	return pd_ioctl_run(pf, cmd, arg, false, fops, nonblock);
}

/* An identity query of the module itself (a class creating its node). */
long pd_ioctl_kernel(struct pd_file *pf, unsigned int cmd, void *arg)
{
	return pd_ioctl_run(pf, cmd, (u64)(unsigned long)arg, true, NULL, false);
}
