/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * pd_control.h: a guest's control file, /dev/paradice/control
 * (PD_WIRE_CLASS_CONTROL, pd_wire.h 1.3): the switcher inside a guest
 * talks to hostd through it. Three parties:
 *
 *   guest program          backend (pd-backend)         hostd
 *   (pd-switcher-agent)
 *     open(control)  ---->  socketpair(SEQPACKET)
 *                           OPEN + one end (SCM_RIGHTS)
 *                           on its channel ----------->  a new client of
 *                                                        that guest
 *     write("SWITCH guest2") ---- the other end ----->   checked against
 *                                                        the guest's allow
 *     read()  <------------------------------------      "OK" / "ERR ..."
 *
 * The channel: a SOCK_SEQPACKET socketpair hostd makes for each backend it
 * starts, the backend's end in PD_CONTROL_FD_ENV; which guest a channel
 * (and every file that comes over it) belongs to is fixed by
 * construction, as for the display (pd_display.h). On it the backend
 * only ever sends struct pd_ctl_open with exactly one descriptor: its
 * guest's new control file, a SOCK_SEQPACKET socket whose other end the
 * backend keeps as the real file behind the guest's handle, so the
 * guest's write, read and poll on its file are the generic forwarded
 * ones (hostd/backend/control.c). hostd sends nothing on the channel.
 * A backend that outlived its hostd has a dead channel (its guest's opens
 * fail with ENOTCONN) until it reattaches to the new hostd, which brings
 * a new one (pd_display.h, PD_DISP_HELLO_CONTROL); files opened before
 * the restart stay dead (read 0): the guest opens its file again.
 *
 * On a control file: one request per write, one reply per request, in
 * order, each one packet. Everything the guest writes is untrusted: hostd
 * reads at most PD_CONTROL_MAX_REQ bytes of a packet (a longer one is
 * refused, "ERR Invalid"), reads one request of a file per turn of its
 * loop, never blocks on a guest (a reply that does not fit in the file's
 * socket buffer, because the guest does not read its replies, closes the
 * file), and keeps at most PD_CONTROL_MAX_FILES files of a guest open
 * (hostd closes the one more: its writes get EPIPE).
 *
 * Requests: ASCII words separated by single spaces, an optional '\n'.
 *
 *   LIST            the VMs and which one is in front (allow: list)
 *   SWITCH NAME     give the screen and keyboard to guest NAME (switch)
 *   SWITCH host     to dom0's entry: its console or session (host; switch
 *                   alone does not let a guest hand dom0 the screen)
 *   NEXT, PREVIOUS  to the next / previous running guest (switch); from
 *                   dom0's entry the first / the last
 *   WATCH           this file gets EVENTs from now on (list)
 *
 * Replies: "OK\n", with LIST's lines after it:
 *
 *   SELF NAME                 the asking guest
 *   GUEST NAME                each guest of hostd's configuration, in
 *                             config order (running or not)
 *   VM NAME DOMID STATE A     each guest with a domain: STATE as the Vm
 *                             object's State, A 1 if it is in front;
 *                             then dom0's entry, "VM host 0 running A"
 *                             (no guest may be named host)
 *
 * Events (after WATCH): a packet that starts "EVENT\n" and goes on as
 * LIST's reply after "OK\n", sent unasked after every switch and every
 * change of the VM list or a VM's state, made anywhere. It may come
 * between a request and its reply: a reader takes the first packet that
 * is no EVENT as the reply. hostd never waits for a guest's room: an
 * EVENT that does not fit in the file's buffer waits as a mark, and the
 * file gets one EVENT of the state of then when it has room.
 *
 * or "ERR NAME TEXT\n": NAME is the last part of the D-Bus error the
 * switcher agent answers with (org.paradice.Switcher1.Error.NAME):
 *
 *   Refused    the guest's allow does not let it (paradice.conf), or the
 *              VM cannot take the screen now, or a thing never served to
 *              a guest (another guest's frames: thumbnails, screenshots)
 *   UnknownVm  no such VM
 *   Invalid    not a request (unknown word, bad name, too long)
 *
 * Worked example (guest1: allow = list,switch; guest2 runs):
 *
 *   guest1 writes "LIST"
 *   reads "OK\nSELF guest1\nGUEST guest1\nGUEST guest2\n"
 *         "VM guest1 1 running 1\nVM guest2 2 running 0\n"
 *         "VM host 0 running 0\n"
 *   writes "SWITCH guest2"       reads "OK\n"
 *   writes "THUMBNAIL guest2"    reads "ERR Refused a guest never sees
 *                                       another guest's frames\n"
 *   writes "WATCH"               reads "OK\n"
 *   (dom0's hotkey switches to guest2)
 *   reads "EVENT\nSELF guest1\nGUEST guest1\nGUEST guest2\n"
 *         "VM guest1 1 running 0\nVM guest2 2 running 1\n"
 *         "VM host 0 running 0\n"
 *   writes "SWITCH host"         reads "ERR Refused guest1 may not hand
 *                                       dom0 the screen (paradice.conf:
 *                                       allow has no host)\n"
 */
#ifndef PARADICE_PD_CONTROL_H
#define PARADICE_PD_CONTROL_H

#include <stdint.h>

#define PD_CONTROL_FD_ENV	"PD_CONTROL_FD"
#define PD_CONTROL_NODE		"/dev/paradice/control"
#define PD_CONTROL_MAX_REQ	256	/* bytes of one request */
#define PD_CONTROL_MAX_REPLY	8192	/* bytes of one reply (LIST of 32 guests) */
#define PD_CONTROL_MAX_FILES	8	/* control files of one guest */

#define PD_CTL_OPEN	1u

/* backend -> hostd on the channel, with one descriptor (SCM_RIGHTS) */
struct pd_ctl_open {
	uint32_t type;		/* PD_CTL_OPEN */
	uint32_t reserved;	/* 0 */
};

_Static_assert(sizeof(struct pd_ctl_open) == 8, "pd_ctl_open");

#endif /* PARADICE_PD_CONTROL_H */
