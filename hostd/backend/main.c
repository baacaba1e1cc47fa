// SPDX-License-Identifier: GPL-2.0-only
/*
 * pd-backend: serve one guest from the device files named on the command
 * line.
 *
 *   pd-backend [-v] [--loop DEV] [--name NAME] [--ready-fd FD]
 *              [--state FILE] PATH...
 *   pd-backend [-v] --xen GUEST [--config FILE] [PATH...]
 *
 * With --xen it serves the Xen guest GUEST (a domain name or id) with the
 * device files the configuration gives it, and PATH... besides (hostd
 * passes the guest's virtual keyboard and pointer) (xen/supervise.c).
 *
 * It opens the loop transport (a connection of its own: one "guest" whose
 * exports are PATH...), answers the frontend's requests until the
 * transport closes or the process is killed, and exits. When the
 * frontend has created the forwarded nodes it writes one line per export,
 * "PATH NODE", to the ready descriptor (then closes it) and to the state
 * file; pdctl uses both.
 *
 * The reader runs the synchronous requests that cannot wait itself
 * (request.c); PD_BACKEND_INLINE=0 in the environment starts with every
 * request handed to a worker instead, and SIGUSR2 switches between the
 * two while it serves (logged: "inline requests on|off"), for a
 * comparison in one boot.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <paradice/pd_display.h>
#include <paradice/pd_loop.h>
#include "backend.h"
#include "nodisplay.h"
#include "v4l2own.h"
#include "vkms/vkms.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: pd-backend [-v] [--loop DEV] [--name NAME] "
		   "[--ready-fd FD] [--state FILE] PATH...\n"
		   "       pd-backend [-v] --xen GUEST [--config FILE] "
		   "[--direct-display] [PATH...]\n");
}

struct announce {
	struct be *be;
	int ready_fd;
	const char *state;
};

/* Tell pdctl (or whoever started us) where the forwarded nodes are. */
static void *announce_nodes(void *arg)
{
	struct announce *a = arg;
	struct be *be = a->be;
	struct pd_loop_node *nodes = calloc(be->nexports, sizeof(*nodes));
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	int n, status = 0;

	if (!nodes)
		return NULL;
	n = be_loop_nodes(be->tp, nodes, be->nexports, &status);
	f = open_memstream(&text, &len);
	if (n < 0 || !f) {
		be_log(be, "no node list: %s", strerror(errno));
	} else {
		if (status)
			be_log(be, "frontend setup failed: %s", strerror(-status));
		fprintf(f, "pid %d\n", (int)getpid());
		for (int i = 0; i < n && i < (int)be->nexports; i++) {
			fprintf(f, "%s %s\n", be->exports[i].path,
				nodes[i].path[0] ? nodes[i].path : "-");
			be_log(be, "%s forwarded as %s", be->exports[i].path,
			       nodes[i].path[0] ? nodes[i].path : "(nothing)");
		}
		fclose(f);
		if (a->state) {
			FILE *s = fopen(a->state, "w");

			if (s) {
				fputs(text, s);
				fclose(s);
			}
		}
		if (a->ready_fd >= 0 &&
		    write(a->ready_fd, text, len) != (ssize_t)len)
			be_log(be, "cannot write the node list");
	}
	if (a->ready_fd >= 0)
		close(a->ready_fd);
	free(text);
	free(nodes);
	return NULL;
}

/* An integer descriptor or value of the environment: 0, -1 if malformed. */
static int env_long(const char *s, long *out)
{
	char *end;

	*out = strtol(s, &end, 10);
	return end == s || *end || *out < 0 || *out > 1 << 20 ? -1 : 0;
}

/*
 * hostd's display connection (PD_DISPLAY_FD), the guest's uinput files
 * to keep (PD_INPUT_FDS="KBD,PTR") and the card's DIRTYFB answer, taken
 * out of the environment (our children must not see them): 1 and *cfg
 * if hostd started us, 0 if not, -1 if malformed.
 */
