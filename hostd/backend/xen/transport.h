/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The Xen transport's insides, shared by its files and by nothing else
 * (main.c knows only be_xen_create() in backend.h):
 *
 *   supervise.c  the monitor process; the server's lifetime; what to do
 *                when the frontend's state or the domain changes
 *   xenstore.c   XenStore: the layout, publishing, reading the frontend's
 *                directory, watches, the XenbusState nodes
 *   grant.c      grant mappings of the guest's rings and data area; the
 *                grant helper (/dev/paradice-grant) for mmap
 *   ring.c       the two rings and their event channels: recv and send
 *   slot.c       the checks of what the frontend writes into the rings
 *                (pure; its header slot.h has the rings' types)
 *
 * Not named xen.h: hostd/backend is on the include path, so a file here
 * named like one of <xen/...> would be found in its place.
 */
#ifndef PD_BACKEND_XEN_TRANSPORT_H
#define PD_BACKEND_XEN_TRANSPORT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <xenevtchn.h>
#include <xengnttab.h>
#include <xenstore.h>

#include "backend.h"

#include "slot.h"

#define MAX_DATA_PAGES	16384u		/* 64 MiB: more is refused */

/* XenbusState */
enum {
	XB_UNKNOWN, XB_INITIALISING, XB_INITWAIT, XB_INITIALISED,
	XB_CONNECTED, XB_CLOSING, XB_CLOSED, XB_RECONFIGURING,
	XB_RECONFIGURED,
};

/* One connection: the server's whole state. */
struct xen_transport {
	struct be_transport base;
	struct be *be;
	unsigned int domid;
	char be_path[128];		/* our directory */
	char fe_path[128];		/* the frontend's directory */

	struct xs_handle *xs;
	xenevtchn_handle *xce;
	xengnttab_handle *xgt;
	bool connected;			/* rings mapped, channels bound */
	bool ended;

	struct pdx_back_ring req;
	struct pdx_back_ring evt;
	void *req_page, *evt_page;
	uint8_t *data;			/* the data area, mapped once */
	uint32_t data_pages;
	size_t data_len;
	evtchn_port_t req_port, evt_port;	/* local ports */

	/* Protects the request ring's responses, the in-flight table, and
	 * wakes the reader when a full table gets room. */
	pthread_mutex_t lock;
	struct inflight inflight[RING_SLOTS];
	unsigned int ninflight;
	int roomfd;			/* eventfd: a slot freed */
	/* Time from taking a request off the ring to pushing its reply,
	 * over the last replies (ring.c logs it every BE_XEN_STATS_EVERY),
	 * under lock: the backend's share of a guest's round trip. */
	uint64_t st_count, st_total_ns, st_max_ns;
	bool st_inline_off;		/* be.inline_off over those replies */
	/* Protects the event ring. */
	pthread_mutex_t evt_lock;
	/* /dev/paradice-grant, or -1: then no mmap for this guest. */
	int grant_fd;
	/* What a change of the frontend's directory or of the domain means
	 * (supervise.c sets it): the reader (ring.c) calls it when a watch
	 * fires, so the ring never calls up into the supervision. */
	void (*frontend_changed)(struct xen_transport *x);
};

#define XT(t) ((struct xen_transport *)(t))

/*
 * What the frontend's directory says, range checked when it is read
 * (xenstore.c). The references and ports are still the guest's choice:
 * Xen refuses those that are not the guest's to give.
 */
struct xen_frontend_dir {
	uint32_t req_ref, evt_ref;	/* one ring page each */
	evtchn_port_t req_ch, evt_ch;	/* the guest's ports */
	uint32_t dir_ref;		/* first page of the data directory */
	uint32_t pages;			/* data area: 1..MAX_DATA_PAGES */
};

/* xenstore.c */
int be_xen_resolve_domain(struct xs_handle *xs, const char *domain,
			  unsigned int *domid, char *name, size_t len);
void be_xen_paths(unsigned int domid, char *be_path, size_t be_len,
		  char *fe_path, size_t fe_len);
const char *be_xen_state_name(int state);
int be_xen_read_state(struct xs_handle *xs, const char *dir);
void be_xen_set_state(struct xs_handle *xs, const char *dir, int state);
int be_xen_publish(struct xen_transport *x);
int be_xen_watch(struct xen_transport *x);
bool be_xen_drain_watches(struct xen_transport *x);
int be_xen_read_frontend(struct xen_transport *x,
			 struct xen_frontend_dir *fe);

/* grant.c */
int be_xen_map_shared(struct xen_transport *x,
		      const struct xen_frontend_dir *fe);
void be_xen_unmap_shared(struct xen_transport *x);
void be_xen_grant_helper_open(struct xen_transport *x);
void be_xen_grant_helper_close(struct xen_transport *x);
int be_xen_grant(struct be_transport *t, void *addr, uint32_t npages,
		 bool writable, uint32_t *refs, uint32_t *region);
int be_xen_ungrant(struct be_transport *t, uint32_t region);
int be_xen_revoked(struct be_transport *t, uint32_t *regions,
		   unsigned int max);

/* ring.c */
int be_xen_ring_connect(struct xen_transport *x,
			const struct xen_frontend_dir *fe);
void be_xen_ring_disconnect(struct xen_transport *x);
ssize_t be_xen_recv(struct be_transport *t, void *buf, size_t cap);
int be_xen_send(struct be_transport *t, const void *msg, size_t len);

#endif /* PD_BACKEND_XEN_TRANSPORT_H */
