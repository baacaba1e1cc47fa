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
 * The largest reply a request can get, header included. The frontend
 * makes room for it before the request goes out; the backend answers a
 * reply that would not fit with a bare header and -EOVERFLOW.
 */
static u32 pdx_reply_bound(const struct pd_wire_hdr *h)
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
 * in the data area. Requests leave the queue in order: one that does not
 * fit holds back the ones behind it, so a large ioctl is not starved by
 * small ones. Caller holds io_lock.
 */
static void pdx_pump(struct pdx *px)
{
	const u32 first = PDX_EVT_PAGES, avail = PDX_DATA_PAGES - PDX_EVT_PAGES;
	bool notify = false, pushed = false;
	struct pd_req *req;

	while (!px->closed && px->ninflight < PDX_RING_SIZE &&
	       (req = list_first_entry_or_null(&px->queue, struct pd_req,
					       queue))) {
		u32 n = pdx_req_pages(req);
		struct pd_wire_xen_slot *slot;
		unsigned long start;
		unsigned int i;

		if (n > avail) {
			/* can never fit: fail it rather than wait forever */
			list_del_init(&req->queue);
			pdx_complete_error(px, req->id, req->msg->op, -E2BIG);
			continue;
		}
		start = bitmap_find_next_zero_area(px->used, avail, 0, n, 0);
		if (start >= avail)
			break;
		bitmap_set(px->used, start, n);
		for (i = 0; i < PDX_RING_SIZE; i++)
			if (!px->inflight[i].id)
				break;
		px->inflight[i] = (struct pdx_inflight){
			.id = req->id, .op = req->msg->op,
			.first = first + start, .npages = n,
		};
		px->ninflight++;
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
 * One reply slot from the backend. The slot and then the message are
 * copied out of shared memory once; only the copies are looked at. A
 * reply that does not match its request completes it with -EIO, so no
 * caller waits forever on a broken backend. Caller holds io_lock.
 */
static void pdx_take_reply(struct pdx *px, struct pd_wire_xen_slot untrusted)
{
	struct pdx_inflight *inf = NULL;
	struct pd_wire_hdr *hdr;
	u32 off, cap, len = untrusted.len;
	unsigned int i;
	void *msg;

	for (i = 0; i < PDX_RING_SIZE; i++)
		if (px->inflight[i].id && px->inflight[i].id == untrusted.id) {
			inf = &px->inflight[i];
			break;
		}
	if (!inf) {
		dev_warn_ratelimited(&px->dev->dev,
				     "reply to unknown request %llu\n",
				     untrusted.id);
		return;
	}
	off = inf->first * PAGE_SIZE;
	cap = inf->npages * PAGE_SIZE;
	msg = NULL;
	if (untrusted.offset == off && len >= sizeof(*hdr) && len <= cap)
		msg = kvmalloc(len, GFP_KERNEL);
	if (msg) {
		memcpy(msg, px->shbuf.data + off, len);
		hdr = msg;
		if (hdr->id != inf->id || hdr->op != inf->op ||
		    !(hdr->flags & PD_WIRE_F_REPLY) ||
		    hdr->len != len - sizeof(*hdr)) {
			kvfree(msg);
			msg = NULL;
		}
	}
	bitmap_clear(px->used, inf->first - PDX_EVT_PAGES, inf->npages);
	inf->id = 0;
	px->ninflight--;
	if (msg) {
		pd_conn_complete(px->conn, msg, len);
		return;
	}
	dev_warn_ratelimited(&px->dev->dev, "bad reply to request %llu (op %u)\n",
			     untrusted.id, inf->op);
	pdx_complete_error(px, untrusted.id, inf->op, -EIO);
}

static void pdx_rsp_work(struct work_struct *work)
{
	struct pdx *px = container_of(work, struct pdx, rsp_work);
	RING_IDX rp, i;
	int more;

	mutex_lock(&px->io_lock);
	if (px->closed)
		goto out;
	do {
		rp = READ_ONCE(px->req_ring.sring->rsp_prod);
		virt_rmb();	/* the slots after the producer index */
		if (RING_RESPONSE_PROD_OVERFLOW(&px->req_ring, rp)) {
			dev_err(&px->dev->dev, "backend overran the ring\n");
			xenbus_dev_fatal(px->dev, -EIO, "request ring");
			goto out;
		}
		for (i = px->req_ring.rsp_cons; i != rp; i++) {
			struct pd_wire_xen_slot s;

			memcpy(&s, RING_GET_RESPONSE(&px->req_ring, i), sizeof(s));
			pdx_take_reply(px, s);
		}
		px->req_ring.rsp_cons = rp;
		RING_FINAL_CHECK_FOR_RESPONSES(&px->req_ring, more);
	} while (more);
	pdx_pump(px);
out:
	mutex_unlock(&px->io_lock);
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

static irqreturn_t pdx_req_irq(int irq, void *dev_id)
{
	struct pdx *px = dev_id;

	queue_work(system_highpri_wq, &px->rsp_work);
	return IRQ_HANDLED;
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
	return 0;
}

/* Take the rings down; their work items are stopped when this returns. */
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
	px->closed = false;
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
	px->closed = true;
	list_for_each_entry_safe(req, tmp, &px->queue, queue)
		list_del_init(&req->queue);
	mutex_unlock(&px->io_lock);
}
