// SPDX-License-Identifier: GPL-2.0-only
/*
 * The Xen transport, backend side: one guest's "paradice" device, served
 * from dom0 userspace with libxenstore, libxenevtchn and libxengnttab (see
 * the XenStore layout and the state diagram in pd_wire.h, and
 * kernel/front_xenbus.c for the other end).
 *
 *   pd-backend --xen GUEST [--config FILE] [PATH...]
 *
 * This file owns the lifetime of it all. Two processes. The first (the
 * monitor) resolves the guest, reads which device files the configuration
 * gives it, and runs the second (the server), which publishes the
 * backend's nodes, maps the guest's rings and data area once, and serves
 * requests until the connection ends. When a server dies, however it
 * dies, the monitor tells the frontend (state Closing), so that the
 * guest's programs get -EIO at once, and starts a new server, to which
 * the frontend reconnects; a server that found no hostd for its guest's
 * display (exit status PD_DISPLAY_EXIT_NO_HOSTD) ends the monitor
 * instead. When the guest's domain is gone the monitor removes the nodes
 * and exits. In the server, check_frontend() decides what a change
 * of the frontend's state or the end of the domain means: connect, go on,
 * or end; the transport's table (struct be_transport_impl) is here.
 *
 * Trusts: the configuration (hostd/config.c reports a bad line), dom0's
 * XenStore and /run/paradice. Not the frontend's state, which the guest
 * writes: any value is only a reason to connect (once) or to end, and the
 * directory behind it is checked in xenstore.c; a guest that keeps
 * killing its server makes the monitor give up (5 deaths within 3 s).
 *
 * Memory shared with the guest is hostile (see ring.c and grant.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <paradice/pd_display.h>
#include "config.h"
#include "transport.h"

/* ------------------------------------------------------------------ */
/* The connection                                                       */

static void disconnect(struct xen_transport *x)
{
	be_xen_ring_disconnect(x);
	be_xen_unmap_shared(x);
	x->connected = false;
}

/*
 * The frontend is Initialised: map its two rings and its data area once,
 * bind both event channels, go Connected. Everything read from its
 * directory is checked before use (be_xen_read_frontend).
 */
static int connect_frontend(struct xen_transport *x)
{
	struct xen_frontend_dir fe;

	if (be_xen_read_frontend(x, &fe))
		return -1;
	if (be_xen_map_shared(x, &fe) || be_xen_ring_connect(x, &fe)) {
		disconnect(x);
		return -1;
	}
	x->connected = true;
	be_xen_set_state(x->xs, x->be_path, XB_CONNECTED);
	be_log(x->be, "connected to domain %u: %u data pages", x->domid,
	       x->data_pages);
	return 0;
}

/* The frontend's state or its domain changed: go on, connect, or end. */
static void check_frontend(struct xen_transport *x)
{
	int st = be_xen_read_state(x->xs, x->fe_path);

	if (!xs_is_domain_introduced(x->xs, x->domid)) {
		be_log(x->be, "domain %u is gone", x->domid);
		x->ended = true;
		return;
	}
	if (x->be->verbose)
		be_log(x->be, "frontend %s", be_xen_state_name(st));
	switch (st) {
	case XB_INITIALISED:
		if (!x->connected && connect_frontend(x)) {
			be_xen_set_state(x->xs, x->be_path, XB_CLOSING);
			x->ended = true;
		}
		break;
	case XB_CLOSING:
	case XB_CLOSED:
	case XB_UNKNOWN:
		/* a frontend that already closed before we connected is
		 * waiting for a new backend: that is us, not an end */
		if (x->connected || st == XB_CLOSING)
			x->ended = true;
		break;
	default:
		break;
	}
}

static void xen_destroy(struct be_transport *t)
{
	struct xen_transport *x = XT(t);

	if (!t)
		return;
	disconnect(x);
	be_xen_grant_helper_close(x);
	if (x->xgt)
		xengnttab_close(x->xgt);
	if (x->xce)
		xenevtchn_close(x->xce);
	if (x->xs)
		xs_close(x->xs);
	if (x->roomfd >= 0)
		close(x->roomfd);
	free(x);
}

static const struct be_transport_impl xen_impl = {
	.name = "xen",
	.features = PD_WIRE_FEAT_POLL_EVENTS | PD_WIRE_FEAT_FASYNC |
		    PD_WIRE_FEAT_NEWFD | PD_WIRE_FEAT_CANCEL,
	.recv = be_xen_recv,
	.send = be_xen_send,
	.grant = be_xen_grant,
	.ungrant = be_xen_ungrant,
	.revoked = be_xen_revoked,
	.destroy = xen_destroy,
};

/* Wait until the frontend is Closed (or gone), at most ms. */
static void wait_frontend_closed(struct xs_handle *xs, const char *fe_path,
				 int ms)
{
	for (int waited = 0; waited < ms; waited += 50) {
		int st = be_xen_read_state(xs, fe_path);

		if (st == XB_CLOSED || st == XB_UNKNOWN ||
		    st == XB_INITIALISING)
			return;
		nanosleep(&(struct timespec){ .tv_nsec = 50000000 }, NULL);
	}
}

