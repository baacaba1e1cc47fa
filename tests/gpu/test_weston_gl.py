# SPDX-License-Identifier: GPL-2.0-only
"""Weston with its GL renderer on the forwarded virgl card: hostd is the
DRM master of dom0's virtio-gpu (virgl 3D), guest1 is given its card and
render node, and Weston 10 (DRM backend, GL renderer: GBM and EGL through
Mesa's virgl driver on the forwarded card, atomic commits to the virtual
display) runs in guest1, started by user pd's login in pd's elogind
session as tests/desktop starts it (tests/vm/pdvm/desktop.py), with
weston-presentation-shm animating, until
1000 frames were presented. Weston must survive them: its
`timespec_sub_to_nsec(stamp, &output->frame_time) >= 0` assertion in
weston_output_finish_frame() fired when a flip's time came before the
frame time it had (docs/display.md, "One timeline per guest").

PD_WESTON_GL_RUNS (default 1) runs it that many times in a row, each
with a new Weston; PD_WESTON_GL_BUDGET (seconds) starts no new run that
would end (as long as the last one took) past that long after the first
(the count reached is printed). A screen grab of the virtio-gpu's scanout (VNC):
build/test-artifacts/gpu-weston-gl.png.

Then Xorg with glamor on the same card, in user pd's session as
tests/desktop starts it (tests/vm/pdvm/desktop.py): the modesetting
driver's glamor renders through Mesa's virgl driver on the card the
session took from elogind; build/test-artifacts/gpu-xorg-glamor.png."""

import os
import re
import time

from pdvm import desktop
from pdvm.desktop import WESTON_INI  # the desktop sessions' Weston config
from pdvm.testlib import artifact, check, run_ok, wait_for, indent

MODE = "xen"
GUESTS = 2
VIRGL = True
# Weston and its clients (the desktop layer, which also carries Weston's
# GL renderer) in the guests' image, beside Mesa
GUEST_LAYERS = ("desktop",)

FRAMES = 1000
RUNS = int(os.environ.get("PD_WESTON_GL_RUNS") or 1)
BUDGET = float(os.environ.get("PD_WESTON_GL_BUDGET") or 0)
CONF = """\
[switch]
next = ctrl+alt+right

[guest guest1]
devices = %(card)s %(render)s
hotkey = ctrl+alt+f1
"""
# Weston as tests/desktop starts it, from user pd's login on tty1 in pd's
# elogind session (tests/vm/pdvm/desktop.py), with its GL renderer
WESTON_GL = ("exec weston --log=/tmp/weston-gl.log >/tmp/weston-gl.out "
             "2>&1")


def _virtio_nodes(app):
    """dom0's card and render node of the virtio-gpu."""
    out = run_ok(app, "dom0", "for d in /sys/class/drm/card? "
                 "/sys/class/drm/renderD*; do drv=$(readlink "
                 "$d/device/virtio*/driver 2>/dev/null); [ \"${drv##*/}\" "
                 "= virtio_gpu ] && echo /dev/dri/${d##*/}; done; true")
    nodes = out.split()
    check(len(nodes) == 2, "dom0's virtio-gpu nodes: %r" % nodes)
    return nodes


def _hostd_on_virgl(app):
    """hostd, master of the virtio-gpu's card, gives guest1 its card and
    render node (the backends of earlier tests end first)."""
    if run_ok(app, "dom0", "pidof hostd; true").strip():
        return
    run_ok(app, "dom0", "for m in /run/paradice/backend-*.monitor; do "
           "[ -e $m ] && kill $(cat $m) 2>/dev/null; done; t=0; while "
           "pidof pd-backend >/dev/null && [ $t -lt 30 ]; do sleep 1; "
           "t=$((t+1)); done; ! pidof pd-backend", timeout=60)
    card, render = _virtio_nodes(app)
    app.copy_in("dom0", (CONF % {"card": card, "render": render}).encode(),
                "/etc/paradice/paradice.conf")
    run_ok(app, "dom0", "t=0; while [ ! -e /run/pd-udev-settled ] && "
           "[ $t -lt 90 ]; do sleep 1; t=$((t+1)); done; (hostd --card %s "
           ">/var/log/hostd.log 2>&1 &); true" % card, timeout=120)
    wait_for("hostd ready", lambda: "ready:" in run_ok(
        app, "dom0", "cat /var/log/hostd.log"), timeout=120)
    run_ok(app, "guest1", "lsmod | grep -q '^pdfront ' || { modprobe -a "
           "drm videodev snd && insmod /lib/modules/$(uname -r)/updates/dkms/pdfront.ko; }",
           timeout=180)
    wait_for("guest1's forwarded card and render node", lambda: app.run(
        "guest1", "[ -c /dev/dri/card0 ] && [ -c /dev/dri/renderD128 ]")[0]
        == 0, timeout=120)
    nodes = run_ok(app, "guest1", "ls /dev/dri /sys/class/drm | grep -E "
                   "'^(card|renderD)[0-9]+$' | sort -u").split()
    check(nodes == ["card0", "renderD128"], "guest1's DRM nodes: %r "
          "(forwarded: a card and a render node)" % nodes)


