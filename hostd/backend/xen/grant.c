// SPDX-License-Identifier: GPL-2.0-only
/*
 * The Xen transport's grants, both ways (libxengnttab; pd_grant.h):
 *
 * - the guest's to us: its two ring pages and its data area, mapped once
 *   per connection (be_xen_map_shared) and unmapped at its end. The data
 *   area is named by a directory of grant references: DIR_REFS references
 *   per directory page, the last entry of a page naming the next
 *   ("data-dir-ref" in pd_wire.h).
 * - ours to the guest, for mmap across domains: the driver domain's grant
 *   helper (/dev/paradice-grant, module pdgrant) grants the frames behind
 *   a range of this process's memory; be_xen_grant/ungrant/revoked wrap
 *   its ioctls and its queue of revoked region ids for maps.c. Without the
 *   helper PD_WIRE_FEAT_MMAP is not offered.
 *
 * Trusts: Xen, which maps only references the guest granted to us, and
 * the helper. Not the guest: the references come from its directory in
 * XenStore (range checked in xenstore.c) and from directory pages it
 * wrote, read through untrusted_dir and never past DIR_REFS + 1 entries;
 * the number of pages is bounded (MAX_DATA_PAGES) before anything is
 * allocated for it. What the guest later writes into the mapped pages is
 * ring.c's to check.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <paradice/pd_grant.h>
#include "config.h"
#include "transport.h"

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
int be_xen_map_shared(struct xen_transport *x,
		      const struct xen_frontend_dir *fe)
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

/*
 * Grant the guest the frames behind addr (maps.c), through the helper:
 * no more than max.grants pages at once (paradice.conf max_grants; the
 * helper counts what this descriptor holds). The helper has a global cap
 * of its own (module parameter max_grants): -ENOSPC from either.
 */
int be_xen_grant(struct be_transport *t, void *addr, uint32_t npages,
		 bool writable, uint32_t *refs, uint32_t *region)
{
	struct xen_transport *x = XT(t);
	uint32_t max = x->be->max.grants ? x->be->max.grants :
					    HOSTD_DEFAULT_MAX_GRANTS;
	struct pd_grant_stats s;
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
	if (ioctl(x->grant_fd, PD_GRANT_IOC_STATS, &s) == 0 &&
	    (uint64_t)s.grants + npages > max) {
		be_log(x->be, "%u more pages refused: %u granted, the limit is "
		       "%u (max_grants)", npages, s.grants, max);
		return -ENOSPC;
	}
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
