// SPDX-License-Identifier: GPL-2.0-only
/*
 * switcher-ui: the switcher of the appliance's desktop. It lists the VMs
 * hostd knows (D-Bus, org.paradice.Switcher1 on the system bus) and
 * switches between them. Everything it shows comes from hostd's interface
 * (dbus/org.paradice.Switcher1.xml, client code generated from it), kept
 * up to date by client.c from hostd's signals.
 *
 *   switcher-ui                 tray icon (StatusNotifierItem); its menu
 *                               lists the VMs. Without a tray host: the
 *                               window
 *   switcher-ui --window        a window with one button per VM
 *   switcher-ui --list          print "NAME DOMID STATE [active]" and exit
 *                               (an off guest: "NAME - off")
 *   switcher-ui --switch NAME | --next | --previous
 *   --bus ADDRESS               another bus than the system bus (tests)
 *
 * One switcher runs per desktop session (GApplication
 * org.paradice.SwitcherUi on the session bus): a second `--window`, as the
 * applications menu starts it, shows the first one's window and exits.
 *
 * dom0's own entry (Kind "host") is listed last, "Host (dom0)", without
 * lifecycle actions: choosing it hands dom0 the screen, as its hotkey.
 *
 * Each guest also has its lifecycle actions (Start, Shut down, Pause,
 * Resume, Force off: hostd's methods, those that fit its state): a
 * "Manage NAME" submenu in the tray and a menu button beside its button in
 * the window. Guests hostd is configured for but that are off are listed
 * too (hostd's Guests), with Start.
 *
 * In the GUI every call to hostd is asynchronous: the GTK main loop never
 * waits for hostd. Each switch, from here or elsewhere (hotkeys, another
 * client), raises a desktop notification through
 * org.freedesktop.Notifications on the session bus (plain GDBus, no
 * libnotify). Errors are shown in the window's info bar, in the tray
 * menu's first line and as a notification.
 *
 * SWITCHER_UI_LOCALEDIR overrides where the translations are looked up
 * (tests run the app from the build tree).
 */
#include <glib/gi18n.h>
#include <gtk/gtk.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "client.h"
#include "thumbs.h"
#include "tray.h"
#include "volume.h"

struct app {
	GDBusConnection *bus;
	gboolean by_address;	/* --bus, not the system bus */
	struct sw_client *client;
	char *error;		/* the last error, shown until the next action */
	char *connect_error;	/* the bus itself could not be reached */

	/* the window (--window, or the tray's fallback) */
	gboolean window_mode;
	GtkWidget *window, *vmbox, *status, *infobar, *infolabel;
	GPtrArray *buttons;	/* GtkToggleButton *, one per shown VM */
	struct thumbs *thumbs;	/* their pictures (thumbs.c) */

	/* the tray */
	struct tray *tray;
	gboolean has_host;	/* a tray host shows the item */
	gboolean fallback_shown;	/* the window stands in for the icon */
	GtkWidget *menu, *menu_status, *menu_sep, *ctl_sep;
	GPtrArray *items;	/* GtkCheckMenuItem *, one per shown VM */
	GPtrArray *ctl_items;	/* GtkMenuItem * "Manage NAME", one per VM */

	GPtrArray *shown;	/* the paths of the VMs shown, in order */

	GDBusConnection *session;	/* notifications; NULL without one */
	guint32 notification;	/* replaced by the next one */
};

/* The state hostd gives, as a person reads it. */
static const char *state_text(const char *state)
{
	if (!state)
		return _("state unknown");
	if (strcmp(state, "running") == 0)
		return _("running");
	if (strcmp(state, "paused") == 0)
		return _("paused");
	if (strcmp(state, "shutdown") == 0)
		return _("shut down");
	if (strcmp(state, "crashed") == 0)
		return _("crashed");
	if (strcmp(state, "off") == 0)
		return _("off");
	return state;	/* a state this version does not know: hostd's word */
}

/* "_name (state)": the name's first letter is the mnemonic; underscores
 * in the name are doubled so that GTK shows them. */
static char *vm_label(const struct sw_vm_info *vm)
{
	GString *s = vm->host ? NULL : g_string_new("_");

	if (!s)	/* TRANSLATORS: dom0's own entry, with its mnemonic */
		return g_strdup(_("_Host (dom0)"));
	for (const char *p = vm->name; *p; p++) {
		if (*p == '_')
			g_string_append_c(s, '_');
		g_string_append_c(s, *p);
	}
	/* TRANSLATORS: a VM in the switcher: its name and its state */
	g_string_append_printf(s, _(" (%s)"), state_text(vm->state));
	return g_string_free(s, FALSE);
}

