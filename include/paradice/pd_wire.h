/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * Paradice wire ABI: the one interface between a guest frontend (kernel/)
 * and its backend in the driver domain (hostd/backend/). Included by the
 * kernel module and by userspace alike; nothing else crosses this boundary.
 *
 * ===========================================================================
 *                               Version history
 * ===========================================================================
 *
 *   0.1  placeholder: the module and the build exist, no messages.
 *   1.0  connect, exports, open/release/flush/read/write/llseek, poll and
 *        its events, fasync, ioctl by the descriptor tables (common/
 *        pd_ioctl.h) with new-file records, mmap/fault/munmap, cancel.
 *   1.1  PD_EV_UNMAP (the real driver moves a mapping's pages); MMAP/FAULT/
 *        MUNMAP on Xen spelled out; PD_WIRE_DRIVER_DRM_AMDGPU.
 *   1.2  PD_OP_CLOCK (PD_WIRE_FEAT_CLOCK): times the backend hands out are
 *        in the guest's clocks. Without it: dom0's, as in 1.1.
 *   1.3  PD_WIRE_FEAT_CONTROL: a node for a PD_WIRE_CLASS_CONTROL export.
 *   1.4  PD_WIRE_FEAT_ASYNC: requests nobody waits for (PD_WIRE_F_ASYNC),
 *        run in order before any later one; PD_WIRE_FEAT_POLL_SEQ: poll
 *        replies carry the handle's event sequence (stale events told).
 *        Without them: every request waits, as in 1.3.
 *   1.5  PD_WIRE_FEAT_POLL_STATE: registrations stay armed; replies on an
 *        armed handle carry its readiness (PD_WIRE_F_POLL_STATE), so the
 *        frontend answers "not ready" too. A peer without it: as 1.4.
 *   1.6  PD_WIRE_FEAT_EVENT_PUSH: DRM and evdev files' events pushed
 *        into the guest (PD_EV_DATA), READ's seen. Without it: as 1.5.
 *   1.7  PD_WIRE_FEAT_ASYNC_ORDERED: asynchronous ioctls that may block
 *        run on a worker, later requests of their handle after them; a
 *        DRM file's events are pushed from its OPEN on (not its 1st POLL).
 *   1.8  PD_WIRE_FEAT_NEWFD_NAMED: such an ioctl may name the handle of
 *        the file it makes (pd_wire_ioctl_req.new_handle).
 *
 * Compatibility rule: a change of PD_WIRE_VERSION_MAJOR breaks the layout of
 * something below; peers with different majors refuse to connect. A minor
 * bump only adds opcodes, feature bits or fields carved out of "reserved"
 * (which senders set to zero and receivers ignore). Anything optional is
 * behind a feature bit, so that a newer peer talks to an older one.
 *
 * ===========================================================================
 *                               Principles
 * ===========================================================================
 *
 *  o Every message is a struct pd_wire_hdr followed by hdr.len bytes of
 *    body. All integers are little endian (both ends are x86-64 today; a
 *    big-endian port converts at the transport). All structs have explicit
 *    padding and fixed-width fields; sizes are checked at compile time at
 *    the end of this file.
 *  o Requests carry an id chosen by the frontend, unique among its requests
 *    in flight. Replies echo it. Replies may come in any order: a blocking
 *    read on one file never holds up an ioctl on another.
 *  o Files are named by handles the backend assigns at OPEN or when an
 *    ioctl creates a file (or the frontend names: 1.8), scoped to one
 *    guest. No host pointer, address or descriptor number ever appears in
 *    a message; guest addresses are zeroed before they are sent, too.
 *  o Errors are negative errno values (Linux numbering) in hdr.result.
 *  o The guest is hostile: the backend checks every length, count, offset
 *    and handle before use. The frontend checks replies too: a broken
 *    backend must not corrupt the guest kernel.
 *  o Every bound lives in the "Limits" section below.
 *
 * ===========================================================================
 *                        Feature and version negotiation
 * ===========================================================================
 *
 * The first request on a new connection is PD_OP_CONNECT. The frontend
 * sends its version and the features it can use; the backend answers with
 * its version and the intersection of the offered features with its own.
 * Until CONNECT succeeds the backend answers every other request with
 * -ENOTCONN. A major mismatch gets -EPROTO and the connection closes.
 *
 * ===========================================================================
 *                    Transports and framing of messages
 * ===========================================================================
 *
 * loop: the backend reads whole requests from a character device of the
 *   frontend module and writes whole replies (one message per read(2) or
 *   write(2), as /dev/fuse does), at most PD_WIRE_MAX_MSG bytes.
 *
 * xen: two rings in granted pages, in the style of the other split drivers:
 *   a request ring (requests down, replies up) and an event ring (events up
 *   only). A ring slot is a struct pd_wire_xen_slot that names a message by
 *   offset and length inside the data area: pages the frontend grants once,
 *   at connect, and never unmaps while connected (persistent grants). The
 *   frontend allocates the space of a request and of its reply in the data
 *   area; the backend copies a request out of shared memory once, before it
 *   looks at it, and writes its reply only inside the space it was given.
 *
 *   Both rings are standard one-page Xen rings (xen/interface/io/ring.h,
 *   DEFINE_RING_TYPES with struct pd_wire_xen_slot as request and
 *   response: 128 slots), each with its own event channel.
 *
 *   Request ring. Request slot: id = the request's hdr.id; [offset,
 *   offset + len) = the space the frontend set aside, which holds the
 *   request (hdr.len tells its length) and is large enough for the
 *   largest reply it can get. Response slot: the same id and offset, len =
 *   the reply's length (<= the request slot's len). A reply that would not
 *   fit is sent as a bare header with result -EOVERFLOW. At most 128
 *   requests are in flight; a frontend that posts more than the ring holds
 *   loses its connection.
 *
 *   Event ring. The frontend posts empty buffers (id = index, [offset,
 *   offset + len) in the data area); the backend writes one event into one
 *   and answers with its id, offset and the event's length; the frontend
 *   reposts it once copied. Events never wait for replies: no deadlock.
 *
 * ===========================================================================
 *                     XenStore layout (xen transport)
 * ===========================================================================
 *
 * Device type: "paradice". All values are strings, numbers in decimal
 * unless marked hex. <be> is the backend domain, <fe> the guest, <dev> the
 * device index (one device per guest carries every forwarded file).
 *
 * Backend nodes, /local/domain/<be>/backend/paradice/<fe>/<dev>/
 *   frontend-id        <uint16>  the guest's domain id
 *   frontend           path of the frontend directory
 *   state              XenbusState, see the diagram below
 *   versions           comma separated majors the backend speaks, "1"
 *   features           hex u64, the PD_WIRE_FEAT_* the backend offers
 *   max-requests       requests the backend serves in parallel
 *   exports/<n>/class  PD_WIRE_CLASS_* of the n-th exported file (n from 0,
 *                      contiguous)
 *   exports/<n>/driver PD_WIRE_DRIVER_* for DRM, 0 otherwise
 *   exports/<n>/name   node name the guest creates, e.g. "card0",
 *                      "renderD128", "event2", "video0", "controlC0",
 *                      "pcmC0D0p", "timer"
 *   exports/<n>/mode   octal permission bits for the guest node, e.g. "0660"
 *
 * Frontend nodes, /local/domain/<fe>/device/paradice/<dev>/
 *   backend-id         <uint16>  the driver domain's id
 *   backend            path of the backend directory
 *   state              XenbusState
 *   version            the major the frontend chose from "versions"
 *   req-ring-ref       grant reference of the request ring page
 *   req-event-channel  event channel of the request ring
 *   evt-ring-ref       grant reference of the event ring page
 *   evt-event-channel  event channel of the event ring
 *   data-dir-ref       grant reference of the first page of the data area
 *                      directory: a page of grant references (u32), the
 *                      last of which chains to the next directory page, 0
 *                      ending the chain
 *   data-pages         number of pages in the data area
 *
 * No toolstack knows this device type: the backend (pd-backend --xen)
 * writes its own directory and, if it does not exist yet, the frontend's
 * (backend-id, backend, state), owned by the guest and readable by the
 * backend domain. Permissions are written once the guest's domain exists.
 *
 * Worked example: guest domain 3 is given card0 by backend domain 0.
 *
 *   /local/domain/0/backend/paradice/3/0/frontend-id       = "3"
 *   /local/domain/0/backend/paradice/3/0/frontend          = "/local/domain/3/device/paradice/0"
 *   /local/domain/0/backend/paradice/3/0/state             = "4"
 *   /local/domain/0/backend/paradice/3/0/versions          = "1"
 *   /local/domain/0/backend/paradice/3/0/features          = "3f"
 *   /local/domain/0/backend/paradice/3/0/max-requests      = "32"
 *   /local/domain/0/backend/paradice/3/0/exports/0/class   = "1"
 *   /local/domain/0/backend/paradice/3/0/exports/0/driver  = "1"
 *   /local/domain/0/backend/paradice/3/0/exports/0/name    = "card0"
 *   /local/domain/0/backend/paradice/3/0/exports/0/mode    = "0660"
 *
 *   /local/domain/3/device/paradice/0/backend-id           = "0"
 *   /local/domain/3/device/paradice/0/backend              = "/local/domain/0/backend/paradice/3/0"
 *   /local/domain/3/device/paradice/0/state                = "4"
 *   /local/domain/3/device/paradice/0/version              = "1"
 *   /local/domain/3/device/paradice/0/req-ring-ref         = "8"
 *   /local/domain/3/device/paradice/0/req-event-channel    = "21"
 *   /local/domain/3/device/paradice/0/evt-ring-ref         = "9"
 *   /local/domain/3/device/paradice/0/evt-event-channel    = "22"
 *   /local/domain/3/device/paradice/0/data-dir-ref         = "10"
 *   /local/domain/3/device/paradice/0/data-pages           = "1024"
 *
 * Features are negotiated again by PD_OP_CONNECT on the ring, as on the
 * loop transport, which has no XenStore.
 *
 * ===========================================================================
 *                          State of a connection
 * ===========================================================================
 *
 *   Frontend                              Backend
 *   --------                              -------
 *   Initialising                          Initialising
 *                                         o open the files to export,
 *                                           publish exports/ and features
 *                                                    |
 *                                                    v
 *                                         InitWait
 *   o read exports/, allocate rings,
 *     data area, event channels;
 *     publish them
 *              |
 *              v
 *   Initialised
 *                                         o map rings and data area,
 *                                           bind event channels
 *                                                    |
 *                                                    v
 *                                         Connected
 *   o send PD_OP_CONNECT, check the
 *     version, keep the agreed features;
 *     create the guest device nodes
 *              |
 *              v
 *   Connected   <---- requests, replies, events flow ---->
 *
 *   Closing (either side): the frontend fails new opens with -ENODEV and
 *   completes every request in flight with -EIO; open guest files stay
 *   valid objects returning -EIO until released. The backend closes every
 *   real file of that guest. Both sides then go to Closed.
 *
 *   A backend that restarts (or a new one) clears its directory and goes
 *   Initialising, then InitWait: a frontend in Closed (or still in
 *   Initialised/Connected with an earlier backend, which it then drops)
 *   goes back to Initialising and sets up a new connection with fresh
 *   rings and grants. Guest files still open on the old connection keep
 *   returning -EIO; they hold only the dead connection's object, not the
 *   rings, so the frontend need not wait for them (no Reconfiguring).
 *   A backend that finds the frontend still Initialised or Connected (its
 *   references belong to the backend before) first writes Closing and
 *   waits for the frontend to close. A backend process that dies without a
 *   word is noticed by its monitor in dom0 (pd-backend --xen), which
 *   writes Closing on its behalf.
 *
 * The loop transport has the same life without XenStore: opening its
 * character device is Initialised, the CONNECT reply is Connected, closing
 * the character device is Closing.
 */
