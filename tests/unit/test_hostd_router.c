// SPDX-License-Identifier: GPL-2.0-only
/*
 * hostd's keyboard router: only the foreground guest gets keys, the hotkey
 * reaches no guest, the switch waits for the hotkey's release, and no guest
 * is ever left with a key down (200 random switches while typing).
 */
#include <stdlib.h>
#include <string.h>

#include "router.h"
#include "tap.h"

#define NG 3

struct sink {
	int down[NG][HOSTD_ROUTER_KEYS]; /* what each guest believes */
	unsigned int events[NG];
	int bad; /* release or repeat of a key the guest did not have down */
	unsigned int activations, last_from, last_to;
	unsigned int hotkey_keys_seen[NG][HOSTD_ROUTER_KEYS];
};

static void on_key(void *data, unsigned int g, unsigned int code, int value)
{
	struct sink *s = data;

	s->events[g]++;
	s->hotkey_keys_seen[g][code]++;
	if (value == 1) {
		if (s->down[g][code])
			s->bad++;
		s->down[g][code] = 1;
	} else {
		if (!s->down[g][code])
			s->bad++;
		if (value == 0)
			s->down[g][code] = 0;
	}
}

static void on_sync(void *data, unsigned int g)
{
	(void)data;
	(void)g;
}

static void on_activate(void *data, unsigned int from, unsigned int to)
{
	struct sink *s = data;

	s->activations++;
	s->last_from = from;
	s->last_to = to;
}

static int unusable = -1; /* a guest that is not running */

static bool on_usable(void *data, unsigned int g)
{
	(void)data;
	return (int)g != unusable;
}

/* the overlay as the display would show it */
static struct {
	unsigned int shows, hides;
	bool up;
	unsigned int selected;
	unsigned int events_when_shown; /* key events to guests so far */
} ov;

static unsigned int all_events(void);

static void on_overlay(void *data, bool shown, unsigned int selected)
{
	(void)data;
	if (shown && !ov.up)
		ov.events_when_shown = all_events();
	ov.up = shown;
	ov.selected = selected;
	if (shown)
		ov.shows++;
	else
		ov.hides++;
}

static const struct hostd_router_ops ops = { on_key, on_sync, on_activate,
					     on_usable, on_overlay };

static struct hostd_config cfg;
static struct hostd_router r;
static struct sink s;

static void setup(void)
{
	char err[256];

	memset(&s, 0, sizeof(s));
	memset(&cfg, 0, sizeof(cfg));
	unusable = -1;
	hostd_hotkey_parse(&cfg.next, "ctrl+alt+right", err, sizeof(err));
	hostd_hotkey_parse(&cfg.previous, "ctrl+alt+left", err, sizeof(err));
	hostd_hotkey_parse(&cfg.overlay, "ctrl+alt+tab", err, sizeof(err));
	hostd_hotkey_parse(&cfg.host, "ctrl+alt+f12", err, sizeof(err));
	memset(&ov, 0, sizeof(ov));
	cfg.nguests = NG;
	for (int g = 0; g < NG; g++) {
		char hk[32];

		snprintf(cfg.guests[g].name, sizeof(cfg.guests[g].name), "g%d", g);
		snprintf(hk, sizeof(hk), "ctrl+alt+f%d", g + 1);
		hostd_hotkey_parse(&cfg.guests[g].hotkey, hk, err, sizeof(err));
	}
	hostd_router_init(&r, &cfg, NG, &ops, &s);
}

static unsigned int all_events(void)
{
	unsigned int n = 0;

	for (int g = 0; g < NG; g++)
		n += s.events[g];
	return n;
}

static void tap_key(unsigned int code)
{
	hostd_router_key(&r, code, 1);
	hostd_router_key(&r, code, 0);
}

static int any_down(int g)
{
	for (int k = 0; k < HOSTD_ROUTER_KEYS; k++)
		if (s.down[g][k])
			return 1;
	return 0;
}

static void test_keys_go_to_the_foreground_guest_only(void)
{
	setup();
	tap_key(KEY_A);
	hostd_router_key(&r, KEY_B, 1);
	hostd_router_key(&r, KEY_B, 2);
	hostd_router_key(&r, KEY_B, 0);
	CHECK_EQ(s.events[0], 5);
	CHECK_EQ(s.events[1] + s.events[2], 0);
	CHECK_EQ(s.bad, 0);
}

