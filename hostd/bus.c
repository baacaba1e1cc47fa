// SPDX-License-Identifier: GPL-2.0-only
/*
 * hostd's D-Bus service, with libdbus. The interface is defined by
 * dbus/org.paradice.Switcher1.xml; hostd serves the same XML (compiled in
 * by dbus/gen-introspect.py) so the two cannot drift apart.
 *
 * Who may switch: root always; anyone else when polkit grants the action
 * org.paradice.switcher.switch. Without polkit on the bus, non-root callers
 * are refused (org.paradice.Switcher1.Error.Refused), never let through.
 * polkit is asked asynchronously (polkit.c): hostd keeps
 * serving while it waits. A guest's thumbnail (Manager.GetThumbnail, for
 * dom0's switcher window) has an action of its own,
 * org.paradice.switcher.thumbnail: it shows what a guest shows. The lifecycle methods (Manager.Start, Vm.Shutdown,
 * Pause, Resume, ForceOff) are asked the same way, each with an action of
 * its own (org.paradice.switcher.vm-start ...), and then run by
 * lifecycle.c in a child process: their answer comes when it ends.
 */
#include <dbus/dbus.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus.h"
#include "lifecycle.h"
#include "log.h"
#include "poller.h"
#include "bus_audio.h"
#include "polkit.h"
#include "switcher.h"
#include "introspect.h"

#define BUS_NAME "org.paradice.Switcher1"
#define ROOT_PATH "/org/paradice/Switcher1"
#define VM_PATH_PREFIX ROOT_PATH "/vm/"
#define ERR_UNKNOWN_VM BUS_NAME ".Error.UnknownVm"
#define ERR_REFUSED BUS_NAME ".Error.Refused"
#define ERR_BUSY BUS_NAME ".Error.Busy"
#define ERR_LIMITS BUS_NAME ".Error.LimitsExceeded"
#define ERR_TIMEOUT BUS_NAME ".Error.Timeout"
#define ERR_WRONG_STATE BUS_NAME ".Error.WrongState"
#define ERR_NOT_CONFIGURED BUS_NAME ".Error.NotConfigured"
#define ERR_NOT_AVAILABLE BUS_NAME ".Error.NotAvailable"
#define ERR_FAILED BUS_NAME ".Error.Failed"
#define POLKIT_ACTION "org.paradice.switcher.switch"
/* a switch (REQ_SWITCH), a thumbnail (REQ_THUMBNAIL) or a lifecycle
 * operation (its hostd_vm_op) */
#define REQ_SWITCH (-1)
#define REQ_THUMBNAIL (-2)
#define REQ_AUDIO (-3)		/* a Set of Volume or Muted */
#define AUDIO_ACTION "org.paradice.switcher.volume"
#define THUMBNAIL_ACTION "org.paradice.switcher.thumbnail"
#define THUMBNAIL_MAX_W 640u	/* the largest thumbnail hostd hands out */
#define THUMBNAIL_MAX_H 480u
static const char *const op_actions[HOSTD_OP_COUNT] = {
	"org.paradice.switcher.vm-start",
	"org.paradice.switcher.vm-shutdown",
	"org.paradice.switcher.vm-pause",
	"org.paradice.switcher.vm-resume",
	"org.paradice.switcher.vm-force-off",
};
#define INTERFACE_VERSION 1u

struct hostd_bus {
	struct hostd_switcher *sw;
	struct hostd_lifecycle *lc;
	DBusConnection *conn;
	struct hostd_watch *watch;
	bool *lost;		/* set when the bus goes away */
	struct hostd_polkit *polkit;
	bool deferred;		/* the call being handled is answered later */
};

static void vm_path(const struct hostd_vm *vm, char *buf, size_t len)
{
	snprintf(buf, len, VM_PATH_PREFIX "%d", vm->domid);
}

/* A VM object's path: a guest's, or dom0's entry's (.../vm/0, the last of
 * the list: i <= nvms). */
static struct hostd_vm *vm_from_path(struct hostd_switcher *sw, const char *path)
{
	char buf[96];

	for (unsigned int i = 0; i <= sw->nvms; i++) {
		if (sw->vms[i].state == HOSTD_VM_ABSENT)
			continue;
		vm_path(&sw->vms[i], buf, sizeof(buf));
		if (strcmp(buf, path) == 0)
			return &sw->vms[i];
	}
	return NULL;
}

static struct hostd_vm *vm_from_name(struct hostd_switcher *sw, const char *name)
{
	/* dom0's entry (switcher.h), object .../vm/0 */
	if (strcmp(name, HOSTD_HOST_NAME) == 0)
		return &sw->vms[sw->nvms];
	for (unsigned int i = 0; i < sw->nvms; i++)
		if (sw->vms[i].state != HOSTD_VM_ABSENT &&
		    strcmp(sw->vms[i].cfg->name, name) == 0)
			return &sw->vms[i];
	return NULL;
}

