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
 * With a pretend card (__wrap_ioctl answers its ioctls and records them):
 * a guest's gamma, DPMS and damage reach the card only while it is in
 * front, a switch applies the incoming guest's (the linear ramp and DPMS
 * on where it set none), a DPMS-off guest in front blanks the CRTC and
 * its flips complete paced; malformed GAMMA, DPMS, DIRTY drop the
 * connection.
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

#include <stdint.h>
#include <sys/ioctl.h>

#ifndef __user
#define __user
#endif
#include <drm/drm.h>
#include <drm/drm_mode.h>
#include <paradice/pd_control.h>
#include <paradice/pd_display.h>

#include "display.h"
#include "guestctl.h"
#include "input.h"
#include "log.h"
#include "poller.h"
#include "reattach.h"
#include "switcher.h"
#include "tap.h"

/* The pretend card: a pipe (hostd polls it; its flip events are written
 * into it) whose ioctls are answered here: CRTC 31 (gamma size 256),
 * connector 40, DPMS property 50. Calls that program it are recorded. */
#define FAKE_GAMMA	256
static ino_t fake_ino;
static int fake_w = -1;
static struct call {
	unsigned long cmd;
	uint32_t id;		/* crtc, connector or fb */
	uint64_t v;		/* fb of SETCRTC, DPMS value, clips */
	uint16_t red1;		/* SETGAMMA: red[1] */
} calls[256];
static unsigned int ncalls;

int __real_ioctl(int fd, unsigned long req, ...);
int __wrap_ioctl(int fd, unsigned long req, ...);

static bool fake(int fd)
{
	struct stat st;

	return fake_ino && !fstat(fd, &st) && st.st_ino == fake_ino;
}

static void record(unsigned long cmd, uint32_t id, uint64_t v, uint16_t red1)
{
	if (ncalls < sizeof(calls) / sizeof(calls[0]))
		calls[ncalls++] = (struct call){ cmd, id, v, red1 };
}

int __wrap_ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (!fake(fd))
		return __real_ioctl(fd, req, arg);
	switch (req) {
	case DRM_IOCTL_SET_MASTER:
		return 0;
	case DRM_IOCTL_MODE_GETRESOURCES: {
		struct drm_mode_card_res *r = arg;

		if (r->count_crtcs && r->crtc_id_ptr)
			*(uint32_t *)(uintptr_t)r->crtc_id_ptr = 31;
		if (r->count_connectors && r->connector_id_ptr)
			*(uint32_t *)(uintptr_t)r->connector_id_ptr = 40;
		r->count_crtcs = r->count_connectors = 1;
		return 0;
	}
	case DRM_IOCTL_MODE_GETCRTC:
		((struct drm_mode_crtc *)arg)->gamma_size = FAKE_GAMMA;
		return 0;
	case DRM_IOCTL_MODE_OBJ_GETPROPERTIES: {
		struct drm_mode_obj_get_properties *o = arg;

		if (o->count_props && o->props_ptr)
			*(uint32_t *)(uintptr_t)o->props_ptr = 50;
		o->count_props = 1;
		return 0;
	}
	case DRM_IOCTL_MODE_GETPROPERTY: {
		struct drm_mode_get_property *p = arg;

		snprintf(p->name, sizeof(p->name), "%s",
			 p->prop_id == 50 ? "DPMS" : "other");
		return 0;
	}
	case DRM_IOCTL_MODE_SETCRTC: {
		struct drm_mode_crtc *c = arg;

		record(req, c->crtc_id, c->fb_id, 0);
		return 0;
	}
	case DRM_IOCTL_MODE_SETGAMMA: {
		struct drm_mode_crtc_lut *l = arg;

		if (l->gamma_size != FAKE_GAMMA) {
			errno = EINVAL;
			return -1;
		}
		record(req, l->crtc_id, l->gamma_size,
		       ((uint16_t *)(uintptr_t)l->red)[1]);
		return 0;
	}
	case DRM_IOCTL_MODE_SETPROPERTY: {
		struct drm_mode_connector_set_property *p = arg;

		record(req, p->connector_id, p->value, 0);
		return p->prop_id == 50 ? 0 : (errno = EINVAL, -1);
	}
	case DRM_IOCTL_MODE_DIRTYFB: {
		struct drm_mode_fb_dirty_cmd *c = arg;

		if (c->fb_id == 99)	/* hostd's probe: a card like bochs */
			return errno = ENOSYS, -1;
		record(req, c->fb_id, c->num_clips, 0);
		return 0;
	}
	case DRM_IOCTL_MODE_CREATE_DUMB:
		((struct drm_mode_create_dumb *)arg)->handle = 1;
		return 0;
	case DRM_IOCTL_MODE_ADDFB:
		((struct drm_mode_fb_cmd *)arg)->fb_id = 99;
		return 0;
	case DRM_IOCTL_MODE_RMFB:
	case DRM_IOCTL_MODE_DESTROY_DUMB:
		return 0;
	case DRM_IOCTL_MODE_PAGE_FLIP: {
		struct drm_mode_crtc_page_flip *f = arg;
		struct drm_event_vblank ev = {
			.base = { DRM_EVENT_FLIP_COMPLETE, sizeof(ev) },
			.user_data = f->user_data, .crtc_id = f->crtc_id,
		};

		record(req, f->fb_id, 0, 0);
		CHECK(write(fake_w, &ev, sizeof(ev)) == sizeof(ev));
		return 0;
	}
	default:
		errno = EINVAL;
		return -1;
	}
}

