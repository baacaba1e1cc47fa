// SPDX-License-Identifier: GPL-2.0-only
/*
 * pd-kmsclient: the KMS client of the display tests.
 *
 *   pd-kmsclient run CARD RRGGBB SECONDS [noflip|flood]
 *	Legacy KMS on CARD: two dumb buffers filled with the colour (when the
 *	file can be mmapped), SETCRTC on the first connected connector's
 *	first mode, then page flips with events, one after the other, for
 *	SECONDS. Prints "fbs A B" first, then every second
 *	"flips N events N timeouts N", and at the end the rate. It paints
 *	both buffers again every second, as a compositor redraws: under QEMU
 *	the emulated VGA zeroes the start of its VRAM when the screen is
 *	switched on or changes mode (a switch between guests with other
 *	modes), and a buffer placed there loses its pixels (real cards keep
 *	them; docs/display.md). GETCRTC must
 *	read back what it set. With noflip it sets the CRTC and only waits;
 *	with flood it asks for a flip again at once, whether the last one
 *	completed or not (EBUSY counted as "busy"), never sleeping.
 *   pd-kmsclient show CARD FB_ID
 *	SETCRTC of someone's framebuffer FB_ID on the first CRTC with its
 *	first connected connector's first mode, and PAGE_FLIP to it; prints
 *	"setcrtc ERRNO flip ERRNO" (0: it worked).
 *   pd-kmsclient paint CARD FB_ID RRGGBB
 *	Fills framebuffer FB_ID with the colour through GETFB (root: any
 *	fb's handle) and a dumb mapping.
 *   pd-kmsclient vblank CARD
 *	WAIT_VBLANK on the first CRTC (another client has set a mode on it):
 *	a query, a blocking wait of 30 vblanks (timed), an event 10 on,
 *	read(); prints "vblank A wait30 B in T s event C at D" and the flip
 *	events' view is the same count.
 *   pd-kmsclient gamma CARD
 *	The first CRTC's gamma: GETCRTC's gamma_size, GETGAMMA, SETGAMMA of
 *	an inverted ramp, GETGAMMA again; prints each result (errno names).
 *   pd-kmsclient dpms CARD 0|3
 *	Legacy SETPROPERTY of the first connected connector's DPMS, then
 *	GETCONNECTOR's value of it: "dpms conn N set V: ERR read R".
 *   pd-kmsclient times CARD N
 *	Sets its own mode and framebuffer on the first CRTC (no other client
 *	may flip there), then N times: a WAIT_VBLANK of the next vblank, a
 *	vblank query, a PAGE_FLIP with an event read as soon as it comes,
 *	and a vblank query right after it. Every time is compared with
 *	clock_gettime(CLOCK_MONOTONIC) around it (us): "sent" is the reply
 *	or event time minus the time the request was sent (a vblank asked
 *	for, or a flip, is never before it), "age" the time it was read
 *	minus its time (never negative, small). Prints "vblank sent MIN age
 *	MIN MAX median MEDIAN", the same for "flip", and "agree back B offgrid O
 *	early E": times that went back, vblanks whose time and count do not
 *	match the 60 Hz grid (1 ms), flips at or before the vblank read
 *	before them. All three must be 0.
 *   pd-kmsclient master CARD
 *	Two opens of CARD (the first is master when no other file is): what
 *	libdrm's drmIsMaster() asks (AUTH_MAGIC of 0: EACCES means no) on
 *	each, the second's GET_MAGIC, the first's AUTH_MAGIC of it twice:
 *	"master1 E master2 E magic M auth E again E" (errno names).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#ifndef __user
#define __user
#endif
#include <drm/drm.h>
#include <drm/drm_mode.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int xioctl(int fd, unsigned long cmd, void *arg, const char *what)
{
	int r;

	do
		r = ioctl(fd, cmd, arg);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		fprintf(stderr, "pd-kmsclient: %s: %s\n", what, strerror(errno));
	return r;
}

/* Fills a dumb buffer with rgb through a mapping; keeps the mapping in
 * *keep if keep is given (else unmaps it). */
