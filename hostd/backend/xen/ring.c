// SPDX-License-Identifier: GPL-2.0-only
/*
 * The Xen transport's rings (framing in pd_wire.h): the request ring
 * (requests down, replies up) and the event ring (the frontend's empty
 * buffers down, events up), standard one-page Xen rings of struct
 * pd_wire_xen_slot, each with its own event channel; the transport's recv
 * and send for main.c's reader and workers.
 *
 * Owns: the back ends of both rings (consumer and producer indices), the
 * binding of the two event channels, the in-flight table (id -> the run of
 * the data area a request came in, where its reply must go), and the
 * reader's wait for the frontend (poll on XenStore, the event channels,
 * and room in the in-flight table).
 *
 * Trusts: nothing the guest writes into the ring pages or the data area,
 * which it can change at any moment. The checks are slot.c's, called
 * before anything is used: for a request, the producer index against the
 * ring's size, then the slot, copied out once (untrusted_slot), against
 * the data area, then the request, copied out once (main.c looks only at
 * the copy), and its id against the in-flight table; for an event, the
 * buffer's slot, copied out once here (untrusted_buf), against the data
 * area and the event's length. A reply is written only inside the run its
 * request came in, an event only inside its checked buffer.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "transport.h"

/* ------------------------------------------------------------------ */
/* Connecting                                                           */

/* The rings are mapped (grant.c): set up our ends and bind both event
 * channels. On failure the caller ends with be_xen_ring_disconnect(). */
int be_xen_ring_connect(struct xen_transport *x,
			const struct xen_frontend_dir *fe)
{
	xenevtchn_port_or_error_t p;

	BACK_RING_INIT(&x->req, (struct pdx_sring *)x->req_page, PAGE);
	BACK_RING_INIT(&x->evt, (struct pdx_sring *)x->evt_page, PAGE);

	p = xenevtchn_bind_interdomain(x->xce, x->domid, fe->req_ch);
	if (p < 0)
		goto fail;
	x->req_port = (evtchn_port_t)p;
	p = xenevtchn_bind_interdomain(x->xce, x->domid, fe->evt_ch);
	if (p < 0)
		goto fail;
	x->evt_port = (evtchn_port_t)p;
	return 0;

fail:
	be_log(x->be, "cannot bind the event channels: %s", strerror(errno));
	return -1;
}

void be_xen_ring_disconnect(struct xen_transport *x)
{
	if (x->req_port)
		xenevtchn_unbind(x->xce, x->req_port);
	if (x->evt_port)
		xenevtchn_unbind(x->xce, x->evt_port);
	x->req_port = x->evt_port = 0;
}

/* ------------------------------------------------------------------ */
/* Requests                                                             */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * The backend's share of the guest's round trips: from taking a request
 * off the ring to pushing its reply (decoding, the thread handoff, the
 * real call, encoding). The guest counts the whole trip (debugfs
 * pdfront/stats); the difference is the event channels, Xen's scheduling
 * and the guest's own path. Logged every BE_XEN_STATS_EVERY replies, and
 * when the reader's inline requests are switched (SIGUSR2, main.c), so
 * that each line is of one setting. Caller holds x->lock.
 */
#define BE_XEN_STATS_EVERY	1000u

static void log_replies(struct xen_transport *x)
{
	be_log(x->be, "last %llu replies: %llu us mean, %llu us max from "
	       "taking a request to its reply (inline %s)",
	       (unsigned long long)x->st_count,
	       (unsigned long long)(x->st_total_ns / x->st_count / 1000),
	       (unsigned long long)(x->st_max_ns / 1000),
	       x->st_inline_off ? "off" : "on");
	x->st_count = x->st_total_ns = x->st_max_ns = 0;
}

static void note_reply(struct xen_transport *x, uint64_t taken_ns)
{
	uint64_t d = now_ns() - taken_ns;
	bool off = x->be && atomic_load(&x->be->inline_off);

	if (x->st_count && off != x->st_inline_off)
		log_replies(x);
	x->st_inline_off = off;
	x->st_count++;
	x->st_total_ns += d;
	if (d > x->st_max_ns)
		x->st_max_ns = d;
	if (x->st_count >= BE_XEN_STATS_EVERY)
		log_replies(x);
}

