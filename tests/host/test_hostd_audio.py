# SPDX-License-Identifier: GPL-2.0-only
"""A VM's sound on hostd's bus (hostd/bus_audio.c, docs/audio.md), on a
private bus of this machine with the real hostd (the AddressSanitizer/
UBSan build, --no-input --no-xen, so no pd-mixer: the machine's sound
cards are left alone) and tests/host/fake_polkit.py: Audio, Volume and
Muted read; Volume and Muted set by root without polkit and by another
user only when polkit grants org.paradice.switcher.volume; each bad Set
refused with its reason before polkit is asked. The mix itself:
tests/hostd/test_hostd_audio.py."""

import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_hostd_lifecycle import VM, call  # noqa: E402
from test_hostd_polkit import ERR, Session  # noqa: E402

from pdvm.testlib import artifact, check  # noqa: E402

MODE = "host"

CONF = """\
[audio]
output = 9

[guest work]
audio = PdGuest1

[guest play]
"""
# --no-xen: guest i (config order) is domain i+1; dom0's entry is vm/0
WORK = "/org/paradice/Switcher1/vm/1"
PLAY = "/org/paradice/Switcher1/vm/2"
HOST = "/org/paradice/Switcher1/vm/0"
PROPS = "org.freedesktop.DBus.Properties"


def call_out(s, path, prop):
    """The reply of a Get as root, as gdbus prints it."""
    r = subprocess.run(["gdbus", "call", "--system", "--dest",
                        "org.paradice.Switcher1", "--object-path", path,
                        "--method", PROPS + ".Get", VM, prop],
                       env=s.env, capture_output=True, text=True, timeout=30)
    check(r.returncode == 0, "Get %s: %s" % (prop, r.stderr))
    return r.stdout.strip()


def set_(s, path, prop, value, user=None):
    return call(s, path, PROPS + ".Set", VM, prop, value, user=user)


def test_volume_and_mute_read_and_set_as_root(app):
    """Every guest starts at Volume 100, not muted; Audio says which has
    a card mixed by hostd (work, not play; not dom0's entry). Root sets
    work's Volume to 50 and Muted to true without polkit (they read back,
    hostd logs them); 101, a string, another property, the Manager's
    properties and dom0's entry are refused with their reasons. hostd
    started no pd-mixer (--no-xen) and exits cleanly."""
    s = Session(conf=CONF)
    try:
        check(call_out(s, WORK, "Audio") == "(<true>,)", "work's Audio")
        check(call_out(s, PLAY, "Audio") == "(<false>,)", "play's Audio")
        check(call_out(s, HOST, "Audio") == "(<false>,)", "host's Audio")
        check(call_out(s, WORK, "Volume") == "(<uint32 100>,)",
              "work's Volume: %s" % call_out(s, WORK, "Volume"))
        check(call_out(s, WORK, "Muted") == "(<false>,)", "work's Muted")
        ok, _, err = set_(s, WORK, "Volume", "<uint32 50>")
        check(ok, "Set Volume 50: %s" % err)
        ok, _, err = set_(s, WORK, "Muted", "<true>")
        check(ok, "Set Muted: %s" % err)
        check(call_out(s, WORK, "Volume") == "(<uint32 50>,)",
              "work's Volume after the Set: %s" % call_out(s, WORK, "Volume"))
        check(call_out(s, WORK, "Muted") == "(<true>,)", "Muted after Set")
        check(call_out(s, PLAY, "Volume") == "(<uint32 100>,)",
              "play's Volume changed with work's")
        bad = [(WORK, "Volume", "<uint32 101>", "InvalidArgs",
                "Volume goes from 0 to 100"),
               (WORK, "Volume", "<'loud'>", "InvalidArgs", "Volume is a u"),
               (WORK, "Muted", "<uint32 1>", "InvalidArgs", "Muted is a b"),
               (WORK, "Name", "<'x'>", "PropertyReadOnly",
                "only a VM's Volume and Muted"),
               (HOST, "Volume", "<uint32 5>", ERR + "NotAvailable",
                "host (dom0) has no volume")]
        for path, prop, value, name, why in bad:
            ok, got, err = set_(s, path, prop, value)
            check(not ok and got.endswith(name) and why in err,
                  "Set %s %s on %s: %s" % (prop, value, path, err))
        ok, got, err = call(s, "/org/paradice/Switcher1", PROPS + ".Set",
                            "org.paradice.Switcher1.Manager", "ActiveVm",
                            "<objectpath '/'>")
        check(not ok and "read-only" in err, "Set of ActiveVm: %s" % err)
        check(not s.calls(), "polkit was asked for root: %r" % s.calls())
        log = s.hostd_log()
        check("audio: work's volume 50 (was 100)" in log and
              "audio: work muted" in log, "hostd's log:\n%s" % log)
        check("pd-mixer" not in log, "hostd started pd-mixer with --no-xen:"
              "\n%s" % log)
        s.stop_hostd()
    finally:
        s.close()


