// SPDX-License-Identifier: GPL-2.0-only
/*
 * The vkms's link to hostd (include/paradice/pd_display.h): HELLO on the
 * connection hostd gave us, the state of the guest's display as it
 * changes (vkms_send()), and hostd's FLIP_DONE answers, read by a thread
 * of its own.
 *
 * hostd restarted: when the connection closes, the guest notices nothing.
 * Its flips complete here at 60 Hz (nothing is shown), and the thread
 * connects to the socket path until a new hostd answers, then sends HELLO
 * with the guest's uinput descriptors (held here so that its virtual
 * keyboard and pointer outlive hostd) and a new control channel (when the
 * guest has a control file: control.c), its DPMS and the state and gamma of
 * every CRTC, so that the new hostd shows the guest's latest frame if it
 * is in front. If none answers within the reattach time, the thread tells
 * the backend's main (vkms_gone_fd() becomes readable) and ends: main
 * exits with PD_DISPLAY_EXIT_NO_HOSTD and the monitor ends (the guest gets
 * EIO, its framebuffers go with the real files, nothing stays on the
 * screen). The thread itself never ends the process.
 *
 * Device files through hostd (vkms_open_file()): a confined backend's
 * OPEN goes on the connection there is, its OPENED comes back to this
 * thread with the descriptor; an OPEN lost with its connection is sent
 * again on the next, all within PD_DISPLAY_OPEN_WAIT_S.
 *
 * The camera: hostd's CAMERA messages (who owns a capture device) go to
 * v4l2own.c from this thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "fdpass.h"
#include "priv.h"
#include "v4l2own.h"

#define CONNECT_TICKS	15		/* try the socket every 250 ms */

/*
 * Under lock. Without hostd (or when it has just gone) the message is
 * not lost: the state it carries is here and goes to the next hostd, and
 * a flip completes here. So this never fails.
 */

/* One message on sock: 0 or -1. */
static int send_on(int sock, uint16_t type, const void *body, size_t len)
{
	struct {
		struct pd_disp_hdr hdr;
		uint8_t body[PD_DISP_MAX_MSG - sizeof(struct pd_disp_hdr)];
	} m = { .hdr = { .type = type, .len = (uint16_t)len } };

	memcpy(m.body, body, len);
	return send(sock, &m, sizeof(m.hdr) + len, MSG_NOSIGNAL) ==
	       (ssize_t)(sizeof(m.hdr) + len) ? 0 : -1;
}

/*
 * Under lock. Without hostd (or when it has just gone) the message is
 * not lost: the state it carries is here and goes to the next hostd, and
 * a flip completes here. So this never fails.
 */
void vkms_send(struct vkms *v, uint16_t type, const void *body, size_t len)
{
	if (v->sock >= 0 && send_on(v->sock, type, body, len))
		be_log(v->be, "display: cannot reach hostd: %s",
		       strerror(errno));
}

/* hostd finished a flip: the guest's event, and a wake of its poll. */
static void flip_done(struct vkms *v, const struct pd_disp_flip_done *m)
{
	struct vcrtc *c = NULL;
	uint32_t handle;

	pthread_mutex_lock(&v->lock);
	c = vkms_crtc_find(v, m->crtc_id);
	if (!c || !c->flip_pending || m->cookie != c->flip_cookie) {
		pthread_mutex_unlock(&v->lock);
		be_log(v->be, "display: unexpected FLIP_DONE from hostd");
		return;
	}
	handle = vkms_complete_flip(v, c);	/* on the guest's grid */
	pthread_mutex_unlock(&v->lock);
	vkms_notify(v, handle);
}

/* No hostd: complete every flip waiting (our own vblank). */
static void complete_here(struct vkms *v)
{
	uint32_t handles[PD_DISPLAY_MAX_CRTCS];
	unsigned int n;

	pthread_mutex_lock(&v->lock);
	n = vkms_complete_all(v, handles);
	pthread_mutex_unlock(&v->lock);
	for (unsigned int i = 0; i < n; i++)
		vkms_notify(v, handles[i]);
}

/*
 * Under lock: HELLO on sock, with the input descriptors if reattaching,
 * and then, if the guest has a control file, a new control channel too
 * (pd_display.h): its old one died with the old hostd, and the guest's
 * opens of the control file would get ENOTCONN until the backend ends.
 */