/* hostd refuses to give the screen to a VM that is not running; a VM
 * whose state hostd does not say may be tried. */
static gboolean vm_can_switch(const struct sw_vm_info *vm)
{
	return !vm->state || strcmp(vm->state, "running") == 0;
}

/* The lifecycle actions, in the order they are shown. */
static const struct {
	enum sw_vm_op op;
	const char *label;	/* with its mnemonic */
	/* its failure: the guest's name, then hostd's reason */
	const char *failed;
} ops[] = {
	{ SW_OP_START, N_("_Start"), N_("Could not start %s: %s") },
	{ SW_OP_RESUME, N_("_Resume"), N_("Could not resume %s: %s") },
	{ SW_OP_PAUSE, N_("_Pause"), N_("Could not pause %s: %s") },
	{ SW_OP_SHUTDOWN, N_("Shut _Down"), N_("Could not shut down %s: %s") },
	{ SW_OP_FORCE_OFF, N_("_Force Off"), N_("Could not force off %s: %s") },
};

/* What hostd allows in the VM's state (hostd checks it again). */
static gboolean op_fits(const struct sw_vm_info *vm, enum sw_vm_op op)
{
	/* dom0's entry: a state none fits */
	const char *st = vm->host ? "host" : vm->state ? vm->state : "";

	if (strcmp(st, "off") == 0)
		return op == SW_OP_START;
	if (strcmp(st, "running") == 0)
		return op == SW_OP_SHUTDOWN || op == SW_OP_PAUSE ||
		       op == SW_OP_FORCE_OFF;
	if (strcmp(st, "paused") == 0)
		return op == SW_OP_RESUME || op == SW_OP_FORCE_OFF;
	if (strcmp(st, "shutdown") == 0 || strcmp(st, "crashed") == 0)
		return op == SW_OP_FORCE_OFF;
	return FALSE;
}

/* -- notifications ------------------------------------------------------ */

static void on_notified(GObject *src, GAsyncResult *res, gpointer data)
{
	struct app *a = data;
	GError *err = NULL;
	GVariant *r = g_dbus_connection_call_finish(G_DBUS_CONNECTION(src), res, &err);

	if (!r) {
		/* no notification daemon: the window and menu still say it */
		g_debug("notification: %s", err->message);
		g_error_free(err);
		return;
	}
	g_variant_get(r, "(u)", &a->notification);
	g_variant_unref(r);
}

static void notify(struct app *a, const char *summary, const char *body,
		   gboolean error)
{
	static const char *const no_actions[] = { NULL };
	GVariantBuilder hints;

	if (!a->session)
		return;
	g_variant_builder_init(&hints, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&hints, "{sv}", "desktop-entry",
			      g_variant_new_string("paradice-switcher-ui"));
	g_variant_builder_add(&hints, "{sv}", "urgency",
			      g_variant_new_byte(error ? 2 : 1));
	g_variant_builder_add(&hints, "{sv}", "transient",
			      g_variant_new_boolean(!error));
	g_dbus_connection_call(a->session, "org.freedesktop.Notifications",
			       "/org/freedesktop/Notifications",
			       "org.freedesktop.Notifications", "Notify",
			       g_variant_new("(susss^asa{sv}i)", _("Paradice"),
					     a->notification,
					     error ? "dialog-error" : "video-display",
					     summary, body, no_actions, &hints, -1),
			       G_VARIANT_TYPE("(u)"), G_DBUS_CALL_FLAGS_NONE, -1,
			       NULL, on_notified, a);
}

static void on_session(GObject *src, GAsyncResult *res, gpointer data)
{
	struct app *a = data;
	GError *err = NULL;

	a->session = g_bus_get_finish(res, &err);
	if (!a->session) {
		g_debug("no session bus, no notifications: %s", err->message);
		g_error_free(err);
	}
}

/* -- what is shown ------------------------------------------------------- */

static void update(struct app *a);

/*
 * The rows shown: hostd's VMs, and the guests it is configured for that
 * are off (path NULL, state "off"), in config order (hostd's Guests;
 * from a hostd without it, the VMs alone). The strings are the client's,
 * valid until it next changes: use the rows at once.
 */
