/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * v4l2own.c: the class hooks of a guest's V4L2 files, which tie a queue's
 * buffers to the file that made them; their data is the struct be.
 */
#ifndef PD_BACKEND_V4L2OWN_H
#define PD_BACKEND_V4L2OWN_H

#include "backend.h"

extern const struct be_class_hooks be_v4l2own_hooks;

/*
 * Take every guest file of path away (hostd's PD_DISP_REVOKE: the camera
 * went to another guest), as an unplug: the guest gets PD_EV_REVOKE with
 * reason (a negative errno; -ENODEV if not one), its requests on them
 * ENODEV; the real stream stops, its buffers are freed, the real file is
 * closed. Any thread.
 */
void be_v4l2own_revoke(struct be *be, const char *path, int reason);

#endif
