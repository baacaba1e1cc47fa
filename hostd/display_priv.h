/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hostd's display, inside: the state display.c keeps and the functions
 * display_overlay.c gives it (the screen while no guest is on it: the
 * on-screen switcher and dom0's entry). display_overlay.c calls nothing
 * of display.c; a switch's display half reaches it through the
 * switcher's hooks.
 */
#ifndef HOSTD_DISPLAY_PRIV_H
#define HOSTD_DISPLAY_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#ifndef __user
#define __user
#endif
#include <drm/drm.h>
#include <drm/drm_mode.h>
#include <paradice/pd_display.h>

#include "switcher.h"

#define MAX_CONNS	8		/* connectors of the card we set DPMS on */

struct guest_crtc {
	bool set;			/* the guest sent state for it */
	struct pd_disp_crtc st;
	bool flip_pending;		/* a FLIP without its FLIP_DONE */
	bool flip_real;			/* ... waiting for the card's event */
	uint64_t flip_cookie;
};

struct guest_display {
	int sock;			/* -1: no backend connected */
	struct hostd_watch *watch;	/* of sock */
	bool hello;
	bool reattached;		/* its first state not shown yet */
	struct guest_crtc crtc[PD_DISPLAY_MAX_CRTCS];
	struct pd_disp_gamma *gamma[PD_DISPLAY_MAX_CRTCS];	/* NULL: unset */
	struct pd_disp_dpms dpms[PD_DISPLAY_MAX_DPMS];	/* set by the guest */
	unsigned int ndpms;
};

struct hostd_display {
	struct hostd_switcher *sw;
	struct hostd_poller *poller;
	int card;			/* master descriptor, -1: no card */
	int timer;			/* 60 Hz pacing of background flips */
	struct hostd_watch *card_watch, *timer_watch;
	bool ticking;
	uint32_t sequence;		/* paced vblank count */
	uint32_t crtc_ids[PD_DISPLAY_MAX_CRTCS];
	unsigned int ncrtcs;
	uint32_t gamma_size[PD_DISPLAY_MAX_CRTCS];	/* the card's; 0: none */
	uint32_t conn_ids[MAX_CONNS];
	unsigned int nconns;
	uint32_t dpms_prop;		/* the DPMS property's id; 0: unknown */
	int dirtyfb;			/* the card's DIRTYFB answer: 0, -ENOSYS */
	bool master;			/* we are the card's master now */
	struct guest_display g[HOSTD_MAX_GUESTS];
	/* opens a confined backend's device file (broker.c through hostd.c):
	 * a descriptor or -errno; NULL: every OPEN is -ENOSYS */
	int (*broker)(void *data, unsigned int g, const struct pd_disp_open *m);
	void *broker_data;
	/* a backend's HELLO taken: camera.c tells it who has the camera */
	void (*hello_hook)(void *data, unsigned int g);
	void *hello_data;
	/* the on-screen switcher: hostd's own dumb buffer on CRTC 0
	 * (display_overlay.c) */
	struct {
		bool up;
		unsigned int selected;
		int timer;		/* redraws the thumbnails */
		struct hostd_watch *timer_watch;
		uint32_t handle, fb, pitch, w, h;
		uint64_t size;
		void *map;		/* the buffer, MAP_FAILED: none */
		uint32_t *shadow;	/* drawn here, then copied */
	} ov;
};

/* -- display_overlay.c ----------------------------------------------------- */

/* Its fields, as nothing is set up; then its timer, watched with cb. */
void hostd_display_overlay_init(struct hostd_display *d);
int hostd_display_overlay_watch(struct hostd_display *d,
				void (*cb)(int fd, short revents, void *data));
void hostd_display_overlay_finish(struct hostd_display *d);
/* The switcher's overlay hook (data: the display). */
void hostd_display_overlay(void *data, bool shown, unsigned int selected);
/* Its timer fired: the thumbnails again. */
void hostd_display_overlay_tick(struct hostd_display *d);
/* Free the overlay's buffer unless it is up (call once another frame is
 * on the screen). */
void hostd_display_overlay_free(struct hostd_display *d);
/* The switcher's thumbnail hook (data: the display): guest g's last
 * frame, as the overlay maps it, scaled into out. */
int hostd_display_thumbnail(void *data, unsigned int g, uint32_t max_w,
			    uint32_t max_h, struct hostd_thumbnail *out);
/* Be the card's master (again): 0 or -errno, logged. */
int hostd_display_take_master(struct hostd_display *d);
/* dom0's entry in front: drop the master, dom0's console back. */
int hostd_display_give_master(struct hostd_display *d);

/* display_link.c: guest g's backend's HELLO was taken (the hook). */
void hostd_display_hello_taken(struct hostd_display *d, unsigned int g);

#endif /* HOSTD_DISPLAY_PRIV_H */
