# SPDX-License-Identifier: GPL-2.0-only
"""V4L2 through the loop transport: vivid's capture node forwarded beside
the native one, compared in the same run."""

import re

from pdvm import fwd
from pdvm.testlib import v4l2_comparable, check, run_ok

MODE = "plain"


def test_v4l2_ctl_all_identical(app):
    """`v4l2-ctl --all` (capabilities, formats, inputs, tuner, controls
    with their menus, framebuffer, selection ...) prints the same through
    the forwarded node as through /dev/video0, and the node is a real V4L2
    device to the tools: /sys/class/video4linux/videoN/name exists."""
    try:
        node, = fwd.export(app, "/dev/video0")
        check(node.startswith("/dev/video") and node != "/dev/video0", node)
        name = run_ok(app, "plain", "cat /sys/class/video4linux/%s/name"
                      % node[5:]).strip()
        check(name == "vivid", "sysfs name of %s is %r" % (node, name))
        native = run_ok(app, "plain", "v4l2-ctl -d /dev/video0 --all")
        forwarded = run_ok(app, "plain", "v4l2-ctl -d %s --all" % node)
        check(native.count("\n") > 100, "native output too short:\n%s"
              % native)
        check(v4l2_comparable(forwarded) == v4l2_comparable(native),
              "v4l2-ctl --all differs:\n--- native\n%s\n--- forwarded\n%s"
              % (native, forwarded))
    finally:
        fwd.teardown(app)


def test_stream_mmap_captures_frames(app):
    """`v4l2-ctl --stream-mmap --stream-count=8` captures 8 frames through
    the forwarded node (REQBUFS, QUERYBUF, mmap served by the real vb2
    queue, QBUF/DQBUF, STREAMON, poll), each of the format's image size,
    with sequence numbers 0..7."""
    try:
        node, = fwd.export(app, "/dev/video0")
        fmt = run_ok(app, "plain", "v4l2-ctl -d %s --get-fmt-video" % node)
        size = int(re.search(r"Size Image\s*:\s*(\d+)", fmt).group(1))
        out = run_ok(app, "plain", "cd /tmp && v4l2-ctl -d %s --stream-mmap "
                     "--stream-count=8 --verbose 2>&1" % node, timeout=120)
        frames = re.findall(r"cap dqbuf: \d+ seq:\s*(\d+) bytesused: (\d+)",
                            out)
        check(len(frames) == 8, "%d frames captured:\n%s" % (len(frames), out))
        check([int(s) for s, _ in frames] == list(range(8)),
              "sequence numbers %r" % [s for s, _ in frames])
        check(all(int(b) == size for _, b in frames),
              "frame sizes %r, format says %d" % ([b for _, b in frames],
                                                  size))
    finally:
        fwd.teardown(app, kill=("v4l2-ctl",))


def test_expbuf_gives_a_usable_dmabuf(app):
    """VIDIOC_EXPBUF on the forwarded node returns a new forwarded file
    for the buffer's dma-buf; its mapping (handed to the real dma-buf)
    shows the bytes written through the buffer's own mapping."""
    try:
        node, = fwd.export(app, "/dev/video0")
        out = run_ok(app, "plain", "pd-fwdtest v4l2-expbuf %s" % node)
        check("expbuf-fd 1 mismatches 0" in out, out)
    finally:
        fwd.teardown(app)