/* How many calls of cmd were recorded since `from`; the last in *last. */
static unsigned int calls_of(unsigned long cmd, unsigned int from,
			     struct call *last)
{
	unsigned int n = 0;

	for (unsigned int i = from; i < ncalls; i++)
		if (calls[i].cmd == cmd) {
			n++;
			if (last)
				*last = calls[i];
		}
	return n;
}

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

static struct hostd_config cfg;
static struct hostd_switcher sw;
static struct hostd_poller *poller;

/* sw: two running guests, g0 (domain 1, in front) and g1 (domain 2). */
static void two_guests(void)
{
	memset(&sw, 0, sizeof(sw));
	memset(&cfg, 0, sizeof(cfg));
	if (!poller)
		poller = hostd_poller_create();
	sw.nvms = 2;
	for (unsigned int i = 0; i < 2; i++) {
		snprintf(cfg.guests[i].name, sizeof(cfg.guests[i].name),
			 "g%u", i);
		sw.vms[i].cfg = &cfg.guests[i];
		sw.vms[i].domid = (int)i + 1;
		sw.vms[i].state = HOSTD_VM_RUNNING;
	}
	sw.router.active = 0;
}

/* The display half of a switch to guest `to`, as the switcher runs it. */
static int show(unsigned int to)
{
	sw.router.active = to;
	return sw.hooks.show(sw.hooks.show_data, to);
}

static void on_ready(int fd, short revents, void *data)
{
	(void)fd;
	(void)revents;
	*(bool *)data = true;
}

/* Run hostd's loop (what is registered in the poller) for ms, or until
 * fd is readable. */
static void pump_poller(int fd, int ms)
{
	uint64_t end = hostd_now_us() + (uint64_t)ms * 1000;
	bool ready = false;
	struct hostd_watch *w = hostd_poller_add(poller, fd, POLLIN, on_ready,
						 &ready);

	while (!ready && hostd_now_us() < end)
		if (hostd_poller_dispatch(poller, 5) < 0)
			break;
	hostd_watch_remove(w);
}
static const uint32_t crtc = 31;

static struct hostd_display *setup(void)
{
	struct hostd_display *d;

	two_guests();
	d = hostd_display_create(&sw, poller, NULL);
	hostd_display_set_crtcs(d, &crtc, 1);
	return d;
}

