// SPDX-License-Identifier: GPL-2.0-only
/*
 * A guest's volume and mute in the switcher window (volume.h). Every call
 * is asynchronous; the controls follow hostd's PropertiesChanged, so a
 * change made elsewhere (another client, gdbus) shows here too. A Set that
 * hostd refuses (polkit said no) is reported and the controls go back to
 * hostd's values.
 */
#include <glib/gi18n.h>
#include "client.h"
#include "volume.h"

#define VM_IFACE "org.paradice.Switcher1.Vm"

struct vol {
	GDBusConnection *bus;
	char *path;
	GtkWidget *box, *scale, *mute;
	guint sub;
	GCancellable *cancel;
	gboolean updating;	/* set from hostd's values: no Set back */
};

static void read_all(struct vol *v);

/* hostd's values (a{sv} of the Vm interface) into the controls. */
static void apply(struct vol *v, GVariant *dict)
{
	gboolean b;
	guint32 u;

	v->updating = TRUE;
	if (g_variant_lookup(dict, "Audio", "b", &b))
		gtk_widget_set_visible(v->box, b);
	if (g_variant_lookup(dict, "Volume", "u", &u))
		gtk_scale_button_set_value(GTK_SCALE_BUTTON(v->scale), u / 100.0);
	if (g_variant_lookup(dict, "Muted", "b", &b))
		gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(v->mute), b);
	v->updating = FALSE;
}

static void on_get_all(GObject *src, GAsyncResult *res, gpointer data)
{
	GVariant *r = g_dbus_connection_call_finish(G_DBUS_CONNECTION(src), res,
						    NULL);
	GVariant *dict;

	if (!r)		/* cancelled (the row went), or an older hostd */
		return;
	dict = g_variant_get_child_value(r, 0);
	apply(data, dict);
	g_variant_unref(dict);
	g_variant_unref(r);
}

static void read_all(struct vol *v)
{
	g_dbus_connection_call(v->bus, SW_BUS_NAME, v->path,
			       "org.freedesktop.DBus.Properties", "GetAll",
			       g_variant_new("(s)", VM_IFACE),
			       G_VARIANT_TYPE("(a{sv})"), G_DBUS_CALL_FLAGS_NONE,
			       -1, v->cancel, on_get_all, v);
}

static void on_changed(GDBusConnection *bus, const char *sender,
		       const char *path, const char *iface, const char *signal,
		       GVariant *params, gpointer data)
{
	const char *which;
	GVariant *dict;

	(void)bus, (void)sender, (void)path, (void)iface, (void)signal;
	g_variant_get(params, "(&s@a{sv}@as)", &which, &dict, NULL);
	if (g_strcmp0(which, VM_IFACE) == 0)
		apply(data, dict);
	g_variant_unref(dict);
}

static void on_set(GObject *src, GAsyncResult *res, gpointer data)
{
	GError *err = NULL;
	GVariant *r = g_dbus_connection_call_finish(G_DBUS_CONNECTION(src), res,
						    &err);

	if (r) {
		g_variant_unref(r);
		return;
	}
	if (!g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
		char *text = sw_error_text(err);

		g_printerr("switcher-ui: %s\n", text);
		g_free(text);
		read_all(data);	/* back to hostd's values */
	}
	g_error_free(err);
}

static void set(struct vol *v, const char *name, GVariant *value)
{
	g_dbus_connection_call(v->bus, SW_BUS_NAME, v->path,
			       "org.freedesktop.DBus.Properties", "Set",
			       g_variant_new("(ssv)", VM_IFACE, name, value),
			       NULL, G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION,
			       -1, v->cancel, on_set, v);
}

static void on_scale(GtkScaleButton *b, gdouble value, gpointer data)
{
	struct vol *v = data;

	(void)b;
	if (!v->updating)
		set(v, "Volume", g_variant_new_uint32(
			    (guint32)(CLAMP(value, 0.0, 1.0) * 100 + 0.5)));
}

static void on_mute(GtkToggleButton *b, gpointer data)
{
	struct vol *v = data;

	if (!v->updating)
		set(v, "Muted", g_variant_new_boolean(
			    gtk_toggle_button_get_active(b)));
}

static void on_destroy(GtkWidget *w, gpointer data)
{
	struct vol *v = data;

	(void)w;
	g_cancellable_cancel(v->cancel);
	g_object_unref(v->cancel);
	g_dbus_connection_signal_unsubscribe(v->bus, v->sub);
	g_object_unref(v->bus);
	g_free(v->path);
	g_free(v);
}

void volume_attach(GDBusConnection *bus, GtkWidget *row, const char *path)
{
	struct vol *v;

	if (!bus || !path)
		return;
	v = g_new0(struct vol, 1);
	v->bus = g_object_ref(bus);
	v->path = g_strdup(path);
	v->cancel = g_cancellable_new();
	v->box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 0);
	v->scale = gtk_volume_button_new();
	v->mute = gtk_toggle_button_new();
	gtk_button_set_image(GTK_BUTTON(v->mute), gtk_image_new_from_icon_name(
		"audio-volume-muted-symbolic", GTK_ICON_SIZE_BUTTON));
	gtk_widget_set_tooltip_text(v->mute, _("Mute"));
	gtk_widget_set_name(v->mute, "mute");
	gtk_widget_set_name(v->scale, "volume");
	gtk_box_pack_start(GTK_BOX(v->box), v->scale, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(v->box), v->mute, FALSE, FALSE, 0);
	/* the box shown once hostd says it mixes this guest (Audio) */
	gtk_widget_show_all(v->box);
	gtk_widget_hide(v->box);
	gtk_widget_set_no_show_all(v->box, TRUE);
	gtk_box_pack_end(GTK_BOX(row), v->box, FALSE, FALSE, 0);
	g_signal_connect(v->scale, "value-changed", G_CALLBACK(on_scale), v);
	g_signal_connect(v->mute, "toggled", G_CALLBACK(on_mute), v);
	g_signal_connect(v->box, "destroy", G_CALLBACK(on_destroy), v);
	v->sub = g_dbus_connection_signal_subscribe(
		bus, SW_BUS_NAME, "org.freedesktop.DBus.Properties",
		"PropertiesChanged", path, NULL, G_DBUS_SIGNAL_FLAGS_NONE,
		on_changed, v, NULL);
	read_all(v);
}
