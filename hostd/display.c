// SPDX-License-Identifier: GPL-2.0-only
/*
 * The physical screen: hostd is the one DRM master of the card, and shows
 * the foreground guest's display state on it.
 *
 * Guests never program the card. Each guest's pd-backend keeps the guest's
 * virtual display state (hostd/backend/vkms/) and sends it here over a
 * socketpair made when hostd starts that backend (pd_display.h: the
 * protocol, and why an fb id a backend sends is its own guest's).
 * Framebuffer ids are device-global in DRM (drm_framebuffer_lookup() ->
 * __drm_mode_object_find() looks the id up in the device's IDR, and only
 * CRTCs, connectors and planes need a lease), so hostd scans out with its
 * own master descriptor a framebuffer that a backend created on its
 * descriptor.
 *
 * What must hold:
 *   - the card shows only the foreground guest's latest state; a switch is
 *     a full SETCRTC of the incoming guest's latest frame (or off);
 *   - every FLIP gets exactly one FLIP_DONE: the foreground's when the real
 *     flip's event arrives, a background guest's at the next tick of a
 *     60 Hz timer that runs only while such a flip waits (paced, never
 *     stalled, never spinning); a guest has at most one flip per CRTC
 *     outstanding, so a guest that floods flips costs hostd one message a
 *     tick;
 *   - a connection that closes drops its guest's state (the backend's
 *     framebuffers die with its descriptors);
 *   - the card's gamma and connectors' DPMS are the foreground guest's:
 *     GAMMA, DPMS and DIRTY of a background guest are kept (DIRTY: dropped)
 *     and never touch the card; a switch sets the incoming guest's gamma
 *     on every CRTC that has one (the kernel's initial linear ramp where it
 *     set none) and its DPMS on every connector (on where it set none);
 *   - while the on-screen switcher (overlay.c) is up, the screen shows
 *     hostd's own buffer and no guest is in front: every guest's flips
 *     complete paced, its state is kept and shown when it is in front
 *     again; the thumbnails are read from the guests' framebuffers through
 *     read-only mappings of hostd's own, never handed to anyone;
 *   - while dom0's entry ("host") is in front hostd is not the card's
 *     master (DROP_MASTER) and dom0's console is put back (see
 *     show_host()); no guest is in front, so nothing of theirs reaches the
 *     card; the next switch to a guest takes the master back first;
 *   - a CRTC whose connectors the guest all turned off (DPMS) is blanked
 *     on the card (SETCRTC off, then the connectors' DPMS off): hostd does
 *     not flip on it, its flips complete at the 60 Hz tick like a
 *     background guest's, and its SET_CRTC is shown when a connector is on
 *     again.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#ifndef __user
#define __user
#endif
#include <drm/drm.h>
#include <drm/drm_mode.h>
#include <paradice/pd_display.h>

#include "display.h"
#include "display_priv.h"
#include "display_probe.h"
#include "fdpass.h"
#include "log.h"
#include "poller.h"
#include "switcher.h"

_Static_assert(sizeof(struct pd_disp_mode) == sizeof(struct drm_mode_modeinfo),
	       "pd_disp_mode is drm_mode_modeinfo");

#define TICK_NS		16666667L	/* 60 Hz */
/* Does guest g's state go to the card: it is in front, no overlay? */
static bool in_front(const struct hostd_display *d, unsigned int g)
{
	return g == d->sw->router.active && !d->ov.up;
}

static int crtc_slot(const struct hostd_display *d, uint32_t id)
{
	for (unsigned int i = 0; i < d->ncrtcs; i++)
		if (d->crtc_ids[i] == id)
			return (int)i;
	return -1;
}

/* A guest's display state, as before its first message. */
static void forget_state(struct guest_display *gd)
{
	memset(gd->crtc, 0, sizeof(gd->crtc));
	for (unsigned int s = 0; s < PD_DISPLAY_MAX_CRTCS; s++) {
		free(gd->gamma[s]);
		gd->gamma[s] = NULL;
	}
	gd->ndpms = 0;
}

/* What hostd needs of the card to apply a guest's gamma and DPMS
 * (display_probe.c). */
static void probe_card(struct hostd_display *d)
{
	hostd_card_gamma_sizes(d->card, d->crtc_ids, d->ncrtcs, d->gamma_size);
	if (d->nconns)
		d->dpms_prop = hostd_card_dpms_prop(d->card, d->conn_ids[0]);
}

