// SPDX-License-Identifier: GPL-2.0-only
/*
 * hostd's side of the display protocol (hostd/display.c, pd_display.h),
 * without a card, fed through the socketpair a backend would get: a
 * malformed or out-of-order message drops that backend's connection and
 * nothing else; a background guest's flips complete, each exactly once,
 * paced like a 60 Hz display (not at once, not stalled); a second flip
 * before the first completed drops the connection. A backend that
 * outlived a hostd reattaches through the listening socket (reattach.c):
 * its HELLO is checked (size, version, flags, the guest's name and domain,
 * the descriptors it says it sends), a refused one is closed and changes
 * nothing, an accepted one's re-sent state is kept and its flips complete.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <paradice/pd_display.h>

#include "hostd.h"
#include "tap.h"

void hostd_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("# hostd: ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
}

uint64_t hostd_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* input.c's part in a reattach, without uinput: pipes stand for the
 * guest's devices, anything else is refused. */
static unsigned int adopted;

int hostd_input_adopt(struct hostd_input *in, unsigned int g, const int *fds,
		      unsigned int n)
{
	int r = 0;

	(void)in;
	(void)g;
	for (unsigned int i = 0; i < n; i++) {
		struct stat st;

		if (fstat(fds[i], &st) || !S_ISFIFO(st.st_mode))
			r = -EPERM;
		close(fds[i]);
	}
	if (!r)
		adopted += n;
	return r;
}

static struct hostd h;
static const uint32_t crtc = 31;

static struct hostd_display *setup(void)
{
	struct hostd_display *d;

	memset(&h, 0, sizeof(h));
	h.nvms = 2;
	for (unsigned int i = 0; i < 2; i++) {
		snprintf(h.cfg.guests[i].name, sizeof(h.cfg.guests[i].name),
			 "g%u", i);
		h.vms[i].cfg = &h.cfg.guests[i];
		h.vms[i].domid = (int)i + 1;
		h.vms[i].state = HOSTD_VM_RUNNING;
	}
	h.router.active = 0;
	d = hostd_display_create(&h, NULL);
	hostd_display_set_crtcs(d, &crtc, 1);
	return d;
}

static void msg(int fd, uint16_t type, const void *body, size_t len)
{
	uint8_t buf[256];
	struct pd_disp_hdr hdr = { .type = type, .len = (uint16_t)len };

	memcpy(buf, &hdr, sizeof(hdr));
	memcpy(buf + sizeof(hdr), body, len);
	CHECK(send(fd, buf, sizeof(hdr) + len, 0) == (ssize_t)(sizeof(hdr) + len));
}

/* Run hostd's side for up to ms, or until fd (a backend's end) is
 * readable or closed. */
static void pump(struct hostd_display *d, int fd, int ms)
{
	uint64_t end = hostd_now_us() + (uint64_t)ms * 1000;

	while (hostd_now_us() < end) {
		int fds[16];
		struct pollfd p[17];
		unsigned int n = hostd_display_fds(d, fds, 16);

		for (unsigned int i = 0; i < n; i++)
			p[i] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
		p[n] = (struct pollfd){ .fd = fd, .events = POLLIN };
		if (poll(p, n + 1, 5) < 0)
			return;
		if (p[n].revents)
			return;
		for (unsigned int i = 0; i < n; i++)
			if (p[i].revents)
				hostd_display_dispatch(d, p[i].fd);
	}
}

static bool closed(int fd)
{
	char c;

	return recv(fd, &c, 1, MSG_DONTWAIT) == 0;
}

static void hello_of(int fd, unsigned int g)
{
	struct pd_disp_hello m = { .version = PD_DISPLAY_VERSION,
				   .domid = g + 1 };

	snprintf(m.guest, sizeof(m.guest), "g%u", g);
	msg(fd, PD_DISP_HELLO, &m, sizeof(m));
}

static void hello(int fd)
{
	hello_of(fd, 1);
}

