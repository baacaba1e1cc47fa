// SPDX-License-Identifier: GPL-2.0-only
/*
 * hostd/guestctl.c: what a guest may ask hostd through its control file.
 * The request parser refuses everything that is not exactly a request;
 * each guest's `allow` decides (list and switch by default); another
 * guest's frames are never served; a switch goes through the switcher.
 * dom0's entry ("host") is listed and reached only with allow host.
 * Then the channel as a backend uses it, on socketpairs: a control file
 * arrives with its descriptor, its requests are answered, a malformed
 * message or a descriptor that is no seqpacket socket is dropped, a
 * guest gets at most PD_CONTROL_MAX_FILES files, and a guest that never
 * reads its replies loses its file without hostd ever blocking. A channel
 * a reattached backend brings replaces the old one. A file that asked
 * WATCH gets an EVENT on every switch and change, and one that does not
 * read gets them coalesced, hostd never blocking.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <paradice/pd_control.h>

#include "config.h"
#include "guestctl.h"
#include "poller.h"
#include "switcher.h"
#include "tap.h"

static const char *const conf_text =
	"[guest guest1]\n"
	"[guest guest2]\nallow = list\n"
	"[guest guest3]\nallow = none\n"
	"[guest guest4]\nallow = switch\n"
	"[guest guest5]\nallow = list,host\n";

static struct hostd_config cfg;
static struct hostd_switcher sw;
static char reply[PD_CONTROL_MAX_REPLY];

/* guest1..3 running (domains 1..3), guest4 off; guest1 in front */
static void setup(void)
{
	char err[256];

	hostd_config_finish(&cfg);
	if (hostd_config_parse(&cfg, "t.conf", conf_text, err, sizeof(err))) {
		printf("# %s\n", err);
		return;
	}
	hostd_switcher_init(&sw, &cfg, false);
	for (unsigned int i = 0; i < 3; i++)
		hostd_switcher_set_domain(&sw, i, (int)i + 1);
	sw.router.active = 0;
}

static const char *ask(unsigned int g, const char *req)
{
	hostd_guestctl_answer(&sw, g, req, strlen(req), reply, sizeof(reply));
	return reply;
}

static bool starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

static void test_parser_refuses_what_is_no_request(void)
{
	static const char *const bad[] = {
		"", "\n", "list", "LIST ", "LIST x", "LIST\n\n", " LIST",
		"SWITCH", "SWITCH ", "SWITCH  guest2", "SWITCH guest2 x",
		"SWITCH ../guest2", "SWITCH guest\x01", "SWITCH gu%sest",
		"NEXT guest2", "PREVIOUS\r\n", "SWITCHguest2", "HELLO",
	};
	char big[PD_CONTROL_MAX_REQ + 8], name[HOSTD_NAME_MAX + 8];

	setup();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(starts(ask(0, bad[i]), "ERR Invalid "));
		if (!starts(reply, "ERR Invalid "))
			printf("#   request '%s': %s", bad[i], reply);
	}
	/* a NUL inside: the length counts, not the string */
	hostd_guestctl_answer(&sw, 0, "LIST\0junk", 9, reply, sizeof(reply));
	CHECK(starts(reply, "ERR Invalid "));
	/* too long, even if it starts as a good one */
	memset(big, 'a', sizeof(big));
	memcpy(big, "SWITCH ", 7);
	hostd_guestctl_answer(&sw, 0, big, sizeof(big), reply, sizeof(reply));
	CHECK(starts(reply, "ERR Invalid "));
	/* a name as long as the config allows none */
	memset(name, 'g', sizeof(name));
	name[sizeof(name) - 1] = '\0';
	snprintf(big, sizeof(big), "SWITCH %s", name);
	CHECK(starts(ask(0, big), "ERR Invalid "));
	CHECK(strchr(reply, '\n') == reply + strlen(reply) - 1);
}

