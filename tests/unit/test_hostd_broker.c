// SPDX-License-Identifier: GPL-2.0-only
/*
 * hostd's device-file broker (hostd/broker.c): a confined backend gets
 * exactly its guest's configured files and virtual input devices, byte
 * for byte, opened non-blocking for no more than the access it asked;
 * everything else is refused before anything is opened: another path
 * (prefixes, suffixes, dot-dot spellings, another guest's), bad flags,
 * an unterminated or padded-with-garbage path, a file that is not a
 * character device.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <paradice/pd_display.h>

#include "broker.h"
#include "tap.h"

static struct hostd_guest_config guest(char **devices, unsigned int n)
{
	struct hostd_guest_config g = { .name = "work", .ndevices = n };

	for (unsigned int i = 0; i < n; i++)
		g.devices[i] = devices[i];
	return g;
}

static int check(const struct hostd_guest_config *g, const char *const *x,
		 const char *path, uint32_t flags, int *oflags)
{
	char buf[PD_DISPLAY_PATH_MAX] = { 0 };

	strncpy(buf, path, sizeof(buf) - 1);
	return hostd_broker_check(g, x, 2, buf, sizeof(buf), flags, oflags);
}

static void test_paths(void)
{
	char *devs[] = { "/dev/dri/card0", "/dev/snd/pcmC0D0p" };
	struct hostd_guest_config g = guest(devs, 2);
	const char *extra[2] = { "/dev/input/event7", NULL };
	int fl = 0;

	CHECK_EQ(check(&g, extra, "/dev/dri/card0", 2, &fl), 0);
	CHECK_EQ(fl, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	CHECK_EQ(check(&g, extra, "/dev/snd/pcmC0D0p",
		       1 | PD_DISP_OPEN_NONBLOCK, &fl), 0);
	CHECK_EQ(fl, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	CHECK_EQ(check(&g, extra, "/dev/input/event7", 0, &fl), 0);
	CHECK_EQ(fl, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	/* only those strings */
	CHECK_EQ(check(&g, extra, "/dev/dri/card01", 2, &fl), -EACCES);
	CHECK_EQ(check(&g, extra, "/dev/dri/card", 2, &fl), -EACCES);
	CHECK_EQ(check(&g, extra, "/dev/dri/card0/", 2, &fl), -EACCES);
	CHECK_EQ(check(&g, extra, "/dev/dri/../dri/card0", 2, &fl), -EACCES);
	CHECK_EQ(check(&g, extra, "//dev/dri/card0", 2, &fl), -EACCES);
	CHECK_EQ(check(&g, extra, "/dev/input/event8", 0, &fl), -EACCES);
	CHECK_EQ(check(&g, extra, "/dev/mem", 2, &fl), -EACCES);
	CHECK_EQ(check(&g, NULL, "/dev/input/event7", 0, &fl), -EACCES);
}

static void test_malformed(void)
{
	char *devs[] = { "/dev/dri/card0" };
	struct hostd_guest_config g = guest(devs, 1);
	char buf[PD_DISPLAY_PATH_MAX];
	int fl = 0;

	CHECK_EQ(check(&g, NULL, "/dev/dri/card0", 3, &fl), -EINVAL);
	CHECK_EQ(check(&g, NULL, "/dev/dri/card0", 8, &fl), -EINVAL);
	CHECK_EQ(check(&g, NULL, "/dev/dri/card0", 1u << 31, &fl), -EINVAL);
	CHECK_EQ(check(&g, NULL, "", 0, &fl), -EINVAL);
	/* no NUL within the buffer */
	memset(buf, 'a', sizeof(buf));
	CHECK_EQ(hostd_broker_check(&g, NULL, 0, buf, sizeof(buf), 0, &fl),
		 -EINVAL);
	/* a configured path, then something after its NUL */
	memset(buf, 0, sizeof(buf));
	strcpy(buf, "/dev/dri/card0");
	buf[100] = 'x';
	CHECK_EQ(hostd_broker_check(&g, NULL, 0, buf, sizeof(buf), 0, &fl),
		 -EINVAL);
}

/* The open itself: a character device, non-blocking, the access asked;
 * a configured file that is not one is refused after the open. */
static void test_open(void)
{
	char tmp[] = "/tmp/pd-broker-XXXXXX";
	int t = mkstemp(tmp);
	char *devs[] = { "/dev/null", tmp, "/nonexistent/pd-dev" };
	struct hostd_guest_config g = guest(devs, 3);
	char buf[PD_DISPLAY_PATH_MAX] = "/dev/null";
	int fd;

	CHECK(t >= 0);
	fd = hostd_broker_open(&g, NULL, 0, buf, sizeof(buf), 1);
	CHECK(fd >= 0);
	if (fd >= 0) {
		int fl = fcntl(fd, F_GETFL);

		CHECK_EQ(fl & O_ACCMODE, O_WRONLY);
		CHECK(fl & O_NONBLOCK);
		CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
		close(fd);
	}
	memset(buf, 0, sizeof(buf));
	strcpy(buf, tmp);
	CHECK_EQ(hostd_broker_open(&g, NULL, 0, buf, sizeof(buf), 0), -ENODEV);
	memset(buf, 0, sizeof(buf));
	strcpy(buf, "/nonexistent/pd-dev");
	CHECK_EQ(hostd_broker_open(&g, NULL, 0, buf, sizeof(buf), 0), -ENOENT);
	memset(buf, 0, sizeof(buf));
	strcpy(buf, "/dev/zero");
	CHECK_EQ(hostd_broker_open(&g, NULL, 0, buf, sizeof(buf), 0), -EACCES);
	if (t >= 0) {
		close(t);
		unlink(tmp);
	}
}

int main(void)
{
	RUN(test_paths);
	RUN(test_malformed);
	RUN(test_open);
	return tap_done();
}
