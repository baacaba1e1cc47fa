# SPDX-License-Identifier: GPL-2.0-only
"""Real desktop sessions in the guests, on the forwarded card and input
devices, all on one boot of the xen appliance (the guests' image carries
the desktop layer, tests/vm/profiles/desktop.txt): Weston 10 (DRM
backend, pixman renderer, desktop shell) in guest1 and Xorg 21.1 (xinit,
modesetting and libinput drivers) in guest2 at once, each with a client
that draws a known picture, typed text reaching a client in each, and
switches between them by hotkey and over D-Bus with the background
session still running. (cage through seatd, a wlroots compositor: not
here yet, see docs/display.md.)

How they start, as far as a busybox guest allows: pd-guest-tools' udev
rules (guest-tools/70-paradice.rules, in the guests' image from the
package) tag the forwarded card and input devices for seat0; there is no
systemd PID 1, so no logind. Weston (Debian builds it without libseat
and ships no weston-launch) then starts as root with its direct launcher
on a VT, as it does on a system without logind; Xorg is started by xinit
as root, as Debian's setuid wrapper (xserver-xorg-legacy) would start it.
Screendumps: build/test-artifacts/desktop-*.png."""

import re
import struct
import zlib

from pdvm.machine import write_png
from pdvm.testlib import (wait_for as _wait, check, artifact, evdev_node,
                          keys_left_down, run_ok, indent)

MODE = "xen"
GUESTS = 2
GUEST_LAYERS = ("desktop",)


CONF = """\
[switch]
next = ctrl+alt+right
previous = ctrl+alt+left

[guest guest1]
devices = /dev/dri/card0
hotkey = ctrl+alt+f1

[guest guest2]
devices = /dev/dri/card0
hotkey = ctrl+alt+f2
"""
GDBUS = ("gdbus call --system --dest org.paradice.Switcher1 "
         "--object-path /org/paradice/Switcher1 "
         "--method org.paradice.Switcher1.Manager.")

# What a guest's /etc holds for a desktop user: pd (uid 1000) in the
# groups that own the devices on Debian (video, input, render).
SETUP = r"""
set -e
cat >/etc/passwd <<EOF
root:x:0:0:root:/root:/bin/sh
pd:x:1000:1000:Paradice user:/home/pd:/bin/sh
EOF
cat >/etc/group <<EOF
root:x:0:
video:x:44:pd
input:x:104:pd
render:x:105:pd
pd:x:1000:
EOF
mkdir -p /home/pd /run/user/0 /run/user/1000 /var/lib/xkb /tmp/.X11-unix
chmod 1777 /tmp/.X11-unix
chown 1000:1000 /home/pd /run/user/1000
chmod 700 /run/user/0 /run/user/1000
udevadm control --reload
udevadm trigger --action=add --subsystem-match=drm --subsystem-match=input
udevadm settle --timeout=60
# udevd started before /etc/group was written (and runs with
# --resolve-names=never): the group and mode that systemd's
# 50-udev-default.rules give, by hand. wlroots opens the card a second
# time itself (its allocator), as the user.
chgrp video /dev/dri/card*; chmod 660 /dev/dri/card*
chgrp input /dev/input/event*; chmod 660 /dev/input/event*
"""

# Weston's configuration: no screen lock or blanking (the test types into
# clients minutes later), a known background colour, no animations.
WESTON_INI = """\
[core]
idle-time=0
require-input=false

[shell]
background-color=0xff204060
locking=false
animation=none
startup-animation=none
close-animation=none
focus-animation=none

[keyboard]
repeat-delay=1000
"""
WESTON_BG = (0x20, 0x40, 0x60)

# The X session: the root window's colour, a terminal of a known colour
# in the top left corner (away from the pointer, which starts in the
# middle), and xev on the root window logging keys (with no window manager
# the focus follows the pointer, which is over the root window).
XSESSION = """\
#!/bin/sh
xsetroot -solid '#30c060'
xterm -geometry 40x8+0+0 -fa 'DejaVu Sans Mono' -fs 10 -bg '#c03080' \
    -fg white -e sh -c 'while :; do date; sleep 1; done' &
exec xev -root -event keyboard
"""
X_ROOT, X_TERM = (0x30, 0xc0, 0x60), (0xc0, 0x30, 0x80)

# The picture weston-image shows: four blocks of colours nothing else on
# either screen has.
PATTERN = [(0xff, 0x00, 0xc0), (0x00, 0xc0, 0x40), (0x20, 0x40, 0xff),
           (0xff, 0xc0, 0x00)]
PATTERN_W, PATTERN_H = 240, 160


