// SPDX-License-Identifier: GPL-2.0-only
/*
 * One function per request. The job's header was read by main.c; its body
 * is untrusted_body until the checks at the top of each function passed
 * (fixed bodies: exact length, reserved fields zero, every value in
 * range; ioctl bodies: decode.c). A bad request gets an errno in its
 * reply and a log line naming the guest, never more.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/input.h>

#include "pd_compat.h"		/* __user, for the uapi headers below */
#include <drm/drm.h>
#include <drm/amdgpu_drm.h>
#include <drm/radeon_drm.h>
#include <drm/virtgpu_drm.h>

#include "backend.h"
#include "config.h"
#include "decode.h"
#include "inline.h"

/* Copy a fixed body of exactly `size` bytes out of the request. */
static int take_body(struct be_job *job, void *out, size_t size)
{
	if (job->hdr.len != size)
		return -EINVAL;
	memcpy(out, job->body, size);
	return 0;
}

/* The file's O_NONBLOCK follows the guest file's, request by request:
 * the real descriptor is shared by all of the guest's requests on it.
 * Not a pushed file's, which stays O_NONBLOCK: the event thread reads it
 * until EAGAIN (events.c) and would otherwise wait in read() for the next
 * event, holding every other one back (DRM's ioctls ignore the flag;
 * read_real() waits where the guest would). */
static void set_nonblock(struct be_handle *h, bool nonblock)
{
	int fl;

	if (h->nonblock == nonblock || h->push_real)
		return;
	fl = fcntl(h->fd, F_GETFL);
	if (fl < 0)
		return;
	fl = nonblock ? fl | O_NONBLOCK : fl & ~O_NONBLOCK;
	if (!fcntl(h->fd, F_SETFL, fl))
		h->nonblock = nonblock;
}

/*
 * The reply of a request that ran on h: with PD_WIRE_FEAT_POLL_STATE,
 * a synchronous one on an armed handle carries h's readiness after it
 * ran (pd_wire.h), so the guest need not ask. result is computed before
 * (the look may change errno).
 */
static void reply_state(struct be *be, struct be_handle *h,
			struct be_job *job, int64_t result, const void *body,
			size_t len)
{
	struct pd_wire_poll_state ps;

	if ((be->features & PD_WIRE_FEAT_POLL_STATE) &&
	    !(job->hdr.flags & PD_WIRE_F_ASYNC) && be_poll_state(h, &ps))
		be_reply_states(be, &job->hdr, result, body, len, &ps, 1);
	else
		be_reply(be, &job->hdr, result, body, len);
}

/* false only on the reader, when a worker holds the file's lock (a
 * stateful ioctl that may block): then nothing was done */
static bool prepare_io(struct be_handle *h, const struct be_job *job)
{
	if (h->push_real)
		return true;	/* no lock needed: set_nonblock() leaves it */
	if (job->on_reader) {
		if (pthread_mutex_trylock(&h->lock))
			return false;
	} else {
		pthread_mutex_lock(&h->lock);
	}
	set_nonblock(h, job->hdr.flags & PD_WIRE_F_NONBLOCK);
	pthread_mutex_unlock(&h->lock);
	return true;
}

static int64_t neg_errno(void)
{
	return errno ? -(int64_t)errno : -EIO;
}

