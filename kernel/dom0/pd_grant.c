// SPDX-License-Identifier: GPL-2.0-only
/*
 * pdgrant: the driver domain's helper for zero-copy mmap across domains.
 * Interface and use: include/paradice/pd_grant.h.
 *
 * The backend maps a real device file into its own memory; this module
 * grants the frames behind that mapping to one guest. The frames are
 * whatever the real driver put there: pages of system RAM (vb2 and ALSA
 * buffers, shmem-backed GEM objects, TTM system pages). Device memory (a
 * PCI BAR such as bochs' VRAM) is refused with -ENXIO: Xen 4.17 cannot
 * grant it. map_grant_ref() takes the granted frame through
 * get_paged_frame() -> check_get_page_from_gfn() -> get_page_from_gfn(),
 * which for a PV granter returns a page only if mfn_valid(frame) and
 * get_page(page, granter) succeed; a BAR frame is outside the frame table
 * or owned by dom_io, so the guest's map fails with GNTST_bad_page (-9,
 * measured). The backend serves such mappings from a copy in RAM instead
 * (hostd/backend/maps.c).
 *
 * A frame belongs to the guest's view only while the backend's own mapping
 * of it stands: an MMU interval notifier on the range hears every zap (a
 * buffer object moving between RAM and VRAM, the backend unmapping or
 * exiting) before the driver reuses the frames. The backend is told (the
 * region id becomes readable) and tells the guest; if the backend cannot
 * (it is exiting) or does not within PDG_POKE_MS, the connection is
 * closed in XenStore, which makes the frontend drop all its mappings.
 * Grants cannot be taken back by the granter in Xen's grant table v1, so
 * a guest that still maps them PDG_GRACE_MS later is not waited for: its
 * grants are revoked, i.e. handed to a deferred end that keeps each page
 * referenced until the guest unmaps it (the driver's free then does not
 * free the frame; nobody else gets it) and ends the grant then. dom0's
 * thread returns; the guest keeps only stale pages nobody else uses.
 *
 * That needs a reference on every granted page: pages of ordinary
 * mappings are held with get_user_pages(); the frame of a VM_PFNMAP/VM_IO
 * mapping is granted only if its page can be held (get_page_unless_zero
 * on its head); others (TTM's tail pages of non-compound allocations,
 * whose count is 0) get -ENXIO like device memory, and the backend serves
 * them from a copy.
 *
 * Every grant alive (in regions, deferred, being granted) counts against
 * a global cap, the parameter max_grants (default: half of dom0's grant
 * table); a MAP past it fails with -ENOSPC and a log line naming the
 * domain. The backend keeps each guest's own cap (paradice.conf).
 * A region's bookkeeping (pd_grant_slots.c) never overwrites a live
 * grant: a retry or an error revokes every grant of the region first.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/kfifo.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/module.h>
#include <linux/poll.h>
#include <linux/moduleparam.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/xarray.h>

#include <xen/grant_table.h>
#include <xen/page.h>
#include <xen/xen.h>
#include <xen/xenbus.h>

#include <paradice/pd_grant.h>
#include <paradice/pd_wire.h>

#include "pd_grant_slots.h"

/* A zap waits this long for the backend to get the guest to unmap before
 * the helper closes the connection itself (the "closing" notice), then
 * this long again for the guest to obey before its grants are revoked. */
#define PDG_POKE_MS	3000
#define PDG_GRACE_MS	3000
#define PDG_DEFER_MS	1000

/* Grants alive: in regions, deferred, and reserved by a MAP under way. */
static atomic_t pdg_all_grants = ATOMIC_INIT(0);

/* The cap on pdg_all_grants: the parameter, or half of dom0's table. */
static unsigned int max_grants;
module_param(max_grants, uint, 0644);
MODULE_PARM_DESC(max_grants, "grants to all guests at once (0: half of dom0's grant table)");
static unsigned int pdg_default_cap;

