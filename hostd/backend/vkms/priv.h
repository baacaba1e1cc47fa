/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Inside the virtual KMS: the object and what its files share. Nothing
 * outside hostd/backend/vkms/ includes this (they use vkms.h).
 *
 * From the top down; each file calls only files below it:
 *   vkms.c        the object's life, the ioctl switch, the class hooks,
 *                 DRM master of the guest's files
 *   legacy.c      SETCRTC, PAGE_FLIP, SETPLANE as commits; GETCRTC,
 *                 DPMS (SETPROPERTY, GETCONNECTOR), gamma, DIRTYFB
 *   atomic.c      ATOMIC, OBJ_SETPROPERTY as commits
 *   object_ioctls.c  ADDFB*, RMFB, blobs, SET_CLIENT_CAP, GETPLANE*,
 *                 OBJ_GETPROPERTIES, GETPROPBLOB; a file's objects at close
 *   commit.c      the one commit entry point (vkms_commit): snapshot,
 *                 check, write back, tell hostd; the guest's DPMS
 *   hostd_link.c  the connection to hostd (pd_display.h): HELLO, FLIP_DONE,
 *                 reattach to a new hostd, or giving up (vkms_gone_fd())
 *   events.c      the event queue, the virtual 60 Hz vblank timeline
 *                 (WAIT_VBLANK, CRTC sequences), flip completion
 *   objects.c     what the card has (learned once), the guest's CRTC
 *                 slots, framebuffers and blobs, the atomic cap
 *   rules.c       the rules of a state (state.h): no card, no vkms
 *
 * Locking: `lock` guards the guest's state (everything below marked so)
 * and sends on `sock`; it is never held across a blocking call but a send
 * on the SEQPACKET socket. `learn_lock` guards learning the card once;
 * after card_known is set, card and qfd never change.
 */
#ifndef PD_BACKEND_VKMS_PRIV_H
#define PD_BACKEND_VKMS_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#ifndef __user
#define __user
#endif
#include <drm/drm.h>
#include <drm/drm_mode.h>
#include <paradice/pd_display.h>

#include "backend.h"
#include "vkms.h"

#define VKMS_MAX_FBS		256
#define VKMS_MAX_EVENTS		128	/* queued per guest, beyond: dropped */
#define VKMS_MAX_WAITS		64	/* vblank events asked, beyond: ENOMEM */
#define VKMS_TICK_NS		16666667L	/* our own 60 Hz: the vblank */
#define VKMS_MAX_BLOBS		64	/* property blobs a guest made */
#define VKMS_MAX_ATOMIC_FILES	64
#define VKMS_MAX_MAGICS		64	/* files with a magic (GET_MAGIC) */
#define VKMS_MAX_PRIME		32	/* PRIME exports kept (prime.c) */
#define VKMS_MAX_ASKED		128	/* distinct requests logged */

struct vfb {
	uint32_t id;		/* 0: free slot */
	uint32_t handle;	/* the guest file that made it */
	uint32_t width, height;
};

struct vcrtc {
	uint32_t id;		/* 0: free slot */
	struct pd_disp_crtc st;
	bool flip_pending;
	uint64_t flip_cookie;	/* of the FLIP hostd has */
	/* the first vblank of the guest's timeline the flip may complete
	 * at (the one after its commit), and whether hostd has shown it:
	 * then it completes at that vblank, not before (events.c) */
	uint64_t flip_seq;
	bool flip_done;
	bool flip_event;	/* the guest asked for an event */
	uint32_t flip_handle;
	uint64_t flip_user_data;
	/* what atomic adds to st (state.h) */
	bool inactive;		/* a mode, but ACTIVE 0: nothing shown */
	uint32_t mode_blob;	/* MODE_ID as the guest reads it, 0: none yet */
	uint64_t vrr;
	bool gamma_set;		/* the guest's SETGAMMA, else the ramp */
	struct pd_disp_gamma gamma;
};

/* An event for the guest's read(): flip, vblank, CRTC sequence. */
union vev {
	struct drm_event base;
	struct drm_event_vblank vbl;
	struct drm_event_crtc_sequence seq;
};

struct vevent {
	uint32_t handle;
	union vev ev;
};

/* A vblank event the guest asked for (WAIT_VBLANK, QUEUE_SEQUENCE),
 * queued as an event at vblank `sequence` of the virtual timeline. */
struct vwait {
	uint32_t handle;
	uint64_t sequence;
	union vev ev;
};

struct vkms {
	struct be *be;
	/* the configuration (vkms.h), kept */
	char socket_path[108];
	unsigned int reattach_s;
	int dirtyfb;		/* the card's DIRTYFB answer (0 or -ENOSYS) */
	int input[PD_DISPLAY_MAX_INPUT];	/* uinput files we keep */
	unsigned int ninput;

