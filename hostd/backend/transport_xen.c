// SPDX-License-Identifier: GPL-2.0-only
/*
 * The Xen transport, backend side: one guest's "paradice" device, served
 * from dom0 userspace with libxenstore, libxenevtchn and libxengnttab (see
 * the XenStore layout and the state diagram in pd_wire.h, and
 * kernel/front_xen.c for the other end).
 *
 *   pd-backend --xen GUEST [--config FILE]
 *
 * Two processes. The first (the monitor) resolves the guest, reads which
 * device files the configuration gives it, and runs the second (the
 * server), which publishes the backend's nodes, maps the guest's rings and
 * data area once, and serves requests until the connection ends. When a
 * server dies, however it dies, the monitor tells the frontend (state
 * Closing), so that the guest's programs get -EIO at once, and starts a
 * new server, to which the frontend reconnects; a server that found no
 * hostd for its guest's display (exit status PD_DISPLAY_EXIT_NO_HOSTD)
 * ends the monitor instead. When the guest's domain is gone the monitor
 * removes the nodes and exits.
 *
 * mmap across domains: the server opens the driver domain's grant helper
 * (/dev/paradice-grant, pd_grant.h) and offers PD_WIRE_FEAT_MMAP only if
 * it is there; grant/ungrant/revoked wrap its ioctls and its revoked-id
 * queue for maps.c.
 *
 * Memory shared with the guest is hostile. Each request is copied out of
 * the data area once, bounds checked, before main.c looks at it; each
 * reply is written only inside the run of pages the frontend gave its
 * request. Ring indices the guest writes are checked against the ring's
 * size before use.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <paradice/pd_display.h>
#include <paradice/pd_grant.h>
#include "config.h"
#include "xen/transport.h"

#define DIR_REFS	(PAGE / sizeof(uint32_t) - 1)

/* ------------------------------------------------------------------ */
/* The guest's rings and data area                                      */

void be_xen_unmap_shared(struct xen_transport *x)
{
	if (x->req_page)
		xengnttab_unmap(x->xgt, x->req_page, 1);
	if (x->evt_page)
		xengnttab_unmap(x->xgt, x->evt_page, 1);
	if (x->data)
		xengnttab_unmap(x->xgt, x->data, x->data_pages);
	x->req_page = x->evt_page = NULL;
	x->data = NULL;
}

/* Read the data area's grant references through its directory. */
static int read_data_refs(struct xen_transport *x, uint32_t first_dir,
			  uint32_t *refs, uint32_t n)
{
	uint32_t ref = first_dir, got = 0;

	while (got < n) {
		uint32_t *untrusted_dir, k;

		if (!ref) {
			errno = EINVAL;
			return -1;
		}
		untrusted_dir = xengnttab_map_grant_ref(x->xgt, x->domid, ref,
							PROT_READ);
		if (!untrusted_dir)
			return -1;
		for (k = 0; k < DIR_REFS && got < n; k++)
			refs[got++] = untrusted_dir[k];
		ref = untrusted_dir[DIR_REFS];
		xengnttab_unmap(x->xgt, untrusted_dir, 1);
	}
	return 0;
}

/*
 * Map the frontend's two ring pages and its data area, once for the
 * connection. On failure what was mapped stays mapped: the caller ends
 * with be_xen_unmap_shared().
 */
int be_xen_map_shared(struct xen_transport *x, const struct xen_frontend_dir *fe)
{
	struct be *be = x->be;
	uint32_t *refs;

	x->req_page = xengnttab_map_grant_ref(x->xgt, x->domid, fe->req_ref,
					      PROT_READ | PROT_WRITE);
	x->evt_page = xengnttab_map_grant_ref(x->xgt, x->domid, fe->evt_ref,
					      PROT_READ | PROT_WRITE);
	if (!x->req_page || !x->evt_page) {
		be_log(be, "cannot map the rings: %s", strerror(errno));
		return -1;
	}
	refs = calloc(fe->pages, sizeof(*refs));
	if (!refs || read_data_refs(x, fe->dir_ref, refs, fe->pages)) {
		be_log(be, "cannot read the data directory: %s",
		       strerror(errno));
		free(refs);
		return -1;
	}
	x->data = xengnttab_map_domain_grant_refs(x->xgt, fe->pages, x->domid,
						  refs, PROT_READ | PROT_WRITE);
	free(refs);
	if (!x->data) {
		be_log(be, "cannot map the data area: %s", strerror(errno));
		return -1;
	}
	x->data_pages = fe->pages;
	x->data_len = (size_t)fe->pages * PAGE;
	return 0;
}

