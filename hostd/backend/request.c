// SPDX-License-Identifier: GPL-2.0-only
/*
 * One message off the transport, as the reader (main.c) hands it over:
 * the framing of a request checked, CANCEL answered here (it only signals
 * a worker), every other request charged against the guest's in-flight
 * bytes and handed to the pool as a job.
 *
 * Owns: the rules of a request's header (pd_wire.h): the length it gives
 * is the body's, its id is not 0, no flag but NONBLOCK and ASYNC, no
 * result, no reserved bits. A bad one gets -EINVAL if it has an id to
 * reply to, and is dropped otherwise. And the order of asynchronous
 * requests (PD_WIRE_F_ASYNC, pd_wire.h): nobody in the guest waits for
 * them, so they run here, on the reader, reply sent, before the next
 * request is taken off the transport: every later request, on any
 * worker, sees their effect. Only requests that cannot block for long
 * may be asynchronous (be_async_allowed(); ops.c refuses an ioctl whose
 * table entry is not PD_IOC_F_ASYNC).
 *
 * Trusts: nothing in buf, the guest's; n is what the transport read. The
 * job owns a copy of the body (ops.c checks it).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"

/* May a request of op be run asynchronously, on the reader? */
bool be_async_allowed(const struct be *be, uint16_t op)
{
	if (!(be->features & PD_WIRE_FEAT_ASYNC))
		return false;
	return op == PD_OP_RELEASE || op == PD_OP_FLUSH || op == PD_OP_POLL ||
	       op == PD_OP_IOCTL;
}

/* An asynchronous request, run now on the reader (see above). */
static void run_async(struct be *be, const struct pd_wire_hdr *hdr,
		      const uint8_t *body)
{
	struct be_job job = { .hdr = *hdr, .owner = be };

	if (!be_async_allowed(be, hdr->op)) {
		be_log(be, "op %u may not be asynchronous", hdr->op);
		be_reply(be, hdr, -EINVAL, NULL, 0);
		return;
	}
	job.body = malloc(hdr->len ? hdr->len : 1);
	if (!job.body) {
		be_reply(be, hdr, -ENOMEM, NULL, 0);
		return;
	}
	memcpy(job.body, body, hdr->len);
	be_run_job(be, &job);
	free(job.body);
}

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
	    hdr.flags & ~(uint16_t)(PD_WIRE_F_NONBLOCK | PD_WIRE_F_ASYNC) ||
	    hdr.result ||
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
	if (hdr.flags & PD_WIRE_F_ASYNC) {
		run_async(be, &hdr, buf + sizeof(hdr));
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