static void test_hotkey_switches_on_release_and_is_never_seen(void)
{
	setup();
	hostd_router_key(&r, KEY_LEFTCTRL, 1);
	hostd_router_key(&r, KEY_LEFTALT, 1);
	hostd_router_key(&r, KEY_RIGHT, 1);
	CHECK_EQ(s.activations, 0); /* not before the release */
	hostd_router_key(&r, KEY_RIGHT, 2);
	hostd_router_key(&r, KEY_RIGHT, 0);
	CHECK_EQ(s.activations, 0); /* modifiers still down */
	hostd_router_key(&r, KEY_LEFTALT, 0);
	hostd_router_key(&r, KEY_LEFTCTRL, 0);
	CHECK_EQ(s.activations, 1);
	CHECK_EQ(s.last_to, 1);
	CHECK_EQ(r.active, 1);
	for (int g = 0; g < NG; g++)
		CHECK_EQ(s.hotkey_keys_seen[g][KEY_RIGHT], 0);
	CHECK(!any_down(0));
	CHECK_EQ(s.events[1], 0); /* the incoming guest saw no release */
	CHECK_EQ(s.bad, 0);
}

static void test_right_ctrl_counts_and_extra_keys_do_not(void)
{
	setup();
	hostd_router_key(&r, KEY_RIGHTCTRL, 1);
	hostd_router_key(&r, KEY_LEFTALT, 1);
	hostd_router_key(&r, KEY_F3, 1);
	hostd_router_key(&r, KEY_F3, 0);
	hostd_router_key(&r, KEY_LEFTALT, 0);
	hostd_router_key(&r, KEY_RIGHTCTRL, 0);
	CHECK_EQ(r.active, 2);
	/* ctrl+alt+shift+right is not ctrl+alt+right: it reaches the guest */
	hostd_router_key(&r, KEY_LEFTCTRL, 1);
	hostd_router_key(&r, KEY_LEFTALT, 1);
	hostd_router_key(&r, KEY_LEFTSHIFT, 1);
	tap_key(KEY_RIGHT);
	hostd_router_key(&r, KEY_LEFTSHIFT, 0);
	hostd_router_key(&r, KEY_LEFTALT, 0);
	hostd_router_key(&r, KEY_LEFTCTRL, 0);
	CHECK_EQ(r.active, 2);
	CHECK_EQ(s.hotkey_keys_seen[2][KEY_RIGHT], 2);
	CHECK_EQ(s.bad, 0);
}

static void test_held_key_is_released_in_the_outgoing_guest(void)
{
	setup();
	hostd_router_key(&r, KEY_W, 1); /* walking forward in a game */
	CHECK(s.down[0][KEY_W]);
	CHECK(hostd_router_switch(&r, 1)); /* D-Bus switch */
	CHECK(!s.down[0][KEY_W]);
	hostd_router_key(&r, KEY_W, 2);
	hostd_router_key(&r, KEY_W, 0);
	CHECK_EQ(s.events[1], 0); /* neither repeat nor release reach g1 */
	CHECK(!hostd_router_switch(&r, NG));
	CHECK_EQ(s.bad, 0);
}

static void test_previous_and_self_hotkeys(void)
{
	setup();
	hostd_router_key(&r, KEY_LEFTCTRL, 1);
	hostd_router_key(&r, KEY_LEFTALT, 1);
	tap_key(KEY_LEFT);
	hostd_router_key(&r, KEY_LEFTALT, 0);
	hostd_router_key(&r, KEY_LEFTCTRL, 0);
	CHECK_EQ(r.active, NG - 1);
	hostd_router_key(&r, KEY_LEFTCTRL, 1);
	hostd_router_key(&r, KEY_LEFTALT, 1);
	tap_key(KEY_F3); /* the guest already in front: no switch */
	hostd_router_key(&r, KEY_LEFTALT, 0);
	hostd_router_key(&r, KEY_LEFTCTRL, 0);
	CHECK_EQ(s.activations, 1);
	CHECK_EQ(s.bad, 0);
}

static void test_guests_not_running_are_skipped(void)
{
	setup();
	unusable = 1;
	hostd_router_key(&r, KEY_LEFTCTRL, 1);
	hostd_router_key(&r, KEY_LEFTALT, 1);
	tap_key(KEY_RIGHT);
	tap_key(KEY_F2); /* straight to the stopped guest: refused */
	hostd_router_key(&r, KEY_LEFTALT, 0);
	hostd_router_key(&r, KEY_LEFTCTRL, 0);
	CHECK_EQ(r.active, 2); /* next skipped guest 1 */
	CHECK(!hostd_router_switch(&r, 1));
	CHECK_EQ(s.bad, 0);
}