static void op_connect(struct be *be, struct be_job *job)
{
	struct pd_wire_connect c;

	if (take_body(job, &c, sizeof(c))) {
		be_reply(be, &job->hdr, -EINVAL, NULL, 0);
		return;
	}
	if (c.major != PD_WIRE_VERSION_MAJOR) {
		be_log(be, "guest speaks wire ABI %u, we speak %u", c.major,
		       PD_WIRE_VERSION_MAJOR);
		be_reply(be, &job->hdr, -EPROTO, NULL, 0);
		return;
	}
	/* the clock offsets and the control file need nothing of the
	 * transport */
	be->features = c.features & (be_transport_features(be->tp) |
				     PD_WIRE_FEAT_CLOCK | PD_WIRE_FEAT_REVOKE |
				     PD_WIRE_FEAT_ASYNC |
				     PD_WIRE_FEAT_ASYNC_ORDERED |
				     PD_WIRE_FEAT_NEWFD_NAMED |
				     PD_WIRE_FEAT_POLL_SEQ |
				     PD_WIRE_FEAT_POLL_STATE |
				     PD_WIRE_FEAT_EVENT_PUSH |
				     (be_has_control(be) ?
				      PD_WIRE_FEAT_CONTROL : 0));
	/* poll states only on top of sequenced poll events */
	if ((be->features & (PD_WIRE_FEAT_POLL_SEQ | PD_WIRE_FEAT_POLL_EVENTS)) !=
	    (PD_WIRE_FEAT_POLL_SEQ | PD_WIRE_FEAT_POLL_EVENTS))
		be->features &= ~PD_WIRE_FEAT_POLL_STATE;
	if (!(be->features & PD_WIRE_FEAT_ASYNC))
		be->features &= ~PD_WIRE_FEAT_ASYNC_ORDERED;
	if (!(be->features & PD_WIRE_FEAT_ASYNC_ORDERED) ||
	    !(be->features & PD_WIRE_FEAT_NEWFD))
		be->features &= ~PD_WIRE_FEAT_NEWFD_NAMED;
	c.major = PD_WIRE_VERSION_MAJOR;
	c.minor = PD_WIRE_VERSION_MINOR;
	c.max_msg = PD_WIRE_MAX_MSG;
	c.features = be->features;
	c.nexports = be_exports_visible(be);
	c.max_inflight = 256;
	atomic_store(&be->connected, true);
	be_reply(be, &job->hdr, 0, &c, sizeof(c));
}

static void op_export_info(struct be *be, struct be_job *job)
{
	struct pd_wire_export_req r;

	if (take_body(job, &r, sizeof(r)) || r.reserved ||
	    r.index >= be_exports_visible(be)) {
		be_reply(be, &job->hdr, -EINVAL, NULL, 0);
		return;
	}
	be_reply(be, &job->hdr, 0, &be->exports[r.index].info,
		 sizeof(be->exports[r.index].info));
}

static void op_open(struct be *be, struct be_job *job)
{
	struct pd_wire_open_req r;
	struct pd_wire_open_rsp rsp;
	const struct be_export *e;
	struct be_handle *h;
	bool gate;
	int fl, fd;

	if (take_body(job, &r, sizeof(r)) || r.index >= be_exports_visible(be) ||
	    (r.flags & ~(PD_WIRE_O_ACCMODE | PD_WIRE_O_NONBLOCK)) ||
	    (r.flags & PD_WIRE_O_ACCMODE) == 3) {
		be_reply(be, &job->hdr, -EINVAL, NULL, 0);
		return;
	}
	e = &be->exports[r.index];
	fl = O_CLOEXEC | O_NOCTTY;
	fl |= (r.flags & PD_WIRE_O_ACCMODE) == PD_WIRE_O_WRONLY ? O_WRONLY :
	      (r.flags & PD_WIRE_O_ACCMODE) == PD_WIRE_O_RDWR ? O_RDWR :
								  O_RDONLY;
	if (r.flags & PD_WIRE_O_NONBLOCK)
		fl |= O_NONBLOCK;
	/* an evdev open opens the device under evdev's mutex (inline.c) */
	gate = be_inline_evdev_blocker(PD_OP_OPEN, e->info.class, 0);
	if (gate)
		be_evdev_gate_enter(be);
	fd = e->open ? e->open(be, fl) :
	     be->open_file ? be->open_file(be->open_data, e->path, fl) :
			     open(e->path, fl);
	if (gate)
		be_evdev_gate_leave(be);
	if (fd < 0) {
		be_reply(be, &job->hdr, neg_errno(), NULL, 0);
		return;
	}
	h = be_handle_new(be, fd, e->info.class, e->info.driver);
	if (!h) {
		close(fd);
		be_reply(be, &job->hdr, -EMFILE, NULL, 0);
		return;
	}
	h->nonblock = fl & O_NONBLOCK;
	h->path = e->path;
	/* its events are pushed into the guest (events.c): the descriptor
	 * never blocks, read_real() waits where the guest would */
	if ((e->info.class == PD_WIRE_CLASS_DRM ||
	     e->info.class == PD_WIRE_CLASS_EVDEV) &&
	    (be->features & PD_WIRE_FEAT_EVENT_PUSH)) {
		set_nonblock(h, true);
		h->push_real = h->nonblock;
	}
	/* a DRM file's poll is answered in the guest from what was pushed
	 * (kernel/front_fops.c): its own events go from the start, not only
	 * after a poll armed it */
	if (h->push_real && e->info.class == PD_WIRE_CLASS_DRM &&
	    (be->features & PD_WIRE_FEAT_POLL_STATE) &&
	    be_poll_arm(be, h, POLLIN | POLLRDNORM))
		be_log(be, "%s: cannot watch its events: %s", e->path,
		       strerror(errno));
	if (e->info.class < PD_WIRE_CLASS_COUNT) {
		h->hooks = be->hooks[e->info.class];
		h->hooks_data = be->hooks_data[e->info.class];
	}
	if (h->hooks && h->hooks->opened)
		h->hooks->opened(h->hooks_data, h);
	if (be->tp->impl->attach && be->tp->impl->attach(be->tp, h->handle, fd))
		be_log(be, "attach of %s failed: %s (no mmap)", e->path,
		       strerror(errno));
	rsp.handle = h->handle;
	rsp.class = e->info.class;
	rsp.driver = e->info.driver;
	be_handle_put(be, h);
	be_reply(be, &job->hdr, 0, &rsp, sizeof(rsp));
}

