/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pd-backend: serves one guest (one connection) from the real device
 * files it was given. Everything the guest sends is untrusted: headers and
 * fixed bodies are checked in ops.c, ioctl bodies by decode.c.
 *
 *   main.c        command line, environment, setup, the reader
 *   request.c     a request's framing checked, CANCEL, the job run on the
 *                 reader (inline.c says which) or handed to the pool
 *   inline.c      which requests cannot wait (pure)
 *   log.c         be_log (the ground floor)
 *   send.c        replies and events to the guest through the transport
 *   exports.c     what a device file is (class, driver, node name)
 *   control.c     the guest's control file: its line to hostd
 *   handles.c     the guest's open files: handle -> real descriptor
 *   ops.c         one function per request
 *   maps.c        mappings of real files granted to the guest (MMAP,
 *                 FAULT, MUNMAP, PD_EV_UNMAP)
 *   pool.c        worker threads: a blocking request never delays another
 *   events.c      poll readiness and SIGIO as events, cancel delivery
 *   clock.c       the guest's clock offsets (PD_OP_CLOCK); our times
 *                 made the guest's (vblanks, evdev events)
 *   vkms/         the guest's virtual display under hostd (vkms/vkms.h),
 *                 reached through struct be_class_hooks
 *   nodisplay.c   the class hooks of a guest's card no hostd shows
 *   v4l2own.c     the class hooks tying a V4L2 queue's buffers to a file
 *   transport_loop.c  the loop transport (/dev/paradice-loop)
 *   xen/          the Xen transport, one file per concern (xen/transport.h)
 */
#ifndef PD_BACKEND_H
#define PD_BACKEND_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <paradice/pd_wire.h>
#include "pd_ioctl.h"

/* ---------------------------------------------------------------- */
/* Transports: a small table chosen by name.                         */

struct be_transport;
struct be;

struct be_transport_impl {
	const char *name;
	/* Features this transport carries (PD_WIRE_FEAT_*). */
	uint64_t features;
	/* One whole request into buf (cap >= PD_WIRE_MAX_MSG); its length,
	 * 0 at the end of the connection, -1 with errno on error. */
	ssize_t (*recv)(struct be_transport *t, void *buf, size_t cap);
	/* One whole reply or event; 0 or -1 with errno. Thread-safe. */
	int (*send)(struct be_transport *t, const void *msg, size_t len);
	/* Optional: the real file behind a handle, before its reply. */
	int (*attach)(struct be_transport *t, uint32_t handle, int fd);
	/*
	 * Optional, mmap across domains (xen; maps.c): grant the guest the
	 * npages frames behind addr, a page-aligned mapping of a real file
	 * in this process, read-only unless writable. refs[0..npages) get a
	 * reference each; -ENXIO if a frame is device memory (maps.c then
	 * grants a copy in RAM),
	 * *region names the grant (any value, 0 too). 0 or a negative
	 * errno. Until the region is ungranted, the range must stay mapped.
	 */
	int (*grant)(struct be_transport *t, void *addr, uint32_t npages,
		     bool writable, uint32_t *refs, uint32_t *region);
	/* End a region's grants: 0, -EBUSY while the guest still maps one
	 * of them, -ENOENT if there is no such region (any more). */
	int (*ungrant)(struct be_transport *t, uint32_t region);
	/* Regions whose frames the real driver took back, up to max,
	 * without blocking: their number, 0 if none, -EOVERFLOW if some
	 * were lost (then every region counts as revoked), or another
	 * negative errno. Called by the event thread when t->revoke_fd is
	 * readable. */
	int (*revoked)(struct be_transport *t, uint32_t *regions,
		       unsigned int max);
	void (*destroy)(struct be_transport *t);
};

struct be_transport {
	const struct be_transport_impl *impl;
	int fd;
	/* PD_WIRE_FEAT_* this connection carries besides impl->features
	 * (xen: MMAP when the grant helper is there). */
	uint64_t features;
	/* With impl->revoked: readable when it has regions (else unused).
	 * Watched from be_events_start(), so set before it. */
	int revoke_fd;
};

static inline uint64_t be_transport_features(const struct be_transport *t)
{
	return t->impl->features | t->features;
}

struct be_transport *be_loop_create(const char *path);
/* xen/supervise.c: forks a monitor; returns in the server process.
 * The guest gets the devices of its config section, then extra[0..nextra)
 * (hostd's virtual keyboard and pointer for that guest). */
struct be_transport *be_xen_create(struct be *be, const char *domain,
				   const char *config_path, char **extra,
				   unsigned int nextra);
