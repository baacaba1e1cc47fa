# SPDX-License-Identifier: GPL-2.0-only
"""Real desktop sessions in the guests, on the forwarded card and input
devices, all on one boot of the xen appliance (the guests' image carries
the desktop layer, tests/vm/profiles/desktop.txt): Weston 10 (DRM
backend, pixman renderer, desktop shell) in guest1 and Xorg 21.1 (xinit,
modesetting and libinput drivers) in guest2 at once, each started by a
console login of the unprivileged user pd and given its card and input
devices by elogind through its session on seat0, each with a client
that draws a known picture, typed text reaching a client in each, and
switches between them by hotkey and over D-Bus with the background
session still running; then cage (wlroots) in guest1 as a user through
seatd. How the sessions start: tests/vm/pdvm/desktop.py (`make demo`
starts them the same way). Screendumps:
build/test-artifacts/desktop-*.png."""

import re

from pdvm.desktop import (
    GDBUS, PATTERN, PATTERN_W, PATTERN_H, CAGE_PATTERN, X_ROOT,
    pattern_png, count, side_by_side, shot, weston_in_front, xorg_in_front,
    log as _log, hostd_log as _hostd_log, asked as _asked,
    alive as _alive, start_sessions as _start_sessions, session as _session,
    wayland as _wayland)
from pdvm.machine import write_png
from pdvm.testlib import (wait_for as _wait, check, artifact,
                          keys_left_down, run_ok, indent, evdev_node)

MODE = "xen"
GUESTS = 2
GUEST_LAYERS = ("desktop",)


def _lines(lines):
    """lines, indented, all of them (indent() keeps the last 30)."""
    return "".join("    | %s\n" % line for line in lines)


def _shot(app, name):
    return shot(app, artifact(name))


def _weston_in_front(app, name):
    return weston_in_front(app, artifact(name))


def _xorg_in_front(app, name, root=X_ROOT):
    return xorg_in_front(app, artifact(name), root)


def _check_session(app, g, prog):
    """prog in guest g runs as pd, in pd's active session on seat0 (tty1),
    and holds the forwarded card and keyboard, which the session took from
    elogind (TakeDevice: the session's DEVICES)."""
    s = _session(app, g, prog)
    kbd = evdev_node(app, g, "Paradice %s keyboard" % g)
    card = run_ok(app, g, "stat -L -c '%t:%T' /dev/dri/card0 " + kbd)
    card, kbd_dev = ["%d:%d" % tuple(int(x, 16) for x in d.split(":"))
                     for d in card.split()]
    sess = s["session"]
    print("    %s: %s uid %s, session %s %s, took %s, open %s" % (
        g, prog, s["uid"], s["session_id"], " ".join(
            "%s=%s" % (k, sess.get(k)) for k in ("USER", "SEAT", "TTY",
                                                 "ACTIVE", "TYPE")),
        sess.get("DEVICES"), " ".join(sorted(s["open"].values()))))
    check(s["uid"] == 1000, "%s: %s runs as uid %s, not pd's 1000"
          % (g, prog, s["uid"]))
    check(sess.get("USER") == "pd" and sess.get("SEAT") == "seat0" and
          sess.get("ACTIVE") == "1", "%s: %s is not in pd's active session "
          "on seat0: cgroup %r, sessions %r" % (g, prog, s["cgroup"],
                                                s["sessions"]))
    took = (sess.get("DEVICES") or "").split()
    for dev, what in ((card, "/dev/dri/card0"), (kbd_dev, kbd)):
        check(dev in took and dev in s["open"], "%s: %s (%s) not taken "
              "through the session (DEVICES %r) and held by %s (%r)" % (
                  g, what, dev, took, prog, s["open"]))


def test_weston_and_xorg_at_once(app):
    """Weston (DRM backend, pixman) starts in guest1 and Xorg (xinit,
    modesetting, libinput) in guest2 at the same time on their forwarded
    cards, each in user pd's session, holding the card and keyboard it
    took from elogind; guest1 in front shows Weston's desktop with
    weston-image's four colour blocks on its background colour;
    ctrl+alt+right shows Xorg's root window colour and xterm's
    background."""
    _start_sessions(app)
    _check_session(app, "guest1", "weston")
    _check_session(app, "guest2", "Xorg")
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
    for g, what in (("guest1", "Weston"), ("guest2", "Xorg")):
        print("    %s asked:\n%s" % (what, _lines(_asked(app, g))))


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
                "/tmp/typed.sh", 0o755)
    run_ok(app, "guest1", _wayland(
        "(weston-terminal --shell=/tmp/typed.sh "
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



def test_cage_through_seatd_as_a_user(app):
    """Weston in guest1 ends; seatd (real seat management: it opens the
    card and input devices for its clients and takes them back) starts,
    and cage (wlroots 0.15: its DRM backend with atomic commits, TEST_ONLY
    first, its dumb-buffer allocator, which exports each buffer with
    PRIME and imports it again, and pixman) runs as the unprivileged user
    pd with weston-image fullscreen: the four colour blocks on the
    screen, and cage still running."""
    _start_sessions(app)
    run_ok(app, "dom0", GDBUS + "SwitchTo guest1")
    app.copy_in("guest1", pattern_png(CAGE_PATTERN), "/tmp/cage.png")
    mark = len(_hostd_log(app).splitlines())
    run_ok(app, "guest1", "killall weston-presentation-shm weston-image "
           "weston-terminal weston 2>/dev/null; t=0; while pidof weston "
           ">/dev/null && [ $t -lt 30 ]; do sleep 1; t=$((t+1)); done; "
           "(seatd -g video -l debug >/tmp/seatd.log 2>&1 &); sleep 1; "
           "mkdir -p /tmp/pd-cage; chown pd /tmp/pd-cage; "
           "chmod 700 /tmp/pd-cage; "
           "(su pd -c 'export XDG_RUNTIME_DIR=/tmp/pd-cage "
           "LIBSEAT_BACKEND=seatd WLR_RENDERER=pixman "
           "LD_PRELOAD=/usr/lib/pd-wlrdebug.so; exec cage -- "
           "weston-image /tmp/cage.png' >/tmp/cage.log 2>&1 &); true",
           timeout=90)

    def shown():
        shot = _shot(app, "desktop-cage.png")
        return all(count(shot, c) > PATTERN_W * PATTERN_H // 8
                   for c in CAGE_PATTERN)
    try:
        _wait("cage showing weston-image (or cage ending)", lambda:
              not _alive(app, "guest1", "cage") or shown(), timeout=90)
        check(shown(), "cage ended without showing weston-image")
    finally:
        clog = _log(app, "guest1", "/tmp/cage.log")
        print("    cage's log (%d lines), what wlroots said of its DRM "
              "backend and commits:\n%s" % (len(clog.splitlines()), "".join(
                  "    | %s\n" % line for line in clog.splitlines()
                  if re.search(r"\[backend/drm|fail|error|output", line,
                               re.I))[-6000:]))
        print("    seatd's log:\n" + indent(_log(app, "guest1",
                                                 "/tmp/seatd.log")))
        print("    cage asked:\n%s" % _lines(_asked(app, "guest1", mark)))
    check(_alive(app, "guest1", "cage"), "cage ended")
    ps = run_ok(app, "guest1", "ps -o user,comm | grep -E 'cage|weston'")
    check(re.search(r"^\s*pd\s+cage", ps, re.M), "cage does not run as pd:"
          "\n%s" % ps)
