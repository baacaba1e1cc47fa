# SPDX-License-Identifier: GPL-2.0-only
"""D-Bus activation of hostd in dom0, first in the hostd suite's appliance
(before test_hostd_input.py starts hostd by hand). dom0 runs Debian's
system bus as a system without systemd runs it (tests/vm/init.sh): as
messagebus, with Debian's config, which starts a service a call names
through the setuid dbus-daemon-launch-helper. The activation file, bus
policy and config are paradice-host's, unpacked into the image."""

from pdvm.testlib import check, run_ok, wait_until

MODE = "xen"
GUESTS = 2

ACTIVATION = "/usr/share/dbus-1/system-services/org.paradice.Switcher1.service"
GET_ACTIVE = ("gdbus call --system --timeout 120 --dest org.paradice.Switcher1"
              " --object-path /org/paradice/Switcher1 --method "
              "org.freedesktop.DBus.Properties.Get "
              "org.paradice.Switcher1.Manager ActiveVm")


def _hostd_pids(app):
    code, out, _ = app.run("dom0", "pidof hostd")
    return out.decode().split() if code == 0 else []


def _proc(app, pid, what):
    """/proc/PID/WHAT with its NULs as newlines."""
    return run_ok(app, "dom0", "tr '\\0' '\\n' </proc/%s/%s" % (pid, what))


def test_a_call_to_a_stopped_hostd_starts_it_through_its_activation_file(app):
    """With no hostd running, a property read of org.paradice.Switcher1
    on dom0's system bus answers: the bus (messagebus, Debian's config)
    ran the activation file's Exec through its launch helper, as the
    file's User (root). The hostd that answers is /usr/sbin/hostd with no
    argument (so /etc/paradice/paradice.conf, the package's conffile),
    with the environment the launch helper leaves (its own variables,
    DBUS_STARTER_ADDRESS and DBUS_STARTER_BUS_TYPE=system, and nothing
    else: no PATH). Stopped again afterwards, as the suite booted."""
    check(not _hostd_pids(app), "hostd runs before any call: %s"
          % _hostd_pids(app))
    bus = run_ok(app, "dom0", "for p in $(pidof dbus-daemon); do "
                 "awk '/^Uid:/ {print $2}' /proc/$p/status; done")
    uid = run_ok(app, "dom0", "id -u messagebus").strip()
    check(uid in bus.split(), "the system bus runs as uids %s, not as "
          "messagebus (%s)" % (bus.split(), uid))
    act = run_ok(app, "dom0", "cat " + ACTIVATION)
    check("Exec=/usr/sbin/hostd\n" in act and "User=root\n" in act,
          "activation file:\n" + act)
    try:
        code, out, err = app.run("dom0", GET_ACTIVE, timeout=150)
        check(code == 0, "the call did not start hostd (rc %d): %s" % (
            code, (out + err).decode(errors="replace")))
        pids = _hostd_pids(app)
        check(len(pids) == 1, "hostd processes after the call: %s" % pids)
        pid = pids[0]
        argv = _proc(app, pid, "cmdline").split()
        check(argv == ["/usr/sbin/hostd"], "hostd runs as %s" % argv)
        env = sorted(v.split("=", 1)[0] for v in
                     _proc(app, pid, "environ").split("\n") if v)
        check(env == ["DBUS_STARTER_ADDRESS", "DBUS_STARTER_BUS_TYPE"] and
              "DBUS_STARTER_BUS_TYPE=system" in _proc(app, pid, "environ"),
              "hostd's environment is not the launch helper's: %s" % env)
        status = _proc(app, pid, "status")
        check("\nUid:\t0\t0\t0\t0" in status, "hostd is not root:\n" + status)
        print("    activated hostd %s: ActiveVm %s"
              % (pid, out.decode().strip()))
    finally:
        run_ok(app, "dom0", "killall hostd 2>/dev/null; t=0; while pidof "
               "hostd pd-backend >/dev/null && [ $t -lt 40 ]; do sleep 0.5; "
               "t=$((t+1)); done; killall -9 hostd pd-backend 2>/dev/null; "
               "true", timeout=60)
    check(wait_until(lambda: not _hostd_pids(app), 20), "hostd still runs")