int hostd_display_dirtyfb(const struct hostd_display *d)
{
	return d ? d->dirtyfb : 0;
}

static void on_fd(int fd, short revents, void *data);
static int display_show(void *data, unsigned int to);

/*
 * Become the DRM master of card and learn what it has. If it cannot be
 * had, d->card stays -1: the guests' display state is kept, shown
 * nowhere, and their flips complete paced.
 */
static void open_card(struct hostd_display *d, const char *card)
{
	struct drm_mode_card_res res = { 0 };
	uint32_t ids[PD_DISPLAY_MAX_CRTCS];

	d->card = open(card, O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (d->card < 0) {
		hostd_log("display: %s: %s; guests' display state is kept but "
			  "shown nowhere", card, strerror(errno));
		return;
	}
	if (ioctl(d->card, DRM_IOCTL_SET_MASTER, 0)) {
		hostd_log("display: %s: cannot become DRM master: %s", card,
			  strerror(errno));
		close(d->card);
		d->card = -1;
		return;
	}
	if (ioctl(d->card, DRM_IOCTL_MODE_GETRESOURCES, &res) == 0) {
		res.count_crtcs = res.count_crtcs > PD_DISPLAY_MAX_CRTCS ?
				  PD_DISPLAY_MAX_CRTCS : res.count_crtcs;
		res.crtc_id_ptr = (uintptr_t)ids;
		res.count_connectors = res.count_connectors > MAX_CONNS ?
				       MAX_CONNS : res.count_connectors;
		res.connector_id_ptr = (uintptr_t)d->conn_ids;
		res.count_fbs = res.count_encoders = 0;
		if (ioctl(d->card, DRM_IOCTL_MODE_GETRESOURCES, &res) == 0) {
			d->ncrtcs = res.count_crtcs > PD_DISPLAY_MAX_CRTCS ?
				    PD_DISPLAY_MAX_CRTCS : res.count_crtcs;
			d->nconns = res.count_connectors > MAX_CONNS ?
				    MAX_CONNS : res.count_connectors;
		}
		memcpy(d->crtc_ids, ids, d->ncrtcs * sizeof(ids[0]));
	}
	d->master = true;
	probe_card(d);
	d->dirtyfb = hostd_card_dirtyfb(d->card);
	hostd_log("display: DRM master of %s, %u CRTC(s), %u connector(s), "
		  "gamma size %u, DPMS property %u, DIRTYFB %d", card, d->ncrtcs,
		  d->nconns, d->gamma_size[0], d->dpms_prop, d->dirtyfb);
}

struct hostd_display *hostd_display_create(struct hostd_switcher *sw,
					   struct hostd_poller *p,
					   const char *card)
{
	struct hostd_display *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->sw = sw;
	d->poller = p;
	d->card = -1;
	hostd_display_overlay_init(d);
	for (unsigned int i = 0; i < HOSTD_MAX_GUESTS; i++)
		d->g[i].sock = -1;
	d->timer = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (d->timer < 0) {
		hostd_log("display: timerfd: %s", strerror(errno));
		free(d);
		return NULL;
	}
	d->timer_watch = hostd_poller_add(p, d->timer, POLLIN, on_fd, d);
	if (!d->timer_watch) {
		hostd_log("display: cannot watch the timer: %s", strerror(errno));
		close(d->timer);
		free(d);
		return NULL;
	}
	sw->hooks.show = display_show;
	sw->hooks.overlay = hostd_display_overlay;
	sw->hooks.thumbnail = hostd_display_thumbnail;
	sw->hooks.show_data = d;
	if (card)
		open_card(d, card);
	if (d->card >= 0) {
		d->card_watch = hostd_poller_add(p, d->card, POLLIN, on_fd, d);
		if (!d->card_watch || hostd_display_overlay_watch(d, on_fd)) {
			hostd_log("display: cannot watch %s or a timer: %s",
				  card, strerror(errno));
			hostd_display_destroy(d);
			return NULL;
		}
	}
	return d;
}


void hostd_display_set_crtcs(struct hostd_display *d, const uint32_t *ids,
			     unsigned int n)
{
	d->ncrtcs = n > PD_DISPLAY_MAX_CRTCS ? PD_DISPLAY_MAX_CRTCS : n;
	memcpy(d->crtc_ids, ids, d->ncrtcs * sizeof(ids[0]));
}

void hostd_display_destroy(struct hostd_display *d)
{
	if (!d)
		return;
	if (d->sw->hooks.show_data == d) {
		d->sw->hooks.show = NULL;
		d->sw->hooks.overlay = NULL;
		d->sw->hooks.thumbnail = NULL;
		d->sw->hooks.show_data = NULL;
	}
	hostd_display_overlay_finish(d);
	for (unsigned int i = 0; i < HOSTD_MAX_GUESTS; i++) {
		hostd_watch_remove(d->g[i].watch);
		if (d->g[i].sock >= 0)
			close(d->g[i].sock);
		forget_state(&d->g[i]);
	}
	hostd_watch_remove(d->card_watch);
	if (d->card >= 0)
		close(d->card);
	hostd_watch_remove(d->timer_watch);
	close(d->timer);
	free(d);
}

static void drop_guest(struct hostd_display *d, unsigned int g)
{
	struct guest_display *gd = &d->g[g];

	hostd_watch_remove(gd->watch);
	gd->watch = NULL;
	if (gd->sock >= 0)
		close(gd->sock);
	gd->sock = -1;
	gd->hello = false;
	forget_state(gd);
}

/* Does a HELLO name guest g (its name, NUL-padded, and its domain)? */
bool hostd_display_hello_names(const struct hostd_switcher *sw,
			       const struct pd_disp_hello *m, unsigned int g)
{
	size_t len = strnlen(m->guest, sizeof(m->guest));

	if (g >= sw->nvms || len == sizeof(m->guest) ||
	    strcmp(m->guest, sw->vms[g].cfg->name) ||
	    sw->vms[g].domid < 0 || m->domid != (uint32_t)sw->vms[g].domid)
		return false;
	for (size_t i = len; i < sizeof(m->guest); i++)
		if (m->guest[i])
			return false;
	return true;
}

/* Guest g's connection is sock now, watched; 0, or -1 (sock closed). */
static int set_sock(struct hostd_display *d, unsigned int g, int sock)
{
	struct guest_display *gd = &d->g[g];

	gd->watch = hostd_poller_add(d->poller, sock, POLLIN, on_fd, d);
	if (!gd->watch) {
		hostd_log("display: %s: cannot watch its connection: %s",
			  d->sw->vms[g].cfg->name, strerror(errno));
		close(sock);
		return -1;
	}
	gd->sock = sock;
	return 0;
}

int hostd_display_attach(struct hostd_display *d, unsigned int g, int sock)
{
	if (!d || g >= HOSTD_MAX_GUESTS || d->g[g].sock >= 0)
		return -EBUSY;
	if (sock < 0)
		return 0;	/* only asking */
	drop_guest(d, g);
	if (set_sock(d, g, sock))
		return 0;	/* sock closed, as if it closed at once */
	d->g[g].hello = true;
	d->g[g].reattached = true;
	hostd_display_hello_taken(d, g);
	return 0;
}

int hostd_display_backend_fd(struct hostd_display *d, unsigned int g)
{
	int sv[2];

	if (!d || g >= HOSTD_MAX_GUESTS)
		return -1;
	drop_guest(d, g);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK,
		       0, sv)) {
		hostd_log("display: socketpair: %s", strerror(errno));
		return -1;
	}
	/* the backend's end blocks: it has a thread of its own for it */
	fcntl(sv[1], F_SETFL, fcntl(sv[1], F_GETFL) & ~O_NONBLOCK);
	if (set_sock(d, g, sv[0])) {
		close(sv[1]);
		return -1;
	}
	return sv[1];
}