static int fill_keep(int fd, uint32_t handle, uint64_t size, uint32_t rgb,
		     uint32_t **keep)
{
	struct drm_mode_map_dumb map = { .handle = handle };
	uint32_t *px;

	if (xioctl(fd, DRM_IOCTL_MODE_MAP_DUMB, &map, "MAP_DUMB"))
		return -1;
	px = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		  (off_t)map.offset);
	if (px == MAP_FAILED) {
		fprintf(stderr, "pd-kmsclient: mmap: %s\n", strerror(errno));
		return -1;
	}
	for (uint64_t i = 0; i < size / 4; i++)
		px[i] = rgb;
	if (keep)
		*keep = px;
	else
		munmap(px, size);
	return 0;
}

static int fill(int fd, uint32_t handle, uint64_t size, uint32_t rgb)
{
	return fill_keep(fd, handle, size, rgb, NULL);
}

static int paint(const char *card, uint32_t fb_id, uint32_t rgb)
{
	int fd = open(card, O_RDWR | O_CLOEXEC);
	struct drm_mode_fb_cmd fb = { .fb_id = fb_id };

	if (fd < 0 || xioctl(fd, DRM_IOCTL_MODE_GETFB, &fb, "GETFB"))
		return 1;
	if (!fb.handle) {
		fprintf(stderr, "pd-kmsclient: GETFB gave no handle\n");
		return 1;
	}
	if (fill(fd, fb.handle, (uint64_t)fb.pitch * fb.height, rgb))
		return 1;
	printf("painted fb %u %ux%u\n", fb_id, fb.width, fb.height);
	return 0;
}

static int show_fb = -1;	/* show: the fb to try */

#define NOFLIP	0
#define FLIP	1
#define FLOOD	2

