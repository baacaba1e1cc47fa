/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * Paradice wire ABI: the one interface between a guest frontend and its
 * backend in the driver domain. Included by the kernel module and by
 * userspace alike.
 *
 * Version history
 *   0.1  placeholder: the module and the build exist; messages follow.
 */
#ifndef PARADICE_PD_WIRE_H
#define PARADICE_PD_WIRE_H

#define PD_WIRE_VERSION_MAJOR 0
#define PD_WIRE_VERSION_MINOR 1

#endif /* PARADICE_PD_WIRE_H */
