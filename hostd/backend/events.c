// SPDX-License-Identifier: GPL-2.0-only
/*
 * What the backend says without being asked, from one thread:
 *   - poll readiness: PD_OP_POLL arms the real descriptor in an epoll set
 *     with EPOLLONESHOT for the events the guest waits for; when one comes
 *     the guest gets PD_EV_POLL, and the next PD_OP_POLL (the guest's
 *     poll() calls again once woken) arms it again. With
 *     PD_WIRE_FEAT_POLL_SEQ the frontend answers some polls itself, from
 *     the events (pd_wire.h), so no PD_OP_POLL may come to arm it again:
 *     then the registration stays, edge-triggered (an event at each
 *     registration while ready, and at each wake-up of the real file),
 *     until the next PD_OP_POLL replaces it; with PD_WIRE_FEAT_POLL_STATE
 *     it is never replaced but grown (the union of what was asked), and
 *     replies carry the readiness of armed handles (ops.c), so the
 *     frontend answers "not ready" too, and counts on our events;
 *   - with PD_WIRE_FEAT_EVENT_PUSH, a DRM file's own events (a flip's on
 *     a card the guest drives itself) and an evdev file's (input events,
 *     their times made the guest's): when its registration fires, read
 *     here (the descriptor never blocks: ops.c) and pushed
 *     into the guest as PD_EV_DATA, as far as PD_WIRE_PUSH_MAX lets them
 *     (pd_wire.h "Events pushed into the guest"); the virtual display's
 *     own events are pushed by vkms/events.c through be_push_send();
 *   - SIGIO of files in fasync mode (F_SETSIG with BE_SIG_IO, read from
 *     a signalfd): PD_EV_SIGIO for the file's handle;
 *   - cancels: a worker blocked in the real driver for a cancelled request
 *     gets BE_SIG_CANCEL (no SA_RESTART: the call returns EINTR); the
 *     signal is repeated every 20 ms until the worker is out, since it may
 *     have arrived just before the worker entered the call;
 *   - revoked mappings (maps.c, through be->revocations): PD_EV_UNMAP
 *     when the transport says the real driver takes a mapping's pages
 *     back. The thread doing that
 *     waits until the guest unmapped, so this thread never issues device
 *     ioctls nor unmaps anything itself.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "backend.h"

#define TAG_WAKE	((uint64_t)1 << 40)
#define TAG_SIG		((uint64_t)1 << 41)
#define TAG_REVOKE	((uint64_t)1 << 42)

/* Serialises arming under PD_WIRE_FEAT_POLL_STATE, so that the union a
 * registration grows to is the one epoll has (arming is rare: at most
 * once per poll trip and per new sync_file). */
static pthread_mutex_t arm_lock = PTHREAD_MUTEX_INITIALIZER;

static int arm(struct be *be, struct be_handle *h, uint32_t events,
	       uint32_t mode)
{
	struct epoll_event ev = {
		.events = events | mode,
		.data.u64 = h->handle,
	};

	if (!epoll_ctl(be->epfd, EPOLL_CTL_MOD, h->fd, &ev))
		return 0;
	if (errno != ENOENT)
		return -1;
	return epoll_ctl(be->epfd, EPOLL_CTL_ADD, h->fd, &ev);
}

/*
 * Arm h's registration for events. With PD_WIRE_FEAT_POLL_STATE it only
 * grows (the union of everything armed so far) and stays until h is
 * released: the frontend then answers "not ready" itself, counting on an
 * event for any later readiness (pd_wire.h). poll_events is what the
 * events' looks ask for, set before epoll can fire (and put back if
 * arming failed). 0, or -1 with errno.
 */
int be_poll_arm(struct be *be, struct be_handle *h, uint32_t events)
{
	uint32_t old, want;
	int r;

	if (!(be->features & PD_WIRE_FEAT_POLL_STATE)) {
		atomic_store(&h->poll_events, events);
		return arm(be, h, events,
			   (be->features & PD_WIRE_FEAT_POLL_SEQ) ?
			   EPOLLET : EPOLLONESHOT);
	}
	pthread_mutex_lock(&arm_lock);
	old = atomic_load(&h->poll_events);
	want = old | events;
	atomic_store(&h->poll_events, want);
	r = arm(be, h, want, EPOLLET);
	if (r)
		atomic_store(&h->poll_events, old);
	pthread_mutex_unlock(&arm_lock);
	return r;
}

/*
 * The state of h a reply carries (PD_WIRE_F_POLL_STATE): false if h is
 * not armed. The sequence is taken before the look, as in PD_OP_POLL
 * replies, so that an event after the look has a newer one.
 */
