// SPDX-License-Identifier: GPL-2.0-only
/*
 * The Xen transport when pd-backend is built without Xen's userspace
 * libraries (libxen-dev; see meson.build): --xen is refused. Owns nothing,
 * trusts nothing.
 */
#include <errno.h>

#include "backend.h"

struct be_transport *be_xen_create(struct be *be, const char *domain,
				   const char *config_path, char **extra,
				   unsigned int nextra)
{
	be_log(be, "built without the Xen transport (libxen-dev)");
	errno = ENOTSUP;
	return NULL;
}