static void op_release(struct be *be, struct be_job *job)
{
	struct be_handle *h;
	bool gate = false;
	int r;

	if (job->hdr.len) {
		be_reply(be, &job->hdr, -EINVAL, NULL, 0);
		return;
	}
	h = be_handle_get(be, job->hdr.handle);
	if (h && h->hooks && h->hooks->release)
		h->hooks->release(h->hooks_data, h);
	/* evdev's close runs under its device mutex (inline.c) */
	if (h)
		gate = be_inline_evdev_blocker(PD_OP_RELEASE, h->dev_class, 0);
	if (gate)
		be_evdev_gate_enter(be);
	if (h)
		be_handle_put(be, h);
	r = be_handle_release(be, job->hdr.handle);
	if (gate)
		be_evdev_gate_leave(be);
	be_reply(be, &job->hdr, r, NULL, 0);
}

/* close(2) of one guest descriptor: the real file's ->flush runs when a
 * descriptor of it is closed, so close a duplicate. */
static void op_flush(struct be *be, struct be_handle *h, struct be_job *job)
{
	bool gate;
	int fd, ret = 0;

	if (job->hdr.len) {
		be_reply(be, &job->hdr, -EINVAL, NULL, 0);
		return;
	}
	/* evdev's flush erases the file's force-feedback effects under its
	 * device mutex, waiting for a uinput owner (inline.c) */
	gate = be_inline_evdev_blocker(PD_OP_FLUSH, h->dev_class, 0);
	if (gate)
		be_evdev_gate_enter(be);
	fd = fcntl(h->fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0 || close(fd))
		ret = -errno;
	if (gate)
		be_evdev_gate_leave(be);
	be_reply(be, &job->hdr, ret, NULL, 0);
}

/*
 * read(2) of a file whose events are pushed (push_real): a read that
 * crossed a push (seen is not what was pushed) fails with ESTALE, before
 * it could take a newer event than the guest was sent; the check and the
 * read are one step against the pusher (read_lock). The descriptor never
 * blocks: a guest's blocking read waits here, woken by the file or after
 * 100 ms at most, and ends on a cancel (EINTR).
 */
static ssize_t read_real(struct be_handle *h, void *buf, size_t count,
			 bool nonblock, uint32_t seen)
{
	for (;;) {
		struct pollfd p = { .fd = h->fd, .events = POLLIN };
		ssize_t n;

		pthread_mutex_lock(&h->read_lock);
		if (atomic_load(&h->ev_pushed) != seen) {
			pthread_mutex_unlock(&h->read_lock);
			errno = ESTALE;
			return -1;
		}
		n = read(h->fd, buf, count);
		pthread_mutex_unlock(&h->read_lock);
		if (n >= 0 || errno != EAGAIN || nonblock)
			return n;
		if (poll(&p, 1, 100) < 0 && errno == EINTR)
			return -1;
	}
}

