// SPDX-License-Identifier: GPL-2.0-only
/*
 * The screen while no guest is on it (display_priv.h): the on-screen
 * switcher, drawn by overlay.c into hostd's own dumb buffer from read-only
 * mappings of the guests' framebuffers, and dom0's entry, for which hostd
 * gives up the card's master and puts dom0's console back.
 *
 * What must hold:
 *   - the overlay's buffer is hostd's, shown only on the card, freed only
 *     once it is off the screen (a scanned-out framebuffer that goes
 *     turns its CRTC off); a guest's frame is read through a handle and a
 *     PROT_READ mapping of hostd's own, closed after each drawing;
 *   - while it is up no guest is in front (display.c's in_front()): its
 *     flips complete paced, its state is kept;
 *   - with dom0's entry in front hostd is not the master; the overlay or
 *     the next guest takes it back first.
 *
 * The same mappings give the thumbnails hostd's D-Bus service hands
 * dom0's switcher (hostd_display_thumbnail, behind polkit in bus.c);
 * never a guest: guestctl.c has no such request.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fb.h>
#include <linux/kd.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "display_priv.h"
#include "log.h"
#include "overlay.h"
#include "poller.h"

#define OVERLAY_NS	500000000L	/* the overlay's thumbnails: 2 Hz */
/* The frames we make thumbnails of: drm_fourcc.h's codes, the pixman
 * format that reads them (alpha ignored: a scanned-out frame is opaque)
 * and their bytes per pixel. Others get no thumbnail. */
#define FOURCC(a, b, c, d) ((uint32_t)(a) | (uint32_t)(b) << 8 | \
			    (uint32_t)(c) << 16 | (uint32_t)(d) << 24)
static const struct {
	uint32_t fourcc;
	pixman_format_code_t pixman;
	uint32_t cpp;
} frame_formats[] = {
	{ FOURCC('X', 'R', '2', '4'), PIXMAN_x8r8g8b8, 4 },
	{ FOURCC('A', 'R', '2', '4'), PIXMAN_x8r8g8b8, 4 },
	{ FOURCC('X', 'B', '2', '4'), PIXMAN_x8b8g8r8, 4 },
	{ FOURCC('A', 'B', '2', '4'), PIXMAN_x8b8g8r8, 4 },
	{ FOURCC('X', 'R', '3', '0'), PIXMAN_x2r10g10b10, 4 },
	{ FOURCC('A', 'R', '3', '0'), PIXMAN_x2r10g10b10, 4 },
	{ FOURCC('X', 'B', '3', '0'), PIXMAN_x2b10g10r10, 4 },
	{ FOURCC('A', 'B', '3', '0'), PIXMAN_x2b10g10r10, 4 },
	{ FOURCC('R', 'G', '2', '4'), PIXMAN_r8g8b8, 3 },
	{ FOURCC('B', 'G', '2', '4'), PIXMAN_b8g8r8, 3 },
	{ FOURCC('R', 'G', '1', '6'), PIXMAN_r5g6b5, 2 },
	{ FOURCC('B', 'G', '1', '6'), PIXMAN_b5g6r5, 2 },
	{ FOURCC('X', 'R', '1', '5'), PIXMAN_x1r5g5b5, 2 },
	{ FOURCC('A', 'R', '1', '5'), PIXMAN_x1r5g5b5, 2 },
};

static void overlay_render(struct hostd_display *d);

void hostd_display_overlay_init(struct hostd_display *d)
{
	d->ov.timer = -1;
	d->ov.map = MAP_FAILED;
}

int hostd_display_overlay_watch(struct hostd_display *d,
				void (*cb)(int fd, short revents, void *data))
{
	d->ov.timer = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (d->ov.timer >= 0)
		d->ov.timer_watch = hostd_poller_add(d->poller, d->ov.timer,
						     POLLIN, cb, d);
	return d->ov.timer_watch ? 0 : -1;
}

void hostd_display_overlay_finish(struct hostd_display *d)
{
	d->ov.up = false;
	hostd_display_overlay_free(d);
	hostd_watch_remove(d->ov.timer_watch);
	d->ov.timer_watch = NULL;
	if (d->ov.timer >= 0)
		close(d->ov.timer);
	d->ov.timer = -1;
}

void hostd_display_overlay_tick(struct hostd_display *d)
{
	uint64_t ticks;

	if (read(d->ov.timer, &ticks, sizeof(ticks)) == sizeof(ticks) &&
	    d->ov.up)
		overlay_render(d);
}