int vkms_send_hello(struct vkms *v, int sock, bool reattach)
{
	struct {
		struct pd_disp_hdr hdr;
		struct pd_disp_hello m;
	} b = {
		.hdr = { .type = PD_DISP_HELLO, .len = sizeof(b.m) },
		.m = { .version = PD_DISPLAY_VERSION,
		       .flags = reattach ? PD_DISP_HELLO_REATTACH : 0,
		       .domid = v->be->domid,
		       .ninput = reattach ? v->ninput : 0 },
	};
	int fds[PD_DISPLAY_MAX_FDS], chan[2] = { -1, -1 };
	unsigned int nfds = b.m.ninput;
	int r;

	snprintf(b.m.guest, sizeof(b.m.guest), "%s", v->be->name);
	memcpy(fds, v->input, sizeof(int) * b.m.ninput);
	if (reattach && be_has_control(v->be) &&
	    !socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, chan)) {
		b.m.flags |= PD_DISP_HELLO_CONTROL;
		fds[nfds++] = chan[1];
	}
	r = pd_send_fds(sock, &b, sizeof(b), fds, nfds, 0) == (ssize_t)sizeof(b)
		? 0 : -1;
	if (chan[1] >= 0)
		close(chan[1]);
	if (chan[0] >= 0) {
		if (!r)
			be_control_set_channel(v->be, chan[0]);
		else
			close(chan[0]);
	}
	return r;
}

/* Try the new hostd's socket once: 0 and v->sock set, or -1. */
static int reattach(struct vkms *v)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	uint32_t handles[PD_DISPLAY_MAX_CRTCS];
	struct pd_disp_crtc st;
	unsigned int ndone;
	int r = 0;

	if (s < 0)
		return -1;
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", v->socket_path);
	if (connect(s, (struct sockaddr *)&a, sizeof(a))) {
		close(s);
		return -1;
	}
	/* nothing outstanding at the new hostd: flips waiting now are
	 * ours to complete first, in the same hold of the lock as v->sock
	 * is set (a flip asked meanwhile would wait for nobody) */
	pthread_mutex_lock(&v->lock);
	ndone = vkms_complete_all(v, handles);
	r = vkms_send_hello(v, s, true);
	/* DPMS first: a CRTC it blanks is never shown on the way */
	for (unsigned int i = 0; !r && i < v->ndpms; i++)
		r = send_on(s, PD_DISP_DPMS, &v->dpms[i], sizeof(v->dpms[i]));
	for (unsigned int i = 0; !r && i < PD_DISPLAY_MAX_CRTCS; i++) {
		if (!v->crtcs[i].id)
			continue;
		vkms_shown(&v->crtcs[i], &st);
		r = send_on(s, PD_DISP_SET_CRTC, &st, sizeof(st));
		if (!r && v->crtcs[i].gamma_set)
			r = send_on(s, PD_DISP_GAMMA, &v->crtcs[i].gamma,
				    sizeof(v->crtcs[i].gamma));
	}
	if (!r) {
		v->sock = s;
		v->sock_gen++;
		pthread_cond_broadcast(&v->opened);
	}
	pthread_mutex_unlock(&v->lock);
	for (unsigned int i = 0; i < ndone; i++)
		vkms_notify(v, handles[i]);
	if (r) {
		close(s);
		return -1;
	}
	be_log(v->be, "display: reattached to a new hostd (%u input devices "
	       "handed back)", v->ninput);
	return 0;
}

static bool stopping(struct vkms *v)
{
	bool r;

	pthread_mutex_lock(&v->lock);
	r = v->stopping;
	pthread_mutex_unlock(&v->lock);
	return r;
}

/* No hostd since `lost`: complete flips here and look for a new one
 * until deadline (CLOCK_MONOTONIC seconds). 0: reattached; -1: none
 * came; 1: vkms_destroy() stops us. */
static int wait_for_hostd(struct vkms *v, const struct timespec *lost,
			  time_t deadline)
{
	struct timespec tick = { .tv_nsec = VKMS_TICK_NS }, now;

	for (unsigned int t = 0;; t++) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (stopping(v))
			return 1;
		if (now.tv_sec >= deadline)
			return -1;
		if (t % CONNECT_TICKS == 0 && reattach(v) == 0) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			be_log(v->be, "display: the guest was %.1f s without "
			       "hostd", (double)(now.tv_sec - lost->tv_sec) +
			       (now.tv_nsec - lost->tv_nsec) / 1e9);
			return 0;
		}
		nanosleep(&tick, NULL);
		complete_here(v);
	}
}

