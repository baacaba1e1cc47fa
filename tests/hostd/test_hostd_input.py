# SPDX-License-Identifier: GPL-2.0-only
"""hostd in dom0 with two running guests: it grabs the physical keyboard and
mouse, gives each guest a virtual keyboard and pointer, routes input to the
foreground guest only, switches on a hotkey (which no guest sees) and on
D-Bus calls, and follows Xen's domain list.

Each guest's virtual devices are read here in dom0, where hostd makes them;
reaching the guests themselves is the Xen transport's work."""

import re
import time

from pdvm.testlib import (TestFailure, check, evdev_node, keys_left_down,
                          keys_pressed, run_ok, wait_until)

MODE = "xen"
GUESTS = 2

CONF = """\
[switch]
next = ctrl+alt+right
previous = ctrl+alt+left

[guest guest1]
hotkey = ctrl+alt+f1

[guest guest2]
hotkey = ctrl+alt+f2

[guest guest3]
"""

GDBUS = ("gdbus call --system --dest org.paradice.Switcher1 "
         "--object-path /org/paradice/Switcher1 ")
MANAGER = "org.paradice.Switcher1.Manager"


def _node(app, name):
    node = evdev_node(app, "dom0", name)
    if not node:
        raise TestFailure("no input device %r in dom0" % name)
    return node


def _pressed(app, log):
    return re.findall(r"\((KEY_\w+)\), value 1",
                      run_ok(app, "dom0", "cat %s 2>/dev/null; true" % log))


def _wait(cond, what, timeout=20):
    return wait_until(cond, timeout)


def _active(app):
    out = run_ok(app, "dom0", GDBUS + "--method org.freedesktop.DBus.Properties"
                 ".Get %s ActiveVm" % MANAGER)
    m = re.search(r"objectpath '([^']+)'", out)
    check(m, "ActiveVm reply: %s" % out)
    name = run_ok(app, "dom0", "gdbus call --system --dest org.paradice.Switcher1"
                  " --object-path %s --method org.freedesktop.DBus.Properties"
                  ".Get org.paradice.Switcher1.Vm Name" % m.group(1))
    return re.search(r"'(\w+)'", name).group(1)


def test_hostd_refuses_a_bad_config_with_file_and_line(app):
    """A config with a bad line stops hostd with the file, line and reason."""
    code, out, err = app.run("dom0", "mkdir -p /etc/paradice; printf "
                             "'[guest a]\\nhotkey = ctrl+nokey\\n' >/tmp/bad.conf;"
                             " hostd --config /tmp/bad.conf --no-grab --bus none")
    check(code == 1, "hostd exited %d" % code)
    check(b"/tmp/bad.conf:2: unknown key 'nokey'" in err, err.decode())


