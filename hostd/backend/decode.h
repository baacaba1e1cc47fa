/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The backend's ioctl request decoder. A request arrives as untrusted
 * bytes from one guest; the decoder checks it against the same descriptor
 * tables the guest's frontend used, rebuilds the argument in backend
 * memory with every nested pointer pointing to backend buffers and every
 * handle turned into a backend descriptor, and after the real ioctl builds
 * the reply: the bytes to copy to each guest buffer and the new files.
 *
 * Use:
 *	dc = pd_dec_create();
 *	r = pd_dec_ioctl(dc, class, driver, &file_state, body, len, &ops,
 *			 ctx, 0);
 *	if (r == 0) {
 *		ret = ioctl(fd, dc->cmd, dc->arg);
 *		r = pd_dec_after(dc, &file_state, ret < 0 ? -errno : ret);
 *		n = pd_dec_reply_len(dc);
 *		pd_dec_reply_write(dc, buf, n);  // reply body; hdr.result = r
 *	}
 *	// on r < 0 before the call: reply with r and no body, and log
 *	// once: guest, dc->name, dc->field, dc->why
 *	pd_dec_destroy(dc);
 *
 * Locking: when dc->flags has PD_IOC_F_USES_STATE, LEARN or FORGET, the
 * caller holds the file's state lock from pd_dec_ioctl() to pd_dec_after():
 * the lengths of the buffers come from that state, and the driver must see
 * the same geometry the buffers were sized for.
 */
#ifndef PARADICE_BACKEND_DECODE_H
#define PARADICE_BACKEND_DECODE_H

#include <stddef.h>

#include "pd_ioctl.h"

/* pd_dec_ioctl() flags */
#define PD_DEC_ALLOW_SCREENED	(1u << 0)	/* the caller screens
						 * PD_IOC_F_SCREEN commands */

struct pd_dec_ops {
	/* The backend descriptor of a handle of this guest, or -EBADF. */
	int (*handle_to_fd)(void *ctx, __u32 handle, int *fd);
	/* Take a descriptor the driver just created as a new file of this
	 * guest. On failure the callee closes fd. */
	int (*adopt)(void *ctx, int fd, __u32 *handle, __u32 *flags);
	/* Undo an adopt (the call failed after it). */
	void (*release)(void *ctx, __u32 handle);
};

struct pd_dec_call {
	__u32 cmd;		/* for ioctl(2) */
	unsigned long arg;	/* for ioctl(2) */
	unsigned int flags;	/* PD_IOC_F_* of the command */
	const char *why;	/* what check failed, for the log */
	const char *name;	/* the command's name, once known */
	const char *field;	/* the field at fault, when known */
	__s64 result;
	__u32 new_handle;	/* the request's (pd_wire.h 1.8), or 0 */

	/* private */
	const struct pd_dec_ops *ops;
	void *ctx;
	__u8 *arena;
	__u32 arena_cap;
	__u32 arena_used;
	const __u8 *untrusted_data;
	__u32 untrusted_data_len;
	__u32 wire_nbufs;
	__u32 nnewfd;
	int fix_fd[PD_IOC_MAX_FIX];
	struct pd_wire_newfd newfd[PD_WIRE_IOCTL_MAX_NEWFDS];
	struct pd_wire_buf wire[PD_WIRE_IOCTL_MAX_BUFS];
	struct pd_ioc_call ioc;
};

struct pd_dec_call *pd_dec_create(void);
void pd_dec_destroy(struct pd_dec_call *dc);

int pd_dec_ioctl(struct pd_dec_call *dc, unsigned int dev_class,
		 unsigned int driver, const struct pd_ioc_state *st,
		 const void *untrusted_body, size_t untrusted_len,
		 const struct pd_dec_ops *ops, void *ctx, unsigned int flags);
__s64 pd_dec_after(struct pd_dec_call *dc, struct pd_ioc_state *st,
		   __s64 result);
size_t pd_dec_reply_len(const struct pd_dec_call *dc);
int pd_dec_reply_write(const struct pd_dec_call *dc, void *out, size_t cap);

#endif /* PARADICE_BACKEND_DECODE_H */
