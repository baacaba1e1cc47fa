// SPDX-License-Identifier: GPL-2.0-only
/*
 * pd-switcher-agent: hostd's D-Bus service, org.paradice.Switcher1, on a
 * guest's system bus, so that the same switcher-ui (tray, window,
 * --list, --switch) runs in a guest's desktop as in dom0. It owns the
 * name and relays each call to hostd through the guest's control file,
 * /dev/paradice/control (include/paradice/pd_control.h): one request per
 * write, one reply per read. hostd decides what this guest may do (its
 * `allow` in dom0's paradice.conf) and logs who asked; a refusal comes
 * back as the D-Bus error hostd names (org.paradice.Switcher1.Error.*).
 *
 * The objects are those of dbus/org.paradice.Switcher1.xml (the code is
 * generated from it, as switcher-ui's client is): the Manager's Vms,
 * ActiveVm and Guests, and a Vm object per guest with a domain and one for
 * dom0's entry ("host", Kind "host"). They are kept current by hostd's
 * EVENTs: the agent asks WATCH on its file, and hostd sends the list
 * after every switch and every change of a VM (made anywhere: a hotkey,
 * dom0's app, another guest), which the agent turns into
 * PropertiesChanged and Switched at once; a LIST every 30 s and after each
 * of its own switches covers an event hostd had to drop. From a hostd
 * without WATCH the LIST comes every 2 s instead. Starting, stopping and
 * pausing guests are dom0's: those calls are refused here. There is no
 * method for another guest's frames.
 *
 *   pd-switcher-agent [--control PATH] [--bus system|session|ADDRESS]
 */
#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <paradice/pd_control.h>

#include "switcher1-agent-gen.h"

#define BUS_NAME	"org.paradice.Switcher1"
#define ROOT_PATH	"/org/paradice/Switcher1"
#define ERROR_PREFIX	"org.paradice.Switcher1.Error."
#define REPLY_TIMEOUT_MS 10000
#define REFRESH_S	2
#define WATCHED_REFRESH	15	/* ticks: with EVENTs, a LIST every 30 s */
#define MAX_VMS		32

struct vm {
	char *name;
	guint domid;
	PdSwVm *skel;		/* exported at ROOT_PATH/vm/DOMID */
	gboolean seen;		/* in the last LIST */
};

struct agent {
	const char *control;
	int fd;			/* the control file, -1: closed */
	gboolean watching;	/* hostd sends EVENTs on it (WATCH) */
	guint fd_source;	/* EVENTs while idle */
	guint ticks;
	GDBusConnection *bus;
	PdSwManager *mgr;
	struct vm vms[MAX_VMS];
	guint nvms;
	char *active;		/* path of ActiveVm */
	GMainLoop *loop;
};

/* -- the control file ------------------------------------------------------- */

static gboolean apply_list(struct agent *a, const char *reply);

static void control_close(struct agent *a)
{
	if (a->fd_source)
		g_source_remove(a->fd_source);
	a->fd_source = 0;
	a->watching = FALSE;
	if (a->fd >= 0)
		close(a->fd);
	a->fd = -1;
}

static gboolean is_event(const char *packet)
{
	return !strncmp(packet, "EVENT\n", 6);
}

static gboolean on_control_readable(gint fd, GIOCondition cond,
				    gpointer data);

/*
 * A file just opened: ask hostd for EVENTs. A hostd that predates WATCH
 * answers "ERR Invalid": the agent then lists every REFRESH_S seconds.
 */
static void control_watch(struct agent *a)
{
	char reply[PD_CONTROL_MAX_REPLY + 1];
	struct pollfd p = { .fd = a->fd, .events = POLLIN };
	ssize_t n;

	if (write(a->fd, "WATCH\n", 6) != 6 ||
	    poll(&p, 1, REPLY_TIMEOUT_MS) != 1 ||
	    (n = read(a->fd, reply, sizeof(reply) - 1)) <= 0)
		return;
	reply[n] = '\0';
	if (strncmp(reply, "OK", 2)) {
		g_debug("no EVENTs from this hostd: %s", reply);
		return;
	}
	a->watching = TRUE;
	a->fd_source = g_unix_fd_add(a->fd, G_IO_IN | G_IO_HUP | G_IO_ERR,
				     on_control_readable, a);
}