static void active_path(struct hostd_switcher *sw, char *buf, size_t len)
{
	struct hostd_vm *vm = &sw->vms[sw->router.active];

	if (sw->nvms && vm->state != HOSTD_VM_ABSENT)
		vm_path(vm, buf, len);
	else
		snprintf(buf, len, "/");
}

/* -- properties ------------------------------------------------------------ */

static bool append_variant(DBusMessageIter *it, int type, const char *sig,
			   const void *value)
{
	DBusMessageIter v;

	return dbus_message_iter_open_container(it, DBUS_TYPE_VARIANT, sig, &v) &&
	       dbus_message_iter_append_basic(&v, type, value) &&
	       dbus_message_iter_close_container(it, &v);
}

static bool append_vms(struct hostd_switcher *sw, DBusMessageIter *it)
{
	DBusMessageIter v, a;
	char buf[96];

	if (!dbus_message_iter_open_container(it, DBUS_TYPE_VARIANT, "ao", &v) ||
	    !dbus_message_iter_open_container(&v, DBUS_TYPE_ARRAY, "o", &a))
		return false;
	/* the guests with a domain, then dom0's entry (always there) */
	for (unsigned int i = 0; i <= sw->nvms; i++) {
		const char *p = buf;

		if (sw->vms[i].state == HOSTD_VM_ABSENT)
			continue;
		vm_path(&sw->vms[i], buf, sizeof(buf));
		if (!dbus_message_iter_append_basic(&a, DBUS_TYPE_OBJECT_PATH, &p))
			return false;
	}
	return dbus_message_iter_close_container(&v, &a) &&
	       dbus_message_iter_close_container(it, &v);
}

/* Every configured guest's name, running or not, in config order. */
static bool append_guests(struct hostd_switcher *sw, DBusMessageIter *it)
{
	DBusMessageIter v, a;

	if (!dbus_message_iter_open_container(it, DBUS_TYPE_VARIANT, "as", &v) ||
	    !dbus_message_iter_open_container(&v, DBUS_TYPE_ARRAY, "s", &a))
		return false;
	for (unsigned int i = 0; i < sw->nvms; i++) {
		const char *name = sw->vms[i].cfg->name;

		if (!dbus_message_iter_append_basic(&a, DBUS_TYPE_STRING, &name))
			return false;
	}
	return dbus_message_iter_close_container(&v, &a) &&
	       dbus_message_iter_close_container(it, &v);
}

/* Append property `name` of the object as a variant; false if unknown. */
static bool append_property(struct hostd_switcher *sw, struct hostd_vm *vm,
			    const char *name, DBusMessageIter *it)
{
	char buf[96];
	const char *s = buf;

	if (!vm) {
		if (strcmp(name, "ActiveVm") == 0) {
			active_path(sw, buf, sizeof(buf));
			return append_variant(it, DBUS_TYPE_OBJECT_PATH, "o", &s);
		}
		if (strcmp(name, "Vms") == 0)
			return append_vms(sw, it);
		if (strcmp(name, "Guests") == 0)
			return append_guests(sw, it);
		if (strcmp(name, "Version") == 0) {
			dbus_uint32_t v = INTERFACE_VERSION;

			return append_variant(it, DBUS_TYPE_UINT32, "u", &v);
		}
		return false;
	}
	if (strcmp(name, "Name") == 0) {
		s = vm->cfg->name;
		return append_variant(it, DBUS_TYPE_STRING, "s", &s);
	}
	if (strcmp(name, "DomainId") == 0) {
		dbus_uint32_t v = (dbus_uint32_t)vm->domid;

		return append_variant(it, DBUS_TYPE_UINT32, "u", &v);
	}
	if (strcmp(name, "State") == 0) {
		s = hostd_vm_state_name(vm->state);
		return append_variant(it, DBUS_TYPE_STRING, "s", &s);
	}
	if (strcmp(name, "Active") == 0) {
		dbus_bool_t b = vm->index == sw->router.active;

		return append_variant(it, DBUS_TYPE_BOOLEAN, "b", &b);
	}
	if (strcmp(name, "Kind") == 0) {
		s = hostd_is_host(sw, vm->index) ? "host" : "guest";
		return append_variant(it, DBUS_TYPE_STRING, "s", &s);
	}
	return hostd_bus_audio_property(sw->hooks.audio_data,
					hostd_is_host(sw, vm->index), vm->index,
					name, it);
}

static const char *const manager_props[] = { "ActiveVm", "Vms", "Guests",
					     "Version", NULL };
static const char *const vm_props[] = { "Name", "DomainId", "State", "Active",
					"Kind", "Audio", "Volume", "Muted", NULL };

