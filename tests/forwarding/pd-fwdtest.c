// SPDX-License-Identifier: GPL-2.0-only
/*
 * pd-fwdtest: small programs the forwarding tests run in the plain VM on a
 * native device file and on its forwarded twin, printing what they saw so
 * that the test can compare the two.
 *
 *   uinput NAME GO_FILE HOLD_S       create a uinput keyboard called NAME,
 *                                    print its event node, wait until
 *                                    GO_FILE exists, write the known
 *                                    sequence, stay HOLD_S seconds
 *   evdev-ids PATH                   EVIOCGNAME/ID/PHYS/PROP and every
 *                                    EVIOCGBIT, one line each
 *   evdev-read PATH N                block in read() until N events came;
 *                                    print "type code value" per event
 *   evdev-times PATH CLOCK N         EVIOCSCLOCKID CLOCK (realtime,
 *                                    monotonic, boottime), print "ready
 *                                    START" (that clock, us), then per
 *                                    event of the next N: "ev TYPE CODE
 *                                    VALUE TIME READ" (its time, the
 *                                    clock when read() returned, us)
 *   drm-ioctls PATH N                N DRM_IOCTL_VERSION + GET_CAP calls;
 *                                    print how many succeeded and the time
 *   dumb-prime PATH                  dumb buffer: create, map, write a
 *                                    pattern, export a PRIME fd, map that
 *                                    and read the pattern back
 *   poll3 TIMEOUT_MS PATH...         poll all PATHs for POLLIN; print the
 *                                    index of each ready one
 *   epoll3 TIMEOUT_MS PATH...        the same with epoll
 *   select3 TIMEOUT_MS PATH...       the same with select
 *   evdev-intr PATH                  O_NONBLOCK read (EAGAIN), a blocking
 *                                    read a signal interrupts (EINTR),
 *                                    then one blocking read that must get
 *                                    the next event
 *   read-err PATH                    one blocking read; print its errno
 *   fasync PATH TIMEOUT_S            O_ASYNC on PATH: print "sigio" when
 *                                    SIGIO comes, then the event
 *   v4l2-expbuf PATH                 one MMAP capture buffer: write it
 *                                    through its mapping, EXPBUF, map the
 *                                    dma-buf and read the bytes back
 *   drm-master PATH                  SET_MASTER then DROP_MASTER on PATH:
 *                                    "set_master RET errno E" and
 *                                    "drop_master RET errno E"
 *   v4l2-peek PATH                   QUERYBUF of capture buffer 0 and an
 *                                    mmap of it without REQBUFS:
 *                                    "querybuf RET errno E", then
 *                                    "mmap ok" or "mmap errno E"
 *   dumb-show PATH RGB1 RGB2 GO HOLD_S
 *                                    map a 1024x768 dumb buffer, fill it
 *                                    with RGB1 (hex), show it on the first
 *                                    connected connector, print "shown";
 *                                    when file GO exists fill it with RGB2
 *                                    through the same mapping, read it
 *                                    back, print "refilled", stay HOLD_S s
 */
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <linux/input.h>
#include <linux/uinput.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pd_compat.h"	/* __user for the raw uapi headers */
#include <drm/drm.h>
#include <drm/drm_mode.h>
#include <linux/videodev2.h>

