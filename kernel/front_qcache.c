// SPDX-License-Identifier: GPL-2.0-only
/*
 * Answers without a trip: the replies to queries whose answer cannot
 * change while a device is exported, kept per export (per device node:
 * a card and its render node answer some queries differently). Mesa's
 * loader and libdrm ask them again and again (drmGetVersion at every
 * open and device enumeration, GET_CAP, virtio-gpu's GETPARAM and
 * GET_CAPS per screen), each a whole round trip to the backend.
 *
 * What is kept is the reply exactly as the backend sent it, under the
 * exact bytes of the request (command, argument with the program's
 * pointers cleared, the length and direction of every buffer): a call
 * with the same request would get the same reply. A hit goes through the
 * same completion as a reply that travelled (pd_ioc_complete), so the
 * program sees the same bytes, the same copies into its buffers and the
 * same lengths, also for buffers too short for the strings of
 * DRM_IOCTL_VERSION, and the same -EFAULT for a bad pointer.
 *
 * Only successful replies are kept (an error may be transient), at most
 * PD_QCACHE_MAX per export and PD_QCACHE_MAX_RSP bytes each. Entries are
 * immutable and live as long as the connection, so a lookup needs no
 * lock: an entry is published with a release store at the list's head,
 * readers start from an acquire load. qcache_lock (the connection's)
 * serialises the writers.
 */
#include <linux/slab.h>
#include <linux/string.h>

#include <drm/drm.h>
#include <drm/virtgpu_drm.h>

#include "front.h"

#define PD_QCACHE_MAX		64u
#define PD_QCACHE_MAX_RSP	8192u

struct pd_qcache_entry {
	struct pd_qcache_entry *next;
	s64 result;
	u32 key_len;
	u32 rsp_len;
	u8 data[];			/* key (the request body), then reply */
};

/* May ioctl cmd on pf be answered from its export's cache? */
bool pd_qcache_immutable(const struct pd_file *pf, unsigned int cmd)
{
	if (!pf->exp || pf->dev_class != PD_WIRE_CLASS_DRM)
		return false;
	switch (cmd) {
	case DRM_IOCTL_VERSION:
	case DRM_IOCTL_GET_CAP:
		return true;
	case DRM_IOCTL_VIRTGPU_GETPARAM:
	case DRM_IOCTL_VIRTGPU_GET_CAPS:
		return pf->driver == PD_WIRE_DRIVER_DRM_VIRTGPU;
	default:
		return false;
	}
}

/* The kept reply to the request body key, or NULL. */
const struct pd_qcache_entry *pd_qcache_find(struct pd_export *exp,
					     const void *key, u32 key_len)
{
	const struct pd_qcache_entry *e;

	for (e = smp_load_acquire(&exp->qcache); e; e = e->next)
		if (e->key_len == key_len && !memcmp(e->data, key, key_len))
			return e;
	return NULL;
}

/* A hit: a copy of its reply body for the completion to work on. */
void *pd_qcache_reply(const struct pd_qcache_entry *e, s64 *result,
		      u32 *rsp_len)
{
	*result = e->result;
	*rsp_len = e->rsp_len;
	return kmemdup(e->data + e->key_len, e->rsp_len, GFP_KERNEL);
}

/* Keep the reply rsp (body of rsp_len bytes) to the request body key. */
void pd_qcache_add(struct pd_export *exp, const void *key, u32 key_len,
		   s64 result, const void *rsp, u32 rsp_len)
{
	struct pd_conn *conn = exp->conn;
	struct pd_qcache_entry *e;

	if (result < 0 || !rsp_len || rsp_len > PD_QCACHE_MAX_RSP ||
	    key_len > PD_QCACHE_MAX_RSP ||
	    READ_ONCE(exp->nqcache) >= PD_QCACHE_MAX)
		return;
	e = kmalloc(struct_size(e, data, key_len + rsp_len), GFP_KERNEL);
	if (!e)
		return;
	e->result = result;
	e->key_len = key_len;
	e->rsp_len = rsp_len;
	memcpy(e->data, key, key_len);
	memcpy(e->data + key_len, rsp, rsp_len);
	spin_lock(&conn->qcache_lock);
	if (exp->nqcache >= PD_QCACHE_MAX ||
	    pd_qcache_find(exp, key, key_len)) {
		spin_unlock(&conn->qcache_lock);
		kfree(e);
		return;
	}
	e->next = exp->qcache;
	/* release: a reader that finds e sees its contents */
	smp_store_release(&exp->qcache, e);
	WRITE_ONCE(exp->nqcache, exp->nqcache + 1);
	spin_unlock(&conn->qcache_lock);
}

/* The connection's last reference is gone: free what exp kept. */
void pd_qcache_free(struct pd_export *exp)
{
	struct pd_qcache_entry *e = exp->qcache, *next;

	for (; e; e = next) {
		next = e->next;
		kfree(e);
	}
	exp->qcache = NULL;
	exp->nqcache = 0;
}
