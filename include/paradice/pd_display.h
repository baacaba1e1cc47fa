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
 * passes one end as the descriptor in PD_DISPLAY_FD_ENV).
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
 *     close            ------------>   the guest's state is dropped
 *
 * A backend has at most one FLIP outstanding per CRTC (the guest gets
 * -EBUSY for a second one, as from a real driver); hostd answers every
 * FLIP exactly once. A FLIP also makes its fb the CRTC's latest frame.
 * SET_CRTC with fb_id 0 turns the guest's CRTC off (and is how a backend
 * says that a framebuffer on it is going away: before RMFB or close).
 *
 * Version history:
 *   1  HELLO, SET_CRTC, FLIP, FLIP_DONE (legacy KMS, primary plane only)
 */
#ifndef PARADICE_PD_DISPLAY_H
#define PARADICE_PD_DISPLAY_H

#include <stdint.h>

#define PD_DISPLAY_VERSION	1
#define PD_DISPLAY_FD_ENV	"PD_DISPLAY_FD"
#define PD_DISPLAY_MAX_CONN	4	/* connectors per CRTC */
#define PD_DISPLAY_MAX_CRTCS	4	/* CRTCs a guest may set */

enum pd_disp_type {
	PD_DISP_HELLO = 1,	/* backend -> hostd: struct pd_disp_hello */
	PD_DISP_SET_CRTC = 2,	/* backend -> hostd: struct pd_disp_crtc */
	PD_DISP_FLIP = 3,	/* backend -> hostd: struct pd_disp_flip */
	PD_DISP_FLIP_DONE = 4,	/* hostd -> backend: struct pd_disp_flip_done */
};

struct pd_disp_hdr {
	uint16_t type;
	uint16_t len;		/* of the body after this header */
	uint32_t reserved;	/* 0 */
};

struct pd_disp_hello {
	uint32_t version;	/* PD_DISPLAY_VERSION */
	uint32_t reserved;
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
	uint64_t time_us;	/* CLOCK_MONOTONIC of the (real or paced) vblank */
	uint32_t crtc_id;
	uint32_t sequence;	/* vblank count */
	int32_t result;		/* 0, or -errno: the flip did not happen */
	uint32_t on_screen;	/* 1: a real flip on the hardware */
};

/* The largest message either side sends or accepts. */
#define PD_DISP_MAX_MSG	(sizeof(struct pd_disp_hdr) + sizeof(struct pd_disp_crtc))

_Static_assert(sizeof(struct pd_disp_hdr) == 8, "pd_disp_hdr");
_Static_assert(sizeof(struct pd_disp_mode) == 68, "pd_disp_mode");
_Static_assert(sizeof(struct pd_disp_crtc) == 108, "pd_disp_crtc");
_Static_assert(sizeof(struct pd_disp_flip) == 16, "pd_disp_flip");
_Static_assert(sizeof(struct pd_disp_flip_done) == 32, "pd_disp_flip_done");

#endif /* PARADICE_PD_DISPLAY_H */
