# SPDX-License-Identifier: GPL-2.0-only
"""The switcher inside the guests: hostd runs in dom0 and starts both
guests' backends, which give each guest a control file
(/dev/paradice/control); in each guest pd-switcher-agent serves hostd's
D-Bus interface on the guest's own system bus through it, and the same
switcher-ui as in dom0 lists and switches from inside the guest. guest1
may switch (the default), guest2 only list (`allow = list`): hostd
refuses guest2's switch, the agent answers with hostd's D-Bus error, and
hostd logs who asked. No guest gets another guest's frames.

Each guest shows its own colour through its forwarded card (pd-kmsclient,
guest1 red, guest2 blue): the screendump says which guest is in front.
Runs last in the suite (it leaves hostd's backends, not the suite's
--direct-display ones; it stops them all at the end)."""

import re

from pdvm import xen
from pdvm.testlib import (wait_for as _wait, artifact, check, pixel,
                          run_ok)

MODE = "xen"
GUESTS = 2
# the guests' system bus, switcher-ui's libraries (tests/vm/profiles)
GUEST_LAYERS = ("switcher",)

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


def test_vm_switcher_cleanup(app):
    """Stop the agents, clients, hostd and its backends."""
    for g in ("guest1", "guest2"):
        app.run(g, "killall pd-switcher-agent pd-kmsclient; true")
    run_ok(app, "dom0", "killall hostd; sleep 2; killall pd-backend; true")
    _wait("hostd's backends to end", lambda: _no_backends(app), timeout=30)
    # the suite's own config back, for a test run after this one
    app.copy_in("dom0", xen.CONF.encode(), "/etc/paradice/paradice.conf")