def test_hostd_routes_keys_to_the_foreground_guest_and_switches(app):
    """Keys reach only the foreground guest's virtual keyboard; the hotkey
    switches on release and reaches no guest; the outgoing guest got every
    key-up; D-Bus switches back and reports the active VM."""
    app.copy_in("dom0", CONF.encode(), "/etc/paradice/paradice.conf")
    run_ok(app, "dom0", "t=0; while [ ! -e /run/pd-udev-settled ] && "
           "[ $t -lt 90 ]; do sleep 1; t=$((t+1)); done; "
           "(hostd >/var/log/hostd.log 2>&1 &); sleep 2; cat /var/log/hostd.log",
           timeout=120)
    _wait(lambda: "ready:" in run_ok(app, "dom0", "cat /var/log/hostd.log"),
          "hostd ready", timeout=90)
    log = run_ok(app, "dom0", "cat /var/log/hostd.log")
    check("ready: 3 guests, guest1 in front" in log,
          "hostd did not start:\n%s" % log)
    check("grabbed" in log and "AT Translated Set 2 keyboard" in log,
          "hostd did not grab the keyboard:\n%s" % log)
    k1 = _node(app, "Paradice guest1 keyboard")
    k2 = _node(app, "Paradice guest2 keyboard")
    run_ok(app, "dom0", "(evtest %s >/tmp/k1.log 2>&1 &); (evtest %s "
           ">/tmp/k2.log 2>&1 &); sleep 1" % (k1, k2))

    app.keys(["a", "b"])
    check(_wait(lambda: _pressed(app, "/tmp/k1.log") == ["KEY_A", "KEY_B"],
                "keys"), "guest1 got %r" % _pressed(app, "/tmp/k1.log"))
    app.keys(["ctrl-alt-right"])
    time.sleep(2)
    app.keys(["c"])
    check(_wait(lambda: _pressed(app, "/tmp/k2.log") == ["KEY_C"], "c"),
          "guest2 got %r after the hotkey" % _pressed(app, "/tmp/k2.log"))
    k1_log = run_ok(app, "dom0", "cat /tmp/k1.log")
    right = re.compile(r"EV_KEY\), code \d+ \(KEY_RIGHT\)")
    check(not right.search(k1_log), "the hotkey's key reached guest1")
    check(not right.search(run_ok(app, "dom0", "cat /tmp/k2.log")),
          "the hotkey's key reached guest2")
    for key in ("KEY_LEFTCTRL", "KEY_LEFTALT"):
        check(re.search(r"\(%s\), value 0" % key, k1_log),
              "guest1 never got %s up:\n%s" % (key, k1_log))
    check(_active(app) == "guest2", "ActiveVm is not guest2")

    run_ok(app, "dom0", GDBUS + "--method %s.SwitchTo guest1" % MANAGER)
    check(_active(app) == "guest1", "D-Bus SwitchTo guest1 did not take")
    app.keys(["d"])
    check(_wait(lambda: "KEY_D" in _pressed(app, "/tmp/k1.log"), "d"),
          "guest1 did not get d after switching back")
    check("KEY_D" not in _pressed(app, "/tmp/k2.log"), "guest2 got d")
    log = run_ok(app, "dom0", "cat /var/log/hostd.log")
    times = re.findall(r"switched from \w+ to \w+ in (\d+) us", log)
    check(len(times) == 2, "switches logged: %r\n%s" % (times, log))
    print("    switch times (us, input only): %s" % ", ".join(times))


def _guest_keyboard(app, g):
    """The forwarded node of hostd's virtual keyboard for g, seen in g."""
    return evdev_node(app, g, "Paradice %s keyboard" % g)


def test_guests_read_their_own_virtual_keyboard_through_paradice(app):
    """hostd started one backend per guest, each exporting that guest's
    virtual keyboard; in each guest the forwarded keyboard gets the keys
    only while that guest is in front, and the hotkey reaches neither."""
    for g in ("guest1", "guest2"):
        run_ok(app, g, "lsmod | grep -q '^pdfront ' || { modprobe -a drm "
               "videodev snd; insmod "
               "/lib/modules/$(uname -r)/updates/dkms/pdfront.ko; }")
    nodes = {}
    for g in ("guest1", "guest2"):
        nodes[g] = _wait(lambda: _guest_keyboard(app, g), g, timeout=60)
        check(nodes[g], "%s has no forwarded 'Paradice %s keyboard'; hostd "
              "log:\n%s" % (g, g, run_ok(app, "dom0", "tail -20 /var/log/hostd.log")))
        run_ok(app, g, "(evtest %s >/tmp/kbd.log 2>&1 &); sleep 1" % nodes[g])
    check(_active(app) == "guest1", "guest1 is not in front")
    app.keys(["x"])
    check(_wait(lambda: "KEY_X" in _pressed_in(app, "guest1"), "x"),
          "guest1 did not read x: %r" % _pressed_in(app, "guest1"))
    app.keys(["ctrl-alt-f2"])
    time.sleep(2)
    app.keys(["y"])
    check(_wait(lambda: "KEY_Y" in _pressed_in(app, "guest2"), "y"),
          "guest2 did not read y: %r" % _pressed_in(app, "guest2"))
    p1, p2 = _pressed_in(app, "guest1"), _pressed_in(app, "guest2")
    check("KEY_Y" not in p1 and "KEY_X" not in p2,
          "a key reached the background guest: %r %r" % (p1, p2))
    check("KEY_F2" not in p1 + p2, "the hotkey reached a guest")
    run_ok(app, "dom0", GDBUS + "--method %s.SwitchTo guest1" % MANAGER)
    for g in ("guest1", "guest2"):
        run_ok(app, g, "killall evtest 2>/dev/null; true")


def _pressed_in(app, g):
    return keys_pressed(app, g, "/tmp/kbd.log")