static int die(const char *what)
{
	fprintf(stderr, "pd-fwdtest: %s: %s\n", what, strerror(errno));
	return 1;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The known sequence: "paradice" typed, with SYN after every event. */
static const unsigned short seq_keys[] = {
	KEY_P, KEY_A, KEY_R, KEY_A, KEY_D, KEY_I, KEY_C, KEY_E,
};

static void emit(int fd, unsigned short type, unsigned short code, int value)
{
	struct input_event ev = { .type = type, .code = code, .value = value };

	if (write(fd, &ev, sizeof(ev)) != sizeof(ev))
		die("uinput write");
}

static int cmd_uinput(const char *name, const char *go, int hold)
{
	struct uinput_setup us = { 0 };
	char sys[64], path[300];
	struct stat st;
	double t0;
	int fd;

	fd = open("/dev/uinput", O_WRONLY | O_NONBLOCK);
	if (fd < 0)
		return die("/dev/uinput");
	if (ioctl(fd, UI_SET_EVBIT, EV_KEY) || ioctl(fd, UI_SET_EVBIT, EV_SYN) ||
	    ioctl(fd, UI_SET_EVBIT, EV_REP) || ioctl(fd, UI_SET_EVBIT, EV_LED) ||
	    ioctl(fd, UI_SET_LEDBIT, LED_CAPSL) ||
	    ioctl(fd, UI_SET_LEDBIT, LED_NUML))
		return die("UI_SET_EVBIT");
	for (int k = KEY_ESC; k <= KEY_KPDOT; k++)
		if (ioctl(fd, UI_SET_KEYBIT, k))
			return die("UI_SET_KEYBIT");
	us.id.bustype = BUS_VIRTUAL;
	us.id.vendor = 0x1d6b;
	us.id.product = 0x0104;
	us.id.version = 3;
	snprintf(us.name, sizeof(us.name), "%s", name);
	if (ioctl(fd, UI_DEV_SETUP, &us) || ioctl(fd, UI_DEV_CREATE))
		return die("UI_DEV_CREATE");
	if (ioctl(fd, UI_GET_SYSNAME(sizeof(sys)), sys) < 0)
		return die("UI_GET_SYSNAME");
	/* the eventN below /sys/devices/virtual/input/<sys> */
	for (int i = 0; i < 1024; i++) {
		snprintf(path, sizeof(path),
			 "/sys/devices/virtual/input/%s/event%d", sys, i);
		if (!stat(path, &st)) {
			printf("/dev/input/event%d\n", i);
			break;
		}
	}
	fflush(stdout);
	t0 = now();
	while (stat(go, &st) && now() - t0 < hold)
		usleep(20000);
	for (size_t i = 0; i < sizeof(seq_keys) / sizeof(seq_keys[0]); i++) {
		emit(fd, EV_KEY, seq_keys[i], 1);
		emit(fd, EV_SYN, SYN_REPORT, 0);
		emit(fd, EV_KEY, seq_keys[i], 0);
		emit(fd, EV_SYN, SYN_REPORT, 0);
	}
	while (now() - t0 < hold)
		usleep(50000);
	ioctl(fd, UI_DEV_DESTROY);
	return 0;
}

static void print_hex(const char *what, const unsigned char *b, int n)
{
	printf("%s %d:", what, n);
	for (int i = 0; i < n; i++)
		printf("%02x", b[i]);
	printf("\n");
}

static int cmd_evdev_ids(const char *path)
{
	unsigned char bits[KEY_MAX / 8 + 1];
	struct input_id id;
	char str[256];
	int fd, n, version;

	fd = open(path, O_RDONLY | O_NONBLOCK);
	if (fd < 0)
		return die(path);
	if (ioctl(fd, EVIOCGVERSION, &version) < 0)
		return die("EVIOCGVERSION");
	printf("version %x\n", version);
	n = ioctl(fd, EVIOCGNAME(sizeof(str)), str);
	printf("name %d %.*s\n", n, n > 0 ? n : 0, str);
	if (ioctl(fd, EVIOCGID, &id) < 0)
		return die("EVIOCGID");
	printf("id %04x %04x %04x %04x\n", id.bustype, id.vendor, id.product,
	       id.version);
	n = ioctl(fd, EVIOCGPHYS(sizeof(str)), str);
	printf("phys %d %s\n", n, n > 0 ? str : "");
	memset(bits, 0, sizeof(bits));
	n = ioctl(fd, EVIOCGPROP(sizeof(bits)), bits);
	print_hex("prop", bits, n);
	for (int ev = 0; ev < EV_CNT; ev++) {
		char what[16];

		memset(bits, 0, sizeof(bits));
		n = ioctl(fd, EVIOCGBIT(ev, sizeof(bits)), bits);
		snprintf(what, sizeof(what), "bit%02x", ev);
		if (n < 0)
			printf("%s err %d\n", what, errno);
		else
			print_hex(what, bits, n);
	}
	memset(bits, 0, sizeof(bits));
	n = ioctl(fd, EVIOCGKEY(sizeof(bits)), bits);
	print_hex("key", bits, n);
	close(fd);
	return 0;
}

static int cmd_evdev_read(const char *path, int count)
{
	struct input_event ev;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return die(path);
	for (int i = 0; i < count; i++) {
		ssize_t n = read(fd, &ev, sizeof(ev));

		if (n != sizeof(ev))
			return die("read");
		printf("%u %u %d\n", ev.type, ev.code, ev.value);
		fflush(stdout);
	}
	close(fd);
	return 0;
}

static int64_t clock_us(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int cmd_evdev_times(const char *path, const char *clock, int count)
{
	struct input_event ev;
	int id = !strcmp(clock, "monotonic") ? CLOCK_MONOTONIC :
		 !strcmp(clock, "boottime") ? CLOCK_BOOTTIME : CLOCK_REALTIME;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return die(path);
	if (ioctl(fd, EVIOCSCLOCKID, &id))
		return die("EVIOCSCLOCKID");
	printf("ready %lld\n", (long long)clock_us(id));
	fflush(stdout);
	for (int i = 0; i < count; i++) {
		ssize_t n = read(fd, &ev, sizeof(ev));
		int64_t t = clock_us(id);

		if (n != sizeof(ev))
			return die("read");
		printf("ev %u %u %d %lld %lld\n", ev.type, ev.code, ev.value,
		       (long long)ev.input_event_sec * 1000000 +
		       ev.input_event_usec, (long long)t);
		fflush(stdout);
	}
	close(fd);
	return 0;
}

static int cmd_drm_ioctls(const char *path, int count)
{
	char name[64];
	struct drm_version v;
	struct drm_get_cap cap;
	int fd = open(path, O_RDWR), ok = 0;
	double t0;

	if (fd < 0)
		return die(path);
	t0 = now();
	for (int i = 0; i < count; i++) {
		memset(&v, 0, sizeof(v));
		v.name = name;
		v.name_len = sizeof(name);
		cap.capability = DRM_CAP_DUMB_BUFFER;
		cap.value = 0;
		if (i % 2 ? !ioctl(fd, DRM_IOCTL_GET_CAP, &cap) && cap.value :
			    !ioctl(fd, DRM_IOCTL_VERSION, &v))
			ok++;
	}
	printf("ok %d of %d in %.3f s\n", ok, count, now() - t0);
	close(fd);
	return ok == count ? 0 : 1;
}

/* A dumb buffer of w x h at 32 bpp on fd, mapped read-write; NULL (after
 * the message) on failure. */
static uint32_t *new_dumb(int fd, uint32_t w, uint32_t h,
			  struct drm_mode_create_dumb *c)
{
	struct drm_mode_map_dumb m = { 0 };
	void *px;

	*c = (struct drm_mode_create_dumb){ .width = w, .height = h, .bpp = 32 };
	if (ioctl(fd, DRM_IOCTL_MODE_CREATE_DUMB, c)) {
		die("CREATE_DUMB");
		return NULL;
	}
	m.handle = c->handle;
	if (ioctl(fd, DRM_IOCTL_MODE_MAP_DUMB, &m)) {
		die("MAP_DUMB");
		return NULL;
	}
	px = mmap(NULL, c->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		  (off_t)m.offset);
	if (px == MAP_FAILED) {
		die("mmap of the dumb buffer");
		return NULL;
	}
	return px;
}

static int cmd_dumb_prime(const char *path)
{
	struct drm_mode_create_dumb c;
	struct drm_prime_handle p = { 0 };
	uint32_t *a, *b;
	int fd = open(path, O_RDWR), bad = 0;

	if (fd < 0)
		return die(path);
	a = new_dumb(fd, 256, 64, &c);
	if (!a)
		return 1;
	for (uint64_t i = 0; i < c.size / 4; i++)
		a[i] = 0x5a000000u | (uint32_t)i;
	p.handle = c.handle;
	p.flags = DRM_CLOEXEC | DRM_RDWR;
	if (ioctl(fd, DRM_IOCTL_PRIME_HANDLE_TO_FD, &p))
		return die("PRIME_HANDLE_TO_FD");
	b = mmap(NULL, c.size, PROT_READ, MAP_SHARED, p.fd, 0);
	if (b == MAP_FAILED)
		return die("mmap of the PRIME fd");
	for (uint64_t i = 0; i < c.size / 4; i++)
		if (b[i] != (0x5a000000u | (uint32_t)i))
			bad++;
	printf("size %llu pitch %u prime-fd %d mismatches %d\n",
	       (unsigned long long)c.size, c.pitch, p.fd >= 0, bad);
	return bad ? 1 : 0;
}

/* The first connected connector with a 1024x768 mode, and a CRTC. */
static int find_output(int fd, uint32_t *conn_id, uint32_t *crtc_id,
		       struct drm_mode_modeinfo *mode)
{
	struct drm_mode_card_res res = { 0 };
	uint32_t conns[16], crtcs[16];

	if (ioctl(fd, DRM_IOCTL_MODE_GETRESOURCES, &res))
		return die("GETRESOURCES");
	if (!res.count_crtcs || res.count_crtcs > 16 || res.count_connectors > 16)
		return die("resource counts");
	res.count_fbs = res.count_encoders = 0;
	res.crtc_id_ptr = (uintptr_t)crtcs;
	res.connector_id_ptr = (uintptr_t)conns;
	if (ioctl(fd, DRM_IOCTL_MODE_GETRESOURCES, &res))
		return die("GETRESOURCES");
	*crtc_id = crtcs[0];
	for (uint32_t i = 0; i < res.count_connectors; i++) {
		struct drm_mode_modeinfo modes[64];
		struct drm_mode_get_connector c = { .connector_id = conns[i] };

		if (ioctl(fd, DRM_IOCTL_MODE_GETCONNECTOR, &c))
			return die("GETCONNECTOR");
		if (c.connection != 1 || !c.count_modes)
			continue;
		c.count_modes = c.count_modes > 64 ? 64 : c.count_modes;
		c.count_props = c.count_encoders = 0;
		c.modes_ptr = (uintptr_t)modes;
		if (ioctl(fd, DRM_IOCTL_MODE_GETCONNECTOR, &c))
			return die("GETCONNECTOR");
		for (uint32_t m = 0; m < c.count_modes; m++) {
			if (modes[m].hdisplay == 1024 && modes[m].vdisplay == 768) {
				*conn_id = conns[i];
				*mode = modes[m];
				return 0;
			}
		}
	}
	errno = ENODEV;
	return die("no connected connector with 1024x768");
}

static void fill(uint32_t *px, uint64_t n, uint32_t rgb)
{
	for (uint64_t i = 0; i < n; i++)
		px[i] = rgb;
}

static int cmd_dumb_show(const char *path, uint32_t rgb1, uint32_t rgb2,
			 const char *go, int hold)
{
	struct drm_mode_create_dumb c;
	struct drm_mode_fb_cmd fb = { .width = 1024, .height = 768, .bpp = 32,
				      .depth = 24 };
	struct drm_mode_crtc crtc = { 0 };
	struct drm_mode_modeinfo mode;
	uint32_t conn_id, *px;
	uint64_t bad = 0;
	int fd = open(path, O_RDWR);

	if (fd < 0)
		return die(path);
	if (find_output(fd, &conn_id, &crtc.crtc_id, &mode))
		return 1;
	px = new_dumb(fd, 1024, 768, &c);
	if (!px)
		return 1;
	fill(px, c.size / 4, rgb1);
	fb.pitch = c.pitch;
	fb.handle = c.handle;
	if (ioctl(fd, DRM_IOCTL_MODE_ADDFB, &fb))
		return die("ADDFB");
	crtc.fb_id = fb.fb_id;
	crtc.set_connectors_ptr = (uintptr_t)&conn_id;
	crtc.count_connectors = 1;
	crtc.mode = mode;
	crtc.mode_valid = 1;
	if (ioctl(fd, DRM_IOCTL_MODE_SETCRTC, &crtc))
		return die("SETCRTC");
	printf("shown %06x, %llu bytes\n", rgb1, (unsigned long long)c.size);
	fflush(stdout);
	while (access(go, F_OK))
		usleep(100000);
	fill(px, c.size / 4, rgb2);
	for (uint64_t i = 0; i < c.size / 4; i++)
		bad += px[i] != rgb2;
	printf("refilled %06x, %llu words differ\n", rgb2,
	       (unsigned long long)bad);
	fflush(stdout);
	sleep((unsigned int)hold);
	return bad ? 1 : 0;
}

static int cmd_poll(const char *how, int timeout, int n, char **paths)
{
	struct pollfd p[8];
	int r;

	if (n > 8)
		n = 8;
	for (int i = 0; i < n; i++) {
		p[i].fd = open(paths[i], O_RDWR | O_NONBLOCK);
		if (p[i].fd < 0)
			p[i].fd = open(paths[i], O_RDONLY | O_NONBLOCK);
		if (p[i].fd < 0)
			return die(paths[i]);
		p[i].events = POLLIN;
	}
	printf("polling\n");
	fflush(stdout);
	if (!strcmp(how, "epoll3")) {
		struct epoll_event ev, out[8];
		int ep = epoll_create1(0);

		for (int i = 0; i < n; i++) {
			ev.events = EPOLLIN;
			ev.data.u32 = (uint32_t)i;
			if (epoll_ctl(ep, EPOLL_CTL_ADD, p[i].fd, &ev))
				return die("epoll_ctl");
			p[i].revents = 0;
		}
		r = epoll_wait(ep, out, 8, timeout);
		for (int i = 0; i < r; i++)
			p[out[i].data.u32].revents = (short)out[i].events;
	} else if (!strcmp(how, "select3")) {
		struct timeval tv = { timeout / 1000, (timeout % 1000) * 1000 };
		fd_set rd;
		int max = 0;

		FD_ZERO(&rd);
		for (int i = 0; i < n; i++) {
			FD_SET(p[i].fd, &rd);
			max = p[i].fd > max ? p[i].fd : max;
		}
		r = select(max + 1, &rd, NULL, NULL, &tv);
		for (int i = 0; i < n; i++)
			p[i].revents = r > 0 && FD_ISSET(p[i].fd, &rd) ? POLLIN : 0;
	} else {
		r = poll(p, (nfds_t)n, timeout);
	}
	if (r < 0)
		return die(how);
	for (int i = 0; i < n; i++)
		if (p[i].revents)
			printf("ready %d %x\n", i, p[i].revents);
	printf("done %d\n", r);
	return 0;
}

static void on_alarm(int sig)
{
	(void)sig;
}

static int cmd_evdev_intr(const char *path)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct input_event ev;
	double t0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_NONBLOCK);

	if (fd < 0)
		return die(path);
	n = read(fd, &ev, sizeof(ev));
	printf("nonblock %s\n", n < 0 && errno == EAGAIN ? "EAGAIN" : "WRONG");
	if (fcntl(fd, F_SETFL, 0))
		return die("F_SETFL");
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);	/* no SA_RESTART */
	t0 = now();
	alarm(1);
	n = read(fd, &ev, sizeof(ev));
	printf("interrupted %s after %.1f s\n",
	       n < 0 && errno == EINTR ? "EINTR" : "WRONG", now() - t0);
	fflush(stdout);
	n = read(fd, &ev, sizeof(ev));
	if (n != sizeof(ev))
		return die("read");
	printf("%u %u %d\n", ev.type, ev.code, ev.value);
	return 0;
}

