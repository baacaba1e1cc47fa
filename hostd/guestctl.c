// SPDX-License-Identifier: GPL-2.0-only
/*
 * The switcher inside the guests: requests from guests' control files
 * (include/paradice/pd_control.h), checked against each guest's `allow`
 * in paradice.conf and carried out through the switcher.
 *
 * Which guest a request comes from is fixed by construction: each backend
 * gets a channel of its own at its start (hostd_guestctl_backend_fd), or
 * brings a new one when it reattaches after a hostd restart (checked by
 * reattach.c, given here by hostd_guestctl_adopt), and a control file
 * counts as that guest's because it came over that channel. Everything a
 * guest writes is untrusted_: a request is read once, at most
 * PD_CONTROL_MAX_REQ bytes, parsed in one place (parse_request) before
 * anything looks at it. hostd never waits on a guest: the channel and
 * every file are non-blocking, a file gets one request read per turn of
 * the loop, and a reply that does not fit in its socket buffer closes it.
 *
 * Files that asked for it (WATCH) get an EVENT, the LIST of now, after
 * each switch and each change of the VM list or a VM's state
 * (hostd_guestctl_notify). An event that does not fit in the file's
 * socket buffer is not queued: the file is marked and gets the one event
 * of the state of then when its buffer has room again (a POLLOUT watch),
 * so a guest that does not read costs hostd one flag.
 *
 * Never served to a guest, whatever its `allow`: another guest's frames
 * (thumbnails, screenshots), starting or stopping guests. dom0's entry
 * ("host") only to a guest whose allow says host: `switch` alone does not
 * let a guest hand dom0 the screen.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <paradice/pd_control.h>

#include "guestctl.h"
#include "log.h"
#include "poller.h"
#include "ratelimit.h"
#include "switcher.h"

struct gc_file {
	struct gc_guest *guest;
	int fd;				/* -1: free slot */
	struct hostd_watch *watch;
	bool watching;			/* asked WATCH: gets EVENTs */
	struct hostd_watch *out_watch;	/* an EVENT waits for room */
};

struct gc_guest {
	struct hostd_guestctl *gc;
	unsigned int index;
	int chan;			/* -1: no backend's channel */
	struct hostd_watch *chan_watch;
	struct gc_file files[PD_CONTROL_MAX_FILES];
	struct pd_ratelimit log_rl;	/* the lines this guest causes */
};

struct hostd_guestctl {
	struct hostd_switcher *sw;
	struct hostd_poller *poller;
	struct gc_guest g[HOSTD_MAX_GUESTS];
};

/*
 * A line of hostd's log that a guest's request causes, within the guest's
 * bucket (rl; NULL: none): a guest flooding its control file must not
 * flood dom0's journal.
 */
static void gc_log(struct pd_ratelimit *rl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void gc_log(struct pd_ratelimit *rl, const char *fmt, ...)
{
	char line[512];
	uint64_t held = 0;
	va_list ap;

	if (rl && !pd_ratelimit_take(rl, hostd_now_us(), &held))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (held)
		hostd_log("%s (and %llu earlier lines of this guest's held "
			  "back: more than %u a second)", line,
			  (unsigned long long)held, rl->per_sec);
	else
		hostd_log("%s", line);
}

/* -- requests (pure: the unit test calls hostd_guestctl_answer) ------------ */

enum request {
	REQ_INVALID,
	REQ_LIST,
	REQ_SWITCH,
	REQ_NEXT,
	REQ_PREVIOUS,
	REQ_WATCH,
	REQ_FRAMES,		/* THUMBNAIL, SCREENSHOT: never served */
};

/* A guest's name as the configuration allows it (config.c's rule). */
static bool valid_name(const char *s, size_t len)
{
	if (!len || len >= HOSTD_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		      s[i] == '.' || s[i] == '-'))
			return false;
	return true;
}

/*
 * The one place that reads what a guest wrote: "VERB" or "VERB NAME",
 * one optional '\n' at the end, nothing else. name gets NAME
 * (NUL-terminated, checked) for SWITCH and the frame verbs.
 */
