/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * lifecycle.c: each guest's Xen state (running, paused, shut down,
 * crashed) kept current, and the toolstack's operations on a guest
 * (start, shut down, pause, resume, force off), run in a child process so
 * that hostd's loop never waits for Xen.
 */
#ifndef HOSTD_LIFECYCLE_H
#define HOSTD_LIFECYCLE_H

#include <stdbool.h>

struct hostd_lifecycle;
struct hostd_poller;
struct hostd_switcher;

enum hostd_vm_op {
	HOSTD_OP_START,		/* `xl create` of the guest's xl-config */
	HOSTD_OP_SHUTDOWN,	/* ask the guest to power off */
	HOSTD_OP_PAUSE,
	HOSTD_OP_RESUME,
	HOSTD_OP_FORCE_OFF,	/* destroy the domain at once */
	HOSTD_OP_COUNT,
};

/* An operation ended: err 0, or a negative errno with text saying why
 * (the toolstack's own words when it gave some). */
typedef void (*hostd_op_done_fn)(void *data, int err, const char *text);

/* Guest index's state changed (hostd_vm.state, already set). */
typedef void (*hostd_state_fn)(void *data, unsigned int index);

/*
 * xen: Xen runs here (hostd without --no-xen); otherwise, or when the
 * toolstack cannot be opened, every operation fails with -ENOTSUP
 * ("Xen toolstack not available") and the states are whatever the VM
 * list says. NULL only when out of memory.
 */
struct hostd_lifecycle *hostd_lifecycle_create(struct hostd_switcher *sw,
					       struct hostd_poller *p, bool xen,
					       hostd_state_fn changed,
					       void *data);
/* Operations still running are answered -ECANCELED; their processes
 * finish on their own (an `xl create` killed halfway would leave a
 * half-made domain). */
void hostd_lifecycle_destroy(struct hostd_lifecycle *lc);

/* Read every guest's state from Xen now (after the domain list
 * changed); the changed callback runs for each that did. */
void hostd_lifecycle_refresh(struct hostd_lifecycle *lc);

/*
 * Whether op may run on guest index now: 0; -EINVAL its state does not
 * allow it (*why says so, e.g. "guest2 is paused"); -ENOENT Start of a
 * guest with no xl-config; -EBUSY an operation on it runs already;
 * -ENOTSUP no toolstack. *why is a static or per-lc string, valid until
 * the next call.
 */
int hostd_lifecycle_check(struct hostd_lifecycle *lc, unsigned int index,
			  enum hostd_vm_op op, const char **why);
/* The state part of the check only (no toolstack needed). */
int hostd_lifecycle_check_state(struct hostd_lifecycle *lc, unsigned int index,
				enum hostd_vm_op op, const char **why);

/* Check, then start op; 0: done() is called later, exactly once. */
int hostd_lifecycle_run(struct hostd_lifecycle *lc, unsigned int index,
			enum hostd_vm_op op, hostd_op_done_fn done, void *data);

/* "Start", "Shutdown", ... (the D-Bus method names) */
const char *hostd_vm_op_name(enum hostd_vm_op op);

#endif /* HOSTD_LIFECYCLE_H */