struct pd_loop_node;
int be_loop_nodes(struct be_transport *t, struct pd_loop_node *nodes,
		  unsigned int count, int *status);

/* ---------------------------------------------------------------- */

struct be_export {
	char path[256];
	struct pd_wire_export info;
	/* a file that is none of dom0's (the control file): made by this
	 * instead of open(path); a descriptor, or -1 with errno */
	int (*open)(struct be *be, int flags);
	/* a camera another guest owns now (hostd's PD_DISP_CAMERA,
	 * v4l2own.c): no buffers for this guest's files of it */
	atomic_bool camera_away;
};

int be_export_describe(const char *path, struct be_export *e);

/* control.c: the control file's export into e if hostd gave us a
 * channel (1), else 0; the exports a frontend sees (the control file
 * only with PD_WIRE_FEAT_CONTROL) */
int be_control_init(struct be *be, struct be_export *e);
bool be_has_control(const struct be *be);
/* a new channel to hostd (a reattach brought one to a new hostd): fd
 * replaces the old one, which is closed; safe against opens running */
void be_control_set_channel(struct be *be, int fd);
uint32_t be_exports_visible(const struct be *be);

struct be_handle;

/*
 * What a class of device files does besides forwarding (a guest's card
 * under hostd: vkms/vkms.h), reached by ops.c only through this table,
 * set on a handle at its open (NULL: plain forwarding). Every member may
 * be NULL; data is what the table was set with (struct be).
 */
struct be_class_hooks {
	/* after the open of the real file */
	void (*opened)(void *data, struct be_handle *h);
	/* are h's screened ioctls answered here (decode.c)? */
	bool (*screens)(void *data, const struct be_handle *h);
	/* a PD_IOC_F_DISPLAY ioctl, its argument rebuilt in our memory:
	 * answered (true, *ret and errno as from ioctl(2)) or not */
	bool (*ioctl)(void *data, struct be_handle *h, unsigned int cmd,
		      void *arg, int *ret);
	/* a read answered (true, *n and errno as from read(2)) or not */
	/* seen: PD_OP_READ's (the pushed total the guest had) */
	bool (*read)(void *data, struct be_handle *h, void *buf,
		     size_t count, bool nonblock, uint32_t seen, ssize_t *n);
	/* poll bits to add to the real file's */
	uint32_t (*poll)(void *data, struct be_handle *h);
	/* before the guest's last close of h */
	void (*release)(void *data, struct be_handle *h);
	/* may h's file be mapped (PD_OP_MMAP)? 0 or -errno */
	int (*mmap)(void *data, struct be_handle *h);
	/* ioctl, read and poll above never wait (inline.c: the reader may
	 * run requests they answer) */
	bool never_wait;
};

struct be_handle {
	uint32_t handle;
	int fd;
	const char *path;		/* the export's (NULL: not known) */
	uint16_t dev_class;
	uint16_t driver;
	const struct be_class_hooks *hooks;	/* set at open, or NULL */
	void *hooks_data;
	int refs;			/* under be.lock */
	bool gone;			/* released by the guest */
	bool nodisplay_logged;		/* nodisplay.c said it once */
	atomic_bool buf_owner;		/* V4L2: this file made its queue's
					 * buffers (v4l2own.c) */
	bool owner_logged;		/* v4l2own.c said it once */
	uint32_t buf_type;		/* V4L2: the type of those buffers */
	/* taken away from the guest (the camera went to another guest:
	 * v4l2own.c): every request but RELEASE and FLUSH gets ENODEV */
	atomic_bool revoked;
	/* Serialises stateful ioctls and the file's O_NONBLOCK flag. */
	pthread_mutex_t lock;
	struct pd_ioc_state st;
	bool nonblock;			/* current O_NONBLOCK of fd */
	uint32_t objects;		/* counted in be.objects, under be.lock */
	/* PD_EV_POLL sequence (events.c bumps it, PD_OP_POLL replies
	 * carry it with PD_WIRE_FEAT_POLL_SEQ) */
	atomic_uint poll_seq;
	atomic_uint poll_events;	/* what the guest last registered */
	/* PD_WIRE_FEAT_EVENT_PUSH (events.c, vkms/events.c): bytes of events
	 * pushed into the guest, and the total its last PD_OP_READ said it
	 * had. push_real: a DRM file whose own events go too; its fd is
	 * then always O_NONBLOCK (ops.c waits for a guest that blocks), and
	 * read_lock makes a read of it and the count of what it pushed one
	 * step, for the pusher and a PD_OP_READ alike. */
	atomic_uint ev_pushed;
	atomic_uint ev_acked;
	bool push_real;
	atomic_bool push_held;		/* no pushes until the guest reads */
	pthread_mutex_t read_lock;
	/* evdev: the clock the guest chose (EVIOCSCLOCKID), as a Linux
	 * clockid; 0, CLOCK_REALTIME, until it chose one */
	atomic_int evdev_clock;
	/* ALSA PCM: the stamp type the guest chose (SNDRV_PCM_TSTAMP_TYPE_*,
	 * TTSTAMP or SW_PARAMS); 0, gettimeofday, until it chose one */
	atomic_int snd_tstamp_type;
	/* PD_WIRE_FEAT_ASYNC_ORDERED (request.c), under be.lock: an ordered
	 * request of this file is on a worker (order_busy), and the requests
	 * about it that came since wait here, in order */
	atomic_bool order_busy;		/* set and cleared under be.lock */
	struct be_job *order_head, *order_tail;
	/* a handle the guest named (PD_WIRE_FEAT_NEWFD_NAMED, handles.c),
	 * under be.lock: until the ordered ioctl of `awaits` gave it its
	 * file (fd -1 until then), requests about it wait in awaits' order */
	struct be_handle *awaits;
};

