// SPDX-License-Identifier: GPL-2.0-only
/*
 * switcher-ui's command-line modes (cli.h): --list goes through the same
 * client as the GUI (client.c); --switch, --next and --previous are one
 * synchronous call each, since there is no GUI to keep alive.
 */
#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "client.h"

GDBusConnection *cli_connect(const char *address, GError **err)
{
	if (address)
		return g_dbus_connection_new_for_address_sync(
			address, G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
			G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
			NULL, NULL, err);
	return g_bus_get_sync(G_BUS_TYPE_SYSTEM, NULL, err);
}

/* hostd's error, or a plain sentence when hostd is not there at all. */
static void print_error(GError *err)
{
	char *text;

	if (g_error_matches(err, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) ||
	    g_error_matches(err, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER))
		text = g_strdup(_("the switcher service (hostd) is not running"));
	else
		text = sw_error_text(err);
	g_printerr("switcher-ui: %s\n", text);
	g_free(text);
}

/* --switch, --next, --previous: one call, then exit. Synchronous: there
 * is no GUI to keep alive. */
int cli_switch(GDBusConnection *bus, const char *name, int step)
{
	GError *err = NULL;
	PdSwManager *mgr = pd_sw_manager_proxy_new_sync(
		bus, G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES |
		G_DBUS_PROXY_FLAGS_DO_NOT_CONNECT_SIGNALS |
		G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START,
		SW_BUS_NAME, SW_ROOT_PATH, NULL, &err);
	gboolean ok = FALSE;
	char *owner = mgr ? g_dbus_proxy_get_name_owner(G_DBUS_PROXY(mgr)) : NULL;

	if (mgr && !owner) {
		err = g_error_new_literal(G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER,
					  SW_BUS_NAME);
	} else if (mgr) {
		/* polkit may prompt the user: the call allows it */
		GVariant *r = g_dbus_proxy_call_sync(G_DBUS_PROXY(mgr),
			name ? "SwitchTo" : step > 0 ? "SwitchNext" :
			"SwitchPrevious", name ? g_variant_new("(s)", name) : NULL,
			G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION, -1, NULL,
			&err);

		ok = r != NULL;
		if (r)
			g_variant_unref(r);
	}
	g_free(owner);
	if (mgr)
		g_object_unref(mgr);
	if (!ok) {
		print_error(err);
		g_error_free(err);
	}
	return ok ? 0 : 1;
}

struct list_run {
	GMainLoop *loop;
	int status;
};

/* --list goes through the same client as the GUI: it prints once the
 * client has read every VM. */
static void on_list_changed(struct sw_client *c, void *data)
{
	struct list_run *run = data;

	switch (sw_client_get_state(c)) {
	case SW_ABSENT:
		g_printerr("switcher-ui: %s\n",
			   _("the switcher service (hostd) is not running"));
		run->status = 1;
		g_main_loop_quit(run->loop);
		return;
	case SW_READY:
		break;
	default:
		return;
	}
	for (guint i = 0; i < sw_client_n_vms(c); i++) {
		struct sw_vm_info vm;

		if (sw_client_vm(c, i, &vm))
			printf("%s %u %s%s\n", vm.name, vm.domid,
			       vm.state ? vm.state : "unknown",
			       vm.active ? " active" : "");
	}
	/* the guests that are off: no domain, "-" */
	for (const char *const *g = sw_client_guests(c); g && *g; g++) {
		gboolean on = FALSE;

		for (guint i = 0; i < sw_client_n_vms(c) && !on; i++) {
			struct sw_vm_info vm;

			on = sw_client_vm(c, i, &vm) && !strcmp(vm.name, *g);
		}
		if (!on)
			printf("%s - off\n", *g);
	}
	run->status = 0;
	g_main_loop_quit(run->loop);
}

static gboolean on_list_timeout(gpointer data)
{
	struct list_run *run = data;

	g_printerr("switcher-ui: %s\n", _("no answer from the switcher service"));
	g_main_loop_quit(run->loop);
	return G_SOURCE_REMOVE;
}

int cli_list(GDBusConnection *bus)
{
	static const struct sw_client_ops ops = { .changed = on_list_changed };
	struct list_run run = { g_main_loop_new(NULL, FALSE), 1 };
	struct sw_client *c = sw_client_create(bus, &ops, &run);
	guint timer = g_timeout_add_seconds(25, on_list_timeout, &run);

	g_main_loop_run(run.loop);
	g_source_remove(timer);
	sw_client_destroy(c);
	g_main_loop_unref(run.loop);
	return run.status;
}
