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
	/* address space of its backend once confined (RLIMIT_AS) */
	unsigned long long max_memory;
};

#define HOSTD_DEFAULT_MAX_GRANTS	16384u
#define HOSTD_DEFAULT_MAX_HANDLES	1024u
#define HOSTD_DEFAULT_MAX_OBJECTS	4096u
#define HOSTD_DEFAULT_MAX_INFLIGHT	(64ull << 20)
#define HOSTD_DEFAULT_MAX_MEMORY	(8ull << 30)
#define HOSTD_MIN_MAX_MEMORY		(256ull << 20)

/* What a guest may ask hostd through its control file (hostd/guestctl.c,
 * key `allow`); another guest's frames are never among them. */
#define HOSTD_ALLOW_LIST	(1u << 0)	/* the VMs and the active one */
#define HOSTD_ALLOW_SWITCH	(1u << 1)	/* SwitchTo, next, previous */
#define HOSTD_ALLOW_HOST	(1u << 2)	/* SwitchTo host: dom0's entry */
#define HOSTD_DEFAULT_ALLOW	(HOSTD_ALLOW_LIST | HOSTD_ALLOW_SWITCH)

/*
 * The user (and group, the same number) a guest's backend runs as once
 * hostd started it (hostd/backend/confine.c, docs/security.md): key
 * `backend_uid`, else this base plus the guest's index in the file. No
 * passwd entry is needed or made: the ids only have to be unused by
 * anything else in dom0 and differ between guests ("PD" << 16, far above
 * Debian's and systemd's ranges).
 */
#define HOSTD_BACKEND_UID_BASE	0x50440000u

/*
 * [audio] (docs/audio.md): every guest with an `audio` card gets its
 * sound mixed by pd-mixer into `output`. Who is heard and who gets the
 * microphone: everyone, the foreground guest only, nobody, or the guests
 * named (a bit per guest index).
 */
#define HOSTD_AUDIO_CARD_MAX 32
enum hostd_audio_who {
	HOSTD_AUDIO_ALL,
	HOSTD_AUDIO_FOREGROUND,
	HOSTD_AUDIO_NONE,
	HOSTD_AUDIO_LIST,
};

struct hostd_audio_config {
	bool present;			/* the file has an [audio] section */
	char output[HOSTD_AUDIO_CARD_MAX];	/* the mix's card (device 0) */
	char input[HOSTD_AUDIO_CARD_MAX];	/* the microphone's; "" none */
	enum hostd_audio_who audible;	/* default: all */
	enum hostd_audio_who capture;	/* default: foreground */
	unsigned int audible_guests;	/* HOSTD_AUDIO_LIST: bit per guest */
	unsigned int capture_guests;
	unsigned int line;		/* where the section starts */
};

struct hostd_guest_config {
	char name[HOSTD_NAME_MAX];
	unsigned int backend_uid;	/* its backend's uid and gid, never 0 */
	struct hostd_guest_limits limits;
	unsigned int allow;		/* HOSTD_ALLOW_* */
	unsigned int ndevices;
	char *devices[HOSTD_MAX_DEVICES];
	struct hostd_hotkey hotkey;
	/* xl-config: the guest's xl config file, which hostd's Start creates
	 * it from (`xl create FILE`); "" when not set */
	char xl_config[HOSTD_PATH_MAX];
	/* audio: the dom0 sound card that is this guest's own endpoint
	 * (docs/audio.md), an ALSA card id or number; "" when not set */
	char audio[HOSTD_AUDIO_CARD_MAX];
	unsigned int line; /* where its section starts, for messages */
};

/* dom0's entry in the VM list (switcher.h); no guest may take the name */
#define HOSTD_HOST_NAME "host"

/*
 * [camera]: who may use the guests' capture devices (V4L2 capture files
 * named in their `devices`; hostd/camera.c). owner = foreground (the
 * default): the guest in front, and none while dom0 is; owner = NAME:
 * that guest always. Resolved to `pinned` once every guest is read.
 */
struct hostd_camera_config {
	/* 1 + the owner's guest index; 0 (a zeroed config too): the
	 * foreground guest */
	unsigned int pinned;
	char owner[HOSTD_NAME_MAX];	/* as written ("" : not set) */
	unsigned int line;		/* of the owner key, for messages */
};

struct hostd_config {
	char *path;
	struct hostd_camera_config camera;
	struct hostd_hotkey next, previous;
	/* overlay: shows the on-screen switcher while its modifiers are
	 * held (router.h); host: straight to dom0's entry. nkeys 0: none */
	struct hostd_hotkey overlay, host;
	unsigned int nguests;
	struct hostd_guest_config guests[HOSTD_MAX_GUESTS];
	struct hostd_audio_config audio;
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
