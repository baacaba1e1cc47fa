/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * camera.c: which guest may use the capture devices (V4L2 capture files
 * named in the guests' `devices`): the foreground guest, or the one
 * paradice.conf's [camera] owner pins them to (docs/camera.md).
 */
#ifndef HOSTD_CAMERA_H
#define HOSTD_CAMERA_H

#include <stdbool.h>

#include "config.h"

struct hostd_display;
struct hostd_switcher;

/*
 * The guest that owns the camera while VM `active` is in front (a guest
 * index, or cfg->nguests for dom0's entry): the pinned guest whatever is
 * in front, else the foreground guest, else (dom0 in front) none, -1.
 * Pure.
 */
int hostd_camera_owner(const struct hostd_config *cfg, unsigned int active);

/*
 * A switch from VM `from` to VM `to`: the guest whose camera files it
 * takes away (it owned the camera and no longer does), or -1; and the
 * guest that gets it, or -1. Pure.
 */
int hostd_camera_loser(const struct hostd_config *cfg, unsigned int from,
		       unsigned int to);
int hostd_camera_winner(const struct hostd_config *cfg, unsigned int from,
			unsigned int to);

/* Is fd a V4L2 capture device (character major 81, QUERYCAP says video
 * capture, single- or multi-planar)? */
bool hostd_camera_is_capture(int fd);

struct hostd_camera {
	struct hostd_switcher *sw;
	struct hostd_display *display;	/* where CAMERA goes; NULL: none */
	/* per guest and device index: 0 not looked at, 1 a capture
	 * device, 2 something else (looked at once) */
	unsigned char kind[HOSTD_MAX_GUESTS][HOSTD_MAX_DEVICES];
};

void hostd_camera_init(struct hostd_camera *c, struct hostd_switcher *sw,
		       struct hostd_display *display);

/* display.c's hello hook: guest g's backend (new or reattached) is told
 * whether its guest owns each of its capture devices. */
void hostd_camera_hello(void *data, unsigned int g);

/* The switch hook (struct hostd_switch_hooks.camera): the guest that
 * loses the camera is told so (its files of each capture device taken
 * away), then the guest that gets it. */
void hostd_camera_switched(void *data, unsigned int from, unsigned int to);

#endif /* HOSTD_CAMERA_H */
