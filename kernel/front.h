/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Paradice guest frontend: what the files of the module share.
 *
 * Layers, each calling only the ones below it (a call upwards goes through
 * a table of hooks: struct pd_transport_ops, struct pd_class_ops):
 *
 *   module          front_main.c     module init/exit: registers the classes,
 *                                    starts the transports
 *   transports      front_loop.c     the loop transport (/dev/paradice-loop)
 *                   front_xenbus.c, front_xen_ring.c, front_xen_shbuf.c
 *                                    the Xen transport (front_xen.h)
 *                   front_xenmap.c   mmap across domains: grants mapped into
 *                                    the program's page tables (PV), taken
 *                                    back on PD_EV_UNMAP
 *   classes         front_drm.c, front_v4l2.c, front_snd.c, front_evdev.c
 *                                    how each class's node looks to the
 *                                    guest's programs; front_ctl.c the
 *                                    control file (a line to hostd)
 *   file ops        front_fops.c     the class-agnostic forwarding file
 *                                    operations (pd_fops), backend events
 *                   front_ioctl.c    ioctl marshaling with the shared
 *                                    descriptor tables
 *                   front_file.c     a forwarded file's life: open, adopt,
 *                                    close
 *   connections     front_conn.c     a connection's life: CONNECT, export
 *                                    list, nodes
 *                   front_clock.c    the guest's clock offsets, measured
 *                                    and sent to the backend (PD_OP_CLOCK)
 *                   front_registry.c the classes by wire class, the
 *                                    forwarded nodes by device number
 *                   front_req.c      requests: ids, many in flight,
 *                                    out-of-order replies, waits, cancel,
 *                                    failing everything when a connection
 *                                    dies
 *                   front_stats.c    counters of synchronous trips by op
 *                                    and ioctl command (debugfs)
 *                   front_qcache.c   replies to immutable queries kept per
 *                                    export, answered without a trip
 *
 * Lifetimes: a pd_conn is reference counted; its transport, each open
 * forwarded file and the setup work hold references. Exports live inside
 * their connection. A class's node objects are torn down when the
 * connection closes, while files opened on them may still be open: such
 * files only ever touch their pd_file and the connection, never the node.
 */
#ifndef PD_FRONT_H
#define PD_FRONT_H

#include <linux/bits.h>
#include <linux/completion.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include <paradice/pd_wire.h>
#include "pd_async.h"
#include "pd_evbuf.h"
#include "pd_ioctl.h"

#define PD_FRONT_NAME "paradice"

struct pd_conn;
struct pd_req;
struct pd_export;
struct pd_file;
struct platform_device;

/*
 * The transport boundary. A transport moves whole messages; it knows
 * nothing of file operations. The loop transport implements it with a
 * character device, the Xen transport with rings and grants. The
 * connection calls its transport only through this table; the transport
 * calls the connection (pd_conn_create/start/close, pd_conn_complete,
 * pd_conn_event) directly.
 */
struct pd_transport_ops {
	const char *name;
	/* Features this transport can carry (PD_WIRE_FEAT_*). */
	u64 features;
	/* Hand a request to the backend; the message stays valid until the
	 * request is completed. 0 or -EIO when the connection is closing.
	 */
	int (*send)(struct pd_conn *conn, struct pd_req *req);
	/* Take back a request the backend has not seen yet; true if it was
	 * still queued (it will then never be seen).
	 */
	bool (*unsend)(struct pd_conn *conn, struct pd_req *req);
	/* Optional (loop): the real file behind a new handle, with a
	 * reference the caller now owns, or NULL.
	 */
	struct file *(*take_real_file)(struct pd_conn *conn, u32 handle);
	/* Optional (xen): map the pages of a file whose real file is in
	 * another domain into vma (PD_OP_MMAP/FAULT).
	 */
	int (*mmap)(struct pd_file *pf, struct vm_area_struct *vma);
	/* Optional (xen): PD_EV_UNMAP, the backend takes the pages of
	 * mapping map_id back. From the transport's event path.
	 */
	void (*revoke_map)(struct pd_conn *conn, u64 map_id);
	/* Optional (xen): the connection is closing and every request has
	 * failed; the backend's pages leave every mapping of it now.
	 */
	void (*conn_closed)(struct pd_conn *conn);
	/* Free the transport's state: the connection's last reference is
	 * gone. Until then every operation above stays callable, also after
	 * the transport closed (it then fails or finds nothing).
	 */
	void (*destroy)(struct pd_conn *conn);
};