static enum request parse_request(const char *untrusted, size_t len,
				  char name[HOSTD_NAME_MAX])
{
	static const struct {
		const char *verb;
		enum request req;
		bool takes_name;
	} verbs[] = {
		{ "LIST", REQ_LIST, false },
		{ "SWITCH", REQ_SWITCH, true },
		{ "NEXT", REQ_NEXT, false },
		{ "PREVIOUS", REQ_PREVIOUS, false },
		{ "WATCH", REQ_WATCH, false },
		{ "THUMBNAIL", REQ_FRAMES, true },
		{ "SCREENSHOT", REQ_FRAMES, true },
	};
	const char *space;
	size_t vlen;

	name[0] = '\0';
	if (len > PD_CONTROL_MAX_REQ)
		return REQ_INVALID;
	if (len && untrusted[len - 1] == '\n')
		len--;
	space = memchr(untrusted, ' ', len);
	vlen = space ? (size_t)(space - untrusted) : len;
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		const char *rest = space ? space + 1 : untrusted + len;
		size_t rlen = space ? len - vlen - 1 : 0;

		if (strlen(verbs[i].verb) != vlen ||
		    memcmp(verbs[i].verb, untrusted, vlen))
			continue;
		if (!verbs[i].takes_name)
			return space ? REQ_INVALID : verbs[i].req;
		if (!space || !valid_name(rest, rlen))
			return REQ_INVALID;
		memcpy(name, rest, rlen);
		name[rlen] = '\0';
		return verbs[i].req;
	}
	return REQ_INVALID;
}

struct out {
	char *buf;
	size_t cap, len;
	bool full;
};

static void put(struct out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->cap - o->len) {
		o->full = true;
		o->buf[o->len] = '\0';
		return;
	}
	o->len += (size_t)n;
}

/* The next (step 1) or previous (step -1) running guest after the one in
 * front, in config order, as bus.c's SwitchNext (from dom0's entry: the
 * first or the last); NULL: none. */
static struct hostd_vm *step_vm(struct hostd_switcher *sw, int step)
{
	unsigned int from = sw->router.active;

	if (!sw->nvms)
		return NULL;
	if (hostd_is_host(sw, from))
		from = step > 0 ? sw->nvms - 1 : 0;
	for (unsigned int n = 1; n <= sw->nvms; n++) {
		unsigned int i = (from + sw->nvms +
				  (unsigned int)(step * (int)n)) % sw->nvms;

		if (sw->vms[i].state == HOSTD_VM_RUNNING &&
		    i != sw->router.active)
			return &sw->vms[i];
	}
	return NULL;
}

/* A VM of that name with a domain, or dom0's entry ("host"). */
static struct hostd_vm *vm_named(struct hostd_switcher *sw, const char *name)
{
	if (!strcmp(name, HOSTD_HOST_NAME))
		return &sw->vms[sw->nvms];
	for (unsigned int i = 0; i < sw->nvms; i++)
		if (!strcmp(sw->vms[i].cfg->name, name) &&
		    sw->vms[i].state != HOSTD_VM_ABSENT)
			return &sw->vms[i];
	return NULL;
}

/* LIST's reply (first line `first`: "OK" or "EVENT"). */
static void list(struct hostd_switcher *sw, unsigned int g, struct out *o,
		 const char *first)
{
	put(o, "%s\nSELF %s\n", first, sw->vms[g].cfg->name);
	for (unsigned int i = 0; i < sw->nvms; i++)
		put(o, "GUEST %s\n", sw->vms[i].cfg->name);
	for (unsigned int i = 0; i < sw->nvms; i++) {
		const struct hostd_vm *vm = &sw->vms[i];

		if (vm->state == HOSTD_VM_ABSENT)
			continue;
		put(o, "VM %s %d %s %d\n", vm->cfg->name, vm->domid,
		    hostd_vm_state_name(vm->state),
		    i == sw->router.active);
	}
	/* dom0's entry, last (its name is no guest's) */
	put(o, "VM %s 0 running %d\n", HOSTD_HOST_NAME,
	    hostd_is_host(sw, sw->router.active));
}

