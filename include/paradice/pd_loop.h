/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * Paradice loop transport: the control interface of the frontend's
 * character device /dev/paradice-loop, between the frontend module and a
 * backend process in the same kernel.
 *
 * Messages themselves are those of pd_wire.h, one per read(2) or write(2)
 * of the device (see "Transports and framing" there). What is here is not
 * wire protocol: it only means something when both ends share one kernel,
 * so the Xen transport has nothing like it.
 *
 *   open(2)    one open file = one connection = one "guest" with its own
 *              export list. The frontend sends PD_OP_CONNECT as the first
 *              request, then PD_OP_EXPORT_INFO for every export, then
 *              creates the forwarded device nodes.
 *   read(2)    one whole request (blocks unless O_NONBLOCK); the buffer
 *              must hold PD_WIRE_MAX_MSG bytes or -EINVAL is returned and
 *              the request stays queued.
 *   write(2)   one whole reply or event.
 *   poll(2)    POLLIN while a request waits to be read.
 *   close(2)   closes the connection: requests in flight fail with -EIO,
 *              the forwarded nodes disappear, open forwarded files return
 *              -EIO until closed.
 *
 * PD_LOOP_IOC_ATTACH: before it replies to a request that creates a handle
 * (PD_OP_OPEN, or an ioctl with new-file records), the backend names the
 * real file behind the handle by its own descriptor. The frontend takes a
 * reference to that struct file (fget in the backend's context) and hands
 * the program's mmap() of the forwarded file to it, as overlayfs does, so
 * the real driver serves the mapping: zero copy, no PD_OP_MMAP/FAULT.
 *
 * PD_LOOP_IOC_NODES: waits until the frontend has created the forwarded
 * nodes of the connection, then describes up to `count` of them; `count`
 * comes back as the number of exports and `status` as 0 or the negative
 * errno that stopped the setup. An export whose node could not be created
 * has path[0] == 0.
 */
#ifndef PARADICE_PD_LOOP_H
#define PARADICE_PD_LOOP_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define PD_LOOP_DEVICE		"/dev/paradice-loop"
#define PD_LOOP_PATH_LEN	64u

struct pd_loop_attach {
	__u32 handle;		/* the handle of the reply to come */
	__s32 fd;		/* the backend's descriptor of the real file */
};

struct pd_loop_node {
	__u32 index;		/* export index */
	__u16 dev_class;	/* PD_WIRE_CLASS_* */
	__u16 driver;		/* PD_WIRE_DRIVER_* */
	__u32 major;		/* of the forwarded node, 0 if none */
	__u32 minor;
	char path[PD_LOOP_PATH_LEN];	/* e.g. "/dev/dri/card1", NUL ended */
};

struct pd_loop_nodes {
	__u32 count;		/* in: room in nodes; out: number of exports */
	__s32 status;		/* out: 0 or -errno of the setup */
	__u64 nodes;		/* struct pd_loop_node array */
};

#define PD_LOOP_IOC_ATTACH	_IOW('P', 0x01, struct pd_loop_attach)
#define PD_LOOP_IOC_NODES	_IOWR('P', 0x02, struct pd_loop_nodes)

_Static_assert(sizeof(struct pd_loop_attach) == 8, "pd_loop_attach size");
_Static_assert(sizeof(struct pd_loop_node) == 80, "pd_loop_node size");
_Static_assert(sizeof(struct pd_loop_nodes) == 16, "pd_loop_nodes size");

#endif /* PARADICE_PD_LOOP_H */
