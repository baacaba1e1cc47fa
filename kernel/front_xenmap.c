// SPDX-License-Identifier: GPL-2.0-only
/*
 * mmap of a forwarded file whose real file lives in another domain, zero
 * copy: the backend grants this guest the very frames its own mapping of
 * the real file has (pd_wire.h, "mmap across domains"; the driver domain's
 * side is kernel/dom0/pd_grant.c), and we map those grants straight into
 * the program's page tables.
 *
 * Two ways, chosen at run time by the guest's kind (one module serves
 * both):
 *
 * PV guests (paging not auto-translated). A PV guest cannot put another
 * domain's frame into a page table entry itself (Xen refuses the update),
 * so Xen writes the entry: GNTTABOP_map_grant_ref with GNTMAP_contains_pte
 * and the machine address of the entry, which also works for device
 * memory (a VRAM BAR) that the driver domain may access. Such an entry
 * must be taken down with the matching unmap before the kernel clears it
 * (Xen kills a PV guest that clears a granted entry itself), so an MMU
 * interval notifier unmaps the grants of a range before any zap of it;
 * the entries are marked special (_GNTMAP_guest_avail0 is _PAGE_SPECIAL).
 *
 * PVH and HVM guests (XENFEAT_auto_translated_physmap): Xen maps a grant
 * into the guest's physical address space, not into a page table. Each
 * mapping gets pages of its own from the unpopulated-memory allocator
 * (gnttab_alloc_pages(): guest-physical addresses with struct pages but
 * no RAM behind them), Xen puts the granted frame behind each page
 * (GNTTABOP_map_grant_ref with GNTMAP_host_map and the page's address, as
 * drivers/xen/gntdev.c does for these guests), and the fault handler
 * enters the pages' frame numbers into the program's page tables. Here
 * the kernel may clear those entries as it likes, so the grants stay
 * mapped across zaps (munmap, exit, mprotect need nothing from us), and
 * the order reverses where the backend takes pages back: first the
 * program's entries are zapped, then the grants unmapped, and the pages
 * go back to the allocator only once no grant is mapped into them.
 *
 * Either way the VMA is VM_PFNMAP and its entries special (pte_special),
 * so no core code takes a reference on a page behind them: nothing
 * (get_user_pages, a pipe) can hold a granted frame after its entry is
 * gone, so an unmap of the grants never waits for the program.
 *
 * Life of a mapping: mmap sends PD_OP_MMAP, then PD_OP_FAULT for the grant
 * references, and maps every page. PV: a zap (munmap, exit, mprotect)
 * unmaps the pages it covers; touching them again faults and we map them
 * again with the same references. PVH/HVM: the first touch faults and we
 * enter every page. PD_EV_UNMAP (the real driver moves the pages) unmaps
 * all of them (PVH/HVM: after zapping the program's entries) and forgets
 * the references: the next fault asks the backend again and gets the
 * frames where they are now. The connection's end unmaps everything and
 * later faults get SIGBUS. The VMA's close sends PD_OP_MUNMAP. VMAs are
 * never split, moved or copied to a child.
 */
#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>

#include <asm/xen/hypercall.h>
#include <asm/xen/page.h>
#include <xen/features.h>
#include <xen/grant_table.h>

#include "front.h"

struct pd_xmap {
	struct mmu_interval_notifier mn;
	struct kref ref;
	struct pd_conn *conn;		/* reference */
	u32 handle;
	u16 domid;			/* the backend's domain */
	bool writable;
	u64 map_id;			/* the backend's name */
	unsigned long start;
	u32 npages;
	/*
	 * Auto-translated guest (PVH/HVM): pages[] are ours to map grants
	 * into, and mm (grabbed) is where the VMA lives, for zapping it when
	 * the backend takes the pages back. NULL in a PV guest.
	 */
	struct page **pages;
	struct mm_struct *mm;

	struct mutex lock;		/* everything below */
	bool have_refs;			/* refs[] are current */
	bool dead;			/* connection gone or VMA closing */
	u32 mapped;			/* pages with a handle */
	u32 *refs;
	u64 *pte_maddr;			/* PV: machine address of each entry */
	grant_handle_t *handles;	/* INVALID_GRANT_HANDLE: not mapped */
};

