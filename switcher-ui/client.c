// SPDX-License-Identifier: GPL-2.0-only
/*
 * hostd's VMs as the switcher sees them (see client.h).
 *
 * Life of the view: g_bus_watch_name() says when org.paradice.Switcher1
 * gets an owner (hostd started) and loses it (hostd stopped or crashed).
 * On appearance one Manager proxy is made; its GetAll gives Vms and
 * ActiveVm. Each VM path gets one Vm proxy (its GetAll, once). From then
 * on the proxies' caches follow PropertiesChanged: a switch costs no call
 * at all. When Vms changes, only the new paths get a proxy. When the name
 * vanishes every proxy is dropped and pending calls are cancelled.
 */
#include <glib/gi18n.h>
#include <string.h>

#include "client.h"

struct vm_entry {
	char *path;
	PdSwVm *proxy;		/* NULL until its properties are read */
	gulong changed_id;
};

struct sw_client {
	GDBusConnection *bus;
	const struct sw_client_ops *ops;
	void *data;
	guint watch;
	enum sw_client_state state;
	/* cancelled when hostd goes away or the client is destroyed: the
	 * callbacks of calls made for the old owner must not run */
	GCancellable *cancel;
	PdSwManager *mgr;
	gboolean mgr_pending;	/* the Manager proxy is being made */
	GPtrArray *vms;		/* struct vm_entry *, in Vms order */
	guint pending;		/* Vm proxies being made */
	guint nudge;		/* timer while SW_LOADING, see nudge() */
};

static void vm_entry_free(gpointer p)
{
	struct vm_entry *e = p;

	if (e->proxy) {
		g_signal_handler_disconnect(e->proxy, e->changed_id);
		g_object_unref(e->proxy);
	}
	g_free(e->path);
	g_free(e);
}

static void notify_changed(struct sw_client *c)
{
	if (c->state == SW_LOADING && c->mgr && c->pending == 0)
		c->state = SW_READY;
	g_debug("state %d, manager %s, %u VMs, %u being read", c->state,
		c->mgr ? "read" : "not read", c->vms->len, c->pending);
	if (c->ops->changed)
		c->ops->changed(c, c->data);
}

static void on_vm_props(GDBusProxy *p, GVariant *changed, GStrv invalidated,
			gpointer data)
{
	notify_changed(data);
}

/* A proxy being made for the current owner of hostd's name. GDBusProxy
 * completes its async init even when cancelled (a failed GetAll only
 * leaves the cache empty), so each callback checks the cancellable it was
 * made with before it touches the client, which may be gone. */
struct making {
	struct sw_client *c;
	GCancellable *cancel;
};

static struct making *making_new(struct sw_client *c)
{
	struct making *m = g_new(struct making, 1);

	m->c = c;
	m->cancel = g_object_ref(c->cancel);
	return m;
}

/* The client, or NULL when the proxy came too late. */
static struct sw_client *making_done(struct making *m)
{
	struct sw_client *c = g_cancellable_is_cancelled(m->cancel) ? NULL : m->c;

	g_object_unref(m->cancel);
	g_free(m);
	return c;
}

static void on_vm_ready(GObject *src, GAsyncResult *res, gpointer data)
{
	GError *err = NULL;
	PdSwVm *proxy = pd_sw_vm_proxy_new_finish(res, &err);
	struct sw_client *c = making_done(data);
	const char *path;

	if (!c) {
		g_clear_error(&err);
		g_clear_object(&proxy);
		return;
	}
	c->pending--;
	if (!proxy) {
		g_warning("switcher-ui: a VM of hostd: %s", err->message);
		g_error_free(err);
		notify_changed(c);
		return;
	}
	path = g_dbus_proxy_get_object_path(G_DBUS_PROXY(proxy));
	for (guint i = 0; i < c->vms->len; i++) {
		struct vm_entry *e = g_ptr_array_index(c->vms, i);

		if (!e->proxy && strcmp(e->path, path) == 0) {
			e->proxy = g_object_ref(proxy);
			e->changed_id = g_signal_connect(proxy, "g-properties-changed",
							 G_CALLBACK(on_vm_props), c);
			break;
		}
	}
	/* not found: Vms dropped it meanwhile */
	g_object_unref(proxy);
	notify_changed(c);
}

