// SPDX-License-Identifier: GPL-2.0-only
/*
 * The guest's mappings of real files: mmap across domains
 * (PD_WIRE_FEAT_MMAP, see "mmap across domains" in pd_wire.h).
 *
 * PD_OP_MMAP maps the real file into this process as the guest asked and
 * names the mapping with a map id. The first PD_OP_FAULT grants the guest
 * the frames behind the whole mapping through the transport (on Xen the
 * driver domain's helper, pd_grant.h, which faults our pages in itself)
 * and every FAULT is answered from those references until the region is
 * revoked. PD_OP_MUNMAP ends the grants, then our mapping.
 *
 * When the real driver takes the pages back (a buffer object moves into
 * VRAM) it zaps our mapping; the helper revokes the region and holds the
 * thread doing the zap (one of our workers inside an ioctl, or hostd)
 * until the guest has unmapped every grant. So revoked regions are read,
 * and PD_EV_UNMAP sent, by the event thread, which never issues a device
 * ioctl nor unmaps anything, and which takes only be->lock, a lock never
 * held across a grant, an ungrant, mmap or munmap. The next FAULT ends the
 * old region and grants the pages where they are now.
 *
 * What must hold:
 * - our mapping is unmapped only after its region is gone (ungrant
 *   returned 0): a frame is never reused while the guest can reach it. A
 *   region the guest still maps after its MUNMAP keeps the mapping as a
 *   zombie, tried again at later MMAP/MUNMAPs and at the end;
 * - map ids are per guest (this process serves one), never 0, never
 *   reused within the connection; a FAULT or MUNMAP must also name the
 *   mapping's file handle;
 * - a mapping holds a reference on its handle: the real file stays open
 *   after the guest's RELEASE until the MUNMAP, as a VMA holds its file.
 *
 * Device memory (a PCI BAR: bochs VRAM once a dumb buffer is pinned for
 * scanout) cannot be granted by Xen 4.17 (kernel/dom0/pd_grant.c says why; the
 * helper answers ENXIO). Such a mapping is served from a copy: pages of a
 * memfd, filled from the real mapping once and granted to the guest, and
 * written back into the real mapping by the copier thread every
 * SHADOW_PERIOD_MS while the mapping lives. The guest's view stays that
 * copy from then on (writes reach the device within a period; what the
 * device itself writes is not copied back: dumb buffers are written by the
 * CPU). The copier takes map->lock with trylock only and holds no other
 * lock while it copies (touching our real mapping may wait for a buffer
 * move, which may wait for the event thread).
 *
 * Locks: map->lock serialises one mapping's grant state (FAULT, MUNMAP,
 * the end), so two FAULTs never grant twice; be->lock guards the list and
 * the fields the event thread reads. Order: map->lock, then be->lock.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <paradice/pd_grant.h>
#include <sound/asound.h>

#include "backend.h"

#define PAGE			4096u
/* Per guest, zombies included: a guest cannot pin more of dom0. mmap(2)
 * fails with ENOMEM for both its limits, and so do these. */
#define MAPS_MAX		1024u
#define MAPS_MAX_PAGES		65536u		/* 256 MiB */
/* How long a guest may take to let go of a region's grants. */
#define UNGRANT_WAIT_MS		2000
#define UNGRANT_STEP_MS		10
/* How often the copy of a device-memory mapping goes to the device. */
#define SHADOW_PERIOD_MS	33
/* Grants of one FAULT whose region was revoked before it was known. */
#define GRANT_TRIES		3
/* Sends of one PD_EV_UNMAP whose event ring stayed full. */
#define UNMAP_TRIES		5

_Static_assert(sizeof(off_t) == 8, "mmap offsets need a 64-bit off_t");
_Static_assert(PD_WIRE_MAX_MAP_PAGES <= PD_GRANT_MAX_PAGES,
	       "a mapping is granted as one region");