static void test_list_says_who_asks_and_what_runs(void)
{
	setup();
	CHECK(!strcmp(ask(1, "LIST\n"),
		      "OK\nSELF guest2\nGUEST guest1\nGUEST guest2\n"
		      "GUEST guest3\nGUEST guest4\n"
		      "GUEST guest5\n"
		      "VM guest1 1 running 1\nVM guest2 2 running 0\n"
		      "VM guest3 3 running 0\nVM host 0 running 0\n"));
	/* allow = switch: no list; none: nothing */
	CHECK(starts(ask(3, "LIST"), "ERR Refused guest4 may not list"));
	CHECK(starts(ask(2, "LIST"), "ERR Refused guest3 may not list"));
}

static void test_switches_follow_each_guests_allow(void)
{
	setup();
	CHECK(!strcmp(ask(0, "SWITCH guest2\n"), "OK\n"));
	CHECK_EQ(sw.router.active, 1);
	/* guest2: allow = list */
	CHECK(starts(ask(1, "SWITCH guest1"),
		     "ERR Refused guest2 may not switch"));
	CHECK(starts(ask(1, "NEXT"), "ERR Refused "));
	CHECK(starts(ask(2, "PREVIOUS"), "ERR Refused "));
	CHECK_EQ(sw.router.active, 1);
	/* default allow: next and previous among the running guests */
	CHECK(!strcmp(ask(0, "NEXT"), "OK\n"));
	CHECK_EQ(sw.router.active, 2);
	CHECK(!strcmp(ask(0, "NEXT"), "OK\n"));	/* guest4 is off */
	CHECK_EQ(sw.router.active, 0);
	CHECK(!strcmp(ask(0, "PREVIOUS"), "OK\n"));
	CHECK_EQ(sw.router.active, 2);
	/* no such VM, or one with no domain */
	CHECK(starts(ask(0, "SWITCH nobody"), "ERR UnknownVm "));
	CHECK(starts(ask(0, "SWITCH guest4"), "ERR UnknownVm "));
	/* a paused VM cannot take the screen */
	sw.vms[1].state = HOSTD_VM_PAUSED;
	CHECK(starts(ask(0, "SWITCH guest2"), "ERR Refused VM guest2 cannot"));
	CHECK_EQ(sw.router.active, 2);
}

/* allow = switch does not reach dom0's entry; allow host does, alone */
static void test_host_needs_its_own_allow(void)
{
	setup();
	CHECK(starts(ask(0, "SWITCH host"),
		     "ERR Refused guest1 may not hand dom0 the screen"));
	CHECK(starts(ask(3, "SWITCH host"), "ERR Refused guest4 may not hand"));
	CHECK(starts(ask(1, "SWITCH host"), "ERR Refused guest2 may not hand"));
	CHECK_EQ(sw.router.active, 0);
	/* NEXT and PREVIOUS cycle through the guests only */
	CHECK(!strcmp(ask(0, "NEXT"), "OK\n"));
	CHECK(!strcmp(ask(0, "NEXT"), "OK\n"));
	CHECK(!strcmp(ask(0, "NEXT"), "OK\n"));
	CHECK(!hostd_is_host(&sw, sw.router.active));
	/* guest5 (allow = list,host) is off, which does not matter here */
	CHECK(!strcmp(ask(4, "SWITCH host"), "OK\n"));
	CHECK(hostd_is_host(&sw, sw.router.active));
	CHECK(strstr(ask(0, "LIST"), "\nVM host 0 running 1\n") != NULL);
	CHECK(strstr(reply, "VM guest1 1 running 0\n") != NULL);
	/* but not another guest: its allow has no switch */
	CHECK(starts(ask(4, "SWITCH guest1"), "ERR Refused guest5 may not "
		     "switch"));
	/* from host back to a guest, as a guest with switch may: NEXT
	 * from dom0's entry is the first running guest, PREVIOUS the last */
	CHECK(!strcmp(ask(0, "PREVIOUS"), "OK\n"));
	CHECK_EQ(sw.router.active, 2);
	CHECK(!strcmp(ask(4, "SWITCH host"), "OK\n"));
	CHECK(!strcmp(ask(0, "NEXT"), "OK\n"));
	CHECK_EQ(sw.router.active, 0);
}

