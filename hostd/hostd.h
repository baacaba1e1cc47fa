/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hostd: the appliance's daemon in dom0. What its files share.
 *
 *   hostd.c    main loop, the VM list (config guests that Xen runs)
 *   config.c   /etc/paradice/paradice.conf
 *   router.c   which guest gets a key; hotkeys; no stuck keys
 *   input.c    physical devices (libinput, grabbed), each guest's virtual
 *              keyboard and pointer (uinput in dom0, forwarded to the guest
 *              through Paradice like any evdev file), LEDs
 *   bus.c      the D-Bus service (dbus/org.paradice.Switcher1.xml)
 *   backends.c one pd-backend process per running guest
 *   display.c  the DRM master of the card: shows the foreground guest's
 *              display state, paces background guests' flips
 *   reattach.c backends that outlived a previous hostd connect again
 *              (PD_DISPLAY_SOCKET): checked, then given to display.c and
 *              input.c
 */
#ifndef HOSTD_H
#define HOSTD_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "router.h"

struct hostd_input;
struct hostd_bus;
struct hostd_display;
struct hostd_reattach;
struct pd_disp_hello;
struct xs_handle;

enum hostd_vm_state {
	HOSTD_VM_ABSENT,	/* in the config, no domain */
	HOSTD_VM_RUNNING,
	HOSTD_VM_PAUSED,
	HOSTD_VM_SHUTDOWN,
	HOSTD_VM_CRASHED,
};

struct hostd_vm {
	const struct hostd_guest_config *cfg;
	unsigned int index;	/* in the config, = router guest index */
	int domid;		/* -1 while absent */
	enum hostd_vm_state state;
	int backend_pid;	/* 0: none running */
	uint64_t backend_started_us;
	/* a backend a previous hostd started (not our child): its pidfd */
	int adopted_pidfd;	/* -1: none */
};

struct hostd {
	struct hostd_config cfg;
	struct hostd_vm vms[HOSTD_MAX_GUESTS];
	unsigned int nvms;
	struct hostd_router router;
	struct hostd_input *input;
	struct hostd_bus *bus;
	struct hostd_display *display;
	struct hostd_reattach *reattach;
	struct xs_handle *xs;	/* NULL with --no-xen */
	bool quit;
	bool spawn_backends;
	uint64_t switch_started_us;
};

const char *hostd_vm_state_name(enum hostd_vm_state s);

/*
 * Make vm the foreground guest (from D-Bus or a hotkey). Returns 0,
 * -ENOENT for no such VM, -EAGAIN when it cannot take the screen now.
 */
int hostd_switch_to(struct hostd *h, unsigned int index);

/* Monotonic microseconds. */
uint64_t hostd_now_us(void);

void hostd_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* input.c */
struct hostd_input *hostd_input_create(struct hostd *h, bool grab_physical);
void hostd_input_destroy(struct hostd_input *in);
/* Fills fds (at most max) with what to poll; returns how many. */
unsigned int hostd_input_fds(struct hostd_input *in, int *fds, unsigned int max);
/* One of those fds is readable. */
void hostd_input_dispatch(struct hostd_input *in, int fd);
/* Key events the router sends to guest g's virtual keyboard. */
void hostd_input_key(struct hostd_input *in, unsigned int g, unsigned int code,
		     int value);
void hostd_input_sync(struct hostd_input *in, unsigned int g);
/* Release held buttons in `from`, show `to`'s LEDs. */
void hostd_input_switched(struct hostd_input *in, unsigned int from,
			  unsigned int to);
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

/* backends.c */
void hostd_backends_update(struct hostd *h);
bool hostd_backends_reap(struct hostd *h);
/* At start: backends an earlier hostd left running are kept (they
 * reattach); those of domains that are gone are stopped. */
void hostd_backends_adopt(struct hostd *h);
unsigned int hostd_backends_fds(struct hostd *h, int *fds, unsigned int max);

/* display.c */
/* card: the DRM card to be master of, NULL for none. */
struct hostd_display *hostd_display_create(struct hostd *h, const char *card);
void hostd_display_destroy(struct hostd_display *d);
/* Without a card (tests): the CRTC ids backends may name. */
void hostd_display_set_crtcs(struct hostd_display *d, const uint32_t *ids,
			     unsigned int n);
unsigned int hostd_display_fds(struct hostd_display *d, int *fds,
			       unsigned int max);
/* true if fd was one of the display's */
bool hostd_display_dispatch(struct hostd_display *d, int fd);
/* A new connection for guest g's next backend (its old state goes): the
 * backend's end, close-on-exec (the child clears that), or -1. */
int hostd_display_backend_fd(struct hostd_display *d, unsigned int g);
int hostd_display_switch(struct hostd_display *d, unsigned int to);
/* What the card answers DIRTYFB with (0 or -ENOSYS), for the backends. */
int hostd_display_dirtyfb(const struct hostd_display *d);
/* A reattached backend's connection for guest g, its HELLO taken
 * (reattach.c): 0, or -EBUSY if g has a connection. sock -1: only ask. */
int hostd_display_attach(struct hostd_display *d, unsigned int g, int sock);
bool hostd_display_hello_names(const struct hostd *h,
			       const struct pd_disp_hello *m, unsigned int g);

/* reattach.c */
/* Listen on path for backends of an earlier hostd; check_peer: the peer
 * must be a pd-backend process (off in unit tests). NULL on failure. */
struct hostd_reattach *hostd_reattach_create(struct hostd *h, const char *path,
					     bool check_peer);
void hostd_reattach_destroy(struct hostd_reattach *r);
unsigned int hostd_reattach_fds(struct hostd_reattach *r, int *fds,
				unsigned int max);
bool hostd_reattach_dispatch(struct hostd_reattach *r, int fd);

/* bus.c */
struct hostd_bus *hostd_bus_create(struct hostd *h, const char *address);
void hostd_bus_destroy(struct hostd_bus *b);
int hostd_bus_fd(struct hostd_bus *b);
void hostd_bus_dispatch(struct hostd_bus *b);
void hostd_bus_vms_changed(struct hostd_bus *b);
void hostd_bus_switched(struct hostd_bus *b, unsigned int from,
			unsigned int to, uint64_t took_us);

#endif /* HOSTD_H */
