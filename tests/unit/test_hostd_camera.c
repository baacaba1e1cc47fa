// SPDX-License-Identifier: GPL-2.0-only
/*
 * Who may use the camera (hostd/camera.c) and its configuration: by
 * default the guest in front owns it and nobody while dom0's entry is; a
 * switch takes it from the guest that loses it first, then gives it to
 * the one that gets it; [camera] owner pins it to one guest, whom no
 * switch takes it from; a backend that says HELLO is told whether its
 * guest owns each capture device (and of nothing that is none); bad
 * [camera] lines are refused with the line and the reason. display.c's
 * CAMERA message is replaced by a recorder here.
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
static struct told {
	unsigned int g;
	char path[256];
	bool owned;
	int reason;
} told[8];
static unsigned int ntold;

int hostd_display_camera(struct hostd_display *d, unsigned int g,
			 const char *path, bool owned, int reason)
{
	(void)d;
	if (ntold < 8) {
		told[ntold].g = g;
		snprintf(told[ntold].path, sizeof(told[ntold].path), "%s",
			 path);
		told[ntold].owned = owned;
		told[ntold].reason = reason;
	}
	ntold++;
	return 0;
}

static bool was_told(unsigned int i, unsigned int g, const char *path,
		     bool owned)
{
	return i < ntold && told[i].g == g && !strcmp(told[i].path, path) &&
	       told[i].owned == owned && (owned || told[i].reason == -ENODEV);
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
	CHECK_EQ(hostd_camera_winner(&cfg, 0, 1), 1);
	CHECK_EQ(hostd_camera_winner(&cfg, 1, 2), -1);
	CHECK_EQ(hostd_camera_winner(&cfg, 2, 0), 0);
	CHECK_EQ(hostd_camera_winner(&cfg, 1, 1), -1);
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
		for (unsigned int to = 0; to <= 2; to++) {
			CHECK_EQ(hostd_camera_loser(&cfg, from, to), -1);
			CHECK_EQ(hostd_camera_winner(&cfg, from, to), -1);
		}
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
		     "[switch], [audio], [camera] or [guest NAME])");
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

static void test_a_switch_tells_the_loser_then_the_winner(void)
{
	struct hostd_switcher sw;
	struct hostd_config cfg;
	struct hostd_camera c;

	CHECK_EQ(parse(&cfg, two), 0);
	setup(&sw, &cfg, &c, 0);
	/* /dev/video0 was found to be a capture device (looked at once);
	 * a's /dev/null is none */
	c.kind[0][0] = c.kind[1][0] = 1;
	c.kind[0][1] = 2;
	ntold = 0;
	hostd_camera_switched(&c, 0, 1);
	CHECK_EQ(ntold, 2);
	CHECK(was_told(0, 0, "/dev/video0", false));
	CHECK(was_told(1, 1, "/dev/video0", true));
	/* b to dom0: b loses it, nobody gets it */
	ntold = 0;
	hostd_camera_switched(&c, 1, 2);
	CHECK_EQ(ntold, 1);
	CHECK(was_told(0, 1, "/dev/video0", false));
	/* dom0 to a: nobody loses it, a gets it */
	ntold = 0;
	hostd_camera_switched(&c, 2, 0);
	CHECK_EQ(ntold, 1);
	CHECK(was_told(0, 0, "/dev/video0", true));
	hostd_config_finish(&cfg);
}

static void test_a_backend_is_told_at_its_hello(void)
{
	struct hostd_switcher sw;
	struct hostd_config cfg;
	struct hostd_camera c;

	CHECK_EQ(parse(&cfg, two), 0);
	setup(&sw, &cfg, &c, 1);
	c.kind[0][0] = c.kind[1][0] = 1;
	c.kind[0][1] = 2;
	ntold = 0;
	hostd_camera_hello(&c, 0);
	hostd_camera_hello(&c, 1);
	CHECK_EQ(ntold, 2);
	CHECK(was_told(0, 0, "/dev/video0", false));
	CHECK(was_told(1, 1, "/dev/video0", true));
	/* a device not looked at yet that is no V4L2 file: nothing */
	c.kind[0][0] = 0;
	ntold = 0;
	hostd_camera_hello(&c, 0);
	CHECK_EQ(ntold, 0);
	CHECK_EQ(c.kind[0][0], 0);
	hostd_config_finish(&cfg);

	/* pinned to b: a is never told it has it, whoever is in front */
	CHECK_EQ(parse(&cfg, "[camera]\nowner = b\n" "[guest a]\n"
		       "devices = /dev/video0\n[guest b]\n"
		       "devices = /dev/video0\n"), 0);
	setup(&sw, &cfg, &c, 0);
	c.kind[0][0] = c.kind[1][0] = 1;
	ntold = 0;
	hostd_camera_hello(&c, 0);
	hostd_camera_hello(&c, 1);
	hostd_camera_switched(&c, 0, 1);
	hostd_camera_switched(&c, 1, 0);
	CHECK_EQ(ntold, 2);
	CHECK(was_told(0, 0, "/dev/video0", false));
	CHECK(was_told(1, 1, "/dev/video0", true));
	hostd_config_finish(&cfg);
}

static void test_only_capture_devices_count(void)
{
	int fd = open("/dev/null", O_RDONLY);

	CHECK(fd >= 0);
	CHECK(!hostd_camera_is_capture(fd));
	close(fd);
}

int main(void)
{
	RUN(test_foreground_owns_it_by_default);
	RUN(test_pinned_owner_keeps_it);
	RUN(test_bad_camera_lines_are_refused);
	RUN(test_a_switch_tells_the_loser_then_the_winner);
	RUN(test_a_backend_is_told_at_its_hello);
	RUN(test_only_capture_devices_count);
	return tap_done();
}
