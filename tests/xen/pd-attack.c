// SPDX-License-Identifier: GPL-2.0-only
/*
 * pd-attack: a hostile guest's programs, run by tests/xen/test_xen_attack.py
 * in a guest of the xen appliance (never installed by a package). Each
 * does one thing a guest must not get away with and prints what happened,
 * one line, for the test to judge; dom0's side is checked by the test.
 *
 *   hold-grants MAXREF SECONDS   map through /dev/xen/gntdev every grant
 *                                dom0 gave this domain among refs
 *                                1..MAXREF (guessing the numbers, as a
 *                                hostile kernel could) and never unmap
 *                                them, whatever PD_EV_UNMAP or Closing
 *                                say; print "held N", then sleep
 *   grant-flood PATH NBUF [HOLD] NBUF 256x256 dumb buffers on PATH (64
 *                                pages each), each mapped and every page
 *                                written; a refused mmap (ENOSPC) or
 *                                fault (SIGBUS) ends it: "mapped P pages,
 *                                refused at buffer B ..." or "mapped P
 *                                pages, none refused"; then, with HOLD,
 *                                keeps them HOLD seconds ("holding")
 *   gem-flood PATH N [HOLD]      N 64x64 dumb buffers: "created K" and the
 *                                errno of the first refusal; with HOLD,
 *                                keeps them HOLD seconds ("holding")
 *   churn PATH N                 open and close PATH N times: "churned N"
 *   flink-hold PATH N SECONDS    (dom0, natively) N dumb buffers with
 *                                global names ("name K" each), held
 *   flink-guess PATH N           GEM_OPEN of names 1..N: "opened K of N
 *                                names, first refusal: ERRNO"
 *   off-list PATH                GEM_FLINK, GETFB and GETFB2 of
 *                                framebuffer ids 1..256, an unknown DRM
 *                                ioctl, a V4L2 ioctl on a card: one line
 *                                each, its errno or "allowed"
 *   getfb PATH FB_ID             GETFB and GETFB2 of someone's framebuffer
 *                                FB_ID: "GETFB handle H" or "GETFB
 *                                ERRNO", the same for GETFB2 (natively,
 *                                root gets a handle to any framebuffer)
 *   make-fb PATH SECONDS         (the other guest) a 64x64 dumb buffer
 *                                made a framebuffer (ADDFB): "fb ID",
 *                                then held SECONDS
 *   read-flood PATH N SECONDS    N threads each in a read of PATH (an
 *                                input device nobody types on): "waiting
 *                                in K reads", then sleep
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pd_compat.h"	/* __user for the raw uapi headers */
#include <drm/drm.h>
#include <drm/drm_mode.h>
#include <xen/sys/gntdev.h>	/* Xen's copy: no grant_ref_t needed */

