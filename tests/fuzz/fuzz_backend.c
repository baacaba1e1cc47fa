// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target on pd-backend's request path: the framing of each
 * message (request.c, what main.c's reader hands it), the handlers
 * (ops.c), mappings (maps.c: MMAP, FAULT, MUNMAP, revoked regions and
 * PD_EV_UNMAP), cancels and poll arming (events.c), with the real class
 * hooks main.c sets (nodisplay.c for a card no hostd shows, v4l2own.c),
 * the real handle table, decoder and pool accounting. The pool runs each
 * job at once in this thread (as one worker would); the exported "device
 * files" are /dev/null and /dev/zero; ioctl(2) and mmap(2) of them land in
 * stubs (an ioctl returns what the input says, a mapping is anonymous
 * memory); the transport is a fake that records replies and plays Xen's
 * grants: which regions exist, which the guest maps, which the driver
 * revokes. Waits for the guest to let go run on a virtual clock.
 *
 * Input: byte 0 the card's DRM driver, then records, each a byte
 * (op % 10) and its arguments:
 *   0 LEN(2) BYTES     a raw message, as the transport read it
 *   1 OP(1) H(1) F(1) LEN(2) BYTES  a request with a good header: id
 *                      fresh, handle H (< 0xf0: the H-th handle opened,
 *                      else a forged one), flags F; for FAULT/MUNMAP
 *                      with bit 7 of F set, the body's map id is made a
 *                      live one
 *   2 H(1) CMD(1) ST(1) F(1) LEN(2) MEM  an ioctl built by the frontend's
 *                      own encoder from guest memory MEM (command CMD-th
 *                      of the handle's class; with bit 6 of ST, of the
 *                      class of export ST % 5), then framed as 1
 *   3 R(1)             what the next ioctls return
 *   4 G(1)             how the next grant goes: ok, device memory
 *                      (ENXIO: served from a copy), or ENOMEM
 *   5 W(1)             the guest maps region W (of those granted)
 *   6 W(1)             the guest unmaps region W
 *   7 W(1)             the driver revokes region W; the event thread runs
 *   8 S(1)             events can (S even) or cannot be sent
 *   9 W(1)             a CANCEL of the request running, during its ioctl
 * At the end the guest lets go of everything and the connection ends
 * (be_maps_finish, be_handles_finish), as when the backend exits.
 *
 * Checked besides the sanitizers: every request gets exactly one reply,
 * to it; no mapping is unmapped while a region the guest can reach still
 * covers it; nothing is left mapped, granted or open at the end.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "decode.h"
#include "nodisplay.h"
#include "v4l2own.h"

#define NEXPORTS	5
#define MAX_REGIONS	64
#define MAX_OPEN	64
#define MAX_MAPS	64

static struct be be;
static struct be_export exports[NEXPORTS];
static pthread_t fuzz_thread;

/* ---- the fake transport ---- */

struct region {
	bool live, mapped;
	void *addr;
	uint32_t npages;
	uint32_t id;
};

static struct region regions[MAX_REGIONS];
static uint32_t next_region;
static int grant_mode;			/* 0 ok, 1 ENXIO, 2 ENOMEM */
static uint32_t revoked_q[8];
static unsigned int nrevoked_q;
static bool events_blocked;

static uint64_t want_id;		/* the request being answered */
static int replies;			/* to it */
static uint32_t handles[MAX_OPEN];	/* from OPEN replies */
static uint16_t handle_class[MAX_OPEN], handle_driver[MAX_OPEN];
static unsigned int nhandles;
static uint64_t map_ids[MAX_MAPS];	/* from MMAP replies */
static unsigned int nmaps;

static int fake_send(struct be_transport *t, const void *msg, size_t len)
{
	struct pd_wire_hdr h;

	if (len < sizeof(h))
		abort();
	memcpy(&h, msg, sizeof(h));
	if (h.len != len - sizeof(h))
		abort();
	if (h.flags & PD_WIRE_F_EVENT) {
		if (events_blocked) {
			errno = EAGAIN;
			return -1;
		}
		return 0;
	}
	if (!(h.flags & PD_WIRE_F_REPLY) || h.id != want_id)
		abort();	/* a reply to another request than the one run */
	replies++;
	if (h.result == 0 && h.op == PD_OP_OPEN &&
	    h.len == sizeof(struct pd_wire_open_rsp) && nhandles < MAX_OPEN) {
		struct pd_wire_open_rsp r;

		memcpy(&r, (const uint8_t *)msg + sizeof(h), sizeof(r));
		handle_class[nhandles] = r.class;
		handle_driver[nhandles] = r.driver;
		handles[nhandles++] = r.handle;
	}
	if (h.result == 0 && h.op == PD_OP_MMAP &&
	    h.len == sizeof(struct pd_wire_mmap_rsp) && nmaps < MAX_MAPS) {
		struct pd_wire_mmap_rsp r;

		memcpy(&r, (const uint8_t *)msg + sizeof(h), sizeof(r));
		map_ids[nmaps++] = r.map_id;
	}
	return 0;
}

static int fake_grant(struct be_transport *t, void *addr, uint32_t npages,
		      bool writable, uint32_t *refs, uint32_t *region)
{
	unsigned int i;

	if (grant_mode == 1)
		return -ENXIO;
	if (grant_mode == 2)
		return -ENOMEM;
	for (i = 0; i < MAX_REGIONS && regions[i].live; i++)
		;
	if (i == MAX_REGIONS)
		return -ENOSPC;
	regions[i] = (struct region){ .live = true, .addr = addr,
				      .npages = npages, .id = next_region++ };
	for (uint32_t k = 0; k < npages; k++)
		refs[k] = 1000 + k;
	*region = regions[i].id;
	return 0;
}

static int fake_ungrant(struct be_transport *t, uint32_t id)
{
	for (unsigned int i = 0; i < MAX_REGIONS; i++) {
		if (!regions[i].live || regions[i].id != id)
			continue;
		if (regions[i].mapped)
			return -EBUSY;
		regions[i].live = false;
		return 0;
	}
	return -ENOENT;
}

static int fake_revoked(struct be_transport *t, uint32_t *out,
			unsigned int max)
{
	unsigned int n = nrevoked_q < max ? nrevoked_q : max;

	memcpy(out, revoked_q, n * sizeof(*out));
	nrevoked_q = 0;
	return (int)n;
}

static const struct be_transport_impl fake_impl = {
	.name = "fuzz",
	.features = PD_WIRE_FEAT_ALL,
	.send = fake_send,
	.grant = fake_grant,
	.ungrant = fake_ungrant,
	.revoked = fake_revoked,
};

static struct be_transport fake_tp = { .impl = &fake_impl, .fd = -1,
				       .revoke_fd = -1 };

/* ---- what would touch a device, the pool's thread, the clock ---- */

static int ioctl_ret;
static int cancel_in_ioctl;		/* 1 + which: a CANCEL arrives */

void be_log(struct be *b, const char *fmt, ...)
{
}

int __wrap_ioctl(int fd, unsigned long cmd, ...);
int __wrap_ioctl(int fd, unsigned long cmd, ...)
{
	if (cancel_in_ioctl) {
		struct {
			struct pd_wire_hdr h;
			struct pd_wire_cancel_req c;
		} m;
		uint64_t saved = want_id;
		int saved_replies = replies;

		memset(&m, 0, sizeof(m));
		m.h.id = 1u << 30;
		m.h.op = PD_OP_CANCEL;
		m.h.len = sizeof(m.c);
		m.c.target = cancel_in_ioctl & 1 ? want_id : want_id + 1;
		cancel_in_ioctl = 0;
		want_id = m.h.id;
		replies = 0;
		be_take_request(&be, (const uint8_t *)&m, sizeof(m));
		if (replies != 1)
			abort();
		want_id = saved;
		replies = saved_replies;
	}
	if (ioctl_ret < 0) {
		errno = -ioctl_ret;
		return -1;
	}
	return ioctl_ret;
}

/* with a 64-bit off_t (as meson builds) the headers name mmap mmap64 */
void *__real_mmap64(void *addr, size_t len, int prot, int flags, int fd,
		    off_t off);
void *__wrap_mmap64(void *addr, size_t len, int prot, int flags, int fd,
		    off_t off);
int __real_munmap(void *addr, size_t len);
int __wrap_munmap(void *addr, size_t len);

/* A device's mapping: anonymous memory, refused above 1 MiB (the driver's
 * ENOMEM); maps.c's own copy (a memfd) the same way. */
void *__wrap_mmap64(void *addr, size_t len, int prot, int flags, int fd,
		    off_t off)
{
	if (fd < 0)
		return __real_mmap64(addr, len, prot, flags, fd, off);
	if (len > (1u << 20)) {
		errno = ENOMEM;
		return MAP_FAILED;
	}
	return __real_mmap64(NULL, len, prot, MAP_SHARED | MAP_ANONYMOUS, -1,
			     0);
}

/* The frames of a live region must stay ours: never unmapped. */
int __wrap_munmap(void *addr, size_t len)
{
	for (unsigned int i = 0; i < MAX_REGIONS; i++)
		if (regions[i].live && regions[i].addr == addr)
			abort();
	return __real_munmap(addr, len);
}

/* The fuzzer's thread sleeps on a virtual clock (maps.c's waits for the
 * guest to let go); the copier thread really sleeps. */
static _Atomic int64_t clock_skew_ns;

int __real_clock_gettime(clockid_t id, struct timespec *ts);
int __wrap_clock_gettime(clockid_t id, struct timespec *ts);
int __real_nanosleep(const struct timespec *req, struct timespec *rem);
int __wrap_nanosleep(const struct timespec *req, struct timespec *rem);

int __wrap_clock_gettime(clockid_t id, struct timespec *ts)
{
	int r = __real_clock_gettime(id, ts);
	int64_t ns;

	if (r || id != CLOCK_MONOTONIC)
		return r;
	ns = (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec + clock_skew_ns;
	ts->tv_sec = ns / 1000000000;
	ts->tv_nsec = ns % 1000000000;
	return 0;
}

int __wrap_nanosleep(const struct timespec *req, struct timespec *rem)
{
	if (!pthread_equal(pthread_self(), fuzz_thread))
		return __real_nanosleep(req, rem);
	clock_skew_ns += (int64_t)req->tv_sec * 1000000000 + req->tv_nsec;
	return 0;
}

/* A worker: the job runs now, listed as running (for CANCEL). */
void __wrap_be_pool_submit(struct be *b, struct be_job *job);
void __wrap_be_pool_submit(struct be *b, struct be_job *job)
{
	struct be_job **p;

	pthread_mutex_lock(&b->lock);
	job->thread = pthread_self();
	job->next = b->running;
	b->running = job;
	atomic_store(&job->running, true);
	pthread_mutex_unlock(&b->lock);
	be_run_job(b, job);
	pthread_mutex_lock(&b->lock);
	atomic_store(&job->running, false);
	for (p = &b->running; *p; p = &(*p)->next)
		if (*p == job) {
			*p = job->next;
			break;
		}
	pthread_mutex_unlock(&b->lock);
	be_job_free(job);
}

/* ---- the frontend's encoder, for ioctls that get past the decoder ---- */

static __u8 gmem[4096];

static int g_from(void *ctx, void *dst, __u64 uaddr, __u32 len)
{
	if (!uaddr || uaddr > sizeof(gmem) || len > sizeof(gmem) - uaddr)
		return -EFAULT;
	memcpy(dst, gmem + uaddr, len);
	return 0;
}

static int g_to(void *ctx, __u64 uaddr, const void *src, __u32 len)
{
	return -EFAULT;
}

static int g_fd_to_handle(void *ctx, __s32 fd, __u32 *handle)
{
	if (fd < 0 || (unsigned int)fd >= nhandles)
		return -EBADF;
	*handle = handles[fd];
	return 0;
}

static int g_grow(void *ctx, struct pd_ioc_msg *msg, __u32 need)
{
	__u8 *p = realloc(msg->buf, need);

	if (!p)
		return -ENOMEM;
	msg->buf = p;
	msg->cap = need;
	return 0;
}

static const struct pd_ioc_front_ops front_ops = {
	.copy_from_user = g_from,
	.copy_to_user = g_to,
	.fd_to_handle = g_fd_to_handle,
	.grow = g_grow,
};

static __u32 pick_cmd(unsigned int cl, unsigned int drv, unsigned int n)
{
	const struct pd_ioc_table *const *t = pd_ioc_tables(cl, drv);
	unsigned int total = pd_ioc_count_entries(cl, drv);
	const struct pd_ioc_entry *e;

	if (!t || !total)
		return 0;
	n %= total;
	while (n >= (*t)->count)
		n -= (*t++)->count;
	e = &(*t)->entries[n];
	if (e->flags & PD_IOC_F_VARSIZE)
		return (e->cmd & ~(_IOC_SIZEMASK << _IOC_SIZESHIFT)) |
		       ((n * 37u % (e->max_size + 1u)) << _IOC_SIZESHIFT);
	return e->cmd;
}

/* ---- input ---- */

struct in {
	const uint8_t *p;
	size_t left;
};

static unsigned int get(struct in *in, unsigned int bytes)
{
	unsigned int v = 0;

	while (bytes--) {
		v = v << 8 | (in->left ? *in->p : 0);
		if (in->left) {
			in->p++;
			in->left--;
		}
	}
	return v;
}

static const uint8_t *take(struct in *in, size_t *len)
{
	const uint8_t *p = in->p;

	if (*len > in->left)
		*len = in->left;
	in->p += *len;
	in->left -= *len;
	return p;
}

static uint64_t next_id;
static uint8_t *msgbuf;

/* One message through the framing: exactly one reply if it has an id. */
static void deliver(const uint8_t *m, size_t len)
{
	struct pd_wire_hdr h = { 0 };

	if (len >= sizeof(h))
		memcpy(&h, m, sizeof(h));
	want_id = h.id;
	replies = 0;
	be_take_request(&be, m, len);
	if (replies != (len >= sizeof(h) && h.id ? 1 : 0))
		abort();
}

static void request(uint16_t op, uint32_t hsel, uint16_t flags,
		    const uint8_t *body, size_t len, bool live_map)
{
	struct pd_wire_hdr h = { .id = ++next_id, .op = op, .len = (uint32_t)len,
				 .flags = flags & PD_WIRE_F_NONBLOCK };

	h.handle = hsel < 0xf0 ? (nhandles ? handles[hsel % nhandles] : 0) :
				 hsel * 0x10001u;
	if (op == PD_OP_OPEN || op == PD_OP_CONNECT || op == PD_OP_EXPORT_INFO ||
	    op == PD_OP_CLOCK)
		h.handle = PD_WIRE_HANDLE_NONE;
	memcpy(msgbuf, &h, sizeof(h));
	memcpy(msgbuf + sizeof(h), body, len);
	if (live_map && nmaps && len >= 8)
		memcpy(msgbuf + sizeof(h), &map_ids[body[0] % nmaps], 8);
	deliver(msgbuf, sizeof(h) + len);
}

static void ioctl_request(struct in *in)
{
	unsigned int hsel = get(in, 1), n = get(in, 1), sti = get(in, 1);
	unsigned int flags = get(in, 1);
	size_t len = get(in, 2) % sizeof(gmem);
	const uint8_t *mem = take(in, &len);
	struct pd_ioc_state st = { 0 };
	struct pd_ioc_call *call = calloc(1, sizeof(*call));
	struct pd_ioc_msg msg = { 0 };
	const struct pd_ioc_entry *e;
	unsigned int cl, drv, eflags;
	__u32 cmd;

	if (!call)
		return;
	/* the class of the file the handle names (bit 6: of another) */
	if (nhandles && hsel < 0xf0 && !(sti & 0x40)) {
		cl = handle_class[hsel % nhandles];
		drv = handle_driver[hsel % nhandles];
	} else {
		cl = exports[sti % NEXPORTS].info.class;
		drv = exports[sti % NEXPORTS].info.driver;
	}
	if (sti & 0x80)
		st = (struct pd_ioc_state){ 32, 16, 2, 0 };
	memset(gmem, 0, sizeof(gmem));
	memcpy(gmem, mem, len);
	cmd = pick_cmd(cl, drv, n);
	e = pd_ioc_lookup(cl, drv, cmd, &eflags);
	if (e && !pd_ioc_encode(call, e, eflags, cmd, 8, &st, &front_ops, NULL,
				&msg) && msg.len <= PD_WIRE_MAX_MSG - 64)
		request(PD_OP_IOCTL, hsel, (uint16_t)flags, msg.buf, msg.len,
			false);
	free(msg.buf);
	free(call);
}

static void setup(unsigned int drm_driver)
{
	static const struct {
		const char *path;
		uint16_t class;
		const char *name;
	} ex[NEXPORTS] = {
		{ "/dev/zero", PD_WIRE_CLASS_EVDEV, "event0" },
		{ "/dev/null", PD_WIRE_CLASS_V4L2, "video0" },
		{ "/dev/zero", PD_WIRE_CLASS_DRM, "card0" },
		{ "/dev/null", PD_WIRE_CLASS_SND_PCM, "pcmC0D0p" },
		{ "/dev/null", PD_WIRE_CLASS_SND_CTL, "controlC0" },
	};

	if (!msgbuf) {
		struct sigaction sa = { .sa_handler = SIG_IGN };

		/* what be_events_start() sets up: a cancel only interrupts */
		sigaction(BE_SIG_CANCEL, &sa, NULL);
		msgbuf = malloc(sizeof(struct pd_wire_hdr) + PD_WIRE_MAX_MSG);
		if (!msgbuf)
			abort();
		fuzz_thread = pthread_self();
		pthread_mutex_init(&be.lock, NULL);
		pthread_mutex_init(&be.gate_lock, NULL);
		pthread_cond_init(&be.gate_cond, NULL);
		be.wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		be.tp = &fake_tp;
		be.name = "fuzz";
		be.epfd = be.sigfd = -1;
		be.revocations = be_maps_revocations;
		be.exports = exports;
		be.nexports = NEXPORTS;
	}
	for (unsigned int i = 0; i < NEXPORTS; i++) {
		memset(&exports[i], 0, sizeof(exports[i]));
		strcpy(exports[i].path, ex[i].path);
		strcpy(exports[i].info.name, ex[i].name);
		exports[i].info.class = ex[i].class;
	}
	exports[2].info.driver = (uint16_t)(drm_driver % PD_WIRE_DRIVER_COUNT);
	be.hooks[PD_WIRE_CLASS_DRM] = &be_nodisplay_hooks;
	be.hooks_data[PD_WIRE_CLASS_DRM] = &be;
	be.hooks[PD_WIRE_CLASS_V4L2] = &be_v4l2own_hooks;
	be.hooks_data[PD_WIRE_CLASS_V4L2] = &be;
	atomic_store(&be.connected, false);
	be.features = 0;
	be.max.handles = 16;
	be.max.objects = 8;
	be.max.inflight = 1 << 20;
	be.maps.closed = false;
	nhandles = nmaps = nrevoked_q = 0;
	memset(regions, 0, sizeof(regions));
	grant_mode = 0;
	ioctl_ret = 0;
	cancel_in_ioctl = 0;
	events_blocked = false;
}

/* The backend's end: the guest let go of everything. */
static void finish(void)
{
	for (unsigned int i = 0; i < MAX_REGIONS; i++)
		regions[i].mapped = false;
	be_maps_finish(&be);
	be_handles_finish(&be);
	for (unsigned int i = 0; i < MAX_REGIONS; i++)
		if (regions[i].live)
			abort();	/* a grant outlived the connection */
	if (be.maps.list || be.maps.count || be.maps.pages || be.open_handles ||
	    be.inflight || be.running)
		abort();
	be.objects = 0;		/* counted per file; the files are gone */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { data, size };

	setup(get(&in, 1));
	while (in.left) {
		unsigned int op = get(&in, 1) % 10, w;
		size_t len;
		const uint8_t *p;

		switch (op) {
		case 0:
			len = get(&in, 2);
			p = take(&in, &len);
			memcpy(msgbuf, p, len);
			deliver(msgbuf, len);
			break;
		case 1: {
			uint16_t rop = (uint16_t)get(&in, 1);
			unsigned int hsel = get(&in, 1), f = get(&in, 1);

			len = get(&in, 2);
			p = take(&in, &len);
			request(rop, hsel, (uint16_t)f, p, len,
				(f & 0x80) && (rop == PD_OP_FAULT ||
					       rop == PD_OP_MUNMAP));
			break;
		}
		case 2:
			ioctl_request(&in);
			break;
		case 3: {
			static const int res[] = { 0, 1, -EINVAL, -ENOTTY,
				-EINTR, -EAGAIN, -ENOSPC, 7 };

			ioctl_ret = res[get(&in, 1) % 8];
			break;
		}
		case 4:
			grant_mode = get(&in, 1) % 3;
			break;
		case 5:
		case 6:
			w = get(&in, 1) % MAX_REGIONS;
			if (regions[w].live)
				regions[w].mapped = op == 5;
			break;
		case 7:
			w = get(&in, 1);
			if (nrevoked_q < 8)
				revoked_q[nrevoked_q++] =
					regions[w % MAX_REGIONS].live ?
					regions[w % MAX_REGIONS].id : w;
			be_maps_revocations(&be, true);
			break;
		case 8:
			events_blocked = get(&in, 1) & 1;
			be_maps_revocations(&be, false);
			break;
		case 9:
			cancel_in_ioctl = 1 + (get(&in, 1) & 1);
			break;
		}
	}
	finish();
	return 0;
}