static void send_done(struct hostd_display *d, unsigned int g, unsigned int slot,
		      int result, bool on_screen, uint64_t time_us,
		      uint32_t sequence)
{
	struct guest_display *gd = &d->g[g];
	struct guest_crtc *c = &gd->crtc[slot];
	struct {
		struct pd_disp_hdr hdr;
		struct pd_disp_flip_done done;
	} m = {
		.hdr = { .type = PD_DISP_FLIP_DONE, .len = sizeof(m.done) },
		.done = {
			.cookie = c->flip_cookie,
			.time_us = time_us,
			.crtc_id = d->crtc_ids[slot],
			.sequence = sequence,
			.result = result,
			.on_screen = on_screen,
		},
	};

	c->flip_pending = c->flip_real = false;
	if (gd->sock >= 0 && send(gd->sock, &m, sizeof(m), MSG_NOSIGNAL) < 0)
		hostd_log("display: %s: cannot send FLIP_DONE: %s",
			  d->sw->vms[g].cfg->name, strerror(errno));
}

/* Guest g's DPMS of connector conn: what it set, else on. */
static uint32_t guest_dpms(const struct guest_display *gd, uint32_t conn)
{
	for (unsigned int i = 0; i < gd->ndpms; i++)
		if (gd->dpms[i].conn_id == conn)
			return gd->dpms[i].mode;
	return PD_DISP_DPMS_ON;
}

