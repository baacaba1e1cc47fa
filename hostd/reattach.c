// SPDX-License-Identifier: GPL-2.0-only
/*
 * Backends that outlived the hostd that started them come back here.
 *
 * A hostd restart (clean or a crash) must not be seen by the guests: their
 * backends keep running, hold the guests' virtual keyboard and pointer
 * (the uinput files, so the devices stay), and connect to this socket when
 * the new hostd is up (include/paradice/pd_display.h, "hostd restarted").
 * A socket in /run/paradice rather than descriptors handed from the old
 * hostd to the new one: a hostd killed with SIGKILL hands nothing over,
 * and the backends are the ones that know their guest's latest state.
 *
 * A reconnecting backend is less trusted than hostd (it handles guest
 * bytes), so its first message is checked here before display.c or
 * input.c see the connection: one HELLO with PD_DISP_HELLO_REATTACH, of
 * exact size, naming a configured guest whose domain runs now with that
 * domain id and that has no backend connection; the peer runs as our user
 * or as that guest's backend_uid (a confined backend: the socket is open
 * to everyone, 0666, for that) and is a "pd-backend --xen DOMAIN"
 * process; the descriptors are exactly the number the HELLO says (its
 * input devices, and one more when it says PD_DISP_HELLO_CONTROL), nothing
 * else in the control data; input.c checks that the input ones are that
 * guest's uinput devices, guestctl.c that the control channel is a
 * seqpacket socket. Any failure
 * closes the connection (and the descriptors) with a log line that names
 * what was wrong; the backend tries again until it gives up.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <paradice/pd_display.h>

#include "display.h"
#include "guestctl.h"
#include "input.h"
#include "log.h"
#include "poller.h"
#include "reattach.h"
#include "switcher.h"

#define MAX_PENDING 8	/* accepted, HELLO not read yet */

struct hostd_reattach {
	struct hostd_switcher *sw;
	struct hostd_poller *poller;
	struct hostd_display *display;
	struct hostd_input *input;	/* NULL: none */
	struct hostd_guestctl *guestctl;	/* NULL: none */
	struct hostd_watch *listen_watch;
	struct hostd_watch *pending_watch[MAX_PENDING];
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int listen_fd;
	bool check_peer;
	int pending[MAX_PENDING];	/* -1: free */
	unsigned int next;		/* the slot to reuse when all are taken */
};

static void on_fd(int fd, short revents, void *data);

struct hostd_reattach *hostd_reattach_create(struct hostd_switcher *sw,
					     struct hostd_poller *p,
					     struct hostd_display *d,
					     struct hostd_input *in,
					     struct hostd_guestctl *gc,
					     const char *path, bool check_peer)
{
	struct hostd_reattach *r = calloc(1, sizeof(*r));
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	mode_t old;

	if (!r)
		return NULL;
	r->sw = sw;
	r->poller = p;
	r->display = d;
	r->input = in;
	r->guestctl = gc;
	r->check_peer = check_peer;
	for (unsigned int i = 0; i < MAX_PENDING; i++)
		r->pending[i] = -1;
	if (strlen(path) >= sizeof(a.sun_path)) {
		hostd_log("reattach: %s: path too long", path);
		free(r);
		return NULL;
	}
	snprintf(r->path, sizeof(r->path), "%s", path);
	memcpy(a.sun_path, path, strlen(path) + 1);
	{	/* its directory (/run/paradice), as the backends make it */
		char dir[sizeof(r->path)], *slash;

		snprintf(dir, sizeof(dir), "%s", path);
		slash = strrchr(dir, '/');
		if (slash && slash != dir) {
			*slash = '\0';
			mkdir(dir, 0755);
		}
	}
	r->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC |
			      SOCK_NONBLOCK, 0);
	if (r->listen_fd < 0)
		goto fail;
	unlink(path);	/* a dead hostd's */
	/* anyone may connect (confined backends run as their guest's own
	 * user); check_hello() takes only a configured guest's backend */
	old = umask(0111);
	if (bind(r->listen_fd, (struct sockaddr *)&a, sizeof(a))) {
		umask(old);
		goto fail;
	}
	umask(old);
	if (listen(r->listen_fd, MAX_PENDING))
		goto fail;
	r->listen_watch = hostd_poller_add(p, r->listen_fd, POLLIN, on_fd, r);
	if (!r->listen_watch)
		goto fail;
	return r;