def test_200_switches_while_typing_leave_no_key_down(app):
    """200 D-Bus switches (SwitchNext) while keys are typed and held on
    the emulated keyboard: afterwards no key is down in either guest's
    forwarded keyboard (each guest got a release for every key it saw
    pressed), and hostd logged every switch."""
    nodes = {g: _guest_keyboard(app, g) for g in ("guest1", "guest2")}
    for g in ("guest1", "guest2"):
        check(nodes[g], "%s has no forwarded keyboard" % g)
        run_ok(app, g, "(evtest %s >/tmp/kbd200.log 2>&1 &); sleep 1"
               % nodes[g])
    before = len(re.findall(r"switched from", run_ok(
        app, "dom0", "cat /var/log/hostd.log")))
    run_ok(app, "dom0", "rm -f /tmp/sw.done; (i=0; while [ $i -lt 200 ]; do "
           "%s--method %s.SwitchNext >/dev/null 2>>/tmp/sw.err; i=$((i+1)); "
           "done; touch /tmp/sw.done) >/dev/null 2>&1 &" % (GDBUS, MANAGER))
    combos = ["a", "shift-b", "c", "ctrl-d", "e", "shift-alt-f"]
    typed, t0 = 0, time.monotonic()
    while app.run("dom0", "[ -e /tmp/sw.done ]")[0] != 0:
        check(time.monotonic() - t0 < 600, "200 switches took over 600 s")
        app.keys(combos[typed % len(combos):] + combos[:typed % len(combos)],
                 hold_ms=120)
        typed += len(combos)
    t = time.monotonic() - t0
    time.sleep(2)
    log = run_ok(app, "dom0", "cat /var/log/hostd.log")
    switches = len(re.findall(r"switched from", log)) - before
    errors = run_ok(app, "dom0", "cat /tmp/sw.err 2>/dev/null; true")
    check(switches == 200, "hostd logged %d switches; errors:\n%s"
          % (switches, errors))
    seen = {}
    for g in ("guest1", "guest2"):
        glog = run_ok(app, g, "cat /tmp/kbd200.log")
        seen[g] = len(re.findall(r"value 1", glog))
        check(seen[g] > 0, "%s saw no key at all" % g)
        down = keys_left_down(glog)
        check(not down, "%s still has %s down" % (g, down))
        run_ok(app, g, "killall evtest 2>/dev/null; true")
    print("    200 switches in %.1f s while %d key combinations were typed; "
          "presses seen: guest1 %d, guest2 %d; no key left down"
          % (t, typed, seen["guest1"], seen["guest2"]))
    run_ok(app, "dom0", GDBUS + "--method %s.SwitchTo guest1" % MANAGER)


def test_hostd_restart_keeps_the_foreground_guest_and_routing(app):
    """guest2 in front; hostd stopped and started again: guest2 is in front
    again (hostd keeps the foreground guest's name in /run/paradice), the
    keyboard is grabbed again and keys reach guest2's virtual keyboard
    only (the same devices: the backends kept them)."""
    run_ok(app, "dom0", GDBUS + "--method %s.SwitchTo guest2" % MANAGER)
    check(_active(app) == "guest2", "guest2 did not come to the front")
    run_ok(app, "dom0", "killall evtest hostd 2>/dev/null; t=0; while pidof hostd "
           ">/dev/null && [ $t -lt 40 ]; do sleep 0.5; t=$((t+1)); done; "
           "! pidof hostd", timeout=60)
    # the backends stay (they reattach) and still write to the old log
    run_ok(app, "dom0", "mv /var/log/hostd.log /var/log/hostd-0.log; "
           "(hostd >/var/log/hostd.log 2>&1 &); true")
    check(_wait(lambda: "ready:" in run_ok(app, "dom0", "cat /var/log/hostd.log"),
                "hostd ready", timeout=90), "hostd did not come back")
    log = run_ok(app, "dom0", "cat /var/log/hostd.log")
    check("guest2 in front" in log, "after the restart:\n%s" % log)
    check(_active(app) == "guest2", "ActiveVm after the restart")
    k1 = _node(app, "Paradice guest1 keyboard")
    k2 = _node(app, "Paradice guest2 keyboard")
    run_ok(app, "dom0", "(evtest %s >/tmp/r1.log 2>&1 &); (evtest %s "
           ">/tmp/r2.log 2>&1 &); sleep 1" % (k1, k2))
    app.keys(["r"])
    check(_wait(lambda: "KEY_R" in _pressed(app, "/tmp/r2.log"), "r"),
          "guest2 did not get r after the restart")
    check(not _pressed(app, "/tmp/r1.log"), "guest1 got keys")
    run_ok(app, "dom0", "killall evtest 2>/dev/null; true")
    run_ok(app, "dom0", GDBUS + "--method %s.SwitchTo guest1" % MANAGER)


