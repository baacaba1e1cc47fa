// SPDX-License-Identifier: GPL-2.0-only
/*
 * pd-bench: the measuring half of `make bench`. Each command measures one
 * thing on one device file and prints "RESULT <name> <value> <unit>" lines;
 * bench/run runs it on the native file and on the forwarded one in the
 * same machine and reports ratios. No pass/fail here: numbers only.
 *
 *   pd-bench rtt DEV [-n N] [-V]        small ioctl round trip, ns per call
 *                                       (DRM: GET_UNIQUE, which always
 *                                       travels; -V: VERSION, which the
 *                                       frontend answers from its cache)
 *   pd-bench write DEV SIZE [-t SEC]    bulk write throughput, MB/s (evdev)
 *   pd-bench mmap DEV [-s BYTES]        touch every byte of a dumb buffer
 *   pd-bench conc DEV PROCS [-t SEC]    PROCS processes doing rtt, calls/s
 *   pd-bench uinput NAME                create a uinput keyboard, print its
 *                                       event node, live until stdin closes
 *   pd-bench evlat UINPUT_NODE DEV [-n N]  write an event to the uinput
 *                                       device, time until DEV reads it
 *   pd-bench evping UINPUT_NODE BACK [-n N]  ping-pong with evecho running
 *                                       elsewhere on a view of the device
 *                                       (another domain): half the round
 *                                       trip, us
 *   pd-bench evecho DEV [-n N]          echo N pings (value + 1000000)
 *   pd-bench clockoff                   CLOCK_REALTIME - CLOCK_MONOTONIC, ns
 *   pd-bench v4l2lat DEV [-n N] [-c OFF]  V4L2 buffer timestamp to DQBUF,
 *                                       median, us (see cmd_v4l2lat)
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/input.h>
#include <linux/uinput.h>
#include <linux/videodev2.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <drm.h>
#include <drm_mode.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int die(const char *what)
{
	fprintf(stderr, "pd-bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int open_dev(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		die(path);
	return fd;
}

enum kind { K_DRM, K_EVDEV, K_V4L2, K_OTHER };

/* What sort of device file: by the char major as seen in sysfs names. */
static enum kind kind_of(const char *path)
{
	if (strstr(path, "/dri/"))
		return K_DRM;
	if (strstr(path, "/input/"))
		return K_EVDEV;
	if (strstr(path, "/video"))
		return K_V4L2;
	return K_OTHER;
}

/* DRM's small ioctl: VERSION (-V) instead of GET_UNIQUE. */
static bool drm_version;

/*
 * One cheap ioctl of the device's class that every driver answers. For
 * DRM it is GET_UNIQUE with no room for the string: VERSION, the old
 * choice, is an immutable query that the frontend answers without a
 * trip once it has seen it (kernel/front_qcache.c), which measures the
 * cache and not a round trip.
 */
static int small_ioctl(int fd, enum kind k)
{
	switch (k) {
	case K_DRM: {
		struct drm_version v;
		struct drm_unique u;

		if (drm_version) {
			memset(&v, 0, sizeof(v));
			return ioctl(fd, DRM_IOCTL_VERSION, &v);
		}
		memset(&u, 0, sizeof(u));
		return ioctl(fd, DRM_IOCTL_GET_UNIQUE, &u);
	}
	case K_EVDEV: {
		int version;

		return ioctl(fd, EVIOCGVERSION, &version);
	}
	case K_V4L2: {
		struct v4l2_capability cap;

		return ioctl(fd, VIDIOC_QUERYCAP, &cap);
	}
	default:
		errno = ENOTTY;
		return -1;
	}
}

static int cmd_rtt(const char *dev, long n)
{
	int fd = open_dev(dev);
	enum kind k = kind_of(dev);
	double t0;
	long i;

	for (int w = 0; w < 100; w++) /* warm up */
		if (small_ioctl(fd, k) < 0)
			die("ioctl");
	/* n calls, or as many as fit in a second when they are slow */
	t0 = now_s();
	for (i = 0; i < n; i++) {
		if ((i & 15) == 0 && i && now_s() - t0 > 1.0)
			break;
		small_ioctl(fd, k);
	}
	printf("RESULT rtt %.0f ns\n", (now_s() - t0) * 1e9 / (double)i);
	close(fd);
	return 0;
}

