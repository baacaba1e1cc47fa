/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef HOSTD_FDPASS_H
#define HOSTD_FDPASS_H

#include <sys/types.h>

/* The most descriptors one message carries (a reattach's inputs and a
 * control channel: PD_DISPLAY_MAX_FDS). */
#define PD_SEND_FDS_MAX	8

/* len bytes of buf on sock with fds[0..nfds) attached (nfds may be 0),
 * flags as sendmsg's, never SIGPIPE: sendmsg's result (-1, EINVAL past
 * PD_SEND_FDS_MAX descriptors). */
ssize_t pd_send_fds(int sock, const void *buf, size_t len, const int *fds,
		    unsigned int nfds, int flags);

#endif
