/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The few things common/ needs from its surroundings, for the two worlds it
 * is built in: the guest kernel module (__KERNEL__) and userspace (the
 * backend and the unit tests). Nothing here calls into libc or the kernel:
 * only types, constants and compiler builtins. Include this before any uapi
 * header.
 */
#ifndef PARADICE_PD_COMPAT_H
#define PARADICE_PD_COMPAT_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/stddef.h>
#include <linux/errno.h>
#else
#include <linux/types.h>
#include <linux/errno.h>
#include <stddef.h>
#include <stdbool.h>
/*
 * The raw kernel uapi headers (the build takes <drm/...> from the 6.1
 * kernel's include/uapi, see common/meson.build) still carry the sparse
 * annotation that headers_install strips for userspace.
 */
#ifndef __user
#define __user
#endif
#endif

#ifndef fallthrough
#define fallthrough __attribute__((__fallthrough__))
#endif

#define PD_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define pd_memcpy(d, s, n)	__builtin_memcpy((d), (s), (n))
#define pd_memset(d, c, n)	__builtin_memset((d), (c), (n))

/* Overflow-checked arithmetic; true when the result did not fit. */
#define pd_add_overflow(a, b, r)	__builtin_add_overflow((a), (b), (r))
#define pd_mul_overflow(a, b, r)	__builtin_mul_overflow((a), (b), (r))

#define PD_ASSERT_SIZE(type, size) \
	_Static_assert(sizeof(type) == (size), #type " has the size both worlds expect")

#endif /* PARADICE_PD_COMPAT_H */
