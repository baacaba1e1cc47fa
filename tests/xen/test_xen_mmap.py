# SPDX-License-Identifier: GPL-2.0-only
"""mmap across domains: a guest maps pages of dom0's real device files
through its forwarded nodes. dom0's grant helper (pdgrant) grants the guest
the very frames the real driver handed the backend (vb2 vmalloc pages of
vivid), zero copy, and the guest's frontend maps the grants into the
program's page tables. Frames it cannot grant, or cannot hold a page
reference on (so cannot keep from reuse after revoking a guest that does
not unmap), are served from a copy in RAM that the backend writes into the
device: the bochs VRAM BAR (Xen 4.17 cannot grant it; kernel/dom0/pd_grant.c
says why) and TTM's system pages of a bochs dumb buffer (6.1 allocates them
as non-compound pages). Every grant is counted in dom0 before, during and
after."""

import re
import time

from pdvm import xen
from pdvm.testlib import check, run_ok, wait_for

MODE = "xen"
GUESTS = 2
# one boot for the suite: test_xen_vm_switcher.py's guests need it
GUEST_LAYERS = ("switcher", "camera", "audio")

def test_xen_dumb_buffer_mapped_in_guest_shows_on_screen(app):
    """guest1 maps a 1024x768 dumb buffer of dom0's bochs card (TTM system
    pages, which pdgrant cannot hold: a copy in RAM is granted and written
    into the buffer), fills it red and sets it on the CRTC: the screendump
    turns red. The mode set moves the buffer into VRAM; the copy goes on
    being written there; the guest fills it green through the same mapping
    and the screen turns green. The grants (768 pages) end when the
    program exits."""
    xen.dumb_buffer_on_screen(app, "guest1")


def test_xen_v4l2_mmap_streaming_in_both_guests(app):
    """v4l2-ctl --stream-mmap captures 8 frames in guest1, then in guest2,
    from dom0's vivid: its MMAP buffers are vivid's own vb2 pages, granted
    to the guest and mapped by it; dom0's grant count is back where it
    was after each."""
    xen.setup(app)
    before = xen.grants(app)
    fmt = run_ok(app, "dom0", "v4l2-ctl -d /dev/video0 --get-fmt-video")
    size = int(re.search(r"Size Image\s*:\s*(\d+)", fmt).group(1))
    for g in ("guest1", "guest2"):
        out = run_ok(app, g, "cd /tmp && v4l2-ctl -d /dev/video0 "
                     "--stream-mmap --stream-count=8 --verbose 2>&1",
                     timeout=240)
        frames = re.findall(r"cap dqbuf: \d+ seq:\s*(\d+) bytesused: (\d+)",
                            out)
        check(len(frames) == 8, "%s: %d frames:\n%s" % (g, len(frames), out))
        # vivid drops a frame when no buffer is queued in time (a slow
        # emulated guest): sequence numbers rise, gaps are drops
        seq = [int(s) for s, _ in frames]
        check(seq[0] >= 0 and all(b > a for a, b in zip(seq, seq[1:])),
              "%s: sequence %r" % (g, seq))
        if seq != list(range(8)):
            print("%s: vivid dropped %d frames (sequence %r)"
                  % (g, seq[-1] + 1 - len(seq), seq))
        check(all(int(b) == size for _, b in frames),
              "%s: sizes %r, format says %d" % (g, [b for _, b in frames],
                                                 size))
        left = xen.wait_grants(app, before, "%s's grants to end" % g)
        print("%s: 8 frames of %d bytes; grants in dom0 %d before, %d after"
              % (g, size, before, left))


def test_xen_v4l2_buffers_stay_with_their_guest(app):
    """While guest1 streams from dom0's vivid, any other opener of
    /dev/video0 in dom0 may QUERYBUF and mmap guest1's capture buffers
    (Linux ties only QBUF/DQBUF/STREAMON to the queue's owner): shown
    natively. guest2, given the same camera, gets EBUSY for both, and its
    backend logs why; guest1's stream goes on."""
    xen.setup(app)
    before = xen.grants(app)
    run_ok(app, "guest1", "(v4l2-ctl -d /dev/video0 --stream-mmap "
           "--stream-count=1000000 >/tmp/own.log 2>&1 &); true")
    try:
        wait_for("guest1 streaming", lambda: xen.grants(app) > before,
                 timeout=60)
        native = run_ok(app, "dom0", "pd-fwdtest v4l2-peek /dev/video0")
        check("querybuf 0 errno 0" in native and "mmap ok" in native,
              "natively, another file could not peek (the premise):\n%s"
              % native)
        out = run_ok(app, "guest2", "pd-fwdtest v4l2-peek /dev/video0")
        check("querybuf -1 errno 16" in out and "mmap errno 16" in out,
              "guest2 reached guest1's buffers:\n%s" % out)
        log = run_ok(app, "dom0", "cat /var/log/pd-backend-guest2.log")
        check("another file owns the video queue's buffers" in log,
              log[-1500:])
        n0 = run_ok(app, "guest1", "cat /tmp/own.log").count("<")
        time.sleep(2)
        n1 = run_ok(app, "guest1", "cat /tmp/own.log").count("<")
        check(n1 > n0, "guest1's stream stopped (%d then %d frames)"
              % (n0, n1))
        print("dom0 natively: %s; guest2: %s; guest1's stream went on "
              "(%d -> %d frames)" % (native.strip().replace("\n", ", "),
                                     out.strip().replace("\n", ", "), n0,
                                     n1))
    finally:
        run_ok(app, "guest1", "killall v4l2-ctl 2>/dev/null; true")
    xen.wait_grants(app, before, "guest1's grants to end")


def test_xen_backend_killed_while_guest_maps_its_pages(app):
    """guest2 streams into mmap'ed capture buffers (vivid's pages granted
    to it) when its backend is killed: the backend's exit would free those
    pages, so dom0's helper holds the exit until guest2 has unmapped them
    (it closes the connection in XenStore itself, the backend cannot);
    v4l2-ctl in guest2 ends with an error, no grant is left, guest2's
    kernel stays healthy and a new backend serves it."""
    xen.setup(app)
    run_ok(app, "guest2", "(v4l2-ctl -d /dev/video0 --stream-mmap "
           "--stream-count=1000000 >/tmp/stream.log 2>&1; echo exit $? "
           ">>/tmp/stream.log) >/dev/null 2>&1 &")
    held = wait_for("guest2's buffers mapped", lambda: (
        lambda n: n if n > 0 else None)(xen.grants(app)), timeout=60)
    old = xen.backend_pid(app, "guest2")
    run_ok(app, "dom0", "kill -9 %s" % old)
    xen.wait_grants(app, 0, "the grants to end after the kill")
    log = wait_for("v4l2-ctl in guest2 to end", lambda: (lambda t: t if "exit"
                   in t else None)(run_ok(app, "guest2",
                                         "cat /tmp/stream.log")), timeout=60)
    check("Input/output error" in log, "v4l2-ctl did not see EIO when "
          "its backend died:\n" + log[-500:])
    wait_for("a new backend for guest2", lambda: (
        lambda p: p and p != old)(xen.backend_pid(app, "guest2")))
    wait_for("guest2 served again", lambda: "Connectors:" in run_ok(
        app, "guest2", "modetest -M bochs-drm -c 2>&1; true"), timeout=60)
    helper = run_ok(app, "dom0", "dmesg | grep pdgrant | tail -3")
    print("grants held by guest2 when its backend was killed: %d, after: 0\n%s"
          % (held, helper.strip()))
