// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target on hostd's side of the display protocol: what the
 * backends send over their display sockets (hostd/display.c) and the
 * HELLO of a backend that reattaches through the listening socket
 * (hostd/reattach.c), the real files and poller (hostd/poller.c), on the
 * sockets a backend would use. The card is a pretend one (a pipe whose
 * ioctls land in a stub, as in tests/unit/test_hostd_display.c: one CRTC
 * 31 with a 256-entry gamma, one connector 40, flips completing through
 * the pipe at once); input.c's part of a reattach is a stub that takes
 * pipes.
 *
 * Input: records, each a byte (op % 7) and its arguments; G is a guest
 * (0, in front, or 1):
 *   0 G LEN(2) BYTES   a raw message on G's connection
 *   1 G TYPE(1) LEN(2) BYTES  a message with a header that fits its body
 *   2 G KIND(1) ...    a well-formed message (HELLO, SET_CRTC, FLIP,
 *                      GAMMA, DPMS, DIRTY) with values from the input
 *   3 G                the switcher shows G
 *   4 G                a new connection for G's next backend
 *   5 G                G's backend closes its connection
 *   6 F(1) NAME(1) DOMID(1) NFDS(1) CUT(1)  a backend reattaches: a
 *                      HELLO with flags F, a guest's name or another,
 *                      a domain, NFDS pipes attached (ninput from the
 *                      high bits), CUT bytes short
 * After each record hostd runs until it has nothing to do. hostd's
 * display and reattach socket live across inputs (made once: the probe
 * of the card is slow); each input starts with new connections for both
 * guests, which drops their old state, and guest 0 in front.
 *
 * Checked besides the sanitizers: hostd never blocks on a guest, and
 * leaks no descriptor (the fuzzer would run out of them).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#ifndef __user
#define __user
#endif
#include <drm/drm.h>
#include <drm/drm_mode.h>
#include <paradice/pd_display.h>

#include "display.h"
#include "input.h"
#include "log.h"
#include "poller.h"
#include "reattach.h"
#include "switcher.h"

#define FAKE_GAMMA	256

/* ---- the pretend card ---- */

static ino_t fake_ino;
static int fake_w = -1;

int __real_ioctl(int fd, unsigned long req, ...);
int __wrap_ioctl(int fd, unsigned long req, ...);

/* hostd's descriptor of the card, once found (an fstat per ioctl would
 * cost more than the rest of an execution) */
static int fake_fd = -1;

static bool fake(int fd)
{
	struct stat st;

	if (fd >= 0 && fd == fake_fd)
		return true;
	if (fake_fd >= 0 || !fake_ino || fstat(fd, &st) ||
	    st.st_ino != fake_ino)
		return false;
	fake_fd = fd;
	return true;
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
	case DRM_IOCTL_MODE_SETCRTC:
	case DRM_IOCTL_MODE_RMFB:
	case DRM_IOCTL_MODE_DESTROY_DUMB:
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
	case DRM_IOCTL_MODE_SETGAMMA:
		if (((struct drm_mode_crtc_lut *)arg)->gamma_size != FAKE_GAMMA)
			return errno = EINVAL, -1;
		return 0;
	case DRM_IOCTL_MODE_SETPROPERTY:
		return ((struct drm_mode_connector_set_property *)arg)->prop_id
		       == 50 ? 0 : (errno = EINVAL, -1);
	case DRM_IOCTL_MODE_DIRTYFB:
		return ((struct drm_mode_fb_dirty_cmd *)arg)->fb_id == 99 ?
		       (errno = ENOSYS, -1) : 0;
	case DRM_IOCTL_MODE_CREATE_DUMB:
		((struct drm_mode_create_dumb *)arg)->handle = 1;
		return 0;
	case DRM_IOCTL_MODE_ADDFB:
		((struct drm_mode_fb_cmd *)arg)->fb_id = 99;
		return 0;
	case DRM_IOCTL_MODE_PAGE_FLIP: {
		struct drm_mode_crtc_page_flip *f = arg;
		struct drm_event_vblank ev = {
			.base = { DRM_EVENT_FLIP_COMPLETE, sizeof(ev) },
			.user_data = f->user_data, .crtc_id = f->crtc_id,
		};

		if (write(fake_w, &ev, sizeof(ev)) != sizeof(ev))
			return errno = EBUSY, -1;
		return 0;
	}
	}
	errno = EINVAL;
	return -1;
}

/* ---- the rest of hostd ---- */

void hostd_log(const char *fmt, ...)
{
}

uint64_t hostd_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int hostd_input_adopt(struct hostd_input *in, unsigned int g, const int *fds,
		      unsigned int n)
{
	int r = 0;

	for (unsigned int i = 0; i < n; i++) {
		struct stat st;

		if (fstat(fds[i], &st) || !S_ISFIFO(st.st_mode))
			r = -EPERM;
		close(fds[i]);
	}
	return r;
}

