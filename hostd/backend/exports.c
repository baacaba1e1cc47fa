// SPDX-License-Identifier: GPL-2.0-only
/*
 * What a device file is, from the host's own view of it: the subsystem of
 * its character device in sysfs gives the class, DRM_IOCTL_VERSION the
 * driver (which selects the driver-private ioctl table), its file name the
 * name the guest's node is modelled on.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "backend.h"	/* first: pd_compat.h defines __user */
#include <drm/drm.h>

static int subsystem_of(dev_t rdev, char *out, size_t len)
{
	char link[128], target[256];
	ssize_t n;

	snprintf(link, sizeof(link), "/sys/dev/char/%u:%u/subsystem",
		 major(rdev), minor(rdev));
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return -1;
	target[n] = 0;
	snprintf(out, len, "%s", basename(target));
	return 0;
}

static uint16_t drm_driver_of(const char *path)
{
	char name[64] = "";
	struct drm_version v = { .name = name, .name_len = sizeof(name) - 1 };
	int fd = open(path, O_RDWR | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return PD_WIRE_DRIVER_DRM_GENERIC;
	ret = ioctl(fd, DRM_IOCTL_VERSION, &v);
	close(fd);
	if (ret)
		return PD_WIRE_DRIVER_DRM_GENERIC;
	if (!strcmp(name, "vgem"))
		return PD_WIRE_DRIVER_DRM_VGEM;
	if (!strcmp(name, "virtio_gpu"))
		return PD_WIRE_DRIVER_DRM_VIRTGPU;
	if (!strcmp(name, "radeon"))
		return PD_WIRE_DRIVER_DRM_RADEON;
	if (!strcmp(name, "amdgpu"))
		return PD_WIRE_DRIVER_DRM_AMDGPU;
	return PD_WIRE_DRIVER_DRM_GENERIC;
}

/* Fill e for the device file at path; -1 with errno if it is none we
 * forward. */
int be_export_describe(const char *path, struct be_export *e)
{
	char sub[64], buf[256];
	const char *name;
	struct stat st;

	memset(e, 0, sizeof(*e));
	if (strlen(path) >= sizeof(e->path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (stat(path, &st))
		return -1;
	if (!S_ISCHR(st.st_mode) || subsystem_of(st.st_rdev, sub, sizeof(sub))) {
		errno = ENODEV;
		return -1;
	}
	strcpy(e->path, path);
	snprintf(buf, sizeof(buf), "%s", path);
	name = basename(buf);
	if (strlen(name) >= PD_WIRE_NAME_LEN) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(e->info.name, name);
	e->info.mode = st.st_mode & 0777;
	e->info.driver = PD_WIRE_DRIVER_NONE;
	if (!strcmp(sub, "drm")) {
		e->info.class = PD_WIRE_CLASS_DRM;
		e->info.driver = drm_driver_of(path);
	} else if (!strcmp(sub, "input") && !strncmp(name, "event", 5)) {
		e->info.class = PD_WIRE_CLASS_EVDEV;
	} else if (!strcmp(sub, "video4linux")) {
		e->info.class = PD_WIRE_CLASS_V4L2;
	} else if (!strcmp(sub, "sound") && !strncmp(name, "controlC", 8)) {
		e->info.class = PD_WIRE_CLASS_SND_CTL;
	} else if (!strcmp(sub, "sound") && !strncmp(name, "pcmC", 4)) {
		e->info.class = PD_WIRE_CLASS_SND_PCM;
	} else if (!strcmp(sub, "sound") && !strcmp(name, "timer")) {
		e->info.class = PD_WIRE_CLASS_SND_TIMER;
	} else {
		errno = ENOTSUP;
		return -1;
	}
	return 0;
}
