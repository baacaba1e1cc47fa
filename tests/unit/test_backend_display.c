// SPDX-License-Identifier: GPL-2.0-only
/*
 * The backend's virtual KMS (hostd/backend/vkms/). Its side of a hostd
 * restart (hostd_link.c,
 * pd_display.h "hostd restarted"): the first HELLO on the socketpair
 * hostd gave names the guest and carries no descriptors; when that
 * connection closes, the backend connects to the listening socket of the
 * next hostd and sends a REATTACH HELLO with the guest's uinput
 * descriptors (here: pipes, checked to be the very files it was given);
 * when that one is refused (closed at once), it comes again.
 * With a pretend card (__wrap_ioctl: CRTC 31 with gamma size 256, its
 * primary plane 33, connector 40, DPMS property 50): GETGAMMA reads back
 * the guest's own table (the kernel's linear ramp before any SETGAMMA);
 * legacy DPMS reads back through vkms_dpms_get(); WAIT_VBLANK counts the
 * guest's 60
 * Hz timeline (relative, absolute, NEXTONMISS, events in read(), EINVAL
 * for a CRTC that is off or a pipe the card lacks), with flip events on
 * the same count; a reattach resends the gamma and DPMS. Then, each on a
 * vkms of its own with a socketpair standing in for hostd: legacy
 * SETCRTC, PAGE_FLIP and an atomic commit all go through vkms_commit()
 * and say so to hostd, a TEST_ONLY commit changes nothing; SET_MASTER and
 * DROP_MASTER answer as 6.1's drm_auth.c and never reach the card; what
 * a guest asks (caps, client caps) is logged once each per session of the
 * card (until its last file closes); when no hostd
 * comes back, main is told (vkms_gone_fd()) and the process goes on; a
 * confined backend's device files come from hostd (vkms_open_file()).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef __user
#define __user
#endif
#include <drm/drm.h>
#include <drm/drm_mode.h>
#include <sys/ioctl.h>
#include <time.h>
#include <paradice/pd_display.h>

#include "backend.h"
#include "vkms/vkms.h"
#include "tap.h"

static struct be be;
static struct vkms *vk;
/* where the backend looks for a new hostd (it keeps the pointer) */
static char be_sock[108];

/* The pretend card: the read end of a pipe (never readable), answered
 * here, also on the vkms's own descriptor of it (a new open of the same
 * pipe). */
static int fake_fd = -1;
static int master_calls;	/* SET_MASTER, magics that reached the card */

static bool same_file(int a, int b);

int __real_ioctl(int fd, unsigned long req, ...);
int __wrap_ioctl(int fd, unsigned long req, ...);

int __wrap_ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (fd < 0 || fake_fd < 0 || (fd != fake_fd && !same_file(fd, fake_fd)))
		return __real_ioctl(fd, req, arg);
	switch (req) {
	case DRM_IOCTL_SET_MASTER:
	case DRM_IOCTL_GET_MAGIC:
	case DRM_IOCTL_AUTH_MAGIC:
		master_calls++;
		break;
	case DRM_IOCTL_SET_CLIENT_CAP:
		return 0;
	case DRM_IOCTL_GET_CAP:		/* a dumb-buffer card, no PRIME */
		((struct drm_get_cap *)arg)->value =
			((struct drm_get_cap *)arg)->capability ==
			DRM_CAP_DUMB_BUFFER;
		return 0;
	case DRM_IOCTL_MODE_GETRESOURCES: {
		struct drm_mode_card_res *r = arg;

		if (r->count_crtcs && r->crtc_id_ptr)
			*(uint32_t *)(uintptr_t)r->crtc_id_ptr = 31;
		if (r->count_connectors && r->connector_id_ptr)
			*(uint32_t *)(uintptr_t)r->connector_id_ptr = 40;
		r->count_crtcs = 1;
		r->count_connectors = 1;
		return 0;
	}
	case DRM_IOCTL_MODE_GETPLANERESOURCES: {
		struct drm_mode_get_plane_res *r = arg;

		if (r->count_planes && r->plane_id_ptr)
			*(uint32_t *)(uintptr_t)r->plane_id_ptr = 33;
		r->count_planes = 1;
		return 0;
	}
	case DRM_IOCTL_MODE_GETPLANE:
		if (((struct drm_mode_get_plane *)arg)->plane_id != 33)
			break;
		((struct drm_mode_get_plane *)arg)->possible_crtcs = 1;
		return 0;
	case DRM_IOCTL_MODE_GETCRTC:
		if (((struct drm_mode_crtc *)arg)->crtc_id != 31)
			break;
		((struct drm_mode_crtc *)arg)->gamma_size = 256;
		return 0;
	case DRM_IOCTL_MODE_GETPROPERTY: {
		struct drm_mode_get_property *p = arg;

		snprintf(p->name, sizeof(p->name), "%s",
			 p->prop_id == 50 ? "DPMS" : p->prop_id == 60 ? "type" :
			 p->prop_id == 61 ? "FB_ID" :
			 p->prop_id == 52 ? "link-status" :
			 p->prop_id == 53 ? "non-desktop" : "other");
		return 0;
	}
	case DRM_IOCTL_MODE_OBJ_GETPROPERTIES: {
		/* the connector's DPMS, the primary plane's type and FB_ID */
		struct drm_mode_obj_get_properties *g = arg;
		uint32_t *ids = (uint32_t *)(uintptr_t)g->props_ptr;
		uint64_t *vals = (uint64_t *)(uintptr_t)g->prop_values_ptr;

		if (g->obj_id == 40) {	/* DPMS, link-status, non-desktop */
			if (g->count_props >= 3 && ids && vals) {
				ids[0] = 50, vals[0] = 0;
				ids[1] = 52, vals[1] = 0;
				ids[2] = 53, vals[2] = 0;
			}
			g->count_props = 3;
			return 0;
		}
		if (g->obj_id == 33) {
			if (g->count_props >= 2 && ids && vals)
				ids[0] = 60, vals[0] = 1, ids[1] = 61, vals[1] = 0;
			g->count_props = 2;
			return 0;
		}
		if (g->obj_id == 31) {
			g->count_props = 0;
			return 0;
		}
		break;
	}
	case DRM_IOCTL_MODE_ADDFB:	/* 77; 800 wide: 80 */
		((struct drm_mode_fb_cmd *)arg)->fb_id =
			((struct drm_mode_fb_cmd *)arg)->width == 800 ? 80 : 77;
		return 0;
	case DRM_IOCTL_MODE_GETCONNECTOR: {
		/* the card's DPMS: on (the foreground guest's) */
		struct drm_mode_get_connector *c = arg;

		if (c->count_props >= 2 && c->props_ptr && c->prop_values_ptr) {
			uint32_t *p = (uint32_t *)(uintptr_t)c->props_ptr;
			uint64_t *v = (uint64_t *)(uintptr_t)c->prop_values_ptr;

			p[0] = 51, v[0] = 9;
			p[1] = 50, v[1] = DRM_MODE_DPMS_ON;
		}
		c->count_props = 2;
		return 0;
	}
	}
	errno = ENOENT;
	return -1;
}

/* The vkms's ioctl hook on h: the return value, errno in *err. */
static int dioctl(struct be_handle *h, unsigned long cmd, void *arg, int *err)
{
	int ret = 0;

	errno = 0;
	CHECK(vkms_card_hooks.ioctl(vk, h, (unsigned int)cmd, arg, &ret));
	*err = errno;
	return ret;
}

static uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* One HELLO from the backend on s (waits); returns how many descriptors
 * came with it, in fds. */
