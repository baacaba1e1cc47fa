// SPDX-License-Identifier: GPL-2.0-only
/*
 * The tray icon (see tray.h). AppIndicator calls its class's fallback()
 * when no StatusNotifierWatcher answers and would make a GtkStatusIcon
 * there; this subclass makes none and tells the app instead, which shows
 * its window. connection-changed(TRUE) comes when a watcher takes the item
 * (also after a fallback: a tray host started later).
 */
#include <libayatana-appindicator/app-indicator.h>

#include "tray.h"

typedef struct {
	AppIndicator parent;
} PdIndicator;

typedef struct {
	AppIndicatorClass parent_class;
} PdIndicatorClass;

GType pd_indicator_get_type(void);
G_DEFINE_TYPE(PdIndicator, pd_indicator, APP_INDICATOR_TYPE)

struct tray {
	PdIndicator *indicator;
	void (*host_changed)(gboolean has_host, void *data);
	void *data;
};

static GtkStatusIcon *pd_indicator_fallback(AppIndicator *ai)
{
	struct tray *t = g_object_get_data(G_OBJECT(ai), "pd-tray");

	if (t)
		t->host_changed(FALSE, t->data);
	return NULL;	/* no GtkStatusIcon: the app's window stands in */
}

static void pd_indicator_unfallback(AppIndicator *ai, GtkStatusIcon *icon)
{
}

static void pd_indicator_class_init(PdIndicatorClass *klass)
{
	klass->parent_class.fallback = pd_indicator_fallback;
	klass->parent_class.unfallback = pd_indicator_unfallback;
}

static void pd_indicator_init(PdIndicator *self)
{
}

static void on_connection_changed(AppIndicator *ai, gboolean connected,
				  gpointer data)
{
	struct tray *t = data;

	/* FALSE is followed by fallback() once the library gives up */
	if (connected)
		t->host_changed(TRUE, t->data);
}

struct tray *tray_create(GtkMenu *menu,
			 void (*host_changed)(gboolean has_host, void *data),
			 void *data)
{
	struct tray *t = g_new0(struct tray, 1);

	t->host_changed = host_changed;
	t->data = data;
	t->indicator = g_object_new(pd_indicator_get_type(),
				    "id", "paradice-switcher",
				    "category", "SystemServices",
				    "icon-name", "video-display",
				    NULL);
	g_object_set_data(G_OBJECT(t->indicator), "pd-tray", t);
	g_signal_connect(t->indicator, "connection-changed",
			 G_CALLBACK(on_connection_changed), t);
	app_indicator_set_status(APP_INDICATOR(t->indicator),
				 APP_INDICATOR_STATUS_ACTIVE);
	app_indicator_set_menu(APP_INDICATOR(t->indicator), menu);
	return t;
}

void tray_set_tooltip(struct tray *t, const char *title)
{
	app_indicator_set_title(APP_INDICATOR(t->indicator), title);
}

void tray_destroy(struct tray *t)
{
	if (!t)
		return;
	g_object_set_data(G_OBJECT(t->indicator), "pd-tray", NULL);
	g_object_unref(t->indicator);
	g_free(t);
}