static volatile sig_atomic_t got_sigio;

static void on_sigio(int sig)
{
	(void)sig;
	got_sigio = 1;
}

static int cmd_fasync(const char *path, int timeout)
{
	struct sigaction sa = { .sa_handler = on_sigio };
	struct input_event ev;
	int fd = open(path, O_RDONLY | O_NONBLOCK);
	double t0 = now();

	if (fd < 0)
		return die(path);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGIO, &sa, NULL);
	if (fcntl(fd, F_SETOWN, getpid()) ||
	    fcntl(fd, F_SETFL, O_NONBLOCK | O_ASYNC))
		return die("O_ASYNC");
	printf("armed\n");
	fflush(stdout);
	while (!got_sigio && now() - t0 < timeout)
		usleep(20000);
	if (!got_sigio) {
		printf("no sigio\n");
		return 1;
	}
	printf("sigio\n");
	if (read(fd, &ev, sizeof(ev)) != sizeof(ev))
		return die("read");
	printf("%u %u %d\n", ev.type, ev.code, ev.value);
	return 0;
}

static int cmd_read_err(const char *path)
{
	char buf[64];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return die(path);
	printf("reading\n");
	fflush(stdout);
	n = read(fd, buf, sizeof(buf));
	printf("read %zd errno %d\n", n, n < 0 ? errno : 0);
	return 0;
}

