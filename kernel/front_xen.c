// SPDX-License-Identifier: GPL-2.0-only
/*
 * The Xen transport, guest side: a xenbus frontend of device type
 * "paradice" (see the XenStore layout and the state diagram in pd_wire.h).
 *
 * What the guest shares with the backend, set up once per connection:
 *
 *   request ring   one granted page, a standard Xen ring of struct
 *                  pd_wire_xen_slot both ways (requests down, replies up),
 *                  with its event channel;
 *   event ring     the same, but the frontend's "requests" are empty event
 *                  buffers and the backend's "responses" are events written
 *                  into them;
 *   data area      PDX_DATA_PAGES pages granted once (persistent grants),
 *                  named through a directory of grant references. The first
 *                  PDX_EVT_AREA bytes are the event buffers; the rest holds
 *                  requests and their replies.
 *
 * A request gets a run of whole pages of the data area, large enough for the
 * request and for the largest reply it can get (pdx_reply_bound()). The
 * slot names that run (offset, len); the backend copies the request out,
 * then writes its reply at the same offset, never more than len bytes.
 * Replies are copied out of shared memory once, into memory of our own,
 * and checked there before anyone looks at them: the backend is trusted no
 * more than it must be.
 *
 * Many requests are in flight: up to the ring's size, as far as the data
 * area has room; the others wait in the send queue, from which unsend()
 * can still take them back.
 */
#include <linux/bitmap.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>

#include <xen/events.h>
#include <xen/grant_table.h>
#include <xen/page.h>
#include <xen/xen.h>
#include <xen/xenbus.h>
#include <xen/interface/io/ring.h>

#include "front.h"

DEFINE_RING_TYPES(pdx, struct pd_wire_xen_slot, struct pd_wire_xen_slot);

#define PDX_RING_SIZE	__CONST_RING_SIZE(pdx, XEN_PAGE_SIZE)
#define PDX_DATA_PAGES	2048u			/* 8 MiB */
#define PDX_EVT_BUF	128u			/* bytes per event buffer */
#define PDX_EVT_AREA	(PDX_RING_SIZE * PDX_EVT_BUF)
#define PDX_EVT_PAGES	DIV_ROUND_UP(PDX_EVT_AREA, PAGE_SIZE)
#define PDX_DIR_REFS	(XEN_PAGE_SIZE / sizeof(u32) - 1)	/* + chain */
#define PDX_DIR_PAGES	DIV_ROUND_UP(PDX_DATA_PAGES, PDX_DIR_REFS)

/* A request on the ring: where its message and its reply live. */
struct pdx_inflight {
	u64 id;				/* 0: slot free */
	u16 op;
	u32 first;			/* first page in the data area */
	u32 npages;
};

struct pdx {
	struct xenbus_device *dev;
	/* Serialises connect and disconnect (xenbus callbacks, remove). */
	struct mutex state_lock;
	struct pd_conn *conn;		/* reference; NULL when none */
	bool rings_up;

	struct pdx_front_ring req_ring;
	struct pdx_front_ring evt_ring;
	grant_ref_t req_ref, evt_ref;
	evtchn_port_t req_port, evt_port;
	int req_irq, evt_irq;

	struct page **pages;		/* the data area */
	grant_ref_t *refs;
	struct page *dir[PDX_DIR_PAGES];
	grant_ref_t dir_refs[PDX_DIR_PAGES];
	u8 *data;			/* vmap of pages */

	/*
	 * io_lock protects everything a request passes through on its way
	 * out and back: the send queue, the closed flag, the request ring's
	 * producer, the page bitmap and the in-flight table. Copies into the
	 * data area happen under it too, so that a slot is only pushed once
	 * its message is complete.
	 */
	struct mutex io_lock;
	struct list_head queue;
	bool closed;
	unsigned long *used;		/* pages of the request part in use */
	struct pdx_inflight inflight[PDX_RING_SIZE];
	unsigned int ninflight;