struct be_job {
	struct be_job *next;		/* pool queue / running list */
	struct pd_wire_hdr hdr;
	uint8_t *body;			/* hdr.len bytes, untrusted */
	struct be *owner;		/* charged bytes go back to it */
	uint32_t charged;		/* of be.inflight */
	pthread_t thread;		/* worker running it */
	atomic_bool running;
	atomic_bool cancel;
	/* run by the reader itself (request.c): never wait for a lock a
	 * worker may hold, give the job back instead (be_run_job) */
	bool on_reader;
	/* an asynchronous PD_IOC_F_ORDERED ioctl, run in its file's order
	 * (request.c); ordered: the file whose order this job holds (a
	 * reference), whose waiting requests its worker goes on with */
	bool in_order;
	struct be_handle *ordered;
	/* the handle the guest named for the file it makes, reserved at
	 * its arrival (request.c); 0: none */
	uint32_t named;
};

struct be_map;

/* The guest's mappings of real files (maps.c); under be.lock. */
struct be_maps {
	struct be_map *list;		/* live ones and zombies */
	uint64_t last_id;		/* ids are never reused, never 0 */
	uint32_t count;			/* in list */
	uint32_t pages;			/* of those */
	/* Regions revoked before their grant returned (see maps.c). */
	uint32_t early[16];
	unsigned int nearly;
	bool closed;			/* the connection ended: no new map */
	bool copier;			/* the copier thread runs (maps.c) */
};

struct be {
	struct be_transport *tp;
	const char *name;		/* for the log: the guest */
	unsigned int domid;		/* --xen: the guest's domain */
	struct be_export *exports;
	uint32_t nexports;		/* the control file's last, if any */
	int control_fd;			/* channel to hostd (control.c), -1 */
	uint64_t features;		/* agreed at CONNECT */
	/* PD_EV_DATA goes out one at a time, so that the guest sees each
	 * handle's running total in order (events.c be_push_send()) */
	pthread_mutex_t push_lock;
	atomic_bool connected;
	/* The guest's clocks minus ours, by PD_WIRE_CLOCK_* (clock.c);
	 * 0 until the frontend says (PD_OP_CLOCK). */
	_Atomic int64_t clock_off[PD_WIRE_CLOCK_COUNT];
	atomic_bool clock_set;

	/* Handles and the running jobs. */
	pthread_mutex_t lock;
	struct be_handle **handles;
	uint16_t *handle_gens;		/* per slot: bumped at each release */
	uint32_t *free_slots;		/* released slots, a stack */
	uint32_t nfree;
	uint32_t nhandles;		/* slots in handles */
	uint32_t next_handle;		/* slots below were used once */
	uint32_t open_handles;		/* live in the table and named */
	struct be_handle **named;	/* handles the guest named, unsorted */
	uint32_t nnamed, named_cap;
	uint32_t objects;		/* GEM buffers and syncobjs (ops.c) */
	uint64_t inflight;		/* bytes of request bodies held */

	/* The guest's limits (paradice.conf; 0: the default). */
	struct {
		uint32_t grants, handles, objects;
		uint64_t inflight;
		uint64_t memory;	/* RLIMIT_AS once confined */
	} max;
	struct be_job *running;
	struct be_maps maps;