static int run(const char *card, uint32_t rgb, double seconds, int flip)
{
	struct drm_mode_card_res res = { 0 };
	uint32_t crtcs[8], conns[16], crtc = 0, conn = 0, fbs[2];
	uint32_t *px[2] = { NULL, NULL };
	uint64_t sizes[2];
	struct drm_mode_modeinfo mode = { 0 };
	struct drm_mode_crtc set = { 0 }, get = { 0 };
	long flips = 0, events = 0, timeouts = 0, busy = 0;
	double t0, last;
	int fd = open(card, O_RDWR | O_CLOEXEC), pending = 0;

	if (fd < 0 || xioctl(fd, DRM_IOCTL_MODE_GETRESOURCES, &res, "GETRESOURCES"))
		return 1;
	if (!res.count_crtcs || !res.count_connectors)
		return 1;
	res.count_crtcs = res.count_crtcs > 8 ? 8 : res.count_crtcs;
	res.count_connectors = res.count_connectors > 16 ? 16 : res.count_connectors;
	res.crtc_id_ptr = (uintptr_t)crtcs;
	res.connector_id_ptr = (uintptr_t)conns;
	res.count_fbs = res.count_encoders = 0;
	if (xioctl(fd, DRM_IOCTL_MODE_GETRESOURCES, &res, "GETRESOURCES"))
		return 1;
	crtc = crtcs[0];
	for (uint32_t i = 0; i < res.count_connectors && !conn; i++) {
		struct drm_mode_modeinfo modes[64];
		struct drm_mode_get_connector c = { .connector_id = conns[i] };

		if (xioctl(fd, DRM_IOCTL_MODE_GETCONNECTOR, &c, "GETCONNECTOR"))
			return 1;
		if (c.connection != 1 || !c.count_modes)
			continue;
		c.count_modes = c.count_modes > 64 ? 64 : c.count_modes;
		c.modes_ptr = (uintptr_t)modes;
		c.count_props = c.count_encoders = 0;
		if (xioctl(fd, DRM_IOCTL_MODE_GETCONNECTOR, &c, "GETCONNECTOR"))
			return 1;
		mode = modes[0];
		for (uint32_t m = 0; m < c.count_modes; m++)
			if (modes[m].type & DRM_MODE_TYPE_PREFERRED) {
				mode = modes[m];
				break;
			}
		conn = conns[i];
	}
	if (!conn) {
		fprintf(stderr, "pd-kmsclient: no connected connector\n");
		return 1;
	}
	if (show_fb >= 0) {
		struct drm_mode_crtc_page_flip pf = { .crtc_id = crtc,
			.fb_id = (uint32_t)show_fb };
		int e1, e2;

		set = (struct drm_mode_crtc){ .crtc_id = crtc,
			.fb_id = (uint32_t)show_fb,
			.set_connectors_ptr = (uintptr_t)&conn,
			.count_connectors = 1, .mode_valid = 1, .mode = mode };
		e1 = ioctl(fd, DRM_IOCTL_MODE_SETCRTC, &set) ? errno : 0;
		e2 = ioctl(fd, DRM_IOCTL_MODE_PAGE_FLIP, &pf) ? errno : 0;
		printf("setcrtc %d flip %d\n", e1, e2);
		return 0;
	}
	for (int i = 0; i < 2; i++) {
		struct drm_mode_create_dumb cd = { .width = mode.hdisplay,
			.height = mode.vdisplay, .bpp = 32 };
		struct drm_mode_fb_cmd fb = { 0 };

		if (xioctl(fd, DRM_IOCTL_MODE_CREATE_DUMB, &cd, "CREATE_DUMB"))
			return 1;
		sizes[i] = cd.size;
		if (fill_keep(fd, cd.handle, cd.size, rgb, &px[i]))
			fprintf(stderr, "pd-kmsclient: no mmap: fb left as it is\n");
		else
			printf("painted %06x through mmap\n", rgb);
		fb = (struct drm_mode_fb_cmd){ .width = cd.width,
			.height = cd.height, .pitch = cd.pitch, .bpp = 32,
			.depth = 24, .handle = cd.handle };
		if (xioctl(fd, DRM_IOCTL_MODE_ADDFB, &fb, "ADDFB"))
			return 1;
		fbs[i] = fb.fb_id;
	}
	printf("fbs %u %u mode %s\n", fbs[0], fbs[1], mode.name);
	fflush(stdout);
	set.crtc_id = crtc;
	set.fb_id = fbs[0];
	set.set_connectors_ptr = (uintptr_t)&conn;
	set.count_connectors = 1;
	set.mode_valid = 1;
	set.mode = mode;
	if (xioctl(fd, DRM_IOCTL_MODE_SETCRTC, &set, "SETCRTC"))
		return 1;
	get.crtc_id = crtc;
	if (xioctl(fd, DRM_IOCTL_MODE_GETCRTC, &get, "GETCRTC"))
		return 1;
	printf("getcrtc fb %u mode_valid %u %ux%u\n", get.fb_id, get.mode_valid,
	       get.mode.hdisplay, get.mode.vdisplay);
	fflush(stdout);
	t0 = last = now();
	while (now() - t0 < seconds) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		uint8_t buf[1024];
		ssize_t n;

		if (flip == FLOOD || (flip == FLIP && !pending)) {
			struct drm_mode_crtc_page_flip pf = { .crtc_id = crtc,
				.fb_id = fbs[(flips + 1) % 2],
				.flags = DRM_MODE_PAGE_FLIP_EVENT,
				.user_data = (uint64_t)flips + 1 };

			if (ioctl(fd, DRM_IOCTL_MODE_PAGE_FLIP, &pf) == 0) {
				flips++;
				pending = 1;
			} else if (errno == EBUSY) {
				busy++;
			} else {
				fprintf(stderr, "pd-kmsclient: PAGE_FLIP: %s\n",
					strerror(errno));
				return 1;
			}
		}
		if (poll(&p, 1, flip == FLOOD ? 0 : 1000) == 0) {
			timeouts += pending && flip != FLOOD;
		} else if (p.revents & (POLLIN | POLLERR | POLLHUP)) {
			n = read(fd, buf, sizeof(buf));
			/* e.g. EIO: the file's backend is gone */
			if (n < 0 && errno != EAGAIN && errno != EINTR) {
				fprintf(stderr, "pd-kmsclient: read: %s\n",
					strerror(errno));
				return 1;
			}
			for (ssize_t o = 0; n > 0 && o + (ssize_t)sizeof(struct drm_event) <= n;) {
				struct drm_event e;

				memcpy(&e, buf + o, sizeof(e));
				if (e.length < sizeof(e))
					break;
				if (e.type == DRM_EVENT_FLIP_COMPLETE) {
					events++;
					pending = 0;
				}
				o += e.length;
			}
		}
		if (now() - last >= 1.0) {
			last = now();
			for (int i = 0; i < 2; i++)
				for (uint64_t k = 0; px[i] && k < sizes[i] / 4; k++)
					px[i][k] = rgb;
			printf("flips %ld events %ld timeouts %ld busy %ld\n",
			       flips, events, timeouts, busy);
			fflush(stdout);
		}
	}
	printf("done flips %ld events %ld timeouts %ld in %.1f s: %.1f Hz\n",
	       flips, events, timeouts, now() - t0, events / (now() - t0));
	return 0;
}