static bool op_read(struct be *be, struct be_handle *h, struct be_job *job)
{
	struct pd_wire_read_req r;
	struct pd_wire_io_rsp *io;
	uint8_t *buf;
	ssize_t n;

	if (take_body(job, &r, sizeof(r)) || r.count > PD_WIRE_MAX_IO ||
	    (r.seen && !(be->features & PD_WIRE_FEAT_EVENT_PUSH))) {
		be_reply(be, &job->hdr, -EINVAL, NULL, 0);
		return true;
	}
	buf = malloc(sizeof(*io) + r.count);
	if (!buf) {
		be_reply(be, &job->hdr, -ENOMEM, NULL, 0);
		return true;
	}
	if (!prepare_io(h, job)) {
		free(buf);
		return false;
	}
	if (h->push_real) {
		atomic_store(&h->ev_acked, r.seen);
		atomic_store(&h->push_held, false);
	}
	if (!h->hooks || !h->hooks->read ||
	    !h->hooks->read(h->hooks_data, h, buf + sizeof(*io), r.count,
			    job->hdr.flags & PD_WIRE_F_NONBLOCK, r.seen, &n))
		n = h->push_real ?
		    read_real(h, buf + sizeof(*io), r.count,
			      job->hdr.flags & PD_WIRE_F_NONBLOCK, r.seen) :
		    read(h->fd, buf + sizeof(*io), r.count);
	if (n > 0 && h->dev_class == PD_WIRE_CLASS_EVDEV)
		be_clock_evdev_fix(be, atomic_load(&h->evdev_clock),
				   buf + sizeof(*io), (size_t)n);
	if (n < 0) {
		reply_state(be, h, job, neg_errno(), NULL, 0);
	} else {
		io = (struct pd_wire_io_rsp *)buf;
		io->pos = r.pos + n;
		reply_state(be, h, job, n, buf, sizeof(*io) + n);
	}
	free(buf);
	return true;
}

static void op_write(struct be *be, struct be_handle *h, struct be_job *job)
{
	struct pd_wire_write_req r;
	struct pd_wire_io_rsp io;
	ssize_t n;

	if (job->hdr.len < sizeof(r)) {
		be_reply(be, &job->hdr, -EINVAL, NULL, 0);
		return;
	}
	memcpy(&r, job->body, sizeof(r));
	if (r.reserved || r.count > PD_WIRE_MAX_IO ||
	    job->hdr.len != sizeof(r) + r.count) {
		be_reply(be, &job->hdr, -EINVAL, NULL, 0);
		return;
	}
	prepare_io(h, job);
	n = write(h->fd, job->body + sizeof(r), r.count);
	if (n < 0) {
		reply_state(be, h, job, neg_errno(), NULL, 0);
		return;
	}
	io.pos = r.pos + n;
	reply_state(be, h, job, n, &io, sizeof(io));
}

static void op_llseek(struct be *be, struct be_handle *h, struct be_job *job)
{
	struct pd_wire_llseek_req r;
	off_t off;

	if (take_body(job, &r, sizeof(r)) || r.reserved || r.whence > 4) {
		be_reply(be, &job->hdr, -EINVAL, NULL, 0);
		return;
	}
	off = lseek(h->fd, r.offset, (int)r.whence);
	reply_state(be, h, job, off < 0 ? neg_errno() : off, NULL, 0);
}

#define BE_POLL_BITS (POLLIN | POLLPRI | POLLOUT | POLLERR | POLLHUP | \
		      POLLRDNORM | POLLRDBAND | POLLWRNORM | POLLWRBAND | \
		      POLLMSG | POLLRDHUP)

static void op_poll(struct be *be, struct be_handle *h, struct be_job *job)
{
	struct pd_wire_poll_req r;
	struct pd_wire_poll_ev rsp = { 0 };
	struct pollfd p;
	bool armed;
	int n;

	if (take_body(job, &r, sizeof(r)) || r.reserved ||
	    (r.events & ~(uint32_t)BE_POLL_BITS)) {
		be_reply(be, &job->hdr, -EINVAL, NULL, 0);
		return;
	}
	p.fd = h->fd;
	p.events = (short)r.events;
	p.revents = 0;
	/* the sequence as we look: events after the look are newer */
	rsp.seq = atomic_load(&h->poll_seq);
	n = poll(&p, 1, 0);
	if (n < 0) {
		be_reply(be, &job->hdr, neg_errno(), NULL, 0);
		return;
	}
	if (h->hooks && h->hooks->poll)
		p.revents |= (short)(h->hooks->poll(h->hooks_data, h) &
				     r.events);
	/* Armed before the reply: a change after our look is not missed.
	 * Also when something is ready already: the event that comes at once
	 * is what wakes an edge-triggered epoll in the guest again once the
	 * program has read everything (it calls poll no more until woken).
	 * With PD_WIRE_FEAT_POLL_STATE the body says it is armed: none if
	 * arming failed (the guest then believes nothing of it). */
	armed = r.events && (be->features & PD_WIRE_FEAT_POLL_EVENTS) &&
		!be_poll_arm(be, h, r.events);
	rsp.revents = (uint16_t)p.revents;
	if ((be->features & PD_WIRE_FEAT_POLL_SEQ) &&
	    (armed || !(be->features & PD_WIRE_FEAT_POLL_STATE)))
		be_reply(be, &job->hdr, rsp.revents, &rsp, sizeof(rsp));
	else
		be_reply(be, &job->hdr, rsp.revents, NULL, 0);
}