/* Every packet waiting on the file: EVENTs applied (nothing else comes
 * unasked). FALSE if the file is gone. */
static gboolean control_drain(struct agent *a)
{
	char buf[PD_CONTROL_MAX_REPLY + 1];

	for (;;) {
		struct pollfd p = { .fd = a->fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 0) != 1)
			return TRUE;
		if (!(p.revents & POLLIN))
			return FALSE;
		n = read(a->fd, buf, sizeof(buf) - 1);
		if (n <= 0)
			return FALSE;
		buf[n] = '\0';
		if (is_event(buf))
			apply_list(a, buf);
		else
			g_debug("unasked packet from hostd: %s", buf);
	}
}

static gboolean on_control_readable(gint fd, GIOCondition cond,
				    gpointer data)
{
	struct agent *a = data;

	if (control_drain(a))
		return G_SOURCE_CONTINUE;
	/* the next refresh opens it again (and asks WATCH again) */
	a->fd_source = 0;
	control_close(a);
	return G_SOURCE_REMOVE;
}

/*
 * One request and its reply (NUL-terminated in reply). TRUE, or FALSE
 * with err set (NotAvailable: no line to hostd). A file that failed is
 * closed; one opened earlier whose write fails (hostd, restarted, closed
 * it) is opened again at once and the request written there.
 */
static gboolean control_call(struct agent *a, const char *req, char *reply,
			     size_t cap, GError **err)
{
	gint64 end = g_get_monotonic_time() + REPLY_TIMEOUT_MS * 1000ll;
	gboolean fresh = a->fd < 0;
	struct pollfd p;
	ssize_t n;

	if (a->fd < 0) {
		a->fd = open(a->control, O_RDWR | O_CLOEXEC);
		if (a->fd >= 0)
			control_watch(a);
	}
	if (a->fd < 0)
		goto fail;
	if (write(a->fd, req, strlen(req)) != (ssize_t)strlen(req)) {
		if (fresh)
			goto fail;
		control_close(a);
		return control_call(a, req, reply, cap, err);
	}
	/* the reply is the first packet that is no EVENT (an EVENT sent
	 * before hostd read the request may come first: applied) */
	for (;;) {
		gint64 left = (end - g_get_monotonic_time()) / 1000;

		p = (struct pollfd){ .fd = a->fd, .events = POLLIN };
		if (left < 0 || poll(&p, 1, (int)left) != 1) {
			errno = ETIMEDOUT;
			goto fail;
		}
		n = read(a->fd, reply, cap - 1);
		if (n <= 0) {
			if (!n)
				errno = ECONNRESET;
			goto fail;
		}
		reply[n] = '\0';
		if (!is_event(reply))
			return TRUE;
		apply_list(a, reply);
	}
fail:
	g_set_error(err, G_DBUS_ERROR, G_DBUS_ERROR_FAILED,
		    "no line to hostd through %s: %s", a->control,
		    g_strerror(errno));
	control_close(a);
	return FALSE;
}

/* hostd's "ERR NAME TEXT" as the D-Bus error it names. */
static void return_error(GDBusMethodInvocation *inv, const char *reply)
{
	static const char *const known[] = { "Refused", "UnknownVm", "Busy",
					     "Invalid" };
	char name[32] = "Failed";
	const char *text = reply;

	if (!strncmp(reply, "ERR ", 4)) {
		size_t len = strcspn(reply + 4, " \n");

		for (size_t i = 0; i < G_N_ELEMENTS(known); i++)
			if (strlen(known[i]) == len &&
			    !strncmp(reply + 4, known[i], len))
				g_strlcpy(name, known[i], sizeof(name));
		text = reply + 4 + len + (reply[4 + len] == ' ');
	}
	{
		char *full = g_strconcat(ERROR_PREFIX, name, NULL);
		char *msg = g_strndup(text, strcspn(text, "\n"));

		g_dbus_method_invocation_return_dbus_error(inv, full, msg);
		g_free(full);
		g_free(msg);
	}
}

