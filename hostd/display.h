/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * display.c: the DRM master of the card; shows the foreground guest's
 * display state, paces background guests' flips (pd_display.h).
 */
#ifndef HOSTD_DISPLAY_H
#define HOSTD_DISPLAY_H

#include <stdbool.h>
#include <stdint.h>

struct hostd_display;
struct hostd_poller;
struct hostd_switcher;
struct pd_disp_hello;
struct pd_disp_open;

/* card: the DRM card to be master of, NULL for none. Sets the
 * switcher's show hook; watches its descriptors in p. */
struct hostd_display *hostd_display_create(struct hostd_switcher *sw,
					   struct hostd_poller *p,
					   const char *card);
void hostd_display_destroy(struct hostd_display *d);
/* Without a card (tests): the CRTC ids backends may name. */
void hostd_display_set_crtcs(struct hostd_display *d, const uint32_t *ids,
			     unsigned int n);
/* A new connection for guest g's next backend (its old state goes): the
 * backend's end, close-on-exec (the child clears that), or -1. */
int hostd_display_backend_fd(struct hostd_display *d, unsigned int g);
/* What the card answers DIRTYFB with (0 or -ENOSYS), for the backends. */
int hostd_display_dirtyfb(const struct hostd_display *d);
/* A reattached backend's connection for guest g, its HELLO taken
 * (reattach.c): 0, or -EBUSY if g has a connection. sock -1: only ask. */
int hostd_display_attach(struct hostd_display *d, unsigned int g, int sock);
/* Who opens the device files guest g's backend asks for (PD_DISP_OPEN):
 * fn returns a descriptor (display.c sends it and closes it) or -errno. */
void hostd_display_set_broker(struct hostd_display *d,
			      int (*fn)(void *data, unsigned int g,
					const struct pd_disp_open *m),
			      void *data);
/* Tell guest g's backend whether its guest owns the capture device path
 * (PD_DISP_CAMERA, camera.c; reason: what its files get when not): 0,
 * -ENOTCONN (no backend connected) or -errno of the send; never waits. */
int hostd_display_camera(struct hostd_display *d, unsigned int g,
			 const char *path, bool owned, int reason);
/* Called with guest g once its backend's HELLO is taken (a new backend,
 * its next server, or a reattached one): camera.c's state goes to it. */
void hostd_display_set_hello_hook(struct hostd_display *d,
				  void (*fn)(void *data, unsigned int g),
				  void *data);
/* Does a HELLO name guest g (its name, NUL-padded, and its domain)? */
bool hostd_display_hello_names(const struct hostd_switcher *sw,
			       const struct pd_disp_hello *m, unsigned int g);

#endif /* HOSTD_DISPLAY_H */
