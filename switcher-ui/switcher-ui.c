// SPDX-License-Identifier: GPL-2.0-only
/*
 * switcher-ui: the tray app of the appliance. It lists the VMs hostd knows
 * (D-Bus, org.paradice.Switcher1 on the system bus) and switches between
 * them. Everything it does goes through hostd's interface
 * (dbus/org.paradice.Switcher1.xml); it keeps no state of its own and
 * follows PropertiesChanged, so it is never out of date.
 *
 *   switcher-ui                 tray icon; its menu lists the VMs
 *   switcher-ui --window        a window with one button per VM
 *   switcher-ui --list          print "NAME DOMID STATE [active]" and exit
 *   switcher-ui --switch NAME | --next | --previous
 *   --bus ADDRESS               another bus than the system bus (tests)
 */
#include <gtk/gtk.h>
#include <stdio.h>
#include <string.h>

#define BUS_NAME "org.paradice.Switcher1"
#define ROOT_PATH "/org/paradice/Switcher1"
#define MANAGER "org.paradice.Switcher1.Manager"
#define VM_IFACE "org.paradice.Switcher1.Vm"

struct vm {
	char *path, *name, *state;
	guint32 domid;
	gboolean active;
};

struct app {
	GDBusConnection *bus;
	GPtrArray *vms; /* struct vm * */
	GtkWidget *window, *box, *status;
	GtkStatusIcon *icon;
	GtkWidget *menu;
};

static void vm_free(gpointer p)
{
	struct vm *vm = p;

	g_free(vm->path);
	g_free(vm->name);
	g_free(vm->state);
	g_free(vm);
}

static GVariant *get_all(struct app *a, const char *path, const char *iface,
			 GError **err)
{
	GVariant *r = g_dbus_connection_call_sync(
		a->bus, BUS_NAME, path, "org.freedesktop.DBus.Properties",
		"GetAll", g_variant_new("(s)", iface), G_VARIANT_TYPE("(a{sv})"),
		G_DBUS_CALL_FLAGS_NONE, 5000, NULL, err);
	GVariant *dict;

	if (!r)
		return NULL;
	dict = g_variant_get_child_value(r, 0);
	g_variant_unref(r);
	return dict;
}

/* Read the VM list and each VM's properties from hostd. */
static gboolean refresh(struct app *a, GError **err)
{
	GVariant *mgr = get_all(a, ROOT_PATH, MANAGER, err);
	GVariant *paths;
	GVariantIter it;
	const char *path;

	if (!mgr)
		return FALSE;
	g_ptr_array_set_size(a->vms, 0);
	paths = g_variant_lookup_value(mgr, "Vms", G_VARIANT_TYPE("ao"));
	if (paths) {
		g_variant_iter_init(&it, paths);
		while (g_variant_iter_next(&it, "&o", &path)) {
			GVariant *p = get_all(a, path, VM_IFACE, NULL);
			struct vm *vm;

			if (!p)
				continue; /* gone meanwhile */
			vm = g_new0(struct vm, 1);
			vm->path = g_strdup(path);
			g_variant_lookup(p, "Name", "s", &vm->name);
			g_variant_lookup(p, "State", "s", &vm->state);
			g_variant_lookup(p, "DomainId", "u", &vm->domid);
			g_variant_lookup(p, "Active", "b", &vm->active);
			g_ptr_array_add(a->vms, vm);
			g_variant_unref(p);
		}
		g_variant_unref(paths);
	}
	g_variant_unref(mgr);
	return TRUE;
}

static gboolean call_manager(struct app *a, const char *method,
			     GVariant *args, GError **err)
{
	GVariant *r = g_dbus_connection_call_sync(
		a->bus, BUS_NAME, ROOT_PATH, MANAGER, method, args, NULL,
		G_DBUS_CALL_FLAGS_NONE, 10000, NULL, err);

	if (!r)
		return FALSE;
	g_variant_unref(r);
	return TRUE;
}

/* A D-Bus error as a person should read it: hostd's message, no prefix. */
static const char *reason(GError *err)
{
	if (g_dbus_error_is_remote_error(err))
		g_dbus_error_strip_remote_error(err);
	return err->message;
}

static void rebuild(struct app *a);