/* -- the objects, from LIST ------------------------------------------------- */

static char *vm_path(guint domid)
{
	return g_strdup_printf(ROOT_PATH "/vm/%u", domid);
}

static gboolean on_vm_activate(PdSwVm *skel, GDBusMethodInvocation *inv,
			       gpointer data);
static gboolean on_vm_refused(PdSwVm *skel, GDBusMethodInvocation *inv,
			      gpointer data);

static struct vm *vm_find(struct agent *a, const char *name, guint domid)
{
	for (guint i = 0; i < a->nvms; i++)
		if (!strcmp(a->vms[i].name, name) && a->vms[i].domid == domid)
			return &a->vms[i];
	return NULL;
}

static struct vm *vm_add(struct agent *a, const char *name, guint domid)
{
	struct vm *vm;
	char *path;
	GError *err = NULL;

	if (a->nvms == MAX_VMS)
		return NULL;
	vm = &a->vms[a->nvms++];
	vm->name = g_strdup(name);
	vm->domid = domid;
	vm->skel = pd_sw_vm_skeleton_new();
	pd_sw_vm_set_name(vm->skel, name);
	pd_sw_vm_set_domain_id(vm->skel, domid);
	/* dom0's entry: the one name no guest may have, domain 0 */
	pd_sw_vm_set_kind(vm->skel, !strcmp(name, "host") && domid == 0 ?
			  "host" : "guest");
	g_signal_connect(vm->skel, "handle-activate",
			 G_CALLBACK(on_vm_activate), a);
	g_signal_connect(vm->skel, "handle-shutdown",
			 G_CALLBACK(on_vm_refused), a);
	g_signal_connect(vm->skel, "handle-pause", G_CALLBACK(on_vm_refused), a);
	g_signal_connect(vm->skel, "handle-resume",
			 G_CALLBACK(on_vm_refused), a);
	g_signal_connect(vm->skel, "handle-force-off",
			 G_CALLBACK(on_vm_refused), a);
	path = vm_path(domid);
	if (!g_dbus_interface_skeleton_export(G_DBUS_INTERFACE_SKELETON(vm->skel),
					      a->bus, path, &err)) {
		g_warning("%s: %s", path, err->message);
		g_clear_error(&err);
	}
	g_free(path);
	return vm;
}

static void vm_remove(struct agent *a, guint i)
{
	struct vm *vm = &a->vms[i];

	g_dbus_interface_skeleton_unexport(G_DBUS_INTERFACE_SKELETON(vm->skel));
	g_object_unref(vm->skel);
	g_free(vm->name);
	a->vms[i] = a->vms[--a->nvms];
}

