/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The switcher window's thumbnails: a picture of each running guest's
 * screen on its button, from hostd's org.paradice.Switcher1.Thumbnails
 * (GetThumbnail, behind its own polkit action), refreshed while the
 * window is shown. Only dom0's hostd serves that interface: in a guest
 * (pd-switcher-agent) the buttons simply have no picture.
 */
#ifndef SWITCHER_UI_THUMBS_H
#define SWITCHER_UI_THUMBS_H

#include <gtk/gtk.h>

struct thumbs;

/* Thumbnails for the buttons of window, asked on bus while it is
 * mapped. */
struct thumbs *thumbs_create(GDBusConnection *bus, GtkWidget *window);
void thumbs_destroy(struct thumbs *t);

/* The window's buttons are made anew: forget the old ones. */
void thumbs_clear(struct thumbs *t);
/* button shows guest name's thumbnail from now on. */
void thumbs_attach(struct thumbs *t, GtkWidget *button, const char *name);

#endif