#ifndef PARADICE_PD_WIRE_H
#define PARADICE_PD_WIRE_H

/* The only system header: <linux/types.h>, the same fixed-width types
 * (__u8 ... __s64) in the kernel and in userspace (linux-libc-dev). */
#include <linux/types.h>

#define PD_WIRE_VERSION_MAJOR 1
#define PD_WIRE_VERSION_MINOR 8

#define PD_WIRE_XENBUS_DEVICE_TYPE "paradice"

/*
 * ===========================================================================
 *                                  Limits
 * ===========================================================================
 * Both ends enforce these; a message beyond them gets -E2BIG or -EINVAL.
 */
/* Largest message, header included, in either direction. */
#define PD_WIRE_MAX_MSG			(4u * 1024 * 1024 + 64 * 1024)
/* Bytes of one READ or WRITE; larger guest requests are shortened. */
#define PD_WIRE_MAX_IO			(1u * 1024 * 1024)
/* Buffers (argument, arrays, nested buffers) of one ioctl. */
#define PD_WIRE_IOCTL_MAX_BUFS		1040u
/* Bytes of one buffer of an ioctl. */
#define PD_WIRE_IOCTL_MAX_BUF		(1u * 1024 * 1024)
/* Bytes of all buffers of one ioctl together. */
#define PD_WIRE_IOCTL_MAX_DATA		(4u * 1024 * 1024)
/* Pages of one PD_OP_FAULT (the largest mapping is larger: several). */
#define PD_WIRE_MAX_FAULT_PAGES		4096u
/* Pages of one mapping (64 MiB). */
#define PD_WIRE_MAX_MAP_PAGES		16384u
/* File descriptors one ioctl may return. */
#define PD_WIRE_IOCTL_MAX_NEWFDS	8u
/* Bytes of poll state records at the end of a reply (1.5): one per new
 * file and the request's own handle, then the tail. Room every reply
 * needs on top of its op's body. */