/* -- dom0's entry --------------------------------------------------------- */

/* Be the card's master again (after dom0's entry): 0 or -errno, logged. */
int hostd_display_take_master(struct hostd_display *d)
{
	if (d->master)
		return 0;
	if (ioctl(d->card, DRM_IOCTL_SET_MASTER, 0)) {
		int err = errno;

		hostd_log("display: cannot be the card's master again: %s "
			  "(dom0 holds it: its session's compositor?)",
			  strerror(err));
		return -err;
	}
	d->master = true;
	hostd_log("display: DRM master again");
	return 0;
}

/*
 * dom0's entry in front: drop the master and put dom0's console back.
 * Dropping alone leaves our last frame on the screen: the kernel's fbdev
 * emulation restores its own mode only on the last close of the card (the
 * backends keep it open) or when fbcon sets its mode. What makes fbcon set
 * it is what an X server does when it leaves: the console's KD_TEXT after
 * KD_GRAPHICS (fbcon_blank() with mode_switch sets the fb's var with
 * FB_ACTIVATE_KD_TEXT, drm_fb_helper_set_par() restores fbdev's mode even
 * over a master, and the console is redrawn). Without a VT (tty0 missing)
 * a forced FBIOPUT_VSCREENINFO on fb0 sets fbdev's mode without the
 * redraw. A session of dom0's own (its compositor becomes the master when
 * its VT is in front) works the same way: we are not the master.
 */
static void restore_console(void)
{
	struct fb_var_screeninfo var;
	int fd = open("/dev/tty0", O_RDWR | O_CLOEXEC | O_NOCTTY);

	if (fd >= 0) {
		int r = ioctl(fd, KDSETMODE, KD_GRAPHICS);

		r |= ioctl(fd, KDSETMODE, KD_TEXT);
		close(fd);
		if (r == 0) {
			hostd_log("display: dom0's console back (tty0 KD_TEXT)");
			return;
		}
	}
	fd = open("/dev/fb0", O_RDWR | O_CLOEXEC);
	if (fd >= 0 && ioctl(fd, FBIOGET_VSCREENINFO, &var) == 0) {
		var.activate = FB_ACTIVATE_NOW | FB_ACTIVATE_FORCE;
		if (ioctl(fd, FBIOPUT_VSCREENINFO, &var) == 0) {
			close(fd);
			hostd_log("display: dom0's console mode back (fb0)");
			return;
		}
	}
	hostd_log("display: cannot put dom0's console back: %s",
		  strerror(errno));
	if (fd >= 0)
		close(fd);
}

int hostd_display_give_master(struct hostd_display *d)
{
	if (d->master) {
		if (ioctl(d->card, DRM_IOCTL_DROP_MASTER, 0)) {
			int err = errno;

			hostd_log("display: DROP_MASTER: %s", strerror(err));
			return -err;
		}
		d->master = false;
	}
	restore_console();
	/* after fbdev took the CRTC: removing a scanned-out fb would turn
	 * it off */
	hostd_display_overlay_free(d);
	return 0;
}

/* -- the on-screen switcher ------------------------------------------------ */

void hostd_display_overlay_free(struct hostd_display *d)
{
	if (d->ov.up)
		return;
	if (d->ov.map != MAP_FAILED)
		munmap(d->ov.map, d->ov.size);
	d->ov.map = MAP_FAILED;
	if (d->ov.fb)
		ioctl(d->card, DRM_IOCTL_MODE_RMFB, &d->ov.fb);
	d->ov.fb = 0;
	if (d->ov.handle) {
		struct drm_mode_destroy_dumb dd = { .handle = d->ov.handle };

		ioctl(d->card, DRM_IOCTL_MODE_DESTROY_DUMB, &dd);
	}
	d->ov.handle = 0;
	free(d->ov.shadow);
	d->ov.shadow = NULL;
}

/*
 * The mode and connectors to show the overlay with: the foreground
 * guest's on CRTC 0, else what the CRTC shows now (dom0's console), else
 * the first connector's first mode. false: none.
 */