static void op_fasync(struct be *be, struct be_handle *h, struct be_job *job)
{
	struct pd_wire_fasync_req r;
	int fl, ret = 0;

	if (take_body(job, &r, sizeof(r)) || r.reserved || r.on > 1 ||
	    !(be->features & PD_WIRE_FEAT_FASYNC)) {
		be_reply(be, &job->hdr, -EINVAL, NULL, 0);
		return;
	}
	pthread_mutex_lock(&h->lock);
	fl = fcntl(h->fd, F_GETFL);
	if (fl < 0 ||
	    (r.on && (fcntl(h->fd, F_SETOWN, getpid()) ||
		      fcntl(h->fd, F_SETSIG, BE_SIG_IO))) ||
	    fcntl(h->fd, F_SETFL, r.on ? fl | O_ASYNC : fl & ~O_ASYNC))
		ret = -errno;
	pthread_mutex_unlock(&h->lock);
	be_reply(be, &job->hdr, ret, NULL, 0);
}

/* ------------------------------------------------------------------ */
/* ioctl                                                               */

struct ioctl_ctx {
	struct be *be;
	struct be_handle *held[PD_IOC_MAX_FIX];
	unsigned int nheld;
	uint32_t named;		/* the handle the first new file takes */
};

static int ctx_handle_to_fd(void *c, __u32 handle, int *fd)
{
	struct ioctl_ctx *ctx = c;
	struct be_handle *h;

	if (ctx->nheld >= PD_IOC_MAX_FIX)
		return -EINVAL;
	h = be_handle_get(ctx->be, handle);
	if (!h)
		return -EBADF;
	ctx->held[ctx->nheld++] = h;
	*fd = h->fd;
	return 0;
}

static int ctx_adopt(void *c, int fd, __u32 *handle, __u32 *flags)
{
	struct ioctl_ctx *ctx = c;
	struct be *be = ctx->be;
	struct be_handle *h;
	uint32_t named;
	int fl, fdfl;

	fl = fcntl(fd, F_GETFL);
	fdfl = fcntl(fd, F_GETFD);
	/* the handle the guest named for it (a fence: no mapping, so not
	 * attached), or a new one */
	named = ctx->named;
	ctx->named = 0;
	h = named ? be_handle_bind(be, named, fd) :
		    be_handle_new(be, fd, PD_WIRE_CLASS_NONE,
				  PD_WIRE_DRIVER_NONE);
	if (!h) {
		close(fd);
		return named ? -EBADF : -EMFILE;
	}
	h->nonblock = fl >= 0 && (fl & O_NONBLOCK);
	if (!named && be->tp->impl->attach &&
	    be->tp->impl->attach(be->tp, h->handle, fd))
		be_log(be, "attach of a new file failed: %s (no mmap)",
		       strerror(errno));
	*handle = h->handle;
	*flags = 0;
	if (fl >= 0)
		*flags |= (fl & O_ACCMODE) == O_RDWR ? PD_WIRE_O_RDWR :
			  (fl & O_ACCMODE) == O_WRONLY ? PD_WIRE_O_WRONLY :
							 PD_WIRE_O_RDONLY;
	if (h->nonblock)
		*flags |= PD_WIRE_O_NONBLOCK;
	if (fdfl >= 0 && (fdfl & FD_CLOEXEC))
		*flags |= PD_WIRE_O_CLOEXEC;
	be_handle_put(be, h);
	return 0;
}

static void ctx_release(void *c, __u32 handle)
{
	struct ioctl_ctx *ctx = c;

	be_handle_release(ctx->be, handle);
}

static const struct pd_dec_ops dec_ops = {
	.handle_to_fd = ctx_handle_to_fd,
	.adopt = ctx_adopt,
	.release = ctx_release,
};

static _Thread_local struct pd_dec_call *thread_dc;

/*
 * The GEM buffers and syncobjs a guest makes on DRM files, counted per
 * file and per guest (be.objects) against max.objects (paradice.conf
 * max_objects): +1 for an ioctl that makes a handle, -1 for one that
 * frees one, both only when the real ioctl succeeded; a file's count goes
 * when the file closes (handles.c). An import of something already
 * imported counts twice though it is one handle: the count errs high.
 */