static struct hostd_config cfg;
static struct hostd_switcher sw;
static struct hostd_poller *poller;
static char sock_path[108];

/* hostd's loop until it has nothing to do (a bound: it must not spin) */
static void settle(void)
{
	for (int i = 0; i < 64; i++)
		if (hostd_poller_dispatch(poller, 0) <= 0)
			return;
}

/* ---- input ---- */

struct in {
	const uint8_t *p;
	size_t left;
};

static uint64_t get(struct in *in, unsigned int bytes)
{
	uint64_t x = 0;

	while (bytes--) {
		x = x << 8 | (in->left ? *in->p : 0);
		if (in->left) {
			in->p++;
			in->left--;
		}
	}
	return x;
}

static void put(struct in *in, void *dst, size_t len)
{
	size_t n = len < in->left ? len : in->left;

	memcpy(dst, in->p, n);
	in->p += n;
	in->left -= n;
}

static int gfd[2] = { -1, -1 };	/* the backends' ends */

static void send_msg(unsigned int g, uint16_t type, const void *body,
		     size_t len)
{
	uint8_t buf[PD_DISP_MAX_MSG];
	struct pd_disp_hdr hdr = { .type = type, .len = (uint16_t)len };

	if (gfd[g] < 0 || len > sizeof(buf) - sizeof(hdr))
		return;
	memcpy(buf, &hdr, sizeof(hdr));
	memcpy(buf + sizeof(hdr), body, len);
	(void)!send(gfd[g], buf, sizeof(hdr) + len, MSG_DONTWAIT);
}

static uint32_t crtc_sel(struct in *in)
{
	unsigned int s = (unsigned int)get(in, 1);

	return s < 0xe0 ? 31 : s;
}

static void well_formed(struct in *in, unsigned int g)
{
	switch (get(in, 1) % 6) {
	case 0: {
		struct pd_disp_hello m = { .version = PD_DISPLAY_VERSION,
					   .domid = g + 1 };
		unsigned int s = (unsigned int)get(in, 1);

		snprintf(m.guest, sizeof(m.guest), "g%u", s & 1 ? g : 1 - g);
		if (s & 2)
			m.domid = (uint32_t)get(in, 1);
		if (s & 4)
			m.flags = PD_DISP_HELLO_REATTACH;
		send_msg(g, PD_DISP_HELLO, &m, sizeof(m));
		break;
	}
	case 1: {
		struct pd_disp_crtc c = { 0 };

		c.crtc_id = crtc_sel(in);
		c.fb_id = (uint32_t)get(in, 1);
		c.mode_valid = (uint32_t)get(in, 1) % 3;
		c.nconn = (uint32_t)get(in, 1) % 6;
		for (unsigned int i = 0; i < PD_DISPLAY_MAX_CONN; i++)
			c.conn[i] = i < c.nconn ? 40 : 0;
		c.mode.hdisplay = (uint16_t)get(in, 2);
		c.mode.vdisplay = (uint16_t)get(in, 2);
		c.mode.clock = 65000;
		send_msg(g, PD_DISP_SET_CRTC, &c, sizeof(c));
		break;
	}
	case 2: {
		struct pd_disp_flip f = { 0 };

		f.crtc_id = crtc_sel(in);
		f.fb_id = (uint32_t)get(in, 1);
		f.cookie = get(in, 1);
		send_msg(g, PD_DISP_FLIP, &f, sizeof(f));
		break;
	}
	case 3: {
		static struct pd_disp_gamma m;

		memset(&m, 0, sizeof(m));
		m.crtc_id = crtc_sel(in);
		m.size = (uint32_t)get(in, 2);
		put(in, m.red, 8);
		put(in, &m.red[m.size % PD_DISPLAY_MAX_GAMMA], 2);
		send_msg(g, PD_DISP_GAMMA, &m, sizeof(m));
		break;
	}
	case 4: {
		struct pd_disp_dpms m = { 0 };

		m.conn_id = (uint32_t)get(in, 1);
		m.mode = (uint32_t)get(in, 1) % 4;
		send_msg(g, PD_DISP_DPMS, &m, sizeof(m));
		break;
	}
	case 5: {
		struct pd_disp_dirty m = { 0 };

		m.fb_id = (uint32_t)get(in, 1);
		m.flags = (uint32_t)get(in, 1) % 4;
		m.nclips = (uint32_t)get(in, 1) % 18;
		put(in, m.clips, 16);
		send_msg(g, PD_DISP_DIRTY, &m, sizeof(m));
		break;
	}
	}
}

