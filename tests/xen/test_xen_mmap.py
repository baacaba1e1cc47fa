# SPDX-License-Identifier: GPL-2.0-only
"""mmap across domains: a guest maps pages of dom0's real device files
through its forwarded nodes. dom0's grant helper (pdgrant) grants the guest
the very frames the real driver handed the backend (TTM system pages of a
bochs dumb buffer, vb2 vmalloc pages of vivid), zero copy, and the guest's
frontend maps the grants into the program's page tables. Device memory
(the bochs VRAM BAR, once the buffer is pinned for scanout) cannot be
granted by Xen 4.17 (kernel/dom0/pd_grant.c says why): the backend serves it
from a copy in RAM that it writes into VRAM. Every grant is counted in
dom0 before, during and after."""

import re

from pdvm import xen
from pdvm.testlib import check, run_ok, wait_for

MODE = "xen"
GUESTS = 2
# guest1 PV, guest2 PVH (see test_pvh.py): one appliance for tests/xen/
GUEST_TYPES = ("pv", "pvh")

def test_xen_dumb_buffer_mapped_in_guest_shows_on_screen(app):
    """guest1 maps a 1024x768 dumb buffer of dom0's bochs card (system pages
    granted, zero copy), fills it red and sets it on the CRTC: the
    screendump turns red. The mode set moves the buffer into VRAM, so dom0
    takes the pages back (PD_EV_UNMAP, the move waits until the guest has
    unmapped them) and the guest's next touch faults; VRAM frames cannot be
    granted, so the backend grants a copy in RAM and writes it into VRAM;
    the guest fills it green through the same mapping and the screen turns
    green. The grants (768 pages) end when the program exits."""
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
        check([int(s) for s, _ in frames] == list(range(8)),
              "%s: sequence %r" % (g, [s for s, _ in frames]))
        check(all(int(b) == size for _, b in frames),
              "%s: sizes %r, format says %d" % (g, [b for _, b in frames],
                                                 size))
        left = xen.wait_grants(app, before, "%s's grants to end" % g)
        print("%s: 8 frames of %d bytes; grants in dom0 %d before, %d after"
              % (g, size, before, left))


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
