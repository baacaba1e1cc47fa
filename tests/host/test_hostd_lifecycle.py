# SPDX-License-Identifier: GPL-2.0-only
"""hostd's lifecycle methods (Manager.Start; Vm.Shutdown, Pause, Resume,
ForceOff) on a private bus of this machine, with the real hostd (the
AddressSanitizer/UBSan build, --no-input --no-xen) and
tests/host/fake_polkit.py: without Xen they say "Xen toolstack not
available" (never a crash or a hang), a state that does not fit is
Error.WrongState, and each method asks polkit for an action of its own,
whose "no" is Error.Refused. The same methods against real Xen domains:
tests/hostd/test_hostd_lifecycle.py."""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_hostd_polkit import ERR, MANAGER, Session  # noqa: E402

from pdvm.testlib import check  # noqa: E402

MODE = "host"

VM = "org.paradice.Switcher1.Vm"
# --no-xen: guest i (config order) is domain i+1; "play" is the second
PLAY = "/org/paradice/Switcher1/vm/2"


def call(s, path, method, *args, user=None):
    """gdbus call as root, or as user through setpriv; (ok, error name,
    message)."""
    cmd = ["gdbus", "call", "--system", "--dest", "org.paradice.Switcher1",
           "--object-path", path, "--method", method] + list(args)
    if user:
        cmd = ["setpriv", "--reuid=" + user, "--regid=nogroup",
               "--clear-groups"] + cmd
    r = subprocess.run(cmd, env=s.env, capture_output=True, text=True,
                       timeout=30, cwd="/")
    err = r.stderr.strip()
    name = ""
    if "GDBus.Error:" in err:
        name = err.split("GDBus.Error:", 1)[1].split(":", 1)[0]
    return r.returncode == 0, name, err


def test_lifecycle_without_xen_says_the_toolstack_is_not_available(app):
    """As root (polkit is not asked): Pause, Shutdown and ForceOff of a
    running VM are Error.NotAvailable "Xen toolstack not available";
    Resume of a running VM and Start of a running guest are
    Error.WrongState naming the state; Start of a name hostd does not
    know is Error.UnknownVm; Guests lists every configured guest; the
    VM's introspection has the new methods. hostd exits cleanly."""
    s = Session()
    try:
        for m in ("Pause", "Shutdown", "ForceOff"):
            ok, name, err = call(s, PLAY, "%s.%s" % (VM, m))
            check(not ok and name == ERR + "NotAvailable" and
                  "Xen toolstack not available" in err,
                  "%s without Xen: %s" % (m, err))
        ok, name, err = call(s, PLAY, VM + ".Resume")
        check(not ok and name == ERR + "WrongState" and
              "play cannot resume: it is running" in err,
              "Resume of a running VM: %s" % err)
        root = "/org/paradice/Switcher1"
        ok, name, err = call(s, root, MANAGER + ".Start", "play")
        check(not ok and name == ERR + "WrongState" and
              "play cannot start: it is running" in err,
              "Start of a running guest: %s" % err)
        ok, name, err = call(s, root, MANAGER + ".Start", "nosuchvm")
        check(not ok and name == ERR + "UnknownVm", "Start nosuchvm: %s" % err)
        r, _ = s.gdbus("--method", "org.freedesktop.DBus.Properties.Get",
                       MANAGER, "Guests")
        check(r.returncode == 0 and "['work', 'play']" in r.stdout,
              "Guests: %s %s" % (r.stdout, r.stderr))
        out = subprocess.run(["gdbus", "introspect", "--system", "--dest",
                              "org.paradice.Switcher1", "--object-path", PLAY],
                             env=s.env, capture_output=True, text=True,
                             timeout=30).stdout
        for m in ("Shutdown", "Pause", "Resume", "ForceOff"):
            check(m + "()" in out, "%s not in the VM's introspection:\n%s"
                  % (m, out))
        check(not s.calls(), "polkit was asked for root: %r" % s.calls())
        check("lifecycle:" not in s.hostd_log(),
              "hostd started a toolstack process without Xen:\n%s"
              % s.hostd_log())
        s.stop_hostd()
    finally:
        s.close()


