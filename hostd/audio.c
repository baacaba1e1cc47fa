// SPDX-License-Identifier: GPL-2.0-only
/*
 * Every guest's sound mixed in dom0 (audio.h, docs/audio.md). The mixing
 * itself runs in pd-mixer, a process of its own: its loop waits on the
 * sound cards every 20 ms, which hostd's loop, routing the keyboard, must
 * never do. hostd sends it the whole state (struct pd_mix_msg) after each
 * change without blocking; one that does not fit waits for the socket to
 * have room and goes then, with the state of then. pd-mixer that exits is
 * started again 2 s later (10 s after five quick exits in a row).
 *
 * Across a restart of hostd the sound goes on: pd-mixer outlives hostd
 * (--listen), mixing with the last state, and the next hostd takes it
 * over through MIXER_SOCK if it runs the configuration hostd would start
 * it with (its command line), or stops it and starts its own. The
 * volumes and mutes are kept in VOLUMES_FILE, by guest name.
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
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
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
#define MIXER_SOCK	"/run/paradice/mixer.sock"
#define VOLUMES_DIR	"/var/lib/paradice"
#define VOLUMES_FILE	VOLUMES_DIR "/volumes"
#define MIXER_ARGS	(10 + 2 * HOSTD_MAX_GUESTS)

struct hostd_audio {
	struct hostd_switcher *sw;
	struct hostd_poller *poller;
	struct pd_mix_guest guests[HOSTD_MAX_GUESTS];
	bool spawn;		/* ours to run (and VOLUMES_FILE to keep) */
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

/* pd-mixer's command line for this configuration, the control
 * descriptor's number aside (argv[2]); its arguments live in args. */
struct mixer_cmd {
	char prog[PATH_MAX + 32], ctl[16];
	char guest[HOSTD_MAX_GUESTS][HOSTD_NAME_MAX + HOSTD_AUDIO_CARD_MAX + 16];
	const char *argv[MIXER_ARGS];
	unsigned int argc;
};

static void mixer_cmd(const struct hostd_audio *a, struct mixer_cmd *c)
{
	const struct hostd_config *cfg = a->sw->cfg;
	unsigned int n = 0;

	mixer_path(c->prog, sizeof(c->prog));
	c->argv[n++] = c->prog;
	c->argv[n++] = "--control";
	c->argv[n++] = c->ctl;
	c->argv[n++] = "--output";
	c->argv[n++] = cfg->audio.output;
	if (cfg->audio.input[0]) {
		c->argv[n++] = "--input";
		c->argv[n++] = cfg->audio.input;
	}
	for (unsigned int i = 0; i < cfg->nguests; i++) {
		if (!cfg->guests[i].audio[0])
			continue;
		snprintf(c->guest[i], sizeof(c->guest[i]), "%u:%s:%s", i,
			 cfg->guests[i].name, cfg->guests[i].audio);
		c->argv[n++] = "--guest";
		c->argv[n++] = c->guest[i];
	}
	c->argv[n++] = "--listen";
	c->argv[n++] = MIXER_SOCK;
	c->argv[n] = NULL;
	c->argc = n;
}

/* Does process pid run command c (its control descriptor aside)? */
static bool runs_cmd(pid_t pid, const struct mixer_cmd *c)
{
	char path[64], buf[4096];
	size_t len = 0, at = 0;
	ssize_t r;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	while (len < sizeof(buf) &&
	       (r = read(fd, buf + len, sizeof(buf) - len)) > 0)
		len += (size_t)r;
	close(fd);
	if (len == sizeof(buf))
		return false;
	for (unsigned int i = 0; i < c->argc; i++) {
		const char *arg = buf + at;
		size_t l;

		if (at >= len)
			return false;
		l = strnlen(arg, len - at);
		if (at + l == len)
			return false;	/* not NUL-terminated */
		if (i != 2 && strcmp(arg, c->argv[i]))
			return false;
		at += l + 1;
	}
	return at == len;
}

static void on_exit_of_mixer(int fd, short revents, void *data);

/* pd-mixer (this process's child, or an earlier hostd's) is ours now. */
static void own_mixer(struct hostd_audio *a, pid_t pid, int sock)
{
	a->sock = sock;
	fcntl(a->sock, F_SETFL, O_NONBLOCK);
	a->pid = pid;
	a->started_us = hostd_now_us();
	a->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (a->pidfd >= 0)
		a->pid_watch = hostd_poller_add(a->poller, a->pidfd, POLLIN,
						on_exit_of_mixer, a);
	send_state(a);
}

/*
 * An earlier hostd's pd-mixer, still mixing: taken over if it runs c
 * (want), else stopped. true if taken over.
 */
static bool adopt_mixer(struct hostd_audio *a, const struct mixer_cmd *c,
			bool want)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX,
				  .sun_path = MIXER_SOCK };
	struct ucred cr;
	socklen_t len = sizeof(cr);
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return false;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);	/* none runs: the usual case */
		return false;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0 ||
	    cr.uid != 0 || cr.pid <= 0) {
		hostd_log("audio: %s is not a root pd-mixer's: ignored",
			  MIXER_SOCK);
		close(fd);
		return false;
	}
	if (want && runs_cmd(cr.pid, c)) {
		hostd_log("audio: pd-mixer %d (an earlier hostd's) taken over",
			  (int)cr.pid);
		own_mixer(a, cr.pid, fd);
		return true;
	}
	hostd_log("audio: pd-mixer %d (an earlier hostd's) %s: stopped",
		  (int)cr.pid, want ? "mixes another configuration" :
		  "is not needed");
	close(fd);	/* it goes on waiting for a hostd, so: */
	kill(cr.pid, SIGTERM);
	return false;
}