/* ------------------------------------------------------------------ */
/* The server: one connection                                            */

static struct be_transport *server_create(struct be *be, unsigned int domid)
{
	struct xen_transport *x = calloc(1, sizeof(*x));

	if (!x)
		return NULL;
	x->base.impl = &xen_impl;
	x->base.fd = -1;
	x->base.revoke_fd = -1;
	x->be = be;
	x->domid = domid;
	x->grant_fd = -1;
	x->frontend_changed = check_frontend;
	x->roomfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	pthread_mutex_init(&x->lock, NULL);
	pthread_mutex_init(&x->evt_lock, NULL);
	be_xen_paths(domid, x->be_path, sizeof(x->be_path), x->fe_path,
		     sizeof(x->fe_path));
	x->xs = xs_open(0);
	x->xce = xenevtchn_open(NULL, 0);
	x->xgt = xengnttab_open(NULL, 0);
	if (!x->xs || !x->xce || !x->xgt || x->roomfd < 0) {
		be_log(be, "cannot open Xen's interfaces: %s", strerror(errno));
		goto fail;
	}
	/* a single mapping of the data area can be large */
	xengnttab_set_max_grants(x->xgt, MAX_DATA_PAGES + 8);
	be_xen_grant_helper_open(x);
	/* all we open ourselves is open: the rest hostd opens for us */
	if (be->confine_uid && be_confine(be))
		goto fail;
	/* a frontend still attached to an earlier backend (its references
	 * are stale) must close first: tell it, and give it a moment */
	switch (be_xen_read_state(x->xs, x->fe_path)) {
	case XB_INITIALISED:
	case XB_CONNECTED:
	case XB_CLOSING:
		be_log(be, "frontend still attached to an earlier backend: "
		       "closing it");
		be_xen_set_state(x->xs, x->be_path, XB_CLOSING);
		wait_frontend_closed(x->xs, x->fe_path, 10000);
		break;
	default:
		break;
	}
	if (be_xen_publish(x)) {
		be_log(be, "cannot publish %s: %s", x->be_path, strerror(errno));
		goto fail;
	}
	if (be_xen_watch(x)) {
		be_log(be, "cannot watch %s: %s", x->fe_path, strerror(errno));
		goto fail;
	}
	be_xen_set_state(x->xs, x->be_path, XB_INITWAIT);
	be_log(be, "waiting for domain %u (%s)", domid, x->fe_path);
	return &x->base;
fail:
	xen_destroy(&x->base);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* The monitor                                                           */

static volatile sig_atomic_t monitor_stop;

static void on_term(int sig)
{
	monitor_stop = 1;
}

static void write_pid(const char *dir, const char *name, const char *what,
		      pid_t pid)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/backend-%s.%s", dir, name, what);
	f = fopen(path, "w");
	if (f) {
		fprintf(f, "%d\n", (int)pid);
		fclose(f);
	}
}

/* Another monitor alive for this guest? Two would fight over XenStore. */
static bool already_served(const char *name)
{
	char path[256], cmd[64] = "";
	FILE *f;
	int pid = 0, fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/run/paradice/backend-%s.monitor", name);
	f = fopen(path, "r");
	if (!f)
		return false;
	if (fscanf(f, "%d", &pid) != 1)
		pid = 0;
	fclose(f);
	if (pid <= 0 || pid == getpid())
		return false;
	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, cmd, sizeof(cmd) - 1);
	close(fd);
	return n > 0 && strstr(cmd, "pd-backend");
}

/*
 * Runs servers one after another for as long as the guest exists. Returns
 * in the child (the server) only; the monitor itself exits.
 */