static int display_config(struct be *be, struct vkms_config *cfg, int *input)
{
	const char *env = getenv(PD_DISPLAY_FD_ENV);
	long fd;

	if (!env)
		return 0;
	if (env_long(env, &fd)) {
		be_log(be, "display: bad %s=%s", PD_DISPLAY_FD_ENV, env);
		return -1;
	}
	cfg->sock = (int)fd;
	cfg->input = input;
	env = getenv(PD_DISPLAY_INPUT_ENV);
	for (const char *p = env; p && *p &&
	     cfg->ninput < PD_DISPLAY_MAX_INPUT;) {
		char *end;

		fd = strtol(p, &end, 10);
		if (end == p || fd < 0 || fd > 1 << 20 ||
		    fcntl((int)fd, F_SETFD, FD_CLOEXEC)) {
			be_log(be, "display: bad %s=%s", PD_DISPLAY_INPUT_ENV,
			       env);
			cfg->ninput = 0;
			break;
		}
		input[cfg->ninput++] = (int)fd;
		p = *end == ',' ? end + 1 : end;
	}
	env = getenv(PD_DISPLAY_DIRTYFB_ENV);
	cfg->dirtyfb = env && strtol(env, NULL, 10) == -ENOSYS ? -ENOSYS : 0;
	env = getenv(PD_DISPLAY_REATTACH_ENV);
	if (env) {
		long secs;

		if (env_long(env, &secs) || secs < 1 || secs > 3600)
			be_log(be, "display: bad %s=%s (1 to 3600 seconds): %d s",
			       PD_DISPLAY_REATTACH_ENV, env,
			       PD_DISPLAY_REATTACH_S);
		else
			cfg->reattach_s = (unsigned int)secs;
	}
	unsetenv(PD_DISPLAY_FD_ENV);
	unsetenv(PD_DISPLAY_INPUT_ENV);
	unsetenv(PD_DISPLAY_DIRTYFB_ENV);
	return 1;
}

/*
 * SIGUSR2 (blocked in every thread, main() blocks it before any exists)
 * turns the reader's inline requests off and on again.
 */
static void *inline_switch(void *arg)
{
	struct be *be = arg;
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	for (;;) {
		bool off;

		if (sigwait(&set, &sig))
			continue;
		off = !atomic_load(&be->inline_off);
		atomic_store(&be->inline_off, off);
		be_log(be, "inline requests %s (SIGUSR2)", off ? "off" : "on");
	}
	return NULL;
}

struct reader {
	struct be *be;
	int done;		/* eventfd: the transport ended */
};

/* The reader: one request at a time off the transport, each checked and
 * handed on by be_take_request() (request.c). */
