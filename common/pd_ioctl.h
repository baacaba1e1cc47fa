/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Ioctl memory descriptors: what memory an ioctl touches beyond what its
 * command number says.
 *
 * The argument itself is copied by the command's _IOC direction and size.
 * A table per device class lists every command the class supports and, for
 * each, descriptors for what the _IOC bits cannot say: pointers to arrays
 * and nested buffers with the rule for their length, file descriptors that
 * go in or come out, fields that must not leave the host as they are, and
 * argument values to refuse. A command in no table is refused with -ENOTTY.
 *
 * The same tables and the same walk run in the guest kernel (to copy from
 * and to the calling program) and in the backend (to check the request and
 * rebuild the argument in its own memory); this code compiles in both
 * worlds and calls neither libc nor the kernel (see pd_compat.h).
 *
 * Descriptor language, one struct pd_ioc_desc per item, walked in order:
 *
 *   PTR     a 64-bit pointer field in the argument or in each element of an
 *           earlier PTR buffer (its parent). The buffer it points to holds
 *           `count` elements; the length rule is count x scale:
 *             count  N_ONE       one element: a fixed size (elem)
 *                    N_FIELD     a field of the parent element
 *                    N_ARG       a field of the argument
 *                    N_SUM       the sum of the u32 array an earlier PTR
 *                                descriptor produced (DRM ATOMIC props)
 *                    N_CHANNELS  the file's channel count (ALSA)
 *                    N_SELECT    a byte length picked by the value of a
 *                                selector field (radeon INFO)
 *             scale  S_ELEM      elem bytes per element
 *                    S_FRAME     the file's frame size (ALSA WRITEI/READI)
 *                    S_SAMPLE    the file's sample size (ALSA WRITEN/READN)
 *           bounded by `max` elements, by PD_WIRE_IOCTL_MAX_BUF bytes per
 *           buffer and PD_WIRE_IOCTL_MAX_DATA bytes per ioctl. What comes
 *           back after the call is the whole buffer (O_FULL), or as many
 *           elements as a count field says after the call (O_FIELD in the
 *           parent element, O_ARG in the argument), or as many bytes as the
 *           call returned (O_RET).
 *   TAIL    bytes right after the argument, counted like PTR (a flexible
 *           array member: ALSA TLV).
 *   FD_IN   a 32-bit file descriptor the program passes: the frontend turns
 *           it into a handle, the backend into its own descriptor.
 *   FD_NEW  a 32-bit field where the driver returns a new file descriptor:
 *           the backend adopts it and returns a handle, the frontend installs
 *           a guest file for it.
 *   SCRUB   a field the host fills with something that must not reach the
 *           guest (an address, a host descriptor number); replaced by `val`.
 *   REJECT  refuse the call with -val when the conditions hold (V4L2
 *           USERPTR memory, media request descriptors).
 *
 * Any descriptor may carry up to two conditions on fields of the argument
 * (equal, not equal, any bit of a mask, value in a set): V4L2 m.planes only
 * exists for multi-planar buffer types, the virtio-gpu fence descriptor only
 * when a flag asks for it. A SCRUB may instead be decided on the argument
 * as the driver returned it (POST_COND: V4L2 QUERYBUF reports the queue's
 * memory type, whatever the program passed). With ELEM_COND the conditions
 * are on fields of the parent element the descriptor is met in, checked
 * element by element: what an amdgpu CS chunk's data holds depends on the
 * chunk_id of its header.
 *
 * Pointers inside array elements are PTR descriptors whose parent is the
 * PTR descriptor of the array: V4L2 EXT_CTRLS payloads, ALSA WRITEN channel
 * buffers, radeon CS chunk array -> chunk -> chunk data.
 *
 * Per-file state (ALSA): the frame size, sample size and channel count of a
 * PCM file are learned from the reply of a successful HW_PARAMS, by both
 * ends independently (the backend from the real driver's answer, the
 * frontend from the reply), and forgotten on HW_FREE or a failed HW_PARAMS.
 * Until known, transfers fail with -EBADFD as they would on the real device.
 */
#ifndef PARADICE_PD_IOCTL_H
#define PARADICE_PD_IOCTL_H

#include "pd_compat.h"
#include <linux/ioctl.h>
#include <paradice/pd_wire.h>

/*
 * ===========================================================================
 *                     Bounds (the only place that sets them)
 * ===========================================================================
 * Generic bounds are the wire limits (PD_WIRE_IOCTL_MAX_*). These are the
 * per-class element counts, chosen above what real programs use and, where
 * the kernel has its own limit, equal to it.
 */