def test_another_user_sets_a_volume_when_polkit_says_so(app):
    """From user nobody: polkit's no (action org.paradice.switcher.volume)
    is Error.Refused and the volume stays; its yes sets it. A bad value is
    refused before polkit is asked."""
    s = Session(conf=CONF)
    try:
        s.policy("no")
        ok, name, err = set_(s, WORK, "Volume", "<uint32 20>", user="nobody")
        check(not ok and name == ERR + "Refused", "refused Set: %s" % err)
        check(call_out(s, WORK, "Volume") == "(<uint32 100>,)",
              "the volume changed though polkit said no")
        check([c["action"] for c in s.calls()] ==
              ["org.paradice.switcher.volume"], "polkit asked %r"
              % s.calls())
        ok, name, err = set_(s, WORK, "Volume", "<uint32 200>", user="nobody")
        check(not ok and "from 0 to 100" in err and len(s.calls()) == 1,
              "a bad value went to polkit: %s %r" % (err, s.calls()))
        s.policy("yes")
        ok, name, err = set_(s, WORK, "Volume", "<uint32 20>", user="nobody")
        check(ok, "granted Set: %s" % err)
        check(call_out(s, WORK, "Volume") == "(<uint32 20>,)",
              "Volume after a granted Set: %s" % call_out(s, WORK, "Volume"))
        s.stop_hostd()
    finally:
        s.close()


def test_switcher_window_shows_and_sets_a_guests_mute(app):
    """switcher-ui's window shows a volume button and a mute toggle in the
    row of a guest hostd mixes (work), none in the others' (play, dom0's
    entry); clicking work's mute toggle sets its Muted (hostd logs it),
    and a Volume set elsewhere is followed by the window (the app does
    not set it back)."""
    from test_switcher_ui import Session as UiSession
    s = UiSession(conf=CONF)
    try:
        s.start_x()
        ui = s.start_app("--window")
        wid = []
        s.wait_for(lambda: wid.extend(subprocess.run(
            ["xdotool", "search", "--name", "^Paradice$"], env=s.xenv(),
            capture_output=True, text=True).stdout.split()) or wid,
            "the switcher window", timeout=90)
        time.sleep(2)
        geo = subprocess.run(["xdotool", "getwindowgeometry", wid[0]],
                             env=s.xenv(), capture_output=True,
                             text=True).stdout
        m = re.search(r"Position: (\d+),(\d+).*Geometry: (\d+)x(\d+)", geo,
                      re.S)
        check(m, "window geometry: %r" % geo)
        x, y, w, _ = map(int, m.groups())
        subprocess.run(["import", "-window", "root",
                        artifact("switcher-ui-volume.png")], env=s.xenv())
        # the rows are stacked from the top (12 px margin, 34 px buttons,
        # 6 apart): work's mute toggle is the last widget of the first row
        subprocess.run(["xdotool", "mousemove", str(x + w - 30),
                        str(y + 12 + 17), "click", "1"], env=s.xenv())
        env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=s.address)

        def prop(path, name):
            return subprocess.run(
                ["gdbus", "call", "--system", "--dest",
                 "org.paradice.Switcher1", "--object-path", path, "--method",
                 PROPS + ".Get", VM, name], env=env, capture_output=True,
                text=True, timeout=30).stdout.strip()
        s.wait_for(lambda: prop(WORK, "Muted") == "(<true>,)",
                   "work muted by a click in the window", timeout=30)
        check("audio: work muted" in s.hostd_log(), s.hostd_log())
        check(prop(PLAY, "Muted") == "(<false>,)", "play muted too")
        r = subprocess.run(["gdbus", "call", "--system", "--dest",
                            "org.paradice.Switcher1", "--object-path", WORK,
                            "--method", PROPS + ".Set", VM, "Volume",
                            "<uint32 30>"], env=env, capture_output=True,
                           text=True, timeout=30)
        check(r.returncode == 0, "Set Volume 30: %s" % r.stderr)
        time.sleep(2)
        check(prop(WORK, "Volume") == "(<uint32 30>,)",
              "the window set work's Volume back: %s" % prop(WORK, "Volume"))
        check("(was 30)" not in s.hostd_log(), "the window set the volume "
              "after hostd's change:\n%s" % s.hostd_log())
        s.check_alive(ui)
    finally:
        s.close()
