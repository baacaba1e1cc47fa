// SPDX-License-Identifier: GPL-2.0-only
/*
 * pd-rogue-front: a hostile guest kernel's Paradice frontend, played from
 * the guest's userspace (tests/xen/test_xen_attack.py unbinds pdfront from
 * the device first; never installed by a package). It connects to the domain's
 * paradice backend as a frontend does (pd_wire.h, "XenStore layout" and
 * "Transports and framing of messages"): ring pages and a data area shared
 * with dom0 through gntalloc, two unbound event channels, its nodes in
 * XenStore, state Initialised. First directories the backend must refuse
 * (bad-data-pages: more than it maps; bad-ring-ref, bad-dir-ref: grants
 * that do not exist): "refused", a new server waits for the next try.
 * Then, connected, it writes what a hostile kernel could:
 *
 *   before-connect   a request before CONNECT           reply -ENOTCONN
 *   connect          CONNECT                            reply >= 0
 *   slot-past-area   slot offset at the data area's end dropped
 *   slot-len-wraps   slot length wrapping past the end  dropped
 *   slot-short       slot shorter than a header         dropped
 *   slot-id-lies     slot id != its request's id        dropped
 *   header-len-lies  hdr.len longer than the slot       reply -EINVAL
 *   forged-handle    IOCTL on a handle never opened     reply < 0
 *   unknown-op       an opcode that does not exist      reply < 0
 *   open, mmap-no-object, mmap-huge, fault-forged-map, handle-stale,
 *   handle-unused, release-again: a real file opened, then an MMAP where
 *                    it has no object, one of 2^32 pages, a FAULT of a
 *                    map never made, requests on a stale and an unused
 *                    handle, a second RELEASE        each an errno
 *   overlapping      two requests in overlapping runs   both answered
 *   log-flood        FLOOD requests that dom0 logs      all answered, the
 *                    log bounded (the test counts its lines), then 2 s
 *                    for the log's bucket to refill
 *   ring-overrun     producer index a ring ahead        connection ends
 *
 * After each forged step a valid EXPORT_INFO must still be answered
 * ("alive"). One line per step: "STEP: WHAT", then "done". The backend's
 * log lines and dom0's state are the test's to check.
 *
 *   pd-rogue-front [SECONDS]   give up waiting for the backend after
 *                              SECONDS (default 60)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <xenevtchn.h>
#include <xengnttab.h>
#include <xenstore.h>

#include <paradice/pd_wire.h>

/* the rings as the backend sees them (no backend code: the ring types) */
#include "../../hostd/backend/xen/slot.h"

#define DATA_PAGES	16u
#define DATA_LEN	(DATA_PAGES * PAGE)
#define RUN		4096u		/* bytes per request and its reply */
#define NO_REPLY	1		/* reply(): nothing came */
#define FLOOD		3200u		/* log-flood's requests (whole BATCHes) */
#define BATCH		16u		/* of them in the ring at once */

static struct xs_handle *xs;
static xenevtchn_handle *xce;
static xengntshr_handle *xgs;
static char fe[96], be[160];
static struct pdx_front_ring req, evt;	/* evt: set up, never used */
static uint8_t *data;
static evtchn_port_t req_port, evt_port;
static uint64_t next_id = 1;
static unsigned int timeout_s = 60;