#define PD_WIRE_POLL_STATE_MAX_LEN	((1u + PD_WIRE_IOCTL_MAX_NEWFDS) * 16u + 8u)
/* Exported files per guest. */
#define PD_WIRE_MAX_EXPORTS		256u
/* Length of an export's node name, NUL included. */
#define PD_WIRE_NAME_LEN		32u

/* The handle that names no file. */
#define PD_WIRE_HANDLE_NONE		0xffffffffu
/* From here below NONE: handles only a frontend names (1.8). */
#define PD_WIRE_HANDLE_NAMED_MIN	0xfff00000u

/*
 * ===========================================================================
 *                               Feature bits
 * ===========================================================================
 */
/* The backend sends PD_EV_POLL after a PD_OP_POLL registration. */
#define PD_WIRE_FEAT_POLL_EVENTS	(1ull << 0)
/* PD_OP_FASYNC and PD_EV_SIGIO. */
#define PD_WIRE_FEAT_FASYNC		(1ull << 1)
/* PD_OP_MMAP, PD_OP_FAULT, PD_OP_MUNMAP. */
#define PD_WIRE_FEAT_MMAP		(1ull << 2)
/* Ioctl replies may carry new-file records (PRIME, EXPBUF, fences). */
#define PD_WIRE_FEAT_NEWFD		(1ull << 3)
/* PD_OP_CANCEL interrupts a blocked request. */
#define PD_WIRE_FEAT_CANCEL		(1ull << 4)
/* PD_EV_REVOKE: the backend may take a file away (device unplugged). */
#define PD_WIRE_FEAT_REVOKE		(1ull << 5)
/* PD_OP_CLOCK: the guest's clock offsets (1.2). */
#define PD_WIRE_FEAT_CLOCK		(1ull << 6)
/* The frontend makes a node for a PD_WIRE_CLASS_CONTROL export (1.3). */
#define PD_WIRE_FEAT_CONTROL		(1ull << 7)
/* PD_WIRE_F_ASYNC requests (1.4, see PD_OP_* "Requests nobody waits for"). */
#define PD_WIRE_FEAT_ASYNC		(1ull << 8)
/* PD_OP_POLL replies carry struct pd_wire_poll_ev (1.4). */
#define PD_WIRE_FEAT_POLL_SEQ		(1ull << 9)
/* Registrations stay armed; replies carry PD_WIRE_F_POLL_STATE (1.5;
 * only with PD_WIRE_FEAT_POLL_SEQ and PD_WIRE_FEAT_POLL_EVENTS). */
#define PD_WIRE_FEAT_POLL_STATE		(1ull << 10)
/* PD_EV_DATA and PD_OP_READ's seen (1.6). */
#define PD_WIRE_FEAT_EVENT_PUSH		(1ull << 11)
#define PD_WIRE_FEAT_ASYNC_ORDERED	(1ull << 12)	/* 1.7, needs ASYNC */
#define PD_WIRE_FEAT_NEWFD_NAMED	(1ull << 13)	/* 1.8, needs ORDERED */
#define PD_WIRE_FEAT_ALL		((1ull << 14) - 1)

/*
 * ===========================================================================
 *                       Device classes of exported files
 * ===========================================================================
 * The class selects the ioctl descriptor tables on both sides; for DRM the
 * driver selects the driver-private table on top of the DRM core one.
 */
