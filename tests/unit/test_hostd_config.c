// SPDX-License-Identifier: GPL-2.0-only
/*
 * hostd's configuration parser: the shipped sample parses; every kind of
 * bad line is refused with the file, the line and the reason; nothing leaks
 * on any path (LeakSanitizer runs with the unit tests).
 */
#include <string.h>

#include <linux/input-event-codes.h>

#include "config.h"
#include "tap.h"

#ifndef PD_SOURCE_ROOT
#define PD_SOURCE_ROOT "."
#endif

static char err[512];

static int parse(struct hostd_config *cfg, const char *text)
{
	err[0] = '\0';
	return hostd_config_parse(cfg, "t.conf", text, err, sizeof(err));
}

static void test_sample_parses(void)
{
	struct hostd_config cfg;
	const struct hostd_guest_config *g;
	int r = hostd_config_load(&cfg, PD_SOURCE_ROOT "/xen-config/paradice.conf",
				  err, sizeof(err));

	CHECK_EQ(r, 0);
	if (r) {
		printf("#   %s\n", err);
		return;
	}
	CHECK_EQ(cfg.nguests, 2);
	g = hostd_config_guest(&cfg, "work");
	CHECK(g != NULL);
	if (g) {
		CHECK_EQ(g->ndevices, 5);
		CHECK(strcmp(g->devices[0], "/dev/dri/card0") == 0);
		CHECK_EQ(g->hotkey.nkeys, 3);
		CHECK_EQ(g->hotkey.keys[2], KEY_F1);
		CHECK(strcmp(g->xl_config, "/etc/xen/work.cfg") == 0);
	}
	g = hostd_config_guest(&cfg, "play");
	CHECK(g && g->xl_config[0] == '\0');
	CHECK_EQ(cfg.next.keys[0], KEY_LEFTCTRL);
	CHECK_EQ(cfg.next.keys[1], KEY_LEFTALT);
	CHECK_EQ(cfg.next.keys[2], KEY_RIGHT);
	CHECK_EQ(cfg.overlay.nkeys, 3);
	CHECK_EQ(cfg.overlay.keys[2], KEY_TAB);
	CHECK_EQ(cfg.host.nkeys, 3);
	CHECK_EQ(cfg.host.keys[2], KEY_F12);
	CHECK(hostd_config_guest(&cfg, "nobody") == NULL);
	hostd_config_finish(&cfg);
}

static void test_missing_file(void)
{
	struct hostd_config cfg;

	CHECK_EQ(hostd_config_load(&cfg, "/nonexistent/p.conf", err, sizeof(err)), -1);
	CHECK(strstr(err, "/nonexistent/p.conf: No such file") != NULL);
}

