# SPDX-License-Identifier: GPL-2.0-only
"""The switcher inside the guests: hostd runs in dom0 and starts both
guests' backends, which give each guest a control file
(/dev/paradice/control); in each guest pd-switcher-agent serves hostd's
D-Bus interface on the guest's own system bus through it, and the same
switcher-ui as in dom0 lists and switches from inside the guest. guest1
may switch (the default), guest2 only list (`allow = list`): hostd
refuses guest2's switch, the agent answers with hostd's D-Bus error, and
hostd logs who asked. No guest gets another guest's frames. dom0's
entry ("host") is in every guest's list, but only a guest whose allow
says host may hand dom0 the screen. A switch made in dom0 reaches the
guest's bus at once (hostd's EVENTs), and the control files work again
after a hostd restart without the backends restarting.

Each guest shows its own colour through its forwarded card (pd-kmsclient,
guest1 red, guest2 blue): the screendump says which guest is in front.
Runs last in the suite (it leaves hostd's backends, not the suite's
--direct-display ones; it stops them all at the end)."""

import re
import time

from pdvm import xen
from pdvm.testlib import (wait_for as _wait, artifact, check, pixel,
                          run_ok)

MODE = "xen"
GUESTS = 2
# the guests' system bus, switcher-ui's libraries (tests/vm/profiles)
GUEST_LAYERS = ("switcher", "camera", "audio")

CONF = """\
[guest guest1]
devices = /dev/dri/card0

[guest guest2]
devices = /dev/dri/card0
allow = list
"""

COLOURS = {"guest1": (0xff, 0, 0), "guest2": (0, 0, 0xff)}
GDBUS = ("gdbus call --system --dest org.paradice.Switcher1 "
         "--object-path /org/paradice/Switcher1 "
         "--method org.paradice.Switcher1.Manager.")


def _hostd_log(app):
    return run_ok(app, "dom0", "cat /var/log/hostd.log 2>/dev/null; true")


