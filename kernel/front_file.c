// SPDX-License-Identifier: GPL-2.0-only
/*
 * A forwarded file's life, below the file operations that use it: opening
 * an export on the backend, adopting a file the backend created in an
 * ioctl reply, and releasing or forgetting its handle. An open pd_file is
 * known to its connection by handle (conn->files), for events, and holds
 * a reference on the connection.
 *
 * Also what a file does not wait for (pd_wire.h, "Requests nobody waits
 * for"): asynchronous requests about it, whose errors it keeps for its
 * next synchronous call, and the poll readiness it believes (struct
 * pd_file_async, rules in common/pd_async.h). A file an ioctl made (a
 * fence, a PRIME buffer) is flushed and released without a trip: its
 * real file (a sync_file, dma-buf or syncobj) has no ->flush, and
 * close(2) ignores ->release's result natively too.
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/input.h>
#include <linux/slab.h>
#include <drm/drm.h>

#include "front.h"

static u32 wire_open_flags(unsigned int f_flags)
{
	u32 fl;

	switch (f_flags & O_ACCMODE) {
	case O_WRONLY:
		fl = PD_WIRE_O_WRONLY;
		break;
	case O_RDWR:
		fl = PD_WIRE_O_RDWR;
		break;
	default:
		fl = PD_WIRE_O_RDONLY;
		break;
	}
	if (f_flags & O_NONBLOCK)
		fl |= PD_WIRE_O_NONBLOCK;
	return fl;
}

static void pd_file_async_put(struct pd_file_async *as)
{
	if (as && refcount_dec_and_test(&as->ref))
		kfree(as);
}

static struct pd_file *pd_file_new(struct pd_conn *conn, u32 handle,
				   u16 dev_class, u16 driver)
{
	struct pd_file *pf = kzalloc(sizeof(*pf), GFP_KERNEL);

	if (!pf)
		return NULL;
	pf->as = kzalloc(sizeof(*pf->as), GFP_KERNEL);
	if (!pf->as) {
		kfree(pf);
		return NULL;
	}
	refcount_set(&pf->as->ref, 1);
	spin_lock_init(&pf->as->lock);
	pf->as->handle = handle;
	pf->conn = conn;
	pf->handle = handle;
	pf->dev_class = dev_class;
	pf->driver = driver;
	mutex_init(&pf->state_lock);
	mutex_init(&pf->ev_read_lock);
	init_waitqueue_head(&pf->poll_wq);
	return pf;
}

/* Send a body-less request about a file and wait for its result. */
int pd_file_simple(struct pd_file *pf, u16 op)
{
	struct pd_req *req = pd_req_alloc(op, pf->handle, 0);
	int ret;

	if (!req)
		return -ENOMEM;
	ret = pd_req_run(pf->conn, req, PD_WAIT_UNINTR);
	if (!ret)
		ret = req->result < 0 ? (int)pd_errno(req->result) : 0;
	pd_req_put(req);
	return ret;
}

/* May requests about pf go without waiting (agreed at CONNECT)? */
bool pd_file_async_ok(struct pd_file *pf)
{
	return pf->conn->features & PD_WIRE_FEAT_ASYNC;
}

/* The ioctl command an asynchronous request carries, or 0. */
static u32 req_ioctl_cmd(struct pd_req *req)
{
	if (req->msg->op != PD_OP_IOCTL ||
	    req->msg_len < sizeof(*req->msg) + sizeof(struct pd_wire_ioctl_req))
		return 0;
	return ((struct pd_wire_ioctl_req *)pd_req_body(req))->cmd;
}

/*
 * The file an asynchronous ioctl made under a handle the guest named
 * (pd_wire.h 1.8): the readiness its reply carried for it, believed as a
 * poll reply sent when the ioctl went (and not if the file was used in
 * between). Its events reach it from before the ioctl went, so none was
 * lost. Without a state (an error: the handle names nothing) its first
 * poll travels.
 */
static void made_state(struct pd_req *req)
{
	struct pd_file_async *made = req->made;
	struct pd_wire_poll_state ps;
	unsigned long flags;

	if (req->result >= 0 && pd_req_poll_state(req, made->handle, &ps)) {
		spin_lock_irqsave(&made->lock, flags);
		pd_pollc_poll_reply(&made->pc, req->made_tok, ps.events,
				    ps.seq, ps.revents, true);
		spin_unlock_irqrestore(&made->lock, flags);
	}
	req->made = NULL;
	pd_file_async_put(made);
}