static int cmd_v4l2_expbuf(const char *path)
{
	struct v4l2_requestbuffers rb = {
		.count = 1, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
		.memory = V4L2_MEMORY_MMAP,
	};
	struct v4l2_buffer b = {
		.type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .memory = V4L2_MEMORY_MMAP,
	};
	struct v4l2_exportbuffer eb = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
	uint8_t *a, *d;
	int fd = open(path, O_RDWR), bad = 0;

	if (fd < 0)
		return die(path);
	if (ioctl(fd, VIDIOC_REQBUFS, &rb) || rb.count < 1)
		return die("REQBUFS");
	if (ioctl(fd, VIDIOC_QUERYBUF, &b))
		return die("QUERYBUF");
	a = mmap(NULL, b.length, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 b.m.offset);
	if (a == MAP_FAILED)
		return die("mmap of the buffer");
	for (uint32_t i = 0; i < b.length; i++)
		a[i] = (uint8_t)(i * 7 + 3);
	if (ioctl(fd, VIDIOC_EXPBUF, &eb))
		return die("EXPBUF");
	d = mmap(NULL, b.length, PROT_READ, MAP_SHARED, eb.fd, 0);
	if (d == MAP_FAILED)
		return die("mmap of the dma-buf");
	for (uint32_t i = 0; i < b.length; i++)
		if (d[i] != (uint8_t)(i * 7 + 3))
			bad++;
	printf("length %u expbuf-fd %d mismatches %d\n", b.length, eb.fd >= 0,
	       bad);
	return bad ? 1 : 0;
}