/* The first CRTC and first connected connector of card. */
static int first(int fd, uint32_t *crtc, uint32_t *conn)
{
	struct drm_mode_card_res res = { 0 };
	uint32_t crtcs[8], conns[16];

	if (xioctl(fd, DRM_IOCTL_MODE_GETRESOURCES, &res, "GETRESOURCES"))
		return -1;
	res.count_crtcs = res.count_crtcs > 8 ? 8 : res.count_crtcs;
	res.count_connectors = res.count_connectors > 16 ? 16 :
			       res.count_connectors;
	res.crtc_id_ptr = (uintptr_t)crtcs;
	res.connector_id_ptr = (uintptr_t)conns;
	res.count_fbs = res.count_encoders = 0;
	if (xioctl(fd, DRM_IOCTL_MODE_GETRESOURCES, &res, "GETRESOURCES") ||
	    !res.count_crtcs)
		return -1;
	*crtc = crtcs[0];
	*conn = 0;
	for (uint32_t i = 0; i < res.count_connectors && !*conn; i++) {
		struct drm_mode_get_connector c = { .connector_id = conns[i] };

		if (!ioctl(fd, DRM_IOCTL_MODE_GETCONNECTOR, &c) &&
		    c.connection == 1)
			*conn = conns[i];
	}
	return 0;
}

static int vblank(const char *card)
{
	int fd = open(card, O_RDWR | O_CLOEXEC);
	union drm_wait_vblank w = { 0 };
	struct drm_event_vblank ev;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint32_t s0, s1, s2;
	double t;

	if (fd < 0)
		return 1;
	w.request.type = _DRM_VBLANK_RELATIVE;
	if (xioctl(fd, DRM_IOCTL_WAIT_VBLANK, &w, "WAIT_VBLANK query"))
		return 1;
	s0 = w.reply.sequence;
	memset(&w, 0, sizeof(w));
	w.request.type = _DRM_VBLANK_RELATIVE;
	w.request.sequence = 30;
	t = now();
	if (xioctl(fd, DRM_IOCTL_WAIT_VBLANK, &w, "WAIT_VBLANK 30"))
		return 1;
	t = now() - t;
	s1 = w.reply.sequence;
	memset(&w, 0, sizeof(w));
	w.request.type = _DRM_VBLANK_RELATIVE | _DRM_VBLANK_EVENT;
	w.request.sequence = 10;
	w.request.signal = 0x1234;
	if (xioctl(fd, DRM_IOCTL_WAIT_VBLANK, &w, "WAIT_VBLANK event"))
		return 1;
	s2 = w.reply.sequence;
	if (poll(&p, 1, 5000) != 1 || read(fd, &ev, sizeof(ev)) != sizeof(ev) ||
	    ev.base.type != DRM_EVENT_VBLANK || ev.user_data != 0x1234) {
		fprintf(stderr, "pd-kmsclient: no vblank event\n");
		return 1;
	}
	printf("vblank %u wait30 %u in %.3f s event %u at %u\n", s0, s1, t,
	       s2, ev.sequence);
	return 0;
}

static const char *err_name(int e)
{
	return e == 0 ? "0" : e == ENOSYS ? "ENOSYS" : e == EINVAL ? "EINVAL" :
	       e == ENOENT ? "ENOENT" : e == EPERM ? "EPERM" :
	       e == EACCES ? "EACCES" : strerror(e);
}