#define PD_WIRE_CLASS_NONE		0
#define PD_WIRE_CLASS_DRM		1
#define PD_WIRE_CLASS_EVDEV		2
#define PD_WIRE_CLASS_V4L2		3
#define PD_WIRE_CLASS_SND_CTL		4
#define PD_WIRE_CLASS_SND_PCM		5
#define PD_WIRE_CLASS_SND_TIMER		6
/*
 * The guest's control file (1.3, PD_WIRE_FEAT_CONTROL): no device of the
 * driver domain, a packet line to hostd. Each WRITE is one request, each
 * READ returns one whole reply (a read shorter than the reply loses its
 * end), POLL says POLLIN while a reply waits; it has no ioctls and no
 * mmap. The frontend names its node /dev/paradice/control; the backend
 * exports it last, only to a frontend that offered the feature. What the
 * requests say is include/paradice/pd_control.h's, between the guest and
 * hostd: the backend only carries them.
 */
#define PD_WIRE_CLASS_CONTROL		7
#define PD_WIRE_CLASS_COUNT		8

#define PD_WIRE_DRIVER_NONE		0
#define PD_WIRE_DRIVER_DRM_GENERIC	1	/* KMS only: bochs, simpledrm */
#define PD_WIRE_DRIVER_DRM_VGEM		2
#define PD_WIRE_DRIVER_DRM_VIRTGPU	3
#define PD_WIRE_DRIVER_DRM_RADEON	4
#define PD_WIRE_DRIVER_DRM_AMDGPU	5
#define PD_WIRE_DRIVER_COUNT		6

/*
 * ===========================================================================
 *                                 Opcodes
 * ===========================================================================
 * Requests go from frontend to backend and each gets exactly one reply with
 * the same op and id and PD_WIRE_F_REPLY set. Events go from backend to
 * frontend, have id 0 and get no reply. Opcodes 0 and 0x80 are never used.
 */
enum pd_wire_op {
	PD_OP_CONNECT		= 0x01,	/* version + features */
	PD_OP_EXPORT_INFO	= 0x02,	/* describe the n-th exported file */
	PD_OP_OPEN		= 0x03,	/* open an exported file: new handle */
	PD_OP_RELEASE		= 0x04,	/* last close of a handle */
	PD_OP_FLUSH		= 0x05,	/* close(2) of one guest fd */
	PD_OP_READ		= 0x06,
	PD_OP_WRITE		= 0x07,
	PD_OP_LLSEEK		= 0x08,
	PD_OP_POLL		= 0x09,	/* (re)register poll interest */
	PD_OP_IOCTL		= 0x0a,
	PD_OP_MMAP		= 0x0b,	/* set up a mapping of the real file */
	PD_OP_FAULT		= 0x0c,	/* resolve pages of such a mapping */
	PD_OP_MUNMAP		= 0x0d,
	PD_OP_FASYNC		= 0x0e,
	PD_OP_CANCEL		= 0x0f,	/* interrupt a request in flight */
	PD_OP_CLOCK		= 0x10,	/* clock offsets (FEAT_CLOCK) */

	PD_EV_POLL		= 0x81,	/* readiness changed on a handle */
	PD_EV_SIGIO		= 0x82,	/* fasync notification */
	PD_EV_REVOKE		= 0x83,	/* the real file is gone */
	PD_EV_UNMAP		= 0x84,	/* a mapping's pages are taken back */
	PD_EV_DATA		= 0x85,	/* a file's events (FEAT_EVENT_PUSH) */
};

/* pd_wire_hdr.flags */
#define PD_WIRE_F_REPLY		(1u << 0)	/* this is a reply */
#define PD_WIRE_F_EVENT		(1u << 1)	/* this is an event */
#define PD_WIRE_F_NONBLOCK	(1u << 2)	/* the guest file is O_NONBLOCK now */
#define PD_WIRE_F_ASYNC		(1u << 3)	/* nobody waits for the reply (FEAT_ASYNC) */
#define PD_WIRE_F_POLL_STATE	(1u << 4)	/* reply: the body ends with poll
						 * states (FEAT_POLL_STATE) */