	struct work_struct rsp_work;	/* drains the request ring */
	struct work_struct evt_work;	/* drains the event ring */
};

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
		memcpy(px->data + (first + start) * PAGE_SIZE, req->msg,
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

static int pdx_send(struct pd_conn *conn, struct pd_req *req)
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

static bool pdx_unsend(struct pd_conn *conn, struct pd_req *req)
{
	struct pdx *px = conn->tp_priv;
	bool queued;

	mutex_lock(&px->io_lock);
	queued = !list_empty(&req->queue);
	list_del_init(&req->queue);
	mutex_unlock(&px->io_lock);
	return queued;
}

/* mmap: the backend's grants into the program's page tables */
static int pdx_mmap(struct pd_file *pf, struct vm_area_struct *vma)
{
	struct pdx *px = pf->conn->tp_priv;

	return pd_xmap_mmap(pf, vma, (u16)px->dev->otherend_id);
}

static const struct pd_transport_ops pdx_ops = {
	.name = "xen",
	.features = PD_WIRE_FEAT_POLL_EVENTS | PD_WIRE_FEAT_FASYNC |
		    PD_WIRE_FEAT_NEWFD | PD_WIRE_FEAT_CANCEL |
		    PD_WIRE_FEAT_REVOKE | PD_WIRE_FEAT_MMAP,
	.send = pdx_send,
	.unsend = pdx_unsend,
	.mmap = pdx_mmap,
	.revoke_map = pd_xmap_revoke,
	.conn_closed = pd_xmap_conn_closed,
};

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
		memcpy(msg, px->data + off, len);
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
				memcpy(copy, px->data + s.offset, s.len);
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
/* Shared memory: set up once per connection                           */

static void pdx_free_rings(struct pdx *px)
{
	unsigned int i;

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

	if (px->data)
		vunmap(px->data);
	px->data = NULL;
	/*
	 * A page still mapped by the backend is freed once it lets go:
	 * gnttab_end_foreign_access() defers both. The backend unmaps when
	 * it sees Closing, or its process ends.
	 */
	for (i = 0; px->pages && i < PDX_DATA_PAGES; i++) {
		if (!px->pages[i])
			continue;
		if (px->refs[i] != INVALID_GRANT_REF)
			gnttab_end_foreign_access(px->refs[i], px->pages[i]);
		else
			__free_page(px->pages[i]);
	}
	for (i = 0; i < PDX_DIR_PAGES; i++) {
		if (!px->dir[i])
			continue;
		if (px->dir_refs[i] != INVALID_GRANT_REF)
			gnttab_end_foreign_access(px->dir_refs[i], px->dir[i]);
		else
			__free_page(px->dir[i]);
		px->dir[i] = NULL;
	}
	kvfree(px->pages);
	kvfree(px->refs);
	bitmap_free(px->used);
	px->pages = NULL;
	px->refs = NULL;
	px->used = NULL;
	px->rings_up = false;
}

static int pdx_grant_page(struct pdx *px, struct page *page, grant_ref_t *ref)
{
	int r = gnttab_grant_foreign_access(px->dev->otherend_id,
					    xen_page_to_gfn(page), 0);

	if (r < 0)
		return r;
	*ref = r;
	return 0;
}

/* Allocate and grant the data area and its directory. */
static int pdx_alloc_data(struct pdx *px)
{
	unsigned int i;
	int ret;

	px->pages = kvcalloc(PDX_DATA_PAGES, sizeof(*px->pages), GFP_KERNEL);
	px->refs = kvcalloc(PDX_DATA_PAGES, sizeof(*px->refs), GFP_KERNEL);
	px->used = bitmap_zalloc(PDX_DATA_PAGES, GFP_KERNEL);
	if (!px->pages || !px->refs || !px->used)
		return -ENOMEM;
	for (i = 0; i < PDX_DATA_PAGES; i++)
		px->refs[i] = INVALID_GRANT_REF;
	for (i = 0; i < PDX_DIR_PAGES; i++)
		px->dir_refs[i] = INVALID_GRANT_REF;
	for (i = 0; i < PDX_DATA_PAGES; i++) {
		px->pages[i] = alloc_page(GFP_KERNEL | __GFP_ZERO);
		if (!px->pages[i])
			return -ENOMEM;
		ret = pdx_grant_page(px, px->pages[i], &px->refs[i]);
		if (ret)
			return ret;
	}
	px->data = vmap(px->pages, PDX_DATA_PAGES, VM_MAP, PAGE_KERNEL);
	if (!px->data)
		return -ENOMEM;
	for (i = 0; i < PDX_DIR_PAGES; i++) {
		px->dir[i] = alloc_page(GFP_KERNEL | __GFP_ZERO);
		if (!px->dir[i])
			return -ENOMEM;
		ret = pdx_grant_page(px, px->dir[i], &px->dir_refs[i]);
		if (ret)
			return ret;
	}
	/* fill the directory: PDX_DIR_REFS refs, then the next page's ref */
	for (i = 0; i < PDX_DIR_PAGES; i++) {
		u32 *d = page_address(px->dir[i]);
		unsigned int j;

		for (j = 0; j < PDX_DIR_REFS; j++) {
			unsigned int k = i * PDX_DIR_REFS + j;

			d[j] = k < PDX_DATA_PAGES ? px->refs[k] : 0;
		}
		d[PDX_DIR_REFS] = i + 1 < PDX_DIR_PAGES ? px->dir_refs[i + 1] : 0;
	}
	return 0;
}

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

static int pdx_publish(struct pdx *px, evtchn_port_t req_port,
		       evtchn_port_t evt_port)
{
	struct xenbus_transaction xbt;
	const char *path = px->dev->nodename;
	int ret;

again:
	ret = xenbus_transaction_start(&xbt);
	if (ret)
		return ret;
	ret = xenbus_printf(xbt, path, "version", "%u", PD_WIRE_VERSION_MAJOR) ?:
	      xenbus_printf(xbt, path, "req-ring-ref", "%u", px->req_ref) ?:
	      xenbus_printf(xbt, path, "req-event-channel", "%u", req_port) ?:
	      xenbus_printf(xbt, path, "evt-ring-ref", "%u", px->evt_ref) ?:
	      xenbus_printf(xbt, path, "evt-event-channel", "%u", evt_port) ?:
	      xenbus_printf(xbt, path, "data-dir-ref", "%u", px->dir_refs[0]) ?:
	      xenbus_printf(xbt, path, "data-pages", "%u", PDX_DATA_PAGES);
	if (ret) {
		xenbus_transaction_end(xbt, 1);
		return ret;
	}
	ret = xenbus_transaction_end(xbt, 0);
	if (ret == -EAGAIN)
		goto again;
	return ret;
}

/*
 * The backend waits in InitWait: check that it speaks our major, set up
 * the rings, the data area and the event channels, publish them and go to
 * Initialised.
 */
static int pdx_setup(struct pdx *px)
{
	struct xenbus_device *dev = px->dev;
	evtchn_port_t req_port, evt_port;
	unsigned int i;
	char *versions;
	int ret;

	versions = xenbus_read(XBT_NIL, dev->otherend, "versions", NULL);
	if (IS_ERR(versions))
		return PTR_ERR(versions);
	ret = strcmp(versions, __stringify(PD_WIRE_VERSION_MAJOR)) ? -EPROTO : 0;
	kfree(versions);
	if (ret) {
		xenbus_dev_fatal(dev, ret, "backend speaks no version %u",
				 PD_WIRE_VERSION_MAJOR);
		return ret;
	}

	ret = pdx_alloc_data(px);
	if (ret)
		goto fail;
	ret = pdx_setup_ring(px, &px->req_ring, &px->req_ref, &px->req_port,
			     &req_port, &px->req_irq, pdx_req_irq);
	if (ret)
		goto fail;
	ret = pdx_setup_ring(px, &px->evt_ring, &px->evt_ref, &px->evt_port,
			     &evt_port, &px->evt_irq, pdx_evt_irq);
	if (ret)
		goto fail;
	px->rings_up = true;
	for (i = 0; i < PDX_RING_SIZE; i++)
		pdx_post_evt_buf(px, i);
	RING_PUSH_REQUESTS(&px->evt_ring);
	memset(px->inflight, 0, sizeof(px->inflight));
	px->ninflight = 0;

	ret = pdx_publish(px, req_port, evt_port);
	if (ret) {
		xenbus_dev_fatal(dev, ret, "writing XenStore");
		goto fail;
	}
	return xenbus_switch_state(dev, XenbusStateInitialised);
fail:
	if (ret != -EPROTO)
		xenbus_dev_fatal(dev, ret, "setting up rings");
	pdx_free_rings(px);
	return ret;
}

/* The backend is Connected: start the connection (CONNECT, exports,
 * nodes; front_conn.c) over the rings. */
static int pdx_connect(struct pdx *px)
{
	px->conn = pd_conn_create(&pdx_ops, px);
	if (!px->conn)
		return -ENOMEM;
	mutex_lock(&px->io_lock);
	px->closed = false;
	mutex_unlock(&px->io_lock);
	pd_conn_start(px->conn);
	dev_info(&px->dev->dev, "connected to domain %d, conn %u\n",
		 px->dev->otherend_id, px->conn->id);
	return xenbus_switch_state(px->dev, XenbusStateConnected);
}

/*
 * The connection ends (the backend closes, restarts or vanishes, or the
 * device goes away): nothing new is sent, every request in flight and
 * every later one fails with -EIO, the guest nodes go, and the shared
 * memory is withdrawn. Open guest files stay valid and get -EIO.
 */
static void pdx_disconnect(struct pdx *px)
{
	struct pd_req *req, *tmp;

	mutex_lock(&px->io_lock);
	px->closed = true;
	list_for_each_entry_safe(req, tmp, &px->queue, queue)
		list_del_init(&req->queue);
	mutex_unlock(&px->io_lock);

	if (px->conn) {
		/* fails the requests (queued ones too: they are in conn->reqs) */
		pd_conn_close(px->conn);
	}
	if (px->rings_up || px->pages)
		pdx_free_rings(px);
	if (px->conn) {
		dev_info(&px->dev->dev, "conn %u closed\n", px->conn->id);
		pd_conn_put(px->conn);
		px->conn = NULL;
	}
}

static void pdx_backend_changed(struct xenbus_device *dev,
				enum xenbus_state backend_state)
{
	struct pdx *px = dev_get_drvdata(&dev->dev);

	mutex_lock(&px->state_lock);
	dev_dbg(&dev->dev, "backend %s, we are %s\n",
		xenbus_strstate(backend_state), xenbus_strstate(dev->state));
	switch (backend_state) {
	case XenbusStateInitWait:
		/* a new backend (or a restarted one): start over */
		if (dev->state != XenbusStateInitialising &&
		    dev->state != XenbusStateClosed)
			pdx_disconnect(px);
		if (dev->state != XenbusStateInitialising)
			xenbus_switch_state(dev, XenbusStateInitialising);
		pdx_setup(px);
		break;
	case XenbusStateConnected:
		if (dev->state == XenbusStateInitialised && !px->conn)
			if (pdx_connect(px))
				xenbus_dev_fatal(dev, -ENOMEM, "connecting");
		break;
	case XenbusStateClosing:
	case XenbusStateClosed:
	case XenbusStateUnknown:
		pdx_disconnect(px);
		if (dev->state != XenbusStateClosed)
			xenbus_frontend_closed(dev);
		break;
	default:
		break;
	}
	mutex_unlock(&px->state_lock);
}

static int pdx_probe(struct xenbus_device *dev,
		     const struct xenbus_device_id *id)
{
	struct pdx *px = kzalloc(sizeof(*px), GFP_KERNEL);

	if (!px) {
		xenbus_dev_fatal(dev, -ENOMEM, "allocating state");
		return -ENOMEM;
	}
	px->dev = dev;
	mutex_init(&px->state_lock);
	mutex_init(&px->io_lock);
	INIT_LIST_HEAD(&px->queue);
	INIT_WORK(&px->rsp_work, pdx_rsp_work);
	INIT_WORK(&px->evt_work, pdx_evt_work);
	px->closed = true;
	px->req_ref = px->evt_ref = INVALID_GRANT_REF;
	dev_set_drvdata(&dev->dev, px);
	return 0;
}

static void pdx_remove(struct xenbus_device *dev)
{
	struct pdx *px = dev_get_drvdata(&dev->dev);

	mutex_lock(&px->state_lock);
	pdx_disconnect(px);
	mutex_unlock(&px->state_lock);
	dev_set_drvdata(&dev->dev, NULL);
	kfree(px);
}

static const struct xenbus_device_id pdx_ids[] = {
	{ PD_WIRE_XENBUS_DEVICE_TYPE },
	{ "" }
};

static struct xenbus_driver pdx_driver = {
	.ids = pdx_ids,
	.probe = pdx_probe,
	.remove = pdx_remove,
	.otherend_changed = pdx_backend_changed,
	.not_essential = true,
};

int pd_xen_init(void)
{
	if (!xen_domain())
		return 0;
	return xenbus_register_frontend(&pdx_driver);
}

void pd_xen_exit(void)
{
	if (!xen_domain())
		return;
	xenbus_unregister_driver(&pdx_driver);
}