static void die(const char *what)
{
	printf("error: %s: %s\n", what, strerror(errno));
	exit(1);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int read_state(const char *dir)
{
	char path[192], *v;
	unsigned int len;
	int s;

	snprintf(path, sizeof(path), "%s/state", dir);
	v = xs_read(xs, XBT_NULL, path, &len);
	if (!v)
		return -1;
	s = atoi(v);
	free(v);
	return s;
}

static void write_node(const char *node, unsigned long val)
{
	char path[192], v[32];

	snprintf(path, sizeof(path), "%s/%s", fe, node);
	snprintf(v, sizeof(v), "%lu", val);
	if (!xs_write(xs, XBT_NULL, path, v, (unsigned int)strlen(v)))
		die(path);
}

static int wait_backend_state(int want, double secs)
{
	double end = now() + secs;
	int s;

	do {
		s = read_state(be);
		if (s == want)
			return 0;
		usleep(20000);
	} while (now() < end);
	return s;
}

/* Share npages pages with dom0: their mapping, refs filled in. */
static void *share(unsigned int npages, uint32_t *refs, int writable)
{
	void *p = xengntshr_share_pages(xgs, 0, (int)npages, refs, writable);

	if (!p)
		die("sharing pages with dom0 (is xen-gntalloc loaded?)");
	return p;
}

/*
 * Our directory, then Initialised. For a step (a directory the backend
 * must refuse): wait for it to close (Closing), say so, close too and
 * wait for the next server's InitWait.
 */
static void publish(const char *step, const uint32_t ring_ref[2],
		    uint32_t dir_ref, uint32_t pages)
{
	int s;

	write_node("version", PD_WIRE_VERSION_MAJOR);
	write_node("req-ring-ref", ring_ref[0]);
	write_node("req-event-channel", req_port);
	write_node("evt-ring-ref", ring_ref[1]);
	write_node("evt-event-channel", evt_port);
	write_node("data-dir-ref", dir_ref);
	write_node("data-pages", pages);
	write_node("state", 3 /* Initialised */);
	if (!step)
		return;
	s = wait_backend_state(5 /* Closing */, 20);
	printf("%s: %s\n", step, s ? "accepted" : "refused");
	write_node("state", 6 /* Closed */);
	s = wait_backend_state(2 /* InitWait */, 30);
	if (s) {
		printf("error: backend state %d after %s, not InitWait\n", s,
		       step);
		exit(1);
	}
}

static void setup(void)
{
	char *domid, *bpath;
	unsigned int len;
	uint32_t ring_ref[2], refs[DATA_PAGES], dir_ref;
	uint32_t *dir;
	void *rp, *ep;
	int s;

	xs = xs_open(0);
	xce = xenevtchn_open(NULL, 0);
	xgs = xengntshr_open(NULL, 0);
	if (!xs || !xce || !xgs)
		die("opening XenStore, event channels or gntalloc");
	domid = xs_read(xs, XBT_NULL, "domid", &len);
	if (!domid)
		die("reading our domid");
	snprintf(fe, sizeof(fe), "/local/domain/%s/device/%s/0", domid,
		 PD_WIRE_XENBUS_DEVICE_TYPE);
	free(domid);
	snprintf(be, sizeof(be), "%s/backend", fe);
	bpath = xs_read(xs, XBT_NULL, be, &len);
	if (!bpath)
		die("reading the backend's path");
	snprintf(be, sizeof(be), "%s", bpath);
	free(bpath);
	s = wait_backend_state(2 /* InitWait */, timeout_s);
	if (s) {
		printf("error: backend state %d, not InitWait\n", s);
		exit(1);
	}

	rp = share(1, &ring_ref[0], 1);
	ep = share(1, &ring_ref[1], 1);
	SHARED_RING_INIT((struct pdx_sring *)rp);
	SHARED_RING_INIT((struct pdx_sring *)ep);
	FRONT_RING_INIT(&req, (struct pdx_sring *)rp, PAGE);
	FRONT_RING_INIT(&evt, (struct pdx_sring *)ep, PAGE);
	data = share(DATA_PAGES, refs, 1);
	memset(data, 0, DATA_LEN);
	dir = share(1, &dir_ref, 0);
	memset(dir, 0, PAGE);
	memcpy(dir, refs, sizeof(refs));	/* chain entry stays 0 */

	if ((int)(req_port = (evtchn_port_t)xenevtchn_bind_unbound_port(
			xce, 0)) < 0 ||
	    (int)(evt_port = (evtchn_port_t)xenevtchn_bind_unbound_port(
			xce, 0)) < 0)
		die("event channels");

	/* directories the backend must refuse: it closes, a new server
	 * waits for us again */
	publish("bad-data-pages", ring_ref, dir_ref, 16385);
	publish("bad-ring-ref", (uint32_t[]){ 0x7ffffff0u, ring_ref[1] },
		dir_ref, DATA_PAGES);
	publish("bad-dir-ref", ring_ref, 0x7ffffff0u, DATA_PAGES);

	publish(NULL, ring_ref, dir_ref, DATA_PAGES);
	s = wait_backend_state(4 /* Connected */, 30);
	if (s) {
		printf("error: backend state %d, not Connected\n", s);
		exit(1);
	}
	printf("connected: %s\n", be);
}

/* A request message at run offset off: header and body. */
static void put_msg(uint32_t off, uint64_t id, uint16_t op, uint32_t handle,
		    const void *body, uint32_t len)
{
	struct pd_wire_hdr h = {
		.id = id, .op = op, .handle = handle, .len = len,
	};

	memcpy(data + off, &h, sizeof(h));
	if (len)
		memcpy(data + off + sizeof(h), body, len);
}

static void post_slot(uint64_t id, uint32_t off, uint32_t len)
{
	struct pd_wire_xen_slot *s = RING_GET_REQUEST(&req, req.req_prod_pvt);

	s->id = id;
	s->offset = off;
	s->len = len;
	req.req_prod_pvt++;
}

static void push(void)
{
	int notify;

	RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&req, notify);
	(void)notify;	/* always: a hostile frontend need not be polite */
	xenevtchn_notify(xce, req_port);
}

/* Replies that came while another was awaited: kept for their caller. */
struct early {
	uint64_t id;
	int64_t result;
};