def test_each_lifecycle_method_asks_polkit_its_own_action(app):
    """From user nobody: polkit's "no" is Error.Refused for every
    lifecycle method (and nothing is run); its "yes" lets the call
    through to the state check and the toolstack (here: NotAvailable, or
    WrongState for a Resume of a running VM). polkit is asked for
    org.paradice.switcher.vm-pause, vm-resume, vm-shutdown,
    vm-force-off and vm-start."""
    s = Session()
    try:
        root = "/org/paradice/Switcher1"
        calls = [(PLAY, VM + ".Pause", ()), (PLAY, VM + ".Resume", ()),
                 (PLAY, VM + ".Shutdown", ()), (PLAY, VM + ".ForceOff", ()),
                 (root, MANAGER + ".Start", ("play",))]
        s.policy("no")
        for path, m, args in calls:
            ok, name, err = call(s, path, m, *args, user="nobody")
            check(not ok and name == ERR + "Refused" and
                  "not authorized by polkit" in err,
                  "%s refused by polkit answered: %s" % (m, err))
        actions = [c["action"] for c in s.calls()]
        want = ["org.paradice.switcher.vm-" + a for a in
                ("pause", "resume", "shutdown", "force-off", "start")]
        check(actions == want, "polkit was asked %r, want %r"
              % (actions, want))
        s.policy("yes")
        expect = [ERR + "NotAvailable", ERR + "WrongState",
                  ERR + "NotAvailable", ERR + "NotAvailable",
                  ERR + "WrongState"]
        for (path, m, args), want_err in zip(calls, expect):
            ok, name, err = call(s, path, m, *args, user="nobody")
            check(not ok and name == want_err,
                  "%s granted by polkit answered %s (want %s)"
                  % (m, err, want_err))
        check(len(s.calls()) == 10, "polkit asked %d times" % len(s.calls()))
        print("polkit actions: %s" % json.dumps(sorted(set(want))))
        s.stop_hostd()
    finally:
        s.close()



def test_thumbnails_ask_their_own_action_and_host_has_no_lifecycle(app):
    """Thumbnails.GetThumbnail from user nobody asks polkit for
    org.paradice.switcher.thumbnail: "no" is Error.Refused, "yes" lets it
    through (here, without a card: NotAvailable, "no frame"). dom0's entry
    (/org/paradice/Switcher1/vm/0, Kind "host") has no thumbnail and no
    lifecycle: NotAvailable and Refused without asking polkit."""
    s = Session()
    try:
        root = "/org/paradice/Switcher1"
        thumb = "org.paradice.Switcher1.Thumbnails.GetThumbnail"
        s.policy("no")
        ok, name, err = call(s, root, thumb, "play", "64", "48",
                             user="nobody")
        check(not ok and name == ERR + "Refused", "refused: %s" % err)
        check([c["action"] for c in s.calls()] ==
              ["org.paradice.switcher.thumbnail"], "polkit was asked %r"
              % s.calls())
        s.policy("yes")
        ok, name, err = call(s, root, thumb, "play", "64", "48",
                             user="nobody")
        check(not ok and name == ERR + "NotAvailable" and
              "no frame of play" in err, "granted: %s" % err)
        n = len(s.calls())
        ok, name, err = call(s, root, thumb, "host", "64", "48",
                             user="nobody")
        check(not ok and name == ERR + "NotAvailable", "host: %s" % err)
        host = root + "/vm/0"
        r = subprocess.run(["gdbus", "call", "--system", "--dest",
                            "org.paradice.Switcher1", "--object-path", host,
                            "--method", "org.freedesktop.DBus.Properties.Get",
                            VM, "Kind"], env=s.env, capture_output=True,
                           text=True, timeout=30)
        check(r.returncode == 0 and "'host'" in r.stdout,
              "host's Kind: %s %s" % (r.stdout, r.stderr))
        for m in ("Pause", "Shutdown", "ForceOff", "Resume"):
            ok, name, err = call(s, host, "%s.%s" % (VM, m), user="nobody")
            check(not ok and name == ERR + "Refused" and "dom0 itself" in err,
                  "%s of host: %s" % (m, err))
        check(len(s.calls()) == n, "polkit was asked for host: %r"
              % s.calls()[n:])
        s.stop_hostd()
    finally:
        s.close()
