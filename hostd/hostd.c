// SPDX-License-Identifier: GPL-2.0-only
/*
 * hostd: the appliance's daemon in dom0.
 *
 *   hostd [--config FILE] [--bus system|session|ADDRESS|none] [--no-grab]
 *         [--no-input] [--no-xen] [--no-backends] [--card PATH|none]
 *         [--polkit-timeout SECONDS]
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
 *
 * Its files, from the ground up (each calls only files above it in
 * this list, and none calls this one):
 *   log.c       the log and the clock
 *   poller.c    the event loop: a callback per descriptor
 *   config.c    /etc/paradice/paradice.conf
 *   router.c    which guest gets a key; hotkeys; no stuck keys
 *   switcher.c  the VM list, the foreground guest, the switch (the
 *               modules' parts of a switch are hooks they set there)
 *   input.c     physical devices (libinput, grabbed), each guest's virtual
 *               keyboard and pointer (uinput in dom0, forwarded to the
 *               guest through Paradice like any evdev file), LEDs
 *   overlay.c   the on-screen switcher's picture (pixman, a 5x7 font)
 *   display.c   the DRM master of the card: shows the foreground guest's
 *               display state, paces background guests' flips
 *   display_overlay.c  the screen while no guest is on it: the on-screen
 *               switcher in hostd's own buffer, dom0's entry (master
 *               dropped, dom0's console back)
 *   bus.c       the D-Bus service (dbus/org.paradice.Switcher1.xml)
 *   reattach.c  backends that outlived a previous hostd connect again
 *               (PD_DISPLAY_SOCKET): checked, then given to display.c and
 *               input.c
 *   backends.c  one pd-backend process per running guest
 *   guestctl.c  the switcher inside the guests: their control files'
 *               requests, checked against each guest's allow
 *   audio.c     every guest's sound mixed into dom0's card: volumes,
 *               mutes, [audio]'s policy, pd-mixer (hostd/mixer/) started
 *               and restarted (bus_audio.c: its D-Bus properties)
 *   lifecycle.c each guest's Xen state (running, paused, ...); start,
 *               shut down, pause, resume, force off in a child process
 *               (libxl, or `xl create` for a start)
 *   hostd.c     the command line, XenStore (which guests run), signals,
 *               the loop
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <xenstore.h>

#include <paradice/pd_display.h>

#include "audio.h"
#include "backends.h"
#include "broker.h"
#include "camera.h"
#include "bus.h"
#include "config.h"
#include "display.h"
#include "guestctl.h"
#include "input.h"
#include "lifecycle.h"
#include "log.h"
#include "poller.h"
#include "reattach.h"
#include "switcher.h"

#define DEFAULT_CONFIG "/etc/paradice/paradice.conf"
#define DEFAULT_CARD "/dev/dri/card0"

struct hostd {
	struct hostd_config cfg;
	struct hostd_switcher sw;
	struct hostd_poller *poller;
	struct hostd_backends *backends;
	struct hostd_input *input;
	struct hostd_bus *bus;
	struct hostd_display *display;
	struct hostd_reattach *reattach;
	struct hostd_lifecycle *lifecycle;
	struct hostd_guestctl *guestctl;
	struct hostd_audio *audio;
	struct hostd_camera camera;	/* who may use the capture devices */
	struct xs_handle *xs;	/* NULL with --no-xen */
	struct hostd_watch *xs_watch, *signal_watch;
	int sfd;		/* signalfd of SIGCHLD */
	bool quit;		/* the bus went away */
};

static volatile sig_atomic_t got_signal;

/* A confined backend asks for a device file (display.c's OPEN): its
 * guest's configured ones and the virtual keyboard and pointer we made for
 * that guest, nothing else (broker.c). */
static int open_for_backend(void *data, unsigned int g,
			    const struct pd_disp_open *m)
{
	struct hostd *h = data;
	const char *extra[2] = { NULL, NULL };

	if (g >= h->sw.nvms)
		return -EINVAL;
	if (h->input) {
		extra[0] = hostd_input_guest_node(h->input, g, false);
		extra[1] = hostd_input_guest_node(h->input, g, true);
	}
	return hostd_broker_open(h->sw.vms[g].cfg, extra, 2, m->path,
				 sizeof(m->path), m->flags);
}

/* -- the VM list follows Xen ------------------------------------------------ */