static GArray *rows(struct app *a)
{
	GArray *vms = g_array_new(FALSE, TRUE, sizeof(struct sw_vm_info));
	const char *const *guests;
	GArray *out;

	for (guint i = 0; a->client && i < sw_client_n_vms(a->client); i++) {
		struct sw_vm_info vm;

		if (sw_client_vm(a->client, i, &vm))
			g_array_append_val(vms, vm);
	}
	guests = a->client ? sw_client_guests(a->client) : NULL;
	if (!guests)
		return vms;
	out = g_array_new(FALSE, TRUE, sizeof(struct sw_vm_info));
	for (guint g = 0; guests[g]; g++) {
		struct sw_vm_info off = { .name = guests[g], .state = "off" };
		guint i;

		for (i = 0; i < vms->len; i++)
			if (!strcmp(g_array_index(vms, struct sw_vm_info, i).name,
				    guests[g]))
				break;
		if (i < vms->len)
			g_array_append_val(out, g_array_index(vms, struct sw_vm_info, i));
		else if (sw_client_get_state(a->client) == SW_READY)
			g_array_append_val(out, off);
	}
	/* a VM hostd has but does not list among its guests: shown last */
	for (guint i = 0; i < vms->len; i++) {
		const struct sw_vm_info *vm = &g_array_index(vms, struct sw_vm_info, i);
		gboolean listed = FALSE;

		for (guint g = 0; guests[g] && !listed; g++)
			listed = !strcmp(vm->name, guests[g]);
		if (!listed)
			g_array_append_val(out, *vm);
	}
	g_array_free(vms, TRUE);
	return out;
}

/* A row's identity across updates. */
static char *row_key(const struct sw_vm_info *vm)
{
	return vm->path ? g_strdup(vm->path) : g_strconcat("off:", vm->name, NULL);
}

/* The line that says what the switcher is doing, or what went wrong. */
static char *status_text(struct app *a, gboolean for_menu)
{
	enum sw_client_state st;
	guint n = 0;

	if (a->connect_error)
		return g_strdup(a->connect_error);
	if (!a->client)
		return g_strdup(_("Connecting to the switcher service…"));
	st = sw_client_get_state(a->client);
	if (st == SW_ABSENT)
		return g_strdup(_("The switcher service is not running. "
				  "Waiting for it to start…"));
	if (st != SW_READY)
		return g_strdup(_("Connecting to the switcher service…"));
	if (a->error && for_menu)
		return g_strdup(a->error);
	for (guint i = 0; i < sw_client_n_vms(a->client); i++) {
		struct sw_vm_info vm;

		if (!sw_client_vm(a->client, i, &vm))
			continue;
		n += !vm.host;	/* "no VM": no guest */
		if (vm.active && for_menu && vm.host)
			return g_strdup(_("dom0 has the screen and keyboard"));
		if (vm.active && for_menu)
			return g_strdup_printf(_("%s has the screen and keyboard"),
					       vm.name);
	}
	if (!n)
		return g_strdup(_("No VM is running."));
	return g_strdup(for_menu ? _("No VM has the screen.")
				 : _("Click a VM to give it the screen and keyboard."));
}

static void set_error(struct app *a, char *text)
{
	g_free(a->error);
	a->error = text;
	update(a);
}

struct switch_req {
	struct app *a;
	char *name;
};

static void on_switch_done(const GError *err, void *data)
{
	struct switch_req *req = data;
	struct app *a = req->a;

	if (err && !g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
		char *why = sw_error_text(err);
		char *text = g_strdup_printf(_("Could not switch to %s: %s"),
					     req->name, why);

		g_printerr("switcher-ui: %s\n", text);
		if (!a->window || !gtk_widget_get_visible(a->window))
			notify(a, _("Could not switch"), text, TRUE);
		set_error(a, text);
		g_free(why);
	}
	g_free(req->name);
	g_free(req);
}

/* A VM chosen in the window or the menu. Choosing the active VM again
 * keeps it marked and asks hostd nothing. */
static void choose(struct app *a, const char *path)
{
	if (!path) {	/* an off guest: nothing to switch to */
		update(a);
		return;
	}
	for (guint i = 0; a->client && i < sw_client_n_vms(a->client); i++) {
		struct sw_vm_info vm;
		struct switch_req *req;

		if (!sw_client_vm(a->client, i, &vm) || strcmp(vm.path, path))
			continue;
		g_clear_pointer(&a->error, g_free);
		if (!vm.active) {
			req = g_new0(struct switch_req, 1);
			req->a = a;
			req->name = g_strdup(vm.name);
			sw_client_switch_to(a->client, vm.name, on_switch_done, req);
		}
		break;
	}
	/* the toggle the click flipped goes back to what hostd says; the
	 * switch, when done, moves the mark through PropertiesChanged */
	update(a);
}