def _frames(app):
    """Frames presented to weston-presentation-shm (one line each; its
    stdout is a file, written in blocks)."""
    return int(run_ok(app, "guest1", "grep -c ' seq ' /tmp/pres.log "
                      "2>/dev/null; true").strip() or 0)


def _weston_alive(app):
    return app.run("guest1", "pidof weston >/dev/null")[0] == 0


def _session_ended(app):
    """Wait until the last session's Weston and login have ended (the
    next login starts on the same VT)."""
    run_ok(app, "guest1", "killall weston-presentation-shm weston "
           "2>/dev/null; t=0; while { pidof weston || pidof login; } "
           ">/dev/null && [ $t -lt 30 ]; do sleep 1; t=$((t+1)); done; true",
           timeout=60)


def _one_run(app, n):
    run_ok(app, "guest1", "rm -f /tmp/pres.log /tmp/weston-gl.log "
           "/tmp/weston-gl.out; chvt 1; " + desktop.LOGIN)
    try:
        wait_for("Weston's socket in guest1 (or Weston ending)", lambda:
                 app.run("guest1", "ls %s/wayland-? >/dev/null 2>&1 || { "
                         "[ -s /tmp/weston-gl.log ] && ! pidof weston; }"
                         % desktop.RUNTIME)[0] == 0, timeout=180)
        check(_weston_alive(app), "Weston ended at start")
        run_ok(app, "guest1", desktop.wayland(
            "(weston-presentation-shm >/tmp/pres.log 2>&1 &); true"))
        t0 = time.monotonic()
        wait_for("%d frames presented (or Weston ending)" % FRAMES,
                 lambda: _frames(app) >= FRAMES or not _weston_alive(app),
                 timeout=480, step=3)
        secs = time.monotonic() - t0
        frames = _frames(app)
        alive = _weston_alive(app)
        if n == 0:
            app.vnc_grab(artifact("gpu-weston-gl.png"))
    finally:
        log = run_ok(app, "guest1", "cat /tmp/weston-gl.log "
                     "/tmp/weston-gl.out 2>/dev/null; true")
        if n == 0 and _weston_alive(app):
            s = desktop.session(app, "guest1", "weston")
            print("    Weston: uid %s, session %s of %s, took %s" % (
                s["uid"], s["session_id"], s["session"].get("USER"),
                s["session"].get("DEVICES")))
            check(s["uid"] == 1000 and s["session"].get("USER") == "pd",
                  "Weston does not run in pd's session: %r" % s)
        _session_ended(app)
    renderer = re.search(r"GL renderer: (.*)", log)
    check(alive and frames >= FRAMES and "Assertion" not in log,
          "run %d: Weston %s after %d frames:\n%s" % (
              n + 1, "alive" if alive else "ended", frames, indent(log)))
    check(renderer and "virgl" in renderer.group(1),
          "run %d: Weston's renderer is not virgl's GL:\n%s"
          % (n + 1, indent(log)))
    return frames, secs, renderer.group(1)


