// SPDX-License-Identifier: GPL-2.0-only
/*
 * The guest's control file (PD_WIRE_CLASS_CONTROL): its line to hostd,
 * include/paradice/pd_control.h. When hostd started us with a control
 * channel (PD_CONTROL_FD), the guest gets one export more, the last one,
 * that names no file of ours: each open of it makes a socketpair, sends
 * one end to hostd over the channel and keeps the other as the real
 * file behind the guest's handle. From then on the guest's reads, writes
 * and polls are the generic ones of ops.c on that socket; we never look
 * at what the guest says (hostd does, hostd/guestctl.c).
 *
 * After a hostd restart the channel is dead (its other end was the old
 * hostd's); the display link brings the new hostd a new one when it
 * reattaches (vkms/hostd_link.c, be_control_set_channel()), so the
 * guest's control file works again without its backend restarting.
 *
 * Only a frontend that offered PD_WIRE_FEAT_CONTROL sees the export
 * (be_exports_visible()): an older one would refuse the whole export list
 * for a class it does not know.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <paradice/pd_control.h>

#include "backend.h"
#include "fdpass.h"

/* be->control_fd: read by the workers' opens, replaced by the display
 * link's thread when it reattaches; the lock keeps an open from sending
 * on a descriptor number closed (and perhaps reused) meanwhile */
static pthread_mutex_t channel_lock = PTHREAD_MUTEX_INITIALIZER;

/* Send our guest's new file to hostd; 0 or -1 with errno. */
static int send_file(struct be *be, int fd)
{
	struct pd_ctl_open m = { .type = PD_CTL_OPEN };
	ssize_t n;
	int err;

	/* never wait for hostd: a hostd that does not read refuses the open */
	pthread_mutex_lock(&channel_lock);
	n = pd_send_fds(be->control_fd, &m, sizeof(m), &fd, 1, MSG_DONTWAIT);
	err = errno;
	pthread_mutex_unlock(&channel_lock);
	errno = err;
	return n == (ssize_t)sizeof(m) ? 0 : -1;
}

void be_control_set_channel(struct be *be, int fd)
{
	int old;

	pthread_mutex_lock(&channel_lock);
	old = be->control_fd;
	be->control_fd = fd;
	pthread_mutex_unlock(&channel_lock);
	if (old >= 0)
		close(old);
	be_log(be, "control: a new channel to hostd");
}

/* struct be_export's open: the guest opened its control file. */
static int control_open(struct be *be, int flags)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return -1;
	if (send_file(be, sv[1])) {
		int err = errno == EAGAIN ? EAGAIN : ENOTCONN;

		be_log(be, "control: cannot reach hostd: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		errno = err;
		return -1;
	}
	close(sv[1]);
	if (flags & O_NONBLOCK)
		fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
	return sv[0];
}

int be_control_init(struct be *be, struct be_export *e)
{
	const char *env = getenv(PD_CONTROL_FD_ENV);
	char *end;
	long fd;

	be->control_fd = -1;
	if (!env)
		return 0;
	fd = strtol(env, &end, 10);
	unsetenv(PD_CONTROL_FD_ENV);
	if (end == env || *end || fd < 0 || fd > 1 << 20 ||
	    fcntl((int)fd, F_SETFD, FD_CLOEXEC)) {
		be_log(be, "control: bad %s=%s", PD_CONTROL_FD_ENV, env);
		return 0;
	}
	be->control_fd = (int)fd;
	memset(e, 0, sizeof(*e));
	snprintf(e->path, sizeof(e->path), "(control)");
	snprintf(e->info.name, sizeof(e->info.name), "control");
	e->info.class = PD_WIRE_CLASS_CONTROL;
	e->info.driver = PD_WIRE_DRIVER_NONE;
	e->info.mode = 0600;
	e->open = control_open;
	return 1;
}

bool be_has_control(const struct be *be)
{
	return be->nexports && be->exports[be->nexports - 1].info.class ==
				       PD_WIRE_CLASS_CONTROL;
}

uint32_t be_exports_visible(const struct be *be)
{
	return be->nexports - (be_has_control(be) &&
			       !(be->features & PD_WIRE_FEAT_CONTROL));
}
