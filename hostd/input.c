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
 */
#include <errno.h>
#include <fcntl.h>
#include <libevdev/libevdev-uinput.h>
#include <libevdev/libevdev.h>
#include <libinput.h>
#include <libudev.h>
#include <linux/input.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "hostd.h"

#define VIRTUAL_PREFIX "Paradice "
#define MAX_KEYBOARDS 16

struct guest_devs {
	struct libevdev_uinput *kbd, *ptr;
	unsigned int leds;		/* LIBINPUT_LED_* the guest set */
	unsigned int buttons_down;	/* bit per BTN_LEFT + n */
	double rest_x, rest_y;		/* sub-pixel motion not sent yet */
};

struct hostd_input {
	struct hostd *h;
	bool grab;
	struct udev *udev;
	struct libinput *li;
	struct libinput_device *keyboards[MAX_KEYBOARDS];
	unsigned int nkeyboards;
	struct guest_devs guests[HOSTD_MAX_GUESTS];
};

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
	if (in->grab && ioctl(fd, EVIOCGRAB, (void *)1) < 0)
		hostd_log("input: cannot grab %s (%s): %s", path, name,
			  strerror(errno));
	else
		hostd_log("input: %s %s (%s)", in->grab ? "grabbed" : "opened",
			  path, name);
	return fd;
}

static void close_restricted(int fd, void *data)
{
	(void)data;
	close(fd);
}

static const struct libinput_interface li_interface = {
	.open_restricted = open_restricted,
	.close_restricted = close_restricted,
};

static struct libevdev_uinput *make_device(const char *guest, bool pointer)
{
	struct libevdev *dev = libevdev_new();
	struct libevdev_uinput *ui = NULL;
	char name[128];
	int r;

	if (!dev)
		return NULL;
	snprintf(name, sizeof(name), VIRTUAL_PREFIX "%s %s", guest,
		 pointer ? "pointer" : "keyboard");
	libevdev_set_name(dev, name);
	libevdev_set_id_bustype(dev, BUS_VIRTUAL);
	libevdev_set_id_vendor(dev, 0x5044); /* "PD" */
	libevdev_set_id_product(dev, pointer ? 2 : 1);
	libevdev_enable_event_type(dev, EV_KEY);
	if (pointer) {
		libevdev_enable_event_type(dev, EV_REL);
		libevdev_enable_event_code(dev, EV_REL, REL_X, NULL);
		libevdev_enable_event_code(dev, EV_REL, REL_Y, NULL);
		libevdev_enable_event_code(dev, EV_REL, REL_WHEEL, NULL);
		libevdev_enable_event_code(dev, EV_REL, REL_HWHEEL, NULL);
		for (unsigned int b = BTN_LEFT; b <= BTN_TASK; b++)
			libevdev_enable_event_code(dev, EV_KEY, b, NULL);
	} else {
		for (unsigned int k = KEY_ESC; k <= KEY_MICMUTE; k++)
			libevdev_enable_event_code(dev, EV_KEY, k, NULL);
		libevdev_enable_event_type(dev, EV_LED);
		libevdev_enable_event_code(dev, EV_LED, LED_NUML, NULL);
		libevdev_enable_event_code(dev, EV_LED, LED_CAPSL, NULL);
		libevdev_enable_event_code(dev, EV_LED, LED_SCROLLL, NULL);
		libevdev_enable_event_type(dev, EV_REP);
	}
	r = libevdev_uinput_create_from_device(dev, LIBEVDEV_UINPUT_OPEN_MANAGED,
					       &ui);
	if (r < 0)
		hostd_log("input: cannot create %s: %s", name, strerror(-r));
	libevdev_free(dev);
	return r < 0 ? NULL : ui;
}

struct hostd_input *hostd_input_create(struct hostd *h, bool grab_physical)
{
	struct hostd_input *in = calloc(1, sizeof(*in));

