// SPDX-License-Identifier: GPL-2.0-only
/*
 * Keyboard routing and hotkeys; the rules are in router.h.
 */
#include <string.h>

#include "router.h"

static bool test_bit(const uint8_t *map, unsigned int code)
{
	return map[code / 8] & (1u << (code % 8));
}

static void set_bit(uint8_t *map, unsigned int code, bool on)
{
	if (on)
		map[code / 8] |= (uint8_t)(1u << (code % 8));
	else
		map[code / 8] &= (uint8_t)~(1u << (code % 8));
}

/* Left and right modifiers count as the same modifier in a hotkey. */
static unsigned int canonical(unsigned int code)
{
	switch (code) {
	case KEY_RIGHTCTRL:
		return KEY_LEFTCTRL;
	case KEY_RIGHTSHIFT:
		return KEY_LEFTSHIFT;
	case KEY_RIGHTMETA:
		return KEY_LEFTMETA;
	}
	return code; /* right alt stays AltGr */
}

static bool is_down_canonical(const struct hostd_router *r, unsigned int key)
{
	switch (key) {
	case KEY_LEFTCTRL:
		return test_bit(r->down, KEY_LEFTCTRL) || test_bit(r->down, KEY_RIGHTCTRL);
	case KEY_LEFTSHIFT:
		return test_bit(r->down, KEY_LEFTSHIFT) || test_bit(r->down, KEY_RIGHTSHIFT);
	case KEY_LEFTMETA:
		return test_bit(r->down, KEY_LEFTMETA) || test_bit(r->down, KEY_RIGHTMETA);
	}
	return test_bit(r->down, key);
}

/*
 * Does pressing `code` complete hk? Its non-modifier key must be `code`
 * and all its other keys down; no other key but modifiers of hk may be
 * down, so that ctrl+alt+shift+right is not taken for ctrl+alt+right.
 */
static bool completes(const struct hostd_router *r,
		      const struct hostd_hotkey *hk, unsigned int code)
{
	bool has_code = false;
	unsigned int held = 0;

	if (!hk->nkeys)
		return false;
	for (unsigned int i = 0; i < hk->nkeys; i++) {
		if (hk->keys[i] == canonical(code))
			has_code = true;
		else if (!is_down_canonical(r, hk->keys[i]))
			return false;
	}
	if (!has_code)
		return false;
	for (unsigned int k = 0; k < HOSTD_ROUTER_KEYS; k++) {
		if (k == code || !test_bit(r->down, k))
			continue;
		held++;
		bool part = false;

		for (unsigned int i = 0; i < hk->nkeys; i++)
			part |= hk->keys[i] == canonical(k);
		if (!part)
			return false;
	}
	return held + 1 >= hk->nkeys;
}

void hostd_router_init(struct hostd_router *r, const struct hostd_config *cfg,
		       unsigned int nguests, const struct hostd_router_ops *ops,
		       void *data)
{
	memset(r, 0, sizeof(*r));
	r->cfg = cfg;
	r->nguests = nguests ? nguests : 1;
	r->ops = ops;
	r->data = data;
}

void hostd_router_add_host(struct hostd_router *r)
{
	r->host = true;
}

/* dom0's entry is always usable: an administrator can always get there. */
static bool usable(const struct hostd_router *r, unsigned int g)
{
	if (hostd_router_is_host(r, g))
		return true;
	return !r->ops->usable || r->ops->usable(r->data, g);
}

/* Next and previous skip the guests that cannot take the foreground. */
unsigned int hostd_router_target(const struct hostd_router *r,
				 enum hostd_hotkey_action action,
				 unsigned int guest)
{
	unsigned int step, tries, g;

	switch (action) {
	case HOSTD_HOTKEY_NEXT:
	case HOSTD_HOTKEY_PREVIOUS:
		step = action == HOSTD_HOTKEY_NEXT ? 1 : r->nguests - 1;
		tries = r->nguests - 1;
		g = r->active;
		if (hostd_router_is_host(r, g)) {
			/* from dom0's entry: the first or the last guest */
			g = action == HOSTD_HOTKEY_NEXT ? r->nguests - 1 : 0;
			tries = r->nguests;
		}
		for (unsigned int n = 0; n < tries; n++) {
			g = (g + step) % r->nguests;
			if (usable(r, g))
				return g;
		}
		return r->active;
	case HOSTD_HOTKEY_GUEST:
		return guest < hostd_router_entries(r) && usable(r, guest) ?
			       guest : r->active;
	default:
		return r->active;
	}
}

/* Release every key the foreground guest holds. */
static void release_all(struct hostd_router *r)
{
	bool any = false;

	for (unsigned int k = 0; k < HOSTD_ROUTER_KEYS; k++)
		if (test_bit(r->guest_down, k)) {
			r->ops->key(r->data, r->active, k, 0);
			set_bit(r->guest_down, k, false);
			any = true;
		}
	if (any)
		r->ops->sync(r->data, r->active);
}

bool hostd_router_switch(struct hostd_router *r, unsigned int to)
{
	unsigned int from = r->active;

	if (to >= hostd_router_entries(r) || !usable(r, to))
		return false;
	/*
	 * Keys still physically down belong to nobody until pressed again:
	 * the incoming guest's guest_down starts empty.
	 */
	release_all(r);
	r->active = to;
	r->armed = false;
	if (r->overlay) {
		/* a switch from elsewhere while the overlay is up: it goes;
		 * what is held stays swallowed until released */
		r->overlay = false;
		if (r->ops->overlay)
			r->ops->overlay(r->data, false, to);
	}
	r->switches++;
	r->ops->activate(r->data, from, to);
	return true;
}

