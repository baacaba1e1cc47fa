// SPDX-License-Identifier: GPL-2.0-only
/*
 * One backend process per running guest (hostd/backend/, pd-backend --xen).
 *
 * hostd starts a guest's backend when Xen starts the guest's domain, stops
 * it when the domain goes, and starts it again if it dies while the domain
 * runs (at most once a second: a backend that cannot start must not make
 * hostd spin). A backend holds only the device files of its own guest: the
 * ones the configuration gives it, plus that guest's virtual keyboard and
 * pointer, which hostd made and passes on the command line.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <paradice/pd_display.h>

#include "hostd.h"

#define RESTART_DELAY_US 1000000u

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

static void start(struct hostd *h, struct hostd_vm *vm)
{
	char prog[PATH_MAX + 32], domid[16];
	const char *argv[8];
	unsigned int n = 0;
	int dfd;
	pid_t pid;

	backend_path(prog, sizeof(prog));
	snprintf(domid, sizeof(domid), "%d", vm->domid);
	argv[n++] = prog;
	argv[n++] = "--xen";
	argv[n++] = domid;
	argv[n++] = "--config";
	argv[n++] = h->cfg.path;
	for (int ptr = 0; ptr < 2 && h->input; ptr++) {
		const char *node = hostd_input_guest_node(h->input, vm->index, ptr);

		if (node)
			argv[n++] = node;
	}
	argv[n] = NULL;
	/* its end of the display protocol (pd_display.h): the backend is
	 * this guest's by construction */
	dfd = hostd_display_backend_fd(h->display, vm->index);
	pid = fork();
	if (pid < 0) {
		hostd_log("%s: cannot start a backend: %s", vm->cfg->name,
			  strerror(errno));
		if (dfd >= 0)
			close(dfd);
		return;
	}
	if (pid == 0) {
		sigset_t all;

		if (dfd >= 0) {
			char v[16];

			snprintf(v, sizeof(v), "%d", dfd);
			fcntl(dfd, F_SETFD, 0);
			setenv(PD_DISPLAY_FD_ENV, v, 1);
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
	vm->backend_pid = pid;
	vm->backend_started_us = hostd_now_us();
	hostd_log("%s: backend %d started (domain %d)", vm->cfg->name, pid,
		  vm->domid);
}

static void stop(struct hostd_vm *vm)
{
	if (vm->backend_pid <= 0)
		return;
	kill(-vm->backend_pid, SIGTERM);
	hostd_log("%s: backend %d stopped", vm->cfg->name, vm->backend_pid);
	/* reaped in hostd_backends_reap(); its pid no longer counts */
	vm->backend_pid = 0;
}

void hostd_backends_update(struct hostd *h)
{
	if (!h->spawn_backends)
		return;
	for (unsigned int i = 0; i < h->nvms; i++) {
		struct hostd_vm *vm = &h->vms[i];

		if (vm->state != HOSTD_VM_RUNNING) {
			stop(vm);
			continue;
		}
		if (vm->backend_pid <= 0 &&
		    hostd_now_us() - vm->backend_started_us >= RESTART_DELAY_US)
			start(h, vm);
	}
}

/* Collect exited backends; returns true while one waits to be restarted. */
bool hostd_backends_reap(struct hostd *h)
{
	bool pending = false;
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		for (unsigned int i = 0; i < h->nvms; i++)
			if (h->vms[i].backend_pid == pid) {
				hostd_log("%s: backend %d %s %d", h->vms[i].cfg->name,
					  pid, WIFEXITED(status) ? "exited" : "killed by signal",
					  WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
				h->vms[i].backend_pid = 0;
			}
	hostd_backends_update(h);
	for (unsigned int i = 0; h->spawn_backends && i < h->nvms; i++)
		if (h->vms[i].state == HOSTD_VM_RUNNING && h->vms[i].backend_pid <= 0)
			pending = true;
	return pending;
}

void hostd_backends_stop_all(struct hostd *h)
{
	for (unsigned int i = 0; i < h->nvms; i++)
		stop(&h->vms[i]);
}