struct pdg_ctx {
	struct mutex lock;		/* regions, next_id, mm, grants */
	struct mm_struct *mm;		/* the owner's, grabbed at first MAP */
	struct xarray regions;
	u32 next_id;
	u32 grants;			/* alive in this descriptor */
	/* the owner is exiting: every region's grace ends at gone_deadline
	 * (jiffies), so an exit waits one grace period, not one per region */
	bool gone;
	unsigned long gone_deadline;

	spinlock_t qlock;
	DECLARE_KFIFO(revoked, u32, 256);
	bool overflow;			/* a revoked id did not fit */
	wait_queue_head_t wq;
};

struct pdg_region {
	struct mmu_interval_notifier mn;
	struct pdg_ctx *ctx;
	struct mutex lock;		/* the grants; seq against MAP */
	u32 id;
	u16 domid;
	bool readonly;
	bool published;			/* the refs went to userspace */
	unsigned long addr;
	struct pdg_slots slots;		/* refs and held pages */
};

/* ------------------------------------------------------------------ */
/* The deferred end                                                     */

/*
 * Grants revoked while a guest still maps them: Xen's grant table v1 lets
 * the granter end a grant only once the grantee unmapped it, so the helper
 * keeps the page referenced (the driver's free does not free it: nobody
 * else gets the frame) and tries again every PDG_DEFER_MS. They stay
 * counted in pdg_all_grants until they end.
 */
struct pdg_deferred {
	struct list_head node;
	grant_ref_t ref;
	struct page *page;
};

static LIST_HEAD(pdg_deferred_list);
static DEFINE_SPINLOCK(pdg_deferred_lock);	/* the list */
static void pdg_deferred_fn(struct work_struct *work);
static DECLARE_DELAYED_WORK(pdg_deferred_work, pdg_deferred_fn);

static void pdg_deferred_fn(struct work_struct *work)
{
	struct pdg_deferred *d, *tmp;
	LIST_HEAD(todo);
	bool more;

	spin_lock(&pdg_deferred_lock);
	list_splice_init(&pdg_deferred_list, &todo);
	spin_unlock(&pdg_deferred_lock);
	list_for_each_entry_safe(d, tmp, &todo, node) {
		if (!gnttab_try_end_foreign_access(d->ref))
			continue;
		list_del(&d->node);
		if (d->page)
			put_page(d->page);
		kfree(d);
		atomic_dec(&pdg_all_grants);
	}
	spin_lock(&pdg_deferred_lock);
	list_splice(&todo, &pdg_deferred_list);
	more = !list_empty(&pdg_deferred_list);
	spin_unlock(&pdg_deferred_lock);
	if (more)
		schedule_delayed_work(&pdg_deferred_work,
				      msecs_to_jiffies(PDG_DEFER_MS));
}

static int pdg_op_try_end(u32 ref)
{
	return gnttab_try_end_foreign_access(ref);
}

static void pdg_op_put(void *page)
{
	put_page(page);
}

/* May run in a notifier: no allocation that could reclaim. */
static void pdg_op_defer(u32 ref, void *page)
{
	struct pdg_deferred *d = kzalloc(sizeof(*d), GFP_NOWAIT | __GFP_NOWARN);

	if (!d) {
		/* Linux's own deferred end keeps the page the same way,
		 * but uncounted */
		gnttab_end_foreign_access(ref, page);
		atomic_dec(&pdg_all_grants);
		return;
	}
	d->ref = ref;
	d->page = page;
	spin_lock(&pdg_deferred_lock);
	list_add_tail(&d->node, &pdg_deferred_list);
	spin_unlock(&pdg_deferred_lock);
	schedule_delayed_work(&pdg_deferred_work,
			      msecs_to_jiffies(PDG_DEFER_MS));
}

static const struct pdg_slot_ops pdg_ops = {
	.try_end = pdg_op_try_end,
	.put = pdg_op_put,
	.defer = pdg_op_defer,
};

/* ------------------------------------------------------------------ */
/* Grants                                                               */

static void pdg_ctx_sub(struct pdg_ctx *ctx, u32 n)
{
	mutex_lock(&ctx->lock);
	ctx->grants -= n;
	mutex_unlock(&ctx->lock);
}