/* Make the VM list follow the Manager's Vms: keep the proxies of paths
 * still there, make proxies for new paths, drop the others. */
static void sync_vms(struct sw_client *c)
{
	const char *const *paths = pd_sw_manager_get_vms(c->mgr);
	GPtrArray *next = g_ptr_array_new_with_free_func(vm_entry_free);

	for (guint i = 0; paths && paths[i]; i++) {
		struct vm_entry *e = NULL;

		for (guint j = 0; j < c->vms->len; j++) {
			struct vm_entry *old = g_ptr_array_index(c->vms, j);

			if (old && strcmp(old->path, paths[i]) == 0) {
				/* steal it from the old list */
				e = old;
				c->vms->pdata[j] = NULL;
				break;
			}
		}
		if (!e) {
			e = g_new0(struct vm_entry, 1);
			e->path = g_strdup(paths[i]);
			c->pending++;
			pd_sw_vm_proxy_new(c->bus, G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START,
					   SW_BUS_NAME, e->path, c->cancel,
					   on_vm_ready, making_new(c));
		}
		g_ptr_array_add(next, e);
	}
	/* the old list now holds only dropped entries (and NULLs) */
	g_ptr_array_set_free_func(c->vms, NULL);
	for (guint j = 0; j < c->vms->len; j++)
		if (c->vms->pdata[j])
			vm_entry_free(c->vms->pdata[j]);
	g_ptr_array_free(c->vms, TRUE);
	c->vms = next;
}

static void on_mgr_props(GDBusProxy *p, GVariant *changed, GStrv invalidated,
			 gpointer data)
{
	struct sw_client *c = data;
	GVariant *vms = g_variant_lookup_value(changed, "Vms", NULL);

	if (vms) {
		g_variant_unref(vms);
		sync_vms(c);
	}
	notify_changed(c);
}

static void on_switched(PdSwManager *mgr, const char *path, guint64 us,
			gpointer data)
{
	struct sw_client *c = data;
	const char *name = NULL;

	for (guint i = 0; i < c->vms->len; i++) {
		struct vm_entry *e = g_ptr_array_index(c->vms, i);

		if (e->proxy && strcmp(e->path, path) == 0)
			name = pd_sw_vm_get_name(e->proxy);
	}
	if (c->ops->switched)
		c->ops->switched(c, name ? name : path, us, c->data);
}

static void on_mgr_ready(GObject *src, GAsyncResult *res, gpointer data)
{
	GError *err = NULL;
	PdSwManager *mgr = pd_sw_manager_proxy_new_finish(res, &err);
	struct sw_client *c = making_done(data);

	if (!c) {
		g_clear_error(&err);
		g_clear_object(&mgr);
		return;
	}
	c->mgr_pending = FALSE;
	if (!mgr) {
		/* nudge() tries again */
		g_warning("switcher-ui: hostd's manager object: %s", err->message);
		g_error_free(err);
		return;
	}
	if (!pd_sw_manager_get_vms(mgr)) {
		/* GDBusProxy completes even when GetAll failed or timed out,
		 * with nothing cached; such a proxy would show no VM for good */
		g_warning("switcher-ui: hostd did not give its properties; asking again");
		g_object_unref(mgr);
		return;
	}
	c->mgr = mgr;
	g_signal_connect(mgr, "g-properties-changed", G_CALLBACK(on_mgr_props), c);
	g_signal_connect(mgr, "switched", G_CALLBACK(on_switched), c);
	sync_vms(c);
	notify_changed(c);
}

static void make_manager(struct sw_client *c)
{
	c->mgr_pending = TRUE;
	/* the proxies use the well-known name; hostd owns it only once */
	pd_sw_manager_proxy_new(c->bus, G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START,
				SW_BUS_NAME, SW_ROOT_PATH, c->cancel,
				on_mgr_ready, making_new(c));
}