	pthread_mutex_t lock;
	int sock;		/* -1: no hostd now (flips complete here) */
	unsigned int sock_gen;	/* under lock: bumped when sock changes */
	/* Device files opened by hostd (vkms_open_file()): one OPEN at a
	 * time (open_lock); the awaited id, its answer, under lock; opened
	 * is signalled on an answer and on every change of sock. */
	pthread_mutex_t open_lock;
	pthread_cond_t opened;	/* CLOCK_MONOTONIC */
	uint32_t open_seq, open_want;
	bool open_done;
	int open_result, open_fd;
	int wake;		/* eventfd: an event was queued */
	int gone;		/* eventfd: no hostd came back (main exits) */
	bool stopping;		/* vkms_destroy(): the threads end */
	pthread_t link_thread, vblank_thread;
	uint64_t cookie;
	struct vfb fbs[VKMS_MAX_FBS];
	struct vcrtc crtcs[PD_DISPLAY_MAX_CRTCS];
	struct vevent events[VKMS_MAX_EVENTS];
	unsigned int nevents;
	struct pd_disp_dpms dpms[PD_DISPLAY_MAX_DPMS];	/* the guest's */
	unsigned int ndpms;
	/* the virtual timeline: vblank k of every CRTC is at epoch + k ticks
	 * of our CLOCK_MONOTONIC, told to the guest in its own (clock.c);
	 * the latest vblank told and its time in the guest's clock, which
	 * no later answer goes below (the offset may be measured again) */
	uint64_t epoch_ns;
	uint64_t told_seq;
	int64_t told_ns;
	struct vwait waits[VKMS_MAX_WAITS];
	unsigned int nwaits;
	pthread_cond_t waits_changed;	/* CLOCK_MONOTONIC */
	uint32_t dpms_prop;	/* the card's DPMS property id; 0: not known */
	uint32_t card_crtcs[PD_DISPLAY_MAX_CRTCS];	/* pipe -> CRTC id */
	unsigned int ncard_crtcs;	/* 0: not asked yet */
	pthread_cond_t flipped;	/* a flip completed */
	struct { uint32_t id, handle; } blobs[VKMS_MAX_BLOBS];
	uint32_t atomic_handles[VKMS_MAX_ATOMIC_FILES];
	uint32_t master;	/* the guest's file that is DRM master, 0: none */
	/* GET_MAGIC's magics of the guest's files; authed: AUTH_MAGIC
	 * used it (it no longer names the file, as 6.1's idr_replace()) */
	struct { uint32_t handle, magic; bool authed; } magics[VKMS_MAX_MAGICS];
	unsigned int nmagics;
	struct vkms_stats stats;
	/* buffers exported with PRIME on a card without it (prime.c) */
	struct vprime { int fd; dev_t dev; ino_t ino; uint32_t name; }
		primes[VKMS_MAX_PRIME];
	unsigned int nextprime;

	unsigned int nfiles;	/* the guest's open files of the card */
	/* what the guest asked, logged once each (vkms_asked()) while any
	 * file of the card is open (a compositor's session: from its first
	 * open to its last close); its own lock, since callers may hold
	 * `lock` */
	pthread_mutex_t asked_lock;
	uint32_t asked[VKMS_MAX_ASKED];	/* hashes of the lines logged */
	unsigned int nasked;

	/* the card as learned once (objects.c) */
	pthread_mutex_t learn_lock;
	bool card_known;
	int qfd;		/* our own descriptor of the card, for queries */
	struct kms_card card;
	struct kms_lookup lookup;	/* the rules' view of our objects */
};

/* objects.c */
/* One log line per distinct thing a guest asked of its card (a cap, a
 * property set, an error answered): what real compositors ask, and what
 * they get. Any lock may be held. */