static void msg(int fd, uint16_t type, const void *body, size_t len)
{
	uint8_t buf[PD_DISP_MAX_MSG];
	struct pd_disp_hdr hdr = { .type = type, .len = (uint16_t)len };

	memcpy(buf, &hdr, sizeof(hdr));
	memcpy(buf + sizeof(hdr), body, len);
	CHECK(send(fd, buf, sizeof(hdr) + len, 0) == (ssize_t)(sizeof(hdr) + len));
}

/* Run hostd's side for up to ms, or until fd (a backend's end) is
 * readable or closed. */
static void pump(struct hostd_display *d, int fd, int ms)
{
	(void)d;
	pump_poller(fd, ms);
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
	(void)d;
	(void)r;
	pump_poller(fd, ms);
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
		{ "control without its fd", "g1", 2, PD_DISP_HELLO_REATTACH |
		  PD_DISP_HELLO_CONTROL, 0, 0, 0, true },
		{ "control flag alone", "g1", 2, PD_DISP_HELLO_CONTROL, 0, 1, 0,
		  true },
		{ "unknown flag", "g1", 2, PD_DISP_HELLO_REATTACH | 4, 0, 0, 0,
		  true },
		{ "fds beyond control", "g1", 2, PD_DISP_HELLO_REATTACH |
		  PD_DISP_HELLO_CONTROL, 0, 2, 0, true },
	};

	r = hostd_reattach_create(&sw, poller, d, NULL, NULL,
				  sock_path(), false);
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

	r = hostd_reattach_create(&sw, poller, d, NULL, NULL,
				  sock_path(), false);
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

/* A reattaching backend brings a new control channel with its HELLO
 * (PD_DISP_HELLO_CONTROL): its guest's control files come over it to
 * guestctl.c again, as that guest's. */
static void test_reattach_brings_a_control_channel(void)
{
	struct hostd_display *d = setup();
	struct hostd_guestctl *gc = hostd_guestctl_create(&sw, poller);
	struct hostd_reattach *r;
	struct pd_ctl_open open_msg = { .type = PD_CTL_OPEN };
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl = { 0 };
	struct iovec iov = { &open_msg, sizeof(open_msg) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = ctl.buf,
			     .msg_controllen = sizeof(ctl.buf) };
	struct cmsghdr *c;
	char reply[256] = "";
	int s, chan[2], file[2];
	ssize_t n;

	cfg.guests[1].allow = HOSTD_DEFAULT_ALLOW;
	r = hostd_reattach_create(&sw, poller, d, NULL, gc, sock_path(),
				  false);
	CHECK(r != NULL && gc != NULL);
	CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, chan) == 0);
	s = connect_to(sock_path());
	reattach_hello(s, "g1", 2, PD_DISP_HELLO_REATTACH |
		       PD_DISP_HELLO_CONTROL, 0, &chan[1], 1, 0);
	close(chan[1]);
	pump_all(d, r, s, 200);
	CHECK(!closed(s));
	/* the guest opens its control file: the backend sends it */
	CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, file) == 0);
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &file[1], sizeof(int));
	CHECK(sendmsg(chan[0], &mh, 0) == (ssize_t)sizeof(open_msg));
	close(file[1]);
	pump_poller(file[0], 200);
	CHECK(write(file[0], "LIST", 4) == 4);
	pump_poller(file[0], 500);
	n = recv(file[0], reply, sizeof(reply) - 1, MSG_DONTWAIT);
	CHECK(n > 0);
	if (n > 0)
		reply[n] = '\0';
	CHECK(!strncmp(reply, "OK\nSELF g1\n", 11));
	close(file[0]);
	close(chan[0]);
	close(s);
	hostd_reattach_destroy(r);
	hostd_guestctl_destroy(gc);
	hostd_display_destroy(d);
}

