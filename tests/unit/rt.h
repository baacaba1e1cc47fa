/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Round trips of one ioctl through the real code of both ends, without a
 * kernel: the frontend encoder reads "guest" memory (this process's, but
 * only inside regions the test registered: anything else faults), the
 * backend decoder rebuilds the argument, a fake driver plays the real
 * ioctl on the rebuilt argument, the backend builds the reply and the
 * frontend completes the call into guest memory.
 */
#ifndef PARADICE_TEST_RT_H
#define PARADICE_TEST_RT_H

#include <stddef.h>

#include "decode.h"

/* Guest descriptors 100..163 are forwarded files; their handle is fd-99. */
#define RT_GUEST_FD0	100
/* The backend descriptor of handle h is 1000 + h. */
#define RT_BACK_FD0	1000
/* A file the fake driver creates: its backend fd is >= RT_NEW_FD0, the
 * handle the backend gives it is fd - RT_NEW_FD0 + 500, the guest fd the
 * frontend installs is handle + 1000. */
#define RT_NEW_FD0	3000

typedef long (*rt_driver_fn)(__u32 cmd, unsigned long arg);

struct rt {
	unsigned int dev_class, driver;
	struct pd_ioc_state front_st, back_st;
	unsigned int dec_flags;
	/* results of the last round trip */
	int encode_ret, decode_ret;
	__s64 after_ret;
	long ret;
	unsigned int installed, discarded, adopted, released;
	__u32 last_handle;
	struct pd_dec_call *dc;
	/* the request body of the last encode, the last reply body */
	unsigned char *req;
	size_t req_len;
	unsigned char *rsp;
	size_t rsp_len;
	int fail_adopt;
};

void rt_init(struct rt *rt, unsigned int dev_class, unsigned int driver);
void rt_finish(struct rt *rt);
void rt_guest_region(const void *p, size_t len);
void rt_guest_reset(void);

/* The whole path; returns what the guest's ioctl() would return. */
long rt_ioctl(struct rt *rt, __u32 cmd, unsigned long arg, rt_driver_fn drv);

/* Encode only: the request body in rt->req / rt->req_len. */
int rt_encode(struct rt *rt, __u32 cmd, unsigned long arg);

/* Decode a body as the backend would; returns pd_dec_ioctl's result. */
int rt_decode(struct rt *rt, const void *body, size_t len);

/* Does the last reply hold an address of the backend's buffers, or one of
 * the backend's descriptor numbers? Neither may leave the backend. */
int rt_reply_leaks(const struct rt *rt);

/* Inside the fake driver: is [p, p+len) inside the backend's buffers? */
int rt_backend_owns(const void *p, size_t len);

extern const struct pd_ioc_front_ops rt_front_ops;
extern const struct pd_dec_ops rt_dec_ops;

#endif /* PARADICE_TEST_RT_H */
