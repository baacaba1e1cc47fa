// SPDX-License-Identifier: GPL-2.0-only
/*
 * pd-mixer: every guest's sound mixed into dom0's card (docs/audio.md).
 *
 *   pd-mixer --control FD --output CARD [--input CARD]
 *            [--guest INDEX:NAME:CARD]... [--listen PATH]
 *
 * hostd starts it (hostd/audio.c) and tells it, over the SOCK_SEQPACKET
 * descriptor FD, each guest's gain and who gets the microphone
 * (struct pd_mix_msg); it exits when hostd's end closes. With --listen it
 * outlives hostd instead, as the backends do: it mixes on with the last
 * state, and the next hostd connects to PATH (a root process only) and
 * takes it over; with no hostd for LINGER_S seconds it exits. A guest's CARD is
 * an snd-aloop card that is that guest's alone: the guest has device 0
 * (its backend forwards it), pd-mixer device 1, the other end of both
 * cables: what the guest plays is read from 1's capture, what pd-mixer
 * plays on 1 (the microphone, or silence) is the guest's capture. Every
 * 20 ms period, paced by the output card: each guest's period read
 * (silence for what is missing), scaled by its gain, summed and clipped,
 * written to the output card's device 0 (as many periods as it has room
 * for at each wake-up); the input card's device 0
 * capture written to the guests whose capture bit is set, silence to the
 * others. A stream that fails is closed and opened again a second later
 * (a guest's card opened by it first, in another format, waits so); an
 * over- or underrun is recovered and counted. Nothing a guest sends can
 * reach another guest: the mix goes to the output card only.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "mix.h"
#include "pcm.h"

#define SAMPLES (PD_MIX_PERIOD * PD_MIX_CHANNELS)
#define RETRY_MS 1000
/* a guest's backlog past this many periods is dropped: its latency stays
 * bounded after pd-mixer was held up (more than a late wake-up's worth:
 * the periods that wake-up catches up on use it) */
#define MAX_BACKLOG 10
#define CAPTURE_PERIODS 16
/* the output's buffer: 160 ms, room for a late wake-up */
#define OUT_PERIODS 8
/* with no hostd this long, exit (as a backend gives up on hostd) */
#define LINGER_S 60

/* One stream and when to try it again. */
struct stream {
	struct pd_pcm pcm;
	int card, device;
	bool capture;
	unsigned int periods;
	uint64_t retry_ms;
	int last_err;		/* logged once until it changes */
};

struct endpoint {
	unsigned int index;	/* the guest's in paradice.conf */
	char name[HOSTD_NAME_MAX];
	struct stream from_guest, to_guest;
	int16_t buf[SAMPLES];
};

static struct endpoint eps[HOSTD_MAX_GUESTS];
static unsigned int neps;
static struct stream out, in;
static bool have_in;
static struct pd_mix_msg state = { .magic = PD_MIX_MSG_MAGIC };

