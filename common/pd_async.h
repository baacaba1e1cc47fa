/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * The frontend's rules for what it no longer waits for (pd_wire.h,
 * "Requests nobody waits for"), as pure functions over a caller-locked
 * struct, so that a unit test can drive them (tests/unit/test_async.c):
 *
 *   - the error of an asynchronous request, kept for the file's next
 *     synchronous call (the first one kept, the next call takes it);
 *   - the page flips with an event a DRM file is owed the events of, so
 *     that a flip goes without a wait only while none is (pd_wire.h 1.7);
 *   - the poll readiness the frontend believes without a trip: from a
 *     PD_OP_POLL reply, the state a request's reply carries
 *     (PD_WIRE_F_POLL_STATE), or a PD_EV_POLL event, whose sequence is
 *     not before anything it saw, and only while no other request on the
 *     file was sent since and none is in flight (any of them may change
 *     it); "not ready" answered without a trip only while the backend's
 *     registration is known to stay armed for what is asked.
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
 * (other than polls) that were sent; `busy` those in flight. `synced`: a
 * poll reply or a request's reply (PD_WIRE_F_POLL_STATE) told the state
 * after every request sent before it, and `seq` is the sequence of what
 * is believed now (reply or believed event); `ready` the bits then ready
 * among `asked` (what the backend's registration is armed for). `armed`:
 * the registration stays armed for `asked` (PD_WIRE_FEAT_POLL_STATE), so
 * any later readiness comes as an event and a "not ready" may be answered
 * without a trip. `newest`/`newest_mask`: the newest event seen (`seen`),
 * believed or not: a reply whose sequence is before it is older than that
 * event's look and is never believed over it.
 */
struct pd_pollc {
	__u32 gen;
	__u32 busy;
	__u32 seq;
	__u32 asked;
	__u32 ready;
	__u32 newest;
	__u32 newest_mask;
	bool synced;
	bool armed;
	bool seen;
};

/*
 * What a reply must show to be believed: the requests sent when its
 * request went (gen), and whether none was in flight then (clean).
 */
struct pd_pollc_tok {
	__u32 gen;
	bool clean;
};

/* A request other than a poll is about to be sent on the file: its
 * token, for a state its reply may carry (pd_pollc_op_end_state()). */
static inline struct pd_pollc_tok pd_pollc_op_begin(struct pd_pollc *p)
{
	struct pd_pollc_tok t = { .clean = !p->busy };

	p->gen++;
	p->busy++;
	p->synced = false;
	p->ready = 0;
	t.gen = p->gen;
	return t;
}

/* ... and it has its reply (or failed), with no state. */
static inline void pd_pollc_op_end(struct pd_pollc *p)
{
	if (p->busy)
		p->busy--;
}

/* A poll trip is about to go: the token its reply must show. */
static inline struct pd_pollc_tok pd_pollc_poll_begin(const struct pd_pollc *p)
{
	struct pd_pollc_tok t = { .gen = p->gen, .clean = !p->busy };

	return t;
}

/*
 * Believe the state {seq, mask} the backend looked at with its
 * registration armed for `events`, unless what is known is newer: a
 * believed state of a later sequence stays; an event seen of a later
 * sequence (not believed: it came while a request was in flight) was
 * looked at after this state and after everything the caller checked
 * was done, so it is taken instead.
 */
static inline void pd_pollc_take(struct pd_pollc *p, __u32 events, __u32 seq,
				 __u32 mask, bool armed)
{
	if (p->synced && pd_seq_after(p->seq, seq))
		return;
	if (p->seen && pd_seq_after(p->newest, seq)) {
		seq = p->newest;
		mask = p->newest_mask;
	}
	p->synced = true;
	p->seq = seq;
	p->asked = events;
	p->armed = armed;
	p->ready = mask & (events | PD_POLLC_ALWAYS);
}

/*
 * The reply of a poll trip sent with tok: the backend's mask and sequence
 * (as it looked, before or after it armed `asked`; `armed`: the
 * registration stays). Believed only if no other request was in flight
 * when the poll went, none was sent since and none is in flight, and if it
 * is not older than what is known already.
 */
static inline void pd_pollc_poll_reply(struct pd_pollc *p,
				       struct pd_pollc_tok tok, __u32 asked,
				       __u32 seq, __u32 mask, bool armed)
{
	if (!tok.clean || p->gen != tok.gen || p->busy)
		return;
	pd_pollc_take(p, asked, seq, mask, armed);
}

/*
 * A request sent with tok has its reply, which carries the file's state
 * after it ran (PD_WIRE_F_POLL_STATE): the registration's events, the
 * sequence, then the mask. Believed under the same rules as a poll reply:
 * nothing else in flight when it went, nothing sent since.
 */
static inline void pd_pollc_op_end_state(struct pd_pollc *p,
					 struct pd_pollc_tok tok, __u32 events,
					 __u32 seq, __u32 mask)
{
	pd_pollc_op_end(p);
	if (!tok.clean || p->gen != tok.gen || p->busy)
		return;
	pd_pollc_take(p, events, seq, mask, true);
}

/*
 * A PD_EV_POLL of sequence seq with revents: true if it is believed (it
 * is newer than everything known, and nothing was sent since the state
 * it follows); false if stale, which must still wake pollers. Either way
 * it is remembered as the newest seen if it is.
 */
static inline bool pd_pollc_event(struct pd_pollc *p, __u32 seq,
				  __u32 revents)
{
	if (!p->seen || pd_seq_after(seq, p->newest)) {
		p->seen = true;
		p->newest = seq;
		p->newest_mask = revents;
	}
	if (!p->synced || p->busy || !pd_seq_after(seq, p->seq))
		return false;
	p->seq = seq;
	p->ready = revents & (p->asked | PD_POLLC_ALWAYS);
	return true;
}

/*
 * May poll() for `events` be answered without a trip? Only when the
 * known state is fresh and the backend was armed for at least those
 * events (so the answer has every bit the real file would give); and,
 * unless the registration is known to stay armed (then any later
 * readiness comes as an event, which wakes the caller, who must have
 * registered on the file's wait queue before asking), only when
 * something is ready: a "not ready" answer must then register with the
 * backend, so it travels. *mask is then the answer.
 */
static inline bool pd_pollc_answer(const struct pd_pollc *p, __u32 events,
				   __u32 *mask)
{
	__u32 m = p->ready & (events | PD_POLLC_ALWAYS);

	if (!p->synced || p->busy || (events & ~p->asked) || !events)
		return false;
	if (!m && !p->armed)
		return false;
	*mask = m;
	return true;
}

/*
 * The flip-complete events a DRM file is owed (kernel/front_drm.c). A
 * flip with an event is counted before it goes, since its event may come
 * before its reply, and given back if it failed (no event comes then).
 * It may go without a wait only if none was owed (its one error in a
 * program's flip loop, EBUSY for a flip pending, cannot happen then) and
 * it asks nothing but the event. An atomic commit with events ends the
 * count for good (owed < 0): its events cannot be told from the flips'.
 */
struct pd_flips {
	__s32 owed;
};

/* A flip with an event goes: true if it may go without a wait. */
static inline bool pd_flips_send(struct pd_flips *f, bool event_only)
{
	if (f->owed < 0)
		return false;
	return f->owed++ == 0 && event_only;
}

/* Its reply (or, without a wait, its asynchronous reply) said it failed. */
static inline void pd_flips_failed(struct pd_flips *f)
{
	if (f->owed > 0)
		f->owed--;
}

/* A flip-complete event came. */
static inline void pd_flips_event(struct pd_flips *f)
{
	if (f->owed > 0)
		f->owed--;
}

/* An atomic commit with events succeeded. */
static inline void pd_flips_atomic(struct pd_flips *f)
{
	f->owed = -1;
}

#endif /* PARADICE_PD_ASYNC_H */