fail:
	hostd_log("reattach: cannot listen on %s: %s", path, strerror(errno));
	if (r->listen_fd >= 0)
		close(r->listen_fd);
	free(r);
	return NULL;
}

void hostd_reattach_destroy(struct hostd_reattach *r)
{
	if (!r)
		return;
	for (unsigned int i = 0; i < MAX_PENDING; i++) {
		hostd_watch_remove(r->pending_watch[i]);
		if (r->pending[i] >= 0)
			close(r->pending[i]);
	}
	hostd_watch_remove(r->listen_watch);
	close(r->listen_fd);
	unlink(r->path);
	free(r);
}

/* Is pid a "pd-backend --xen DOMAIN" process, DOMAIN our domid or name? */
static bool peer_is_backend(pid_t pid, unsigned int domid, const char *name)
{
	char path[64], cmd[512], id[16];
	const char *arg[3] = { NULL, NULL, NULL };
	const char *base;
	ssize_t n;
	size_t o = 0;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, cmd, sizeof(cmd) - 1);
	close(fd);
	if (n <= 0)
		return false;
	cmd[n] = '\0';
	for (unsigned int i = 0; i < 3 && o < (size_t)n; i++) {
		arg[i] = cmd + o;
		o += strlen(cmd + o) + 1;
	}
	if (!arg[2])
		return false;
	base = strrchr(arg[0], '/');
	base = base ? base + 1 : arg[0];
	snprintf(id, sizeof(id), "%u", domid);
	return !strcmp(base, "pd-backend") && !strcmp(arg[1], "--xen") &&
	       (!strcmp(arg[2], id) || !strcmp(arg[2], name));
}

/*
 * The first message of a connection: returns the guest it reattaches
 * (*control: the last of the nfds descriptors is a control channel), or
 * -1 with *why. fds (nfds of them) are given to input.c and guestctl.c
 * or closed by the caller.
 */
static int check_hello(struct hostd_reattach *r, int sock,
		       const uint8_t *untrusted, size_t n, unsigned int nfds,
		       bool *control, const char **why)
{
	struct hostd_switcher *sw = r->sw;
	struct pd_disp_hdr hdr;
	struct pd_disp_hello m;
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	int g = -1;

	if (n != sizeof(hdr) + sizeof(m)) {
		*why = "not a HELLO (size)";
		return -1;
	}
	memcpy(&hdr, untrusted, sizeof(hdr));
	memcpy(&m, untrusted + sizeof(hdr), sizeof(m));
	if (hdr.type != PD_DISP_HELLO || hdr.len != sizeof(m) || hdr.reserved) {
		*why = "not a HELLO (header)";
		return -1;
	}
	if (m.version != PD_DISPLAY_VERSION) {
		*why = "another protocol version";
		return -1;
	}
	if (m.flags != PD_DISP_HELLO_REATTACH &&
	    m.flags != (PD_DISP_HELLO_REATTACH | PD_DISP_HELLO_CONTROL)) {
		*why = "flags are not REATTACH (and CONTROL)";
		return -1;
	}
	*control = m.flags & PD_DISP_HELLO_CONTROL;
	if (m.ninput > PD_DISPLAY_MAX_INPUT || m.ninput + *control != nfds) {
		*why = "the descriptors attached are not the ninput it says";
		return -1;
	}
	for (unsigned int i = 0; i < sw->nvms && g < 0; i++)
		if (hostd_vm_live(&sw->vms[i]) &&
		    hostd_display_hello_names(sw, &m, i))
			g = (int)i;
	if (g < 0) {
		*why = "it names no running guest of ours (name and domain)";
		return -1;
	}
	if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &clen) ||
	    (cred.uid != geteuid() &&
	     cred.uid != sw->vms[g].cfg->backend_uid)) {
		*why = "the peer is neither our user nor that guest's backend user";
		return -1;
	}
	if (r->check_peer &&
	    !peer_is_backend(cred.pid, m.domid, sw->vms[g].cfg->name)) {
		*why = "the peer is not that guest's pd-backend";
		return -1;
	}
	return g;
}

/* Read a pending connection's HELLO; the connection goes to display.c or
 * is closed. */
