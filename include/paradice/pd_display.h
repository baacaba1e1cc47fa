/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * pd_display.h: the display protocol between a guest's pd-backend and hostd
 * in dom0. The only way hostd listens to a backend.
 *
 * Trust: the backend is the boundary against its guest. It checks every
 * framebuffer id the guest names against the framebuffers that guest
 * created (ADDFB/ADDFB2 on the guest's own descriptors), so an id it sends
 * here is one of its own guest's. hostd still checks every message (type,
 * exact length, counts, reserved fields) and never acts on one guest's
 * connection for another: which guest a connection belongs to is fixed by
 * construction (hostd makes a socketpair for each backend it starts and
 * passes one end as the descriptor in PD_DISPLAY_FD_ENV), or, for a backend
 * that outlived the hostd that started it, checked when it reattaches (see
 * "hostd restarted" below).
 *
 * Transport: SOCK_SEQPACKET, one message per packet, each a
 * struct pd_disp_hdr followed by the body its type names, host byte order
 * (both ends run in dom0).
 *
 * Life of a connection:
 *
 *   backend                          hostd
 *     HELLO(version)   ------------>   (drops the guest's old state)
 *     SET_CRTC(...)    ------------>   stored; on the screen if foreground
 *     FLIP(cookie)     ------------>   foreground: real page flip
 *                                      background: completes at hostd's
 *                                      next 60 Hz tick
 *                      <------------   FLIP_DONE(cookie, time, sequence)
 *     GAMMA(crtc, lut) ------------>   stored; SETGAMMA if foreground
 *     DPMS(conn, mode) ------------>   stored; the real connector's DPMS
 *                                      if foreground
 *     DIRTY(fb, clips) ------------>   DIRTYFB if foreground and fb is
 *                                      on the screen; else nothing (not
 *                                      sent where the card has no DIRTYFB:
 *                                      PD_DISPLAY_DIRTYFB_ENV)
 *     close            ------------>   the guest's state is dropped
 *
 * A switch applies the incoming guest's whole state: SETCRTC of every
 * CRTC, its gamma (the kernel's initial linear ramp where it set none) and
 * its DPMS on every connector (on where it set none).
 *
 * hostd restarted. Backends outlive hostd (a guest's programs must not see
 * a restart). When its connection closes, a backend completes its guest's
 * flips itself (paced at 60 Hz, nothing shown), keeps answering display
 * ioctls from its state, and connects every 250 ms to PD_DISPLAY_SOCKET,
 * which a new hostd listens on, for at most PD_DISPLAY_REATTACH_S seconds;
 * then it gives up and exits with PD_DISPLAY_EXIT_NO_HOSTD (its monitor ends
 * too, the guest's files get EIO, as when hostd stops for good). On the
 * new connection it sends
 *
 *     HELLO(version, PD_DISP_HELLO_REATTACH, domid, guest name, ninput)
 *         with ninput descriptors (SCM_RIGHTS): the guest's virtual
 *         keyboard, then its pointer (the uinput files hostd made, which
 *         the backend holds so that the devices outlive hostd); with
 *         PD_DISP_HELLO_CONTROL in flags too (a backend whose guest has a
 *         control file, include/paradice/pd_control.h), one descriptor
 *         more after them: hostd's end of a new control channel, a
 *         SOCK_SEQPACKET socketpair the backend made (its old channel
 *         died with the old hostd)
 *     SET_CRTC(...)  for every CRTC it has state for (the latest frame)
 *     GAMMA(...)     for every CRTC whose gamma the guest set
 *     DPMS(...)      for every connector whose DPMS the guest set
 *
 * and goes on as above. The new hostd believes none of it: the peer must
 * run as hostd's user or as that guest's backend user (backend_uid), be a "pd-backend --xen DOMID" process, name a
 * configured guest whose domain DOMID runs now and that has no connection
 * yet; each input descriptor must be a uinput device with that guest's
 * device name, the control channel a Unix SOCK_SEQPACKET socket. Anything
 * else drops the connection with a log line.
 *
 * A backend has at most one FLIP outstanding per CRTC (the guest gets
 * -EBUSY for a second one, as from a real driver); hostd answers every
 * FLIP exactly once. A FLIP also makes its fb the CRTC's latest frame.
 * SET_CRTC with fb_id 0 turns the guest's CRTC off (and is how a backend
 * says that a framebuffer on it is going away: before RMFB or close).
 *
 * DPMS off (any mode but PD_DISP_DPMS_ON) of every connector of a CRTC
 * blanks it, as legacy DPMS does on an atomic driver (the CRTC goes
 * inactive). Flips on a blanked CRTC still complete, at hostd's 60 Hz
 * tick, not shown (a real atomic driver would refuse them with EINVAL; a
 * guest's compositor must not stall on a screen it cannot see anyway),
 * and its SET_CRTC is kept, shown when its DPMS is on again.
 *
 * Device files through hostd (version 4). A backend that hostd started runs
 * as its guest's own unprivileged user (docs/security.md) and cannot open
 * the guest's device files itself; it asks hostd:
 *
 *     OPEN(id, flags, path)  ------------>   path checked against the
 *                                            guest's configured devices
 *                                            and its virtual keyboard and
 *                                            pointer; opened by hostd
 *                            <------------   OPENED(id, result), with the
 *                                            descriptor (SCM_RIGHTS) when
 *                                            result is 0
 *
 * hostd always opens with O_NONBLOCK (an open that waits, such as a busy
 * ALSA device's, must not stall hostd's loop); the backend clears it when
 * its guest did not ask for it. flags: O_RDONLY, O_WRONLY or O_RDWR, and
 * PD_DISP_OPEN_NONBLOCK; anything else is -EINVAL. A path that is not the
 * guest's is -EACCES and a log line naming the guest and the path. hostd
 * answers every OPEN once, on the connection it came on; a backend waits
 * at most PD_DISPLAY_OPEN_WAIT_S for the answer (and for a new hostd, if
 * there is none now), then its guest's open fails with EAGAIN (no hostd)
 * or EIO (no answer).
 *
 * The camera (hostd/camera.c, docs/camera.md). A V4L2 capture device is
 * used by one guest at a time. Every guest may open it (its frontend does,
 * to make its node), but only the owner may take its buffers; hostd tells
 * a backend whether its guest owns each capture device right after its
 * HELLO (a new backend or a reattached one) and whenever that changes (a
 * switch):
 *
 *                            <------------   CAMERA(owned, reason, path)
 *
 * owned 1: the guest may stream from path. owned 0: it may not (REQBUFS,
 * CREATE_BUFS and read get EBUSY, as from a device another program
 * streams), and the backend takes its files of path away as an unplug
 * would: they get PD_EV_REVOKE (reason, -ENODEV) and every later request
 * `reason`, the real stream is stopped, its buffers freed, the real file
 * closed. The guest's new opens work (and are refused the stream while
 * it does not own the device). A backend with no such export ignores it.
 *
 * Version history:
 *   1  HELLO, SET_CRTC, FLIP, FLIP_DONE (legacy KMS, primary plane only)
 *   2  HELLO names the guest (domid, name) and may reattach a backend to a
 *      new hostd with its input devices; PD_DISPLAY_SOCKET
 *   3  GAMMA, DPMS, DIRTY: a guest's gamma, DPMS and damage reach the card
 *      while it is in front; a switch applies them; PD_DISPLAY_DIRTYFB_ENV;
 *      later, without a new number: the reattach HELLO's
 *      PD_DISP_HELLO_CONTROL and the control channel's descriptor (a
 *      hostd that predates it refuses such a HELLO: going back to an
 *      older hostd under running backends costs them their reattach);
 *      CAMERA (a backend that predates it logs a bad message: its guest
 *      keeps the camera)
 */
#ifndef PARADICE_PD_DISPLAY_H
#define PARADICE_PD_DISPLAY_H

#include <stdint.h>

#define PD_DISPLAY_VERSION	4
#define PD_DISPLAY_FD_ENV	"PD_DISPLAY_FD"
/* What the card answers DIRTYFB with ("0" or "-38", -ENOSYS: no dirty
 * hook, e.g. bochs), probed once by hostd; a backend answers its guest's
 * DIRTYFB with it (its own descriptor is not master: it cannot ask) */
#define PD_DISPLAY_DIRTYFB_ENV	"PD_DISPLAY_DIRTYFB"
/* "KBD,PTR": the guest's uinput descriptors hostd passes to its backend */
#define PD_DISPLAY_INPUT_ENV	"PD_INPUT_FDS"
/* where a new hostd listens for backends that outlived the last one */
#define PD_DISPLAY_SOCKET	"/run/paradice/display.sock"
#define PD_DISPLAY_REATTACH_S	60	/* a backend waits that long */
/* seconds instead of PD_DISPLAY_REATTACH_S, from hostd's environment */
#define PD_DISPLAY_REATTACH_ENV	"PD_DISPLAY_REATTACH_S"
#define PD_DISPLAY_EXIT_NO_HOSTD 3	/* ... then exits with this status */
#define PD_DISPLAY_MAX_INPUT	2	/* keyboard, pointer */
/* descriptors of a reattach HELLO: the input ones, the control channel */
#define PD_DISPLAY_MAX_FDS	(PD_DISPLAY_MAX_INPUT + 1)
#define PD_DISPLAY_NAME_MAX	64
#define PD_DISPLAY_MAX_CONN	4	/* connectors per CRTC */
#define PD_DISPLAY_MAX_CRTCS	4	/* CRTCs a guest may set */
#define PD_DISPLAY_MAX_GAMMA	1024	/* entries per channel of a GAMMA */
#define PD_DISPLAY_MAX_DPMS	8	/* connectors with a DPMS of a guest */
#define PD_DISPLAY_MAX_CLIPS	16	/* rects of a DIRTY; more: whole fb */
#define PD_DISPLAY_PATH_MAX	256	/* an OPEN's path, its NUL included */
#define PD_DISPLAY_OPEN_WAIT_S	5	/* a backend waits that long for OPENED */

enum pd_disp_type {
	PD_DISP_HELLO = 1,	/* backend -> hostd: struct pd_disp_hello */
	PD_DISP_SET_CRTC = 2,	/* backend -> hostd: struct pd_disp_crtc */
	PD_DISP_FLIP = 3,	/* backend -> hostd: struct pd_disp_flip */
	PD_DISP_FLIP_DONE = 4,	/* hostd -> backend: struct pd_disp_flip_done */
	PD_DISP_GAMMA = 5,	/* backend -> hostd: struct pd_disp_gamma */
	PD_DISP_DPMS = 6,	/* backend -> hostd: struct pd_disp_dpms */
	PD_DISP_DIRTY = 7,	/* backend -> hostd: struct pd_disp_dirty */
	PD_DISP_OPEN = 8,	/* backend -> hostd: struct pd_disp_open */
	PD_DISP_OPENED = 9,	/* hostd -> backend: struct pd_disp_opened */
	PD_DISP_CAMERA = 10,	/* hostd -> backend: struct pd_disp_camera */
};

struct pd_disp_hdr {
	uint16_t type;
	uint16_t len;		/* of the body after this header */
	uint32_t reserved;	/* 0 */
};

#define PD_DISP_HELLO_REATTACH	1u	/* on PD_DISPLAY_SOCKET, not a socketpair */
#define PD_DISP_HELLO_CONTROL	2u	/* with REATTACH: a control channel too */

struct pd_disp_hello {
	uint32_t version;	/* PD_DISPLAY_VERSION */
	uint32_t flags;		/* PD_DISP_HELLO_REATTACH (| _CONTROL) or 0 */
	uint32_t domid;		/* the guest's domain */
	uint32_t ninput;	/* input descriptors attached (the control
				 * channel's is not counted); 0 without
				 * REATTACH */
	char guest[PD_DISPLAY_NAME_MAX];	/* NUL-terminated, NUL-padded */
};

/* struct drm_mode_modeinfo, byte for byte (without the uapi headers). */
struct pd_disp_mode {
	uint32_t clock;
	uint16_t hdisplay, hsync_start, hsync_end, htotal, hskew;
	uint16_t vdisplay, vsync_start, vsync_end, vtotal, vscan;
	uint32_t vrefresh;
	uint32_t flags;
	uint32_t type;
	char name[32];
};

struct pd_disp_crtc {
	uint32_t crtc_id;	/* the real CRTC's object id */
	uint32_t fb_id;		/* 0: off */
	uint32_t x, y;
	uint32_t mode_valid;	/* 0 or 1; 1 requires fb_id */
	uint32_t nconn;		/* <= PD_DISPLAY_MAX_CONN */
	uint32_t conn[PD_DISPLAY_MAX_CONN];
	struct pd_disp_mode mode;	/* 68 bytes */
};

struct pd_disp_flip {
	uint64_t cookie;	/* comes back in FLIP_DONE */
	uint32_t crtc_id;
	uint32_t fb_id;
};

struct pd_disp_flip_done {
	uint64_t cookie;
	/* CLOCK_MONOTONIC of the (real or paced) vblank; for the log: the
	 * backend tells its guest the vblank of the guest's own timeline
	 * the flip completes at (docs/display.md, "One timeline") */
	uint64_t time_us;
	uint32_t crtc_id;
	uint32_t sequence;	/* vblank count */
	int32_t result;		/* 0, or -errno: the flip did not happen */
	uint32_t on_screen;	/* 1: a real flip on the hardware */
};

/* A CRTC's legacy gamma table, as SETGAMMA takes it: size entries per
 * channel (the card's gamma_size, 1..PD_DISPLAY_MAX_GAMMA); entries from
 * size on are 0. */
struct pd_disp_gamma {
	uint32_t crtc_id;
	uint32_t size;
	uint16_t red[PD_DISPLAY_MAX_GAMMA];
	uint16_t green[PD_DISPLAY_MAX_GAMMA];
	uint16_t blue[PD_DISPLAY_MAX_GAMMA];
};

#define PD_DISP_DPMS_ON		0u	/* DRM_MODE_DPMS_ON */
#define PD_DISP_DPMS_OFF	3u	/* DRM_MODE_DPMS_OFF */

/* A connector's DPMS, ON or OFF (standby and suspend are OFF, as the
 * atomic helpers make them). */
struct pd_disp_dpms {
	uint32_t conn_id;	/* the real connector's object id */
	uint32_t mode;		/* PD_DISP_DPMS_ON or PD_DISP_DPMS_OFF */
};

/* struct drm_clip_rect, byte for byte */
struct pd_disp_clip {
	uint16_t x1, y1, x2, y2;
};

/* Damage of a framebuffer the guest shows: DIRTYFB's arguments. */
struct pd_disp_dirty {
	uint32_t fb_id;
	uint32_t flags;		/* DRM_MODE_FB_DIRTY_ANNOTATE_* or 0 */
	uint32_t color;
	uint32_t nclips;	/* <= PD_DISPLAY_MAX_CLIPS; 0: the whole fb */
	struct pd_disp_clip clips[PD_DISPLAY_MAX_CLIPS];	/* past nclips: 0 */
};

#define PD_DISP_OPEN_ACCMODE	3u	/* O_RDONLY 0, O_WRONLY 1, O_RDWR 2 */
#define PD_DISP_OPEN_NONBLOCK	4u

/* A device file of the guest, opened by hostd for its backend. */
struct pd_disp_open {
	uint32_t id;		/* comes back in OPENED */
	uint32_t flags;		/* PD_DISP_OPEN_* */
	char path[PD_DISPLAY_PATH_MAX];	/* NUL-terminated, NUL-padded */
};

struct pd_disp_opened {
	uint32_t id;
	int32_t result;		/* 0 (one descriptor attached) or -errno */
};

/* Does the guest own the capture device path now (the camera)? */
struct pd_disp_camera {
	uint32_t owned;		/* 1: yes; 0: no, its files taken away */
	int32_t reason;		/* owned 0: what they get, -ENODEV; else 0 */
	char path[PD_DISPLAY_PATH_MAX];	/* NUL-terminated, NUL-padded */
};

/* The largest message either side sends or accepts (GAMMA). */
#define PD_DISP_MAX_MSG	(sizeof(struct pd_disp_hdr) + sizeof(struct pd_disp_gamma))

_Static_assert(sizeof(struct pd_disp_hdr) == 8, "pd_disp_hdr");
_Static_assert(sizeof(struct pd_disp_hello) == 80, "pd_disp_hello");
_Static_assert(sizeof(struct pd_disp_mode) == 68, "pd_disp_mode");
_Static_assert(sizeof(struct pd_disp_crtc) == 108, "pd_disp_crtc");
_Static_assert(sizeof(struct pd_disp_flip) == 16, "pd_disp_flip");
_Static_assert(sizeof(struct pd_disp_flip_done) == 32, "pd_disp_flip_done");
_Static_assert(sizeof(struct pd_disp_gamma) == 6152, "pd_disp_gamma");
_Static_assert(sizeof(struct pd_disp_dpms) == 8, "pd_disp_dpms");
_Static_assert(sizeof(struct pd_disp_clip) == 8, "pd_disp_clip");
_Static_assert(sizeof(struct pd_disp_dirty) == 144, "pd_disp_dirty");
_Static_assert(sizeof(struct pd_disp_open) == 264, "pd_disp_open");
_Static_assert(sizeof(struct pd_disp_opened) == 8, "pd_disp_opened");
_Static_assert(sizeof(struct pd_disp_camera) == 264, "pd_disp_camera");
_Static_assert(PD_DISP_MAX_MSG <= UINT16_MAX, "hdr.len holds every body");

#endif /* PARADICE_PD_DISPLAY_H */