static int gamma_(const char *card)
{
	int fd = open(card, O_RDWR | O_CLOEXEC);
	struct drm_mode_crtc c = { 0 };
	static uint16_t lut[3][4096];
	struct drm_mode_crtc_lut l = { .red = (uintptr_t)lut[0],
				       .green = (uintptr_t)lut[1],
				       .blue = (uintptr_t)lut[2] };
	uint32_t conn;
	int e1, e2, e3;

	if (fd < 0 || first(fd, &c.crtc_id, &conn) ||
	    xioctl(fd, DRM_IOCTL_MODE_GETCRTC, &c, "GETCRTC"))
		return 1;
	l.crtc_id = c.crtc_id;
	l.gamma_size = c.gamma_size > 4096 ? 4096 : c.gamma_size;
	e1 = ioctl(fd, DRM_IOCTL_MODE_GETGAMMA, &l) ? errno : 0;
	for (uint32_t i = 0; i < l.gamma_size; i++)
		lut[0][i] = lut[1][i] = lut[2][i] = (uint16_t)~(i << 8);
	e2 = ioctl(fd, DRM_IOCTL_MODE_SETGAMMA, &l) ? errno : 0;
	memset(lut, 0, sizeof(lut));
	e3 = ioctl(fd, DRM_IOCTL_MODE_GETGAMMA, &l) ? errno : 0;
	printf("gamma_size %u getgamma %s setgamma %s getgamma %s red1 %u\n",
	       c.gamma_size, err_name(e1), err_name(e2), err_name(e3),
	       l.gamma_size > 1 ? lut[0][1] : 0);
	return 0;
}

static int dpms(const char *card, uint64_t v)
{
	int fd = open(card, O_RDWR | O_CLOEXEC);
	uint32_t crtc, conn, props[64], prop = 0;
	uint64_t values[64];
	struct drm_mode_get_connector c = { 0 };
	struct drm_mode_connector_set_property sp = { .value = v };
	int e;

	if (fd < 0 || first(fd, &crtc, &conn) || !conn)
		return 1;
	c.connector_id = conn;
	c.count_props = 64;
	c.props_ptr = (uintptr_t)props;
	c.prop_values_ptr = (uintptr_t)values;
	if (xioctl(fd, DRM_IOCTL_MODE_GETCONNECTOR, &c, "GETCONNECTOR"))
		return 1;
	for (uint32_t i = 0; i < c.count_props && i < 64 && !prop; i++) {
		struct drm_mode_get_property gp = { .prop_id = props[i] };

		if (!ioctl(fd, DRM_IOCTL_MODE_GETPROPERTY, &gp) &&
		    !strcmp(gp.name, "DPMS"))
			prop = props[i];
	}
	sp.prop_id = prop;
	sp.connector_id = conn;
	e = ioctl(fd, DRM_IOCTL_MODE_SETPROPERTY, &sp) ? errno : 0;
	c = (struct drm_mode_get_connector){ .connector_id = conn,
		.count_props = 64, .props_ptr = (uintptr_t)props,
		.prop_values_ptr = (uintptr_t)values };
	if (xioctl(fd, DRM_IOCTL_MODE_GETCONNECTOR, &c, "GETCONNECTOR"))
		return 1;
	for (uint32_t i = 0; i < c.count_props && i < 64; i++)
		if (props[i] == prop)
			printf("dpms conn %u set %llu: %s read %llu\n", conn,
			       (unsigned long long)v, err_name(e),
			       (unsigned long long)values[i]);
	return 0;
}

static int64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

#define MAX_SAMPLES 256

struct span {
	int64_t sent_min, age_min, age_max;
	int64_t ages[MAX_SAMPLES];
	unsigned int n;
};

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* The median age (sorts the samples). */
static int64_t span_median(struct span *s)
{
	if (!s->n)
		return 0;
	qsort(s->ages, s->n, sizeof(s->ages[0]), cmp64);
	return s->ages[s->n / 2];
}

/* What a series of (count, time) told by the card must be: in order, on
 * one 60 Hz grid (16666667 ns a vblank; 1 ms for the rounding to us). */
struct told {
	bool any;
	uint32_t seq0, last_seq;
	int64_t t0, last_t;
	long back, offgrid;
};

