// SPDX-License-Identifier: GPL-2.0-only
/*
 * The rings of the Xen transport (front_xen.h): requests go out through
 * the request ring into space of the data area, replies and events come
 * back, each ring with its event channel. Everything the backend writes
 * is copied out of shared memory once and checked before use.
 */
#include <linux/bitmap.h>
#include <linux/slab.h>

#include <xen/events.h>

#include "front_xen.h"

/* ------------------------------------------------------------------ */
/* Sizes                                                                */

/*
 * The largest reply a request can get, header included, before the poll
 * states a reply may end with (pd_wire.h, 1.5), for which
 * pdx_reply_bound() adds room. The frontend makes room for it before the
 * request goes out; the backend answers a reply that would not fit with a
 * bare header and -EOVERFLOW.
 */
static u32 pdx_op_reply_bound(const struct pd_wire_hdr *h)
{
	const u8 *body = (const u8 *)(h + 1);
	u32 hl = sizeof(*h);

	switch (h->op) {
	case PD_OP_READ: {
		const struct pd_wire_read_req *r = (const void *)body;

		if (h->len < sizeof(*r))
			return hl;
		return hl + sizeof(struct pd_wire_io_rsp) +
		       min_t(u32, r->count, PD_WIRE_MAX_IO);
	}
	case PD_OP_IOCTL: {
		const struct pd_wire_ioctl_req *r = (const void *)body;
		const struct pd_wire_buf *b;
		u64 off, out = 0;
		u32 i;

		if (h->len < sizeof(*r))
			return hl;
		off = sizeof(*r) + ALIGN((u64)r->data_len, 8);
		if (off + (u64)r->nbufs * sizeof(*b) > h->len)
			return hl + 4096;
		b = (const void *)(body + off);
		for (i = 0; i < r->nbufs; i++)
			if (b[i].flags & PD_WIRE_BUF_OUT)
				out += ALIGN((u64)b[i].len, 8);
		out += sizeof(struct pd_wire_ioctl_rsp) + 8 +
		       (u64)r->nbufs * sizeof(*b) +
		       PD_WIRE_IOCTL_MAX_NEWFDS * sizeof(struct pd_wire_newfd);
		return (u32)min_t(u64, hl + out, PD_WIRE_MAX_MSG);
	}
	case PD_OP_FAULT: {
		const struct pd_wire_fault_req *r = (const void *)body;

		if (h->len < sizeof(*r))
			return hl;
		return hl + min_t(u32, r->npages, 4096) *
			    sizeof(struct pd_wire_fault_page);
	}
	default:
		/* every other reply body is a small fixed struct */
		return hl + 256;
	}
}

/* ------------------------------------------------------------------ */
/* Sending                                                              */

static u32 pdx_reply_bound(const struct pd_wire_hdr *h)
{
	return pdx_op_reply_bound(h) + PD_WIRE_POLL_STATE_MAX_LEN;
}

static u32 pdx_req_pages(struct pd_req *req)
{
	u32 len = max(req->msg_len, pdx_reply_bound(req->msg));

	return DIV_ROUND_UP(len, PAGE_SIZE);
}

/* Complete request id with an error of our own (no reply from the
 * backend will come, or the one that came is unusable). */
static void pdx_complete_error(struct pdx *px, u64 id, u16 op, int err)
{
	struct pd_wire_hdr *hdr;

	hdr = kvzalloc(sizeof(*hdr), GFP_KERNEL | __GFP_NOFAIL);
	hdr->id = id;
	hdr->op = op;
	hdr->flags = PD_WIRE_F_REPLY;
	hdr->result = err;
	pd_conn_complete(px->conn, hdr, sizeof(*hdr));
}