static void on_switch(GtkWidget *w, gpointer data)
{
	struct app *a = data;
	const char *name = g_object_get_data(G_OBJECT(w), "vm-name");
	GError *err = NULL;

	if (GTK_IS_CHECK_MENU_ITEM(w) &&
	    !gtk_check_menu_item_get_active(GTK_CHECK_MENU_ITEM(w)))
		return;
	if (!call_manager(a, "SwitchTo", g_variant_new("(s)", name), &err)) {
		if (a->status)
			gtk_label_set_text(GTK_LABEL(a->status), reason(err));
		else
			g_printerr("switcher-ui: %s\n", reason(err));
		g_error_free(err);
	}
}

static char *vm_label(const struct vm *vm)
{
	return g_strdup_printf("%s%s", vm->name,
			       strcmp(vm->state, "running") ? " (not running)" : "");
}

/* The window and the tray menu show the VMs, the active one marked. */
static void rebuild(struct app *a)
{
	GError *err = NULL;

	if (!refresh(a, &err)) {
		if (a->status)
			gtk_label_set_text(GTK_LABEL(a->status), reason(err));
		g_error_free(err);
		return;
	}
	if (a->box) {
		GList *kids = gtk_container_get_children(GTK_CONTAINER(a->box));

		for (GList *k = kids; k; k = k->next)
			if (k->data != a->status)
				gtk_widget_destroy(k->data);
		g_list_free(kids);
		for (guint i = 0; i < a->vms->len; i++) {
			struct vm *vm = g_ptr_array_index(a->vms, i);
			char *label = vm_label(vm);
			GtkWidget *b = gtk_toggle_button_new_with_label(label);

			g_free(label);
			gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(b), vm->active);
			gtk_widget_set_name(b, vm->name);
			g_object_set_data_full(G_OBJECT(b), "vm-name",
					       g_strdup(vm->name), g_free);
			g_signal_connect(b, "clicked", G_CALLBACK(on_switch), a);
			gtk_box_pack_start(GTK_BOX(a->box), b, FALSE, FALSE, 0);
		}
		gtk_label_set_text(GTK_LABEL(a->status),
				   a->vms->len ? "Click a VM to give it the screen and keyboard."
					       : "No VM is running.");
		gtk_widget_show_all(a->box);
	}
	if (a->icon) {
		GSList *group = NULL;

		if (a->menu)
			gtk_widget_destroy(a->menu);
		a->menu = gtk_menu_new();
		for (guint i = 0; i < a->vms->len; i++) {
			struct vm *vm = g_ptr_array_index(a->vms, i);
			char *label = vm_label(vm);
			GtkWidget *item = gtk_radio_menu_item_new_with_label(group, label);

			g_free(label);
			group = gtk_radio_menu_item_get_group(GTK_RADIO_MENU_ITEM(item));
			gtk_check_menu_item_set_active(GTK_CHECK_MENU_ITEM(item), vm->active);
			g_object_set_data_full(G_OBJECT(item), "vm-name",
					       g_strdup(vm->name), g_free);
			g_signal_connect(item, "toggled", G_CALLBACK(on_switch), a);
			gtk_menu_shell_append(GTK_MENU_SHELL(a->menu), item);
		}
		gtk_widget_show_all(a->menu);
	}
}

static void on_changed(GDBusConnection *c, const char *sender, const char *path,
		       const char *iface, const char *signal, GVariant *params,
		       gpointer data)
{
	(void)c;
	(void)sender;
	(void)path;
	(void)iface;
	(void)signal;
	(void)params;
	rebuild(data);
}

G_GNUC_BEGIN_IGNORE_DEPRECATIONS
/* GtkStatusIcon is the tray icon GTK 3 has (XEmbed trays). */
static void on_tray_click(GtkStatusIcon *icon, guint button, guint time,
			  gpointer data)
{
	struct app *a = data;

	rebuild(a);
	gtk_menu_popup(GTK_MENU(a->menu), NULL, NULL,
		       gtk_status_icon_position_menu, icon, button, time);
}

static void on_tray_activate(GtkStatusIcon *icon, gpointer data)
{
	on_tray_click(icon, 1, gtk_get_current_event_time(), data);
}

static void make_tray(struct app *a)
{
	a->icon = gtk_status_icon_new_from_icon_name("video-display");
	gtk_status_icon_set_tooltip_text(a->icon, "Paradice: switch VM");
	gtk_status_icon_set_title(a->icon, "Paradice");
	g_signal_connect(a->icon, "popup-menu", G_CALLBACK(on_tray_click), a);
	g_signal_connect(a->icon, "activate", G_CALLBACK(on_tray_activate), a);
}
G_GNUC_END_IGNORE_DEPRECATIONS

