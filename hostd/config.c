// SPDX-License-Identifier: GPL-2.0-only
/*
 * Parser of the appliance configuration. The format is documented in
 * xen-config/paradice.conf. Every error names the file and line and says
 * what is wrong; a config that fails leaves nothing allocated.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libevdev/libevdev.h>
#include <linux/input-event-codes.h>

#include "config.h"

#define LINE_MAX_LEN 4096
#define FILE_MAX_LEN (1 << 20)

struct parser {
	struct hostd_config *cfg;
	const char *path;
	unsigned int line;
	char *err;
	size_t errlen;
	/* the section being read: NULL guest means [switch] or [camera] */
	bool in_switch;
	bool in_camera;
	bool camera_seen;	/* a [camera] section was read */
	struct hostd_guest_config *guest;
	unsigned int seen; /* bit per key already set in this section */
	/* [audio]: its lists of guest names, resolved at the end (a guest
	 * may be defined after the section), and their lines */
	bool in_audio;
	char audible_names[LINE_MAX_LEN + 1], capture_names[LINE_MAX_LEN + 1];
	unsigned int audible_line, capture_line;
};

static int fail(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(p->err, p->errlen, "%s:%u: ", p->path, p->line);

	if (n < 0 || (size_t)n >= p->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static const struct {
	const char *name;
	unsigned int code;
} modifier_aliases[] = {
	{ "ctrl", KEY_LEFTCTRL },   { "control", KEY_LEFTCTRL },
	{ "alt", KEY_LEFTALT },	    { "shift", KEY_LEFTSHIFT },
	{ "meta", KEY_LEFTMETA },   { "super", KEY_LEFTMETA },
	{ "altgr", KEY_RIGHTALT },
};

bool hostd_key_is_modifier(unsigned int code)
{
	switch (code) {
	case KEY_LEFTCTRL:
	case KEY_RIGHTCTRL:
	case KEY_LEFTALT:
	case KEY_RIGHTALT:
	case KEY_LEFTSHIFT:
	case KEY_RIGHTSHIFT:
	case KEY_LEFTMETA:
	case KEY_RIGHTMETA:
		return true;
	}
	return false;
}

static int key_code(const char *name, size_t len)
{
	char buf[64] = "KEY_";

	if (len == 0 || len > sizeof(buf) - 5)
		return -1;
	for (size_t i = 0; i < sizeof(modifier_aliases) / sizeof(modifier_aliases[0]); i++)
		if (strlen(modifier_aliases[i].name) == len &&
		    strncasecmp(modifier_aliases[i].name, name, len) == 0)
			return (int)modifier_aliases[i].code;
	for (size_t i = 0; i < len; i++)
		buf[4 + i] = (char)toupper((unsigned char)name[i]);
	buf[4 + len] = '\0';
	return libevdev_event_code_from_name(EV_KEY, buf);
}

int hostd_hotkey_parse(struct hostd_hotkey *hk, const char *text, char *err,
		       size_t errlen)
{
	const char *s = text;
	unsigned int plain = 0;

	memset(hk, 0, sizeof(*hk));
	for (;;) {
		const char *plus = strchr(s, '+');
		size_t len = plus ? (size_t)(plus - s) : strlen(s);
		int code = key_code(s, len);

		if (code < 0) {
			snprintf(err, errlen, "unknown key '%.*s' in hotkey '%s'",
				 (int)len, s, text);
			return -1;
		}
		for (unsigned int i = 0; i < hk->nkeys; i++)
			if (hk->keys[i] == (unsigned int)code) {
				snprintf(err, errlen, "key '%.*s' twice in hotkey '%s'",
					 (int)len, s, text);
				return -1;
			}
		if (hk->nkeys == HOSTD_MAX_HOTKEY_KEYS) {
			snprintf(err, errlen, "hotkey '%s' has more than %d keys",
				 text, HOSTD_MAX_HOTKEY_KEYS);
			return -1;
		}
		hk->keys[hk->nkeys++] = (unsigned int)code;
		if (!hostd_key_is_modifier((unsigned int)code))
			plain++;
		if (!plus)
			break;
		s = plus + 1;
	}
	if (plain != 1 || hk->nkeys < 2) {
		snprintf(err, errlen,
			 "hotkey '%s' must be one or more modifiers and one key",
			 text);
		return -1;
	}
	return 0;
}

static bool same_hotkey(const struct hostd_hotkey *a,
			const struct hostd_hotkey *b)
{
	if (!a->nkeys || a->nkeys != b->nkeys)
		return false;
	for (unsigned int i = 0; i < a->nkeys; i++) {
		bool found = false;

		for (unsigned int j = 0; j < b->nkeys; j++)
			found |= a->keys[i] == b->keys[j];
		if (!found)
			return false;
	}
	return true;
}

static int set_hotkey(struct parser *p, struct hostd_hotkey *hk,
		      const char *value)
{
	char why[256];

	if (hostd_hotkey_parse(hk, value, why, sizeof(why)) < 0)
		return fail(p, "%s", why);
	return 0;
}

static bool valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= HOSTD_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_.-", *s))
			return false;
	return true;
}

static int add_devices(struct parser *p, char *value)
{
	struct hostd_guest_config *g = p->guest;

	for (char *save = NULL, *w = strtok_r(value, " \t", &save); w;
	     w = strtok_r(NULL, " \t", &save)) {
		if (strncmp(w, "/dev/", 5) != 0 || strstr(w, "/..") ||
		    strstr(w, "//") || w[strlen(w) - 1] == '/')
			return fail(p, "device '%s' is not a path under /dev/", w);
		for (unsigned int i = 0; i < g->ndevices; i++)
			if (strcmp(g->devices[i], w) == 0)
				return fail(p, "device '%s' listed twice", w);
		if (g->ndevices == HOSTD_MAX_DEVICES)
			return fail(p, "more than %d devices for guest '%s'",
				    HOSTD_MAX_DEVICES, g->name);
		g->devices[g->ndevices] = strdup(w);
		if (!g->devices[g->ndevices])
			return fail(p, "out of memory");
		g->ndevices++;
	}
	if (g->ndevices == 0)
		return fail(p, "'devices' names no device");
	return 0;
}

/* An absolute path, no "..", no spaces: hostd passes it to `xl create`
 * as one argument (no shell), and a space is more likely a typo. */
static int set_xl_config(struct parser *p, const char *value)
{
	if (value[0] != '/' || strstr(value, "/..") || strpbrk(value, " \t"))
		return fail(p, "xl-config '%s' is not an absolute path without "
			    "spaces or '..'", value);
	if (strlen(value) >= sizeof(p->guest->xl_config))
		return fail(p, "xl-config '%s' is longer than %d bytes", value,
			    HOSTD_PATH_MAX - 1);
	snprintf(p->guest->xl_config, sizeof(p->guest->xl_config), "%s", value);
	return 0;
}

/* "list,switch", "list", "list,switch,host", "none": what the guest may ask hostd through
 * its control file. */
static int set_allow(struct parser *p, const char *value)
{
	char buf[128], *save = NULL;
	unsigned int allow = 0;
	bool none = false;

	if (strlen(value) >= sizeof(buf))
		return fail(p, "'allow = %s' is too long", value);
	snprintf(buf, sizeof(buf), "%s", value);
	for (char *w = strtok_r(buf, ", \t", &save); w;
	     w = strtok_r(NULL, ", \t", &save)) {
		if (!strcmp(w, "list"))
			allow |= HOSTD_ALLOW_LIST;
		else if (!strcmp(w, "switch"))
			allow |= HOSTD_ALLOW_SWITCH;
		else if (!strcmp(w, "host"))
			allow |= HOSTD_ALLOW_HOST;
		else if (!strcmp(w, "none"))
			none = true;
		else
			return fail(p, "'allow': unknown '%s' (want list, "
				    "switch, host or none)", w);
	}
	if (none && allow)
		return fail(p, "'allow': 'none' with '%s'", value);
	p->guest->allow = allow;
	return 0;
}

/* -- [audio] (docs/audio.md) ------------------------------------------------ */

/* The bit of `seen` for a guest's `audio` (its other keys' table uses the
 * low bits). */
#define SEEN_GUEST_AUDIO	(1u << 31)

static int audio_section(struct parser *p)
{
	struct hostd_audio_config *a = &p->cfg->audio;

	if (a->present)
		return fail(p, "[audio] defined twice (first on line %u)",
			    a->line);
	a->present = true;
	a->line = p->line;
	a->audible = HOSTD_AUDIO_ALL;
	a->capture = HOSTD_AUDIO_FOREGROUND;
	p->in_audio = true;
	return 0;
}

/* An ALSA card as pd-mixer opens it: a number (0-31) or a card id
 * (/proc/asound/cards' [ID]: letters, digits, '_' and '-', from a
 * letter). */
static int set_card(struct parser *p, const char *key, const char *value,
		    char *out)
{
	size_t n = strlen(value);
	bool number = isdigit((unsigned char)value[0]);

	if (n >= HOSTD_AUDIO_CARD_MAX)
		goto bad;
	for (size_t i = 0; i < n; i++)
		if (number ? !isdigit((unsigned char)value[i]) :
			     !isalnum((unsigned char)value[i]) &&
			     !strchr("_-", value[i]))
			goto bad;
	if (number && (n > 2 || atoi(value) > 31))
		goto bad;
	if (!number && !isalpha((unsigned char)value[0]))
		goto bad;
	snprintf(out, HOSTD_AUDIO_CARD_MAX, "%s", value);
	return 0;
bad:
	return fail(p, "'%s = %s': want an ALSA card id (letters, digits, "
		    "'_', '-', from a letter, under %d) or number (0-31)",
		    key, value, HOSTD_AUDIO_CARD_MAX);
}

/* all | foreground | none | NAME...: the names kept for check_audio(). */
static int set_who(struct parser *p, const char *value,
		   enum hostd_audio_who *who, char *names, unsigned int *line)
{
	if (!strcmp(value, "all"))
		*who = HOSTD_AUDIO_ALL;
	else if (!strcmp(value, "foreground"))
		*who = HOSTD_AUDIO_FOREGROUND;
	else if (!strcmp(value, "none"))
		*who = HOSTD_AUDIO_NONE;
	else {
		*who = HOSTD_AUDIO_LIST;
		snprintf(names, LINE_MAX_LEN + 1, "%s", value);
		*line = p->line;
	}
	return 0;
}

static int audio_assignment(struct parser *p, const char *key,
			    const char *value)
{
	static const char *const keys[] = { "output", "input", "audible",
					    "capture" };
	struct hostd_audio_config *a = &p->cfg->audio;
	unsigned int which = 0;

	while (which < 4 && strcmp(keys[which], key) != 0)
		which++;
	if (which == 4)
		return fail(p, "unknown key '%s' in [audio] (want output, "
			    "input, audible or capture)", key);
	if (p->seen & (1u << which))
		return fail(p, "'%s' set twice in this section", key);
	p->seen |= 1u << which;
	if (!*value)
		return fail(p, "'%s' has no value", key);
	switch (which) {
	case 0:
		return set_card(p, key, value, a->output);
	case 1:
		if (!strcmp(value, "none")) {
			a->input[0] = '\0';
			return 0;
		}
		return set_card(p, key, value, a->input);
	case 2:
		return set_who(p, value, &a->audible, p->audible_names,
			       &p->audible_line);
	default:
		return set_who(p, value, &a->capture, p->capture_names,
			       &p->capture_line);
	}
}

/* A guest's `audio = CARD`: its own endpoint. */
static int guest_audio(struct parser *p, const char *value)
{
	if (p->seen & SEEN_GUEST_AUDIO)
		return fail(p, "'audio' set twice in this section");
	p->seen |= SEEN_GUEST_AUDIO;
	if (!*value)
		return fail(p, "'audio' has no value");
	return set_card(p, "audio", value, p->guest->audio);
}

/* A list of guest names into bits by guest index. */
static int resolve_who(struct parser *p, const char *key, char *names,
		       unsigned int line, unsigned int *bits)
{
	char *save = NULL;

	p->line = line;
	*bits = 0;
	for (char *w = strtok_r(names, ", \t", &save); w;
	     w = strtok_r(NULL, ", \t", &save)) {
		const struct hostd_guest_config *g = hostd_config_guest(p->cfg, w);

		if (!g)
			return fail(p, "'%s': '%s' is not a guest of this file "
				    "(want all, foreground, none or guest "
				    "names)", key, w);
		*bits |= 1u << (g - p->cfg->guests);
	}
	return 0;
}

/*
 * The section as a whole: an output when any guest has audio; every
 * endpoint a card of its own, never the output's or the microphone's (a
 * guest would hear the mix, or another guest, on it).
 */
static int check_audio(struct parser *p)
{
	struct hostd_config *cfg = p->cfg;
	struct hostd_audio_config *a = &cfg->audio;
	unsigned int end = p->line;

	if (a->audible == HOSTD_AUDIO_LIST &&
	    resolve_who(p, "audible", p->audible_names, p->audible_line,
			&a->audible_guests) < 0)
		return -1;
	if (a->capture == HOSTD_AUDIO_LIST &&
	    resolve_who(p, "capture", p->capture_names, p->capture_line,
			&a->capture_guests) < 0)
		return -1;
	if (a->present && !a->output[0]) {
		p->line = a->line;
		return fail(p, "[audio] has no 'output' (the card the guests' "
			    "sound is played on)");
	}
	for (unsigned int i = 0; i < cfg->nguests; i++) {
		const struct hostd_guest_config *g = &cfg->guests[i];

		if (!g->audio[0])
			continue;
		p->line = g->line;
		if (!a->present)
			return fail(p, "guest %s has 'audio' but the file has no "
				    "[audio] section to mix it into", g->name);
		if (!strcmp(g->audio, a->output) || !strcmp(g->audio, a->input))
			return fail(p, "guest %s's audio card %s is [audio]'s "
				    "%s card", g->name, g->audio,
				    strcmp(g->audio, a->output) ? "input" :
				    "output");
		for (unsigned int j = 0; j < i; j++)
			if (!strcmp(cfg->guests[j].audio, g->audio))
				return fail(p, "guests %s and %s have the same "
					    "audio card %s: each needs its own",
					    cfg->guests[j].name, g->name,
					    g->audio);
	}
	p->line = end;
	return 0;
}

/* [camera]: once per file. */
static int camera_section(struct parser *p)
{
	if (p->camera_seen)
		return fail(p, "a second [camera] section");
	p->camera_seen = true;
	p->in_camera = true;
	return 0;
}

/* [camera] owner = foreground | NAME; NAME is checked against the guests
 * once the whole file is read (camera_resolve()). */
static int camera_assignment(struct parser *p, const char *key,
			     const char *value)
{
	struct hostd_camera_config *c = &p->cfg->camera;

	if (strcmp(key, "owner") != 0)
		return fail(p, "unknown key '%s' in [camera] (want owner)",
			    key);
	if (c->owner[0])
		return fail(p, "'owner' set twice in this section");
	if (!*value)
		return fail(p, "'owner' has no value (want foreground or a "
			    "guest's name)");
	if (strcmp(value, "foreground") != 0 && !valid_name(value))
		return fail(p, "[camera] owner '%s' is neither foreground nor "
			    "a guest name", value);
	snprintf(c->owner, sizeof(c->owner), "%s", value);
	c->line = p->line;
	return 0;
}

/* After the guests: a pinned camera's guest must be one of them. */
static int camera_resolve(struct parser *p)
{
	struct hostd_camera_config *c = &p->cfg->camera;

	c->pinned = 0;
	if (!c->owner[0] || !strcmp(c->owner, "foreground"))
		return 0;
	for (unsigned int i = 0; i < p->cfg->nguests; i++)
		if (!strcmp(p->cfg->guests[i].name, c->owner)) {
			c->pinned = i + 1;
			return 0;
		}
	p->line = c->line;
	return fail(p, "[camera] owner '%s' is no guest of this file (want "
		    "foreground or a [guest NAME]'s name)", c->owner);
}

static int section(struct parser *p, char *s)
{
	struct hostd_config *cfg = p->cfg;
	char *end = strchr(s, ']');
	char *name;

	if (!end || *trim(end + 1))
		return fail(p, "malformed section header");
	*end = '\0';
	s = trim(s + 1);
	p->seen = 0;
	p->guest = NULL;
	p->in_switch = false;
	p->in_audio = false;
	p->in_camera = false;
	if (strcmp(s, "switch") == 0) {
		p->in_switch = true;
		return 0;
	}
	if (strcmp(s, "audio") == 0)
		return audio_section(p);
	if (strcmp(s, "camera") == 0)
		return camera_section(p);
	if (strncmp(s, "guest", 5) != 0 || !isspace((unsigned char)s[5]))
		return fail(p, "unknown section [%s] (want [switch], [audio], "
			    "[camera] or [guest NAME])", s);
	name = trim(s + 5);
	if (!valid_name(name))
		return fail(p, "bad guest name '%s' (letters, digits, '_', '.', '-'; under %d)",
			    name, HOSTD_NAME_MAX);
	if (strcmp(name, HOSTD_HOST_NAME) == 0)
		return fail(p, "'%s' names dom0 in the VM list, not a guest",
			    name);
	if (hostd_config_guest(cfg, name))
		return fail(p, "guest '%s' defined twice", name);
	if (cfg->nguests == HOSTD_MAX_GUESTS)
		return fail(p, "more than %d guests", HOSTD_MAX_GUESTS);
	p->guest = &cfg->guests[cfg->nguests++];
	snprintf(p->guest->name, sizeof(p->guest->name), "%s", name);
	p->guest->line = p->line;
	p->guest->allow = HOSTD_DEFAULT_ALLOW;
	p->guest->backend_uid = HOSTD_BACKEND_UID_BASE + cfg->nguests - 1;
	p->guest->limits = (struct hostd_guest_limits){
		.max_grants = HOSTD_DEFAULT_MAX_GRANTS,
		.max_handles = HOSTD_DEFAULT_MAX_HANDLES,
		.max_objects = HOSTD_DEFAULT_MAX_OBJECTS,
		.max_inflight = HOSTD_DEFAULT_MAX_INFLIGHT,
		.max_memory = HOSTD_DEFAULT_MAX_MEMORY,
	};
	return 0;
}

/* A limit: a number from 1 to max, with an optional K, M or G (x1024). */
static int set_limit(struct parser *p, const char *key, const char *value,
		     unsigned long long max, unsigned long long *out)
{
	unsigned long long v, mul = 1;
	char *end;

	errno = 0;
	v = strtoull(value, &end, 10);
	if (*end == 'K' || *end == 'k')
		mul = 1ull << 10, end++;
	else if (*end == 'M' || *end == 'm')
		mul = 1ull << 20, end++;
	else if (*end == 'G' || *end == 'g')
		mul = 1ull << 30, end++;
	if (errno || end == value || *end || !isdigit((unsigned char)*value) ||
	    v == 0 || v > max / mul)
		return fail(p, "'%s = %s': want a number from 1 to %llu "
			    "(K, M, G allowed)", key, value, max);
	*out = v * mul;
	return 0;
}

/* A backend's uid: 1 to 2^32 - 2 (0 is root, -1 is no one). */
static int set_backend_uid(struct parser *p, const char *value)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(value, &end, 10);
	if (errno || end == value || *end || !isdigit((unsigned char)*value) ||
	    v == 0 || v >= 0xffffffffull)
		return fail(p, "'backend_uid = %s': want a number from 1 to %u",
			    value, 0xfffffffeu);
	p->guest->backend_uid = (unsigned int)v;
	return 0;
}