static struct early early[16];
static unsigned int nearly;

/* The body of the last reply reply() returned (up to its size). */
static uint8_t last_body[64];

/* Wait for the reply to id: its result, or NO_REPLY after secs. */
static int64_t reply(uint64_t id, double secs)
{
	double end = now() + secs;

	for (unsigned int i = 0; i < nearly; i++)
		if (early[i].id == id) {
			int64_t res = early[i].result;

			early[i] = early[--nearly];
			return res;
		}
	do {
		while (RING_HAS_UNCONSUMED_RESPONSES(&req)) {
			struct pd_wire_xen_slot r;
			struct pd_wire_hdr h;

			xen_rmb();
			memcpy(&r, RING_GET_RESPONSE(&req, req.rsp_cons),
			       sizeof(r));
			req.rsp_cons++;
			if (r.offset > DATA_LEN - sizeof(h))
				continue;
			memcpy(&h, data + r.offset, sizeof(h));
			if (r.id == id) {
				size_t n = r.len > sizeof(h) ? r.len - sizeof(h)
							     : 0;

				if (n > sizeof(last_body))
					n = sizeof(last_body);
				if (r.offset + sizeof(h) + n <= DATA_LEN)
					memcpy(last_body, data + r.offset +
					       sizeof(h), n);
				return h.result;
			}
			if (nearly < sizeof(early) / sizeof(early[0]))
				early[nearly++] = (struct early){
					r.id, h.result };
		}
		usleep(2000);
	} while (now() < end);
	return NO_REPLY;
}

/* One well-formed request in its own run: its result. */
static int64_t call(uint16_t op, uint32_t handle, const void *body,
		    uint32_t len)
{
	uint64_t id = next_id++;
	uint32_t off = (uint32_t)(id % (DATA_LEN / RUN)) * RUN;

	put_msg(off, id, op, handle, body, len);
	post_slot(id, off, RUN);
	push();
	return reply(id, 10);
}

static void say(const char *step, int64_t r)
{
	if (r == NO_REPLY)
		printf("%s: no reply\n", step);
	else
		printf("%s: reply %lld\n", step, (long long)r);
}

/* A valid request still answered after a forged one? */
static void alive(const char *step)
{
	struct pd_wire_export_req e = { .index = 0 };
	int64_t r = call(PD_OP_EXPORT_INFO, PD_WIRE_HANDLE_NONE, &e,
			 sizeof(e));

	printf("%s: %s\n", step, r == NO_REPLY ? "dead" : "alive");
}

/* A slot the backend must drop: no reply to it, then still alive. */
static void forged_slot(const char *step, uint64_t slot_id, uint64_t msg_id,
			uint32_t off, uint32_t len)
{
	struct pd_wire_export_req e = { .index = 0 };
	int64_t r;

	if (off <= DATA_LEN - RUN)
		put_msg(off, msg_id, PD_OP_EXPORT_INFO, PD_WIRE_HANDLE_NONE,
			&e, sizeof(e));
	post_slot(slot_id, off, len);
	push();
	r = reply(slot_id, 2);
	/* a slot whose request has another id: no reply to either */
	if (r == NO_REPLY && msg_id != slot_id)
		r = reply(msg_id, 0.2);
	say(step, r);
	alive(step);
}