struct be_map {
	struct be_map *next;		/* be->maps.list */
	uint64_t id;
	uint32_t handle;		/* the guest's name of the file */
	struct be_handle *h;		/* a reference: the file stays open */
	void *addr;			/* our mapping of the real file */
	void *shadow;			/* the copy granted instead, or NULL */
	uint32_t npages;
	bool readable, writable;

	/* One request at a time on the grant state. */
	pthread_mutex_t lock;
	uint32_t *refs;			/* npages, while granted */
	bool ended;			/* ungranted, unmapped, off the list */

	/* Under be->lock (granted and region also written under lock). */
	int users;			/* the list's reference, each user's */
	bool gone;			/* MUNMAPped, or the connection ended */
	bool zombie;			/* gone, but the guest still maps */
	bool finishing;			/* be_maps_finish() visited it */
	bool granted;			/* region exists */
	uint32_t region;
	bool revoked;			/* the driver took the pages back */
	bool unmap_due;			/* PD_EV_UNMAP to send */
	uint8_t unmap_tries;
};

/* Copy a fixed body of exactly `size` bytes out of the request. */
static int take_body(struct be_job *job, void *out, size_t size)
{
	if (job->hdr.len != size)
		return -EINVAL;
	memcpy(out, job->body, size);
	return 0;
}

static bool can_grant(struct be *be)
{
	const struct be_transport_impl *impl = be->tp->impl;

	return (be->features & PD_WIRE_FEAT_MMAP) && impl->grant &&
	       impl->ungrant;
}

static void deadline_in(struct timespec *d, int ms)
{
	clock_gettime(CLOCK_MONOTONIC, d);
	d->tv_sec += ms / 1000;
	d->tv_nsec += (long)(ms % 1000) * 1000000;
	if (d->tv_nsec >= 1000000000) {
		d->tv_sec++;
		d->tv_nsec -= 1000000000;
	}
}

static bool passed(const struct timespec *d)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > d->tv_sec ||
	       (now.tv_sec == d->tv_sec && now.tv_nsec >= d->tv_nsec);
}

/* Under be->lock: forget region from the early list; true if it was in. */
static bool early_take(struct be_maps *ms, uint32_t region)
{
	for (unsigned int i = 0; i < ms->nearly; i++) {
		if (ms->early[i] != region)
			continue;
		ms->early[i] = ms->early[--ms->nearly];
		return true;
	}
	return false;
}

/* Under be->lock: a revoked region nobody owns (yet). */
static void early_add(struct be *be, uint32_t region)
{
	struct be_maps *ms = &be->maps;

	if (ms->nearly == sizeof(ms->early) / sizeof(ms->early[0])) {
		memmove(ms->early, ms->early + 1,
			sizeof(ms->early) - sizeof(ms->early[0]));
		ms->nearly--;
	}
	ms->early[ms->nearly++] = region;
}

static void map_put(struct be *be, struct be_map *m)
{
	bool last;

	pthread_mutex_lock(&be->lock);
	last = --m->users == 0;
	pthread_mutex_unlock(&be->lock);
	if (!last)
		return;
	/* only an ended mapping loses the list's reference */
	be_handle_put(be, m->h);
	pthread_mutex_destroy(&m->lock);
	free(m->refs);
	free(m);
}

/* The guest's live mapping id on handle, with a reference, or NULL. */
static struct be_map *map_get(struct be *be, uint64_t id, uint32_t handle,
			      bool unmap)
{
	struct be_map *m;

	pthread_mutex_lock(&be->lock);
	for (m = be->maps.list; m; m = m->next)
		if (m->id == id && !m->gone)
			break;
	if (m && m->handle != handle)
		m = NULL;
	if (m) {
		m->users++;
		m->gone = unmap;
	}
	pthread_mutex_unlock(&be->lock);
	return m;
}

