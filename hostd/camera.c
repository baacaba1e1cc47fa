// SPDX-License-Identifier: GPL-2.0-only
/*
 * The camera follows the person. A V4L2 capture stream has one owner at a
 * time (vb2 ties a queue to the file that made its buffers), and two
 * guests given one camera could at best take it from each other at
 * random. So hostd decides who may use it: by default the guest in front
 * (none while dom0's entry is), or always the guest paradice.conf's
 * `[camera] owner` names. A capture device is a character device of
 * V4L2's major whose QUERYCAP says video capture (a guest's other V4L2
 * files, an output or a radio, are left alone).
 *
 * What must hold:
 *   - a guest that does not own the camera cannot open it: the broker's
 *     open of a capture device for it is refused with EBUSY (as a device
 *     in use), and logged;
 *   - when a switch moves the camera away from a guest, that guest's
 *     backend is told (REVOKE, include/paradice/pd_display.h) to take its
 *     files of each capture device away as an unplug does: the guest's
 *     programs get ENODEV, their poll EPOLLERR | EPOLLHUP; the backend
 *     stops the real stream and frees its buffers before the new owner's
 *     program can open the device, so no guest reaches another's frames;
 *   - nothing comes back by itself: when the guest is in front again it
 *     may open the camera again (a program reopens it, as after an
 *     unplug);
 *   - backends started by hand (no hostd) are not concerned: nobody
 *     revokes their files.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <linux/videodev2.h>

#include "camera.h"
#include "display.h"
#include "log.h"
#include "switcher.h"

#define V4L2_MAJOR	81

int hostd_camera_owner(const struct hostd_config *cfg, unsigned int active)
{
	if (cfg->camera.pinned && cfg->camera.pinned <= cfg->nguests)
		return (int)cfg->camera.pinned - 1;
	if (cfg->camera.pinned)
		return -1;	/* not from the parser: nobody */
	return active < cfg->nguests ? (int)active : -1;
}

int hostd_camera_loser(const struct hostd_config *cfg, unsigned int from,
		       unsigned int to)
{
	int before = hostd_camera_owner(cfg, from);

	return before != hostd_camera_owner(cfg, to) ? before : -1;
}

bool hostd_camera_is_capture(int fd)
{
	struct v4l2_capability cap;
	struct stat st;
	uint32_t caps;

	if (fstat(fd, &st) || !S_ISCHR(st.st_mode) ||
	    major(st.st_rdev) != V4L2_MAJOR)
		return false;
	memset(&cap, 0, sizeof(cap));
	if (ioctl(fd, VIDIOC_QUERYCAP, &cap))
		return false;
	caps = (cap.capabilities & V4L2_CAP_DEVICE_CAPS) ? cap.device_caps :
							     cap.capabilities;
	return caps & (V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_VIDEO_CAPTURE_MPLANE);
}

void hostd_camera_init(struct hostd_camera *c, struct hostd_switcher *sw,
		       struct hostd_display *display)
{
	memset(c, 0, sizeof(*c));
	c->sw = sw;
	c->display = display;
}

/* Guest g's device index of path, or -1. */
static int device_index(const struct hostd_guest_config *g, const char *path)
{
	for (unsigned int i = 0; i < g->ndevices; i++)
		if (!strcmp(g->devices[i], path))
			return (int)i;
	return -1;
}

static const char *vm_name(const struct hostd_camera *c, int i)
{
	if (i < 0)
		return "nobody (dom0 is in front)";
	return c->sw->vms[i].cfg->name;
}

int hostd_camera_check_open(struct hostd_camera *c, unsigned int g,
			    const char *path, int fd)
{
	const struct hostd_config *cfg = c->sw->cfg;
	int i = g < cfg->nguests ? device_index(&cfg->guests[g], path) : -1;
	bool capture = hostd_camera_is_capture(fd);
	int owner;

	if (i >= 0)
		c->kind[g][i] = capture ? 1 : 2;
	if (!capture)
		return 0;
	owner = hostd_camera_owner(cfg, c->sw->router.active);
	if (owner == (int)g)
		return 0;
	hostd_log("camera: %s asked for %s, which %s uses now: refused "
		  "(EBUSY)%s", cfg->guests[g].name, path, vm_name(c, owner),
		  cfg->camera.pinned ? " ([camera] owner pins it)" : "");
	return -EBUSY;
}

/* Is guest g's device i a capture device? Looked at once. */
static bool is_camera(struct hostd_camera *c, unsigned int g, unsigned int i)
{
	const char *path = c->sw->cfg->guests[g].devices[i];
	struct stat st;
	int fd;

	if (c->kind[g][i])
		return c->kind[g][i] == 1;
	/* no open of what is no V4L2 file (an open may have effects) */
	if (stat(path, &st) || !S_ISCHR(st.st_mode) ||
	    major(st.st_rdev) != V4L2_MAJOR)
		return false;	/* not kept: it may appear later */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return false;
	c->kind[g][i] = hostd_camera_is_capture(fd) ? 1 : 2;
	close(fd);
	return c->kind[g][i] == 1;
}

void hostd_camera_switched(void *data, unsigned int from, unsigned int to)
{
	struct hostd_camera *c = data;
	const struct hostd_config *cfg = c->sw->cfg;
	int loser = hostd_camera_loser(cfg, from, to);
	const struct hostd_guest_config *g;
	int r;

	if (loser < 0)
		return;
	g = &cfg->guests[loser];
	for (unsigned int i = 0; i < g->ndevices; i++) {
		if (!is_camera(c, (unsigned int)loser, i))
			continue;
		r = hostd_display_revoke(c->display, (unsigned int)loser,
					 g->devices[i], -ENODEV);
		hostd_log("camera: %s goes to %s; %s's files of it revoked%s%s",
			  g->devices[i], vm_name(c, hostd_camera_owner(cfg, to)),
			  g->name, r ? ": " : "", r ? strerror(-r) : "");
	}
}
