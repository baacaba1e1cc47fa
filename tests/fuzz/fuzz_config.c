// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target on hostd's configuration parser (hostd/config.c): the
 * file is input too (an administrator's typo must be an error message,
 * never a crash in hostd or in every guest's backend, which read it as
 * well). The input is the file's text, parsed as hostd_config_load() would
 * hand it over (NUL-terminated; a NUL inside is the loader's refusal, so
 * the text stops there). What is checked besides the sanitizers: a parse
 * that fails leaves the config zeroed and says why; one that succeeds
 * gives at least one guest, each with a valid name and at most
 * HOSTD_MAX_DEVICES device paths, every one of them findable by name,
 * and a [camera] owner that is one of them.
 * The hotkey parser is fed the first line on its own as well.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_zero(const struct hostd_config *cfg)
{
	static const struct hostd_config zero;

	if (memcmp(cfg, &zero, sizeof(zero)))
		abort();	/* a failed parse must leave nothing */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hostd_config cfg;
	struct hostd_hotkey hk;
	char err[256] = "";
	char *text, *nl;

	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (hostd_config_parse(&cfg, "fuzz.conf", text, err, sizeof(err))) {
		check_zero(&cfg);
		if (!err[0])
			abort();	/* an error without its reason */
	} else {
		if (!cfg.nguests || cfg.nguests > HOSTD_MAX_GUESTS)
			abort();
		/* a pinned camera names one of the guests */
		if (cfg.camera.pinned > cfg.nguests)
			abort();
		for (unsigned int i = 0; i < cfg.nguests; i++) {
			const struct hostd_guest_config *g = &cfg.guests[i];

			if (!g->name[0] ||
			    strnlen(g->name, sizeof(g->name)) == sizeof(g->name) ||
			    g->ndevices > HOSTD_MAX_DEVICES ||
			    hostd_config_guest(&cfg, g->name) == NULL ||
			    g->hotkey.nkeys > HOSTD_MAX_HOTKEY_KEYS)
				abort();
			for (unsigned int j = 0; j < g->ndevices; j++)
				if (!g->devices[j] || !g->devices[j][0])
					abort();
		}
		hostd_config_finish(&cfg);
		check_zero(&cfg);
	}
	nl = strchr(text, '\n');
	if (nl)
		*nl = '\0';
	if (!hostd_hotkey_parse(&hk, text, err, sizeof(err)) &&
	    (!hk.nkeys || hk.nkeys > HOSTD_MAX_HOTKEY_KEYS))
		abort();
	free(text);
	return 0;
}