static void told(struct told *o, uint32_t seq, int64_t t)
{
	int64_t k;

	if (!o->any) {
		*o = (struct told){ .any = true, .seq0 = seq, .t0 = t,
				    .last_seq = seq, .last_t = t };
		return;
	}
	if ((int32_t)(seq - o->last_seq) < 0 || t < o->last_t)
		o->back++;
	k = (int32_t)(seq - o->seq0);
	if (llabs((t - o->t0) * 1000 - k * 16666667) > 1000000)
		o->offgrid++;
	o->last_seq = seq;
	o->last_t = t;
}

static void span_add(struct span *s, int64_t sent, int64_t t, int64_t read)
{
	if (t - sent < s->sent_min)
		s->sent_min = t - sent;
	if (read - t < s->age_min)
		s->age_min = read - t;
	if (read - t > s->age_max)
		s->age_max = read - t;
	if (s->n < MAX_SAMPLES)
		s->ages[s->n++] = read - t;
}

/* A vblank query: its count and time (us). */
static int vbl_query(int fd, uint32_t n, uint32_t *seq, int64_t *t)
{
	union drm_wait_vblank w = { 0 };

	w.request.type = _DRM_VBLANK_RELATIVE;
	w.request.sequence = n;
	if (xioctl(fd, DRM_IOCTL_WAIT_VBLANK, &w, "WAIT_VBLANK"))
		return -1;
	*seq = w.reply.sequence;
	*t = (int64_t)w.reply.tval_sec * 1000000 + w.reply.tval_usec;
	return 0;
}

static int times(const char *card, int n)
{
	int fd = open(card, O_RDWR | O_CLOEXEC);
	uint32_t crtc, conn, fbs[2], seq;
	struct drm_mode_modeinfo modes[64];
	struct drm_mode_get_connector c = { 0 };
	struct drm_mode_crtc set = { 0 };
	static struct span vs, fs;
	struct told o = { 0 };
	int64_t t, sent;
	long early = 0;

	vs.sent_min = vs.age_min = fs.sent_min = fs.age_min = INT64_MAX;
	vs.age_max = fs.age_max = INT64_MIN;
	if (fd < 0 || first(fd, &crtc, &conn) || !conn)
		return 1;
	c.connector_id = conn;
	if (xioctl(fd, DRM_IOCTL_MODE_GETCONNECTOR, &c, "GETCONNECTOR") ||
	    !c.count_modes)
		return 1;
	c.count_modes = c.count_modes > 64 ? 64 : c.count_modes;
	c.modes_ptr = (uintptr_t)modes;
	c.count_props = c.count_encoders = 0;
	if (xioctl(fd, DRM_IOCTL_MODE_GETCONNECTOR, &c, "GETCONNECTOR"))
		return 1;
	for (int i = 0; i < 2; i++) {
		struct drm_mode_create_dumb cd = { .width = modes[0].hdisplay,
			.height = modes[0].vdisplay, .bpp = 32 };
		struct drm_mode_fb_cmd fb = { 0 };

		if (xioctl(fd, DRM_IOCTL_MODE_CREATE_DUMB, &cd, "CREATE_DUMB"))
			return 1;
		fb = (struct drm_mode_fb_cmd){ .width = cd.width,
			.height = cd.height, .pitch = cd.pitch, .bpp = 32,
			.depth = 24, .handle = cd.handle };
		if (xioctl(fd, DRM_IOCTL_MODE_ADDFB, &fb, "ADDFB"))
			return 1;
		fbs[i] = fb.fb_id;
	}
	set = (struct drm_mode_crtc){ .crtc_id = crtc, .fb_id = fbs[0],
		.set_connectors_ptr = (uintptr_t)&conn, .count_connectors = 1,
		.mode_valid = 1, .mode = modes[0] };
	if (xioctl(fd, DRM_IOCTL_MODE_SETCRTC, &set, "SETCRTC"))
		return 1;
	for (int i = 0; i < n; i++) {
		struct drm_mode_crtc_page_flip pf = { .crtc_id = crtc,
			.fb_id = fbs[(i + 1) % 2],
			.flags = DRM_MODE_PAGE_FLIP_EVENT, .user_data = 7 };
		struct pollfd p = { .fd = fd, .events = POLLIN };
		struct drm_event_vblank ev;
		uint32_t qseq;
		int64_t qt;

		sent = mono_us();
		if (vbl_query(fd, 1, &seq, &t))
			return 1;
		span_add(&vs, sent, t, mono_us());
		told(&o, seq, t);
		if (vbl_query(fd, 0, &qseq, &qt))
			return 1;
		told(&o, qseq, qt);
		sent = mono_us();
		if (xioctl(fd, DRM_IOCTL_MODE_PAGE_FLIP, &pf, "PAGE_FLIP"))
			return 1;
		if (poll(&p, 1, 5000) != 1 ||
		    read(fd, &ev, sizeof(ev)) != sizeof(ev) ||
		    ev.base.type != DRM_EVENT_FLIP_COMPLETE) {
			fprintf(stderr, "pd-kmsclient: no flip event\n");
			return 1;
		}
		t = (int64_t)ev.tv_sec * 1000000 + ev.tv_usec;
		span_add(&fs, sent, t, mono_us());
		if ((int32_t)(ev.sequence - qseq) <= 0 || t <= qt)
			early++;
		told(&o, ev.sequence, t);
		if (vbl_query(fd, 0, &seq, &t))
			return 1;
		told(&o, seq, t);
	}
	printf("vblank sent %lld age %lld %lld median %lld\n",
	       (long long)vs.sent_min, (long long)vs.age_min,
	       (long long)vs.age_max, (long long)span_median(&vs));
	printf("flip sent %lld age %lld %lld median %lld\n",
	       (long long)fs.sent_min, (long long)fs.age_min,
	       (long long)fs.age_max, (long long)span_median(&fs));
	printf("agree back %ld offgrid %ld early %ld\n", o.back, o.offgrid,
	       early);
	return 0;
}