/*
 * PROCS processes, each with its own open file, doing the small ioctl
 * for secs. Each warms up first (as rtt does: the file's first calls
 * are not the steady state) and counts its own calls over its own
 * clock, since the last batch ends after secs; the result is the sum
 * of their rates.
 */
struct conc_out {
	long calls;
	double secs;
};

static int cmd_conc(const char *dev, int procs, double secs)
{
	int pipes[64][2];
	double total = 0;
	enum kind k = kind_of(dev);

	if (procs < 1 || procs > 64)
		return fprintf(stderr, "pd-bench: 1..64 processes\n"), 2;
	for (int p = 0; p < procs; p++) {
		if (pipe(pipes[p]) < 0)
			die("pipe");
		if (fork() == 0) {
			int fd = open_dev(dev);
			struct conc_out out = { 0 };
			double start, end;

			for (int w = 0; w < 16; w++)
				if (small_ioctl(fd, k) < 0)
					die("ioctl");
			start = now_s();
			end = start + secs;
			while (now_s() < end) {
				for (int i = 0; i < 16; i++)
					small_ioctl(fd, k);
				out.calls += 16;
			}
			out.secs = now_s() - start;
			if (write(pipes[p][1], &out, sizeof(out)) < 0)
				_exit(1);
			_exit(0);
		}
		close(pipes[p][1]);
	}
	for (int p = 0; p < procs; p++) {
		struct conc_out out = { 0 };

		if (read(pipes[p][0], &out, sizeof(out)) == sizeof(out) &&
		    out.secs > 0)
			total += (double)out.calls / out.secs;
		close(pipes[p][0]);
	}
	while (wait(NULL) > 0)
		;
	printf("RESULT conc%d %.0f calls/s\n", procs, total);
	return 0;
}

/* evdev write: input_event records (EV_MSC/MSC_SCAN), injected as input. */
static int cmd_write(const char *dev, size_t size, double secs)
{
	int fd = open_dev(dev);
	size_t n = size / sizeof(struct input_event);
	struct input_event *ev;
	double t0, t;
	long long bytes = 0;

	if (n == 0)
		n = 1;
	ev = calloc(n, sizeof(*ev));
	if (!ev)
		die("calloc");
	for (size_t i = 0; i < n; i++) {
		ev[i].type = EV_MSC;
		ev[i].code = MSC_SCAN;
		ev[i].value = (int)i;
	}
	t0 = now_s();
	do {
		ssize_t w = write(fd, ev, n * sizeof(*ev));

		if (w < 0)
			die("write");
		bytes += w;
		t = now_s();
	} while (t - t0 < secs);
	printf("RESULT write%zu %.3f MB/s\n", size, (double)bytes / (t - t0) / 1e6);
	free(ev);
	close(fd);
	return 0;
}

/* A dumb buffer of `size` bytes, mapped; touch every byte twice. */
static int cmd_mmap(const char *dev, size_t size)
{
	int fd = open_dev(dev);
	struct drm_mode_create_dumb c = { .width = 1024, .bpp = 32 };
	struct drm_mode_map_dumb m = { 0 };
	struct drm_mode_destroy_dumb d = { 0 };
	volatile uint8_t *p;
	double t0, t1, t2;
	unsigned long sum = 0;

	c.height = (uint32_t)(size / (1024 * 4));
	if (ioctl(fd, DRM_IOCTL_MODE_CREATE_DUMB, &c) < 0)
		die("CREATE_DUMB");
	m.handle = c.handle;
	if (ioctl(fd, DRM_IOCTL_MODE_MAP_DUMB, &m) < 0)
		die("MAP_DUMB");
	p = mmap(NULL, c.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 (off_t)m.offset);
	if (p == MAP_FAILED)
		die("mmap");
	t0 = now_s();
	for (size_t i = 0; i < c.size; i++) /* first touch: faults */
		p[i] = (uint8_t)i;
	t1 = now_s();
	for (size_t i = 0; i < c.size; i++) /* mapped: memory speed */
		sum += p[i];
	t2 = now_s();
	printf("RESULT mmap_first_touch %.3f ms\n", (t1 - t0) * 1e3);
	printf("RESULT mmap_touch %.3f ms\n", (t2 - t1) * 1e3);
	if (sum == 1)
		printf("#\n"); /* keep the loop */
	munmap((void *)p, c.size);
	d.handle = c.handle;
	ioctl(fd, DRM_IOCTL_MODE_DESTROY_DUMB, &d);
	close(fd);
	return 0;
}