/* End every grant the guest no longer maps; the number left. */
static u32 pdg_try_end(struct pdg_region *r)
{
	u32 ended = pdg_slots_try_end(&r->slots, &pdg_ops);

	atomic_sub(ended, &pdg_all_grants);
	pdg_ctx_sub(r->ctx, ended);
	return r->slots.live;
}

/*
 * End every grant of r now: what the guest still maps is revoked, its
 * page held until the guest lets go (the deferred end). Afterwards the
 * region has no grant; returns how many were deferred.
 */
static u32 pdg_revoke(struct pdg_region *r)
{
	u32 ended, deferred;

	deferred = pdg_slots_revoke(&r->slots, &pdg_ops, &ended);
	atomic_sub(ended, &pdg_all_grants);	/* the deferred stay counted */
	pdg_ctx_sub(r->ctx, ended + deferred);
	return deferred;
}

/* Tell the guest's frontend that its backend is closing: it then drops
 * every mapping of the connection (kernel/front_xenbus.c). */
static void pdg_poke_frontend(struct pdg_region *r)
{
	char dir[96];
	int err;

	snprintf(dir, sizeof(dir), "/local/domain/0/backend/%s/%u/0",
		 PD_WIRE_XENBUS_DEVICE_TYPE, r->domid);
	err = xenbus_printf(XBT_NIL, dir, "state", "%d", XenbusStateClosing);
	pr_warn("domain %u keeps %u pages of region %u mapped: closing its connection (%d)\n",
		r->domid, r->slots.live, r->id, err);
}

/*
 * Wait until the guest has unmapped every grant of r, closing its
 * connection at poke_at (jiffies; *poked says it was done) and revoking
 * what it still maps at deadline: this never waits past the deadline.
 * Called with r->lock held, from a zap (notifier) or from the
 * descriptor's release.
 */
static void pdg_wait_unmapped(struct pdg_region *r, unsigned long poke_at,
			      unsigned long deadline, bool *poked)
{
	u32 left, deferred;

	while ((left = pdg_try_end(r))) {
		if (!*poked && time_after_eq(jiffies, poke_at)) {
			pdg_poke_frontend(r);
			*poked = true;
		}
		if (time_after_eq(jiffies, deadline)) {
			deferred = pdg_revoke(r);
			pr_warn("domain %u did not unmap %u pages of region %u in time: revoked (%u held until it lets go)\n",
				r->domid, left, r->id, deferred);
			return;
		}
		schedule_timeout_idle(msecs_to_jiffies(5));
	}
}

static void pdg_queue_revoked(struct pdg_ctx *ctx, u32 id)
{
	spin_lock(&ctx->qlock);
	if (!kfifo_put(&ctx->revoked, id))
		ctx->overflow = true;
	spin_unlock(&ctx->qlock);
	wake_up_interruptible(&ctx->wq);
}

/* The end of the grace period of an exiting owner's regions. */
static unsigned long pdg_gone_deadline(struct pdg_ctx *ctx)
{
	unsigned long deadline;

	mutex_lock(&ctx->lock);
	if (!ctx->gone) {
		ctx->gone = true;
		ctx->gone_deadline = jiffies + msecs_to_jiffies(PDG_GRACE_MS);
	}
	deadline = ctx->gone_deadline;
	mutex_unlock(&ctx->lock);
	return deadline;
}

static bool pdg_invalidate(struct mmu_interval_notifier *mn,
			   const struct mmu_notifier_range *range,
			   unsigned long cur_seq)
{
	struct pdg_region *r = container_of(mn, struct pdg_region, mn);
	unsigned long now = jiffies, poke_at, deadline;
	bool poked = false;

	if (!mmu_notifier_range_blockable(range))
		return false;
	mutex_lock(&r->lock);
	mmu_interval_set_seq(mn, cur_seq);
	if (r->published && r->slots.live) {
		pdg_queue_revoked(r->ctx, r->id);
		if (atomic_read(&range->mm->mm_users)) {
			poke_at = now + msecs_to_jiffies(PDG_POKE_MS);
			deadline = poke_at + msecs_to_jiffies(PDG_GRACE_MS);
		} else {
			poke_at = now;
			deadline = pdg_gone_deadline(r->ctx);
		}
		pdg_wait_unmapped(r, poke_at, deadline, &poked);
	}
	mutex_unlock(&r->lock);
	return true;
}

