// SPDX-License-Identifier: GPL-2.0-only
/*
 * One message off the transport, as the reader (main.c) hands it over:
 * the framing of a request checked, CANCEL answered here (it only signals
 * a worker), a request that cannot wait run here, every other request
 * charged against the guest's in-flight bytes and handed to the pool as a
 * job.
 *
 * Owns: the rules of a request's header (pd_wire.h): the length it gives
 * is the body's, its id is not 0, no flag but NONBLOCK and ASYNC, no
 * result, no reserved bits. A bad one gets -EINVAL if it has an id to
 * reply to, and is dropped otherwise. And where a request runs:
 *
 *   - asynchronous requests (PD_WIRE_F_ASYNC, pd_wire.h): nobody in the
 *     guest waits for them, so they run here, on the reader, reply sent,
 *     before the next request is taken off the transport: every later
 *     request, on any worker, sees their effect. Only requests that cannot
 *     block for long may be asynchronous (be_async_allowed(); ops.c
 *     refuses an ioctl whose table entry is not PD_IOC_F_ASYNC).
 *   - synchronous requests that cannot wait (inline.c has the rule and
 *     why each kind is safe: POLL and non-blocking READ of DRM and evdev
 *     files, ioctls whose table entry says PD_IOC_F_INLINE or
 *     PD_IOC_F_ASYNC, unless the class hooks answer them and may wait)
 *     also run here, reply sent before the next request is taken: no
 *     thread handoff. Here they never wait for the backend's own locks
 *     that a worker may hold across a wait: the file's lock is only tried
 *     (ops.c), evdev's gate too (be_evdev_gate_*); when taken, the request
 *     goes to a worker as any other. They hold no copy of their body (the
 *     reader's buffer is theirs until they replied), so they are not
 *     charged against max_inflight; no CANCEL can find them, since the
 *     reader reads none while one runs (the guest then gets -ENOENT, as
 *     for a worker's request just answered). be.inline_off turns this
 *     off (PD_BACKEND_INLINE=0, SIGUSR2: main.c).
 *   - everything else: a worker (pool.c), which may block as long as the
 *     guest's program would.
 *
 * Trusts: nothing in buf, the guest's; n is what the transport read. The
 * job owns a copy of the body (ops.c checks it).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "inline.h"

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

/* evdev's gate (backend.h, inline.c): a worker's request that may wait
 * holding evdev's device mutex waits for inline queries to end, and keeps
 * new ones off the reader until it is done. */
void be_evdev_gate_enter(struct be *be)
{
	pthread_mutex_lock(&be->gate_lock);
	be->gate_writers++;
	while (be->gate_readers)
		pthread_cond_wait(&be->gate_cond, &be->gate_lock);
	pthread_mutex_unlock(&be->gate_lock);
}

void be_evdev_gate_leave(struct be *be)
{
	pthread_mutex_lock(&be->gate_lock);
	be->gate_writers--;
	pthread_mutex_unlock(&be->gate_lock);
}

static bool gate_try_read(struct be *be)
{
	bool ok;

	pthread_mutex_lock(&be->gate_lock);
	ok = !be->gate_writers;
	if (ok)
		be->gate_readers++;
	pthread_mutex_unlock(&be->gate_lock);
	return ok;
}

static void gate_read_done(struct be *be)
{
	pthread_mutex_lock(&be->gate_lock);
	if (!--be->gate_readers)
		pthread_cond_broadcast(&be->gate_cond);
	pthread_mutex_unlock(&be->gate_lock);
}

/*
 * A synchronous request run here if it cannot wait (inline.c): true if
 * it ran (replied), false to hand it to a worker. The body is the
 * reader's buffer, untrusted: only the ioctl's command number is looked
 * at to choose, and ops.c checks everything when it runs.
 */
static bool run_inline(struct be *be, const struct pd_wire_hdr *hdr,
		       uint8_t *body)
{
	struct be_job job = { .hdr = *hdr, .owner = be, .body = body,
			      .on_reader = true };
	struct be_inline_req q = { .op = hdr->op, .wire_flags = hdr->flags };
	struct pd_wire_ioctl_req untrusted_req;
	struct be_handle *h;
	bool reading = false, ran = false;

	if (atomic_load(&be->inline_off) || !atomic_load(&be->connected) ||
	    (hdr->op != PD_OP_IOCTL && hdr->op != PD_OP_POLL &&
	     hdr->op != PD_OP_READ))
		return false;
	h = be_handle_get(be, hdr->handle);
	if (!h)
		return false;
	q.dev_class = h->dev_class;
	if (h->hooks) {
		q.hook_ioctl = h->hooks->ioctl;
		q.hook_read = h->hooks->read;
		q.hook_poll = h->hooks->poll;
		q.hooks_never_wait = h->hooks->never_wait;
	}
	if (hdr->op == PD_OP_IOCTL && hdr->len >= sizeof(untrusted_req)) {
		memcpy(&untrusted_req, body, sizeof(untrusted_req));
		if (!pd_ioc_lookup(h->dev_class, h->driver, untrusted_req.cmd,
				   &q.ioc_flags))
			q.ioc_flags = 0;
	}
	if (be_inline_rule(&q)) {
		if (h->dev_class != PD_WIRE_CLASS_EVDEV ||
		    hdr->op != PD_OP_IOCTL)
			ran = be_run_job(be, &job);
		else if ((reading = gate_try_read(be)))
			ran = be_run_job(be, &job);
	}
	/* our reference goes before the gate: a RELEASE of h waits at the
	 * gate, so this is not the last one (evdev's close stays a worker's) */
	be_handle_put(be, h);
	if (reading)
		gate_read_done(be);
	return ran;
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
	if (run_inline(be, &hdr, (uint8_t *)buf + sizeof(hdr)))
		return;
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