/*
 * Requests nobody waits for (PD_WIRE_FEAT_ASYNC). A request with
 * PD_WIRE_F_ASYNC still gets its reply (which frees its ring slot and
 * carries its result), but no guest thread waits for it. Allowed only
 * for requests that cannot block for long and give a program nothing
 * back but their result: PD_OP_RELEASE, PD_OP_FLUSH, PD_OP_POLL (a
 * re-registration) and PD_OP_IOCTL of a command whose descriptor table
 * entry has PD_IOC_F_ASYNC (GEM_CLOSE, SYNCOBJ_DESTROY, virtio-gpu
 * TRANSFER_TO_HOST); anything else gets -EINVAL. Order: the backend runs
 * an asynchronous request completely, reply sent, before it takes the
 * next request off the transport, so every later request, on any handle,
 * sees its effect, and its reply comes before theirs. An error in the
 * reply is the frontend's to report: on the next synchronous call of the
 * same file (or -EIO), never dropped; a RELEASE's is only logged (as
 * close(2) does). When the connection dies, outstanding asynchronous
 * requests fail like every other.
 * With PD_WIRE_FEAT_ASYNC_ORDERED an ioctl whose entry is PD_IOC_F_ORDERED
 * may be asynchronous too (a page flip, a submission): it may block, so it
 * runs on a worker, and every later request about the same handle runs
 * (and replies) after it; other handles' do not wait. A new file it makes
 * is closed at once, unless it names the file's handle (1.8, new_handle,
 * a NAMED one): reserved when the request arrives (EBUSY if taken),
 * requests about it wait in the ioctl's order, the file takes it (or it
 * names nothing: EBADF), and the reply carries its poll state.
 *
 * Poll readiness kept by the frontend (PD_WIRE_FEAT_POLL_SEQ). Each
 * handle has an event sequence, bumped by one per PD_EV_POLL (the seq of
 * struct pd_wire_poll_ev). A PD_OP_POLL reply then has a body, struct
 * pd_wire_poll_ev: the current mask (also in result) and the sequence as
 * the backend looked at the real file, before it armed the new
 * registration. An event with a sequence not after that of the frontend's
 * latest knowledge is stale and only wakes pollers; a newer one is the
 * readiness of the file after everything the guest did before it (the
 * frontend stops believing events once it sends another request on the
 * file, until its next PD_OP_POLL reply).
 *
 *   POLL {events IN} -> result 0, {revents 0, seq 6}      armed
 *   EV_POLL {revents IN, seq 7}                            believed: IN
 *   (poll() again: IN, no trip)
 *   READ ...                                               not believed
 *   EV_POLL {revents IN, seq 8}   (fired before the READ ran: stale)
 *
 * The frontend believes a reply or event only if its sequence is not
 * before the newest it has seen of that handle, in any event (believed or
 * not): an event with a sequence after a reply's was taken after the
 * reply's look, so the reply is older. It believes a reply only if no
 * other request on the file was in flight when the one replied to went,
 * nor sent since.
 *
 * Poll state in replies (PD_WIRE_FEAT_POLL_STATE, 1.5). The backend's
 * registration of a handle then only grows: each PD_OP_POLL arms the
 * union of its events and every earlier one's, edge-triggered, until the
 * handle is released; so any later readiness among them comes as a
 * PD_EV_POLL with a newer sequence (a driver wakes its wait queue when a
 * file becomes ready). A PD_OP_POLL reply has its body only if armed. The
 * reply to a synchronous request (no PD_WIRE_F_ASYNC) READ, WRITE, LLSEEK
 * or IOCTL on an armed handle has PD_WIRE_F_POLL_STATE set, and its body
 * ends with that handle's struct pd_wire_poll_state, taken after the
 * request ran (sequence first, then the look), followed by one for each
 * new file of the ioctl that the backend armed at once (a sync_file, for
 * POLLIN), and last a struct pd_wire_poll_tail with their count. The
 * records are not part of the op's own body: hdr.len covers both, a
 * frontend strips the records before it reads the body. With the state
 * known and armed for the events asked, the frontend answers a poll
 * without a trip, "not ready" included (example: docs/frontend.md).
 */

/*
 * The header of every message.
 *
 *   id       requests: chosen by the frontend, unique while in flight, never
 *            0; replies: the request's; events: 0.
 *   op       enum pd_wire_op.
 *   flags    PD_WIRE_F_*.
 *   handle   the file the request is about, PD_WIRE_HANDLE_NONE if none
 *            (CONNECT, EXPORT_INFO, OPEN, CANCEL).
 *   len      bytes of body after the header.
 *   result   replies only: >= 0 on success (bytes moved, new offset, the
 *            ioctl's return value, poll mask), else a negative errno.
 *            Zero in requests and events.
 */
struct pd_wire_hdr {
	__u64 id;
	__u16 op;
	__u16 flags;
	__u32 handle;
	__u32 len;
	__u32 reserved;
	__s64 result;
};

/* Xen ring slot: where a message lives in the persistently granted area. */
struct pd_wire_xen_slot {
	__u64 id;
	__u32 offset;		/* from the start of the data area */
	__u32 len;		/* header + body */
};

/*
 * ---------------------------------------------------------------------------
 * PD_OP_CONNECT: request and reply body are the same struct. The frontend
 * fills its own values; the backend answers with its version, the features
 * both sides have, its message limit and the number of exports.
 */
struct pd_wire_connect {
	__u16 major;
	__u16 minor;
	__u32 max_msg;		/* largest message this side accepts */
	__u64 features;
	__u32 nexports;		/* reply only */
	__u32 max_inflight;	/* requests the sender serves at once */
};

/* PD_OP_EXPORT_INFO request: which export. */
struct pd_wire_export_req {
	__u32 index;
	__u32 reserved;
};

/* PD_OP_EXPORT_INFO reply: what it is and how the guest should name it. */
struct pd_wire_export {
	__u16 class;		/* PD_WIRE_CLASS_* */
	__u16 driver;		/* PD_WIRE_DRIVER_* */
	__u32 mode;		/* permission bits for the guest node */
	char name[PD_WIRE_NAME_LEN];	/* NUL terminated */
};

/* Open flags, independent of any one OS's numbering. */
#define PD_WIRE_O_RDONLY	0u
#define PD_WIRE_O_WRONLY	1u
#define PD_WIRE_O_RDWR		2u
#define PD_WIRE_O_ACCMODE	3u
#define PD_WIRE_O_NONBLOCK	(1u << 4)
#define PD_WIRE_O_CLOEXEC	(1u << 5)	/* new files only */

/* PD_OP_OPEN request. */
struct pd_wire_open_req {
	__u32 index;		/* export to open */
	__u32 flags;		/* PD_WIRE_O_* */
};

/* PD_OP_OPEN reply (when result == 0). */
struct pd_wire_open_rsp {
	__u32 handle;
	__u16 class;
	__u16 driver;
};

/* PD_OP_RELEASE and PD_OP_FLUSH have no body. */

/* PD_OP_READ request; the reply body is the data, result its length. */
struct pd_wire_read_req {
	__s64 pos;		/* file position for positioned files */
	__u32 count;		/* <= PD_WIRE_MAX_IO */
	__u32 seen;		/* FEAT_EVENT_PUSH: the pushed total the guest
				 * had when it sent this (else 0) */
};

/* PD_OP_WRITE request, followed by count bytes; the reply has the pos. */
struct pd_wire_write_req {
	__s64 pos;
	__u32 count;
	__u32 reserved;
};

