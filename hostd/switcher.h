/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hostd's switching state: the VM list (configured guests, which of them
 * Xen runs, their backends' processes), which guest is in front, and the
 * switch itself. input.c, display.c, bus.c, reattach.c and backends.c
 * read this state and ask for switches; the parts of a switch that are
 * theirs (the screen, the pointer buttons and LEDs, the D-Bus signals)
 * are hooks they set here when they are created, so this file calls none
 * of them by name.
 */
#ifndef HOSTD_SWITCHER_H
#define HOSTD_SWITCHER_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "router.h"

enum hostd_vm_state {
	HOSTD_VM_ABSENT,	/* in the config, no domain */
	HOSTD_VM_RUNNING,
	HOSTD_VM_PAUSED,
	HOSTD_VM_SHUTDOWN,
	HOSTD_VM_CRASHED,
};

/* The VM list: the configured guests, then dom0's entry "host" (index
 * nvms, never in a loop over the guests: i < nvms). */
#define HOSTD_MAX_VMS (HOSTD_MAX_GUESTS + 1)

struct hostd_vm {
	const struct hostd_guest_config *cfg;
	unsigned int index;	/* in the config, = router guest index */
	int domid;		/* -1 while absent */
	enum hostd_vm_state state;
	/* its backend (backends.c) */
	int backend_pid;	/* 0: none running */
	uint64_t backend_started_us;
	/* a backend a previous hostd started (not our child): its pidfd */
	int adopted_pidfd;	/* -1: none */
};

/* A VM's thumbnail (display.c's thumbnail hook): its last frame scaled,
 * XRGB8888 (each pixel a native-endian 32-bit 0xXXRRGGBB word), rows
 * stride bytes apart; pixels malloc'd, the caller frees them. */
struct hostd_thumbnail {
	uint32_t width, height, stride;
	uint32_t *pixels;
};

/*
 * The parts of a switch, in the order a switch calls them; each NULL
 * until its module sets it (and again after it is destroyed).
 */
struct hostd_switch_hooks {
	/* display.c: put guest `to`'s latest frame on the screen (a full
	 * SETCRTC, synchronous); 0 or a negative errno, logged */
	int (*show)(void *data, unsigned int to);
	void *show_data;
	/* display.c (not a part of a switch; show_data): guest g's thumbnail
	 * within max_w x max_h (its aspect kept, never enlarged); 0, or
	 * -ENOENT when it has no frame hostd can read */
	int (*thumbnail)(void *data, unsigned int g, uint32_t max_w,
			 uint32_t max_h, struct hostd_thumbnail *out);
	/* input.c: keys the router sends to guest g's virtual keyboard, and
	 * the end of a batch of them */
	void (*key)(void *data, unsigned int g, unsigned int code, int value);
	void (*sync)(void *data, unsigned int g);
	/* input.c: release `from`'s held buttons, show `to`'s LEDs */
	void (*input_switched)(void *data, unsigned int from, unsigned int to);
	void *input_data;
	/* display.c: the on-screen switcher shown with entry `selected`
	 * chosen, or hidden (selected: the entry about to be in front) */
	void (*overlay)(void *data, bool shown, unsigned int selected);
	/* camera.c: the camera's owner may change (docs/camera.md) */
	void (*camera)(void *data, unsigned int from, unsigned int to);
	void *camera_data;
	/* bus.c: tell the bus (took_us: from the request to the end) */
	void (*switched)(void *data, unsigned int from, unsigned int to,
			 uint64_t took_us);
	void *bus_data;
	/* guestctl.c: tell the guests that watch (after the bus) */
	void (*guests_changed)(void *data);
	void *guests_data;
	/* audio.c: entry `to` is in front (who is heard and gets the
	 * microphone may follow it); audio_data is also what bus.c asks
	 * for the guests' volumes (a struct hostd_audio) */
	void (*audio_switched)(void *data, unsigned int to);
	void *audio_data;
};

struct hostd_switcher {
	const struct hostd_config *cfg;
	struct hostd_vm vms[HOSTD_MAX_VMS];
	unsigned int nvms;	/* guests; vms[nvms] is dom0's entry */
	struct hostd_guest_config host_cfg;	/* its name */
	/* which guest is in front: router.active */
	struct hostd_router router;
	struct hostd_switch_hooks hooks;
	uint64_t switch_started_us;
	/* write the foreground guest's name for the next hostd (not in a
	 * test hostd without Xen: /run/paradice is the machine's) */
	bool remember;
};

/* The VM list of cfg (every guest absent), guest 0 in front. cfg must
 * outlive sw. */
void hostd_switcher_init(struct hostd_switcher *sw,
			 const struct hostd_config *cfg, bool remember);

/* Guest i's domain is domid now (-1: none); true if that is news. */
bool hostd_switcher_set_domain(struct hostd_switcher *sw, unsigned int i,
			       int domid);

/* At start: the guest a previous hostd had in front, if it runs, else
 * the first running guest, else guest 0. */
void hostd_switcher_pick_active(struct hostd_switcher *sw);

/* The foreground guest went away: hand the screen to a running one. */
void hostd_switcher_active_gone(struct hostd_switcher *sw);

/*
 * Make guest `index` the foreground one (from D-Bus or the VM list).
 * Returns 0, -ENOENT for no such VM, -EAGAIN when it cannot take the
 * screen now.
 */
int hostd_switch_to(struct hostd_switcher *sw, unsigned int index);

const char *hostd_vm_state_name(enum hostd_vm_state s);

/* Is entry i dom0's ("host")? */
static inline bool hostd_is_host(const struct hostd_switcher *sw,
				 unsigned int i)
{
	return i == sw->nvms;
}

/* Its domain runs or is paused: it keeps its backend and devices (a
 * paused guest resumes where it was). */
static inline bool hostd_vm_live(const struct hostd_vm *vm)
{
	return vm->state == HOSTD_VM_RUNNING || vm->state == HOSTD_VM_PAUSED;
}

#endif /* HOSTD_SWITCHER_H */