static void make_window(struct app *a)
{
	a->window = gtk_window_new(GTK_WINDOW_TOPLEVEL);
	gtk_window_set_title(GTK_WINDOW(a->window), "Paradice");
	gtk_window_set_default_size(GTK_WINDOW(a->window), 320, 200);
	gtk_container_set_border_width(GTK_CONTAINER(a->window), 12);
	a->box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
	a->status = gtk_label_new("");
	gtk_label_set_line_wrap(GTK_LABEL(a->status), TRUE);
	gtk_box_pack_end(GTK_BOX(a->box), a->status, FALSE, FALSE, 0);
	gtk_container_add(GTK_CONTAINER(a->window), a->box);
	g_signal_connect(a->window, "destroy", G_CALLBACK(gtk_main_quit), NULL);
}

int main(int argc, char **argv)
{
	static gchar *bus_addr, *switch_to;
	static gboolean list, next, previous, window;
	static const GOptionEntry opts[] = {
		{ "bus", 0, 0, G_OPTION_ARG_STRING, &bus_addr, "bus address (default: system bus)", "ADDRESS" },
		{ "list", 0, 0, G_OPTION_ARG_NONE, &list, "print the VMs and exit", NULL },
		{ "switch", 0, 0, G_OPTION_ARG_STRING, &switch_to, "switch to the VM NAME and exit", "NAME" },
		{ "next", 0, 0, G_OPTION_ARG_NONE, &next, "switch to the next VM and exit", NULL },
		{ "previous", 0, 0, G_OPTION_ARG_NONE, &previous, "switch to the previous VM and exit", NULL },
		{ "window", 0, 0, G_OPTION_ARG_NONE, &window, "show a window instead of a tray icon", NULL },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};
	struct app a = { 0 };
	GError *err = NULL;
	gboolean gui;
	int status = 0;

	if (!gtk_init_with_args(&argc, &argv, NULL, opts, NULL, &err)) {
		/* no display: the command-line modes still work */
		GOptionContext *ctx = g_option_context_new(NULL);

		g_clear_error(&err);
		g_option_context_add_main_entries(ctx, opts, NULL);
		if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
			g_printerr("switcher-ui: %s\n", err->message);
			return 2;
		}
		g_option_context_free(ctx);
		gui = FALSE;
	} else {
		gui = TRUE;
	}
	if (bus_addr)
		a.bus = g_dbus_connection_new_for_address_sync(
			bus_addr, G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
			G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
			NULL, NULL, &err);
	else
		a.bus = g_bus_get_sync(G_BUS_TYPE_SYSTEM, NULL, &err);
	if (!a.bus) {
		g_printerr("switcher-ui: cannot reach the bus: %s\n", err->message);
		return 1;
	}
	a.vms = g_ptr_array_new_with_free_func(vm_free);

	if (list || switch_to || next || previous) {
		if (switch_to)
			status = !call_manager(&a, "SwitchTo", g_variant_new("(s)", switch_to), &err);
		else if (next)
			status = !call_manager(&a, "SwitchNext", NULL, &err);
		else if (previous)
			status = !call_manager(&a, "SwitchPrevious", NULL, &err);
		else if (!refresh(&a, &err))
			status = 1;
		else
			for (guint i = 0; i < a.vms->len; i++) {
				struct vm *vm = g_ptr_array_index(a.vms, i);

				printf("%s %u %s%s\n", vm->name, vm->domid, vm->state,
				       vm->active ? " active" : "");
			}
		if (status) {
			g_printerr("switcher-ui: %s\n", reason(err));
			g_error_free(err);
		}
		goto out;
	}
	if (!gui) {
		g_printerr("switcher-ui: no display; use --list or --switch\n");
		status = 1;
		goto out;
	}
	g_dbus_connection_signal_subscribe(a.bus, BUS_NAME,
					   "org.freedesktop.DBus.Properties",
					   "PropertiesChanged", NULL, NULL,
					   G_DBUS_SIGNAL_FLAGS_NONE, on_changed,
					   &a, NULL);
	if (window)
		make_window(&a);
	else
		make_tray(&a);
	rebuild(&a);
	if (a.window)
		gtk_widget_show_all(a.window);
	gtk_main();
out:
	g_ptr_array_free(a.vms, TRUE);
	g_object_unref(a.bus);
	return status;
}
