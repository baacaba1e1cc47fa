// SPDX-License-Identifier: GPL-2.0-only
/*
 * Requests: ids, many in flight, replies in any order, waits that a signal
 * interrupts cleanly, and failing everything when a connection dies.
 *
 * Every request in flight is in conn->reqs under its id. Three parties
 * race for a request: the completer (a reply arrived), the waiter giving
 * up (fatal signal) and the connection dying. Whoever erases the request
 * from conn->reqs, under the xarray's lock, owns its completion; the others
 * find nothing there. The waiter frees a request only after it has either
 * seen the completion or erased the request itself, so a completer never
 * touches freed memory. The transport holds its own reference while it
 * copies a message out.
 *
 * A transport may complete requests from its interrupt handler (Xen), so
 * the table's lock is taken with interrupts off, and whatever a completer
 * frees there (the reply of a request nobody waits for, an orphan) is
 * small kmalloc memory.
 */
#include <linux/ktime.h>
#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/sched/signal.h>
#include <linux/processor.h>

#include "front.h"

struct pd_req *pd_req_from_msg(void *msg, u32 len, u16 op, u32 handle)
{
	struct pd_req *req = kzalloc(sizeof(*req), GFP_KERNEL);
	struct pd_wire_hdr *hdr = msg;

	if (!req)
		return NULL;
	INIT_LIST_HEAD(&req->queue);
	refcount_set(&req->ref, 1);
	init_completion(&req->done);
	memset(hdr, 0, sizeof(*hdr));
	hdr->op = op;
	hdr->handle = handle;
	hdr->len = len - sizeof(*hdr);
	req->msg = hdr;
	req->msg_len = len;
	return req;
}

/* A request with room for body_len bytes of body after its header. */
struct pd_req *pd_req_alloc(u16 op, u32 handle, u32 body_len)
{
	u32 len = sizeof(struct pd_wire_hdr) + body_len;
	void *msg = kvzalloc(len, GFP_KERNEL);
	struct pd_req *req;

	if (!msg)
		return NULL;
	req = pd_req_from_msg(msg, len, op, handle);
	if (!req)
		kvfree(msg);
	return req;
}

void pd_req_put(struct pd_req *req)
{
	if (!req || !refcount_dec_and_test(&req->ref))
		return;
	kvfree(req->msg);
	kvfree(req->rsp);
	kfree(req);
}

/* Give a request its id and put it in the table; -EIO if dead. */
static int pd_req_enter(struct pd_conn *conn, struct pd_req *req)
{
	int ret;

	xa_lock_irq(&conn->reqs);
	if (conn->dead) {
		xa_unlock_irq(&conn->reqs);
		return -EIO;
	}
	req->id = ++conn->next_id;
	req->msg->id = req->id;
	ret = xa_err(__xa_store(&conn->reqs, req->id, req, GFP_ATOMIC));
	xa_unlock_irq(&conn->reqs);
	return ret;
}

/* Take a request out of the table; true if it was still there. */
static bool pd_req_leave(struct pd_conn *conn, struct pd_req *req)
{
	return xa_erase_irq(&conn->reqs, req->id) == req;
}

/* A CANCEL for a request the backend may be blocked in. Nobody waits for
 * its reply: the completer frees it.
 */
static void pd_req_send_cancel(struct pd_conn *conn, u64 target)
{
	struct pd_wire_cancel_req *body;
	struct pd_req *req;

	if (!(conn->features & PD_WIRE_FEAT_CANCEL))
		return;
	req = pd_req_alloc(PD_OP_CANCEL, PD_WIRE_HANDLE_NONE, sizeof(*body));
	if (!req)
		return;
	body = pd_req_body(req);
	body->target = target;
	pd_req_send_orphan(conn, req);
}

/* An orphan that never went: its on_reply hears -EIO, then it is freed. */
static void pd_req_orphan_failed(struct pd_req *req)
{
	req->result = -EIO;
	if (req->on_reply)
		req->on_reply(req);
	pd_req_put(req);
}

/* Send req and do not wait: its reply (or the connection's end) frees it,
 * after telling req->on_reply, if set. */
void pd_req_send_orphan(struct pd_conn *conn, struct pd_req *req)
{
	req->orphan = true;
	if (pd_req_enter(conn, req)) {
		pd_req_orphan_failed(req);
		return;
	}
	if (conn->tp->send(conn, req) && pd_req_leave(conn, req))
		pd_req_orphan_failed(req);
}

