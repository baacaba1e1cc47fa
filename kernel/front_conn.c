// SPDX-License-Identifier: GPL-2.0-only
/*
 * A connection's life, the same for every transport (see the state
 * diagram in pd_wire.h): CONNECT with version and feature negotiation,
 * the export list, the guest nodes, and their removal when the
 * connection closes.
 */
#include <linux/idr.h>
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/poll.h>
#include <linux/slab.h>

#include "front.h"

static DEFINE_IDA(conn_ida);

/* Requests nobody waits for and poll readiness kept here (pd_wire.h 1.4):
 * offered to the backend at CONNECT unless turned off (pdfront.async=0,
 * read at each connection's CONNECT). */
static bool async = true;
module_param(async, bool, 0644);
MODULE_PARM_DESC(async, "offer asynchronous requests and poll sequences (wire 1.4)");

/* Poll states in replies, "not ready" answered here (pd_wire.h 1.5): with
 * async, unless turned off (pdfront.pollstate=0, read at CONNECT). */
static bool pollstate = true;
module_param(pollstate, bool, 0644);
MODULE_PARM_DESC(pollstate, "offer poll states in replies (wire 1.5; needs async)");
/* A DRM or evdev file's events pushed into the guest (pd_wire.h 1.6): with
 * async, unless turned off (pdfront.push=0, read at CONNECT). */
static bool push = true;
module_param(push, bool, 0644);
MODULE_PARM_DESC(push, "offer DRM and evdev events pushed into the guest (wire 1.6; needs async)");

/* Page flips and submissions without a wait (pd_wire.h 1.7): with async,
 * unless turned off (pdfront.ordered=0, read at CONNECT). */
static bool ordered = true;
module_param(ordered, bool, 0644);
MODULE_PARM_DESC(ordered, "offer page flips and submissions nobody waits for (wire 1.7; needs async)");

/* Submissions that make a fence without a wait, its handle named by the
 * guest (pd_wire.h 1.8): with ordered, unless turned off (pdfront.named=0,
 * read at CONNECT). */
static bool named = true;
module_param(named, bool, 0644);
MODULE_PARM_DESC(named, "offer submissions that make their fence without a wait (wire 1.8; needs ordered)");

static u64 pd_conn_offer(struct pd_conn *conn)
{
	u64 f = conn->tp->features | PD_WIRE_FEAT_CLOCK | PD_WIRE_FEAT_CONTROL;

	if (READ_ONCE(async)) {
		f |= PD_WIRE_FEAT_ASYNC | PD_WIRE_FEAT_POLL_SEQ;
		if (READ_ONCE(pollstate))
			f |= PD_WIRE_FEAT_POLL_STATE;
		if (READ_ONCE(push))
			f |= PD_WIRE_FEAT_EVENT_PUSH;
		if (READ_ONCE(ordered))
			f |= PD_WIRE_FEAT_ASYNC_ORDERED;
		if (READ_ONCE(ordered) && READ_ONCE(named))
			f |= PD_WIRE_FEAT_NEWFD_NAMED;
	}
	return f;
}

struct pd_conn *pd_conn_create(const struct pd_transport_ops *tp,
			       void *tp_priv)
{
	struct pd_conn *conn = kzalloc(sizeof(*conn), GFP_KERNEL);
	int id;

	if (!conn)
		return NULL;
	id = ida_alloc(&conn_ida, GFP_KERNEL);
	if (id < 0) {
		kfree(conn);
		return NULL;
	}
	conn->id = id;
	kref_init(&conn->ref);
	conn->tp = tp;
	conn->tp_priv = tp_priv;
	/* replies complete requests from the transport's interrupt handler */
	xa_init_flags(&conn->reqs, XA_FLAGS_LOCK_IRQ);
	xa_init_flags(&conn->files, XA_FLAGS_ALLOC);	/* named handles */
	xa_init(&conn->maps);
	init_waitqueue_head(&conn->setup_wq);
	mutex_init(&conn->nodes_lock);
	INIT_LIST_HEAD(&conn->snd_cards);
	spin_lock_init(&conn->call_lock);
	spin_lock_init(&conn->qcache_lock);
	return conn;
}