static int set_guest_limit(struct parser *p, unsigned int which,
			   const char *key, const char *value)
{
	struct hostd_guest_limits *l = &p->guest->limits;
	unsigned long long v;

	switch (which) {
	case 2:	/* pages: within the wire's and the helper's ranges */
		if (set_limit(p, key, value, 1u << 20, &v) < 0)
			return -1;
		l->max_grants = (unsigned int)v;
		return 0;
	case 3:	/* handles: ids are 20 bits (hostd/backend/handles.c) */
		if (set_limit(p, key, value, 1u << 20, &v) < 0)
			return -1;
		l->max_handles = (unsigned int)v;
		return 0;
	case 4:
		if (set_limit(p, key, value, 1u << 24, &v) < 0)
			return -1;
		l->max_objects = (unsigned int)v;
		return 0;
	default:
		return set_limit(p, key, value, 1ull << 40, &l->max_inflight);
	}
}

static int assignment(struct parser *p, char *s)
{
	static const char *const switch_keys[] = { "next", "previous",
						    "overlay", "host" };
	static const char *const guest_keys[] = {
		"devices", "hotkey", "max_grants", "max_handles",
		"max_objects", "max_inflight", "xl-config", "allow",
		"backend_uid", "max_memory",
	};
	char *eq = strchr(s, '=');
	const char *const *keys;
	char *key, *value;
	unsigned int which = 0, nkeys;

	if (!eq)
		return fail(p, "expected 'key = value'");
	*eq = '\0';
	key = trim(s);
	value = trim(eq + 1);
	if (p->in_audio)
		return audio_assignment(p, key, value);
	if (p->guest && strcmp(key, "audio") == 0)
		return guest_audio(p, value);
	if (p->in_camera)
		return camera_assignment(p, key, value);
	if (!p->in_switch && !p->guest)
		return fail(p, "'%s' outside any section", key);
	keys = p->in_switch ? switch_keys : guest_keys;
	nkeys = p->in_switch ? sizeof(switch_keys) / sizeof(*switch_keys) :
			       sizeof(guest_keys) / sizeof(*guest_keys);
	while (which < nkeys && strcmp(keys[which], key) != 0)
		which++;
	if (which == nkeys)
		return fail(p, "unknown key '%s' in [%s]", key,
			    p->in_switch ? "switch" : "guest");
	if (p->seen & (1u << which))
		return fail(p, "'%s' set twice in this section", key);
	p->seen |= 1u << which;
	if (!*value)
		return fail(p, "'%s' has no value", key);
	if (p->in_switch) {
		struct hostd_hotkey *hk[] = { &p->cfg->next, &p->cfg->previous,
					      &p->cfg->overlay, &p->cfg->host };

		return set_hotkey(p, hk[which], value);
	}
	if (which == 0)
		return add_devices(p, value);
	if (which == 1)
		return set_hotkey(p, &p->guest->hotkey, value);
	if (which == 6)
		return set_xl_config(p, value);
	if (which == 7)
		return set_allow(p, value);
	if (which == 8)
		return set_backend_uid(p, value);
	if (which == 9) {
		if (set_limit(p, key, value, 1ull << 40,
			      &p->guest->limits.max_memory) < 0)
			return -1;
		if (p->guest->limits.max_memory < HOSTD_MIN_MAX_MEMORY)
			return fail(p, "'%s = %s': less than %lluM", key, value,
				    HOSTD_MIN_MAX_MEMORY >> 20);
		return 0;
	}
	return set_guest_limit(p, which, key, value);
}

