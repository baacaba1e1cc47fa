/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * bus.c: the D-Bus service (dbus/org.paradice.Switcher1.xml).
 */
#ifndef HOSTD_BUS_H
#define HOSTD_BUS_H

#include <stdbool.h>

struct hostd_bus;
struct hostd_lifecycle;
struct hostd_poller;
struct hostd_switcher;

/* Sets the switcher's switched hook; watches the connection in p; sets
 * *lost when the bus goes away (then hostd has nothing to serve). A
 * non-root caller's switch waits at most auth_timeout_ms for polkit. lc
 * runs the lifecycle methods (Start, Shutdown, ...); it must outlive the
 * calls it was given, i.e. be destroyed before b (its answers are b's). */
struct hostd_bus *hostd_bus_create(struct hostd_switcher *sw,
				   struct hostd_lifecycle *lc,
				   struct hostd_poller *p, const char *address,
				   unsigned int auth_timeout_ms, bool *lost);
void hostd_bus_destroy(struct hostd_bus *b);
/* The VM list changed (a domain came or went). */
void hostd_bus_vms_changed(struct hostd_bus *b);
/* Guest index's State changed (lifecycle.c's changed callback). */
void hostd_bus_vm_state_changed(struct hostd_bus *b, unsigned int index);

#endif /* HOSTD_BUS_H */