/*
 * Move queued requests onto the ring while there are ring slots and room
 * in the data area. Requests leave the queue in order (a CANCEL is put
 * first, and only it may take the last PDX_CTL_RESERVE slots and pages):
 * one that does not fit holds back the ones behind it, so a large ioctl is not starved by
 * small ones; it marks the transport starved, and the reply that frees
 * room has rsp_work call this again. Caller holds io_lock.
 *
 * A request's pages and in-flight entry are taken under rsp_lock, its
 * message copied and its slot pushed after: only a broken backend answers
 * a request it has not been sent, and all it can spoil so is the data
 * area, which it can write anyway.
 */
static void pdx_pump(struct pdx *px)
{
	const u32 first = PDX_EVT_PAGES, avail = PDX_DATA_PAGES - PDX_EVT_PAGES;
	bool notify = false, pushed = false;
	struct pd_req *req;

	while ((req = list_first_entry_or_null(&px->queue, struct pd_req,
					       queue))) {
		u32 n = pdx_req_pages(req);
		/* the last slots and pages are CANCEL's alone (see PDX_CTL_RESERVE) */
		bool ctl = req->msg->op == PD_OP_CANCEL;
		u32 slots = ctl ? PDX_RING_SIZE : PDX_RING_SIZE - PDX_CTL_RESERVE;
		u32 room = ctl ? avail : avail - PDX_CTL_RESERVE;
		struct pd_wire_xen_slot *slot;
		unsigned long start;
		unsigned int i;

		if (n > room) {
			/* can never fit: fail it rather than wait forever */
			list_del_init(&req->queue);
			pdx_complete_error(px, req->id, req->msg->op, -E2BIG);
			continue;
		}
		spin_lock_irq(&px->rsp_lock);
		if (px->closed) {
			spin_unlock_irq(&px->rsp_lock);
			break;
		}
		start = room;
		if (px->ninflight < slots)
			start = bitmap_find_next_zero_area(px->used, room, 0,
							   n, 0);
		if (start >= room) {
			px->starved = true;
			spin_unlock_irq(&px->rsp_lock);
			break;
		}
		bitmap_set(px->used, start, n);
		for (i = 0; i < PDX_RING_SIZE; i++)
			if (!px->inflight[i].id)
				break;
		px->inflight[i] = (struct pdx_inflight){
			.id = req->id, .op = req->msg->op,
			.first = first + start, .npages = n,
		};
		px->ninflight++;
		spin_unlock_irq(&px->rsp_lock);
		list_del_init(&req->queue);
		memcpy(px->shbuf.data + (first + start) * PAGE_SIZE, req->msg,
		       req->msg_len);
		slot = RING_GET_REQUEST(&px->req_ring, px->req_ring.req_prod_pvt);
		slot->id = req->id;
		slot->offset = (first + start) * PAGE_SIZE;
		slot->len = n * PAGE_SIZE;
		px->req_ring.req_prod_pvt++;
		pushed = true;
	}
	if (pushed) {
		/* the macro orders the slots and data before the producer */
		RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&px->req_ring, notify);
		if (notify)
			notify_remote_via_irq(px->req_irq);
	}
}

int pdx_send(struct pd_conn *conn, struct pd_req *req)
{
	struct pdx *px = conn->tp_priv;

	mutex_lock(&px->io_lock);
	if (px->closed) {
		mutex_unlock(&px->io_lock);
		return -EIO;
	}
	/* a CANCEL goes first: the requests it ends may be what holds the
	 * ring (a program killed in a hundred blocking reads) */
	if (req->msg->op == PD_OP_CANCEL)
		list_add(&req->queue, &px->queue);
	else
		list_add_tail(&req->queue, &px->queue);
	pdx_pump(px);
	mutex_unlock(&px->io_lock);
	return 0;
}

bool pdx_unsend(struct pd_conn *conn, struct pd_req *req)
{
	struct pdx *px = conn->tp_priv;
	bool queued;

	mutex_lock(&px->io_lock);
	queued = !list_empty(&req->queue);
	list_del_init(&req->queue);
	mutex_unlock(&px->io_lock);
	return queued;
}