struct op_req {
	struct app *a;
	char *name;
	guint which;	/* index in ops[] */
};

static void on_op_done(const GError *err, void *data)
{
	struct op_req *req = data;
	struct app *a = req->a;

	if (err && !g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
		char *why = sw_error_text(err);
		char *text = g_strdup_printf(_(ops[req->which].failed),
					     req->name, why);

		g_printerr("switcher-ui: %s\n", text);
		if (!a->window || !gtk_widget_get_visible(a->window))
			notify(a, _("A virtual machine action failed"), text, TRUE);
		set_error(a, text);
		g_free(why);
	}
	g_free(req->name);
	g_free(req);
}

/* A lifecycle action chosen in the tray's submenu or the window's menu
 * button: the item carries the action, its menu the guest's name. */
static void on_op_item(GtkWidget *w, gpointer data)
{
	struct app *a = data;
	GtkWidget *menu = gtk_widget_get_parent(w);
	const char *name = menu ? g_object_get_data(G_OBJECT(menu), "vm-name") : NULL;
	struct op_req *req;

	if (!name || !a->client)
		return;
	g_clear_pointer(&a->error, g_free);
	req = g_new0(struct op_req, 1);
	req->a = a;
	req->name = g_strdup(name);
	req->which = GPOINTER_TO_UINT(g_object_get_data(G_OBJECT(w), "op"));
	sw_client_vm_op(a->client, name, ops[req->which].op, on_op_done, req);
	update(a);
}

/* Guest `name`'s lifecycle menu (update() shows the actions that fit). */
static GtkWidget *make_op_menu(struct app *a, const char *name)
{
	GtkWidget *menu = gtk_menu_new();

	g_object_set_data_full(G_OBJECT(menu), "vm-name", g_strdup(name), g_free);
	for (guint i = 0; i < G_N_ELEMENTS(ops); i++) {
		GtkWidget *it = gtk_menu_item_new_with_mnemonic(_(ops[i].label));

		g_object_set_data(G_OBJECT(it), "op", GUINT_TO_POINTER(i));
		g_signal_connect(it, "activate", G_CALLBACK(on_op_item), a);
		gtk_menu_shell_append(GTK_MENU_SHELL(menu), it);
	}
	return menu;
}

/* Show the actions of menu that fit vm's state; FALSE if none does. */
static gboolean show_fitting_ops(GtkWidget *menu, const struct sw_vm_info *vm)
{
	GList *items = gtk_container_get_children(GTK_CONTAINER(menu));
	gboolean any = FALSE;

	for (GList *l = items; l; l = l->next) {
		guint i = GPOINTER_TO_UINT(g_object_get_data(l->data, "op"));
		gboolean fits = op_fits(vm, ops[i].op);

		gtk_widget_set_visible(l->data, fits);
		any |= fits;
	}
	g_list_free(items);
	return any;
}

static void on_button(GtkWidget *w, gpointer data)
{
	choose(data, g_object_get_data(G_OBJECT(w), "vm-path"));
}

/* Did the list of VMs (not their properties) change since last shown? */
static gboolean same_vms(struct app *a, GArray *r)
{
	gboolean same = r->len == a->shown->len;

	for (guint i = 0; same && i < r->len; i++) {
		char *key = row_key(&g_array_index(r, struct sw_vm_info, i));

		same = strcmp(a->shown->pdata[i], key) == 0;
		g_free(key);
	}
	return same;
}