/*
 * The reply of an asynchronous request about a file (in the completer's
 * context, maybe the interrupt): its error kept for the file's next
 * synchronous call, the file's poll readiness believed again.
 */
static void pd_file_async_done(struct pd_req *req)
{
	struct pd_file_async *as = req->priv;
	bool flip = req_ioctl_cmd(req) == DRM_IOCTL_MODE_PAGE_FLIP;
	u16 op = req->msg->op;
	unsigned long flags;
	int err = 0;

	if (req->result < 0) {
		err = (int)pd_errno(req->result);
		pr_info_ratelimited("paradice: asynchronous op %u on handle %u: error %d%s\n",
				    op, as->handle, err,
				    op == PD_OP_RELEASE ? " (ignored)" :
				    " (for the file's next call)");
	}
	spin_lock_irqsave(&as->lock, flags);
	if (err && flip)	/* a failed flip sends no event (front_drm.c) */
		pd_flips_failed(&as->flips);
	if (op != PD_OP_RELEASE)
		pd_async_err_set(&as->err, err);
	if (op != PD_OP_POLL)
		pd_pollc_op_end(&as->pc);
	spin_unlock_irqrestore(&as->lock, flags);
	pd_file_async_put(as);
	if (req->made)
		made_state(req);
}

/*
 * Send req about pf without waiting for its reply (pd_file_async_ok()
 * must hold). The reply, or the connection's end, goes to
 * pd_file_async_done(), which may outlive pf. made: the file the ioctl
 * will make under the handle it names (pd_file_adopt_named()), or NULL.
 */
void pd_file_send_async(struct pd_file *pf, struct pd_req *req,
			struct pd_file *made)
{
	u32 cmd = req_ioctl_cmd(req);
	unsigned long flags;

	if (req->msg->op != PD_OP_POLL)
		(void)pd_file_op_begin(pf);
	if (made) {
		refcount_inc(&made->as->ref);
		req->made = made->as;
		spin_lock_irqsave(&made->as->lock, flags);
		req->made_tok = pd_pollc_poll_begin(&made->as->pc);
		spin_unlock_irqrestore(&made->as->lock, flags);
	}
	refcount_inc(&pf->as->ref);
	req->priv = pf->as;
	req->on_reply = pd_file_async_done;
	req->msg->flags |= PD_WIRE_F_ASYNC;
	pd_stats_async(req->msg->op, cmd);
	pd_req_send_orphan(pf->conn, req);
}

/* The error an asynchronous request about pf left, now reported (and
 * forgotten), or 0. */
int pd_file_async_err(struct pd_file *pf)
{
	unsigned long flags;
	int err;

	if (!READ_ONCE(pf->as->err.err))
		return 0;
	spin_lock_irqsave(&pf->as->lock, flags);
	err = pd_async_err_take(&pf->as->err);
	spin_unlock_irqrestore(&pf->as->lock, flags);
	return err;
}

/* A request other than a poll about pf goes out (it may change its
 * readiness): the token its reply's poll state must show. */
struct pd_pollc_tok pd_file_op_begin(struct pd_file *pf)
{
	struct pd_pollc_tok tok;
	unsigned long flags;

	spin_lock_irqsave(&pf->as->lock, flags);
	tok = pd_pollc_op_begin(&pf->as->pc);
	spin_unlock_irqrestore(&pf->as->lock, flags);
	return tok;
}

/* Do replies carry poll states, registrations stay armed (pd_wire.h)? */
bool pd_file_poll_state_ok(const struct pd_conn *conn)
{
	const u64 need = PD_WIRE_FEAT_POLL_STATE | PD_WIRE_FEAT_POLL_SEQ |
			 PD_WIRE_FEAT_POLL_EVENTS;

	return (conn->features & need) == need;
}

/*
 * ... and has come back: req (NULL if it never went), whose reply may
 * carry pf's readiness after it ran (PD_WIRE_F_POLL_STATE).
 */