static bool screen_mode(struct hostd_display *d, struct drm_mode_modeinfo *mode,
			uint32_t *conn, uint32_t *nconn)
{
	unsigned int a = d->sw->router.active;
	struct drm_mode_crtc crtc = { .crtc_id = d->crtc_ids[0] };
	struct drm_mode_get_connector gc = { 0 };
	struct drm_mode_modeinfo modes[1];

	if (!d->ncrtcs || !d->nconns)
		return false;
	if (a < HOSTD_MAX_GUESTS && !hostd_is_host(d->sw, a) &&
	    d->g[a].crtc[0].set && d->g[a].crtc[0].st.mode_valid &&
	    d->g[a].crtc[0].st.nconn) {
		memcpy(mode, &d->g[a].crtc[0].st.mode, sizeof(*mode));
		*nconn = d->g[a].crtc[0].st.nconn;
		memcpy(conn, d->g[a].crtc[0].st.conn, *nconn * sizeof(*conn));
		return true;
	}
	conn[0] = d->conn_ids[0];
	*nconn = 1;
	if (ioctl(d->card, DRM_IOCTL_MODE_GETCRTC, &crtc) == 0 &&
	    crtc.mode_valid) {
		*mode = crtc.mode;
		return true;
	}
	gc.connector_id = d->conn_ids[0];
	if (ioctl(d->card, DRM_IOCTL_MODE_GETCONNECTOR, &gc) || !gc.count_modes)
		return false;
	gc.count_modes = 1;
	gc.modes_ptr = (uintptr_t)modes;
	gc.count_props = gc.count_encoders = 0;
	gc.props_ptr = gc.prop_values_ptr = gc.encoders_ptr = 0;
	if (ioctl(d->card, DRM_IOCTL_MODE_GETCONNECTOR, &gc))
		return false;
	*mode = modes[0];
	return true;
}

/* hostd's own buffer for the overlay, on CRTC 0: 0 or -errno, logged. */
static int overlay_buffer(struct hostd_display *d)
{
	struct drm_mode_modeinfo mode;
	uint32_t conn[PD_DISPLAY_MAX_CONN], nconn = 0;
	struct drm_mode_create_dumb cd = { .bpp = 32 };
	struct drm_mode_fb_cmd fb = { .bpp = 32, .depth = 24 };
	struct drm_mode_map_dumb md = { 0 };
	struct drm_mode_crtc req = { .crtc_id = d->crtc_ids[0] };
	const char *what = "mode";

	if (!screen_mode(d, &mode, conn, &nconn))
		goto fail;
	cd.width = mode.hdisplay;
	cd.height = mode.vdisplay;
	what = "CREATE_DUMB";
	if (ioctl(d->card, DRM_IOCTL_MODE_CREATE_DUMB, &cd))
		goto fail;
	d->ov.handle = cd.handle;
	d->ov.pitch = cd.pitch;
	d->ov.size = cd.size;
	d->ov.w = cd.width;
	d->ov.h = cd.height;
	fb.width = cd.width;
	fb.height = cd.height;
	fb.pitch = cd.pitch;
	fb.handle = cd.handle;
	what = "ADDFB";
	if (ioctl(d->card, DRM_IOCTL_MODE_ADDFB, &fb))
		goto fail;
	d->ov.fb = fb.fb_id;
	md.handle = cd.handle;
	what = "MAP_DUMB";
	if (ioctl(d->card, DRM_IOCTL_MODE_MAP_DUMB, &md))
		goto fail;
	what = "mmap";
	d->ov.map = mmap(NULL, d->ov.size, PROT_READ | PROT_WRITE, MAP_SHARED,
			 d->card, (off_t)md.offset);
	if (d->ov.map == MAP_FAILED)
		goto fail;
	what = "memory";
	d->ov.shadow = calloc(1, (size_t)d->ov.pitch * d->ov.h);
	if (!d->ov.shadow)
		goto fail;
	req.fb_id = d->ov.fb;
	req.set_connectors_ptr = (uintptr_t)conn;
	req.count_connectors = nconn;
	req.mode_valid = 1;
	req.mode = mode;
	what = "SETCRTC";
	if (ioctl(d->card, DRM_IOCTL_MODE_SETCRTC, &req))
		goto fail;
	return 0;
fail:
	hostd_log("display: no overlay: %s: %s", what, strerror(errno));
	hostd_display_overlay_free(d);
	return -1;
}

/* A read-only mapping of what guest g's CRTC shows. */
struct frame_map {
	void *map;
	size_t size;
	uint32_t handle;
	pixman_image_t *img;
};

