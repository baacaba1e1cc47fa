// SPDX-License-Identifier: GPL-2.0-only
/*
 * The backend's side of a hostd restart (hostd/backend/display.c,
 * pd_display.h "hostd restarted"): the first HELLO on the socketpair
 * hostd gave names the guest and carries no descriptors; when that
 * connection closes, the backend connects to the listening socket of the
 * next hostd and sends a REATTACH HELLO with the guest's uinput
 * descriptors (here: pipes, checked to be the very files it was given);
 * when that one is refused (closed at once), it comes again.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef __user
#define __user
#endif
#include <drm/drm.h>
#include <paradice/pd_display.h>

#include "backend.h"
#include "display.h"
#include "tap.h"

static struct be be;

/* One HELLO from the backend on s (waits); returns how many descriptors
 * came with it, in fds. */
static unsigned int get_hello(int s, struct pd_disp_hello *m, int *fds)
{
	struct {
		struct pd_disp_hdr hdr;
		struct pd_disp_hello m;
	} b;
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * 4)];
	} ctl;
	struct iovec iov = { &b, sizeof(b) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = ctl.buf,
			      .msg_controllen = sizeof(ctl.buf) };
	unsigned int n = 0;

	CHECK_EQ(recvmsg(s, &msg, 0), (ssize_t)sizeof(b));
	CHECK_EQ(b.hdr.type, PD_DISP_HELLO);
	CHECK_EQ(b.hdr.len, sizeof(b.m));
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c;
	     c = CMSG_NXTHDR(&msg, c)) {
		CHECK_EQ(c->cmsg_type, SCM_RIGHTS);
		n = (unsigned int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		memcpy(fds, CMSG_DATA(c), n * sizeof(int));
	}
	*m = b.m;
	return n;
}

static bool same_file(int a, int b)
{
	struct stat x, y;

	return !fstat(a, &x) && !fstat(b, &y) && x.st_dev == y.st_dev &&
	       x.st_ino == y.st_ino;
}

static void test_hello_then_reattach_with_the_input_files(void)
{
	char path[108], env[32];
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct pd_disp_hello m;
	int sv[2], kbd[2], ptr[2], lis, s, fds[4];

	CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0);
	CHECK(pipe(kbd) == 0 && pipe(ptr) == 0);
	snprintf(env, sizeof(env), "%d", sv[1]);
	setenv(PD_DISPLAY_FD_ENV, env, 1);
	snprintf(env, sizeof(env), "%d,%d", kbd[0], ptr[0]);
	setenv(PD_DISPLAY_INPUT_ENV, env, 1);
	snprintf(path, sizeof(path), "/tmp/pd-test-be-display-%d.sock",
		 (int)getpid());
	be_display_set_socket(path);
	be.name = "guest7";
	be.domid = 7;
	CHECK_EQ(be_display_start(&be), 0);
	CHECK(getenv(PD_DISPLAY_INPUT_ENV) == NULL);

	/* the hostd that started it: names the guest, no descriptors */
	CHECK_EQ(get_hello(sv[0], &m, fds), 0);
	CHECK_EQ(m.version, PD_DISPLAY_VERSION);
	CHECK_EQ(m.flags, 0);
	CHECK_EQ(m.domid, 7);
	CHECK_EQ(m.ninput, 0);
	CHECK(!strcmp(m.guest, "guest7"));

	/* a new hostd listens, the old one goes */
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	unlink(path);
	lis = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	CHECK(bind(lis, (struct sockaddr *)&a, sizeof(a)) == 0);
	CHECK(listen(lis, 4) == 0);
	close(sv[0]);
	for (int round = 0; round < 2; round++) {
		s = accept(lis, NULL, NULL);
		CHECK(s >= 0);
		CHECK_EQ(get_hello(s, &m, fds), 2);
		CHECK_EQ(m.flags, PD_DISP_HELLO_REATTACH);
		CHECK_EQ(m.ninput, 2);
		CHECK_EQ(m.domid, 7);
		CHECK(!strcmp(m.guest, "guest7"));
		CHECK(same_file(fds[0], kbd[0]));
		CHECK(same_file(fds[1], ptr[0]));
		close(fds[0]);
		close(fds[1]);
		/* no state was set: nothing follows the HELLO */
		{
			char c;

			CHECK(recv(s, &c, 1, MSG_DONTWAIT) < 0 &&
			      errno == EAGAIN);
		}
		close(s);	/* refused: it comes again */
	}
	close(lis);
	unlink(path);
}

/* With hostd (the display started above), client caps go to the guest's
 * real file, the atomic one too (fd -1 here: EBADF shows it got there). */
static void test_client_caps_reach_the_card(void)
{
	struct be_handle h = { .handle = 1, .fd = -1,
			       .dev_class = PD_WIRE_CLASS_DRM };
	struct drm_set_client_cap atomic = { DRM_CLIENT_CAP_ATOMIC, 1 };
	int ret = 0;

	CHECK(be_display_screens(&h));
	CHECK(be_display_ioctl(&be, &h, DRM_IOCTL_SET_CLIENT_CAP, &atomic,
			       &ret));
	CHECK_EQ(ret, -1);
	CHECK_EQ(errno, EBADF);
}

int main(void)
{
	RUN(test_hello_then_reattach_with_the_input_files);
	RUN(test_client_caps_reach_the_card);
	return tap_done();
}