/* Take the next request off the ring into buf, if there is one (slot.c
 * checks it). Returns its length, 0 if none, BE_XEN_RING_BROKEN if the
 * frontend broke the ring, BE_XEN_SLOT_BAD if it dropped a bad slot. */
static ssize_t take_request(struct xen_transport *x, uint8_t *buf, size_t cap)
{
	struct inflight run;
	ssize_t r;
	int e;

	r = be_xen_slot_next(x->be, &x->req, x->data, x->data_len, buf, cap,
			     &run);
	if (r <= 0)
		return r;
	run.taken_ns = now_ns();
	pthread_mutex_lock(&x->lock);
	/* take_request only runs with a free entry (recv checks) */
	e = be_xen_inflight_add(x->inflight, &run);
	if (!e)
		x->ninflight++;
	pthread_mutex_unlock(&x->lock);
	if (e) {
		be_log(x->be, "request id %llu %s: dropped",
		       (unsigned long long)run.id,
		       e == -EEXIST ? "reused" : "finds no room");
		return BE_XEN_SLOT_BAD;
	}
	return r;
}

/*
 * One request into buf. The first call waits for the frontend to connect.
 * Returns 0 when the connection ends: the frontend closes, its domain goes
 * away, or it breaks the protocol.
 */
ssize_t be_xen_recv(struct be_transport *t, void *buf, size_t cap)
{
	struct xen_transport *x = XT(t);

	for (;;) {
		struct pollfd pfd[3];
		bool full;
		int more, n;

		if (x->ended)
			return 0;
		if (x->connected) {
			pthread_mutex_lock(&x->lock);
			full = x->ninflight >= RING_SLOTS;
			pthread_mutex_unlock(&x->lock);
			if (!full) {
				ssize_t r = take_request(x, buf, cap);

				if (r > 0)
					return r;
				if (r == BE_XEN_RING_BROKEN) {
					be_xen_set_state(x->xs, x->be_path,
							 XB_CLOSING);
					x->ended = true;
					return 0;
				}
				if (r == BE_XEN_SLOT_BAD)
					continue;
				RING_FINAL_CHECK_FOR_REQUESTS(&x->req, more);
				if (more)
					continue;
			}
		}
		pfd[0] = (struct pollfd){ .fd = xs_fileno(x->xs), .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = xenevtchn_fd(x->xce), .events = POLLIN };
		pfd[2] = (struct pollfd){ .fd = x->roomfd, .events = POLLIN };
		n = poll(pfd, 3, 2000);
		if (n < 0 && errno != EINTR)
			return -1;
		if (pfd[1].revents & POLLIN) {
			xenevtchn_port_or_error_t p = xenevtchn_pending(x->xce);

			if (p >= 0)
				xenevtchn_unmask(x->xce, (evtchn_port_t)p);
		}
		if (pfd[2].revents & POLLIN) {
			uint64_t v;

			if (read(x->roomfd, &v, sizeof(v)) < 0)
				v = 0;
		}
		if ((pfd[0].revents & POLLIN) && be_xen_drain_watches(x))
			x->frontend_changed(x);
		else if (n == 0)
			x->frontend_changed(x);	/* belt and braces */
	}
}

/* ------------------------------------------------------------------ */
/* Events and replies                                                   */

/*
 * An event into the next buffer the frontend posted. When all are in use
 * (the frontend reposts them as it reads; a guest whose vCPU does not run
 * reposts none) it waits for one as long as the connection lasts: an
 * event dropped would be a poll wakeup lost for good, and a guest that
 * never reads its events only stalls its own backend's senders.
 */