static bool armed_keys_up(const struct hostd_router *r)
{
	for (unsigned int i = 0; i < r->armed_keys.nkeys; i++)
		if (is_down_canonical(r, r->armed_keys.keys[i]))
			return false;
	return true;
}

/* The hotkey that pressing `code` completes, if any. */
static const struct hostd_hotkey *
match_hotkey(struct hostd_router *r, unsigned int code, unsigned int *target)
{
	const struct hostd_config *cfg = r->cfg;

	if (!cfg)
		return NULL;
	if (completes(r, &cfg->next, code)) {
		*target = hostd_router_target(r, HOSTD_HOTKEY_NEXT, 0);
		return &cfg->next;
	}
	if (completes(r, &cfg->previous, code)) {
		*target = hostd_router_target(r, HOSTD_HOTKEY_PREVIOUS, 0);
		return &cfg->previous;
	}
	for (unsigned int g = 0; g < cfg->nguests && g < r->nguests; g++)
		if (completes(r, &cfg->guests[g].hotkey, code)) {
			*target = hostd_router_target(r, HOSTD_HOTKEY_GUEST, g);
			return &cfg->guests[g].hotkey;
		}
	if (r->host && completes(r, &cfg->host, code)) {
		*target = r->nguests;
		return &cfg->host;
	}
	return NULL;
}

/* The usable entry step (1 or -1) from entry g in the overlay's order
 * (the guests, then dom0's); g itself when there is no other. */
static unsigned int overlay_step(const struct hostd_router *r, unsigned int g,
				 int step)
{
	unsigned int n = hostd_router_entries(r);

	for (unsigned int i = 1; i < n; i++) {
		unsigned int e = (g + n + (unsigned int)(step * (int)i)) % n;

		if (usable(r, e))
			return e;
	}
	return g;
}

static void show_overlay(struct hostd_router *r)
{
	if (r->ops->overlay)
		r->ops->overlay(r->data, true, r->overlay_selected);
}

/* Is any modifier of the overlay's hotkey down? */
static bool overlay_modifiers_down(const struct hostd_router *r)
{
	for (unsigned int i = 0; i < r->armed_keys.nkeys; i++)
		if (hostd_key_is_modifier(r->armed_keys.keys[i]) &&
		    is_down_canonical(r, r->armed_keys.keys[i]))
			return true;
	return false;
}

/* A key pressed while the overlay is up: it chooses, nobody gets it. */
static void overlay_key(struct hostd_router *r, unsigned int code)
{
	int step = 0;

	if (r->overlay_cancelled)
		return;
	switch (code) {
	case KEY_RIGHT:
	case KEY_DOWN:
		step = 1;
		break;
	case KEY_LEFT:
	case KEY_UP:
		step = -1;
		break;
	case KEY_ESC:
		r->overlay_cancelled = true;
		if (r->ops->overlay)
			r->ops->overlay(r->data, false, r->active);
		return;
	default:
		for (unsigned int i = 0; i < r->armed_keys.nkeys; i++)
			if (!hostd_key_is_modifier(r->armed_keys.keys[i]) &&
			    r->armed_keys.keys[i] == canonical(code))
				step = 1;
	}
	if (!step)
		return;
	r->overlay_selected = overlay_step(r, r->overlay_selected, step);
	show_overlay(r);
}

/* The overlay's modifiers are all up: hide it and switch to the choice. */
static void overlay_done(struct hostd_router *r)
{
	unsigned int to = r->overlay_cancelled ? r->active : r->overlay_selected;
	bool cancelled = r->overlay_cancelled;

	r->overlay = false;
	r->overlay_cancelled = false;
	r->armed = false;
	if (!cancelled && r->ops->overlay)
		r->ops->overlay(r->data, false, to);
	if (to != r->active)
		hostd_router_switch(r, to);
}

void hostd_router_key(struct hostd_router *r, unsigned int code, int value)
{
	unsigned int target;
	const struct hostd_hotkey *hk;

	if (code >= HOSTD_ROUTER_KEYS)
		return;
	if (value == 1) {
		set_bit(r->down, code, true);
		if (r->overlay) {
			overlay_key(r, code);
			return;
		}
		if (!r->armed && r->cfg && completes(r, &r->cfg->overlay, code)) {
			r->armed = true;
			r->armed_keys = r->cfg->overlay;
			r->overlay = true;
			r->overlay_cancelled = false;
			r->overlay_selected = overlay_step(r, r->active, 1);
			show_overlay(r);
			return;
		}
		hk = r->armed ? NULL : match_hotkey(r, code, &target);
		if (hk) {
			/* The hotkey's own key never reaches a guest. */
			r->armed = true;
			r->armed_target = target;
			r->armed_keys = *hk;
			return;
		}
		if (r->armed)
			return; /* typing while the hotkey is held: nobody gets it */
		if (hostd_router_is_host(r, r->active))
			return; /* dom0 reads its keyboard itself */
		set_bit(r->guest_down, code, true);
		r->ops->key(r->data, r->active, code, 1);
		r->ops->sync(r->data, r->active);
		return;
	}
	if (value == 2) {
		if (test_bit(r->guest_down, code) && !r->armed) {
			r->ops->key(r->data, r->active, code, 2);
			r->ops->sync(r->data, r->active);
		}
		return;
	}
	/* release */
	set_bit(r->down, code, false);
	if (test_bit(r->guest_down, code)) {
		set_bit(r->guest_down, code, false);
		r->ops->key(r->data, r->active, code, 0);
		r->ops->sync(r->data, r->active);
	}
	if (r->overlay) {
		if (!overlay_modifiers_down(r))
			overlay_done(r);
		return;
	}
	if (r->armed && armed_keys_up(r)) {
		unsigned int to = r->armed_target;

		r->armed = false;
		if (to != r->active)
			hostd_router_switch(r, to);
	}
}