bool be_poll_state(struct be_handle *h, struct pd_wire_poll_state *ps)
{
	uint32_t events = atomic_load(&h->poll_events);

	if (!events)
		return false;
	ps->handle = h->handle;
	ps->events = events;
	ps->seq = atomic_load(&h->poll_seq);
	ps->revents = be_poll_look(h);
	return true;
}

/* Signal the workers of every cancelled request still running; true if
 * one still is. */
static bool kick_cancelled(struct be *be)
{
	struct be_job *j;
	bool any = false;

	pthread_mutex_lock(&be->lock);
	for (j = be->running; j; j = j->next)
		if (atomic_load(&j->cancel) && atomic_load(&j->running)) {
			pthread_kill(j->thread, BE_SIG_CANCEL);
			any = true;
		}
	pthread_mutex_unlock(&be->lock);
	return any;
}

/*
 * The readiness of h for the events it is armed for, looked at now. With
 * PD_WIRE_FEAT_POLL_SEQ the frontend believes an event newer than its
 * latest PD_OP_POLL reply: so an event's mask is looked at after its
 * sequence was taken (what epoll_wait() saw may have been read by the
 * guest since, and its poll reply may carry the sequence before ours).
 */
uint32_t be_poll_look(struct be_handle *h)
{
	/* never registered (a display event of vkms): what a reader wants */
	uint32_t events = atomic_load(&h->poll_events) ?: POLLIN | POLLRDNORM;
	struct pollfd p = { .fd = h->fd, .events = (short)events };
	uint32_t mask = 0;

	if (poll(&p, 1, 0) > 0)
		mask = (uint16_t)p.revents;
	if (h->hooks && h->hooks->poll)
		mask |= h->hooks->poll(h->hooks_data, h) &
			(events | POLLERR | POLLHUP);
	return mask;
}

int be_push_send(struct be *be, struct be_handle *h, const void *recs,
		 size_t n)
{
	struct {
		struct pd_wire_data_ev ev;
		uint8_t recs[PD_WIRE_EV_DATA_MAX];
	} msg = { 0 };

	if (n > sizeof(msg.recs)) {
		errno = EMSGSIZE;
		return -1;
	}
	memcpy(msg.recs, recs, n);
	msg.ev.pushed = atomic_load(&h->ev_pushed);
	msg.ev.seq = atomic_fetch_add(&h->poll_seq, 1) + 1;
	/* looked at after the sequence was taken (above) */
	msg.ev.revents = be_poll_look(h);
	return be_send_event(be, PD_EV_DATA, h->handle, &msg,
			     sizeof(msg.ev) + n);
}

uint32_t be_push_room(struct be_handle *h)
{
	uint32_t out = atomic_load(&h->ev_pushed) - atomic_load(&h->ev_acked);

	/* a guest's seen that lies gets nothing more */
	return out > PD_WIRE_PUSH_MAX ? 0 : PD_WIRE_PUSH_MAX - out;
}

/* h's real file is readable: push what it has. True if it pushed until
 * the file had no more, so that no PD_EV_POLL is needed. */
static bool push_real(struct be *be, struct be_handle *h)
{
	uint8_t recs[PD_WIRE_EV_DATA_MAX];
	bool sent = false, drained = false;

	pthread_mutex_lock(&be->push_lock);
	for (;;) {
		ssize_t n;

		/* Not a read with less room than a record may take: DRM puts
		 * back what does not fit and wakes the file's pollers, which
		 * is an edge of our registration again, and so on for ever.
		 * The guest reads what is left (PD_EV_POLL says ready), which
		 * also gives the room back. */
		if (be_push_room(h) < sizeof(recs) ||
		    atomic_load(&h->push_held))
			break;
		pthread_mutex_lock(&h->read_lock);
		n = read(h->fd, recs, sizeof(recs));
		if (n > 0)
			atomic_fetch_add(&h->ev_pushed, (uint32_t)n);
		pthread_mutex_unlock(&h->read_lock);
		if (n <= 0) {
			drained = n < 0 && errno == EAGAIN;
			/* a record larger than a push (put back, the pollers
			 * woken: see above): the guest's next read takes it,
			 * none is read here before */
			if (!drained)
				atomic_store(&h->push_held, true);
			break;
		}
		if (h->dev_class == PD_WIRE_CLASS_EVDEV)
			be_clock_evdev_fix(be, atomic_load(&h->evdev_clock),
					   recs, (size_t)n);
		be_push_send(be, h, recs, (size_t)n);
		sent = true;
	}
	pthread_mutex_unlock(&be->push_lock);
	return sent && drained;
}

