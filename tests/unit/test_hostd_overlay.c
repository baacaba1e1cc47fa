// SPDX-License-Identifier: GPL-2.0-only
/*
 * The on-screen switcher's picture (hostd/overlay.c): tiles stay on the
 * screen and apart with the screen's aspect ratio for 1 to 12 entries on
 * common screens; each thumbnail is its frame scaled (a two-colour
 * pattern keeps its halves), an entry without a frame is black, the
 * chosen tile is framed, names are drawn as text.
 */
#include <stdlib.h>
#include <string.h>

#include "overlay.h"
#include "tap.h"

static const uint32_t screens[][2] = {
	{ 640, 480 }, { 800, 600 }, { 1024, 768 }, { 1280, 720 },
	{ 1920, 1080 }, { 3840, 2160 },
};

static bool disjoint(const struct hostd_overlay_rect *a,
		     const struct hostd_overlay_rect *b)
{
	return a->x + a->w <= b->x || b->x + b->w <= a->x ||
	       a->y + a->h <= b->y || b->y + b->h <= a->y;
}

static void test_layout_keeps_tiles_on_screen_apart_and_in_proportion(void)
{
	for (size_t s = 0; s < sizeof(screens) / sizeof(screens[0]); s++) {
		uint32_t w = screens[s][0], h = screens[s][1];

		for (unsigned int n = 1; n <= 12; n++) {
			struct hostd_overlay_rect tile[12], thumb[12];

			for (unsigned int i = 0; i < n; i++) {
				bool ok = hostd_overlay_layout(w, h, n, i, &tile[i],
							       &thumb[i]);

				CHECK(ok);
				if (!ok)
					return;
				CHECK(tile[i].x >= 0 && tile[i].y >= 0);
				CHECK(tile[i].x + tile[i].w <= (int32_t)w);
				CHECK(tile[i].y + tile[i].h <= (int32_t)h);
				/* the thumbnail inside its tile */
				CHECK(thumb[i].x >= tile[i].x &&
				      thumb[i].y >= tile[i].y &&
				      thumb[i].x + thumb[i].w <= tile[i].x + tile[i].w &&
				      thumb[i].y + thumb[i].h <= tile[i].y + tile[i].h);
				/* the screen's aspect ratio, within a pixel */
				CHECK(llabs((long long)thumb[i].w * h -
					    (long long)thumb[i].h * w) <= (long long)w);
				/* big enough to tell what it shows */
				CHECK(thumb[i].w * 8 >= (int32_t)(w / (n > 4 ? 4 : n)) ||
				      thumb[i].w >= 64);
				for (unsigned int j = 0; j < i; j++)
					CHECK(disjoint(&tile[i], &tile[j]));
			}
		}
	}
	{
		struct hostd_overlay_rect t, p;

		CHECK(!hostd_overlay_layout(1024, 768, 0, 0, &t, &p));
		CHECK(!hostd_overlay_layout(1024, 768, 2, 2, &t, &p));
		CHECK(!hostd_overlay_layout(16, 16, 1, 0, &t, &p));
	}
}

static uint32_t px(pixman_image_t *img, int32_t x, int32_t y)
{
	uint32_t *d = pixman_image_get_data(img);

	return d[y * (pixman_image_get_stride(img) / 4) + x] & 0xffffff;
}

/* A frame of w x h: left half `left`, right half `right`. */
static pixman_image_t *frame(int32_t w, int32_t h, uint32_t left,
			     uint32_t right)
{
	pixman_image_t *img = pixman_image_create_bits(PIXMAN_x8r8g8b8, w, h,
						       NULL, 0);
	uint32_t *d = pixman_image_get_data(img);

	for (int32_t y = 0; y < h; y++)
		for (int32_t x = 0; x < w; x++)
			d[y * w + x] = x < w / 2 ? left : right;
	return img;
}

