// SPDX-License-Identifier: GPL-2.0-only
/*
 * mmap across domains in pd-backend (hostd/backend/maps.c), without Xen:
 * a transport that records replies and events in memory and plays the
 * grant helper (grant: references counted up, ungrant: busy on demand,
 * revoked regions from a queue). The real file is /dev/zero, whose
 * MAP_SHARED mappings are real memory. What it proves: every bad MMAP,
 * FAULT and MUNMAP gets its errno; nothing is offered without the feature
 * and a grant helper; FAULTs are answered from one grant until it is
 * revoked; a revocation sends PD_EV_UNMAP and the next FAULT ends the old
 * region before granting again; the backend's mapping is never unmapped
 * while the guest may still map its region (zombies); a mapping keeps its
 * file after RELEASE; limits per guest hold; the end of the connection
 * ends everything.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include <paradice/pd_grant.h>
#include "backend.h"
#include "tap.h"

/* ------------------------------------------------------------------ */
/* The fake transport                                                   */

static uint8_t last[64 * 1024];
static size_t last_len;
static int sent;

struct unmap_seen {
	uint32_t handle;
	uint64_t map_id;
};
static struct unmap_seen unmaps[64];
static int nunmaps;
static int events_fail;		/* sends of events that fail */

static int mem_send(struct be_transport *t, const void *msg, size_t len)
{
	struct pd_wire_hdr h;
	struct pd_wire_unmap_ev ev;

	(void)t;
	memcpy(&h, msg, sizeof(h));
	if (h.flags & PD_WIRE_F_EVENT) {
		if (events_fail) {
			events_fail--;
			errno = ENOBUFS;
			return -1;
		}
		CHECK_EQ(h.op, PD_EV_UNMAP);
		CHECK_EQ(len, sizeof(h) + sizeof(ev));
		memcpy(&ev, (const uint8_t *)msg + sizeof(h), sizeof(ev));
		if (nunmaps < 64)
			unmaps[nunmaps++] = (struct unmap_seen){ h.handle,
								 ev.map_id };
		return 0;
	}
	if (len > sizeof(last))
		return -1;
	memcpy(last, msg, len);
	last_len = len;
	sent++;
	return 0;
}

static int fds[16];

static int mem_attach(struct be_transport *t, uint32_t handle, int fd)
{
	(void)t;
	if (handle < 16)
		fds[handle] = fd;
	return 0;
}

/* The helper: regions alive, references counted up. */
static uint32_t live[64];
static int nlive, ngrants, nungrants;
static int grant_err;		/* the next grant fails with it */
static int busy_calls;		/* ungrants answering -EBUSY; -1: all */
static uint32_t next_ref = 100, next_region = 1;
static void *grant_addr;
static bool grant_writable;
static struct be be;
static int revoke_in_grant;	/* grants revoked before they return */
static uint32_t queue[64];
static int nqueue;
static bool lost;		/* the helper's queue overflowed */

static bool mapped(void *addr)
{
	unsigned char v;

	return !mincore(addr, 4096, &v);
}

static int fake_grant(struct be_transport *t, void *addr, uint32_t npages,
		      bool writable, uint32_t *refs, uint32_t *region)
{
	(void)t;
	ngrants++;
	if (grant_err) {
		int e = grant_err;

		grant_err = 0;
		return e;
	}
	/* the backend grants its own mapping of the real file */
	CHECK(mapped(addr));
	CHECK(mapped((uint8_t *)addr + (npages - 1) * 4096u));
	grant_addr = addr;
	grant_writable = writable;
	for (uint32_t i = 0; i < npages; i++)
		refs[i] = next_ref++;
	*region = next_region++;
	if (nlive < 64)
		live[nlive++] = *region;
	if (revoke_in_grant) {
		/* the zap comes while the grant is returning: the event
		 * thread reads the id before the FAULT knows it */
		revoke_in_grant--;
		queue[nqueue++] = *region;
		CHECK_EQ(be_maps_revocations(&be, true), 0);
	}
	return 0;
}