/* Make one button and one menu item per VM, in hostd's order. */
static void remake_vm_widgets(struct app *a, GArray *r)
{
	/* a window row is the button's parent box (with its menu button) */
	thumbs_clear(a->thumbs);
	for (guint i = 0; i < a->buttons->len; i++)
		gtk_widget_destroy(gtk_widget_get_parent(a->buttons->pdata[i]));
	for (guint i = 0; i < a->items->len; i++)
		gtk_widget_destroy(a->items->pdata[i]);
	for (guint i = 0; i < a->ctl_items->len; i++)
		gtk_widget_destroy(a->ctl_items->pdata[i]);
	g_ptr_array_set_size(a->buttons, 0);
	g_ptr_array_set_size(a->items, 0);
	g_ptr_array_set_size(a->ctl_items, 0);
	g_ptr_array_set_size(a->shown, 0);
	for (guint i = 0; i < r->len; i++) {
		const struct sw_vm_info vm = g_array_index(r, struct sw_vm_info, i);
		GtkWidget *w, *row, *mb;
		char *text;

		g_ptr_array_add(a->shown, row_key(&vm));
		if (a->vmbox) {
			row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
			w = gtk_toggle_button_new_with_mnemonic("");
			gtk_widget_set_name(w, vm.name);
			if (vm.path && !vm.host)	/* a guest with a domain */
				thumbs_attach(a->thumbs, w, vm.name);
			g_object_set_data_full(G_OBJECT(w), "vm-path",
					       g_strdup(vm.path), g_free);
			g_signal_connect(w, "clicked", G_CALLBACK(on_button), a);
			gtk_box_pack_start(GTK_BOX(row), w, TRUE, TRUE, 0);
			mb = gtk_menu_button_new();
			text = g_strdup_printf(_("Manage %s"), vm.name);
			gtk_widget_set_tooltip_text(mb, text);
			gtk_widget_set_name(mb, text);
			g_free(text);
			gtk_menu_button_set_popup(GTK_MENU_BUTTON(mb),
						  make_op_menu(a, vm.name));
			g_object_set_data(G_OBJECT(w), "ops-button", mb);
			gtk_box_pack_start(GTK_BOX(row), mb, FALSE, FALSE, 0);
			volume_attach(a->bus, row, vm.host ? NULL : vm.path);
			gtk_box_pack_start(GTK_BOX(a->vmbox), row, FALSE, FALSE, 0);
			gtk_widget_show_all(row);
			g_ptr_array_add(a->buttons, w);
		}
		if (a->menu) {
			w = gtk_check_menu_item_new_with_mnemonic("");
			gtk_check_menu_item_set_draw_as_radio(GTK_CHECK_MENU_ITEM(w), TRUE);
			g_object_set_data_full(G_OBJECT(w), "vm-path",
					       g_strdup(vm.path), g_free);
			g_signal_connect(w, "activate", G_CALLBACK(on_button), a);
			/* after the status line and its separator */
			gtk_menu_shell_insert(GTK_MENU_SHELL(a->menu), w,
					      2 + (gint)a->items->len);
			gtk_widget_show(w);
			g_ptr_array_add(a->items, w);
		}
	}
	/* the "Manage NAME" submenus after the VMs and their separator */
	for (guint i = 0; a->menu && i < r->len; i++) {
		const struct sw_vm_info *vm = &g_array_index(r, struct sw_vm_info, i);
		char *text = g_strdup_printf(_("Manage %s"), vm->name);
		GtkWidget *w = gtk_menu_item_new_with_label(text);

		g_free(text);
		gtk_menu_item_set_submenu(GTK_MENU_ITEM(w), make_op_menu(a, vm->name));
		gtk_menu_shell_insert(GTK_MENU_SHELL(a->menu), w,
				      3 + (gint)a->items->len +
				      (gint)a->ctl_items->len);
		gtk_widget_show(w);
		g_ptr_array_add(a->ctl_items, w);
	}
}

/* Show what the client knows: VM labels, which one is active, the
 * status line and the error. Widgets are made anew only when the VM list
 * changed, so that keyboard focus and the open menu survive a switch. */
