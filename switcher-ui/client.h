/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The switcher's view of hostd: which VMs exist, their state, which one is
 * active, and whether hostd is there at all. It is kept from hostd's
 * signals (PropertiesChanged, Switched) and the bus's NameOwnerChanged
 * (g_bus_watch_name); a switch re-reads nothing. Every D-Bus call is
 * asynchronous: this runs inside the GTK main loop.
 */
#ifndef SWITCHER_UI_CLIENT_H
#define SWITCHER_UI_CLIENT_H

#include <gio/gio.h>

#include "switcher1-gen.h"

#define SW_BUS_NAME "org.paradice.Switcher1"
#define SW_ROOT_PATH "/org/paradice/Switcher1"

enum sw_client_state {
	SW_CONNECTING,	/* asking the bus whether hostd is there */
	SW_ABSENT,	/* hostd's name has no owner: not running */
	SW_LOADING,	/* hostd is there; its VMs are being read */
	SW_READY,	/* the VM list is complete */
};

struct sw_client;

struct sw_client_ops {
	/* anything shown changed: state, VM list, a VM's properties */
	void (*changed)(struct sw_client *c, void *data);
	/* hostd put a VM's frame on screen (its Switched signal) */
	void (*switched)(struct sw_client *c, const char *vm_name,
			 guint64 microseconds, void *data);
};

/* A VM as hostd describes it. state is NULL when hostd does not give one. */
struct sw_vm_info {
	const char *path;
	const char *name;
	const char *state;
	guint domid;
	gboolean active;
	gboolean host;	/* dom0's own entry (Kind "host"): no lifecycle */
};

struct sw_client *sw_client_create(GDBusConnection *bus,
				   const struct sw_client_ops *ops, void *data);
void sw_client_destroy(struct sw_client *c);

enum sw_client_state sw_client_get_state(struct sw_client *c);
/* The VMs read so far, in hostd's switch-cycle order. */
guint sw_client_n_vms(struct sw_client *c);
gboolean sw_client_vm(struct sw_client *c, guint i, struct sw_vm_info *out);

/* Ask hostd to switch to the VM of that name; done(err) is called once,
 * err NULL on success, G_IO_ERROR_CANCELLED when hostd went away or the
 * client was destroyed meanwhile (then nothing need be shown). */
typedef void (*sw_done_fn)(const GError *err, void *data);
void sw_client_switch_to(struct sw_client *c, const char *name,
			 sw_done_fn done, void *data);

/* Every guest hostd is configured for, running or not (its Manager's
 * Guests, in config order); NULL from a hostd without that property. A
 * name with no VM among sw_client_vm's is off. */
const char *const *sw_client_guests(struct sw_client *c);

/* The lifecycle methods of hostd (each asks polkit, which may prompt). */
enum sw_vm_op {
	SW_OP_START,		/* Manager.Start(name): an off guest */
	SW_OP_SHUTDOWN,		/* Vm.Shutdown ... on the VM of that name */
	SW_OP_PAUSE,
	SW_OP_RESUME,
	SW_OP_FORCE_OFF,
};

/* Run op on the guest of that name; done(err) once, as for a switch. A
 * Start may take a minute or two (hostd answers when `xl create` has
 * returned): its call waits up to 150 s. */
void sw_client_vm_op(struct sw_client *c, const char *name, enum sw_vm_op op,
		     sw_done_fn done, void *data);

/* The text of a D-Bus error as a person should read it: hostd's message,
 * without the error name GDBus puts in front. */
char *sw_error_text(const GError *err);

#endif