static unsigned int get_hello(int s, struct pd_disp_hello *m, int *fds)
{
	struct {
		struct pd_disp_hdr hdr;
		struct pd_disp_hello m;
	} b;
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * 4)];
	} ctl;
	struct iovec iov = { &b, sizeof(b) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = ctl.buf,
			      .msg_controllen = sizeof(ctl.buf) };
	unsigned int n = 0;

	CHECK_EQ(recvmsg(s, &msg, 0), (ssize_t)sizeof(b));
	CHECK_EQ(b.hdr.type, PD_DISP_HELLO);
	CHECK_EQ(b.hdr.len, sizeof(b.m));
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c;
	     c = CMSG_NXTHDR(&msg, c)) {
		CHECK_EQ(c->cmsg_type, SCM_RIGHTS);
		n = (unsigned int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		memcpy(fds, CMSG_DATA(c), n * sizeof(int));
	}
	*m = b.m;
	return n;
}

static bool same_file(int a, int b)
{
	struct stat x, y;

	return !fstat(a, &x) && !fstat(b, &y) && x.st_dev == y.st_dev &&
	       x.st_ino == y.st_ino;
}

static void test_hello_then_reattach_with_the_input_files(void)
{
	char *path = be_sock;
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct pd_disp_hello m;
	int sv[2], kbd[2], ptr[2], lis, s, fds[4], input[2];
	struct vkms_config cfg = { .input = input, .ninput = 2,
				   .dirtyfb = -ENOSYS,	/* a card like bochs */
				   .socket_path = be_sock };

	CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0);
	CHECK(pipe(kbd) == 0 && pipe(ptr) == 0);
	cfg.sock = sv[1];
	input[0] = kbd[0];
	input[1] = ptr[0];
	snprintf(be_sock, sizeof(be_sock), "/tmp/pd-test-be-display-%d.sock",
		 (int)getpid());
	be.name = "guest7";
	be.domid = 7;
	vk = vkms_create(&be, &cfg);
	CHECK(vk != NULL);

	/* the hostd that started it: names the guest, no descriptors */
	CHECK_EQ(get_hello(sv[0], &m, fds), 0);
	CHECK_EQ(m.version, PD_DISPLAY_VERSION);
	CHECK_EQ(m.flags, 0);
	CHECK_EQ(m.domid, 7);
	CHECK_EQ(m.ninput, 0);
	CHECK(!strcmp(m.guest, "guest7"));

	/* a new hostd listens, the old one goes */
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	unlink(path);
	lis = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	CHECK(bind(lis, (struct sockaddr *)&a, sizeof(a)) == 0);
	CHECK(listen(lis, 4) == 0);
	close(sv[0]);
	for (int round = 0; round < 2; round++) {
		s = accept(lis, NULL, NULL);
		CHECK(s >= 0);
		CHECK_EQ(get_hello(s, &m, fds), 2);
		CHECK_EQ(m.flags, PD_DISP_HELLO_REATTACH);
		CHECK_EQ(m.ninput, 2);
		CHECK_EQ(m.domid, 7);
		CHECK(!strcmp(m.guest, "guest7"));
		CHECK(same_file(fds[0], kbd[0]));
		CHECK(same_file(fds[1], ptr[0]));
		close(fds[0]);
		close(fds[1]);
		/* no state was set: nothing follows the HELLO */
		{
			char c;

			CHECK(recv(s, &c, 1, MSG_DONTWAIT) < 0 &&
			      errno == EAGAIN);
		}
		close(s);	/* refused: it comes again */
	}
	close(lis);
	unlink(path);
}

/* With hostd (the vkms made above), client caps go to the guest's
 * real file, the atomic one too (fd -1 here: EBADF shows it got there). */
static void test_client_caps_reach_the_card(void)
{
	struct be_handle h = { .handle = 1, .fd = -1,
			       .dev_class = PD_WIRE_CLASS_DRM };
	struct drm_set_client_cap atomic = { DRM_CLIENT_CAP_ATOMIC, 1 };
	int ret = 0;

	CHECK(vkms_card_hooks.screens(vk, &h));
	CHECK(vkms_card_hooks.ioctl(vk, &h, DRM_IOCTL_SET_CLIENT_CAP, &atomic,
				    &ret));
	CHECK_EQ(ret, -1);
	CHECK_EQ(errno, EBADF);
}

static struct be_handle card_h = { .handle = 2,
				    .dev_class = PD_WIRE_CLASS_DRM };

static void test_gamma_reads_back(void)
{
	static uint16_t r[256], g[256], b[256];
	struct drm_mode_crtc_lut l = { .crtc_id = 31, .gamma_size = 256,
				       .red = (uintptr_t)r, .green = (uintptr_t)g,
				       .blue = (uintptr_t)b };
	int err;

	/* never set: the kernel's initial ramp */
	CHECK_EQ(dioctl(&card_h, DRM_IOCTL_MODE_GETGAMMA, &l, &err), 0);
	CHECK_EQ(r[1], 1 << 8);
	CHECK_EQ(b[255], 255 << 8);
	for (unsigned int i = 0; i < 256; i++) {
		r[i] = (uint16_t)(65535 - i);
		g[i] = (uint16_t)i;
		b[i] = 7;
	}
	CHECK_EQ(dioctl(&card_h, DRM_IOCTL_MODE_SETGAMMA, &l, &err), 0);
	memset(r, 0, sizeof(r));
	memset(g, 0, sizeof(g));
	memset(b, 0, sizeof(b));
	CHECK_EQ(dioctl(&card_h, DRM_IOCTL_MODE_GETGAMMA, &l, &err), 0);
	CHECK_EQ(r[3], 65532);
	CHECK_EQ(g[200], 200);
	CHECK_EQ(b[9], 7);
	/* as the kernel: a wrong size EINVAL, not a CRTC ENOENT */
	l.gamma_size = 255;
	CHECK_EQ(dioctl(&card_h, DRM_IOCTL_MODE_SETGAMMA, &l, &err), -1);
	CHECK_EQ(err, EINVAL);
	CHECK_EQ(dioctl(&card_h, DRM_IOCTL_MODE_GETGAMMA, &l, &err), -1);
	CHECK_EQ(err, EINVAL);
	l.gamma_size = 256;
	l.crtc_id = 32;
	CHECK_EQ(dioctl(&card_h, DRM_IOCTL_MODE_SETGAMMA, &l, &err), -1);
	CHECK_EQ(err, ENOENT);
}

static void test_dpms_reads_back(void)
{
	struct drm_mode_connector_set_property p = { .value = 1,
						     .prop_id = 50,
						     .connector_id = 40 };
	uint64_t v = 99;
	int err;

	CHECK_EQ(vkms_dpms_get(vk, 40, &v), 0);
	CHECK_EQ(v, DRM_MODE_DPMS_ON);
	/* standby is off, as the atomic helpers keep it */
	CHECK_EQ(dioctl(&card_h, DRM_IOCTL_MODE_SETPROPERTY, &p, &err), 0);
	CHECK_EQ(vkms_dpms_get(vk, 40, &v), 0);
	CHECK_EQ(v, DRM_MODE_DPMS_OFF);
	p.value = 4;
	CHECK_EQ(dioctl(&card_h, DRM_IOCTL_MODE_SETPROPERTY, &p, &err), -1);
	CHECK_EQ(err, EINVAL);
	p.value = 0;
	p.connector_id = 41;	/* not a connector */
	CHECK_EQ(dioctl(&card_h, DRM_IOCTL_MODE_SETPROPERTY, &p, &err), -1);
	CHECK_EQ(err, ENOENT);
	p.connector_id = 40;
	p.prop_id = 51;		/* not a property of the connector */
	CHECK_EQ(dioctl(&card_h, DRM_IOCTL_MODE_SETPROPERTY, &p, &err), -1);
	CHECK_EQ(err, EINVAL);
	/* as 6.1 on an atomic driver: link-status "Good" (or "Bad", which
	 * the kernel keeps good) is 0, another value EINVAL; an immutable
	 * property EINVAL; none reaches the card, DPMS stays the guest's */
	p.prop_id = 52;
	CHECK_EQ(dioctl(&card_h, DRM_IOCTL_MODE_SETPROPERTY, &p, &err), 0);
	p.value = DRM_MODE_LINK_STATUS_BAD;
	CHECK_EQ(dioctl(&card_h, DRM_IOCTL_MODE_SETPROPERTY, &p, &err), 0);
	p.value = 2;
	CHECK_EQ(dioctl(&card_h, DRM_IOCTL_MODE_SETPROPERTY, &p, &err), -1);
	CHECK_EQ(err, EINVAL);
	p.prop_id = 53;
	p.value = 0;
	CHECK_EQ(dioctl(&card_h, DRM_IOCTL_MODE_SETPROPERTY, &p, &err), -1);
	CHECK_EQ(err, EINVAL);
	CHECK_EQ(vkms_dpms_get(vk, 40, &v), 0);
	CHECK_EQ(v, DRM_MODE_DPMS_OFF);
	/* GETCONNECTOR shows the guest's DPMS, not the card's */
	{
		uint32_t props[4];
		uint64_t values[4];
		struct drm_mode_get_connector gc = {
			.connector_id = 40, .count_props = 4,
			.props_ptr = (uintptr_t)props,
			.prop_values_ptr = (uintptr_t)values };

		CHECK_EQ(dioctl(&card_h, DRM_IOCTL_MODE_GETCONNECTOR, &gc,
				&err), 0);
		CHECK_EQ(gc.count_props, 2);
		CHECK_EQ(values[0], 9);
		CHECK_EQ(values[1], DRM_MODE_DPMS_OFF);
	}
	CHECK_EQ(vkms_dpms_set(vk, 40, DRM_MODE_DPMS_ON), 0);
	CHECK_EQ(vkms_dpms_get(vk, 40, &v), 0);
	CHECK_EQ(v, DRM_MODE_DPMS_ON);
	CHECK_EQ(vkms_dpms_set(vk, 40, DRM_MODE_DPMS_OFF), 0);
}

