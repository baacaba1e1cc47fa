// SPDX-License-Identifier: GPL-2.0-only
/*
 * The guests' lifecycle (lifecycle.h): their Xen state, and start, shut
 * down, pause, resume and force off.
 *
 * The state: libxl_list_domain() (one hypercall, no XenStore transaction,
 * nothing that waits on a guest) after every change of the domain list,
 * after each operation, and every REFRESH_MS, since Xen tells nobody of a
 * pause or a crash made by someone else (`xl pause`).
 *
 * The operations: each runs in a child process of its own, never in
 * hostd's loop, which routes the keyboard and must not wait for Xen
 * (libxl_domain_destroy waits for the device backends to go; a create
 * loads a kernel). Pause, resume, shut down and force off are libxl calls
 * (libxl_domain_pause/unpause/shutdown/destroy) made in the child with a
 * libxl context of its own; its libxl log (errors only) is the child's
 * stderr. Start runs `xl create -q FILE` with the guest's xl-config
 * (paradice.conf): turning an xl config file into a libxl domain config
 * is xl's own parser (xl_parse.c, not a library), so the honest way to
 * create a guest "as `xl create` would" is to run xl, by argv, without a
 * shell. Either way the child's stdout and stderr come back through a
 * pipe and are the error's text; the end comes through a pidfd; the
 * poller watches both, and a timer kills a child that takes longer than
 * its operation's bound. One operation per guest at a time.
 *
 * hostd's other children (backends.c) are reaped by pid, so the exit
 * status here is this file's to collect (waitid on the pidfd).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifdef HAVE_LIBXL
#include <libxl.h>
#include <xentoollog.h>
#endif

#include "lifecycle.h"
#include "log.h"
#include "poller.h"
#include "switcher.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

#define REFRESH_MS 2000
#define OUTPUT_MAX 1024
#define NOT_AVAILABLE "Xen toolstack not available"

struct job {
	struct hostd_lifecycle *lc;
	unsigned int index;
	enum hostd_vm_op op;
	hostd_op_done_fn done;
	void *data;
	pid_t pid;
	int pidfd, out, timer;
	struct hostd_watch *pid_watch, *out_watch, *timer_watch;
	char text[OUTPUT_MAX];
	size_t ntext;
	unsigned int bound_s;
	bool timed_out;
};

struct hostd_lifecycle {
	struct hostd_switcher *sw;
	struct hostd_poller *poller;
	hostd_state_fn changed;
	void *data;
	const char *unavailable;	/* NULL: the toolstack is there */
#ifdef HAVE_LIBXL
	libxl_ctx *ctx;
	xentoollog_logger_stdiostream *logger;
#endif
	int tick;
	struct hostd_watch *tick_watch;
	struct job *jobs[HOSTD_MAX_GUESTS];
	char why[128 + HOSTD_NAME_MAX];
};

static const char *const op_names[HOSTD_OP_COUNT] = {
	"Start", "Shutdown", "Pause", "Resume", "ForceOff",
};

/* How long each may take before its child is killed (seconds). A create
 * under emulation takes a few; a destroy waits for the backends. */
static const unsigned int op_bound_s[HOSTD_OP_COUNT] = { 120, 30, 30, 30, 60 };

const char *hostd_vm_op_name(enum hostd_vm_op op)
{
	return op < HOSTD_OP_COUNT ? op_names[op] : "?";
}

/* -- state ----------------------------------------------------------------- */

static void set_state(struct hostd_lifecycle *lc, unsigned int i,
		      enum hostd_vm_state s)
{
	struct hostd_vm *vm = &lc->sw->vms[i];

	if (vm->state == s)
		return;
	hostd_log("%s: %s (was %s)", vm->cfg->name, hostd_vm_state_name(s),
		  hostd_vm_state_name(vm->state));
	vm->state = s;
	if (lc->changed)
		lc->changed(lc->data, i);
}