static int fake_ungrant(struct be_transport *t, uint32_t region)
{
	(void)t;
	nungrants++;
	for (int i = 0; i < nlive; i++) {
		if (live[i] != region)
			continue;
		if (busy_calls) {
			if (busy_calls > 0)
				busy_calls--;
			return -EBUSY;
		}
		live[i] = live[--nlive];
		return 0;
	}
	return -ENOENT;
}

static int fake_revoked(struct be_transport *t, uint32_t *regions,
			unsigned int max)
{
	int n = nqueue < (int)max ? nqueue : (int)max;

	(void)t;
	if (lost) {
		lost = false;
		return -EOVERFLOW;
	}
	memcpy(regions, queue, n * sizeof(*regions));
	memmove(queue, queue + n, (nqueue - n) * sizeof(*regions));
	nqueue -= n;
	return n;
}

static const struct be_transport_impl grant_impl = {
	.name = "memory+grant",
	.features = PD_WIRE_FEAT_POLL_EVENTS,
	.send = mem_send,
	.attach = mem_attach,
	.grant = fake_grant,
	.ungrant = fake_ungrant,
	.revoked = fake_revoked,
};

static const struct be_transport_impl plain_impl = {
	.name = "memory",
	.features = PD_WIRE_FEAT_POLL_EVENTS | PD_WIRE_FEAT_MMAP,
	.send = mem_send,
	.attach = mem_attach,
};

/* MMAP is a feature of this instance, as for Xen with the helper. */
static struct be_transport grant_tp = {
	.impl = &grant_impl, .fd = -1, .features = PD_WIRE_FEAT_MMAP,
	.revoke_fd = -1,
};
static struct be_transport plain_tp = {
	.impl = &plain_impl, .fd = -1, .revoke_fd = -1,
};
static struct be_export exports[2];

static void setup(struct be_transport *tp)
{
	if (be.tp) {
		be_maps_finish(&be);
		be_handles_finish(&be);
		pthread_mutex_destroy(&be.lock);
	}
	memset(&be, 0, sizeof(be));
	be.tp = tp;
	be.name = "test";
	be.epfd = be.wakefd = be.sigfd = -1;
	pthread_mutex_init(&be.lock, NULL);
	strcpy(exports[0].path, "/dev/zero");
	exports[0].info.class = PD_WIRE_CLASS_DRM;
	strcpy(exports[0].info.name, "card0");
	be.exports = exports;
	be.nexports = 1;
	nunmaps = 0;
	nqueue = 0;
	ngrants = 0;
	busy_calls = 0;
	grant_err = 0;
	events_fail = 0;
	revoke_in_grant = 0;
}

static int64_t call(uint16_t op, uint32_t handle, const void *body,
		    uint32_t len)
{
	static uint64_t id;
	struct be_job job = { 0 };
	struct pd_wire_hdr rh;

	job.hdr.id = ++id;
	job.hdr.op = op;
	job.hdr.handle = handle;
	job.hdr.len = len;
	job.body = malloc(len ? len : 1);
	if (len)
		memcpy(job.body, body, len);
	sent = 0;
	be_run_job(&be, &job);
	free(job.body);
	CHECK_EQ(sent, 1);
	memcpy(&rh, last, sizeof(rh));
	CHECK_EQ(rh.id, id);
	CHECK_EQ(rh.op, op);
	CHECK(rh.flags & PD_WIRE_F_REPLY);
	CHECK_EQ(rh.len, last_len - sizeof(rh));
	return rh.result;
}

static size_t body_len(void)
{
	return last_len - sizeof(struct pd_wire_hdr);
}

static const uint8_t *body(void)
{
	return last + sizeof(struct pd_wire_hdr);
}

