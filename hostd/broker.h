/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * broker.c: hostd opens a confined backend's device files for it
 * (PD_DISP_OPEN, include/paradice/pd_display.h; docs/security.md).
 */
#ifndef HOSTD_BROKER_H
#define HOSTD_BROKER_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

/*
 * May guest g's backend have path (flags: PD_DISP_OPEN_*)? Only a path of
 * g's configured devices or one of extra[0..nextra) (its virtual keyboard
 * and pointer; NULL entries, or extra NULL, are skipped), exactly as written there.
 * 0 and *oflags (open(2) flags: O_NONBLOCK always, see pd_display.h), or
 * -EINVAL (flags or an unterminated path) or -EACCES.
 */
int hostd_broker_check(const struct hostd_guest_config *g,
		       const char *const *extra, unsigned int nextra,
		       const char *path, size_t path_len, uint32_t flags,
		       int *oflags);

/*
 * hostd_broker_check(), then open(2) it: a character device's descriptor,
 * or -errno. Every refusal is logged with the guest and the path.
 */
int hostd_broker_open(const struct hostd_guest_config *g,
		      const char *const *extra, unsigned int nextra,
		      const char *path, size_t path_len, uint32_t flags);

#endif /* HOSTD_BROKER_H */
