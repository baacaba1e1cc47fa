// SPDX-License-Identifier: GPL-2.0-only
/*
 * hostd's side of the display protocol (hostd/display.c, pd_display.h),
 * without a card, fed through the socketpair a backend would get: a
 * malformed or out-of-order message drops that backend's connection and
 * nothing else; a background guest's flips complete, each exactly once,
 * paced like a 60 Hz display (not at once, not stalled); a second flip
 * before the first completed drops the connection.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
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

static void hello(int fd)
{
	struct pd_disp_hello m = { .version = PD_DISPLAY_VERSION };

	msg(fd, PD_DISP_HELLO, &m, sizeof(m));
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

int main(void)
{
	RUN(test_bad_messages_drop_the_connection);
	RUN(test_background_flips_are_paced);
	RUN(test_a_second_flip_in_flight_drops_the_connection);
	return tap_done();
}
