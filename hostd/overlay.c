// SPDX-License-Identifier: GPL-2.0-only
/*
 * The picture of the on-screen switcher (overlay.h). Drawn only into
 * hostd's own buffer, shown only on the physical screen: no guest ever
 * gets it, nor another guest's thumbnail.
 *
 * Layout: up to four tiles a row, rows centred; each tile is a frame
 * (highlighted for the chosen entry) around a thumbnail with the screen's
 * aspect ratio and two lines of text below it (name, state). The text
 * scale follows the screen height (a dot is 1 pixel up to 239 lines,
 * 2 up to 479 ...; 3 at 768 lines) so that it stays readable.
 */
#include <string.h>

#include "overlay.h"

#define BACKGROUND	0x202428u
#define TILE		0x3a3f47u
#define CHOSEN		0xffc800u
#define NO_FRAME	0x000000u
#define NAME_RGB	0xffffffu
#define STATE_RGB	0xb0b8c0u
#define TITLE_RGB	0xffffffu
#define MAX_COLS	4

/* 5x7 glyphs, one byte a row from the top, bit 4 the leftmost dot. */
static const struct {
	char c;
	uint8_t rows[7];
} font[] = {
	{ 'A', { 0x0e, 0x11, 0x11, 0x1f, 0x11, 0x11, 0x11 } },
	{ 'B', { 0x1e, 0x11, 0x11, 0x1e, 0x11, 0x11, 0x1e } },
	{ 'C', { 0x0e, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0e } },
	{ 'D', { 0x1e, 0x11, 0x11, 0x11, 0x11, 0x11, 0x1e } },
	{ 'E', { 0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x1f } },
	{ 'F', { 0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x10 } },
	{ 'G', { 0x0e, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0f } },
	{ 'H', { 0x11, 0x11, 0x11, 0x1f, 0x11, 0x11, 0x11 } },
	{ 'I', { 0x0e, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0e } },
	{ 'J', { 0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0c } },
	{ 'K', { 0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11 } },
	{ 'L', { 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1f } },
	{ 'M', { 0x11, 0x1b, 0x15, 0x15, 0x11, 0x11, 0x11 } },
	{ 'N', { 0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11 } },
	{ 'O', { 0x0e, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0e } },
	{ 'P', { 0x1e, 0x11, 0x11, 0x1e, 0x10, 0x10, 0x10 } },
	{ 'Q', { 0x0e, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0d } },
	{ 'R', { 0x1e, 0x11, 0x11, 0x1e, 0x14, 0x12, 0x11 } },
	{ 'S', { 0x0f, 0x10, 0x10, 0x0e, 0x01, 0x01, 0x1e } },
	{ 'T', { 0x1f, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04 } },
	{ 'U', { 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0e } },
	{ 'V', { 0x11, 0x11, 0x11, 0x11, 0x11, 0x0a, 0x04 } },
	{ 'W', { 0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0a } },
	{ 'X', { 0x11, 0x11, 0x0a, 0x04, 0x0a, 0x11, 0x11 } },
	{ 'Y', { 0x11, 0x11, 0x0a, 0x04, 0x04, 0x04, 0x04 } },
	{ 'Z', { 0x1f, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1f } },
	{ '0', { 0x0e, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0e } },
	{ '1', { 0x04, 0x0c, 0x04, 0x04, 0x04, 0x04, 0x0e } },
	{ '2', { 0x0e, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1f } },
	{ '3', { 0x1f, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0e } },
	{ '4', { 0x02, 0x06, 0x0a, 0x12, 0x1f, 0x02, 0x02 } },
	{ '5', { 0x1f, 0x10, 0x1e, 0x01, 0x01, 0x11, 0x0e } },
	{ '6', { 0x06, 0x08, 0x10, 0x1e, 0x11, 0x11, 0x0e } },
	{ '7', { 0x1f, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08 } },
	{ '8', { 0x0e, 0x11, 0x11, 0x0e, 0x11, 0x11, 0x0e } },
	{ '9', { 0x0e, 0x11, 0x11, 0x0f, 0x01, 0x02, 0x0c } },
	{ '-', { 0x00, 0x00, 0x00, 0x1f, 0x00, 0x00, 0x00 } },
	{ '_', { 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1f } },
	{ '.', { 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x0c } },
	{ ',', { 0x00, 0x00, 0x00, 0x00, 0x0c, 0x04, 0x08 } },
	{ ':', { 0x00, 0x0c, 0x0c, 0x00, 0x0c, 0x0c, 0x00 } },
	{ '(', { 0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02 } },
	{ ')', { 0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08 } },
	{ '/', { 0x01, 0x01, 0x02, 0x04, 0x08, 0x10, 0x10 } },
	{ '+', { 0x00, 0x04, 0x04, 0x1f, 0x04, 0x04, 0x00 } },
	{ '?', { 0x0e, 0x11, 0x01, 0x02, 0x04, 0x00, 0x04 } },
};