/* ------------------------------------------------------------------ */
/* The grant helper: our pages to the guest (mmap)                      */

/* mmap of forwarded files needs the grant helper (module pdgrant);
 * without it the guest is served all the rest */
void be_xen_grant_helper_open(struct xen_transport *x)
{
	x->grant_fd = open(PD_GRANT_DEVICE, O_RDWR | O_CLOEXEC);
	if (x->grant_fd >= 0) {
		x->base.features |= PD_WIRE_FEAT_MMAP;
		x->base.revoke_fd = x->grant_fd;
	} else {
		be_log(x->be, "%s: %s: mmap of forwarded files not offered "
		       "(is pdgrant loaded?)", PD_GRANT_DEVICE, strerror(errno));
	}
}

void be_xen_grant_helper_close(struct xen_transport *x)
{
	if (x->grant_fd >= 0)
		close(x->grant_fd);
	x->grant_fd = -1;
}

/* Grant the guest the frames behind addr (maps.c), through the helper. */
int be_xen_grant(struct be_transport *t, void *addr, uint32_t npages,
		 bool writable, uint32_t *refs, uint32_t *region)
{
	struct xen_transport *x = XT(t);
	struct pd_grant_map m = {
		.addr = (uint64_t)(uintptr_t)addr,
		.refs = (uint64_t)(uintptr_t)refs,
		.npages = npages,
		.domid = (uint16_t)x->domid,
		.flags = writable ? 0 : PD_GRANT_READONLY,
	};

	if (x->grant_fd < 0)
		return -EOPNOTSUPP;
	if (!npages || npages > PD_GRANT_MAX_PAGES)
		return -EINVAL;
	if (ioctl(x->grant_fd, PD_GRANT_IOC_MAP, &m))
		return errno ? -errno : -EIO;
	*region = m.id;
	return 0;
}

int be_xen_ungrant(struct be_transport *t, uint32_t region)
{
	struct xen_transport *x = XT(t);
	__u32 id = region;
	int ret;

	if (x->grant_fd < 0)
		return -ENOENT;
	do {
		ret = ioctl(x->grant_fd, PD_GRANT_IOC_UNMAP, &id);
	} while (ret && errno == EINTR);
	return ret ? (errno ? -errno : -EIO) : 0;
}

/* Revoked region ids, as __u32s, from the helper's descriptor; the event
 * thread calls this when it polls readable, and it never blocks. */
int be_xen_revoked(struct be_transport *t, uint32_t *regions,
		   unsigned int max)
{
	struct xen_transport *x = XT(t);
	struct pollfd p = { .fd = x->grant_fd, .events = POLLIN };
	ssize_t n;
	int r;

	if (x->grant_fd < 0 || !max)
		return 0;
	r = poll(&p, 1, 0);
	if (r < 0)
		return errno == EINTR ? 0 : -errno;
	if (p.revents & (POLLERR | POLLNVAL))
		return -EIO;
	if (!(p.revents & POLLIN))
		return 0;
	n = read(x->grant_fd, regions, max * sizeof(*regions));
	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 0 : -errno;
	return (int)((size_t)n / sizeof(*regions));
}


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

/* Take the next request off the ring into buf, if there is one. Returns
 * its length, 0 if none, -1 if the frontend broke the ring, -2 if it
 * dropped a bad slot. */
