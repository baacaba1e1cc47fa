// SPDX-License-Identifier: GPL-2.0-only
/*
 * hostd: the appliance's daemon in dom0.
 *
 *   hostd [--config FILE] [--bus system|session|ADDRESS|none] [--no-grab]
 *         [--no-input] [--no-xen] [--no-backends] [--card PATH|none]
 *
 * It reads the configuration, follows which of its guests Xen runs
 * (XenStore watches on @introduceDomain/@releaseDomain), gives each guest a
 * virtual keyboard and pointer, routes the physical ones to the foreground
 * guest, and switches on a hotkey or a D-Bus call. --no-xen takes every
 * configured guest as running (domain ids 1, 2, ... in config order), for
 * tests without Xen; --no-grab leaves the physical devices alone;
 * --no-input makes no input devices at all (tests of the D-Bus service);
 * --no-backends starts no pd-backend for the guests (backends.c); --card
 * names the DRM card hostd is master of (display.c; /dev/dri/card0, none
 * with --no-xen, which must not take the test machine's screen).
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <xenstore.h>

#include <paradice/pd_display.h>

#include "hostd.h"

#define DEFAULT_CONFIG "/etc/paradice/paradice.conf"
#define DEFAULT_CARD "/dev/dri/card0"
/* The foreground guest's name, so that a restarted hostd puts it in front
 * again (a tmpfs: a reboot starts with the first running guest). */
#define ACTIVE_FILE "/run/paradice/active"
#define MAX_FDS 80

static volatile sig_atomic_t got_signal;