/* ------------------------------------------------------------------ */
/* Requests (front_req.c)                                              */

struct pd_req {
	struct list_head queue;		/* transport's send queue */
	refcount_t ref;
	u64 id;
	bool orphan;			/* nobody waits: free on reply */
	struct completion done;
	struct pd_wire_hdr *msg;	/* header + body, kvmalloc */
	u32 msg_len;
	void *rsp;			/* whole reply message, kvmalloc */
	u32 rsp_len;			/* bytes of body after the header */
	/* Poll state records after those rsp_len bytes (pd_wire.h,
	 * PD_WIRE_F_POLL_STATE), checked and stripped from rsp_len. */
	u32 nstates;
	s64 result;
	u64 reply_ns;			/* when the reply arrived (stats) */
	/* An orphan's reply (or failure, result -EIO) is told to this, in
	 * the completer's context (maybe an interrupt, under conn->reqs'
	 * lock), before the request is freed: front_file.c's async file
	 * requests. */
	void (*on_reply)(struct pd_req *req);
	void *priv;
	/* front_file.c: the file an asynchronous ioctl makes under a handle
	 * the guest named (its struct pd_file_async, a reference), and the
	 * token the state its reply carries must show */
	struct pd_file_async *made;
	struct pd_pollc_tok made_tok;
};

struct pd_req *pd_req_alloc(u16 op, u32 handle, u32 body_len);
struct pd_req *pd_req_from_msg(void *msg, u32 len, u16 op, u32 handle);
void pd_req_put(struct pd_req *req);
static inline void *pd_req_body(struct pd_req *req)
{
	return req->msg + 1;
}
static inline void *pd_rsp_body(struct pd_req *req)
{
	return (u8 *)req->rsp + sizeof(struct pd_wire_hdr);
}
/* The poll state its reply carried for handle (copied to *ps), or false. */
bool pd_req_poll_state(const struct pd_req *req, u32 handle,
		       struct pd_wire_poll_state *ps);

/* A negative result from the backend as an errno the kernel may return:
 * values outside the errno range (a broken backend) become -EIO.
 */
static inline long pd_errno(s64 result)
{
	return result < 0 && result >= -MAX_ERRNO ? (long)result : -EIO;
}

/* pd_req_run() wait modes */
#define PD_WAIT_INTR	0	/* a signal cancels (syscalls) */
#define PD_WAIT_UNINTR	1	/* must finish (release, poll, setup);
				 * only a fatal signal gives up
				 */

int pd_req_run(struct pd_conn *conn, struct pd_req *req, int mode);
void pd_req_send_orphan(struct pd_conn *conn, struct pd_req *req);
void pd_conn_complete(struct pd_conn *conn, void *msg, u32 len);
void pd_conn_fail_all(struct pd_conn *conn);

/* Counters (front_stats.c) */
#define PD_STATS_NOPS	0x10	/* operations counted by number */
void pd_stats_init(void);
void pd_stats_exit(void);
void pd_stats_trip(u16 op, u32 cmd, u64 ns, u64 wake_ns);
void pd_stats_file_trip(struct pd_conn *conn, u32 handle, u64 ns);
void pd_stats_cached(u32 cmd);
void pd_stats_spin(bool done);
void pd_stats_async(u16 op, u32 cmd);
void pd_stats_poll_cached(bool ready);
void pd_stats_poll_trip(bool made);
void pd_stats_read_pushed(void);

/* ------------------------------------------------------------------ */
/* Connections and exports (front_conn.c)                              */

/*
 * A class of device files (DRM, V4L2, ALSA, evdev): how the node of an
 * export looks to the guest. Registered at module init (front_main.c),
 * found by the export's wire class (front_registry.c).
 */