/* ------------------------------------------------------------------ */
/* Receiving                                                            */

/*
 * A reply slot is copied out of shared memory once and checked; the
 * message it names is then copied out once into memory of our own, and
 * only that copy is looked at. A reply that does not match its request
 * completes it with -EIO, so no caller waits forever on a broken backend.
 * The helpers below run under rsp_lock unless they say otherwise.
 */

/* The in-flight entry of request id, or NULL. */
static struct pdx_inflight *pdx_find(struct pdx *px, u64 id)
{
	unsigned int i;

	for (i = 0; i < PDX_RING_SIZE; i++)
		if (px->inflight[i].id && px->inflight[i].id == id)
			return &px->inflight[i];
	return NULL;
}

/* The length of the reply slot s names for inf, or 0 if it is bad. */
static u32 pdx_reply_len(const struct pdx_inflight *inf,
			 const struct pd_wire_xen_slot *untrusted)
{
	if (untrusted->offset != inf->first * PAGE_SIZE ||
	    untrusted->len < sizeof(struct pd_wire_hdr) ||
	    untrusted->len > inf->npages * PAGE_SIZE)
		return 0;
	return untrusted->len;
}

/* Does our copy of a reply of len bytes answer inf? (No lock needed.) */
static bool pdx_reply_ok(const struct pdx_inflight *inf, const void *msg,
			 u32 len)
{
	const struct pd_wire_hdr *hdr = msg;

	return hdr->id == inf->id && hdr->op == inf->op &&
	       (hdr->flags & PD_WIRE_F_REPLY) &&
	       hdr->len == len - sizeof(*hdr);
}

/* The request of inf has its reply: its pages and entry are free. */
static void pdx_free_inflight(struct pdx *px, struct pdx_inflight *inf)
{
	bitmap_clear(px->used, inf->first - PDX_EVT_PAGES, inf->npages);
	inf->id = 0;
	px->ninflight--;
}

/*
 * In the interrupt handler: take reply slot idx if it is small and good,
 * completing its waiter. False leaves it (and the ones after it) to
 * rsp_work: too large, bad, or no memory without sleeping.
 */
static bool pdx_take_reply_atomic(struct pdx *px, RING_IDX idx)
{
	struct pd_wire_xen_slot s;
	struct pdx_inflight *inf;
	void *msg;
	u32 len;

	memcpy(&s, RING_GET_RESPONSE(&px->req_ring, idx), sizeof(s));
	inf = pdx_find(px, s.id);
	len = inf ? pdx_reply_len(inf, &s) : 0;
	if (!len || len > PDX_IRQ_REPLY)
		return false;
	msg = kmalloc(len, GFP_ATOMIC | __GFP_NOWARN);
	if (!msg)
		return false;
	memcpy(msg, px->shbuf.data + s.offset, len);
	if (!pdx_reply_ok(inf, msg, len)) {
		kfree(msg);
		return false;
	}
	pdx_free_inflight(px, inf);
	/* completes the waiter; what it frees here is kmalloc memory */
	pd_conn_complete(px->conn, msg, len);
	return true;
}

/*
 * rsp_work's part of the request ring: every reply until the ring is
 * empty, whatever its size. Only rsp_work takes replies while
 * rsp_deferred is set, and it holds io_lock, so no send takes an entry
 * meanwhile: the entry of the reply in hand stays put while the lock is
 * dropped to allocate, copy and complete. Called and returns with
 * rsp_lock held (interrupts off).
 */
