/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A guest's volume and mute in the switcher window (docs/audio.md): a
 * volume button and a mute toggle in the guest's row, shown when hostd
 * mixes its sound (the VM's Audio), following its Volume and Muted
 * properties and setting them (hostd asks polkit).
 */
#ifndef SWITCHER_UI_VOLUME_H
#define SWITCHER_UI_VOLUME_H

#include <gtk/gtk.h>

/* Add the controls of VM object path to row (a horizontal box); they go
 * with the row. path NULL: nothing (dom0's entry, a guest that is off). */
void volume_attach(GDBusConnection *bus, GtkWidget *row, const char *path);

#endif