/*
 * Send a request and wait for its reply. Returns 0 when the reply is in
 * req->rsp/req->result, -EIO when the connection died, -ERESTARTSYS when a
 * signal interrupted the wait (the request never reached the backend, or
 * the backend cancelled it), -EINTR when a fatal signal made us give up.
 *
 * A signal during PD_WAIT_INTR takes back a request still queued; one the
 * backend already has gets a PD_OP_CANCEL, and we wait (killable) for its
 * reply: a request that finished anyway keeps its result, so no data a
 * read consumed is lost.
 */
static int pd_req_wait(struct pd_conn *conn, struct pd_req *req, int mode);

/*
 * The adaptive spin. Sleeping on a completion and being woken costs two
 * context switches and, in a guest, often an idle vCPU's wake-up: more
 * than a whole trip when the backend answers in tens of microseconds.
 * Where the last PD_SPIN_AFTER replies of this connection came within
 * PD_SPIN_NS, the caller first polls its completion for at most that
 * long (the reply completes it from the transport's interrupt handler,
 * which the spinning CPU takes); else, or when the spin runs out, it
 * sleeps as before. Under emulation (trips of milliseconds) it never
 * spins.
 */
#define PD_SPIN_NS	(30 * NSEC_PER_USEC)
#define PD_SPIN_AFTER	2

static void pd_req_spin(struct pd_conn *conn, struct pd_req *req)
{
	u64 end;

	if (READ_ONCE(conn->fast_replies) < PD_SPIN_AFTER)
		return;
	end = ktime_get_ns() + PD_SPIN_NS;
	while (!completion_done(&req->done)) {
		if (need_resched() || signal_pending(current) ||
		    ktime_get_ns() > end) {
			pd_stats_spin(false);
			return;
		}
		cpu_relax();
	}
	pd_stats_spin(true);
}

/* A reply came after trip_ns: count it for the spin. */
static void pd_req_note_trip(struct pd_conn *conn, u64 trip_ns)
{
	unsigned int n = READ_ONCE(conn->fast_replies);

	if (trip_ns > PD_SPIN_NS)
		n = 0;
	else if (n < PD_SPIN_AFTER)
		n++;
	WRITE_ONCE(conn->fast_replies, n);
}

int pd_req_run(struct pd_conn *conn, struct pd_req *req, int mode)
{
	u64 start = ktime_get_ns(), end;
	int ret = pd_req_wait(conn, req, mode);
	u32 cmd = 0;

	if (!ret && req->reply_ns) {
		end = ktime_get_ns();
		pd_req_note_trip(conn, req->reply_ns > start ?
				 req->reply_ns - start : 0);
		if (req->msg->op == PD_OP_IOCTL &&
		    req->msg_len >= sizeof(*req->msg) +
				    sizeof(struct pd_wire_ioctl_req))
			cmd = ((struct pd_wire_ioctl_req *)pd_req_body(req))->cmd;
		pd_stats_trip(req->msg->op, cmd, end - start,
			      end > req->reply_ns ? end - req->reply_ns : 0);
		pd_stats_file_trip(conn, req->msg->handle, end - start);
	}

	/* a broken backend may answer a request it has not read yet: the
	 * transport must not keep a request its owner is about to free
	 */
	conn->tp->unsend(conn, req);
	return ret;
}

static int pd_req_wait(struct pd_conn *conn, struct pd_req *req, int mode)
{
	int ret;

	ret = pd_req_enter(conn, req);
	if (ret)
		return ret;
	ret = conn->tp->send(conn, req);
	if (ret) {
		if (pd_req_leave(conn, req))
			return ret;
		wait_for_completion(&req->done);
		return req->rsp ? 0 : -EIO;
	}
	pd_req_spin(conn, req);
	if (mode == PD_WAIT_UNINTR) {
		if (!wait_for_completion_killable(&req->done))
			return req->rsp ? 0 : -EIO;
		/* killed: give the request up, whatever the backend does */
		conn->tp->unsend(conn, req);
		if (pd_req_leave(conn, req))
			return -EINTR;
		wait_for_completion(&req->done);
		return req->rsp ? 0 : -EIO;
	}
	if (!wait_for_completion_interruptible(&req->done))
		return req->rsp ? 0 : -EIO;

	if (conn->tp->unsend(conn, req) && pd_req_leave(conn, req))
		return -ERESTARTSYS;
	pd_req_send_cancel(conn, req->id);
	if (wait_for_completion_killable(&req->done)) {
		if (pd_req_leave(conn, req))
			return -EINTR;
		/* completed meanwhile: the reply is ours after all */
		wait_for_completion(&req->done);
	}
	if (!req->rsp)
		return -EIO;
	if (req->result == -EINTR)
		return -ERESTARTSYS;
	return 0;
}

