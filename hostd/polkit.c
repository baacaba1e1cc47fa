// SPDX-License-Identifier: GPL-2.0-only
/*
 * Whether a caller of hostd's D-Bus methods may do what it asks
 * (polkit.h): root may; anyone else when polkit grants the method's
 * action. Asked asynchronously, bounded, with hostd's own timer.
 */
#include <dbus/dbus.h>
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "poller.h"
#include "polkit.h"

#define ERR_REFUSED "org.paradice.Switcher1.Error.Refused"
#define ERR_LIMITS "org.paradice.Switcher1.Error.LimitsExceeded"
#define ERR_TIMEOUT "org.paradice.Switcher1.Error.Timeout"
/* calls waiting for polkit: per caller (unique bus name), in all */
#define AUTH_MAX_PER_CALLER 4u
#define AUTH_MAX 32u

struct hostd_polkit {
	DBusConnection *conn;
	hostd_polkit_granted_fn granted;
	void *data;
	struct auth *auths;	/* calls waiting for polkit */
	unsigned int nauths;
	unsigned int timeout_ms;
	int timer;		/* timerfd: the first auth's deadline */
	struct hostd_watch *timer_watch;
	bool filtering;
};

/*
 * A non-root caller's switch waits for polkit without blocking hostd: the
 * caller's message is kept, CheckAuthorization is sent with a pending
 * call, and the caller is answered from its notify (run by
 * dbus_connection_dispatch, from bus_dispatch). Meanwhile hostd serves
 * everything else. Bounded per caller and overall; each waits at most
 * auth_timeout_ms (hostd's own timer: libdbus's pending-call timeouts
 * need a main loop's timeout functions, which hostd does not give it).
 */
struct auth {
	struct auth *next;
	struct hostd_polkit *pk;
	DBusMessage *call;	/* the caller's, answered at the end */
	DBusPendingCall *pending;
	/* what the caller asked, for granted() */
	int req;
	unsigned int index;
	int domid;
	uint64_t deadline_us;
};

/* polkit's CheckAuthorization flag: it may ask the user (an agent). */
#define POLKIT_ALLOW_USER_INTERACTION 1u

static DBusMessage *error(DBusMessage *msg, const char *name, const char *fmt,
			  const char *arg)
{
	char text[1536];

	snprintf(text, sizeof(text), fmt, arg);
	return dbus_message_new_error(msg, name, text);
}

static void arm_timer(struct hostd_polkit *b)
{
	struct itimerspec its = { 0 };
	uint64_t first = 0, now = hostd_now_us();

	for (struct auth *a = b->auths; a; a = a->next)
		if (!first || a->deadline_us < first)
			first = a->deadline_us;
	if (first) {
		uint64_t in = first > now ? first - now : 1;

		its.it_value.tv_sec = (time_t)(in / 1000000);
		its.it_value.tv_nsec = (long)(in % 1000000) * 1000;
	}
	timerfd_settime(b->timer, 0, &its, NULL);
}

/* Unlink a, cancel its call to polkit and free it; answer r (may be NULL). */
static void auth_finish(struct auth *a, DBusMessage *r)
{
	struct hostd_polkit *b = a->pk;

	for (struct auth **pp = &b->auths; *pp; pp = &(*pp)->next)
		if (*pp == a) {
			*pp = a->next;
			break;
		}
	b->nauths--;
	if (r) {
		dbus_connection_send(b->conn, r, NULL);
		dbus_message_unref(r);
	}
	if (a->pending) {
		dbus_pending_call_cancel(a->pending);
		dbus_pending_call_unref(a->pending);
	}
	dbus_message_unref(a->call);
	free(a);
	arm_timer(b);
}

static void on_polkit(DBusPendingCall *pending, void *data)
{
	struct auth *a = data;
	DBusMessage *r = dbus_pending_call_steal_reply(pending);
	DBusMessageIter it, res;
	dbus_bool_t authorized = FALSE, challenge = FALSE;
	DBusMessage *answer;

	dbus_pending_call_unref(a->pending);
	a->pending = NULL;
	if (!r) {
		answer = error(a->call, ERR_REFUSED, "%s", "no answer from polkit");
	} else if (dbus_message_get_type(r) == DBUS_MESSAGE_TYPE_ERROR) {
		DBusError err;

		dbus_error_init(&err);
		dbus_set_error_from_message(&err, r);
		hostd_log("bus: polkit: %s", err.message ? err.message : "error");
		dbus_error_free(&err);
		answer = error(a->call, ERR_REFUSED, "%s",
			       "polkit is not available to authorize a non-root caller");
	} else {
		if (dbus_message_iter_init(r, &it) &&
		    dbus_message_iter_get_arg_type(&it) == DBUS_TYPE_STRUCT) {
			dbus_message_iter_recurse(&it, &res);
			if (dbus_message_iter_get_arg_type(&res) == DBUS_TYPE_BOOLEAN)
				dbus_message_iter_get_basic(&res, &authorized);
			if (dbus_message_iter_next(&res) &&
			    dbus_message_iter_get_arg_type(&res) == DBUS_TYPE_BOOLEAN)
				dbus_message_iter_get_basic(&res, &challenge);
		}
		/* a challenge: polkit would ask the user, had the caller let it */
		answer = authorized ?
			a->pk->granted(a->pk->data, a->call, a->req, a->index,
					 a->domid) :
			error(a->call, ERR_REFUSED, "%s", challenge ?
			      "not authorized by polkit without authentication "
			      "(the call did not allow interactive authorization)" :
			      "not authorized by polkit");
	}
	if (r)
		dbus_message_unref(r);
	auth_finish(a, answer);
}