void hostd_lifecycle_refresh(struct hostd_lifecycle *lc)
{
#ifdef HAVE_LIBXL
	libxl_dominfo *list;
	int n = 0;

	if (!lc || !lc->ctx)
		return;
	list = libxl_list_domain(lc->ctx, &n);
	if (!list)
		return;
	for (unsigned int i = 0; i < lc->sw->nvms; i++) {
		struct hostd_vm *vm = &lc->sw->vms[i];

		if (vm->domid < 0)
			continue;
		for (int j = 0; j < n; j++) {
			const libxl_dominfo *d = &list[j];
			enum hostd_vm_state s = HOSTD_VM_RUNNING;

			if ((int)d->domid != vm->domid)
				continue;
			if (d->shutdown || d->dying)
				s = d->shutdown_reason == LIBXL_SHUTDOWN_REASON_CRASH ?
					    HOSTD_VM_CRASHED : HOSTD_VM_SHUTDOWN;
			else if (d->paused)
				s = HOSTD_VM_PAUSED;
			set_state(lc, i, s);
			break;
		}
	}
	libxl_dominfo_list_free(list, n);
#else
	(void)lc;
#endif
}

static void on_tick(int fd, short revents, void *data)
{
	uint64_t n;

	(void)revents;
	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		hostd_log("lifecycle: timer: %s", strerror(errno));
	hostd_lifecycle_refresh(data);
}

/* -- checks ---------------------------------------------------------------- */

int hostd_lifecycle_check_state(struct hostd_lifecycle *lc, unsigned int index,
				enum hostd_vm_op op, const char **why)
{
	const struct hostd_vm *vm = &lc->sw->vms[index];
	const char *name = vm->cfg->name, *state = hostd_vm_state_name(vm->state);
	bool fits;
	const char *hint = "";

	switch (op) {
	case HOSTD_OP_START:
		fits = vm->state == HOSTD_VM_ABSENT;
		if (vm->state == HOSTD_VM_SHUTDOWN || vm->state == HOSTD_VM_CRASHED)
			hint = "; force it off first";
		break;
	case HOSTD_OP_SHUTDOWN:
		fits = vm->state == HOSTD_VM_RUNNING;
		if (vm->state == HOSTD_VM_PAUSED)
			hint = "; resume it first, or force it off";
		break;
	case HOSTD_OP_PAUSE:
		fits = vm->state == HOSTD_VM_RUNNING;
		break;
	case HOSTD_OP_RESUME:
		fits = vm->state == HOSTD_VM_PAUSED;
		break;
	case HOSTD_OP_FORCE_OFF:
		fits = vm->state != HOSTD_VM_ABSENT;
		break;
	default:
		fits = false;
	}
	if (!fits) {
		snprintf(lc->why, sizeof(lc->why), "%s cannot %s: it is %s%s",
			 name, op == HOSTD_OP_FORCE_OFF ? "be forced off" :
			 op == HOSTD_OP_START ? "start" :
			 op == HOSTD_OP_SHUTDOWN ? "shut down" :
			 op == HOSTD_OP_PAUSE ? "pause" : "resume",
			 vm->state == HOSTD_VM_ABSENT ? "off" : state, hint);
		*why = lc->why;
		return -EINVAL;
	}
	if (op == HOSTD_OP_START && !vm->cfg->xl_config[0]) {
		snprintf(lc->why, sizeof(lc->why),
			 "%s has no xl-config in hostd's configuration: hostd "
			 "does not know how to start it", name);
		*why = lc->why;
		return -ENOENT;
	}
	return 0;
}

int hostd_lifecycle_check(struct hostd_lifecycle *lc, unsigned int index,
			  enum hostd_vm_op op, const char **why)
{
	int r;

	if (index >= lc->sw->nvms || op >= HOSTD_OP_COUNT) {
		*why = "no such VM or operation";
		return -EINVAL;
	}
	r = hostd_lifecycle_check_state(lc, index, op, why);
	if (r)
		return r;
	if (lc->unavailable) {
		*why = lc->unavailable;
		return -ENOTSUP;
	}
	if (lc->jobs[index]) {
		snprintf(lc->why, sizeof(lc->why), "%s: %s is under way",
			 lc->sw->vms[index].cfg->name,
			 hostd_vm_op_name(lc->jobs[index]->op));
		*why = lc->why;
		return -EBUSY;
	}
	return 0;
}