static void pd_conn_free(struct kref *ref)
{
	struct pd_conn *conn = container_of(ref, struct pd_conn, ref);
	unsigned int i;

	if (conn->tp->destroy)
		conn->tp->destroy(conn);
	WARN_ON(!xa_empty(&conn->reqs));
	xa_destroy(&conn->reqs);
	xa_destroy(&conn->files);
	WARN_ON(!xa_empty(&conn->maps));
	xa_destroy(&conn->maps);
	pd_ioctl_conn_finish(conn);
	for (i = 0; i < conn->nexports; i++)
		pd_qcache_free(&conn->exports[i]);
	kfree(conn->exports);
	ida_free(&conn_ida, conn->id);
	kfree(conn);
	module_put(THIS_MODULE);
}

void pd_conn_put(struct pd_conn *conn)
{
	if (conn)
		kref_put(&conn->ref, pd_conn_free);
}

/* Send a small request with a fixed body and wait; the reply's body must
 * be exactly rsp_size bytes when the result is not an error.
 */
int pd_conn_call(struct pd_conn *conn, u16 op, const void *body,
			u32 body_len, void *rsp, u32 rsp_size)
{
	struct pd_req *req = pd_req_alloc(op, PD_WIRE_HANDLE_NONE, body_len);
	int ret;

	if (!req)
		return -ENOMEM;
	memcpy(pd_req_body(req), body, body_len);
	ret = pd_req_run(conn, req, PD_WAIT_UNINTR);
	if (!ret && req->result < 0)
		ret = req->result < -MAX_ERRNO ? -EIO : (int)req->result;
	if (!ret && req->rsp_len != rsp_size)
		ret = -EIO;
	if (!ret)
		memcpy(rsp, pd_rsp_body(req), rsp_size);
	pd_req_put(req);
	return ret;
}

/* Check one export's description from the backend. */
static int pd_export_check(const struct pd_wire_export *e)
{
	if (e->class == PD_WIRE_CLASS_NONE || e->class >= PD_WIRE_CLASS_COUNT)
		return -EINVAL;
	if (e->driver >= PD_WIRE_DRIVER_COUNT)
		return -EINVAL;
	if (e->class == PD_WIRE_CLASS_DRM && e->driver == PD_WIRE_DRIVER_NONE)
		return -EINVAL;
	if (!memchr(e->name, 0, sizeof(e->name)) || !e->name[0])
		return -EINVAL;
	if (e->mode & ~0777u)
		return -EINVAL;
	return 0;
}

static int pd_conn_handshake(struct pd_conn *conn)
{
	struct pd_wire_connect c = {
		.major = PD_WIRE_VERSION_MAJOR,
		.minor = PD_WIRE_VERSION_MINOR,
		.max_msg = PD_WIRE_MAX_MSG,
		/* the clock offsets and the control file need nothing of
		 * the transport */
		.features = pd_conn_offer(conn),
		.max_inflight = 1024,
	}, r;
	struct pd_wire_export_req er = { 0 };
	unsigned int i;
	int ret;

	ret = pd_conn_call(conn, PD_OP_CONNECT, &c, sizeof(c), &r, sizeof(r));
	if (ret)
		return ret;
	if (r.major != PD_WIRE_VERSION_MAJOR) {
		pr_err("paradice: backend speaks wire ABI %u, we speak %u\n",
		       r.major, PD_WIRE_VERSION_MAJOR);
		return -EPROTO;
	}
	if (r.nexports > PD_WIRE_MAX_EXPORTS || r.max_msg < 4096)
		return -EPROTO;
	conn->features = r.features & c.features;
	conn->max_msg = min_t(u32, r.max_msg, PD_WIRE_MAX_MSG);
	conn->exports = kcalloc(r.nexports ?: 1, sizeof(*conn->exports),
				GFP_KERNEL);
	if (!conn->exports)
		return -ENOMEM;
	for (i = 0; i < r.nexports; i++) {
		struct pd_export *exp = &conn->exports[i];

		exp->conn = conn;
		exp->index = i;
		er.index = i;
		ret = pd_conn_call(conn, PD_OP_EXPORT_INFO, &er, sizeof(er),
				   &exp->info, sizeof(exp->info));
		if (!ret)
			ret = pd_export_check(&exp->info);
		if (ret) {
			pr_err("paradice: conn %u: export %u: bad description (%d)\n",
			       conn->id, i, ret);
			return ret;
		}
	}
	/* release: whoever reads nexports (pd_conn_close, the NODES ioctl)
	 * also sees the exports it counts
	 */
	smp_store_release(&conn->nexports, r.nexports);
	return 0;
}