static const struct mmu_interval_notifier_ops pdg_mn_ops = {
	.invalidate = pdg_invalidate,
};

/*
 * Hold the page of a frame found in a VM_PFNMAP/VM_IO mapping: a frame
 * we cannot hold (no struct page, or a tail page of a non-compound
 * allocation, whose count is 0: TTM's) could be reused by its driver
 * while a guest still maps it after a revocation, so it is not granted
 * (-ENXIO: the backend serves such a mapping from a copy).
 */
static int pdg_hold_frame(unsigned long pfn, struct page **page)
{
	struct page *head;

	if (!pfn_valid(pfn))
		return -ENXIO;
	head = compound_head(pfn_to_page(pfn));
	if (!get_page_unless_zero(head))
		return -ENXIO;
	*page = head;
	return 0;
}

/*
 * The frame behind addr in the caller's mm (mmap lock held for read, may
 * be dropped and retaken by a fault: *locked says), and its page, held,
 * in *page.
 */
static int pdg_resolve(struct mm_struct *mm, unsigned long addr, bool write,
		       unsigned long *pfn, struct page **page, int *locked)
{
	struct vm_area_struct *vma;
	bool unlocked = false;
	int ret;

	*page = NULL;
	vma = vma_lookup(mm, addr);
	if (!vma)
		return -EFAULT;
	if (write && !(vma->vm_flags & VM_WRITE))
		return -EACCES;
	if (!(vma->vm_flags & (VM_IO | VM_PFNMAP))) {
		ret = get_user_pages_remote(mm, addr, 1,
					    write ? FOLL_WRITE : 0, page,
					    NULL, locked);
		if (ret != 1)
			return ret < 0 ? ret : -EFAULT;
		*pfn = page_to_pfn(*page);
		return 0;
	}
	if (!follow_pfn(vma, addr, pfn))
		return pdg_hold_frame(*pfn, page);
	ret = fixup_user_fault(mm, addr, write ? FAULT_FLAG_WRITE : 0,
			       &unlocked);
	if (ret)
		return ret;
	vma = vma_lookup(mm, addr);	/* the lock may have been dropped */
	if (!vma || !(vma->vm_flags & (VM_IO | VM_PFNMAP)))
		return -EAGAIN;
	if (follow_pfn(vma, addr, pfn))
		return -EFAULT;
	return pdg_hold_frame(*pfn, page);
}

static unsigned int pdg_cap(void)
{
	unsigned int cap = READ_ONCE(max_grants);

	return cap ? cap : pdg_default_cap;
}

/*
 * Resolve and grant every page of r, whose slots are all free; 0 or an
 * error with nothing granted. The grants are reserved against the global
 * cap first. A slot found live is never overwritten (pd_grant_slots.h).
 */
static int pdg_grant_all(struct pdg_region *r, u32 *out)
{
	struct mm_struct *mm = r->ctx->mm;
	u32 i, n = r->slots.n, filled = 0, cap = pdg_cap();
	int locked = 1, ret = 0, all;

	all = atomic_add_return(n, &pdg_all_grants);
	if (all < 0 || (u32)all > cap) {
		atomic_sub(n, &pdg_all_grants);
		pr_warn_ratelimited("domain %u: %u grants refused: %d alive, the limit is %u (max_grants)\n",
				    r->domid, n, all - (int)n, cap);
		return -ENOSPC;
	}
	mmap_read_lock(mm);
	for (i = 0; i < n; i++) {
		struct page *page;
		unsigned long pfn;
		int ref;

		ret = pdg_resolve(mm, r->addr + ((unsigned long)i << PAGE_SHIFT),
				  !r->readonly, &pfn, &page, &locked);
		if (!locked) {
			mmap_read_lock(mm);
			locked = 1;
		}
		if (ret)
			break;
		if (!page_is_ram(pfn)) {
			/* device memory: Xen would refuse the guest's map */
			put_page(page);
			ret = -ENXIO;
			break;
		}
		ref = gnttab_grant_foreign_access(r->domid, pfn_to_gfn(pfn),
						  r->readonly);
		if (ref < 0) {
			put_page(page);
			ret = ref;
			break;
		}
		ret = pdg_slot_fill(&r->slots, i, ref, page);
		if (ret) {
			/* nobody has this new reference: it ends at once */
			pr_err("region %u: slot %u still holds grant %u\n",
			       r->id, i, r->slots.refs[i]);
			gnttab_end_foreign_access(ref, page);
			break;
		}
		filled++;
		out[i] = (u32)ref;
	}
	mmap_read_unlock(mm);
	atomic_sub(n - filled, &pdg_all_grants);
	mutex_lock(&r->ctx->lock);
	r->ctx->grants += filled;
	mutex_unlock(&r->ctx->lock);
	if (ret) {
		/* nobody was given the references; one a guest guessed and
		 * mapped is revoked, not forgotten */
		pdg_revoke(r);
	}
	return ret;
}