static bool pd_xmap_xlat(const struct pd_xmap *m)
{
	return m->pages;
}

static void pd_xmap_free(struct kref *ref)
{
	struct pd_xmap *m = container_of(ref, struct pd_xmap, ref);

	pd_conn_put(m->conn);
	if (m->pages) {
		/* no grant may stay mapped into a page given back */
		if (!WARN_ON(m->mapped))
			gnttab_free_pages(m->npages, m->pages);
		kvfree(m->pages);
	}
	if (m->mm)
		mmdrop(m->mm);
	kvfree(m->refs);
	kvfree(m->pte_maddr);
	kvfree(m->handles);
	kfree(m);
}

static void pd_xmap_put(struct pd_xmap *m)
{
	kref_put(&m->ref, pd_xmap_free);
}

/*
 * PV: Xen writes the page table entry at a machine address, marked
 * special. PVH/HVM: Xen maps the frame at a guest-physical address; it
 * accepts nothing but GNTMAP_host_map (and readonly) there.
 */
static u32 pd_xmap_flags(const struct pd_xmap *m)
{
	u32 flags = GNTMAP_host_map;

	if (!pd_xmap_xlat(m))
		flags |= GNTMAP_application_map | GNTMAP_contains_pte |
			 (1u << _GNTMAP_guest_avail0);
	return m->writable ? flags : flags | GNTMAP_readonly;
}

/* Where page i's grant goes: the entry's machine address (PV), or the
 * kernel address of our page, which gnttab_set_map_op() turns into its
 * guest-physical address (PVH/HVM).
 */
static phys_addr_t pd_xmap_host_addr(const struct pd_xmap *m, u32 i)
{
	if (pd_xmap_xlat(m))
		return (phys_addr_t)(unsigned long)
			pfn_to_kaddr(page_to_pfn(m->pages[i]));
	return m->pte_maddr[i];
}

/*
 * Unmap pages [first, first + n) that are mapped. m->lock held. PVH/HVM:
 * the program's entries for them must be gone already (see
 * pd_xmap_take_back()).
 */
static void pd_xmap_unmap(struct pd_xmap *m, u32 first, u32 n)
{
	struct gnttab_unmap_grant_ref op[16];
	struct page *pg[16];
	u32 idx[16], i, k = 0, end = first + n;

	for (i = first; i <= end; i++) {
		if (i < end && m->handles[i] != INVALID_GRANT_HANDLE) {
			gnttab_set_unmap_op(&op[k], pd_xmap_host_addr(m, i),
					    pd_xmap_flags(m), m->handles[i]);
			pg[k] = m->pages ? m->pages[i] : NULL;
			idx[k++] = i;
		}
		if (k && (k == ARRAY_SIZE(op) || i == end)) {
			u32 j;
			int err;

			/* PVH/HVM: also clears the pages' foreign marks */
			if (pd_xmap_xlat(m))
				err = gnttab_unmap_refs(op, NULL, pg, k);
			else
				err = HYPERVISOR_grant_table_op(
					GNTTABOP_unmap_grant_ref, op, k);
			if (err)
				BUG();	/* the hypercall itself failed */
			for (j = 0; j < k; j++) {
				if (op[j].status != GNTST_okay)
					pr_warn_ratelimited("paradice: unmap of page %u of map %llu: %d\n",
							    idx[j], m->map_id,
							    op[j].status);
				m->handles[idx[j]] = INVALID_GRANT_HANDLE;
				m->mapped--;
			}
			k = 0;
		}
	}
}

static int pd_xmap_pte(pte_t *pte, unsigned long addr, void *data)
{
	struct pd_xmap *m = data;

	m->pte_maddr[(addr - m->start) >> PAGE_SHIFT] =
		arbitrary_virt_to_machine(pte).maddr;
	return 0;
}

