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
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
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

static bool v4l2own_ioctl(void *data, struct be_handle *h, unsigned int cmd,
			  void *arg, int *ret)
{
	struct be *be = data;

	switch (cmd) {
	case VIDIOC_REQBUFS: {
		struct v4l2_requestbuffers *r = arg;

		*ret = ioctl(h->fd, cmd, arg);
		if (*ret == 0)
			atomic_store(&h->buf_owner, r->count > 0);
		return true;
	}
	case VIDIOC_CREATE_BUFS: {
		struct v4l2_create_buffers *c = arg;
		int e;

		*ret = ioctl(h->fd, cmd, arg);
		e = errno;
		if (*ret == 0 && c->count > 0)
			atomic_store(&h->buf_owner, true);
		errno = e;
		return true;
	}
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

static int v4l2own_mmap(void *data, struct be_handle *h)
{
	if (atomic_load(&h->buf_owner))
		return 0;
	not_owner(data, h, "mmap");
	return -EBUSY;
}

const struct be_class_hooks be_v4l2own_hooks = {
	.ioctl = v4l2own_ioctl,
	.mmap = v4l2own_mmap,
};