static void set_crtc(int fd)
{
	struct pd_disp_crtc c = { .crtc_id = crtc, .fb_id = 5,
				  .mode_valid = 1, .nconn = 1, .conn = { 40 } };

	msg(fd, PD_DISP_SET_CRTC, &c, sizeof(c));
}

static void test_bad_messages_drop_the_connection(void)
{
	struct hostd_display *d = setup();
	struct pd_disp_hello bad = { .version = PD_DISPLAY_VERSION + 1 };
	struct pd_disp_crtc c = { .crtc_id = crtc + 1, .fb_id = 5,
				  .mode_valid = 1, .nconn = 1 };
	int fd;

	fd = hostd_display_backend_fd(d, 1);	/* before HELLO */
	set_crtc(fd);
	pump(d, fd, 100);
	CHECK(closed(fd));
	close(fd);
	fd = hostd_display_backend_fd(d, 1);	/* wrong version */
	msg(fd, PD_DISP_HELLO, &bad, sizeof(bad));
	pump(d, fd, 100);
	CHECK(closed(fd));
	close(fd);
	fd = hostd_display_backend_fd(d, 1);	/* short body */
	hello(fd);
	msg(fd, PD_DISP_SET_CRTC, &c, sizeof(c) - 4);
	pump(d, fd, 100);
	CHECK(closed(fd));
	close(fd);
	fd = hostd_display_backend_fd(d, 1);	/* a CRTC the card lacks */
	hello(fd);
	msg(fd, PD_DISP_SET_CRTC, &c, sizeof(c));
	pump(d, fd, 100);
	CHECK(closed(fd));
	close(fd);
	fd = hostd_display_backend_fd(d, 1);	/* too many connectors */
	hello(fd);
	c.crtc_id = crtc;
	c.nconn = PD_DISPLAY_MAX_CONN + 1;
	msg(fd, PD_DISP_SET_CRTC, &c, sizeof(c));
	pump(d, fd, 100);
	CHECK(closed(fd));
	close(fd);
	fd = hostd_display_backend_fd(d, 1);	/* another guest's name */
	hello_of(fd, 0);
	pump(d, fd, 100);
	CHECK(closed(fd));
	close(fd);
	fd = hostd_display_backend_fd(d, 1);	/* a good one stays */
	hello(fd);
	set_crtc(fd);
	pump(d, fd, 100);
	CHECK(!closed(fd));
	close(fd);
	hostd_display_destroy(d);
}

static void test_background_flips_are_paced(void)
{
	struct hostd_display *d = setup();
	int fd = hostd_display_backend_fd(d, 1);	/* g1: background */
	uint64_t t0 = hostd_now_us(), first = 0;
	unsigned int done = 0;

	hello(fd);
	set_crtc(fd);
	for (uint64_t cookie = 1; cookie <= 30; cookie++) {
		struct pd_disp_flip f = { .cookie = cookie, .crtc_id = crtc,
					  .fb_id = 6 };
		struct {
			struct pd_disp_hdr hdr;
			struct pd_disp_flip_done m;
		} r;
		uint64_t t = hostd_now_us();

		msg(fd, PD_DISP_FLIP, &f, sizeof(f));
		pump(d, fd, 1000);
		if (recv(fd, &r, sizeof(r), MSG_DONTWAIT) != sizeof(r))
			break;
		CHECK_EQ(r.hdr.type, PD_DISP_FLIP_DONE);
		CHECK_EQ(r.m.cookie, cookie);
		CHECK_EQ(r.m.result, 0);
		CHECK_EQ(r.m.on_screen, 0);
		if (cookie == 1)
			first = hostd_now_us() - t;
		done++;
	}
	CHECK_EQ(done, 30);
	/* 30 flips at 60 Hz: about 0.5 s; never at once */
	CHECK(hostd_now_us() - t0 >= 400000);
	CHECK(hostd_now_us() - t0 < 2000000);
	CHECK(first >= 1000);
	printf("# 30 background flips in %llu us\n",
	       (unsigned long long)(hostd_now_us() - t0));
	close(fd);
	hostd_display_destroy(d);
}

