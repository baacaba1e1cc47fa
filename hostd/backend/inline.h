/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Which synchronous requests the backend's reader runs itself instead of
 * handing them to a worker (request.c; the rule in inline.c). Pure: looks
 * only at what it is given.
 */
#ifndef PD_BACKEND_INLINE_H
#define PD_BACKEND_INLINE_H

#include <stdbool.h>
#include <stdint.h>

/* What the rule looks at: the request's header and what the backend knows
 * of its file. */
struct be_inline_req {
	uint16_t op;			/* PD_OP_* */
	uint16_t wire_flags;		/* PD_WIRE_F_* */
	uint16_t dev_class;		/* the file's PD_WIRE_CLASS_* */
	unsigned int ioc_flags;		/* IOCTL: its table entry's PD_IOC_F_*,
					 * 0 if no entry matches */
	/* the file's class hooks (backend.h) answer these themselves */
	bool hook_ioctl, hook_read, hook_poll;
	/* ... and say they never wait (be_class_hooks.never_wait) */
	bool hooks_never_wait;
};

/* May the reader run this request itself (it cannot wait)? */
bool be_inline_rule(const struct be_inline_req *r);

/* Does a request of op on a file of dev_class keep inline evdev queries
 * of the backend waiting (it may wait holding evdev's device mutex)? */
bool be_inline_evdev_blocker(uint16_t op, uint16_t dev_class,
			     unsigned int ioc_flags);

#endif /* PD_BACKEND_INLINE_H */
