// SPDX-License-Identifier: GPL-2.0-only
/*
 * The Xen transport's XenStore (layout, example and state diagram in
 * pd_wire.h): the two directories of a guest's device, publishing ours,
 * reading the frontend's, the watches, and the XenbusState "state" nodes.
 * It reads and writes; what a state change means is supervise.c's.
 *
 * Owns: the paths (/local/domain/0/backend/paradice/DOMID/0 and
 * /local/domain/DOMID/device/paradice/0), what the backend's directory
 * holds (exports, features, max-requests, state), the permissions of both
 * directories, the watches on the frontend's directory and on
 * @releaseDomain.
 *
 * Trusts: xenstored, and what dom0 wrote. Not the frontend's directory,
 * which the guest writes: every value is parsed whole (a number and
 * nothing else) and range checked in be_xen_read_frontend() before anyone
 * uses it; a state outside XenbusState reads as Unknown.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transport.h"

const char *be_xen_state_name(int s)
{
	static const char *const n[] = {
		"Unknown", "Initialising", "InitWait", "Initialised",
		"Connected", "Closing", "Closed", "Reconfiguring",
		"Reconfigured",
	};

	return s >= 0 && s <= XB_RECONFIGURED ? n[s] : "?";
}

static int xs_read_int(struct xs_handle *xs, const char *dir,
		       const char *node, long long *out)
{
	char path[256], *val, *end;
	unsigned int len;

	snprintf(path, sizeof(path), "%s/%s", dir, node);
	val = xs_read(xs, XBT_NULL, path, &len);
	if (!val)
		return -1;
	errno = 0;
	*out = strtoll(val, &end, 10);
	if (errno || end == val || *end) {
		free(val);
		errno = EINVAL;
		return -1;
	}
	free(val);
	return 0;
}

int be_xen_read_state(struct xs_handle *xs, const char *dir)
{
	long long s;

	if (xs_read_int(xs, dir, "state", &s) || s < 0 || s > XB_RECONFIGURED)
		return XB_UNKNOWN;
	return (int)s;
}

static bool xs_printf_node(struct xs_handle *xs, xs_transaction_t t,
			   const char *dir, const char *node,
			   const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static bool xs_printf_node(struct xs_handle *xs, xs_transaction_t t,
			   const char *dir, const char *node,
			   const char *fmt, ...)
{
	char path[256], val[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	snprintf(path, sizeof(path), "%s/%s", dir, node);
	return xs_write(xs, t, path, val, strlen(val));
}

void be_xen_set_state(struct xs_handle *xs, const char *dir, int state)
{
	xs_printf_node(xs, XBT_NULL, dir, "state", "%d", state);
}

/* ------------------------------------------------------------------ */
/* Naming the guest                                                     */

/* domain (a name or an id) -> domid and name; -1 if no such domain. */
int be_xen_resolve_domain(struct xs_handle *xs, const char *domain,
			  unsigned int *domid, char *name, size_t len)
{
	char path[64], *end, **ids, *n;
	unsigned int count, l;
	long v;

	errno = 0;
	v = strtol(domain, &end, 10);
	if (!errno && end != domain && !*end && v > 0 && v < 0x7ff0) {
		snprintf(path, sizeof(path), "/local/domain/%ld/name", v);
		n = xs_read(xs, XBT_NULL, path, &l);
		if (!n)
			return -1;
		snprintf(name, len, "%s", n);
		free(n);
		*domid = (unsigned int)v;
		return 0;
	}
	ids = xs_directory(xs, XBT_NULL, "/local/domain", &count);
	for (unsigned int i = 0; ids && i < count; i++) {
		snprintf(path, sizeof(path), "/local/domain/%s/name", ids[i]);
		n = xs_read(xs, XBT_NULL, path, &l);
		if (n && !strcmp(n, domain) && strcmp(ids[i], "0")) {
			*domid = (unsigned int)strtoul(ids[i], NULL, 10);
			snprintf(name, len, "%s", n);
			free(n);
			free(ids);
			return 0;
		}
		free(n);
	}
	free(ids);
	errno = ENOENT;
	return -1;
}

/* The backend's and the frontend's directory of the guest's device 0. */
void be_xen_paths(unsigned int domid, char *be_path, size_t be_len,
		  char *fe_path, size_t fe_len)
{
	snprintf(be_path, be_len, "/local/domain/0/backend/%s/%u/0",
		 PD_WIRE_XENBUS_DEVICE_TYPE, domid);
	snprintf(fe_path, fe_len, "/local/domain/%u/device/%s/0", domid,
		 PD_WIRE_XENBUS_DEVICE_TYPE);
}

/* ------------------------------------------------------------------ */
/* Publishing                                                           */

/*
 * Write our directory from scratch (exports/, features, state
 * Initialising) and create the frontend's directory if it does not exist
 * yet. Permissions are written after the domain exists (we only get here
 * for a running domain): xenstored drops, without a word, an entry naming
 * a domain it does not know (XSA-322).
 */
