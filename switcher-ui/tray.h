/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The tray icon: a StatusNotifierItem (libayatana-appindicator3) whose menu
 * is exported over com.canonical.dbusmenu. Where no tray host runs (no
 * org.kde.StatusNotifierWatcher on the session bus) the app is told so and
 * shows its window instead; the deprecated XEmbed GtkStatusIcon that the
 * library would make is never made.
 */
#ifndef SWITCHER_UI_TRAY_H
#define SWITCHER_UI_TRAY_H

#include <gtk/gtk.h>

struct tray;

/* host_changed(TRUE) once a tray host shows the item; (FALSE) when there
 * is none, at start or when it goes away. */
struct tray *tray_create(GtkMenu *menu,
			 void (*host_changed)(gboolean has_host, void *data),
			 void *data);
void tray_destroy(struct tray *t);
void tray_set_tooltip(struct tray *t, const char *title);

#endif