static DBusMessage *get_all(struct hostd_switcher *sw, struct hostd_vm *vm, DBusMessage *msg)
{
	DBusMessage *r = dbus_message_new_method_return(msg);
	DBusMessageIter it, dict, entry;
	const char *const *names = vm ? vm_props : manager_props;

	if (!r)
		return NULL;
	dbus_message_iter_init_append(r, &it);
	dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "{sv}", &dict);
	for (; *names; names++) {
		dbus_message_iter_open_container(&dict, DBUS_TYPE_DICT_ENTRY, NULL,
						 &entry);
		dbus_message_iter_append_basic(&entry, DBUS_TYPE_STRING, names);
		append_property(sw, vm, *names, &entry);
		dbus_message_iter_close_container(&dict, &entry);
	}
	dbus_message_iter_close_container(&it, &dict);
	return r;
}

static void emit_changed(struct hostd_bus *b, const char *path,
			 const char *iface, struct hostd_vm *vm,
			 const char *const *names)
{
	DBusMessage *sig = dbus_message_new_signal(
		path, DBUS_INTERFACE_PROPERTIES, "PropertiesChanged");
	DBusMessageIter it, dict, entry, inv;

	if (!sig)
		return;
	dbus_message_iter_init_append(sig, &it);
	dbus_message_iter_append_basic(&it, DBUS_TYPE_STRING, &iface);
	dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "{sv}", &dict);
	for (; *names; names++) {
		dbus_message_iter_open_container(&dict, DBUS_TYPE_DICT_ENTRY, NULL,
						 &entry);
		dbus_message_iter_append_basic(&entry, DBUS_TYPE_STRING, names);
		append_property(b->sw, vm, *names, &entry);
		dbus_message_iter_close_container(&dict, &entry);
	}
	dbus_message_iter_close_container(&it, &dict);
	dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "s", &inv);
	dbus_message_iter_close_container(&it, &inv);
	dbus_connection_send(b->conn, sig, NULL);
	dbus_message_unref(sig);
}

void hostd_bus_vms_changed(struct hostd_bus *b)
{
	static const char *const names[] = { "Vms", "ActiveVm", NULL };

	if (b)
		emit_changed(b, ROOT_PATH, HOSTD_XML_MANAGER_NAME, NULL, names);
}

void hostd_bus_vm_state_changed(struct hostd_bus *b, unsigned int index)
{
	static const char *const names[] = { "State", NULL };
	struct hostd_vm *vm;
	char buf[96];

	if (!b || index >= b->sw->nvms)
		return;
	vm = &b->sw->vms[index];
	if (vm->state == HOSTD_VM_ABSENT)
		return;	/* its object is gone (hostd_bus_vms_changed) */
	vm_path(vm, buf, sizeof(buf));
	emit_changed(b, buf, HOSTD_XML_VM_NAME, vm, names);
	dbus_connection_flush(b->conn);
}

/* The switcher's switched hook. */
static void bus_switched(void *data, unsigned int from, unsigned int to,
			 uint64_t took_us)
{
	struct hostd_bus *b = data;
	static const char *const mgr[] = { "ActiveVm", NULL };
	static const char *const act[] = { "Active", NULL };
	struct hostd_switcher *sw;
	char buf[96];
	const char *p = buf;
	dbus_uint64_t us = took_us;
	DBusMessage *sig;

	if (!b)
		return;
	sw = b->sw;
	emit_changed(b, ROOT_PATH, HOSTD_XML_MANAGER_NAME, NULL, mgr);
	for (unsigned int i = 0; i < 2; i++) {
		struct hostd_vm *vm = &sw->vms[i ? to : from];

		if (vm->state == HOSTD_VM_ABSENT || (i && from == to))
			continue;
		vm_path(vm, buf, sizeof(buf));
		emit_changed(b, buf, HOSTD_XML_VM_NAME, vm, act);
	}
	active_path(sw, buf, sizeof(buf));
	sig = dbus_message_new_signal(ROOT_PATH, HOSTD_XML_MANAGER_NAME, "Switched");
	if (!sig)
		return;
	dbus_message_append_args(sig, DBUS_TYPE_OBJECT_PATH, &p,
				 DBUS_TYPE_UINT64, &us, DBUS_TYPE_INVALID);
	dbus_connection_send(b->conn, sig, NULL);
	dbus_message_unref(sig);
}

/* -- answers -------------------------------------------------------------- */

static DBusMessage *error(DBusMessage *msg, const char *name, const char *fmt,
			  const char *arg)
{
	char text[1536];

	snprintf(text, sizeof(text), fmt, arg);
	return dbus_message_new_error(msg, name, text);
}

static void reply(struct hostd_bus *b, DBusMessage *r)
{
	if (!r)
		return;
	dbus_connection_send(b->conn, r, NULL);
	dbus_message_unref(r);
}