void pd_file_op_end(struct pd_file *pf, struct pd_pollc_tok tok,
		    const struct pd_req *req)
{
	struct pd_wire_poll_state ps;
	unsigned long flags;
	bool have;

	have = pd_file_poll_state_ok(pf->conn) &&
	       pd_req_poll_state(req, pf->handle, &ps);
	spin_lock_irqsave(&pf->as->lock, flags);
	if (have)
		pd_pollc_op_end_state(&pf->as->pc, tok, ps.events, ps.seq,
				      ps.revents);
	else
		pd_pollc_op_end(&pf->as->pc);
	spin_unlock_irqrestore(&pf->as->lock, flags);
}

/*
 * pf was just made by the ioctl of req and is published (events for it
 * reach it from now on): the state its reply carried for it, if the
 * backend armed it (a sync_file), is believed unless an event for a
 * handle the frontend did not know came since the ioctl went
 * (unknown_before: conn->unknown_poll_events then). Such an event may
 * have been pf's own, dropped before pf existed, and then its readiness
 * would never be told again.
 */
void pd_file_new_state(struct pd_file *pf, const struct pd_req *req,
		       u32 unknown_before)
{
	struct pd_wire_poll_state ps;
	struct pd_pollc_tok tok;
	unsigned long flags;
	bool lost;

	if (!pd_file_poll_state_ok(pf->conn) ||
	    !pd_req_poll_state(req, pf->handle, &ps))
		return;
	xa_lock(&pf->conn->files);
	lost = pf->conn->unknown_poll_events != unknown_before;
	xa_unlock(&pf->conn->files);
	if (lost)
		return;
	spin_lock_irqsave(&pf->as->lock, flags);
	tok = pd_pollc_poll_begin(&pf->as->pc);
	pd_pollc_poll_reply(&pf->as->pc, tok, ps.events, ps.seq, ps.revents,
			    true);
	spin_unlock_irqrestore(&pf->as->lock, flags);
}

/*
 * Make pf known under its handle (for events) and give it the real file
 * the transport may hold for the handle. On failure the handle is
 * released and pf freed; the caller's connection reference is dropped.
 */
static int pd_file_publish(struct pd_file *pf)
{
	int ret;

	if (pf->conn->tp->take_real_file)
		pf->real = pf->conn->tp->take_real_file(pf->conn, pf->handle);
	ret = xa_insert(&pf->conn->files, pf->handle, pf, GFP_KERNEL);
	if (ret) {
		pr_warn_ratelimited("paradice: conn %u: handle %u given twice\n",
				    pf->conn->id, pf->handle);
		pd_file_forget(pf);
	}
	return ret;
}

/*
 * Open export `exp` on the backend. The caller gives a reference on the
 * connection, which the new file keeps (or which is dropped on failure).
 */
struct pd_file *pd_file_open(struct pd_export *exp, unsigned int f_flags,
			     int *err)
{
	struct pd_conn *conn = exp->conn;
	struct pd_wire_open_req *body;
	struct pd_wire_open_rsp rsp;
	struct pd_file *pf;
	struct pd_req *req;
	int ret;

	req = pd_req_alloc(PD_OP_OPEN, PD_WIRE_HANDLE_NONE, sizeof(*body));
	if (!req) {
		ret = -ENOMEM;
		goto fail;
	}
	body = pd_req_body(req);
	body->index = exp->index;
	body->flags = wire_open_flags(f_flags);
	ret = pd_req_run(conn, req, PD_WAIT_INTR);
	if (!ret && req->result < 0)
		ret = (int)pd_errno(req->result);
	if (!ret && req->rsp_len != sizeof(rsp))
		ret = -EIO;
	if (ret) {
		pd_req_put(req);
		goto fail;
	}
	memcpy(&rsp, pd_rsp_body(req), sizeof(rsp));
	pd_req_put(req);
	if (rsp.class != exp->info.class || rsp.driver != exp->info.driver ||
	    rsp.handle == PD_WIRE_HANDLE_NONE) {
		ret = -EIO;
		goto fail;
	}
	pf = pd_file_new(conn, rsp.handle, rsp.class, rsp.driver);
	if (!pf) {
		ret = -ENOMEM;
		goto fail;
	}
	pf->exp = exp;
	/* its backend pushes a DRM or evdev file's events (pd_wire.h 1.5) */
	if ((rsp.class == PD_WIRE_CLASS_DRM ||
	     rsp.class == PD_WIRE_CLASS_EVDEV) &&
	    (conn->features & PD_WIRE_FEAT_EVENT_PUSH)) {
		pf->evbuf = kzalloc(sizeof(*pf->evbuf), GFP_KERNEL);
		if (!pf->evbuf) {
			pd_file_close(pf);
			*err = -ENOMEM;
			return NULL;
		}
		if (rsp.class == PD_WIRE_CLASS_EVDEV)
			pf->evbuf->rec = sizeof(struct input_event);
	}
	ret = pd_file_publish(pf);
	if (ret) {
		*err = ret;
		return NULL;
	}
	return pf;
fail:
	pd_conn_put(conn);
	*err = ret;
	return NULL;
}