static void start_mixer(struct hostd_audio *a)
{
	struct mixer_cmd c;
	int sv[2];
	pid_t pid;

	mixer_cmd(a, &c);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		hostd_log("audio: socketpair: %s", strerror(errno));
		return;
	}
	snprintf(c.ctl, sizeof(c.ctl), "%d", sv[1]);
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
		execvp(c.prog, (char *const *)c.argv);
		fprintf(stderr, "hostd: exec %s: %s\n", c.prog, strerror(errno));
		_exit(127);
	}
	close(sv[1]);
	hostd_log("audio: pd-mixer %d started", pid);
	own_mixer(a, pid, sv[0]);
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
	switch (waitpid(a->pid, &status, WNOHANG)) {
	case 0:
		return;
	case -1:	/* an earlier hostd's child: its status is not ours */
		hostd_log("audio: pd-mixer %d ended", a->pid);
		break;
	default:
		hostd_log("audio: pd-mixer %d %s %d", a->pid,
			  WIFSIGNALED(status) ? "killed by signal" :
			  "exited with", WIFSIGNALED(status) ?
			  WTERMSIG(status) : WEXITSTATUS(status));
	}
	if (hostd_now_us() - a->started_us < QUICK_EXIT_US)
		a->quick_exits++;
	else
		a->quick_exits = 0;
	forget_mixer(a);
	t.it_value.tv_sec = a->quick_exits >= 5 ? RESTART_SLOW_S : RESTART_S;
	if (a->timer >= 0)
		timerfd_settime(a->timer, 0, &t, NULL);
}

_Static_assert(HOSTD_NAME_MAX == 64, "volume_line() reads names with %63s");

/* Is line a valid "NAME VOLUME muted|on" line? Its parts in the rest. */
static bool volume_line(const char *line, char *name, unsigned int *volume,
			bool *muted)
{
	char state[8];

	if (sscanf(line, "%63s %u %7s", name, volume, state) != 3 ||
	    *volume > PD_MIX_VOLUME_MAX ||
	    (strcmp(state, "muted") && strcmp(state, "on")))
		return false;
	*muted = !strcmp(state, "muted");
	return true;
}

static int guest_named(const struct hostd_audio *a, const char *name)
{
	for (unsigned int i = 0; i < a->sw->nvms && i < HOSTD_MAX_GUESTS; i++)
		if (a->guests[i].has_audio &&
		    !strcmp(a->sw->cfg->guests[i].name, name))
			return (int)i;
	return -1;
}

/* The volumes and mutes kept from before (VOLUMES_FILE), by name. */
static void load_volumes(struct hostd_audio *a)
{
	char line[HOSTD_NAME_MAX + 32], name[HOSTD_NAME_MAX];
	unsigned int volume, n = 0;
	FILE *f = fopen(VOLUMES_FILE, "re");
	bool muted;
	int g;

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		n++;
		if (!volume_line(line, name, &volume, &muted)) {
			hostd_log("audio: %s:%u: not \"NAME VOLUME muted|on\": "
				  "ignored", VOLUMES_FILE, n);
			continue;
		}
		g = guest_named(a, name);
		if (g < 0)
			continue;	/* kept for when it is back */
		a->guests[g].volume = volume;
		a->guests[g].muted = muted;
	}
	fclose(f);
}

/* Every mixed guest's volume and mute into VOLUMES_FILE (whole, by a
 * rename), with the lines of guests the configuration has no more. */
static void save_volumes(const struct hostd_audio *a)
{
	char line[HOSTD_NAME_MAX + 32], name[HOSTD_NAME_MAX];
	unsigned int volume;
	FILE *old, *f;
	bool muted;

	mkdir(VOLUMES_DIR, 0755);
	f = fopen(VOLUMES_FILE ".new", "we");
	if (!f) {
		hostd_log("audio: %s: %s; volumes not kept", VOLUMES_FILE ".new",
			  strerror(errno));
		return;
	}
	for (unsigned int i = 0; i < a->sw->nvms && i < HOSTD_MAX_GUESTS; i++)
		if (a->guests[i].has_audio)
			fprintf(f, "%s %u %s\n", a->sw->cfg->guests[i].name,
				a->guests[i].volume,
				a->guests[i].muted ? "muted" : "on");
	old = fopen(VOLUMES_FILE, "re");
	while (old && fgets(line, sizeof(line), old))
		if (volume_line(line, name, &volume, &muted) &&
		    guest_named(a, name) < 0)
			fprintf(f, "%s %u %s\n", name, volume,
				muted ? "muted" : "on");
	if (old)
		fclose(old);
	if (fclose(f) != 0 || rename(VOLUMES_FILE ".new", VOLUMES_FILE) < 0)
		hostd_log("audio: %s: %s; volumes not kept", VOLUMES_FILE,
			  strerror(errno));
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
	struct mixer_cmd c;
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
	a->spawn = spawn;
	if (!spawn)
		return a;
	load_volumes(a);
	mixer_cmd(a, &c);
	if (!any) {
		adopt_mixer(a, &c, false);
		return a;
	}
	a->timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (a->timer >= 0)
		a->timer_watch = hostd_poller_add(p, a->timer, POLLIN,
						  on_timer, a);
	if (!adopt_mixer(a, &c, true))
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
	/* pd-mixer mixes on for the next hostd (or ends by itself) */
	forget_mixer(a);
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
	if (a->spawn)
		save_volumes(a);
	return 0;
}
