/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * nodisplay.c: the class hooks of a guest's card that no hostd shows;
 * their data is the struct be.
 */
#ifndef PD_BACKEND_NODISPLAY_H
#define PD_BACKEND_NODISPLAY_H

#include "backend.h"

extern const struct be_class_hooks be_nodisplay_hooks;

#endif