static void unmap_frame(struct hostd_display *d, struct frame_map *f)
{
	if (f->img)
		pixman_image_unref(f->img);
	if (f->map && f->map != MAP_FAILED)
		munmap(f->map, f->size);
	if (f->handle) {
		struct drm_gem_close gc = { .handle = f->handle };

		ioctl(d->card, DRM_IOCTL_GEM_CLOSE, &gc);
	}
	memset(f, 0, sizeof(*f));
}

/*
 * Guest g's last frame: its framebuffer (GETFB2 gives hostd, master and
 * root, a handle of its own to the buffer), mapped read-only, the part its
 * CRTC shows as a pixman image. The CRTC: the first the guest uses (a
 * mode and a framebuffer on it), whichever of the card's it is. false:
 * none (no state, a format frame_formats lacks).
 */
static bool map_frame(struct hostd_display *d, unsigned int g,
		      struct frame_map *f)
{
	const struct guest_crtc *c = NULL;
	struct drm_mode_fb_cmd2 fb = { 0 };
	struct drm_mode_map_dumb md = { 0 };
	pixman_format_code_t format = 0;
	uint32_t w, h, cpp = 0;

	memset(f, 0, sizeof(*f));
	if (d->g[g].sock < 0)
		return false;
	for (unsigned int i = 0; i < PD_DISPLAY_MAX_CRTCS && !c; i++) {
		const struct guest_crtc *k = &d->g[g].crtc[i];

		if (k->set && k->st.mode_valid && k->st.fb_id)
			c = k;
	}
	if (!c)
		return false;
	fb.fb_id = c->st.fb_id;
	if (ioctl(d->card, DRM_IOCTL_MODE_GETFB2, &fb))
		return false;
	/* one plane in these formats; another handle would be a leak */
	for (unsigned int i = 1; i < 4; i++)
		if (fb.handles[i] && fb.handles[i] != fb.handles[0]) {
			struct drm_gem_close gc = { .handle = fb.handles[i] };

			ioctl(d->card, DRM_IOCTL_GEM_CLOSE, &gc);
		}
	f->handle = fb.handles[0];
	for (size_t i = 0; i < sizeof(frame_formats) / sizeof(frame_formats[0]);
	     i++)
		if (frame_formats[i].fourcc == fb.pixel_format) {
			format = frame_formats[i].pixman;
			cpp = frame_formats[i].cpp;
		}
	if (!f->handle || !cpp)
		goto none;
	w = c->st.mode.hdisplay;
	h = c->st.mode.vdisplay;
	if (c->st.x >= fb.width || c->st.y >= fb.height || !w || !h)
		goto none;
	if (w > fb.width - c->st.x)
		w = fb.width - c->st.x;
	if (h > fb.height - c->st.y)
		h = fb.height - c->st.y;
	md.handle = f->handle;
	if (ioctl(d->card, DRM_IOCTL_MODE_MAP_DUMB, &md))
		goto none;
	f->size = (size_t)fb.offsets[0] + (size_t)fb.pitches[0] * fb.height;
	f->map = mmap(NULL, f->size, PROT_READ, MAP_SHARED, d->card,
		      (off_t)md.offset);
	if (f->map == MAP_FAILED)
		goto none;
	/* pixman wants rows of whole 32-bit words: the pitch and the start
	 * (mmap's page plus the offset, rows and columns) aligned to 4 */
	if (fb.pitches[0] % 4 || (fb.offsets[0] + (size_t)c->st.y *
				  fb.pitches[0] + (size_t)c->st.x * cpp) % 4 ||
	    (uint64_t)fb.pitches[0] < (uint64_t)(c->st.x + w) * cpp)
		goto none;
	f->img = pixman_image_create_bits(
		format, (int)w, (int)h,
		(uint32_t *)((uint8_t *)f->map + fb.offsets[0] +
			     (size_t)c->st.y * fb.pitches[0] +
			     (size_t)c->st.x * cpp),
		(int)fb.pitches[0]);
	if (!f->img)
		goto none;
	return true;
none:
	unmap_frame(d, f);
	return false;
}

