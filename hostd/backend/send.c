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

/* hdr->len is set here; 0, or -1 with errno (logged). */
int be_send(struct be *be, struct pd_wire_hdr *hdr, const void *body,
	    size_t len)
{
	uint8_t small[256];
	uint8_t *msg = small;
	int ret;

	if (sizeof(*hdr) + len > sizeof(small)) {
		msg = malloc(sizeof(*hdr) + len);
		if (!msg)
			return -1;
	}
	hdr->len = (uint32_t)len;
	memcpy(msg, hdr, sizeof(*hdr));
	if (len)
		memcpy(msg + sizeof(*hdr), body, len);
	ret = be->tp->impl->send(be->tp, msg, sizeof(*hdr) + len);
	if (ret)
		be_log(be, "cannot send op %u: %s", hdr->op, strerror(errno));
	if (msg != small)
		free(msg);
	return ret;
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