static void say(const char *fmt, ...)
{
	va_list ap;

	fputs("pd-mixer: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void stream_init(struct stream *s, int card, int device, bool capture,
			unsigned int periods)
{
	s->pcm.fd = -1;
	s->card = card;
	s->device = device;
	s->capture = capture;
	s->periods = periods;
}

/* Open s if it is closed and its retry time has come; true if open. */
static bool stream_ready(struct stream *s, const char *who)
{
	static const int16_t silence[SAMPLES * 2];
	int r;

	if (s->pcm.fd >= 0)
		return true;
	if (now_ms() < s->retry_ms)
		return false;
	r = pd_pcm_open(&s->pcm, s->card, s->device, s->capture, s->periods);
	if (r < 0) {
		if (r != s->last_err)
			say("%s: cannot open %s: %s (trying again every %d ms)",
			    who, s->pcm.path, strerror(-r), RETRY_MS);
		s->last_err = r;
		s->retry_ms = now_ms() + RETRY_MS;
		return false;
	}
	if (s->last_err)
		say("%s: %s open", who, s->pcm.path);
	s->last_err = 0;
	/* two periods ahead: a playback starts with room to be late */
	if (!s->capture)
		pd_pcm_write(&s->pcm, silence, PD_MIX_PERIOD * 2);
	return true;
}

static void stream_failed(struct stream *s, const char *who, long r)
{
	say("%s: %s: %s (closed; trying again in %d ms)", who, s->pcm.path,
	    strerror((int)-r), RETRY_MS);
	pd_pcm_close(&s->pcm);
	s->last_err = (int)r;
	s->retry_ms = now_ms() + RETRY_MS;
}

/* A whole period from capture s into buf (silence for what is missing),
 * after dropping a backlog past MAX_BACKLOG periods. */
static void read_period(struct stream *s, const char *who, int16_t *buf)
{
	long n = 0, avail;

	if (stream_ready(s, who)) {
		avail = pd_pcm_avail(&s->pcm);
		while (avail > (long)(PD_MIX_PERIOD * MAX_BACKLOG)) {
			n = pd_pcm_read(&s->pcm, buf, PD_MIX_PERIOD);
			if (n <= 0)
				break;
			avail -= n;
		}
		n = pd_pcm_read(&s->pcm, buf, PD_MIX_PERIOD);
		if (n < 0) {
			stream_failed(s, who, n);
			n = 0;
		}
	}
	memset(buf + n * PD_MIX_CHANNELS, 0,
	       (size_t)(PD_MIX_PERIOD - (unsigned long)n) * PD_MIX_CHANNELS *
	       sizeof(*buf));
}

static void write_period(struct stream *s, const char *who,
			 const int16_t *buf)
{
	long n;

	if (!stream_ready(s, who))
		return;
	n = pd_pcm_write(&s->pcm, buf, PD_MIX_PERIOD);
	if (n < 0)
		stream_failed(s, who, n);
}

/* One period: the guests mixed into the output, the microphone to the
 * guests that may hear it. */
static void tick(void)
{
	static int16_t mixed[SAMPLES], mic[SAMPLES];
	static const int16_t silence[SAMPLES];
	const int16_t *inputs[HOSTD_MAX_GUESTS];
	uint32_t gains[HOSTD_MAX_GUESTS];

	for (unsigned int k = 0; k < neps; k++) {
		read_period(&eps[k].from_guest, eps[k].name, eps[k].buf);
		inputs[k] = eps[k].buf;
		gains[k] = state.gain[eps[k].index];
	}
	pd_mix_samples(mixed, inputs, gains, neps, SAMPLES);
	write_period(&out, "output", mixed);
	if (have_in)
		read_period(&in, "input", mic);
	for (unsigned int k = 0; k < neps; k++)
		write_period(&eps[k].to_guest, eps[k].name,
			     have_in && (state.capture & (1u << eps[k].index)) ?
			     mic : silence);
}

/* hostd's messages: the latest valid one wins. false: hostd is gone. */
static bool read_control(int fd)
{
	struct pd_mix_msg m;

	for (;;) {
		ssize_t n = recv(fd, &m, sizeof(m), MSG_DONTWAIT | MSG_TRUNC);

		if (n == 0)
			return false;
		if (n < 0)
			return errno == EAGAIN || errno == EINTR;
		if (!pd_mix_msg_valid(&m, (size_t)n)) {
			say("a bad message from hostd (%zd bytes): ignored", n);
			continue;
		}
		state = m;
	}
}

/* "INDEX:NAME:CARD" */
static int add_guest(const char *arg, int out_card, int in_card)
{
	struct endpoint *e = &eps[neps];
	char name[HOSTD_NAME_MAX], card[HOSTD_AUDIO_CARD_MAX];
	unsigned int index;
	int c;

	if (neps == HOSTD_MAX_GUESTS ||
	    sscanf(arg, "%u:%63[^:]:%31s", &index, name, card) != 3 ||
	    index >= HOSTD_MAX_GUESTS) {
		say("bad --guest %s (want INDEX:NAME:CARD)", arg);
		return -1;
	}
	c = pd_pcm_card(card);
	if (c < 0) {
		say("%s: no sound card %s in dom0: %s; its audio is off", name,
		    card, strerror(-c));
		return 0;
	}
	/* the mix or the microphone on a guest's own card would reach that
	 * guest; another guest's would reach two */
	if (!pd_pcm_is_loopback(c) || c == out_card || c == in_card) {
		say("%s: card %s (%d) is not an snd-aloop card of its own; its "
		    "audio is off", name, card, c);
		return 0;
	}
	for (unsigned int k = 0; k < neps; k++)
		if (eps[k].from_guest.card == c) {
			say("%s: card %s is %s's too; its audio is off", name,
			    card, eps[k].name);
			return 0;
		}
	e->index = index;
	snprintf(e->name, sizeof(e->name), "%s", name);
	stream_init(&e->from_guest, c, 1, true, CAPTURE_PERIODS);
	stream_init(&e->to_guest, c, 1, false, OUT_PERIODS);
	neps++;
	say("%s: card %s (%d): the guest has device 0, the mix device 1",
	    name, card, c);
	return 0;
}

/* The socket the next hostd connects to; -1 on failure (logged). */
static int listen_at(const char *path, struct stat *st)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	mode_t mask;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		say("--listen %s: path too long", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	{	/* its directory (/run/paradice), as hostd and backends make it */
		char dir[sizeof(sa.sun_path)], *slash;

		strcpy(dir, path);
		slash = strrchr(dir, '/');
		if (slash && slash != dir) {
			*slash = '\0';
			mkdir(dir, 0755);
		}
	}
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		say("socket: %s", strerror(errno));
		return -1;
	}
	unlink(path);	/* an earlier pd-mixer's, gone or being replaced */
	mask = umask(077);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 2) < 0 || stat(path, st) < 0) {
		say("listen on %s: %s; ending with hostd", path,
		    strerror(errno));
		umask(mask);
		close(fd);
		return -1;
	}
	umask(mask);
	return fd;
}

/* Our socket's path removed, unless a newer pd-mixer's took its place. */
static void unlisten(const char *path, const struct stat *mine)
{
	struct stat st;

	if (path && stat(path, &st) == 0 && st.st_ino == mine->st_ino &&
	    st.st_dev == mine->st_dev)
		unlink(path);
}

