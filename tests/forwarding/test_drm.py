# SPDX-License-Identifier: GPL-2.0-only
"""DRM through the loop transport: the real bochs card forwarded beside
the native one, compared in the same run."""

import time

from pdvm import fwd
from pdvm.testlib import artifact, check, missing_color_bars, run_ok

MODE = "plain"


def test_modetest_lists_identical_resources(app):
    """`modetest -M bochs-drm` prints the same connectors, encoders, CRTCs,
    planes, modes and properties through the forwarded card as through the
    native one: libdrm finds the forwarded card by the driver name its
    forwarded DRM_IOCTL_VERSION gives, and every KMS query ioctl (with its
    nested arrays) comes back intact."""
    try:
        node, = fwd.export(app, "/dev/dri/card0")
        check(node.startswith("/dev/dri/card") and node != "/dev/dri/card0",
              "forwarded node %r" % node)
        native = run_ok(app, "plain", "modetest -M bochs-drm")
        forwarded = run_ok(app, "plain",
                           fwd.only_card(app, node, "modetest -M bochs-drm"))
        check(native.count("\n") > 50 and "Connectors:" in native,
              "native modetest printed too little:\n%s" % native)
        check(forwarded == native,
              "modetest differs through %s:\n--- native\n%s\n--- forwarded\n%s"
              % (node, native, forwarded))
        # the name check is real: nothing else answers for bochs-drm there
        out = run_ok(app, "plain", fwd.only_card(
            app, node, "modetest -M vgem -c 2>&1; true"))
        check("failed to open device" in out,
              "modetest found a vgem card where only the forwarded bochs "
              "card is: %s" % out)
    finally:
        fwd.teardown(app)


def test_dumb_buffer_mode_set_shows_on_screen(app):
    """A KMS client on the forwarded card creates a dumb buffer, maps it
    (the mapping is handed to the real bochs file: the pages are the real
    VRAM), draws its colour bars and sets a mode; QEMU's screendump shows
    the bars, which were not there before."""
    try:
        node, = fwd.export(app, "/dev/dri/card0")
        before = app.screendump(artifact("fwd-drm-before.png"))
        check(missing_color_bars(before, 1024, 768),
              "the bars are on screen before modetest ran")
        conn = run_ok(app, "plain", "modetest -M bochs-drm -c | "
                      "awk '$3 == \"connected\" {print $1; exit}'").strip()
        check(conn.isdigit(), "no connected bochs connector: %r" % conn)
        run_ok(app, "plain", "(sleep 600 | %s >/tmp/fwd-modetest.log 2>&1 &)"
               % fwd.only_card(app, node, "modetest -M bochs-drm -s %s:1024x768"
                               % conn))
        deadline = time.monotonic() + 30
        while True:
            shot = app.screendump(artifact("fwd-drm-modetest.png"))
            missing = missing_color_bars(shot, 1024, 768)
            if not missing or time.monotonic() > deadline:
                break
            time.sleep(1)
        log = run_ok(app, "plain", "cat /tmp/fwd-modetest.log")
        check(shot[:2] == (1024, 768), "screen is %dx%d" % shot[:2])
        check(not missing, "bars missing from the screendump: %r\n%s"
              % (missing, log))
    finally:
        fwd.teardown(app, kill=("modetest", "sleep"))


def vgem_card(app):
    out = run_ok(app, "plain", "for c in /sys/class/drm/card*; do "
                 "echo ${c##*/} $(basename $(readlink -f $c/device)); done")
    for line in out.splitlines():
        name, dev = line.split()
        if dev == "vgem":
            return "/dev/dri/" + name
    raise AssertionError("no vgem card:\n%s" % out)


def test_dumb_buffer_prime_fd_shares_pages(app):
    """On the forwarded vgem card (bochs has no PRIME export), a dumb
    buffer created and written through a mapping of the forwarded card is
    exported as a PRIME fd: a new forwarded file the ioctl created, whose
    own mapping (handed to the real dma-buf) shows the very bytes written.
    Both mappings are the real driver's pages."""
    try:
        node, = fwd.export(app, vgem_card(app))
        out = run_ok(app, "plain", "pd-fwdtest dumb-prime %s" % node)
        check("mismatches 0" in out and "prime-fd 1" in out, out)
    finally:
        fwd.teardown(app)