/* Each bad text fails at the line given with a message containing why. */
static void test_bad_lines(void)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "[guest a]\ndevices = /dev/x\n[bogus]\n", "t.conf:3: unknown section [bogus]" },
		{ "[guest a]\nfoo = 1\n", "t.conf:2: unknown key 'foo'" },
		{ "x = 1\n", "t.conf:1: 'x' outside any section" },
		{ "[guest a]\ndevices /dev/x\n", "t.conf:2: expected 'key = value'" },
		{ "[guest a]\ndevices = dev/x\n", "t.conf:2: device 'dev/x' is not a path under /dev/" },
		{ "[guest a]\ndevices = /dev/../etc/shadow\n", "t.conf:2: device '/dev/../etc/shadow'" },
		{ "[guest a]\ndevices = /dev/x /dev/x\n", "t.conf:2: device '/dev/x' listed twice" },
		{ "[guest a]\ndevices = /dev/x\ndevices = /dev/y\n", "t.conf:3: 'devices' set twice" },
		{ "[guest a]\n[guest a]\n", "t.conf:2: guest 'a' defined twice" },
		{ "[guest a b]\n", "t.conf:1: bad guest name 'a b'" },
		{ "[guest a\n", "t.conf:1: malformed section header" },
		{ "[guest a]\nhotkey = ctrl+alt+nosuchkey\n", "t.conf:2: unknown key 'nosuchkey'" },
		{ "[guest a]\nhotkey = f1\n", "t.conf:2: hotkey 'f1' must be one or more modifiers and one key" },
		{ "[guest a]\nhotkey = ctrl+a+b\n", "must be one or more modifiers and one key" },
		{ "[guest a]\nhotkey = ctrl+ctrl+a\n", "key 'ctrl' twice" },
		{ "[guest a]\nhotkey =\n", "t.conf:2: 'hotkey' has no value" },
		{ "[switch]\nnext = ctrl+alt+right\n[guest a]\nhotkey = alt+ctrl+right\n",
		  "the hotkeys of [switch] next and a are the same" },
		{ "[guest a]\nxl-config = a.cfg\n", "t.conf:2: xl-config 'a.cfg' is not an absolute path" },
		{ "[guest a]\nxl-config = /etc/xen/../a.cfg\n", "t.conf:2: xl-config '/etc/xen/../a.cfg' is not" },
		{ "[guest a]\nxl-config = /etc/a b.cfg\n", "t.conf:2: xl-config '/etc/a b.cfg' is not" },
		{ "[guest a]\nxl-config = /a.cfg\nxl-config = /b.cfg\n", "t.conf:3: 'xl-config' set twice" },
		{ "# nothing\n", "t.conf:2: no [guest NAME] section" },
		{ "[guest host]\n", "t.conf:1: 'host' names dom0 in the VM list" },
		{ "[switch]\noverlay = ctrl+alt+tab\n[guest a]\nhotkey = ctrl+alt+tab\n",
		  "the hotkeys of [switch] overlay and a are the same" },
		{ "[switch]\nhost = ctrl+alt+f1\nprevious = ctrl+alt+f1\n[guest a]\n",
		  "the hotkeys of [switch] previous and [switch] host are the same" },
		{ "[switch]\noverlay = tab\n", "t.conf:2: hotkey 'tab' must be" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hostd_config cfg;
		int r = parse(&cfg, cases[i].text);

		CHECK_EQ(r, -1);
		if (!strstr(err, cases[i].want)) {
			CHECK(!"message");
			printf("#   case %zu: got '%s', want '%s'\n", i, err,
			       cases[i].want);
		}
		CHECK_EQ(cfg.nguests, 0); /* nothing left behind */
	}
}

static void test_long_line_and_nul(void)
{
	struct hostd_config cfg;
	static char big[6000];

	memset(big, 'a', sizeof(big) - 1);
	memcpy(big, "[guest a]\n#", 11);
	CHECK_EQ(parse(&cfg, big), -1);
	CHECK(strstr(err, "t.conf:2: line longer than") != NULL);
}

static void test_comments_and_spacing(void)
{
	struct hostd_config cfg;

	CHECK_EQ(parse(&cfg, "  # c\n[ guest  a ]  \n\tdevices=/dev/x   /dev/y # two\n"), 0);
	CHECK_EQ(cfg.nguests, 1);
	CHECK_EQ(cfg.guests[0].ndevices, 2);
	CHECK(strcmp(cfg.guests[0].devices[1], "/dev/y") == 0);
	CHECK_EQ(cfg.guests[0].line, 2);
	hostd_config_finish(&cfg);
	hostd_config_finish(NULL);
}

/* The per-guest limits: defaults when absent, numbers with K/M/G, and a
 * clear refusal of zero, junk and values past the range. */