#define PD_IOC_MAX_DESC			16u	/* descriptors per command */
#define PD_IOC_MAX_FIX			64u	/* fd/scrub fields per call */

#define PD_IOC_MAX_DRM_STRING		4096u	/* VERSION, GET_UNIQUE */
#define PD_IOC_MAX_KMS_IDS		4096u	/* object id arrays */
#define PD_IOC_MAX_KMS_MODES		1024u	/* modes of a connector */
#define PD_IOC_MAX_KMS_PROPS		4096u	/* properties of an object */
#define PD_IOC_MAX_KMS_ENUMS		1024u	/* enum values of a property */
#define PD_IOC_MAX_KMS_BLOB		PD_WIRE_IOCTL_MAX_BUF
#define PD_IOC_MAX_KMS_CLIPS		256u	/* DRM_MODE_FB_DIRTY_MAX_CLIPS */
#define PD_IOC_MAX_KMS_GAMMA		4096u	/* entries of one LUT channel */
#define PD_IOC_MAX_ATOMIC_OBJS		1024u
#define PD_IOC_MAX_ATOMIC_PROPS		16384u	/* all objects together */
#define PD_IOC_MAX_SYNCOBJS		4096u
#define PD_IOC_MAX_VIRTGPU_CMD		PD_WIRE_IOCTL_MAX_BUF	/* bytes */
#define PD_IOC_MAX_VIRTGPU_BOS		4096u
#define PD_IOC_MAX_VIRTGPU_PARAMS	16u
#define PD_IOC_MAX_VIRTGPU_CAPS		65536u	/* bytes */
#define PD_IOC_MAX_RADEON_CHUNKS	32u
#define PD_IOC_MAX_RADEON_CHUNK_DW	(PD_WIRE_IOCTL_MAX_BUF / 4)
#define PD_IOC_MAX_AMDGPU_CHUNKS	32u
#define PD_IOC_MAX_AMDGPU_CHUNK_DW	(PD_WIRE_IOCTL_MAX_BUF / 4)
#define PD_IOC_MAX_AMDGPU_BOS		(128u * 1024)	/* the driver's limit */
#define PD_IOC_MAX_AMDGPU_FENCES	4096u	/* WAIT_FENCES */
#define PD_IOC_MAX_AMDGPU_INFO		PD_WIRE_IOCTL_MAX_BUF	/* bytes */
#define PD_IOC_MAX_EVDEV_LEN		_IOC_SIZEMASK	/* any EVIOCG*(len) */
#define PD_IOC_MAX_EVDEV_MASK		1024u	/* bytes of EVIOC[GS]MASK */
#define PD_IOC_MAX_FF_CUSTOM		1024u	/* samples of FF_CUSTOM */
#define PD_IOC_MAX_V4L2_PLANES		8u	/* VIDEO_MAX_PLANES */
#define PD_IOC_MAX_V4L2_CTRLS		1024u	/* V4L2_CID_MAX_CTRLS */
#define PD_IOC_MAX_V4L2_PAYLOAD		PD_WIRE_IOCTL_MAX_BUF	/* bytes */
#define PD_IOC_MAX_V4L2_EDID_BLOCKS	256u
#define PD_IOC_MAX_V4L2_CLIPS		2048u
#define PD_IOC_MAX_SND_ELEM_IDS		8192u
#define PD_IOC_MAX_SND_TLV		65536u	/* bytes */
#define PD_IOC_MAX_SND_CHANNELS		256u
#define PD_IOC_MAX_SND_SAMPLE_BITS	64u

/*
 * ===========================================================================
 *                            Descriptor tables
 * ===========================================================================
 */
enum pd_ioc_kind {
	PD_IOC_D_PTR = 1,
	PD_IOC_D_TAIL,
	PD_IOC_D_FD_IN,
	PD_IOC_D_FD_NEW,
	PD_IOC_D_SCRUB,
	PD_IOC_D_REJECT,
};

enum pd_ioc_count {
	PD_IOC_N_ONE = 0,
	PD_IOC_N_FIELD,
	PD_IOC_N_ARG,
	PD_IOC_N_SUM,
	PD_IOC_N_CHANNELS,
	PD_IOC_N_SELECT,
};

enum pd_ioc_scale {
	PD_IOC_S_ELEM = 0,
	PD_IOC_S_FRAME,
	PD_IOC_S_SAMPLE,
};