int hostd_display_thumbnail(void *data, unsigned int g, uint32_t max_w,
			    uint32_t max_h, struct hostd_thumbnail *out)
{
	struct hostd_display *d = data;
	struct frame_map f;
	pixman_image_t *dst;
	uint32_t fw, fh, w, h;

	memset(out, 0, sizeof(*out));
	if (g >= d->sw->nvms || d->card < 0 || !max_w || !max_h ||
	    !map_frame(d, g, &f))
		return -ENOENT;
	fw = (uint32_t)pixman_image_get_width(f.img);
	fh = (uint32_t)pixman_image_get_height(f.img);
	/* the frame's aspect, within max_w x max_h, never enlarged */
	w = fw < max_w ? fw : max_w;
	h = (uint32_t)((uint64_t)fh * w / fw);
	if (h > max_h) {
		h = max_h;
		w = (uint32_t)((uint64_t)fw * h / fh);
	}
	w = w ? w : 1;
	h = h ? h : 1;
	out->pixels = calloc((size_t)w * h, 4);
	dst = out->pixels ? pixman_image_create_bits(PIXMAN_x8r8g8b8, (int)w,
						      (int)h, out->pixels,
						      (int)w * 4) : NULL;
	if (!dst) {
		free(out->pixels);
		out->pixels = NULL;
		unmap_frame(d, &f);
		return -ENOMEM;
	}
	hostd_overlay_scale(dst, f.img);
	pixman_image_unref(dst);
	unmap_frame(d, &f);
	out->width = w;
	out->height = h;
	out->stride = w * 4;
	return 0;
}

/* Draw the overlay now: every entry of the VM list, its live thumbnail. */
static void overlay_render(struct hostd_display *d)
{
	struct hostd_overlay_entry e[HOSTD_MAX_VMS];
	struct frame_map f[HOSTD_MAX_GUESTS];
	unsigned int n = d->sw->nvms + 1;
	pixman_image_t *dst;
	struct drm_mode_fb_dirty_cmd dirty = { .fb_id = d->ov.fb };

	if (d->ov.map == MAP_FAILED)
		return;
	dst = pixman_image_create_bits(PIXMAN_x8r8g8b8, (int)d->ov.w,
				       (int)d->ov.h, d->ov.shadow,
				       (int)d->ov.pitch);
	if (!dst)
		return;
	for (unsigned int i = 0; i < n; i++) {
		bool host = hostd_is_host(d->sw, i);

		e[i].name = d->sw->vms[i].cfg->name;
		e[i].state = host ? "dom0" :
			     hostd_vm_state_name(d->sw->vms[i].state);
		e[i].selected = i == d->ov.selected;
		e[i].frame = NULL;
		if (!host && map_frame(d, i, &f[i]))
			e[i].frame = f[i].img;
	}
	hostd_overlay_draw(dst, e, n);
	for (unsigned int i = 0; i < n; i++)
		if (e[i].frame)
			unmap_frame(d, &f[i]);
	pixman_image_unref(dst);
	memcpy(d->ov.map, d->ov.shadow, (size_t)d->ov.pitch * d->ov.h);
	ioctl(d->card, DRM_IOCTL_MODE_DIRTYFB, &dirty);
}

/*
 * The switcher's overlay hook. Shown: hostd's buffer goes on CRTC 0 (the
 * master is taken back if dom0's entry had it) and is drawn with
 * `selected` chosen, then redrawn at 2 Hz. Hidden: no more redraws; if
 * `selected` is the entry in front its frame is shown again now, else
 * the switch that follows shows the incoming one; the buffer goes once
 * it is off the screen (display_show(), hostd_display_give_master()).
 */
void hostd_display_overlay(void *data, bool shown, unsigned int selected)
{
	struct hostd_display *d = data;
	struct itimerspec its = { 0 };

	if (d->card < 0)
		return;
	if (!shown) {
		bool was_up = d->ov.up;

		d->ov.up = false;
		timerfd_settime(d->ov.timer, 0, &its, NULL);
		/* the foreground one again: its frame now, through the
		 * switcher's show hook (display_show()) */
		if (was_up && selected == d->sw->router.active &&
		    d->sw->hooks.show)
			d->sw->hooks.show(d->sw->hooks.show_data, selected);
		return;
	}
	d->ov.selected = selected;
	if (!d->ov.up) {
		if (hostd_display_take_master(d))
			return;
		if (overlay_buffer(d)) {
			/* dom0 in front keeps the card */
			if (hostd_is_host(d->sw, d->sw->router.active))
				hostd_display_give_master(d);
			return;
		}
		d->ov.up = true;
		its.it_interval.tv_nsec = OVERLAY_NS;
		its.it_value.tv_nsec = OVERLAY_NS;
		timerfd_settime(d->ov.timer, 0, &its, NULL);
		hostd_log("display: overlay up (%ux%u), %s chosen", d->ov.w,
			  d->ov.h, d->sw->vms[selected].cfg->name);
	}
	overlay_render(d);
}