static void take(struct hostd_reattach *r, unsigned int slot)
{
	uint8_t buf[PD_DISP_MAX_MSG + 1];
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * PD_DISPLAY_MAX_FDS)];
	} ctl;
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
	};
	int sock = r->pending[slot], fds[PD_DISPLAY_MAX_FDS];
	unsigned int nfds = 0;
	int chan = -1;
	bool control = false;
	const char *why = NULL;
	ssize_t n;
	int g = -1;

	n = recvmsg(sock, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	r->pending[slot] = -1;
	hostd_watch_remove(r->pending_watch[slot]);
	r->pending_watch[slot] = NULL;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); n >= 0 && c;
	     c = CMSG_NXTHDR(&msg, c)) {
		size_t k;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
		    c->cmsg_len < CMSG_LEN(0)) {
			why = "control data other than descriptors";
			continue;
		}
		k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
			if (nfds < PD_DISPLAY_MAX_FDS)
				fds[nfds++] = fd;
			else {
				close(fd);
				why = "too many descriptors";
			}
		}
	}
	if (n <= 0)
		why = n ? strerror(errno) : "closed before its HELLO";
	else if (msg.msg_flags & (MSG_CTRUNC | MSG_TRUNC))
		why = "message or descriptors truncated";
	if (!why)
		g = check_hello(r, sock, buf, (size_t)n, nfds, &control, &why);
	/* the control channel: the one after the input descriptors */
	if (g >= 0 && control)
		chan = fds[--nfds];
	if (g >= 0 && hostd_display_attach(r->display, (unsigned int)g, -1)
	    == -EBUSY) {
		why = "that guest has a backend connection already";
		g = -1;
	}
	if (g >= 0 && nfds) {
		int e = hostd_input_adopt(r->input, (unsigned int)g, fds, nfds);

		nfds = 0;	/* input.c took or closed them */
		if (e) {
			why = "its input descriptors are not that guest's devices";
			g = -1;
		}
	}
	for (unsigned int i = 0; i < nfds; i++)
		close(fds[i]);
	if (g < 0) {
		hostd_log("reattach: a backend's connection refused: %s", why);
		if (chan >= 0)
			close(chan);
		close(sock);
		return;
	}
	hostd_display_attach(r->display, (unsigned int)g, sock);
	hostd_log("reattach: %s: its backend is back (display state and "
		  "input devices kept)", r->sw->vms[g].cfg->name);
	/* after the display: a bad channel costs the guest its control
	 * file, not its screen */
	if (chan >= 0 && hostd_guestctl_adopt(r->guestctl, (unsigned int)g,
					      chan))
		hostd_log("reattach: %s: its control channel refused (not a "
			  "seqpacket socket)", r->sw->vms[g].cfg->name);
}

/* A pending connection is sock now, in slot: watched for its HELLO. */
static void set_pending(struct hostd_reattach *r, unsigned int slot, int sock)
{
	r->pending_watch[slot] = hostd_poller_add(r->poller, sock, POLLIN,
						  on_fd, r);
	if (!r->pending_watch[slot]) {
		hostd_log("reattach: cannot watch a connection: %s",
			  strerror(errno));
		close(sock);
		return;
	}
	r->pending[slot] = sock;
}

/* The listening socket or a pending connection is readable. */
static void on_fd(int fd, short revents, void *data)
{
	struct hostd_reattach *r = data;

	(void)revents;
	if (fd == r->listen_fd) {
		int s = accept4(r->listen_fd, NULL, NULL,
				SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (s < 0)
			return;
		for (unsigned int i = 0; i < MAX_PENDING; i++)
			if (r->pending[i] < 0) {
				set_pending(r, i, s);
				return;
			}
		hostd_log("reattach: %d connections without a HELLO: "
			  "dropping the oldest", MAX_PENDING);
		hostd_watch_remove(r->pending_watch[r->next]);
		r->pending_watch[r->next] = NULL;
		close(r->pending[r->next]);
		r->pending[r->next] = -1;
		set_pending(r, r->next, s);
		r->next = (r->next + 1) % MAX_PENDING;
		return;
	}
	for (unsigned int i = 0; i < MAX_PENDING; i++)
		if (r->pending[i] == fd) {
			take(r, i);
			return;
		}
}
