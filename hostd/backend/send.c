// SPDX-License-Identifier: GPL-2.0-only
/*
 * Messages to the guest: replies to its requests and events it did not
 * ask for (poll readiness, SIGIO, revoked mappings, display flips). Each
 * is one header and its body handed whole to the transport's send(),
 * which is thread-safe, so any worker or the event thread may send.
 * Below everything that answers the guest; above only the log.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"

/* One message of a header and two pieces of body (the second may be
 * empty); hdr->len is set here; 0, or -1 with errno (logged). */
static int send_parts(struct be *be, struct pd_wire_hdr *hdr,
		      const void *body, size_t len, const void *more,
		      size_t more_len)
{
	uint8_t small[256];
	uint8_t *msg = small;
	size_t all = len + more_len;
	int ret;

	if (sizeof(*hdr) + all > sizeof(small)) {
		msg = malloc(sizeof(*hdr) + all);
		if (!msg)
			return -1;
	}
	hdr->len = (uint32_t)all;
	memcpy(msg, hdr, sizeof(*hdr));
	if (len)
		memcpy(msg + sizeof(*hdr), body, len);
	if (more_len)
		memcpy(msg + sizeof(*hdr) + len, more, more_len);
	ret = be->tp->impl->send(be->tp, msg, sizeof(*hdr) + all);
	if (ret)
		be_log(be, "cannot send op %u: %s", hdr->op, strerror(errno));
	if (msg != small)
		free(msg);
	return ret;
}

int be_send(struct be *be, struct pd_wire_hdr *hdr, const void *body,
	    size_t len)
{
	return send_parts(be, hdr, body, len, NULL, 0);
}

int be_reply(struct be *be, const struct pd_wire_hdr *req, int64_t result,
	     const void *body, size_t len)
{
	struct pd_wire_hdr hdr = {
		.id = req->id,
		.op = req->op,
		.flags = PD_WIRE_F_REPLY,
		.handle = req->handle,
		.result = result,
	};

	return be_send(be, &hdr, body, len);
}

int be_reply_states(struct be *be, const struct pd_wire_hdr *req,
		    int64_t result, const void *body, size_t len,
		    const struct pd_wire_poll_state *states, uint32_t n)
{
	struct pd_wire_hdr hdr = {
		.id = req->id,
		.op = req->op,
		.flags = PD_WIRE_F_REPLY | PD_WIRE_F_POLL_STATE,
		.handle = req->handle,
		.result = result,
	};
	uint8_t tail[(1 + PD_WIRE_IOCTL_MAX_NEWFDS) *
		     sizeof(struct pd_wire_poll_state) +
		     sizeof(struct pd_wire_poll_tail)];
	struct pd_wire_poll_tail t = { .count = n };
	size_t slen = n * sizeof(*states);

	if (!n || n > 1 + PD_WIRE_IOCTL_MAX_NEWFDS)
		return be_reply(be, req, result, body, len);
	memcpy(tail, states, slen);
	memcpy(tail + slen, &t, sizeof(t));
	return send_parts(be, &hdr, body, len, tail, slen + sizeof(t));
}

int be_send_event(struct be *be, uint16_t op, uint32_t handle,
		  const void *body, size_t len)
{
	struct pd_wire_hdr hdr = {
		.op = op,
		.flags = PD_WIRE_F_EVENT,
		.handle = handle,
	};

	return be_send(be, &hdr, body, len);
}