struct pd_class_ops {
	const char *name;
	/* The PD_WIRE_CLASS_* this class serves, as a mask of BIT(class). */
	u32 wire_classes;
	/* Create the guest node of an export; fills exp->path, exp->devt. */
	int (*create)(struct pd_export *exp);
	/* Remove it (the connection is closing). */
	void (*destroy)(struct pd_export *exp);
	/* Optional: every node of a closing connection is gone; free what
	 * the class kept for the whole connection (ALSA cards).
	 */
	void (*conn_closed)(struct pd_conn *conn);
	/* Adjust what an ioctl returned to what the guest must see (ALSA
	 * card numbers). Optional.
	 */
	void (*ioctl_fixup)(struct pd_file *pf, unsigned int cmd,
			    unsigned long arg, long ret);
	/* May this PD_IOC_F_ORDERED ioctl go without waiting, its outcome
	 * known (pd_wire.h 1.7)? arg: the argument's len bytes as encoded;
	 * a new file it makes gets a handle the guest names (1.8). True
	 * commits to sending it so. Optional: none does. */
	bool (*ioctl_async)(struct pd_file *pf, unsigned int cmd,
			    const void *arg, u32 len);
	/* Events of pf came (whole records; under pf->as->lock, maybe in
	 * the interrupt): pushed, or in a read trip's reply. Optional. */
	void (*events_pushed)(struct pd_file *pf, const u8 *data, u32 len);
};

struct pd_export {
	struct pd_conn *conn;
	unsigned int index;
	struct pd_wire_export info;	/* checked copy of EXPORT_INFO */
	const struct pd_class_ops *cls;
	void *cls_priv;			/* the class's node object */
	bool created;
	dev_t devt;			/* of the guest node */
	char path[64];			/* e.g. "/dev/dri/card1" */
	int snd_card_number;		/* ALSA: the guest card's number */
	/* Replies to immutable queries (front_qcache.c): a list that only
	 * grows, read without a lock, written under conn->qcache_lock.
	 */
	struct pd_qcache_entry *qcache;
	unsigned int nqcache;
};

#define PD_CONN_CALLS	4	/* marshaling states kept per connection */

struct pd_conn {
	struct kref ref;
	unsigned int id;		/* names the parent device */
	const struct pd_transport_ops *tp;
	void *tp_priv;

	/* Requests in flight by id; the xarray's lock also orders
	 * completion against a waiter giving up.
	 */
	struct xarray reqs;
	u64 next_id;			/* under reqs' lock */
	bool dead;			/* under reqs' lock */
	/* Replies in a row that came within PD_SPIN_NS (front_req.c);
	 * unlocked: a lost update only shortens or skips one spin.
	 */
	unsigned int fast_replies;

	/* Open forwarded files by handle, for events. */
	struct xarray files;
	/* PD_EV_POLLs for handles not (or no longer) in files, counted under
	 * files' lock: a new file believes the state its ioctl's reply told
	 * only if none came since that ioctl went (front_ioctl.c). */
	u32 unknown_poll_events;
	/* The next handle the guest names (pd_wire.h 1.8; files' lock) */
	u32 next_named;
	/* Mappings served by the backend by map_id (front_xenmap.c). */
	struct xarray maps;

	/* Negotiated at CONNECT. */
	u64 features;
	u32 max_msg;
	u32 nexports;
	struct pd_export *exports;

	/* Setup: CONNECT, export list, nodes; then done. */
	struct work_struct setup_work;
	bool setup_done;
	int setup_status;
	wait_queue_head_t setup_wq;
	struct mutex nodes_lock;	/* nodes created/destroyed */
	bool nodes_gone;

	struct platform_device *pdev;	/* parent of the nodes */
	struct list_head snd_cards;	/* front_snd.c, under nodes_lock */

	/* front_clock.c: the offsets sent again now and then; set by the
	 * setup work, read by pd_conn_close() after it flushed that */
	struct delayed_work clock_work;
	bool clock_running;
	bool clock_synced;