/* One event from h's read() within ms; its bytes in ev. */
static ssize_t read_event(struct be_handle *h, void *ev, size_t len, int ms)
{
	uint64_t end = mono_us() + (uint64_t)ms * 1000;
	ssize_t n = -1;

	while (mono_us() < end) {
		if (vkms_card_hooks.poll(vk, h) & POLLIN) {
			CHECK(vkms_card_hooks.read(vk, h, ev, len, true, 0, &n));
			return n;
		}
		usleep(2000);
	}
	return -1;
}

static void test_wait_vblank(void)
{
	struct drm_mode_fb_cmd fb = { .width = 1024, .height = 768 };
	uint32_t conn = 40;
	struct drm_mode_crtc set = { .crtc_id = 31, .mode_valid = 1,
				     .set_connectors_ptr = (uintptr_t)&conn,
				     .count_connectors = 1 };
	union drm_wait_vblank w = { 0 };
	struct drm_event_vblank ev;
	struct drm_mode_crtc_page_flip pf = { .crtc_id = 31,
					      .flags = DRM_MODE_PAGE_FLIP_EVENT,
					      .user_data = 0x55 };
	uint32_t s0, s1;
	uint64_t t;
	int err;

	/* the guest's CRTC is off: its vblank too */
	w.request.type = _DRM_VBLANK_RELATIVE;
	CHECK_EQ(dioctl(&card_h, DRM_IOCTL_WAIT_VBLANK, &w, &err), -1);
	CHECK_EQ(err, EINVAL);
	CHECK_EQ(dioctl(&card_h, DRM_IOCTL_MODE_ADDFB, &fb, &err), 0);
	set.fb_id = fb.fb_id;
	set.mode.hdisplay = 640;
	set.mode.vdisplay = 480;
	CHECK_EQ(dioctl(&card_h, DRM_IOCTL_MODE_SETCRTC, &set, &err), 0);

	/* a query, then 6 vblanks later: ~100 ms */
	memset(&w, 0, sizeof(w));
	w.request.type = _DRM_VBLANK_RELATIVE;
	CHECK_EQ(dioctl(&card_h, DRM_IOCTL_WAIT_VBLANK, &w, &err), 0);
	s0 = w.reply.sequence;
	t = mono_us();
	memset(&w, 0, sizeof(w));
	w.request.type = _DRM_VBLANK_RELATIVE;
	w.request.sequence = 6;
	CHECK_EQ(dioctl(&card_h, DRM_IOCTL_WAIT_VBLANK, &w, &err), 0);
	t = mono_us() - t;
	s1 = w.reply.sequence;
	printf("# vblank %u -> %u in %llu us\n", s0, s1, (unsigned long long)t);
	CHECK(s1 - s0 >= 6 && s1 - s0 <= 8);
	CHECK(t >= 65000 && t < 400000);
	/* absolute, already passed: at once; with NEXTONMISS the next one */
	memset(&w, 0, sizeof(w));
	w.request.type = _DRM_VBLANK_ABSOLUTE;
	w.request.sequence = s0;
	CHECK_EQ(dioctl(&card_h, DRM_IOCTL_WAIT_VBLANK, &w, &err), 0);
	CHECK(w.reply.sequence - s1 <= 2);
	memset(&w, 0, sizeof(w));
	w.request.type = _DRM_VBLANK_ABSOLUTE | _DRM_VBLANK_NEXTONMISS;
	w.request.sequence = s0;
	CHECK_EQ(dioctl(&card_h, DRM_IOCTL_WAIT_VBLANK, &w, &err), 0);
	CHECK(w.reply.sequence > s1);
	/* an event 3 vblanks on, in read(), with the count it was given */
	memset(&w, 0, sizeof(w));
	w.request.type = _DRM_VBLANK_RELATIVE | _DRM_VBLANK_EVENT;
	w.request.sequence = 3;
	w.request.signal = 0xabc;
	CHECK_EQ(dioctl(&card_h, DRM_IOCTL_WAIT_VBLANK, &w, &err), 0);
	s0 = w.reply.sequence;
	CHECK_EQ(read_event(&card_h, &ev, sizeof(ev), 1000), sizeof(ev));
	CHECK_EQ(ev.base.type, DRM_EVENT_VBLANK);
	CHECK_EQ(ev.user_data, 0xabc);
	CHECK_EQ(ev.crtc_id, 31);
	CHECK(ev.sequence - s0 <= 1);
	/* flips: the event's sequence is on the same count (no hostd
	 * now: the backend completes them at 60 Hz) */
	pf.fb_id = fb.fb_id;
	CHECK_EQ(dioctl(&card_h, DRM_IOCTL_MODE_PAGE_FLIP, &pf, &err), 0);
	CHECK_EQ(read_event(&card_h, &ev, sizeof(ev), 1000), sizeof(ev));
	CHECK_EQ(ev.base.type, DRM_EVENT_FLIP_COMPLETE);
	CHECK_EQ(ev.user_data, 0x55);
	memset(&w, 0, sizeof(w));
	w.request.type = _DRM_VBLANK_RELATIVE;
	CHECK_EQ(dioctl(&card_h, DRM_IOCTL_WAIT_VBLANK, &w, &err), 0);
	printf("# flip at %u, vblank query after it %u\n", ev.sequence,
	       w.reply.sequence);
	CHECK(ev.sequence >= s0 && w.reply.sequence - ev.sequence <= 3);
	/* a pipe the card lacks (secondary, high-crtc 2), SIGNAL: EINVAL */
	w.request.type = _DRM_VBLANK_RELATIVE | _DRM_VBLANK_SECONDARY;
	CHECK_EQ(dioctl(&card_h, DRM_IOCTL_WAIT_VBLANK, &w, &err), -1);
	CHECK_EQ(err, EINVAL);
	w.request.type = _DRM_VBLANK_RELATIVE |
			 (2 << _DRM_VBLANK_HIGH_CRTC_SHIFT);
	CHECK_EQ(dioctl(&card_h, DRM_IOCTL_WAIT_VBLANK, &w, &err), -1);
	CHECK_EQ(err, EINVAL);
	w.request.type = _DRM_VBLANK_RELATIVE | _DRM_VBLANK_SIGNAL;
	CHECK_EQ(dioctl(&card_h, DRM_IOCTL_WAIT_VBLANK, &w, &err), -1);
	CHECK_EQ(err, EINVAL);
	/* CRTC_GET_SEQUENCE: the same count */
	{
		struct drm_crtc_get_sequence gs = { .crtc_id = 31 };

		CHECK_EQ(dioctl(&card_h, DRM_IOCTL_CRTC_GET_SEQUENCE, &gs,
				&err), 0);
		CHECK_EQ(gs.active, 1);
		CHECK(gs.sequence - w.reply.sequence <= 3);
	}
}