static int send_event(struct xen_transport *x, const void *msg, size_t len)
{
	long wait_ns = 1000000, waited_ns = 0;
	bool said = false;

	for (;;) {
		struct pd_wire_xen_slot untrusted_buf;
		struct pd_wire_xen_slot *rsp;
		int notify;

		pthread_mutex_lock(&x->evt_lock);
		if (!x->connected || x->ended) {
			pthread_mutex_unlock(&x->evt_lock);
			errno = EPIPE;
			return -1;
		}
		if (!RING_HAS_UNCONSUMED_REQUESTS(&x->evt)) {
			pthread_mutex_unlock(&x->evt_lock);
			if (waited_ns >= 2000000000L && !said) {
				be_log(x->be, "domain %u takes no events for 2 s: "
				       "holding them until it does", x->domid);
				said = true;
			}
			nanosleep(&(struct timespec){ .tv_nsec = wait_ns }, NULL);
			waited_ns += wait_ns;
			if (wait_ns < 16000000)
				wait_ns *= 2;
			continue;
		}
		if (said)
			be_log(x->be, "domain %u takes events again", x->domid);
		memcpy(&untrusted_buf, RING_GET_REQUEST(&x->evt, x->evt.req_cons),
		       sizeof(untrusted_buf));
		x->evt.req_cons++;
		if (!be_xen_event_buf_fits(&untrusted_buf, x->data_len, len)) {
			pthread_mutex_unlock(&x->evt_lock);
			be_log(x->be, "bad event buffer (offset %u, len %u)",
			       untrusted_buf.offset, untrusted_buf.len);
			continue;
		}
		memcpy(x->data + untrusted_buf.offset, msg, len);
		rsp = RING_GET_RESPONSE(&x->evt, x->evt.rsp_prod_pvt);
		rsp->id = untrusted_buf.id;
		rsp->offset = untrusted_buf.offset;
		rsp->len = (uint32_t)len;
		x->evt.rsp_prod_pvt++;
		RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&x->evt, notify);
		if (notify)
			xenevtchn_notify(x->xce, x->evt_port);
		pthread_mutex_unlock(&x->evt_lock);
		return 0;
	}
}

/*
 * A reply goes into the run of pages its request came in, never beyond:
 * one that would not fit becomes a bare header with -EOVERFLOW.
 */
int be_xen_send(struct be_transport *t, const void *msg, size_t len)
{
	struct xen_transport *x = XT(t);
	struct pd_wire_hdr hdr;
	struct pd_wire_xen_slot *rsp;
	int i, notify;

	memcpy(&hdr, msg, sizeof(hdr));
	if (hdr.flags & PD_WIRE_F_EVENT)
		return send_event(x, msg, len);

	pthread_mutex_lock(&x->lock);
	i = be_xen_inflight_find(x->inflight, hdr.id);
	if (i < 0 || !x->connected) {
		pthread_mutex_unlock(&x->lock);
		errno = x->connected ? ENOENT : EPIPE;
		return -1;
	}
	if (len > x->inflight[i].cap) {
		be_log(x->be, "reply to %llu (op %u): %zu bytes, room for %u",
		       (unsigned long long)hdr.id, hdr.op, len, x->inflight[i].cap);
		hdr.len = 0;
		hdr.result = -EOVERFLOW;
		msg = &hdr;
		len = sizeof(hdr);
	}
	memcpy(x->data + x->inflight[i].offset, msg, len);
	rsp = RING_GET_RESPONSE(&x->req, x->req.rsp_prod_pvt);
	rsp->id = hdr.id;
	rsp->offset = x->inflight[i].offset;
	rsp->len = (uint32_t)len;
	x->req.rsp_prod_pvt++;
	RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&x->req, notify);
	if (notify)
		xenevtchn_notify(x->xce, x->req_port);
	if (x->ninflight-- == RING_SLOTS) {
		uint64_t one = 1;

		if (write(x->roomfd, &one, sizeof(one)) < 0)
			be_log(x->be, "cannot wake the reader");
	}
	note_reply(x, x->inflight[i].taken_ns);
	x->inflight[i].id = 0;
	pthread_mutex_unlock(&x->lock);
	return 0;
}