	/* Free ioctl marshaling states (front_ioctl.c), kept so that an
	 * ioctl neither allocates nor zeroes 44 KiB; call_lock guards them.
	 */
	spinlock_t call_lock;
	unsigned int ncalls;
	struct pd_ioc_call *calls[PD_CONN_CALLS];
	spinlock_t qcache_lock;		/* adding to an export's qcache */
};

struct pd_conn *pd_conn_create(const struct pd_transport_ops *tp,
			       void *tp_priv);
void pd_conn_start(struct pd_conn *conn);
void pd_conn_close(struct pd_conn *conn);
void pd_conn_put(struct pd_conn *conn);
/* A small request with a fixed body; the reply's body must be exactly
 * rsp_size bytes. 0 or -errno. */
int pd_conn_call(struct pd_conn *conn, u16 op, const void *body,
		 u32 body_len, void *rsp, u32 rsp_size);

/* front_clock.c: the guest's clock offsets at the backend (PD_OP_CLOCK) */
int pd_clock_sync(struct pd_conn *conn);
void pd_clock_start(struct pd_conn *conn);
void pd_clock_stop(struct pd_conn *conn);
static inline void pd_conn_get(struct pd_conn *conn)
{
	kref_get(&conn->ref);
}
static inline bool pd_conn_is_dead(struct pd_conn *conn)
{
	return READ_ONCE(conn->dead);
}

/* ------------------------------------------------------------------ */
/* Registries (front_registry.c)                                       */

/* Classes: registered before any transport starts, unregistered after
 * every transport stopped, so lookups need no lock.
 */
int pd_class_register(const struct pd_class_ops *cls);
void pd_class_unregister(const struct pd_class_ops *cls);
const struct pd_class_ops *pd_class_find(u16 wire_class);
void pd_classes_conn_closed(struct pd_conn *conn);

/* Forwarded nodes by device number. */
int pd_node_register(dev_t devt, struct pd_export *exp);
void pd_node_unregister(dev_t devt);
struct pd_export *pd_node_get(dev_t devt);	/* takes a conn reference */

/* ------------------------------------------------------------------ */
/* Forwarded files (front_file.c, front_ioctl.c, front_fops.c)         */

/*
 * What a file keeps of the requests it does not wait for (pd_wire.h,
 * "Requests nobody waits for"): the first error of an asynchronous
 * request, for its next synchronous call, and the poll readiness it
 * believes (common/pd_async.h). Reference counted apart from the file:
 * an asynchronous RELEASE outlives it. lock is taken with interrupts
 * off (replies complete in the Xen event channel's interrupt).
 */
struct pd_file_async {
	refcount_t ref;
	spinlock_t lock;
	u32 handle;
	struct pd_async_err err;
	struct pd_pollc pc;
	/* DRM: the flip-complete events the file is owed (front_drm.c) */
	struct pd_flips flips;
};

struct pd_file {
	struct pd_conn *conn;		/* reference */
	struct pd_export *exp;		/* NULL for files made by an ioctl */
	u16 dev_class;
	u16 driver;
	u32 handle;
	struct file *real;		/* loop: the real file, for mmap */
	bool kernel;			/* opened by the module itself */

	struct mutex state_lock;	/* serialises stateful ioctls */
	struct pd_ioc_state st;

	wait_queue_head_t poll_wq;	/* woken by PD_EV_POLL, PD_EV_DATA */
	struct pd_file_async *as;
	/* a DRM file's events its backend pushed (FEAT_EVENT_PUSH), under
	 * as->lock; NULL for other files. Its readers take turns. */
	struct pd_evbuf *evbuf;
	struct mutex ev_read_lock;
	int ev_clock;			/* evdev: EVIOCSCLOCKID's, 0 first */
	struct fasync_struct *fasync;
	bool revoked;

	/* Its synchronous trips and their time, and ioctls answered from
	 * the cache (front_stats.c); /proc/PID/fdinfo shows them.
	 */
	atomic64_t trips, trip_ns, cached;
};

/* front_file.c */
struct pd_file *pd_file_open(struct pd_export *exp, unsigned int f_flags,
			     int *err);