static int master(const char *card)
{
	int a = open(card, O_RDWR | O_CLOEXEC), b = open(card, O_RDWR | O_CLOEXEC);
	struct drm_auth m = { 0 };
	int e1, e2, e3, e4, e5;

	if (a < 0 || b < 0)
		return 1;
	e1 = ioctl(a, DRM_IOCTL_AUTH_MAGIC, &m) ? errno : 0;
	e2 = ioctl(b, DRM_IOCTL_AUTH_MAGIC, &m) ? errno : 0;
	e3 = ioctl(b, DRM_IOCTL_GET_MAGIC, &m) ? errno : 0;
	e4 = ioctl(a, DRM_IOCTL_AUTH_MAGIC, &m) ? errno : 0;
	e5 = ioctl(a, DRM_IOCTL_AUTH_MAGIC, &m) ? errno : 0;
	printf("master1 %s master2 %s magic %u %s auth %s again %s\n",
	       err_name(e1), err_name(e2), m.magic, err_name(e3), err_name(e4),
	       err_name(e5));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 5 && !strcmp(argv[1], "run"))
		return run(argv[2], (uint32_t)strtoul(argv[3], NULL, 16),
			   atof(argv[4]), argc <= 5 ? FLIP :
			   !strcmp(argv[5], "noflip") ? NOFLIP :
			   !strcmp(argv[5], "flood") ? FLOOD : FLIP);
	if (argc == 4 && !strcmp(argv[1], "show")) {
		show_fb = atoi(argv[3]);
		return run(argv[2], 0, 0, 0);
	}
	if (argc == 3 && !strcmp(argv[1], "vblank"))
		return vblank(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "gamma"))
		return gamma_(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "dpms"))
		return dpms(argv[2], strtoull(argv[3], NULL, 10));
	if (argc == 4 && !strcmp(argv[1], "times"))
		return times(argv[2], atoi(argv[3]));
	if (argc == 3 && !strcmp(argv[1], "master"))
		return master(argv[2]);
	if (argc == 5 && !strcmp(argv[1], "paint"))
		return paint(argv[2], (uint32_t)strtoul(argv[3], NULL, 10),
			     (uint32_t)strtoul(argv[4], NULL, 16));
	fprintf(stderr, "usage: pd-kmsclient run CARD RRGGBB SECONDS [noflip]\n"
			"       pd-kmsclient show CARD FB_ID\n"
			"       pd-kmsclient paint CARD FB_ID RRGGBB\n");
	return 2;
}