	/*
	 * The event thread's hook for the transport's revoke_fd: called
	 * when it is readable (readable true) and again every 20 ms while
	 * it returned 1; -1 stops watching it. main.c sets maps.c's
	 * be_maps_revocations() before be_events_start(); NULL: none.
	 */
	int (*revocations)(struct be *be, bool readable);
	int epfd;			/* poll interest */
	int wakefd;			/* eventfd: cancels pending */
	int sigfd;			/* signalfd: SIGIO of fasync files */
	atomic_int cancels;
	int verbose;

	/* The reader runs the synchronous requests that cannot wait itself
	 * (request.c, inline.c) unless this is set: PD_BACKEND_INLINE=0 at
	 * start, SIGUSR2 at run time (main.c). */
	atomic_bool inline_off;
	/*
	 * evdev's device mutex: evdev requests that may wait holding it
	 * (be_inline_evdev_blocker()) run on workers as writers, inline
	 * evdev queries as readers that only try (request.c). Writers do
	 * not exclude each other. gate_lock guards the counts.
	 */
	pthread_mutex_t gate_lock;
	pthread_cond_t gate_cond;
	unsigned int gate_writers, gate_readers;

	/*
	 * Opens a device file of the guest's for us (confine.c: a confined
	 * backend cannot; vkms_open_file() asks hostd): a descriptor or -1
	 * with errno, as open(2). NULL: open(2) itself. Set before the
	 * reader starts.
	 */
	int (*open_file)(void *data, const char *path, int flags);
	void *open_data;
	/* The user to run as once hostd started us (--xen; the config's
	 * backend_uid), 0: stay as we are (confine.c). */
	unsigned int confine_uid;

	/* The guest's files of a class get that class's hooks at open
	 * (main.c sets them before the reader starts; NULL: none). */
	const struct be_class_hooks *hooks[PD_WIRE_CLASS_COUNT];
	void *hooks_data[PD_WIRE_CLASS_COUNT];
};

#define BE_SIG_CANCEL	SIGUSR1
#define BE_SIG_IO	(SIGRTMIN + 1)

/* confine.c: become be->confine_uid, with no capabilities, no groups and
 * no new privileges, and the syscall filter; before any thread exists.
 * 0, or -1 (logged): then the backend must not go on. */
int be_confine(struct be *be);
/* confine.c: the monitor of a server that will confine itself keeps only
 * the capabilities that takes. 0, or -1 (logged). */
int be_confine_monitor(struct be *be);