/* setup() with the pretend card as hostd's; closes nothing. */
static struct hostd_display *setup_card(void)
{
	struct hostd_display *d;
	struct stat st;
	char path[64];
	int p[2];

	two_guests();
	CHECK(pipe(p) == 0);
	CHECK(fstat(p[0], &st) == 0);
	fake_ino = st.st_ino;
	fake_w = p[1];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", p[0]);
	d = hostd_display_create(&sw, poller, path);
	close(p[0]);
	ncalls = 0;
	return d;
}

static void teardown_card(struct hostd_display *d)
{
	hostd_display_destroy(d);
	close(fake_w);
	fake_ino = 0;
}

static void send_gamma(int fd, uint16_t red1)
{
	static struct pd_disp_gamma g;

	memset(&g, 0, sizeof(g));
	g.crtc_id = crtc;
	g.size = FAKE_GAMMA;
	for (unsigned int i = 0; i < FAKE_GAMMA; i++)
		g.red[i] = g.green[i] = g.blue[i] = (uint16_t)(i * 3);
	g.red[1] = red1;
	msg(fd, PD_DISP_GAMMA, &g, sizeof(g));
}

static void send_dpms(int fd, uint32_t mode)
{
	struct pd_disp_dpms m = { .conn_id = 40, .mode = mode };

	msg(fd, PD_DISP_DPMS, &m, sizeof(m));
}

static void send_dirty(int fd, uint32_t fb, uint32_t nclips)
{
	struct pd_disp_dirty m = { .fb_id = fb, .nclips = nclips };

	for (uint32_t i = 0; i < nclips; i++)
		m.clips[i] = (struct pd_disp_clip){ 0, 0, 10, 10 };
	msg(fd, PD_DISP_DIRTY, &m, sizeof(m));
}

static void set_crtc_fb(int fd, uint32_t fb)
{
	struct pd_disp_crtc c = { .crtc_id = crtc, .fb_id = fb,
				  .mode_valid = 1, .nconn = 1, .conn = { 40 } };

	msg(fd, PD_DISP_SET_CRTC, &c, sizeof(c));
}

static void test_card_probed(void)
{
	struct hostd_display *d = setup_card();
	int fd0 = hostd_display_backend_fd(d, 0);
	struct call c = { 0 };

	/* what the card answers DIRTYFB with, for the backends */
	CHECK_EQ(hostd_display_dirtyfb(d), -ENOSYS);
	CHECK_EQ(ncalls, 0);
	/* the card's CRTC, gamma size and DPMS property were found: a
	 * foreground guest's gamma and DPMS reach them */
	hello_of(fd0, 0);
	send_gamma(fd0, 77);
	send_dpms(fd0, PD_DISP_DPMS_OFF);
	pump(d, fd0, 100);
	CHECK_EQ(calls_of(DRM_IOCTL_MODE_SETGAMMA, 0, &c), 1);
	CHECK_EQ(c.id, crtc);
	CHECK_EQ(c.red1, 77);
	CHECK_EQ(calls_of(DRM_IOCTL_MODE_SETPROPERTY, 0, &c), 1);
	CHECK_EQ(c.id, 40);
	CHECK_EQ(c.v, PD_DISP_DPMS_OFF);
	CHECK(!closed(fd0));
	close(fd0);
	teardown_card(d);
}