static void test_limits(void)
{
	struct hostd_config cfg;
	const struct hostd_guest_limits *l;

	CHECK_EQ(parse(&cfg, "[guest a]\ndevices = /dev/x\n"
		       "max_grants = 2K\nmax_handles = 64\n"
		       "max_objects = 100\nmax_inflight = 8M\n"
		       "[guest b]\ndevices = /dev/x\n"), 0);
	l = &cfg.guests[0].limits;
	CHECK_EQ(l->max_grants, 2048);
	CHECK_EQ(l->max_handles, 64);
	CHECK_EQ(l->max_objects, 100);
	CHECK_EQ(l->max_inflight, 8u << 20);
	l = &cfg.guests[1].limits;
	CHECK_EQ(l->max_grants, HOSTD_DEFAULT_MAX_GRANTS);
	CHECK_EQ(l->max_handles, HOSTD_DEFAULT_MAX_HANDLES);
	CHECK_EQ(l->max_objects, HOSTD_DEFAULT_MAX_OBJECTS);
	CHECK_EQ(l->max_inflight, HOSTD_DEFAULT_MAX_INFLIGHT);
	hostd_config_finish(&cfg);

	CHECK_EQ(parse(&cfg, "[guest a]\ndevices = /dev/x\nmax_grants = 0\n"),
		 -1);
	CHECK(strstr(err, "t.conf:3: 'max_grants = 0': want a number") != NULL);
	CHECK_EQ(parse(&cfg, "[guest a]\nmax_handles = 12x\n"), -1);
	CHECK(strstr(err, "t.conf:2:") != NULL);
	CHECK_EQ(parse(&cfg, "[guest a]\nmax_handles = 2M\n"), -1);
	CHECK_EQ(parse(&cfg, "[guest a]\nmax_objects = -1\n"), -1);
	CHECK_EQ(parse(&cfg, "[guest a]\nmax_inflight = 1\nmax_inflight = 2\n"),
		 -1);
	CHECK(strstr(err, "set twice") != NULL);
	CHECK_EQ(parse(&cfg, "[switch]\nmax_grants = 5\n"), -1);
}

/* What a guest may ask hostd (guestctl.c): list and switch by default,
 * any of them, host (dom0's entry) only when said, or none; a word that
 * is none of those is refused. */
static void test_allow(void)
{
	struct hostd_config cfg;

	CHECK_EQ(parse(&cfg, "[guest a]\ndevices = /dev/x\nallow = list\n"
		       "[guest b]\ndevices = /dev/x\nallow = none\n"
		       "[guest c]\ndevices = /dev/x\n"
		       "[guest d]\ndevices = /dev/x\nallow = switch, list\n"
		       "[guest e]\ndevices = /dev/x\nallow = list,switch,host\n"),
		 0);
	CHECK_EQ(cfg.guests[0].allow, HOSTD_ALLOW_LIST);
	CHECK_EQ(cfg.guests[1].allow, 0);
	CHECK_EQ(cfg.guests[2].allow, HOSTD_DEFAULT_ALLOW);
	CHECK_EQ(HOSTD_DEFAULT_ALLOW, HOSTD_ALLOW_LIST | HOSTD_ALLOW_SWITCH);
	CHECK_EQ(cfg.guests[3].allow, HOSTD_ALLOW_LIST | HOSTD_ALLOW_SWITCH);
	CHECK_EQ(cfg.guests[4].allow, HOSTD_ALLOW_LIST | HOSTD_ALLOW_SWITCH |
				      HOSTD_ALLOW_HOST);
	CHECK(!(HOSTD_DEFAULT_ALLOW & HOSTD_ALLOW_HOST));
	hostd_config_finish(&cfg);
	CHECK_EQ(parse(&cfg, "[guest a]\nallow = host,none\n"), -1);

	CHECK_EQ(parse(&cfg, "[guest a]\nallow = thumbnails\n"), -1);
	CHECK(strstr(err, "t.conf:2: 'allow': unknown 'thumbnails'") != NULL);
	CHECK_EQ(parse(&cfg, "[guest a]\nallow = none,list\n"), -1);
	CHECK(strstr(err, "t.conf:2: 'allow': 'none' with") != NULL);
	CHECK_EQ(parse(&cfg, "[guest a]\nallow = list\nallow = switch\n"), -1);
	CHECK(strstr(err, "set twice") != NULL);
	CHECK_EQ(parse(&cfg, "[switch]\nallow = list\n"), -1);
}