static void die(const char *what)
{
	printf("error: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* One grant of domain 0 mapped read-only, or NULL: not ours to map. */
static void *map_one(int gfd, uint32_t ref)
{
	struct ioctl_gntdev_map_grant_ref m = { .count = 1 };
	struct ioctl_gntdev_unmap_grant_ref u = { .count = 1 };
	void *p;

	m.refs[0].domid = 0;
	m.refs[0].ref = ref;
	if (ioctl(gfd, IOCTL_GNTDEV_MAP_GRANT_REF, &m))
		return NULL;
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, gfd, (off_t)m.index);
	if (p != MAP_FAILED)
		return p;
	u.index = m.index;
	ioctl(gfd, IOCTL_GNTDEV_UNMAP_GRANT_REF, &u);
	return NULL;
}

static int hold_grants(uint32_t maxref, unsigned int seconds)
{
	int gfd = open("/dev/xen/gntdev", O_RDWR | O_CLOEXEC);
	unsigned int held = 0;

	if (gfd < 0)
		die("/dev/xen/gntdev");
	for (uint32_t ref = 1; ref <= maxref; ref++)
		if (map_one(gfd, ref))
			held++;
	printf("held %u\n", held);
	fflush(stdout);
	sleep(seconds);
	return 0;
}

static int open_card(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		die(path);
	return fd;
}

static int create_dumb(int fd, uint32_t w, uint32_t h,
		       struct drm_mode_create_dumb *c)
{
	*c = (struct drm_mode_create_dumb){ .width = w, .height = h, .bpp = 32 };
	return ioctl(fd, DRM_IOCTL_MODE_CREATE_DUMB, c);
}

static sigjmp_buf bus_jmp;

static void on_sigbus(int sig)
{
	(void)sig;
	siglongjmp(bus_jmp, 1);
}

/* with hold seconds: what the attack made stays (the test destroys the
 * guest meanwhile) */
static int hold_on(unsigned int hold)
{
	if (hold) {
		printf("holding\n");
		fflush(stdout);
		sleep(hold);
	}
	return 0;
}

static int grant_flood(const char *path, unsigned int nbuf, unsigned int hold)
{
	int fd = open_card(path);
	volatile unsigned long pages = 0;
	volatile unsigned int b;
	struct sigaction sa = { .sa_handler = on_sigbus };

	sigaction(SIGBUS, &sa, NULL);
	for (b = 0; b < nbuf; b++) {
		struct drm_mode_create_dumb c;
		struct drm_mode_map_dumb m = { 0 };
		volatile uint32_t *p;

		if (create_dumb(fd, 256, 256, &c))
			die("CREATE_DUMB");
		m.handle = c.handle;
		if (ioctl(fd, DRM_IOCTL_MODE_MAP_DUMB, &m))
			die("MAP_DUMB");
		p = mmap(NULL, c.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
			 (off_t)m.offset);
		/* a PV guest's frontend has every page granted at mmap, a
		 * PVH guest's at the first touch: a refusal is either */
		if (p == MAP_FAILED && errno == ENOSPC) {
			printf("mapped %lu pages, refused at buffer %u (mmap)\n",
			       pages, b);
			return hold_on(hold);
		}
		if (p == MAP_FAILED)
			die("mmap");
		if (sigsetjmp(bus_jmp, 1)) {
			printf("mapped %lu pages, refused at buffer %u\n",
			       pages, b);
			return hold_on(hold);
		}
		for (size_t off = 0; off < c.size; off += 4096) {
			p[off / 4] = 0xa5a5a5a5;
			pages++;
		}
		/* the mapping stays: its grants stay */
	}
	printf("mapped %lu pages, none refused\n", pages);
	return hold_on(hold);
}

static int gem_flood(const char *path, unsigned int n, unsigned int hold)
{
	int fd = open_card(path);
	struct drm_mode_create_dumb c;
	unsigned int k;

	for (k = 0; k < n; k++)
		if (create_dumb(fd, 64, 64, &c))
			break;
	printf("created %u, then %s\n", k, k < n ? strerror(errno) :
	       "nothing refused");
	return hold_on(hold);
}

static int churn(const char *path, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		close(open_card(path));
	printf("churned %u\n", n);
	return 0;
}

/* dom0, natively: n dumb buffers given global names (the premise of
 * flink-guess), the names printed, then held for seconds */
static int flink_hold(const char *path, unsigned int n, unsigned int secs)
{
	int fd = open_card(path);

	for (unsigned int k = 0; k < n; k++) {
		struct drm_mode_create_dumb c;
		struct drm_gem_flink f = { 0 };

		if (create_dumb(fd, 64, 64, &c))
			die("CREATE_DUMB");
		f.handle = c.handle;
		if (ioctl(fd, DRM_IOCTL_GEM_FLINK, &f))
			die("GEM_FLINK");
		printf("name %u\n", f.name);
	}
	printf("holding\n");
	sleep(secs);
	return 0;
}

/* GEM_OPEN of the global names 1..n, as a guest guessing another one's
 * (or dom0's) buffers would: how many opened, and the first errno */
static int flink_guess(const char *path, unsigned int n)
{
	int fd = open_card(path), err = 0;
	unsigned int opened = 0;

	for (unsigned int name = 1; name <= n; name++) {
		struct drm_gem_open o = { .name = name };

		if (!ioctl(fd, DRM_IOCTL_GEM_OPEN, &o))
			opened++;
		else if (!err)
			err = errno;
	}
	printf("opened %u of %u names, first refusal: %s\n", opened, n,
	       err ? strerror(err) : "none");
	return 0;
}

/* GETFB and GETFB2 of framebuffer id: "GETFB handle H" or its errno,
 * the same for GETFB2; 0 if either gave a handle */
static int getfb(int fd, uint32_t id, int quiet)
{
	struct drm_mode_fb_cmd fb = { .fb_id = id };
	struct drm_mode_fb_cmd2 fb2 = { .fb_id = id };
	int r1 = ioctl(fd, DRM_IOCTL_MODE_GETFB, &fb), e1 = errno;
	int r2 = ioctl(fd, DRM_IOCTL_MODE_GETFB2, &fb2), e2 = errno;

	if (!quiet || !r1 || !r2) {
		if (r1)
			printf("GETFB %u: %s\n", id, strerror(e1));
		else
			printf("GETFB %u: allowed (handle %u)\n", id, fb.handle);
		if (r2)
			printf("GETFB2 %u: %s\n", id, strerror(e2));
		else
			printf("GETFB2 %u: allowed (handle %u)\n", id,
			       fb2.handles[0]);
	}
	errno = r1 ? e1 : e2;
	return r1 && r2 ? -1 : 0;
}

/* a framebuffer of this file's, for another guest to guess */
static int make_fb(const char *path, unsigned int secs)
{
	int fd = open_card(path);
	struct drm_mode_create_dumb c;
	struct drm_mode_fb_cmd fb = { .width = 64, .height = 64, .bpp = 32,
				      .depth = 24 };

	if (create_dumb(fd, 64, 64, &c))
		die("CREATE_DUMB");
	fb.pitch = c.pitch;
	fb.handle = c.handle;
	if (ioctl(fd, DRM_IOCTL_MODE_ADDFB, &fb))
		die("ADDFB");
	printf("fb %u\n", fb.fb_id);
	fflush(stdout);
	sleep(secs);
	return 0;
}

/* ioctls a guest must not get through: each one's errno, one line */
static int off_list(const char *path)
{
	int fd = open_card(path);
	struct drm_mode_create_dumb c;
	struct drm_gem_flink f = { 0 };
	uint8_t junk[64] = { 0 };
	int r;

	if (create_dumb(fd, 64, 64, &c))
		die("CREATE_DUMB");
	f.handle = c.handle;
	r = ioctl(fd, DRM_IOCTL_GEM_FLINK, &f);
	printf("GEM_FLINK: %s\n", r ? strerror(errno) : "allowed");
	/* framebuffer ids it never made: another guest's or dom0's */
	for (uint32_t id = 1; id <= 256; id++) {
		if (!getfb(fd, id, 1))
			break;
		if (id == 256)
			printf("GETFB/GETFB2 1-256: %s\n", strerror(errno));
	}
	r = ioctl(fd, _IOWR('d', 0xee, uint8_t[64]), junk);
	printf("unknown DRM ioctl: %s\n", r ? strerror(errno) : "allowed");
	r = ioctl(fd, _IOWR('V', 0x77, uint8_t[64]), junk);
	printf("V4L2 ioctl on a card: %s\n", r ? strerror(errno) : "allowed");
	return 0;
}

static void *block_read(void *arg)
{
	char buf[24 * 16];
	int fd = open((const char *)arg, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	return (void *)(intptr_t)read(fd, buf, sizeof(buf));
}

/* n threads, each in a read of its own open file of path that waits for
 * input that never comes: as many requests the backend must keep waiting
 * at once (one file each, since readers of one file whose events are
 * pushed take turns in the guest, as on a DRM file) */
static int read_flood(const char *path, unsigned int n, unsigned int secs)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	unsigned int k;
	pthread_attr_t a;

	if (fd < 0)
		die(path);
	close(fd);
	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, 64 * 1024);
	for (k = 0; k < n; k++) {
		pthread_t t;

		if (pthread_create(&t, &a, block_read, (void *)path))
			break;
	}
	printf("waiting in %u reads\n", k);
	sleep(secs);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 4 && !strcmp(argv[1], "hold-grants"))
		return hold_grants((uint32_t)strtoul(argv[2], NULL, 0),
				   (unsigned int)atoi(argv[3]));
	if ((argc == 4 || argc == 5) && !strcmp(argv[1], "grant-flood"))
		return grant_flood(argv[2], (unsigned int)atoi(argv[3]),
				   argc == 5 ? (unsigned int)atoi(argv[4]) : 0);
	if ((argc == 4 || argc == 5) && !strcmp(argv[1], "gem-flood"))
		return gem_flood(argv[2], (unsigned int)atoi(argv[3]),
				 argc == 5 ? (unsigned int)atoi(argv[4]) : 0);
	if (argc == 4 && !strcmp(argv[1], "make-fb"))
		return make_fb(argv[2], (unsigned int)atoi(argv[3]));
	if (argc == 4 && !strcmp(argv[1], "getfb")) {
		getfb(open_card(argv[2]), (uint32_t)strtoul(argv[3], NULL, 0),
		      0);
		return 0;
	}
	if (argc == 4 && !strcmp(argv[1], "churn"))
		return churn(argv[2], (unsigned int)atoi(argv[3]));
	if (argc == 5 && !strcmp(argv[1], "flink-hold"))
		return flink_hold(argv[2], (unsigned int)atoi(argv[3]),
				  (unsigned int)atoi(argv[4]));
	if (argc == 4 && !strcmp(argv[1], "flink-guess"))
		return flink_guess(argv[2], (unsigned int)atoi(argv[3]));
	if (argc == 3 && !strcmp(argv[1], "off-list"))
		return off_list(argv[2]);
	if (argc == 5 && !strcmp(argv[1], "read-flood"))
		return read_flood(argv[2], (unsigned int)atoi(argv[3]),
				  (unsigned int)atoi(argv[4]));
	fprintf(stderr, "usage: see the comment at the top of pd-attack.c\n");
	return 2;
}