static int cmd_uinput(const char *name)
{
	struct uinput_setup us = { .id = { .bustype = BUS_VIRTUAL,
					   .vendor = 0x5044, .product = 0x42 } };
	int fd = open_dev("/dev/uinput");
	char sys[64], buf[1];

	ioctl(fd, UI_SET_EVBIT, EV_KEY);
	ioctl(fd, UI_SET_EVBIT, EV_MSC);
	ioctl(fd, UI_SET_MSCBIT, MSC_SCAN);
	for (int k = KEY_ESC; k <= KEY_MICMUTE; k++)
		ioctl(fd, UI_SET_KEYBIT, k);
	snprintf(us.name, sizeof(us.name), "%s", name);
	if (ioctl(fd, UI_DEV_SETUP, &us) < 0 || ioctl(fd, UI_DEV_CREATE) < 0)
		die("uinput");
	if (ioctl(fd, UI_GET_SYSNAME(sizeof(sys)), sys) < 0)
		die("UI_GET_SYSNAME");
	/* the event node under /sys/devices/virtual/input/<sys>/ */
	for (int i = 0; i < 50; i++) {
		char path[128];

		for (int e = 0; e < 64; e++) {
			snprintf(path, sizeof(path),
				 "/sys/devices/virtual/input/%s/event%d", sys, e);
			if (access(path, F_OK) == 0) {
				printf("/dev/input/event%d\n", e);
				fflush(stdout);
				while (read(0, buf, 1) > 0)
					;
				close(fd);
				return 0;
			}
		}
		usleep(100000);
	}
	fprintf(stderr, "pd-bench: no event node for %s\n", sys);
	return 1;
}

/* Latency from a uinput write to the read of the same event on dev. */
static int cmd_evlat(const char *uinput_node, const char *dev, long n)
{
	int in = open_dev(uinput_node), out = open_dev(dev);
	double total = 0, worst = 0;

	for (long i = 0; i < n; i++) {
		struct input_event ev[2] = {
			{ .type = EV_MSC, .code = MSC_SCAN, .value = (int)i + 1 },
			{ .type = EV_SYN, .code = SYN_REPORT },
		};
		struct input_event got;
		struct pollfd pfd = { .fd = out, .events = POLLIN };
		double t0 = now_s(), dt;

		if (write(in, ev, sizeof(ev)) != sizeof(ev))
			die("write");
		for (;;) {
			if (poll(&pfd, 1, 2000) <= 0)
				die("no event came");
			if (read(out, &got, sizeof(got)) != sizeof(got))
				die("read");
			if (got.type == EV_MSC && got.value == (int)i + 1)
				break;
		}
		dt = now_s() - t0;
		total += dt;
		if (dt > worst)
			worst = dt;
	}
	printf("RESULT evlat %.1f us\n", total / (double)n * 1e6);
	printf("RESULT evlat_worst %.1f us\n", worst * 1e6);
	return 0;
}

/* Wait up to ms for an EV_MSC event with value want on fd (others are
 * skipped); false if none came. */
static bool wait_msc(int fd, int want, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct input_event got;

	for (;;) {
		if (poll(&pfd, 1, ms) <= 0)
			return false;
		if (read(fd, &got, sizeof(got)) != sizeof(got))
			die("read");
		if (got.type == EV_MSC && got.value == want)
			return true;
	}
}

static void send_msc(int fd, int value)
{
	struct input_event ev[2] = {
		{ .type = EV_MSC, .code = MSC_SCAN, .value = value },
		{ .type = EV_SYN, .code = SYN_REPORT },
	};

	if (write(fd, ev, sizeof(ev)) != sizeof(ev))
		die("write");
}

#define ECHO_OFFSET 1000000

/*
 * Event latency across two machines that share no clock: a ping-pong. The
 * pinger writes event i into its uinput device; the echoer (evecho, in
 * another domain, on its view of that device) reads it and writes i +
 * ECHO_OFFSET back into the same device, which the pinger reads on
 * back_node. Half the round trip is one event's latency.
 */
