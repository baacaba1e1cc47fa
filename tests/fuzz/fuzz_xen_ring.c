// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target on the Xen transport's rings: hostd/backend/xen/ring.c
 * (recv, replies, events) and slot.c (the checks of what the frontend
 * writes), the real files, on ring pages and a data area in plain memory.
 * The fuzzer plays the guest, which may write anything anywhere in the
 * shared pages at any time between the backend's steps; Xen's calls
 * (event channels, XenStore) are stubs here, poll(2) returns at once, and
 * a wait for an event buffer ends the connection (as the frontend closing
 * would) instead of sleeping.
 *
 * Input: byte 0 the data area's size (1..4 pages), then operations, each
 * a byte (op % 8) and its arguments:
 *   0 OFF(2) LEN(1) BYTES  the guest scribbles on the request ring's page
 *   1 ID(1) OFF(2) LEN(2) BLEN(2) OP(1)  the guest posts a request: a
 *                          slot (id, offset, length) and at its offset a
 *                          header (id, op, body length)
 *   2 OFF(2) LEN(1) BYTES  the guest scribbles on the data area
 *   3                      the backend takes a request (be_xen_recv)
 *   4 WHICH(1) LEN(2)      the backend replies to an in-flight request
 *                          (WHICH picks one; high bit: an id of its own)
 *   5 OFF(2) LEN(2)        the guest posts an empty event buffer
 *   6 LEN(2)               the backend sends an event
 *   7 OFF(2) LEN(1) BYTES  the guest scribbles on the event ring's page
 * What is checked besides the sanitizers: a request taken is at least a
 * header and at most the buffer, and its id is in flight exactly once; the
 * in-flight count matches the table; a reply or an event changes the
 * data area only inside the run or buffer the guest gave for it.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xen/transport.h"

static struct xen_transport *x;
static uint8_t *buf;		/* the reader's buffer, PD_WIRE_MAX_MSG */
static uint8_t *before;		/* the data area before a send */
static uint8_t *msg;		/* what the backend sends */
static bool in_backend;		/* poll and nanosleep are the ring's */
static bool stopped;		/* the reader found nothing to do */

/* ---- what Xen and the other files of the transport would do ---- */

xenevtchn_port_or_error_t xenevtchn_bind_interdomain(xenevtchn_handle *xce,
	uint32_t domid, evtchn_port_t remote_port)
{
	return 1;
}

int xenevtchn_unbind(xenevtchn_handle *xce, evtchn_port_t port)
{
	return 0;
}

int xenevtchn_notify(xenevtchn_handle *xce, evtchn_port_t port)
{
	return 0;
}

xenevtchn_port_or_error_t xenevtchn_pending(xenevtchn_handle *xce)
{
	return -1;
}

int xenevtchn_unmask(xenevtchn_handle *xce, evtchn_port_t port)
{
	return 0;
}

int xenevtchn_fd(xenevtchn_handle *xce)
{
	return -1;
}

int xs_fileno(struct xs_handle *h)
{
	return -1;
}

void be_xen_set_state(struct xs_handle *xs, const char *dir, int state)
{
}

bool be_xen_drain_watches(struct xen_transport *t)
{
	return false;
}

void be_log(struct be *be, const char *fmt, ...)
{
}

int __real_poll(struct pollfd *fds, nfds_t n, int timeout);
int __wrap_poll(struct pollfd *fds, nfds_t n, int timeout);
int __real_nanosleep(const struct timespec *req, struct timespec *rem);
int __wrap_nanosleep(const struct timespec *req, struct timespec *rem);

/* The reader's wait: nothing happened (the reader then asks the
 * supervision, frontend_changed, which stops it here). */
int __wrap_poll(struct pollfd *fds, nfds_t n, int timeout)
{
	if (!in_backend)
		return __real_poll(fds, n, timeout);
	for (nfds_t i = 0; i < n; i++)
		fds[i].revents = 0;
	return 0;
}

/* A sender waiting for an event buffer: the frontend goes away. */
int __wrap_nanosleep(const struct timespec *req, struct timespec *rem)
{
	if (!in_backend)
		return __real_nanosleep(req, rem);
	x->ended = true;
	return 0;
}