/* Every hotkey must be unique, or a press would mean two things. */
static int check_hotkeys(struct parser *p)
{
	struct hostd_config *cfg = p->cfg;
	const struct hostd_hotkey *all[HOSTD_MAX_GUESTS + 4];
	const char *names[HOSTD_MAX_GUESTS + 4];
	unsigned int n = 0;

	all[n] = &cfg->next;
	names[n++] = "[switch] next";
	all[n] = &cfg->previous;
	names[n++] = "[switch] previous";
	all[n] = &cfg->overlay;
	names[n++] = "[switch] overlay";
	all[n] = &cfg->host;
	names[n++] = "[switch] host";
	for (unsigned int i = 0; i < cfg->nguests; i++) {
		all[n] = &cfg->guests[i].hotkey;
		names[n++] = cfg->guests[i].name;
	}
	for (unsigned int i = 0; i < n; i++)
		for (unsigned int j = i + 1; j < n; j++)
			if (same_hotkey(all[i], all[j]))
				return fail(p, "the hotkeys of %s and %s are the same",
					    names[i], names[j]);
	return 0;
}

int hostd_config_parse(struct hostd_config *cfg, const char *path,
		       const char *text, char *err, size_t errlen)
{
	struct parser p = { .cfg = cfg, .path = path, .err = err,
			    .errlen = errlen };
	const char *s = text;
	char line[LINE_MAX_LEN + 2];

	memset(cfg, 0, sizeof(*cfg));
	cfg->path = strdup(path);
	if (!cfg->path) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	while (*s) {
		const char *nl = strchr(s, '\n');
		size_t len = nl ? (size_t)(nl - s) : strlen(s);
		char *l, *hash;

		p.line++;
		if (len > LINE_MAX_LEN) {
			fail(&p, "line longer than %d bytes", LINE_MAX_LEN);
			goto bad;
		}
		memcpy(line, s, len);
		line[len] = '\0';
		if (memchr(line, '\0', len)) {
			fail(&p, "NUL byte in the file");
			goto bad;
		}
		s += len + (nl ? 1 : 0);
		hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		l = trim(line);
		if (!*l)
			continue;
		if ((*l == '[' ? section(&p, l) : assignment(&p, l)) < 0)
			goto bad;
	}
	p.line++;
	if (cfg->nguests == 0) {
		fail(&p, "no [guest NAME] section: nothing to run");
		goto bad;
	}
	if (check_hotkeys(&p) < 0 || camera_resolve(&p) < 0)
		goto bad;
	if (check_audio(&p) < 0)
		goto bad;
	/* two guests' backends of one user could signal each other */
	for (unsigned int i = 0; i < cfg->nguests; i++)
		for (unsigned int j = i + 1; j < cfg->nguests; j++)
			if (cfg->guests[i].backend_uid ==
			    cfg->guests[j].backend_uid) {
				p.line = cfg->guests[j].line;
				fail(&p, "guests %s and %s have the same "
				     "backend_uid %u", cfg->guests[i].name,
				     cfg->guests[j].name,
				     cfg->guests[j].backend_uid);
				goto bad;
			}
	return 0;
bad:
	hostd_config_finish(cfg);
	return -1;
}

