// SPDX-License-Identifier: GPL-2.0-only
/*
 * A backend's confinement (hostd/backend/confine.c), in a child process
 * (there is no way back): its monitor's capabilities cut to the five a
 * server's confinement takes; once be_confine() returned 0 it runs as the
 * given user and group, with no groups, no capabilities in any set,
 * no_new_privs and a syscall filter (/proc/self/status says so); it
 * cannot become root again, exec, fork, open a root-only file or create
 * any file (a read-only view), and has a task limit; it can
 * still make threads (the filter's clone rule) and use what it had open.
 * Needs root (the test says skipped otherwise).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/capability.h>

#include "backend.h"
#include "tap.h"

#define UID 0x50440123u

static int failures;

static void fail(const char *what)
{
	printf("#   child: %s (errno %d)\n", what, errno);
	fflush(stdout);
	failures++;
}

/* One /proc/self/status field, as text ("" if none). */
static void status_field(const char *key, char *out, size_t len)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");
	size_t n = strlen(key);

	out[0] = '\0';
	while (f && fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, n) && line[n] == ':') {
			char *v = line + n + 1;

			v += strspn(v, " \t");
			v[strcspn(v, "\n")] = '\0';
			snprintf(out, len, "%s", v);
		}
	}
	if (f)
		fclose(f);
}

static void *thread(void *arg)
{
	return arg;
}

static void child(int keep)
{
	static const char *const zero[] = { "CapInh", "CapPrm", "CapEff",
					    "CapBnd", "CapAmb" };
	struct be be = { .name = "confine-test", .confine_uid = UID };
	char v[128], want[64];
	struct rlimit rl;
	pthread_t t;
	void *ret = NULL;
	char c = 'x';

	/* as pd-backend --xen: its monitor first, then the server */
	if (be_confine_monitor(&be))
		fail("be_confine_monitor");
	status_field("CapEff", v, sizeof(v));
	if (strtoull(v, NULL, 16) != ((1ull << CAP_SETUID) |
	    (1ull << CAP_SETGID) | (1ull << CAP_SETPCAP) |
	    (1ull << CAP_SYS_ADMIN) | (1ull << CAP_KILL)))
		fail("the monitor's capabilities");
	status_field("CapBnd", v, sizeof(v));
	if (strtoull(v, NULL, 16) != ((1ull << CAP_SETUID) |
	    (1ull << CAP_SETGID) | (1ull << CAP_SETPCAP) |
	    (1ull << CAP_SYS_ADMIN) | (1ull << CAP_KILL)))
		fail("the monitor's bounding set");
	if (be_confine(&be))
		fail("be_confine");
	if (getuid() != UID || geteuid() != UID || getgid() != UID ||
	    getegid() != UID)
		fail("the ids");
	if (getgroups(0, NULL) != 0)
		fail("groups left");
	for (unsigned int i = 0; i < 5; i++) {
		status_field(zero[i], v, sizeof(v));
		if (strtoull(v, NULL, 16) != 0 || !v[0])
			fail(zero[i]);
	}
	status_field("NoNewPrivs", v, sizeof(v));
	if (strcmp(v, "1"))
		fail("NoNewPrivs");
	status_field("Seccomp", v, sizeof(v));
	if (strcmp(v, "2"))
		fail("Seccomp");
	snprintf(want, sizeof(want), "%u\t%u\t%u\t%u", UID, UID, UID, UID);
	status_field("Uid", v, sizeof(v));
	if (strcmp(v, want))
		fail("Uid in status");
	if (setresuid(0, 0, 0) == 0 || setuid(0) == 0)
		fail("root again");
	if (open("/etc/shadow", O_RDONLY) >= 0 || errno != EACCES)
		fail("a root-only file opened");
	/* /tmp would let anyone create a file: the view is read-only */
	if (open("/tmp/pd-confine-test", O_WRONLY | O_CREAT, 0600) >= 0 ||
	    errno != EROFS)
		fail("a file created");
	if (getrlimit(RLIMIT_NPROC, &rl) || rl.rlim_max == RLIM_INFINITY)
		fail("no task limit");
	execl("/bin/true", "true", (char *)NULL);
	if (errno != EPERM)
		fail("exec not refused with EPERM");
	if (fork() == 0)
		_exit(0);
	if (errno != EPERM)
		fail("fork not refused with EPERM");
	if (pthread_create(&t, NULL, thread, &c) || pthread_join(t, &ret) ||
	    ret != &c)
		fail("a thread");
	if (write(keep, &c, 1) != 1)
		fail("a descriptor opened before");
	/* _exit: no atexit handler (LeakSanitizer's would ptrace) */
	_exit(failures ? 1 : 0);
}

static void test_confined_child(void)
{
	int p[2], status = -1;
	pid_t pid;

	if (geteuid() != 0) {
		printf("# skipped: confinement needs root\n");
		return;
	}
	CHECK_EQ(pipe(p), 0);
	fflush(stdout);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		child(p[1]);
	}
	close(p[1]);
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	{
		char c = 0;

		CHECK_EQ(read(p[0], &c, 1), 1);
		CHECK_EQ(c, 'x');
	}
	close(p[0]);
}

int main(void)
{
	RUN(test_confined_child);
	return tap_done();
}
