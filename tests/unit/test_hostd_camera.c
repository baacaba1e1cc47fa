// SPDX-License-Identifier: GPL-2.0-only
/*
 * Who may use the camera (hostd/camera.c) and its configuration: by
 * default the guest in front owns it and nobody while dom0's entry is; a
 * switch takes it from the guest that loses it; [camera] owner pins it
 * to one guest, whom no switch takes it from; a non-owner's open is
 * refused with EBUSY; bad [camera] lines are refused with the line and
 * the reason. display.c's REVOKE is replaced by a recorder here.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "camera.h"
#include "config.h"
#include "display.h"
#include "switcher.h"
#include "tap.h"

static char err[512];

static int parse(struct hostd_config *cfg, const char *text)
{
	err[0] = '\0';
	return hostd_config_parse(cfg, "t.conf", text, err, sizeof(err));
}

/* display.c's, recorded */
static struct {
	unsigned int n, g;
	char path[256];
	int reason;
} revoked;

int hostd_display_revoke(struct hostd_display *d, unsigned int g,
			 const char *path, int reason)
{
	(void)d;
	revoked.n++;
	revoked.g = g;
	snprintf(revoked.path, sizeof(revoked.path), "%s", path);
	revoked.reason = reason;
	return 0;
}

static const char two[] =
	"[guest a]\ndevices = /dev/video0 /dev/null\n"
	"[guest b]\ndevices = /dev/video0\n";

static void test_foreground_owns_it_by_default(void)
{
	struct hostd_config cfg;

	CHECK_EQ(parse(&cfg, two), 0);
	CHECK_EQ(cfg.camera.pinned, 0);
	CHECK_EQ(hostd_camera_owner(&cfg, 0), 0);
	CHECK_EQ(hostd_camera_owner(&cfg, 1), 1);
	/* dom0's entry (index nguests) in front: nobody */
	CHECK_EQ(hostd_camera_owner(&cfg, 2), -1);
	/* a switch takes it from the guest going out, to a guest or to
	 * dom0; from dom0 nobody loses it */
	CHECK_EQ(hostd_camera_loser(&cfg, 0, 1), 0);
	CHECK_EQ(hostd_camera_loser(&cfg, 1, 0), 1);
	CHECK_EQ(hostd_camera_loser(&cfg, 1, 2), 1);
	CHECK_EQ(hostd_camera_loser(&cfg, 2, 0), -1);
	CHECK_EQ(hostd_camera_loser(&cfg, 0, 0), -1);
	hostd_config_finish(&cfg);

	/* said explicitly, the same */
	CHECK_EQ(parse(&cfg, "[camera]\nowner = foreground\n"
		       "[guest a]\ndevices = /dev/video0\n"), 0);
	CHECK_EQ(cfg.camera.pinned, 0);
	CHECK_EQ(hostd_camera_owner(&cfg, 0), 0);
	hostd_config_finish(&cfg);
}

static void test_pinned_owner_keeps_it(void)
{
	struct hostd_config cfg;

	/* the section may come before the guest it names */
	CHECK_EQ(parse(&cfg, "[camera]\nowner = b   # b's camera\n"
		       "[guest a]\ndevices = /dev/video0\n"
		       "[guest b]\ndevices = /dev/video0\n"), 0);
	CHECK_EQ(cfg.camera.pinned, 2);
	for (unsigned int active = 0; active <= 2; active++)
		CHECK_EQ(hostd_camera_owner(&cfg, active), 1);
	for (unsigned int from = 0; from <= 2; from++)
		for (unsigned int to = 0; to <= 2; to++)
			CHECK_EQ(hostd_camera_loser(&cfg, from, to), -1);
	hostd_config_finish(&cfg);
	/* a zeroed config (no parser) is the default */
	memset(&cfg, 0, sizeof(cfg));
	cfg.nguests = 1;
	CHECK_EQ(hostd_camera_owner(&cfg, 0), 0);
}

static void expect_error(const char *text, const char *want)
{
	struct hostd_config cfg;

	CHECK_EQ(parse(&cfg, text), -1);
	if (!strstr(err, want)) {
		printf("#   got '%s', want '%s'\n", err, want);
		CHECK(0);
	}
}