int hostd_config_load(struct hostd_config *cfg, const char *path, char *err,
		      size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *text;
	size_t n;
	int r;

	memset(cfg, 0, sizeof(*cfg));
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	text = malloc(FILE_MAX_LEN + 1);
	if (!text) {
		fclose(f);
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	n = fread(text, 1, FILE_MAX_LEN + 1, f);
	if (ferror(f) || n > FILE_MAX_LEN) {
		snprintf(err, errlen, "%s: %s", path,
			 ferror(f) ? "read error" : "larger than 1 MiB");
		fclose(f);
		free(text);
		return -1;
	}
	fclose(f);
	text[n] = '\0';
	if (strlen(text) != n) {
		snprintf(err, errlen, "%s: NUL byte in the file", path);
		free(text);
		return -1;
	}
	r = hostd_config_parse(cfg, path, text, err, errlen);
	free(text);
	return r;
}

void hostd_config_finish(struct hostd_config *cfg)
{
	if (!cfg)
		return;
	for (unsigned int i = 0; i < cfg->nguests; i++)
		for (unsigned int j = 0; j < cfg->guests[i].ndevices; j++)
			free(cfg->guests[i].devices[j]);
	free(cfg->path);
	memset(cfg, 0, sizeof(*cfg));
}

const struct hostd_guest_config *
hostd_config_guest(const struct hostd_config *cfg, const char *name)
{
	for (unsigned int i = 0; i < cfg->nguests; i++)
		if (strcmp(cfg->guests[i].name, name) == 0)
			return &cfg->guests[i];
	return NULL;
}