def _execbuffers(app):
    """guest1's virtio-gpu EXECBUFFERs so far (debugfs pdfront/stats):
    (synchronous trips, sent without a wait)."""
    out = run_ok(app, "guest1", "mountpoint -q /sys/kernel/debug || mount "
                 "-t debugfs none /sys/kernel/debug; cat "
                 "/sys/kernel/debug/pdfront/stats")
    m = re.search(r"^ioctl \S+ type 0x64 nr 0x42 count (\d+) .* async "
                  r"(\d+)$", out, re.M)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def test_weston_gl_survives_1000_frames(app):
    """Weston's GL renderer (virgl, through the forwarded card and
    render node) presents 1000 frames of weston-presentation-shm in
    guest1 on the virtual display hostd shows, and Weston still runs;
    as many times in a row as PD_WESTON_GL_RUNS says. Its submissions,
    out-fenced ones (Mesa's at each flush with a fence) among them, go
    without a wait (pd_wire.h 1.8): hardly any EXECBUFFER travels."""
    _hostd_on_virgl(app)
    app.copy_in("guest1", WESTON_INI.encode(), "/etc/xdg/weston/weston.ini")
    run_ok(app, "guest1", desktop.SETUP, timeout=120)
    app.copy_in("guest1", (desktop.PROFILE % WESTON_GL).encode(),
                "/home/pd/.profile")
    sync0, async0 = _execbuffers(app)
    t0 = time.monotonic()
    done, last = 0, 0.0
    for n in range(RUNS):
        if n and BUDGET and time.monotonic() - t0 + last > BUDGET:
            break  # the next run would end past the budget
        t1 = time.monotonic()
        frames, secs, renderer = _one_run(app, n)
        last = time.monotonic() - t1
        done += 1
        print("    run %d/%d: %d frames in %.0f s (%.1f/s), Weston alive; "
              "GL renderer %s" % (n + 1, RUNS, frames, secs, frames / secs,
                                   renderer), flush=True)
    print("    %d consecutive runs of %d frames passed" % (done, FRAMES))
    sync1, async1 = _execbuffers(app)
    print("    EXECBUFFER: %d without a wait, %d synchronous trips" % (
        async1 - async0, sync1 - sync0))
    # before wire 1.8 each fenced flush (about one a frame) travelled
    check(async1 - async0 >= FRAMES and
          sync1 - sync0 <= (async1 - async0) // 20,
          "guest1's EXECBUFFERs: %d without a wait, %d synchronous trips"
          % (async1 - async0, sync1 - sync0))
    print("    Weston (GL) asked of its card:\n" + "".join(
        "    | %s\n" % line.split("display: asked ", 1)[1]
        for line in run_ok(app, "dom0", "cat /var/log/hostd.log")
        .splitlines() if "pd-backend[guest1]: display: asked " in line))


def test_xorg_glamor_on_virgl(app):
    """Xorg 21.1 (xinit from pd's login on tty1, in pd's elogind session,
    as tests/desktop starts it) on guest1's forwarded virgl card with the
    modesetting driver's glamor (GL through Mesa's virgl driver): glamor
    initialised on virgl's renderer, and the session's root window colour
    and xterm on the virtio-gpu's scanout."""
    _hostd_on_virgl(app)
    _session_ended(app)
    run_ok(app, "guest1", desktop.SETUP, timeout=120)
    app.copy_in("guest1", desktop.XSESSION.encode(), "/home/pd/.xsession",
                0o755)
    app.copy_in("guest1", (desktop.PROFILE % desktop.XORG_SESSION).encode(),
                "/home/pd/.profile")
    run_ok(app, "guest1", "rm -f /tmp/Xorg.log /tmp/xinit.log; chvt 1; " +
           desktop.LOGIN)
    try:
        wait_for("Xorg's session in guest1 (or Xorg ending)", lambda:
                 "KeyPress" in desktop.log(app, "guest1", "/tmp/xinit.log")
                 or desktop.alive(app, "guest1", "xev") or (
                     "Server terminated" in desktop.log(
                         app, "guest1", "/tmp/Xorg.log")), timeout=180)
        shown = wait_for("Xorg's root window and xterm on the scanout",
                         lambda: _x_shown(app), timeout=90, step=3)
    finally:
        xlog = desktop.log(app, "guest1", "/tmp/Xorg.log")
        print("    Xorg's log of glamor and its card:\n" + "".join(
            "    | %s\n" % line for line in xlog.splitlines()
            if re.search(r"glamor|systemd-logind|modeset\(0\): "
                         r"(using|Depth)|\(EE\)|GL_RENDERER|EGL",
                         line, re.I))[-4000:])
    s = desktop.session(app, "guest1", "Xorg")
    print("    Xorg: uid %s, session %s (%s), took %s" % (
        s["uid"], s["session_id"], s["session"].get("USER"),
        s["session"].get("DEVICES")))
    check(s["uid"] == 1000 and s["session"].get("USER") == "pd",
          "Xorg does not run in pd's session: %r" % s)
    check(re.search(r"glamor.*(virgl|initialized)", xlog, re.I) and
          "glamor initialization failed" not in xlog.lower() and
          "Failed to load glamor" not in xlog,
          "glamor did not come up:\n%s" % indent(xlog))
    print("    on the scanout: root %d px, xterm %d px" % shown)


def _x_shown(app):
    """(pixels of the X root colour, of the xterm's) on the virtio-gpu's
    scanout when both show (glamor's rendering through virgl may blend
    nothing: the colours are exact)."""
    shot = app.vnc_grab(artifact("gpu-xorg-glamor.png"))
    n = (desktop.count(shot, desktop.X_ROOT), desktop.count(shot,
                                                            desktop.X_TERM))
    return n if n[0] > 100000 and n[1] > 10000 else None