	if (!in)
		return NULL;
	in->h = h;
	in->grab = grab_physical;
	for (unsigned int g = 0; g < h->nvms; g++) {
		struct guest_devs *gd = &in->guests[g];

		gd->kbd = make_device(h->vms[g].cfg->name, false);
		gd->ptr = make_device(h->vms[g].cfg->name, true);
		if (!gd->kbd || !gd->ptr)
			goto fail;
		hostd_log("input: %s gets %s and %s", h->vms[g].cfg->name,
			  libevdev_uinput_get_devnode(gd->kbd),
			  libevdev_uinput_get_devnode(gd->ptr));
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
	hostd_input_dispatch(in, libinput_get_fd(in->li));
	return in;
fail:
	hostd_input_destroy(in);
	return NULL;
}

void hostd_input_destroy(struct hostd_input *in)
{
	if (!in)
		return;
	for (unsigned int i = 0; i < in->nkeyboards; i++)
		libinput_device_unref(in->keyboards[i]);
	if (in->li)
		libinput_unref(in->li); /* closes and so ungrabs */
	if (in->udev)
		udev_unref(in->udev);
	for (unsigned int g = 0; g < HOSTD_MAX_GUESTS; g++) {
		if (in->guests[g].kbd)
			libevdev_uinput_destroy(in->guests[g].kbd);
		if (in->guests[g].ptr)
			libevdev_uinput_destroy(in->guests[g].ptr);
	}
	free(in);
}

unsigned int hostd_input_fds(struct hostd_input *in, int *fds, unsigned int max)
{
	unsigned int n = 0;

	if (!in)
		return 0;
	if (in->li && n < max)
		fds[n++] = libinput_get_fd(in->li);
	for (unsigned int g = 0; g < in->h->nvms && n < max; g++)
		if (in->guests[g].kbd)
			fds[n++] = libevdev_uinput_get_fd(in->guests[g].kbd);
	return n;
}

static void write_ev(struct libevdev_uinput *ui, unsigned int type,
		     unsigned int code, int value)
{
	if (ui && libevdev_uinput_write_event(ui, type, code, value) < 0)
		hostd_log("input: write to %s failed",
			  libevdev_uinput_get_devnode(ui));
}

void hostd_input_key(struct hostd_input *in, unsigned int g, unsigned int code,
		     int value)
{
	if (!in)
		return;
	write_ev(in->guests[g].kbd, EV_KEY, code, value);
}

void hostd_input_sync(struct hostd_input *in, unsigned int g)
{
	if (!in)
		return;
	write_ev(in->guests[g].kbd, EV_SYN, SYN_REPORT, 0);
}

static void show_leds(struct hostd_input *in, unsigned int g)
{
	for (unsigned int i = 0; i < in->nkeyboards; i++)
		libinput_device_led_update(in->keyboards[i],
					   (enum libinput_led)in->guests[g].leds);
}

void hostd_input_switched(struct hostd_input *in, unsigned int from,
			  unsigned int to)
{
	struct guest_devs *gd;

	if (!in)
		return;
	gd = &in->guests[from];
	if (gd->buttons_down) {
		for (unsigned int b = 0; b < 32; b++)
			if (gd->buttons_down & (1u << b))
				write_ev(gd->ptr, EV_KEY, BTN_LEFT + b, 0);
		write_ev(gd->ptr, EV_SYN, SYN_REPORT, 0);
		gd->buttons_down = 0;
	}
	show_leds(in, to);
}

static void pointer_event(struct hostd_input *in, struct libinput_event *ev,
			  enum libinput_event_type type)
{
	struct libinput_event_pointer *p = libinput_event_get_pointer_event(ev);
	unsigned int g = in->h->router.active;
	struct guest_devs *gd = &in->guests[g];

	switch (type) {
	case LIBINPUT_EVENT_POINTER_MOTION: {
		double x = libinput_event_pointer_get_dx_unaccelerated(p) + gd->rest_x;
		double y = libinput_event_pointer_get_dy_unaccelerated(p) + gd->rest_y;
		int ix = (int)x, iy = (int)y;

		gd->rest_x = x - ix;
		gd->rest_y = y - iy;
		if (ix)
			write_ev(gd->ptr, EV_REL, REL_X, ix);
		if (iy)
			write_ev(gd->ptr, EV_REL, REL_Y, iy);
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
		write_ev(gd->ptr, EV_KEY, b, down);
		break;
	}
	case LIBINPUT_EVENT_POINTER_SCROLL_WHEEL: {
		if (libinput_event_pointer_has_axis(p, LIBINPUT_POINTER_AXIS_SCROLL_VERTICAL)) {
			double v = libinput_event_pointer_get_scroll_value_v120(
				p, LIBINPUT_POINTER_AXIS_SCROLL_VERTICAL);
			write_ev(gd->ptr, EV_REL, REL_WHEEL, (int)(-v / 120));
		}
		if (libinput_event_pointer_has_axis(p, LIBINPUT_POINTER_AXIS_SCROLL_HORIZONTAL)) {
			double v = libinput_event_pointer_get_scroll_value_v120(
				p, LIBINPUT_POINTER_AXIS_SCROLL_HORIZONTAL);
			write_ev(gd->ptr, EV_REL, REL_HWHEEL, (int)(v / 120));
		}
		break;
	}
	default:
		return;
	}
	write_ev(gd->ptr, EV_SYN, SYN_REPORT, 0);
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
				   in->guests[in->h->router.active].leds);
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

			hostd_router_key(&in->h->router,
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
	ssize_t n = read(libevdev_uinput_get_fd(in->guests[g].kbd), ev, sizeof(ev));
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
	if (in->guests[g].leds != before && g == in->h->router.active)
		show_leds(in, g);
}

void hostd_input_dispatch(struct hostd_input *in, int fd)
{
	if (in->li && fd == libinput_get_fd(in->li)) {
		dispatch_libinput(in);
		return;
	}
	for (unsigned int g = 0; g < in->h->nvms; g++)
		if (in->guests[g].kbd && fd == libevdev_uinput_get_fd(in->guests[g].kbd))
			dispatch_leds(in, g);
}

const char *hostd_input_guest_node(struct hostd_input *in, unsigned int g,
				   bool pointer)
{
	struct libevdev_uinput *ui = pointer ? in->guests[g].ptr : in->guests[g].kbd;

	return ui ? libevdev_uinput_get_devnode(ui) : NULL;
}