static void pdg_region_free(struct pdg_region *r)
{
	kvfree(r->slots.refs);
	kvfree(r->slots.pages);
	kfree(r);
}

/* ------------------------------------------------------------------ */
/* ioctls                                                               */

static long pdg_map(struct pdg_ctx *ctx, struct pd_grant_map __user *uarg)
{
	struct pd_grant_map m;
	struct pdg_region *r;
	u32 *out, *refs = NULL, id;
	void **pages = NULL;
	unsigned long seq;
	int ret, tries;

	if (copy_from_user(&m, uarg, sizeof(m)))
		return -EFAULT;
	if (!m.npages || m.npages > PD_GRANT_MAX_PAGES ||
	    (m.addr & ~PAGE_MASK) || (m.flags & ~PD_GRANT_READONLY) ||
	    !m.domid || m.domid >= DOMID_FIRST_RESERVED ||
	    m.addr + ((u64)m.npages << PAGE_SHIFT) < m.addr ||
	    m.addr + ((u64)m.npages << PAGE_SHIFT) > TASK_SIZE)
		return -EINVAL;

	mutex_lock(&ctx->lock);
	if (!ctx->mm) {
		mmgrab(current->mm);
		ctx->mm = current->mm;
	}
	mutex_unlock(&ctx->lock);
	if (ctx->mm != current->mm)
		return -EPERM;

	r = kzalloc(sizeof(*r), GFP_KERNEL);
	out = kvcalloc(m.npages, sizeof(*out), GFP_KERNEL);
	refs = kvcalloc(m.npages, sizeof(*refs), GFP_KERNEL);
	pages = kvcalloc(m.npages, sizeof(*pages), GFP_KERNEL);
	if (!r || !out || !refs || !pages) {
		kvfree(refs);
		kvfree(pages);
		ret = -ENOMEM;
		goto fail_free;
	}
	pdg_slots_init(&r->slots, m.npages, refs, pages);
	r->ctx = ctx;
	r->domid = m.domid;
	r->readonly = m.flags & PD_GRANT_READONLY;
	r->addr = m.addr;
	mutex_init(&r->lock);

	ret = mmu_interval_notifier_insert(&r->mn, ctx->mm, r->addr,
					   (unsigned long)m.npages << PAGE_SHIFT,
					   &pdg_mn_ops);
	if (ret)
		goto fail_free;

	/* A zap between resolving and publishing: grant again. */
	for (tries = 0;; tries++) {
		seq = mmu_interval_read_begin(&r->mn);
		ret = pdg_grant_all(r, out);
		if (ret)
			goto fail_notifier;
		mutex_lock(&r->lock);
		if (!mmu_interval_read_retry(&r->mn, seq))
			break;
		/* every slot free before granting again: none overwritten */
		pdg_revoke(r);
		mutex_unlock(&r->lock);
		if (tries == 4) {
			ret = -EAGAIN;
			goto fail_notifier;
		}
	}
	r->published = true;
	mutex_unlock(&r->lock);

	mutex_lock(&ctx->lock);
	ret = xa_alloc_cyclic(&ctx->regions, &id, r, xa_limit_32b,
			      &ctx->next_id, GFP_KERNEL);
	mutex_unlock(&ctx->lock);
	if (ret < 0)
		goto fail_published;
	r->id = id;
	m.id = id;
	if (copy_to_user(u64_to_user_ptr(m.refs), out,
			 (size_t)m.npages * sizeof(*out)) ||
	    copy_to_user(uarg, &m, sizeof(m))) {
		mutex_lock(&ctx->lock);
		xa_erase(&ctx->regions, id);
		mutex_unlock(&ctx->lock);
		ret = -EFAULT;
		goto fail_published;
	}
	kvfree(out);
	return 0;

fail_published:
	/* the references never reached anyone: they end at once (one a
	 * guest guessed and mapped is revoked) */
	mutex_lock(&r->lock);
	pdg_revoke(r);
	mutex_unlock(&r->lock);
fail_notifier:
	mmu_interval_notifier_remove(&r->mn);
fail_free:
	kvfree(out);
	if (r)
		pdg_region_free(r);
	return ret;
}