static DBusMessage *check_authorization(const char *sender, const char *action,
					bool interactive)
{
	const char *kind = "system-bus-name";
	const char *key = "name", *empty = "";
	dbus_uint32_t flags = interactive ? POLKIT_ALLOW_USER_INTERACTION : 0;
	DBusMessageIter it, subj, dict, entry, v, details;
	DBusMessage *q;

	q = dbus_message_new_method_call("org.freedesktop.PolicyKit1",
					 "/org/freedesktop/PolicyKit1/Authority",
					 "org.freedesktop.PolicyKit1.Authority",
					 "CheckAuthorization");
	if (!q)
		return NULL;
	dbus_message_iter_init_append(q, &it);
	if (!dbus_message_iter_open_container(&it, DBUS_TYPE_STRUCT, NULL, &subj) ||
	    !dbus_message_iter_append_basic(&subj, DBUS_TYPE_STRING, &kind) ||
	    !dbus_message_iter_open_container(&subj, DBUS_TYPE_ARRAY, "{sv}", &dict) ||
	    !dbus_message_iter_open_container(&dict, DBUS_TYPE_DICT_ENTRY, NULL, &entry) ||
	    !dbus_message_iter_append_basic(&entry, DBUS_TYPE_STRING, &key) ||
	    !dbus_message_iter_open_container(&entry, DBUS_TYPE_VARIANT, "s", &v) ||
	    !dbus_message_iter_append_basic(&v, DBUS_TYPE_STRING, &sender) ||
	    !dbus_message_iter_close_container(&entry, &v) ||
	    !dbus_message_iter_close_container(&dict, &entry) ||
	    !dbus_message_iter_close_container(&subj, &dict) ||
	    !dbus_message_iter_close_container(&it, &subj) ||
	    !dbus_message_iter_append_basic(&it, DBUS_TYPE_STRING, &action) ||
	    !dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "{ss}", &details) ||
	    !dbus_message_iter_close_container(&it, &details) ||
	    !dbus_message_iter_append_basic(&it, DBUS_TYPE_UINT32, &flags) ||
	    !dbus_message_iter_append_basic(&it, DBUS_TYPE_STRING, &empty)) {
		dbus_message_unref(q);
		return NULL;
	}
	return q;
}

/*
 * See polkit.h. The caller's message is kept and answered from on_polkit
 * (or the timer, or not at all if the caller leaves).
 */
DBusMessage *hostd_polkit_authorize(struct hostd_polkit *b, DBusMessage *msg,
				    const char *action, int req,
				    unsigned int index, int domid)
{
	const char *sender = dbus_message_get_sender(msg);
	bool interactive = dbus_message_get_allow_interactive_authorization(msg);
	unsigned int mine = 0;
	DBusMessage *q;
	struct auth *a;
	DBusError err;
	unsigned long uid;

	dbus_error_init(&err);
	uid = dbus_bus_get_unix_user(b->conn, sender, &err);
	if (dbus_error_is_set(&err)) {
		dbus_error_free(&err);
		return error(msg, ERR_REFUSED, "%s", "cannot tell who the caller is");
	}
	if (uid == 0)
		return b->granted(b->data, msg, req, index, domid);
	for (a = b->auths; a; a = a->next)
		if (strcmp(dbus_message_get_sender(a->call), sender) == 0)
			mine++;
	if (mine >= AUTH_MAX_PER_CALLER || b->nauths >= AUTH_MAX) {
		hostd_log("bus: %s (uid %lu): %u switches already wait for polkit%s; refused",
			  sender, uid, mine >= AUTH_MAX_PER_CALLER ? mine : b->nauths,
			  mine >= AUTH_MAX_PER_CALLER ? " for it" : " in all");
		return error(msg, ERR_LIMITS, "%s",
			     mine >= AUTH_MAX_PER_CALLER ?
			     "too many of your switches wait for polkit already" :
			     "too many switches wait for polkit already");
	}
	a = calloc(1, sizeof(*a));
	q = check_authorization(sender, action, interactive);
	if (!a || !q)
		goto oom;
	if (!dbus_connection_send_with_reply(b->conn, q, &a->pending,
					     DBUS_TIMEOUT_INFINITE) ||
	    !a->pending)
		goto oom;
	if (!dbus_pending_call_set_notify(a->pending, on_polkit, a, NULL)) {
		dbus_pending_call_cancel(a->pending);
		dbus_pending_call_unref(a->pending);
		goto oom;
	}
	dbus_message_unref(q);
	a->pk = b;
	a->call = dbus_message_ref(msg);
	a->req = req;
	a->index = index;
	a->domid = domid;
	a->deadline_us = hostd_now_us() + (uint64_t)b->timeout_ms * 1000;
	a->next = b->auths;
	b->auths = a;
	b->nauths++;
	arm_timer(b);
	return NULL;
oom:
	if (q)
		dbus_message_unref(q);
	free(a);
	return error(msg, ERR_REFUSED, "%s", "cannot ask polkit (out of memory)");
}