static uint64_t connect_with(uint64_t features)
{
	struct pd_wire_connect c = {
		.major = PD_WIRE_VERSION_MAJOR, .max_msg = PD_WIRE_MAX_MSG,
		.features = features,
	};

	CHECK_EQ(call(PD_OP_CONNECT, PD_WIRE_HANDLE_NONE, &c, sizeof(c)), 0);
	memcpy(&c, body(), sizeof(c));
	return c.features;
}

static uint32_t open_ok(uint32_t flags)
{
	struct pd_wire_open_req o = { .index = 0, .flags = flags };
	struct pd_wire_open_rsp r;

	CHECK_EQ(call(PD_OP_OPEN, PD_WIRE_HANDLE_NONE, &o, sizeof(o)), 0);
	memcpy(&r, body(), sizeof(r));
	return r.handle;
}

static int64_t do_mmap(uint32_t h, uint64_t pgoff, uint32_t npages,
		       uint32_t prot, uint64_t *map_id)
{
	struct pd_wire_mmap_req q = {
		.pgoff = pgoff, .npages = npages, .prot = prot,
		.flags = PD_WIRE_MAP_SHARED,
	};
	struct pd_wire_mmap_rsp r;
	int64_t ret = call(PD_OP_MMAP, h, &q, sizeof(q));

	if (!ret) {
		CHECK_EQ(body_len(), sizeof(r));
		memcpy(&r, body(), sizeof(r));
		CHECK_EQ(r.npages, npages);
		CHECK_EQ(r.flags, 0);
		CHECK(r.map_id != 0);
		*map_id = r.map_id;
	} else {
		CHECK_EQ(body_len(), 0);
	}
	return ret;
}

#define RW (PD_WIRE_PROT_READ | PD_WIRE_PROT_WRITE)

static int64_t do_fault(uint32_t h, uint64_t map_id, uint64_t pgoff,
			uint32_t npages, uint32_t write)
{
	struct pd_wire_fault_req q = {
		.map_id = map_id, .pgoff = pgoff, .npages = npages,
		.write = write,
	};
	int64_t ret = call(PD_OP_FAULT, h, &q, sizeof(q));

	CHECK_EQ(body_len(), ret ? 0 : npages *
		 sizeof(struct pd_wire_fault_page));
	return ret;
}

static struct pd_wire_fault_page page_of_reply(uint32_t i)
{
	struct pd_wire_fault_page p;

	memcpy(&p, body() + i * sizeof(p), sizeof(p));
	return p;
}

static int64_t do_munmap(uint32_t h, uint64_t map_id)
{
	struct pd_wire_munmap_req q = { .map_id = map_id };

	return call(PD_OP_MUNMAP, h, &q, sizeof(q));
}

/* ------------------------------------------------------------------ */

static void test_offered_only_with_a_helper(void)
{
	uint64_t id;
	uint32_t h;

	/* a transport without grant callbacks: never, whatever it says */
	setup(&plain_tp);
	connect_with(PD_WIRE_FEAT_ALL);
	h = open_ok(PD_WIRE_O_RDWR);
	CHECK_EQ(do_mmap(h, 0, 1, RW, &id), -EOPNOTSUPP);
	CHECK_EQ(do_fault(h, 1, 0, 1, 0), -EOPNOTSUPP);
	CHECK_EQ(do_munmap(h, 1), -ENOENT);

	/* the instance's MMAP is offered and agreed ... */
	setup(&grant_tp);
	CHECK(connect_with(PD_WIRE_FEAT_ALL) & PD_WIRE_FEAT_MMAP);
	/* ... but not used by a guest that did not ask for it */
	setup(&grant_tp);
	CHECK(!(connect_with(PD_WIRE_FEAT_POLL_EVENTS) & PD_WIRE_FEAT_MMAP));
	h = open_ok(PD_WIRE_O_RDWR);
	CHECK_EQ(do_mmap(h, 0, 1, RW, &id), -EOPNOTSUPP);
	CHECK_EQ(ngrants, 0);
}