static const uint8_t *glyph(char c)
{
	if (c >= 'a' && c <= 'z')
		c = (char)(c - 'a' + 'A');
	for (size_t i = 0; i < sizeof(font) / sizeof(font[0]); i++)
		if (font[i].c == c)
			return font[i].rows;
	return NULL;
}

/* A filled rectangle, clipped to dst. */
static void fill(pixman_image_t *dst, int32_t x, int32_t y, int32_t w,
		 int32_t h, uint32_t rgb)
{
	int32_t dw = pixman_image_get_width(dst);
	int32_t dh = pixman_image_get_height(dst);

	if (x < 0) {
		w += x;
		x = 0;
	}
	if (y < 0) {
		h += y;
		y = 0;
	}
	if (x + w > dw)
		w = dw - x;
	if (y + h > dh)
		h = dh - y;
	if (w <= 0 || h <= 0)
		return;
	pixman_fill(pixman_image_get_data(dst),
		    pixman_image_get_stride(dst) / 4, 32, x, y, w, h,
		    0xff000000u | rgb);
}

int32_t hostd_overlay_text(pixman_image_t *dst, int32_t x, int32_t y,
			   int32_t scale, uint32_t rgb, const char *s,
			   unsigned int max_chars)
{
	int32_t x0 = x;

	for (unsigned int n = 0; *s && (!max_chars || n < max_chars); s++, n++) {
		const uint8_t *g = *s == ' ' ? NULL : glyph(*s);

		if (*s != ' ' && !g)
			g = glyph('?');
		for (int r = 0; g && r < 7; r++)
			for (int c = 0; c < 5; c++)
				if (g[r] & (0x10 >> c))
					fill(dst, x + c * scale, y + r * scale,
					     scale, scale, rgb);
		x += hostd_overlay_char_w(scale);
	}
	return x - x0;
}

static int32_t text_scale(uint32_t h)
{
	int32_t s = (int32_t)(h / 240);

	return s < 1 ? 1 : s > 4 ? 4 : s;
}

/* Space for the title line at the top. */
static int32_t title_h(uint32_t h)
{
	return 2 * hostd_overlay_line_h(text_scale(h));
}

bool hostd_overlay_layout(uint32_t w, uint32_t h, unsigned int n,
			  unsigned int i, struct hostd_overlay_rect *tile,
			  struct hostd_overlay_rect *thumb)
{
	int32_t scale = text_scale(h);
	int32_t margin = (int32_t)(w / 32) > 4 ? (int32_t)(w / 32) : 4;
	int32_t border = scale * 2;
	int32_t label = 2 * hostd_overlay_line_h(scale) + scale;
	int32_t top = title_h(h);
	unsigned int cols, rows, row, col, in_row;
	int32_t tw, th, pw, ph, grid_w, grid_h, x0, y0;