/*
 * End a region's grants; the guest may still be letting go of them (it
 * unmaps as it reads PD_EV_UNMAP, or just before its MUNMAP): retry
 * -EBUSY until the deadline. 0 also when the region is already gone.
 */
static int ungrant_until(struct be *be, uint32_t region,
			 const struct timespec *deadline)
{
	const struct timespec step = { .tv_nsec = UNGRANT_STEP_MS * 1000000L };

	for (;;) {
		int ret = be->tp->impl->ungrant(be->tp, region);

		if (!ret || ret == -ENOENT) {
			pthread_mutex_lock(&be->lock);
			early_take(&be->maps, region);	/* a stale one */
			pthread_mutex_unlock(&be->lock);
			return 0;
		}
		if (ret != -EBUSY && ret != -EINTR)
			return ret;
		if (passed(deadline))
			return -EBUSY;
		nanosleep(&step, NULL);
	}
}

/* With m->lock: end m's region, if it has one. */
static int map_ungrant(struct be *be, struct be_map *m,
		       const struct timespec *deadline)
{
	int ret;

	if (!m->granted)
		return 0;
	ret = ungrant_until(be, m->region, deadline);
	if (ret)
		return ret;
	pthread_mutex_lock(&be->lock);
	m->granted = false;
	m->revoked = false;
	m->unmap_due = false;	/* the guest maps none of it any more */
	pthread_mutex_unlock(&be->lock);
	return 0;
}

/*
 * With m->lock, m gone: end its grants, then our mapping, and take it off
 * the list (the caller still holds a reference). -EBUSY while the guest
 * still maps the region; then nothing changed.
 */
static int map_end(struct be *be, struct be_map *m,
		   const struct timespec *deadline)
{
	struct be_map **p;
	int ret;

	if (m->ended)
		return 0;
	ret = map_ungrant(be, m, deadline);
	if (ret)
		return ret;
	/* the guest's last writes into the copy (the copier skips a gone
	 * mapping, and a program that fills a buffer and unmaps it at once,
	 * as modetest does, may end within one period) */
	if (m->shadow)
		memcpy(m->addr, m->shadow, (size_t)m->npages * PAGE);
	if (munmap(m->addr, (size_t)m->npages * PAGE))
		be_log(be, "map %llu: munmap: %s", (unsigned long long)m->id,
		       strerror(errno));
	if (m->shadow)
		munmap(m->shadow, (size_t)m->npages * PAGE);
	m->ended = true;
	pthread_mutex_lock(&be->lock);
	for (p = &be->maps.list; *p; p = &(*p)->next)
		if (*p == m) {
			*p = m->next;
			break;
		}
	be->maps.count--;
	be->maps.pages -= m->npages;
	m->zombie = false;
	m->users--;		/* the list's; the caller's remains */
	pthread_mutex_unlock(&be->lock);
	return 0;
}

/*
 * Try once, without waiting, to end the zombies: mappings the guest
 * MUNMAPped while still mapping their grants. Called by workers (never
 * the event thread: it unmaps).
 */
static void reap_zombies(struct be *be)
{
	struct be_map **z = NULL, *m;
	struct timespec now;
	unsigned int n = 0;

	pthread_mutex_lock(&be->lock);
	for (m = be->maps.list; m; m = m->next)
		n += m->zombie;
	if (n && (z = calloc(n, sizeof(*z)))) {
		n = 0;
		for (m = be->maps.list; m; m = m->next)
			if (m->zombie) {
				m->users++;
				z[n++] = m;
			}
	}
	pthread_mutex_unlock(&be->lock);
	if (!z)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	for (unsigned int i = 0; i < n; i++) {
		m = z[i];
		if (!pthread_mutex_trylock(&m->lock)) {
			if (!map_end(be, m, &now))
				be_log(be, "map %llu: the guest let go, ended",
				       (unsigned long long)m->id);
			pthread_mutex_unlock(&m->lock);
		}
		map_put(be, m);
	}
	free(z);
}