/* No hostd came back: the guest must not be shown anything with nobody
 * in charge, nor hang in a flip. Tell main (it exits, the monitor ends);
 * until then flips still complete here. */
static void give_up(struct vkms *v)
{
	struct timespec tick = { .tv_nsec = VKMS_TICK_NS };
	uint64_t one = 1;

	be_log(v->be, "display: no hostd came back; exiting");
	if (write(v->gone, &one, sizeof(one)) < 0)
		be_log(v->be, "display: cannot tell main: %s", strerror(errno));
	while (!stopping(v)) {
		nanosleep(&tick, NULL);
		complete_here(v);
	}
}

/* One message of hostd's, and the descriptor it carries (*fd, else -1;
 * any more are closed). recv()'s result. */
static ssize_t receive(int sock, void *buf, size_t len, int *fd)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * 4)];
	} ctl;
	struct iovec iov = { buf, len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = ctl.buf,
			      .msg_controllen = sizeof(ctl.buf) };
	ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);

	*fd = -1;
	if (n < 0)
		return n;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c;
	     c = CMSG_NXTHDR(&msg, c)) {
		size_t nfds;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		nfds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < nfds; i++) {
			int one;

			memcpy(&one, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (*fd < 0)
				*fd = one;
			else
				close(one);
		}
	}
	return n;
}

/* hostd's answer to an OPEN (fd: the descriptor it carried, or -1). */
static void opened(struct vkms *v, const struct pd_disp_opened *o, int fd)
{
	pthread_mutex_lock(&v->lock);
	if (!v->open_want || o->id != v->open_want || v->open_done ||
	    (o->result == 0) != (fd >= 0) || o->result > 0) {
		pthread_mutex_unlock(&v->lock);
		if (fd >= 0)
			close(fd);
		be_log(v->be, "display: unexpected OPENED from hostd");
		return;
	}
	v->open_done = true;
	v->open_result = o->result;
	v->open_fd = fd;
	pthread_cond_broadcast(&v->opened);
	pthread_mutex_unlock(&v->lock);
}

