// SPDX-License-Identifier: GPL-2.0-only
/*
 * A V4L2 queue's buffers belong to the guest file that made them.
 *
 * Linux ties a vb2 queue to the file that allocated its buffers (REQBUFS,
 * CREATE_BUFS): QBUF, DQBUF, STREAMON and EXPBUF from another file get
 * EBUSY. QUERYBUF and mmap() are not tied: any opener of /dev/video0 may
 * ask for a buffer's offset and map it, hence read the frames another
 * program captures. Two guests given one camera would each see the
 * other's stream that way. So here, for every guest file of the V4L2
 * class, QUERYBUF, EXPBUF and mmap are answered only for the file that
 * owns the queue's buffers (its last REQBUFS or CREATE_BUFS that made
 * buffers succeeded, and no REQBUFS of 0 freed them since); any other
 * file gets EBUSY, as vb2 answers a file that does not own the queue.
 * Unlike natively, a second file of the same guest cannot map the
 * owner's buffers either (no capture program we know does).
 *
 * The camera under hostd (be_v4l2own_camera(), hostd's PD_DISP_CAMERA:
 * hostd/camera.c): while another guest owns a capture device, this
 * guest's files of it get EBUSY for REQBUFS, CREATE_BUFS and read, as a
 * driver answers a program while another streams; they may still query
 * it. When the camera leaves this guest, its open files of the device are
 * taken away as an unplug: PD_EV_REVOKE, every later request ENODEV
 * (ops.c), a DQBUF waiting in the driver ENODEV too; the real stream is
 * stopped and the queue's buffers freed (vb2 orphans those the guest
 * still maps: they hold its own last frames, and no frame of the next
 * owner ever lands in them), and the real file closed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/videodev2.h>

#include "backend.h"
#include "v4l2own.h"

static void not_owner(struct be *be, struct be_handle *h, const char *what)
{
	if (h->owner_logged)
		return;
	h->owner_logged = true;
	be_log(be, "handle %u: %s refused (EBUSY): another file owns the "
	       "video queue's buffers", h->handle, what);
}

/* The export h was opened from, if it is one of be's. */
static struct be_export *export_of(struct be *be, const struct be_handle *h)
{
	for (uint32_t i = 0; h->path && i < be->nexports; i++)
		if (be->exports[i].path == h->path)
			return &be->exports[i];
	return NULL;
}

/* Is h's device a camera another guest owns now? Logged once per file. */
static bool camera_away(struct be *be, struct be_handle *h, const char *what)
{
	struct be_export *e = export_of(be, h);

	if (!e || !atomic_load(&e->camera_away))
		return false;
	if (!h->owner_logged) {
		h->owner_logged = true;
		be_log(be, "handle %u: %s of %s refused (EBUSY): another guest "
		       "has the camera", h->handle, what, h->path);
	}
	return true;
}

/*
 * A dequeued buffer's time (CLOCK_MONOTONIC, as vb2 stamps it unless the
 * driver copies an output's) made the guest's same clock, as clock.c does
 * for vblanks and evdev events: programs compare it with their own
 * clock_gettime() (GStreamer's v4l2src times its buffers by it).
 */
static void timestamp_to_guest(struct be *be, struct v4l2_buffer *b)
{
	int64_t sec, nsec;

	if ((b->flags & V4L2_BUF_FLAG_TIMESTAMP_MASK) !=
	    V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC ||
	    !atomic_load(&be->clock_off[PD_WIRE_CLOCK_MONOTONIC]))
		return;
	sec = b->timestamp.tv_sec;
	nsec = b->timestamp.tv_usec;
	if (nsec < 0 || nsec >= 1000000)
		return;		/* not a time vb2 makes */
	nsec *= 1000;
	if (!be_clock_time_to_guest(be, PD_WIRE_CLOCK_MONOTONIC, &sec, &nsec))
		return;		/* not a time vb2 makes */
	b->timestamp.tv_sec = sec;
	b->timestamp.tv_usec = nsec / 1000;
}

static bool v4l2own_ioctl(void *data, struct be_handle *h, unsigned int cmd,
			  void *arg, int *ret)
{
	struct be *be = data;

	switch (cmd) {
	case VIDIOC_REQBUFS: {
		struct v4l2_requestbuffers *r = arg;

		if (r->count && camera_away(be, h, "REQBUFS")) {
			errno = EBUSY;
			*ret = -1;
			return true;
		}
		*ret = ioctl(h->fd, cmd, arg);
		if (*ret == 0 && r->count > 0)
			h->buf_type = r->type;
		if (*ret == 0)
			atomic_store(&h->buf_owner, r->count > 0);
		return true;
	}
	case VIDIOC_CREATE_BUFS: {
		struct v4l2_create_buffers *c = arg;
		int e;

		if (camera_away(be, h, "CREATE_BUFS")) {
			errno = EBUSY;
			*ret = -1;
			return true;
		}
		*ret = ioctl(h->fd, cmd, arg);
		e = errno;
		if (*ret == 0 && c->count > 0) {
			h->buf_type = c->format.type;
			atomic_store(&h->buf_owner, true);
		}
		errno = e;
		return true;
	}
	case VIDIOC_DQBUF:
		/* woken by be_v4l2own_camera()'s STREAMOFF: ENODEV (ops.c) */
		*ret = ioctl(h->fd, cmd, arg);
		if (*ret == 0)
			timestamp_to_guest(be, arg);
		return true;
	case VIDIOC_QUERYBUF:
	case VIDIOC_EXPBUF:
		if (atomic_load(&h->buf_owner))
			return false;
		not_owner(be, h, cmd == VIDIOC_QUERYBUF ? "QUERYBUF" :
			  "EXPBUF");
		errno = EBUSY;
		*ret = -1;
		return true;
	default:
		return false;
	}
}