/* 200 switches by hotkey and by D-Bus amid random typing: no stuck key. */
static void test_random_typing_and_switches_leave_no_key_down(void)
{
	static const unsigned int pool[] = { KEY_A, KEY_S, KEY_D, KEY_W,
		KEY_SPACE, KEY_LEFTSHIFT, KEY_RIGHTCTRL, KEY_ENTER, KEY_1 };
	unsigned int held[HOSTD_ROUTER_KEYS] = { 0 };
	unsigned long seed = 12345;

	setup();
	while (r.switches < 200) {
		unsigned int k;

		seed = seed * 6364136223846793005ul + 1442695040888963407ul;
		k = pool[(seed >> 33) % (sizeof(pool) / sizeof(pool[0]))];
		if ((seed >> 20) % 5 == 0) {
			if ((seed >> 40) % 2) {
				hostd_router_switch(&r, (unsigned int)(seed >> 45) % NG);
			} else {
				/* hotkey over whatever is held */
				hostd_router_key(&r, KEY_LEFTCTRL, 1);
				hostd_router_key(&r, KEY_LEFTALT, 1);
				tap_key(KEY_RIGHT);
				hostd_router_key(&r, KEY_LEFTALT, 0);
				hostd_router_key(&r, KEY_LEFTCTRL, 0);
			}
			continue;
		}
		if (held[k]) {
			hostd_router_key(&r, k, (seed >> 50) % 3 ? 0 : 2);
			held[k] = (seed >> 50) % 3 ? 0 : 1;
		} else {
			hostd_router_key(&r, k, 1);
			held[k] = 1;
		}
	}
	for (unsigned int k = 0; k < HOSTD_ROUTER_KEYS; k++)
		if (held[k])
			hostd_router_key(&r, k, 0);
	for (int g = 0; g < NG; g++)
		CHECK(!any_down(g));
	CHECK_EQ(s.bad, 0);
	CHECK(r.switches >= 200);
}

static void ctrl_alt(int value)
{
	if (value) {
		hostd_router_key(&r, KEY_LEFTCTRL, 1);
		hostd_router_key(&r, KEY_LEFTALT, 1);
	} else {
		hostd_router_key(&r, KEY_LEFTALT, 0);
		hostd_router_key(&r, KEY_LEFTCTRL, 0);
	}
}

/* ctrl+alt+tab shows the overlay with the next guest chosen; tab and the
 * arrows choose while ctrl+alt are held; their release switches; no key
 * pressed meanwhile reaches a guest. */
static void test_overlay_chooses_while_held_and_switches_on_release(void)
{
	unsigned int before;

	setup();
	hostd_router_add_host(&r);
	ctrl_alt(1);
	before = all_events();	/* ctrl and alt went to guest 0 */
	tap_key(KEY_TAB);
	CHECK(ov.up);
	CHECK_EQ(ov.selected, 1);
	tap_key(KEY_TAB);
	CHECK_EQ(ov.selected, 2);
	tap_key(KEY_RIGHT);
	CHECK_EQ(ov.selected, NG); /* dom0's entry, after the guests */
	tap_key(KEY_RIGHT);
	CHECK_EQ(ov.selected, 0);  /* wraps */
	tap_key(KEY_LEFT);
	CHECK_EQ(ov.selected, NG);
	tap_key(KEY_UP);
	CHECK_EQ(ov.selected, 2);
	tap_key(KEY_A);		/* typing while it is up: nobody */
	hostd_router_key(&r, KEY_B, 1);
	hostd_router_key(&r, KEY_B, 2);
	hostd_router_key(&r, KEY_B, 0);
	tap_key(KEY_F1);	/* another hotkey's key: nothing either */
	CHECK_EQ(all_events(), before);
	CHECK_EQ(s.activations, 0);
	CHECK(ov.up);
	hostd_router_key(&r, KEY_LEFTALT, 0); /* ctrl still down: stays */
	CHECK(ov.up);
	CHECK_EQ(s.activations, 0);
	hostd_router_key(&r, KEY_LEFTCTRL, 0);
	CHECK(!ov.up);
	CHECK_EQ(ov.selected, 2);
	CHECK_EQ(s.activations, 1);
	CHECK_EQ(r.active, 2);
	for (int g = 0; g < NG; g++) {
		CHECK_EQ(s.hotkey_keys_seen[g][KEY_TAB], 0);
		CHECK_EQ(s.hotkey_keys_seen[g][KEY_A], 0);
		CHECK_EQ(s.hotkey_keys_seen[g][KEY_B], 0);
		CHECK(!any_down(g));
	}
	CHECK_EQ(s.events[2], 0);
	CHECK_EQ(s.bad, 0);
	/* typing afterwards reaches the new guest */
	tap_key(KEY_A);
	CHECK_EQ(s.hotkey_keys_seen[2][KEY_A], 2);
}