int vkms_open_file(void *vkms, const char *path, int flags)
{
	struct vkms *v = vkms;
	struct pd_disp_open m = { .flags = (uint32_t)(flags & O_ACCMODE) };
	struct timespec deadline;
	unsigned int gen = 0;
	bool sent = false;
	int fd = -1, err = 0, fl;

	if (strlen(path) >= sizeof(m.path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(m.path, path, strlen(path));
	if (flags & O_NONBLOCK)
		m.flags |= PD_DISP_OPEN_NONBLOCK;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += PD_DISPLAY_OPEN_WAIT_S;
	pthread_mutex_lock(&v->open_lock);
	pthread_mutex_lock(&v->lock);
	if (++v->open_seq == 0)
		v->open_seq = 1;
	m.id = v->open_seq;
	v->open_want = m.id;
	v->open_done = false;
	for (;;) {
		if (v->open_done)
			break;
		/* lost with its connection: again on the next */
		if (sent && gen != v->sock_gen)
			sent = false;
		if (!sent && v->sock >= 0 && !v->stopping) {
			gen = v->sock_gen;
			sent = !send_on(v->sock, PD_DISP_OPEN, &m, sizeof(m));
		}
		if (pthread_cond_timedwait(&v->opened, &v->lock,
					   &deadline) == ETIMEDOUT) {
			err = sent ? EIO : EAGAIN;
			break;
		}
	}
	if (v->open_done) {
		fd = v->open_fd;
		err = -v->open_result;
	}
	v->open_want = 0;
	v->open_done = false;
	v->open_fd = -1;
	pthread_mutex_unlock(&v->lock);
	pthread_mutex_unlock(&v->open_lock);
	if (fd < 0) {
		be_log(v->be, "display: hostd did not open %s: %s", path,
		       strerror(err ? err : EIO));
		errno = err ? err : EIO;
		return -1;
	}
	/* hostd opens with O_NONBLOCK (pd_display.h): as the guest asked */
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, (flags & O_NONBLOCK) ?
			    fl | O_NONBLOCK : fl & ~O_NONBLOCK)) {
		err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

/* CAMERA: whose the camera is (v4l2own.c takes it away from a loser). */
static void on_camera(struct vkms *v, const uint8_t *body)
{
	struct pd_disp_camera c;

	memcpy(&c, body, sizeof(c));
	if (c.owned > 1 || !memchr(c.path, '\0', sizeof(c.path))) {
		be_log(v->be, "display: bad CAMERA from hostd");
		return;
	}
	be_v4l2own_camera(v->be, c.path, c.owned, c.reason);
}

/* hostd's messages; hostd is trusted, but its messages are still checked. */
static void *link_thread(void *arg)
{
	uint8_t buf[PD_DISP_MAX_MSG];
	struct timespec since = { 0 }, lost = { 0 }, now;
	struct vkms *v = arg;
	time_t deadline = 0;

	while (!stopping(v)) {
		struct pd_disp_hdr hdr;
		struct pd_disp_flip_done m;
		ssize_t n;
		int sock, r, fd;

		pthread_mutex_lock(&v->lock);
		sock = v->sock;
		pthread_mutex_unlock(&v->lock);
		if (sock < 0) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			/* a connection refused at once (or lost within 2 s)
			 * does not give the guest more time */
			if (!deadline || now.tv_sec - since.tv_sec > 2) {
				deadline = now.tv_sec + v->reattach_s;
				lost = now;
			}
			be_log(v->be, "display: no hostd; flips complete here, "
			       "waiting up to %ld s for a new hostd",
			       (long)(deadline - now.tv_sec));
			r = wait_for_hostd(v, &lost, deadline);
			if (r < 0)
				give_up(v);
			if (r)
				break;
			clock_gettime(CLOCK_MONOTONIC, &since);
			continue;
		}
		n = receive(sock, buf, sizeof(buf), &fd);
		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			if (stopping(v))
				break;
			be_log(v->be, "display: hostd connection %s",
			       n ? strerror(errno) : "closed");
			pthread_mutex_lock(&v->lock);
			close(v->sock);
			v->sock = -1;	/* flips it had: ours now */
			v->sock_gen++;
			pthread_cond_broadcast(&v->opened);
			pthread_mutex_unlock(&v->lock);
			continue;
		}
		memcpy(&hdr, buf, sizeof(hdr) <= (size_t)n ? sizeof(hdr) : 0);
		if ((size_t)n == sizeof(hdr) + sizeof(struct pd_disp_opened) &&
		    hdr.type == PD_DISP_OPENED && hdr.len == n - sizeof(hdr)) {
			struct pd_disp_opened o;

			memcpy(&o, buf + sizeof(hdr), sizeof(o));
			opened(v, &o, fd);
			continue;
		}
		if ((size_t)n == sizeof(hdr) + sizeof(struct pd_disp_camera) &&
		    hdr.type == PD_DISP_CAMERA && hdr.len == n - sizeof(hdr)) {
			if (fd >= 0)
				close(fd);
			on_camera(v, buf + sizeof(hdr));
			continue;
		}
		if (fd >= 0)
			close(fd);
		if ((size_t)n != sizeof(hdr) + sizeof(m) ||
		    hdr.type != PD_DISP_FLIP_DONE || hdr.len != sizeof(m)) {
			be_log(v->be, "display: bad message from hostd");
			continue;
		}
		memcpy(&m, buf + sizeof(hdr), sizeof(m));
		flip_done(v, &m);
	}
	return NULL;
}

/* HELLO to the hostd that started us (it may be gone: this is a later
 * server; then look for the next one), and the thread. */
int vkms_link_start(struct vkms *v)
{
	int r;

	if (vkms_send_hello(v, v->sock, false)) {
		be_log(v->be, "display: the hostd that started us is gone");
		close(v->sock);
		v->sock = -1;
	}
	r = pthread_create(&v->link_thread, NULL, link_thread, v);
	if (r) {
		errno = r;
		return -1;
	}
	return 0;
}

/* After v->stopping is set: wake the thread out of recv() and wait. */
void vkms_link_stop(struct vkms *v)
{
	pthread_mutex_lock(&v->lock);
	if (v->sock >= 0)
		shutdown(v->sock, SHUT_RDWR);
	pthread_mutex_unlock(&v->lock);
	pthread_join(v->link_thread, NULL);
}
