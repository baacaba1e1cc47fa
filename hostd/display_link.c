// SPDX-License-Identifier: GPL-2.0-only
/*
 * What else travels on a backend's display link (pd_display.h) besides
 * its guest's display: the broker's OPENs (its hook; display.c answers
 * them), the camera's owner (PD_DISP_CAMERA, camera.c) and the hook that
 * hands camera.c each backend whose HELLO was taken. display.c's state
 * (display_priv.h); calls nothing of hostd's.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include <paradice/pd_display.h>

#include "display.h"
#include "display_priv.h"

void hostd_display_set_hello_hook(struct hostd_display *d,
				  void (*fn)(void *data, unsigned int g),
				  void *data)
{
	d->hello_hook = fn;
	d->hello_data = data;
}

void hostd_display_hello_taken(struct hostd_display *d, unsigned int g)
{
	if (d->hello_hook)
		d->hello_hook(d->hello_data, g);
}

void hostd_display_set_broker(struct hostd_display *d,
			      int (*fn)(void *data, unsigned int g,
					const struct pd_disp_open *m),
			      void *data)
{
	d->broker = fn;
	d->broker_data = data;
}

int hostd_display_camera(struct hostd_display *d, unsigned int g,
			 const char *path, bool owned, int reason)
{
	struct {
		struct pd_disp_hdr hdr;
		struct pd_disp_camera r;
	} m = { .hdr = { .type = PD_DISP_CAMERA, .len = sizeof(m.r) } };

	if (!d || g >= HOSTD_MAX_GUESTS || d->g[g].sock < 0 || !d->g[g].hello)
		return -ENOTCONN;
	if (strlen(path) >= sizeof(m.r.path))
		return -ENAMETOOLONG;
	m.r.owned = owned;
	m.r.reason = owned ? 0 : reason;
	memcpy(m.r.path, path, strlen(path));
	if (send(d->g[g].sock, &m, sizeof(m), MSG_DONTWAIT | MSG_NOSIGNAL) !=
	    (ssize_t)sizeof(m))
		return -errno;
	return 0;
}