/* Each guest's backend runs as its own user: the base plus its place by
 * default, or backend_uid; never root, never one two guests share. Its
 * address space: 8G by default, max_memory, never under 256M. */
static void test_backend_uid(void)
{
	struct hostd_config cfg;

	CHECK_EQ(parse(&cfg, "[guest a]\ndevices = /dev/x\n"
		       "[guest b]\ndevices = /dev/x\nbackend_uid = 4000\n"
		       "[guest c]\ndevices = /dev/x\n"), 0);
	CHECK_EQ(cfg.guests[0].backend_uid, HOSTD_BACKEND_UID_BASE);
	CHECK_EQ(cfg.guests[1].backend_uid, 4000);
	CHECK_EQ(cfg.guests[2].backend_uid, HOSTD_BACKEND_UID_BASE + 2);
	CHECK_EQ(cfg.guests[0].limits.max_memory, HOSTD_DEFAULT_MAX_MEMORY);
	hostd_config_finish(&cfg);
	CHECK_EQ(parse(&cfg, "[guest a]\nmax_memory = 2G\n"), 0);
	CHECK_EQ(cfg.guests[0].limits.max_memory, 2ull << 30);
	hostd_config_finish(&cfg);
	CHECK_EQ(parse(&cfg, "[guest a]\nmax_memory = 100M\n"), -1);
	CHECK(strstr(err, "t.conf:2: 'max_memory = 100M': less than 256M")
	      != NULL);

	CHECK_EQ(parse(&cfg, "[guest a]\nbackend_uid = 0\n"), -1);
	CHECK(strstr(err, "t.conf:2: 'backend_uid = 0': want a number") != NULL);
	CHECK_EQ(parse(&cfg, "[guest a]\nbackend_uid = 4294967295\n"), -1);
	CHECK_EQ(parse(&cfg, "[guest a]\nbackend_uid = -5\n"), -1);
	CHECK_EQ(parse(&cfg, "[guest a]\nbackend_uid = 12u\n"), -1);
	CHECK_EQ(parse(&cfg, "[guest a]\nbackend_uid = 7\n"
		       "[guest b]\nbackend_uid = 7\n"), -1);
	CHECK(strstr(err, "t.conf:3: guests a and b have the same backend_uid 7")
	      != NULL);
	CHECK_EQ(parse(&cfg, "[switch]\nbackend_uid = 7\n"), -1);
}

/* [audio] and a guest's audio card (docs/audio.md): the defaults, the
 * lists resolved by name wherever the guests are, each bad line's
 * message. */