/* Has guest g turned every connector of its CRTC in slot off? (Then the
 * CRTC is inactive, as legacy DPMS makes it on an atomic driver.) */
static bool blanked(const struct hostd_display *d, unsigned int g,
		    unsigned int slot)
{
	const struct guest_display *gd = &d->g[g];
	const struct guest_crtc *c = &gd->crtc[slot];

	if (!c->set || !c->st.mode_valid || !c->st.nconn)
		return false;
	for (uint32_t i = 0; i < c->st.nconn; i++)
		if (guest_dpms(gd, c->st.conn[i]) == PD_DISP_DPMS_ON)
			return false;
	return true;
}

/* Program one CRTC with guest g's state for it, or off (also when g's
 * DPMS blanks it). */
static int apply_crtc(struct hostd_display *d, unsigned int g,
		      unsigned int slot)
{
	const struct guest_crtc *c = &d->g[g].crtc[slot];
	struct drm_mode_crtc req = { .crtc_id = d->crtc_ids[slot] };
	uint32_t conn[PD_DISPLAY_MAX_CONN];

	if (d->card < 0)
		return 0;
	if (c->set && c->st.mode_valid && c->st.fb_id && !blanked(d, g, slot)) {
		memcpy(conn, c->st.conn, sizeof(conn));
		req.set_connectors_ptr = (uintptr_t)conn;
		req.count_connectors = c->st.nconn;
		req.fb_id = c->st.fb_id;
		req.x = c->st.x;
		req.y = c->st.y;
		req.mode_valid = 1;
		memcpy(&req.mode, &c->st.mode, sizeof(req.mode));
	}
	if (ioctl(d->card, DRM_IOCTL_MODE_SETCRTC, &req)) {
		int err = errno;

		hostd_log("display: %s: SETCRTC %u fb %u: %s",
			  d->sw->vms[g].cfg->name, req.crtc_id, req.fb_id,
			  strerror(err));
		return -err;
	}
	return 0;
}

/* The card's gamma of one CRTC: guest g's table, or the linear ramp the
 * kernel starts with (drm_mode_crtc_set_gamma_size(): i << 8). */
static int apply_gamma(struct hostd_display *d, unsigned int g,
		       unsigned int slot)
{
	static uint16_t ramp[PD_DISPLAY_MAX_GAMMA];
	const struct pd_disp_gamma *t = d->g[g].gamma[slot];
	uint32_t n = d->gamma_size[slot];
	struct drm_mode_crtc_lut lut = { .crtc_id = d->crtc_ids[slot],
					 .gamma_size = n };

	if (d->card < 0 || !n)
		return 0;
	if (t && t->size == n) {
		lut.red = (uintptr_t)t->red;
		lut.green = (uintptr_t)t->green;
		lut.blue = (uintptr_t)t->blue;
	} else {
		for (uint32_t i = 0; i < n; i++)
			ramp[i] = (uint16_t)(i << 8);
		lut.red = lut.green = lut.blue = (uintptr_t)ramp;
	}
	if (ioctl(d->card, DRM_IOCTL_MODE_SETGAMMA, &lut)) {
		int err = errno;

		hostd_log("display: %s: SETGAMMA %u: %s",
			  d->sw->vms[g].cfg->name, lut.crtc_id, strerror(err));
		return -err;
	}
	return 0;
}