/*
 * Once a second while hostd's objects are being read: ping hostd and make
 * the Manager proxy again if the last try failed. The ping is for a
 * libdbus service that polls its socket before dispatching what a blocking
 * call of its own already read: hostd, restarted under load, left the
 * GetAll that came right after it took its name unanswered until the next
 * message reached it (tests/host/test_switcher_ui.py, about one run in
 * five). Any message wakes it. A service without that fault is pinged at
 * most once: loading takes milliseconds.
 */
static gboolean nudge(gpointer data)
{
	struct sw_client *c = data;

	if (c->state != SW_LOADING) {
		c->nudge = 0;
		return G_SOURCE_REMOVE;
	}
	g_debug("still reading hostd's objects: pinging it");
	g_dbus_connection_call(c->bus, SW_BUS_NAME, SW_ROOT_PATH,
			       "org.freedesktop.DBus.Peer", "Ping", NULL, NULL,
			       G_DBUS_CALL_FLAGS_NO_AUTO_START, 5000, c->cancel,
			       NULL, NULL);
	if (!c->mgr && !c->mgr_pending)
		make_manager(c);
	return G_SOURCE_CONTINUE;
}

/* Forget everything learnt from the previous owner of the name. */
static void drop_owner(struct sw_client *c)
{
	if (c->nudge) {
		g_source_remove(c->nudge);
		c->nudge = 0;
	}
	c->mgr_pending = FALSE;
	g_cancellable_cancel(c->cancel);
	g_object_unref(c->cancel);
	c->cancel = g_cancellable_new();
	if (c->mgr) {
		g_signal_handlers_disconnect_by_data(c->mgr, c);
		g_clear_object(&c->mgr);
	}
	g_ptr_array_set_size(c->vms, 0);
	c->pending = 0;
}

static void on_appeared(GDBusConnection *bus, const char *name,
			const char *owner, gpointer data)
{
	struct sw_client *c = data;

	drop_owner(c);
	c->state = SW_LOADING;
	make_manager(c);
	c->nudge = g_timeout_add_seconds(1, nudge, c);
	notify_changed(c);
}

static void on_vanished(GDBusConnection *bus, const char *name, gpointer data)
{
	struct sw_client *c = data;

	drop_owner(c);
	c->state = SW_ABSENT;
	notify_changed(c);
}

struct sw_client *sw_client_create(GDBusConnection *bus,
				   const struct sw_client_ops *ops, void *data)
{
	struct sw_client *c = g_new0(struct sw_client, 1);

	c->bus = g_object_ref(bus);
	c->ops = ops;
	c->data = data;
	c->cancel = g_cancellable_new();
	c->vms = g_ptr_array_new_with_free_func(vm_entry_free);
	c->state = SW_CONNECTING;
	c->watch = g_bus_watch_name_on_connection(bus, SW_BUS_NAME,
						  G_BUS_NAME_WATCHER_FLAGS_NONE,
						  on_appeared, on_vanished, c, NULL);
	return c;
}

void sw_client_destroy(struct sw_client *c)
{
	if (!c)
		return;
	g_bus_unwatch_name(c->watch);
	drop_owner(c);
	g_object_unref(c->cancel);
	g_ptr_array_free(c->vms, TRUE);
	g_object_unref(c->bus);
	g_free(c);
}

enum sw_client_state sw_client_get_state(struct sw_client *c)
{
	return c->state;
}

guint sw_client_n_vms(struct sw_client *c)
{
	return c->vms->len;
}

/* False while the VM's properties are still being read. */
gboolean sw_client_vm(struct sw_client *c, guint i, struct sw_vm_info *out)
{
	struct vm_entry *e = i < c->vms->len ? g_ptr_array_index(c->vms, i) : NULL;
	const char *active = c->mgr ? pd_sw_manager_get_active_vm(c->mgr) : NULL;
	const char *name, *kind;

	if (!e || !e->proxy)
		return FALSE;
	name = pd_sw_vm_get_name(e->proxy);
	kind = pd_sw_vm_get_kind(e->proxy);
	out->path = e->path;
	out->name = name ? name : strrchr(e->path, '/') + 1;
	out->state = pd_sw_vm_get_state(e->proxy);
	out->domid = pd_sw_vm_get_domain_id(e->proxy);
	/* the Manager's ActiveVm is the one truth (a VM's own Active says the
	 * same, but two caches may be updated one signal apart) */
	out->active = active && strcmp(active, e->path) == 0;
	/* a hostd without Kind has no host object either */
	out->host = kind && strcmp(kind, "host") == 0;
	return TRUE;
}