/* Read which configured guests have a domain now; true if anything changed. */
static bool scan_domains(struct hostd *h)
{
	unsigned int n = 0;
	char **ids = h->xs ? xs_directory(h->xs, XBT_NULL, "/local/domain", &n) : NULL;
	bool changed = false;

	for (unsigned int i = 0; i < h->sw.nvms; i++) {
		struct hostd_vm *vm = &h->sw.vms[i];
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
		if (hostd_switcher_set_domain(&h->sw, i, domid))
			changed = true;
	}
	free(ids);
	return changed;
}

static void domains_changed(struct hostd *h)
{
	if (!scan_domains(h))
		return;
	/* a new domain may be paused (xl create -p) or already dead */
	hostd_lifecycle_refresh(h->lifecycle);
	hostd_backends_update(h->backends);
	hostd_switcher_active_gone(&h->sw);
	hostd_bus_vms_changed(h->bus);
	hostd_guestctl_notify(h->guestctl);
}

static void on_xenstore(int fd, short revents, void *data)
{
	struct hostd *h = data;
	unsigned int nw;
	char **w = xs_read_watch(h->xs, &nw);

	(void)fd;
	(void)revents;
	free(w);
	domains_changed(h);
}

/* lifecycle.c saw guest index's state change: its backend runs while its
 * domain is live (running or paused); the bus tells the clients. */
static void on_state_changed(void *data, unsigned int index)
{
	struct hostd *h = data;

	if (h->backends)
		hostd_backends_update(h->backends);
	hostd_bus_vm_state_changed(h->bus, index);
	hostd_guestctl_notify(h->guestctl);
}

/* SIGCHLD: the reaping is hostd_backends_reap()'s, after the dispatch. */
static void on_sigchld(int fd, short revents, void *data)
{
	struct signalfd_siginfo si;

	(void)revents;
	(void)data;
	while (read(fd, &si, sizeof(si)) == sizeof(si))
		;
}

static void on_signal(int sig)
{
	got_signal = sig;
}