static void test_draw_scales_frames_and_frames_the_chosen_tile(void)
{
	const uint32_t W = 1024, H = 768;
	pixman_image_t *dst = pixman_image_create_bits(PIXMAN_x8r8g8b8, W, H,
						       NULL, 0);
	pixman_image_t *f0 = frame(1024, 768, 0xff0000, 0xff0000);
	pixman_image_t *f1 = frame(800, 600, 0x00ff00, 0x0000ff);
	struct hostd_overlay_entry e[3] = {
		{ "guest1", "running", false, f0 },
		{ "guest2", "running", true, f1 },
		{ "host", "dom0", false, NULL },
	};
	struct hostd_overlay_rect tile[3], thumb[3];
	unsigned int white = 0;

	hostd_overlay_draw(dst, e, 3);
	for (unsigned int i = 0; i < 3; i++)
		CHECK(hostd_overlay_layout(W, H, 3, i, &tile[i], &thumb[i]));
	/* guest1: red all over */
	CHECK_EQ(px(dst, thumb[0].x + thumb[0].w / 2, thumb[0].y + thumb[0].h / 2),
		 0xff0000);
	CHECK_EQ(px(dst, thumb[0].x + 1, thumb[0].y + 1), 0xff0000);
	/* guest2: green left, blue right, scaled from another size */
	CHECK_EQ(px(dst, thumb[1].x + thumb[1].w / 4, thumb[1].y + thumb[1].h / 2),
		 0x00ff00);
	CHECK_EQ(px(dst, thumb[1].x + 3 * thumb[1].w / 4,
		    thumb[1].y + thumb[1].h / 2), 0x0000ff);
	CHECK_EQ(px(dst, thumb[1].x + thumb[1].w - 1, thumb[1].y + thumb[1].h - 1),
		 0x0000ff);
	/* nothing past the thumbnail: its frame is the tile's colour */
	CHECK(px(dst, thumb[1].x - 1, thumb[1].y + 5) != 0x0000ff &&
	      px(dst, thumb[1].x - 1, thumb[1].y + 5) != 0x00ff00);
	/* the host: no frame, black */
	CHECK_EQ(px(dst, thumb[2].x + thumb[2].w / 2, thumb[2].y + thumb[2].h / 2),
		 0x000000);
	/* the chosen tile is framed in another colour than the others */
	CHECK(px(dst, tile[1].x + 1, tile[1].y + 1) !=
	      px(dst, tile[0].x + 1, tile[0].y + 1));
	CHECK_EQ(px(dst, tile[0].x + 1, tile[0].y + 1),
		 px(dst, tile[2].x + 1, tile[2].y + 1));
	/* the names: white dots below each thumbnail */
	for (int32_t y = thumb[0].y + thumb[0].h; y < tile[0].y + tile[0].h; y++)
		for (int32_t x = thumb[0].x; x < thumb[0].x + thumb[0].w; x++)
			white += px(dst, x, y) == 0xffffff;
	CHECK(white > 50);
	pixman_image_unref(f0);
	pixman_image_unref(f1);
	pixman_image_unref(dst);
}

static void test_text_draws_known_glyphs_and_stops_at_max(void)
{
	pixman_image_t *dst = pixman_image_create_bits(PIXMAN_x8r8g8b8, 64, 16,
						       NULL, 0);
	int32_t w;

	w = hostd_overlay_text(dst, 0, 0, 1, 0xffffff, "Hi~", 0);
	CHECK_EQ(w, 3 * hostd_overlay_char_w(1));
	/* H: left column set on every row, middle row full */
	for (int y = 0; y < 7; y++)
		CHECK_EQ(px(dst, 0, y), 0xffffff);
	CHECK_EQ(px(dst, 2, 3), 0xffffff);
	CHECK_EQ(px(dst, 2, 0), 0);
	/* '~' has no glyph: drawn as '?', whose top row is 01110 */
	CHECK_EQ(px(dst, 12 + 1, 0), 0xffffff);
	CHECK_EQ(px(dst, 12 + 0, 0), 0);
	w = hostd_overlay_text(dst, 0, 8, 1, 0xffffff, "abcdef", 2);
	CHECK_EQ(w, 2 * hostd_overlay_char_w(1));
	pixman_image_unref(dst);
}

int main(void)
{
	RUN(test_layout_keeps_tiles_on_screen_apart_and_in_proportion);
	RUN(test_draw_scales_frames_and_frames_the_chosen_tile);
	RUN(test_text_draws_known_glyphs_and_stops_at_max);
	return tap_done();
}