int be_xen_publish(struct xen_transport *x)
{
	struct xs_permissions be_perms[2] = {
		{ .id = 0, .perms = XS_PERM_NONE },
		{ .id = x->domid, .perms = XS_PERM_READ },
	};
	struct xs_permissions fe_perms[2] = {
		{ .id = x->domid, .perms = XS_PERM_NONE },
		{ .id = 0, .perms = XS_PERM_READ },
	};
	struct be *be = x->be;
	xs_transaction_t t;
	char dir[256];
	bool ok;

again:
	t = xs_transaction_start(x->xs);
	if (t == XBT_NULL)
		return -1;
	xs_rm(x->xs, t, x->be_path);
	ok = xs_mkdir(x->xs, t, x->be_path) &&
	     xs_set_permissions(x->xs, t, x->be_path, be_perms, 2) &&
	     xs_printf_node(x->xs, t, x->be_path, "frontend-id", "%u", x->domid) &&
	     xs_printf_node(x->xs, t, x->be_path, "frontend", "%s", x->fe_path) &&
	     xs_printf_node(x->xs, t, x->be_path, "versions", "%u",
			    PD_WIRE_VERSION_MAJOR) &&
	     xs_printf_node(x->xs, t, x->be_path, "features", "%" PRIx64,
			    be_transport_features(&x->base)) &&
	     xs_printf_node(x->xs, t, x->be_path, "max-requests", "%u",
			    (unsigned int)RING_SLOTS) &&
	     xs_printf_node(x->xs, t, x->be_path, "state", "%d",
			    XB_INITIALISING);
	for (uint32_t i = 0; ok && i < be->nexports; i++) {
		const struct pd_wire_export *e = &be->exports[i].info;

		snprintf(dir, sizeof(dir), "%s/exports/%u", x->be_path, i);
		ok = xs_printf_node(x->xs, t, dir, "class", "%u", e->class) &&
		     xs_printf_node(x->xs, t, dir, "driver", "%u", e->driver) &&
		     xs_printf_node(x->xs, t, dir, "name", "%s", e->name) &&
		     xs_printf_node(x->xs, t, dir, "mode", "%04o", e->mode);
	}
	if (ok && be_xen_read_state(x->xs, x->fe_path) == XB_UNKNOWN) {
		/* first time: the frontend's directory, owned by the guest */
		xs_rm(x->xs, t, x->fe_path);
		ok = xs_mkdir(x->xs, t, x->fe_path) &&
		     xs_set_permissions(x->xs, t, x->fe_path, fe_perms, 2) &&
		     xs_printf_node(x->xs, t, x->fe_path, "backend-id", "0") &&
		     xs_printf_node(x->xs, t, x->fe_path, "backend", "%s",
				    x->be_path) &&
		     xs_printf_node(x->xs, t, x->fe_path, "state", "%d",
				    XB_INITIALISING);
	}
	if (!ok) {
		int e = errno;

		xs_transaction_end(x->xs, t, true);
		errno = e;
		return -1;
	}
	if (!xs_transaction_end(x->xs, t, false)) {
		if (errno == EAGAIN)
			goto again;
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Watches                                                              */

/* The frontend's directory and the end of any domain: -1 with errno. */
int be_xen_watch(struct xen_transport *x)
{
	if (!xs_watch(x->xs, x->fe_path, "fe") ||
	    !xs_watch(x->xs, "@releaseDomain", "rd"))
		return -1;
	return 0;
}

/* Drain watch events; true if any fired. */
bool be_xen_drain_watches(struct xen_transport *x)
{
	bool any = false;
	char **w;

	while ((w = xs_check_watch(x->xs))) {
		free(w);
		any = true;
	}
	return any;
}

/* ------------------------------------------------------------------ */
/* The frontend's directory                                             */

/*
 * The frontend is Initialised: read what it wrote for the connection. The
 * one place its directory is checked: every number must parse whole and
 * lie in range before it goes into *fe.
 */
int be_xen_read_frontend(struct xen_transport *x,
			 struct xen_frontend_dir *fe)
{
	long long version, req_ref, evt_ref, req_ch, evt_ch, dir_ref, pages;
	struct be *be = x->be;

	if (xs_read_int(x->xs, x->fe_path, "version", &version) ||
	    xs_read_int(x->xs, x->fe_path, "req-ring-ref", &req_ref) ||
	    xs_read_int(x->xs, x->fe_path, "evt-ring-ref", &evt_ref) ||
	    xs_read_int(x->xs, x->fe_path, "req-event-channel", &req_ch) ||
	    xs_read_int(x->xs, x->fe_path, "evt-event-channel", &evt_ch) ||
	    xs_read_int(x->xs, x->fe_path, "data-dir-ref", &dir_ref) ||
	    xs_read_int(x->xs, x->fe_path, "data-pages", &pages)) {
		be_log(be, "frontend directory incomplete: %s", strerror(errno));
		return -1;
	}
	if (version != PD_WIRE_VERSION_MAJOR) {
		be_log(be, "frontend chose version %lld", version);
		return -1;
	}
	if (req_ref < 0 || req_ref > UINT32_MAX || evt_ref < 0 ||
	    evt_ref > UINT32_MAX || dir_ref <= 0 || dir_ref > UINT32_MAX ||
	    req_ch <= 0 || req_ch > UINT32_MAX || evt_ch <= 0 ||
	    evt_ch > UINT32_MAX || pages < 1 || pages > MAX_DATA_PAGES) {
		be_log(be, "frontend directory out of range");
		return -1;
	}
	*fe = (struct xen_frontend_dir){
		.req_ref = (uint32_t)req_ref,
		.evt_ref = (uint32_t)evt_ref,
		.req_ch = (evtchn_port_t)req_ch,
		.evt_ch = (evtchn_port_t)evt_ch,
		.dir_ref = (uint32_t)dir_ref,
		.pages = (uint32_t)pages,
	};
	return 0;
}