def pattern_png():
    rows = []
    for y in range(PATTERN_H):
        row = bytearray(b"\0")
        for x in range(PATTERN_W):
            row += bytes(PATTERN[(x >= PATTERN_W // 2) +
                                 2 * (y >= PATTERN_H // 2)])
        rows.append(bytes(row))

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data)))
    return (b"\x89PNG\r\n\x1a\n" +
            chunk(b"IHDR", struct.pack(">IIBBBBB", PATTERN_W, PATTERN_H,
                                       8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(b"".join(rows))) +
            chunk(b"IEND", b""))


def count(shot, rgb):
    """Pixels of a screendump of exactly the colour rgb (pixman and
    Xorg's fb code copy opaque colours unchanged; a screendump is RGB)."""
    _, _, data = shot
    return sum(1 for m in re.finditer(re.escape(bytes(rgb)), data)
               if m.start() % 3 == 0)


def _log(app, vm, path):
    return run_ok(app, vm, "cat %s 2>/dev/null; true" % path)


def _hostd_log(app):
    return _log(app, "dom0", "/var/log/hostd.log")


def _alive(app, vm, prog):
    return app.run(vm, "pidof %s >/dev/null" % prog)[0] == 0


def _started(app):
    return _alive(app, "dom0", "hostd") and all(
        _alive(app, g, w) for g, w in (("guest1", "weston"),
                                       ("guest2", "Xorg")))


def _start_hostd(app):
    app.copy_in("dom0", CONF.encode(), "/etc/paradice/paradice.conf")
    run_ok(app, "dom0", "t=0; while [ ! -e /run/pd-udev-settled ] && "
           "[ $t -lt 90 ]; do sleep 1; t=$((t+1)); done; "
           "(hostd >/var/log/hostd.log 2>&1 &); true", timeout=120)
    _wait("hostd ready", lambda: "ready:" in _hostd_log(app), timeout=90)
    for g in ("guest1", "guest2"):
        run_ok(app, g, "lsmod | grep -q '^pdfront ' || { modprobe -a drm "
               "videodev snd && insmod "
               "/lib/modules/$(uname -r)/updates/dkms/pdfront.ko; }",
               timeout=180)
    for g in ("guest1", "guest2"):
        _wait("%s's forwarded card and keyboard" % g, lambda: app.run(
            g, "[ -c /dev/dri/card0 ]")[0] == 0 and evdev_node(
                app, g, "Paradice %s keyboard" % g), timeout=90)
    # pd-guest-tools' udev rules are in the guests' image (70-paradice.rules)
    for g in ("guest1", "guest2"):
        run_ok(app, g, SETUP, timeout=120)
        info = run_ok(app, g, "udevadm info /dev/dri/card0; for d in "
                      "/sys/class/input/event*; do udevadm info $d; done")
        check(re.search(r"TAGS=.*:master-of-seat:", info) and
              "ID_PARADICE=1" in info and "ID_INPUT_KEYBOARD=1" in info,
              "%s: the forwarded devices are not set up for seat0:\n%s"
              % (g, indent(info)))
        # a key logger beside the sessions (evdev does not grab): at the
        # end no key may be left down in either guest
        node = evdev_node(app, g, "Paradice %s keyboard" % g)
        run_ok(app, g, "(evtest %s >/tmp/evtest.log 2>&1 &); true" % node)


def _start_sessions(app):
    """hostd in dom0, Weston in guest1 with weston-image showing the
    pattern, Xorg in guest2 with its X session; once per boot."""
    if _started(app):
        return
    _start_hostd(app)
    app.copy_in("guest1", WESTON_INI.encode(), "/etc/xdg/weston/weston.ini")
    app.copy_in("guest1", pattern_png(), "/tmp/pattern.png")
    run_ok(app, "guest1", "export XDG_RUNTIME_DIR=/run/user/0; "
           "(weston --tty=2 --use-pixman --log=/tmp/weston.log </dev/null "
           ">/tmp/weston.out 2>&1 &); true")
    app.copy_in("guest2", XSESSION.encode(), "/tmp/xsession")
    run_ok(app, "guest2", "chmod +x /tmp/xsession; (xinit /tmp/xsession -- "
           "/usr/bin/Xorg :0 vt2 -nolisten tcp -logfile /tmp/Xorg.log "
           ">/tmp/xinit.log 2>&1 &); true")
    _wait("Weston's socket in guest1", lambda: app.run(
        "guest1", "[ -S /run/user/0/wayland-1 ] || [ -S /run/user/0/"
        "wayland-0 ]")[0] == 0, timeout=90)
    run_ok(app, "guest1", "cd /run/user/0; export XDG_RUNTIME_DIR=/run/"
           "user/0 WAYLAND_DISPLAY=$(ls wayland-? | head -1); "
           "(weston-image /tmp/pattern.png >/tmp/image.log 2>&1 &); true")
    _wait("Xorg's session in guest2", lambda: "KeyPress" in _log(
        app, "guest2", "/tmp/xinit.log") or _alive(app, "guest2", "xev"),
        timeout=90)


def _shot(app, name):
    return app.screendump(artifact(name))


def side_by_side(a, b):
    """Two screendumps of the same height, side by side, halved (every
    other pixel and row): one picture of both guests' desktops."""
    (wa, h, da), (wb, _, db) = a, b
    rows = []
    for y in range(0, h, 2):
        for w, d in ((wa, da), (wb, db)):
            line = d[y * w * 3:(y + 1) * w * 3]
            rows.append(b"".join(line[x * 3:x * 3 + 3]
                                 for x in range(0, w, 2)))
    return (wa + wb) // 2, h // 2, b"".join(rows)


def _weston_in_front(app, name):
    shot = _shot(app, name)
    n = [count(shot, c) for c in PATTERN]
    return all(k > PATTERN_W * PATTERN_H // 8 for k in n) and \
        count(shot, WESTON_BG) > 10000, n


def _xorg_in_front(app, name, root=X_ROOT):
    shot = _shot(app, name)
    return count(shot, root) > 100000 and count(shot, X_TERM) > 10000


def test_weston_and_xorg_at_once(app):
    """Weston (DRM backend, pixman) starts in guest1 and Xorg (xinit,
    modesetting, libinput) in guest2 at the same time on their forwarded
    cards; guest1 in front shows Weston's desktop with weston-image's four
    colour blocks on its background colour; ctrl+alt+right shows Xorg's
    root window colour and xterm's background."""
    _start_sessions(app)
    _wait("Weston's desktop with the picture on the screen", lambda:
          _weston_in_front(app, "desktop-weston.png")[0], timeout=90)
    weston = app.screendump(None)
    app.keys(["ctrl-alt-right"])
    _wait("Xorg's session on the screen", lambda: _xorg_in_front(
        app, "desktop-xorg.png"), timeout=60)
    xorg = app.screendump(None)
    if weston[1] == xorg[1]:
        write_png(artifact("desktop-side-by-side.png"),
                  *side_by_side(weston, xorg))
    wlog = _log(app, "guest1", "/tmp/weston.log")
    xlog = _log(app, "guest2", "/tmp/Xorg.log")
    for g, log, what in (("guest1", wlog, "Weston"), ("guest2", xlog,
                                                      "Xorg")):
        print("    %s: %s" % (what, "; ".join(
            line.strip() for line in log.splitlines()
            if re.search(r"DRM: |drm fd|modeset\(0\): (using|Depth)|"
                         r"libinput|Using (legacy|atomic)|cursor", line,
                         re.I))[:600]))


def _wayland(cmd):
    """cmd as a client of guest1's Weston."""
    return ("cd /run/user/0; export XDG_RUNTIME_DIR=/run/user/0 "
            "WAYLAND_DISPLAY=$(ls wayland-? | head -1); " + cmd)


def _xev_keys(app):
    return re.findall(r"KeyPress event.*\n.*\n.*keysym 0x[0-9a-f]+, (\w+)\)",
                      _log(app, "guest2", "/tmp/xinit.log"))


def _typed(app):
    """Lines the terminal's shell in guest1 read from its tty."""
    return _log(app, "guest1", "/tmp/typed.txt").splitlines()


def _collapsed(line):
    """line without repeated letters: a key the emulated machine let up
    late repeats (the client's repeat timer fires first)."""
    return re.sub(r"(.)\1+", r"\1", line)


def test_typed_text_reaches_each_sessions_client(app):
    """Keys typed (QMP) with Xorg in front reach xev on guest2's root
    window; after ctrl+alt+left, keys reach weston-terminal, the window
    Weston gave the keyboard focus to in guest1, and through its pty the
    program it runs (cat, reading lines); neither session sees the
    other's keys."""
    _start_sessions(app)
    run_ok(app, "dom0", GDBUS + "SwitchTo guest2")
    _wait("Xorg's session on the screen", lambda: _xorg_in_front(
        app, "desktop-xorg-typing.png"), timeout=60)
    app.keys(["p", "d", "x"])
    _wait("p d x in guest2's xev", lambda: _xev_keys(app)[-3:] ==
          ["p", "d", "x"], timeout=30)
    app.keys(["ctrl-alt-left"])
    _wait("Weston's desktop on the screen", lambda: _weston_in_front(
        app, "desktop-weston-typing.png")[0], timeout=60)
    app.copy_in("guest1", b"#!/bin/sh\nexec cat >/tmp/typed.txt\n",
                "/tmp/typed.sh")
    run_ok(app, "guest1", _wayland(
        "chmod +x /tmp/typed.sh; (weston-terminal --shell=/tmp/typed.sh "
        ">/tmp/terminal.log 2>&1 &); true"))
    # Weston focuses the terminal once it is mapped: type a line until
    # one arrives (a line typed before that went to the desktop)
    _wait("w y l typed into weston-terminal", lambda: (
        app.keys(["w", "y", "l", "ret"]) or True) and
        "wyl" in map(_collapsed, _typed(app)), timeout=90, step=4)
    app.screendump(artifact("desktop-weston-terminal.png"))
    x = _xev_keys(app)
    check(not set("wyl") & set(x[3:]), "guest2's xev got guest1's keys: "
          "%r" % x)
    check("x" not in "".join(_typed(app)), "guest1 got guest2's keys")
    print("    guest2 xev: %s; guest1 weston-terminal: %r" % (
        " ".join(x), _typed(app)))


def _frames(app):
    """The vblank count of the latest frame presented to
    weston-presentation-shm in guest1 (its log is written in blocks of
    about 60 lines: stdout is a file)."""
    seqs = re.findall(r"seq (\d+)", _log(app, "guest1",
                                         "/tmp/presentation.log"))
    return int(seqs[-1]) if seqs else 0


def _switch_us(app, g, before):
    for line in _hostd_log(app).splitlines()[before:]:
        m = re.search(r"display: %s on screen (\d+) us after the request" % g,
                      line)
        if m:
            return int(m.group(1))
    return None


def test_switches_both_ways_with_the_other_session_running(app):
    """weston-presentation-shm animates in guest1. D-Bus SwitchTo guest2
    shows Xorg while Weston's frames go on being presented in the
    background; ctrl+alt+left shows Weston while an X client changes
    guest2's root colour in the background; ctrl+alt+f2 shows that new
    colour; D-Bus SwitchTo guest1 shows Weston with its frames still
    counting. No key is left down in either guest."""
    _start_sessions(app)
    run_ok(app, "guest1", _wayland(
        "killall weston-terminal 2>/dev/null; (weston-presentation-shm "
        ">/tmp/presentation.log 2>&1 &); true"))
    _wait("frames presented in guest1", lambda: _frames(app) > 0,
          timeout=90)
    times = []
    for how, g, check_front in (
            ("dbus", "guest2", lambda n: _xorg_in_front(app, n)),
            ("ctrl-alt-left", "guest1",
             lambda n: _weston_in_front(app, n)[0]),
            ("ctrl-alt-f2", "guest2",
             lambda n: _xorg_in_front(app, n, (0xe0, 0xe0, 0x20))),
            ("dbus", "guest1", lambda n: _weston_in_front(app, n)[0])):
        before = len(_hostd_log(app).splitlines())
        if how == "dbus":
            run_ok(app, "dom0", GDBUS + "SwitchTo " + g)
        else:
            app.keys([how])
        shot = "desktop-switch-%d-%s.png" % (len(times), g)
        _wait("%s on the screen after %s" % (g, how),
              lambda: check_front(shot), timeout=60)
        us = _wait("hostd's log of the switch", lambda: (
            lambda t: t is not None and (t,))(_switch_us(app, g, before)),
            timeout=20)[0]
        times.append((how, g, us))
        if g == "guest2":
            f0 = _frames(app)
            _wait("Weston's frames in the background", lambda:
                  _frames(app) > f0 + 30, timeout=60)
        else:
            # the X session in the background answers its clients and
            # draws: its root colour changes for the next switch to it
            run_ok(app, "guest2", "DISPLAY=:0 xsetroot -solid '#e0e020'")
    for g in ("guest1", "guest2"):
        log = _log(app, g, "/tmp/evtest.log")
        check(not keys_left_down(log), "%s: keys left down: %r"
              % (g, keys_left_down(log)))
        check(_alive(app, g, "weston" if g == "guest1" else "Xorg"),
              "%s's session ended" % g)
    for how, g, us in times:
        print("    %s -> %s on screen %d us after the request" % (
            "D-Bus SwitchTo" if how == "dbus" else "hotkey " +
            how.replace("-", "+"), g, us))
    print("    guest1: weston-presentation-shm's frame at vblank %d"
          % _frames(app))