static void update(struct app *a)
{
	GArray *r = rows(a);
	gboolean any_ops = FALSE;
	char *status;
	guint n = 0;

	if (!same_vms(a, r))
		remake_vm_widgets(a, r);
	for (guint i = 0; i < r->len; i++) {
		struct sw_vm_info vm = g_array_index(r, struct sw_vm_info, i);
		char *label;

		label = vm_label(&vm);
		if (n < a->buttons->len) {
			GtkWidget *b = a->buttons->pdata[n];

			g_signal_handlers_block_by_func(b, on_button, a);
			gtk_button_set_label(GTK_BUTTON(b), label);
			gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(b), vm.active);
			gtk_widget_set_sensitive(b, vm_can_switch(&vm));
			g_signal_handlers_unblock_by_func(b, on_button, a);
			b = g_object_get_data(G_OBJECT(b), "ops-button");
			gtk_widget_set_sensitive(b, show_fitting_ops(
				GTK_WIDGET(gtk_menu_button_get_popup(GTK_MENU_BUTTON(b))), &vm));
			gtk_widget_set_visible(b, !vm.host);
		}
		if (n < a->ctl_items->len) {
			GtkWidget *it = a->ctl_items->pdata[n];
			gboolean some = show_fitting_ops(
				gtk_menu_item_get_submenu(GTK_MENU_ITEM(it)), &vm);

			gtk_widget_set_visible(it, some);
			any_ops |= some;
		}
		if (n < a->items->len) {
			GtkWidget *it = a->items->pdata[n];

			g_signal_handlers_block_by_func(it, on_button, a);
			gtk_menu_item_set_label(GTK_MENU_ITEM(it), label);
			gtk_check_menu_item_set_active(GTK_CHECK_MENU_ITEM(it), vm.active);
			gtk_widget_set_sensitive(it, vm_can_switch(&vm));
			g_signal_handlers_unblock_by_func(it, on_button, a);
		}
		g_free(label);
		n++;
	}
	g_array_free(r, TRUE);
	if (a->ctl_sep)
		gtk_widget_set_visible(a->ctl_sep, any_ops);
	if (a->status) {
		status = status_text(a, FALSE);
		gtk_label_set_text(GTK_LABEL(a->status), status);
		g_free(status);
		if (a->error) {
			gtk_label_set_text(GTK_LABEL(a->infolabel), a->error);
			gtk_widget_show(a->infobar);
		} else {
			gtk_widget_hide(a->infobar);
		}
	}
	if (a->menu_status) {
		status = status_text(a, TRUE);
		gtk_menu_item_set_label(GTK_MENU_ITEM(a->menu_status), status);
		if (a->tray)
			tray_set_tooltip(a->tray, status);
		g_free(status);
	}
}

static void on_changed(struct sw_client *c, void *data)
{
	update(data);
}

static void on_switched(struct sw_client *c, const char *name,
			guint64 us, void *data)
{
	struct app *a = data;
	char *summary = g_strdup_printf(_("Switched to %s"), name);
	char *body = g_strdup_printf(_("%s has the screen and keyboard "
				       "(switch took %.0f ms)."),
				     name, (double)us / 1000.0);

	notify(a, summary, body, FALSE);
	g_free(summary);
	g_free(body);
	g_clear_pointer(&a->error, g_free);
	update(a);
}

static const struct sw_client_ops client_ops = {
	.changed = on_changed,
	.switched = on_switched,
};

/* -- the window ------------------------------------------------------------ */

static void on_infobar_response(GtkInfoBar *bar, gint response, gpointer data)
{
	struct app *a = data;

	g_clear_pointer(&a->error, g_free);
	update(a);
}

/* Closing the window ends the app unless a tray icon remains to reopen it. */
static gboolean on_delete(GtkWidget *w, GdkEvent *ev, gpointer data)
{
	struct app *a = data;

	if (!a->window_mode && a->has_host) {
		gtk_widget_hide(w);
		return TRUE;
	}
	gtk_main_quit();
	return FALSE;
}

static void make_window(struct app *a)
{
	GtkWidget *box, *content;

	a->window = gtk_window_new(GTK_WINDOW_TOPLEVEL);
	gtk_window_set_title(GTK_WINDOW(a->window), _("Paradice"));
	gtk_window_set_icon_name(GTK_WINDOW(a->window), "video-display");
	gtk_window_set_default_size(GTK_WINDOW(a->window), 380, 220);
	gtk_container_set_border_width(GTK_CONTAINER(a->window), 12);
	box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
	/* the VM buttons first: stacked from the top, one per VM */
	a->vmbox = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
	gtk_box_pack_start(GTK_BOX(box), a->vmbox, FALSE, FALSE, 0);
	a->status = gtk_label_new("");
	gtk_label_set_line_wrap(GTK_LABEL(a->status), TRUE);
	gtk_box_pack_end(GTK_BOX(box), a->status, FALSE, FALSE, 0);
	a->infobar = gtk_info_bar_new();
	gtk_info_bar_set_message_type(GTK_INFO_BAR(a->infobar), GTK_MESSAGE_ERROR);
	gtk_info_bar_set_show_close_button(GTK_INFO_BAR(a->infobar), TRUE);
	content = gtk_info_bar_get_content_area(GTK_INFO_BAR(a->infobar));
	gtk_container_add(GTK_CONTAINER(content),
			  gtk_image_new_from_icon_name("dialog-error",
						       GTK_ICON_SIZE_DIALOG));
	a->infolabel = gtk_label_new("");
	gtk_label_set_line_wrap(GTK_LABEL(a->infolabel), TRUE);
	gtk_label_set_xalign(GTK_LABEL(a->infolabel), 0);
	gtk_label_set_selectable(GTK_LABEL(a->infolabel), TRUE);
	gtk_container_add(GTK_CONTAINER(content), a->infolabel);
	gtk_widget_show_all(content);
	gtk_widget_set_no_show_all(a->infobar, TRUE);
	g_signal_connect(a->infobar, "response", G_CALLBACK(on_infobar_response), a);
	gtk_box_pack_end(GTK_BOX(box), a->infobar, FALSE, FALSE, 0);
	gtk_container_add(GTK_CONTAINER(a->window), box);
	g_signal_connect(a->window, "delete-event", G_CALLBACK(on_delete), a);
	gtk_widget_show_all(box);
}

