# SPDX-License-Identifier: GPL-2.0-only
"""Helpers for the tests that run in the emulated appliance.

A test module (tests/**/test_*.py) sets MODE = "plain" or "xen" (and GUESTS
for xen) and defines functions test_NAME(app); each one's docstring says
what it proves. tests/run-all boots the appliance once per mode and runs
them in file order."""

import os
import re
import time

from .machine import VmError


class TestFailure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise TestFailure(msg)


def run_ok(app, vm, cmd, timeout=60):
    """Run cmd in vm; fail with its output unless it exits 0. Returns
    stdout as text."""
    code, out, err = app.run(vm, cmd, timeout)
    if code != 0:
        raise TestFailure("%s: `%s` exited %d\n%s%s" % (
            vm, cmd, code, indent(out), indent(err)))
    return out.decode(errors="replace")


def indent(data):
    if isinstance(data, bytes):
        data = data.decode(errors="replace")
    return "".join("    | %s\n" % line for line in data.splitlines()[-30:])


# modetest's default pattern: the top two thirds are seven vertical bars
# of 75% gray, yellow, cyan, green, magenta, red and blue.
SMPTE_BARS = [(192, 192, 192), (192, 192, 0), (0, 192, 192), (0, 192, 0),
              (192, 0, 192), (192, 0, 0), (0, 0, 192)]


def pixel(shot, x, y):
    w, _, rgb = shot
    o = (y * w + x) * 3
    return tuple(rgb[o:o + 3])


def missing_color_bars(shot, width=None, height=None):
    """The bars of modetest's pattern that a screendump lacks, in a mode of
    width x height drawn at the top left (the whole screen by default)."""
    w, h, _ = shot
    width, height = width or w, height or h
    missing = []
    for i, want in enumerate(SMPTE_BARS):
        x, y = int((i + 0.5) * width / 7), height // 4
        if x >= w or y >= h:
            missing.append((i, want, None))
            continue
        got = pixel(shot, x, y)
        if any(abs(a - b) > 8 for a, b in zip(got, want)):
            missing.append((i, want, got))
    return missing


def evdev_node(app, vm, name, exact=True):
    """The /dev/input/eventN of vm whose device is called name (or whose
    name contains it, with exact=False); None if there is none."""
    out = run_ok(app, vm, "for d in /sys/class/input/event*; do "
                 "echo \"${d##*/} $(cat $d/device/name 2>/dev/null)\"; done")
    for line in out.splitlines():
        node, _, dev = line.partition(" ")
        if dev == name or (not exact and name in dev):
            return "/dev/input/" + node
    return None


def keys_pressed(app, vm, log):
    """Keys an evtest log file in vm shows pressed, in order."""
    return re.findall(r"\((KEY_\w+)\), value 1",
                      run_ok(app, vm, "cat %s 2>/dev/null; true" % log))


def keys_left_down(log):
    """Keys whose last event in an evtest log is not a release."""
    last = {}
    for key, value in re.findall(r"\((KEY_\w+)\), value (\d)", log):
        last[key] = value
    return sorted(k for k, v in last.items() if v != "0")


def wait_until(cond, timeout=20, step=1.0):
    """Call cond() until it returns something true or timeout seconds
    pass (wall clock: TCG makes sleep loops slow); returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(step)


def v4l2_comparable(text):
    """v4l2-ctl --all without what may differ for reasons outside the
    forwarded file: the media controller section (v4l2-ctl finds
    /dev/media0 through the node's sysfs parent; the media device is a
    device file of its own, not forwarded here), the overlay clip bitmap
    (G_FMT of an overlay with a bitmap pointer is refused by the shared
    tables: the driver would write through it), and the values of
    volatile controls (they change between two reads)."""
    out, skip = [], False
    for line in text.splitlines():
        if re.match(r"^(Media Driver Info|Interface Info|Entity Info):", line):
            skip = True
            continue
        if skip and line.startswith(("\t", " ")):
            continue
        skip = False
        if "Clip Bitmap" in line:
            continue
        if "volatile" in line:
            line = re.sub(r"value=\S+", "value=?", line)
        out.append(line)
    return "\n".join(out)


def wait_for(what, cond, timeout=60, step=0.5):
    """wait_until() that fails the test, naming what it waited for."""
    v = wait_until(cond, timeout, step)
    if not v:
        raise TestFailure("timed out after %ds waiting for %s" % (timeout, what))
    return v


def artifact(name):
    """Path under build/test-artifacts/ for files a test leaves to look at."""
    d = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.dirname(os.path.abspath(__file__))))), "build",
        "test-artifacts")
    os.makedirs(d, exist_ok=True)
    return os.path.join(d, name)


__all__ = ["TestFailure", "VmError", "check", "run_ok", "indent",
           "missing_color_bars", "pixel", "artifact", "evdev_node",
           "wait_until", "wait_for", "v4l2_comparable"]


# A private session bus (for tests on this machine, MODE = "host") that
# other users may join and anyone may watch: tests run clients as nobody
# (hostd lets root switch without asking polkit) and dbus-monitor.
ANY_USER_BUS = """\
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir=%s</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow receive_sender="*"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""
