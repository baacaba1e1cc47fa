// SPDX-License-Identifier: GPL-2.0-only
/*
 * The device-file broker: a backend that hostd started runs as its guest's
 * own user with no capabilities (hostd/backend/confine.c) and cannot open
 * dom0's device files; it asks hostd over its display connection
 * (PD_DISP_OPEN, pd_display.h), and hostd opens the file for it, as seatd
 * and logind do for a compositor, and sends the descriptor back
 * (display.c answers OPENED).
 *
 * What must hold: a guest's backend gets only its own guest's files: the
 * paths its section of the configuration lists and the virtual keyboard
 * and pointer hostd made for that guest, compared byte for byte (no
 * canonicalisation: the backend asks for the very strings it was given);
 * only character devices; never a file's descriptor opened for more than
 * the access mode asked. The request is the backend's, which a guest may
 * have subverted: every field is checked here, before anything is opened.
 * An open never waits in hostd's loop: O_NONBLOCK always (the backend
 * clears it when its guest did not ask for it).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <paradice/pd_display.h>

#include "broker.h"
#include "log.h"

int hostd_broker_check(const struct hostd_guest_config *g,
		       const char *const *extra, unsigned int nextra,
		       const char *untrusted_path, size_t path_len,
		       uint32_t flags, int *oflags)
{
	size_t len = strnlen(untrusted_path, path_len);
	bool mine = false;

	if ((flags & ~(PD_DISP_OPEN_ACCMODE | PD_DISP_OPEN_NONBLOCK)) ||
	    (flags & PD_DISP_OPEN_ACCMODE) == 3 || len == path_len || !len)
		return -EINVAL;
	for (size_t i = len; i < path_len; i++)
		if (untrusted_path[i])
			return -EINVAL;
	for (unsigned int i = 0; i < g->ndevices && !mine; i++)
		mine = !strcmp(untrusted_path, g->devices[i]);
	for (unsigned int i = 0; extra && i < nextra && !mine; i++)
		mine = extra[i] && !strcmp(untrusted_path, extra[i]);
	if (!mine)
		return -EACCES;
	switch (flags & PD_DISP_OPEN_ACCMODE) {
	case 0:
		*oflags = O_RDONLY;
		break;
	case 1:
		*oflags = O_WRONLY;
		break;
	default:
		*oflags = O_RDWR;
		break;
	}
	*oflags |= O_NONBLOCK | O_CLOEXEC | O_NOCTTY;
	return 0;
}

int hostd_broker_open(const struct hostd_guest_config *g,
		      const char *const *extra, unsigned int nextra,
		      const char *untrusted_path, size_t path_len,
		      uint32_t flags)
{
	int oflags, fd, r;
	struct stat st;

	r = hostd_broker_check(g, extra, nextra, untrusted_path, path_len,
			       flags, &oflags);
	if (r == -EINVAL) {
		hostd_log("broker: %s: malformed OPEN (flags %#x)", g->name,
			  flags);
		return r;
	}
	if (r) {
		hostd_log("broker: %s asked for %.*s, which is not one of its "
			  "devices: refused", g->name, (int)strnlen(untrusted_path,
			  path_len), untrusted_path);
		return r;
	}
	fd = open(untrusted_path, oflags);
	if (fd < 0) {
		r = -errno;
		hostd_log("broker: %s: %s: %s", g->name, untrusted_path,
			  strerror(errno));
		return r;
	}
	if (fstat(fd, &st) || !S_ISCHR(st.st_mode)) {
		hostd_log("broker: %s: %s is not a character device: refused",
			  g->name, untrusted_path);
		close(fd);
		return -ENODEV;
	}
	return fd;
}