/* DIRTYFB: checked (another guest's fb: ENOENT, odd clips with
 * ANNOTATE_COPY: EINVAL), then what hostd found the card answers (here:
 * ENOSYS, as bochs). */
static void test_dirtyfb_answers_as_the_card(void)
{
	struct drm_clip_rect clips[2] = { { 0, 0, 8, 8 }, { 8, 8, 16, 16 } };
	struct drm_mode_fb_dirty_cmd c = { .fb_id = 77, .num_clips = 2,
					   .clips_ptr = (uintptr_t)clips };
	int err;

	CHECK_EQ(dioctl(&card_h, DRM_IOCTL_MODE_DIRTYFB, &c, &err), -1);
	CHECK_EQ(err, ENOSYS);
	c.fb_id = 78;
	CHECK_EQ(dioctl(&card_h, DRM_IOCTL_MODE_DIRTYFB, &c, &err), -1);
	CHECK_EQ(err, ENOENT);
	c.fb_id = 77;
	c.num_clips = 1;
	c.flags = DRM_MODE_FB_DIRTY_ANNOTATE_COPY;
	CHECK_EQ(dioctl(&card_h, DRM_IOCTL_MODE_DIRTYFB, &c, &err), -1);
	CHECK_EQ(err, EINVAL);
}

static struct vkms *own_vkms(int *hostd, unsigned int reattach_s);

/* DIRTYFB of the whole framebuffer (no clips, no clip array) on a card
 * that has DIRTYFB (virtio-gpu): 0, and no clip is copied from the NULL
 * array (UBSan: a null memcpy source; found by tests/fuzz/fuzz_display). */
static void test_dirtyfb_of_the_whole_fb(void)
{
	struct be_handle h = { .handle = 9, .fd = fake_fd,
			       .dev_class = PD_WIRE_CLASS_DRM };
	struct drm_mode_fb_cmd fb = { .width = 1024, .height = 768 };
	struct drm_mode_fb_dirty_cmd c = { 0 };
	struct vkms *saved = vk;
	int hostd, err;

	vk = own_vkms(&hostd, 0);
	CHECK_EQ(dioctl(&h, DRM_IOCTL_MODE_ADDFB, &fb, &err), 0);
	c.fb_id = fb.fb_id;
	CHECK_EQ(dioctl(&h, DRM_IOCTL_MODE_DIRTYFB, &c, &err), 0);
	vkms_destroy(vk);
	close(hostd);
	vk = saved;
}

/* A new hostd after all that: the backend's reattach carries the DPMS,
 * the CRTC and its gamma (in that order). */
static void test_reattach_resends_gamma_and_dpms(void)
{
	const char *path = be_sock;
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	static uint8_t buf[PD_DISP_MAX_MSG];
	struct pd_disp_hello m;
	struct pd_disp_hdr hdr;
	int lis, s, fds[4];
	uint16_t types[3];

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	unlink(path);
	lis = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	CHECK(bind(lis, (struct sockaddr *)&a, sizeof(a)) == 0);
	CHECK(listen(lis, 4) == 0);
	s = accept(lis, NULL, NULL);
	CHECK(s >= 0);
	{
		struct timeval tv = { .tv_sec = 2 };	/* fail, not hang */

		setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}
	CHECK_EQ(get_hello(s, &m, fds), 2);
	close(fds[0]);
	close(fds[1]);
	for (unsigned int i = 0; i < 3; i++) {
		CHECK(recv(s, buf, sizeof(buf), 0) > (ssize_t)sizeof(hdr));
		memcpy(&hdr, buf, sizeof(hdr));
		types[i] = hdr.type;
		if (hdr.type == PD_DISP_DPMS) {
			struct pd_disp_dpms d;

			memcpy(&d, buf + sizeof(hdr), sizeof(d));
			CHECK_EQ(d.conn_id, 40);
			CHECK_EQ(d.mode, PD_DISP_DPMS_OFF);
		}
		if (hdr.type == PD_DISP_GAMMA) {
			struct pd_disp_gamma *g = malloc(sizeof(*g));

			memcpy(g, buf + sizeof(hdr), sizeof(*g));
			CHECK_EQ(hdr.len, sizeof(*g));
			CHECK_EQ(g->size, 256);
			CHECK_EQ(g->red[3], 65532);
			CHECK_EQ(g->red[256], 0);
			free(g);
		}
	}
	CHECK_EQ(types[0], PD_DISP_DPMS);
	CHECK_EQ(types[1], PD_DISP_SET_CRTC);
	CHECK_EQ(types[2], PD_DISP_GAMMA);
	close(s);
	close(lis);
	unlink(path);
}

/* A vkms of its own, hostd being the other end of a socketpair (*hostd,
 * the HELLO read); no new hostd at any path (reattach_s: its wait). */
static struct vkms *own_vkms(int *hostd, unsigned int reattach_s)
{
	struct vkms_config cfg = { .socket_path = "/nonexistent/pd.sock",
				   .reattach_s = reattach_s };
	struct pd_disp_hello m;
	struct timeval tv = { .tv_sec = 2 };	/* fail, not hang */
	struct vkms *v;
	int sv[2], fds[4];

	CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0);
	cfg.sock = sv[1];
	v = vkms_create(&be, &cfg);
	CHECK(v != NULL);
	setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	CHECK_EQ(get_hello(sv[0], &m, fds), 0);
	*hostd = sv[0];
	return v;
}

/* The next message to hostd on s: its type, its body in body; 0 if none
 * is there. */
static uint16_t next_msg(int s, void *body, size_t len)
{
	static uint8_t buf[PD_DISP_MAX_MSG];
	struct pd_disp_hdr hdr;
	ssize_t n = recv(s, buf, sizeof(buf), MSG_DONTWAIT);

	if (n < (ssize_t)sizeof(hdr))
		return 0;
	memcpy(&hdr, buf, sizeof(hdr));
	CHECK_EQ(hdr.len, (size_t)n - sizeof(hdr));
	if (body)
		memcpy(body, buf + sizeof(hdr), len < hdr.len ? len : hdr.len);
	return hdr.type;
}

static void flip_done(int s, const struct pd_disp_flip *f)
{
	struct {
		struct pd_disp_hdr hdr;
		struct pd_disp_flip_done m;
	} b = { .hdr = { .type = PD_DISP_FLIP_DONE, .len = sizeof(b.m) },
		.m = { .cookie = f->cookie, .crtc_id = f->crtc_id,
		       .time_us = mono_us() } };

	CHECK_EQ(send(s, &b, sizeof(b), 0), (ssize_t)sizeof(b));
}

/*
 * Legacy SETCRTC and PAGE_FLIP and an atomic commit all take the one
 * commit path (vkms_commit(): its count goes up, and hostd hears of each
 * in the one way a commit tells it: a SET_CRTC for the modeset, a FLIP
 * for each new framebuffer); a TEST_ONLY commit is checked and changes
 * nothing (no message, GETCRTC and GETPLANE as before); a refused one
 * neither.
 */
