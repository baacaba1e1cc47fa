// SPDX-License-Identifier: GPL-2.0-only
/*
 * One backend process per running guest (hostd/backend/, pd-backend --xen).
 *
 * hostd starts a guest's backend when Xen starts the guest's domain, stops
 * it when the domain goes, and starts it again if it dies while the domain
 * runs (at most once a second: a backend that cannot start must not make
 * hostd spin). A backend holds only the device files of its own guest: the
 * ones the configuration gives it, plus that guest's virtual keyboard and
 * pointer, which hostd made and passes on the command line (and whose
 * uinput descriptors it passes too, PD_INPUT_FDS, for the backend to keep).
 *
 * Backends outlive hostd: hostd leaves them running when it exits, and a
 * new hostd keeps the ones whose guest still runs (their monitor's pid is
 * in /run/paradice/backend-NAME.monitor, written by
 * backend/xen/supervise.c); they reattach through reattach.c. Not being their parent, hostd follows them
 * with a pidfd. A backend left for a domain that went while no hostd ran
 * is stopped.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <paradice/pd_control.h>
#include <paradice/pd_display.h>

#include "backends.h"
#include "display.h"
#include "guestctl.h"
#include "input.h"
#include "log.h"
#include "poller.h"
#include "switcher.h"

#define RESTART_DELAY_US 1000000u

struct hostd_backends {
	struct hostd_switcher *sw;
	struct hostd_poller *poller;
	struct hostd_input *input;	/* NULL: no input devices */
	struct hostd_display *display;
	struct hostd_guestctl *guestctl;	/* NULL: no control files */
	const char *config_path;
	bool spawn;
	/* the pidfds of kept backends (hostd_vm.adopted_pidfd) */
	struct hostd_watch *adopted_watch[HOSTD_MAX_GUESTS];
	/* backends of ours that stop() told to end, still to be reaped */
	pid_t stopped[2 * HOSTD_MAX_GUESTS];
	unsigned int nstopped;
};

struct hostd_backends *hostd_backends_create(struct hostd_switcher *sw,
					     struct hostd_poller *p,
					     const char *config_path,
					     bool spawn)
{
	struct hostd_backends *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->sw = sw;
	b->poller = p;
	b->config_path = config_path;
	b->spawn = spawn;
	return b;
}

void hostd_backends_destroy(struct hostd_backends *b)
{
	if (!b)
		return;
	for (unsigned int i = 0; i < HOSTD_MAX_GUESTS; i++)
		hostd_watch_remove(b->adopted_watch[i]);
	free(b);
}

void hostd_backends_set_peers(struct hostd_backends *b, struct hostd_input *in,
			      struct hostd_display *d)
{
	b->input = in;
	b->display = d;
}

void hostd_backends_set_guestctl(struct hostd_backends *b,
				 struct hostd_guestctl *gc)
{
	b->guestctl = gc;
}

/* pd-backend beside hostd (a build tree, /usr/sbin), else from PATH. */
static void backend_path(char *buf, size_t len)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n > 0) {
		char *slash;

		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			snprintf(buf, len, "%s/backend/pd-backend", self);
			if (access(buf, X_OK) == 0)
				return;
			snprintf(buf, len, "%s/pd-backend", self);
			if (access(buf, X_OK) == 0)
				return;
		}
	}
	snprintf(buf, len, "pd-backend");
}