static void test_frames_are_never_served(void)
{
	setup();
	for (unsigned int g = 0; g < 5; g++) {
		CHECK(starts(ask(g, "THUMBNAIL guest2"),
			     "ERR Refused a guest never sees another guest's"));
		CHECK(starts(ask(g, "SCREENSHOT guest1"), "ERR Refused "));
	}
}

/* -- the channel -------------------------------------------------------------- */

static int send_open(int chan, int fd, uint32_t type, size_t len)
{
	struct pd_ctl_open m = { .type = type };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov = { .iov_base = &m, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;

	if (fd >= 0) {
		memset(&cbuf, 0, sizeof(cbuf));
		msg.msg_control = cbuf.buf;
		msg.msg_controllen = sizeof(cbuf.buf);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	return sendmsg(chan, &msg, 0) == (ssize_t)len ? 0 : -1;
}

/* A control file as the backend makes one: the guest's end back. */
static int open_file(int chan)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return -1;
	if (send_open(chan, sv[1], PD_CTL_OPEN, sizeof(struct pd_ctl_open))) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	close(sv[1]);
	return sv[0];
}

/* Dispatch until nothing is ready for 10 ms (one message per callback). */
static void spin(struct hostd_poller *p)
{
	for (int i = 0; i < 1000 && hostd_poller_dispatch(p, 10) > 0; i++)
		;
}

/* What the guest reads on its end now: the reply, "" if none, "EOF". */
static const char *reply_on(int fd)
{
	ssize_t n = recv(fd, reply, sizeof(reply) - 1, MSG_DONTWAIT);

	if (n < 0)
		return "";
	if (n == 0)
		return "EOF";
	reply[n] = '\0';
	return reply;
}

static void test_channel_carries_files_and_drops_bad_ones(void)
{
	struct hostd_poller *p = hostd_poller_create();
	struct hostd_guestctl *gc;
	int chan, chan2, f, pipefd[2], files[PD_CONTROL_MAX_FILES + 1];

	setup();
	gc = hostd_guestctl_create(&sw, p);
	CHECK(gc != NULL);
	chan = hostd_guestctl_backend_fd(gc, 1);	/* guest2's */
	CHECK(chan >= 0);
	CHECK_EQ(hostd_guestctl_backend_fd(NULL, 1), -1);

	f = open_file(chan);
	spin(p);
	CHECK_EQ(write(f, "LIST", 4), 4);
	spin(p);
	CHECK(starts(reply_on(f), "OK\nSELF guest2\n"));
	/* the file is guest2's, whose allow has no switch */
	CHECK_EQ(write(f, "SWITCH guest1", 13), 13);
	spin(p);
	CHECK(starts(reply_on(f), "ERR Refused guest2 may not switch"));
	close(f);
	spin(p);

	/* not a socket, no descriptor, a wrong type: dropped, the channel
	 * stays */
	CHECK_EQ(pipe(pipefd), 0);
	CHECK_EQ(send_open(chan, pipefd[0], PD_CTL_OPEN,
			   sizeof(struct pd_ctl_open)), 0);
	CHECK_EQ(send_open(chan, -1, PD_CTL_OPEN, sizeof(struct pd_ctl_open)),
		 0);
	CHECK_EQ(send_open(chan, pipefd[1], 7, sizeof(struct pd_ctl_open)), 0);
	CHECK_EQ(send_open(chan, pipefd[1], PD_CTL_OPEN, 4), 0);
	spin(p);
	close(pipefd[0]);
	close(pipefd[1]);

	/* at most PD_CONTROL_MAX_FILES: the one more is closed */
	for (int i = 0; i <= PD_CONTROL_MAX_FILES; i++)
		files[i] = open_file(chan);
	spin(p);
	CHECK(!strcmp(reply_on(files[PD_CONTROL_MAX_FILES]), "EOF"));
	CHECK_EQ(write(files[0], "LIST", 4), 4);
	spin(p);
	CHECK(starts(reply_on(files[0]), "OK\n"));
	for (int i = 0; i <= PD_CONTROL_MAX_FILES; i++)
		close(files[i]);
	spin(p);

	/* a new backend of the guest: the old channel is gone */
	chan2 = hostd_guestctl_backend_fd(gc, 1);
	CHECK(chan2 >= 0);
	f = open_file(chan);
	CHECK_EQ(f, -1);
	close(chan);
	f = open_file(chan2);
	spin(p);
	CHECK_EQ(write(f, "LIST", 4), 4);
	spin(p);
	CHECK(starts(reply_on(f), "OK\nSELF guest2\n"));
	close(f);
	close(chan2);
	hostd_guestctl_destroy(gc);
	hostd_guestctl_destroy(NULL);
	hostd_poller_destroy(p);
}

/* A guest that writes and never reads: hostd answers until the file's
 * buffer is full, then closes it; it never blocks. */
static void test_a_guest_that_does_not_read_loses_its_file(void)
{
	struct hostd_poller *p = hostd_poller_create();
	struct hostd_guestctl *gc;
	int chan, f, sent = 0;
	bool closed = false;

	setup();
	gc = hostd_guestctl_create(&sw, p);
	chan = hostd_guestctl_backend_fd(gc, 0);
	f = open_file(chan);
	spin(p);
	fcntl(f, F_SETFL, O_NONBLOCK);
	for (int i = 0; i < 100000 && !closed; i++) {
		ssize_t n = write(f, "LIST", 4);

		if (n == 4)
			sent++;
		else if (errno == EPIPE || errno == ECONNRESET)
			closed = true;
		hostd_poller_dispatch(p, 0);
	}
	CHECK(closed);
	printf("# closed after %d requests\n", sent);
	close(f);
	close(chan);
	hostd_guestctl_destroy(gc);
	hostd_poller_destroy(p);
}

/* A backend that outlived hostd brings a new channel: it replaces the
 * guest's old one; anything but a seqpacket socket is refused. */
static void test_a_reattached_channel_replaces_the_old_one(void)
{
	struct hostd_poller *p = hostd_poller_create();
	struct hostd_guestctl *gc;
	int old, sv[2], pipefd[2], f;

	setup();
	gc = hostd_guestctl_create(&sw, p);
	old = hostd_guestctl_backend_fd(gc, 0);
	CHECK(old >= 0);
	CHECK_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	CHECK_EQ(hostd_guestctl_adopt(gc, 0, sv[1]), 0);
	CHECK_EQ(open_file(old), -1);	/* hostd dropped its end */
	f = open_file(sv[0]);
	spin(p);
	CHECK_EQ(write(f, "LIST", 4), 4);
	spin(p);
	CHECK(starts(reply_on(f), "OK\nSELF guest1\n"));
	close(f);
	/* a pipe, a guest hostd has not, no hostd: refused (and closed) */
	CHECK_EQ(pipe(pipefd), 0);
	CHECK_EQ(hostd_guestctl_adopt(gc, 0, pipefd[0]), -1);
	CHECK_EQ(hostd_guestctl_adopt(gc, 9, dup(pipefd[1])), -1);
	CHECK_EQ(hostd_guestctl_adopt(NULL, 0, pipefd[1]), -1);
	CHECK_EQ(fcntl(pipefd[0], F_GETFD), -1);
	/* the channel stays the adopted one */
	f = open_file(sv[0]);
	spin(p);
	CHECK_EQ(write(f, "LIST", 4), 4);
	spin(p);
	CHECK(starts(reply_on(f), "OK\n"));
	close(f);
	close(old);
	close(sv[0]);
	hostd_guestctl_destroy(gc);
	hostd_poller_destroy(p);
}

/* WATCH: EVENTs after each switch and change, to the files that asked,
 * of guests whose allow has list; a file that does not read gets them
 * coalesced into one when it has room, and hostd never blocks. */
static void test_watching_files_get_events(void)
{
	struct hostd_poller *p = hostd_poller_create();
	struct hostd_guestctl *gc;
	int chan1, chan2, chan4, w, quiet, g2, g4, n = 0;
	static char last[PD_CONTROL_MAX_REPLY];

	setup();
	gc = hostd_guestctl_create(&sw, p);
	chan1 = hostd_guestctl_backend_fd(gc, 0);
	chan2 = hostd_guestctl_backend_fd(gc, 1);
	chan4 = hostd_guestctl_backend_fd(gc, 3);
	w = open_file(chan1);
	quiet = open_file(chan1);
	g2 = open_file(chan2);
	g4 = open_file(chan4);
	spin(p);
	CHECK_EQ(write(w, "WATCH\n", 6), 6);
	CHECK_EQ(write(g2, "WATCH", 5), 5);
	CHECK_EQ(write(g4, "WATCH", 5), 5);	/* allow = switch: no list */
	spin(p);
	CHECK(!strcmp(reply_on(w), "OK\n"));
	CHECK(!strcmp(reply_on(g2), "OK\n"));
	CHECK(starts(reply_on(g4), "ERR Refused guest4 may not list"));

	/* a switch (here from guest4's file: any source) */
	CHECK_EQ(write(g4, "SWITCH guest3", 13), 13);
	spin(p);
	CHECK(!strcmp(reply_on(g4), "OK\n"));
	CHECK(!strcmp(reply_on(w),
		      "EVENT\nSELF guest1\nGUEST guest1\nGUEST guest2\n"
		      "GUEST guest3\nGUEST guest4\nGUEST guest5\n"
		      "VM guest1 1 running 0\nVM guest2 2 running 0\n"
		      "VM guest3 3 running 1\nVM host 0 running 0\n"));
	CHECK(starts(reply_on(g2), "EVENT\nSELF guest2\n"));
	CHECK(!strcmp(reply_on(quiet), ""));	/* did not ask */
	CHECK(!strcmp(reply_on(g4), ""));
	/* a change hostd.c reports (a domain came) */
	hostd_switcher_set_domain(&sw, 3, 4);
	hostd_guestctl_notify(gc);
	CHECK(strstr(reply_on(w), "VM guest4 4 running 0\n") != NULL);
	CHECK(starts(reply_on(g2), "EVENT\n"));
	hostd_guestctl_notify(NULL);

	/* w stops reading: events until its buffer is full, never a
	 * block; then one event, the state of then, when it has room */
	for (int i = 0; i < 5000; i++)
		hostd_guestctl_notify(gc);
	CHECK_EQ(hostd_switch_to(&sw, 0), 0);	/* notifies too */
	for (int round = 0; round < 3; round++) {
		spin(p);	/* room: the one event that waited */
		for (;;) {
			const char *r = reply_on(w);

			if (!*r)
				break;
			n++;
			snprintf(last, sizeof(last), "%s", r);
		}
	}
	printf("# %d of 5001 events read\n", n);
	CHECK(n > 0 && n < 5000);
	CHECK(strstr(last, "VM guest1 1 running 1\n") != NULL);
	close(w);
	close(quiet);
	close(g2);
	close(g4);
	close(chan1);
	close(chan2);
	close(chan4);
	hostd_guestctl_destroy(gc);
	hostd_poller_destroy(p);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	RUN(test_parser_refuses_what_is_no_request);
	RUN(test_list_says_who_asks_and_what_runs);
	RUN(test_switches_follow_each_guests_allow);
	RUN(test_host_needs_its_own_allow);
	RUN(test_frames_are_never_served);
	RUN(test_channel_carries_files_and_drops_bad_ones);
	RUN(test_a_guest_that_does_not_read_loses_its_file);
	RUN(test_a_reattached_channel_replaces_the_old_one);
	RUN(test_watching_files_get_events);
	hostd_config_finish(&cfg);
	return tap_done();
}
