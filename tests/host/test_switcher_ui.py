# SPDX-License-Identifier: GPL-2.0-only
"""hostd's D-Bus service and the switcher-ui tray app, on a private bus of
this machine: no device file is involved (hostd runs with --no-input
--no-xen), so no emulated machine is needed. hostd is the
AddressSanitizer/UBSan build; it must exit cleanly (no leak report)."""

import os
import re
import signal
import subprocess
import tempfile
import time

from pdvm.machine import read_ppm
from pdvm.testlib import TestFailure, artifact, check, pixel

MODE = "host"

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HOSTD = os.path.join(TOP, "build", "meson-san", "hostd", "hostd")
UI = os.path.join(TOP, "build", "meson", "switcher-ui", "switcher-ui")

CONF = """\
[switch]
next = ctrl+alt+right
previous = ctrl+alt+left
[guest work]
hotkey = ctrl+alt+f1
[guest play]
hotkey = ctrl+alt+f2
[guest spare]
"""


class Session:
    """A private bus, hostd on it, and (for GUI tests) an X display."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="pd-ui-")
        conf = os.path.join(self.dir, "paradice.conf")
        with open(conf, "w") as f:
            f.write(CONF)
        self.bus = subprocess.Popen(
            ["dbus-daemon", "--session", "--nofork", "--print-address"],
            stdout=subprocess.PIPE, text=True)
        self.address = self.bus.stdout.readline().strip()
        check(self.address.startswith("unix:"), "no bus: %r" % self.address)
        self.log = open(os.path.join(self.dir, "hostd.log"), "w+")
        env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1",
                   UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1")
        self.hostd = subprocess.Popen(
            [HOSTD, "--config", conf, "--bus", self.address, "--no-input",
             "--no-xen"], stderr=self.log, env=env)
        self.wait_for(lambda: "ready:" in self.hostd_log(), "hostd ready")
        self.xvfb = None

    def hostd_log(self):
        self.log.seek(0)
        return self.log.read()

    def wait_for(self, cond, what, timeout=20):
        deadline = time.monotonic() + timeout
        while not cond():
            if time.monotonic() > deadline:
                raise TestFailure("timed out waiting for %s; hostd log:\n%s"
                                  % (what, self.hostd_log()))
            time.sleep(0.2)

    def ui(self, *args, check_rc=True):
        r = subprocess.run([UI, "--bus", self.address] + list(args),
                           capture_output=True, text=True, timeout=30,
                           env=dict(os.environ, DISPLAY=""))
        if check_rc and r.returncode != 0:
            raise TestFailure("switcher-ui %s: %s" % (" ".join(args), r.stderr))
        return r

    def active(self):
        for line in self.ui("--list").stdout.splitlines():
            if line.endswith(" active"):
                return line.split()[0]
        return None

    def start_x(self):
        # Xvfb picks a free display and tells its number on a pipe.
        # -noreset: by default the server resets when its last client
        # leaves, and refuses connections meanwhile; the probe below is
        # such a client, and switcher-ui connecting during that reset got
        # "no display" (about one full run in three)
        r, w = os.pipe()
        self.xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(w), "-screen",
                                      "0", "640x400x24", "-nolisten", "tcp",
                                      "-noreset"],
                                     pass_fds=(w,), stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        os.close(w)
        with os.fdopen(r) as f:
            num = f.readline().strip()
        check(num.isdigit(), "Xvfb did not start")
        self.display = ":" + num
        self.wait_for(lambda: subprocess.run(
            ["xdotool", "getmouselocation"], env=self.xenv(),
            capture_output=True).returncode == 0, "Xvfb", timeout=60)

    def xenv(self):
        return dict(os.environ, DISPLAY=self.display)

    def close(self):
        self.hostd.send_signal(signal.SIGTERM)
        try:
            code = self.hostd.wait(timeout=20)
        finally:
            for p in (self.xvfb, self.bus):
                if p:
                    p.kill()
                    p.wait()
        log = self.hostd_log()
        self.log.close()
        check(code == 0, "hostd exited %d:\n%s" % (code, log[-3000:]))
        check("ERROR: AddressSanitizer" not in log and
              "runtime error" not in log, "sanitizer report:\n%s" % log)


def test_cli_lists_and_switches_through_hostd(app):
    """switcher-ui --list shows hostd's VMs with the active one; --switch,
    --next and --previous change it; an unknown VM is a clear error."""
    s = Session()
    try:
        out = s.ui("--list").stdout
        check(out == "work 1 running active\nplay 2 running\nspare 3 running\n",
              "list: %r" % out)
        s.ui("--switch", "play")
        check(s.active() == "play", "not switched to play")
        s.ui("--next")
        check(s.active() == "spare", "next did not go to spare")
        s.ui("--next")
        check(s.active() == "work", "next did not wrap to work")
        s.ui("--previous")
        check(s.active() == "spare", "previous did not go to spare")
        r = s.ui("--switch", "nosuch", check_rc=False)
        check(r.returncode == 1 and "no VM nosuch" in r.stderr,
              "unknown VM: %d %r" % (r.returncode, r.stderr))
        times = re.findall(r"switched from \w+ to \w+", s.hostd_log())
        check(len(times) == 4, "hostd logged %r" % times)
    finally:
        s.close()


def test_window_click_switches_and_follows_changes(app):
    """In the switcher window, clicking a VM's button switches to it; a
    switch made elsewhere shows in the window (PropertiesChanged)."""
    s = Session()
    ui = None
    try:
        s.start_x()
        ui = subprocess.Popen([UI, "--bus", s.address, "--window"],
                              env=s.xenv(), stderr=subprocess.PIPE)
        wid = []
        try:
            s.wait_for(lambda: wid.extend(subprocess.run(
                ["xdotool", "search", "--name", "^Paradice$"], env=s.xenv(),
                capture_output=True, text=True).stdout.split()) or wid,
                "the switcher window", timeout=90)
        except TestFailure as e:
            # seen once in ~5 full runs: say whether the app is still alive
            # and what it printed, for the next look
            alive = ui.poll() is None
            if not alive:
                err = ui.stderr.read().decode(errors="replace")
            else:
                err = "(still running)"
            raise TestFailure("%s\nswitcher-ui %s: %s" % (
                e, "alive" if alive else "exited %d" % ui.returncode,
                err[-1500:])) from None
        time.sleep(1)
        subprocess.run(["import", "-window", "root",
                        artifact("switcher-ui-before.png")], env=s.xenv())
        # buttons are stacked from the top, one per VM: click the second
        geo = subprocess.run(["xdotool", "getwindowgeometry", wid[0]],
                             env=s.xenv(), capture_output=True, text=True).stdout
        m = re.search(r"Position: (\d+),(\d+).*Geometry: (\d+)x(\d+)", geo, re.S)
        check(m, "window geometry: %r" % geo)
        x, y, w, _ = map(int, m.groups())
        subprocess.run(["xdotool", "mousemove", str(x + w // 2), str(y + 12 + 34 + 17),
                        "click", "1"], env=s.xenv())
        s.wait_for(lambda: s.active() == "play", "a click to switch to play",
                   timeout=60)
        s.ui("--switch", "spare")
        time.sleep(1)
        subprocess.run(["import", "-window", "root",
                        artifact("switcher-ui-after.png")], env=s.xenv())
        check(s.active() == "spare", "not spare")
        # the window followed: spare's button is the pressed (darker) one
        ppm = os.path.join(s.dir, "after.ppm")
        subprocess.run(["import", "-window", "root", "-depth", "8",
                        "ppm:" + ppm], env=s.xenv(), check=True)
        shot = read_ppm(ppm)
        shade = [sum(pixel(shot, x + 30, y + 12 + 17 + 40 * i))
                 for i in range(3)]
        check(shade[2] < shade[0] - 20 and shade[2] < shade[1] - 20,
              "spare's button is not shown pressed: %r" % shade)
        if ui.poll() is not None:
            raise TestFailure("switcher-ui died: %s" % ui.stderr.read().decode())
    finally:
        if ui:
            ui.kill()
            ui.wait()
        s.close()
