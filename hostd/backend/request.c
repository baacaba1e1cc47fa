// SPDX-License-Identifier: GPL-2.0-only
/*
 * One message off the transport, as the reader (main.c) hands it over:
 * the framing of a request checked, CANCEL answered here (it only signals
 * a worker), every other request charged against the guest's in-flight
 * bytes and handed to the pool as a job.
 *
 * Owns: the rules of a request's header (pd_wire.h): the length it gives
 * is the body's, its id is not 0, no flag but NONBLOCK, no result, no
 * reserved bits. A bad one gets -EINVAL if it has an id to reply to, and
 * is dropped otherwise.
 *
 * Trusts: nothing in buf, the guest's; n is what the transport read. The
 * job owns a copy of the body (ops.c checks it).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"

void be_take_request(struct be *be, const uint8_t *buf, size_t n)
{
	struct pd_wire_hdr hdr;
	struct be_job *job;

	if (n < sizeof(hdr)) {
		be_log(be, "short message (%zu bytes) dropped", n);
		return;
	}
	memcpy(&hdr, buf, sizeof(hdr));
	if (hdr.len != n - sizeof(hdr) || !hdr.id ||
	    hdr.flags & ~(uint16_t)PD_WIRE_F_NONBLOCK || hdr.result ||
	    hdr.reserved) {
		be_log(be, "malformed request header (op %u)", hdr.op);
		if (hdr.id)
			be_reply(be, &hdr, -EINVAL, NULL, 0);
		return;
	}
	if (hdr.op == PD_OP_CANCEL) {
		struct pd_wire_cancel_req cr;
		int64_t r = -EINVAL;

		if (hdr.len == sizeof(cr)) {
			memcpy(&cr, buf + sizeof(hdr), sizeof(cr));
			be_cancel(be, cr.target, &r);
		}
		be_reply(be, &hdr, r, NULL, 0);
		return;
	}
	if (!be_inflight_charge(be, hdr.len)) {
		be_reply(be, &hdr, -ENOBUFS, NULL, 0);
		return;
	}
	job = calloc(1, sizeof(*job));
	if (!job || !(job->body = malloc(hdr.len ? hdr.len : 1))) {
		free(job);
		be_inflight_uncharge(be, hdr.len);
		be_reply(be, &hdr, -ENOMEM, NULL, 0);
		return;
	}
	job->owner = be;
	job->charged = hdr.len;
	job->hdr = hdr;
	memcpy(job->body, buf + sizeof(hdr), hdr.len);
	be_pool_submit(be, job);
}
