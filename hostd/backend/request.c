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
 *   - asynchronous ioctls whose entry says PD_IOC_F_ORDERED (a page
 *     flip, a command submission: PD_WIRE_FEAT_ASYNC_ORDERED) may block:
 *     they go to a worker, and the file is "in order" until it is done:
 *     every later request about the same handle waits in the file's
 *     queue (struct be_handle's order_*), in the order it came. The
 *     worker that ran it goes on with that queue: an asynchronous
 *     request it runs itself, in turn; a synchronous one it hands to the
 *     pool (no order holds between it and what the guest sends while its
 *     caller waits). The file leaves the order when its queue is empty.
 *     Requests about other handles never wait for it, but for one: the
 *     handle such an ioctl names for the file it makes (a submission's
 *     fence, PD_WIRE_FEAT_NEWFD_NAMED) is reserved here as it arrives,
 *     and requests about that handle wait in the maker's queue until it
 *     ran (handles.c: be_handle_awaited()).
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

/* A job with a copy of the body, charged against max_inflight; NULL after
 * replying the error. */
static struct be_job *job_copy(struct be *be, const struct pd_wire_hdr *hdr,
			       const uint8_t *body)
{
	struct be_job *job;

	if (!be_inflight_charge(be, hdr->len)) {
		be_reply(be, hdr, -ENOBUFS, NULL, 0);
		return NULL;
	}
	job = calloc(1, sizeof(*job));
	if (!job || !(job->body = malloc(hdr->len ? hdr->len : 1))) {
		free(job);
		be_inflight_uncharge(be, hdr->len);
		be_reply(be, hdr, -ENOMEM, NULL, 0);
		return NULL;
	}
	job->owner = be;
	job->charged = hdr->len;
	job->hdr = *hdr;
	memcpy(job->body, body, hdr->len);
	return job;
}

/* Is this asynchronous request an ordered ioctl of h (the command only
 * peeked at: ops.c checks it all)? */
static bool async_ordered(struct be *be, struct be_handle *h,
			  const struct pd_wire_hdr *hdr, const uint8_t *body)
{
	struct pd_wire_ioctl_req untrusted_req;
	unsigned int flags;

	if (!(be->features & PD_WIRE_FEAT_ASYNC_ORDERED) ||
	    hdr->op != PD_OP_IOCTL || hdr->len < sizeof(untrusted_req))
		return false;
	memcpy(&untrusted_req, body, sizeof(untrusted_req));
	return pd_ioc_lookup(h->dev_class, h->driver, untrusted_req.cmd,
			     &flags) && (flags & PD_IOC_F_ORDERED);
}

/* The handle an ordered ioctl names for its new file (peeked at), or 0. */
static uint32_t named_handle(const struct pd_wire_hdr *hdr, const uint8_t *body)
{
	struct pd_wire_ioctl_req untrusted_req;

	memcpy(&untrusted_req, body, sizeof(untrusted_req));
	return untrusted_req.new_handle;
}

/* A job of an ordered ioctl that could not be queued gives its named
 * handle back (its error was replied). */
static void named_drop(struct be *be, uint32_t named)
{
	if (named)
		be_handle_unreserve(be, named);
}

/*
 * A request about h while h is in order waits in its queue: true if it
 * was queued (or refused). It is copied first, and queued only if h is
 * still in order then (its worker may have just left it). named: the
 * handle an ordered ioctl reserved for its new file.
 */
static bool order_wait(struct be *be, struct be_handle *h,
		       const struct pd_wire_hdr *hdr, const uint8_t *body,
		       uint32_t named)
{
	struct be_job *job;
	bool busy;

	/* set only by this thread (order_start), so never missed here */
	if (!atomic_load(&h->order_busy))
		return false;
	job = job_copy(be, hdr, body);
	if (!job) {
		named_drop(be, named);
		return true;
	}
	job->in_order = hdr->flags & PD_WIRE_F_ASYNC;
	job->named = named;
	pthread_mutex_lock(&be->lock);
	busy = atomic_load(&h->order_busy);
	if (busy) {
		if (h->order_tail)
			h->order_tail->next = job;
		else
			h->order_head = job;
		h->order_tail = job;
	}
	pthread_mutex_unlock(&be->lock);
	if (!busy)
		be_job_free(job);
	return busy;
}

/* An ordered ioctl of h: h enters its order, a worker runs it. */
static void order_start(struct be *be, struct be_handle *h,
			const struct pd_wire_hdr *hdr, const uint8_t *body,
			uint32_t named)
{
	struct be_job *job = job_copy(be, hdr, body);

	if (!job) {
		named_drop(be, named);
		return;
	}
	job->in_order = true;
	job->ordered = h;
	job->named = named;
	pthread_mutex_lock(&be->lock);
	h->refs++;		/* the job's */
	atomic_store(&h->order_busy, true);
	pthread_mutex_unlock(&be->lock);
	be_pool_submit(be, job);
}

void be_order_continue(struct be *be, struct be_handle *h)
{
	struct be_job *job;

	for (;;) {
		pthread_mutex_lock(&be->lock);
		job = h->order_head;
		if (job) {
			h->order_head = job->next;
			if (!h->order_head)
				h->order_tail = NULL;
		} else {
			atomic_store(&h->order_busy, false);
		}
		pthread_mutex_unlock(&be->lock);
		if (!job)
			break;
		job->next = NULL;
		if (!(job->hdr.flags & PD_WIRE_F_ASYNC)) {
			be_pool_submit(be, job);
			continue;
		}
		if (be_async_allowed(be, job->hdr.op))
			be_run_job(be, job);
		else
			be_reply(be, &job->hdr, -EINVAL, NULL, 0);
		be_job_free(job);
	}
	be_handle_put(be, h);
}

bool be_order_cancel(struct be *be, uint64_t target)
{
	bool found = false;

	pthread_mutex_lock(&be->lock);
	for (uint32_t i = 0; i < be->next_handle; i++) {
		struct be_handle *h = be->handles[i];

		for (struct be_job *j = h ? h->order_head : NULL; j; j = j->next)
			if (j->hdr.id == target &&
			    !(j->hdr.flags & PD_WIRE_F_ASYNC)) {
				atomic_store(&j->cancel, true);
				found = true;
			}
	}
	pthread_mutex_unlock(&be->lock);
	return found;
}

void be_take_request(struct be *be, const uint8_t *buf, size_t n)
{
	const uint8_t *body = buf + sizeof(struct pd_wire_hdr);
	struct pd_wire_hdr hdr;
	struct be_handle *h;
	struct be_job *job;
	bool done = false, ordered;
	uint32_t named = 0;

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
	/* a file in order: after what came before (no handle: no order) */
	h = atomic_load(&be->connected) ? be_handle_get(be, hdr.handle) : NULL;
	ordered = h && (hdr.flags & PD_WIRE_F_ASYNC) &&
		  async_ordered(be, h, &hdr, body);
	if (ordered && (named = named_handle(&hdr, body))) {
		int err = -EINVAL;

		if (be->features & PD_WIRE_FEAT_NEWFD_NAMED)
			err = be_handle_reserve(be, named, h);
		else
			be_log(be, "new_handle refused: named handles were not agreed");
		if (err) {
			be_reply(be, &hdr, err, NULL, 0);
			be_handle_put(be, h);
			return;
		}
	}
	if (h && order_wait(be, h, &hdr, body, named))
		done = true;
	else if (ordered)
		order_start(be, h, &hdr, body, named);
	else if (!h && atomic_load(&be->connected) &&
		 (h = be_handle_awaited(be, hdr.handle)))
		/* a named handle whose file is not made yet: after its maker
		 * (if the maker left its order since, the file is made) */
		done = order_wait(be, h, &hdr, body, 0);
	be_handle_put(be, h);
	if (done || ordered)
		return;
	if (hdr.flags & PD_WIRE_F_ASYNC) {
		run_async(be, &hdr, body);
		return;
	}
	if (run_inline(be, &hdr, (uint8_t *)body))
		return;
	job = job_copy(be, &hdr, body);
	if (job)
		be_pool_submit(be, job);
}
