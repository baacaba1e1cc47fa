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
 * hostd's PD_DISP_CAMERA: does the guest own the capture device path now?
 * If not, its files of path get no buffers (REQBUFS, CREATE_BUFS and read:
 * EBUSY), and every file of path it has open is taken away as an unplug:
 * PD_EV_REVOKE with reason (a negative errno; -ENODEV if not one), ENODEV
 * for its requests; the real stream stops, its buffers are freed, the
 * real file is closed. Any thread.
 */
void be_v4l2own_camera(struct be *be, const char *path, bool owned,
		       int reason);

#endif
