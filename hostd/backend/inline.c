// SPDX-License-Identifier: GPL-2.0-only
/*
 * The rule for what the backend's reader runs itself (request.c): a
 * synchronous request that cannot wait is run on the reader, its reply
 * sent before the next request is taken, saving the handoff to a worker
 * (a futex wake and a thread switch, most of the backend's share of a
 * small ioctl's trip: docs/xen-transport.md). A request that may wait
 * must never run there: every later request of the guest would wait
 * with it. "Wait" means for the device, a fence, an event, another
 * request of the guest, hostd, or a lock something holds across such a
 * wait. When in doubt, a worker.
 *
 * What runs inline, and why it cannot wait (drivers as in Linux 6.1):
 *
 *   - IOCTL whose table entry says PD_IOC_F_INLINE (checked per entry,
 *     common/desc_*.c: DRM VERSION, GET_UNIQUE, GET_CAP, virtio-gpu
 *     GETPARAM, evdev EVIOCG*, ALSA PCM INFO and the versions) or
 *     PD_IOC_F_ASYNC (frees or queues, already run on the reader when
 *     sent asynchronously). Not when the file's class hooks answer a
 *     PD_IOC_F_DISPLAY or PD_IOC_F_OWNER command and do not say they
 *     never wait: the virtual KMS under hostd (vkms/) takes its lock,
 *     which is held across sends to hostd.
 *   - POLL on a DRM or evdev file: a poll(2) with a zero timeout, whose
 *     drm_poll() and evdev_poll() take no lock, and an epoll_ctl().
 *     Not when class hooks add their own bits (the virtual KMS: its
 *     lock). Not ALSA (a nonatomic PCM's poll takes the stream mutex,
 *     held across its driver's trigger), V4L2 (vb2's poll takes the
 *     queue's lock, which drivers hold across device I/O) or files the
 *     backend adopted (a dma-buf's poll takes its reservation lock,
 *     which drivers hold across command submission).
 *   - READ with PD_WIRE_F_NONBLOCK on a DRM or evdev file: evdev_read()
 *     takes no mutex, drm_read() its event_read_lock, which a blocking
 *     reader drops before it sleeps. Not with a read hook (the virtual
 *     KMS's events: its lock).
 *
 * Everything else goes to a worker: OPEN, RELEASE, FLUSH (a driver's
 * release and flush may wait for the device), WRITE, a blocking READ,
 * MMAP, FAULT, and every other ioctl.
 *
 * Two waits the rule cannot see are avoided where the request runs
 * (request.c, ops.c): the backend's per-file lock, which a worker holds
 * across a stateful ioctl that may block (ALSA WRITEI), is only tried by
 * the reader, which hands the request to a worker if it is taken; and
 * evdev's device mutex, which evdev holds across an EVIOCSFF/EVIOCRMFF
 * on a uinput device (waiting for the uinput owner) and across open,
 * flush and close: the guest's own such requests (be_inline_evdev_blocker)
 * hold be.evdev_gate for writing on their worker, and an inline evdev
 * query only tries it for reading.
 */
#include <paradice/pd_wire.h>
#include "pd_ioctl.h"
#include "inline.h"

static bool class_io_inline(uint16_t dev_class)
{
	return dev_class == PD_WIRE_CLASS_DRM ||
	       dev_class == PD_WIRE_CLASS_EVDEV;
}

bool be_inline_rule(const struct be_inline_req *r)
{
	switch (r->op) {
	case PD_OP_IOCTL:
		if (!(r->ioc_flags & (PD_IOC_F_INLINE | PD_IOC_F_ASYNC)))
			return false;
		if ((r->ioc_flags & (PD_IOC_F_DISPLAY | PD_IOC_F_OWNER)) &&
		    r->hook_ioctl && !r->hooks_never_wait)
			return false;
		return true;
	case PD_OP_POLL:
		return class_io_inline(r->dev_class) &&
		       (!r->hook_poll || r->hooks_never_wait);
	case PD_OP_READ:
		return (r->wire_flags & PD_WIRE_F_NONBLOCK) &&
		       class_io_inline(r->dev_class) &&
		       (!r->hook_read || r->hooks_never_wait);
	default:
		return false;
	}
}

bool be_inline_evdev_blocker(uint16_t op, uint16_t dev_class,
			     unsigned int ioc_flags)
{
	if (dev_class != PD_WIRE_CLASS_EVDEV)
		return false;
	switch (op) {
	case PD_OP_OPEN:
	case PD_OP_FLUSH:
	case PD_OP_RELEASE:
		return true;
	case PD_OP_IOCTL:
		return !(ioc_flags & PD_IOC_F_INLINE);
	default:
		return false;
	}
}
