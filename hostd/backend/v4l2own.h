/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * v4l2own.c: the class hooks of a guest's V4L2 files, which tie a queue's
 * buffers to the file that made them; their data is the struct be.
 */
#ifndef PD_BACKEND_V4L2OWN_H
#define PD_BACKEND_V4L2OWN_H

#include "backend.h"

extern const struct be_class_hooks be_v4l2own_hooks;

#endif
