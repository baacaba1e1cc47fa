// SPDX-License-Identifier: GPL-2.0-only
/*
 * pdctl: forward native device files by hand, through the loop transport.
 *
 *   pdctl export PATH...        forward PATH... (one pd-backend, one
 *                               connection); print the forwarded node of
 *                               each PATH, one per line, in order
 *   pdctl list                  "PID NATIVE FORWARDED" for every forwarding
 *   pdctl unexport WHAT...      stop the backend that forwards WHAT (a
 *                               native path, a forwarded node or a pid);
 *                               its forwarded nodes disappear
 *
 * So a person or a test can put a forwarded file beside the native one
 * and run any program on both:
 *
 *   node=$(pdctl export /dev/video0)   # e.g. /dev/video4
 *   v4l2-ctl -d /dev/video0 --all > native
 *   v4l2-ctl -d "$node" --all > forwarded
 *   pdctl unexport "$node"
 *
 * Each export runs `pd-backend --ready-fd N --state DIR/PID.state PATH...`
 * (pd-backend beside pdctl, else from PATH) in the background with its log
 * in DIR/PID.log; DIR is /run/paradice or $PD_STATE_DIR. The state file
 * holds "pid PID" and one "NATIVE FORWARDED" line per export.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *state_dir(void)
{
	const char *d = getenv("PD_STATE_DIR");

	return d && *d ? d : "/run/paradice";
}

static void usage(FILE *f)
{
	fprintf(f, "usage: pdctl export PATH...\n"
		   "       pdctl list\n"
		   "       pdctl unexport PATH|NODE|PID...\n");
}

/* pd-backend beside our own executable, else whatever PATH finds. */
static void exec_backend(char **args)
{
	char self[PATH_MAX], path[PATH_MAX + 16];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n > 0) {
		self[n] = 0;
		snprintf(path, sizeof(path), "%s/pd-backend", dirname(self));
		if (!access(path, X_OK))
			execv(path, args);
	}
	execvp("pd-backend", args);
}

