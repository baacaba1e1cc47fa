/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The Xen transport, guest side: a xenbus frontend of device type
 * "paradice" (see the XenStore layout and the state diagram in pd_wire.h).
 * What its files share:
 *
 *   front_xenbus.c     the xenbus driver and its state machine: setup,
 *                      connect, disconnect; the transport's ops table
 *   front_xen_ring.c   the request and event rings with their event
 *                      channels: sending requests, taking replies and
 *                      events
 *   front_xen_shbuf.c  the data area: pages granted once, and the
 *                      directory of their grant references
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
 *
 * Replies are taken in the request ring's interrupt handler, which
 * completes their waiters directly (one wake-up per trip, no work item
 * between), as long as they are small (PDX_IRQ_REPLY) and well formed.
 * The first reply that is not, and every reply after it until the ring is
 * empty, is left to rsp_work, which may allocate and sleep. Sending space
 * freed by replies is used by rsp_work too when a send found none.
 */
#ifndef PD_FRONT_XEN_H
#define PD_FRONT_XEN_H

#include <linux/mutex.h>
#include <linux/workqueue.h>

#include <xen/grant_table.h>
#include <xen/page.h>
#include <xen/xenbus.h>
#include <xen/interface/io/ring.h>

#include "front.h"

DEFINE_RING_TYPES(pdx, struct pd_wire_xen_slot, struct pd_wire_xen_slot);

#define PDX_RING_SIZE	__CONST_RING_SIZE(pdx, XEN_PAGE_SIZE)
#define PDX_DATA_PAGES	2048u			/* 8 MiB */
/*
 * Ring slots and data pages other requests leave free for PD_OP_CANCEL:
 * requests that wait in dom0's driver (reads nobody answers) could
 * otherwise fill the ring, and the CANCEL that would end them, when their
 * program is killed, would wait behind them for good.
 */
#define PDX_CTL_RESERVE	4u
#define PDX_EVT_BUF	128u			/* bytes per event buffer */
#define PDX_EVT_AREA	(PDX_RING_SIZE * PDX_EVT_BUF)
#define PDX_EVT_PAGES	DIV_ROUND_UP(PDX_EVT_AREA, PAGE_SIZE)
#define PDX_DIR_REFS	(XEN_PAGE_SIZE / sizeof(u32) - 1)	/* + chain */
#define PDX_DIR_PAGES	DIV_ROUND_UP(PDX_DATA_PAGES, PDX_DIR_REFS)
#define PDX_IRQ_REPLY	2048u		/* largest reply taken in the irq */

/* The data area and its directory (front_xen_shbuf.c). */
struct pdx_shbuf {
	struct page **pages;		/* PDX_DATA_PAGES */
	grant_ref_t *refs;
	struct page *dir[PDX_DIR_PAGES];
	grant_ref_t dir_refs[PDX_DIR_PAGES];
	u8 *data;			/* vmap of pages */
};

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

	struct pdx_shbuf shbuf;

	/*
	 * io_lock serialises sending: the send queue and the request ring's
	 * producer. Copies into the data area happen under it, so that a slot
	 * is only pushed once its message is complete.
	 */
	struct mutex io_lock;
	struct list_head queue;
	/*
	 * rsp_lock (taken in the interrupt handler) protects what sending and
	 * receiving share: the closed flag (written under both locks), the
	 * page bitmap, the in-flight table, the request ring's consumer, and
	 * the two flags below.
	 */
	spinlock_t rsp_lock;
	bool closed;
	unsigned long *used;		/* pages of the request part in use */
	struct pdx_inflight inflight[PDX_RING_SIZE];
	unsigned int ninflight;
	bool rsp_deferred;		/* rsp_work drains; the irq does not */
	bool starved;			/* a send waits for ring or data room */

	struct work_struct rsp_work;	/* large replies; sends that waited */
	struct work_struct evt_work;	/* drains the event ring */
};

/* front_xen_shbuf.c */
int pdx_shbuf_init(struct pdx_shbuf *sb, struct xenbus_device *dev);
void pdx_shbuf_finish(struct pdx_shbuf *sb);
static inline bool pdx_shbuf_allocated(const struct pdx_shbuf *sb)
{
	return sb->pages;
}
static inline grant_ref_t pdx_shbuf_dir_ref(const struct pdx_shbuf *sb)
{
	return sb->dir_refs[0];
}

/* front_xen_ring.c */
void pdx_io_init(struct pdx *px);
int pdx_rings_init(struct pdx *px, evtchn_port_t *req_port,
		   evtchn_port_t *evt_port);
void pdx_rings_finish(struct pdx *px);
void pdx_io_open(struct pdx *px);
void pdx_io_close(struct pdx *px);
int pdx_send(struct pd_conn *conn, struct pd_req *req);
bool pdx_unsend(struct pd_conn *conn, struct pd_req *req);

#endif /* PD_FRONT_XEN_H */