enum pd_ioc_outlen {
	PD_IOC_O_FULL = 0,
	PD_IOC_O_FIELD,
	PD_IOC_O_ARG,
	PD_IOC_O_RET,
};

enum pd_ioc_cond_op {
	PD_IOC_C_NONE = 0,	/* no condition */
	PD_IOC_C_EQ,		/* field == val */
	PD_IOC_C_NE,		/* field != val */
	PD_IOC_C_ANY,		/* field & val */
	PD_IOC_C_IN,		/* field < 64 && bit `field` of val set */
	PD_IOC_C_NOT_IN,	/* not PD_IOC_C_IN */
};

/* Direction of a buffer. */
#define PD_IOC_IN	(1u << 0)	/* the driver reads it */
#define PD_IOC_OUT	(1u << 1)	/* the driver writes it */
#define PD_IOC_INOUT	(PD_IOC_IN | PD_IOC_OUT)

/* pd_ioc_desc.flags */
#define PD_IOC_DF_VALUE_IF_EMPTY (1u << 0)	/* count 0: the field is a value */
#define PD_IOC_DF_CLAMP		(1u << 1)	/* lower a count over the bound */
#define PD_IOC_DF_SIGNED	(1u << 2)	/* the O_* count is signed */
#define PD_IOC_DF_POST_COND	(1u << 3)	/* SCRUB: conditions are checked
						 * on the returned argument */
#define PD_IOC_DF_ELEM_COND	(1u << 4)	/* conditions are on fields of
						 * each parent element */

/* pd_ioc_desc.parent for descriptors of the argument itself. */
#define PD_IOC_PARENT_ARG	0xffu

struct pd_ioc_cond {
	__u8 op;		/* enum pd_ioc_cond_op */
	__u8 width;		/* 1, 2, 4 or 8 */
	__u16 off;		/* in the argument */
	__u32 reserved;
	__u64 val;
};

struct pd_ioc_select {
	__u32 value;		/* of the selector field */
	__u32 bytes;		/* length of the buffer for that value */
};

struct pd_ioc_desc {
	__u8 kind;		/* enum pd_ioc_kind */
	__u8 parent;		/* PD_IOC_PARENT_ARG or an earlier PTR */
	__u8 dir;		/* PD_IOC_IN/OUT (PTR, TAIL) */
	__u8 flags;		/* PD_IOC_DF_* */
	__u16 off;		/* of the field in the parent element */
	__u8 width;		/* of the field: 8 for PTR, 4 for FDs */
	__u8 count;		/* enum pd_ioc_count */
	__u16 count_off;	/* count field, or source descriptor (N_SUM) */
	__u8 count_width;
	__u8 scale;		/* enum pd_ioc_scale */
	__u8 out;		/* enum pd_ioc_outlen */
	__u8 nselect;
	__u16 out_off;		/* count field after the call (O_FIELD/O_ARG) */
	__u32 elem;		/* element size; default bytes for N_SELECT */
	__u32 max;		/* largest count */
	__u32 alloc_min;	/* the backend allocates at least this much */
	__s32 val;		/* REJECT: errno; SCRUB: the replacement */
	const struct pd_ioc_select *select;
	const char *name;	/* of the field, for log lines */
	struct pd_ioc_cond cond[2];
};

/* pd_ioc_entry.flags (and pd_ioc_table.flags, applied to all entries) */
#define PD_IOC_F_VARSIZE	(1u << 0)  /* size from the command, nr range */
#define PD_IOC_F_ARG_IN		(1u << 1)  /* the driver reads an _IOR arg */
#define PD_IOC_F_ARG_OUT	(1u << 2)  /* the driver writes an _IOW arg */
#define PD_IOC_F_ARG_VALUE	(1u << 3)  /* the argument is an integer */
#define PD_IOC_F_ARG_FD		(1u << 4)  /* ... and it is a descriptor */
#define PD_IOC_F_ARG_RET	(1u << 5)  /* return value = bytes written */
#define PD_IOC_F_ARG_ON_ERR	(1u << 6)  /* arg comes back even on error */
#define PD_IOC_F_ALL_ON_ERR	(1u << 7)  /* arg and buffers come back */
#define PD_IOC_F_USES_STATE	(1u << 8)  /* lengths need the file state */
#define PD_IOC_F_LEARN		(1u << 9)  /* sets the file state (HW_PARAMS) */
#define PD_IOC_F_FORGET		(1u << 10) /* clears it (HW_FREE) */
#define PD_IOC_F_DISPLAY	(1u << 11) /* display state: hostd's business */
#define PD_IOC_F_SCREEN		(1u << 12) /* carries values no table checks */
#define PD_IOC_F_OWNER		(1u << 13) /* buffer ownership: the class hooks
					    * see it first (V4L2 queues) */
