/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The virtual KMS: a guest's own display, answered in the backend when
 * hostd started it with a display connection (PD_DISPLAY_FD). Then the
 * guest's display ioctls never reach the card: the vkms keeps the guest's
 * CRTCs, planes and connectors, sends what is to be shown to hostd
 * (include/paradice/pd_display.h), and makes the guest's events. Without
 * a display connection (pdctl) there is no vkms and DRM ioctls run on the
 * real card as before.
 *
 * main.c makes one with vkms_create() from its configuration and sets
 * vkms_card_hooks on the guest's DRM files (struct be_class_hooks); every
 * change of state goes through vkms_commit().
 *
 * What must hold:
 *   - every fb id the guest names (SETCRTC, PAGE_FLIP, SETPLANE, ATOMIC,
 *     DIRTYFB, RMFB) is one this guest made with ADDFB/ADDFB2 on a
 *     descriptor it still has; ids are device-global and reused, so an fb
 *     is forgotten (and taken off the guest's CRTCs, hostd told first)
 *     before its RMFB or its descriptor's release;
 *   - no answer shows another guest's state (GETCRTC, GETPLANE,
 *     OBJ_GETPROPERTIES, GETPROPBLOB answer from this guest's state);
 *   - one flip at a time per CRTC (-EBUSY, as a real driver): hostd
 *     answers each, and the guest's DRM_EVENT_FLIP_COMPLETE is made here
 *     and merged into the read() and poll() of the file that flipped;
 *   - gamma, DPMS and vblank counts (WAIT_VBLANK, CRTC sequences, flip
 *     events) are the guest's own: one 60 Hz timeline from the vkms's
 *     creation, never the card's (which shows the foreground guest's);
 *   - DRM master of the guest's files is the guest's own (SET_MASTER,
 *     DROP_MASTER answered here): hostd is master of the real card.
 *
 * hostd restarted: when the connection closes, the guest notices nothing.
 * Its state stays here, its flips complete here at 60 Hz, and the vkms
 * looks for a new hostd at the socket path until one answers (HELLO with
 * the guest's uinput descriptors, its DPMS, the state and gamma of every
 * CRTC). If none answers within the reattach time, vkms_gone_fd() becomes
 * readable: main then exits with PD_DISPLAY_EXIT_NO_HOSTD.
 */
#ifndef PD_BACKEND_VKMS_H
#define PD_BACKEND_VKMS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "state.h"

struct be;
struct be_handle;
struct be_class_hooks;
struct vkms;

struct vkms_config {
	int sock;		/* hostd's display connection (taken) */
	/* the guest's uinput files, handed to a new hostd (taken) */
	const int *input;
	unsigned int ninput;
	int dirtyfb;		/* what the card answers DIRTYFB: 0, -ENOSYS */
	const char *socket_path;	/* a new hostd's; NULL: PD_DISPLAY_SOCKET */
	unsigned int reattach_s;	/* 0: PD_DISPLAY_REATTACH_S */
};

/*
 * After the worker threads exist: say HELLO to hostd (the one that started
 * us may be gone: then look for the next) and start the vkms's threads.
 * NULL and errno on failure.
 */
struct vkms *vkms_create(struct be *be, const struct vkms_config *cfg);
/* Stops the threads and frees everything; accepts NULL. */
void vkms_destroy(struct vkms *v);
/* Readable once no hostd came back within the reattach time. */
int vkms_gone_fd(const struct vkms *v);
/*
 * A device file of the guest, opened by hostd (PD_DISP_OPEN): for a
 * backend that runs confined and cannot open it itself (struct be's
 * open_file). Waits at most PD_DISPLAY_OPEN_WAIT_S, for hostd's answer
 * and for a new hostd if there is none now. A descriptor with
 * O_NONBLOCK as flags say, or -1 with errno: hostd's refusal, EAGAIN
 * (no hostd came) or EIO (no answer).
 */
int vkms_open_file(void *vkms, const char *path, int flags);

/* What a guest's card file gets at open (data: the vkms). */
extern const struct be_class_hooks vkms_card_hooks;

/* Flags of a commit. */
#define VKMS_COMMIT_EVENT	  (1u << 0)	/* an event per CRTC */
#define VKMS_COMMIT_NONBLOCK	  (1u << 1)	/* a flip waits: -EBUSY */
#define VKMS_COMMIT_ALLOW_MODESET (1u << 2)
#define VKMS_COMMIT_TEST_ONLY	  (1u << 3)	/* check, change nothing */
/* legacy SETCRTC: a full modeset at hostd, whatever flip is pending */
#define VKMS_COMMIT_LEGACY_SET	  (1u << 4)

/*
 * How a path makes its new state: from cur (the guest's state now) into
 * next (a copy of cur), setting the bits of the CRTCs (by index) it
 * touched in *crtcs. Under the vkms's lock; called again if a blocking
 * commit had to wait for a flip. 0 or -errno (the ioctl's answer).
 */
typedef int (*vkms_build_fn)(struct vkms *v, void *ctx,
			     const struct kms_state *cur,
			     struct kms_state *next, uint32_t *crtcs);

/*
 * The one way the guest's state changes: legacy SETCRTC, PAGE_FLIP,
 * SETPLANE, OBJ_SETPROPERTY and ATOMIC all come here. Checks the new
 * state (state.h rules), waits for or refuses a pending flip, writes it
 * back, tells hostd (SET_CRTC for a modeset, FLIP otherwise) and queues
 * the events. h is the guest's file that commits (its events, its
 * descriptor to learn the card from). 0 or -errno.
 */
int vkms_commit(struct vkms *v, struct be_handle *h, vkms_build_fn build,
		void *ctx, uint32_t flags, uint64_t user_data);

/* Counts, for the log and the tests. */
struct vkms_stats {
	unsigned long commits;		/* applied */
	unsigned long tests;		/* TEST_ONLY that passed */
	unsigned long refused;		/* failed their check or build */
};
void vkms_get_stats(struct vkms *v, struct vkms_stats *s);

/* The guest's DPMS of connector conn_id (a connector of the card: the
 * caller checks), for legacy SETPROPERTY and the property ioctls: set (0,
 * or -EINVAL for a value not in the enum; standby and suspend are kept as
 * off, as the atomic helpers do) and read back (on if never set). Set also
 * goes to hostd. */
int vkms_dpms_set(struct vkms *v, uint32_t conn_id, uint64_t value);
int vkms_dpms_get(struct vkms *v, uint32_t conn_id, uint64_t *value);

#endif /* PD_BACKEND_VKMS_H */
