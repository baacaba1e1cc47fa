// SPDX-License-Identifier: GPL-2.0-only
/*
 * The data area of the Xen transport (front_xen.h): PDX_DATA_PAGES pages
 * the guest grants the backend once per connection (persistent grants),
 * mapped here as one virtual range, and the directory through which the
 * backend learns their grant references (pd_wire.h, "data-dir-ref"): a
 * chain of granted pages of u32 references, PDX_DIR_REFS data references
 * then the reference of the next directory page, 0 ending the chain.
 *
 * Linux's xen-front-pgdir-shbuf helper builds a directory too, but with
 * the chain reference first (displif.h's layout), not last as the wire ABI
 * has it, and it ends the grants of the pages without freeing them, so a
 * page the backend still maps could not be given back safely: this file
 * keeps its own.
 */
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "front_xen.h"

static int pdx_grant_page(struct xenbus_device *dev, struct page *page,
			  grant_ref_t *ref)
{
	int r = gnttab_grant_foreign_access(dev->otherend_id,
					    xen_page_to_gfn(page), 0);

	if (r < 0)
		return r;
	*ref = r;
	return 0;
}

/*
 * Allocate and grant the data area and its directory, on sb (zeroed by
 * the caller). On failure, pdx_shbuf_finish() frees what was made.
 */
int pdx_shbuf_init(struct pdx_shbuf *sb, struct xenbus_device *dev)
{
	unsigned int i;
	int ret;

	sb->pages = kvcalloc(PDX_DATA_PAGES, sizeof(*sb->pages), GFP_KERNEL);
	sb->refs = kvcalloc(PDX_DATA_PAGES, sizeof(*sb->refs), GFP_KERNEL);
	if (!sb->pages || !sb->refs)
		return -ENOMEM;
	for (i = 0; i < PDX_DATA_PAGES; i++)
		sb->refs[i] = INVALID_GRANT_REF;
	for (i = 0; i < PDX_DIR_PAGES; i++)
		sb->dir_refs[i] = INVALID_GRANT_REF;
	for (i = 0; i < PDX_DATA_PAGES; i++) {
		sb->pages[i] = alloc_page(GFP_KERNEL | __GFP_ZERO);
		if (!sb->pages[i])
			return -ENOMEM;
		ret = pdx_grant_page(dev, sb->pages[i], &sb->refs[i]);
		if (ret)
			return ret;
	}
	sb->data = vmap(sb->pages, PDX_DATA_PAGES, VM_MAP, PAGE_KERNEL);
	if (!sb->data)
		return -ENOMEM;
	for (i = 0; i < PDX_DIR_PAGES; i++) {
		sb->dir[i] = alloc_page(GFP_KERNEL | __GFP_ZERO);
		if (!sb->dir[i])
			return -ENOMEM;
		ret = pdx_grant_page(dev, sb->dir[i], &sb->dir_refs[i]);
		if (ret)
			return ret;
	}
	/* fill the directory: PDX_DIR_REFS refs, then the next page's ref */
	for (i = 0; i < PDX_DIR_PAGES; i++) {
		u32 *d = page_address(sb->dir[i]);
		unsigned int j;

		for (j = 0; j < PDX_DIR_REFS; j++) {
			unsigned int k = i * PDX_DIR_REFS + j;

			d[j] = k < PDX_DATA_PAGES ? sb->refs[k] : 0;
		}
		d[PDX_DIR_REFS] = i + 1 < PDX_DIR_PAGES ? sb->dir_refs[i + 1] : 0;
	}
	return 0;
}

/*
 * Withdraw the data area. A page still mapped by the backend is freed once
 * it lets go: gnttab_end_foreign_access() defers both. The backend unmaps
 * when it sees Closing, or its process ends. Nothing may touch the area
 * any more (the rings' work items are stopped).
 */
void pdx_shbuf_finish(struct pdx_shbuf *sb)
{
	unsigned int i;

	if (sb->data)
		vunmap(sb->data);
	sb->data = NULL;
	for (i = 0; sb->pages && i < PDX_DATA_PAGES; i++) {
		if (!sb->pages[i])
			continue;
		if (sb->refs[i] != INVALID_GRANT_REF)
			gnttab_end_foreign_access(sb->refs[i], sb->pages[i]);
		else
			__free_page(sb->pages[i]);
	}
	for (i = 0; i < PDX_DIR_PAGES; i++) {
		if (!sb->dir[i])
			continue;
		if (sb->dir_refs[i] != INVALID_GRANT_REF)
			gnttab_end_foreign_access(sb->dir_refs[i], sb->dir[i]);
		else
			__free_page(sb->dir[i]);
		sb->dir[i] = NULL;
	}
	kvfree(sb->pages);
	kvfree(sb->refs);
	sb->pages = NULL;
	sb->refs = NULL;
}
