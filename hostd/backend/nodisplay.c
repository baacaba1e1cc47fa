// SPDX-License-Identifier: GPL-2.0-only
/*
 * A guest's card when no hostd shows it (pd-backend --xen started without
 * a display socket): the guest may use the card for what any client of a
 * real card may do (queries, dumb and GEM buffers, rendering), but the
 * physical display is dom0's. Each ioctl that a real card keeps for its
 * master (mode sets, planes, flips, cursors, gamma, properties, atomic
 * commits, master itself) is answered here as a real card answers a client
 * that is not master while another is, and never reaches the card: without
 * this, the backend (root, and master of a card nobody else holds) would
 * set modes on dom0's screen for the guest.
 *
 * The loop transport keeps plain forwarding: its client is a program in
 * the same machine that could open the card itself.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>

#ifndef __user
#define __user
#endif
#include <drm/drm.h>
#include <drm/drm_mode.h>

#include "backend.h"
#include "nodisplay.h"

/* errno for cmd, or 0 for an ioctl the card may answer. */
static int nodisplay_refusal(unsigned int cmd)
{
	switch (cmd) {
	case DRM_IOCTL_SET_MASTER:
		return EBUSY;		/* another master holds the card */
	case DRM_IOCTL_DROP_MASTER:
		return EINVAL;		/* this file is not master */
	case DRM_IOCTL_MODE_SETCRTC:
	case DRM_IOCTL_MODE_CURSOR:
	case DRM_IOCTL_MODE_CURSOR2:
	case DRM_IOCTL_MODE_SETGAMMA:
	case DRM_IOCTL_MODE_SETPROPERTY:
	case DRM_IOCTL_MODE_OBJ_SETPROPERTY:
	case DRM_IOCTL_MODE_SETPLANE:
	case DRM_IOCTL_MODE_PAGE_FLIP:
	case DRM_IOCTL_MODE_DIRTYFB:
	case DRM_IOCTL_MODE_ATOMIC:
		return EACCES;		/* DRM_MASTER ioctls */
	default:
		return 0;
	}
}

static bool nodisplay_ioctl(void *data, struct be_handle *h, unsigned int cmd,
			    void *arg, int *ret)
{
	struct be *be = data;
	int e = nodisplay_refusal(cmd);

	(void)arg;
	if (!e)
		return false;
	if (!h->nodisplay_logged) {
		h->nodisplay_logged = true;
		be_log(be, "handle %u: display ioctl 0x%08x refused (%s): no "
		       "hostd shows this guest's card", h->handle, cmd,
		       strerror(e));
	}
	errno = e;
	*ret = -1;
	return true;
}

/* nodisplay_ioctl only refuses (and logs once): it never waits */
const struct be_class_hooks be_nodisplay_hooks = {
	.ioctl = nodisplay_ioctl,
	.never_wait = true,
};