struct pd_file *pd_file_adopt(struct pd_conn *conn, u32 handle, int *err);
struct pd_file *pd_file_adopt_named(struct pd_conn *conn, int *err);
void pd_file_close(struct pd_file *pf);
void pd_file_forget(struct pd_file *pf);
int pd_file_simple(struct pd_file *pf, u16 op);
bool pd_file_async_ok(struct pd_file *pf);
bool pd_file_made(const struct pd_file *pf);
void pd_file_send_async(struct pd_file *pf, struct pd_req *req,
			struct pd_file *made);
int pd_file_async_err(struct pd_file *pf);
struct pd_pollc_tok pd_file_op_begin(struct pd_file *pf);
void pd_file_op_end(struct pd_file *pf, struct pd_pollc_tok tok,
		    const struct pd_req *req);
bool pd_file_poll_state_ok(const struct pd_conn *conn);
void pd_file_new_state(struct pd_file *pf, const struct pd_req *req,
		       u32 unknown_before);

/* front_ioctl.c. fops: the file operations of the files an ioctl creates
 * and of the files a descriptor in its argument may name (pd_fops).
 */
long pd_ioctl_forward(struct pd_file *pf, unsigned int cmd, u64 arg,
		      const struct file_operations *fops, bool nonblock);
/* An ioctl the module itself makes, arg in kernel memory (no files). */
long pd_ioctl_kernel(struct pd_file *pf, unsigned int cmd, void *arg);
/* Free what the connection kept for ioctls (its last reference is gone). */
void pd_ioctl_conn_finish(struct pd_conn *conn);

/* front_qcache.c */
struct pd_qcache_entry;
bool pd_qcache_immutable(const struct pd_file *pf, unsigned int cmd);
const struct pd_qcache_entry *pd_qcache_find(struct pd_export *exp,
					     const void *key, u32 key_len);
void *pd_qcache_reply(const struct pd_qcache_entry *e, s64 *result,
		      u32 *rsp_len);
void pd_qcache_add(struct pd_export *exp, const void *key, u32 key_len,
		   s64 result, const void *rsp, u32 rsp_len);
void pd_qcache_free(struct pd_export *exp);

/* front_fops.c */
extern const struct file_operations pd_fops;
int pd_fops_open_export(struct pd_export *exp, struct file *file);

ssize_t pd_fop_read(struct file *file, char __user *buf, size_t count,
		    loff_t *ppos);
ssize_t pd_fop_write(struct file *file, const char __user *buf, size_t count,
		     loff_t *ppos);
__poll_t pd_fop_poll(struct file *file, struct poll_table_struct *wait);
long pd_fop_ioctl(struct file *file, unsigned int cmd, unsigned long arg);
int pd_fop_mmap(struct file *file, struct vm_area_struct *vma);
int pd_fop_release(struct inode *inode, struct file *file);

void pd_conn_event(struct pd_conn *conn, const struct pd_wire_hdr *hdr,
		   const void *body);

/* ------------------------------------------------------------------ */
/* Classes (front_drm.c, front_v4l2.c, front_snd.c, front_evdev.c,     */
/* front_ctl.c)                                                        */

extern const struct pd_class_ops pd_drm_class;
extern const struct pd_class_ops pd_v4l2_class;
extern const struct pd_class_ops pd_snd_class;
extern const struct pd_class_ops pd_evdev_class;
extern const struct pd_class_ops pd_ctl_class;

/* ------------------------------------------------------------------ */
/* Transports                                                          */

int pd_loop_init(void);
void pd_loop_exit(void);
int pd_xen_init(void);		/* front_xenbus.c; nothing outside Xen */
void pd_xen_exit(void);

/* Mappings across domains (front_xenmap.c), for the Xen transport */
int pd_xmap_mmap(struct pd_file *pf, struct vm_area_struct *vma, u16 domid);
void pd_xmap_revoke(struct pd_conn *conn, u64 map_id);
void pd_xmap_conn_closed(struct pd_conn *conn);

#endif /* PD_FRONT_H */