/* The card's DPMS of connector conn: guest g's. */
static int apply_dpms(struct hostd_display *d, unsigned int g, uint32_t conn)
{
	struct drm_mode_connector_set_property p = {
		.value = guest_dpms(&d->g[g], conn),
		.prop_id = d->dpms_prop,
		.connector_id = conn,
	};

	if (d->card < 0 || !d->dpms_prop)
		return 0;
	if (ioctl(d->card, DRM_IOCTL_MODE_SETPROPERTY, &p)) {
		int err = errno;

		hostd_log("display: %s: DPMS %llu on connector %u: %s",
			  d->sw->vms[g].cfg->name, (unsigned long long)p.value,
			  conn, strerror(err));
		return -err;
	}
	return 0;
}

static void set_ticking(struct hostd_display *d)
{
	bool want = false;
	struct itimerspec its = { 0 };

	/* also a flip that was waiting when its guest came to the front */
	for (unsigned int g = 0; g < HOSTD_MAX_GUESTS && !want; g++)
		for (unsigned int s = 0; s < d->ncrtcs; s++)
			if (d->g[g].crtc[s].flip_pending &&
			    !d->g[g].crtc[s].flip_real)
				want = true;
	if (want == d->ticking)
		return;
	if (want) {
		its.it_interval.tv_nsec = TICK_NS;
		its.it_value.tv_nsec = TICK_NS;
	}
	timerfd_settime(d->timer, 0, &its, NULL);
	d->ticking = want;
}

/* A flip of guest g: on the card if g is in front, else at the next tick. */
static void flip(struct hostd_display *d, unsigned int g, unsigned int slot)
{
	struct guest_crtc *c = &d->g[g].crtc[slot];
	struct drm_mode_crtc_page_flip pf = {
		.crtc_id = d->crtc_ids[slot],
		.fb_id = c->st.fb_id,
		.flags = DRM_MODE_PAGE_FLIP_EVENT,
		.user_data = ((uint64_t)g << 8) | slot,
	};
	int r;

	if (!in_front(d, g) || d->card < 0 || blanked(d, g, slot)) {
		set_ticking(d);
		return;
	}
	if (ioctl(d->card, DRM_IOCTL_MODE_PAGE_FLIP, &pf) == 0) {
		c->flip_real = true;
		return;
	}
	/* e.g. EBUSY after a switch, EINVAL for a new size: a full commit */
	r = apply_crtc(d, g, slot);
	send_done(d, g, slot, r, r == 0, hostd_now_us(), ++d->sequence);
}

/* A malformed message of guest g: logs why; false (drop the connection). */
static bool bad_msg(struct hostd_display *d, unsigned int g, const char *why)
{
	hostd_log("display: %s: malformed message (%s); connection dropped",
		  d->sw->vms[g].cfg->name, why);
	return false;
}

/* GAMMA of guest g (the body, len bytes); false: malformed. */
static bool on_gamma(struct hostd_display *d, unsigned int g,
		     const uint8_t *untrusted, size_t len)
{
	struct guest_display *gd = &d->g[g];
	struct pd_disp_gamma *m;
	int slot;

	if (len != sizeof(*m))
		return bad_msg(d, g, "GAMMA: size");
	m = malloc(sizeof(*m));
	if (!m) {
		hostd_log("display: %s: GAMMA: out of memory",
			  d->sw->vms[g].cfg->name);
		return true;	/* not the guest's fault: kept unapplied */
	}
	memcpy(m, untrusted, sizeof(*m));
	slot = crtc_slot(d, m->crtc_id);
	if (slot < 0 || !m->size || m->size > PD_DISPLAY_MAX_GAMMA) {
		free(m);
		return bad_msg(d, g, "GAMMA: CRTC or size");
	}
	for (uint32_t i = m->size; i < PD_DISPLAY_MAX_GAMMA; i++)
		if (m->red[i] || m->green[i] || m->blue[i]) {
			free(m);
			return bad_msg(d, g, "GAMMA: entries past size");
		}
	free(gd->gamma[slot]);
	gd->gamma[slot] = m;
	if (in_front(d, g))
		apply_gamma(d, g, (unsigned int)slot);
	return true;
}

/* DPMS of guest g: kept; in front, the connector's CRTC is blanked or
 * shown again and the connector's DPMS set. */