static int cmd_export(int argc, char **argv)
{
	char fdarg[16], state[PATH_MAX], logp[PATH_MAX], buf[8192];
	int pfd[2], ok = 1, lines = 0;
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	if (argc < 1) {
		usage(stderr);
		return 2;
	}
	if (mkdir(state_dir(), 0755) && errno != EEXIST) {
		fprintf(stderr, "pdctl: %s: %s\n", state_dir(), strerror(errno));
		return 1;
	}
	if (pipe(pfd)) {
		perror("pdctl: pipe");
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		perror("pdctl: fork");
		return 1;
	}
	if (pid == 0) {
		char **args = calloc((size_t)argc + 7, sizeof(*args));
		int i = 0, fd;

		close(pfd[0]);
		setsid();
		snprintf(fdarg, sizeof(fdarg), "%d", pfd[1]);
		snprintf(state, sizeof(state), "%s/%d.state", state_dir(),
			 (int)getpid());
		snprintf(logp, sizeof(logp), "%s/%d.log", state_dir(),
			 (int)getpid());
		fd = open(logp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		fd = open("/dev/null", O_RDONLY);
		if (fd >= 0)
			dup2(fd, 0);
		if (!args)
			_exit(127);
		args[i++] = "pd-backend";
		args[i++] = "--ready-fd";
		args[i++] = fdarg;
		args[i++] = "--state";
		args[i++] = state;
		for (int j = 0; j < argc; j++)
			args[i++] = argv[j];
		exec_backend(args);
		fprintf(stderr, "pdctl: cannot run pd-backend: %s\n",
			strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	while ((n = read(pfd[0], buf + len, sizeof(buf) - 1 - len)) > 0 ||
	       (n < 0 && errno == EINTR))
		if (n > 0)
			len += (size_t)n;
	close(pfd[0]);
	buf[len] = 0;
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		char native[PATH_MAX], node[PATH_MAX];

		if (sscanf(line, "%4095s %4095s", native, node) != 2 ||
		    !strcmp(native, "pid"))
			continue;
		lines++;
		if (!strcmp(node, "-")) {
			fprintf(stderr, "pdctl: %s: no forwarded node\n", native);
			ok = 0;
		}
		printf("%s\n", node);
	}
	if (lines != argc) {
		int status;

		fprintf(stderr, "pdctl: the backend (pid %d) did not start; "
			"see %s/%d.log\n", (int)pid, state_dir(), (int)pid);
		if (waitpid(pid, &status, WNOHANG) == 0)
			kill(pid, SIGTERM);
		return 1;
	}
	return ok ? 0 : 1;
}

/* Does pid still run? A zombie has finished: its files are closed. */
static int alive(pid_t pid)
{
	char path[64], buf[256], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return kill(pid, 0) == 0 || errno != ESRCH;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	p = strrchr(buf, ')');
	return !(p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X'));
}

/* Call fn for every state file of a running backend. */
static int for_each_state(int (*fn)(pid_t, FILE *, void *), void *arg)
{
	DIR *d = opendir(state_dir());
	struct dirent *de;
	int ret = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)) && !ret) {
		char path[PATH_MAX];
		FILE *f;
		int pid;

		if (sscanf(de->d_name, "%d.state", &pid) != 1 ||
		    !strstr(de->d_name, ".state"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", state_dir(), de->d_name);
		if (!alive(pid)) {
			unlink(path);	/* its backend is gone */
			continue;
		}
		f = fopen(path, "r");
		if (!f)
			continue;
		ret = fn(pid, f, arg);
		fclose(f);
	}
	closedir(d);
	return ret;
}

static int list_one(pid_t pid, FILE *f, void *arg)
{
	char native[PATH_MAX], node[PATH_MAX];

	(void)arg;
	while (fscanf(f, "%4095s %4095s", native, node) == 2)
		if (strcmp(native, "pid"))
			printf("%d %s %s\n", (int)pid, native, node);
	return 0;
}

struct find {
	const char *what;
	pid_t pid;
};

static int find_one(pid_t pid, FILE *f, void *arg)
{
	struct find *fd = arg;
	char a[PATH_MAX], b[PATH_MAX];

	if (atoi(fd->what) == (int)pid) {
		fd->pid = pid;
		return 1;
	}
	while (fscanf(f, "%4095s %4095s", a, b) == 2)
		if (strcmp(a, "pid") &&
		    (!strcmp(a, fd->what) || !strcmp(b, fd->what))) {
			fd->pid = pid;
			return 1;
		}
	return 0;
}

static int cmd_unexport(int argc, char **argv)
{
	int ret = 0;

	if (argc < 1) {
		usage(stderr);
		return 2;
	}
	for (int i = 0; i < argc; i++) {
		struct find fd = { .what = argv[i] };
		struct timespec t0, t;
		char path[PATH_MAX];

		for_each_state(find_one, &fd);
		if (!fd.pid) {
			fprintf(stderr, "pdctl: %s is not forwarded\n", argv[i]);
			ret = 1;
			continue;
		}
		kill(fd.pid, SIGTERM);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		do {
			usleep(20000);
			clock_gettime(CLOCK_MONOTONIC, &t);
		} while (alive(fd.pid) && t.tv_sec - t0.tv_sec < 10);
		if (alive(fd.pid)) {
			fprintf(stderr, "pdctl: backend %d does not exit\n",
				(int)fd.pid);
			ret = 1;
			continue;
		}
		snprintf(path, sizeof(path), "%s/%d.state", state_dir(),
			 (int)fd.pid);
		unlink(path);
		snprintf(path, sizeof(path), "%s/%d.log", state_dir(),
			 (int)fd.pid);
		unlink(path);
	}
	return ret;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "export"))
		return cmd_export(argc - 2, argv + 2);
	if (!strcmp(argv[1], "list"))
		return for_each_state(list_one, NULL), 0;
	if (!strcmp(argv[1], "unexport"))
		return cmd_unexport(argc - 2, argv + 2);
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return 0;
	}
	usage(stderr);
	return 2;
}
