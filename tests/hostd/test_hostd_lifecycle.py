# SPDX-License-Identifier: GPL-2.0-only
"""hostd's lifecycle methods on real Xen domains (the xen appliance of the
hostd suite, after test_hostd_input.py): Pause and Resume of guest2 seen
by `xl list` and in the State property, the wrong-state errors, then
ForceOff and Start (`xl create` of the guest's xl-config) with guest2's
agent answering again afterwards, so the appliance is left as it was
booted. The same methods without Xen and under polkit:
tests/host/test_hostd_lifecycle.py."""

import re
import time

from pdvm.machine import now
from pdvm.testlib import TestFailure, check, run_ok, wait_until

MODE = "xen"
GUESTS = 2

CONF = """\
[guest guest1]
hotkey = ctrl+alt+f1

[guest guest2]
hotkey = ctrl+alt+f2
xl-config = /etc/xen/guest2.cfg

[guest guest3]
"""

DEST = "gdbus call --system --dest org.paradice.Switcher1 "
ROOT = "/org/paradice/Switcher1"
MANAGER = "org.paradice.Switcher1.Manager"
VM = "org.paradice.Switcher1.Vm"
ERR = "org.paradice.Switcher1.Error."


def _xl_state(app, g):
    """The state column of `xl list g` (r, b, p, s, c, d flags), or None
    when Xen has no such domain."""
    code, out, _ = app.run("dom0", "xl list %s" % g)
    if code != 0:
        return None
    line = out.decode().strip().splitlines()[-1].split()
    return line[4]


def _call(app, path, method, *args, timeout=60):
    """(ok, output) of a gdbus call as root (polkit is not asked)."""
    code, out, err = app.run("dom0", DEST + "--timeout %d --object-path %s "
                             "--method %s %s" % (timeout, path, method,
                                                 " ".join(args)),
                             timeout=timeout + 30)
    return code == 0, (out + err).decode(errors="replace")


def _vm_path(app, g):
    return "%s/vm/%s" % (ROOT, run_ok(app, "dom0", "xl domid %s" % g).strip())


def _state(app, g):
    ok, out = _call(app, _vm_path(app, g), "org.freedesktop.DBus.Properties"
                    ".Get %s State" % VM)
    m = re.search(r"<'(\w+)'>", out)
    return m.group(1) if ok and m else out


def _hostd_log(app):
    return run_ok(app, "dom0", "cat /var/log/hostd.log")