static void test_mmap_checks(void)
{
	struct pd_wire_mmap_req q = {
		.npages = 1, .prot = PD_WIRE_PROT_READ,
		.flags = PD_WIRE_MAP_SHARED,
	};
	uint64_t a, b;
	uint32_t h, ro;

	setup(&grant_tp);
	connect_with(PD_WIRE_FEAT_ALL);
	h = open_ok(PD_WIRE_O_RDWR);
	ro = open_ok(PD_WIRE_O_RDONLY);
	CHECK_EQ(call(PD_OP_MMAP, h, &q, sizeof(q) - 1), -EINVAL);
	CHECK_EQ(call(PD_OP_MMAP, h, &q, 0), -EINVAL);
	q.reserved = 1;
	CHECK_EQ(call(PD_OP_MMAP, h, &q, sizeof(q)), -EINVAL);
	q.reserved = 0;
	q.flags = 0;		/* private */
	CHECK_EQ(call(PD_OP_MMAP, h, &q, sizeof(q)), -EINVAL);
	q.flags = PD_WIRE_MAP_SHARED | 2;
	CHECK_EQ(call(PD_OP_MMAP, h, &q, sizeof(q)), -EINVAL);
	q.flags = PD_WIRE_MAP_SHARED;
	q.prot = 4;		/* PROT_EXEC */
	CHECK_EQ(call(PD_OP_MMAP, h, &q, sizeof(q)), -EINVAL);
	q.prot = PD_WIRE_PROT_READ;
	q.pgoff = UINT64_MAX;	/* pgoff * 4096 overflows */
	CHECK_EQ(call(PD_OP_MMAP, h, &q, sizeof(q)), -EINVAL);
	q.pgoff = (uint64_t)INT64_MAX / 4096;	/* the end overflows */
	CHECK_EQ(call(PD_OP_MMAP, h, &q, sizeof(q)), -EINVAL);
	q.pgoff = 0;
	CHECK_EQ(do_mmap(h, 0, 0, RW, &a), -EINVAL);
	CHECK_EQ(do_mmap(h, 0, PD_WIRE_MAX_MAP_PAGES + 1, RW, &a), -EINVAL);
	CHECK_EQ(do_mmap(PD_WIRE_HANDLE_NONE, 0, 1, RW, &a), -EBADF);
	/* the driver's answer: a shared writable map of a read-only file */
	CHECK_EQ(do_mmap(ro, 0, 1, RW, &a), -EACCES);
	CHECK_EQ(be.maps.count, 0);
	CHECK_EQ(be.maps.pages, 0);

	CHECK_EQ(do_mmap(ro, 3, 2, PD_WIRE_PROT_READ, &a), 0);
	CHECK_EQ(do_mmap(h, 0, PD_WIRE_MAX_MAP_PAGES, RW, &b), 0);
	CHECK(b != a);
	CHECK_EQ(be.maps.pages, 2 + PD_WIRE_MAX_MAP_PAGES);
	CHECK_EQ(ngrants, 0);	/* nothing granted before a FAULT */
	/* ids are never reused */
	CHECK_EQ(do_munmap(h, b), 0);
	CHECK_EQ(do_mmap(h, 0, 1, RW, &b), 0);
	CHECK(b != a && b > 2);
}