static DBusMessage *switch_now(struct hostd_bus *b, DBusMessage *msg,
			       unsigned int index, int domid)
{
	struct hostd_vm *vm = index <= b->sw->nvms ? &b->sw->vms[index] : NULL;
	int r;

	if (!vm || vm->state == HOSTD_VM_ABSENT || vm->domid != domid)
		return error(msg, ERR_UNKNOWN_VM, "%s",
			     "the VM went away while polkit was asked");
	r = hostd_switch_to(b->sw, vm->index);
	if (r == -EAGAIN)
		return error(msg, ERR_REFUSED, "VM %s cannot take the screen now",
			     vm->cfg->name);
	if (r < 0)
		return error(msg, ERR_UNKNOWN_VM, "no VM %s", vm->cfg->name);
	return dbus_message_new_method_return(msg);
}

/* A lifecycle call waiting for its operation's end (lifecycle.c). */
struct op_call {
	struct hostd_bus *b;
	DBusMessage *call;
};

static void on_op_done(void *data, int err, const char *text)
{
	struct op_call *c = data;
	DBusMessage *r;

	if (!err)
		r = dbus_message_new_method_return(c->call);
	else
		r = error(c->call, err == -ETIMEDOUT ? ERR_TIMEOUT : ERR_FAILED,
			  "%s", text);
	reply(c->b, r);
	dbus_connection_flush(c->b->conn);
	dbus_message_unref(c->call);
	free(c);
}

/* An error for lifecycle check's answer r (not 0). */
static DBusMessage *op_error(DBusMessage *msg, int r, const char *why)
{
	const char *name = r == -EINVAL ? ERR_WRONG_STATE :
			   r == -ENOENT ? ERR_NOT_CONFIGURED :
			   r == -EBUSY ? ERR_BUSY :
			   r == -ENOTSUP ? ERR_NOT_AVAILABLE : ERR_FAILED;

	return error(msg, name, "%s", why);
}

/*
 * Run lifecycle operation op on guest index (of domain domid when the
 * call came; a Start's is -1) for the caller of msg: NULL and b->deferred
 * when it runs (on_op_done answers), else the error.
 */
static DBusMessage *op_now(struct hostd_bus *b, DBusMessage *msg,
			   enum hostd_vm_op op, unsigned int index, int domid)
{
	struct hostd_vm *vm = index < b->sw->nvms ? &b->sw->vms[index] : NULL;
	const char *why;
	struct op_call *c;
	int r;

	if (!vm || vm->domid != domid)
		return error(msg, ERR_UNKNOWN_VM, "%s",
			     "the VM changed while polkit was asked");
	r = hostd_lifecycle_check(b->lc, index, op, &why);
	if (r)
		return op_error(msg, r, why);
	c = calloc(1, sizeof(*c));
	if (!c)
		return error(msg, ERR_FAILED, "%s", "out of memory");
	c->b = b;
	c->call = dbus_message_ref(msg);
	hostd_log("bus: %s asks %s of %s", dbus_message_get_sender(msg),
		  hostd_vm_op_name(op), vm->cfg->name);
	r = hostd_lifecycle_run(b->lc, index, op, on_op_done, c);
	if (r) {
		dbus_message_unref(c->call);
		free(c);
		return error(msg, ERR_FAILED, "cannot run the operation: %s",
			     strerror(-r));
	}
	b->deferred = true;
	return NULL;
}

/*
 * Guest index's thumbnail for the caller of msg (polkit said yes), within
 * the size the call asks (at most THUMBNAIL_MAX_W x THUMBNAIL_MAX_H):
 * (width, height, stride, "XRGB8888", bytes).
 */