static void pdx_drain(struct pdx *px)
{
	struct pd_wire_xen_slot s;
	struct pdx_inflight *inf;
	RING_IDX rp;
	void *msg;
	u64 id;
	u32 len;
	u16 op;
	int more;

	while (!px->closed) {
		rp = READ_ONCE(px->req_ring.sring->rsp_prod);
		virt_rmb();	/* the slots after the producer index */
		if (RING_RESPONSE_PROD_OVERFLOW(&px->req_ring, rp)) {
			/* rsp_deferred stays set: nothing more is taken */
			spin_unlock_irq(&px->rsp_lock);
			dev_err(&px->dev->dev, "backend overran the ring\n");
			xenbus_dev_fatal(px->dev, -EIO, "request ring");
			spin_lock_irq(&px->rsp_lock);
			return;
		}
		if (px->req_ring.rsp_cons == rp) {
			RING_FINAL_CHECK_FOR_RESPONSES(&px->req_ring, more);
			if (more)
				continue;
			px->rsp_deferred = false;
			return;
		}
		memcpy(&s, RING_GET_RESPONSE(&px->req_ring, px->req_ring.rsp_cons),
		       sizeof(s));
		px->req_ring.rsp_cons++;
		inf = pdx_find(px, s.id);
		if (!inf) {
			dev_warn_ratelimited(&px->dev->dev,
					     "reply to unknown request %llu\n",
					     s.id);
			continue;
		}
		len = pdx_reply_len(inf, &s);
		id = inf->id;
		op = inf->op;
		spin_unlock_irq(&px->rsp_lock);

		msg = len ? kvmalloc(len, GFP_KERNEL) : NULL;
		if (msg) {
			memcpy(msg, px->shbuf.data + s.offset, len);
			if (!pdx_reply_ok(inf, msg, len)) {
				kvfree(msg);
				msg = NULL;
			}
		}
		spin_lock_irq(&px->rsp_lock);
		pdx_free_inflight(px, inf);
		spin_unlock_irq(&px->rsp_lock);

		if (msg) {
			pd_conn_complete(px->conn, msg, len);
		} else {
			dev_warn_ratelimited(&px->dev->dev,
					     "bad reply to request %llu (op %u)\n",
					     id, op);
			pdx_complete_error(px, id, op, -EIO);
		}
		spin_lock_irq(&px->rsp_lock);
	}
}

/* Replies the interrupt handler left, and sends that waited for room. */
static void pdx_rsp_work(struct work_struct *work)
{
	struct pdx *px = container_of(work, struct pdx, rsp_work);
	bool pump;

	mutex_lock(&px->io_lock);
	spin_lock_irq(&px->rsp_lock);
	if (px->rsp_deferred)
		pdx_drain(px);
	pump = px->starved && !px->closed;
	px->starved = false;
	spin_unlock_irq(&px->rsp_lock);
	if (pump)
		pdx_pump(px);
	mutex_unlock(&px->io_lock);
}

/*
 * The request ring's interrupt: take the replies here and complete their
 * waiters, so a trip costs one wake-up (the waiter's). What cannot be
 * taken here goes to rsp_work, and so does everything after it, in ring
 * order, until the ring is empty again.
 */
static irqreturn_t pdx_req_irq(int irq, void *dev_id)
{
	struct pdx *px = dev_id;
	unsigned long flags;
	bool work = false;
	RING_IDX rp;
	int more;

	spin_lock_irqsave(&px->rsp_lock, flags);
	if (px->closed || !px->used)
		goto out;
	if (px->rsp_deferred) {
		work = true;
		goto out;
	}
	do {
		rp = READ_ONCE(px->req_ring.sring->rsp_prod);
		virt_rmb();	/* the slots after the producer index */
		if (RING_RESPONSE_PROD_OVERFLOW(&px->req_ring, rp))
			goto defer;	/* rsp_work reports it */
		while (px->req_ring.rsp_cons != rp) {
			if (!pdx_take_reply_atomic(px, px->req_ring.rsp_cons))
				goto defer;
			px->req_ring.rsp_cons++;
		}
		RING_FINAL_CHECK_FOR_RESPONSES(&px->req_ring, more);
	} while (more);
	work = px->starved;
	goto out;
defer:
	px->rsp_deferred = true;
	work = true;
out:
	spin_unlock_irqrestore(&px->rsp_lock, flags);
	if (work)
		queue_work(system_highpri_wq, &px->rsp_work);
	return IRQ_HANDLED;
}