static void test_fault(void)
{
	struct pd_wire_fault_req q = { .npages = 1 };
	uint8_t longer[sizeof(q) + 1] = { 0 };
	struct pd_wire_fault_page p;
	uint32_t h, ro, first;
	uint64_t rw_id, ro_id;

	setup(&grant_tp);
	connect_with(PD_WIRE_FEAT_ALL);
	h = open_ok(PD_WIRE_O_RDWR);
	ro = open_ok(PD_WIRE_O_RDONLY);
	CHECK_EQ(do_mmap(h, 0, 8, RW, &rw_id), 0);
	CHECK_EQ(do_mmap(ro, 0, 4, PD_WIRE_PROT_READ, &ro_id), 0);

	q.map_id = rw_id;
	memcpy(longer, &q, sizeof(q));
	CHECK_EQ(call(PD_OP_FAULT, h, longer, sizeof(longer)), -EINVAL);
	CHECK_EQ(do_fault(h, rw_id, 0, 0, 0), -EINVAL);
	CHECK_EQ(do_fault(h, rw_id, 0, PD_WIRE_MAX_FAULT_PAGES + 1, 0),
		 -EINVAL);
	CHECK_EQ(do_fault(h, rw_id, 0, 1, 2), -EINVAL);
	CHECK_EQ(do_fault(h, 0, 0, 1, 0), -ENOENT);
	CHECK_EQ(do_fault(h, 999, 0, 1, 0), -ENOENT);
	/* another file's handle does not name the mapping */
	CHECK_EQ(do_fault(ro, rw_id, 0, 1, 0), -ENOENT);
	CHECK_EQ(do_fault(PD_WIRE_HANDLE_NONE, rw_id, 0, 1, 0), -ENOENT);
	CHECK_EQ(do_fault(h, rw_id, 8, 1, 0), -EINVAL);
	CHECK_EQ(do_fault(h, rw_id, 7, 2, 0), -EINVAL);
	CHECK_EQ(do_fault(h, rw_id, UINT64_MAX, 2, 0), -EINVAL);
	CHECK_EQ(do_fault(ro, ro_id, 0, 1, 1), -EACCES);
	CHECK_EQ(ngrants, 0);

	/* the helper refuses: its errno, nothing kept */
	grant_err = -EFAULT;
	CHECK_EQ(do_fault(h, rw_id, 0, 1, 1), -EFAULT);
	CHECK_EQ(ngrants, 1);
	CHECK_EQ(nlive, 0);

	first = next_ref;
	CHECK_EQ(do_fault(h, rw_id, 2, 3, 1), 0);
	CHECK_EQ(ngrants, 2);	/* the whole mapping, once */
	CHECK(grant_writable);
	for (uint32_t i = 0; i < 3; i++) {
		p = page_of_reply(i);
		CHECK_EQ(p.ref, first + 2 + i);
		CHECK_EQ(p.flags, 0);
	}
	/* the same references until MUNMAP or revocation */
	CHECK_EQ(do_fault(h, rw_id, 0, 8, 0), 0);
	CHECK_EQ(ngrants, 2);
	CHECK_EQ(page_of_reply(0).ref, first);
	CHECK_EQ(page_of_reply(7).ref, first + 7);
	CHECK_EQ(do_fault(ro, ro_id, 3, 1, 0), 0);
	CHECK(!grant_writable);
	CHECK_EQ(ngrants, 3);
	CHECK_EQ(nlive, 2);
}