/* Ask the backend for every page's grant reference. m->lock held. */
static int pd_xmap_fetch_refs(struct pd_xmap *m)
{
	u32 first, n, i;

	for (first = 0; first < m->npages; first += n) {
		const struct pd_wire_fault_page *pg;
		struct pd_wire_fault_req *body;
		struct pd_req *req;
		int ret;

		n = min(m->npages - first, PD_WIRE_MAX_FAULT_PAGES);
		req = pd_req_alloc(PD_OP_FAULT, m->handle, sizeof(*body));
		if (!req)
			return -ENOMEM;
		body = pd_req_body(req);
		body->map_id = m->map_id;
		body->pgoff = first;
		body->npages = n;
		body->write = m->writable;
		ret = pd_req_run(m->conn, req, PD_WAIT_UNINTR);
		if (!ret && req->result < 0)
			ret = (int)pd_errno(req->result);
		else if (!ret && req->rsp_len != n * sizeof(*pg))
			ret = -EIO;
		if (ret) {
			pd_req_put(req);
			return ret;
		}
		pg = pd_rsp_body(req);
		for (i = 0; i < n; i++)
			m->refs[first + i] = pg[i].ref;
		pd_req_put(req);
	}
	m->have_refs = true;
	return 0;
}

/*
 * Map every page not mapped yet, fetching references first if we have
 * none. Called with the mm's mmap lock held and m->lock. PV: this fills
 * the program's page table entries; PVH/HVM: our pages, which the fault
 * handler then enters (pd_xmap_insert()).
 */
static int pd_xmap_fill(struct pd_xmap *m, struct mm_struct *mm)
{
	struct gnttab_map_grant_ref op[16];
	struct page *pg[16];
	u32 idx[16], i, k = 0;
	int ret = 0;

	if (m->dead)
		return -EIO;
	if (!m->have_refs) {
		ret = pd_xmap_fetch_refs(m);
		if (ret)
			return ret;
	}
	/* page tables may have been freed and made anew since the last time */
	if (!pd_xmap_xlat(m))
		ret = apply_to_page_range(mm, m->start,
					  (unsigned long)m->npages << PAGE_SHIFT,
					  pd_xmap_pte, m);
	if (ret)
		return ret;
	for (i = 0; i <= m->npages; i++) {
		if (i < m->npages && m->handles[i] == INVALID_GRANT_HANDLE) {
			gnttab_set_map_op(&op[k], pd_xmap_host_addr(m, i),
					  pd_xmap_flags(m), m->refs[i],
					  m->domid);
			pg[k] = m->pages ? m->pages[i] : NULL;
			idx[k++] = i;
		}
		if (k && (k == ARRAY_SIZE(op) || i == m->npages)) {
			u32 j;

			if (!pd_xmap_xlat(m)) {
				gnttab_batch_map(op, k);
			} else if (gnttab_map_refs(op, NULL, pg, k)) {
				/* the hypercall itself failed: nothing mapped */
				for (j = 0; j < k; j++)
					op[j].status = GNTST_general_error;
			}
			for (j = 0; j < k; j++) {
				if (op[j].status != GNTST_okay) {
					if (!ret)
						pr_warn_ratelimited("paradice: grant %u (page %u of map %llu): status %d\n",
								    m->refs[idx[j]], idx[j],
								    m->map_id, op[j].status);
					ret = -EFAULT;
					continue;
				}
				m->handles[idx[j]] = op[j].handle;
				m->mapped++;
			}
			k = 0;
		}
	}
	return ret;
}

/* ------------------------------------------------------------------ */
/* The VMA                                                              */

static bool pd_xmap_invalidate(struct mmu_interval_notifier *mn,
			       const struct mmu_notifier_range *range,
			       unsigned long cur_seq)
{
	struct pd_xmap *m = container_of(mn, struct pd_xmap, mn);
	unsigned long s, e, end = m->start + ((unsigned long)m->npages << PAGE_SHIFT);

	if (!mmu_notifier_range_blockable(range))
		return false;
	s = max(range->start, m->start);
	e = min(range->end, end);
	if (s >= e)
		return true;
	mutex_lock(&m->lock);
	mmu_interval_set_seq(mn, cur_seq);
	pd_xmap_unmap(m, (s - m->start) >> PAGE_SHIFT, (e - s) >> PAGE_SHIFT);
	mutex_unlock(&m->lock);
	return true;
}

