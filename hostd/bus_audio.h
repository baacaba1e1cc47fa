/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * bus_audio.c: a VM's sound on the bus (org.paradice.Switcher1.Vm's
 * Audio, Volume and Muted), read from audio.c; bus.c serves them and asks
 * polkit (org.paradice.switcher.volume) before a Set.
 */
#ifndef HOSTD_BUS_AUDIO_H
#define HOSTD_BUS_AUDIO_H

#include <stdbool.h>

#include <dbus/dbus.h>

#include "audio.h"

/* Append VM index's property name as a variant (dom0's entry, host: no
 * sound of hostd's: false, 100, false); false if name is not one. */
bool hostd_bus_audio_property(const struct hostd_audio *a, bool host,
			      unsigned int index, const char *name,
			      DBusMessageIter *it);

/*
 * Properties.Set's arguments (interface, name, value): NULL when they set
 * a guest's Volume (*volume 0-100, *muted -1) or Muted (*muted 0 or 1,
 * *volume -1), else the error to answer.
 */
DBusMessage *hostd_bus_audio_args(DBusMessage *msg, bool host, int *volume,
				  int *muted);

#endif /* HOSTD_BUS_AUDIO_H */