static void test_bad_camera_lines_are_refused(void)
{
	expect_error("[camera]\nowner = nobody\n[guest a]\n"
		     "devices = /dev/video0\n",
		     "t.conf:2: [camera] owner 'nobody' is no guest of this "
		     "file");
	expect_error("[camera]\nowner = a b\n[guest a]\ndevices = /dev/x\n",
		     "t.conf:2: [camera] owner 'a b' is neither foreground "
		     "nor a guest name");
	expect_error("[camera]\nowner = a\nowner = a\n[guest a]\n"
		     "devices = /dev/x\n", "t.conf:3: 'owner' set twice");
	expect_error("[camera]\nowner =\n[guest a]\ndevices = /dev/x\n",
		     "t.conf:2: 'owner' has no value");
	expect_error("[camera]\npin = a\n[guest a]\ndevices = /dev/x\n",
		     "t.conf:2: unknown key 'pin' in [camera] (want owner)");
	expect_error("[guest a]\ndevices = /dev/x\n[camera]\n[camera]\n",
		     "t.conf:4: a second [camera] section");
	expect_error("[camera]\nowner = host\n[guest a]\ndevices = /dev/x\n",
		     "t.conf:2: [camera] owner 'host' is no guest");
	expect_error("[cameras]\n", "unknown section [cameras] (want "
		     "[switch], [camera] or [guest NAME])");
}

static void setup(struct hostd_switcher *sw, struct hostd_config *cfg,
		  struct hostd_camera *c, unsigned int active)
{
	memset(sw, 0, sizeof(*sw));
	sw->cfg = cfg;
	sw->nvms = cfg->nguests;
	for (unsigned int i = 0; i < cfg->nguests; i++) {
		sw->vms[i].cfg = &cfg->guests[i];
		sw->vms[i].state = HOSTD_VM_RUNNING;
	}
	snprintf(sw->host_cfg.name, sizeof(sw->host_cfg.name), "host");
	sw->vms[cfg->nguests].cfg = &sw->host_cfg;
	sw->router.active = active;
	hostd_camera_init(c, sw, NULL);
}

static void test_a_switch_revokes_the_losers_camera(void)
{
	struct hostd_switcher sw;
	struct hostd_config cfg;
	struct hostd_camera c;

	CHECK_EQ(parse(&cfg, two), 0);
	setup(&sw, &cfg, &c, 0);
	/* a's /dev/video0 was found to be a capture device at its open;
	 * its /dev/null is none */
	c.kind[0][0] = 1;
	c.kind[0][1] = 2;
	memset(&revoked, 0, sizeof(revoked));
	hostd_camera_switched(&c, 0, 1);
	CHECK_EQ(revoked.n, 1);
	CHECK_EQ(revoked.g, 0);
	CHECK(!strcmp(revoked.path, "/dev/video0"));
	CHECK_EQ(revoked.reason, -ENODEV);
	/* b to dom0: b loses it, but b's device was never looked at and
	 * is no V4L2 file here: nothing to revoke */
	memset(&revoked, 0, sizeof(revoked));
	hostd_camera_switched(&c, 1, 2);
	CHECK_EQ(revoked.n, 0);
	/* dom0 to a: nobody loses it */
	hostd_camera_switched(&c, 2, 0);
	CHECK_EQ(revoked.n, 0);
	hostd_config_finish(&cfg);
}

static void test_only_capture_devices_are_refused(void)
{
	struct hostd_switcher sw;
	struct hostd_config cfg;
	struct hostd_camera c;
	int fd = open("/dev/null", O_RDONLY);

	CHECK_EQ(parse(&cfg, two), 0);
	setup(&sw, &cfg, &c, 1);
	/* a, in the background, may open what is no camera */
	CHECK(fd >= 0);
	CHECK(!hostd_camera_is_capture(fd));
	CHECK_EQ(hostd_camera_check_open(&c, 0, "/dev/null", fd), 0);
	CHECK_EQ(c.kind[0][1], 2);
	close(fd);
	hostd_config_finish(&cfg);
}

int main(void)
{
	RUN(test_foreground_owns_it_by_default);
	RUN(test_pinned_owner_keeps_it);
	RUN(test_bad_camera_lines_are_refused);
	RUN(test_a_switch_revokes_the_losers_camera);
	RUN(test_only_capture_devices_are_refused);
	return tap_done();
}