static void start(struct hostd_backends *b, struct hostd_vm *vm)
{
	char prog[PATH_MAX + 32], domid[16];
	const char *argv[8];
	unsigned int n = 0;
	int dfd, cfd, ifd[2];
	pid_t pid;

	/* its devices went with a backend that ended while we were away */
	hostd_input_ensure(b->input, vm->index);
	hostd_input_guest_fds(b->input, vm->index, ifd);
	backend_path(prog, sizeof(prog));
	snprintf(domid, sizeof(domid), "%d", vm->domid);
	argv[n++] = prog;
	argv[n++] = "--xen";
	argv[n++] = domid;
	argv[n++] = "--config";
	argv[n++] = b->config_path;
	for (int ptr = 0; ptr < 2 && b->input; ptr++) {
		const char *node = hostd_input_guest_node(b->input, vm->index, ptr);

		if (node)
			argv[n++] = node;
	}
	argv[n] = NULL;
	/* its end of the display protocol (pd_display.h): the backend is
	 * this guest's by construction */
	dfd = hostd_display_backend_fd(b->display, vm->index);
	/* its guest's control files come over this (guestctl.c) */
	cfd = hostd_guestctl_backend_fd(b->guestctl, vm->index);
	pid = fork();
	if (pid < 0) {
		hostd_log("%s: cannot start a backend: %s", vm->cfg->name,
			  strerror(errno));
		if (dfd >= 0)
			close(dfd);
		if (cfd >= 0)
			close(cfd);
		return;
	}
	if (pid == 0) {
		sigset_t all;

		if (dfd >= 0) {
			char v[16];

			snprintf(v, sizeof(v), "%d", dfd);
			fcntl(dfd, F_SETFD, 0);
			setenv(PD_DISPLAY_FD_ENV, v, 1);
			snprintf(v, sizeof(v), "%d",
				 hostd_display_dirtyfb(b->display));
			setenv(PD_DISPLAY_DIRTYFB_ENV, v, 1);
		}
		if (cfd >= 0) {
			char v[16];

			snprintf(v, sizeof(v), "%d", cfd);
			fcntl(cfd, F_SETFD, 0);
			setenv(PD_CONTROL_FD_ENV, v, 1);
		}
		/* the backend keeps the guest's devices alive past us */
		if (ifd[0] >= 0 && ifd[1] >= 0) {
			char v[32];

			snprintf(v, sizeof(v), "%d,%d", ifd[0], ifd[1]);
			fcntl(ifd[0], F_SETFD, 0);
			fcntl(ifd[1], F_SETFD, 0);
			setenv(PD_DISPLAY_INPUT_ENV, v, 1);
		}
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		/* a group of its own: pd-backend --xen forks a server beside
		 * its monitor, and stop() must reach both */
		setpgid(0, 0);
		execvp(prog, (char *const *)argv);
		fprintf(stderr, "hostd: exec %s: %s\n", prog, strerror(errno));
		_exit(127);
	}
	if (dfd >= 0)
		close(dfd);
	if (cfd >= 0)
		close(cfd);
	vm->backend_pid = pid;
	vm->backend_started_us = hostd_now_us();
	hostd_log("%s: backend %d started (domain %d)", vm->cfg->name, pid,
		  vm->domid);
}

static void forget_adopted(struct hostd_backends *b, struct hostd_vm *vm)
{
	hostd_watch_remove(b->adopted_watch[vm->index]);
	b->adopted_watch[vm->index] = NULL;
	if (vm->adopted_pidfd >= 0)
		close(vm->adopted_pidfd);
	vm->adopted_pidfd = -1;
}

static void stop(struct hostd_backends *b, struct hostd_vm *vm)
{
	if (vm->backend_pid <= 0)
		return;
	/* its monitor leads the process group (start() or an earlier
	 * hostd's start()) */
	kill(-vm->backend_pid, SIGTERM);
	hostd_log("%s: backend %d stopped", vm->cfg->name, vm->backend_pid);
	/* ours (not kept from an earlier hostd): reaped in
	 * hostd_backends_reap(); its pid no longer counts */
	if (vm->adopted_pidfd < 0 && b->nstopped < sizeof(b->stopped) / sizeof(b->stopped[0]))
		b->stopped[b->nstopped++] = vm->backend_pid;
	vm->backend_pid = 0;
	forget_adopted(b, vm);
}

void hostd_backends_update(struct hostd_backends *b)
{
	struct hostd_switcher *sw = b->sw;

	if (!b->spawn)
		return;
	for (unsigned int i = 0; i < sw->nvms; i++) {
		struct hostd_vm *vm = &sw->vms[i];

		if (!hostd_vm_live(vm)) {
			stop(b, vm);
			continue;
		}
		if (vm->backend_pid <= 0 &&
		    hostd_now_us() - vm->backend_started_us >= RESTART_DELAY_US)
			start(b, vm);
	}
}

