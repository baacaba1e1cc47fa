/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The appliance configuration (/etc/paradice/paradice.conf; a documented
 * sample is xen-config/paradice.conf): which guests, which dom0 device files
 * each may open, and the hotkeys. Read by hostd and by each guest's backend.
 */
#ifndef HOSTD_CONFIG_H
#define HOSTD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define HOSTD_MAX_GUESTS 32
#define HOSTD_MAX_DEVICES 32
#define HOSTD_MAX_HOTKEY_KEYS 6
#define HOSTD_NAME_MAX 64
#define HOSTD_PATH_MAX 256

/* Modifiers and one key, as evdev key codes; matched on release. */
struct hostd_hotkey {
	unsigned int nkeys; /* 0: no hotkey */
	unsigned int keys[HOSTD_MAX_HOTKEY_KEYS];
};

/*
 * What one guest may hold in dom0 at once, enforced by its backend (the
 * grant helper adds a global cap of its own). Every key is optional.
 */
struct hostd_guest_limits {
	unsigned int max_grants;	/* pages granted to it (mmap) */
	unsigned int max_handles;	/* files open through Paradice */
	unsigned int max_objects;	/* GEM buffers and syncobjs */
	unsigned long long max_inflight; /* bytes of requests being served */
};

#define HOSTD_DEFAULT_MAX_GRANTS	16384u
#define HOSTD_DEFAULT_MAX_HANDLES	1024u
#define HOSTD_DEFAULT_MAX_OBJECTS	4096u
#define HOSTD_DEFAULT_MAX_INFLIGHT	(64ull << 20)

/* What a guest may ask hostd through its control file (hostd/guestctl.c,
 * key `allow`); another guest's frames are never among them. */
#define HOSTD_ALLOW_LIST	(1u << 0)	/* the VMs and the active one */
#define HOSTD_ALLOW_SWITCH	(1u << 1)	/* SwitchTo, next, previous */
#define HOSTD_ALLOW_HOST	(1u << 2)	/* SwitchTo host: dom0's entry */
#define HOSTD_DEFAULT_ALLOW	(HOSTD_ALLOW_LIST | HOSTD_ALLOW_SWITCH)

struct hostd_guest_config {
	char name[HOSTD_NAME_MAX];
	struct hostd_guest_limits limits;
	unsigned int allow;		/* HOSTD_ALLOW_* */
	unsigned int ndevices;
	char *devices[HOSTD_MAX_DEVICES];
	struct hostd_hotkey hotkey;
	/* xl-config: the guest's xl config file, which hostd's Start creates
	 * it from (`xl create FILE`); "" when not set */
	char xl_config[HOSTD_PATH_MAX];
	unsigned int line; /* where its section starts, for messages */
};

/* dom0's entry in the VM list (switcher.h); no guest may take the name */
#define HOSTD_HOST_NAME "host"

struct hostd_config {
	char *path;
	struct hostd_hotkey next, previous;
	/* overlay: shows the on-screen switcher while its modifiers are
	 * held (router.h); host: straight to dom0's entry. nkeys 0: none */
	struct hostd_hotkey overlay, host;
	unsigned int nguests;
	struct hostd_guest_config guests[HOSTD_MAX_GUESTS];
};

/*
 * Parse the file at path into cfg (caller-owned, zeroed by this call).
 * Returns 0, or -1 with "FILE:LINE: reason" in err (and nothing to free).
 */
int hostd_config_load(struct hostd_config *cfg, const char *path, char *err,
		      size_t errlen);

/* Same, from text in memory; path only names it in messages. */
int hostd_config_parse(struct hostd_config *cfg, const char *path,
		       const char *text, char *err, size_t errlen);

void hostd_config_finish(struct hostd_config *cfg);

/* The guest of that name, or NULL. */
const struct hostd_guest_config *
hostd_config_guest(const struct hostd_config *cfg, const char *name);

/* Is code ctrl, alt, shift or meta (either side)? */
bool hostd_key_is_modifier(unsigned int code);

/* Parse "ctrl+alt+f1"; returns 0 or -1 with a reason in err. */
int hostd_hotkey_parse(struct hostd_hotkey *hk, const char *text, char *err,
		       size_t errlen);

#endif /* HOSTD_CONFIG_H */