static DBusMessage *thumbnail_now(struct hostd_bus *b, DBusMessage *msg,
				  unsigned int index, int domid)
{
	const struct hostd_switch_hooks *k = &b->sw->hooks;
	struct hostd_vm *vm = index < b->sw->nvms ? &b->sw->vms[index] : NULL;
	dbus_uint32_t max_w = 0, max_h = 0;
	struct hostd_thumbnail t;
	const char *name = NULL, *format = "XRGB8888";
	const uint8_t *bytes;
	DBusMessage *r;
	int n;

	if (!vm || vm->state == HOSTD_VM_ABSENT || vm->domid != domid)
		return error(msg, ERR_UNKNOWN_VM, "%s",
			     "the VM went away while polkit was asked");
	dbus_message_get_args(msg, NULL, DBUS_TYPE_STRING, &name,
			      DBUS_TYPE_UINT32, &max_w, DBUS_TYPE_UINT32,
			      &max_h, DBUS_TYPE_INVALID);
	max_w = max_w && max_w < THUMBNAIL_MAX_W ? max_w : THUMBNAIL_MAX_W;
	max_h = max_h && max_h < THUMBNAIL_MAX_H ? max_h : THUMBNAIL_MAX_H;
	if (!k->thumbnail || k->thumbnail(k->show_data, index, max_w, max_h,
					  &t))
		return error(msg, ERR_NOT_AVAILABLE, "no frame of %s to show "
			     "(no display state yet, or a format hostd does "
			     "not read)", vm->cfg->name);
	r = dbus_message_new_method_return(msg);
	bytes = (const uint8_t *)t.pixels;
	n = (int)(t.stride * t.height);
	if (r && !dbus_message_append_args(r, DBUS_TYPE_UINT32, &t.width,
					   DBUS_TYPE_UINT32, &t.height,
					   DBUS_TYPE_UINT32, &t.stride,
					   DBUS_TYPE_STRING, &format,
					   DBUS_TYPE_ARRAY, DBUS_TYPE_BYTE,
					   &bytes, n, DBUS_TYPE_INVALID)) {
		dbus_message_unref(r);
		r = NULL;
	}
	free(t.pixels);
	return r;
}

/* Set Volume or Muted of guest index (of domain domid) for the caller of
 * msg (polkit said yes): applied (audio.c), PropertiesChanged. */
static DBusMessage *audio_set(struct hostd_bus *b, DBusMessage *msg,
			      unsigned int index, int domid)
{
	static const char *const names[] = { "Volume", "Muted", NULL };
	struct hostd_vm *vm = index <= b->sw->nvms ? &b->sw->vms[index] : NULL;
	DBusMessage *r;
	int volume, muted;
	char buf[96];

	if (!vm || vm->state == HOSTD_VM_ABSENT || vm->domid != domid)
		return error(msg, ERR_UNKNOWN_VM, "%s",
			     "the VM went away while polkit was asked");
	r = hostd_bus_audio_args(msg, hostd_is_host(b->sw, index), &volume,
				 &muted);
	if (r)
		return r;
	hostd_audio_set(b->sw->hooks.audio_data, index, volume, muted);
	vm_path(vm, buf, sizeof(buf));
	emit_changed(b, buf, HOSTD_XML_VM_NAME, vm, names);
	return dbus_message_new_method_return(msg);
}

static DBusMessage *act_now(struct hostd_bus *b, DBusMessage *msg, int req,
			    unsigned int index, int domid)
{
	if (req == REQ_SWITCH)
		return switch_now(b, msg, index, domid);
	if (req == REQ_THUMBNAIL)
		return thumbnail_now(b, msg, index, domid);
	if (req == REQ_AUDIO)
		return audio_set(b, msg, index, domid);
	return op_now(b, msg, (enum hostd_vm_op)req, index, domid);
}

/* polkit answered (or the bus did, with an error). */
/* polkit said yes (or the caller is root). */
static DBusMessage *granted(void *data, DBusMessage *call, int req,
			    unsigned int index, int domid)
{
	return act_now(data, call, req, index, domid);
}

/*
 * Switch to vm (req REQ_SWITCH) or run lifecycle operation req on it for
 * the caller of msg, once polkit.c says it may: the answer, or NULL when
 * it comes later (b->deferred).
 */
static DBusMessage *authorize(struct hostd_bus *b, DBusMessage *msg,
			      struct hostd_vm *vm, int req)
{
	DBusMessage *r = hostd_polkit_authorize(
		b->polkit, msg, req == REQ_SWITCH ? POLKIT_ACTION :
		req == REQ_THUMBNAIL ? THUMBNAIL_ACTION :
		req == REQ_AUDIO ? AUDIO_ACTION : op_actions[req],
		req, vm->index, vm->domid);

	if (!r)
		b->deferred = true;
	return r;
}

/* -- methods --------------------------------------------------------------- */

static DBusMessage *do_switch(struct hostd_bus *b, DBusMessage *msg,
			      struct hostd_vm *vm, const char *what)
{
	if (!vm)
		return error(msg, ERR_UNKNOWN_VM, "no VM %s", what);
	return authorize(b, msg, vm, REQ_SWITCH);
}

/* The next (step 1) or previous (step -1) running guest in config order
 * (from dom0's entry: the first or the last). */
static struct hostd_vm *step_vm(struct hostd_switcher *sw, int step)
{
	unsigned int from = sw->router.active;

	if (hostd_is_host(sw, from))
		from = step > 0 ? sw->nvms - 1 : 0;
	for (unsigned int n = 1; n <= sw->nvms; n++) {
		unsigned int i = (from + sw->nvms +
				  (unsigned int)(step * (int)n)) % sw->nvms;

		if (sw->vms[i].state == HOSTD_VM_RUNNING)
			return &sw->vms[i];
	}
	return NULL;
}