/* -- the child ------------------------------------------------------------- */

#ifdef HAVE_LIBXL
/* In the child: one libxl call with a context of its own; its errors are
 * logged to stderr, which is the parent's pipe. */
static int child_libxl(enum hostd_vm_op op, uint32_t domid)
{
	xentoollog_logger_stdiostream *log =
		xtl_createlogger_stdiostream(stderr, XTL_ERROR, 0);
	libxl_ctx *ctx;
	int r;

	if (!log ||
	    libxl_ctx_alloc(&ctx, LIBXL_VERSION, 0, (xentoollog_logger *)log)) {
		fprintf(stderr, "cannot open the Xen toolstack (libxl)\n");
		return 1;
	}
	switch (op) {
	case HOSTD_OP_SHUTDOWN:
		r = libxl_domain_shutdown(ctx, domid, NULL);
		break;
	case HOSTD_OP_PAUSE:
		r = libxl_domain_pause(ctx, domid, NULL);
		break;
	case HOSTD_OP_RESUME:
		r = libxl_domain_unpause(ctx, domid, NULL);
		break;
	case HOSTD_OP_FORCE_OFF:
		r = libxl_domain_destroy(ctx, domid, NULL);
		break;
	default:
		r = -1;
	}
	if (r)
		fprintf(stderr, "libxl: %s of domain %u failed (%d)\n",
			hostd_vm_op_name(op), domid, r);
	libxl_ctx_free(ctx);
	xtl_logger_destroy((xentoollog_logger *)log);
	return r ? 1 : 0;
}
#endif

/* In the child, after fork: a clean process with the pipe as stdout and
 * stderr and nothing else of hostd's (the card, uinput, the bus). */