/* PD_OP_READ and PD_OP_WRITE reply body, before any data. */
struct pd_wire_io_rsp {
	__s64 pos;		/* file position after the operation */
};

/* PD_OP_LLSEEK request; result is the new offset. */
struct pd_wire_llseek_req {
	__s64 offset;
	__u32 whence;		/* SEEK_SET 0, SEEK_CUR 1, SEEK_END 2, ... */
	__u32 reserved;
};

/*
 * PD_OP_POLL request. The frontend registers the union of what its pollers
 * wait for; result is the current mask. While events != 0 the backend sends
 * PD_EV_POLL whenever one of them becomes ready (level: it sends again after
 * every new registration while the condition holds). events == 0 cancels.
 * With PD_WIRE_FEAT_POLL_STATE the registration is the union of every
 * events asked on the handle (events == 0 changes nothing), and the reply
 * has its struct pd_wire_poll_ev body only if it is armed.
 * Mask bits use the Linux POLL* numbering (POLLIN 0x1, POLLOUT 0x4 ...).
 */
struct pd_wire_poll_req {
	__u32 events;
	__u32 reserved;
};

/* PD_EV_POLL body. seq grows by one per event of that handle. */
struct pd_wire_poll_ev {
	__u32 revents;
	__u32 seq;
};

/*
 * Poll state records at the end of a reply with PD_WIRE_F_POLL_STATE:
 * count x struct pd_wire_poll_state, then struct pd_wire_poll_tail. The
 * first is the request's own handle; at most 1 + PD_WIRE_IOCTL_MAX_NEWFDS.
 */
struct pd_wire_poll_state {
	__u32 handle;
	__u32 events;		/* what the registration is armed for */
	__u32 revents;		/* the mask at the look */
	__u32 seq;		/* the handle's sequence before the look */
};

struct pd_wire_poll_tail {
	__u32 count;
	__u32 reserved;
};

/*
 * Events pushed into the guest (PD_WIRE_FEAT_EVENT_PUSH, docs/frontend.md):
 * a DRM file's records (struct drm_event) and an evdev file's (struct
 * input_event, in the guest's clock) go as PD_EV_DATA when due, in the
 * file's order; `pushed` is the handle's running total of bytes
 * (wrapping). At most PD_WIRE_PUSH_MAX bytes go beyond what the guest
 * acknowledged with `seen` in PD_OP_READ, sent only when it holds none.
 * A read whose `seen` is not the total crossed a push: -ESTALE. revents,
 * seq: as PD_EV_POLL, after the push. PD_WIRE_EV_DATA_MAX bytes at most.
 */
#define PD_WIRE_PUSH_MAX		4096u
#define PD_WIRE_EV_DATA_MAX		80u

/* PD_EV_DATA body, followed by whole records of the file's kind. */
struct pd_wire_data_ev {
	__u32 revents;
	__u32 seq;
	__u32 pushed;
	__u32 reserved;
};

/* PD_OP_FASYNC request: turn SIGIO delivery for the handle on or off. */
struct pd_wire_fasync_req {
	__u32 on;
	__u32 reserved;
};

/* PD_EV_SIGIO body: the band (POLL_IN 1, POLL_OUT 2 ...) of the signal. */
struct pd_wire_sigio_ev {
	__s32 band;
	__u32 reserved;
};

/* PD_EV_REVOKE body: why the file is gone (negative errno, e.g. -ENODEV). */
struct pd_wire_revoke_ev {
	__s32 reason;
	__u32 reserved;
};

/* PD_OP_CANCEL request: the target gets its own reply (-EINTR if it was
 * interrupted), the CANCEL reply says 0 or -ENOENT (already done). */
struct pd_wire_cancel_req {
	__u64 target;
};

/*
 * ---------------------------------------------------------------------------
 * PD_OP_CLOCK (PD_WIRE_FEAT_CLOCK; handle PD_WIRE_HANDLE_NONE): the
 * guest's clocks against the backend's. Every reply carries the backend's
 * clocks as it answers. Without PD_WIRE_CLOCK_SET the request only asks
 * (the frontend reads its own clocks before sending and after the reply,
 * and takes the middle: the offset's error is at most half the round
 * trip, in practice the asymmetry of the two ways). With it, offset_ns
 * is what the backend adds from then on to a time of its own clock to
 * make the guest's: DRM times (MONOTONIC) and evdev times (the clock the
 * guest chose with EVIOCSCLOCKID). The frontend sends one after CONNECT,
 * before any node exists, and again now and then (clocks tick at the same
 * rate in a Xen guest, but REALTIME may be set on either side); the
 * backend keeps times it already handed out from going backwards.
 *
 * Worked example (guest up 153 s, dom0 up 213 s; a probe took 400 us):
 *   CLOCK {flags 0} -> {now_ns: 213.000200 s, ...}   guest: sent at
 *         153.000000 s, reply at 153.000400 s: offset -60.000000 s
 *   CLOCK {flags SET, offset_ns[MONOTONIC] -60000000000, error_ns 200000}
 */