static void test_gamma_dpms_dirty_follow_the_foreground(void)
{
	struct hostd_display *d = setup_card();
	int fd0 = hostd_display_backend_fd(d, 0);	/* in front */
	int fd1 = hostd_display_backend_fd(d, 1);
	unsigned int mark;
	struct call c = { 0 };

	hello_of(fd0, 0);
	hello_of(fd1, 1);
	set_crtc_fb(fd0, 9);
	pump(d, fd0, 50);
	/* the background guest: kept, nothing reaches the card */
	mark = ncalls;
	set_crtc_fb(fd1, 5);
	send_dirty(fd1, 5, 2);		/* shown on its (virtual) CRTC */
	send_gamma(fd1, 1111);
	send_dpms(fd1, PD_DISP_DPMS_OFF);
	pump(d, fd1, 100);
	CHECK_EQ(ncalls, mark);
	CHECK(!closed(fd1));

	/* the foreground guest: damage of the fb it shows, not of another */
	send_dirty(fd0, 9, 3);
	send_dirty(fd0, 8, 1);
	pump(d, fd0, 100);
	CHECK_EQ(calls_of(DRM_IOCTL_MODE_DIRTYFB, mark, &c), 1);
	CHECK_EQ(c.id, 9);
	CHECK_EQ(c.v, 3);

	/* to g1: its CRTC is blanked (SETCRTC off), its gamma, its DPMS */
	mark = ncalls;
	CHECK_EQ(show(1), 0);
	CHECK_EQ(calls_of(DRM_IOCTL_MODE_SETCRTC, mark, &c), 1);
	CHECK_EQ(c.v, 0);
	CHECK_EQ(calls_of(DRM_IOCTL_MODE_SETGAMMA, mark, &c), 1);
	CHECK_EQ(c.red1, 1111);
	CHECK_EQ(calls_of(DRM_IOCTL_MODE_SETPROPERTY, mark, &c), 1);
	CHECK_EQ(c.id, 40);
	CHECK_EQ(c.v, PD_DISP_DPMS_OFF);

	/* blanked in front: its flips are not shown, they complete paced;
	 * its damage does not reach the card */
	mark = ncalls;
	{
		struct pd_disp_flip f = { .cookie = 3, .crtc_id = crtc,
					  .fb_id = 6 };
		struct {
			struct pd_disp_hdr hdr;
			struct pd_disp_flip_done m;
		} r;

		msg(fd1, PD_DISP_FLIP, &f, sizeof(f));
		send_dirty(fd1, 6, 0);
		pump(d, fd1, 1000);
		CHECK(recv(fd1, &r, sizeof(r), MSG_DONTWAIT) == sizeof(r));
		CHECK_EQ(r.m.cookie, 3);
		CHECK_EQ(r.m.result, 0);
		CHECK_EQ(r.m.on_screen, 0);
	}
	CHECK_EQ(ncalls, mark);

	/* DPMS on again in front: its latest frame, the connector on */
	send_dpms(fd1, PD_DISP_DPMS_ON);
	pump(d, fd1, 100);
	CHECK_EQ(calls_of(DRM_IOCTL_MODE_SETCRTC, mark, &c), 1);
	CHECK_EQ(c.v, 6);
	CHECK_EQ(calls_of(DRM_IOCTL_MODE_SETPROPERTY, mark, &c), 1);
	CHECK_EQ(c.v, PD_DISP_DPMS_ON);

	/* back to g0, which set no gamma and no DPMS: the kernel's ramp
	 * (entry 1: 1 << 8) and DPMS on */
	mark = ncalls;
	CHECK_EQ(show(0), 0);
	CHECK_EQ(calls_of(DRM_IOCTL_MODE_SETCRTC, mark, &c), 1);
	CHECK_EQ(c.v, 9);
	CHECK_EQ(calls_of(DRM_IOCTL_MODE_SETGAMMA, mark, &c), 1);
	CHECK_EQ(c.red1, 1 << 8);
	CHECK_EQ(calls_of(DRM_IOCTL_MODE_SETPROPERTY, mark, &c), 1);
	CHECK_EQ(c.v, PD_DISP_DPMS_ON);
	CHECK(!closed(fd0) && !closed(fd1));
	close(fd0);
	close(fd1);
	teardown_card(d);
}