static void child(struct hostd_lifecycle *lc, const struct hostd_vm *vm,
		  enum hostd_vm_op op, int out)
{
	sigset_t none;
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

#ifdef HAVE_LIBXL
	/* libxl's rule for a child that uses libxl without exec: the
	 * parent's context is given up first (and never used here) */
	if (lc->ctx)
		libxl_postfork_child_noexec(lc->ctx);
#else
	(void)lc;
#endif

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	/* hostd ignores SIGPIPE; so does the child: a hostd that exits must
	 * not kill an operation halfway */
	if (null < 0 || dup2(null, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
		_exit(126);
	syscall(SYS_close_range, 3u, ~0u, 0u);
	if (op == HOSTD_OP_START) {
		const char *argv[] = { "xl", "create", "-q", vm->cfg->xl_config,
				       NULL };

		execvp(argv[0], (char *const *)argv);
		fprintf(stderr, "cannot run xl: %s\n", strerror(errno));
		_exit(127);
	}
#ifdef HAVE_LIBXL
	_exit(child_libxl(op, (uint32_t)vm->domid));
#else
	_exit(125);
#endif
}

/* -- the parent's side of a job ---------------------------------------- */

static void job_free(struct job *j)
{
	hostd_watch_remove(j->pid_watch);
	hostd_watch_remove(j->out_watch);
	hostd_watch_remove(j->timer_watch);
	if (j->pidfd >= 0)
		close(j->pidfd);
	if (j->out >= 0)
		close(j->out);
	if (j->timer >= 0)
		close(j->timer);
	if (j->lc->jobs[j->index] == j)
		j->lc->jobs[j->index] = NULL;
	free(j);
}

static void read_output(struct job *j)
{
	char buf[512];
	ssize_t n;

	while ((n = read(j->out, buf, sizeof(buf))) > 0) {
		size_t room = sizeof(j->text) - 1 - j->ntext;
		size_t take = (size_t)n < room ? (size_t)n : room;

		memcpy(j->text + j->ntext, buf, take);
		j->ntext += take;
	}
	j->text[j->ntext] = '\0';
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		/* the write end is gone (or an `xl create` daemon keeps it:
		 * then the end comes through the pidfd) */
		hostd_watch_remove(j->out_watch);
		j->out_watch = NULL;
	}
}

static void on_output(int fd, short revents, void *data)
{
	(void)fd;
	(void)revents;
	read_output(data);
}

/* The text for the caller: the child's output on one line, trimmed. */
static const char *tidy(struct job *j)
{
	char *s = j->text;
	size_t n;

	for (char *p = s; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	while (*s == ' ')
		s++;
	n = strlen(s);
	while (n && s[n - 1] == ' ')
		s[--n] = '\0';
	return s;
}

static void on_exit_of_child(int fd, short revents, void *data)
{
	struct job *j = data;
	struct hostd_lifecycle *lc = j->lc;
	const char *name = lc->sw->vms[j->index].cfg->name;
	siginfo_t si = { 0 };
	char why[OUTPUT_MAX + 128];
	int err = 0;

	(void)fd;
	(void)revents;
	if (waitid((idtype_t)P_PIDFD, (id_t)j->pidfd, &si, WEXITED | WNOHANG) < 0 ||
	    si.si_pid == 0)
		return;	/* not yet */
	read_output(j);
	if (j->timed_out) {
		snprintf(why, sizeof(why), "%s of %s did not end in %u s; stopped%s%s",
			 hostd_vm_op_name(j->op), name, j->bound_s,
			 j->ntext ? ": " : "", tidy(j));
		err = -ETIMEDOUT;
	} else if (si.si_code != CLD_EXITED || si.si_status != 0) {
		const char *out = tidy(j);

		if (!*out)
			snprintf(why, sizeof(why), "%s of %s failed (%s %d)",
				 hostd_vm_op_name(j->op), name,
				 si.si_code == CLD_EXITED ? "status" : "signal",
				 si.si_status);
		else
			snprintf(why, sizeof(why), "%s of %s failed: %s",
				 hostd_vm_op_name(j->op), name, out);
		err = -EIO;
	} else {
		snprintf(why, sizeof(why), "%s of %s done", hostd_vm_op_name(j->op),
			 name);
	}
	hostd_log("lifecycle: %s", why);
	if (lc->jobs[j->index] == j)
		lc->jobs[j->index] = NULL;
	j->done(j->data, err, why);
	job_free(j);
	hostd_lifecycle_refresh(lc);
}

static void on_job_timer(int fd, short revents, void *data)
{
	struct job *j = data;
	uint64_t n;

	(void)revents;
	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return;
	if (j->timed_out)
		return;
	j->timed_out = true;
	hostd_log("lifecycle: %s of %s: no end after %u s; killing process %d",
		  hostd_vm_op_name(j->op), j->lc->sw->vms[j->index].cfg->name,
		  j->bound_s, j->pid);
	syscall(SYS_pidfd_send_signal, j->pidfd, SIGKILL, NULL, 0u);
}

int hostd_lifecycle_run(struct hostd_lifecycle *lc, unsigned int index,
			enum hostd_vm_op op, hostd_op_done_fn done, void *data)
{
	struct itimerspec its = { 0 };
	const char *why;
	struct job *j;
	int pipefd[2] = { -1, -1 }, r;

	r = hostd_lifecycle_check(lc, index, op, &why);
	if (r)
		return r;
	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->lc = lc;
	j->index = index;
	j->op = op;
	j->done = done;
	j->data = data;
	j->pidfd = j->out = j->timer = -1;
	j->bound_s = op_bound_s[op];
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		goto fail;
	j->pid = fork();
	if (j->pid < 0)
		goto fail;
	if (j->pid == 0)
		child(lc, &lc->sw->vms[index], op, pipefd[1]);
	close(pipefd[1]);
	pipefd[1] = -1;
	j->out = pipefd[0];
	fcntl(j->out, F_SETFL, O_NONBLOCK);
	/* the child is not reaped by anyone else: its pid is still its */
	j->pidfd = (int)syscall(SYS_pidfd_open, j->pid, 0);
	j->timer = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	its.it_value.tv_sec = (time_t)j->bound_s;
	if (j->pidfd < 0 || j->timer < 0 ||
	    timerfd_settime(j->timer, 0, &its, NULL) < 0 ||
	    !(j->pid_watch = hostd_poller_add(lc->poller, j->pidfd, POLLIN,
					      on_exit_of_child, j)) ||
	    !(j->out_watch = hostd_poller_add(lc->poller, j->out, POLLIN,
					      on_output, j)) ||
	    !(j->timer_watch = hostd_poller_add(lc->poller, j->timer, POLLIN,
						on_job_timer, j))) {
		r = -errno;
		hostd_log("lifecycle: cannot follow process %d: %s", j->pid,
			  strerror(errno));
		kill(j->pid, SIGKILL);
		waitpid(j->pid, NULL, 0);
		job_free(j);
		return r ? r : -ENOMEM;
	}
	lc->jobs[index] = j;
	hostd_log("lifecycle: %s of %s: process %d", hostd_vm_op_name(op),
		  lc->sw->vms[index].cfg->name, j->pid);
	return 0;
fail:
	r = -errno;
	hostd_log("lifecycle: cannot start %s: %s", hostd_vm_op_name(op),
		  strerror(errno));
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	free(j);
	return r;
}

/* -- life ------------------------------------------------------------------ */

struct hostd_lifecycle *hostd_lifecycle_create(struct hostd_switcher *sw,
					       struct hostd_poller *p, bool xen,
					       hostd_state_fn changed,
					       void *data)
{
	struct hostd_lifecycle *lc = calloc(1, sizeof(*lc));
	struct itimerspec its = { 0 };

	if (!lc)
		return NULL;
	lc->sw = sw;
	lc->poller = p;
	lc->changed = changed;
	lc->data = data;
	lc->tick = -1;
	lc->unavailable = NOT_AVAILABLE;
	if (!xen)
		return lc;
#ifdef HAVE_LIBXL
	lc->logger = xtl_createlogger_stdiostream(stderr, XTL_ERROR, 0);
	if (!lc->logger ||
	    libxl_ctx_alloc(&lc->ctx, LIBXL_VERSION, 0,
			    (xentoollog_logger *)lc->logger)) {
		hostd_log("lifecycle: cannot open libxl: %s; no VM lifecycle",
			  NOT_AVAILABLE);
		lc->ctx = NULL;
		return lc;
	}
	lc->tick = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	its.it_value.tv_nsec = its.it_interval.tv_nsec = 0;
	its.it_value.tv_sec = its.it_interval.tv_sec = REFRESH_MS / 1000;
	if (lc->tick < 0 || timerfd_settime(lc->tick, 0, &its, NULL) < 0 ||
	    !(lc->tick_watch = hostd_poller_add(p, lc->tick, POLLIN, on_tick, lc))) {
		hostd_log("lifecycle: cannot make a timer: %s", strerror(errno));
		hostd_lifecycle_destroy(lc);
		return NULL;
	}
	lc->unavailable = NULL;
#else
	(void)its;
	hostd_log("lifecycle: hostd was built without libxl: %s", NOT_AVAILABLE);
#endif
	return lc;
}

void hostd_lifecycle_destroy(struct hostd_lifecycle *lc)
{
	if (!lc)
		return;
	for (unsigned int i = 0; i < HOSTD_MAX_GUESTS; i++) {
		struct job *j = lc->jobs[i];

		if (!j)
			continue;
		lc->jobs[i] = NULL;
		hostd_log("lifecycle: %s of %s left running (process %d): hostd "
			  "is exiting", hostd_vm_op_name(j->op),
			  lc->sw->vms[i].cfg->name, j->pid);
		j->done(j->data, -ECANCELED, "hostd is exiting");
		job_free(j);
	}
	hostd_watch_remove(lc->tick_watch);
	if (lc->tick >= 0)
		close(lc->tick);
#ifdef HAVE_LIBXL
	if (lc->ctx)
		libxl_ctx_free(lc->ctx);
	if (lc->logger)
		xtl_logger_destroy((xentoollog_logger *)lc->logger);
#endif
	free(lc);
}
