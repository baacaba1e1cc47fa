/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * The events a backend pushed for one DRM or evdev file (pd_wire.h,
 * "Events pushed into the guest"), kept in the guest until its read():
 * whole records, oldest first, taken whole as the file gives them (struct
 * drm_event, whose header says its length; for evdev records of one size,
 * rec: struct input_event).
 * Pure functions over a caller-locked struct, so that a unit test can
 * drive them (tests/unit/test_evbuf.c).
 *
 * Locking in the frontend (kernel/front_fops.c): put under the file's
 * spinlock (events arrive in the event channel's interrupt); readers are
 * serialised by a mutex and may copy the first pd_evbuf_peek() bytes out
 * without the spinlock, since put only appends behind them; drop under
 * the spinlock again.
 */
#ifndef PARADICE_PD_EVBUF_H
#define PARADICE_PD_EVBUF_H

#include "pd_compat.h"
#include <paradice/pd_wire.h>

/* A DRM record's header, struct drm_event: type, then length (u32s). */
#define PD_EVBUF_HDR	8u

struct pd_evbuf {
	__u32 rec;		/* the size of every record; 0: DRM's */
	__u32 len;		/* bytes held, from data[0] */
	__u32 pushed;		/* the backend's running total, as last told */
	__u32 acked;		/* the total the last PD_OP_READ said seen */
	__u8 data[PD_WIRE_PUSH_MAX];
};

/* The length of the record at p (n bytes left), or 0 if it is not whole. */
static inline __u32 pd_evbuf_rec(const struct pd_evbuf *b, const __u8 *p,
				 __u32 n)
{
	__u32 len;

	if (b->rec)
		return n >= b->rec ? b->rec : 0;
	if (n < PD_EVBUF_HDR)
		return 0;
	pd_memcpy(&len, p + 4, sizeof(len));
	return len >= PD_EVBUF_HDR && len <= n ? len : 0;
}

/*
 * n bytes of records pushed, the backend's total after them being pushed.
 * The total is taken in any case (a later PD_OP_READ says it, so that the
 * backend does not take it for a crossed push). Returns 0; -EPROTO if the
 * bytes are not whole records or the total does not follow the last one;
 * -ENOSPC if they do not fit (the backend broke PD_WIRE_PUSH_MAX). Nothing
 * is kept on an error.
 */
static inline int pd_evbuf_put(struct pd_evbuf *b, const void *recs, __u32 n,
			       __u32 pushed)
{
	const __u8 *p = (const __u8 *)recs;
	__u32 left = n, prev = b->pushed;

	b->pushed = pushed;
	if (!n || pushed - prev != n)
		return -EPROTO;
	while (left) {
		__u32 len = pd_evbuf_rec(b, p, left);

		if (!len)
			return -EPROTO;
		p += len;
		left -= len;
	}
	if (n > sizeof(b->data) - b->len)
		return -ENOSPC;
	pd_memcpy(b->data + b->len, recs, n);
	b->len += n;
	return 0;
}

/* How many bytes from the front are whole records that fit in count. */
static inline __u32 pd_evbuf_peek(const struct pd_evbuf *b, __u32 count)
{
	__u32 n = 0;

	while (n < b->len) {
		__u32 len = pd_evbuf_rec(b, b->data + n, b->len - n);

		if (!len || len > count - n)
			break;
		n += len;
	}
	return n;
}

/* The first n bytes (a pd_evbuf_peek() answer) were read. */
static inline void pd_evbuf_drop(struct pd_evbuf *b, __u32 n)
{
	if (n > b->len)
		n = b->len;
	b->len -= n;
	__builtin_memmove(b->data, b->data + n, b->len);
}

/*
 * evdev: what EVIOCGKEY, EVIOCGLED, EVIOCGSND and EVIOCGSW do to a
 * client's queue natively (evdev_handle_get_val()): the held events of
 * that type go, since the state the ioctl returned includes them; then a
 * SYN_REPORT with no event kept since the one before goes too (a leading
 * one stays). type_off: where the u16 type lies in a record (its code
 * follows). Fixed-size records only (b->rec); nothing happens otherwise.
 */
#define PD_EVBUF_EV_SYN		0u
#define PD_EVBUF_SYN_REPORT	0u

static inline void pd_evbuf_flush_type(struct pd_evbuf *b, __u16 type,
				       __u32 type_off)
{
	__u32 in, out = 0, kept = 1;	/* events kept since the last report */

	if (!b->rec || type_off + 4 > b->rec || type == PD_EVBUF_EV_SYN)
		return;
	for (in = 0; in + b->rec <= b->len; in += b->rec) {
		__u16 t, c;
		bool report;

		pd_memcpy(&t, b->data + in + type_off, sizeof(t));
		pd_memcpy(&c, b->data + in + type_off + 2, sizeof(c));
		report = t == PD_EVBUF_EV_SYN && c == PD_EVBUF_SYN_REPORT;
		if (t == type || (report && !kept))
			continue;
		if (out != in)
			__builtin_memmove(b->data + out, b->data + in, b->rec);
		out += b->rec;
		kept = report ? 0 : kept + 1;
	}
	b->len = out;
}

/*
 * May the backend keep events of the file back, for want of room? It
 * pushes at most PD_WIRE_PUSH_MAX bytes beyond what a read acknowledged,
 * in pieces of at most PD_WIRE_EV_DATA_MAX, and only a read with none
 * held (PD_OP_READ's seen) acknowledges. With less than that out, any
 * event due was pushed; past it, the file's readiness is the backend's
 * to tell (a poll that travels).
 */
static inline bool pd_evbuf_may_hold_back(const struct pd_evbuf *b)
{
	return b->pushed - b->acked > PD_WIRE_PUSH_MAX - PD_WIRE_EV_DATA_MAX;
}

#endif /* PARADICE_PD_EVBUF_H */