/* hostd_guestctl_answer, which also says what was asked (*asked). */
static size_t answer(struct hostd_switcher *sw, unsigned int g,
		     const char *untrusted_req, size_t len, char *reply,
		     size_t cap, enum request *asked, struct pd_ratelimit *rl)
{
	static const char *const what[] = {
		[REQ_LIST] = "LIST", [REQ_SWITCH] = "SWITCH",
		[REQ_NEXT] = "NEXT", [REQ_PREVIOUS] = "PREVIOUS",
		[REQ_WATCH] = "WATCH",
		[REQ_FRAMES] = "another guest's frames",
	};
	struct out o = { .buf = reply, .cap = cap };
	const char *guest = sw->vms[g].cfg->name;
	unsigned int allow = sw->vms[g].cfg->allow;
	char name[HOSTD_NAME_MAX];
	enum request req = parse_request(untrusted_req, len, name);
	struct hostd_vm *to = NULL;
	int r;

	*asked = req;
	reply[0] = '\0';
	switch (req) {
	case REQ_INVALID:
		gc_log(rl, "guestctl: %s: a request that is none (%zu bytes) "
			  "refused", guest, len);
		put(&o, "ERR Invalid not a request (LIST, SWITCH NAME, NEXT, "
			"PREVIOUS, WATCH; at most %u bytes)\n",
		    PD_CONTROL_MAX_REQ);
		return o.len;
	case REQ_FRAMES:
		gc_log(rl, "guestctl: %s asks for %s's frames: refused (never "
			  "served to a guest)", guest, name);
		put(&o, "ERR Refused a guest never sees another guest's "
			"frames\n");
		return o.len;
	case REQ_LIST:
	case REQ_WATCH:
		if (!(allow & HOSTD_ALLOW_LIST)) {
			gc_log(rl, "guestctl: %s asks %s: refused (its allow "
				  "has no list)", guest, what[req]);
			put(&o, "ERR Refused %s may not list the VMs "
				"(paradice.conf: allow)\n", guest);
			return o.len;
		}
		if (req == REQ_WATCH)
			put(&o, "OK\n");
		else
			list(sw, g, &o, "OK");
		return o.full ? 0 : o.len;
	default:
		break;
	}
	/* the switches: to dom0's entry only with allow host, which is not
	 * part of switch (a guest must not hand dom0 the screen unless the
	 * administrator said so) */
	if (req == REQ_SWITCH && !strcmp(name, HOSTD_HOST_NAME)) {
		if (!(allow & HOSTD_ALLOW_HOST)) {
			gc_log(rl, "guestctl: %s asks SWITCH host: refused (its "
				  "allow has no host)", guest);
			put(&o, "ERR Refused %s may not hand dom0 the screen "
				"(paradice.conf: allow has no host)\n", guest);
			return o.len;
		}
	} else if (!(allow & HOSTD_ALLOW_SWITCH)) {
		gc_log(rl, "guestctl: %s asks %s%s%s: refused (its allow has no "
			  "switch)", guest, what[req], name[0] ? " " : "", name);
		put(&o, "ERR Refused %s may not switch (paradice.conf: allow)\n",
		    guest);
		return o.len;
	}
	if (req == REQ_SWITCH)
		to = vm_named(sw, name);
	else
		to = step_vm(sw, req == REQ_NEXT ? 1 : -1);
	if (!to) {
		gc_log(rl, "guestctl: %s asks %s%s%s: no such VM", guest,
			  what[req], name[0] ? " " : "", name);
		put(&o, "ERR UnknownVm %s\n", req == REQ_SWITCH ?
		    "no such VM" : "no other running VM");
		return o.len;
	}
	gc_log(rl, "guestctl: %s asks to switch to %s", guest, to->cfg->name);
	r = hostd_switch_to(sw, to->index);
	if (r == -EAGAIN) {
		put(&o, "ERR Refused VM %s cannot take the screen now\n",
		    to->cfg->name);
		return o.len;
	}
	if (r < 0) {
		put(&o, "ERR UnknownVm no VM %s\n", to->cfg->name);
		return o.len;
	}
	put(&o, "OK\n");
	return o.len;
}

size_t hostd_guestctl_answer(struct hostd_switcher *sw, unsigned int g,
			     const char *untrusted_req, size_t len,
			     char *reply, size_t cap)
{
	enum request asked;

	return answer(sw, g, untrusted_req, len, reply, cap, &asked, NULL);
}

/* -- control files and channels --------------------------------------------- */

static void close_file(struct gc_file *f)
{
	if (f->fd < 0)
		return;
	hostd_watch_remove(f->watch);
	f->watch = NULL;
	hostd_watch_remove(f->out_watch);
	f->out_watch = NULL;
	f->watching = false;
	close(f->fd);
	f->fd = -1;
}

