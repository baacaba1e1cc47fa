/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Keyboard routing and hotkeys: the part of hostd that decides which guest
 * a physical key event goes to, and when a switch happens. Pure logic, fed
 * evdev key events, so it is tested without devices.
 *
 * Rules (as QEMU's input-linux and libinput do it):
 *  - Only the foreground guest receives events.
 *  - A hotkey is a set of modifiers and one key. When its key goes down
 *    while all its modifiers are down, that press and its release are
 *    swallowed, and the switch is armed. The switch happens when every key
 *    of the hotkey is up again, so the incoming guest never sees a release
 *    whose press it did not see.
 *  - At the switch, the outgoing guest gets a release for every key it
 *    still holds (modifiers of the hotkey included), then the incoming one
 *    gets the keyboard. A key physically held across the switch reaches
 *    nobody until it is pressed again.
 *  - A guest only ever gets a release or a repeat for a key it saw pressed.
 *
 * dom0's entry ("host", when the owner adds it): index nguests, after the
 * guests. While it is in front no key reaches any guest (dom0 reads the
 * physical devices itself); hotkeys still work. next and previous cycle
 * through the guests only; the host hotkey, the overlay and
 * hostd_router_switch() reach it.
 *
 * The overlay (the on-screen switcher): pressing the overlay hotkey (e.g.
 * ctrl+alt+tab) shows it with the entry after the foreground one
 * selected. While the hotkey's modifiers stay down, its key again, right
 * or down select the next entry, left or up the previous one, Escape
 * cancels (hides it, no switch). Releasing every modifier of the hotkey
 * hides it and switches to the selected entry. No key press, repeat or
 * release of a key pressed while it is up reaches any guest.
 */
#ifndef HOSTD_ROUTER_H
#define HOSTD_ROUTER_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/input-event-codes.h>

#include "config.h"

#define HOSTD_ROUTER_KEYS (KEY_MAX + 1)

/* What the router asks its owner to do, in order. */
struct hostd_router_ops {
	/* deliver a key event (value 0 up, 1 down, 2 repeat) to guest g */
	void (*key)(void *data, unsigned int g, unsigned int code, int value);
	/* end of a batch of events for guest g (EV_SYN SYN_REPORT) */
	void (*sync)(void *data, unsigned int g);
	/* the switch is due: make guest `to` the foreground one */
	void (*activate)(void *data, unsigned int from, unsigned int to);
	/* optional: may guest g take the foreground now (is it running)? */
	bool (*usable)(void *data, unsigned int g);
	/* optional: the overlay is shown with entry `selected` chosen, or
	 * hidden (shown false; selected: the entry that comes to the front
	 * next, called before its activate) */
	void (*overlay)(void *data, bool shown, unsigned int selected);
};

enum hostd_hotkey_action {
	HOSTD_HOTKEY_NONE,
	HOSTD_HOTKEY_NEXT,
	HOSTD_HOTKEY_PREVIOUS,
	HOSTD_HOTKEY_GUEST, /* + guest index */
};

struct hostd_router {
	const struct hostd_router_ops *ops;
	void *data;
	const struct hostd_config *cfg;
	unsigned int nguests;
	bool host;		/* dom0's entry exists, index nguests */
	unsigned int active;
	/* keys physically down now */
	uint8_t down[HOSTD_ROUTER_KEYS / 8 + 1];
	/* keys the foreground guest was told are down */
	uint8_t guest_down[HOSTD_ROUTER_KEYS / 8 + 1];
	/* an armed switch: done when no key of `armed_keys` is down */
	bool armed;
	unsigned int armed_target;
	struct hostd_hotkey armed_keys;
	/* the overlay is up (also armed, with armed_keys its hotkey) */
	bool overlay;
	bool overlay_cancelled;	/* Escape: hidden, no switch */
	unsigned int overlay_selected;
	unsigned long switches;
};

/* cfg must outlive the router; nguests >= 1. */
void hostd_router_init(struct hostd_router *r, const struct hostd_config *cfg,
		       unsigned int nguests, const struct hostd_router_ops *ops,
		       void *data);

/* Add dom0's entry, index r->nguests. */
void hostd_router_add_host(struct hostd_router *r);

/* Entries in the VM list: the guests and dom0's, if any. */
static inline unsigned int hostd_router_entries(const struct hostd_router *r)
{
	return r->nguests + (r->host ? 1 : 0);
}

/* Is entry g dom0's? */
static inline bool hostd_router_is_host(const struct hostd_router *r,
					unsigned int g)
{
	return r->host && g == r->nguests;
}

/* One EV_KEY event from a physical keyboard. */
void hostd_router_key(struct hostd_router *r, unsigned int code, int value);

/*
 * A switch asked for from elsewhere (D-Bus): release what the outgoing
 * guest holds and activate `to` now. Keys still down reach nobody until
 * pressed again. Returns false when `to` is out of range.
 */
bool hostd_router_switch(struct hostd_router *r, unsigned int to);

/* Which guest a hotkey names, given the current one. */
unsigned int hostd_router_target(const struct hostd_router *r,
				 enum hostd_hotkey_action action,
				 unsigned int guest);

#endif /* HOSTD_ROUTER_H */
