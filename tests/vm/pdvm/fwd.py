# SPDX-License-Identifier: GPL-2.0-only
"""Helpers for the forwarding tests (tests/forwarding/): load the frontend
in the plain VM, forward native device files with pdctl (the loop
transport: frontend and backend in the same kernel), and clean up so that
the next test starts from a VM without the module."""

import shlex
import time

from .testlib import TestFailure, check, run_ok

VM = "plain"


def start_keyboard(app, name, hold=60):
    """A uinput keyboard (pd-fwdtest uinput) that types "paradice" once
    /tmp/fwd-go exists and lives hold seconds; returns its native event
    node."""
    run_ok(app, VM, "rm -f /tmp/fwd-go /tmp/fwd-uinput.txt; "
           "(pd-fwdtest uinput '%s' /tmp/fwd-go %d >/tmp/fwd-uinput.txt &)"
           % (name, hold))
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        out = run_ok(app, VM, "cat /tmp/fwd-uinput.txt").strip()
        if out.startswith("/dev/input/event"):
            return out
        time.sleep(0.5)
    raise TestFailure("the uinput keyboard did not appear")


def frontend_up(app):
    run_ok(app, VM, "lsmod | grep -q '^pdfront ' || "
           "insmod /lib/modules/$(uname -r)/updates/dkms/pdfront.ko")


def export(app, *paths):
    """Forward paths through one backend; returns the forwarded nodes in
    the same order."""
    frontend_up(app)
    out = run_ok(app, VM, "pdctl export " +
                 " ".join(shlex.quote(p) for p in paths), timeout=60)
    nodes = out.split()
    check(len(nodes) == len(paths) and all(n.startswith("/dev/")
                                           for n in nodes),
          "pdctl export %s printed %r" % (" ".join(paths), out))
    return nodes


def teardown(app, kill=()):
    """Stop the programs a test left running, every backend, and unload
    the frontend; fails if the module does not unload (a file or a
    reference leaked)."""
    cmd = ""
    if kill:
        cmd += "killall %s 2>/dev/null; sleep 0.5; " % " ".join(kill)
    cmd += ("for p in $(pdctl list | cut -d' ' -f1 | sort -u); do "
            "pdctl unexport $p; done; "
            # killed programs may still be closing their files under a
            # loaded TCG machine: give them a few seconds; a leak stays
            "t=0; while lsmod | grep -q '^pdfront ' && ! rmmod pdfront "
            "2>/dev/null && [ $t -lt 30 ]; do sleep 0.5; t=$((t+1)); done; "
            "lsmod | grep -q '^pdfront ' && { echo \"refcnt $(cat "
            "/sys/module/pdfront/refcnt)\"; ps; exit 1; }; true")
    code, out, err = app.run(VM, cmd, timeout=60)
    if code != 0:
        raise TestFailure("cleanup failed (module still loaded?)\n%s%s" %
                          (out.decode(errors="replace"),
                           err.decode(errors="replace")))


# A private mount namespace whose /dev/dri holds only the forwarded card,
# named card0: libdrm's drmOpen("bochs-drm") walks /dev/dri/card0.. and
# takes the first card whose DRM_IOCTL_VERSION names that driver, which
# otherwise is the native one. The node's device number is the forwarded
# one; nothing else changes.
def only_card(app, node, cmd):
    """A shell command that runs cmd seeing node as the only DRM card."""
    major, minor = run_ok(app, VM, "stat -c '%%t %%T' %s" % node).split()
    return "unshare -m sh -c %s" % shlex.quote(
        "mount -t tmpfs none /dev/dri && mknod /dev/dri/card0 c %d %d && %s"
        % (int(major, 16), int(minor, 16), cmd))