/*
 * PD_OP_MMAP on handle h: map the real file as the guest asked. No page is
 * granted yet.
 */
void be_op_mmap(struct be *be, struct be_handle *h, struct be_job *job)
{
	struct be_maps *ms = &be->maps;
	struct pd_wire_mmap_req r = { 0 };
	struct pd_wire_mmap_rsp rsp = { 0 };
	struct be_map *m;
	uint32_t count, pages;
	size_t len;
	int prot = 0, ret = 0;
	void *addr;

	if (!can_grant(be)) {
		be_reply(be, &job->hdr, -EOPNOTSUPP, NULL, 0);
		return;
	}
	/* the checks of the guest's request, all of them */
	if (take_body(job, &r, sizeof(r)) || r.reserved || !r.npages ||
	    r.npages > PD_WIRE_MAX_MAP_PAGES ||
	    (r.prot & ~(PD_WIRE_PROT_READ | PD_WIRE_PROT_WRITE)) ||
	    r.flags != PD_WIRE_MAP_SHARED ||
	    r.pgoff > (uint64_t)INT64_MAX / PAGE - r.npages) {
		if (job->hdr.len == sizeof(r) && !(r.flags & PD_WIRE_MAP_SHARED))
			be_log(be, "MMAP of handle %u refused: private mappings "
			       "are not shared across domains", h->handle);
		else
			be_log(be, "MMAP of handle %u refused: bad request "
			       "(%u bytes, pgoff %llu, %u pages, prot 0x%x, "
			       "flags 0x%x)", h->handle, job->hdr.len,
			       (unsigned long long)r.pgoff, r.npages, r.prot,
			       r.flags);
		be_reply(be, &job->hdr, -EINVAL, NULL, 0);
		return;
	}
	/* ALSA's status page carries the driver's stamps in our clocks, which
	 * cannot be made a guest's in place (clock.c): while its clocks
	 * differ, alsa-lib gets ENXIO and asks SYNC_PTR instead */
	if (h->dev_class == PD_WIRE_CLASS_SND_PCM &&
	    (r.pgoff * PAGE == SNDRV_PCM_MMAP_OFFSET_STATUS_OLD ||
	     r.pgoff * PAGE == SNDRV_PCM_MMAP_OFFSET_STATUS_NEW) &&
	    be_clock_offset_set(be)) {
		if (be->verbose)
			be_log(be, "MMAP of handle %u's PCM status refused: "
			       "the guest's clocks differ (SYNC_PTR instead)",
			       h->handle);
		be_reply(be, &job->hdr, -ENXIO, NULL, 0);
		return;
	}
	reap_zombies(be);

	pthread_mutex_lock(&be->lock);
	count = ms->count;
	pages = ms->pages;
	if (ms->closed) {
		ret = -ENOTCONN;
	} else if (count >= MAPS_MAX || pages > MAPS_MAX_PAGES ||
		   r.npages > MAPS_MAX_PAGES - pages) {
		ret = -ENOMEM;
	} else {
		ms->count++;
		ms->pages += r.npages;
	}
	pthread_mutex_unlock(&be->lock);
	if (ret == -ENOMEM)
		be_log(be, "MMAP of %u pages refused: the guest has %u "
		       "mappings of %u pages (limits %u, %u)", r.npages,
		       count, pages, MAPS_MAX, MAPS_MAX_PAGES);
	if (ret) {
		be_reply(be, &job->hdr, ret, NULL, 0);
		return;
	}

	len = (size_t)r.npages * PAGE;
	if (r.prot & PD_WIRE_PROT_READ)
		prot |= PROT_READ;
	if (r.prot & PD_WIRE_PROT_WRITE)
		prot |= PROT_WRITE;
	m = calloc(1, sizeof(*m));
	if (m)
		m->refs = calloc(r.npages, sizeof(*m->refs));
	addr = m && m->refs ? mmap(NULL, len, prot, MAP_SHARED, h->fd,
				   (off_t)(r.pgoff * PAGE)) : NULL;
	if (!addr || addr == MAP_FAILED) {
		/* the driver's errno is the guest's */
		ret = addr ? -errno : -ENOMEM;
		goto fail;
	}
	m->handle = h->handle;
	m->h = h;
	m->addr = addr;
	m->npages = r.npages;
	m->readable = prot != 0;	/* write implies read, as on x86 */
	m->writable = prot & PROT_WRITE;
	m->users = 1;			/* the list's */
	pthread_mutex_init(&m->lock, NULL);

	pthread_mutex_lock(&be->lock);
	if (ms->closed) {
		pthread_mutex_unlock(&be->lock);
		pthread_mutex_destroy(&m->lock);
		munmap(addr, len);
		ret = -ENOTCONN;
		goto fail;
	}
	h->refs++;			/* the mapping's */
	m->id = ++ms->last_id;
	m->next = ms->list;
	ms->list = m;
	rsp.map_id = m->id;
	pthread_mutex_unlock(&be->lock);

	/* m is the guest's now (a MUNMAP may already free it) */
	rsp.npages = r.npages;
	if (be->verbose)
		be_log(be, "map %llu: handle %u, pgoff %llu, %u pages%s",
		       (unsigned long long)rsp.map_id, h->handle,
		       (unsigned long long)r.pgoff, r.npages,
		       prot & PROT_WRITE ? ", writable" : "");
	be_reply(be, &job->hdr, 0, &rsp, sizeof(rsp));
	return;
fail:
	if (m)
		free(m->refs);
	free(m);
	pthread_mutex_lock(&be->lock);
	ms->count--;
	ms->pages -= r.npages;
	pthread_mutex_unlock(&be->lock);
	be_reply(be, &job->hdr, ret, NULL, 0);
}