static void monitor(struct be *be, unsigned int domid, const char *name)
{
	const char *run = "/run/paradice";
	char be_path[128], fe_path[128];
	struct xs_handle *xs;
	int quick_deaths = 0;

	be_xen_paths(domid, be_path, sizeof(be_path), fe_path,
		     sizeof(fe_path));
	mkdir(run, 0755);
	write_pid(run, name, "monitor", getpid());
	/* no SA_RESTART: the signal must interrupt waitpid() */
	sigaction(SIGTERM, &(struct sigaction){ .sa_handler = on_term }, NULL);
	sigaction(SIGINT, &(struct sigaction){ .sa_handler = on_term }, NULL);

	for (;;) {
		struct timespec t0, t1;
		pid_t pid, w;
		int status;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		pid = fork();
		if (pid < 0) {
			be_log(be, "fork: %s", strerror(errno));
			exit(1);
		}
		if (pid == 0) {
			signal(SIGTERM, SIG_DFL);
			signal(SIGINT, SIG_DFL);
			write_pid(run, name, "pid", getpid());
			return;
		}
		do {
			w = waitpid(pid, &status, 0);
			if (w < 0 && errno == EINTR && monitor_stop)
				kill(pid, SIGTERM);
		} while (w < 0 && errno == EINTR);
		clock_gettime(CLOCK_MONOTONIC, &t1);

		xs = xs_open(0);
		if (!xs) {
			be_log(be, "monitor: xenstore: %s", strerror(errno));
			exit(1);
		}
		if (WIFSIGNALED(status))
			be_log(be, "server %d killed by signal %d", (int)pid,
			       WTERMSIG(status));
		else
			be_log(be, "server %d exited (%d)", (int)pid,
			       WEXITSTATUS(status));
		/* no hostd came back for the display: end as if stopped
		 * (pd_display.h); hostd starts a new backend when it comes */
		if (WIFEXITED(status) &&
		    WEXITSTATUS(status) == PD_DISPLAY_EXIT_NO_HOSTD)
			monitor_stop = 1;
		/* whatever happened, the frontend must stop using it */
		if (be_xen_read_state(xs, be_path) != XB_UNKNOWN)
			be_xen_set_state(xs, be_path, XB_CLOSING);
		if (monitor_stop || !xs_is_domain_introduced(xs, domid)) {
			wait_frontend_closed(xs, fe_path, 3000);
			be_xen_set_state(xs, be_path, XB_CLOSED);
			if (!xs_is_domain_introduced(xs, domid)) {
				/* the domain's whole directory (device 0
				 * is all), not an empty one left behind */
				char *slash = strrchr(be_path, '/');

				if (slash)
					*slash = '\0';
				xs_rm(xs, XBT_NULL, be_path);
				be_log(be, "domain %u is gone: monitor ends",
				       domid);
			}
			xs_close(xs);
			exit(0);
		}
		wait_frontend_closed(xs, fe_path, 5000);
		be_xen_set_state(xs, be_path, XB_CLOSED);
		xs_close(xs);
		if (t1.tv_sec - t0.tv_sec < 3) {
			if (++quick_deaths >= 5) {
				be_log(be, "server keeps dying: monitor ends");
				exit(1);
			}
			sleep(1);
		} else {
			quick_deaths = 0;
		}
	}
}

/*
 * --xen: serve the guest named domain (a name or a domain id) with the
 * device files its section of the configuration lists, nothing else.
 */
struct be_transport *be_xen_create(struct be *be, const char *domain,
				   const char *config_path, char **extra,
				   unsigned int nextra)
{
	const struct hostd_guest_config *g;
	static char guest_name[HOSTD_NAME_MAX];
	struct hostd_config cfg;
	struct xs_handle *xs;
	unsigned int domid;
	char err[512];

	xs = xs_open(0);
	if (!xs) {
		be_log(be, "cannot open xenstore: %s", strerror(errno));
		return NULL;
	}
	if (be_xen_resolve_domain(xs, domain, &domid, guest_name,
				  sizeof(guest_name))) {
		be_log(be, "no domain %s", domain);
		xs_close(xs);
		return NULL;
	}
	xs_close(xs);
	be->name = guest_name;
	be->domid = domid;
	if (hostd_config_load(&cfg, config_path, err, sizeof(err))) {
		be_log(be, "%s", err);
		return NULL;
	}
	g = hostd_config_guest(&cfg, guest_name);
	if (!g) {
		be_log(be, "%s: no [guest %s] section", config_path, guest_name);
		hostd_config_finish(&cfg);
		return NULL;
	}
	be->max.grants = g->limits.max_grants;
	be->max.handles = g->limits.max_handles;
	be->max.objects = g->limits.max_objects;
	be->max.inflight = g->limits.max_inflight;
	be->max.memory = g->limits.max_memory;
	/* started by hostd, which opens its devices for it: confined
	 * (confine.c); else it must open them itself */
	if (getenv(PD_DISPLAY_FD_ENV))
		be->confine_uid = g->backend_uid;
	be->nexports = g->ndevices + nextra;
	/* one more: the control file, if hostd gave us its channel */
	be->exports = calloc(be->nexports + 1, sizeof(*be->exports));
	if (!be->exports) {
		hostd_config_finish(&cfg);
		return NULL;
	}
	for (unsigned int i = 0; i < g->ndevices; i++) {
		if (be_export_describe(g->devices[i], &be->exports[i])) {
			be_log(be, "%s (%s:%u): cannot forward: %s",
			       g->devices[i], config_path, g->line,
			       strerror(errno));
			hostd_config_finish(&cfg);
			return NULL;
		}
	}
	for (unsigned int i = 0; i < nextra; i++) {
		if (be_export_describe(extra[i], &be->exports[g->ndevices + i])) {
			be_log(be, "%s (command line): cannot forward: %s",
			       extra[i], strerror(errno));
			hostd_config_finish(&cfg);
			return NULL;
		}
	}
	hostd_config_finish(&cfg);
	be->nexports += (uint32_t)be_control_init(be, &be->exports[be->nexports]);

	if (already_served(guest_name)) {
		be_log(be, "already served by another pd-backend");
		return NULL;
	}
	if (be->confine_uid && be_confine_monitor(be))
		return NULL;
	monitor(be, domid, guest_name);
	/* the server, in a process of its own */
	return server_create(be, domid);
}