def test_pause_resume_force_off_and_start_guest2(app):
    """guest2 paused over D-Bus is 'p' in `xl list` and State 'paused';
    resumed it runs again; Shutdown of a paused guest, Resume of a
    running one and Start of a running one are Error.WrongState; Start of
    a guest without xl-config is Error.NotConfigured; ForceOff removes
    its domain from Xen and from the bus, and Start creates it again from
    its xl-config: a new domain whose agent answers, with a backend from
    hostd. The times of each step are printed."""
    app.copy_in("dom0", CONF.encode(), "/etc/paradice/paradice.conf")
    run_ok(app, "dom0", "(hostd --no-grab >/var/log/hostd.log 2>&1 &); true")
    check(wait_until(lambda: "ready:" in _hostd_log(app), 90),
          "hostd did not start:\n%s" % _hostd_log(app))
    times = {}
    try:
        check(_xl_state(app, "guest2") and "p" not in _xl_state(app, "guest2"),
              "guest2 is not running at the start: %s"
              % _xl_state(app, "guest2"))
        check(_state(app, "guest2") == "running", "State of guest2: %s"
              % _state(app, "guest2"))
        path = _vm_path(app, "guest2")

        t = time.monotonic()
        ok, out = _call(app, path, VM + ".Pause")
        check(ok, "Pause: %s" % out)
        times["pause"] = time.monotonic() - t
        check("p" in _xl_state(app, "guest2"), "xl list after Pause: %s"
              % _xl_state(app, "guest2"))
        check(wait_until(lambda: _state(app, "guest2") == "paused", 10),
              "State after Pause: %s" % _state(app, "guest2"))

        ok, out = _call(app, path, VM + ".Shutdown")
        check(not ok and ERR + "WrongState" in out and "resume it first" in out,
              "Shutdown of a paused guest: %s" % out)
        ok, out = _call(app, path, VM + ".Pause")
        check(not ok and ERR + "WrongState" in out and "it is paused" in out,
              "Pause of a paused guest: %s" % out)

        t = time.monotonic()
        ok, out = _call(app, path, VM + ".Resume")
        check(ok, "Resume: %s" % out)
        times["resume"] = time.monotonic() - t
        check("p" not in _xl_state(app, "guest2"), "xl list after Resume: %s"
              % _xl_state(app, "guest2"))
        check(wait_until(lambda: _state(app, "guest2") == "running", 10),
              "State after Resume: %s" % _state(app, "guest2"))
        ok, out = _call(app, path, VM + ".Resume")
        check(not ok and ERR + "WrongState" in out, "Resume of a running "
              "guest: %s" % out)
        ok, out = _call(app, ROOT, MANAGER + ".Start", "guest2")
        check(not ok and ERR + "WrongState" in out, "Start of a running "
              "guest: %s" % out)
        ok, out = _call(app, ROOT, MANAGER + ".Start", "guest3")
        check(not ok and ERR + "NotConfigured" in out and "xl-config" in out,
              "Start of a guest without xl-config: %s" % out)

        old = run_ok(app, "dom0", "xl domid guest2").strip()
        t = time.monotonic()
        ok, out = _call(app, path, VM + ".ForceOff")
        check(ok, "ForceOff: %s" % out)
        times["force off"] = time.monotonic() - t
        check(wait_until(lambda: _xl_state(app, "guest2") is None, 30),
              "guest2 still in xl list after ForceOff")
        check(wait_until(lambda: "/vm/%s'" % old not in _call(
            app, ROOT, "org.freedesktop.DBus.Properties.Get %s Vms"
            % MANAGER)[1], 20), "guest2's object still on the bus")

        t = time.monotonic()
        ok, out = _call(app, ROOT, MANAGER + ".Start", "guest2", timeout=150)
        check(ok, "Start: %s\n%s" % (out, _hostd_log(app)[-2000:]))
        times["start (xl create)"] = time.monotonic() - t
        new = run_ok(app, "dom0", "xl domid guest2").strip()
        check(new != old, "guest2 has its old domain id %s" % new)
        check(wait_until(lambda: _state(app, "guest2") == "running", 20),
              "State after Start: %s" % _state(app, "guest2"))
        t = time.monotonic()
        app.wait_guest("guest2", now() + 180)
        times["boot to agent"] = time.monotonic() - t
        log = _hostd_log(app)
        check(re.search(r"guest2: backend \d+ started \(domain %s\)" % new, log),
              "no backend for the new guest2:\n%s" % log[-2000:])
        check("lifecycle: Start of guest2 done" in log,
              "hostd did not log the start:\n%s" % log[-2000:])
    finally:
        _stop_hostd(app)
        if _xl_state(app, "guest2") is None:
            # put the appliance back as it booted, whatever failed above
            app.run("dom0", "xl create /etc/xen/guest2.cfg", timeout=150)
            try:
                app.wait_guest("guest2", now() + 180)
            except Exception as e:  # the test has failed already
                raise TestFailure("guest2 did not come back: %s" % e)
        elif "p" in (_xl_state(app, "guest2") or ""):
            app.run("dom0", "xl unpause guest2")
    print("    " + ", ".join("%s %.1f s" % kv for kv in times.items()))


def _stop_hostd(app):
    """hostd and the backends it started gone, the guests' frontends
    unloaded: as test_hostd_input.py leaves the appliance."""
    # as test_hostd_input.py's _stop_hostd(): the backends, which wait
    # for a next hostd, get SIGTERM once hostd is gone
    run_ok(app, "dom0", "killall hostd 2>/dev/null; t=0; while pidof hostd "
           ">/dev/null && [ $t -lt 40 ]; do sleep 0.5; t=$((t+1)); done; "
           "killall pd-backend 2>/dev/null; t=0; while pidof hostd "
           "pd-backend >/dev/null && [ $t -lt 40 ]; do sleep 0.5; "
           "t=$((t+1)); done; killall -9 hostd pd-backend 2>/dev/null; true",
           timeout=90)
    for g in ("guest1", "guest2"):
        app.run(g, "t=0; while lsmod | grep -q '^pdfront ' && ! rmmod pdfront "
                "2>/dev/null && [ $t -lt 20 ]; do sleep 0.5; t=$((t+1)); "
                "done; true", timeout=60)