#define PD_IOC_F_ASYNC		(1u << 14) /* may go without waiting for the
					    * reply (PD_WIRE_FEAT_ASYNC): frees
					    * or queues, gives back nothing but
					    * its result, never blocks long */
/*
 * PD_IOC_F_INLINE: the real driver answers from what it has: no wait for
 * the device, a fence, an event, another process, nor for a lock anything
 * holds across such a wait (checked in the 6.1 driver for each entry).
 * The backend may run such a command on its reader instead of handing it
 * to a worker (hostd/backend/request.c says when). Ignored by the frontend.
 */
#define PD_IOC_F_INLINE		(1u << 15)
/*
 * PD_IOC_F_ORDERED: may go without waiting for the reply where the
 * frontend's class says the call's outcome is known (kernel/front_drm.c:
 * a page flip with an event while none waits, a submission with no fence
 * descriptors), and then runs on a worker in its file's order
 * (PD_WIRE_FEAT_ASYNC_ORDERED): it may block, gives back nothing but its
 * result, and every later request of the file waits for it.
 */
#define PD_IOC_F_ORDERED	(1u << 16)

struct pd_ioc_entry {
	__u32 cmd;
	__u32 flags;		/* PD_IOC_F_* */
	__u8 nr_last;		/* VARSIZE: matches _IOC_NR from cmd to this */
	__u8 ndesc;
	__u16 max_size;		/* VARSIZE: largest _IOC_SIZE accepted */
	const struct pd_ioc_desc *desc;
	const char *name;
};

struct pd_ioc_state;

struct pd_ioc_table {
	const char *name;
	const struct pd_ioc_entry *entries;
	unsigned int count;
	unsigned int flags;	/* PD_IOC_F_* for every entry */
	/*
	 * Optional; required if an entry has PD_IOC_F_LEARN: the file state
	 * from the argument of that command's successful call (len bytes as
	 * the call returned them, untrusted in the backend). st is zeroed.
	 */
	void (*learn)(struct pd_ioc_state *st, const __u8 *arg, __u32 len);
};

/* Per open file state learned from replies (ALSA PCM). */
struct pd_ioc_state {
	__u32 frame_bits;	/* 0 until HW_PARAMS succeeded */
	__u32 sample_bits;
	__u32 channels;
	__u32 reserved;
};

/*
 * ===========================================================================
 *                       One call being marshaled
 * ===========================================================================
 * Both ends keep one of these per ioctl in flight. It is large (the buffer
 * list is bounded by PD_WIRE_IOCTL_MAX_BUFS): allocate it, never put it on
 * a kernel stack.
 */
#define PD_IOC_NO_BUF	0xffffffffu
#define PD_IOC_ARG_DESC	0xffffu

struct pd_ioc_buf {
	__u64 uaddr;		/* frontend: the guest address */
	__u32 len;		/* bytes of the buffer */
	__u32 off;		/* of its bytes in the holder's storage */
	__u32 parent;		/* buffer index, PD_IOC_NO_BUF for the arg */
	__u32 field;		/* of the pointer in the parent */
	__u32 elem;		/* element size for children, 0: none */
	__u32 out_len;		/* bytes going back after the call */
	__u16 desc;		/* descriptor, PD_IOC_ARG_DESC for the arg */
	__u16 flags;		/* PD_WIRE_BUF_* */
	__u32 bits;		/* frame/sample scaled: bits per element */
};

struct pd_ioc_fix {
	__u32 buf;		/* buffer holding the field */
	__u32 off;		/* of the field in that buffer */
	__u8 kind;		/* PD_IOC_D_FD_IN, _FD_NEW, _SCRUB, or CLAMP */
	__u8 width;
	__u16 desc;
	__s32 guest;		/* frontend: the guest's value */
	__s64 orig;		/* CLAMP: the guest's count */
};

/* pd_ioc_fix.kind for a count lowered by PD_IOC_DF_CLAMP */
#define PD_IOC_FIX_CLAMP	0x80u