/* The copier: device-memory mappings' copies into the device. */
static void *copier(void *arg)
{
	const struct timespec period = {
		.tv_nsec = SHADOW_PERIOD_MS * 1000000L };
	struct be *be = arg;

	for (;;) {
		struct be_map *todo[64];
		unsigned int n = 0;

		nanosleep(&period, NULL);
		pthread_mutex_lock(&be->lock);
		for (struct be_map *m = be->maps.list; m && n < 64; m = m->next)
			if (m->shadow && !m->gone) {
				m->users++;
				todo[n++] = m;
			}
		pthread_mutex_unlock(&be->lock);
		for (unsigned int i = 0; i < n; i++) {
			struct be_map *m = todo[i];

			if (!pthread_mutex_trylock(&m->lock)) {
				if (!m->ended)
					memcpy(m->addr, m->shadow,
					       (size_t)m->npages * PAGE);
				pthread_mutex_unlock(&m->lock);
			}
			map_put(be, m);
		}
	}
	return NULL;
}

/*
 * With m->lock: serve m from a copy in RAM from now on (its pages are
 * device memory, which Xen cannot grant). 0 or a negative errno.
 */
static int map_shadow(struct be *be, struct be_map *m)
{
	size_t len = (size_t)m->npages * PAGE;
	bool start;
	void *p;
	int fd;

	if (m->shadow)
		return 0;
	if (!m->writable) {
		/* a read-only view of device memory would go stale */
		return -ENXIO;
	}
	fd = memfd_create("pd-shadow", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)len)) {
		close(fd);
		return -ENOMEM;
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return -ENOMEM;
	memcpy(p, m->addr, len);
	pthread_mutex_lock(&be->lock);
	m->shadow = p;
	start = !be->maps.copier;
	be->maps.copier = true;
	pthread_mutex_unlock(&be->lock);
	if (start) {
		pthread_t t;

		if (pthread_create(&t, NULL, copier, be)) {
			be_log(be, "cannot start the copier thread");
		} else {
			pthread_detach(t);
		}
	}
	be_log(be, "map %llu: %u pages of device memory, served from a copy "
	       "written back every %d ms", (unsigned long long)m->id,
	       m->npages, SHADOW_PERIOD_MS);
	return 0;
}

