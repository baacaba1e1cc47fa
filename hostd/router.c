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

static bool usable(const struct hostd_router *r, unsigned int g)
{
	return !r->ops->usable || r->ops->usable(r->data, g);
}

/* Next and previous skip the guests that cannot take the foreground. */
unsigned int hostd_router_target(const struct hostd_router *r,
				 enum hostd_hotkey_action action,
				 unsigned int guest)
{
	unsigned int step;

	switch (action) {
	case HOSTD_HOTKEY_NEXT:
	case HOSTD_HOTKEY_PREVIOUS:
		step = action == HOSTD_HOTKEY_NEXT ? 1 : r->nguests - 1;
		for (unsigned int n = 1, g = r->active; n < r->nguests; n++) {
			g = (g + step) % r->nguests;
			if (usable(r, g))
				return g;
		}
		return r->active;
	case HOSTD_HOTKEY_GUEST:
		return guest < r->nguests && usable(r, guest) ? guest : r->active;
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

	if (to >= r->nguests || !usable(r, to))
		return false;
	/*
	 * Keys still physically down belong to nobody until pressed again:
	 * the incoming guest's guest_down starts empty.
	 */
	release_all(r);
	r->active = to;
	r->armed = false;
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
	return NULL;
}

void hostd_router_key(struct hostd_router *r, unsigned int code, int value)
{
	unsigned int target;
	const struct hostd_hotkey *hk;

	if (code >= HOSTD_ROUTER_KEYS)
		return;
	if (value == 1) {
		set_bit(r->down, code, true);
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
	if (r->armed && armed_keys_up(r)) {
		unsigned int to = r->armed_target;

		r->armed = false;
		if (to != r->active)
			hostd_router_switch(r, to);
	}
}