static void test_a_second_flip_in_flight_drops_the_connection(void)
{
	struct hostd_display *d = setup();
	int fd = hostd_display_backend_fd(d, 1);
	struct pd_disp_flip f = { .cookie = 1, .crtc_id = crtc, .fb_id = 6 };

	hello(fd);
	set_crtc(fd);
	msg(fd, PD_DISP_FLIP, &f, sizeof(f));
	f.cookie = 2;
	msg(fd, PD_DISP_FLIP, &f, sizeof(f));
	pump(d, fd, 200);
	pump(d, fd, 200);
	/* the first may have completed before the drop; then EOF */
	{
		uint8_t buf[64];
		ssize_t n;

		while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
			;
		CHECK_EQ(n, 0);
	}
	close(fd);
	hostd_display_destroy(d);
}

static const char *sock_path(void)
{
	static char path[108];

	snprintf(path, sizeof(path), "/tmp/pd-test-display-%d.sock",
		 (int)getpid());
	return path;
}

static int connect_to(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	CHECK(s >= 0);
	CHECK(connect(s, (struct sockaddr *)&a, sizeof(a)) == 0);
	return s;
}

/* A reattaching HELLO for guest g (name, domid as given) with nfds
 * descriptors attached and ninput claimed. */
static void reattach_hello(int s, const char *name, uint32_t domid,
			   uint32_t flags, uint32_t ninput, const int *fds,
			   unsigned int nfds, size_t cut)
{
	struct {
		struct pd_disp_hdr hdr;
		struct pd_disp_hello m;
	} b = { .hdr = { .type = PD_DISP_HELLO, .len = sizeof(b.m) },
		.m = { .version = PD_DISPLAY_VERSION, .flags = flags,
		       .domid = domid, .ninput = ninput } };
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * 4)];
	} ctl = { 0 };
	struct iovec iov = { &b, sizeof(b) - cut };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	snprintf(b.m.guest, sizeof(b.m.guest), "%s", name);
	if (nfds) {
		struct cmsghdr *c;

		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	CHECK(sendmsg(s, &mh, 0) == (ssize_t)(sizeof(b) - cut));
}

/* Run hostd's display and reattach sides for ms. */
static void pump_all(struct hostd_display *d, struct hostd_reattach *r,
		     int fd, int ms)
{
	uint64_t end = hostd_now_us() + (uint64_t)ms * 1000;

	while (hostd_now_us() < end) {
		int fds[32];
		struct pollfd p[33];
		unsigned int n = hostd_display_fds(d, fds, 16);

		n += hostd_reattach_fds(r, fds + n, 16);
		for (unsigned int i = 0; i < n; i++)
			p[i] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
		p[n] = (struct pollfd){ .fd = fd, .events = POLLIN };
		if (poll(p, n + 1, 5) < 0)
			return;
		if (p[n].revents)
			return;
		for (unsigned int i = 0; i < n; i++)
			if (p[i].revents &&
			    !hostd_reattach_dispatch(r, p[i].fd))
				hostd_display_dispatch(d, p[i].fd);
	}
}