/*
 * Take the poll state records off the end of req's reply body
 * (PD_WIRE_F_POLL_STATE, pd_wire.h): they stay in the buffer after
 * rsp_len, for pd_req_poll_state(). False if they do not add up: the
 * backend is broken.
 */
static bool strip_poll_states(struct pd_req *req)
{
	struct pd_wire_poll_tail tail;
	u32 n;

	if (req->rsp_len < sizeof(tail))
		return false;
	memcpy(&tail, (u8 *)pd_rsp_body(req) + req->rsp_len - sizeof(tail),
	       sizeof(tail));
	if (!tail.count || tail.count > 1 + PD_WIRE_IOCTL_MAX_NEWFDS)
		return false;
	n = tail.count * sizeof(struct pd_wire_poll_state) + sizeof(tail);
	if (req->rsp_len < n)
		return false;
	req->rsp_len -= n;
	req->nstates = tail.count;
	return true;
}

bool pd_req_poll_state(const struct pd_req *req, u32 handle,
		       struct pd_wire_poll_state *ps)
{
	const u8 *rec;
	u32 i;

	if (!req || !req->rsp)
		return false;
	rec = (const u8 *)req->rsp + sizeof(struct pd_wire_hdr) + req->rsp_len;
	for (i = 0; i < req->nstates; i++, rec += sizeof(*ps)) {
		memcpy(ps, rec, sizeof(*ps));
		if (ps->handle == handle)
			return true;
	}
	return false;
}

/*
 * A reply arrived from the transport: msg is the whole message (header
 * checked by the transport: a reply, len matching), now ours to keep or
 * free. A reply nobody waits for any more is dropped.
 */
void pd_conn_complete(struct pd_conn *conn, void *msg, u32 len)
{
	const struct pd_wire_hdr *hdr = msg;
	unsigned long flags;
	struct pd_req *req;

	xa_lock_irqsave(&conn->reqs, flags);
	req = __xa_erase(&conn->reqs, hdr->id);
	if (req && req->msg->op != hdr->op) {
		/* a reply to another operation: the backend is broken */
		pr_warn_ratelimited("paradice: reply op %u for request op %u\n",
				    hdr->op, req->msg->op);
		req->result = -EIO;
		complete(&req->done);
		if (req->orphan && req->on_reply)
			req->on_reply(req);
		xa_unlock_irqrestore(&conn->reqs, flags);
		kvfree(msg);
		if (req->orphan)
			pd_req_put(req);
		return;
	}
	if (req) {
		req->reply_ns = ktime_get_ns();
		req->rsp = msg;
		req->rsp_len = len - sizeof(*hdr);
		req->result = hdr->result;
		if ((hdr->flags & PD_WIRE_F_POLL_STATE) &&
		    (conn->features & PD_WIRE_FEAT_POLL_STATE) &&
		    !strip_poll_states(req)) {
			pr_warn_ratelimited("paradice: reply op %u: bad poll states\n",
					    hdr->op);
			req->rsp_len = 0;
			req->result = -EIO;
		}
		complete(&req->done);
		msg = NULL;
		if (req->orphan && req->on_reply)
			req->on_reply(req);
	}
	xa_unlock_irqrestore(&conn->reqs, flags);
	kvfree(msg);
	if (req && req->orphan)
		pd_req_put(req);
}

/* The connection is dying: every request in flight completes with -EIO
 * (no reply message), and no new request enters.
 */
void pd_conn_fail_all(struct pd_conn *conn)
{
	struct pd_req *req;
	unsigned long id;

	xa_lock_irq(&conn->reqs);
	conn->dead = true;
	xa_for_each(&conn->reqs, id, req) {
		__xa_erase(&conn->reqs, id);
		req->result = -EIO;
		complete(&req->done);
		if (req->orphan && req->on_reply)
			req->on_reply(req);
		/* an orphan's reference is the table's */
		if (req->orphan && refcount_dec_and_test(&req->ref)) {
			kvfree(req->msg);
			kvfree(req->rsp);
			kfree(req);
		}
	}
	xa_unlock_irq(&conn->reqs);
}
