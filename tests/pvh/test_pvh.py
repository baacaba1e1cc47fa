# SPDX-License-Identifier: GPL-2.0-only
"""A PVH guest beside a PV one, opt-in (OPT_IN: `make check-pvh`, not
`make check`): PVH guests still die at random under TCG here (a triple
fault or a panic in the guest, docs/testing.md), which would make every
run of `make check` a gamble. This appliance has guest1 PV and guest2
PVH: Xen runs guest2 in an HVM container with nested paging, its paging
auto-translated, so its frontend maps the backend's grants into pages of
the unpopulated-memory allocator (GNTMAP_host_map at their guest-physical
address) and enters those into the program's page tables, where guest1's
has Xen write the entries (kernel/front_xenmap.c). Rings and event channels
are the same in both.

`make check-pvh` also runs the modules of tests/xen/ with the same
guests (run-all --guest-type pv,pvh); they run their checks in both
guests where they use both (modetest and v4l2-ctl at once, evdev, V4L2 mmap streaming, a
backend killed while guest2 maps its pages, guest2 destroyed mid-stream);
this one runs in guest2 (PVH) what they run in guest1 only: the dumb
buffer through PD_EV_UNMAP, ALSA, ioctl round trips, and fasync and a
dma-buf export besides."""

import re

from pdvm import xen
from pdvm.testlib import check, run_ok, wait_for

MODE = "xen"
GUESTS = 2
GUEST_TYPES = ("pv", "pvh")
OPT_IN = "pvh"


def test_pvh_guest_beside_pv_guest(app):
    """guest1 runs as a PV guest and guest2 as a PVH guest (the kernel's
    own word, /sys/hypervisor/guest_type; or what `run-all --guest-type`
    asked for instead), both connected to their backends; Xen has nested
    paging (HAP), without which a PVH guest cannot be created."""
    xen.setup(app)
    kinds = {g: run_ok(app, g, "cat /sys/hypervisor/guest_type").strip()
             for g in ("guest1", "guest2")}
    want = {g: app.guest_type(g).upper() for g in ("guest1", "guest2")}
    check(kinds == want, "guest types: %r, asked for %r" % (kinds, want))
    caps = run_ok(app, "dom0", "xl info | grep virt_caps")
    check(re.search(r"\bhap\b", caps), "Xen lacks HAP: %s" % caps)
    print("guest1 %(guest1)s, guest2 %(guest2)s; " % kinds + caps.strip())


def test_pvh_dumb_buffer_mapped_in_pvh_guest_shows_on_screen(app):
    """guest2 (PVH) maps a 1024x768 dumb buffer of dom0's bochs card, fills
    it red and sets it on the CRTC: red on screen. The mode set moves the
    buffer into VRAM: dom0 takes the pages back (PD_EV_UNMAP), which in a
    PVH guest zaps the program's entries and then unmaps the grants from
    the guest's pages; the next touch faults, maps the backend's copy and
    enters it again; green on screen. 768 grants while shown, none once
    the program exits."""
    xen.dumb_buffer_on_screen(app, "guest2")


def test_pvh_aplay_into_forwarded_loopback_arrives_byte_identical(app):
    """aplay in guest2 (PVH) into its forwarded snd-aloop playback device;
    arecord in dom0 captures the loopback's other end: the samples arrive
    byte for byte."""
    xen.aplay_loopback(app, "guest2")


def test_pvh_ioctl_round_trips(app):
    """1000 DRM ioctls (VERSION, GET_CAP) from guest2 (PVH) all succeed;
    prints the time beside guest1's (PV) for the same."""
    xen.setup(app)
    for g in ("guest1", "guest2"):
        out = run_ok(app, g, "pd-fwdtest drm-ioctls /dev/dri/card0 1000",
                     timeout=120)
        print("%s (%s): %s" % (g, app.guest_type(g), out.strip()))
        check(out.startswith("ok 1000 of 1000") or
              out.startswith("ok 2000 of 2000"), out)


def test_pvh_fasync_delivers_sigio(app):
    """O_ASYNC on guest2's (PVH) forwarded keyboard: a key pressed on the
    emulated keyboard gives the program SIGIO (the backend's SIGIO of the
    real file coming back over the event ring), then the program reads an
    event."""
    xen.setup(app)
    run_ok(app, "guest2", "rm -f /tmp/fasync.txt; (pd-fwdtest fasync "
           "/dev/input/event0 60 >/tmp/fasync.txt 2>&1 &); true")
    try:
        wait_for("the program armed", lambda: "armed" in run_ok(
            app, "guest2", "cat /tmp/fasync.txt"), timeout=30)
        app.keys(["a"])
        out = wait_for("SIGIO in guest2", lambda: (
            lambda t: t if t.count("\n") >= 3 or "no sigio" in t else None)(
                run_ok(app, "guest2", "cat /tmp/fasync.txt")), timeout=30)
        check(re.match(r"armed\nsigio\n\d+ \d+ -?\d+\n$", out),
              "got:\n%s" % out)
    finally:
        run_ok(app, "guest2", "killall pd-fwdtest 2>/dev/null; true")


def test_pvh_v4l2_buffer_and_its_dmabuf_mapped(app):
    """In guest2 (PVH), a V4L2 MMAP capture buffer of dom0's vivid is
    mapped and written, exported (VIDIOC_EXPBUF: a new forwarded file for
    the dma-buf) and the dma-buf mapped read-only: it shows the very bytes
    written, both mappings being grants of vivid's own pages; every grant
    ends with the program."""
    xen.setup(app)
    before = xen.grants(app)
    out = run_ok(app, "guest2", "pd-fwdtest v4l2-expbuf /dev/video0",
                 timeout=120)
    check("expbuf-fd 1 mismatches 0" in out, out)
    xen.wait_grants(app, before, "guest2's grants to end")
    print("guest2: %s; grants in dom0 %d before and after"
          % (out.strip(), before))