static void *reader(void *arg)
{
	struct reader *rd = arg;
	struct be *be = rd->be;
	uint8_t *buf = malloc(PD_WIRE_MAX_MSG);
	uint64_t one = 1;

	for (;;) {
		ssize_t n;

		if (!buf)
			break;
		n = be->tp->impl->recv(be->tp, buf, PD_WIRE_MAX_MSG);
		if (n == 0)
			break;
		if (n < 0) {
			be_log(be, "transport: %s", strerror(errno));
			break;
		}
		be_take_request(be, buf, (size_t)n);
	}
	free(buf);
	if (write(rd->done, &one, sizeof(one)) < 0)
		be_log(be, "reader: %s", strerror(errno));
	return NULL;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "loop", required_argument, NULL, 'l' },
		{ "name", required_argument, NULL, 'n' },
		{ "ready-fd", required_argument, NULL, 'r' },
		{ "state", required_argument, NULL, 's' },
		{ "xen", required_argument, NULL, 'x' },
		{ "config", required_argument, NULL, 'c' },
		{ "direct-display", no_argument, NULL, 'D' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct be be = { .name = "loop", .epfd = -1, .wakefd = -1, .sigfd = -1,
			 .control_fd = -1 };
	struct announce an = { .be = &be, .ready_fd = -1 };
	struct vkms_config dcfg = { .sock = -1 };
	int input[PD_DISPLAY_MAX_INPUT];
	struct reader rd = { .be = &be };
	struct pollfd pfd[2];
	struct vkms *vkms = NULL;
	const char *loop = PD_LOOP_DEVICE;
	const char *xen = NULL, *config = "/etc/paradice/paradice.conf";
	pthread_t t;
	int c, disp;
	bool direct = false;

	while ((c = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			loop = optarg;
			break;
		case 'n':
			be.name = optarg;
			break;
		case 'r':
			an.ready_fd = atoi(optarg);
			break;
		case 's':
			an.state = optarg;
			break;
		case 'x':
			xen = optarg;
			break;
		case 'c':
			config = optarg;
			break;
		case 'D':
			direct = true;
			break;
		case 'v':
			be.verbose++;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	pthread_mutex_init(&be.lock, NULL);
	pthread_mutex_init(&be.push_lock, NULL);
	pthread_mutex_init(&be.gate_lock, NULL);
	pthread_cond_init(&be.gate_cond, NULL);
	be.revocations = be_maps_revocations;
	signal(SIGPIPE, SIG_IGN);
	{
		/* before any thread (and the Xen monitor's fork: it keeps
		 * the signal blocked and pending, without effect) */
		const char *env = getenv("PD_BACKEND_INLINE");
		sigset_t set;

		sigemptyset(&set);
		sigaddset(&set, SIGUSR2);
		pthread_sigmask(SIG_BLOCK, &set, NULL);
		if (env && !strcmp(env, "0"))
			atomic_store(&be.inline_off, true);
	}
	if (xen) {
		if (argc - optind > 8) {
			usage(stderr);
			return 2;
		}
		/* forks: the monitor stays in there, the server comes back
		 * (before any thread exists) */
		be.tp = be_xen_create(&be, xen, config, argv + optind,
				      (unsigned int)(argc - optind));
		if (!be.tp)
			return 1;
		goto serve;
	}
	if (optind >= argc || argc - optind > (int)PD_WIRE_MAX_EXPORTS) {
		usage(stderr);
		return 2;
	}
	be.nexports = (uint32_t)(argc - optind);
	be.exports = calloc(be.nexports, sizeof(*be.exports));
	if (!be.exports)
		return 1;
	for (uint32_t i = 0; i < be.nexports; i++) {
		if (be_export_describe(argv[optind + i], &be.exports[i])) {
			be_log(&be, "%s: cannot forward: %s", argv[optind + i],
			       strerror(errno));
			return 1;
		}
	}
	if (be_events_start(&be)) {
		be_log(&be, "event thread: %s", strerror(errno));
		return 1;
	}
	be.tp = be_loop_create(loop);
	if (!be.tp) {
		be_log(&be, "%s: %s (is pdfront loaded?)", loop,
		       strerror(errno));
		return 1;
	}
serve:
	if (xen && be_events_start(&be)) {
		be_log(&be, "event thread: %s", strerror(errno));
		return 1;
	}
	if (be_pool_start(&be)) {
		be_log(&be, "worker threads: %s", strerror(errno));
		return 1;
	}
	if (pthread_create(&t, NULL, inline_switch, &be) == 0)
		pthread_detach(t);
	if (atomic_load(&be.inline_off))
		be_log(&be, "inline requests off (PD_BACKEND_INLINE=0)");
	disp = display_config(&be, &dcfg, input);
	if (disp < 0)
		return 1;
	if (disp) {
		vkms = vkms_create(&be, &dcfg);
		if (!vkms) {
			be_log(&be, "display connection to hostd: %s",
			       strerror(errno));
			return 1;
		}
		be.hooks[PD_WIRE_CLASS_DRM] = &vkms_card_hooks;
		be.hooks_data[PD_WIRE_CLASS_DRM] = vkms;
		/* confined (confine.c): hostd opens the guest's files */
		if (be.confine_uid) {
			be.open_file = vkms_open_file;
			be.open_data = vkms;
		}
	} else if (xen && !direct) {
		/* the physical display is dom0's: nodisplay.c */
		be.hooks[PD_WIRE_CLASS_DRM] = &be_nodisplay_hooks;
		be.hooks_data[PD_WIRE_CLASS_DRM] = &be;
	}
	/* a V4L2 queue's buffers are its owner's: v4l2own.c */
	be.hooks[PD_WIRE_CLASS_V4L2] = &be_v4l2own_hooks;
	be.hooks_data[PD_WIRE_CLASS_V4L2] = &be;
	if (!xen && pthread_create(&t, NULL, announce_nodes, &an) == 0)
		pthread_detach(t);
	rd.done = eventfd(0, EFD_CLOEXEC);
	if (rd.done < 0 || pthread_create(&t, NULL, reader, &rd))
		return 1;
	pthread_detach(t);
	/* until the transport ends, or the vkms found no hostd to show the
	 * guest (then the guest must not go on: the monitor ends it too) */
	pfd[0] = (struct pollfd){ .fd = rd.done, .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = vkms ? vkms_gone_fd(vkms) : -1,
				  .events = POLLIN };
	while (poll(pfd, 2, -1) < 0)
		if (errno != EINTR)
			return 1;
	if (pfd[1].revents) {
		be_log(&be, "exit status %d: no hostd", PD_DISPLAY_EXIT_NO_HOSTD);
		return PD_DISPLAY_EXIT_NO_HOSTD;
	}
	/* the guest's grants end before our mappings of its pages do */
	be_maps_finish(&be);
	if (an.state)
		unlink(an.state);
	return 0;
}