/* A file the backend created in an ioctl reply (PRIME, EXPBUF). */
struct pd_file *pd_file_adopt(struct pd_conn *conn, u32 handle, int *err)
{
	struct pd_file *pf;

	pd_conn_get(conn);
	pf = pd_file_new(conn, handle, PD_WIRE_CLASS_NONE, PD_WIRE_DRIVER_NONE);
	if (!pf) {
		pd_conn_put(conn);
		*err = -ENOMEM;
		return NULL;
	}
	*err = pd_file_publish(pf);
	return *err ? NULL : pf;
}

/*
 * A file an asynchronous ioctl is about to make (pd_wire.h 1.8), under a
 * handle the guest names, published before the ioctl goes so that no
 * event about it is lost. Handles are taken in turn through the whole
 * named range (about a million), not the lowest free one: a number comes
 * back only long after its file's RELEASE went, so neither the backend's
 * reservation (EBUSY while still open) nor a late event of the old file
 * can meet the new one.
 */
struct pd_file *pd_file_adopt_named(struct pd_conn *conn, int *err)
{
	struct pd_file *pf;
	u32 handle;
	int ret;

	pd_conn_get(conn);
	pf = pd_file_new(conn, PD_WIRE_HANDLE_NONE, PD_WIRE_CLASS_NONE,
			 PD_WIRE_DRIVER_NONE);
	if (!pf) {
		pd_conn_put(conn);
		*err = -ENOMEM;
		return NULL;
	}
	ret = xa_alloc_cyclic(&conn->files, &handle, pf,
			      XA_LIMIT(PD_WIRE_HANDLE_NAMED_MIN,
				       PD_WIRE_HANDLE_NONE - 1),
			      &conn->next_named, GFP_KERNEL);
	if (ret < 0) {
		pd_conn_put(conn);
		pd_file_async_put(pf->as);
		kfree(pf);
		*err = ret;
		return NULL;
	}
	/* no event names it before its ioctl went */
	pf->handle = handle;
	pf->as->handle = handle;
	return pf;
}

/* Free pf without telling the backend (who owns the handle decides). */
void pd_file_forget(struct pd_file *pf)
{
	struct pd_conn *conn = pf->conn;

	xa_cmpxchg(&conn->files, pf->handle, pf, NULL, GFP_KERNEL);
	if (pf->real)
		fput(pf->real);
	pd_conn_put(conn);
	pd_file_async_put(pf->as);
	kfree(pf->evbuf);
	kfree(pf);
}

/* Is pf a file an ioctl made (no export), released without a trip? */
bool pd_file_made(const struct pd_file *pf)
{
	return !pf->exp;
}

/*
 * Release the handle on the backend and free pf. A file an ioctl made
 * goes without waiting (see the top); the backend runs the RELEASE before
 * any later request.
 */
void pd_file_close(struct pd_file *pf)
{
	struct pd_conn *conn = pf->conn;
	struct pd_req *req;

	xa_cmpxchg(&conn->files, pf->handle, pf, NULL, GFP_KERNEL);
	if (!pd_conn_is_dead(conn)) {
		req = NULL;
		if (pd_file_made(pf) && pd_file_async_ok(pf))
			req = pd_req_alloc(PD_OP_RELEASE, pf->handle, 0);
		if (req)
			pd_file_send_async(pf, req, NULL);
		else
			pd_file_simple(pf, PD_OP_RELEASE);
	}
	if (pf->real)
		fput(pf->real);
	pd_conn_put(conn);
	pd_file_async_put(pf->as);
	kfree(pf->evbuf);
	kfree(pf);
}