static int object_delta(const struct be_handle *h, unsigned int cmd)
{
	if (h->dev_class != PD_WIRE_CLASS_DRM)
		return 0;
	switch (cmd) {
	case DRM_IOCTL_MODE_CREATE_DUMB:
	case DRM_IOCTL_SYNCOBJ_CREATE:
	case DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE:
	case DRM_IOCTL_PRIME_FD_TO_HANDLE:
	case DRM_IOCTL_GEM_OPEN:
	case DRM_IOCTL_AMDGPU_GEM_CREATE:
	case DRM_IOCTL_RADEON_GEM_CREATE:
	case DRM_IOCTL_VIRTGPU_RESOURCE_CREATE:
	case DRM_IOCTL_VIRTGPU_RESOURCE_CREATE_BLOB:
		return 1;
	case DRM_IOCTL_MODE_DESTROY_DUMB:
	case DRM_IOCTL_SYNCOBJ_DESTROY:
	case DRM_IOCTL_GEM_CLOSE:
		return -1;
	default:
		return 0;
	}
}

/* Reserve one object before an ioctl that makes one: 0 or -ENOSPC. */
static int object_reserve(struct be *be, struct be_handle *h,
			  const char *name)
{
	uint32_t max = be->max.objects ? be->max.objects :
					  HOSTD_DEFAULT_MAX_OBJECTS;
	uint32_t now;

	pthread_mutex_lock(&be->lock);
	now = be->objects;
	if (now < max) {
		be->objects++;
		h->objects++;
	}
	pthread_mutex_unlock(&be->lock);
	if (now < max)
		return 0;
	be_log(be, "ioctl %s refused: %u GEM buffers and syncobjs, the limit "
	       "is %u (max_objects)", name, now, max);
	return -ENOSPC;
}

/* After the real ioctl: undo a reservation that failed, count a free. */
static void object_settle(struct be *be, struct be_handle *h, int delta,
			  bool ok)
{
	pthread_mutex_lock(&be->lock);
	if ((delta > 0 && !ok) || (delta < 0 && ok && h->objects)) {
		h->objects--;
		be->objects--;
	}
	pthread_mutex_unlock(&be->lock);
}

/* Is fd an anonymous-inode file (a sync_file, a syncobj file), as our
 * eventfd is, rather than a dma-buf or a device file? */