static void test_every_path_commits_through_one_entry(void)
{
	struct be_handle h = { .handle = 9, .fd = fake_fd,
			       .dev_class = PD_WIRE_CLASS_DRM };
	struct drm_mode_fb_cmd fb1 = { .width = 1024, .height = 768 };
	struct drm_mode_fb_cmd fb2 = { .width = 800, .height = 600 };
	uint32_t conn = 40, objs[1] = { 33 }, nprops[1] = { 1 };
	uint32_t props[1] = { 61 };
	uint64_t vals[1];
	struct drm_mode_crtc set = { .crtc_id = 31, .mode_valid = 1,
				     .set_connectors_ptr = (uintptr_t)&conn,
				     .count_connectors = 1 }, get;
	struct drm_mode_crtc_page_flip pf = { .crtc_id = 31,
					      .flags = DRM_MODE_PAGE_FLIP_EVENT,
					      .user_data = 0x66 };
	struct drm_mode_atomic a = {
		.flags = DRM_MODE_ATOMIC_TEST_ONLY, .count_objs = 1,
		.objs_ptr = (uintptr_t)objs, .count_props_ptr = (uintptr_t)nprops,
		.props_ptr = (uintptr_t)props, .prop_values_ptr = (uintptr_t)vals };
	struct drm_set_client_cap cap = { DRM_CLIENT_CAP_ATOMIC, 1 };
	struct drm_mode_get_plane gp = { .plane_id = 33 };
	struct vkms_stats st;
	struct pd_disp_crtc sc;
	struct pd_disp_flip f;
	struct drm_event_vblank ev;
	struct vkms *saved = vk;
	uint64_t t0;
	int hostd, err;

	vk = own_vkms(&hostd, 0);
	CHECK_EQ(dioctl(&h, DRM_IOCTL_MODE_ADDFB, &fb1, &err), 0);
	CHECK_EQ(dioctl(&h, DRM_IOCTL_MODE_ADDFB, &fb2, &err), 0);
	CHECK_EQ(fb2.fb_id, 80);
	set.fb_id = fb1.fb_id;
	set.mode.hdisplay = 640;
	set.mode.vdisplay = 480;
	set.mode.clock = 25175;
	CHECK_EQ(dioctl(&h, DRM_IOCTL_MODE_SETCRTC, &set, &err), 0);
	vkms_get_stats(vk, &st);
	CHECK_EQ(st.commits, 1);
	CHECK_EQ(next_msg(hostd, &sc, sizeof(sc)), PD_DISP_SET_CRTC);
	CHECK_EQ(sc.crtc_id, 31);
	CHECK_EQ(sc.fb_id, 77);
	CHECK_EQ(sc.nconn, 1);
	CHECK_EQ(sc.conn[0], 40);
	CHECK_EQ(sc.mode.hdisplay, 640);
	/* a connector the card lacks: refused before any change */
	conn = 41;
	CHECK_EQ(dioctl(&h, DRM_IOCTL_MODE_SETCRTC, &set, &err), -1);
	CHECK_EQ(err, ENOENT);
	conn = 40;
	CHECK_EQ(next_msg(hostd, NULL, 0), 0);

	/* legacy PAGE_FLIP: a FLIP, its event when hostd says done */
	pf.fb_id = fb2.fb_id;
	CHECK_EQ(dioctl(&h, DRM_IOCTL_MODE_PAGE_FLIP, &pf, &err), 0);
	CHECK_EQ(next_msg(hostd, &f, sizeof(f)), PD_DISP_FLIP);
	CHECK_EQ(f.fb_id, 80);
	CHECK_EQ(dioctl(&h, DRM_IOCTL_MODE_PAGE_FLIP, &pf, &err), -1);
	CHECK_EQ(err, EBUSY);	/* one at a time */
	flip_done(hostd, &f);
	CHECK_EQ(read_event(&h, &ev, sizeof(ev), 1000), sizeof(ev));
	CHECK_EQ(ev.user_data, 0x66);
	vkms_get_stats(vk, &st);
	CHECK_EQ(st.commits, 2);

	/* atomic: the cap first; TEST_ONLY of fb 77 changes nothing */
	CHECK_EQ(dioctl(&h, DRM_IOCTL_SET_CLIENT_CAP, &cap, &err), 0);
	vals[0] = 77;
	CHECK_EQ(dioctl(&h, DRM_IOCTL_MODE_ATOMIC, &a, &err), 0);
	vkms_get_stats(vk, &st);
	CHECK_EQ(st.commits, 2);
	CHECK_EQ(st.tests, 1);
	CHECK_EQ(next_msg(hostd, NULL, 0), 0);
	get = (struct drm_mode_crtc){ .crtc_id = 31 };
	CHECK_EQ(dioctl(&h, DRM_IOCTL_MODE_GETCRTC, &get, &err), 0);
	CHECK_EQ(get.fb_id, 80);
	CHECK_EQ(dioctl(&h, DRM_IOCTL_MODE_GETPLANE, &gp, &err), 0);
	CHECK_EQ(gp.fb_id, 80);
	/* a framebuffer that is not the guest's: refused, nothing changes */
	vals[0] = 78;
	CHECK_EQ(dioctl(&h, DRM_IOCTL_MODE_ATOMIC, &a, &err), -1);
	CHECK_EQ(err, ENOENT);
	/* the commit itself: a FLIP to hostd, as the legacy flip */
	vals[0] = 77;
	a.flags = DRM_MODE_ATOMIC_NONBLOCK;
	CHECK_EQ(dioctl(&h, DRM_IOCTL_MODE_ATOMIC, &a, &err), 0);
	CHECK_EQ(next_msg(hostd, &f, sizeof(f)), PD_DISP_FLIP);
	CHECK_EQ(f.fb_id, 77);
	flip_done(hostd, &f);
	vkms_get_stats(vk, &st);
	CHECK_EQ(st.commits, 3);
	CHECK_EQ(st.tests, 1);
	CHECK(st.refused >= 2);
	get = (struct drm_mode_crtc){ .crtc_id = 31 };
	CHECK_EQ(dioctl(&h, DRM_IOCTL_MODE_GETCRTC, &get, &err), 0);
	CHECK_EQ(get.fb_id, 77);
	/* blocking commits that show nothing new: nothing to hostd, and
	 * each ends at a vblank of the guest's 60 Hz timeline, as a real
	 * driver's flip_done (three take at least two whole ticks) */
	a.flags = 0;
	t0 = mono_us();
	for (int i = 0; i < 3; i++)
		CHECK_EQ(dioctl(&h, DRM_IOCTL_MODE_ATOMIC, &a, &err), 0);
	CHECK(mono_us() - t0 >= 33000);
	CHECK_EQ(next_msg(hostd, NULL, 0), 0);
	vkms_destroy(vk);
	close(hostd);
	vk = saved;
}

/* A vblank or flip event's time in ns. */
static int64_t ev_ns(const struct drm_event_vblank *ev)
{
	return (int64_t)ev->tv_sec * 1000000000 + (int64_t)ev->tv_usec * 1000;
}

static int64_t reply_ns(const union drm_wait_vblank *w)
{
	return (int64_t)w->reply.tval_sec * 1000000000 +
	       (int64_t)w->reply.tval_usec * 1000;
}

/* The grid's tick in ns, and whether two vblanks' times (us resolution)
 * are da - db ticks apart. */
#define TICK_NS 16666667
static bool on_grid(uint32_t sa, int64_t ta, uint32_t sb, int64_t tb)
{
	int64_t d = ta - tb - (int64_t)(int32_t)(sa - sb) * TICK_NS;

	return d > -2000 && d < 2000;
}

/*
 * One timeline per guest, in the guest's CLOCK_MONOTONIC (here 60 s
 * behind ours: be's offset, as PD_OP_CLOCK sets it): a WAIT_VBLANK
 * reply, a flip right after it (hostd shows it at once, with a time of
 * its own that is earlier), a vblank after the flip, CRTC_GET_SEQUENCE
 * and QUEUE_SEQUENCE events all agree: each time is its vblank's on
 * one grid, a flip completes at a vblank after the one read before it
 * and never before a vblank already told, its event not before that
 * vblank's time; when the offset is measured again (1 ms less), no time
 * goes back.
 */