static void test_reattach_checks_the_hello(void)
{
	struct hostd_display *d = setup();
	struct hostd_reattach *r;
	struct {
		const char *what, *name;
		uint32_t domid, flags, ninput;
		unsigned int nfds;
		size_t cut;
		bool pipes;
	} bad[] = {
		{ "short", "g1", 2, PD_DISP_HELLO_REATTACH, 0, 0, 4, true },
		{ "not reattach", "g1", 2, 0, 0, 0, 0, true },
		{ "unknown guest", "g7", 2, PD_DISP_HELLO_REATTACH, 0, 0, 0, true },
		{ "wrong domain", "g1", 1, PD_DISP_HELLO_REATTACH, 0, 0, 0, true },
		{ "fds not as said", "g1", 2, PD_DISP_HELLO_REATTACH, 2, 1, 0, true },
		{ "too many fds", "g1", 2, PD_DISP_HELLO_REATTACH, 3, 3, 0, true },
		{ "not devices", "g1", 2, PD_DISP_HELLO_REATTACH, 1, 1, 0, false },
	};

	h.display = d;
	r = hostd_reattach_create(&h, sock_path(), false);
	CHECK(r != NULL);
	adopted = 0;
	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int s = connect_to(sock_path()), fds[3], p[2];

		for (unsigned int k = 0; k < bad[i].nfds; k++) {
			if (bad[i].pipes) {
				CHECK(pipe(p) == 0);
				close(p[1]);
				fds[k] = p[0];
			} else {
				fds[k] = open("/dev/null", O_RDONLY);
			}
		}
		reattach_hello(s, bad[i].name, bad[i].domid, bad[i].flags,
			       bad[i].ninput, fds, bad[i].nfds, bad[i].cut);
		for (unsigned int k = 0; k < bad[i].nfds; k++)
			close(fds[k]);
		pump_all(d, r, s, 200);
		printf("# %s\n", bad[i].what);
		CHECK(closed(s));
		close(s);
	}
	CHECK_EQ(adopted, 0);
	hostd_reattach_destroy(r);
	hostd_display_destroy(d);
}

static void test_reattach_keeps_state_and_flips(void)
{
	struct hostd_display *d = setup();
	struct hostd_reattach *r;
	struct pd_disp_flip f = { .cookie = 9, .crtc_id = crtc, .fb_id = 6 };
	struct {
		struct pd_disp_hdr hdr;
		struct pd_disp_flip_done m;
	} done;
	int s, s2, fds[2], p[2];

	h.display = d;
	r = hostd_reattach_create(&h, sock_path(), false);
	CHECK(r != NULL);
	adopted = 0;
	for (unsigned int k = 0; k < 2; k++) {
		CHECK(pipe(p) == 0);
		close(p[1]);
		fds[k] = p[0];
	}
	s = connect_to(sock_path());
	reattach_hello(s, "g1", 2, PD_DISP_HELLO_REATTACH, 2, fds, 2, 0);
	close(fds[0]);
	close(fds[1]);
	set_crtc(s);
	pump_all(d, r, s, 200);
	CHECK(!closed(s));
	CHECK_EQ(adopted, 2);
	/* its (background) flip completes, paced */
	msg(s, PD_DISP_FLIP, &f, sizeof(f));
	pump_all(d, r, s, 1000);
	CHECK(recv(s, &done, sizeof(done), MSG_DONTWAIT) == sizeof(done));
	CHECK_EQ(done.m.cookie, 9);
	CHECK_EQ(done.m.result, 0);
	/* a second backend for the same guest is refused; the first stays */
	s2 = connect_to(sock_path());
	reattach_hello(s2, "g1", 2, PD_DISP_HELLO_REATTACH, 0, NULL, 0, 0);
	pump_all(d, r, s2, 200);
	CHECK(closed(s2));
	close(s2);
	f.cookie = 10;
	msg(s, PD_DISP_FLIP, &f, sizeof(f));
	pump_all(d, r, s, 1000);
	CHECK(recv(s, &done, sizeof(done), MSG_DONTWAIT) == sizeof(done));
	CHECK_EQ(done.m.cookie, 10);
	close(s);
	hostd_reattach_destroy(r);
	hostd_display_destroy(d);
}

int main(void)
{
	RUN(test_bad_messages_drop_the_connection);
	RUN(test_background_flips_are_paced);
	RUN(test_a_second_flip_in_flight_drops_the_connection);
	RUN(test_reattach_checks_the_hello);
	RUN(test_reattach_keeps_state_and_flips);
	return tap_done();
}