static bool anon_inode_file(struct be *be, int fd)
{
	struct stat a, b;

	return !fstat(fd, &a) && !fstat(be->wakefd, &b) &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/*
 * The poll states an ioctl's reply carries (PD_WIRE_FEAT_POLL_STATE): h's
 * after the ioctl ran, if armed, and each new file's that is armed now:
 * an anonymous-inode file that polls (a sync_file: an out-fence, which
 * the guest's next call on it is likely a poll of; a syncobj file has no
 * poll and arming fails) is armed for reading at once, so that its first
 * poll needs no trip. Dma-bufs are not: their waits would send an event
 * at every fence of the buffer. An asynchronous call's reply carries only
 * the state of the file made under the handle the guest named (pd_wire.h
 * 1.8). The number of states in states[].
 */
static uint32_t ioctl_states(struct be *be, struct be_handle *h,
			     const struct be_job *job,
			     const struct pd_dec_call *dc,
			     struct pd_wire_poll_state *states)
{
	bool async = job->hdr.flags & PD_WIRE_F_ASYNC;
	uint32_t n = 0;

	if (!(be->features & PD_WIRE_FEAT_POLL_STATE))
		return 0;
	if (!async && be_poll_state(h, &states[n]))
		n++;
	for (uint32_t i = 0; i < dc->nnewfd; i++) {
		struct be_handle *nh;

		/* an asynchronous call's: only the file the guest named */
		if (async && dc->newfd[i].handle != job->named)
			continue;
		nh = be_handle_get(be, dc->newfd[i].handle);
		if (!nh)
			continue;
		if (anon_inode_file(be, nh->fd) &&
		    !be_poll_arm(be, nh, POLLIN | POLLRDNORM | POLLRDBAND) &&
		    be_poll_state(nh, &states[n]))
			n++;
		be_handle_put(be, nh);
	}
	/* the guest finds its own by handle; h's first if it has one */
	return n;
}

static bool op_ioctl(struct be *be, struct be_handle *h, struct be_job *job)
{
	struct ioctl_ctx ctx = { .be = be, .named = job->named };
	struct pd_dec_call *dc = thread_dc;
	struct pd_wire_poll_state states[1 + PD_WIRE_IOCTL_MAX_NEWFDS];
	uint32_t nstates;
	bool stateful, screens;
	int64_t r;
	size_t n;
	uint8_t *out;
	int ret, delta;
	bool gate;

	if (!dc)
		dc = thread_dc = pd_dec_create();
	if (!dc) {
		be_reply(be, &job->hdr, -ENOMEM, NULL, 0);
		return true;
	}
	/* the state lock also fixes the descriptor's O_NONBLOCK for the
	 * call; the reader never waits for it (a worker may hold it across
	 * a stateful ioctl that blocks) */
	if (job->on_reader) {
		if (pthread_mutex_trylock(&h->lock))
			return false;
	} else {
		pthread_mutex_lock(&h->lock);
	}
	/* screened commands (atomic, OBJ_SETPROPERTY) only where the
	 * class hooks answer them all, never on the real card */
	screens = h->hooks && h->hooks->screens &&
		  h->hooks->screens(h->hooks_data, h);
	ret = pd_dec_ioctl(dc, h->dev_class, h->driver, &h->st, job->body,
			   job->hdr.len, &dec_ops, &ctx,
			   screens ? PD_DEC_ALLOW_SCREENED : 0);
	stateful = dc->flags & (PD_IOC_F_USES_STATE | PD_IOC_F_LEARN |
				PD_IOC_F_FORGET);
	if (!ret && (job->hdr.flags & PD_WIRE_F_ASYNC) &&
	    !(dc->flags & PD_IOC_F_ASYNC) &&
	    !((dc->flags & PD_IOC_F_ORDERED) && job->in_order)) {
		/* it would run on the reader, which must never block; an
		 * ordered one runs on a worker in its file's order */
		dc->why = "not a command that may be asynchronous";
		ret = -EINVAL;
	}
	if (!ret && dc->new_handle != job->named) {
		/* only an ordered ioctl's, reserved as it came (request.c) */
		dc->why = "new_handle not reserved";
		ret = -EINVAL;
	}
	if (ret) {
		pthread_mutex_unlock(&h->lock);
		be_log(be, "ioctl 0x%08x (%s) refused: %s", dc->cmd,
		       dc->name ? dc->name : "?", dc->why ? dc->why : "?");
		r = ret;
		goto reply_err;
	}
	delta = object_delta(h, dc->cmd);
	if (delta > 0 && (ret = object_reserve(be, h, dc->name ? dc->name :
					       "?"))) {
		pthread_mutex_unlock(&h->lock);
		r = ret;
		goto reply_err;
	}
	set_nonblock(h, job->hdr.flags & PD_WIRE_F_NONBLOCK);
	if (!stateful)
		pthread_mutex_unlock(&h->lock);
	errno = 0;
	if (!(dc->flags & (PD_IOC_F_DISPLAY | PD_IOC_F_OWNER)) || !h->hooks ||
	    !h->hooks->ioctl ||
	    !h->hooks->ioctl(h->hooks_data, h, dc->cmd, (void *)dc->arg,
			     &ret)) {
		if (dc->flags & PD_IOC_F_SCREEN) {	/* never unscreened */
			errno = EPERM;
			ret = -1;
		} else {
			/* one that may wait under evdev's mutex (inline.c) */
			gate = !job->on_reader &&
			       be_inline_evdev_blocker(PD_OP_IOCTL,
						       h->dev_class, dc->flags);
			if (gate)
				be_evdev_gate_enter(be);
			ret = ioctl(h->fd, dc->cmd, dc->arg);
			if (gate)
				be_evdev_gate_leave(be);
		}
	}
	/* taken away while it ran (v4l2own.c): a QBUF after the stream was
	 * stopped says so as an unplugged device would, not EINVAL */
	if (ret < 0 && atomic_load(&h->revoked))
		errno = ENODEV;
	/* evdev stamps with the clock the guest chose: its reads are made
	 * the guest's same clock (clock.c) */
	if (ret >= 0 && dc->cmd == EVIOCSCLOCKID &&
	    h->dev_class == PD_WIRE_CLASS_EVDEV && dc->arg)
		atomic_store(&h->evdev_clock, *(int *)(uintptr_t)dc->arg);
	/* and ALSA's status stamps, the clock the guest chose (clock.c) */
	if (ret >= 0 && h->dev_class == PD_WIRE_CLASS_SND_PCM && dc->arg)
		be_clock_snd_fix(be, &h->snd_tstamp_type, dc->cmd,
				 (void *)(uintptr_t)dc->arg);
	r = pd_dec_after(dc, &h->st, ret < 0 ? neg_errno() : ret);
	/* nobody will install what an asynchronous call made (pd_wire.h),
	 * but the file under the handle the guest named */
	for (uint32_t i = 0; job->hdr.flags & PD_WIRE_F_ASYNC &&
			     i < dc->nnewfd; i++)
		if (dc->newfd[i].handle != job->named)
			be_handle_release(be, dc->newfd[i].handle);
	if (delta)
		object_settle(be, h, delta, ret >= 0);
	if (stateful)
		pthread_mutex_unlock(&h->lock);
	n = pd_dec_reply_len(dc);
	out = malloc(n);
	if (!out || pd_dec_reply_write(dc, out, n)) {
		free(out);
		r = -ENOMEM;
		goto reply_err;
	}
	nstates = ioctl_states(be, h, job, dc, states);
	be_reply_states(be, &job->hdr, r, out, n, states, nstates);
	free(out);
	goto out;
reply_err:
	be_reply(be, &job->hdr, r, NULL, 0);
out:
	for (unsigned int i = 0; i < ctx.nheld; i++)
		be_handle_put(be, ctx.held[i]);
	return true;
}

static bool run_job(struct be *be, struct be_job *job);

/*
 * Run one request (in a worker thread, or on the reader: request.c).
 * CONNECT comes first; until then everything else gets -ENOTCONN.
 * Then a handle the guest named for what it made names its file, or
 * nothing (handles.c), before the order it waits in goes on.
 */
bool be_run_job(struct be *be, struct be_job *job)
{
	bool ran = run_job(be, job);

	if (ran && job->named)
		be_handle_unreserve(be, job->named);
	return ran;
}

static bool run_job(struct be *be, struct be_job *job)
{
	struct be_handle *h;
	bool ran = true;

	if (job->hdr.op == PD_OP_CONNECT) {
		op_connect(be, job);
		return true;
	}
	if (!atomic_load(&be->connected)) {
		be_reply(be, &job->hdr, -ENOTCONN, NULL, 0);
		return true;
	}
	switch (job->hdr.op) {
	case PD_OP_EXPORT_INFO:
		op_export_info(be, job);
		return true;
	case PD_OP_CLOCK:
		be_op_clock(be, job);
		return true;
	case PD_OP_OPEN:
		op_open(be, job);
		return true;
	case PD_OP_RELEASE:
		op_release(be, job);
		return true;
	case PD_OP_FAULT:
		/* by map id: a mapping outlives its handle's RELEASE */
		be_op_fault(be, job);
		return true;
	case PD_OP_MUNMAP:
		be_op_munmap(be, job);
		return true;
	default:
		break;
	}
	h = be_handle_get(be, job->hdr.handle);
	if (!h) {
		be_reply(be, &job->hdr, -EBADF, NULL, 0);
		return true;
	}
	/* taken away (v4l2own.c): as an unplugged device answers */
	if (atomic_load(&h->revoked) && job->hdr.op != PD_OP_FLUSH) {
		be_reply(be, &job->hdr, -ENODEV, NULL, 0);
		be_handle_put(be, h);
		return true;
	}
	switch (job->hdr.op) {
	case PD_OP_FLUSH:
		op_flush(be, h, job);
		break;
	case PD_OP_READ:
		ran = op_read(be, h, job);
		break;
	case PD_OP_WRITE:
		op_write(be, h, job);
		break;
	case PD_OP_LLSEEK:
		op_llseek(be, h, job);
		break;
	case PD_OP_POLL:
		op_poll(be, h, job);
		break;
	case PD_OP_IOCTL:
		ran = op_ioctl(be, h, job);
		break;
	case PD_OP_FASYNC:
		op_fasync(be, h, job);
		break;
	case PD_OP_MMAP:
		/* maps.c; the loop transport maps the real file instead */
		if (h->hooks && h->hooks->mmap) {
			int e = h->hooks->mmap(h->hooks_data, h);

			if (e) {
				be_reply(be, &job->hdr, e, NULL, 0);
				break;
			}
		}
		be_op_mmap(be, h, job);
		break;
	default:
		be_reply(be, &job->hdr, -EOPNOTSUPP, NULL, 0);
		break;
	}
	be_handle_put(be, h);
	return ran;
}