static void test_one_timeline_in_the_guests_clock(void)
{
	struct be_handle h = { .handle = 21, .fd = fake_fd,
			       .dev_class = PD_WIRE_CLASS_DRM };
	struct drm_mode_fb_cmd fb1 = { .width = 1024, .height = 768 };
	struct drm_mode_fb_cmd fb2 = { .width = 800, .height = 600 };
	uint32_t conn = 40;
	struct drm_mode_crtc set = { .crtc_id = 31, .mode_valid = 1,
				     .set_connectors_ptr = (uintptr_t)&conn,
				     .count_connectors = 1 };
	struct drm_mode_crtc_page_flip pf = { .crtc_id = 31,
					      .flags = DRM_MODE_PAGE_FLIP_EVENT,
					      .user_data = 0x77 };
	const int64_t off = -INT64_C(60000000000);
	union drm_wait_vblank w;
	struct drm_event_vblank ev;
	struct drm_crtc_get_sequence gs = { .crtc_id = 31 };
	struct drm_crtc_queue_sequence qs = { .crtc_id = 31,
		.flags = DRM_CRTC_SEQUENCE_RELATIVE, .sequence = 2,
		.user_data = 0x99 };
	struct drm_event_crtc_sequence sev;
	struct pd_disp_flip f;
	struct vkms *saved = vk;
	uint32_t s0, last_seq;
	int64_t t0, last_t, now;
	int hostd, err;

	atomic_store(&be.clock_off[PD_WIRE_CLOCK_MONOTONIC], off);
	vk = own_vkms(&hostd, 0);
	CHECK_EQ(dioctl(&h, DRM_IOCTL_MODE_ADDFB, &fb1, &err), 0);
	CHECK_EQ(dioctl(&h, DRM_IOCTL_MODE_ADDFB, &fb2, &err), 0);
	set.fb_id = fb1.fb_id;
	set.mode.hdisplay = 640;
	set.mode.vdisplay = 480;
	CHECK_EQ(dioctl(&h, DRM_IOCTL_MODE_SETCRTC, &set, &err), 0);
	CHECK_EQ(next_msg(hostd, NULL, 0), PD_DISP_SET_CRTC);

	/* a query: the last vblank, in the guest's clock */
	memset(&w, 0, sizeof(w));
	w.request.type = _DRM_VBLANK_RELATIVE;
	CHECK_EQ(dioctl(&h, DRM_IOCTL_WAIT_VBLANK, &w, &err), 0);
	now = (int64_t)mono_us() * 1000 + off;
	s0 = w.reply.sequence;
	t0 = reply_ns(&w);
	printf("# vblank %u at %lld ns, guest now %lld\n", s0, (long long)t0,
	       (long long)now);
	CHECK(t0 <= now && now - t0 < 2 * TICK_NS);
	/* a flip right after it, hostd shows it at once (with its own,
	 * earlier time): it completes at a later vblank of the grid */
	pf.fb_id = fb2.fb_id;
	CHECK_EQ(dioctl(&h, DRM_IOCTL_MODE_PAGE_FLIP, &pf, &err), 0);
	CHECK_EQ(next_msg(hostd, &f, sizeof(f)), PD_DISP_FLIP);
	{
		struct {
			struct pd_disp_hdr hdr;
			struct pd_disp_flip_done m;
		} b = { .hdr = { .type = PD_DISP_FLIP_DONE,
				 .len = sizeof(b.m) },
			.m = { .cookie = f.cookie, .crtc_id = f.crtc_id,
			       .time_us = 1 } };

		CHECK_EQ(send(hostd, &b, sizeof(b), 0), (ssize_t)sizeof(b));
	}
	CHECK_EQ(read_event(&h, &ev, sizeof(ev), 1000), sizeof(ev));
	now = (int64_t)mono_us() * 1000 + off;
	printf("# flip at %u, %lld ns; read at %lld\n", ev.sequence,
	       (long long)ev_ns(&ev), (long long)now);
	CHECK_EQ(ev.base.type, DRM_EVENT_FLIP_COMPLETE);
	CHECK_EQ(ev.user_data, 0x77);
	CHECK(ev.sequence > s0);
	CHECK(ev_ns(&ev) > t0);
	CHECK(on_grid(ev.sequence, ev_ns(&ev), s0, t0));
	CHECK(ev_ns(&ev) <= now);	/* not told before its vblank */
	last_seq = ev.sequence;
	last_t = ev_ns(&ev);
	/* a vblank query after the flip: not before it, on the grid */
	memset(&w, 0, sizeof(w));
	w.request.type = _DRM_VBLANK_RELATIVE;
	CHECK_EQ(dioctl(&h, DRM_IOCTL_WAIT_VBLANK, &w, &err), 0);
	CHECK(w.reply.sequence >= last_seq);
	CHECK(reply_ns(&w) >= last_t);
	CHECK(on_grid(w.reply.sequence, reply_ns(&w), s0, t0));
	/* and one that waits for the next: after the request */
	memset(&w, 0, sizeof(w));
	w.request.type = _DRM_VBLANK_RELATIVE;
	w.request.sequence = 1;
	now = (int64_t)mono_us() * 1000 + off;
	CHECK_EQ(dioctl(&h, DRM_IOCTL_WAIT_VBLANK, &w, &err), 0);
	CHECK(reply_ns(&w) >= now - 1000);
	CHECK(on_grid(w.reply.sequence, reply_ns(&w), s0, t0));
	last_seq = w.reply.sequence;
	/* the CRTC sequence ioctls: the same count and times */
	CHECK_EQ(dioctl(&h, DRM_IOCTL_CRTC_GET_SEQUENCE, &gs, &err), 0);
	CHECK((uint32_t)gs.sequence >= last_seq);
	CHECK(on_grid((uint32_t)gs.sequence, gs.sequence_ns, s0, t0));
	CHECK_EQ(dioctl(&h, DRM_IOCTL_CRTC_QUEUE_SEQUENCE, &qs, &err), 0);
	CHECK(qs.sequence >= gs.sequence + 2);
	CHECK_EQ(read_event(&h, &sev, sizeof(sev), 1000), sizeof(sev));
	CHECK_EQ(sev.base.type, DRM_EVENT_CRTC_SEQUENCE);
	CHECK_EQ(sev.user_data, 0x99);
	CHECK(sev.sequence >= qs.sequence);
	CHECK(on_grid((uint32_t)sev.sequence, sev.time_ns, s0, t0));
	CHECK(sev.time_ns <= (int64_t)mono_us() * 1000 + off);
	last_seq = (uint32_t)sev.sequence;
	last_t = sev.time_ns;
	/* the offset measured again, 1 ms less: nothing told goes back */
	atomic_store(&be.clock_off[PD_WIRE_CLOCK_MONOTONIC], off - 1000000);
	CHECK_EQ(dioctl(&h, DRM_IOCTL_CRTC_GET_SEQUENCE, &gs, &err), 0);
	CHECK((uint32_t)gs.sequence >= last_seq);
	CHECK(gs.sequence_ns >= last_t);
	/* a flip after the new offset: not before what was told */
	pf.fb_id = fb1.fb_id;
	CHECK_EQ(dioctl(&h, DRM_IOCTL_MODE_PAGE_FLIP, &pf, &err), 0);
	CHECK_EQ(next_msg(hostd, &f, sizeof(f)), PD_DISP_FLIP);
	flip_done(hostd, &f);
	CHECK_EQ(read_event(&h, &ev, sizeof(ev), 1000), sizeof(ev));
	CHECK(ev.sequence > (uint32_t)gs.sequence);
	CHECK(ev_ns(&ev) >= gs.sequence_ns);
	vkms_destroy(vk);
	close(hostd);
	vk = saved;
	atomic_store(&be.clock_off[PD_WIRE_CLOCK_MONOTONIC], 0);
}

/*
 * DRM master of the guest's files, as 6.1's drm_auth.c: the first opener
 * is master; SET_MASTER by the master 0, by another file EBUSY;
 * DROP_MASTER by a file that is not master EINVAL; once dropped, another
 * may set it; the master's last close leaves none and the next opener is
 * master. None of it reaches the card (hostd is its master).
 */