static bool on_dpms(struct hostd_display *d, unsigned int g,
		    const uint8_t *untrusted, size_t len)
{
	struct guest_display *gd = &d->g[g];
	struct pd_disp_dpms m;
	unsigned int i;

	if (len != sizeof(m))
		return bad_msg(d, g, "DPMS: size");
	memcpy(&m, untrusted, sizeof(m));
	if (!m.conn_id ||
	    (m.mode != PD_DISP_DPMS_ON && m.mode != PD_DISP_DPMS_OFF))
		return bad_msg(d, g, "DPMS: connector or mode");
	for (i = 0; i < gd->ndpms && gd->dpms[i].conn_id != m.conn_id; i++)
		;
	if (i == gd->ndpms) {
		if (gd->ndpms == PD_DISPLAY_MAX_DPMS)
			return bad_msg(d, g, "DPMS: too many connectors");
		gd->ndpms++;
	}
	if (gd->dpms[i].conn_id == m.conn_id && gd->dpms[i].mode == m.mode)
		return true;
	gd->dpms[i] = m;
	if (!in_front(d, g))
		return true;
	for (unsigned int s = 0; s < d->ncrtcs; s++)
		for (uint32_t k = 0; k < gd->crtc[s].st.nconn; k++)
			if (gd->crtc[s].set && gd->crtc[s].st.conn[k] == m.conn_id) {
				apply_crtc(d, g, s);
				break;
			}
	apply_dpms(d, g, m.conn_id);
	set_ticking(d);
	return true;
}

/* DIRTY of guest g: DIRTYFB on the card if g is in front and shows fb. */
static bool on_dirty(struct hostd_display *d, unsigned int g,
		     const uint8_t *untrusted, size_t len)
{
	struct pd_disp_dirty m;
	struct drm_mode_fb_dirty_cmd cmd = { 0 };
	bool shown = false;

	if (len != sizeof(m))
		return bad_msg(d, g, "DIRTY: size");
	memcpy(&m, untrusted, sizeof(m));
	if (!m.fb_id || m.nclips > PD_DISPLAY_MAX_CLIPS ||
	    (m.flags & ~(uint32_t)DRM_MODE_FB_DIRTY_FLAGS))
		return bad_msg(d, g, "DIRTY: fb, clips or flags");
	for (uint32_t i = m.nclips; i < PD_DISPLAY_MAX_CLIPS; i++)
		if (m.clips[i].x1 || m.clips[i].y1 || m.clips[i].x2 ||
		    m.clips[i].y2)
			return bad_msg(d, g, "DIRTY: clips past nclips");
	for (unsigned int s = 0; s < d->ncrtcs; s++)
		if (d->g[g].crtc[s].set && d->g[g].crtc[s].st.mode_valid &&
		    d->g[g].crtc[s].st.fb_id == m.fb_id && !blanked(d, g, s))
			shown = true;
	if (!in_front(d, g) || !shown || d->card < 0)
		return true;
	cmd.fb_id = m.fb_id;
	cmd.flags = m.flags;
	cmd.color = m.color;
	cmd.num_clips = m.nclips;
	cmd.clips_ptr = m.nclips ? (uintptr_t)m.clips : 0;
	if (ioctl(d->card, DRM_IOCTL_MODE_DIRTYFB, &cmd) && errno != ENOSYS)
		hostd_log("display: %s: DIRTYFB %u: %s", d->sw->vms[g].cfg->name,
			  m.fb_id, strerror(errno));
	return true;
}

/* OPEN: the broker opens the file (or says why not); OPENED goes back on
 * the connection, with the descriptor. Never waits: an answer the socket
 * has no room for is dropped (the backend's wait is bounded). */
static bool on_open(struct hostd_display *d, unsigned int g,
		    const uint8_t *untrusted, size_t len)
{
	struct pd_disp_open m;
	struct {
		struct pd_disp_hdr hdr;
		struct pd_disp_opened r;
	} a = { .hdr = { .type = PD_DISP_OPENED, .len = sizeof(a.r) } };
	int fd;

	if (len != sizeof(m))
		return bad_msg(d, g, "OPEN: size");
	memcpy(&m, untrusted, sizeof(m));
	fd = d->broker ? d->broker(d->broker_data, g, &m) : -ENOSYS;
	a.r.id = m.id;
	a.r.result = fd < 0 ? fd : 0;
	if (pd_send_fds(d->g[g].sock, &a, sizeof(a), &fd, fd >= 0,
			MSG_DONTWAIT) != (ssize_t)sizeof(a))
		hostd_log("display: %s: cannot answer an OPEN: %s",
			  d->sw->vms[g].cfg->name, strerror(errno));
	if (fd >= 0)
		close(fd);
	return true;
}