/*
 * With m->lock, m live: make sure the guest has a grant of the whole
 * mapping that was not revoked: end a revoked one first (the guest must
 * have unmapped it; it was told), then grant the pages where they are
 * now. A region revoked before we knew its id (the early list) is ended
 * and granted again.
 */
static int map_grant(struct be *be, struct be_map *m)
{
	const struct be_transport_impl *impl = be->tp->impl;

	for (int tries = 0;; tries++) {
		struct timespec deadline;
		uint32_t region;
		bool fresh;
		int ret;

		pthread_mutex_lock(&be->lock);
		fresh = m->granted && !m->revoked;
		pthread_mutex_unlock(&be->lock);
		if (fresh)
			return 0;
		if (tries == GRANT_TRIES) {
			be_log(be, "map %llu: its pages were taken back %d "
			       "times while granted", (unsigned long long)m->id,
			       tries);
			return -EAGAIN;
		}
		deadline_in(&deadline, UNGRANT_WAIT_MS);
		ret = map_ungrant(be, m, &deadline);
		if (ret) {
			be_log(be, "map %llu: the guest still maps the pages "
			       "taken back (%s)", (unsigned long long)m->id,
			       strerror(-ret));
			return ret;
		}
		ret = impl->grant(be->tp, m->shadow ? m->shadow : m->addr,
				  m->npages, m->writable, m->refs, &region);
		if (ret == -ENXIO && !m->shadow) {
			ret = map_shadow(be, m);
			if (!ret)
				ret = impl->grant(be->tp, m->shadow, m->npages,
						  m->writable, m->refs, &region);
		}
		if (ret) {
			be_log(be, "map %llu: granting %u pages failed: %s",
			       (unsigned long long)m->id, m->npages,
			       strerror(-ret));
			return ret;
		}
		pthread_mutex_lock(&be->lock);
		m->region = region;
		m->granted = true;
		m->revoked = early_take(&be->maps, region);
		pthread_mutex_unlock(&be->lock);
	}
}

/*
 * PD_OP_FAULT: the references of [pgoff, pgoff + npages) of a mapping,
 * the same for every FAULT until the region is revoked.
 */
void be_op_fault(struct be *be, struct be_job *job)
{
	struct pd_wire_fault_page *pages = NULL;
	struct pd_wire_fault_req r = { 0 };
	struct be_map *m;
	int ret;

	if (!can_grant(be)) {
		be_reply(be, &job->hdr, -EOPNOTSUPP, NULL, 0);
		return;
	}
	/* the checks of the guest's request, all of them */
	if (take_body(job, &r, sizeof(r)) || !r.npages ||
	    r.npages > PD_WIRE_MAX_FAULT_PAGES || r.write > 1) {
		be_log(be, "FAULT refused: bad request (%u bytes, %u pages, "
		       "write %u)", job->hdr.len, r.npages, r.write);
		be_reply(be, &job->hdr, -EINVAL, NULL, 0);
		return;
	}
	m = map_get(be, r.map_id, job->hdr.handle, false);
	if (!m) {
		be_log(be, "FAULT refused: no map %llu on handle %u",
		       (unsigned long long)r.map_id, job->hdr.handle);
		be_reply(be, &job->hdr, -ENOENT, NULL, 0);
		return;
	}
	if (r.pgoff >= m->npages || r.npages > m->npages - r.pgoff) {
		be_log(be, "FAULT refused: pages %llu+%u of map %llu (%u "
		       "pages)", (unsigned long long)r.pgoff, r.npages,
		       (unsigned long long)m->id, m->npages);
		ret = -EINVAL;
		goto out;
	}
	if (!m->readable || (r.write && !m->writable)) {
		be_log(be, "FAULT refused: %s of map %llu, which is %s",
		       r.write ? "write" : "read", (unsigned long long)m->id,
		       m->writable ? "writable" : m->readable ? "read-only" :
		       "PROT_NONE");
		ret = -EACCES;
		goto out;
	}
	pages = calloc(r.npages, sizeof(*pages));
	if (!pages) {
		ret = -ENOMEM;
		goto out;
	}
	pthread_mutex_lock(&m->lock);
	pthread_mutex_lock(&be->lock);
	ret = m->gone ? -ENOENT : 0;	/* a MUNMAP came first */
	pthread_mutex_unlock(&be->lock);
	if (!ret)
		ret = map_grant(be, m);
	for (uint32_t i = 0; !ret && i < r.npages; i++) {
		pages[i].ref = m->refs[r.pgoff + i];
		pages[i].flags = 0;
	}
	pthread_mutex_unlock(&m->lock);
out:
	map_put(be, m);
	if (ret)
		be_reply(be, &job->hdr, ret, NULL, 0);
	else
		be_reply(be, &job->hdr, 0, pages, r.npages * sizeof(*pages));
	free(pages);
}

