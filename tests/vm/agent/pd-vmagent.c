// SPDX-License-Identifier: GPL-2.0-only
/*
 * pd-vmagent: the test channel's end inside an emulated machine.
 *
 *   pd-vmagent serve-port PATH      serve on a virtio-serial port (plain, dom0)
 *   pd-vmagent serve-vchan          serve on a vchan to dom0 (a Xen guest)
 *   pd-vmagent client DOMID [-t S] ping|exec CMD|put LOCAL REMOTE [MODE]|get REMOTE LOCAL
 *                                   dom0's side of a guest's vchan (DOMID:
 *                                   a domain's id or name, read from
 *                                   XenStore: cheaper than `xl domid`)
 *
 * The protocol is in vmagent_proto.h. The agent serves one request at a time;
 * commands run under /bin/sh -c with stdin from /dev/null. Output is taken
 * until the command exits: a command that leaves something running in the
 * background must send that job's output elsewhere.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libxenvchan.h>
#include <xenstore.h>

#include "vmagent_proto.h"

#define VCHAN_RING_BYTES 65536
#define CHUNK (64u << 10)

struct chan {
	int fd;			 /* virtio port, or -1 */
	struct libxenvchan *vc;	 /* vchan, or NULL */
	int write_timeout_ms;	 /* give up on a peer that stopped reading */
};