static void frontend_changed(struct xen_transport *t)
{
	stopped = true;
	t->ended = true;	/* undone by the caller: see take() */
}

/* ---- input ---- */

struct in {
	const uint8_t *p;
	size_t left;
};

static unsigned int get(struct in *in, unsigned int bytes)
{
	unsigned int v = 0;

	while (bytes--) {
		v = v << 8 | (in->left ? *in->p : 0);
		if (in->left) {
			in->p++;
			in->left--;
		}
	}
	return v;
}

static void scribble(struct in *in, uint8_t *area, size_t size)
{
	size_t off = get(in, 2) % size, len = get(in, 1);

	if (len > in->left)
		len = in->left;
	if (len > size - off)
		len = size - off;
	memcpy(area + off, in->p, len);
	in->p += len;
	in->left -= len;
}

/* ---- checks ---- */

static void check_table(void)
{
	unsigned int used = 0;

	for (unsigned int i = 0; i < RING_SLOTS; i++) {
		if (!x->inflight[i].id)
			continue;
		used++;
		if (x->inflight[i].offset > x->data_len ||
		    x->inflight[i].cap > x->data_len - x->inflight[i].offset)
			abort();	/* a run outside the data area */
	}
	if (used != x->ninflight)
		abort();
}

/* Only [lo, hi) of the data area may have changed since before. */
static void check_written(size_t lo, size_t hi)
{
	if (memcmp(x->data, before, lo) ||
	    memcmp(x->data + hi, before + hi, x->data_len - hi))
		abort();
}

static void take(void)
{
	ssize_t n;

	stopped = false;
	in_backend = true;
	n = be_xen_recv(&x->base, buf, PD_WIRE_MAX_MSG);
	in_backend = false;
	if (stopped && n == 0)
		x->ended = false;	/* only the fuzzer's stop */
	if (n > 0) {
		struct pd_wire_hdr h;

		if ((size_t)n < sizeof(h) || (size_t)n > PD_WIRE_MAX_MSG)
			abort();
		memcpy(&h, buf, sizeof(h));
		unsigned int times = 0;

		for (unsigned int i = 0; i < RING_SLOTS; i++)
			times += x->inflight[i].id == h.id;
		if (times != 1)
			abort();	/* taken but not in flight, or twice */
	}
	check_table();
}

static void reply(struct in *in)
{
	unsigned int which = get(in, 1), len = get(in, 2);
	struct pd_wire_hdr h = { .flags = PD_WIRE_F_REPLY };
	size_t lo = 0, hi = 0;
	int i = -1;

	if (which & 0x80) {
		h.id = which & 0x7f;
	} else {
		for (unsigned int k = 0; k < RING_SLOTS; k++) {
			unsigned int j = (which + k) % RING_SLOTS;

			if (x->inflight[j].id) {
				i = (int)j;
				break;
			}
		}
		if (i < 0)
			return;
		h.id = x->inflight[i].id;
	}
	i = be_xen_inflight_find(x->inflight, h.id);
	if (i >= 0) {
		lo = x->inflight[i].offset;
		hi = lo + x->inflight[i].cap;
	}
	len += sizeof(h);
	h.len = len - sizeof(h);
	memcpy(msg, &h, sizeof(h));
	memset(msg + sizeof(h), 0x5a, len - sizeof(h));
	memcpy(before, x->data, x->data_len);
	in_backend = true;
	if (!be_xen_send(&x->base, msg, len) && i < 0)
		abort();	/* a reply to nothing went out */
	in_backend = false;
	check_written(lo, hi);
	if (i >= 0 && x->inflight[i].id == h.id)
		abort();	/* answered but still in flight */
	check_table();
}

/* An event goes into the first buffer that fits; the ones before it
 * (too small, outside the area) are dropped. */