/* The timer: answer the authorizations polkit left waiting too long. */
static void on_auth_timer(int fd, short revents, void *data)
{
	struct hostd_polkit *b = data;
	uint64_t n, now = hostd_now_us();
	struct auth *a, *next;

	(void)revents;
	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		hostd_log("bus: timer: %s", strerror(errno));
	for (a = b->auths; a; a = next) {
		next = a->next;
		if (a->deadline_us > now)
			continue;
		hostd_log("bus: %s: polkit did not answer in %u ms",
			  dbus_message_get_sender(a->call), b->timeout_ms);
		auth_finish(a, error(a->call, ERR_TIMEOUT, "%s",
				     "polkit did not answer in time"));
	}
	arm_timer(b);
	dbus_connection_flush(b->conn);
}

/* A caller left the bus: its calls need no answer. */
static DBusHandlerResult on_filter(DBusConnection *conn, DBusMessage *msg,
				   void *data)
{
	struct hostd_polkit *b = data;
	const char *name, *old, *new;
	struct auth *a, *next;

	(void)conn;
	if (!dbus_message_is_signal(msg, DBUS_INTERFACE_DBUS, "NameOwnerChanged") ||
	    !dbus_message_get_args(msg, NULL, DBUS_TYPE_STRING, &name,
				   DBUS_TYPE_STRING, &old, DBUS_TYPE_STRING, &new,
				   DBUS_TYPE_INVALID) ||
	    *new || name[0] != ':')
		return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
	for (a = b->auths; a; a = next) {
		next = a->next;
		if (strcmp(dbus_message_get_sender(a->call), name) != 0)
			continue;
		hostd_log("bus: %s left while polkit was asked; dropped", name);
		auth_finish(a, NULL);
	}
	return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
}

struct hostd_polkit *hostd_polkit_create(DBusConnection *conn,
					 struct hostd_poller *p,
					 unsigned int timeout_ms,
					 hostd_polkit_granted_fn granted,
					 void *data, DBusError *err)
{
	struct hostd_polkit *b = calloc(1, sizeof(*b));

	if (!b) {
		dbus_set_error(err, DBUS_ERROR_NO_MEMORY, "out of memory");
		return NULL;
	}
	b->conn = conn;
	b->granted = granted;
	b->data = data;
	b->timeout_ms = timeout_ms;
	b->timer = -1;
	/* callers that leave while polkit is asked (on_filter) */
	dbus_bus_add_match(conn, "type='signal',sender='" DBUS_SERVICE_DBUS
			   "',interface='" DBUS_INTERFACE_DBUS
			   "',member='NameOwnerChanged',arg2=''", err);
	if (dbus_error_is_set(err))
		goto fail;
	if (!dbus_connection_add_filter(conn, on_filter, b, NULL)) {
		dbus_set_error(err, DBUS_ERROR_NO_MEMORY, "out of memory");
		goto fail;
	}
	b->filtering = true;
	b->timer = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (b->timer < 0 ||
	    !(b->timer_watch = hostd_poller_add(p, b->timer, POLLIN,
						on_auth_timer, b))) {
		dbus_set_error(err, DBUS_ERROR_FAILED, "cannot make a timer: %s",
			       strerror(errno));
		goto fail;
	}
	return b;
fail:
	hostd_polkit_destroy(b);
	return NULL;
}

void hostd_polkit_destroy(struct hostd_polkit *b)
{
	if (!b)
		return;
	/* the callers still waiting are told; their calls to polkit cancelled */
	while (b->auths)
		auth_finish(b->auths, error(b->auths->call, ERR_REFUSED, "%s",
					    "hostd is exiting"));
	hostd_watch_remove(b->timer_watch);
	if (b->timer >= 0)
		close(b->timer);
	if (b->filtering)
		dbus_connection_remove_filter(b->conn, on_filter, b);
	free(b);
}