static const struct mmu_interval_notifier_ops pd_xmap_mn_ops = {
	.invalidate = pd_xmap_invalidate,
};

/*
 * pd_xmap_fill(), and once more with fresh references if a grant would not
 * map: the backend may have taken the pages back between its FAULT reply
 * and our map, with its PD_EV_UNMAP still on the way.
 */
static int pd_xmap_fill_retry(struct pd_xmap *m, struct mm_struct *mm)
{
	int ret = pd_xmap_fill(m, mm);

	if (ret == -EFAULT) {
		m->have_refs = false;
		ret = pd_xmap_fill(m, mm);
	}
	return ret;
}

/*
 * PVH/HVM: enter every page into the program's page tables, as special
 * entries (VM_PFNMAP). Entries already there stay. m->lock held, so that
 * pd_xmap_take_back() cannot zap and unmap in between.
 */
static vm_fault_t pd_xmap_insert(struct pd_xmap *m, struct vm_area_struct *vma)
{
	vm_fault_t r = VM_FAULT_NOPAGE;
	u32 i;

	for (i = 0; i < m->npages && r == VM_FAULT_NOPAGE; i++)
		r = vmf_insert_pfn(vma, m->start + ((unsigned long)i << PAGE_SHIFT),
				   page_to_pfn(m->pages[i]));
	return r;
}

static vm_fault_t pd_xmap_fault(struct vm_fault *vmf)
{
	struct pd_xmap *m = vmf->vma->vm_private_data;
	vm_fault_t r = VM_FAULT_NOPAGE;
	int ret;

	if ((vmf->flags & FAULT_FLAG_WRITE) && !m->writable)
		return VM_FAULT_SIGBUS;
	mutex_lock(&m->lock);
	ret = pd_xmap_fill_retry(m, vmf->vma->vm_mm);
	if (!ret && pd_xmap_xlat(m))
		r = pd_xmap_insert(m, vmf->vma);
	mutex_unlock(&m->lock);
	if (ret && ret != -EFAULT)	/* the backend's refusal, e.g. a limit */
		pr_warn_ratelimited("paradice: fault in map %llu refused by the backend: %d\n",
				    m->map_id, ret);
	if (ret == -ENOMEM)
		return VM_FAULT_OOM;
	return ret ? VM_FAULT_SIGBUS : r;
}

static void pd_xmap_send_munmap(struct pd_xmap *m)
{
	struct pd_wire_munmap_req *body;
	struct pd_req *req;

	req = pd_req_alloc(PD_OP_MUNMAP, m->handle, sizeof(*body));
	if (!req)
		return;
	body = pd_req_body(req);
	body->map_id = m->map_id;
	/* also from a killed program's exit: nobody waits */
	pd_req_send_orphan(m->conn, req);
}

/*
 * The VMA goes, its entries zapped before: PV, the notifier unmapped the
 * grants then; PVH/HVM, they are unmapped now, before pd_xmap_free()
 * gives the pages back.
 */
static void pd_xmap_close(struct vm_area_struct *vma)
{
	struct pd_xmap *m = vma->vm_private_data;

	if (!pd_xmap_xlat(m))
		mmu_interval_notifier_remove(&m->mn);
	xa_erase(&m->conn->maps, m->map_id);
	mutex_lock(&m->lock);
	if (pd_xmap_xlat(m) || WARN_ON(m->mapped))
		pd_xmap_unmap(m, 0, m->npages);
	m->dead = true;
	mutex_unlock(&m->lock);
	pd_xmap_send_munmap(m);
	vma->vm_private_data = NULL;
	pd_xmap_put(m);
}

static int pd_xmap_may_split(struct vm_area_struct *vma, unsigned long addr)
{
	return -EINVAL;
}

static int pd_xmap_mremap(struct vm_area_struct *vma)
{
	return -EINVAL;
}

static const struct vm_operations_struct pd_xmap_vm_ops = {
	.close = pd_xmap_close,
	.may_split = pd_xmap_may_split,
	.mremap = pd_xmap_mremap,
	.fault = pd_xmap_fault,
};

