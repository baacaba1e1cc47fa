/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * polkit.c: whether the caller of a D-Bus method may do what it asks.
 * root may, at once; anyone else when polkit grants the method's action,
 * asked without blocking hostd (CheckAuthorization with a pending call),
 * at most 4 waiting per caller and 32 in all (Error.LimitsExceeded), each
 * at most timeout_ms (Error.Timeout); polkit's no is Error.Refused; a
 * caller that leaves the bus meanwhile is dropped.
 */
#ifndef HOSTD_POLKIT_H
#define HOSTD_POLKIT_H

#include <dbus/dbus.h>

struct hostd_polkit;
struct hostd_poller;

/* The caller of call may: do it. req, index and domid are what was given
 * to hostd_polkit_authorize. Returns the answer to send, or NULL when it
 * is sent later. */
typedef DBusMessage *(*hostd_polkit_granted_fn)(void *data, DBusMessage *call,
						int req, unsigned int index,
						int domid);

/* On conn (hostd's bus connection; watches NameOwnerChanged on it). NULL
 * with err set on failure. */
struct hostd_polkit *hostd_polkit_create(DBusConnection *conn,
					 struct hostd_poller *p,
					 unsigned int timeout_ms,
					 hostd_polkit_granted_fn granted,
					 void *data, DBusError *err);
/* The calls still waiting are answered Error.Refused ("hostd is
 * exiting"). */
void hostd_polkit_destroy(struct hostd_polkit *pk);

/*
 * May the caller of msg do action? root: granted()'s answer at once.
 * Others: NULL while polkit is asked (granted() runs later, from the
 * connection's dispatch, and its answer is sent), or an error to send.
 */
DBusMessage *hostd_polkit_authorize(struct hostd_polkit *pk, DBusMessage *msg,
				    const char *action, int req,
				    unsigned int index, int domid);

#endif /* HOSTD_POLKIT_H */