/* read() I/O: vb2 makes the queue's buffers at the first read */
static bool v4l2own_read(void *data, struct be_handle *h, void *buf,
			 size_t count, bool nonblock, uint32_t seen, ssize_t *n)
{
	(void)seen;
	(void)buf;
	(void)count;
	(void)nonblock;
	if (!camera_away(data, h, "read"))
		return false;
	errno = EBUSY;
	*n = -1;
	return true;
}

static int v4l2own_mmap(void *data, struct be_handle *h)
{
	if (atomic_load(&h->buf_owner))
		return 0;
	not_owner(data, h, "mmap");
	return -EBUSY;
}

/*
 * One file taken away: the guest told, the real file out of h's reach
 * first (an inert descriptor takes its number, so that a request still
 * running on it touches nothing else and none after reaches the camera),
 * then the stream stopped and the buffers freed through a copy of it. A
 * STREAMON of the guest's that was already in the driver may land between
 * our STREAMOFF and REQBUFS 0 (vb2 then refuses the REQBUFS: streaming);
 * so again, a few times. Both go whether or not h's REQBUFS was seen to
 * succeed (one may have been in the driver when the camera left): a file
 * that does not own the queue gets EBUSY from vb2 and changes nothing.
 * Left streaming, the queue would stay the backend's as long as a mapping
 * of the guest's keeps the real file open, and every other program would
 * get EBUSY.
 */
static void revoke_one(struct be *be, struct be_handle *h, int reason)
{
	struct pd_wire_revoke_ev ev = { .reason = reason };
	struct v4l2_requestbuffers rb = {
		.count = 0,
		.type = h->buf_type ? h->buf_type : V4L2_BUF_TYPE_VIDEO_CAPTURE,
		.memory = V4L2_MEMORY_MMAP,
	};
	int type = (int)rb.type, real, inert, tries = 0;
	bool owner = atomic_load(&h->buf_owner);

	atomic_store(&h->revoked, true);
	if (be->features & PD_WIRE_FEAT_REVOKE)
		be_send_event(be, PD_EV_REVOKE, h->handle, &ev, sizeof(ev));
	real = fcntl(h->fd, F_DUPFD_CLOEXEC, 0);
	inert = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (inert < 0 || dup3(inert, h->fd, O_CLOEXEC) < 0)
		be_log(be, "handle %u: the real file stays open: %s",
		       h->handle, strerror(errno));
	if (inert >= 0)
		close(inert);
	if (real < 0) {
		be_log(be, "handle %u: cannot stop its stream: %s", h->handle,
		       strerror(errno));
		return;
	}
	for (;;) {
		if (ioctl(real, VIDIOC_STREAMOFF, &type) && owner &&
		    errno != EINVAL)
			be_log(be, "handle %u: STREAMOFF: %s", h->handle,
			       strerror(errno));
		if (!ioctl(real, VIDIOC_REQBUFS, &rb))
			break;
		/* EBUSY: not the owner (then owner is false: nothing to
		 * say), or a STREAMON that came between */
		if (errno == EBUSY && owner && ++tries < 5) {
			usleep(20000);
			continue;
		}
		if (owner)
			be_log(be, "handle %u: REQBUFS 0: %s", h->handle,
			       strerror(errno));
		break;
	}
	atomic_store(&h->buf_owner, false);
	close(real);
}

void be_v4l2own_camera(struct be *be, const char *path, bool owned,
		       int reason)
{
	struct be_export *e = NULL;
	struct be_handle **hs;
	unsigned int n = 0;

	for (uint32_t i = 0; i < be->nexports && !e; i++)
		if (!strcmp(be->exports[i].path, path))
			e = &be->exports[i];
	if (!e) {
		be_log(be, "hostd says whose camera %s is: not one of ours",
		       path);
		return;
	}
	atomic_store(&e->camera_away, !owned);
	if (owned) {
		be_log(be, "%s: the camera is this guest's now", path);
		return;
	}
	if (reason >= 0 || reason < -4095)
		reason = -ENODEV;
	pthread_mutex_lock(&be->lock);
	hs = calloc(be->next_handle ? be->next_handle : 1, sizeof(*hs));
	for (uint32_t i = 0; hs && i < be->next_handle; i++) {
		struct be_handle *h = be->handles[i];

		if (h && !h->gone && h->path && !strcmp(h->path, path) &&
		    !atomic_load(&h->revoked)) {
			h->refs++;
			hs[n++] = h;
		}
	}
	pthread_mutex_unlock(&be->lock);
	if (!hs) {
		be_log(be, "cannot take %s away: out of memory", path);
		return;
	}
	for (unsigned int i = 0; i < n; i++) {
		revoke_one(be, hs[i], reason);
		be_handle_put(be, hs[i]);
	}
	be_log(be, "%s: another guest has the camera: %u open file%s taken "
	       "away (%s)", path, n, n == 1 ? "" : "s", strerror(-reason));
	free(hs);
}

const struct be_class_hooks be_v4l2own_hooks = {
	.ioctl = v4l2own_ioctl,
	.read = v4l2own_read,
	.mmap = v4l2own_mmap,
};