struct switch_call {
	sw_done_fn done;
	void *data;
};

static void on_switch_done(GObject *src, GAsyncResult *res, gpointer data)
{
	struct switch_call *call = data;
	GError *err = NULL;

	pd_sw_manager_call_switch_to_finish(PD_SW_MANAGER(src), res, &err);
	call->done(err, call->data);
	g_clear_error(&err);
	g_free(call);
}

void sw_client_switch_to(struct sw_client *c, const char *name,
			 sw_done_fn done, void *data)
{
	struct switch_call *call;

	if (!c->mgr) {
		GError *err = g_error_new(G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED,
					  _("The switcher service is not running."));

		done(err, data);
		g_error_free(err);
		return;
	}
	call = g_new0(struct switch_call, 1);
	call->done = done;
	call->data = data;
	/* hostd asks polkit, which may prompt the user (auth_admin for an
	 * inactive session): the call allows it, as the generated one
	 * cannot say */
	g_dbus_proxy_call(G_DBUS_PROXY(c->mgr), "SwitchTo",
			  g_variant_new("(s)", name),
			  G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION, -1,
			  c->cancel, on_switch_done, call);
}

const char *const *sw_client_guests(struct sw_client *c)
{
	return c->mgr ? pd_sw_manager_get_guests(c->mgr) : NULL;
}

static const char *const op_methods[] = {
	[SW_OP_START] = "Start",
	[SW_OP_SHUTDOWN] = "Shutdown",
	[SW_OP_PAUSE] = "Pause",
	[SW_OP_RESUME] = "Resume",
	[SW_OP_FORCE_OFF] = "ForceOff",
};

static void on_op_done(GObject *src, GAsyncResult *res, gpointer data)
{
	struct switch_call *call = data;
	GError *err = NULL;
	GVariant *r = g_dbus_proxy_call_finish(G_DBUS_PROXY(src), res, &err);

	if (r)
		g_variant_unref(r);
	call->done(err, call->data);
	g_clear_error(&err);
	g_free(call);
}

void sw_client_vm_op(struct sw_client *c, const char *name, enum sw_vm_op op,
		     sw_done_fn done, void *data)
{
	GDBusProxy *target = NULL;
	struct switch_call *call;
	GError *err = NULL;

	if (c->mgr && op == SW_OP_START)
		target = G_DBUS_PROXY(c->mgr);
	for (guint i = 0; c->mgr && !target && i < c->vms->len; i++) {
		struct vm_entry *e = g_ptr_array_index(c->vms, i);
		const char *n = e->proxy ? pd_sw_vm_get_name(e->proxy) : NULL;

		if (n && strcmp(n, name) == 0)
			target = G_DBUS_PROXY(e->proxy);
	}
	if (!target) {
		err = c->mgr ? g_error_new(G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
					   _("%s is not running."), name)
			     : g_error_new(G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED,
					   _("The switcher service is not running."));
		done(err, data);
		g_error_free(err);
		return;
	}
	call = g_new0(struct switch_call, 1);
	call->done = done;
	call->data = data;
	/* polkit may prompt (auth_admin_keep): the call allows it */
	g_dbus_proxy_call(target, op_methods[op],
			  op == SW_OP_START ? g_variant_new("(s)", name) : NULL,
			  G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION,
			  op == SW_OP_START ? 150000 : 90000, c->cancel,
			  on_op_done, call);
}

char *sw_error_text(const GError *err)
{
	GError *copy = g_error_copy(err);
	char *text;

	if (g_dbus_error_is_remote_error(copy))
		g_dbus_error_strip_remote_error(copy);
	text = g_strdup(copy->message);
	g_error_free(copy);
	return text;
}