static void test_bad_gamma_dpms_dirty_drop_the_connection(void)
{
	struct hostd_display *d = setup();
	static struct pd_disp_gamma g;
	struct pd_disp_dpms dp = { .conn_id = 40, .mode = 2 };
	struct pd_disp_dirty dirty = { .fb_id = 5, .nclips = 1 };
	struct {
		const char *what;
		uint16_t type;
		const void *body;
		size_t len;
		void *unused;
	} bad[] = {
		{ "gamma short", PD_DISP_GAMMA, &g, sizeof(g) - 2, NULL },
		{ "gamma size 0", PD_DISP_GAMMA, &g, sizeof(g), NULL },
		{ "gamma too big", PD_DISP_GAMMA, &g, sizeof(g), NULL },
		{ "gamma past size", PD_DISP_GAMMA, &g, sizeof(g), NULL },
		{ "gamma other CRTC", PD_DISP_GAMMA, &g, sizeof(g), NULL },
		{ "dpms standby", PD_DISP_DPMS, &dp, sizeof(dp), NULL },
		{ "dpms no connector", PD_DISP_DPMS, &dp, sizeof(dp), NULL },
		{ "dpms long", PD_DISP_DPMS, &dp, sizeof(dp) + 4, NULL },
		{ "dirty too many", PD_DISP_DIRTY, &dirty, sizeof(dirty), NULL },
		{ "dirty past nclips", PD_DISP_DIRTY, &dirty, sizeof(dirty), NULL },
		{ "dirty flags", PD_DISP_DIRTY, &dirty, sizeof(dirty), NULL },
		{ "dirty no fb", PD_DISP_DIRTY, &dirty, sizeof(dirty), NULL },
	};

	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int fd = hostd_display_backend_fd(d, 1);
		uint8_t body[sizeof(g) + 4] = { 0 };

		memset(&g, 0, sizeof(g));
		g.crtc_id = crtc;
		g.size = 256;
		dp = (struct pd_disp_dpms){ .conn_id = 40, .mode = 2 };
		dirty = (struct pd_disp_dirty){ .fb_id = 5, .nclips = 1 };
		switch (i) {
		case 1: g.size = 0; break;
		case 2: g.size = PD_DISPLAY_MAX_GAMMA + 1; break;
		case 3: g.blue[256] = 1; break;
		case 4: g.crtc_id = crtc + 1; break;
		case 6: dp.conn_id = 0; dp.mode = 0; break;
		case 7: dp.mode = 0; break;
		case 8: dirty.nclips = PD_DISPLAY_MAX_CLIPS + 1; break;
		case 9: dirty.clips[1].x2 = 1; break;
		case 10: dirty.flags = 4; break;
		case 11: dirty.fb_id = 0; break;
		}
		memcpy(body, bad[i].body, bad[i].type == PD_DISP_GAMMA ?
		       sizeof(g) : bad[i].type == PD_DISP_DPMS ? sizeof(dp) :
		       sizeof(dirty));
		hello(fd);
		msg(fd, bad[i].type, body, bad[i].len);
		pump(d, fd, 100);
		printf("# %s\n", bad[i].what);
		CHECK(closed(fd));
		close(fd);
	}
	/* the same messages, well formed, keep it */
	{
		int fd = hostd_display_backend_fd(d, 1);

		hello(fd);
		send_gamma(fd, 5);
		send_dpms(fd, PD_DISP_DPMS_OFF);
		send_dirty(fd, 5, PD_DISPLAY_MAX_CLIPS);
		pump(d, fd, 100);
		CHECK(!closed(fd));
		close(fd);
	}
	hostd_display_destroy(d);
}

int main(void)
{
	RUN(test_bad_messages_drop_the_connection);
	RUN(test_background_flips_are_paced);
	RUN(test_a_second_flip_in_flight_drops_the_connection);
	RUN(test_reattach_checks_the_hello);
	RUN(test_reattach_keeps_state_and_flips);
	RUN(test_reattach_brings_a_control_channel);
	RUN(test_card_probed);
	RUN(test_gamma_dpms_dirty_follow_the_foreground);
	RUN(test_bad_gamma_dpms_dirty_drop_the_connection);
	return tap_done();
}