static void test_audio(void)
{
	static const struct {
		const char *text, *want;
	} bad[] = {
		{ "[audio]\nspeakers = x\n[guest a]\n",
		  "t.conf:2: unknown key 'speakers' in [audio]" },
		{ "[audio]\noutput = 1\noutput = 2\n[guest a]\n",
		  "t.conf:3: 'output' set twice" },
		{ "[audio]\noutput = a b\n[guest a]\n",
		  "t.conf:2: 'output = a b': want an ALSA card id" },
		{ "[audio]\noutput = 32\n[guest a]\n",
		  "t.conf:2: 'output = 32': want" },
		{ "[audio]\noutput = _x\n[guest a]\n", "'output = _x': want" },
		{ "[audio]\noutput = 1x\n[guest a]\n", "'output = 1x': want" },
		{ "[audio]\noutput = Abcdefghijklmnopqrstuvwxyz0123456\n"
		  "[guest a]\n", "t.conf:2: 'output = Abcdef" },
		{ "[audio]\n[audio]\n", "t.conf:2: [audio] defined twice "
		  "(first on line 1)" },
		{ "[audio]\ninput = Mic\n[guest a]\n",
		  "t.conf:1: [audio] has no 'output'" },
		{ "[guest a]\naudio = G1\n",
		  "t.conf:1: guest a has 'audio' but the file has no [audio]" },
		{ "[guest a]\naudio = G1\naudio = G2\n",
		  "t.conf:3: 'audio' set twice" },
		{ "[guest a]\naudio =\n", "t.conf:2: 'audio' has no value" },
		{ "[audio]\noutput = Spk\n[guest a]\naudio = Spk\n",
		  "t.conf:3: guest a's audio card Spk is [audio]'s output" },
		{ "[audio]\noutput = Spk\ninput = Mic\n[guest a]\n"
		  "audio = Mic\n", "guest a's audio card Mic is [audio]'s input" },
		{ "[audio]\noutput = Spk\n[guest a]\naudio = G\n[guest b]\n"
		  "audio = G\n", "t.conf:5: guests a and b have the same audio "
		  "card G" },
		{ "[audio]\noutput = Spk\naudible = a c\n[guest a]\n",
		  "t.conf:3: 'audible': 'c' is not a guest of this file" },
		{ "[audio]\noutput = Spk\ncapture = x\n[guest a]\n",
		  "t.conf:3: 'capture': 'x' is not a guest" },
	};
	struct hostd_config cfg;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_EQ(parse(&cfg, bad[i].text), -1);
		if (!strstr(err, bad[i].want)) {
			CHECK(!"message");
			printf("#   case %zu: got '%s', want '%s'\n", i, err,
			       bad[i].want);
		}
		CHECK_EQ(cfg.nguests, 0);
	}

	/* no [audio]: nothing mixed */
	CHECK_EQ(parse(&cfg, "[guest a]\n"), 0);
	CHECK(!cfg.audio.present && !cfg.guests[0].audio[0]);
	hostd_config_finish(&cfg);

	/* the defaults: all heard, the microphone to the foreground guest */
	CHECK_EQ(parse(&cfg, "[guest a]\naudio = PdGuest1\n[audio]\n"
		       "output = 2 # the speakers\n[guest b]\naudio = 4\n"
		       "[guest c]\n"), 0);
	CHECK(cfg.audio.present);
	CHECK(strcmp(cfg.audio.output, "2") == 0 && !cfg.audio.input[0]);
	CHECK_EQ(cfg.audio.audible, HOSTD_AUDIO_ALL);
	CHECK_EQ(cfg.audio.capture, HOSTD_AUDIO_FOREGROUND);
	CHECK(strcmp(cfg.guests[0].audio, "PdGuest1") == 0);
	CHECK(strcmp(cfg.guests[1].audio, "4") == 0);
	CHECK(!cfg.guests[2].audio[0]);
	hostd_config_finish(&cfg);

	/* lists name guests defined before and after the section */
	CHECK_EQ(parse(&cfg, "[guest a]\n[audio]\noutput = Spk\n"
		       "input = none\naudible = c, a\ncapture = b\n"
		       "[guest b]\n[guest c]\n"), 0);
	CHECK_EQ(cfg.audio.audible, HOSTD_AUDIO_LIST);
	CHECK_EQ(cfg.audio.audible_guests, (1u << 0) | (1u << 2));
	CHECK_EQ(cfg.audio.capture, HOSTD_AUDIO_LIST);
	CHECK_EQ(cfg.audio.capture_guests, 1u << 1);
	CHECK(!cfg.audio.input[0]);
	hostd_config_finish(&cfg);

	CHECK_EQ(parse(&cfg, "[audio]\noutput = Spk\ninput = Mic\n"
		       "audible = foreground\ncapture = none\n[guest a]\n"),
		 0);
	CHECK_EQ(cfg.audio.audible, HOSTD_AUDIO_FOREGROUND);
	CHECK_EQ(cfg.audio.capture, HOSTD_AUDIO_NONE);
	CHECK(strcmp(cfg.audio.input, "Mic") == 0);
	hostd_config_finish(&cfg);
}

int main(void)
{
	RUN(test_audio);
	RUN(test_backend_uid);
	RUN(test_allow);
	RUN(test_limits);
	RUN(test_sample_parses);
	RUN(test_missing_file);
	RUN(test_bad_lines);
	RUN(test_long_line_and_nul);
	RUN(test_comments_and_spacing);
	return tap_done();
}