void hostd_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("hostd: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

uint64_t hostd_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

const char *hostd_vm_state_name(enum hostd_vm_state s)
{
	switch (s) {
	case HOSTD_VM_RUNNING:
		return "running";
	case HOSTD_VM_PAUSED:
		return "paused";
	case HOSTD_VM_SHUTDOWN:
		return "shutdown";
	case HOSTD_VM_CRASHED:
		return "crashed";
	default:
		return "absent";
	}
}

/* -- the router's view of hostd ------------------------------------------- */

static void router_key(void *data, unsigned int g, unsigned int code, int value)
{
	struct hostd *h = data;

	hostd_input_key(h->input, g, code, value);
}

static void router_sync(void *data, unsigned int g)
{
	struct hostd *h = data;

	hostd_input_sync(h->input, g);
}

/*
 * The router has released the outgoing guest's keys and made `to` the
 * foreground guest; finish the switch: the incoming guest's latest frame
 * on the screen (a full SETCRTC, synchronous), pointer buttons and LEDs,
 * then tell the bus. The time logged runs from the request (the hotkey's
 * release or the D-Bus call) to the new frame's commit.
 */
/* Remember the foreground guest for the next hostd (best effort). */
static void save_active(const struct hostd *h)
{
	const char *tmp = ACTIVE_FILE ".new";
	FILE *f;

	if (!h->xs)
		return;		/* --no-xen: a test hostd, not the machine's */
	mkdir("/run/paradice", 0755);
	f = fopen(tmp, "w");
	if (!f)
		return;
	fprintf(f, "%s\n", h->vms[h->router.active].cfg->name);
	if (fclose(f) == 0)
		rename(tmp, ACTIVE_FILE);
}

/* The guest a previous hostd had in front, if it runs now; else -1. */
static int saved_active(const struct hostd *h)
{
	char name[HOSTD_NAME_MAX + 2] = "";
	FILE *f = h->xs ? fopen(ACTIVE_FILE, "r") : NULL;

	if (!f)
		return -1;
	if (!fgets(name, sizeof(name), f))
		name[0] = '\0';
	fclose(f);
	name[strcspn(name, "\n")] = '\0';
	for (unsigned int i = 0; i < h->nvms; i++)
		if (!strcmp(h->vms[i].cfg->name, name) &&
		    h->vms[i].state == HOSTD_VM_RUNNING)
			return (int)i;
	return -1;
}

static void router_activate(void *data, unsigned int from, unsigned int to)
{
	struct hostd *h = data;
	uint64_t t0 = h->switch_started_us ? h->switch_started_us : hostd_now_us();
	uint64_t took;
	int r;

	r = hostd_display_switch(h->display, to);
	took = hostd_now_us() - t0;
	if (h->display)
		hostd_log("display: %s on screen %llu us after the request%s%s",
			  h->vms[to].cfg->name, (unsigned long long)took,
			  r ? ": " : "", r ? strerror(-r) : "");
	hostd_input_switched(h->input, from, to);
	took = hostd_now_us() - t0;
	h->switch_started_us = 0;
	hostd_log("switched from %s to %s in %llu us", h->vms[from].cfg->name,
		  h->vms[to].cfg->name, (unsigned long long)took);
	hostd_bus_switched(h->bus, from, to, took);
	save_active(h);
}

static bool router_usable(void *data, unsigned int g)
{
	struct hostd *h = data;

	return g < h->nvms && h->vms[g].state == HOSTD_VM_RUNNING;
}

static const struct hostd_router_ops router_ops = {
	.key = router_key,
	.sync = router_sync,
	.activate = router_activate,
	.usable = router_usable,
};

int hostd_switch_to(struct hostd *h, unsigned int index)
{
	if (index >= h->nvms)
		return -ENOENT;
	if (h->vms[index].state != HOSTD_VM_RUNNING)
		return -EAGAIN;
	if (index == h->router.active)
		return 0;
	h->switch_started_us = hostd_now_us();
	return hostd_router_switch(&h->router, index) ? 0 : -EAGAIN;
}

/* -- the VM list follows Xen ------------------------------------------------ */

/* Read which configured guests have a domain now; true if anything changed. */
static bool scan_domains(struct hostd *h)
{
	unsigned int n = 0;
	char **ids = h->xs ? xs_directory(h->xs, XBT_NULL, "/local/domain", &n) : NULL;
	bool changed = false;

	for (unsigned int i = 0; i < h->nvms; i++) {
		struct hostd_vm *vm = &h->vms[i];
		int domid = h->xs ? -1 : (int)i + 1;

		for (unsigned int j = 0; ids && j < n && domid < 0; j++) {
			char path[64], *name;
			unsigned int len;

			snprintf(path, sizeof(path), "/local/domain/%s/name", ids[j]);
			name = xs_read(h->xs, XBT_NULL, path, &len);
			if (name && strcmp(name, vm->cfg->name) == 0 && atoi(ids[j]) > 0)
				domid = atoi(ids[j]);
			free(name);
		}
		if (domid != vm->domid) {
			hostd_log("%s: %s", vm->cfg->name,
				  domid < 0 ? "domain gone" : "domain running");
			vm->domid = domid;
			vm->state = domid < 0 ? HOSTD_VM_ABSENT : HOSTD_VM_RUNNING;
			changed = true;
		}
	}
	free(ids);
	return changed;
}

static void domains_changed(struct hostd *h)
{
	unsigned int a = h->router.active;

	if (!scan_domains(h))
		return;
	hostd_backends_update(h);
	/* The foreground guest went away: hand the screen to another. */
	if (h->vms[a].state != HOSTD_VM_RUNNING) {
		for (unsigned int i = 0; i < h->nvms; i++)
			if (h->vms[i].state == HOSTD_VM_RUNNING) {
				hostd_switch_to(h, i);
				break;
			}
	}
	hostd_bus_vms_changed(h->bus);
}

static void on_signal(int sig)
{
	got_signal = sig;
}

static int usage(void)
{
	fprintf(stderr, "usage: hostd [--config FILE] [--bus system|session|ADDRESS|none]"
			" [--no-grab] [--no-input] [--no-xen] [--no-backends]"
			" [--card PATH|none]\n");
	return 2;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "bus", required_argument, NULL, 'b' },
		{ "no-grab", no_argument, NULL, 'g' },
		{ "no-input", no_argument, NULL, 'i' },
		{ "no-backends", no_argument, NULL, 'B' },
		{ "no-xen", no_argument, NULL, 'x' },
		{ "card", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct hostd h;
	const char *config = DEFAULT_CONFIG, *bus = "system";
	const char *card = NULL;
	bool card_given = false;
	bool grab = true, xen = true, input = true, backends = true;
	bool restart_pending = false;
	sigset_t chld;
	int sfd = -1;
	char err[512];
	int c, saved, status = 1;

	while ((c = getopt_long(argc, argv, "c:b:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 'b':
			bus = optarg;
			break;
		case 'g':
			grab = false;
			break;
		case 'x':
			xen = false;
			break;
		case 'i':
			input = false;
			break;
		case 'B':
			backends = false;
			break;
		case 'C':
			card = strcmp(optarg, "none") ? optarg : NULL;
			card_given = true;
			break;
		default:
			return usage();
		}
	}
	if (hostd_config_load(&h.cfg, config, err, sizeof(err)) < 0) {
		hostd_log("%s", err);
		return 1;
	}
	h.nvms = h.cfg.nguests;
	for (unsigned int i = 0; i < h.nvms; i++) {
		h.vms[i].cfg = &h.cfg.guests[i];
		h.vms[i].index = i;
		h.vms[i].domid = -1;
	}
	if (xen) {
		h.xs = xs_open(0);
		if (!h.xs) {
			hostd_log("cannot open XenStore (%s); --no-xen runs without Xen",
				  strerror(errno));
			goto out;
		}
		if (!xs_watch(h.xs, "@introduceDomain", "domains") ||
		    !xs_watch(h.xs, "@releaseDomain", "domains")) {
			hostd_log("cannot watch domains: %s", strerror(errno));
			goto out;
		}
	}
	scan_domains(&h);
	hostd_router_init(&h.router, &h.cfg, h.nvms, &router_ops, &h);
	for (unsigned int i = 0; i < h.nvms; i++)
		if (h.vms[i].state == HOSTD_VM_RUNNING) {
			h.router.active = i;
			break;
		}
	saved = saved_active(&h);
	if (saved >= 0)
		h.router.active = (unsigned int)saved;
	/* backends only where Xen runs guests: --no-xen has no domains */
	h.spawn_backends = backends && xen;
	/* before the input devices: a kept backend brings its guest's */
	hostd_backends_adopt(&h);
	/* --no-xen is for tests: it leaves the machine's card alone */
	if (!card_given && xen)
		card = DEFAULT_CARD;
	/* before the backends: they must find the card's master taken */
	h.display = hostd_display_create(&h, card);
	if (!h.display)
		goto out;
	if (input) {
		h.input = hostd_input_create(&h, grab);
		if (!h.input)
			goto out;
	}
	if (strcmp(bus, "none") != 0) {
		h.bus = hostd_bus_create(&h, bus);
		if (!h.bus)
			goto out;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0) {
		hostd_log("signalfd: %s", strerror(errno));
		goto out;
	}
	/* backends an earlier hostd left come back here (without it they
	 * give up after PD_DISPLAY_REATTACH_S, as if no hostd came); last,
	 * so that one that connects is served at once: until then it
	 * completes its guest's flips itself */
	if (h.spawn_backends)
		h.reattach = hostd_reattach_create(&h, PD_DISPLAY_SOCKET, true);
	hostd_backends_update(&h);
	hostd_log("ready: %u guests, %s in front", h.nvms,
		  h.vms[h.router.active].cfg->name);

	while (!h.quit && !got_signal) {
		struct pollfd pfd[MAX_FDS];
		int fds[MAX_FDS];
		unsigned int n = hostd_input_fds(h.input, fds, MAX_FDS - 3);

		n += hostd_display_fds(h.display, fds + n, MAX_FDS - 3 - n);
		n += hostd_reattach_fds(h.reattach, fds + n, MAX_FDS - 3 - n);
		n += hostd_backends_fds(&h, fds + n, MAX_FDS - 3 - n);

		for (unsigned int i = 0; i < n; i++)
			pfd[i] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
		if (h.bus)
			pfd[n++] = (struct pollfd){ .fd = hostd_bus_fd(h.bus), .events = POLLIN };
		if (h.xs)
			pfd[n++] = (struct pollfd){ .fd = xs_fileno(h.xs), .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = sfd, .events = POLLIN };
		if (poll(pfd, n, restart_pending ? 1000 : -1) < 0) {
			if (errno == EINTR)
				continue;
			hostd_log("poll: %s", strerror(errno));
			break;
		}
		for (unsigned int i = 0; i < n; i++) {
			if (!pfd[i].revents)
				continue;
			if (pfd[i].fd == sfd) {
				struct signalfd_siginfo si;

				while (read(sfd, &si, sizeof(si)) == sizeof(si))
					;
			} else if (h.xs && pfd[i].fd == xs_fileno(h.xs)) {
				unsigned int nw;
				char **w = xs_read_watch(h.xs, &nw);

				free(w);
				domains_changed(&h);
			} else if (h.bus && pfd[i].fd == hostd_bus_fd(h.bus)) {
				if (pfd[i].revents & (POLLHUP | POLLERR)) {
					/* the bus went away: nothing to serve */
					hostd_log("bus: connection lost");
					h.quit = true;
				}
				hostd_bus_dispatch(h.bus);
			} else if (hostd_reattach_dispatch(h.reattach, pfd[i].fd) ||
				   hostd_display_dispatch(h.display, pfd[i].fd)) {
				continue;
			} else if (h.input) {
				/* a backend's pidfd: hostd_backends_reap() */
				hostd_input_dispatch(h.input, pfd[i].fd);
			}
		}
		restart_pending = hostd_backends_reap(&h);
	}
	status = got_signal ? 0 : 1;
	hostd_log("exiting%s", got_signal ? " on a signal" : "");
out:
	/* the backends stay: the guests must not see a restart of hostd,
	 * and they give up by themselves if none comes (pd_display.h) */
	for (unsigned int i = 0; i < h.nvms; i++)
		if (h.vms[i].backend_pid > 0)
			hostd_log("%s: backend %d left running for the next hostd",
				  h.vms[i].cfg->name, h.vms[i].backend_pid);
	hostd_reattach_destroy(h.reattach);
	/* first: the backends complete their guests' flips themselves from
	 * the moment their connection closes */
	hostd_display_destroy(h.display);
	h.display = NULL;
	if (sfd >= 0)
		close(sfd);
	hostd_bus_destroy(h.bus);
	hostd_input_destroy(h.input);
	if (h.xs)
		xs_close(h.xs);
	hostd_config_finish(&h.cfg);
	return status;
}
