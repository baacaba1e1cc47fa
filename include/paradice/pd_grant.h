/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * /dev/paradice-grant: the driver domain's helper (kernel/dom0/pd_grant.c,
 * module pdgrant) that grants a guest the frames behind a mapping the
 * backend made of a real device file. Userspace cannot grant pages it did
 * not allocate itself (gntalloc only grants its own), hence this helper.
 *
 * A region is a page range of the caller's own address space. MAP grants
 * each of its frames (system RAM) to one domain; a range with device memory
 * (a PCI BAR) fails with ENXIO, as Xen 4.17 cannot grant such frames (see
 * kernel/dom0/pd_grant.c). It watches the range: when the real
 * driver takes the pages back (its mapping is zapped: a buffer moves, the
 * backend unmaps or exits), the region is revoked, its id becomes readable
 * on the descriptor, and the zap waits for the guest to unmap every grant:
 * a few seconds at most (kernel/dom0/pd_grant.c), then what the guest
 * still maps is revoked, its page held until the guest lets go, so no
 * frame is ever reused while a guest can still reach it. MAP fails with
 * ENOSPC past the helper's cap on grants alive (module parameter
 * max_grants), with ENXIO for a frame it cannot grant or hold.
 *
 * Use (the backend, one descriptor per guest):
 *	fd = open("/dev/paradice-grant", O_RDWR | O_CLOEXEC);
 *	addr = mmap(NULL, n * 4096, PROT_READ | PROT_WRITE, MAP_SHARED,
 *		    real_fd, offset);
 *	struct pd_grant_map m = { .addr = addr, .npages = n, .domid = 5,
 *				  .refs = (uintptr_t)refs };
 *	ioctl(fd, PD_GRANT_IOC_MAP, &m);	// refs[0..n), m.id
 *	... poll(fd, POLLIN); read(fd, ids, sizeof(ids)) -> revoked ids:
 *	    tell the guest to unmap (PD_EV_UNMAP)
 *	ioctl(fd, PD_GRANT_IOC_UNMAP, &m.id);	// 0 or EBUSY: guest still maps
 *	munmap(addr, n * 4096);
 *
 * Closing the descriptor ends what it still has; grants a guest still maps
 * then are revoked after the grace period and ended by the kernel when the
 * guest lets go (their pages never reused before).
 */
#ifndef PARADICE_PD_GRANT_H
#define PARADICE_PD_GRANT_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define PD_GRANT_DEVICE		"/dev/paradice-grant"

/* Pages of one region. */
#define PD_GRANT_MAX_PAGES	16384u

/* pd_grant_map.flags */
#define PD_GRANT_READONLY	(1u << 0)	/* the guest may only read */

struct pd_grant_map {
	__u64 addr;		/* page aligned, in the caller's memory */
	__u64 refs;		/* out: npages __u32 */
	__u32 npages;		/* 1 .. PD_GRANT_MAX_PAGES */
	__u16 domid;		/* the guest */
	__u16 flags;		/* PD_GRANT_* */
	__u32 id;		/* out: the region */
	__u32 reserved;
};

/* Counts, for tests: grants alive and regions, in this descriptor and in
 * the whole helper (grants the kernel still waits to end included). */
struct pd_grant_stats {
	__u32 regions;
	__u32 grants;
	__u32 all_grants;
	__u32 reserved;
};

#define PD_GRANT_IOC_MAP	_IOWR('P', 0x40, struct pd_grant_map)
#define PD_GRANT_IOC_UNMAP	_IOW('P', 0x41, __u32)
#define PD_GRANT_IOC_STATS	_IOR('P', 0x42, struct pd_grant_stats)

#endif /* PARADICE_PD_GRANT_H */