static DBusMessage *manager_call(struct hostd_bus *b, DBusMessage *msg)
{
	const char *member = dbus_message_get_member(msg);
	const char *arg = NULL;
	DBusError err;

	dbus_error_init(&err);
	if (strcmp(member, "SwitchTo") == 0 || strcmp(member, "SwitchToPath") == 0) {
		bool by_name = member[8] == '\0';

		if (!dbus_message_get_args(msg, &err,
					   by_name ? DBUS_TYPE_STRING : DBUS_TYPE_OBJECT_PATH,
					   &arg, DBUS_TYPE_INVALID)) {
			DBusMessage *r = dbus_message_new_error(msg, err.name, err.message);

			dbus_error_free(&err);
			return r;
		}
		return do_switch(b, msg, by_name ? vm_from_name(b->sw, arg) :
						   vm_from_path(b->sw, arg), arg);
	}
	if (strcmp(member, "Start") == 0) {
		const struct hostd_guest_config *g;

		if (!dbus_message_get_args(msg, &err, DBUS_TYPE_STRING, &arg,
					   DBUS_TYPE_INVALID)) {
			DBusMessage *r = dbus_message_new_error(msg, err.name, err.message);

			dbus_error_free(&err);
			return r;
		}
		g = hostd_config_guest(b->sw->cfg, arg);
		if (!g)
			return error(msg, ERR_UNKNOWN_VM,
				     "no guest %s in hostd's configuration", arg);
		return authorize(b, msg, &b->sw->vms[g - b->sw->cfg->guests],
				 HOSTD_OP_START);
	}
	if (strcmp(member, "SwitchNext") == 0)
		return do_switch(b, msg, step_vm(b->sw, 1), "to switch to");
	if (strcmp(member, "SwitchPrevious") == 0)
		return do_switch(b, msg, step_vm(b->sw, -1), "to switch to");
	return NULL;
}

/* org.paradice.Switcher1.Thumbnails, on the root object. */
static DBusMessage *thumbnails_call(struct hostd_bus *b, DBusMessage *msg)
{
	const char *member = dbus_message_get_member(msg);
	const char *arg = NULL;
	DBusError err;

	dbus_error_init(&err);
	if (strcmp(member, "GetThumbnail") == 0) {
		dbus_uint32_t w, h;
		struct hostd_vm *vm;

		if (!dbus_message_get_args(msg, &err, DBUS_TYPE_STRING, &arg,
					   DBUS_TYPE_UINT32, &w,
					   DBUS_TYPE_UINT32, &h,
					   DBUS_TYPE_INVALID)) {
			DBusMessage *r = dbus_message_new_error(msg, err.name, err.message);

			dbus_error_free(&err);
			return r;
		}
		vm = vm_from_name(b->sw, arg);
		if (!vm)
			return error(msg, ERR_UNKNOWN_VM, "no VM %s", arg);
		if (hostd_is_host(b->sw, vm->index))
			return error(msg, ERR_NOT_AVAILABLE, "%s", "host (dom0) "
				     "has no thumbnail: hostd does not read "
				     "dom0's screen");
		return authorize(b, msg, vm, REQ_THUMBNAIL);
	}
	return NULL;
}

static DBusMessage *introspect(struct hostd_bus *b, const char *path,
			       struct hostd_vm *vm, DBusMessage *msg)
{
	static const char head[] = DBUS_INTROSPECT_1_0_XML_DOCTYPE_DECL_NODE
		"<node>\n"
		"  <interface name=\"org.freedesktop.DBus.Introspectable\">\n"
		"    <method name=\"Introspect\"><arg name=\"xml\" type=\"s\" direction=\"out\"/></method>\n"
		"  </interface>\n"
		"  <interface name=\"org.freedesktop.DBus.Properties\">\n"
		"    <method name=\"Get\"><arg type=\"s\" direction=\"in\"/><arg type=\"s\" direction=\"in\"/><arg type=\"v\" direction=\"out\"/></method>\n"
		"    <method name=\"GetAll\"><arg type=\"s\" direction=\"in\"/><arg type=\"a{sv}\" direction=\"out\"/></method>\n"
		"    <signal name=\"PropertiesChanged\"><arg type=\"s\"/><arg type=\"a{sv}\"/><arg type=\"as\"/></signal>\n"
		"  </interface>\n";
	char *xml;
	size_t cap = sizeof(head) + sizeof(HOSTD_XML_MANAGER) +
		     sizeof(HOSTD_XML_THUMBNAILS) + 64 * (b->sw->nvms + 2);
	DBusMessage *r;
	size_t n;