/* Post event buffer idx (again) for the backend to fill. */
static void pdx_post_evt_buf(struct pdx *px, u32 idx)
{
	struct pd_wire_xen_slot *s;

	s = RING_GET_REQUEST(&px->evt_ring, px->evt_ring.req_prod_pvt);
	s->id = idx;
	s->offset = idx * PDX_EVT_BUF;
	s->len = PDX_EVT_BUF;
	px->evt_ring.req_prod_pvt++;
}

static void pdx_evt_work(struct work_struct *work)
{
	struct pdx *px = container_of(work, struct pdx, evt_work);
	u8 copy[PDX_EVT_BUF];
	struct pd_wire_hdr *hdr = (void *)copy;
	RING_IDX rp, i;
	int more, notify;

	/* evt_ring's consumer and producer are ours alone: this work item
	 * is the only one touching them once the rings are up. */
	if (!READ_ONCE(px->conn))
		return;
	do {
		rp = READ_ONCE(px->evt_ring.sring->rsp_prod);
		virt_rmb();
		if (RING_RESPONSE_PROD_OVERFLOW(&px->evt_ring, rp)) {
			xenbus_dev_fatal(px->dev, -EIO, "event ring");
			return;
		}
		for (i = px->evt_ring.rsp_cons; i != rp; i++) {
			struct pd_wire_xen_slot s;
			u32 idx;

			memcpy(&s, RING_GET_RESPONSE(&px->evt_ring, i), sizeof(s));
			idx = (u32)s.id;
			if (s.id >= PDX_RING_SIZE) {
				dev_warn_ratelimited(&px->dev->dev,
						     "bad event slot %llu\n",
						     s.id);
				continue;
			}
			if (s.offset == idx * PDX_EVT_BUF &&
			    s.len >= sizeof(*hdr) && s.len <= PDX_EVT_BUF) {
				memcpy(copy, px->shbuf.data + s.offset, s.len);
				if ((hdr->flags & PD_WIRE_F_EVENT) && !hdr->id &&
				    (hdr->op & 0x80) &&
				    hdr->len == s.len - sizeof(*hdr))
					pd_conn_event(px->conn, hdr, hdr + 1);
				else
					dev_warn_ratelimited(&px->dev->dev,
							     "bad event dropped\n");
			}
			pdx_post_evt_buf(px, idx);
		}
		px->evt_ring.rsp_cons = rp;
		RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&px->evt_ring, notify);
		if (notify)
			notify_remote_via_irq(px->evt_irq);
		RING_FINAL_CHECK_FOR_RESPONSES(&px->evt_ring, more);
	} while (more);
}

static irqreturn_t pdx_evt_irq(int irq, void *dev_id)
{
	struct pdx *px = dev_id;

	queue_work(system_highpri_wq, &px->evt_work);
	return IRQ_HANDLED;
}

/* ------------------------------------------------------------------ */
/* Setting up and taking down, once per connection                      */

static int pdx_setup_ring(struct pdx *px, struct pdx_front_ring *ring,
			  grant_ref_t *ref, evtchn_port_t *port,
			  evtchn_port_t *published, int *irq,
			  irq_handler_t handler)
{
	struct pdx_sring *sring;
	int ret;

	ret = xenbus_setup_ring(px->dev, GFP_KERNEL, (void **)&sring, 1, ref);
	if (ret)
		return ret;
	SHARED_RING_INIT(sring);
	FRONT_RING_INIT(ring, sring, XEN_PAGE_SIZE);
	ret = xenbus_alloc_evtchn(px->dev, port);
	if (ret)
		return ret;
	ret = bind_evtchn_to_irqhandler(*port, handler, 0, "paradice", px);
	if (ret < 0)
		return ret;
	*irq = ret;
	*published = *port;
	*port = 0;	/* owned by the irq now */
	return 0;
}