static void reattach(struct in *in)
{
	struct {
		struct pd_disp_hdr hdr;
		struct pd_disp_hello m;
	} b = { .hdr = { .type = PD_DISP_HELLO, .len = sizeof(b.m) },
		.m = { .version = PD_DISPLAY_VERSION } };
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * 4)];
	} ctl = { 0 };
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	unsigned int flags = (unsigned int)get(in, 1);
	unsigned int name = (unsigned int)get(in, 1);
	unsigned int nfds = (unsigned int)get(in, 1), cut;
	struct iovec iov = { &b, sizeof(b) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	int fds[4], s, g;

	b.m.flags = flags & 0x80 ? flags : PD_DISP_HELLO_REATTACH;
	b.m.domid = (uint32_t)get(in, 1) % 4;
	b.m.ninput = nfds >> 4;
	nfds &= 3;
	g = name & 1;
	snprintf(b.m.guest, sizeof(b.m.guest), "%s", name & 2 ? "g9" :
		 g ? "g1" : "g0");
	if (name & 4)
		b.hdr.reserved = 1;
	if (name & 8)
		b.m.version++;
	cut = (unsigned int)get(in, 1);
	iov.iov_len -= cut < 0x10 ? cut : 0;
	s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", sock_path);
	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a))) {
		if (s >= 0)
			close(s);
		return;
	}
	for (unsigned int i = 0; i < nfds; i += 2) {
		int p[2];

		if (pipe(p))
			abort();
		fds[i] = p[0];
		fds[i + 1] = p[1];
	}
	if (nfds & 1)
		close(fds[nfds]);
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
	(void)!sendmsg(s, &mh, MSG_DONTWAIT);
	for (unsigned int i = 0; i < nfds; i++)
		close(fds[i]);
	settle();
	/* accepted: it is g's connection now; else hostd closed it */
	if (gfd[g] < 0) {
		gfd[g] = s;
	} else {
		close(s);
	}
}

static struct hostd_display *d;
static struct hostd_reattach *r;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Once: hostd's display on the pretend card, its reattach socket. */
static void setup(void)
{
	struct stat st;
	char path[64];
	int p[2];

	signal(SIGPIPE, SIG_IGN);	/* as hostd.c */
	poller = hostd_poller_create();
	snprintf(sock_path, sizeof(sock_path), "/tmp/pd-fuzz-display-%d.sock",
		 (int)getpid());
	if (!poller)
		abort();
	sw.nvms = 2;
	for (unsigned int i = 0; i < 2; i++) {
		snprintf(cfg.guests[i].name, sizeof(cfg.guests[i].name), "g%u", i);
		sw.vms[i].cfg = &cfg.guests[i];
		sw.vms[i].domid = (int)i + 1;
		sw.vms[i].state = HOSTD_VM_RUNNING;
	}
	if (pipe(p) || fstat(p[0], &st))
		abort();
	fake_ino = st.st_ino;
	fake_w = p[1];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", p[0]);
	d = hostd_display_create(&sw, poller, path);
	close(p[0]);
	if (!d)
		abort();
	r = hostd_reattach_create(&sw, poller, d, NULL, NULL, sock_path, false);
	if (!r)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { data, size };

	if (!poller)
		setup();
	/* each input starts from new connections (the old state goes) with
	 * guest 0 in front */
	sw.router.active = 0;
	for (unsigned int g = 0; g < 2; g++) {
		if (gfd[g] >= 0)
			close(gfd[g]);
		gfd[g] = hostd_display_backend_fd(d, g);
		if (gfd[g] < 0)
			abort();
	}
	settle();

	while (in.left) {
		unsigned int op = (unsigned int)get(&in, 1) % 7;
		unsigned int g = op == 6 ? 0 : (unsigned int)get(&in, 1) & 1;
		uint8_t buf[PD_DISP_MAX_MSG + 8];
		size_t len;

		switch (op) {
		case 0:
			len = (size_t)get(&in, 2) % sizeof(buf);
			put(&in, buf, len);
			if (gfd[g] >= 0)
				(void)!send(gfd[g], buf, len, MSG_DONTWAIT);
			break;
		case 1: {
			uint16_t type = (uint16_t)get(&in, 1);

			len = (size_t)get(&in, 2) % (PD_DISP_MAX_MSG - 8);
			memset(buf, 0, len);
			put(&in, buf, len);
			send_msg(g, type, buf, len);
			break;
		}
		case 2:
			well_formed(&in, g);
			break;
		case 3:
			sw.router.active = g;
			sw.hooks.show(sw.hooks.show_data, g);
			break;
		case 4:
			if (gfd[g] >= 0)
				close(gfd[g]);
			gfd[g] = hostd_display_backend_fd(d, g);
			break;
		case 5:
			if (gfd[g] >= 0)
				close(gfd[g]);
			gfd[g] = -1;
			break;
		case 6:
			reattach(&in);
			break;
		}
		settle();
	}
	return 0;
}