static void test_revocation(void)
{
	uint32_t h, old_ref, region;
	uint64_t id, other;

	setup(&grant_tp);
	connect_with(PD_WIRE_FEAT_ALL);
	h = open_ok(PD_WIRE_O_RDWR);
	CHECK_EQ(do_mmap(h, 0, 2, RW, &id), 0);
	CHECK_EQ(do_mmap(h, 4, 1, RW, &other), 0);
	CHECK_EQ(do_fault(h, id, 0, 2, 1), 0);
	old_ref = page_of_reply(0).ref;
	region = next_region - 1;
	CHECK_EQ(do_fault(h, other, 0, 1, 1), 0);
	CHECK_EQ(nlive, 2);

	/* an unknown region is remembered, nothing is sent */
	queue[nqueue++] = 12345;
	CHECK_EQ(be_maps_revocations(&be, true), 0);
	CHECK_EQ(nunmaps, 0);
	/* the first mapping's pages are taken back */
	queue[nqueue++] = region;
	CHECK_EQ(be_maps_revocations(&be, true), 0);
	CHECK_EQ(nunmaps, 1);
	CHECK_EQ(unmaps[0].handle, h);
	CHECK_EQ(unmaps[0].map_id, id);
	/* told once */
	queue[nqueue++] = region;
	CHECK_EQ(be_maps_revocations(&be, true), 0);
	CHECK_EQ(nunmaps, 1);

	/* the guest is slow to unmap: the next FAULT waits for it, ends
	 * the old region, grants the pages again */
	busy_calls = 3;
	nungrants = 0;
	CHECK_EQ(do_fault(h, id, 1, 1, 0), 0);
	CHECK_EQ(nungrants, 4);
	CHECK(page_of_reply(0).ref != old_ref + 1);
	CHECK_EQ(nlive, 2);
	region = next_region - 1;
	/* the other mapping was not touched */
	CHECK_EQ(do_fault(h, other, 0, 1, 0), 0);
	CHECK_EQ(ngrants, 3);

	/* a guest that never unmaps: EBUSY after the bound, the old
	 * region stays */
	queue[nqueue++] = region;
	CHECK_EQ(be_maps_revocations(&be, true), 0);
	CHECK_EQ(nunmaps, 2);
	busy_calls = -1;
	CHECK_EQ(do_fault(h, id, 0, 1, 0), -EBUSY);
	CHECK_EQ(nlive, 2);
	busy_calls = 0;
	CHECK_EQ(do_fault(h, id, 0, 1, 0), 0);
	CHECK_EQ(ngrants, 4);
	region = next_region - 1;

	/* the event ring is full: the event is tried again later */
	queue[nqueue++] = region;
	events_fail = 1;
	CHECK_EQ(be_maps_revocations(&be, true), 1);
	CHECK_EQ(nunmaps, 2);
	CHECK_EQ(be_maps_revocations(&be, false), 0);
	CHECK_EQ(nunmaps, 3);
	CHECK_EQ(unmaps[2].map_id, id);

	/* ids were lost: every granted mapping is taken back */
	CHECK_EQ(do_fault(h, id, 0, 1, 0), 0);
	lost = true;
	CHECK_EQ(be_maps_revocations(&be, true), 0);
	CHECK_EQ(nunmaps, 5);
	CHECK(unmaps[3].map_id != unmaps[4].map_id);
	CHECK(unmaps[3].map_id == id || unmaps[3].map_id == other);
	CHECK(unmaps[4].map_id == id || unmaps[4].map_id == other);
	ngrants = 0;
	CHECK_EQ(do_fault(h, other, 0, 1, 0), 0);
	CHECK_EQ(ngrants, 1);
}

static void test_revoked_before_known(void)
{
	uint32_t h;
	uint64_t id;

	setup(&grant_tp);
	connect_with(PD_WIRE_FEAT_ALL);
	h = open_ok(PD_WIRE_O_RDWR);
	CHECK_EQ(do_mmap(h, 0, 2, RW, &id), 0);
	/* the region is revoked before the FAULT records it: the guest
	 * never sees its references, the FAULT grants again */
	revoke_in_grant = 1;
	ngrants = 0;
	CHECK_EQ(do_fault(h, id, 0, 2, 1), 0);
	CHECK_EQ(ngrants, 2);
	CHECK_EQ(nlive, 1);
	CHECK_EQ(live[0], next_region - 1);
	CHECK_EQ(nunmaps, 0);
	/* every grant revoked: given up, bounded */
	queue[nqueue++] = live[0];
	CHECK_EQ(be_maps_revocations(&be, true), 0);
	revoke_in_grant = 10;
	CHECK_EQ(do_fault(h, id, 0, 2, 1), -EAGAIN);
	revoke_in_grant = 0;
	CHECK_EQ(do_fault(h, id, 0, 2, 1), 0);
}