void be_cancel(struct be *be, uint64_t target, int64_t *result)
{
	uint64_t one = 1;

	*result = be_pool_cancel(be, target) || be_order_cancel(be, target) ?
		  0 : -ENOENT;
	if (!*result && write(be->wakefd, &one, sizeof(one)) < 0)
		be_log(be, "cannot wake the event thread: %s", strerror(errno));
}

static void on_sigio(struct be *be)
{
	struct signalfd_siginfo si;
	struct pd_wire_sigio_ev ev = { 0 };
	struct be_handle *h;

	while (read(be->sigfd, &si, sizeof(si)) == sizeof(si)) {
		h = be_handle_by_fd(be, si.ssi_fd);
		if (!h)
			continue;
		ev.band = si.ssi_code;	/* POLL_IN, POLL_OUT ... */
		be_send_event(be, PD_EV_SIGIO, h->handle, &ev, sizeof(ev));
		be_handle_put(be, h);
	}
}

static void *event_thread(void *arg)
{
	struct be *be = arg;
	struct epoll_event evs[32];
	bool kicking = false, unmaps = false;
	uint64_t v;

	for (;;) {
		int n = epoll_wait(be->epfd, evs, 32,
				   kicking || unmaps ? 20 : -1);
		bool revoked = false;

		if (n < 0 && errno != EINTR) {
			be_log(be, "epoll_wait: %s", strerror(errno));
			return NULL;
		}
		for (int i = 0; i < n; i++) {
			struct pd_wire_poll_ev pe = { 0 };
			struct be_handle *h;

			if (evs[i].data.u64 == TAG_REVOKE) {
				revoked = true;
				continue;
			}
			if (evs[i].data.u64 == TAG_WAKE) {
				if (read(be->wakefd, &v, sizeof(v)) < 0)
					continue;
				continue;
			}
			if (evs[i].data.u64 == TAG_SIG) {
				on_sigio(be);
				continue;
			}
			h = be_handle_get(be, (uint32_t)evs[i].data.u64);
			if (!h)
				continue;
			if (h->push_real && (evs[i].events & EPOLLIN) &&
			    push_real(be, h)) {
				be_handle_put(be, h);
				continue;
			}
			pe.revents = evs[i].events &
				     ~(uint32_t)(EPOLLONESHOT | EPOLLET);
			pe.seq = atomic_fetch_add(&h->poll_seq, 1) + 1;
			if (be->features & PD_WIRE_FEAT_POLL_SEQ)
				pe.revents = be_poll_look(h);
			be_send_event(be, PD_EV_POLL, h->handle, &pe, sizeof(pe));
			be_handle_put(be, h);
		}
		if (revoked || unmaps) {
			int r = be->revocations(be, revoked);

			/* a broken descriptor would wake us forever */
			if (r < 0)
				epoll_ctl(be->epfd, EPOLL_CTL_DEL,
					  be->tp->revoke_fd, NULL);
			/* after -1 once more, for events still due */
			unmaps = r != 0;
		}
		kicking = kick_cancelled(be);
	}
}

static void on_cancel_signal(int sig)
{
	(void)sig;	/* only interrupts the worker's system call */
}

/* Before any other thread exists: the SIGIO signal is blocked in every
 * thread and read from a signalfd; the cancel signal interrupts calls. */
int be_events_start(struct be *be)
{
	struct sigaction sa;
	struct epoll_event ev;
	sigset_t set;
	pthread_t t;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_cancel_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;	/* no SA_RESTART */
	if (sigaction(BE_SIG_CANCEL, &sa, NULL))
		return -1;
	sigemptyset(&set);
	sigaddset(&set, BE_SIG_IO);
	sigaddset(&set, SIGIO);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL))
		return -1;
	be->epfd = epoll_create1(EPOLL_CLOEXEC);
	be->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	be->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (be->epfd < 0 || be->wakefd < 0 || be->sigfd < 0)
		return -1;
	ev.events = EPOLLIN;
	ev.data.u64 = TAG_WAKE;
	if (epoll_ctl(be->epfd, EPOLL_CTL_ADD, be->wakefd, &ev))
		return -1;
	ev.data.u64 = TAG_SIG;
	if (epoll_ctl(be->epfd, EPOLL_CTL_ADD, be->sigfd, &ev))
		return -1;
	/* a transport made before us that reports revoked mappings (xen) */
	if (be->tp && be->tp->impl->revoked && be->tp->revoke_fd >= 0 &&
	    be->revocations) {
		ev.data.u64 = TAG_REVOKE;
		if (epoll_ctl(be->epfd, EPOLL_CTL_ADD, be->tp->revoke_fd, &ev))
			return -1;
	}
	if (pthread_create(&t, NULL, event_thread, be))
		return -1;
	pthread_detach(t);
	return 0;
}
