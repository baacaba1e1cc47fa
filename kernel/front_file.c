// SPDX-License-Identifier: GPL-2.0-only
/*
 * A forwarded file's life, below the file operations that use it: opening
 * an export on the backend, adopting a file the backend created in an
 * ioctl reply, and releasing or forgetting its handle. An open pd_file is
 * known to its connection by handle (conn->files), for events, and holds
 * a reference on the connection.
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/slab.h>

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

static struct pd_file *pd_file_new(struct pd_conn *conn, u32 handle,
				   u16 dev_class, u16 driver)
{
	struct pd_file *pf = kzalloc(sizeof(*pf), GFP_KERNEL);

	if (!pf)
		return NULL;
	pf->conn = conn;
	pf->handle = handle;
	pf->dev_class = dev_class;
	pf->driver = driver;
	mutex_init(&pf->state_lock);
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

/* Free pf without telling the backend (who owns the handle decides). */
void pd_file_forget(struct pd_file *pf)
{
	struct pd_conn *conn = pf->conn;

	xa_cmpxchg(&conn->files, pf->handle, pf, NULL, GFP_KERNEL);
	if (pf->real)
		fput(pf->real);
	pd_conn_put(conn);
	kfree(pf);
}

/* Release the handle on the backend and free pf. */
void pd_file_close(struct pd_file *pf)
{
	struct pd_conn *conn = pf->conn;

	xa_cmpxchg(&conn->files, pf->handle, pf, NULL, GFP_KERNEL);
	if (!pd_conn_is_dead(conn))
		pd_file_simple(pf, PD_OP_RELEASE);
	if (pf->real)
		fput(pf->real);
	pd_conn_put(conn);
	kfree(pf);
}