static int cmd_evping(const char *uinput_node, const char *back_node, long n)
{
	int in = open_dev(uinput_node), back = open_dev(back_node);
	double total = 0;

	/* the echoer may still be starting: ping 1 until it answers */
	for (int tries = 0;; tries++) {
		if (tries == 60) {
			errno = ETIMEDOUT;
			die("no echo in 60 s");
		}
		send_msc(in, 1);
		if (wait_msc(back, 1 + ECHO_OFFSET, 1000))
			break;
	}
	for (long i = 2; i < n + 2; i++) {
		double t0 = now_s();

		send_msc(in, (int)i);
		if (!wait_msc(back, (int)i + ECHO_OFFSET, 5000)) {
			errno = ETIMEDOUT;
			die("no echo");
		}
		total += now_s() - t0;
	}
	printf("RESULT evpong %.1f us\n", total / (double)n / 2 * 1e6);
	return 0;
}

static int cmd_evecho(const char *dev, long n)
{
	int fd = open_dev(dev);
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int odd = 0, last = 0;
	long done = 0;

	/* Echoes every ping up to the pinger's last one, n + 1 (ping 1 is
	 * repeated until answered, then 2 .. n + 1), and stops on that value,
	 * not on a count: other EV_MSC events in the same device (seen in the
	 * xen appliance: values 43688 and 43689 before ping 1) are echoed
	 * too, harmlessly, but neither count as pings nor end the echoer
	 * before the last ping. Reads as many events as are queued, as
	 * libevdev does. */
	while (last != n + 1) {
		struct input_event got[64];
		ssize_t len;

		if (poll(&pfd, 1, 20000) <= 0)
			die("no ping came");
		len = read(fd, got, sizeof(got));
		if (len <= 0 || len % (ssize_t)sizeof(got[0]))
			die("read");
		for (size_t i = 0; i < (size_t)len / sizeof(got[0]); i++) {
			int v = got[i].value;

			if (got[i].type != EV_MSC || v <= 0 || v >= ECHO_OFFSET)
				continue;
			send_msc(fd, v + ECHO_OFFSET);
			if (v == last + 1) {
				last = v;
				done++;
			} else if (!(v == 1 && last == 1) && odd++ < 20) {
				/* a repeated ping 1 is expected */
				fprintf(stderr, "evecho: ping %d after %d\n", v,
					last);
			}
		}
	}
	fprintf(stderr, "evecho: %ld pings echoed, %d out of order\n", done, odd);
	return 0;
}

static int64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* This domain's CLOCK_REALTIME - CLOCK_MONOTONIC. */
static int64_t clock_offset(void)
{
	return clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_MONOTONIC);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/*
 * From a V4L2 capture buffer's timestamp (the capturing kernel's
 * CLOCK_MONOTONIC) to its DQBUF, median over n frames, streaming with 4
 * mmapped buffers. A guest's clocks are not dom0's, but under Xen both
 * keep CLOCK_REALTIME from the same system time: the timestamp is moved
 * into it with the capturing domain's realtime - monotonic (clockoff
 * there, given as -c; our own by default). vivid's timestamps are
 * nominal frame times, not the moment a frame is ready: only the
 * difference between the forwarded and the native figure is meaningful.
 */