void vkms_asked(struct vkms *v, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void vkms_asked_forget(struct vkms *v);	/* a new session: log again */
const char *vkms_kind_name(unsigned int kind);
/* Is crtc_id a CRTC of the real card? Fills *real (gamma size etc.). */
int vkms_real_crtc(int fd, uint32_t crtc_id, struct drm_mode_crtc *real);
void vkms_not_master(int fd);
void vkms_objects_init(struct vkms *v);
int vkms_learn_card(struct vkms *v, const struct be_handle *h);
/* Properties of object id of the card on fd: up to max. 0 or -errno. */
int vkms_obj_props(int fd, uint32_t id, uint32_t type, uint32_t *ids,
		   uint64_t *vals, uint32_t max, uint32_t *n);
extern const uint32_t vkms_obj_type[];
/* Under lock: the guest's CRTC slots (find: NULL if none yet; get: made
 * on first use, NULL if all are taken). */
struct vcrtc *vkms_crtc_find(struct vkms *v, uint32_t id);
struct vcrtc *vkms_crtc_get(struct vkms *v, uint32_t id);
void vkms_shown(const struct vcrtc *c, struct pd_disp_crtc *st);
struct vfb *vkms_fb_find(struct vkms *v, uint32_t id);	/* under lock */
bool vkms_own_blob(struct vkms *v, uint32_t id);	/* under lock */
bool vkms_has_atomic(struct vkms *v, uint32_t handle);	/* under lock */

/* events.c */
uint64_t vkms_now_ns(void);
uint64_t vkms_vblank_count(const struct vkms *v, uint64_t t_ns);
int vkms_sleep_to_next_vblank(const struct vkms *v);
/* Under lock: a flip on c is sent to hostd now; it may complete from
 * the next vblank on. */
void vkms_flip_sent(struct vkms *v, struct vcrtc *c);
/* Under lock: a DRM_EVENT_FLIP_COMPLETE for a modeset of crtc_id, at the
 * next vblank; the handle to vkms_notify() now, 0: none (the vblank
 * thread wakes it). */
uint32_t vkms_queue_modeset_event(struct vkms *v, uint32_t handle,
				  uint64_t user_data, uint32_t crtc_id);
/* Under lock: hostd has shown c's flip: it completes at the vblank of the
 * guest's timeline it may (now or later); the handle to vkms_notify()
 * now, 0: none or later (the vblank thread wakes it). */
uint32_t vkms_complete_flip(struct vkms *v, struct vcrtc *c);
/* Under lock: complete every flip waiting (no hostd); handles
 * (PD_DISPLAY_MAX_CRTCS) get what to vkms_notify(); returns how many. */
unsigned int vkms_complete_all(struct vkms *v, uint32_t *handles);
/* Not under lock: wake a read() and the guest's poll on handle (0: none). */
void vkms_notify(struct vkms *v, uint32_t handle);
int vkms_wait_vblank(struct vkms *v, struct be_handle *h,
		     union drm_wait_vblank *w);
int vkms_crtc_sequence(struct vkms *v, struct be_handle *h, unsigned int cmd,
		       void *arg);
bool vkms_events_read(struct vkms *v, struct be_handle *h, void *buf,
		      size_t count, bool nonblock, uint32_t seen, ssize_t *n);
uint32_t vkms_events_poll(struct vkms *v, struct be_handle *h);
void vkms_events_release(struct vkms *v, uint32_t handle);	/* under lock */
int vkms_events_start(struct vkms *v);
void vkms_events_stop(struct vkms *v);

/* hostd_link.c */
/* Under lock: a message to hostd; never fails (without hostd, what it
 * carries is here and goes to the next one). */
void vkms_send(struct vkms *v, uint16_t type, const void *body, size_t len);
/* Under lock: HELLO on sock, with the input descriptors if reattaching. */
int vkms_send_hello(struct vkms *v, int sock, bool reattach);
int vkms_link_start(struct vkms *v);
void vkms_link_stop(struct vkms *v);

/* commit.c (all under lock) */
void vkms_send_crtc(struct vkms *v, const struct vcrtc *c);
void vkms_snapshot(struct vkms *v, struct kms_state *s);
int vkms_wait_flips(struct vkms *v, uint32_t crtcs);
/* vkms_commit(), vkms_dpms_set(), vkms_dpms_get(): vkms.h */

/* object_ioctls.c */
void vkms_fb_unshow(struct vkms *v, uint32_t id);	/* under lock */
int vkms_addfb(struct vkms *v, struct be_handle *h, unsigned int cmd,
	       void *arg);
int vkms_rmfb(struct vkms *v, struct be_handle *h, uint32_t *arg);
bool vkms_obj_getproperties(struct vkms *v, struct be_handle *h,
			    struct drm_mode_obj_get_properties *g, int *ret);
int vkms_getplaneres(struct vkms *v, struct be_handle *h,
		     struct drm_mode_get_plane_res *g);
int vkms_getplane(struct vkms *v, struct be_handle *h,
		  struct drm_mode_get_plane *p);
int vkms_createblob(struct vkms *v, struct be_handle *h,
		    struct drm_mode_create_blob *b);
int vkms_destroyblob(struct vkms *v, struct be_handle *h,
		     struct drm_mode_destroy_blob *b);
int vkms_getblob(struct vkms *v, struct be_handle *h,
		 struct drm_mode_get_blob *b);
int vkms_client_cap(struct vkms *v, struct be_handle *h,
		    struct drm_set_client_cap *c);
void vkms_objects_release(struct vkms *v, uint32_t handle); /* under lock */

/* legacy.c */
int vkms_legacy_ioctl(struct vkms *v, struct be_handle *h, unsigned int cmd,
		      void *arg, bool *answered);

/* atomic.c */
int vkms_atomic(struct vkms *v, struct be_handle *h, struct drm_mode_atomic *a);
int vkms_obj_setproperty(struct vkms *v, struct be_handle *h,
			 struct drm_mode_obj_set_property *p);

/* prime.c: *answered false: run it on the card */
int vkms_prime_cap(struct vkms *v, struct be_handle *h,
		   struct drm_get_cap *c, bool *answered);
int vkms_prime_export(struct vkms *v, struct be_handle *h,
		      struct drm_prime_handle *p, bool *answered);
int vkms_prime_import(struct vkms *v, struct be_handle *h,
		      struct drm_prime_handle *p, bool *answered);
void vkms_prime_finish(struct vkms *v);
int vkms_create_lease(const struct drm_mode_create_lease *l);

#endif /* PD_BACKEND_VKMS_PRIV_H */
