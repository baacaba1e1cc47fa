// SPDX-License-Identifier: GPL-2.0-only
/*
 * Every guest's sound mixed in dom0 (audio.h, docs/audio.md). The mixing
 * itself runs in pd-mixer, a process of its own: its loop waits on the
 * sound cards every 20 ms, which hostd's loop, routing the keyboard, must
 * never do. hostd sends it the whole state (struct pd_mix_msg) after each
 * change without blocking; one that does not fit waits for the socket to
 * have room and goes then, with the state of then. pd-mixer that exits is
 * started again 2 s later (10 s after five quick exits in a row).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "audio.h"
#include "log.h"
#include "mixer/mix.h"
#include "poller.h"
#include "switcher.h"

#define RESTART_S	2
#define RESTART_SLOW_S	10
#define QUICK_EXIT_US	5000000ull	/* an exit this soon is a quick one */

struct hostd_audio {
	struct hostd_switcher *sw;
	struct hostd_poller *poller;
	struct pd_mix_guest guests[HOSTD_MAX_GUESTS];
	bool spawn;
	pid_t pid;		/* pd-mixer; 0: none */
	int pidfd, sock, timer;	/* -1: none */
	struct hostd_watch *pid_watch, *sock_watch, *timer_watch;
	bool pending;		/* a state waits for room in the socket */
	uint64_t started_us;
	unsigned int quick_exits;
	unsigned int active;	/* the entry in front */
};

static void send_state(struct hostd_audio *a);

static void on_sock(int fd, short revents, void *data)
{
	struct hostd_audio *a = data;

	(void)fd;
	(void)revents;
	hostd_watch_remove(a->sock_watch);
	a->sock_watch = NULL;
	send_state(a);
}

/* The policy applied now, sent; never blocks. */
static void send_state(struct hostd_audio *a)
{
	struct pd_mix_msg m;

	if (a->sock < 0)
		return;
	pd_mix_policy(&m, &a->sw->cfg->audio, a->guests, a->sw->nvms,
		      a->active);
	if (send(a->sock, &m, sizeof(m), MSG_DONTWAIT | MSG_NOSIGNAL) ==
	    (ssize_t)sizeof(m)) {
		a->pending = false;
		return;
	}
	if (errno != EAGAIN) {
		/* it exited: its pidfd says so, and a new one gets the state */
		return;
	}
	a->pending = true;
	if (!a->sock_watch)
		a->sock_watch = hostd_poller_add(a->poller, a->sock, POLLOUT,
						 on_sock, a);
}

/* pd-mixer beside hostd (mixer/ in a build tree, /usr/sbin), else PATH. */
static void mixer_path(char *buf, size_t len)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n > 0) {
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			snprintf(buf, len, "%s/mixer/pd-mixer", self);
			if (access(buf, X_OK) == 0)
				return;
			snprintf(buf, len, "%s/pd-mixer", self);
			if (access(buf, X_OK) == 0)
				return;
		}
	}
	snprintf(buf, len, "pd-mixer");
}

static void on_exit_of_mixer(int fd, short revents, void *data);

static void start_mixer(struct hostd_audio *a)
{
	const struct hostd_config *cfg = a->sw->cfg;
	char prog[PATH_MAX + 32], ctl[16];
	char guest_args[HOSTD_MAX_GUESTS][HOSTD_NAME_MAX + HOSTD_AUDIO_CARD_MAX + 16];
	const char *argv[8 + 2 * HOSTD_MAX_GUESTS];
	unsigned int n = 0;
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		hostd_log("audio: socketpair: %s", strerror(errno));
		return;
	}
	mixer_path(prog, sizeof(prog));
	snprintf(ctl, sizeof(ctl), "%d", sv[1]);
	argv[n++] = prog;
	argv[n++] = "--control";
	argv[n++] = ctl;
	argv[n++] = "--output";
	argv[n++] = cfg->audio.output;
	if (cfg->audio.input[0]) {
		argv[n++] = "--input";
		argv[n++] = cfg->audio.input;
	}
	for (unsigned int i = 0; i < cfg->nguests; i++) {
		if (!cfg->guests[i].audio[0])
			continue;
		snprintf(guest_args[i], sizeof(guest_args[i]), "%u:%s:%s", i,
			 cfg->guests[i].name, cfg->guests[i].audio);
		argv[n++] = "--guest";
		argv[n++] = guest_args[i];
	}
	argv[n] = NULL;
	pid = fork();
	if (pid < 0) {
		hostd_log("audio: cannot start pd-mixer: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return;
	}
	if (pid == 0) {
		sigset_t none;

		fcntl(sv[1], F_SETFD, 0);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execvp(prog, (char *const *)argv);
		fprintf(stderr, "hostd: exec %s: %s\n", prog, strerror(errno));
		_exit(127);
	}
	close(sv[1]);
	a->sock = sv[0];
	fcntl(a->sock, F_SETFL, O_NONBLOCK);
	a->pid = pid;
	a->started_us = hostd_now_us();
	a->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (a->pidfd >= 0)
		a->pid_watch = hostd_poller_add(a->poller, a->pidfd, POLLIN,
						on_exit_of_mixer, a);
	hostd_log("audio: pd-mixer %d started", pid);
	send_state(a);
}