static void test_munmap_and_zombies(void)
{
	struct pd_wire_munmap_req q = { 0 };
	void *addr;
	uint32_t h;
	uint64_t id;

	setup(&grant_tp);
	connect_with(PD_WIRE_FEAT_ALL);
	h = open_ok(PD_WIRE_O_RDWR);
	CHECK_EQ(call(PD_OP_MUNMAP, h, &q, sizeof(q) - 1), -EINVAL);
	CHECK_EQ(do_munmap(h, 0), -ENOENT);
	CHECK_EQ(do_munmap(h, 77), -ENOENT);

	/* never faulted: nothing to end but the mapping */
	CHECK_EQ(do_mmap(h, 0, 1, RW, &id), 0);
	CHECK_EQ(do_munmap(h + 1, id), -ENOENT);
	CHECK_EQ(do_munmap(h, id), 0);
	CHECK_EQ(do_munmap(h, id), -ENOENT);
	CHECK_EQ(do_fault(h, id, 0, 1, 0), -ENOENT);

	CHECK_EQ(do_mmap(h, 0, 3, RW, &id), 0);
	CHECK_EQ(do_fault(h, id, 0, 3, 1), 0);
	addr = grant_addr;
	busy_calls = 2;		/* the guest lets go a little late */
	CHECK_EQ(do_munmap(h, id), 0);
	CHECK_EQ(nlive, 0);
	CHECK(!mapped(addr));
	CHECK_EQ(be.maps.count, 0);

	/* a guest that keeps the grants mapped after its MUNMAP: the
	 * mapping stays (a zombie), its id is dead */
	CHECK_EQ(do_mmap(h, 0, 3, RW, &id), 0);
	CHECK_EQ(do_fault(h, id, 0, 3, 1), 0);
	addr = grant_addr;
	busy_calls = -1;
	CHECK_EQ(do_munmap(h, id), 0);
	CHECK(mapped(addr));
	CHECK_EQ(nlive, 1);
	CHECK_EQ(be.maps.count, 1);
	CHECK_EQ(do_fault(h, id, 0, 1, 0), -ENOENT);
	CHECK_EQ(do_munmap(h, id), -ENOENT);
	/* a revocation of it tells nobody */
	queue[nqueue++] = live[0];
	CHECK_EQ(be_maps_revocations(&be, true), 0);
	CHECK_EQ(nunmaps, 0);
	/* it counts towards the limits, and the next MMAP tries it again
	 * (and ends it: it leaves the list only after its munmap) */
	busy_calls = 0;
	CHECK_EQ(do_mmap(h, 0, 1, RW, &id), 0);
	CHECK_EQ(nlive, 0);
	CHECK_EQ(be.maps.count, 1);
}

/* Device memory cannot be granted (ENXIO): a copy in RAM is, instead. */
static void test_device_memory_served_from_a_copy(void)
{
	uint32_t h, ro;
	uint64_t id, ro_id;

	setup(&grant_tp);
	connect_with(PD_WIRE_FEAT_ALL);
	h = open_ok(PD_WIRE_O_RDWR);
	ro = open_ok(PD_WIRE_O_RDONLY);
	CHECK_EQ(do_mmap(h, 0, 2, RW, &id), 0);
	grant_err = -ENXIO;
	CHECK_EQ(do_fault(h, id, 0, 2, 1), 0);
	CHECK_EQ(ngrants, 2);		/* refused, then the copy granted */
	CHECK(mapped(grant_addr) && grant_writable);
	CHECK_EQ(do_fault(h, id, 0, 2, 1), 0);
	CHECK_EQ(ngrants, 2);		/* the same references */
	CHECK_EQ(do_munmap(h, id), 0);
	/* a read-only view of device memory would go stale: refused */
	CHECK_EQ(do_mmap(ro, 0, 1, PD_WIRE_PROT_READ, &ro_id), 0);
	grant_err = -ENXIO;
	CHECK_EQ(do_fault(ro, ro_id, 0, 1, 0), -ENXIO);
	CHECK_EQ(do_munmap(ro, ro_id), 0);
}