/* Take hostd's LIST reply into the objects; FALSE if it is none. */
static gboolean apply_list(struct agent *a, const char *reply)
{
	char **lines = g_strsplit(reply, "\n", -1);
	GPtrArray *guests = g_ptr_array_new_with_free_func(g_free);
	GPtrArray *paths = g_ptr_array_new_with_free_func(g_free);
	char *active = g_strdup("/");

	if (!lines[0] || (strcmp(lines[0], "OK") && strcmp(lines[0], "EVENT"))) {
		g_strfreev(lines);
		g_ptr_array_unref(guests);
		g_ptr_array_unref(paths);
		g_free(active);
		return FALSE;
	}
	for (guint i = 0; i < a->nvms; i++)
		a->vms[i].seen = FALSE;
	for (char **l = lines + 1; *l; l++) {
		char name[64], state[16];
		guint domid, on;
		struct vm *vm;

		if (!strncmp(*l, "GUEST ", 6)) {
			g_ptr_array_add(guests, g_strdup(*l + 6));
			continue;
		}
		if (sscanf(*l, "VM %63s %u %15s %u", name, &domid, state,
			   &on) != 4)
			continue;
		vm = vm_find(a, name, domid);
		if (!vm)
			vm = vm_add(a, name, domid);
		if (!vm)
			continue;
		vm->seen = TRUE;
		pd_sw_vm_set_state(vm->skel, state);
		pd_sw_vm_set_active(vm->skel, on == 1);
		g_ptr_array_add(paths, vm_path(domid));
		if (on == 1) {
			g_free(active);
			active = vm_path(domid);
		}
	}
	for (guint i = a->nvms; i-- > 0;)
		if (!a->vms[i].seen)
			vm_remove(a, i);
	g_ptr_array_add(guests, NULL);
	g_ptr_array_add(paths, NULL);
	pd_sw_manager_set_guests(a->mgr, (const char *const *)guests->pdata);
	pd_sw_manager_set_vms(a->mgr, (const char *const *)paths->pdata);
	pd_sw_manager_set_active_vm(a->mgr, active);
	if (a->active && strcmp(a->active, active))
		pd_sw_manager_emit_switched(a->mgr, active, 0);
	g_free(a->active);
	a->active = active;
	g_strfreev(lines);
	g_ptr_array_unref(guests);
	g_ptr_array_unref(paths);
	return TRUE;
}

static void refresh(struct agent *a)
{
	char reply[PD_CONTROL_MAX_REPLY + 1];
	GError *err = NULL;

	if (!control_call(a, "LIST\n", reply, sizeof(reply), &err)) {
		g_debug("%s", err->message);
		g_error_free(err);
		return;
	}
	if (!apply_list(a, reply))
		g_debug("LIST: %s", reply);
}

static gboolean on_refresh(gpointer data)
{
	struct agent *a = data;

	/* with EVENTs a LIST now and then covers one hostd dropped */
	if (!a->watching || ++a->ticks % WATCHED_REFRESH == 0)
		refresh(a);
	return G_SOURCE_CONTINUE;
}

/* -- the methods ------------------------------------------------------------ */

/* A switch request: its reply as the call's, then the objects anew. */
static void do_switch(struct agent *a, GDBusMethodInvocation *inv,
		      const char *req)
{
	char reply[PD_CONTROL_MAX_REPLY + 1];
	GError *err = NULL;

	if (!control_call(a, req, reply, sizeof(reply), &err)) {
		g_dbus_method_invocation_return_dbus_error(
			inv, ERROR_PREFIX "NotAvailable", err->message);
		g_error_free(err);
		return;
	}
	if (strncmp(reply, "OK", 2)) {
		return_error(inv, reply);
		return;
	}
	g_dbus_method_invocation_return_value(inv, NULL);
	refresh(a);
}

static gboolean on_switch_to(PdSwManager *mgr, GDBusMethodInvocation *inv,
			     const char *name, gpointer data)
{
	char *req = g_strdup_printf("SWITCH %s\n", name);

	do_switch(data, inv, req);
	g_free(req);
	return TRUE;
}

static gboolean on_switch_to_path(PdSwManager *mgr, GDBusMethodInvocation *inv,
				  const char *path, gpointer data)
{
	struct agent *a = data;

	for (guint i = 0; i < a->nvms; i++) {
		char *p = vm_path(a->vms[i].domid);
		gboolean same = !strcmp(p, path);

		g_free(p);
		if (same)
			return on_switch_to(mgr, inv, a->vms[i].name, data);
	}
	g_dbus_method_invocation_return_dbus_error(inv, ERROR_PREFIX "UnknownVm",
						   "no such VM");
	return TRUE;
}

static gboolean on_switch_next(PdSwManager *mgr, GDBusMethodInvocation *inv,
			       gpointer data)
{
	do_switch(data, inv, "NEXT\n");
	return TRUE;
}

static gboolean on_switch_previous(PdSwManager *mgr,
				   GDBusMethodInvocation *inv, gpointer data)
{
	do_switch(data, inv, "PREVIOUS\n");
	return TRUE;
}