/* PD_OP_MMAP: the backend maps the real file; its map_id or an error. */
static int pd_xmap_backend_mmap(struct pd_file *pf, struct vm_area_struct *vma,
				u32 npages, bool writable, u64 *map_id)
{
	struct pd_wire_mmap_req *body;
	struct pd_wire_mmap_rsp rsp;
	struct pd_req *req;
	int ret;

	req = pd_req_alloc(PD_OP_MMAP, pf->handle, sizeof(*body));
	if (!req)
		return -ENOMEM;
	body = pd_req_body(req);
	body->pgoff = vma->vm_pgoff;
	body->npages = npages;
	body->prot = PD_WIRE_PROT_READ | (writable ? PD_WIRE_PROT_WRITE : 0);
	body->flags = PD_WIRE_MAP_SHARED;
	ret = pd_req_run(pf->conn, req, PD_WAIT_INTR);
	if (!ret && req->result < 0)
		ret = (int)pd_errno(req->result);
	else if (!ret && req->rsp_len != sizeof(rsp))
		ret = -EIO;
	if (!ret) {
		memcpy(&rsp, pd_rsp_body(req), sizeof(rsp));
		if (rsp.npages != npages || !rsp.map_id)
			ret = -EIO;
		*map_id = rsp.map_id;
	}
	pd_req_put(req);
	return ret;
}