def test_dbus_errors_are_named(app):
    """An unknown VM and a VM with no domain get named D-Bus errors, and a
    caller who is not root is refused when polkit does not allow it (here
    there is no polkit at all)."""
    code, _, err = app.run("dom0", "su -s /bin/sh nobody -c \"%s--method "
                           "%s.SwitchTo guest2\"" % (GDBUS, MANAGER))
    check(code != 0 and b"org.paradice.Switcher1.Error.Refused" in err,
          "non-root caller: %d %s" % (code, err.decode()))
    check(_active(app) == "guest1", "the refused call switched anyway")
    code, _, err = app.run("dom0", GDBUS + "--method %s.SwitchTo nosuchvm"
                           % MANAGER)
    check(code != 0 and b"org.paradice.Switcher1.Error.UnknownVm" in err,
          "unknown VM: %d %s" % (code, err.decode()))
    code, _, err = app.run("dom0", GDBUS + "--method %s.SwitchTo guest3"
                           % MANAGER)
    check(code != 0 and b"org.paradice.Switcher1.Error.UnknownVm" in err,
          "guest3 has no domain yet: %d %s" % (code, err.decode()))


def test_vm_list_follows_xen(app):
    """A domain named in the config appears on the bus when Xen starts it
    and disappears when it is destroyed."""
    run_ok(app, "dom0", "sed -e 's/guest1/guest3/g' -e 's/^memory.*/memory = "
           "192/' /etc/xen/guest1.cfg > /etc/xen/guest3.cfg && "
           "xl create -p /etc/xen/guest3.cfg", timeout=120)

    def vms():
        return run_ok(app, "dom0", GDBUS + "--method org.freedesktop.DBus."
                      "Properties.Get %s Vms" % MANAGER)
    try:
        domid = run_ok(app, "dom0", "xl domid guest3").strip()
        check(_wait(lambda: "/vm/%s'" % domid in vms(), "guest3 appears"),
              "guest3 (domain %s) not listed: %s" % (domid, vms()))
    finally:
        run_ok(app, "dom0", "xl destroy guest3", timeout=60)
    check(_wait(lambda: "/vm/%s'" % domid not in vms(), "guest3 gone"),
          "guest3 still listed after destroy: %s" % vms())
    _stop_hostd(app)


def _stop_hostd(app):
    """hostd gone (and with it the grab of dom0's keyboard and mouse and
    the backends it started), so later tests find dom0 as it was."""
    for g in ("guest1", "guest2"):
        app.run(g, "killall evtest 2>/dev/null; true", timeout=30)
    # The backends outlive hostd (they wait PD_DISPLAY_REATTACH_S for the
    # next one): SIGTERM them once hostd is gone (else it would start them
    # again), and their monitors close the guests' connections, so that
    # the frontends unload at once (a SIGKILL leaves them waiting).
    run_ok(app, "dom0", "killall evtest hostd 2>/dev/null; t=0; while pidof "
           "hostd >/dev/null && [ $t -lt 40 ]; do sleep 0.5; t=$((t+1)); "
           "done; killall pd-backend 2>/dev/null; t=0; while pidof hostd "
           "pd-backend >/dev/null && [ $t -lt 40 ]; do sleep 0.5; "
           "t=$((t+1)); done; killall -9 hostd pd-backend 2>/dev/null; true",
           timeout=90)
    # the guests' frontends go too, so the next suite connects afresh
    for g in ("guest1", "guest2"):
        app.run(g, "t=0; while lsmod | grep -q '^pdfront ' && ! rmmod pdfront "
                "2>/dev/null && [ $t -lt 20 ]; do sleep 0.5; t=$((t+1)); "
                "done; true", timeout=60)