	if (!n || i >= n || w < 64 || h < 64 || w > 16384 || h > 16384)
		return false;
	cols = n < MAX_COLS ? n : MAX_COLS;
	rows = (n + cols - 1) / cols;
	/* the widest thumbnails that fit across, then down */
	pw = ((int32_t)w - margin * (int32_t)(cols + 1)) / (int32_t)cols -
	     2 * border;
	ph = (int32_t)((int64_t)pw * h / w);
	{
		int32_t avail = ((int32_t)h - top - margin * (int32_t)(rows + 1)) /
				(int32_t)rows - 2 * border - label;

		if (ph > avail) {
			ph = avail;
			pw = (int32_t)((int64_t)ph * w / h);
		}
	}
	if (pw < 8 || ph < 8)
		return false;
	tw = pw + 2 * border;
	th = ph + 2 * border + label;
	grid_h = (int32_t)rows * th + (int32_t)(rows - 1) * margin;
	y0 = top + ((int32_t)h - top - grid_h) / 2;
	row = i / cols;
	col = i % cols;
	/* the last row may be short: centre it on its own */
	in_row = row == rows - 1 ? n - row * cols : cols;
	grid_w = (int32_t)in_row * tw + (int32_t)(in_row - 1) * margin;
	x0 = ((int32_t)w - grid_w) / 2;
	tile->x = x0 + (int32_t)col * (tw + margin);
	tile->y = y0 + (int32_t)row * (th + margin);
	tile->w = tw;
	tile->h = th;
	thumb->x = tile->x + border;
	thumb->y = tile->y + border;
	thumb->w = pw;
	thumb->h = ph;
	return true;
}

/* frame scaled into r (bilinear: a thumbnail, not a copy of pixels). */
static void draw_thumbnail(pixman_image_t *dst, pixman_image_t *frame,
			   const struct hostd_overlay_rect *r)
{
	int32_t fw = pixman_image_get_width(frame);
	int32_t fh = pixman_image_get_height(frame);
	pixman_transform_t t;

	if (fw <= 0 || fh <= 0) {
		fill(dst, r->x, r->y, r->w, r->h, NO_FRAME);
		return;
	}
	pixman_transform_init_scale(&t, pixman_double_to_fixed((double)fw / r->w),
				    pixman_double_to_fixed((double)fh / r->h));
	pixman_image_set_transform(frame, &t);
	pixman_image_set_filter(frame, PIXMAN_FILTER_BILINEAR, NULL, 0);
	pixman_image_set_repeat(frame, PIXMAN_REPEAT_PAD);
	pixman_image_composite32(PIXMAN_OP_SRC, frame, NULL, dst, 0, 0, 0, 0,
				 r->x, r->y, r->w, r->h);
	pixman_image_set_transform(frame, NULL);
}

void hostd_overlay_scale(pixman_image_t *dst, pixman_image_t *frame)
{
	struct hostd_overlay_rect r = {
		0, 0, pixman_image_get_width(dst), pixman_image_get_height(dst)
	};

	draw_thumbnail(dst, frame, &r);
}

void hostd_overlay_draw(pixman_image_t *dst,
			const struct hostd_overlay_entry *e, unsigned int n)
{
	uint32_t w = (uint32_t)pixman_image_get_width(dst);
	uint32_t h = (uint32_t)pixman_image_get_height(dst);
	int32_t scale = text_scale(h);
	static const char title[] = "release to switch - esc cancels";

	fill(dst, 0, 0, (int32_t)w, (int32_t)h, BACKGROUND);
	hostd_overlay_text(dst, ((int32_t)w - hostd_overlay_char_w(scale) *
				 (int32_t)(sizeof(title) - 1)) / 2,
			   hostd_overlay_line_h(scale) / 2, scale, TITLE_RGB,
			   title, 0);
	for (unsigned int i = 0; i < n; i++) {
		struct hostd_overlay_rect tile, thumb;
		unsigned int max_chars;
		int32_t ty;

		if (!hostd_overlay_layout(w, h, n, i, &tile, &thumb))
			return;
		fill(dst, tile.x, tile.y, tile.w, tile.h,
		     e[i].selected ? CHOSEN : TILE);
		if (e[i].frame)
			draw_thumbnail(dst, e[i].frame, &thumb);
		else
			fill(dst, thumb.x, thumb.y, thumb.w, thumb.h, NO_FRAME);
		/* the label, on the tile's colour below the thumbnail */
		max_chars = (unsigned int)(thumb.w / hostd_overlay_char_w(scale));
		ty = thumb.y + thumb.h + scale * 2;
		fill(dst, thumb.x, ty - scale, thumb.w,
		     2 * hostd_overlay_line_h(scale), TILE);
		hostd_overlay_text(dst, thumb.x, ty, scale, NAME_RGB,
				   e[i].name ? e[i].name : "?", max_chars);
		hostd_overlay_text(dst, thumb.x, ty + hostd_overlay_line_h(scale),
				   scale, STATE_RGB, e[i].state ? e[i].state : "",
				   max_chars);
	}
}