/*
 * Set up both rings with their event channels, and the bookkeeping of the
 * request part of the data area (which must exist: the event buffers are
 * posted into it). The ports to publish go to *req_port and *evt_port.
 * On failure, pdx_rings_finish() undoes what was done.
 */
int pdx_rings_init(struct pdx *px, evtchn_port_t *req_port,
		   evtchn_port_t *evt_port)
{
	unsigned int i;
	int ret;

	px->used = bitmap_zalloc(PDX_DATA_PAGES, GFP_KERNEL);
	if (!px->used)
		return -ENOMEM;
	ret = pdx_setup_ring(px, &px->req_ring, &px->req_ref, &px->req_port,
			     req_port, &px->req_irq, pdx_req_irq);
	if (ret)
		return ret;
	ret = pdx_setup_ring(px, &px->evt_ring, &px->evt_ref, &px->evt_port,
			     evt_port, &px->evt_irq, pdx_evt_irq);
	if (ret)
		return ret;
	px->rings_up = true;
	for (i = 0; i < PDX_RING_SIZE; i++)
		pdx_post_evt_buf(px, i);
	RING_PUSH_REQUESTS(&px->evt_ring);
	memset(px->inflight, 0, sizeof(px->inflight));
	px->ninflight = 0;
	px->rsp_deferred = false;
	px->starved = false;
	return 0;
}

/* Take the rings down; their interrupt handlers and work items are
 * stopped when this returns. */
void pdx_rings_finish(struct pdx *px)
{
	if (px->req_irq > 0)
		unbind_from_irqhandler(px->req_irq, px);
	if (px->evt_irq > 0)
		unbind_from_irqhandler(px->evt_irq, px);
	px->req_irq = px->evt_irq = 0;
	cancel_work_sync(&px->rsp_work);
	cancel_work_sync(&px->evt_work);
	/* unbinding an irq closed its channel; free one never bound */
	if (px->req_port)
		xenbus_free_evtchn(px->dev, px->req_port);
	if (px->evt_port)
		xenbus_free_evtchn(px->dev, px->evt_port);
	px->req_port = px->evt_port = 0;

	xenbus_teardown_ring((void **)&px->req_ring.sring, 1, &px->req_ref);
	xenbus_teardown_ring((void **)&px->evt_ring.sring, 1, &px->evt_ref);
	bitmap_free(px->used);
	px->used = NULL;
	px->rings_up = false;
}

/* The message path of a new device: closed, no rings yet. */
void pdx_io_init(struct pdx *px)
{
	mutex_init(&px->io_lock);
	spin_lock_init(&px->rsp_lock);
	INIT_LIST_HEAD(&px->queue);
	INIT_WORK(&px->rsp_work, pdx_rsp_work);
	INIT_WORK(&px->evt_work, pdx_evt_work);
	px->closed = true;
	px->req_ref = px->evt_ref = INVALID_GRANT_REF;
}

/* A connection starts: requests may go out. */
void pdx_io_open(struct pdx *px)
{
	mutex_lock(&px->io_lock);
	spin_lock_irq(&px->rsp_lock);
	px->closed = false;
	spin_unlock_irq(&px->rsp_lock);
	mutex_unlock(&px->io_lock);
}

/*
 * The connection ends: nothing new is sent and the send queue is dropped
 * (its requests are in conn->reqs, which pd_conn_close() fails).
 */
void pdx_io_close(struct pdx *px)
{
	struct pd_req *req, *tmp;

	mutex_lock(&px->io_lock);
	spin_lock_irq(&px->rsp_lock);
	px->closed = true;
	spin_unlock_irq(&px->rsp_lock);
	list_for_each_entry_safe(req, tmp, &px->queue, queue)
		list_del_init(&req->queue);
	mutex_unlock(&px->io_lock);
}