bool hostd_backends_reap(struct hostd_backends *b)
{
	struct hostd_switcher *sw = b->sw;
	bool pending = false;
	int status;
	pid_t pid;

	for (unsigned int i = 0; i < sw->nvms; i++) {
		struct hostd_vm *vm = &sw->vms[i];
		struct pollfd p = { .fd = vm->adopted_pidfd, .events = POLLIN };

		if (vm->adopted_pidfd < 0 || poll(&p, 1, 0) <= 0)
			continue;
		hostd_log("%s: backend %d (kept from the previous hostd) ended",
			  vm->cfg->name, vm->backend_pid);
		vm->backend_pid = 0;
		vm->backend_started_us = hostd_now_us();
		forget_adopted(b, vm);
	}
	/* each backend by its pid, not waitpid(-1): hostd's other children
	 * (lifecycle.c's toolstack workers) are reaped by their owner */
	for (unsigned int i = 0; i < sw->nvms; i++) {
		struct hostd_vm *vm = &sw->vms[i];

		if (vm->backend_pid <= 0 || vm->adopted_pidfd >= 0)
			continue;
		pid = waitpid(vm->backend_pid, &status, WNOHANG);
		if (pid <= 0)
			continue;
		hostd_log("%s: backend %d %s %d", vm->cfg->name,
			  pid, WIFEXITED(status) ? "exited" : "killed by signal",
			  WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		vm->backend_pid = 0;
	}
	for (unsigned int i = 0; i < b->nstopped;)
		if (waitpid(b->stopped[i], &status, WNOHANG) != 0)
			b->stopped[i] = b->stopped[--b->nstopped];
		else
			i++;
	hostd_backends_update(b);
	for (unsigned int i = 0; b->spawn && i < sw->nvms; i++)
		if (hostd_vm_live(&sw->vms[i]) && sw->vms[i].backend_pid <= 0)
			pending = true;
	return pending;
}

/* The live monitor of guest name's backend, from its pid file, if it is a
 * "pd-backend --xen DOMAIN" process; *domain gets DOMAIN. 0: none. */
static pid_t live_monitor(const char *name, char *domain, size_t len)
{
	char path[128], cmd[512];
	const char *arg1, *arg2;
	int pid = 0, fd;
	ssize_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/run/paradice/backend-%s.monitor", name);
	f = fopen(path, "re");
	if (!f)
		return 0;
	if (fscanf(f, "%d", &pid) != 1 || pid <= 1)
		pid = 0;
	fclose(f);
	if (!pid)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, cmd, sizeof(cmd) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	cmd[n] = '\0';
	arg1 = cmd + strlen(cmd) + 1;
	if (arg1 >= cmd + n || strcmp(arg1, "--xen"))
		return 0;
	arg2 = arg1 + strlen(arg1) + 1;
	if (arg2 >= cmd + n || !strstr(cmd, "pd-backend") ||
	    getpgid(pid) != pid)
		return 0;
	snprintf(domain, len, "%s", arg2);
	return pid;
}

/* A kept backend's pidfd is readable: it ended. hostd_backends_reap(),
 * which hostd.c runs after every dispatch, sees to it. */
static void on_adopted(int fd, short revents, void *data)
{
	(void)fd;
	(void)revents;
	(void)data;
}

void hostd_backends_adopt(struct hostd_backends *b)
{
	struct hostd_switcher *sw = b->sw;

	for (unsigned int i = 0; i < sw->nvms; i++)
		sw->vms[i].adopted_pidfd = -1;
	if (!b->spawn)
		return;
	for (unsigned int i = 0; i < sw->nvms; i++) {
		struct hostd_vm *vm = &sw->vms[i];
		char domain[HOSTD_NAME_MAX + 16], id[16];
		pid_t pid = live_monitor(vm->cfg->name, domain, sizeof(domain));
		int pfd;

		if (!pid)
			continue;
		snprintf(id, sizeof(id), "%d", vm->domid);
		if (!hostd_vm_live(vm) ||
		    (strcmp(domain, id) && strcmp(domain, vm->cfg->name))) {
			/* its domain went while no hostd ran */
			kill(-pid, SIGTERM);
			hostd_log("%s: stopped backend %d, left for domain %s, "
				  "which is gone", vm->cfg->name, pid, domain);
			continue;
		}
		pfd = (int)syscall(SYS_pidfd_open, pid, 0);
		if (pfd < 0) {
			hostd_log("%s: cannot follow backend %d (%s): stopping it",
				  vm->cfg->name, pid, strerror(errno));
			kill(-pid, SIGTERM);
			continue;
		}
		b->adopted_watch[i] = hostd_poller_add(b->poller, pfd, POLLIN,
						       on_adopted, b);
		if (!b->adopted_watch[i]) {
			hostd_log("%s: cannot follow backend %d (%s): stopping it",
				  vm->cfg->name, pid, strerror(errno));
			close(pfd);
			kill(-pid, SIGTERM);
			continue;
		}
		vm->backend_pid = pid;
		vm->adopted_pidfd = pfd;
		vm->backend_started_us = hostd_now_us();
		hostd_log("%s: backend %d kept from the previous hostd; it "
			  "reattaches to %s", vm->cfg->name, pid, PD_DISPLAY_SOCKET);
	}
}