/* Called with the mmap lock held for writing (f_op->mmap). */
int pd_xmap_mmap(struct pd_file *pf, struct vm_area_struct *vma, u16 domid)
{
	unsigned long len = vma->vm_end - vma->vm_start;
	bool writable = vma->vm_flags & VM_WRITE;
	struct pd_xmap *m;
	u64 map_id;
	u32 i;
	int ret;

	if (!(pf->conn->features & PD_WIRE_FEAT_MMAP))
		return -ENODEV;
	if (len >> PAGE_SHIFT > PD_WIRE_MAX_MAP_PAGES)
		return -ENOMEM;
	/* private writable mappings would need copy-on-write of foreign
	 * frames: refused, as gntdev does */
	if (!(vma->vm_flags & VM_SHARED)) {
		if (writable)
			return -EINVAL;
		vma->vm_flags &= ~VM_MAYWRITE;
	}
	if (!writable)
		vma->vm_flags &= ~VM_MAYWRITE;	/* grants are read-only */

	m = kzalloc(sizeof(*m), GFP_KERNEL);
	if (!m)
		return -ENOMEM;
	kref_init(&m->ref);
	mutex_init(&m->lock);
	pd_conn_get(pf->conn);
	m->conn = pf->conn;
	m->npages = len >> PAGE_SHIFT;
	m->refs = kvcalloc(m->npages, sizeof(*m->refs), GFP_KERNEL);
	m->handles = kvcalloc(m->npages, sizeof(*m->handles), GFP_KERNEL);
	if (!m->refs || !m->handles) {
		ret = -ENOMEM;
		goto fail_free;
	}
	if (xen_feature(XENFEAT_auto_translated_physmap)) {
		/* PVH/HVM: pages to map the grants into (top of the file) */
		struct page **pages = kvcalloc(m->npages, sizeof(*pages),
					       GFP_KERNEL);

		if (!pages || gnttab_alloc_pages(m->npages, pages)) {
			kvfree(pages);
			ret = -ENOMEM;
			goto fail_free;
		}
		m->pages = pages;
		mmgrab(vma->vm_mm);
		m->mm = vma->vm_mm;
	} else {
		m->pte_maddr = kvcalloc(m->npages, sizeof(*m->pte_maddr),
					GFP_KERNEL);
		if (!m->pte_maddr) {
			ret = -ENOMEM;
			goto fail_free;
		}
	}
	for (i = 0; i < m->npages; i++)
		m->handles[i] = INVALID_GRANT_HANDLE;
	m->handle = pf->handle;
	m->domid = domid;
	m->writable = writable;
	m->start = vma->vm_start;

	ret = pd_xmap_backend_mmap(pf, vma, m->npages, writable, &map_id);
	if (ret)
		goto fail_free;
	m->map_id = map_id;
	ret = xa_insert(&pf->conn->maps, map_id, m, GFP_KERNEL);
	if (ret) {
		ret = ret == -EBUSY ? -EIO : ret;	/* a reused map_id */
		goto fail_backend;
	}

	vma->vm_flags |= VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP |
			 VM_DONTCOPY;
	vma->vm_ops = &pd_xmap_vm_ops;
	vma->vm_private_data = m;
	/* PVH/HVM: entries may be zapped without us, no notifier needed */
	if (!pd_xmap_xlat(m)) {
		ret = mmu_interval_notifier_insert_locked(&m->mn, vma->vm_mm,
							  vma->vm_start, len,
							  &pd_xmap_mn_ops);
		if (ret)
			goto fail_map;
	}
	/* PVH/HVM: the grants are mapped now, the entries at the first fault */
	mutex_lock(&m->lock);
	ret = pd_xmap_fill_retry(m, vma->vm_mm);
	if (ret)
		pd_xmap_unmap(m, 0, m->npages);
	mutex_unlock(&m->lock);
	if (ret && ret != -EFAULT)	/* as at a fault: e.g. a limit */
		pr_warn_ratelimited("paradice: mmap of map %llu refused by the backend: %d\n",
				    map_id, ret);
	if (ret)
		goto fail_notifier;
	return 0;

fail_notifier:
	if (!pd_xmap_xlat(m))
		mmu_interval_notifier_remove(&m->mn);
fail_map:
	vma->vm_ops = NULL;
	vma->vm_private_data = NULL;
	xa_erase(&pf->conn->maps, map_id);
fail_backend:
	pd_xmap_send_munmap(m);
fail_free:
	pd_xmap_put(m);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Taking pages back                                                    */

static struct pd_xmap *pd_xmap_get(struct pd_conn *conn, u64 map_id)
{
	struct pd_xmap *m;

	xa_lock(&conn->maps);
	m = xa_load(&conn->maps, map_id);
	if (m)
		kref_get(&m->ref);
	xa_unlock(&conn->maps);
	return m;
}

/*
 * Unmap every grant of m and forget the references (dead: for good). PV:
 * Xen clears the program's entries with the grants. PVH/HVM: the entries
 * point at our pages, so they are zapped first, under the mmap lock (to
 * find the VMA) and m->lock (so that no fault enters them again before the
 * grants are gone). A program whose mm is exiting (no users left) runs no
 * more: its entries go with the mm, the grants go now.
 */
static void pd_xmap_take_back(struct pd_xmap *m, bool dead)
{
	struct vm_area_struct *vma;
	bool live = pd_xmap_xlat(m) && mmget_not_zero(m->mm);

	if (live)
		mmap_read_lock(m->mm);
	mutex_lock(&m->lock);
	if (live) {
		vma = vma_lookup(m->mm, m->start);
		if (vma && vma->vm_private_data == m)
			zap_vma_ptes(vma, m->start,
				     (unsigned long)m->npages << PAGE_SHIFT);
	}
	pd_xmap_unmap(m, 0, m->npages);
	m->have_refs = false;
	if (dead)
		m->dead = true;
	mutex_unlock(&m->lock);
	if (live) {
		mmap_read_unlock(m->mm);
		/* the last user's teardown is not for the event work */
		mmput_async(m->mm);
	}
}

/* PD_EV_UNMAP: the backend takes the pages back. From the event work. */
void pd_xmap_revoke(struct pd_conn *conn, u64 map_id)
{
	struct pd_xmap *m = pd_xmap_get(conn, map_id);

	if (!m)
		return;		/* already closed: MUNMAP is on its way */
	pd_xmap_take_back(m, false);
	pd_xmap_put(m);
}

/* The connection is closing: every grant of it is unmapped now. */
void pd_xmap_conn_closed(struct pd_conn *conn)
{
	struct pd_xmap *m;
	unsigned long id;

	xa_for_each(&conn->maps, id, m) {
		m = pd_xmap_get(conn, id);
		if (!m)
			continue;
		pd_xmap_take_back(m, true);
		pd_xmap_put(m);
	}
}
