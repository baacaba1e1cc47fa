/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * The frontend's rules for what it no longer waits for (pd_wire.h,
 * "Requests nobody waits for"), as pure functions over a caller-locked
 * struct, so that a unit test can drive them (tests/unit/test_async.c):
 *
 *   - the error of an asynchronous request, kept for the file's next
 *     synchronous call (the first one kept, the next call takes it);
 *   - the poll readiness the frontend believes without a trip: from a
 *     PD_OP_POLL reply or a PD_EV_POLL event whose sequence is newer than
 *     everything it knew, and only while no other request on the file was
 *     sent since and none is in flight (any of them may change it).
 *
 * Every function is called with the owner's lock held (kernel/front_file.c:
 * a spinlock taken with interrupts off, since replies complete in the
 * event channel's interrupt).
 */
#ifndef PARADICE_PD_ASYNC_H
#define PARADICE_PD_ASYNC_H

#include "pd_compat.h"

/* Error of an asynchronous request, for the next synchronous call. */
struct pd_async_err {
	int err;		/* negative errno, 0: none */
};

static inline void pd_async_err_set(struct pd_async_err *a, int err)
{
	if (err < 0 && !a->err)
		a->err = err;
}

/* The error to report now (then forgotten), or 0. */
static inline int pd_async_err_take(struct pd_async_err *a)
{
	int err = a->err;

	a->err = 0;
	return err;
}

/* Bits a poll answers whether asked or not (POLLERR, POLLHUP: the wire
 * uses Linux's poll numbering). */
#define PD_POLLC_ALWAYS	0x18u

/* Sequence a is after b (wrapping 32-bit counters). */
static inline bool pd_seq_after(__u32 a, __u32 b)
{
	return (__s32)(a - b) > 0;
}

/*
 * Poll readiness of one file. `gen` counts the requests on the file
 * (other than polls) that were sent; `busy` those in flight. `synced`:
 * a poll reply told the state after every request sent before it, and
 * `seq` is the newest sequence known (reply or believed event); `ready`
 * the bits then ready among `asked` (what the backend was armed for).
 */
struct pd_pollc {
	__u32 gen;
	__u32 busy;
	__u32 seq;
	__u32 asked;
	__u32 ready;
	bool synced;
};

/* A request other than a poll is about to be sent on the file. */
static inline void pd_pollc_op_begin(struct pd_pollc *p)
{
	p->gen++;
	p->busy++;
	p->synced = false;
	p->ready = 0;
}

/* ... and it has its reply (or failed). */
static inline void pd_pollc_op_end(struct pd_pollc *p)
{
	if (p->busy)
		p->busy--;
}

/* A poll trip is about to go: the token its reply must show. */
static inline __u32 pd_pollc_poll_begin(const struct pd_pollc *p)
{
	return p->gen;
}

/*
 * The reply of a poll trip sent with token: the backend's mask and
 * sequence (as it looked, before it armed `asked`). Believed only if no
 * other request was sent since the poll went and none is in flight, and
 * if it is not older than what is known already.
 */
static inline void pd_pollc_poll_reply(struct pd_pollc *p, __u32 token,
				       __u32 asked, __u32 seq, __u32 mask)
{
	if (p->gen != token || p->busy)
		return;
	if (p->synced && !pd_seq_after(seq, p->seq) && seq != p->seq)
		return;
	p->synced = true;
	p->seq = seq;
	p->asked = asked;
	p->ready = mask & (asked | PD_POLLC_ALWAYS);
}

/*
 * A PD_EV_POLL of sequence seq with revents: true if it is believed (it
 * is newer than everything known, and nothing was sent since the state
 * it follows); false if stale, which must still wake pollers.
 */
static inline bool pd_pollc_event(struct pd_pollc *p, __u32 seq,
				  __u32 revents)
{
	if (!p->synced || p->busy || !pd_seq_after(seq, p->seq))
		return false;
	p->seq = seq;
	p->ready = revents & (p->asked | PD_POLLC_ALWAYS);
	return true;
}

/*
 * May poll() for `events` be answered without a trip? Only when the
 * known state is fresh, the backend was armed for at least those events
 * (so the answer has every bit the real file would give), and one of
 * them is ready (a "not ready" answer must register with the backend, so
 * it travels). *mask is then the answer.
 */
static inline bool pd_pollc_answer(const struct pd_pollc *p, __u32 events,
				   __u32 *mask)
{
	if (!p->synced || p->busy || (events & ~p->asked) ||
	    !(p->ready & events))
		return false;
	*mask = p->ready & (events | PD_POLLC_ALWAYS);
	return true;
}

#endif /* PARADICE_PD_ASYNC_H */