/*
 * PD_OP_MUNMAP: the guest's mapping is gone. End the grants (waiting a
 * little for the guest to let go), then our mapping. A region still
 * mapped after that makes the mapping a zombie; the guest gets 0 either
 * way, its id is dead.
 */
void be_op_munmap(struct be *be, struct be_job *job)
{
	struct pd_wire_munmap_req r;
	struct timespec deadline;
	struct be_map *m;

	if (take_body(job, &r, sizeof(r))) {
		be_log(be, "MUNMAP refused: %u bytes", job->hdr.len);
		be_reply(be, &job->hdr, -EINVAL, NULL, 0);
		return;
	}
	m = map_get(be, r.map_id, job->hdr.handle, true);
	if (!m) {
		be_log(be, "MUNMAP refused: no map %llu on handle %u",
		       (unsigned long long)r.map_id, job->hdr.handle);
		be_reply(be, &job->hdr, -ENOENT, NULL, 0);
		return;
	}
	pthread_mutex_lock(&m->lock);
	deadline_in(&deadline, UNGRANT_WAIT_MS);
	if (map_end(be, m, &deadline)) {
		pthread_mutex_lock(&be->lock);
		m->zombie = true;
		pthread_mutex_unlock(&be->lock);
		be_log(be, "map %llu: the guest still maps its pages after "
		       "MUNMAP; kept until it lets go",
		       (unsigned long long)m->id);
	}
	pthread_mutex_unlock(&m->lock);
	map_put(be, m);
	be_reply(be, &job->hdr, 0, NULL, 0);
	reap_zombies(be);
}

/*
 * The event thread. Regions the transport reports revoked mark their
 * mapping revoked (its references are stale) and due for PD_EV_UNMAP;
 * a region nobody owns yet is remembered (its FAULT is between the
 * grant's return and recording it); if the transport lost some
 * (-EOVERFLOW), every mapping counts as revoked. Then the due events are
 * sent, one at a time without be->lock. Never touches a device, a grant
 * or a mapping.
 */
