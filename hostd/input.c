// SPDX-License-Identifier: GPL-2.0-only
/*
 * Physical input in, virtual input out.
 *
 * hostd opens dom0's keyboards and mice through libinput (udev seat0) and
 * grabs each one (EVIOCGRAB), so that nothing else in dom0 sees them. Each
 * guest has its own virtual keyboard and pointer: uinput devices in dom0
 * named "Paradice <guest> keyboard|pointer". They are ordinary evdev files,
 * so a guest receives them through Paradice exactly like any other input
 * device, and its udev, libinput and Xorg take them for real ones. (The
 * alternative, input devices created by the guest's frontend module, would
 * need an input protocol of its own beside the device-file one.)
 *
 * Only the foreground guest's devices get events: keys through the router
 * (router.c), pointer events here. LEDs a guest sets on its virtual keyboard
 * come back to hostd on the uinput descriptor; the foreground guest's are
 * shown on the physical keyboards.
 *
 * The devices outlive hostd: each guest's backend holds a duplicate of its
 * two uinput descriptors (a uinput device goes when its last descriptor
 * closes, and hostd never destroys one explicitly), so a guest's programs
 * keep reading them across a hostd restart. A reattached backend hands
 * them back (reattach.c -> hostd_input_adopt()), and every key and button
 * still down on them is released then, so none stays down whatever
 * happened to the hostd before. Until then (or for a guest without a
 * backend yet) hostd makes no devices for a guest whose backend it kept.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libinput.h>
#include <libudev.h>
#include <linux/input.h>
#include <linux/uinput.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "input.h"
#include "log.h"
#include "poller.h"
#include "switcher.h"

#define VIRTUAL_PREFIX "Paradice "
#define MAX_KEYBOARDS 16
#define MAX_PHYSICAL 32		/* physical devices' descriptors we grab */

/* One uinput device: the descriptor that keeps it, its evdev node. */
struct vdev {
	int fd;				/* -1: none */
	char node[40];			/* /dev/input/eventN */
};

struct guest_devs {
	struct hostd_input *owner;
	struct vdev kbd, ptr;
	struct hostd_watch *leds_watch;	/* kbd.fd: LEDs the guest sets */
	unsigned int leds;		/* LIBINPUT_LED_* the guest set */
	unsigned int buttons_down;	/* bit per BTN_LEFT + n */
	double rest_x, rest_y;		/* sub-pixel motion not sent yet */
};

struct hostd_input {
	struct hostd_switcher *sw;
	struct hostd_poller *poller;
	struct hostd_watch *li_watch;
	bool grab;
	struct udev *udev;
	struct libinput *li;
	struct libinput_device *keyboards[MAX_KEYBOARDS];
	unsigned int nkeyboards;
	/* the physical devices' descriptors (libinput's), -1: free slot;
	 * ungrabbed while dom0's entry is in front */
	int physical[MAX_PHYSICAL];
	bool ungrabbed;
	/* index HOSTD_MAX_GUESTS and below; dom0's entry has no devices */
	struct guest_devs guests[HOSTD_MAX_VMS];
};

/* Grab (or let go of) every physical device (failures logged). */
static void grab_all(struct hostd_input *in, bool grab)
{
	for (unsigned int i = 0; i < MAX_PHYSICAL; i++)
		if (in->physical[i] >= 0 &&
		    ioctl(in->physical[i], EVIOCGRAB, (void *)(uintptr_t)grab) < 0)
			hostd_log("input: cannot %s descriptor %d: %s",
				  grab ? "grab" : "let go of", in->physical[i],
				  strerror(errno));
	in->ungrabbed = !grab;
}