static ssize_t take_request(struct xen_transport *x, uint8_t *buf, size_t cap)
{
	struct pd_wire_xen_slot untrusted_slot;
	struct pd_wire_hdr hdr;
	RING_IDX rp = x->req.sring->req_prod;
	size_t len, n;
	unsigned int i;

	xen_rmb();	/* the slots after the producer index */
	if (RING_REQUEST_PROD_OVERFLOW(&x->req, rp)) {
		be_log(x->be, "frontend overran the request ring (%u, %u)",
		       rp, x->req.req_cons);
		return -1;
	}
	if (x->req.req_cons == rp)
		return 0;
	memcpy(&untrusted_slot, RING_GET_REQUEST(&x->req, x->req.req_cons),
	       sizeof(untrusted_slot));
	x->req.req_cons++;

	/* the one place a slot is checked: everything below uses copies */
	len = untrusted_slot.len;
	if (untrusted_slot.offset > x->data_len ||
	    len > x->data_len - untrusted_slot.offset ||
	    len < sizeof(hdr) || !untrusted_slot.id) {
		be_log(x->be, "bad slot (id %llu, offset %u, len %u) dropped",
		       (unsigned long long)untrusted_slot.id, untrusted_slot.offset,
		       untrusted_slot.len);
		return -2;
	}
	n = len < cap ? len : cap;
	memcpy(buf, x->data + untrusted_slot.offset, n);
	memcpy(&hdr, buf, sizeof(hdr));
	if (hdr.id != untrusted_slot.id) {
		be_log(x->be, "slot %llu holds request %llu: dropped",
		       (unsigned long long)untrusted_slot.id,
		       (unsigned long long)hdr.id);
		return -2;
	}
	pthread_mutex_lock(&x->lock);
	for (i = 0; i < RING_SLOTS; i++)
		if (x->inflight[i].id == hdr.id)
			break;
	if (i < RING_SLOTS) {
		pthread_mutex_unlock(&x->lock);
		be_log(x->be, "request id %llu reused: dropped",
		       (unsigned long long)hdr.id);
		return -2;
	}
	for (i = 0; i < RING_SLOTS; i++)
		if (!x->inflight[i].id)
			break;
	/* take_request only runs with a free entry (recv checks) */
	x->inflight[i] = (struct inflight){
		.id = hdr.id, .offset = untrusted_slot.offset, .cap = (uint32_t)len,
	};
	x->ninflight++;
	pthread_mutex_unlock(&x->lock);
	/* the header's own length, if it fits in the run; else main.c sees
	 * the mismatch and refuses the request */
	if (hdr.len <= n - sizeof(hdr))
		return (ssize_t)(sizeof(hdr) + hdr.len);
	return (ssize_t)n;
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
				if (r == -1) {
					be_xen_set_state(x->xs, x->be_path,
							 XB_CLOSING);
					x->ended = true;
					return 0;
				}
				if (r == -2)
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
			be_xen_check_frontend(x);
		else if (n == 0)
			be_xen_check_frontend(x);	/* belt and braces */
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
		if (untrusted_buf.offset > x->data_len ||
		    untrusted_buf.len > x->data_len - untrusted_buf.offset ||
		    untrusted_buf.len < len) {
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
	unsigned int i;
	int notify;

	memcpy(&hdr, msg, sizeof(hdr));
	if (hdr.flags & PD_WIRE_F_EVENT)
		return send_event(x, msg, len);

	pthread_mutex_lock(&x->lock);
	for (i = 0; i < RING_SLOTS; i++)
		if (x->inflight[i].id && x->inflight[i].id == hdr.id)
			break;
	if (i == RING_SLOTS || !x->connected) {
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
	x->inflight[i].id = 0;
	pthread_mutex_unlock(&x->lock);
	return 0;
}



/* ------------------------------------------------------------------ */
/* The connection                                                       */

static void disconnect(struct xen_transport *x)
{
	be_xen_ring_disconnect(x);
	be_xen_unmap_shared(x);
	x->connected = false;
}

/*
 * The frontend is Initialised: map its two rings and its data area once,
 * bind both event channels, go Connected. Everything read from its
 * directory is checked before use (be_xen_read_frontend).
 */
static int connect_frontend(struct xen_transport *x)
{
	struct xen_frontend_dir fe;

	if (be_xen_read_frontend(x, &fe))
		return -1;
	if (be_xen_map_shared(x, &fe) || be_xen_ring_connect(x, &fe)) {
		disconnect(x);
		return -1;
	}
	x->connected = true;
	be_xen_set_state(x->xs, x->be_path, XB_CONNECTED);
	be_log(x->be, "connected to domain %u: %u data pages", x->domid,
	       x->data_pages);
	return 0;
}

/* The frontend's state or its domain changed: go on, connect, or end. */
void be_xen_check_frontend(struct xen_transport *x)
{
	int st = be_xen_read_state(x->xs, x->fe_path);

	if (!xs_is_domain_introduced(x->xs, x->domid)) {
		be_log(x->be, "domain %u is gone", x->domid);
		x->ended = true;
		return;
	}
	if (x->be->verbose)
		be_log(x->be, "frontend %s", be_xen_state_name(st));
	switch (st) {
	case XB_INITIALISED:
		if (!x->connected && connect_frontend(x)) {
			be_xen_set_state(x->xs, x->be_path, XB_CLOSING);
			x->ended = true;
		}
		break;
	case XB_CLOSING:
	case XB_CLOSED:
	case XB_UNKNOWN:
		/* a frontend that already closed before we connected is
		 * waiting for a new backend: that is us, not an end */
		if (x->connected || st == XB_CLOSING)
			x->ended = true;
		break;
	default:
		break;
	}
}

static void xen_destroy(struct be_transport *t)
{
	struct xen_transport *x = XT(t);

	if (!t)
		return;
	disconnect(x);
	be_xen_grant_helper_close(x);
	if (x->xgt)
		xengnttab_close(x->xgt);
	if (x->xce)
		xenevtchn_close(x->xce);
	if (x->xs)
		xs_close(x->xs);
	if (x->roomfd >= 0)
		close(x->roomfd);
	free(x);
}

static const struct be_transport_impl xen_impl = {
	.name = "xen",
	.features = PD_WIRE_FEAT_POLL_EVENTS | PD_WIRE_FEAT_FASYNC |
		    PD_WIRE_FEAT_NEWFD | PD_WIRE_FEAT_CANCEL,
	.recv = be_xen_recv,
	.send = be_xen_send,
	.grant = be_xen_grant,
	.ungrant = be_xen_ungrant,
	.revoked = be_xen_revoked,
	.destroy = xen_destroy,
};

/* Wait until the frontend is Closed (or gone), at most ms. */
static void wait_frontend_closed(struct xs_handle *xs, const char *fe_path,
				 int ms)
{
	for (int waited = 0; waited < ms; waited += 50) {
		int st = be_xen_read_state(xs, fe_path);

		if (st == XB_CLOSED || st == XB_UNKNOWN ||
		    st == XB_INITIALISING)
			return;
		nanosleep(&(struct timespec){ .tv_nsec = 50000000 }, NULL);
	}
}

/* ------------------------------------------------------------------ */
/* The server: one connection                                            */

static struct be_transport *server_create(struct be *be, unsigned int domid)
{
	struct xen_transport *x = calloc(1, sizeof(*x));

	if (!x)
		return NULL;
	x->base.impl = &xen_impl;
	x->base.fd = -1;
	x->base.revoke_fd = -1;
	x->be = be;
	x->domid = domid;
	x->grant_fd = -1;
	x->roomfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	pthread_mutex_init(&x->lock, NULL);
	pthread_mutex_init(&x->evt_lock, NULL);
	be_xen_paths(domid, x->be_path, sizeof(x->be_path), x->fe_path,
		     sizeof(x->fe_path));
	x->xs = xs_open(0);
	x->xce = xenevtchn_open(NULL, 0);
	x->xgt = xengnttab_open(NULL, 0);
	if (!x->xs || !x->xce || !x->xgt || x->roomfd < 0) {
		be_log(be, "cannot open Xen's interfaces: %s", strerror(errno));
		goto fail;
	}
	/* a single mapping of the data area can be large */
	xengnttab_set_max_grants(x->xgt, MAX_DATA_PAGES + 8);
	be_xen_grant_helper_open(x);
	/* a frontend still attached to an earlier backend (its references
	 * are stale) must close first: tell it, and give it a moment */
	switch (be_xen_read_state(x->xs, x->fe_path)) {
	case XB_INITIALISED:
	case XB_CONNECTED:
	case XB_CLOSING:
		be_log(be, "frontend still attached to an earlier backend: "
		       "closing it");
		be_xen_set_state(x->xs, x->be_path, XB_CLOSING);
		wait_frontend_closed(x->xs, x->fe_path, 10000);
		break;
	default:
		break;
	}
	if (be_xen_publish(x)) {
		be_log(be, "cannot publish %s: %s", x->be_path, strerror(errno));
		goto fail;
	}
	if (be_xen_watch(x)) {
		be_log(be, "cannot watch %s: %s", x->fe_path, strerror(errno));
		goto fail;
	}
	be_xen_set_state(x->xs, x->be_path, XB_INITWAIT);
	be_log(be, "waiting for domain %u (%s)", domid, x->fe_path);
	return &x->base;
fail:
	xen_destroy(&x->base);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* The monitor                                                           */

static volatile sig_atomic_t monitor_stop;

static void on_term(int sig)
{
	monitor_stop = 1;
}

static void write_pid(const char *dir, const char *name, const char *what,
		      pid_t pid)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/backend-%s.%s", dir, name, what);
	f = fopen(path, "w");
	if (f) {
		fprintf(f, "%d\n", (int)pid);
		fclose(f);
	}
}

/* Another monitor alive for this guest? Two would fight over XenStore. */
static bool already_served(const char *name)
{
	char path[256], cmd[64] = "";
	FILE *f;
	int pid = 0, fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/run/paradice/backend-%s.monitor", name);
	f = fopen(path, "r");
	if (!f)
		return false;
	if (fscanf(f, "%d", &pid) != 1)
		pid = 0;
	fclose(f);
	if (pid <= 0 || pid == getpid())
		return false;
	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, cmd, sizeof(cmd) - 1);
	close(fd);
	return n > 0 && strstr(cmd, "pd-backend");
}

/*
 * Runs servers one after another for as long as the guest exists. Returns
 * in the child (the server) only; the monitor itself exits.
 */
static void monitor(struct be *be, unsigned int domid, const char *name)
{
	const char *run = "/run/paradice";
	char be_path[128], fe_path[128];
	struct xs_handle *xs;
	int quick_deaths = 0;

	be_xen_paths(domid, be_path, sizeof(be_path), fe_path,
		     sizeof(fe_path));
	mkdir(run, 0755);
	write_pid(run, name, "monitor", getpid());
	/* no SA_RESTART: the signal must interrupt waitpid() */
	sigaction(SIGTERM, &(struct sigaction){ .sa_handler = on_term }, NULL);
	sigaction(SIGINT, &(struct sigaction){ .sa_handler = on_term }, NULL);

	for (;;) {
		struct timespec t0, t1;
		pid_t pid, w;
		int status;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		pid = fork();
		if (pid < 0) {
			be_log(be, "fork: %s", strerror(errno));
			exit(1);
		}
		if (pid == 0) {
			signal(SIGTERM, SIG_DFL);
			signal(SIGINT, SIG_DFL);
			write_pid(run, name, "pid", getpid());
			return;
		}
		do {
			w = waitpid(pid, &status, 0);
			if (w < 0 && errno == EINTR && monitor_stop)
				kill(pid, SIGTERM);
		} while (w < 0 && errno == EINTR);
		clock_gettime(CLOCK_MONOTONIC, &t1);

		xs = xs_open(0);
		if (!xs) {
			be_log(be, "monitor: xenstore: %s", strerror(errno));
			exit(1);
		}
		if (WIFSIGNALED(status))
			be_log(be, "server %d killed by signal %d", (int)pid,
			       WTERMSIG(status));
		else
			be_log(be, "server %d exited (%d)", (int)pid,
			       WEXITSTATUS(status));
		/* no hostd came back for the display: end as if stopped
		 * (pd_display.h); hostd starts a new backend when it comes */
		if (WIFEXITED(status) &&
		    WEXITSTATUS(status) == PD_DISPLAY_EXIT_NO_HOSTD)
			monitor_stop = 1;
		/* whatever happened, the frontend must stop using it */
		if (be_xen_read_state(xs, be_path) != XB_UNKNOWN)
			be_xen_set_state(xs, be_path, XB_CLOSING);
		if (monitor_stop || !xs_is_domain_introduced(xs, domid)) {
			wait_frontend_closed(xs, fe_path, 3000);
			be_xen_set_state(xs, be_path, XB_CLOSED);
			if (!xs_is_domain_introduced(xs, domid)) {
				/* the domain's whole directory (device 0
				 * is all), not an empty one left behind */
				char *slash = strrchr(be_path, '/');

				if (slash)
					*slash = '\0';
				xs_rm(xs, XBT_NULL, be_path);
				be_log(be, "domain %u is gone: monitor ends",
				       domid);
			}
			xs_close(xs);
			exit(0);
		}
		wait_frontend_closed(xs, fe_path, 5000);
		be_xen_set_state(xs, be_path, XB_CLOSED);
		xs_close(xs);
		if (t1.tv_sec - t0.tv_sec < 3) {
			if (++quick_deaths >= 5) {
				be_log(be, "server keeps dying: monitor ends");
				exit(1);
			}
			sleep(1);
		} else {
			quick_deaths = 0;
		}
	}
}

/*
 * --xen: serve the guest named domain (a name or a domain id) with the
 * device files its section of the configuration lists, nothing else.
 */
struct be_transport *be_xen_create(struct be *be, const char *domain,
				   const char *config_path, char **extra,
				   unsigned int nextra)
{
	const struct hostd_guest_config *g;
	static char guest_name[HOSTD_NAME_MAX];
	struct hostd_config cfg;
	struct xs_handle *xs;
	unsigned int domid;
	char err[512];

	xs = xs_open(0);
	if (!xs) {
		be_log(be, "cannot open xenstore: %s", strerror(errno));
		return NULL;
	}
	if (be_xen_resolve_domain(xs, domain, &domid, guest_name,
				  sizeof(guest_name))) {
		be_log(be, "no domain %s", domain);
		xs_close(xs);
		return NULL;
	}
	xs_close(xs);
	be->name = guest_name;
	be->domid = domid;
	if (hostd_config_load(&cfg, config_path, err, sizeof(err))) {
		be_log(be, "%s", err);
		return NULL;
	}
	g = hostd_config_guest(&cfg, guest_name);
	if (!g) {
		be_log(be, "%s: no [guest %s] section", config_path, guest_name);
		hostd_config_finish(&cfg);
		return NULL;
	}
	be->nexports = g->ndevices + nextra;
	be->exports = calloc(be->nexports ? be->nexports : 1,
			     sizeof(*be->exports));
	if (!be->exports) {
		hostd_config_finish(&cfg);
		return NULL;
	}
	for (unsigned int i = 0; i < g->ndevices; i++) {
		if (be_export_describe(g->devices[i], &be->exports[i])) {
			be_log(be, "%s (%s:%u): cannot forward: %s",
			       g->devices[i], config_path, g->line,
			       strerror(errno));
			hostd_config_finish(&cfg);
			return NULL;
		}
	}
	for (unsigned int i = 0; i < nextra; i++) {
		if (be_export_describe(extra[i], &be->exports[g->ndevices + i])) {
			be_log(be, "%s (command line): cannot forward: %s",
			       extra[i], strerror(errno));
			hostd_config_finish(&cfg);
			return NULL;
		}
	}
	hostd_config_finish(&cfg);

	if (already_served(guest_name)) {
		be_log(be, "already served by another pd-backend");
		return NULL;
	}
	monitor(be, domid, guest_name);
	/* the server, in a process of its own */
	return server_create(be, domid);
}