/* log.c */
void be_log(struct be *be, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* handles.c */
struct be_handle *be_handle_new(struct be *be, int fd, uint16_t dev_class,
				uint16_t driver);
struct be_handle *be_handle_get(struct be *be, uint32_t handle);
struct be_handle *be_handle_by_fd(struct be *be, int fd);
void be_handle_put(struct be *be, struct be_handle *h);
int be_handle_release(struct be *be, uint32_t handle);
/* Handles the guest names (PD_WIRE_FEAT_NEWFD_NAMED): reserved for a new
 * file of `maker`'s ordered ioctl (0 or -errno), given the file, or
 * dropped if it made none; the maker of one not given its file yet. */
int be_handle_reserve(struct be *be, uint32_t handle, struct be_handle *maker);
struct be_handle *be_handle_bind(struct be *be, uint32_t handle, int fd);
void be_handle_unreserve(struct be *be, uint32_t handle);
struct be_handle *be_handle_awaited(struct be *be, uint32_t handle);
/* After be_maps_finish(): handles.c knows nothing of the mappings. */
void be_handles_finish(struct be *be);

/* send.c: one message to the guest through the transport; 0, or -1
 * with errno (logged). be_send sets hdr->len. */
int be_send(struct be *be, struct pd_wire_hdr *hdr, const void *body,
	    size_t len);
int be_reply(struct be *be, const struct pd_wire_hdr *req, int64_t result,
	     const void *body, size_t len);
/* A reply whose body ends with n poll states (PD_WIRE_F_POLL_STATE,
 * pd_wire.h); n == 0: as be_reply. */
int be_reply_states(struct be *be, const struct pd_wire_hdr *req,
		    int64_t result, const void *body, size_t len,
		    const struct pd_wire_poll_state *states, uint32_t n);
int be_send_event(struct be *be, uint16_t op, uint32_t handle,
		  const void *body, size_t len);

/* request.c: one message the transport read (n bytes, the guest's):
 * checked, answered (CANCEL, a bad header, a request run on the reader)
 * or handed to the pool. */
void be_take_request(struct be *be, const uint8_t *buf, size_t n);
/* A worker's evdev request that may wait holding evdev's device mutex
 * (be_inline_evdev_blocker()): around it, no inline evdev query runs. */
void be_evdev_gate_enter(struct be *be);
void be_evdev_gate_leave(struct be *be);
/* May a request of op carry PD_WIRE_F_ASYNC (agreed and allowed)? */
bool be_async_allowed(const struct be *be, uint16_t op);
/* An ordered job of h ended (its worker, pool.c): run or hand out what
 * waited for it, in order; drops the job's reference on h. */
void be_order_continue(struct be *be, struct be_handle *h);
/* PD_OP_CANCEL of a request waiting in a file's order: true if found. */
bool be_order_cancel(struct be *be, uint64_t target);

/* ops.c: run one request and reply. Returns false only for a job
 * on_reader that would have to wait for a worker's lock: nothing was
 * done, nothing replied; the caller hands it to the pool. */
bool be_run_job(struct be *be, struct be_job *job);

/* clock.c */
void be_op_clock(struct be *be, struct be_job *job);
/* Now on our clock `clock` (PD_WIRE_CLOCK_*), in ns. */
int64_t be_clock_now(unsigned int clock);
/* ns of our clock `clock` as the guest's same clock (be may be NULL). */
int64_t be_clock_to_guest(struct be *be, unsigned int clock, int64_t ns);
/* The same for a time in seconds and ns (0 <= *nsec < 1e9), in place;
 * false, left alone, for one no clock reaches (negative, or 146 years). */
bool be_clock_time_to_guest(struct be *be, unsigned int clock,
			    int64_t *sec, int64_t *nsec);
/* PD_WIRE_CLOCK_* of a Linux clockid evdev accepts, -1 for others. */
int be_clock_of(int linux_clockid);
/* Times of the struct input_events in buf (n bytes, read from a real
 * evdev file on linux_clockid) made the guest's. */
void be_clock_evdev_fix(struct be *be, int linux_clockid, void *buf,
			size_t n);
/* An ALSA PCM ioctl cmd that succeeded on the real file, its argument
 * arg as the reply carries it: the stamp type chosen kept in
 * *tstamp_type, the status's stamps made the guest's. */
void be_clock_snd_fix(struct be *be, atomic_int *tstamp_type,
		      unsigned int cmd, void *arg);
/* Does any of the guest's clocks differ from ours? */
bool be_clock_offset_set(struct be *be);

/* maps.c: PD_OP_MMAP (on a handle the caller holds), PD_OP_FAULT and
 * PD_OP_MUNMAP (by map id: they outlive the handle's RELEASE). */
void be_op_mmap(struct be *be, struct be_handle *h, struct be_job *job);
void be_op_fault(struct be *be, struct be_job *job);
void be_op_munmap(struct be *be, struct be_job *job);
/* The event thread: read revoked regions (if readable) and send
 * PD_EV_UNMAP; 1 if some event must be tried again soon, 0, or -1 if the
 * transport's revoked() failed (stop watching it). */
int be_maps_revocations(struct be *be, bool readable);
/* The connection is over: end every grant and mapping (bounded wait). */
void be_maps_finish(struct be *be);

/* pool.c */
int be_pool_start(struct be *be);
void be_pool_submit(struct be *be, struct be_job *job);
/* PD_OP_CANCEL: mark request target (queued or running) and interrupt
 * its worker; true if found. */
bool be_pool_cancel(struct be *be, uint64_t target);
void be_job_free(struct be_job *job);
/* Request bodies held, against max.inflight: false (logged) if len more
 * would pass it; be_job_free() gives a job's charge back. */
bool be_inflight_charge(struct be *be, uint32_t len);
void be_inflight_uncharge(struct be *be, uint32_t len);

/* events.c */
int be_events_start(struct be *be);
int be_poll_arm(struct be *be, struct be_handle *h, uint32_t events);
uint32_t be_poll_look(struct be_handle *h);
/* Caller holds be->push_lock and has counted n in h->ev_pushed: one
 * PD_EV_DATA of n bytes of whole records (<= PD_WIRE_EV_DATA_MAX). */
int be_push_send(struct be *be, struct be_handle *h, const void *recs,
		 size_t n);
/* Bytes h may still push (PD_WIRE_PUSH_MAX beyond the guest's seen). */
uint32_t be_push_room(struct be_handle *h);
bool be_poll_state(struct be_handle *h, struct pd_wire_poll_state *ps);
void be_cancel(struct be *be, uint64_t target, int64_t *result);

#endif /* PD_BACKEND_H */