static long pdg_unmap(struct pdg_ctx *ctx, u32 __user *uarg)
{
	struct pdg_region *r;
	u32 id, left;

	if (get_user(id, uarg))
		return -EFAULT;
	mutex_lock(&ctx->lock);
	r = xa_load(&ctx->regions, id);
	mutex_unlock(&ctx->lock);
	if (!r)
		return -ENOENT;
	mutex_lock(&r->lock);
	left = pdg_try_end(r);
	mutex_unlock(&r->lock);
	if (left)
		return -EBUSY;
	mutex_lock(&ctx->lock);
	if (xa_load(&ctx->regions, id) != r) {
		mutex_unlock(&ctx->lock);
		return -ENOENT;		/* a concurrent UNMAP won */
	}
	xa_erase(&ctx->regions, id);
	mutex_unlock(&ctx->lock);
	mmu_interval_notifier_remove(&r->mn);
	pdg_region_free(r);
	return 0;
}

static long pdg_stats(struct pdg_ctx *ctx, struct pd_grant_stats __user *uarg)
{
	struct pd_grant_stats s = { 0 };
	struct pdg_region *r;
	unsigned long id;

	mutex_lock(&ctx->lock);
	xa_for_each(&ctx->regions, id, r)
		s.regions++;
	s.grants = ctx->grants;
	mutex_unlock(&ctx->lock);
	s.all_grants = atomic_read(&pdg_all_grants);
	return copy_to_user(uarg, &s, sizeof(s)) ? -EFAULT : 0;
}

static long pdg_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct pdg_ctx *ctx = file->private_data;
	void __user *p = (void __user *)arg;

	switch (cmd) {
	case PD_GRANT_IOC_MAP:
		return pdg_map(ctx, p);
	case PD_GRANT_IOC_UNMAP:
		return pdg_unmap(ctx, p);
	case PD_GRANT_IOC_STATS:
		return pdg_stats(ctx, p);
	default:
		return -ENOTTY;
	}
}

/* ------------------------------------------------------------------ */
/* The descriptor                                                       */

/* Revoked region ids, as __u32s; -EOVERFLOW once if some were lost (the
 * backend must then treat every region as revoked). */
static ssize_t pdg_read(struct file *file, char __user *buf, size_t count,
			loff_t *ppos)
{
	struct pdg_ctx *ctx = file->private_data;
	u32 ids[64];
	unsigned int n;
	int ret;

	if (count < sizeof(u32))
		return -EINVAL;
	for (;;) {
		spin_lock(&ctx->qlock);
		if (ctx->overflow) {
			ctx->overflow = false;
			spin_unlock(&ctx->qlock);
			return -EOVERFLOW;
		}
		n = kfifo_out(&ctx->revoked, ids,
			      min_t(size_t, count / sizeof(u32),
				    ARRAY_SIZE(ids)));
		spin_unlock(&ctx->qlock);
		if (n)
			break;
		if (file->f_flags & O_NONBLOCK)
			return -EAGAIN;
		ret = wait_event_interruptible(ctx->wq,
					       !kfifo_is_empty(&ctx->revoked) ||
					       READ_ONCE(ctx->overflow));
		if (ret)
			return ret;
	}
	return copy_to_user(buf, ids, n * sizeof(u32)) ? -EFAULT :
							  n * sizeof(u32);
}