static void test_overlay_escape_cancels_and_skips_stopped_guests(void)
{
	setup();
	unusable = 1;
	ctrl_alt(1);
	tap_key(KEY_TAB);
	CHECK_EQ(ov.selected, 2); /* guest 1 is not running */
	tap_key(KEY_TAB);
	CHECK_EQ(ov.selected, 0); /* no dom0 entry here: wraps to 0 */
	tap_key(KEY_TAB);
	tap_key(KEY_ESC);
	CHECK(!ov.up);
	tap_key(KEY_TAB);	/* cancelled: nothing until released */
	CHECK(!ov.up);
	ctrl_alt(0);
	CHECK_EQ(s.activations, 0);
	CHECK_EQ(r.active, 0);
	CHECK_EQ(ov.shows, 3);
	CHECK_EQ(ov.hides, 1);
	/* the overlay again, released at once: the next guest */
	ctrl_alt(1);
	tap_key(KEY_TAB);
	ctrl_alt(0);
	CHECK_EQ(r.active, 2);
	CHECK(!ov.up);
	CHECK_EQ(s.bad, 0);
}

/* dom0's entry: its hotkey and a switch reach it, next/previous skip
 * it, no key reaches any guest while it is in front, and the hotkeys
 * bring a guest back. */
static void test_host_entry_takes_no_keys_and_hotkeys_leave_it(void)
{
	setup();
	/* without the entry its hotkey does nothing and reaches guest 0 */
	ctrl_alt(1);
	tap_key(KEY_F12);
	ctrl_alt(0);
	CHECK_EQ(r.active, 0);
	CHECK_EQ(s.hotkey_keys_seen[0][KEY_F12], 2);
	CHECK(!hostd_router_switch(&r, NG));
	hostd_router_add_host(&r);
	ctrl_alt(1);
	tap_key(KEY_F12);
	ctrl_alt(0);
	CHECK_EQ(r.active, NG);
	CHECK_EQ(s.last_to, NG);
	CHECK(hostd_router_switch(&r, 1));
	hostd_router_key(&r, KEY_W, 1); /* held into a D-Bus switch */
	CHECK(hostd_router_switch(&r, NG));
	CHECK(!s.down[1][KEY_W]); /* released in the outgoing guest */
	hostd_router_key(&r, KEY_W, 0);
	for (int g = 0; g < NG; g++)
		s.events[g] = 0;
	tap_key(KEY_A);
	hostd_router_key(&r, KEY_LEFTSHIFT, 1);
	tap_key(KEY_B);
	hostd_router_key(&r, KEY_LEFTSHIFT, 0);
	CHECK_EQ(all_events(), 0);
	/* next from dom0's entry: the first guest; previous: the last */
	ctrl_alt(1);
	tap_key(KEY_RIGHT);
	ctrl_alt(0);
	CHECK_EQ(r.active, 0);
	CHECK(hostd_router_switch(&r, NG));
	ctrl_alt(1);
	tap_key(KEY_LEFT);
	ctrl_alt(0);
	CHECK_EQ(r.active, NG - 1);
	/* next and previous cycle through the guests only */
	ctrl_alt(1);
	tap_key(KEY_RIGHT);
	ctrl_alt(0);
	CHECK_EQ(r.active, 0);
	/* the overlay from dom0's entry starts at the first guest */
	CHECK(hostd_router_switch(&r, NG));
	ctrl_alt(1);
	tap_key(KEY_TAB);
	CHECK_EQ(ov.selected, 0);
	ctrl_alt(0);
	CHECK_EQ(r.active, 0);
	for (int g = 0; g < NG; g++)
		CHECK(!any_down(g));
	CHECK_EQ(s.bad, 0);
}

int main(void)
{
	RUN(test_keys_go_to_the_foreground_guest_only);
	RUN(test_hotkey_switches_on_release_and_is_never_seen);
	RUN(test_right_ctrl_counts_and_extra_keys_do_not);
	RUN(test_held_key_is_released_in_the_outgoing_guest);
	RUN(test_previous_and_self_hotkeys);
	RUN(test_guests_not_running_are_skipped);
	RUN(test_random_typing_and_switches_leave_no_key_down);
	RUN(test_overlay_chooses_while_held_and_switches_on_release);
	RUN(test_overlay_escape_cancels_and_skips_stopped_guests);
	RUN(test_host_entry_takes_no_keys_and_hotkeys_leave_it);
	return tap_done();
}