static void test_release_keeps_mapping(void)
{
	uint32_t h;
	uint64_t id;
	int fd;

	setup(&grant_tp);
	connect_with(PD_WIRE_FEAT_ALL);
	h = open_ok(PD_WIRE_O_RDWR);
	fd = fds[h];
	CHECK_EQ(do_mmap(h, 0, 2, RW, &id), 0);
	CHECK_EQ(call(PD_OP_RELEASE, h, NULL, 0), 0);
	CHECK(fcntl(fd, F_GETFD) >= 0);		/* still open */
	CHECK_EQ(do_mmap(h, 0, 1, RW, &id), -EBADF);	/* no new one */
	CHECK_EQ(do_fault(h, id, 0, 2, 1), 0);
	CHECK_EQ(do_munmap(h, id), 0);
	CHECK(fcntl(fd, F_GETFD) < 0 && errno == EBADF);	/* closed */
}

static void test_limits(void)
{
	uint64_t id;
	uint32_t h;

	setup(&grant_tp);
	connect_with(PD_WIRE_FEAT_ALL);
	h = open_ok(PD_WIRE_O_RDWR);
	/* 256 MiB per guest */
	for (int i = 0; i < 4; i++)
		CHECK_EQ(do_mmap(h, 0, PD_WIRE_MAX_MAP_PAGES, RW, &id), 0);
	CHECK_EQ(do_mmap(h, 0, 1, RW, &id), -ENOMEM);
	CHECK_EQ(do_munmap(h, id), 0);
	CHECK_EQ(do_mmap(h, 0, 1, RW, &id), 0);

	/* 1024 mappings per guest */
	setup(&grant_tp);
	connect_with(PD_WIRE_FEAT_ALL);
	h = open_ok(PD_WIRE_O_RDWR);
	for (int i = 0; i < 1024; i++)
		if (do_mmap(h, 0, 1, PD_WIRE_PROT_READ, &id))
			break;
	CHECK_EQ(be.maps.count, 1024);
	CHECK_EQ(do_mmap(h, 0, 1, RW, &id), -ENOMEM);
	CHECK_EQ(be.maps.count, 1024);
}

static void test_end_of_connection(void)
{
	uint64_t a, b, c;
	void *addr;
	uint32_t h;

	setup(&grant_tp);
	connect_with(PD_WIRE_FEAT_ALL);
	h = open_ok(PD_WIRE_O_RDWR);
	CHECK_EQ(do_mmap(h, 0, 2, RW, &a), 0);
	CHECK_EQ(do_mmap(h, 0, 2, RW, &b), 0);
	CHECK_EQ(do_mmap(h, 0, 2, RW, &c), 0);
	CHECK_EQ(do_fault(h, a, 0, 2, 1), 0);
	CHECK_EQ(do_fault(h, b, 0, 2, 1), 0);
	addr = grant_addr;
	busy_calls = -1;
	CHECK_EQ(do_munmap(h, b), 0);		/* a zombie */
	busy_calls = 5;				/* the guest closes */
	be_maps_finish(&be);
	CHECK_EQ(nlive, 0);
	CHECK(!mapped(addr));
	CHECK_EQ(be.maps.count, 0);
	CHECK_EQ(be.maps.pages, 0);
	CHECK_EQ(do_mmap(h, 0, 1, RW, &a), -ENOTCONN);
	CHECK_EQ(do_fault(h, c, 0, 1, 0), -ENOENT);
}

int main(void)
{
	RUN(test_offered_only_with_a_helper);
	RUN(test_mmap_checks);
	RUN(test_fault);
	RUN(test_revocation);
	RUN(test_revoked_before_known);
	RUN(test_munmap_and_zombies);
	RUN(test_device_memory_served_from_a_copy);
	RUN(test_release_keeps_mapping);
	RUN(test_limits);
	RUN(test_end_of_connection);
	be_maps_finish(&be);
	be_handles_finish(&be);
	CHECK_EQ(nlive, 0);
	return tap_done();
}