int be_maps_revocations(struct be *be, bool readable)
{
	const struct be_transport_impl *impl = be->tp->impl;
	uint32_t regions[64];
	bool more = readable && impl->revoked;
	int ret = 0;

	while (more) {
		int n = impl->revoked(be->tp, regions, 64);

		more = n == 64;
		if (n == -EOVERFLOW) {
			/* ids were lost: any region may have been revoked */
			be_log(be, "revoked regions were lost: every mapping "
			       "counts as taken back");
			pthread_mutex_lock(&be->lock);
			for (struct be_map *m = be->maps.list; m; m = m->next)
				if (m->granted && !m->revoked) {
					m->revoked = true;
					m->unmap_due = !m->gone;
					m->unmap_tries = 0;
				}
			pthread_mutex_unlock(&be->lock);
			more = true;
			continue;
		}
		if (n < 0) {
			be_log(be, "reading revoked regions: %s; no longer "
			       "watched", strerror(-n));
			ret = -1;
			break;
		}
		pthread_mutex_lock(&be->lock);
		for (int i = 0; i < n; i++) {
			struct be_map *m;

			for (m = be->maps.list; m; m = m->next)
				if (m->granted && m->region == regions[i])
					break;
			if (!m) {
				early_add(be, regions[i]);
				continue;
			}
			if (m->revoked)
				continue;
			m->revoked = true;
			m->unmap_due = !m->gone;
			m->unmap_tries = 0;
		}
		pthread_mutex_unlock(&be->lock);
	}

	for (;;) {
		struct pd_wire_unmap_ev ev = { 0 };
		uint32_t handle = 0;
		struct be_map *m;

		pthread_mutex_lock(&be->lock);
		for (m = be->maps.list; m; m = m->next)
			if (m->unmap_due)
				break;
		if (m) {
			m->unmap_due = false;
			ev.map_id = m->id;
			handle = m->handle;
		}
		pthread_mutex_unlock(&be->lock);
		if (!m)
			return ret;
		if (!be_send_event(be, PD_EV_UNMAP, handle, &ev, sizeof(ev))) {
			if (be->verbose)
				be_log(be, "map %llu: pages taken back, guest "
				       "told", (unsigned long long)ev.map_id);
			continue;
		}
		/* the event ring stayed full (the guest does not read it),
		 * or the connection ended: try again a few times, later */
		pthread_mutex_lock(&be->lock);
		for (m = be->maps.list; m; m = m->next)
			if (m->id == ev.map_id)
				break;
		if (m && m->revoked && !m->gone) {
			if (++m->unmap_tries < UNMAP_TRIES)
				m->unmap_due = true;
			else
				be_log(be, "map %llu: PD_EV_UNMAP not sent, "
				       "given up", (unsigned long long)m->id);
		}
		for (m = be->maps.list; m && !ret; m = m->next)
			if (m->unmap_due)
				ret = 1;
		pthread_mutex_unlock(&be->lock);
		return ret;
	}
}

/*
 * The connection is over: no new mapping; end every one (the guest
 * unmaps as its frontend closes, or its domain is gone), all together
 * waiting at most UNGRANT_WAIT_MS. What the guest still maps after that
 * stays mapped here: process exit or the helper's close ends it (never
 * reusing a frame the guest can reach). Called from a worker-free place
 * or with workers still running: they see their mappings gone.
 */
void be_maps_finish(struct be *be)
{
	struct timespec deadline;
	unsigned int left = 0, pages = 0;
	struct be_map *m;

	pthread_mutex_lock(&be->lock);
	be->maps.closed = true;
	for (m = be->maps.list; m; m = m->next)
		m->finishing = false;
	pthread_mutex_unlock(&be->lock);
	deadline_in(&deadline, UNGRANT_WAIT_MS);
	for (;;) {
		pthread_mutex_lock(&be->lock);
		for (m = be->maps.list; m; m = m->next)
			if (!m->finishing)
				break;
		if (m) {
			m->finishing = true;
			m->gone = true;
			m->unmap_due = false;
			m->users++;
		}
		pthread_mutex_unlock(&be->lock);
		if (!m)
			break;
		pthread_mutex_lock(&m->lock);
		if (map_end(be, m, &deadline)) {
			left++;
			pages += m->npages;
		}
		pthread_mutex_unlock(&m->lock);
		map_put(be, m);
	}
	if (left)
		be_log(be, "%u mappings (%u pages) still mapped by the guest: "
		       "left to the kernel", left, pages);
}