	xml = malloc(cap);
	if (!xml)
		return NULL;
	n = (size_t)snprintf(xml, cap, "%s", head);
	if (vm)
		n += (size_t)snprintf(xml + n, cap - n, "%s", HOSTD_XML_VM);
	else if (strcmp(path, ROOT_PATH) == 0)
		n += (size_t)snprintf(xml + n, cap - n, "%s%s  <node name=\"vm\"/>\n",
				      HOSTD_XML_MANAGER, HOSTD_XML_THUMBNAILS);
	else if (strcmp(path, ROOT_PATH "/vm") == 0)
		for (unsigned int i = 0; i <= b->sw->nvms; i++)
			if (b->sw->vms[i].state != HOSTD_VM_ABSENT)
				n += (size_t)snprintf(xml + n, cap - n,
						      "  <node name=\"%d\"/>\n",
						      b->sw->vms[i].domid);
	snprintf(xml + n, cap - n, "</node>\n");
	r = dbus_message_new_method_return(msg);
	if (r)
		dbus_message_append_args(r, DBUS_TYPE_STRING, &xml, DBUS_TYPE_INVALID);
	free(xml);
	return r;
}

static DBusHandlerResult on_message(DBusConnection *conn, DBusMessage *msg,
				    void *data)
{
	struct hostd_bus *b = data;
	const char *path = dbus_message_get_path(msg);
	const char *iface = dbus_message_get_interface(msg);
	struct hostd_vm *vm = NULL;
	bool is_root = strcmp(path, ROOT_PATH) == 0;
	DBusMessage *r = NULL;

	if (dbus_message_get_type(msg) != DBUS_MESSAGE_TYPE_METHOD_CALL)
		return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
	b->deferred = false;
	if (!is_root && strcmp(path, ROOT_PATH "/vm") != 0) {
		vm = vm_from_path(b->sw, path);
		if (!vm) {
			r = error(msg, ERR_UNKNOWN_VM, "no VM object %s", path);
			goto reply;
		}
	}
	if (iface && strcmp(iface, DBUS_INTERFACE_INTROSPECTABLE) == 0) {
		r = introspect(b, path, vm, msg);
	} else if (iface && strcmp(iface, DBUS_INTERFACE_PROPERTIES) == 0) {
		const char *in = NULL, *name = NULL;
		const char *member = dbus_message_get_member(msg);

		if (strcmp(member, "GetAll") == 0 &&
		    dbus_message_get_args(msg, NULL, DBUS_TYPE_STRING, &in,
					  DBUS_TYPE_INVALID)) {
			r = get_all(b->sw, vm, msg);
		} else if (strcmp(member, "Get") == 0 &&
			   dbus_message_get_args(msg, NULL, DBUS_TYPE_STRING, &in,
						 DBUS_TYPE_STRING, &name,
						 DBUS_TYPE_INVALID)) {
			DBusMessageIter it;

			r = dbus_message_new_method_return(msg);
			dbus_message_iter_init_append(r, &it);
			if (!append_property(b->sw, vm, name, &it)) {
				dbus_message_unref(r);
				r = error(msg, DBUS_ERROR_UNKNOWN_PROPERTY,
					  "no property %s", name);
			}
		} else if (strcmp(member, "Set") == 0) {
			int volume, muted;

			r = vm ? hostd_bus_audio_args(msg, hostd_is_host(
					b->sw, vm->index), &volume, &muted) :
				 error(msg, DBUS_ERROR_PROPERTY_READ_ONLY, "%s",
				       "the Manager's properties are read-only");
			if (!r)
				r = authorize(b, msg, vm, REQ_AUDIO);
		} else {
			r = error(msg, DBUS_ERROR_INVALID_ARGS, "%s", "bad arguments");
		}
	} else if (is_root && (!iface || strcmp(iface, HOSTD_XML_MANAGER_NAME) == 0)) {
		r = manager_call(b, msg);
		if (!r && !b->deferred && !iface)
			r = thumbnails_call(b, msg);
	} else if (is_root && strcmp(iface, HOSTD_XML_THUMBNAILS_NAME) == 0) {
		r = thumbnails_call(b, msg);
	} else if (vm && (!iface || strcmp(iface, HOSTD_XML_VM_NAME) == 0)) {
		const char *member = dbus_message_get_member(msg);

		if (strcmp(member, "Activate") == 0)
			r = do_switch(b, msg, vm, path);
		/* dom0's entry is the machine itself: no lifecycle */
		for (int op = HOSTD_OP_SHUTDOWN;
		     !r && hostd_is_host(b->sw, vm->index) && op < HOSTD_OP_COUNT;
		     op++)
			if (strcmp(member, hostd_vm_op_name(op)) == 0)
				r = error(msg, ERR_REFUSED, "%s", "host is dom0 "
					  "itself: it is not shut down, paused "
					  "or forced off from the switcher");
		for (int op = HOSTD_OP_SHUTDOWN; !r && op < HOSTD_OP_COUNT; op++)
			if (strcmp(member, hostd_vm_op_name(op)) == 0)
				r = authorize(b, msg, vm, op);
	}
	if (b->deferred)
		return DBUS_HANDLER_RESULT_HANDLED;
	if (!r)
		r = error(msg, DBUS_ERROR_UNKNOWN_METHOD, "no method %s",
			  dbus_message_get_member(msg));
reply:
	if (r) {
		dbus_connection_send(conn, r, NULL);
		dbus_message_unref(r);
	}
	return DBUS_HANDLER_RESULT_HANDLED;
}