/* One message from guest g's backend; false: drop the connection. */
static bool handle_msg(struct hostd_display *d, unsigned int g,
		       const uint8_t *untrusted, size_t n)
{
	const char *name = d->sw->vms[g].cfg->name;
	struct guest_display *gd = &d->g[g];
	struct pd_disp_hdr hdr;
	int slot;

	if (n < sizeof(hdr))
		goto bad;
	memcpy(&hdr, untrusted, sizeof(hdr));
	if (hdr.reserved || hdr.len != n - sizeof(hdr))
		goto bad;
	untrusted += sizeof(hdr);
	if (hdr.type != PD_DISP_HELLO && !gd->hello)
		goto bad;
	switch (hdr.type) {
	case PD_DISP_HELLO: {
		struct pd_disp_hello m;

		if (hdr.len != sizeof(m))
			goto bad;
		memcpy(&m, untrusted, sizeof(m));
		if (m.version != PD_DISPLAY_VERSION) {
			hostd_log("display: %s: backend speaks version %u, we %u",
				  name, m.version, PD_DISPLAY_VERSION);
			return false;
		}
		/* a backend we started (or its monitor's next server, on
		 * the same socket): it names its own guest, no more */
		if (m.flags || m.ninput ||
		    !hostd_display_hello_names(d->sw, &m, g))
			goto bad;
		forget_state(gd);
		gd->hello = true;
		hostd_display_hello_taken(d, g);
		return true;
	}
	case PD_DISP_SET_CRTC: {
		struct pd_disp_crtc m;

		if (hdr.len != sizeof(m))
			goto bad;
		memcpy(&m, untrusted, sizeof(m));
		slot = crtc_slot(d, m.crtc_id);
		if (slot < 0 || m.nconn > PD_DISPLAY_MAX_CONN ||
		    m.mode_valid > 1 || (m.mode_valid && !m.fb_id))
			goto bad;
		gd->crtc[slot].set = true;
		gd->crtc[slot].st = m;
		if (in_front(d, g) &&
		    apply_crtc(d, g, (unsigned int)slot) == 0 &&
		    gd->reattached && d->card >= 0)
			hostd_log("display: %s's latest frame (fb %u) on screen "
				  "again, from its reattached backend", name,
				  m.fb_id);
		gd->reattached = false;
		return true;
	}
	case PD_DISP_FLIP: {
		struct pd_disp_flip m;
		struct guest_crtc *c;

		if (hdr.len != sizeof(m))
			goto bad;
		memcpy(&m, untrusted, sizeof(m));
		slot = crtc_slot(d, m.crtc_id);
		if (slot < 0 || !m.fb_id)
			goto bad;
		c = &gd->crtc[slot];
		if (c->flip_pending) {
			hostd_log("display: %s: a second flip on CRTC %u "
				  "before the first completed", name, m.crtc_id);
			return false;
		}
		c->flip_pending = true;
		c->flip_cookie = m.cookie;
		if (!c->set || !c->st.mode_valid) {
			send_done(d, g, (unsigned int)slot, -EINVAL, false,
				  hostd_now_us(), d->sequence);
			return true;
		}
		c->st.fb_id = m.fb_id;
		flip(d, g, (unsigned int)slot);
		return true;
	}
	case PD_DISP_GAMMA:
		return on_gamma(d, g, untrusted, hdr.len);
	case PD_DISP_DPMS:
		return on_dpms(d, g, untrusted, hdr.len);
	case PD_DISP_DIRTY:
		return on_dirty(d, g, untrusted, hdr.len);
	case PD_DISP_OPEN:
		return on_open(d, g, untrusted, hdr.len);
	default:
		break;
	}
bad:
	hostd_log("display: %s: malformed message (type %u, %zu bytes); "
		  "connection dropped", name, n >= sizeof(hdr) ? hdr.type : 0, n);
	return false;
}

