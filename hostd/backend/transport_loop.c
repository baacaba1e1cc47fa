// SPDX-License-Identifier: GPL-2.0-only
/*
 * The loop transport, backend side: the frontend module in this same
 * kernel hands requests out of /dev/paradice-loop, one per read(2), and
 * takes replies and events, one per write(2). See pd_loop.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <paradice/pd_loop.h>
#include "backend.h"

static ssize_t loop_recv(struct be_transport *t, void *buf, size_t cap)
{
	ssize_t n;

	do {
		n = read(t->fd, buf, cap);
	} while (n < 0 && errno == EINTR);
	return n;
}

static int loop_send(struct be_transport *t, const void *msg, size_t len)
{
	ssize_t n;

	do {
		n = write(t->fd, msg, len);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	if ((size_t)n != len) {
		errno = EIO;
		return -1;
	}
	return 0;
}

static int loop_attach(struct be_transport *t, uint32_t handle, int fd)
{
	struct pd_loop_attach a = { .handle = handle, .fd = fd };

	return ioctl(t->fd, PD_LOOP_IOC_ATTACH, &a);
}

static void loop_destroy(struct be_transport *t)
{
	if (!t)
		return;
	close(t->fd);
	free(t);
}

static const struct be_transport_impl loop_impl = {
	.name = "loop",
	.features = PD_WIRE_FEAT_POLL_EVENTS | PD_WIRE_FEAT_FASYNC |
		    PD_WIRE_FEAT_NEWFD | PD_WIRE_FEAT_CANCEL,
	.recv = loop_recv,
	.send = loop_send,
	.attach = loop_attach,
	.destroy = loop_destroy,
};

struct be_transport *be_loop_create(const char *path)
{
	struct be_transport *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->impl = &loop_impl;
	t->fd = open(path, O_RDWR | O_CLOEXEC);
	if (t->fd < 0) {
		free(t);
		return NULL;
	}
	return t;
}

/* Wait until the frontend created the guest's nodes and describe them
 * (see PD_LOOP_IOC_NODES). Returns the number of exports or -1. */
int be_loop_nodes(struct be_transport *t, struct pd_loop_node *nodes,
		  unsigned int count, int *status)
{
	struct pd_loop_nodes n = {
		.count = count,
		.nodes = (uint64_t)(uintptr_t)nodes,
	};
	int ret;

	do {
		ret = ioctl(t->fd, PD_LOOP_IOC_NODES, &n);
	} while (ret && errno == EINTR);
	if (ret)
		return -1;
	*status = n.status;
	return (int)n.count;
}