struct pd_ioc_call {
	const struct pd_ioc_entry *entry;
	__u32 cmd;
	__u32 flags;		/* entry flags with the table's */
	__u64 arg;		/* value argument */
	__u32 nbufs;
	__u32 nfix;
	__u32 total;		/* bytes of all buffers */
	__u32 in_total;		/* bytes of IN buffers */
	const char *why;	/* a failed walk: the first reason, */
	__u32 why_desc;		/* in this descriptor (for the log) */
	__u32 first[PD_IOC_MAX_DESC];	/* buffers of each descriptor: */
	__u32 end[PD_IOC_MAX_DESC];	/* [first, end) */
	struct pd_ioc_fix fix[PD_IOC_MAX_FIX];
	struct pd_ioc_buf buf[PD_WIRE_IOCTL_MAX_BUFS];
};

/*
 * How a holder of a call (frontend encoder, backend decoder) gives the walk
 * the bytes of the buffers it discovers.
 *   take()  buffer `index` was just added with its length, direction and,
 *           in the frontend, guest address; make its IN bytes readable at
 *           base() + buf->off, or fail with a negative errno.
 *   base()  the holder's storage; may move between calls of take().
 */
struct pd_ioc_walk_ops {
	int (*take)(void *ctx, struct pd_ioc_call *call, unsigned int index);
	__u8 *(*base)(void *ctx);
};

/*
 * ===========================================================================
 *                                   API
 * ===========================================================================
 */
/*
 * pd_ioc_class.c: the registry, one entry per class (per driver for DRM).
 * The only place in common/ that names the classes.
 */
struct pd_ioc_class {
	__u16 dev_class;	/* PD_WIRE_CLASS_* */
	__u16 driver;		/* PD_WIRE_DRIVER_* (DRM) */
	bool any_driver;	/* not DRM: the driver id is not looked at */
	const struct pd_ioc_table *const *tables;	/* NULL-terminated */
};
extern const struct pd_ioc_class pd_ioc_classes[];
extern const unsigned int pd_ioc_nclasses;

const struct pd_ioc_table *const *pd_ioc_tables(unsigned int dev_class,
						unsigned int driver);
const struct pd_ioc_entry *pd_ioc_lookup(unsigned int dev_class,
					 unsigned int driver, __u32 cmd,
					 unsigned int *flags);
unsigned int pd_ioc_count_entries(unsigned int dev_class, unsigned int driver);
/* The file state after a call (LEARN / FORGET commands; see the table's
 * learn hook). */
void pd_ioc_learn(const struct pd_ioc_call *call, struct pd_ioc_state *st,
		  const __u8 *arg, __u32 arg_len, __s64 result);
int pd_ioc_check_tables(char *why, unsigned int why_len);

/* pd_ioc_check.c: the self-check of one table. */
int pd_ioc_check_table(const struct pd_ioc_table *t, char *why,
		       unsigned int why_len);

/* pd_ioctl.c: the engine. */
bool pd_ioc_entry_matches(const struct pd_ioc_entry *e, __u32 cmd);
__u32 pd_ioc_arg_size(const struct pd_ioc_entry *e, unsigned int flags,
		      __u32 cmd);
unsigned int pd_ioc_arg_dir(const struct pd_ioc_entry *e, unsigned int flags,
			    __u32 cmd);

int pd_ioc_call_init(struct pd_ioc_call *call, const struct pd_ioc_entry *e,
		     unsigned int flags, __u32 cmd, __u64 arg);
int pd_ioc_walk(struct pd_ioc_call *call, const struct pd_ioc_state *st,
		const struct pd_ioc_walk_ops *ops, void *ctx);
int pd_ioc_out_lengths(struct pd_ioc_call *call, const __u8 *base,
		       __s64 result);
int pd_ioc_conds_hold(const struct pd_ioc_desc *d, const __u8 *arg,
		      __u32 arg_len, bool *holds);
__u64 pd_ioc_get(const __u8 *p, unsigned int width);
static inline bool pd_ioc_valid_width(unsigned int w)
{
	return w == 1 || w == 2 || w == 4 || w == 8;
}
void pd_ioc_put(__u8 *p, unsigned int width, __u64 v);

/*
 * ===========================================================================
 *                    Frontend side: encode and complete
 * ===========================================================================
 * The frontend owns the request message (a growable buffer) and copies from
 * and to the calling program only through these callbacks, so the same code
 * runs in the guest kernel and in unit tests.
 */
struct pd_ioc_msg {
	__u8 *buf;
	__u32 len;		/* bytes used; the caller may reserve a header */
	__u32 cap;
};