static void on_file(int fd, short revents, void *data)
{
	struct gc_file *f = data;
	struct gc_guest *gg = f->guest;
	char req[PD_CONTROL_MAX_REQ + 1], reply[PD_CONTROL_MAX_REPLY];
	enum request asked;
	ssize_t n;
	size_t rlen;

	if (!(revents & POLLIN)) {
		close_file(f);
		return;
	}
	/* MSG_TRUNC: n is the packet's whole length, however long */
	n = recv(fd, req, sizeof(req), MSG_DONTWAIT | MSG_TRUNC);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		close_file(f);
		return;
	}
	rlen = answer(gg->gc->sw, gg->index, req, (size_t)n, reply,
		      sizeof(reply), &asked, &gg->log_rl);
	if (!rlen || send(fd, reply, rlen, MSG_DONTWAIT | MSG_NOSIGNAL) !=
			     (ssize_t)rlen) {
		gc_log(&gg->log_rl, "guestctl: %s: a control file that does "
		       "not read its "
			  "replies closed", gg->gc->sw->vms[gg->index].cfg->name);
		close_file(f);
		return;
	}
	if (asked == REQ_WATCH && !strcmp(reply, "OK\n"))
		f->watching = true;
}

/* Send file f the EVENT of now; false if its buffer has no room. */
static bool send_event(struct gc_file *f)
{
	struct gc_guest *gg = f->guest;
	char buf[PD_CONTROL_MAX_REPLY];
	struct out o = { .buf = buf, .cap = sizeof(buf) };

	list(gg->gc->sw, gg->index, &o, "EVENT");
	if (o.full)
		return true;	/* cannot be: LIST of 32 guests fits */
	return send(f->fd, buf, o.len, MSG_DONTWAIT | MSG_NOSIGNAL) ==
	       (ssize_t)o.len || (errno != EAGAIN && errno != ENOBUFS);
}

static void on_file_room(int fd, short revents, void *data)
{
	struct gc_file *f = data;

	(void)fd;
	/* a hang-up is on_file's to see; stop asking for room either way */
	if ((revents & POLLOUT) && !send_event(f))
		return;
	hostd_watch_remove(f->out_watch);
	f->out_watch = NULL;
}

void hostd_guestctl_notify(struct hostd_guestctl *gc)
{
	if (!gc)
		return;
	for (unsigned int i = 0; i < gc->sw->nvms; i++) {
		struct gc_guest *gg = &gc->g[i];

		if (!(gc->sw->vms[i].cfg->allow & HOSTD_ALLOW_LIST))
			continue;
		for (unsigned int j = 0; j < PD_CONTROL_MAX_FILES; j++) {
			struct gc_file *f = &gg->files[j];

			/* one waiting already: it sends the state of then */
			if (f->fd < 0 || !f->watching || f->out_watch)
				continue;
			if (send_event(f))
				continue;
			f->out_watch = hostd_poller_add(gc->poller, f->fd,
							POLLOUT, on_file_room,
							f);
		}
	}
}

static void on_switched(void *data)
{
	hostd_guestctl_notify(data);
}

static void close_channel(struct gc_guest *gg)
{
	for (unsigned int i = 0; i < PD_CONTROL_MAX_FILES; i++)
		close_file(&gg->files[i]);
	if (gg->chan < 0)
		return;
	hostd_watch_remove(gg->chan_watch);
	gg->chan_watch = NULL;
	close(gg->chan);
	gg->chan = -1;
}

/* A descriptor the backend sent must be what it makes: a Unix
 * SOCK_SEQPACKET socket. */
static bool is_seqpacket(int fd)
{
	int type = 0, domain = 0;
	socklen_t len = sizeof(type);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len))
		return false;
	len = sizeof(domain);
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len))
		return false;
	return type == SOCK_SEQPACKET && domain == AF_UNIX;
}