static int cmd_v4l2lat(const char *dev, long n, int64_t off)
{
	int fd = open_dev(dev);
	struct v4l2_requestbuffers rb = {
		.count = 4, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
		.memory = V4L2_MEMORY_MMAP,
	};
	int type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int64_t *lat;

	if (n < 1 || !(lat = calloc((size_t)n, sizeof(*lat))))
		die("frames");
	if (ioctl(fd, VIDIOC_REQBUFS, &rb) < 0 || rb.count < 2)
		die("VIDIOC_REQBUFS");
	for (unsigned int i = 0; i < rb.count; i++) {
		struct v4l2_buffer b = { .index = i, .type = rb.type,
					 .memory = V4L2_MEMORY_MMAP };

		if (ioctl(fd, VIDIOC_QUERYBUF, &b) < 0)
			die("VIDIOC_QUERYBUF");
		if (mmap(NULL, b.length, PROT_READ, MAP_SHARED, fd,
			 b.m.offset) == MAP_FAILED)
			die("mmap");
		if (ioctl(fd, VIDIOC_QBUF, &b) < 0)
			die("VIDIOC_QBUF");
	}
	if (ioctl(fd, VIDIOC_STREAMON, &type) < 0)
		die("VIDIOC_STREAMON");
	for (long i = 0; i < n; i++) {
		struct v4l2_buffer b = { .type = rb.type,
					 .memory = V4L2_MEMORY_MMAP };

		if (poll(&pfd, 1, 10000) <= 0)
			die("no frame in 10 s");
		if (ioctl(fd, VIDIOC_DQBUF, &b) < 0)
			die("VIDIOC_DQBUF");
		lat[i] = clock_ns(CLOCK_REALTIME) -
			 ((int64_t)b.timestamp.tv_sec * 1000000000 +
			  (int64_t)b.timestamp.tv_usec * 1000 + off);
		if (ioctl(fd, VIDIOC_QBUF, &b) < 0)
			die("VIDIOC_QBUF");
	}
	ioctl(fd, VIDIOC_STREAMOFF, &type);
	qsort(lat, (size_t)n, sizeof(*lat), cmp_i64);
	printf("RESULT v4l2lat %.1f us\n", (double)lat[n / 2] / 1e3);
	free(lat);
	return 0;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: pd-bench rtt DEV [-n N] [-V]\n"
		"       pd-bench write DEV SIZE [-t SEC]\n"
		"       pd-bench mmap DEV [-s BYTES]\n"
		"       pd-bench conc DEV PROCS [-t SEC]\n"
		"       pd-bench uinput NAME\n"
		"       pd-bench evlat UINPUT_NODE DEV [-n N]\n"
		"       pd-bench evping UINPUT_NODE BACK_NODE [-n N]\n"
		"       pd-bench evecho DEV [-n N]\n"
		"       pd-bench clockoff\n"
		"       pd-bench v4l2lat DEV [-n N] [-c CLOCKOFF_NS]\n");
	return 2;
}

/* The value after flag, or def. */
static double opt(int argc, char **argv, const char *flag, double def)
{
	for (int i = 0; i + 1 < argc; i++)
		if (strcmp(argv[i], flag) == 0)
			return atof(argv[i + 1]);
	return def;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 2 && strcmp(argv[1], "clockoff") == 0) {
		printf("RESULT clockoff %lld ns\n", (long long)clock_offset());
		return 0;
	}
	if (argc < 3)
		return usage();
	for (int i = 3; i < argc; i++)
		if (strcmp(argv[i], "-V") == 0)
			drm_version = true;
	if (strcmp(argv[1], "rtt") == 0)
		return cmd_rtt(argv[2], (long)opt(argc, argv, "-n", 20000));
	if (strcmp(argv[1], "write") == 0 && argc >= 4)
		return cmd_write(argv[2], (size_t)atol(argv[3]),
				 opt(argc, argv, "-t", 1));
	if (strcmp(argv[1], "mmap") == 0)
		return cmd_mmap(argv[2], (size_t)opt(argc, argv, "-s", 8 << 20));
	if (strcmp(argv[1], "conc") == 0 && argc >= 4)
		return cmd_conc(argv[2], atoi(argv[3]), opt(argc, argv, "-t", 2));
	if (strcmp(argv[1], "uinput") == 0)
		return cmd_uinput(argv[2]);
	if (strcmp(argv[1], "evping") == 0 && argc >= 4)
		return cmd_evping(argv[2], argv[3], (long)opt(argc, argv, "-n", 100));
	if (strcmp(argv[1], "evecho") == 0)
		return cmd_evecho(argv[2], (long)opt(argc, argv, "-n", 100));
	if (strcmp(argv[1], "v4l2lat") == 0)
		return cmd_v4l2lat(argv[2], (long)opt(argc, argv, "-n", 60),
				   (int64_t)opt(argc, argv, "-c",
						(double)clock_offset()));
	if (strcmp(argv[1], "evlat") == 0 && argc >= 4)
		return cmd_evlat(argv[2], argv[3], (long)opt(argc, argv, "-n", 500));
	return usage();
}