/* -- the tray ---------------------------------------------------------------- */

/* The menu's "Open Switcher Window", or another switcher-ui --window
 * started in this session (GApplication's activate). */
static void on_show_window(GObject *src, gpointer data)
{
	struct app *a = data;

	a->fallback_shown = FALSE;	/* asked for: stays when a tray comes */
	gtk_window_present(GTK_WINDOW(a->window));
}

static void on_quit(GtkMenuItem *item, gpointer data)
{
	gtk_main_quit();
}

/* No tray host: the window stands in for the icon; one came: the icon
 * is there again and the window goes unless the user opened it. */
static void on_host_changed(gboolean has_host, void *data)
{
	struct app *a = data;

	a->has_host = has_host;
	if (!has_host && !gtk_widget_get_visible(a->window)) {
		gtk_window_present(GTK_WINDOW(a->window));
		a->fallback_shown = TRUE;
	} else if (has_host && a->fallback_shown) {
		gtk_widget_hide(a->window);
		a->fallback_shown = FALSE;
	}
}

static void make_tray(struct app *a)
{
	GtkWidget *w;

	a->menu = gtk_menu_new();
	a->menu_status = gtk_menu_item_new_with_label("");
	gtk_widget_set_sensitive(a->menu_status, FALSE);
	gtk_menu_shell_append(GTK_MENU_SHELL(a->menu), a->menu_status);
	gtk_menu_shell_append(GTK_MENU_SHELL(a->menu), gtk_separator_menu_item_new());
	/* the VMs go here, then this separator and their "Manage" submenus */
	a->ctl_sep = gtk_separator_menu_item_new();
	gtk_menu_shell_append(GTK_MENU_SHELL(a->menu), a->ctl_sep);
	a->menu_sep = gtk_separator_menu_item_new();
	gtk_menu_shell_append(GTK_MENU_SHELL(a->menu), a->menu_sep);
	w = gtk_menu_item_new_with_mnemonic(_("_Open Switcher Window"));
	g_signal_connect(w, "activate", G_CALLBACK(on_show_window), a);
	gtk_menu_shell_append(GTK_MENU_SHELL(a->menu), w);
	w = gtk_menu_item_new_with_mnemonic(_("_Quit"));
	g_signal_connect(w, "activate", G_CALLBACK(on_quit), a);
	gtk_menu_shell_append(GTK_MENU_SHELL(a->menu), w);
	gtk_widget_show_all(a->menu);
	a->tray = tray_create(GTK_MENU(a->menu), on_host_changed, a);
}

/* -- start ------------------------------------------------------------------ */

static void on_bus(GObject *src, GAsyncResult *res, gpointer data)
{
	struct app *a = data;
	GError *err = NULL;
	a->bus = a->by_address ? g_dbus_connection_new_for_address_finish(res, &err)
			    : g_bus_get_finish(res, &err);
	if (!a->bus) {
		a->connect_error = g_strdup_printf(_("Cannot reach the system bus: %s"),
						   err->message);
		g_printerr("switcher-ui: %s\n", a->connect_error);
		g_error_free(err);
	} else {
		a->thumbs = thumbs_create(a->bus, a->window);
		a->client = sw_client_create(a->bus, &client_ops, a);
	}
	update(a);
}