static int cmd_drm_master(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC), r;

	if (fd < 0)
		return die(path);
	errno = 0;
	r = ioctl(fd, DRM_IOCTL_SET_MASTER, 0);
	printf("set_master %d errno %d\n", r, r ? errno : 0);
	errno = 0;
	r = ioctl(fd, DRM_IOCTL_DROP_MASTER, 0);
	printf("drop_master %d errno %d\n", r, r ? errno : 0);
	close(fd);
	return 0;
}

static int cmd_v4l2_peek(const char *path)
{
	struct v4l2_buffer b = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
				 .memory = V4L2_MEMORY_MMAP };
	int fd = open(path, O_RDWR | O_CLOEXEC), r;
	void *p;

	if (fd < 0)
		return die(path);
	r = ioctl(fd, VIDIOC_QUERYBUF, &b);
	printf("querybuf %d errno %d\n", r, r ? errno : 0);
	p = mmap(NULL, r ? 4096 : b.length, PROT_READ, MAP_SHARED, fd,
		 r ? 0 : b.m.offset);
	if (p == MAP_FAILED) {
		printf("mmap errno %d\n", errno);
	} else {
		printf("mmap ok\n");
		munmap(p, r ? 4096 : b.length);
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 5 && !strcmp(argv[1], "uinput"))
		return cmd_uinput(argv[2], argv[3], atoi(argv[4]));
	if (argc == 3 && !strcmp(argv[1], "evdev-ids"))
		return cmd_evdev_ids(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "evdev-read"))
		return cmd_evdev_read(argv[2], atoi(argv[3]));
	if (argc == 5 && !strcmp(argv[1], "evdev-times"))
		return cmd_evdev_times(argv[2], argv[3], atoi(argv[4]));
	if (argc == 4 && !strcmp(argv[1], "drm-ioctls"))
		return cmd_drm_ioctls(argv[2], atoi(argv[3]));
	if (argc == 3 && !strcmp(argv[1], "dumb-prime"))
		return cmd_dumb_prime(argv[2]);
	if (argc >= 4 && (!strcmp(argv[1], "poll3") ||
			  !strcmp(argv[1], "epoll3") ||
			  !strcmp(argv[1], "select3")))
		return cmd_poll(argv[1], atoi(argv[2]), argc - 3, argv + 3);
	if (argc == 3 && !strcmp(argv[1], "evdev-intr"))
		return cmd_evdev_intr(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "fasync"))
		return cmd_fasync(argv[2], atoi(argv[3]));
	if (argc == 3 && !strcmp(argv[1], "read-err"))
		return cmd_read_err(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "v4l2-expbuf"))
		return cmd_v4l2_expbuf(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "v4l2-peek"))
		return cmd_v4l2_peek(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "drm-master"))
		return cmd_drm_master(argv[2]);
	if (argc == 7 && !strcmp(argv[1], "dumb-show"))
		return cmd_dumb_show(argv[2], (uint32_t)strtoul(argv[3], NULL, 16),
				     (uint32_t)strtoul(argv[4], NULL, 16),
				     argv[5], atoi(argv[6]));
	fprintf(stderr, "usage: see the comment at the top of pd-fwdtest.c\n");
	return 2;
}