static void add_file(struct gc_guest *gg, int fd)
{
	const char *guest = gg->gc->sw->vms[gg->index].cfg->name;
	struct gc_file *f = NULL;

	for (unsigned int i = 0; i < PD_CONTROL_MAX_FILES && !f; i++)
		if (gg->files[i].fd < 0)
			f = &gg->files[i];
	if (!f) {
		gc_log(&gg->log_rl, "guestctl: %s opens more than %u control "
		       "files: refused", guest, PD_CONTROL_MAX_FILES);
		close(fd);
		return;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	f->fd = fd;
	f->watch = hostd_poller_add(gg->gc->poller, fd, POLLIN, on_file, f);
	if (!f->watch) {
		hostd_log("guestctl: %s: %s", guest, strerror(errno));
		close(fd);
		f->fd = -1;
	}
}

/* The backend sent a new control file of its guest (or ended). */
static void on_channel(int fd, short revents, void *data)
{
	struct gc_guest *gg = data;
	struct pd_ctl_open m;
	union {
		char buf[CMSG_SPACE(4 * sizeof(int))];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov = { .iov_base = &m, .iov_len = sizeof(m) };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf.buf, .msg_controllen = sizeof(cbuf.buf),
	};
	int fds[4], nfds = 0;
	ssize_t n;

	(void)revents;
	n = recvmsg(fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	for (struct cmsghdr *c = n >= 0 ? CMSG_FIRSTHDR(&msg) : NULL; c;
	     c = CMSG_NXTHDR(&msg, c)) {
		size_t k;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k && nfds < 4; i++)
			memcpy(&fds[nfds++], CMSG_DATA(c) + i * sizeof(int),
			       sizeof(int));
	}
	if (n <= 0) {
		for (int i = 0; i < nfds; i++)
			close(fds[i]);
		close_channel(gg);
		return;
	}
	if (n != (ssize_t)sizeof(m) || m.type != PD_CTL_OPEN || m.reserved ||
	    nfds != 1 || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
	    !is_seqpacket(fds[0])) {
		hostd_log("guestctl: %s: malformed message from its backend "
			  "dropped", gg->gc->sw->vms[gg->index].cfg->name);
		for (int i = 0; i < nfds; i++)
			close(fds[i]);
		return;
	}
	add_file(gg, fds[0]);
}

int hostd_guestctl_backend_fd(struct hostd_guestctl *gc, unsigned int g)
{
	struct gc_guest *gg;
	int sv[2];

	if (!gc || g >= HOSTD_MAX_GUESTS)
		return -1;
	gg = &gc->g[g];
	close_channel(gg);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK,
		       0, sv)) {
		hostd_log("guestctl: socketpair: %s", strerror(errno));
		return -1;
	}
	/* the backend's end: its sends never wait either (MSG_DONTWAIT) */
	gg->chan = sv[0];
	gg->chan_watch = hostd_poller_add(gc->poller, sv[0], POLLIN,
					  on_channel, gg);
	if (!gg->chan_watch) {
		hostd_log("guestctl: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		gg->chan = -1;
		return -1;
	}
	return sv[1];
}

int hostd_guestctl_adopt(struct hostd_guestctl *gc, unsigned int g, int fd)
{
	struct gc_guest *gg;

	if (!gc || g >= gc->sw->nvms || !is_seqpacket(fd)) {
		close(fd);
		return -1;
	}
	gg = &gc->g[g];
	close_channel(gg);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	gg->chan = fd;
	gg->chan_watch = hostd_poller_add(gc->poller, fd, POLLIN, on_channel,
					  gg);
	if (!gg->chan_watch) {
		hostd_log("guestctl: %s", strerror(errno));
		close(fd);
		gg->chan = -1;
		return -1;
	}
	hostd_log("guestctl: %s: its backend's control channel is back",
		  gc->sw->vms[g].cfg->name);
	return 0;
}

struct hostd_guestctl *hostd_guestctl_create(struct hostd_switcher *sw,
					     struct hostd_poller *p)
{
	struct hostd_guestctl *gc = calloc(1, sizeof(*gc));

	if (!gc)
		return NULL;
	gc->sw = sw;
	gc->poller = p;
	sw->hooks.guests_changed = on_switched;
	sw->hooks.guests_data = gc;
	for (unsigned int i = 0; i < HOSTD_MAX_GUESTS; i++) {
		gc->g[i].gc = gc;
		gc->g[i].index = i;
		gc->g[i].chan = -1;
		gc->g[i].log_rl = (struct pd_ratelimit)PD_RATELIMIT_GUEST;
		for (unsigned int j = 0; j < PD_CONTROL_MAX_FILES; j++) {
			gc->g[i].files[j].guest = &gc->g[i];
			gc->g[i].files[j].fd = -1;
		}
	}
	return gc;
}

void hostd_guestctl_destroy(struct hostd_guestctl *gc)
{
	if (!gc)
		return;
	if (gc->sw->hooks.guests_data == gc) {
		gc->sw->hooks.guests_changed = NULL;
		gc->sw->hooks.guests_data = NULL;
	}
	for (unsigned int i = 0; i < HOSTD_MAX_GUESTS; i++)
		close_channel(&gc->g[i]);
	free(gc);
}