static __poll_t pdg_poll(struct file *file, struct poll_table_struct *wait)
{
	struct pdg_ctx *ctx = file->private_data;
	__poll_t mask = 0;

	poll_wait(file, &ctx->wq, wait);
	spin_lock(&ctx->qlock);
	if (!kfifo_is_empty(&ctx->revoked) || ctx->overflow)
		mask = EPOLLIN | EPOLLRDNORM;
	spin_unlock(&ctx->qlock);
	return mask;
}

static int pdg_open(struct inode *inode, struct file *file)
{
	struct pdg_ctx *ctx;

	if (!xen_initial_domain())
		return -ENODEV;
	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL);
	if (!ctx)
		return -ENOMEM;
	mutex_init(&ctx->lock);
	xa_init_flags(&ctx->regions, XA_FLAGS_ALLOC1);
	spin_lock_init(&ctx->qlock);
	INIT_KFIFO(ctx->revoked);
	init_waitqueue_head(&ctx->wq);
	file->private_data = ctx;
	return 0;
}

/*
 * Everything the descriptor still has ends; a grant a guest still maps is
 * waited for (its frontend is told to close at once) for PDG_GRACE_MS in
 * all, then revoked: its page stays held until the guest lets go, never
 * reused, and the backend's exit does not wait for the guest.
 */
static int pdg_release(struct inode *inode, struct file *file)
{
	struct pdg_ctx *ctx = file->private_data;
	unsigned long id, deadline = pdg_gone_deadline(ctx);
	struct pdg_region *r;
	bool poked = false;

	xa_for_each(&ctx->regions, id, r) {
		xa_erase(&ctx->regions, id);
		mmu_interval_notifier_remove(&r->mn);
		mutex_lock(&r->lock);
		if (r->slots.live)
			pdg_wait_unmapped(r, jiffies, deadline, &poked);
		mutex_unlock(&r->lock);
		pdg_region_free(r);
	}
	xa_destroy(&ctx->regions);
	if (ctx->mm)
		mmdrop(ctx->mm);
	kfree(ctx);
	return 0;
}

static const struct file_operations pdg_fops = {
	.owner = THIS_MODULE,
	.open = pdg_open,
	.release = pdg_release,
	.read = pdg_read,
	.poll = pdg_poll,
	.unlocked_ioctl = pdg_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice pdg_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "paradice-grant",
	.fops = &pdg_fops,
	.mode = 0600,
};

/* /sys/module/pdgrant/parameters/grants: grants alive, for tests. */
static int pdg_grants_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%d\n", atomic_read(&pdg_all_grants));
}

static const struct kernel_param_ops pdg_grants_ops = {
	.get = pdg_grants_get,
};
module_param_cb(grants, &pdg_grants_ops, NULL, 0444);
MODULE_PARM_DESC(grants, "grants to guests alive now");

static int __init pdg_init(void)
{
	if (!xen_initial_domain())
		return -ENODEV;
	pdg_default_cap = gnttab_max_grant_frames() *
		(XEN_PAGE_SIZE / sizeof(struct grant_entry_v1)) / 2;
	return misc_register(&pdg_misc);
}

/* Grants still deferred go to Linux's own deferred end, which keeps
 * their pages the same way. */
static void __exit pdg_exit(void)
{
	struct pdg_deferred *d, *tmp;

	misc_deregister(&pdg_misc);
	cancel_delayed_work_sync(&pdg_deferred_work);
	list_for_each_entry_safe(d, tmp, &pdg_deferred_list, node) {
		list_del(&d->node);
		gnttab_end_foreign_access(d->ref, d->page);
		kfree(d);
	}
}

module_init(pdg_init);
module_exit(pdg_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Paradice: grant the frames behind a backend's mapping to a guest");
