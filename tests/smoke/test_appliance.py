# SPDX-License-Identifier: GPL-2.0-only
"""Smoke test of the emulated appliance: Xen 4.17, a PV dom0 with the real
drivers, and two PV guests, all reachable from the test side."""

import hashlib
import os
import re
import time

from pdvm.testlib import (TestFailure, VmError, artifact, check,
                          evdev_node, missing_color_bars, run_ok)

MODE = "xen"
GUESTS = 2
# first in the hostd suite's boot (tests/run-all): nothing is left running
BOOT_WITH = "hostd"


def test_xl_lists_both_guests(app):
    """dom0's toolstack sees guest1 and guest2 running."""
    out = run_ok(app, "dom0", "xl list")
    for g in ("guest1", "guest2"):
        check(re.search(r"^%s\s+\d+\s+\d+\s+\d+\s+[r-][b-]" % g, out, re.M),
              "xl list does not show %s running:\n%s" % (g, out))


def test_each_guest_prints_its_marker_and_answers(app):
    """Each guest printed PD-READY on its own console and runs commands
    through its own channel (its hostname is its name)."""
    for g in ("guest1", "guest2"):
        check("PD-READY %s" % g in app.log(g),
              "%s's console has no PD-READY marker" % g)
        name = run_ok(app, g, "hostname").strip()
        check(name == g, "%s answered as %r" % (g, name))


def test_exit_status_and_files_cross_the_channels(app):
    """A command's exit status and stderr come back from a guest, and a
    binary file copied in and out of a guest is unchanged."""
    code, out, err = app.run("guest2", "echo out; echo err >&2; exit 7")
    check((code, out, err) == (7, b"out\n", b"err\n"),
          "got %r" % ((code, out, err),))
    blob = os.urandom(1 << 20)
    app.copy_in("guest1", blob, "/tmp/blob", 0o600)
    got = run_ok(app, "guest1", "sha256sum /tmp/blob").split()[0]
    check(got == hashlib.sha256(blob).hexdigest(), "blob changed on its way in")
    check(app.copy_out("guest1", "/tmp/blob") == blob,
          "blob changed on its way out")


def test_frontend_module_loads_in_a_guest(app):
    """The module DKMS builds from pd-guest-tools loads in a guest
    kernel."""
    out = run_ok(app, "guest1", "lsmod | grep -q '^pdfront ' || { modprobe -a "
                 "drm videodev snd; insmod "
                 "/lib/modules/$(uname -r)/updates/dkms/pdfront.ko; }"
                 " && dmesg | grep 'paradice:'")
    check("paradice: frontend loaded" in out,
          "no load message in guest1's kernel log:\n%s" % out)


def test_pattern_drawn_from_dom0_shows_on_screen(app):
    """modetest in dom0 sets a mode on the real bochs device and its colour
    bars appear in QEMU's screendump; they were not there before."""
    before = app.screendump(artifact("smoke-before.png"))
    check(missing_color_bars(before, 1024, 768),
          "the bars are on screen before modetest ran")
    conn = run_ok(app, "dom0", "modetest -M bochs-drm -c | "
                  "awk '$3 == \"connected\" {print $1; exit}'").strip()
    check(conn.isdigit(), "no connected bochs connector: %r" % conn)
    run_ok(app, "dom0", "(sleep 600 | modetest -M bochs-drm -s %s:1024x768 "
           ">/tmp/modetest.log 2>&1 &)" % conn)
    deadline = time.monotonic() + 30
    while True:
        shot = app.screendump(artifact("smoke-modetest.png"))
        missing = missing_color_bars(shot, 1024, 768)
        if not missing or time.monotonic() > deadline:
            break
        time.sleep(1)
    # modetest is the card's DRM master while it runs: gone before the next
    # suite's hostd wants to be
    log = run_ok(app, "dom0", "cat /tmp/modetest.log; for p in $(pidof sleep); do "
                 "grep -q 600 /proc/$p/cmdline && kill $p; done; "
                 "killall modetest 2>/dev/null; t=0; while pidof modetest >/dev/null && "
                 "[ $t -lt 20 ]; do sleep 0.5; t=$((t+1)); done; true")
    check(shot[0] == 1024 and shot[1] == 768,
          "screen is %dx%d, not 1024x768; modetest said:\n%s" % (
              shot[0], shot[1], log))
    check(not missing, "bars missing from the screendump: %r" % missing)


def test_a_broken_guest_is_reported_not_waited_for(app):
    """A guest whose agent never starts makes the harness fail in bounded
    time with that guest's console, instead of hanging."""
    run_ok(app, "dom0", "sed -e 's/guest1/guest9/g' -e 's/loglevel=6/"
           "loglevel=6 pd.break=1/' -e 's/^memory.*/memory = 192/' "
           "/etc/xen/guest1.cfg > /etc/xen/guest9.cfg"
           " && xl create /etc/xen/guest9.cfg", timeout=120)
    t0 = time.monotonic()
    try:
        app.wait_guest("guest9", time.monotonic() + 15)
        raise TestFailure("guest9 was reported ready although it is broken")
    except VmError as e:
        msg = str(e)
    finally:
        app.run("dom0", "xl destroy guest9", timeout=60)
    took = time.monotonic() - t0
    check("guest9 did not come up" in msg and "xl list" in msg,
          "unclear failure message: %s" % msg)
    check(took < 120, "took %.0fs to give up" % took)


def _evdev_with_name(app, vm, name):
    node = evdev_node(app, vm, name, exact=False)
    if not node:
        raise TestFailure("no input device named %r in %s" % (name, vm))
    return node


def test_keys_and_pointer_reach_dom0_devices(app):
    """Keys and pointer motion sent through QMP arrive at dom0's real
    keyboard and mouse event devices, in order."""
    kbd = _evdev_with_name(app, "dom0", "keyboard")
    mouse = _evdev_with_name(app, "dom0", "Mouse")
    run_ok(app, "dom0", "(evtest %s >/tmp/kbd.log 2>&1 &); "
           "(evtest %s >/tmp/mouse.log 2>&1 &); sleep 1" % (kbd, mouse))
    app.keys(["h", "i", "shift-a"])
    app.mouse(dx=40, dy=-20, buttons=["left"])
    deadline = time.monotonic() + 20
    while True:
        kbd_log = run_ok(app, "dom0", "cat /tmp/kbd.log")
        mouse_log = run_ok(app, "dom0", "cat /tmp/mouse.log")
        pressed = re.findall(r"code \d+ \((KEY_\w+)\), value 1", kbd_log)
        if (pressed == ["KEY_H", "KEY_I", "KEY_LEFTSHIFT", "KEY_A"] and
                "BTN_LEFT" in mouse_log and "REL_X" in mouse_log) or \
                time.monotonic() > deadline:
            break
        time.sleep(1)
    run_ok(app, "dom0", "killall evtest 2>/dev/null; true")
    check(pressed == ["KEY_H", "KEY_I", "KEY_LEFTSHIFT", "KEY_A"],
          "keys pressed in dom0: %r" % pressed)
    check("REL_X" in mouse_log and "REL_Y" in mouse_log and
          "BTN_LEFT" in mouse_log, "pointer events missing:\n%s" % mouse_log)
