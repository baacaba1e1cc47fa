// SPDX-License-Identifier: GPL-2.0-only
/*
 * hostd's switching state (switcher.h): the VM list, the foreground guest
 * and the switch. A switch is the router's (router.c): it releases the
 * outgoing guest's keys and then activates the incoming one here, which
 * runs the modules' hooks in order: the screen, then the pointer and
 * LEDs, then the bus.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "switcher.h"

/* The foreground guest's name, so that a restarted hostd puts it in front
 * again (a tmpfs: a reboot starts with the first running guest). */
#define ACTIVE_FILE "/run/paradice/active"

const char *hostd_vm_state_name(enum hostd_vm_state s)
{
	switch (s) {
	case HOSTD_VM_RUNNING:
		return "running";
	case HOSTD_VM_PAUSED:
		return "paused";
	case HOSTD_VM_SHUTDOWN:
		return "shutdown";
	case HOSTD_VM_CRASHED:
		return "crashed";
	default:
		return "absent";
	}
}

/* -- the router's view ------------------------------------------------------ */

static void router_key(void *data, unsigned int g, unsigned int code, int value)
{
	struct hostd_switcher *sw = data;

	if (sw->hooks.key)
		sw->hooks.key(sw->hooks.input_data, g, code, value);
}

static void router_sync(void *data, unsigned int g)
{
	struct hostd_switcher *sw = data;

	if (sw->hooks.sync)
		sw->hooks.sync(sw->hooks.input_data, g);
}

/* Remember the foreground guest for the next hostd (best effort). */
static void save_active(const struct hostd_switcher *sw)
{
	const char *tmp = ACTIVE_FILE ".new";
	FILE *f;

	if (!sw->remember)
		return;
	mkdir("/run/paradice", 0755);
	f = fopen(tmp, "w");
	if (!f)
		return;
	fprintf(f, "%s\n", sw->vms[sw->router.active].cfg->name);
	if (fclose(f) == 0)
		rename(tmp, ACTIVE_FILE);
}

/* The guest a previous hostd had in front, if it runs now; else -1. */
static int saved_active(const struct hostd_switcher *sw)
{
	char name[HOSTD_NAME_MAX + 2] = "";
	FILE *f = sw->remember ? fopen(ACTIVE_FILE, "r") : NULL;

	if (!f)
		return -1;
	if (!fgets(name, sizeof(name), f))
		name[0] = '\0';
	fclose(f);
	name[strcspn(name, "\n")] = '\0';
	for (unsigned int i = 0; i < sw->nvms; i++)
		if (!strcmp(sw->vms[i].cfg->name, name) &&
		    sw->vms[i].state == HOSTD_VM_RUNNING)
			return (int)i;
	return -1;
}

/*
 * The router has released the outgoing guest's keys and made `to` the
 * foreground guest; finish the switch: the incoming guest's latest frame
 * on the screen (a full SETCRTC, synchronous), pointer buttons and LEDs,
 * then tell the bus. The time logged runs from the request (the hotkey's
 * release or the D-Bus call) to the new frame's commit.
 */
static void router_activate(void *data, unsigned int from, unsigned int to)
{
	struct hostd_switcher *sw = data;
	const struct hostd_switch_hooks *k = &sw->hooks;
	uint64_t t0 = sw->switch_started_us ? sw->switch_started_us :
					      hostd_now_us();
	uint64_t took;
	int r;

	if (k->show) {
		r = k->show(k->show_data, to);
		took = hostd_now_us() - t0;
		hostd_log("display: %s on screen %llu us after the request%s%s",
			  sw->vms[to].cfg->name, (unsigned long long)took,
			  r ? ": " : "", r ? strerror(-r) : "");
	}
	if (k->input_switched)
		k->input_switched(k->input_data, from, to);
	if (k->audio_switched)
		k->audio_switched(k->audio_data, to);
	if (k->camera)
		k->camera(k->camera_data, from, to);
	took = hostd_now_us() - t0;
	sw->switch_started_us = 0;
	hostd_log("switched from %s to %s in %llu us", sw->vms[from].cfg->name,
		  sw->vms[to].cfg->name, (unsigned long long)took);
	if (k->switched)
		k->switched(k->bus_data, from, to, took);
	if (k->guests_changed)
		k->guests_changed(k->guests_data);
	save_active(sw);
}