static gboolean on_start(PdSwManager *mgr, GDBusMethodInvocation *inv,
			 const char *name, gpointer data)
{
	g_dbus_method_invocation_return_dbus_error(inv, ERROR_PREFIX "Refused",
		"a guest cannot start, stop or pause guests (dom0's switcher can)");
	return TRUE;
}

static gboolean on_vm_activate(PdSwVm *skel, GDBusMethodInvocation *inv,
			       gpointer data)
{
	char *req = g_strdup_printf("SWITCH %s\n", pd_sw_vm_get_name(skel));

	do_switch(data, inv, req);
	g_free(req);
	return TRUE;
}

static gboolean on_vm_refused(PdSwVm *skel, GDBusMethodInvocation *inv,
			      gpointer data)
{
	return on_start(NULL, inv, NULL, data);
}

/* -- the bus ---------------------------------------------------------------- */

static void on_name_lost(GDBusConnection *bus, const char *name, gpointer data)
{
	struct agent *a = data;

	g_printerr("pd-switcher-agent: cannot own %s on the bus (another "
		   "owner, or the bus policy)\n", name);
	g_main_loop_quit(a->loop);
}

static void on_name_acquired(GDBusConnection *bus, const char *name,
			     gpointer data)
{
	g_printerr("pd-switcher-agent: serving %s\n", name);
}

static GDBusConnection *connect_bus(const char *bus, GError **err)
{
	if (!strcmp(bus, "system"))
		return g_bus_get_sync(G_BUS_TYPE_SYSTEM, NULL, err);
	if (!strcmp(bus, "session"))
		return g_bus_get_sync(G_BUS_TYPE_SESSION, NULL, err);
	return g_dbus_connection_new_for_address_sync(bus,
		G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
		G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION, NULL, NULL, err);
}

int main(int argc, char **argv)
{
	struct agent a = { .control = PD_CONTROL_NODE, .fd = -1 };
	const char *bus = "system";
	GError *err = NULL;
	guint owner;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--control") && i + 1 < argc) {
			a.control = argv[++i];
		} else if (!strcmp(argv[i], "--bus") && i + 1 < argc) {
			bus = argv[++i];
		} else {
			g_printerr("usage: pd-switcher-agent [--control PATH] "
				   "[--bus system|session|ADDRESS]\n");
			return 2;
		}
	}
	a.bus = connect_bus(bus, &err);
	if (!a.bus) {
		g_printerr("pd-switcher-agent: %s\n", err->message);
		return 1;
	}
	a.mgr = pd_sw_manager_skeleton_new();
	pd_sw_manager_set_version(a.mgr, 1);
	pd_sw_manager_set_active_vm(a.mgr, "/");
	g_signal_connect(a.mgr, "handle-switch-to", G_CALLBACK(on_switch_to), &a);
	g_signal_connect(a.mgr, "handle-switch-to-path",
			 G_CALLBACK(on_switch_to_path), &a);
	g_signal_connect(a.mgr, "handle-switch-next",
			 G_CALLBACK(on_switch_next), &a);
	g_signal_connect(a.mgr, "handle-switch-previous",
			 G_CALLBACK(on_switch_previous), &a);
	g_signal_connect(a.mgr, "handle-start", G_CALLBACK(on_start), &a);
	/* the objects first, then the name: a client that sees the name
	 * finds them filled */
	refresh(&a);
	if (!g_dbus_interface_skeleton_export(G_DBUS_INTERFACE_SKELETON(a.mgr),
					      a.bus, ROOT_PATH, &err)) {
		g_printerr("pd-switcher-agent: %s\n", err->message);
		return 1;
	}
	a.loop = g_main_loop_new(NULL, FALSE);
	owner = g_bus_own_name_on_connection(a.bus, BUS_NAME,
					     G_BUS_NAME_OWNER_FLAGS_NONE,
					     on_name_acquired, on_name_lost,
					     &a, NULL);
	g_timeout_add_seconds(REFRESH_S, on_refresh, &a);
	g_main_loop_run(a.loop);
	g_bus_unown_name(owner);
	control_close(&a);
	return 1;
}