static void on_timer(int fd, short revents, void *data)
{
	struct hostd_audio *a = data;
	uint64_t n;

	(void)revents;
	if (read(fd, &n, sizeof(n)) < 0 && errno == EAGAIN)
		return;
	if (!a->pid)
		start_mixer(a);
}

static void forget_mixer(struct hostd_audio *a)
{
	hostd_watch_remove(a->pid_watch);
	hostd_watch_remove(a->sock_watch);
	a->pid_watch = a->sock_watch = NULL;
	if (a->pidfd >= 0)
		close(a->pidfd);
	if (a->sock >= 0)
		close(a->sock);
	a->pidfd = a->sock = -1;
	a->pid = 0;
}

/* pd-mixer ended: reaped (by pid: other children are others'), logged,
 * started again after a pause. */
static void on_exit_of_mixer(int fd, short revents, void *data)
{
	struct hostd_audio *a = data;
	struct itimerspec t = { 0 };
	int status = 0;

	(void)fd;
	(void)revents;
	if (waitpid(a->pid, &status, WNOHANG) == 0)
		return;
	hostd_log("audio: pd-mixer %d %s %d", a->pid,
		  WIFSIGNALED(status) ? "killed by signal" : "exited with",
		  WIFSIGNALED(status) ? WTERMSIG(status) :
		  WEXITSTATUS(status));
	if (hostd_now_us() - a->started_us < QUICK_EXIT_US)
		a->quick_exits++;
	else
		a->quick_exits = 0;
	forget_mixer(a);
	t.it_value.tv_sec = a->quick_exits >= 5 ? RESTART_SLOW_S : RESTART_S;
	if (a->timer >= 0)
		timerfd_settime(a->timer, 0, &t, NULL);
}

/* The switcher's audio hook. */
static void audio_switched(void *data, unsigned int to)
{
	struct hostd_audio *a = data;

	a->active = to;
	send_state(a);
}

struct hostd_audio *hostd_audio_create(struct hostd_switcher *sw,
				       struct hostd_poller *p, bool spawn)
{
	struct hostd_audio *a = calloc(1, sizeof(*a));
	bool any = false;

	if (!a)
		return NULL;
	a->sw = sw;
	a->poller = p;
	a->pidfd = a->sock = a->timer = -1;
	a->active = sw->router.active;
	for (unsigned int i = 0; i < sw->nvms; i++) {
		a->guests[i].volume = PD_MIX_VOLUME_MAX;
		a->guests[i].has_audio = sw->cfg->guests[i].audio[0] != '\0';
		any |= a->guests[i].has_audio;
	}
	sw->hooks.audio_switched = audio_switched;
	sw->hooks.audio_data = a;
	if (!spawn || !any)
		return a;
	a->timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (a->timer >= 0)
		a->timer_watch = hostd_poller_add(p, a->timer, POLLIN,
						  on_timer, a);
	start_mixer(a);
	return a;
}

void hostd_audio_destroy(struct hostd_audio *a)
{
	if (!a)
		return;
	if (a->sw->hooks.audio_data == a) {
		a->sw->hooks.audio_switched = NULL;
		a->sw->hooks.audio_data = NULL;
	}
	if (a->pid > 0) {
		pid_t pid = a->pid;

		kill(pid, SIGTERM);
		forget_mixer(a);
		waitpid(pid, NULL, 0);
	}
	hostd_watch_remove(a->timer_watch);
	if (a->timer >= 0)
		close(a->timer);
	free(a);
}

bool hostd_audio_has(const struct hostd_audio *a, unsigned int g)
{
	return a && g < a->sw->nvms && a->guests[g].has_audio;
}

unsigned int hostd_audio_volume(const struct hostd_audio *a, unsigned int g)
{
	return a && g < a->sw->nvms ? a->guests[g].volume : PD_MIX_VOLUME_MAX;
}

bool hostd_audio_muted(const struct hostd_audio *a, unsigned int g)
{
	return a && g < a->sw->nvms && a->guests[g].muted;
}

int hostd_audio_set(struct hostd_audio *a, unsigned int g, int volume,
		    int muted)
{
	struct pd_mix_guest *x;

	if (!a || g >= a->sw->nvms)
		return -ENOENT;
	if (volume > (int)PD_MIX_VOLUME_MAX)
		return -EINVAL;
	x = &a->guests[g];
	if (volume >= 0 && (unsigned int)volume != x->volume) {
		hostd_log("audio: %s's volume %d (was %u)",
			  a->sw->cfg->guests[g].name, volume, x->volume);
		x->volume = (unsigned int)volume;
	}
	if (muted >= 0 && (muted != 0) != x->muted) {
		x->muted = muted != 0;
		hostd_log("audio: %s %s", a->sw->cfg->guests[g].name,
			  x->muted ? "muted" : "unmuted");
	}
	send_state(a);
	return 0;
}
