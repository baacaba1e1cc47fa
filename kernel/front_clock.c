// SPDX-License-Identifier: GPL-2.0-only
/*
 * The guest's clocks against the backend's (PD_OP_CLOCK, pd_wire.h 1.2):
 * measured here, kept by the backend, which adds them to every time it
 * hands out (DRM vblank and flip events and replies, evdev events), so
 * that a guest's programs compare those times with their own
 * clock_gettime(). In a Xen guest both clocks tick at Xen's system time
 * rate, so the offset is measured once when the connection is set up
 * (before any node exists) and again every PD_CLOCK_RESYNC_S seconds
 * (REALTIME may be set on either side).
 *
 * A measurement is PD_CLOCK_PROBES round trips; the one with the
 * shortest is kept. Its offset is the backend's time against the middle
 * of the trip, so the error is at most half that trip (in practice the
 * difference of the two ways' latencies).
 */
#include <linux/kernel.h>
#include <linux/ktime.h>
#include <linux/timekeeping.h>

#include "front.h"

#define PD_CLOCK_PROBES		5
#define PD_CLOCK_RESYNC_S	30

/* The guest's clocks now, by PD_WIRE_CLOCK_*. */
static void pd_clock_read(s64 *t)
{
	t[PD_WIRE_CLOCK_MONOTONIC] = ktime_get_ns();
	t[PD_WIRE_CLOCK_BOOTTIME] = ktime_get_boottime_ns();
	t[PD_WIRE_CLOCK_REALTIME] = ktime_get_real_ns();
}

/*
 * Measure the offsets and tell the backend. 0 or -errno (a backend that
 * fails it leaves times in its own clocks; the connection goes on).
 */
int pd_clock_sync(struct pd_conn *conn)
{
	struct pd_wire_clock_req req = { 0 };
	struct pd_wire_clock_rsp rsp;
	s64 best_rtt = S64_MAX;
	unsigned int i, k;
	int ret = 0;

	if (!(conn->features & PD_WIRE_FEAT_CLOCK))
		return 0;
	for (i = 0; i < PD_CLOCK_PROBES; i++) {
		s64 t0[PD_WIRE_CLOCK_COUNT], t1[PD_WIRE_CLOCK_COUNT], rtt;

		pd_clock_read(t0);
		ret = pd_conn_call(conn, PD_OP_CLOCK, &req, sizeof(req), &rsp,
				   sizeof(rsp));
		pd_clock_read(t1);
		if (ret)
			return ret;
		rtt = t1[PD_WIRE_CLOCK_MONOTONIC] - t0[PD_WIRE_CLOCK_MONOTONIC];
		if (rtt >= best_rtt)
			continue;
		best_rtt = rtt;
		for (k = 0; k < PD_WIRE_CLOCK_COUNT; k++)
			req.offset_ns[k] = t0[k] + (t1[k] - t0[k]) / 2 -
					   rsp.now_ns[k];
	}
	req.flags = PD_WIRE_CLOCK_SET;
	req.error_ns = (u32)min_t(s64, best_rtt / 2, U32_MAX);
	ret = pd_conn_call(conn, PD_OP_CLOCK, &req, sizeof(req), &rsp,
			   sizeof(rsp));
	if (!ret && !conn->clock_synced)
		pr_info("paradice: conn %u: monotonic clock %+lld ns from the backend's (+- %u ns)\n",
			conn->id, req.offset_ns[PD_WIRE_CLOCK_MONOTONIC],
			req.error_ns);
	if (!ret)
		conn->clock_synced = true;
	return ret;
}

static void pd_clock_work(struct work_struct *work)
{
	struct pd_conn *conn = container_of(to_delayed_work(work),
					    struct pd_conn, clock_work);
	int ret = pd_clock_sync(conn);

	if (ret && !pd_conn_is_dead(conn))
		pr_warn("paradice: conn %u: clock sync failed: %d\n",
			conn->id, ret);
	/* the work's reference goes when it is not queued again (dead,
	 * or pd_clock_stop() cancelling it while it ran) */
	if (pd_conn_is_dead(conn) ||
	    !schedule_delayed_work(&conn->clock_work, PD_CLOCK_RESYNC_S * HZ))
		pd_conn_put(conn);
}

/* After the first sync: sync again now and then, holding a reference. */
void pd_clock_start(struct pd_conn *conn)
{
	if (!(conn->features & PD_WIRE_FEAT_CLOCK))
		return;
	INIT_DELAYED_WORK(&conn->clock_work, pd_clock_work);
	pd_conn_get(conn);
	conn->clock_running = true;
	schedule_delayed_work(&conn->clock_work, PD_CLOCK_RESYNC_S * HZ);
}

/* The connection is dead (no request can succeed): stop syncing. */
void pd_clock_stop(struct pd_conn *conn)
{
	if (!conn->clock_running)
		return;
	conn->clock_running = false;
	if (cancel_delayed_work_sync(&conn->clock_work))
		pd_conn_put(conn);	/* it was pending: its reference */
}
