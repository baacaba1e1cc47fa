/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * overlay.c: the picture of the on-screen switcher: one tile per entry of
 * the VM list (a thumbnail of its last frame, scaled with pixman, its name
 * and state in a small built-in font), the chosen one framed. Pure: it
 * draws into a pixman image it is given and knows nothing of DRM, so it is
 * unit-tested on plain memory. display.c maps the frames and the screen.
 */
#ifndef HOSTD_OVERLAY_H
#define HOSTD_OVERLAY_H

#include <stdbool.h>
#include <stdint.h>

#include <pixman.h>

struct hostd_overlay_rect {
	int32_t x, y, w, h;
};

struct hostd_overlay_entry {
	const char *name;
	const char *state;
	bool selected;
	/* its last frame (the part its CRTC shows), or NULL: none */
	pixman_image_t *frame;
};

/*
 * Where entry i of n goes on a w x h screen: its tile and, inside it,
 * its thumbnail (the screen's aspect ratio); the label lines are below
 * the thumbnail, inside the tile. Tiles never overlap and stay on the
 * screen. false: the screen is too small for n tiles.
 */
bool hostd_overlay_layout(uint32_t w, uint32_t h, unsigned int n,
			  unsigned int i, struct hostd_overlay_rect *tile,
			  struct hostd_overlay_rect *thumb);

/* The whole overlay into dst (x8r8g8b8 or a8r8g8b8): background, title,
 * the n entries' tiles. */
void hostd_overlay_draw(pixman_image_t *dst,
			const struct hostd_overlay_entry *e, unsigned int n);

/* frame scaled into the whole of dst (bilinear), as a tile's thumbnail
 * is: the thumbnails the D-Bus service hands dom0's switcher. */
void hostd_overlay_scale(pixman_image_t *dst, pixman_image_t *frame);

/* Text in the built-in 5x7 font, each dot scale x scale pixels; letters
 * are shown in capitals, a character it has no glyph for as '?'. Draws at
 * most max_chars characters (0: all); returns the width drawn. */
int32_t hostd_overlay_text(pixman_image_t *dst, int32_t x, int32_t y,
			   int32_t scale, uint32_t rgb, const char *s,
			   unsigned int max_chars);

/* The size of one character cell of hostd_overlay_text() at scale. */
static inline int32_t hostd_overlay_char_w(int32_t scale)
{
	return 6 * scale;
}

static inline int32_t hostd_overlay_line_h(int32_t scale)
{
	return 9 * scale;
}

#endif /* HOSTD_OVERLAY_H */