static void on_tick(struct hostd_display *d)
{
	uint64_t ticks, now = hostd_now_us();

	if (read(d->timer, &ticks, sizeof(ticks)) != sizeof(ticks))
		return;
	d->sequence++;
	for (unsigned int g = 0; g < HOSTD_MAX_GUESTS; g++)
		for (unsigned int s = 0; s < d->ncrtcs; s++)
			if (d->g[g].crtc[s].flip_pending &&
			    !d->g[g].crtc[s].flip_real)
				send_done(d, g, s, 0, false, now, d->sequence);
	set_ticking(d);
}

/* Events of the master descriptor: completions of real flips. */
static void on_card(struct hostd_display *d)
{
	uint8_t buf[1024];
	ssize_t n = read(d->card, buf, sizeof(buf));

	for (ssize_t o = 0; n > 0 && o + (ssize_t)sizeof(struct drm_event) <= n;) {
		struct drm_event e;
		struct drm_event_vblank v;

		memcpy(&e, buf + o, sizeof(e));
		if (e.length < sizeof(e) || o + e.length > n)
			break;
		if (e.type == DRM_EVENT_FLIP_COMPLETE && e.length >= sizeof(v)) {
			unsigned int g, s;

			memcpy(&v, buf + o, sizeof(v));
			g = (unsigned int)(v.user_data >> 8);
			s = (unsigned int)(v.user_data & 0xff);
			if (g < HOSTD_MAX_GUESTS && s < d->ncrtcs &&
			    d->g[g].crtc[s].flip_pending &&
			    d->g[g].crtc[s].flip_real)
				send_done(d, g, s, 0, true, hostd_now_us(),
					  v.sequence);
		}
		o += e.length;
	}
}

/* One of the display's descriptors is readable (or hung up). */
static void on_fd(int fd, short revents, void *data)
{
	struct hostd_display *d = data;
	uint8_t msg[PD_DISP_MAX_MSG + 1];

	(void)revents;
	if (fd == d->card) {
		on_card(d);
		return;
	}
	if (fd == d->timer) {
		on_tick(d);
		return;
	}
	if (fd == d->ov.timer) {
		hostd_display_overlay_tick(d);
		return;
	}
	for (unsigned int g = 0; g < HOSTD_MAX_GUESTS; g++) {
		ssize_t n;

		if (d->g[g].sock != fd)
			continue;
		/* a few messages at a time: one guest cannot hold the loop */
		for (int i = 0; i < 16; i++) {
			n = recv(fd, msg, sizeof(msg), MSG_DONTWAIT | MSG_TRUNC);
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				break;
			if (n <= 0 || (size_t)n > sizeof(msg) ||
			    !handle_msg(d, g, msg, (size_t)n)) {
				hostd_log("display: %s: backend connection %s",
					  d->sw->vms[g].cfg->name,
					  n == 0 ? "closed" : "dropped");
				drop_guest(d, g);
				set_ticking(d);
				break;
			}
		}
		return;
	}
}

/*
 * The display half of a switch (the switcher's show hook): a full SETCRTC of `to`'s latest state on
 * every CRTC (off where it has none, or where its DPMS blanks it), its
 * gamma (the linear ramp where it set none) and its DPMS on every
 * connector (on where it set none). A background flip `to` still waits
 * for completes at the next tick as before; the outgoing guest's real flip
 * completes by the card's event. Returns 0 or the first error.
 */
static int display_show(void *data, unsigned int to)
{
	struct hostd_display *d = data;
	int ret = 0;

	if (d->card < 0)
		return 0;
	if (hostd_is_host(d->sw, to)) {
		ret = hostd_display_give_master(d);
		set_ticking(d);
		return ret;
	}
	if (hostd_display_take_master(d)) {
		hostd_display_overlay_free(d);
		return -EBUSY;
	}
	for (unsigned int s = 0; s < d->ncrtcs; s++) {
		int r = apply_crtc(d, to, s);

		if (r && !ret)
			ret = r;
		apply_gamma(d, to, s);
	}
	for (unsigned int i = 0; i < d->nconns; i++)
		apply_dpms(d, to, d->conn_ids[i]);
	set_ticking(d);
	/* the overlay's buffer is off the screen now */
	hostd_display_overlay_free(d);
	return ret;
}