#define PD_WIRE_CLOCK_MONOTONIC	0
#define PD_WIRE_CLOCK_BOOTTIME	1
#define PD_WIRE_CLOCK_REALTIME	2
#define PD_WIRE_CLOCK_COUNT	3
#define PD_WIRE_CLOCK_SET	(1u << 0)
struct pd_wire_clock_req {
	__s64 offset_ns[PD_WIRE_CLOCK_COUNT];	/* guest minus backend */
	__u32 flags;		/* PD_WIRE_CLOCK_SET */
	__u32 error_ns;		/* the offset's bound (for the log) */
};
struct pd_wire_clock_rsp {
	__s64 now_ns[PD_WIRE_CLOCK_COUNT];	/* the backend's clocks */
};
/*
 * ---------------------------------------------------------------------------
 * mmap across domains (PD_WIRE_FEAT_MMAP; the loop transport needs none of
 * this: there the real file serves the guest's mapping itself).
 *
 * PD_OP_MMAP on a handle: the backend maps [pgoff, pgoff + npages) of the
 * real file into its own memory with the same protection and answers with
 * a map_id (unique per guest) for it. No page is handed out yet.
 *
 * PD_OP_FAULT: the backend hands out the pages of [pgoff, pgoff + npages)
 * of that mapping (offsets relative to it) as one entry per page: on Xen a
 * grant reference, made for this guest only and read-only unless the
 * mapping is writable. The references stay valid until the frontend sends
 * PD_OP_MUNMAP or the backend sends PD_EV_UNMAP for the mapping. The
 * backend answers all FAULTs of one mapping with the same references until
 * then. PD_WIRE_MAPPING_IOMEM is for a transport that can hand out device
 * memory itself; on Xen 4.17 it cannot (kernel/dom0/pd_grant.c says why), so
 * the backend hands out a copy in RAM of such pages and writes it back
 * into the device (hostd/backend/maps.c), and the flag is never set.
 *
 * PD_EV_UNMAP (handle = the file, body pd_wire_unmap_ev): the real driver
 * is taking the pages back (a buffer object moves between system RAM and
 * VRAM, or the backend's own mapping goes away). The frontend unmaps every
 * page of the mapping at once; the driver waits for that, so a frontend
 * that does not unmap holds up its own backend and nobody else. The next
 * touch of the guest's mapping faults, and PD_OP_FAULT hands out the pages
 * where they are now.
 *
 * PD_OP_MUNMAP: the guest's mapping is gone (its pages are unmapped); the
 * backend ends the grants and its own mapping.
 *
 * Worked example (Xen, a 2-page dumb buffer at fake offset 0x100000000):
 *   MMAP  {pgoff 0x100000, npages 2, prot READ|WRITE, flags SHARED}
 *         -> {map_id 7, npages 2, flags 0}
 *   FAULT {map_id 7, pgoff 0, npages 2, write 1} -> [{ref 812}, {ref 813}]
 *   ...   EV_UNMAP {map_id 7}        (the buffer moved into VRAM)
 *   FAULT {map_id 7, pgoff 0, npages 2, write 1}
 *         -> [{ref 830}, {ref 831}]     (a copy of the VRAM pages)
 *   MUNMAP {map_id 7} -> 0
 */
#define PD_WIRE_PROT_READ	(1u << 0)
#define PD_WIRE_PROT_WRITE	(1u << 1)
#define PD_WIRE_MAP_SHARED	(1u << 0)

struct pd_wire_mmap_req {
	__u64 pgoff;
	__u32 npages;
	__u32 prot;		/* PD_WIRE_PROT_* */
	__u32 flags;		/* PD_WIRE_MAP_* */
	__u32 reserved;
};

/* The pages of the mapping are device memory (map uncached, no struct page). */
#define PD_WIRE_MAPPING_IOMEM	(1u << 0)

struct pd_wire_mmap_rsp {
	__u64 map_id;		/* backend's name for the mapping, per guest */
	__u32 npages;
	__u32 flags;		/* PD_WIRE_MAPPING_* */
};

/* PD_OP_FAULT: the frontend needs pages [pgoff, pgoff + npages). */
struct pd_wire_fault_req {
	__u64 map_id;
	__u64 pgoff;		/* relative to the mapping */
	__u32 npages;		/* at most PD_WIRE_MAX_FAULT_PAGES */
	__u32 write;
};

/* PD_OP_FAULT reply body: npages entries. */
struct pd_wire_fault_page {
	__u32 ref;
	__u32 flags;		/* PD_WIRE_MAPPING_* for this page */
};

/* PD_EV_UNMAP body. */
struct pd_wire_unmap_ev {
	__u64 map_id;
};

/* PD_OP_MUNMAP request. */
struct pd_wire_munmap_req {
	__u64 map_id;
};

/*
 * ---------------------------------------------------------------------------
 * PD_OP_IOCTL
 *
 * The descriptor tables (common/pd_ioctl.h) say, for every supported command
 * of a class, which buffers the ioctl touches: buffer 0 is the argument
 * itself (its size and direction come from the command's _IOC bits and the
 * table), the others are the arrays and nested buffers reached through
 * pointers in earlier buffers, in the order in which the tables walk them.
 * Both sides walk the same table over the same bytes and so agree on the
 * list; the backend rejects a request whose list differs from its own walk.
 *
 * Request body:
 *
 *   struct pd_wire_ioctl_req
 *   data area: data_len bytes (the IN bytes of the buffers)
 *   padding to 8 bytes
 *   nbufs x struct pd_wire_buf
 *
 * In the data, every pointer field that the tables describe holds 0: the
 * backend writes its own addresses there. Every file descriptor field that
 * the tables mark as an input holds a handle (PD_WIRE_HANDLE_NONE for a
 * negative descriptor) instead of a guest descriptor number.
 *
 * Reply body (result is the ioctl's return value or -errno):
 *
 *   struct pd_wire_ioctl_rsp
 *   data area: data_len bytes (the OUT bytes the guest must receive)
 *   padding to 8 bytes
 *   nbufs x struct pd_wire_buf, the same buffers as in the request; flag
 *     PD_WIRE_BUF_OUT set where bytes are returned, len the number of
 *     bytes to copy to the start of that guest buffer
 *   nfds x struct pd_wire_newfd
 *
 * In the reply, pointer fields and descriptor fields hold 0 and -1: the
 * frontend puts back the guest's own values and the guest descriptors of
 * new files. A pointer field the driver itself set to NULL holds
 * PD_WIRE_PTR_CLEARED instead, and the guest gets NULL there (V4L2
 * G_FMT clears v4l2_window.bitmap).
 *
 * New-file records ride in the reply rather than in a separate event: the
 * descriptor must exist, and be written into the argument, before the
 * caller's ioctl returns. A frontend that cannot install a new file (out of
 * descriptors, caller gone) sends PD_OP_RELEASE for its handle.
 */