static void event(struct in *in)
{
	struct pd_wire_hdr h = { .flags = PD_WIRE_F_EVENT, .op = 1 };
	size_t len = sizeof(h) + get(in, 2) % 512, lo = x->data_len, hi = 0;
	RING_IDX rp;

	/* where it may go: any buffer the guest posted, as it reads now */
	rp = x->evt.sring->req_prod;
	for (RING_IDX c = x->evt.req_cons;
	     c != rp && (RING_IDX)(c - x->evt.req_cons) < RING_SLOTS; c++) {
		struct pd_wire_xen_slot s = *RING_GET_REQUEST(&x->evt, c);

		if (be_xen_event_buf_fits(&s, x->data_len, len)) {
			if (s.offset < lo)
				lo = s.offset;
			if (s.offset + len > hi)
				hi = s.offset + len;
		}
	}
	if (hi < lo)
		lo = hi = 0;
	h.len = (uint32_t)(len - sizeof(h));
	memcpy(msg, &h, sizeof(h));
	memset(msg + sizeof(h), 0xe7, len - sizeof(h));
	memcpy(before, x->data, x->data_len);
	in_backend = true;
	be_xen_send(&x->base, msg, len);
	in_backend = false;
	check_written(lo, hi);
}

static void setup(size_t pages)
{
	if (!x) {
		x = calloc(1, sizeof(*x));
		x->req_page = aligned_alloc(PAGE, PAGE);
		x->evt_page = aligned_alloc(PAGE, PAGE);
		x->data = malloc(4 * PAGE);
		before = malloc(4 * PAGE);
		buf = malloc(PD_WIRE_MAX_MSG);
		msg = malloc(PAGE + 0x10000 + sizeof(struct pd_wire_hdr));
		if (!x->req_page || !x->evt_page || !x->data || !before ||
		    !buf || !msg)
			abort();
		pthread_mutex_init(&x->lock, NULL);
		pthread_mutex_init(&x->evt_lock, NULL);
	}
	memset(&x->inflight, 0, sizeof(x->inflight));
	x->ninflight = 0;
	x->ended = false;
	x->connected = true;
	x->roomfd = -1;
	x->frontend_changed = frontend_changed;
	x->data_len = pages * PAGE;
	x->data_pages = (uint32_t)pages;
	memset(x->data, 0, 4 * PAGE);
	memset(x->req_page, 0, PAGE);
	memset(x->evt_page, 0, PAGE);
	/* the frontend's part of connecting */
	SHARED_RING_INIT((struct pdx_sring *)x->req_page);
	SHARED_RING_INIT((struct pdx_sring *)x->evt_page);
	/* the real file's */
	if (be_xen_ring_connect(x, &(struct xen_frontend_dir){ .pages = 1 }))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { data, size };

	if (!size)
		return 0;
	setup(get(&in, 1) % 4 + 1);
	while (in.left) {
		struct pdx_sring *rs = x->req.sring, *es = x->evt.sring;

		switch (get(&in, 1) % 8) {
		case 0:
			scribble(&in, x->req_page, PAGE);
			break;
		case 1: {
			struct pd_wire_xen_slot s;
			struct pd_wire_hdr h = { 0 };

			s.id = get(&in, 1);
			s.offset = get(&in, 2) % (x->data_len + 1);
			s.len = get(&in, 2);
			h.id = s.id;
			h.len = get(&in, 2);
			h.op = (uint16_t)get(&in, 1);
			if (s.offset + sizeof(h) <= x->data_len)
				memcpy(x->data + s.offset, &h, sizeof(h));
			rs->ring[rs->req_prod & (RING_SLOTS - 1)].req = s;
			rs->req_prod++;
			break;
		}
		case 2:
			scribble(&in, x->data, x->data_len);
			break;
		case 3:
			take();
			break;
		case 4:
			reply(&in);
			break;
		case 5: {
			struct pd_wire_xen_slot s = { .id = es->req_prod + 1 };

			s.offset = get(&in, 2) % (x->data_len + 1);
			s.len = get(&in, 2);
			es->ring[es->req_prod & (RING_SLOTS - 1)].req = s;
			es->req_prod++;
			break;
		}
		case 6:
			event(&in);
			break;
		case 7:
			scribble(&in, x->evt_page, PAGE);
			break;
		}
	}
	be_xen_ring_disconnect(x);
	return 0;
}
