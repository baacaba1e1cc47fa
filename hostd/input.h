/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * input.c: physical keyboards and mice (libinput, grabbed), each guest's
 * virtual keyboard and pointer (uinput in dom0, forwarded to the guest
 * through Paradice like any evdev file), LEDs.
 */
#ifndef HOSTD_INPUT_H
#define HOSTD_INPUT_H

#include <stdbool.h>

struct hostd_input;
struct hostd_poller;
struct hostd_switcher;

/* Sets the switcher's key, sync and input_switched hooks; watches its
 * descriptors in p. */
struct hostd_input *hostd_input_create(struct hostd_switcher *sw,
				       struct hostd_poller *p,
				       bool grab_physical);
void hostd_input_destroy(struct hostd_input *in);
/* Each guest's virtual devices in dom0, e.g. /dev/input/event7; NULL
 * while it has none. */
const char *hostd_input_guest_node(struct hostd_input *in, unsigned int g,
				   bool pointer);
/* Make guest g's devices if it has none (0, or -errno). */
int hostd_input_ensure(struct hostd_input *in, unsigned int g);
/* Its uinput descriptors (keyboard, pointer), -1 where none. */
void hostd_input_guest_fds(struct hostd_input *in, unsigned int g, int fds[2]);
/* A reattached backend hands guest g's devices back: n (<= 2) uinput
 * descriptors, keyboard then pointer, untrusted. Takes them if they are
 * g's devices, releasing every key and button still down; 0, or -errno
 * (the descriptors are then closed). */
int hostd_input_adopt(struct hostd_input *in, unsigned int g, const int *fds,
		      unsigned int n);

#endif /* HOSTD_INPUT_H */
