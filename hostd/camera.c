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
 *   - every guest may open the camera (its frontend does at once, to make
 *     its node: the name and capabilities come from a QUERYCAP), and ask
 *     it what it is (QUERYCAP, formats, controls); only the owner gets
 *     buffers: its backend answers REQBUFS, CREATE_BUFS and read of any
 *     other guest EBUSY, as the driver answers a second program while
 *     one streams (vb2, uvcvideo), which camera programs report as "device
 *     busy";
 *   - each backend is told who owns each of its guest's capture devices
 *     (PD_DISP_CAMERA, include/paradice/pd_display.h) right after its
 *     HELLO, and again when a switch changes the owner;
 *   - when the camera leaves a guest, its backend takes that guest's
 *     files of the device away as an unplug does: its programs get
 *     ENODEV, their poll EPOLLERR | EPOLLHUP; the backend stops the real
 *     stream and frees its buffers, and the guest that gets the camera
 *     is told only after that, so no guest reaches another's frames;
 *   - nothing comes back by itself: when the guest owns the camera again
 *     a program opens it again (as after an unplug);
 *   - backends started by hand (no hostd) are not concerned: their
 *     guests own every device they were given, as before.
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

int hostd_camera_winner(const struct hostd_config *cfg, unsigned int from,
			unsigned int to)
{
	int after = hostd_camera_owner(cfg, to);

	return after != hostd_camera_owner(cfg, from) ? after : -1;
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

/* Tell guest g's backend, for each of its capture devices, whether g
 * owns it (why is for the log). */
static void tell(struct hostd_camera *c, unsigned int g, bool owned,
		 const char *why)
{
	const struct hostd_guest_config *gc = &c->sw->cfg->guests[g];
	int r;

	for (unsigned int i = 0; i < gc->ndevices; i++) {
		if (!is_camera(c, g, i))
			continue;
		r = hostd_display_camera(c->display, g, gc->devices[i], owned,
					 -ENODEV);
		hostd_log("camera: %s %s %s (%s)%s%s", gc->devices[i],
			  owned ? "goes to" : "is taken from", gc->name, why,
			  r ? ": " : "", r ? strerror(-r) : "");
	}
}

void hostd_camera_hello(void *data, unsigned int g)
{
	struct hostd_camera *c = data;
	const struct hostd_config *cfg = c->sw->cfg;
	int owner = hostd_camera_owner(cfg, c->sw->router.active);

	if (g >= cfg->nguests)
		return;
	tell(c, g, owner == (int)g, owner == (int)g ? "its backend came" :
	     cfg->camera.pinned ? "pinned to another guest" :
	     "not in front");
}

void hostd_camera_switched(void *data, unsigned int from, unsigned int to)
{
	struct hostd_camera *c = data;
	const struct hostd_config *cfg = c->sw->cfg;
	int loser = hostd_camera_loser(cfg, from, to);
	int winner = hostd_camera_winner(cfg, from, to);

	/* the loser first. Its backend frees the real queue soon after;
	 * a program of the winner's that asks before that gets EBUSY from
	 * the driver (the queue is still the loser's file's), as natively
	 * while another program still streams: never its buffers */
	if (loser >= 0)
		tell(c, (unsigned int)loser, false, "a switch");
	if (winner >= 0)
		tell(c, (unsigned int)winner, true, "a switch");
}