int main(int argc, char **argv)
{
	static gchar *bus_addr, *switch_to;
	static gboolean list, next, previous, window;
	static const GOptionEntry opts[] = {
		{ "bus", 0, 0, G_OPTION_ARG_STRING, &bus_addr, N_("bus address (default: system bus)"), N_("ADDRESS") },
		{ "list", 0, 0, G_OPTION_ARG_NONE, &list, N_("print the VMs and exit"), NULL },
		{ "switch", 0, 0, G_OPTION_ARG_STRING, &switch_to, N_("switch to the VM NAME and exit"), N_("NAME") },
		{ "next", 0, 0, G_OPTION_ARG_NONE, &next, N_("switch to the next VM and exit"), NULL },
		{ "previous", 0, 0, G_OPTION_ARG_NONE, &previous, N_("switch to the previous VM and exit"), NULL },
		{ "window", 0, 0, G_OPTION_ARG_NONE, &window, N_("show a window instead of a tray icon"), NULL },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};
	const char *localedir = g_getenv("SWITCHER_UI_LOCALEDIR");
	GApplication *uniq;
	struct app a = { 0 };
	GError *err = NULL;
	gboolean gui;
	int status = 0;

	setlocale(LC_ALL, "");
	bindtextdomain(GETTEXT_PACKAGE, localedir ? localedir : LOCALEDIR);
	bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
	textdomain(GETTEXT_PACKAGE);

	if (!gtk_init_with_args(&argc, &argv, NULL, opts, GETTEXT_PACKAGE, &err)) {
		/* no display: the command-line modes still work */
		GOptionContext *ctx = g_option_context_new(NULL);

		g_clear_error(&err);
		g_option_context_add_main_entries(ctx, opts, GETTEXT_PACKAGE);
		if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
			g_printerr("switcher-ui: %s\n", err->message);
			return 2;
		}
		g_option_context_free(ctx);
		gui = FALSE;
	} else {
		gui = TRUE;
	}

	if (list || switch_to || next || previous) {
		GDBusConnection *bus = cli_connect(bus_addr, &err);

		if (!bus) {
			g_printerr("switcher-ui: %s: %s\n",
				   _("cannot reach the bus"), err->message);
			g_error_free(err);
			return 1;
		}
		if (list)
			status = cli_list(bus);
		else
			status = cli_switch(bus, switch_to, previous ? -1 : 1);
		g_object_unref(bus);
		return status;
	}
	if (!gui) {
		g_printerr("switcher-ui: %s\n",
			   _("no display; use --list or --switch"));
		return 1;
	}

	/* one switcher per session: the applications menu's entry (--window)
	 * shows the running tray's window instead of starting a second app,
	 * which would notify every switch twice */
	uniq = g_application_new("org.paradice.SwitcherUi", (GApplicationFlags)0);
	g_signal_connect(uniq, "activate", G_CALLBACK(on_show_window), &a);
	if (!g_application_register(uniq, NULL, &err)) {
		/* no session bus: run alone */
		g_debug("not unique: %s", err->message);
		g_clear_error(&err);
	} else if (g_application_get_is_remote(uniq)) {
		GDBusConnection *session = g_bus_get_sync(G_BUS_TYPE_SESSION,
							  NULL, NULL);

		if (window)
			g_application_activate(uniq);
		else
			g_printerr("switcher-ui: %s\n", _("already running"));
		if (session) {
			g_dbus_connection_flush_sync(session, NULL, NULL);
			g_object_unref(session);
		}
		g_object_unref(uniq);
		return 0;
	}

	a.window_mode = window;
	a.by_address = bus_addr != NULL;
	a.buttons = g_ptr_array_new();
	a.items = g_ptr_array_new();
	a.ctl_items = g_ptr_array_new();
	a.shown = g_ptr_array_new_with_free_func(g_free);
	g_bus_get(G_BUS_TYPE_SESSION, NULL, on_session, &a);
	make_window(&a);
	if (!window)
		make_tray(&a);
	update(&a);
	if (bus_addr)
		g_dbus_connection_new_for_address(
			bus_addr, G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
			G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
			NULL, NULL, on_bus, &a);
	else
		g_bus_get(G_BUS_TYPE_SYSTEM, NULL, on_bus, &a);
	if (window)
		gtk_widget_show(a.window);
	gtk_main();

	sw_client_destroy(a.client);
	thumbs_destroy(a.thumbs);
	tray_destroy(a.tray);
	g_ptr_array_free(a.shown, TRUE);
	g_ptr_array_free(a.buttons, TRUE);
	g_ptr_array_free(a.items, TRUE);
	g_ptr_array_free(a.ctl_items, TRUE);
	g_free(a.error);
	g_free(a.connect_error);
	if (a.session)
		g_object_unref(a.session);
	g_object_unref(uniq);
	if (a.bus)
		g_object_unref(a.bus);
	return status;
}