/* A hostd connecting: root only; it replaces the control we had. */
static void take_hostd(int lfd, int *ctl)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0 ||
	    cr.uid != 0) {
		say("a connection from uid %d refused: only hostd (root)",
		    len == sizeof(cr) ? (int)cr.uid : -1);
		close(fd);
		return;
	}
	if (*ctl >= 0)
		close(*ctl);
	*ctl = fd;
	say("hostd %d took over", (int)cr.pid);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "control", required_argument, NULL, 'c' },
		{ "output", required_argument, NULL, 'o' },
		{ "input", required_argument, NULL, 'i' },
		{ "guest", required_argument, NULL, 'g' },
		{ "listen", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	const char *output = NULL, *input = NULL, *listen_path = NULL;
	struct stat listen_st = { 0 };
	uint64_t alone_since = 0;	/* ms; 0: hostd is there */
	int lfd = -1;
	const char *guests[HOSTD_MAX_GUESTS];
	unsigned int nguests = 0;
	int ctl = -1, c, out_card, in_card = -1;
	unsigned int ticks = 0;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			ctl = atoi(optarg);
			break;
		case 'o':
			output = optarg;
			break;
		case 'i':
			input = optarg;
			break;
		case 'g':
			if (nguests == HOSTD_MAX_GUESTS)
				return 2;
			guests[nguests++] = optarg;
			break;
		case 'l':
			listen_path = optarg;
			break;
		default:
			return 2;
		}
	}
	if (ctl < 0 || !output) {
		say("usage: pd-mixer --control FD --output CARD [--input CARD] "
		    "[--guest INDEX:NAME:CARD]... [--listen PATH]");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	out_card = pd_pcm_card(output);
	if (out_card < 0) {
		say("no output card %s: %s", output, strerror(-out_card));
		return 1;
	}
	stream_init(&out, out_card, 0, false, OUT_PERIODS);
	if (input) {
		in_card = pd_pcm_card(input);
		if (in_card < 0)
			say("no input card %s: %s; no microphone", input,
			    strerror(-in_card));
		else
			stream_init(&in, in_card, 0, true, CAPTURE_PERIODS);
		have_in = in_card >= 0;
	}
	for (unsigned int i = 0; i < nguests; i++)
		if (add_guest(guests[i], out_card, in_card) < 0)
			return 2;
	if (listen_path) {
		lfd = listen_at(listen_path, &listen_st);
		if (lfd < 0)
			listen_path = NULL;
	}
	say("mixing %u guests into card %s (%d), %u Hz, %u channels, %u-frame "
	    "periods", neps, output, out_card, PD_MIX_RATE, PD_MIX_CHANNELS,
	    PD_MIX_PERIOD);
	for (;;) {
		struct pollfd p[3] = { { .fd = ctl, .events = POLLIN },
				       { .fd = -1, .events = POLLOUT },
				       { .fd = lfd, .events = POLLIN } };
		bool open = stream_ready(&out, "output");
		int n;

		p[1].fd = open ? out.pcm.fd : -1;
		/* without an output the guests are still read at the mix's
		 * pace, so that they never stall */
		n = poll(p, 3, open ? RETRY_MS : (int)(PD_MIX_PERIOD * 1000 /
						       PD_MIX_RATE));
		if (n < 0 && errno != EINTR) {
			say("poll: %s", strerror(errno));
			unlisten(listen_path, &listen_st);
			return 1;
		}
		if (p[2].revents & POLLIN) {
			take_hostd(lfd, &ctl);
			if (ctl >= 0)
				alone_since = 0;
		}
		if (ctl >= 0 && p[0].revents && !read_control(ctl)) {
			close(ctl);
			ctl = -1;
			if (!listen_path) {
				say("hostd closed its end: exiting (output "
				    "xruns %u)", out.pcm.xruns);
				return 0;
			}
			say("hostd closed its end: mixing on, waiting %d s for "
			    "the next hostd", LINGER_S);
			alone_since = now_ms();
		}
		if (alone_since &&
		    now_ms() - alone_since >= (uint64_t)LINGER_S * 1000) {
			say("no hostd came back in %d s: exiting (output xruns "
			    "%u)", LINGER_S, out.pcm.xruns);
			unlisten(listen_path, &listen_st);
			return 0;
		}
		if (open && (p[1].revents & POLLNVAL)) {
			stream_failed(&out, "output", -EIO);
			continue;
		}
		/* POLLERR: an underrun, which the write recovers. Every
		 * period there is room for: wake-ups may come late and
		 * coarse (under load, or a coarse timer in the card), and
		 * one period per wake-up would underrun at once */
		if ((open && (p[1].revents & (POLLOUT | POLLERR))) ||
		    (!open && n == 0)) {
			unsigned int k = 0;

			do {
				tick();
				/* a line a minute while it plays */
				if (++ticks % 3000 == 0)
					say("output xruns so far: %u",
					    out.pcm.xruns);
			} while (open && out.pcm.fd >= 0 && ++k < OUT_PERIODS &&
				 pd_pcm_avail(&out.pcm) >= (long)PD_MIX_PERIOD);
		}
	}
}