static bool router_usable(void *data, unsigned int g)
{
	struct hostd_switcher *sw = data;

	return g < sw->nvms && sw->vms[g].state == HOSTD_VM_RUNNING;
}

static void router_overlay(void *data, bool shown, unsigned int selected)
{
	struct hostd_switcher *sw = data;

	if (!shown && selected != sw->router.active)
		sw->switch_started_us = hostd_now_us();
	if (sw->hooks.overlay)
		sw->hooks.overlay(sw->hooks.show_data, shown, selected);
}

static const struct hostd_router_ops router_ops = {
	.key = router_key,
	.sync = router_sync,
	.activate = router_activate,
	.usable = router_usable,
	.overlay = router_overlay,
};

/* -- the VM list ------------------------------------------------------------ */

void hostd_switcher_init(struct hostd_switcher *sw,
			 const struct hostd_config *cfg, bool remember)
{
	memset(sw, 0, sizeof(*sw));
	sw->cfg = cfg;
	sw->remember = remember;
	sw->nvms = cfg->nguests;
	for (unsigned int i = 0; i < sw->nvms; i++) {
		sw->vms[i].cfg = &cfg->guests[i];
		sw->vms[i].index = i;
		sw->vms[i].domid = -1;
		sw->vms[i].adopted_pidfd = -1;
	}
	/* dom0's entry: always there, always usable */
	snprintf(sw->host_cfg.name, sizeof(sw->host_cfg.name), "%s",
		 HOSTD_HOST_NAME);
	sw->vms[sw->nvms].cfg = &sw->host_cfg;
	sw->vms[sw->nvms].index = sw->nvms;
	sw->vms[sw->nvms].domid = 0;
	sw->vms[sw->nvms].state = HOSTD_VM_RUNNING;
	sw->vms[sw->nvms].adopted_pidfd = -1;
	hostd_router_init(&sw->router, cfg, sw->nvms, &router_ops, sw);
	hostd_router_add_host(&sw->router);
}

bool hostd_switcher_set_domain(struct hostd_switcher *sw, unsigned int i,
			       int domid)
{
	struct hostd_vm *vm = &sw->vms[i];

	if (domid == vm->domid)
		return false;
	hostd_log("%s: %s", vm->cfg->name,
		  domid < 0 ? "domain gone" : "domain running");
	vm->domid = domid;
	vm->state = domid < 0 ? HOSTD_VM_ABSENT : HOSTD_VM_RUNNING;
	return true;
}

void hostd_switcher_pick_active(struct hostd_switcher *sw)
{
	int saved;

	for (unsigned int i = 0; i < sw->nvms; i++)
		if (sw->vms[i].state == HOSTD_VM_RUNNING) {
			sw->router.active = i;
			break;
		}
	saved = saved_active(sw);
	if (saved >= 0)
		sw->router.active = (unsigned int)saved;
}

void hostd_switcher_active_gone(struct hostd_switcher *sw)
{
	/* dom0's entry never goes */
	if (sw->vms[sw->router.active].state == HOSTD_VM_RUNNING)
		return;
	for (unsigned int i = 0; i < sw->nvms; i++)
		if (sw->vms[i].state == HOSTD_VM_RUNNING) {
			hostd_switch_to(sw, i);
			break;
		}
}

int hostd_switch_to(struct hostd_switcher *sw, unsigned int index)
{
	if (index > sw->nvms)	/* nvms: dom0's entry */
		return -ENOENT;
	if (sw->vms[index].state != HOSTD_VM_RUNNING)
		return -EAGAIN;
	if (index == sw->router.active)
		return 0;
	sw->switch_started_us = hostd_now_us();
	return hostd_router_switch(&sw->router, index) ? 0 : -EAGAIN;
}