static int open_restricted(const char *path, int flags, void *data)
{
	struct hostd_input *in = data;
	char name[256] = "";
	int fd = open(path, flags | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	/* hostd's own virtual devices are the guests', not input to route. */
	if (ioctl(fd, EVIOCGNAME(sizeof(name) - 1), name) >= 0 &&
	    strncmp(name, VIRTUAL_PREFIX, strlen(VIRTUAL_PREFIX)) == 0) {
		close(fd);
		return -ENODEV;
	}
	if (in->grab && !in->ungrabbed && ioctl(fd, EVIOCGRAB, (void *)1) < 0)
		hostd_log("input: cannot grab %s (%s): %s", path, name,
			  strerror(errno));
	else
		hostd_log("input: %s %s (%s)", in->grab && !in->ungrabbed ?
			  "grabbed" : "opened", path, name);
	for (unsigned int i = 0; i < MAX_PHYSICAL; i++)
		if (in->physical[i] < 0) {
			in->physical[i] = fd;
			break;
		}
	return fd;
}

static void close_restricted(int fd, void *data)
{
	struct hostd_input *in = data;

	for (unsigned int i = 0; i < MAX_PHYSICAL; i++)
		if (in->physical[i] == fd)
			in->physical[i] = -1;
	close(fd);
}

static const struct libinput_interface li_interface = {
	.open_restricted = open_restricted,
	.close_restricted = close_restricted,
};

/* The evdev node of uinput device fd ("inputN" in sysfs): 0 or -errno;
 * name gets the device's name. */
static int uinput_node(int fd, char *node, size_t len, char *name,
		       size_t nlen)
{
	char sys[64], path[128];
	struct dirent *e;
	DIR *dir;
	FILE *f;
	int r = -ENOENT;

	if (ioctl(fd, UI_GET_SYSNAME(sizeof(sys)), sys) < 0)
		return -errno;
	sys[sizeof(sys) - 1] = '\0';
	if (strchr(sys, '/') || sys[0] == '.')
		return -EINVAL;
	snprintf(path, sizeof(path), "/sys/devices/virtual/input/%s/name", sys);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	if (!fgets(name, (int)nlen, f))
		name[0] = '\0';
	fclose(f);
	name[strcspn(name, "\n")] = '\0';
	snprintf(path, sizeof(path), "/sys/devices/virtual/input/%s", sys);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((e = readdir(dir)))
		if (!strncmp(e->d_name, "event", 5) && strlen(e->d_name) < 16) {
			snprintf(node, len, "/dev/input/%.15s", e->d_name);
			r = 0;
			break;
		}
	closedir(dir);
	return r;
}

/* "Paradice NAME keyboard|pointer", cut to fit uinput's 80 bytes */
static void device_name(char buf[UINPUT_MAX_NAME_SIZE], const char *guest,
			bool pointer)
{
	snprintf(buf, UINPUT_MAX_NAME_SIZE, VIRTUAL_PREFIX "%.60s %s", guest,
		 pointer ? "pointer" : "keyboard");
}

static int make_device(const char *guest, bool pointer, struct vdev *v)
{
	struct uinput_setup us = {
		.id = { .bustype = BUS_VIRTUAL, .vendor = 0x5044, /* "PD" */
			.product = pointer ? 2 : 1 },
	};
	char name[UINPUT_MAX_NAME_SIZE];
	int fd = open("/dev/uinput", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	int r = 0;

	device_name(us.name, guest, pointer);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	r |= ioctl(fd, UI_SET_EVBIT, EV_KEY);
	if (pointer) {
		r |= ioctl(fd, UI_SET_EVBIT, EV_REL);
		r |= ioctl(fd, UI_SET_RELBIT, REL_X);
		r |= ioctl(fd, UI_SET_RELBIT, REL_Y);
		r |= ioctl(fd, UI_SET_RELBIT, REL_WHEEL);
		r |= ioctl(fd, UI_SET_RELBIT, REL_HWHEEL);
		for (unsigned int b = BTN_LEFT; b <= BTN_TASK; b++)
			r |= ioctl(fd, UI_SET_KEYBIT, b);
	} else {
		for (unsigned int k = KEY_ESC; k <= KEY_MICMUTE; k++)
			r |= ioctl(fd, UI_SET_KEYBIT, k);
		r |= ioctl(fd, UI_SET_EVBIT, EV_LED);
		r |= ioctl(fd, UI_SET_LEDBIT, LED_NUML);
		r |= ioctl(fd, UI_SET_LEDBIT, LED_CAPSL);
		r |= ioctl(fd, UI_SET_LEDBIT, LED_SCROLLL);
		r |= ioctl(fd, UI_SET_EVBIT, EV_REP);
	}
	if (r || ioctl(fd, UI_DEV_SETUP, &us) || ioctl(fd, UI_DEV_CREATE)) {
		r = -errno;
		goto out;
	}
	r = uinput_node(fd, v->node, sizeof(v->node), name, sizeof(name));
out:
	if (r < 0) {
		hostd_log("input: cannot create %s: %s", us.name, strerror(-r));
		if (fd >= 0)
			close(fd);
		return r;
	}
	v->fd = fd;
	return 0;
}

static void dispatch_leds(struct hostd_input *in, unsigned int g);
static void dispatch_libinput(struct hostd_input *in);
static void input_key(void *data, unsigned int g, unsigned int code, int value);
static void input_sync(void *data, unsigned int g);
static void input_switched(void *data, unsigned int from, unsigned int to);

static void on_leds(int fd, short revents, void *data)
{
	struct guest_devs *gd = data;
	struct hostd_input *in = gd->owner;

	(void)fd;
	(void)revents;
	dispatch_leds(in, (unsigned int)(gd - in->guests));
}

static void on_libinput(int fd, short revents, void *data)
{
	(void)fd;
	(void)revents;
	dispatch_libinput(data);
}

/* Guest g's keyboard descriptor is new: read the LEDs it gets. */
static void watch_leds(struct hostd_input *in, unsigned int g)
{
	struct guest_devs *gd = &in->guests[g];

	gd->leds_watch = hostd_poller_add(in->poller, gd->kbd.fd, POLLIN,
					  on_leds, gd);
	if (!gd->leds_watch)
		hostd_log("input: cannot watch %s: %s; its LEDs stay",
			  gd->kbd.node, strerror(errno));
}

int hostd_input_ensure(struct hostd_input *in, unsigned int g)
{
	struct guest_devs *gd;
	const char *name;

	if (!in || g >= in->sw->nvms)
		return 0;
	gd = &in->guests[g];
	name = in->sw->vms[g].cfg->name;
	if (gd->kbd.fd < 0) {
		if (make_device(name, false, &gd->kbd))
			return -ENODEV;
		watch_leds(in, g);
	}
	if (gd->ptr.fd < 0 && make_device(name, true, &gd->ptr))
		return -ENODEV;
	return 0;
}

void hostd_input_guest_fds(struct hostd_input *in, unsigned int g, int fds[2])
{
	fds[0] = in && g < in->sw->nvms ? in->guests[g].kbd.fd : -1;
	fds[1] = in && g < in->sw->nvms ? in->guests[g].ptr.fd : -1;
}

struct hostd_input *hostd_input_create(struct hostd_switcher *sw,
				       struct hostd_poller *p,
				       bool grab_physical)
{
	struct hostd_input *in = calloc(1, sizeof(*in));

	if (!in)
		return NULL;
	in->sw = sw;
	in->poller = p;
	in->grab = grab_physical;
	for (unsigned int g = 0; g < HOSTD_MAX_VMS; g++) {
		in->guests[g].owner = in;
		in->guests[g].kbd.fd = in->guests[g].ptr.fd = -1;
	}
	for (unsigned int i = 0; i < MAX_PHYSICAL; i++)
		in->physical[i] = -1;
	/* dom0's entry in front at start (a previous hostd's choice is
	 * not kept for it, switcher.c): never, but be exact */
	in->ungrabbed = hostd_is_host(sw, sw->router.active);
	sw->hooks.key = input_key;
	sw->hooks.sync = input_sync;
	sw->hooks.input_switched = input_switched;
	sw->hooks.input_data = in;
	for (unsigned int g = 0; g < sw->nvms; g++) {
		struct guest_devs *gd = &in->guests[g];

		/* a kept backend brings the guest's devices back */
		if (sw->vms[g].adopted_pidfd >= 0)
			continue;
		if (hostd_input_ensure(in, g))
			goto fail;
		hostd_log("input: %s gets %s and %s", sw->vms[g].cfg->name,
			  gd->kbd.node, gd->ptr.node);
	}
	if (!grab_physical)
		return in; /* a test run: virtual devices only */
	in->udev = udev_new();
	if (!in->udev)
		goto fail;
	in->li = libinput_udev_create_context(&li_interface, in, in->udev);
	if (!in->li || libinput_udev_assign_seat(in->li, "seat0") < 0) {
		hostd_log("input: libinput cannot take seat0");
		goto fail;
	}
	in->li_watch = hostd_poller_add(p, libinput_get_fd(in->li), POLLIN,
					on_libinput, in);
	if (!in->li_watch)
		goto fail;
	dispatch_libinput(in);
	return in;
fail:
	hostd_input_destroy(in);
	return NULL;
}

void hostd_input_destroy(struct hostd_input *in)
{
	if (!in)
		return;
	if (in->sw->hooks.input_data == in) {
		in->sw->hooks.key = NULL;
		in->sw->hooks.sync = NULL;
		in->sw->hooks.input_switched = NULL;
		in->sw->hooks.input_data = NULL;
	}
	hostd_watch_remove(in->li_watch);
	for (unsigned int i = 0; i < in->nkeyboards; i++)
		libinput_device_unref(in->keyboards[i]);
	if (in->li)
		libinput_unref(in->li); /* closes and so ungrabs */
	if (in->udev)
		udev_unref(in->udev);
	/* closing is all: a device goes with its last descriptor, so the
	 * ones a backend holds stay for the next hostd */
	for (unsigned int g = 0; g < HOSTD_MAX_VMS; g++) {
		hostd_watch_remove(in->guests[g].leds_watch);
		if (in->guests[g].kbd.fd >= 0)
			close(in->guests[g].kbd.fd);
		if (in->guests[g].ptr.fd >= 0)
			close(in->guests[g].ptr.fd);
	}
	free(in);
}

static void write_ev(const struct vdev *v, unsigned int type,
		     unsigned int code, int value)
{
	struct input_event ev = { .type = (uint16_t)type,
				  .code = (uint16_t)code, .value = value };

	if (v->fd >= 0 && write(v->fd, &ev, sizeof(ev)) != sizeof(ev))
		hostd_log("input: write to %s failed: %s", v->node,
			  strerror(errno));
}

/* The switcher's key hook: the router's keys for guest g. */
static void input_key(void *data, unsigned int g, unsigned int code, int value)
{
	struct hostd_input *in = data;

	write_ev(&in->guests[g].kbd, EV_KEY, code, value);
}

static void input_sync(void *data, unsigned int g)
{
	struct hostd_input *in = data;

	write_ev(&in->guests[g].kbd, EV_SYN, SYN_REPORT, 0);
}

static void show_leds(struct hostd_input *in, unsigned int g)
{
	if (hostd_is_host(in->sw, g))
		return;	/* dom0's console sets its own */
	for (unsigned int i = 0; i < in->nkeyboards; i++)
		libinput_device_led_update(in->keyboards[i],
					   (enum libinput_led)in->guests[g].leds);
}

/*
 * The switcher's input_switched hook: release held buttons in `from`,
 * show `to`'s LEDs. To dom0's entry: let go of the physical devices (dom0's
 * console or session reads them; hostd keeps reading, for the hotkeys);
 * from it: grab them again.
 */
static void input_switched(void *data, unsigned int from, unsigned int to)
{
	struct hostd_input *in = data;
	struct guest_devs *gd;

	if (in->grab && hostd_is_host(in->sw, to) != in->ungrabbed)
		grab_all(in, !hostd_is_host(in->sw, to));

	gd = &in->guests[from];
	if (gd->buttons_down) {
		for (unsigned int b = 0; b < 32; b++)
			if (gd->buttons_down & (1u << b))
				write_ev(&gd->ptr, EV_KEY, BTN_LEFT + b, 0);
		write_ev(&gd->ptr, EV_SYN, SYN_REPORT, 0);
		gd->buttons_down = 0;
	}
	show_leds(in, to);
}

static void pointer_event(struct hostd_input *in, struct libinput_event *ev,
			  enum libinput_event_type type)
{
	struct libinput_event_pointer *p = libinput_event_get_pointer_event(ev);
	unsigned int g = in->sw->router.active;
	struct guest_devs *gd = &in->guests[g];

	switch (type) {
	case LIBINPUT_EVENT_POINTER_MOTION: {
		double x = libinput_event_pointer_get_dx_unaccelerated(p) + gd->rest_x;
		double y = libinput_event_pointer_get_dy_unaccelerated(p) + gd->rest_y;
		int ix = (int)x, iy = (int)y;

		gd->rest_x = x - ix;
		gd->rest_y = y - iy;
		if (ix)
			write_ev(&gd->ptr, EV_REL, REL_X, ix);
		if (iy)
			write_ev(&gd->ptr, EV_REL, REL_Y, iy);
		break;
	}
	case LIBINPUT_EVENT_POINTER_BUTTON: {
		unsigned int b = libinput_event_pointer_get_button(p);
		bool down = libinput_event_pointer_get_button_state(p) ==
			    LIBINPUT_BUTTON_STATE_PRESSED;

		if (b < BTN_LEFT || b >= BTN_LEFT + 32)
			return;
		/* Only release what this guest saw pressed. */
		if (!down && !(gd->buttons_down & (1u << (b - BTN_LEFT))))
			return;
		if (down)
			gd->buttons_down |= 1u << (b - BTN_LEFT);
		else
			gd->buttons_down &= ~(1u << (b - BTN_LEFT));
		write_ev(&gd->ptr, EV_KEY, b, down);
		break;
	}
	case LIBINPUT_EVENT_POINTER_SCROLL_WHEEL: {
		if (libinput_event_pointer_has_axis(p, LIBINPUT_POINTER_AXIS_SCROLL_VERTICAL)) {
			double v = libinput_event_pointer_get_scroll_value_v120(
				p, LIBINPUT_POINTER_AXIS_SCROLL_VERTICAL);
			write_ev(&gd->ptr, EV_REL, REL_WHEEL, (int)(-v / 120));
		}
		if (libinput_event_pointer_has_axis(p, LIBINPUT_POINTER_AXIS_SCROLL_HORIZONTAL)) {
			double v = libinput_event_pointer_get_scroll_value_v120(
				p, LIBINPUT_POINTER_AXIS_SCROLL_HORIZONTAL);
			write_ev(&gd->ptr, EV_REL, REL_HWHEEL, (int)(v / 120));
		}
		break;
	}
	default:
		return;
	}
	write_ev(&gd->ptr, EV_SYN, SYN_REPORT, 0);
}

static void device_added(struct hostd_input *in, struct libinput_device *dev)
{
	if (!libinput_device_has_capability(dev, LIBINPUT_DEVICE_CAP_KEYBOARD))
		return;
	if (in->nkeyboards == MAX_KEYBOARDS) {
		hostd_log("input: more than %d keyboards, LEDs ignore %s",
			  MAX_KEYBOARDS, libinput_device_get_name(dev));
		return;
	}
	in->keyboards[in->nkeyboards++] = libinput_device_ref(dev);
	libinput_device_led_update(dev, (enum libinput_led)
				   in->guests[in->sw->router.active].leds);
}

static void device_removed(struct hostd_input *in, struct libinput_device *dev)
{
	for (unsigned int i = 0; i < in->nkeyboards; i++)
		if (in->keyboards[i] == dev) {
			libinput_device_unref(dev);
			in->keyboards[i] = in->keyboards[--in->nkeyboards];
			return;
		}
}

static void dispatch_libinput(struct hostd_input *in)
{
	struct libinput_event *ev;

	if (libinput_dispatch(in->li) < 0)
		hostd_log("input: libinput dispatch failed");
	while ((ev = libinput_get_event(in->li))) {
		enum libinput_event_type type = libinput_event_get_type(ev);

		switch (type) {
		case LIBINPUT_EVENT_DEVICE_ADDED:
			device_added(in, libinput_event_get_device(ev));
			break;
		case LIBINPUT_EVENT_DEVICE_REMOVED:
			device_removed(in, libinput_event_get_device(ev));
			break;
		case LIBINPUT_EVENT_KEYBOARD_KEY: {
			struct libinput_event_keyboard *k =
				libinput_event_get_keyboard_event(ev);

			hostd_router_key(&in->sw->router,
					 libinput_event_keyboard_get_key(k),
					 libinput_event_keyboard_get_key_state(k) ==
						 LIBINPUT_KEY_STATE_PRESSED);
			break;
		}
		default:
			pointer_event(in, ev, type);
		}
		libinput_event_destroy(ev);
	}
}

/* LEDs a guest wrote to its virtual keyboard come back on the uinput fd. */
static void dispatch_leds(struct hostd_input *in, unsigned int g)
{
	struct input_event ev[16];
	ssize_t n = read(in->guests[g].kbd.fd, ev, sizeof(ev));
	unsigned int before = in->guests[g].leds;

	for (ssize_t i = 0; i < n / (ssize_t)sizeof(ev[0]); i++) {
		unsigned int bit;

		if (ev[i].type != EV_LED)
			continue;
		bit = ev[i].code == LED_NUML ? LIBINPUT_LED_NUM_LOCK :
		      ev[i].code == LED_CAPSL ? LIBINPUT_LED_CAPS_LOCK :
		      ev[i].code == LED_SCROLLL ? LIBINPUT_LED_SCROLL_LOCK : 0;
		if (ev[i].value)
			in->guests[g].leds |= bit;
		else
			in->guests[g].leds &= ~bit;
	}
	if (in->guests[g].leds != before && g == in->sw->router.active)
		show_leds(in, g);
}

const char *hostd_input_guest_node(struct hostd_input *in, unsigned int g,
				   bool pointer)
{
	struct vdev *v = pointer ? &in->guests[g].ptr : &in->guests[g].kbd;

	return v->fd >= 0 ? v->node : NULL;
}

/* Release every key (buttons too) down on v, as its evdev node says;
 * returns how many. leds: set from the node's LED state, if not NULL. */
static unsigned int release_all(struct vdev *v, unsigned int *leds)
{
	uint8_t keys[KEY_MAX / 8 + 1] = { 0 }, led[LED_MAX / 8 + 1] = { 0 };
	unsigned int n = 0;
	int fd = open(v->node, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0) {
		hostd_log("input: %s: %s; keys down stay down", v->node,
			  strerror(errno));
		return 0;
	}
	if (ioctl(fd, EVIOCGKEY(sizeof(keys)), keys) < 0)
		memset(keys, 0, sizeof(keys));
	if (leds && ioctl(fd, EVIOCGLED(sizeof(led)), led) >= 0)
		*leds = (led[LED_NUML / 8] >> (LED_NUML % 8) & 1 ?
			 LIBINPUT_LED_NUM_LOCK : 0) |
			(led[LED_CAPSL / 8] >> (LED_CAPSL % 8) & 1 ?
			 LIBINPUT_LED_CAPS_LOCK : 0) |
			(led[LED_SCROLLL / 8] >> (LED_SCROLLL % 8) & 1 ?
			 LIBINPUT_LED_SCROLL_LOCK : 0);
	close(fd);
	for (unsigned int k = 0; k <= KEY_MAX; k++)
		if (keys[k / 8] & (1u << (k % 8))) {
			write_ev(v, EV_KEY, k, 0);
			n++;
		}
	if (n)
		write_ev(v, EV_SYN, SYN_REPORT, 0);
	return n;
}

/* Is fd a uinput device named want? Fills v (not its fd). */
static int check_uinput(int fd, const char *want, struct vdev *v)
{
	char name[UINPUT_MAX_NAME_SIZE + 2];
	struct stat st;
	int r;

	if (fstat(fd, &st) || !S_ISCHR(st.st_mode) ||
	    major(st.st_rdev) != 10 || minor(st.st_rdev) != 223 /* UINPUT_MINOR, miscdevice.h */)
		return -ENOTTY;
	r = uinput_node(fd, v->node, sizeof(v->node), name, sizeof(name));
	if (r)
		return r;
	return strcmp(name, want) ? -EPERM : 0;
}

int hostd_input_adopt(struct hostd_input *in, unsigned int g, const int *fds,
		      unsigned int n)
{
	struct vdev got[2] = { { .fd = -1 }, { .fd = -1 } };
	struct guest_devs *gd;
	unsigned int released = 0;
	int r = 0;

	if (!in || g >= in->sw->nvms || n > 2) {
		r = in ? -EINVAL : 0;	/* no input at all: nothing to keep */
		goto out;
	}
	gd = &in->guests[g];
	for (unsigned int i = 0; i < n && !r; i++) {
		char want[UINPUT_MAX_NAME_SIZE];

		device_name(want, in->sw->vms[g].cfg->name, i);
		r = check_uinput(fds[i], want, &got[i]);
		if (r)
			hostd_log("input: %s: descriptor %u from its backend is "
				  "not its %s (%s)", in->sw->vms[g].cfg->name, i,
				  want, strerror(-r));
	}
	if (r)
		goto out;
	/* a later server of a backend we kept brings them again: the same
	 * devices are fine, others are not */
	for (unsigned int i = 0; i < n; i++) {
		struct vdev *v = i ? &gd->ptr : &gd->kbd;

		if (v->fd >= 0 && strcmp(v->node, got[i].node)) {
			hostd_log("input: %s has other devices already",
				  in->sw->vms[g].cfg->name);
			r = -EEXIST;
			goto out;
		}
	}
	for (unsigned int i = 0; i < n; i++) {
		struct vdev *v = i ? &gd->ptr : &gd->kbd;

		if (v->fd >= 0) {
			close(fds[i]);	/* ours is the same device */
			continue;
		}
		*v = got[i];
		v->fd = fds[i];
		fcntl(v->fd, F_SETFL, fcntl(v->fd, F_GETFL) | O_NONBLOCK);
		if (!i)
			watch_leds(in, g);
		released += release_all(v, i ? NULL : &gd->leds);
	}
	gd->buttons_down = 0;
	hostd_log("input: %s keeps %s and %s (from its backend; %u keys and "
		  "buttons released)", in->sw->vms[g].cfg->name,
		  gd->kbd.fd >= 0 ? gd->kbd.node : "-",
		  gd->ptr.fd >= 0 ? gd->ptr.node : "-", released);
	if (g == in->sw->router.active)
		show_leds(in, g);
	return 0;
out:
	for (unsigned int i = 0; i < n; i++)
		close(fds[i]);
	return r;
}