static void logmsg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("pd-vmagent: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Read exactly n bytes; -1 on error or end of stream. A virtio-serial
 * port says end of stream (read 0, POLLHUP) whenever it holds no data and
 * the guest believes no host is connected; the guest's driver handles the
 * host's connects and disconnects apart from the data, so the host's next
 * connection may send its bytes before the guest knows of it: a request
 * then looked cut, was dropped, and the host waited for its timeout. So
 * the end is believed after 2 s of it only.
 */
static int chan_read(struct chan *c, void *buf, size_t n)
{
	char *p = buf;
	int ends = 0;

	while (n > 0) {
		ssize_t r;

		if (c->vc) {
			r = libxenvchan_read(c->vc, p, n);
			if (r == 0 && !libxenvchan_is_open(c->vc))
				return -1;
		} else {
			r = read(c->fd, p, n);
			if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
				struct pollfd pfd = { .fd = c->fd, .events = POLLIN };

				poll(&pfd, 1, 1000);
				if (!(pfd.revents & POLLHUP))
					continue;
				r = 0;
			}
			if (r == 0) {
				if (++ends > 20)
					return -1;
				usleep(100000);
				continue;
			}
			ends = 0;
		}
		if (r < 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Write all n bytes; -1 on error or when the peer stops reading too long. */
static int chan_write(struct chan *c, const void *buf, size_t n)
{
	const char *p = buf;
	long long deadline = now_ms() + c->write_timeout_ms;

	while (n > 0) {
		ssize_t r;

		if (c->vc) {
			r = libxenvchan_write(c->vc, p, n);
		} else {
			r = write(c->fd, p, n);
			if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
				struct pollfd pfd = { .fd = c->fd, .events = POLLOUT };

				if (now_ms() > deadline)
					return -1;
				poll(&pfd, 1, 200);
				continue;
			}
		}
		if (r < 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static int send_frame(struct chan *c, uint32_t type, uint32_t id,
		      const void *data, size_t len)
{
	struct vma_hdr h = { VMA_MAGIC, type, id, (uint32_t)len };

	if (chan_write(c, &h, sizeof(h)) < 0)
		return -1;
	return len ? chan_write(c, data, len) : 0;
}

static int send_fail(struct chan *c, uint32_t id, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return send_frame(c, VMA_RESP_FAIL, id, msg, strlen(msg));
}

/*
 * Read one frame header, skipping bytes until the magic: a peer that died
 * mid-frame leaves a partial frame behind, and the next one starts clean.
 */
static int recv_header(struct chan *c, struct vma_hdr *h)
{
	if (chan_read(c, h, sizeof(*h)) < 0)
		return -1;
	while (h->magic != VMA_MAGIC) {
		memmove(h, (char *)h + 1, sizeof(*h) - 1);
		if (chan_read(c, (char *)h + sizeof(*h) - 1, 1) < 0)
			return -1;
	}
	return 0;
}

static char *recv_payload(struct chan *c, uint32_t len)
{
	char *buf;

	if (len > VMA_MAX_PAYLOAD) {
		logmsg("frame of %u bytes is over the limit", len);
		return NULL;
	}
	buf = malloc((size_t)len + 1);
	if (!buf)
		return NULL;
	if (chan_read(c, buf, len) < 0) {
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	return buf;
}

static int forward_pipe(struct chan *c, uint32_t id, int *fd, uint32_t type)
{
	char buf[CHUNK];
	ssize_t r = read(*fd, buf, sizeof(buf));

	if (r > 0)
		return send_frame(c, type, id, buf, (size_t)r);
	if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
		close(*fd);
		*fd = -1;
	}
	return 0;
}

/* Run cmd under /bin/sh, stream its output, report how it ended. */
static int serve_exec(struct chan *c, uint32_t id, const char *cmd,
		      uint32_t timeout_s)
{
	int out[2], err[2], status = 0, st;
	long long deadline = now_ms() + (long long)timeout_s * 1000;
	bool exited = false, timed_out = false;
	int32_t code;
	pid_t pid;

	if (pipe2(out, O_CLOEXEC) < 0)
		return send_fail(c, id, "pipe: %s", strerror(errno));
	if (pipe2(err, O_CLOEXEC) < 0) {
		close(out[0]);
		close(out[1]);
		return send_fail(c, id, "pipe: %s", strerror(errno));
	}
	pid = fork();
	if (pid < 0) {
		close(out[0]);
		close(out[1]);
		close(err[0]);
		close(err[1]);
		return send_fail(c, id, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		setsid();
		signal(SIGPIPE, SIG_DFL);
		dup2(null, 0);
		dup2(out[1], 1);
		dup2(err[1], 2);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	fcntl(err[0], F_SETFL, O_NONBLOCK);

	while (!exited || out[0] >= 0 || err[0] >= 0) {
		struct pollfd pfd[2] = { { .fd = out[0], .events = POLLIN },
					 { .fd = err[0], .events = POLLIN } };

		/* our command, and orphans of earlier ones (we are their
		 * subreaper): a program a command stops must not stay a
		 * zombie that the command itself then waits for */
		for (pid_t w; !exited && (w = waitpid(-1, &st, WNOHANG)) > 0;)
			if (w == pid) {
				status = st;
				exited = true;
			}
		if (exited) {
			/* Take what is left; a background job keeps no say. */
			while (out[0] >= 0 && forward_pipe(c, id, &out[0], VMA_RESP_OUT) == 0 && out[0] >= 0)
				if (poll(&pfd[0], 1, 0) <= 0)
					break;
			while (err[0] >= 0 && forward_pipe(c, id, &err[0], VMA_RESP_ERR) == 0 && err[0] >= 0)
				if (poll(&pfd[1], 1, 0) <= 0)
					break;
			break;
		}
		if (timeout_s && now_ms() > deadline) {
			kill(-pid, SIGKILL);
			waitpid(pid, &status, 0);
			timed_out = true;
			break;
		}
		if (poll(pfd, 2, 100) > 0) {
			if (pfd[0].revents && forward_pipe(c, id, &out[0], VMA_RESP_OUT) < 0)
				goto lost;
			if (pfd[1].revents && forward_pipe(c, id, &err[0], VMA_RESP_ERR) < 0)
				goto lost;
		}
	}
	if (out[0] >= 0)
		close(out[0]);
	if (err[0] >= 0)
		close(err[0]);
	if (timed_out)
		code = 124;
	else if (WIFEXITED(status))
		code = WEXITSTATUS(status);
	else
		code = 128 + WTERMSIG(status);
	return send_frame(c, VMA_RESP_EXIT, id, &code, sizeof(code));
lost:
	if (out[0] >= 0)
		close(out[0]);
	if (err[0] >= 0)
		close(err[0]);
	return -1;
}

static void make_parents(char *path)
{
	for (char *s = strchr(path + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		mkdir(path, 0755);
		*s = '/';
	}
}

static int serve_put(struct chan *c, uint32_t id, char *p, uint32_t len)
{
	uint32_t mode;
	size_t plen;
	char tmp[PATH_MAX + 8];
	int fd;

	if (len < 5)
		return send_fail(c, id, "put: short request");
	memcpy(&mode, p, 4);
	plen = strnlen(p + 4, len - 4);
	if (plen == len - 4 || plen == 0 || plen >= PATH_MAX)
		return send_fail(c, id, "put: bad path");
	make_parents(p + 4);
	snprintf(tmp, sizeof(tmp), "%s.pdtmp", p + 4);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode & 07777);
	if (fd < 0)
		return send_fail(c, id, "put: %s: %s", tmp, strerror(errno));
	for (size_t off = 4 + plen + 1; off < len;) {
		ssize_t w = write(fd, p + off, len - off);

		if (w < 0) {
			close(fd);
			unlink(tmp);
			return send_fail(c, id, "put: write: %s", strerror(errno));
		}
		off += (size_t)w;
	}
	fchmod(fd, mode & 07777);
	close(fd);
	if (rename(tmp, p + 4) < 0)
		return send_fail(c, id, "put: rename: %s", strerror(errno));
	return send_frame(c, VMA_RESP_DONE, id, NULL, 0);
}

static int serve_get(struct chan *c, uint32_t id, const char *path)
{
	char buf[CHUNK];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t r;

	if (fd < 0)
		return send_fail(c, id, "get: %s: %s", path, strerror(errno));
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		if (send_frame(c, VMA_RESP_DATA, id, buf, (size_t)r) < 0) {
			close(fd);
			return -1;
		}
	close(fd);
	if (r < 0)
		return send_fail(c, id, "get: read: %s", strerror(errno));
	return send_frame(c, VMA_RESP_DONE, id, NULL, 0);
}

/* Serve requests until the channel fails or its peer goes away. */
static void serve(struct chan *c)
{
	for (;;) {
		struct vma_hdr h;
		char *p;
		int r = 0;

		while (waitpid(-1, NULL, WNOHANG) > 0)
			; /* reap orphans of earlier commands */
		if (recv_header(c, &h) < 0)
			return;
		p = recv_payload(c, h.len);
		if (!p)
			return;
		switch (h.type) {
		case VMA_REQ_PING:
			r = send_frame(c, VMA_RESP_DONE, h.id, NULL, 0);
			break;
		case VMA_REQ_EXEC: {
			uint32_t t;

			if (h.len < 4) {
				r = send_fail(c, h.id, "exec: short request");
				break;
			}
			memcpy(&t, p, 4);
			r = serve_exec(c, h.id, p + 4, t);
			break;
		}
		case VMA_REQ_PUT:
			r = serve_put(c, h.id, p, h.len);
			break;
		case VMA_REQ_GET:
			r = serve_get(c, h.id, p);
			break;
		default:
			r = send_fail(c, h.id, "unknown request type %u", h.type);
		}
		free(p);
		if (r < 0)
			return;
	}
}

static int serve_port(const char *path)
{
	struct chan c = { .fd = -1, .write_timeout_ms = 10000 };

	for (;;) {
		struct pollfd pfd;

		if (c.fd < 0) {
			c.fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
			if (c.fd < 0) {
				logmsg("%s: %s", path, strerror(errno));
				sleep(1);
				continue;
			}
		}
		/* With no host connected the port reports POLLHUP: wait. */
		pfd.fd = c.fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 1000) <= 0 || !(pfd.revents & POLLIN)) {
			if (pfd.revents & (POLLHUP | POLLERR))
				usleep(100000);
			continue;
		}
		serve(&c);
	}
	return 0;
}

static char *vchan_path(struct xs_handle *xs, int domid)
{
	char *path = NULL;

	if (domid < 0) {
		unsigned int len;
		char *s = xs_read(xs, XBT_NULL, "domid", &len);

		if (!s)
			return NULL;
		domid = atoi(s);
		free(s);
	}
	if (asprintf(&path, "/local/domain/%d/data/pd-vmagent", domid) < 0)
		return NULL;
	return path;
}

static int serve_vchan(void)
{
	struct xs_handle *xs = xs_open(0);
	char *path;

	if (!xs) {
		logmsg("xenstore: %s", strerror(errno));
		return 1;
	}
	path = vchan_path(xs, -1);
	xs_close(xs);
	if (!path) {
		logmsg("cannot read my domid from xenstore");
		return 1;
	}
	for (;;) {
		struct chan c = { .fd = -1, .write_timeout_ms = 10000 };

		c.vc = libxenvchan_server_init(NULL, 0, path, VCHAN_RING_BYTES,
					       VCHAN_RING_BYTES);
		if (!c.vc) {
			logmsg("vchan server at %s: %s", path, strerror(errno));
			sleep(1);
			continue;
		}
		c.vc->blocking = 1;
		serve(&c);
		libxenvchan_close(c.vc);
	}
	return 0;
}

/* dom0's side of a guest's channel: one request per invocation. */

static int usage(void)
{
	fprintf(stderr,
		"usage: pd-vmagent serve-port PATH\n"
		"       pd-vmagent serve-vchan\n"
		"       pd-vmagent client DOMID|NAME [-t SECONDS] ping\n"
		"       pd-vmagent client DOMID|NAME [-t SECONDS] exec COMMAND\n"
		"       pd-vmagent client DOMID|NAME [-t SECONDS] put LOCAL REMOTE [MODE]\n"
		"       pd-vmagent client DOMID|NAME [-t SECONDS] get REMOTE LOCAL\n");
	return 2;
}

static void on_alarm(int sig)
{
	static const char msg[] = "pd-vmagent: timed out talking to the guest's agent\n";

	(void)sig;
	if (write(2, msg, sizeof(msg) - 1) < 0)
		_exit(124);
	_exit(124);
}

/* A domain's id, given as a number or as its name: -1 if none has it. */
static int domain_id(const char *s)
{
	struct xs_handle *xs;
	unsigned int n = 0;
	char **ids;
	int domid = -1;

	if (*s && strspn(s, "0123456789") == strlen(s))
		return atoi(s);
	xs = xs_open(0);
	if (!xs)
		return -1;
	ids = xs_directory(xs, XBT_NULL, "/local/domain", &n);
	for (unsigned int i = 0; ids && i < n && domid < 0; i++) {
		char path[64], *name;

		snprintf(path, sizeof(path), "/local/domain/%s/name", ids[i]);
		name = xs_read(xs, XBT_NULL, path, NULL);
		if (name && strcmp(name, s) == 0)
			domid = atoi(ids[i]);
		free(name);
	}
	free(ids);
	xs_close(xs);
	return domid;
}

static struct libxenvchan *client_connect(int domid, int timeout_s)
{
	struct xs_handle *xs = xs_open(0);
	long long deadline = now_ms() + (long long)timeout_s * 1000;
	struct libxenvchan *vc = NULL;
	char *path;

	if (!xs)
		return NULL;
	path = vchan_path(xs, domid);
	xs_close(xs);
	if (!path)
		return NULL;
	/* the guest's agent serves again a moment after the last client
	 * left (a new vchan server): ask again soon, then less often */
	for (useconds_t wait = 5000; !vc; wait = wait < 100000 ? wait * 2 : 200000) {
		vc = libxenvchan_client_init(NULL, domid, path);
		if (!vc) {
			if (now_ms() > deadline)
				break;
			usleep(wait);
		}
	}
	free(path);
	if (vc)
		vc->blocking = 1;
	return vc;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Wait for the replies to request id; returns the exit code to use. */
static int client_replies(struct chan *c, uint32_t id, int outfd)
{
	for (;;) {
		struct vma_hdr h;
		char *p;
		int32_t code;

		if (recv_header(c, &h) < 0) {
			logmsg("the guest's agent went away");
			return 125;
		}
		p = recv_payload(c, h.len);
		if (!p)
			return 125;
		if (h.id != id) {
			free(p);
			continue;
		}
		switch (h.type) {
		case VMA_RESP_OUT:
		case VMA_RESP_DATA:
			if (write_all(outfd, p, h.len) < 0) {
				logmsg("write: %s", strerror(errno));
				free(p);
				return 125;
			}
			break;
		case VMA_RESP_ERR:
			write_all(2, p, h.len);
			break;
		case VMA_RESP_EXIT:
			code = 125;
			if (h.len == 4)
				memcpy(&code, p, 4);
			free(p);
			return code;
		case VMA_RESP_DONE:
			free(p);
			return 0;
		case VMA_RESP_FAIL:
			logmsg("guest: %s", p);
			free(p);
			return 125;
		}
		free(p);
	}
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0, r;

	if (!f)
		return NULL;
	do {
		if (n == cap) {
			char *nb = realloc(buf, cap = cap ? cap * 2 : CHUNK);

			if (!nb) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		r = fread(buf + n, 1, cap - n, f);
		n += r;
	} while (r > 0);
	fclose(f);
	*len = n;
	return buf;
}

static int client_main(int argc, char **argv)
{
	int domid, timeout_s = 60, i = 1, outfd = 1, code;
	uint32_t id = (uint32_t)getpid() ^ (uint32_t)now_ms();
	struct chan c = { .fd = -1, .write_timeout_ms = 60000 };
	char *req = NULL;
	size_t reqlen = 0;
	uint32_t type;

	if (argc < 3)
		return usage();
	domid = domain_id(argv[i]);
	if (domid < 0) {
		logmsg("no domain %s", argv[i]);
		return 125;
	}
	i++;
	if (i + 1 < argc && strcmp(argv[i], "-t") == 0) {
		timeout_s = atoi(argv[i + 1]);
		i += 2;
	}
	if (i >= argc)
		return usage();
	signal(SIGALRM, on_alarm);
	alarm((unsigned int)timeout_s + 15);

	if (strcmp(argv[i], "ping") == 0) {
		type = VMA_REQ_PING;
	} else if (strcmp(argv[i], "exec") == 0 && i + 1 < argc) {
		size_t n = strlen(argv[i + 1]);
		uint32_t t = (uint32_t)timeout_s;

		type = VMA_REQ_EXEC;
		reqlen = 4 + n + 1;
		req = malloc(reqlen);
		if (!req)
			return 125;
		memcpy(req, &t, 4);
		memcpy(req + 4, argv[i + 1], n + 1);
	} else if (strcmp(argv[i], "put") == 0 && i + 2 < argc) {
		uint32_t mode = i + 3 < argc ? (uint32_t)strtoul(argv[i + 3], NULL, 8) : 0644;
		size_t dlen = 0, plen = strlen(argv[i + 2]);
		char *data = slurp(argv[i + 1], &dlen);

		if (!data) {
			logmsg("%s: %s", argv[i + 1], strerror(errno));
			return 125;
		}
		type = VMA_REQ_PUT;
		reqlen = 4 + plen + 1 + dlen;
		req = malloc(reqlen);
		if (!req)
			return 125;
		memcpy(req, &mode, 4);
		memcpy(req + 4, argv[i + 2], plen + 1);
		memcpy(req + 4 + plen + 1, data, dlen);
		free(data);
	} else if (strcmp(argv[i], "get") == 0 && i + 2 < argc) {
		type = VMA_REQ_GET;
		reqlen = strlen(argv[i + 1]) + 1;
		req = strdup(argv[i + 1]);
		outfd = open(argv[i + 2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (outfd < 0) {
			logmsg("%s: %s", argv[i + 2], strerror(errno));
			return 125;
		}
	} else {
		return usage();
	}

	/* a ping asks whether the agent is there at all: it waits no longer
	 * than -t for it (wait_guest() asks again until its own deadline);
	 * anything else waits up to 20 s for a busy agent's next server */
	c.vc = client_connect(domid, type == VMA_REQ_PING && timeout_s < 20 ?
				     timeout_s : 20);
	if (!c.vc) {
		logmsg("no agent reachable in domain %d", domid);
		free(req);
		return 125;
	}
	if (send_frame(&c, type, id, req, reqlen) < 0) {
		logmsg("sending the request failed");
		code = 125;
	} else {
		code = client_replies(&c, id, outfd);
	}
	free(req);
	libxenvchan_close(c.vc);
	if (outfd != 1 && close(outfd) < 0)
		code = 125;
	return code;
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc >= 3 && strcmp(argv[1], "serve-port") == 0) {
		prctl(PR_SET_CHILD_SUBREAPER, 1);
		return serve_port(argv[2]);
	}
	if (argc >= 2 && strcmp(argv[1], "serve-vchan") == 0) {
		prctl(PR_SET_CHILD_SUBREAPER, 1);
		return serve_vchan();
	}
	if (argc >= 2 && strcmp(argv[1], "client") == 0)
		return client_main(argc - 1, argv + 1);
	return usage();
}