/* Reply only: the driver wrote NULL into this pointer field. */
#define PD_WIRE_PTR_CLEARED	0xffffffffffffffffull

struct pd_wire_ioctl_req {
	__u32 cmd;		/* the guest's ioctl command number */
	__u32 nbufs;		/* 0 when the command passes a value or
				 * nothing, else 1 + nested buffers */
	__u64 arg;		/* value argument (tables say when), else 0 */
	__u32 data_len;
	__u32 new_handle;	/* 1.8: the handle of the file made, or 0 */
};

struct pd_wire_ioctl_rsp {
	__u32 nbufs;
	__u32 nfds;
	__u32 data_len;
	__u32 reserved;
};

/* pd_wire_buf.flags */
#define PD_WIRE_BUF_IN		(1u << 0)	/* bytes in this message */
#define PD_WIRE_BUF_OUT		(1u << 1)	/* request: may come back;
						 * reply: bytes in this message */
#define PD_WIRE_BUF_NULL	(1u << 2)	/* the guest pointer was NULL */
#define PD_WIRE_BUF_ALL		(PD_WIRE_BUF_IN | PD_WIRE_BUF_OUT | PD_WIRE_BUF_NULL)

struct pd_wire_buf {
	__u32 offset;		/* of the bytes in the data area */
	__u32 len;		/* request: size of the guest buffer;
				 * reply: bytes returned */
	__u32 flags;		/* PD_WIRE_BUF_* */
	__u32 reserved;
};

/* A file created by the ioctl: put a guest fd for handle at buf/offset. */
struct pd_wire_newfd {
	__u32 handle;
	__u32 buf;		/* index into the buffer list */
	__u32 offset;		/* of the 32-bit descriptor field in it */
	__u32 flags;		/* PD_WIRE_O_* of the new file */
};

/*
 * ===========================================================================
 *                          Compile-time size checks
 * ===========================================================================
 */
#define PD_WIRE_ASSERT_SIZE(type, size) \
	_Static_assert(sizeof(struct type) == (size), \
		       "wire ABI: struct " #type " must be " #size " bytes")

PD_WIRE_ASSERT_SIZE(pd_wire_hdr, 32);
PD_WIRE_ASSERT_SIZE(pd_wire_xen_slot, 16);
PD_WIRE_ASSERT_SIZE(pd_wire_connect, 24);
PD_WIRE_ASSERT_SIZE(pd_wire_export_req, 8);
PD_WIRE_ASSERT_SIZE(pd_wire_export, 40);
PD_WIRE_ASSERT_SIZE(pd_wire_open_req, 8);
PD_WIRE_ASSERT_SIZE(pd_wire_open_rsp, 8);
PD_WIRE_ASSERT_SIZE(pd_wire_read_req, 16);
PD_WIRE_ASSERT_SIZE(pd_wire_write_req, 16);
PD_WIRE_ASSERT_SIZE(pd_wire_io_rsp, 8);
PD_WIRE_ASSERT_SIZE(pd_wire_llseek_req, 16);
PD_WIRE_ASSERT_SIZE(pd_wire_poll_req, 8);
PD_WIRE_ASSERT_SIZE(pd_wire_poll_ev, 8);
PD_WIRE_ASSERT_SIZE(pd_wire_poll_state, 16);
PD_WIRE_ASSERT_SIZE(pd_wire_poll_tail, 8);
PD_WIRE_ASSERT_SIZE(pd_wire_data_ev, 16);
PD_WIRE_ASSERT_SIZE(pd_wire_fasync_req, 8);
PD_WIRE_ASSERT_SIZE(pd_wire_sigio_ev, 8);
PD_WIRE_ASSERT_SIZE(pd_wire_revoke_ev, 8);
PD_WIRE_ASSERT_SIZE(pd_wire_cancel_req, 8);
PD_WIRE_ASSERT_SIZE(pd_wire_clock_req, 32);
PD_WIRE_ASSERT_SIZE(pd_wire_clock_rsp, 24);
PD_WIRE_ASSERT_SIZE(pd_wire_mmap_req, 24);
PD_WIRE_ASSERT_SIZE(pd_wire_mmap_rsp, 16);
PD_WIRE_ASSERT_SIZE(pd_wire_fault_req, 24);
PD_WIRE_ASSERT_SIZE(pd_wire_fault_page, 8);
PD_WIRE_ASSERT_SIZE(pd_wire_munmap_req, 8);
PD_WIRE_ASSERT_SIZE(pd_wire_unmap_ev, 8);
PD_WIRE_ASSERT_SIZE(pd_wire_ioctl_req, 24);
PD_WIRE_ASSERT_SIZE(pd_wire_ioctl_rsp, 16);
PD_WIRE_ASSERT_SIZE(pd_wire_buf, 16);
PD_WIRE_ASSERT_SIZE(pd_wire_newfd, 16);

_Static_assert(PD_WIRE_IOCTL_MAX_DATA + 64 * 1024 <= PD_WIRE_MAX_MSG,
	       "wire ABI: an ioctl of maximal size must fit in a message");
_Static_assert(PD_WIRE_IOCTL_MAX_BUF <= PD_WIRE_IOCTL_MAX_DATA,
	       "wire ABI: one buffer never exceeds the ioctl total");

#endif /* PARADICE_PD_WIRE_H */