/*
 * The setup of a connection, in a work item: the backend only starts
 * reading requests after its open() of the transport returned. Nodes of
 * the exports are created one by one; one that fails is logged and
 * left out, the others still appear.
 */
static void pd_conn_setup(struct work_struct *work)
{
	struct pd_conn *conn = container_of(work, struct pd_conn, setup_work);
	unsigned int i;
	int ret;

	ret = pd_conn_handshake(conn);
	if (ret)
		goto out;
	/* before any node: the first time a guest program reads is in its
	 * own clock (a backend that fails this keeps its own clocks) */
	if (pd_clock_sync(conn))
		pr_warn("paradice: conn %u: clock offsets not set; times are the backend's\n",
			conn->id);
	pd_clock_start(conn);

	mutex_lock(&conn->nodes_lock);
	if (conn->nodes_gone) {
		mutex_unlock(&conn->nodes_lock);
		ret = -EIO;
		goto out;
	}
	conn->pdev = platform_device_register_simple(PD_FRONT_NAME, conn->id,
						     NULL, 0);
	if (IS_ERR(conn->pdev)) {
		ret = PTR_ERR(conn->pdev);
		conn->pdev = NULL;
		mutex_unlock(&conn->nodes_lock);
		goto out;
	}
	for (i = 0; i < conn->nexports; i++) {
		struct pd_export *exp = &conn->exports[i];
		int err;

		exp->cls = pd_class_find(exp->info.class);
		err = exp->cls ? exp->cls->create(exp) : -EOPNOTSUPP;
		if (err) {
			pr_warn("paradice: conn %u: no node for export %u (%s, class %u): %d\n",
				conn->id, i, exp->info.name, exp->info.class,
				err);
			continue;
		}
		exp->created = true;
		pr_info("paradice: conn %u: %s forwards export %u (%s)\n",
			conn->id, exp->path, i, exp->info.name);
	}
	mutex_unlock(&conn->nodes_lock);
out:
	if (ret)
		pr_err("paradice: conn %u: setup failed: %d\n", conn->id, ret);
	conn->setup_status = ret;
	/* release: a waiter that sees setup_done sees the status and nodes */
	smp_store_release(&conn->setup_done, true);
	wake_up_all(&conn->setup_wq);
	pd_conn_put(conn);
}

/* The transport is ready to carry messages: start the setup. */
void pd_conn_start(struct pd_conn *conn)
{
	__module_get(THIS_MODULE);	/* dropped in pd_conn_free */
	INIT_WORK(&conn->setup_work, pd_conn_setup);
	pd_conn_get(conn);
	schedule_work(&conn->setup_work);
}

/*
 * The transport is closing: fail every request (the setup work, if it
 * still waits for replies, then finishes), remove the nodes. Open files
 * stay valid and get -EIO. After this returns the connection never calls
 * its transport again.
 */
void pd_conn_close(struct pd_conn *conn)
{
	struct pd_file *pf;
	unsigned long h;
	unsigned int i;

	pd_conn_fail_all(conn);
	/* the backend's pages leave every mapping of this connection */
	if (conn->tp->conn_closed)
		conn->tp->conn_closed(conn);
	/* programs asleep in poll/select on an open file learn it now (the
	 * xarray's lock keeps pf alive: files leave it before being freed)
	 */
	xa_lock(&conn->files);
	xa_for_each(&conn->files, h, pf) {
		wake_up_poll(&pf->poll_wq, EPOLLERR | EPOLLHUP);
		kill_fasync(&pf->fasync, SIGIO, POLL_HUP);
	}
	xa_unlock(&conn->files);
	flush_work(&conn->setup_work);
	pd_clock_stop(conn);

	mutex_lock(&conn->nodes_lock);
	conn->nodes_gone = true;
	for (i = 0; i < conn->nexports; i++) {
		struct pd_export *exp = &conn->exports[i];

		if (!exp->created)
			continue;
		exp->cls->destroy(exp);
		exp->created = false;
	}
	pd_classes_conn_closed(conn);
	if (conn->pdev)
		platform_device_unregister(conn->pdev);
	conn->pdev = NULL;
	mutex_unlock(&conn->nodes_lock);
}