int main(int argc, char **argv)
{
	struct pd_wire_connect c = {
		.major = PD_WIRE_VERSION_MAJOR, .minor = PD_WIRE_VERSION_MINOR,
		.max_msg = RUN,
		/* so that MMAP and FAULT reach their checks */
		.features = PD_WIRE_FEAT_MMAP | PD_WIRE_FEAT_CANCEL,
	};
	struct pd_wire_export_req e = { .index = 0 };
	uint8_t ioc[64] = { 0 };
	uint64_t a, b;
	int64_t r;

	if (argc > 1)
		timeout_s = (unsigned int)atoi(argv[1]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	setup();

	say("before-connect", call(PD_OP_EXPORT_INFO, PD_WIRE_HANDLE_NONE,
				   &e, sizeof(e)));
	say("connect", call(PD_OP_CONNECT, PD_WIRE_HANDLE_NONE, &c,
			    sizeof(c)));
	alive("connect");

	forged_slot("slot-past-area", next_id, next_id, DATA_LEN, 64);
	next_id++;
	forged_slot("slot-len-wraps", next_id, next_id, 4 * RUN, 0xffffffffu);
	next_id++;
	forged_slot("slot-short", next_id, next_id, 5 * RUN,
		    sizeof(struct pd_wire_hdr) - 1);
	next_id++;
	forged_slot("slot-id-lies", next_id, next_id + 1000, 6 * RUN, RUN);
	next_id++;

	/* the header says more body than the slot holds */
	a = next_id++;
	put_msg(7 * RUN, a, PD_OP_EXPORT_INFO, PD_WIRE_HANDLE_NONE, &e,
		sizeof(e));
	((struct pd_wire_hdr *)(data + 7 * RUN))->len = RUN;
	post_slot(a, 7 * RUN, RUN);
	push();
	say("header-len-lies", reply(a, 10));
	alive("header-len-lies");

	say("forged-handle", call(PD_OP_IOCTL, 0x00abcdefu, ioc, sizeof(ioc)));
	alive("forged-handle");
	say("unknown-op", call(0x7f, PD_WIRE_HANDLE_NONE, NULL, 0));
	alive("unknown-op");

	/* a real file, then requests about it and about what it is not */
	{
		struct pd_wire_open_req o = { .index = 0,
					      .flags = PD_WIRE_O_RDWR };
		struct pd_wire_open_rsp orsp;
		struct pd_wire_mmap_req mm = {
			.npages = 16, .prot = PD_WIRE_PROT_READ,
			.flags = PD_WIRE_MAP_SHARED,
		};
		struct pd_wire_fault_req f = { .map_id = 0xdeadbeef,
					       .npages = 1 };
		uint32_t h;

		r = call(PD_OP_OPEN, PD_WIRE_HANDLE_NONE, &o, sizeof(o));
		memcpy(&orsp, last_body, sizeof(orsp));
		h = orsp.handle;
		printf("open: %s\n", r == 0 ? "ok" : "failed");
		mm.pgoff = 1ull << 40;	/* no object there */
		say("mmap-no-object", call(PD_OP_MMAP, h, &mm, sizeof(mm)));
		mm.pgoff = 0;
		mm.npages = 0xffffffffu;
		say("mmap-huge", call(PD_OP_MMAP, h, &mm, sizeof(mm)));
		say("fault-forged-map", call(PD_OP_FAULT, PD_WIRE_HANDLE_NONE,
					     &f, sizeof(f)));
		/* the same slot, another generation; and a slot never used */
		say("handle-stale", call(PD_OP_IOCTL, h ^ (1u << 24), ioc,
					 sizeof(ioc)));
		say("handle-unused", call(PD_OP_RELEASE, h + 7, NULL, 0));
		say("release", call(PD_OP_RELEASE, h, NULL, 0));
		say("release-again", call(PD_OP_RELEASE, h, NULL, 0));
		alive("forged-files");
	}

	/* two requests whose runs overlap (the second's header lies inside
	 * the first's run): each is copied out before use, so both get an
	 * answer, written into bytes that are the guest's own anyway */
	a = next_id++;
	b = next_id++;
	put_msg(8 * RUN, a, PD_OP_EXPORT_INFO, PD_WIRE_HANDLE_NONE, &e,
		sizeof(e));
	put_msg(8 * RUN + 128, b, PD_OP_EXPORT_INFO, PD_WIRE_HANDLE_NONE, &e,
		sizeof(e));
	post_slot(a, 8 * RUN, RUN);
	post_slot(b, 8 * RUN + 128, RUN);
	push();
	r = reply(a, 10);
	printf("overlapping: first %s, second %s\n",
	       r == NO_REPLY ? "no reply" : "answered",
	       reply(b, 3) == NO_REPLY ? "no reply" : "answered");
	alive("overlapping");

	/* requests each of which costs dom0 a log line (a header that lies),
	 * BATCH at a time: all answered, the log keeps its bound */
	{
		unsigned int answered = 0;
		double t0 = now();
		uint64_t ids[BATCH];

		for (unsigned int i = 0; i < FLOOD; i += BATCH) {
			for (unsigned int j = 0; j < BATCH; j++) {
				uint32_t off = 9 * RUN + j * (RUN / BATCH);

				ids[j] = next_id++;
				put_msg(off, ids[j], PD_OP_EXPORT_INFO,
					PD_WIRE_HANDLE_NONE, &e, sizeof(e));
				((struct pd_wire_hdr *)(data + off))->len =
					RUN / BATCH;
				post_slot(ids[j], off, RUN / BATCH);
			}
			push();
			for (unsigned int j = 0; j < BATCH; j++)
				answered += reply(ids[j], 10) != NO_REPLY;
		}
		printf("log-flood: %u of %u answered in %.1f s\n", answered,
		       FLOOD, now() - t0);
		sleep(2);
		alive("log-flood");
	}

	/* the producer index a whole ring and more ahead */
	req.sring->req_prod = req.req_prod_pvt + RING_SIZE(&req) + 5;
	xen_wmb();
	xenevtchn_notify(xce, req_port);
	r = wait_backend_state(5 /* Closing */, 10);
	printf("ring-overrun: %s\n", r ? "connection still up" :
	       "connection ended");

	write_node("state", 6 /* Closed */);
	printf("done\n");
	return 0;
}