static void test_master_is_the_guests_own(void)
{
	struct be_handle a = { .handle = 11, .fd = fake_fd,
			       .dev_class = PD_WIRE_CLASS_DRM };
	struct be_handle b = a, c = a;
	struct vkms *saved = vk;
	int hostd, err;

	b.handle = 12;
	c.handle = 13;
	vk = own_vkms(&hostd, 0);
	master_calls = 0;
	vkms_card_hooks.opened(vk, &a);
	vkms_card_hooks.opened(vk, &b);
	CHECK_EQ(dioctl(&a, DRM_IOCTL_SET_MASTER, NULL, &err), 0);
	CHECK_EQ(dioctl(&b, DRM_IOCTL_SET_MASTER, NULL, &err), -1);
	CHECK_EQ(err, EBUSY);
	CHECK_EQ(dioctl(&b, DRM_IOCTL_DROP_MASTER, NULL, &err), -1);
	CHECK_EQ(err, EINVAL);
	CHECK_EQ(dioctl(&a, DRM_IOCTL_DROP_MASTER, NULL, &err), 0);
	CHECK_EQ(dioctl(&a, DRM_IOCTL_DROP_MASTER, NULL, &err), -1);
	CHECK_EQ(err, EINVAL);
	CHECK_EQ(dioctl(&b, DRM_IOCTL_SET_MASTER, NULL, &err), 0);
	CHECK_EQ(dioctl(&b, DRM_IOCTL_SET_MASTER, NULL, &err), 0);
	CHECK_EQ(dioctl(&a, DRM_IOCTL_SET_MASTER, NULL, &err), -1);
	CHECK_EQ(err, EBUSY);
	vkms_card_hooks.release(vk, &b);
	vkms_card_hooks.opened(vk, &c);	/* none was: c is */
	CHECK_EQ(dioctl(&a, DRM_IOCTL_SET_MASTER, NULL, &err), -1);
	CHECK_EQ(err, EBUSY);
	CHECK_EQ(dioctl(&c, DRM_IOCTL_DROP_MASTER, NULL, &err), 0);
	CHECK_EQ(dioctl(&a, DRM_IOCTL_SET_MASTER, NULL, &err), 0);
	CHECK_EQ(master_calls, 0);
	vkms_destroy(vk);
	close(hostd);
	vk = saved;
}

/*
 * GET_MAGIC and AUTH_MAGIC as 6.1's drm_auth.c on the guest's own master:
 * drmIsMaster() (AUTH_MAGIC of 0) gets EINVAL on the master, EACCES on
 * another file; a file's magic is the lowest free
 * and the same on every call; the master authenticates another file's
 * magic once (then EINVAL); a file that is not master cannot; magics of
 * closed files are free again. None reaches the card.
 */
static void test_magic_answers_as_the_cards(void)
{
	struct be_handle a = { .handle = 31, .fd = fake_fd,
			       .dev_class = PD_WIRE_CLASS_DRM };
	struct be_handle b = a, c = a;
	struct drm_auth m = { 0 };
	struct vkms *saved = vk;
	uint32_t mb;
	int hostd, err;

	b.handle = 32;
	c.handle = 33;
	vk = own_vkms(&hostd, 0);
	master_calls = 0;
	vkms_card_hooks.opened(vk, &a);	/* master */
	vkms_card_hooks.opened(vk, &b);
	vkms_card_hooks.opened(vk, &c);
	/* drmIsMaster() */
	CHECK_EQ(dioctl(&a, DRM_IOCTL_AUTH_MAGIC, &m, &err), -1);
	CHECK_EQ(err, EINVAL);
	CHECK_EQ(dioctl(&b, DRM_IOCTL_AUTH_MAGIC, &m, &err), -1);
	CHECK_EQ(err, EACCES);
	/* magics: 1, 2, the same again */
	CHECK_EQ(dioctl(&b, DRM_IOCTL_GET_MAGIC, &m, &err), 0);
	CHECK_EQ(m.magic, 1);
	mb = m.magic;
	CHECK_EQ(dioctl(&c, DRM_IOCTL_GET_MAGIC, &m, &err), 0);
	CHECK_EQ(m.magic, 2);
	CHECK_EQ(dioctl(&b, DRM_IOCTL_GET_MAGIC, &m, &err), 0);
	CHECK_EQ(m.magic, mb);
	/* only the master authenticates, each magic once */
	m.magic = mb;
	CHECK_EQ(dioctl(&c, DRM_IOCTL_AUTH_MAGIC, &m, &err), -1);
	CHECK_EQ(err, EACCES);
	CHECK_EQ(dioctl(&a, DRM_IOCTL_AUTH_MAGIC, &m, &err), 0);
	CHECK_EQ(dioctl(&a, DRM_IOCTL_AUTH_MAGIC, &m, &err), -1);
	CHECK_EQ(err, EINVAL);
	m.magic = 77;
	CHECK_EQ(dioctl(&a, DRM_IOCTL_AUTH_MAGIC, &m, &err), -1);
	CHECK_EQ(err, EINVAL);
	/* the master dropped: drmIsMaster() says no for it too */
	m.magic = 0;
	CHECK_EQ(dioctl(&a, DRM_IOCTL_DROP_MASTER, NULL, &err), 0);
	CHECK_EQ(dioctl(&a, DRM_IOCTL_AUTH_MAGIC, &m, &err), -1);
	CHECK_EQ(err, EACCES);
	CHECK_EQ(dioctl(&c, DRM_IOCTL_SET_MASTER, NULL, &err), 0);
	CHECK_EQ(dioctl(&c, DRM_IOCTL_AUTH_MAGIC, &m, &err), -1);
	CHECK_EQ(err, EINVAL);
	/* b closed: its magic is free for the next file */
	vkms_card_hooks.release(vk, &b);
	CHECK_EQ(dioctl(&a, DRM_IOCTL_GET_MAGIC, &m, &err), 0);
	CHECK_EQ(m.magic, 1);
	CHECK_EQ(master_calls, 0);
	vkms_destroy(vk);
	close(hostd);
	vk = saved;
}

/* hostd gone and none comes back within the reattach time (2 s: at
 * least 1 s, clock seconds): main is told
 * through vkms_gone_fd() (it exits with PD_DISPLAY_EXIT_NO_HOSTD); the
 * vkms's thread does not end the process (we are still here). */
static void test_no_hostd_is_reported_to_main(void)
{
	struct pollfd p;
	uint64_t t;
	int hostd;
	struct vkms *v = own_vkms(&hostd, 2);

	p.fd = vkms_gone_fd(v);
	p.events = POLLIN;
	CHECK_EQ(poll(&p, 1, 0), 0);
	t = mono_us();
	close(hostd);
	CHECK_EQ(poll(&p, 1, 5000), 1);
	t = mono_us() - t;
	printf("# gone after %llu us\n", (unsigned long long)t);
	CHECK(t >= 900000);
	vkms_destroy(v);
}

/* Lines of the backend's log (stderr) while fn runs. */
static char *log_of(void (*fn)(void))
{
	static char buf[8192];
	int p[2], saved;
	ssize_t n;

	fflush(stderr);
	CHECK(pipe(p) == 0);
	saved = dup(2);
	CHECK(dup2(p[1], 2) == 2);
	fn();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(p[1]);
	n = read(p[0], buf, sizeof(buf) - 1);
	close(p[0]);
	buf[n > 0 ? n : 0] = 0;
	return buf;
}

static unsigned int count_of(const char *text, const char *line)
{
	unsigned int n = 0;

	for (const char *c = text; (c = strstr(c, line)); c += strlen(line))
		n++;
	return n;
}

static void ask_caps_twice(void)
{
	struct drm_get_cap dumb = { .capability = DRM_CAP_DUMB_BUFFER };
	struct drm_get_cap sync = { .capability = DRM_CAP_SYNCOBJ };
	struct drm_set_client_cap uni = { DRM_CLIENT_CAP_UNIVERSAL_PLANES, 1 };
	int err;

	for (int i = 0; i < 2; i++) {
		CHECK_EQ(dioctl(&card_h, DRM_IOCTL_GET_CAP, &dumb, &err), 0);
		CHECK_EQ(dumb.value, 1);
		CHECK_EQ(dioctl(&card_h, DRM_IOCTL_GET_CAP, &sync, &err), 0);
		CHECK_EQ(sync.value, 0);
		CHECK_EQ(dioctl(&card_h, DRM_IOCTL_SET_CLIENT_CAP, &uni, &err),
			 0);
	}
}