def _shows(app, name, g):
    """The screen is guest g's colour in the middle."""
    shot = app.screendump(artifact(name))
    w, h, _ = shot
    got = pixel(shot, w // 2, h // 2)
    return all(abs(a - b) <= 16 for a, b in zip(got, COLOURS[g]))


def _no_backends(app):
    return not run_ok(app, "dom0", "pidof pd-backend; true").strip()


def _start(app):
    """hostd with CONF, its own backends (the suite's earlier ones ended),
    each guest's colour on its card and its agent on its bus."""
    run_ok(app, "dom0", "killall hostd pd-backend 2>/dev/null; true")
    _wait("the suite's backends to end", lambda: _no_backends(app),
          timeout=30)
    app.copy_in("dom0", CONF.encode(), "/etc/paradice/paradice.conf")
    run_ok(app, "dom0", "t=0; while [ ! -e /run/pd-udev-settled ] && "
           "[ $t -lt 90 ]; do sleep 1; t=$((t+1)); done; "
           "(hostd >/var/log/hostd.log 2>&1 &); true", timeout=120)
    _wait("hostd ready", lambda: "ready:" in _hostd_log(app), timeout=90)
    for g in ("guest1", "guest2"):
        run_ok(app, g, "lsmod | grep -q '^pdfront ' || { modprobe -a drm "
               "videodev snd && insmod /lib/modules/$(uname -r)/updates/dkms/pdfront.ko; }",
               timeout=180)
    for g in ("guest1", "guest2"):
        _wait("%s's card and control file" % g, lambda: app.run(
            g, "[ -c /dev/dri/card0 ] && [ -c /dev/paradice/control ]")[0]
            == 0, timeout=90)
    for g, rgb in (("guest1", "ff0000"), ("guest2", "0000ff")):
        run_ok(app, g, "killall pd-kmsclient pd-switcher-agent 2>/dev/null;"
               " (pd-kmsclient run /dev/dri/card0 %s 900 >/tmp/kms.log 2>&1"
               " &); (pd-switcher-agent >/tmp/agent.log 2>&1 &); true" % rgb)
    for g in ("guest1", "guest2"):
        _wait("%s's agent on its bus" % g, lambda: "serving" in run_ok(
            app, g, "cat /tmp/agent.log"), timeout=60)
        _wait("%s's colour painted" % g, lambda: "painted" in run_ok(
            app, g, "cat /tmp/kms.log"), timeout=60)


def _ui(app, g, args):
    """switcher-ui ARGS in guest g: (exit code, stdout, stderr)."""
    code, out, err = app.run(g, "switcher-ui %s" % args, timeout=60)
    return code, out.decode(errors="replace"), err.decode(errors="replace")


def test_switcher_ui_in_a_guest_lists_and_switches_the_screen(app):
    """guest1 runs switcher-ui --list (both guests, guest1 in front) and
    --switch guest2 inside itself: the physical screen turns to guest2's
    colour, and hostd's log names guest1 as the one who asked."""
    _start(app)
    _wait("guest1 on the screen", lambda: _shows(
        app, "vm-switcher-guest1.png", "guest1"), timeout=60)
    code, out, err = _ui(app, "guest1", "--list")
    check(code == 0, "switcher-ui --list in guest1 exited %d: %s" % (code, err))
    check(re.search(r"^guest1 \d+ running active$", out, re.M) and
          re.search(r"^guest2 \d+ running$", out, re.M),
          "switcher-ui --list in guest1:\n%s%s" % (out, err))
    n = len(_hostd_log(app).splitlines())
    code, out, err = _ui(app, "guest1", "--switch guest2")
    check(code == 0, "switcher-ui --switch guest2 in guest1 exited %d: %s"
          % (code, err))
    _wait("guest2 on the screen", lambda: _shows(
        app, "vm-switcher-guest2.png", "guest2"), timeout=30)
    log = "\n".join(_hostd_log(app).splitlines()[n:])
    check("guestctl: guest1 asks to switch to guest2" in log and
          "switched from guest1 to guest2" in log,
          "hostd's log after the switch:\n%s" % log)
    # the agent's objects follow: the list shows guest2 in front
    _wait("guest1's list to follow", lambda: re.search(
        r"^guest2 \d+ running active$", _ui(app, "guest1", "--list")[1],
        re.M), timeout=20)


def test_a_guest_whose_config_forbids_switching_gets_the_dbus_error(app):
    """guest2 (allow = list) may list but not switch: switcher-ui --switch
    exits 1 with hostd's reason, a D-Bus call gets
    org.paradice.Switcher1.Error.Refused, the screen stays guest2's, and
    hostd's log names guest2."""
    code, out, err = _ui(app, "guest2", "--list")
    check(code == 0 and re.search(r"^guest1 \d+ running$", out, re.M),
          "switcher-ui --list in guest2 exited %d:\n%s%s" % (code, out, err))
    n = len(_hostd_log(app).splitlines())
    code, out, err = _ui(app, "guest2", "--switch guest1")
    check(code == 1 and "guest2 may not switch" in err,
          "switcher-ui --switch guest1 in guest2 exited %d: %s%s"
          % (code, out, err))
    code, out, err = app.run("guest2", GDBUS + "SwitchNext")
    err = err.decode(errors="replace")
    check(code != 0 and "org.paradice.Switcher1.Error.Refused" in err and
          "paradice.conf: allow" in err,
          "SwitchNext in guest2 exited %d: %s" % (code, err))
    check(_shows(app, "vm-switcher-refused.png", "guest2"),
          "the screen changed after guest2's refused switches")
    log = "\n".join(_hostd_log(app).splitlines()[n:])
    check("guestctl: guest2 asks SWITCH guest1: refused" in log and
          "guestctl: guest2 asks NEXT: refused" in log and
          "switched from" not in log,
          "hostd's log after guest2's switches:\n%s" % log)


def test_a_guest_cannot_fetch_thumbnails(app):
    """Another guest's frames are never served to a guest: the agent has
    no such method (UnknownMethod), a guest that writes the request to
    its control file itself gets hostd's refusal, and starting or stopping
    guests is refused in a guest too."""
    code, out, err = app.run("guest1", GDBUS + "GetThumbnail guest2")
    err = err.decode(errors="replace")
    check(code != 0 and "UnknownMethod" in err,
          "GetThumbnail in guest1 exited %d: %s%s" % (code, out, err))
    out = run_ok(app, "guest1", "exec 3<>/dev/paradice/control; "
                 "printf 'THUMBNAIL guest2' >&3; "
                 "dd bs=4096 count=1 2>/dev/null <&3")
    check(out.startswith("ERR Refused a guest never sees another guest's "
                         "frames"), "THUMBNAIL on guest1's control file: %r"
          % out)
    out = run_ok(app, "guest1", "exec 3<>/dev/paradice/control; "
                 "printf 'LIST' >&3; dd bs=4096 count=1 2>/dev/null <&3")
    check(out.startswith("OK\nSELF guest1\n"), "LIST: %r" % out)
    code, out, err = app.run("guest1", GDBUS + "Start guest2")
    check(code != 0 and b"Error.Refused" in err, "Start in guest1: %s"
          % err.decode(errors="replace"))
    check("guestctl: guest1 asks for guest2's frames: refused"
          in _hostd_log(app), "hostd did not log the frames request")


def test_a_switch_made_in_dom0_reaches_the_guests_bus_at_once(app):
    """guest1's agent asked hostd for EVENTs: a switch made in dom0 (D-Bus
    there) shows on guest1's system bus as Switched at once (the agent's
    own list comes only every 30 s now, every 2 s before). The time is an
    upper bound taken by the test: from the return of the call in dom0
    to the moment a waiting loop in guest1 (50 ms steps) sees the signal,
    with the harness's round trip to the guest in it."""
    # gdbus prints each signal at once (GLib flushes what g_print wrote)
    run_ok(app, "guest1", "rm -f /tmp/mon.log; (gdbus monitor --system "
           "--dest org.paradice.Switcher1 >/tmp/mon.log 2>&1 &); sleep 2; "
           "true")
    log = run_ok(app, "guest1", "cat /tmp/mon.log")
    check("Switched" not in log and "org.paradice.Switcher1" in log,
          "guest1's monitor before the switch: %r" % log)
    t0 = time.monotonic()
    run_ok(app, "dom0", GDBUS + "SwitchTo guest1")
    t1 = time.monotonic()
    code, _, _ = app.run("guest1", "t=0; while ! grep -q Switched "
                         "/tmp/mon.log && [ $t -lt 200 ]; do sleep 0.05; "
                         "t=$((t+1)); done; grep -q Switched /tmp/mon.log",
                         timeout=60)
    t2 = time.monotonic()
    app.run("guest1", "killall gdbus 2>/dev/null; true")
    check(code == 0, "no Switched on guest1's bus %.1f s after the switch "
          "in dom0; its monitor:\n%s\nits agent:\n%s" % (
              t2 - t0, run_ok(app, "guest1", "cat /tmp/mon.log"),
              run_ok(app, "guest1", "tail -20 /tmp/agent.log")))
    # hostd sends the EVENT inside the switch, before SwitchTo returns:
    # from the call's return to the guest's loop seeing the signal is an
    # upper bound of the delay (the harness's round trip to the guest in it)
    print("SwitchTo in dom0 took %.3f s; Switched on guest1's bus at most "
          "%.3f s after it returned" % (t1 - t0, t2 - t1))
    check(t2 - t1 < 1.5, "Switched reached guest1's bus only %.3f s after "
          "the call in dom0 returned" % (t2 - t1))
    _wait("guest1 on the screen", lambda: _shows(
        app, "vm-switcher-event.png", "guest1"), timeout=30)


HOST_CONF = CONF.replace("[guest guest2]", "allow = list,switch,host\n\n"
                         "[guest guest2]")


def test_host_needs_its_own_word_and_control_survives_a_hostd_restart(app):
    """guest1 (allow = list,switch) lists dom0's entry but may not switch
    to it (Refused, logged). hostd is restarted with guest1's allow
    extended by host: the backends are the same processes, they bring
    their control channels back with their displays, and switcher-ui
    --list in guest1 works again through the same agent; guest1 now
    hands dom0 the screen (neither guest's colour) and takes it back."""
    code, out, err = _ui(app, "guest1", "--list")
    check(code == 0 and re.search(r"^host 0 running$", out, re.M),
          "--list in guest1 without host:\n%s%s" % (out, err))
    code, out, err = _ui(app, "guest1", "--switch host")
    check(code == 1 and "guest1 may not hand dom0 the screen" in err,
          "--switch host in guest1 (allow has no host) exited %d: %s%s"
          % (code, out, err))
    check("guestctl: guest1 asks SWITCH host: refused" in _hostd_log(app),
          "hostd did not log the refused switch to host")
    pids = sorted(run_ok(app, "dom0", "pidof pd-backend").split())

    app.copy_in("dom0", HOST_CONF.encode(), "/etc/paradice/paradice.conf")
    run_ok(app, "dom0", "killall hostd; t=0; while pidof hostd >/dev/null "
           "&& [ $t -lt 40 ]; do sleep 0.5; t=$((t+1)); done; ! pidof hostd",
           timeout=60)
    run_ok(app, "dom0", "mv /var/log/hostd.log /var/log/hostd-1.log; "
           "(hostd >/var/log/hostd.log 2>&1 &); true")
    _wait("hostd ready", lambda: "ready:" in _hostd_log(app), timeout=90)
    for g in ("guest1", "guest2"):
        _wait("%s's control channel back" % g, lambda: "guestctl: %s: its "
              "backend's control channel is back" % g in _hostd_log(app),
              timeout=60)
    check(sorted(run_ok(app, "dom0", "pidof pd-backend").split()) == pids,
          "the backends changed across the restart: %s" % pids)
    # a new open of the control file reaches the new hostd
    out = run_ok(app, "guest1", "exec 3<>/dev/paradice/control; "
                 "printf 'LIST' >&3; dd bs=4096 count=1 2>/dev/null <&3")
    check(out.startswith("OK\nSELF guest1\n") and "VM host 0 running" in out,
          "LIST on a new control file after the restart: %r" % out)
    _wait("switcher-ui --list in guest1 after the restart", lambda: re.search(
        r"^guest1 \d+ running", _ui(app, "guest1", "--list")[1], re.M),
        timeout=30)
    code, out, err = _ui(app, "guest2", "--list")
    check(code == 0 and re.search(r"^guest2 \d+ running", out, re.M),
          "--list in guest2 after the restart: %d %s%s" % (code, out, err))

    code, out, err = _ui(app, "guest1", "--switch host")
    check(code == 0, "--switch host in guest1 (allow host) exited %d: %s%s"
          % (code, out, err))
    check("guestctl: guest1 asks to switch to host" in _hostd_log(app),
          "hostd's log:\n%s" % _hostd_log(app)[-2000:])
    _wait("dom0's console on the screen", lambda: not _shows(
        app, "vm-switcher-host.png", "guest1") and not _shows(
        app, "vm-switcher-host.png", "guest2"), timeout=30)
    code, out, err = _ui(app, "guest1", "--list")
    check(re.search(r"^host 0 running active$", out, re.M),
          "--list in guest1 with host in front:\n%s%s" % (out, err))
    code, out, err = _ui(app, "guest1", "--switch guest1")
    check(code == 0, "--switch guest1 from host exited %d: %s" % (code, err))
    _wait("guest1 on the screen again", lambda: _shows(
        app, "vm-switcher-back.png", "guest1"), timeout=30)


def _thumbnail(app, name, w, h):
    """GetThumbnail in dom0 (root: polkit not asked): (width, height,
    stride, format, bytes), or the error's text."""
    code, out, err = app.run("dom0", "gdbus call --system --dest "
                             "org.paradice.Switcher1 --object-path "
                             "/org/paradice/Switcher1 --method org.paradice."
                             "Switcher1.Thumbnails.GetThumbnail %s %d %d"
                             % (name, w, h), timeout=60)
    out = out.decode(errors="replace")
    if code:
        return err.decode(errors="replace")
    m = re.match(r"\(uint32 (\d+), uint32 (\d+), uint32 (\d+), '(\w+)', "
                 r"\[(.*)\]\)", out.strip(), re.S)
    check(m, "GetThumbnail %s: %r" % (name, out[:300]))
    data = bytes(int(b, 16) for b in re.findall(r"0x([0-9a-f]{2})",
                                                  m.group(5)))
    return (int(m.group(1)), int(m.group(2)), int(m.group(3)), m.group(4),
            data)


def test_dom0_gets_each_guests_thumbnail_and_a_guest_none(app):
    """In dom0, hostd's Thumbnails.GetThumbnail gives each guest's last
    frame scaled (XRGB8888, within the size asked, the frame's aspect):
    guest1's is red, guest2's blue, whichever is in front; "host" has
    none (NotAvailable). In a guest the interface is not there at all."""
    for g in ("guest1", "guest2"):
        t = _thumbnail(app, g, 64, 64)
        check(isinstance(t, tuple), "GetThumbnail %s: %s" % (g, t))
        w, h, stride, fmt, data = t
        check(fmt == "XRGB8888" and 0 < w <= 64 and 0 < h <= 64 and
              stride >= 4 * w and len(data) == stride * h,
              "%s's thumbnail: %dx%d stride %d %s, %d bytes"
              % (g, w, h, stride, fmt, len(data)))
        o = (h // 2) * stride + (w // 2) * 4
        bgr = tuple(data[o:o + 3])
        want = COLOURS[g][::-1]
        check(all(abs(a - b) <= 16 for a, b in zip(bgr, want)),
              "%s's thumbnail's middle: B,G,R %r, want %r" % (g, bgr, want))
        print("%s: %dx%d thumbnail, middle B,G,R %r" % (g, w, h, bgr))
    t = _thumbnail(app, "host", 64, 64)
    check(isinstance(t, str) and "Error.NotAvailable" in t,
          "GetThumbnail host: %r" % (t,))
    code, out, err = app.run("guest1", "gdbus call --system --dest "
                             "org.paradice.Switcher1 --object-path "
                             "/org/paradice/Switcher1 --method org.paradice."
                             "Switcher1.Thumbnails.GetThumbnail guest2 64 64")
    err = err.decode(errors="replace")
    check(code != 0 and ("UnknownMethod" in err or "UnknownInterface" in err
                         or "No such interface" in err),
          "Thumbnails in guest1: %d %s" % (code, err))


def test_vm_switcher_cleanup(app):
    """Stop the agents, clients, hostd and its backends."""
    for g in ("guest1", "guest2"):
        app.run(g, "killall pd-switcher-agent pd-kmsclient; true")
    run_ok(app, "dom0", "killall hostd; sleep 2; killall pd-backend; true")
    _wait("hostd's backends to end", lambda: _no_backends(app), timeout=30)
    # the suite's own config back, for a test run after this one
    app.copy_in("dom0", xen.CONF.encode(), "/etc/paradice/paradice.conf")