static int usage(void)
{
	fprintf(stderr, "usage: hostd [--config FILE] [--bus system|session|ADDRESS|none]"
			" [--no-grab] [--no-input] [--no-xen] [--no-backends]"
			" [--card PATH|none]"
			" [--polkit-timeout SECONDS]\n");
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
		{ "polkit-timeout", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct hostd h = { .sfd = -1 };
	const char *config = DEFAULT_CONFIG, *bus = "system";
	const char *card = NULL;
	bool card_given = false;
	bool grab = true, xen = true, input = true, backends = true;
	bool restart_pending = false;
	/* as long as a D-Bus client waits for an answer by default */
	unsigned int polkit_timeout_ms = 25000;
	sigset_t chld;
	char err[512];
	int c, status = 1;

	/* D-Bus activation without systemd (dbus-daemon-launch-helper) starts
	 * hostd with an empty environment: a service's usual PATH then, so
	 * that lifecycle.c finds xl (/usr/sbin/xl on Debian) as it does when
	 * systemd or a shell starts hostd */
	if (setenv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:"
		   "/sbin:/bin", 0))
		return 1;

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
		case 'P': {
			char *end;
			double v = strtod(optarg, &end);

			if (*end || !(v > 0 && v <= 3600))
				return usage();
			polkit_timeout_ms = (unsigned int)(v * 1000);
			break;
		}
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
	/* --no-xen: a test hostd, not the machine's: /run/paradice is not
	 * its to write */
	hostd_switcher_init(&h.sw, &h.cfg, xen);
	h.poller = hostd_poller_create();
	if (!h.poller) {
		hostd_log("out of memory");
		goto out;
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
		h.xs_watch = hostd_poller_add(h.poller, xs_fileno(h.xs), POLLIN,
					      on_xenstore, &h);
		if (!h.xs_watch) {
			hostd_log("cannot watch XenStore: %s", strerror(errno));
			goto out;
		}
	}
	scan_domains(&h);
	h.lifecycle = hostd_lifecycle_create(&h.sw, h.poller, xen,
					     on_state_changed, &h);
	if (!h.lifecycle) {
		hostd_log("out of memory");
		goto out;
	}
	hostd_lifecycle_refresh(h.lifecycle);
	hostd_switcher_pick_active(&h.sw);
	/* backends only where Xen runs guests: --no-xen has no domains */
	h.backends = hostd_backends_create(&h.sw, h.poller, h.cfg.path,
					   backends && xen);
	if (!h.backends)
		goto out;
	/* before the input devices: a kept backend brings its guest's */
	hostd_backends_adopt(h.backends);
	/* --no-xen is for tests: it leaves the machine's card alone */
	if (!card_given && xen)
		card = DEFAULT_CARD;
	/* before the backends: they must find the card's master taken */
	h.display = hostd_display_create(&h.sw, h.poller, card);
	if (!h.display)
		goto out;
	if (input) {
		h.input = hostd_input_create(&h.sw, h.poller, grab);
		if (!h.input)
			goto out;
	}
	hostd_backends_set_peers(h.backends, h.input, h.display);
	hostd_display_set_broker(h.display, open_for_backend, &h);
	/* the camera follows the foreground guest, or its pinned owner */
	hostd_camera_init(&h.camera, &h.sw, h.display);
	h.sw.hooks.camera = hostd_camera_switched;
	h.sw.hooks.camera_data = &h.camera;
	hostd_display_set_hello_hook(h.display, hostd_camera_hello, &h.camera);
	/* the switcher inside the guests (guestctl.c) */
	h.guestctl = hostd_guestctl_create(&h.sw, h.poller);
	if (!h.guestctl)
		goto out;
	hostd_backends_set_guestctl(h.backends, h.guestctl);
	/* pd-mixer only where Xen runs guests, like the backends: a test
	 * hostd (--no-xen) keeps the volumes but leaves the machine's sound
	 * cards alone */
	h.audio = hostd_audio_create(&h.sw, h.poller, xen);
	if (!h.audio)
		goto out;
	if (strcmp(bus, "none") != 0) {
		h.bus = hostd_bus_create(&h.sw, h.lifecycle, h.poller, bus,
					 polkit_timeout_ms, &h.quit);
		if (!h.bus)
			goto out;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	h.sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
	if (h.sfd < 0) {
		hostd_log("signalfd: %s", strerror(errno));
		goto out;
	}
	h.signal_watch = hostd_poller_add(h.poller, h.sfd, POLLIN, on_sigchld,
					  &h);
	if (!h.signal_watch) {
		hostd_log("cannot watch SIGCHLD: %s", strerror(errno));
		goto out;
	}
	/* backends an earlier hostd left come back here (without it they
	 * give up after PD_DISPLAY_REATTACH_S, as if no hostd came); last,
	 * so that one that connects is served at once: until then it
	 * completes its guest's flips itself */
	if (backends && xen)
		h.reattach = hostd_reattach_create(&h.sw, h.poller, h.display,
						   h.input, h.guestctl,
						   PD_DISPLAY_SOCKET, true);
	hostd_backends_update(h.backends);
	hostd_log("ready: %u guests, %s in front", h.sw.nvms,
		  h.sw.vms[h.sw.router.active].cfg->name);

	while (!h.quit && !got_signal) {
		if (hostd_poller_dispatch(h.poller,
					  restart_pending ? 1000 : -1) < 0) {
			if (errno == EINTR)
				continue;
			hostd_log("poll: %s", strerror(errno));
			break;
		}
		restart_pending = hostd_backends_reap(h.backends);
	}
	status = got_signal ? 0 : 1;
	hostd_log("exiting%s", got_signal ? " on a signal" : "");
out:
	/* the backends stay: the guests must not see a restart of hostd,
	 * and they give up by themselves if none comes (pd_display.h) */
	for (unsigned int i = 0; i < h.sw.nvms; i++)
		if (h.sw.vms[i].backend_pid > 0)
			hostd_log("%s: backend %d left running for the next hostd",
				  h.sw.vms[i].cfg->name, h.sw.vms[i].backend_pid);
	hostd_reattach_destroy(h.reattach);
	/* first: the backends complete their guests' flips themselves from
	 * the moment their connection closes */
	h.sw.hooks.camera = NULL;
	h.camera.display = NULL;
	hostd_display_destroy(h.display);
	h.display = NULL;
	hostd_watch_remove(h.signal_watch);
	if (h.sfd >= 0)
		close(h.sfd);
	/* before the bus: its calls still running are answered */
	hostd_lifecycle_destroy(h.lifecycle);
	h.lifecycle = NULL;
	hostd_bus_destroy(h.bus);
	hostd_input_destroy(h.input);
	hostd_audio_destroy(h.audio);
	hostd_guestctl_destroy(h.guestctl);
	hostd_backends_destroy(h.backends);
	hostd_watch_remove(h.xs_watch);
	if (h.xs)
		xs_close(h.xs);
	hostd_poller_destroy(h.poller);
	hostd_config_finish(&h.cfg);
	return status;
}