static const DBusObjectPathVTable vtable = { .message_function = on_message };

static void bus_dispatch(struct hostd_bus *b)
{
	dbus_connection_read_write(b->conn, 0);
	while (dbus_connection_dispatch(b->conn) == DBUS_DISPATCH_DATA_REMAINS)
		;
	dbus_connection_flush(b->conn);
	if (!dbus_connection_get_is_connected(b->conn)) {
		hostd_log("bus: disconnected from the bus");
		*b->lost = true;
	}
}

static void on_bus(int fd, short revents, void *data)
{
	struct hostd_bus *b = data;

	(void)fd;
	if (revents & (POLLHUP | POLLERR)) {
		/* the bus went away: nothing to serve */
		hostd_log("bus: connection lost");
		*b->lost = true;
	}
	bus_dispatch(b);
}

struct hostd_bus *hostd_bus_create(struct hostd_switcher *sw,
				   struct hostd_lifecycle *lc,
				   struct hostd_poller *p, const char *address,
				   unsigned int auth_timeout_ms, bool *lost)
{
	struct hostd_bus *b = calloc(1, sizeof(*b));
	DBusError err;
	int r, fd = -1;

	if (!b)
		return NULL;
	b->sw = sw;
	b->lc = lc;
	b->lost = lost;
	dbus_error_init(&err);
	if (!address || strcmp(address, "system") == 0) {
		b->conn = dbus_bus_get_private(DBUS_BUS_SYSTEM, &err);
	} else if (strcmp(address, "session") == 0) {
		b->conn = dbus_bus_get_private(DBUS_BUS_SESSION, &err);
	} else {
		b->conn = dbus_connection_open_private(address, &err);
		if (b->conn && !dbus_bus_register(b->conn, &err)) {
			dbus_connection_close(b->conn);
			dbus_connection_unref(b->conn);
			b->conn = NULL;
		}
	}
	if (!b->conn)
		goto fail;
	dbus_connection_set_exit_on_disconnect(b->conn, FALSE);
	r = dbus_bus_request_name(b->conn, BUS_NAME, DBUS_NAME_FLAG_DO_NOT_QUEUE,
				  &err);
	if (r != DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER) {
		if (!dbus_error_is_set(&err))
			dbus_set_error(&err, DBUS_ERROR_FAILED,
				       "the name %s is taken", BUS_NAME);
		goto fail;
	}
	if (!dbus_connection_register_fallback(b->conn, ROOT_PATH, &vtable, b))
		goto fail;
	b->polkit = hostd_polkit_create(b->conn, p, auth_timeout_ms, granted, b,
					&err);
	if (!b->polkit)
		goto fail;
	if (!dbus_connection_get_unix_fd(b->conn, &fd) ||
	    !(b->watch = hostd_poller_add(p, fd, POLLIN, on_bus, b))) {
		dbus_set_error(&err, DBUS_ERROR_FAILED, "cannot watch the connection");
		goto fail;
	}
	sw->hooks.switched = bus_switched;
	sw->hooks.bus_data = b;
	hostd_log("bus: serving %s", BUS_NAME);
	/*
	 * A client that saw the name appear may already have asked: libdbus
	 * read its call from the socket while it waited for RequestName's
	 * reply, and such a message waits in libdbus's queue, where poll()
	 * cannot see it. Serve what is queued now (switcher-ui's GetAll
	 * went unanswered until the next message, 1 restart in 5).
	 */
	bus_dispatch(b);
	return b;
fail:
	hostd_log("bus: %s", dbus_error_is_set(&err) ? err.message : "out of memory");
	dbus_error_free(&err);
	hostd_bus_destroy(b);
	return NULL;
}

void hostd_bus_destroy(struct hostd_bus *b)
{
	if (!b)
		return;
	if (b->sw->hooks.bus_data == b) {
		b->sw->hooks.switched = NULL;
		b->sw->hooks.bus_data = NULL;
	}
	/* the callers still waiting are told; their calls to polkit cancelled */
	hostd_polkit_destroy(b->polkit);
	hostd_watch_remove(b->watch);
	if (b->conn) {
		dbus_connection_flush(b->conn);
		dbus_connection_close(b->conn);
		dbus_connection_unref(b->conn);
	}
	free(b);
}