/* What a guest asked of its card is logged once each (the caps real
 * compositors ask, and what they got: docs/display.md), the card's
 * answers still reaching the guest. */
static void test_what_a_guest_asks_is_logged_once(void)
{
	const char *log = log_of(ask_caps_twice);

	CHECK_EQ(count_of(log, "pd-backend[guest7]: display: asked GET_CAP "
			  "DUMB_BUFFER: 1 (the card's)\n"), 1);
	CHECK_EQ(count_of(log, "display: asked GET_CAP SYNCOBJ: 0 "
			  "(the card's)\n"), 1);
	CHECK_EQ(count_of(log, "display: asked SET_CLIENT_CAP "
			  "UNIVERSAL_PLANES = 1: 0\n"), 1);
	CHECK_EQ(count_of(log, "display: asked"), 3);
	/* asked again: nothing new */
	CHECK_EQ(count_of(log_of(ask_caps_twice), "display: asked"), 0);
	/* the guest's last file of the card closes: the next session (a
	 * compositor started anew) is logged whole */
	{
		struct be_handle h = { .handle = 9, .fd = fake_fd,
				       .dev_class = PD_WIRE_CLASS_DRM };

		vkms_card_hooks.opened(vk, &h);
		CHECK_EQ(count_of(log_of(ask_caps_twice), "display: asked"), 0);
		vkms_card_hooks.release(vk, &h);
	}
	CHECK_EQ(count_of(log_of(ask_caps_twice), "display: asked"), 3);
}

/* hostd's side of one OPEN (a thread): answers with result and fd (sent
 * if result is 0), after a stale answer first if stale_fd >= 0. */
struct opener {
	int hostd;
	int32_t result;
	int fd, stale_fd;
	struct pd_disp_open got;
	bool seen;
};

static void answer(int s, uint32_t id, int32_t result, int fd)
{
	struct {
		struct pd_disp_hdr hdr;
		struct pd_disp_opened r;
	} a = { .hdr = { .type = PD_DISP_OPENED, .len = sizeof(a.r) },
		.r = { .id = id, .result = result } };
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov = { &a, sizeof(a) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (fd >= 0) {
		struct cmsghdr *c;

		memset(&ctl, 0, sizeof(ctl));
		msg.msg_control = ctl.buf;
		msg.msg_controllen = sizeof(ctl.buf);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	CHECK_EQ(sendmsg(s, &msg, 0), (ssize_t)sizeof(a));
}

static void *play_hostd(void *arg)
{
	struct opener *o = arg;
	uint8_t buf[PD_DISP_MAX_MSG];
	struct pd_disp_hdr hdr;
	ssize_t n;

	/* other messages (none expected) are skipped */
	do {
		n = recv(o->hostd, buf, sizeof(buf), 0);
		if (n < (ssize_t)sizeof(hdr))
			return NULL;
		memcpy(&hdr, buf, sizeof(hdr));
	} while (hdr.type != PD_DISP_OPEN);
	if (n != sizeof(hdr) + sizeof(o->got))
		return NULL;
	memcpy(&o->got, buf + sizeof(hdr), sizeof(o->got));
	o->seen = true;
	if (o->result == 1)
		return NULL;		/* no answer */
	if (o->stale_fd >= 0)
		answer(o->hostd, o->got.id + 1000, 0, o->stale_fd);
	answer(o->hostd, o->got.id, o->result, o->result ? -1 : o->fd);
	return NULL;
}

static int open_with(struct vkms *v, struct opener *o, const char *path,
		     int flags)
{
	pthread_t t;
	int fd, e;

	o->seen = false;
	CHECK_EQ(pthread_create(&t, NULL, play_hostd, o), 0);
	fd = vkms_open_file(v, path, flags);
	e = errno;
	pthread_join(t, NULL);
	errno = e;
	return fd;
}

/*
 * A confined backend's device files come from hostd (PD_DISP_OPEN): the
 * request names the path and the access; the descriptor hostd sends back
 * is the one returned, with O_NONBLOCK cleared unless asked for and
 * close-on-exec; hostd's refusal is the errno; an answer to no request
 * (a stale id) is dropped and its descriptor closed; without an answer
 * the open gives up after PD_DISPLAY_OPEN_WAIT_S with EIO.
 */
static void test_device_files_come_from_hostd(void)
{
	struct opener o = { .stale_fd = -1 };
	int p[2], q[2], fd;
	struct timespec t0, t1;
	char c = 'x';

	vkms_destroy(vk);
	vk = own_vkms(&o.hostd, 60);
	CHECK(pipe2(p, O_NONBLOCK) == 0);
	o.fd = p[0];
	fd = open_with(vk, &o, "/dev/dri/card0", O_RDWR);
	CHECK(o.seen);
	CHECK(!strcmp(o.got.path, "/dev/dri/card0"));
	CHECK_EQ(o.got.flags, 2);
	CHECK(fd >= 0);
	if (fd >= 0) {
		CHECK(!(fcntl(fd, F_GETFL) & O_NONBLOCK));
		CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
		CHECK_EQ(write(p[1], &c, 1), 1);
		CHECK_EQ(read(fd, &c, 1), 1);	/* the very pipe */
		close(fd);
	}
	fd = open_with(vk, &o, "/dev/snd/pcmC0D0p", O_WRONLY | O_NONBLOCK);
	CHECK_EQ(o.got.flags, 1 | PD_DISP_OPEN_NONBLOCK);
	if (fd >= 0) {
		CHECK(fcntl(fd, F_GETFL) & O_NONBLOCK);
		close(fd);
	}
	o.result = -EACCES;
	CHECK_EQ(open_with(vk, &o, "/dev/mem", O_RDONLY), -1);
	CHECK_EQ(errno, EACCES);
	/* a stale answer's descriptor is closed: its pipe's reader goes */
	CHECK(pipe(q) == 0);
	o.result = 0;
	o.stale_fd = q[0];
	fd = open_with(vk, &o, "/dev/video0", O_RDWR);
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
	close(q[0]);
	signal(SIGPIPE, SIG_IGN);
	CHECK_EQ(write(q[1], &c, 1), -1);
	CHECK_EQ(errno, EPIPE);
	close(q[1]);
	o.stale_fd = -1;
	o.result = 1;	/* hostd never answers */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK_EQ(open_with(vk, &o, "/dev/video0", O_RDWR), -1);
	CHECK_EQ(errno, EIO);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK(t1.tv_sec - t0.tv_sec >= PD_DISPLAY_OPEN_WAIT_S - 1 &&
	      t1.tv_sec - t0.tv_sec <= PD_DISPLAY_OPEN_WAIT_S + 2);
	close(p[0]);
	close(p[1]);
	close(o.hostd);
}

int main(void)
{
	RUN(test_hello_then_reattach_with_the_input_files);
	RUN(test_client_caps_reach_the_card);
	{
		int p[2];

		CHECK(pipe(p) == 0);
		fake_fd = card_h.fd = p[0];
		RUN(test_gamma_reads_back);
		RUN(test_dpms_reads_back);
		RUN(test_wait_vblank);
		RUN(test_dirtyfb_answers_as_the_card);
		RUN(test_reattach_resends_gamma_and_dpms);
		RUN(test_every_path_commits_through_one_entry);
		RUN(test_dirtyfb_of_the_whole_fb);
		RUN(test_one_timeline_in_the_guests_clock);
		RUN(test_master_is_the_guests_own);
		RUN(test_magic_answers_as_the_cards);
		RUN(test_what_a_guest_asks_is_logged_once);
		RUN(test_no_hostd_is_reported_to_main);
		RUN(test_device_files_come_from_hostd);
	}
	vkms_destroy(vk);
	return tap_done();
}