struct pd_ioc_front_ops {
	/* Both return 0 or -EFAULT. */
	int (*copy_from_user)(void *ctx, void *dst, __u64 uaddr, __u32 len);
	int (*copy_to_user)(void *ctx, __u64 uaddr, const void *src,
			    __u32 len);
	/* A guest descriptor passed to an ioctl: the backend handle of the
	 * forwarded file behind it, or -EBADF/-EINVAL. */
	int (*fd_to_handle)(void *ctx, __s32 fd, __u32 *handle);
	/* A new file from the backend: install it, return the guest fd. */
	int (*install)(void *ctx, __u32 handle, __u32 flags, __s32 *fd);
	/* A new file that could not be installed: release the handle. */
	void (*discard)(void *ctx, __u32 handle);
	/* Make msg->cap >= need, keeping the bytes; 0 or -ENOMEM. */
	int (*grow)(void *ctx, struct pd_ioc_msg *msg, __u32 need);
};

int pd_ioc_encode(struct pd_ioc_call *call, const struct pd_ioc_entry *e,
		  unsigned int flags, __u32 cmd, __u64 arg,
		  const struct pd_ioc_state *st,
		  const struct pd_ioc_front_ops *ops, void *ctx,
		  struct pd_ioc_msg *msg);
long pd_ioc_complete(struct pd_ioc_call *call, struct pd_ioc_state *st,
		     __s64 result, __u8 *rsp, __u32 rsp_len,
		     const struct pd_ioc_front_ops *ops, void *ctx);

/*
 * ===========================================================================
 *                              Class tables
 * ===========================================================================
 */
extern const struct pd_ioc_table pd_ioc_drm_core;
extern const struct pd_ioc_table pd_ioc_drm_vgem;
extern const struct pd_ioc_table pd_ioc_drm_virtgpu;
extern const struct pd_ioc_table pd_ioc_drm_radeon;
extern const struct pd_ioc_table pd_ioc_drm_amdgpu;
extern const struct pd_ioc_table pd_ioc_evdev;
extern const struct pd_ioc_table pd_ioc_v4l2;
extern const struct pd_ioc_table pd_ioc_snd_ctl;
extern const struct pd_ioc_table pd_ioc_snd_pcm;
extern const struct pd_ioc_table pd_ioc_snd_timer;
/* files an ioctl made (class NONE): the dma-buf's own ioctl */
extern const struct pd_ioc_table pd_ioc_adopted;

/*
 * ===========================================================================
 *                 Helpers for writing tables (desc_*.c only)
 * ===========================================================================
 */
#define PD_FIELD_SIZE(T, f)	sizeof(((T *)0)->f)

#define PD_IOC(c, fl, d) { \
	.cmd = (c), .flags = (fl), .desc = (d), .ndesc = PD_ARRAY_SIZE(d), \
	.name = #c }
#define PD_IOC0(c, fl) { .cmd = (c), .flags = (fl), .name = #c }
/* Commands whose size is a parameter: EVIOCGNAME(len), EVIOCGBIT(ev, len) */
#define PD_IOC_VAR(c, last, max, fl) { \
	.cmd = (c), .flags = (fl) | PD_IOC_F_VARSIZE, .nr_last = (last), \
	.max_size = (max), .name = #c }

#define PD_COND(T, f, o, v) \
	{ .op = (o), .width = PD_FIELD_SIZE(T, f), .off = offsetof(T, f), \
	  .val = (v) }

/* A pointer in the argument to `cnt` elements of size `esz`. */
#define PD_PTR_N(T, ptr, cnt, esz, mx, d, o) \
	.kind = PD_IOC_D_PTR, .parent = PD_IOC_PARENT_ARG, .dir = (d), \
	.name = #ptr, \
	.off = offsetof(T, ptr), .width = 8, .count = PD_IOC_N_FIELD, \
	.count_off = offsetof(T, cnt), .count_width = PD_FIELD_SIZE(T, cnt), \
	.elem = (esz), .max = (mx), .out = (o), .out_off = offsetof(T, cnt)

/* A pointer in the argument to one object of `sz` bytes. */
#define PD_PTR_1(T, ptr, sz, d) \
	.kind = PD_IOC_D_PTR, .parent = PD_IOC_PARENT_ARG, .dir = (d), \
	.name = #ptr, \
	.off = offsetof(T, ptr), .width = 8, .count = PD_IOC_N_ONE, \
	.elem = (sz), .max = 1

#define PD_FD(k, T, f) \
	.kind = (k), .parent = PD_IOC_PARENT_ARG, .off = offsetof(T, f), \
	.name = #f, \
	.width = PD_FIELD_SIZE(T, f)

#endif /* PARADICE_PD_IOCTL_H */
