# SPDX-License-Identifier: GPL-2.0-only
"""evdev through the loop transport: a uinput keyboard's event node
forwarded beside the native one, compared in the same run."""

import time

from pdvm import fwd
from pdvm.testlib import check, run_ok

MODE = "plain"



def test_events_and_identity_identical(app):
    """A known sequence written to a uinput keyboard arrives with the same
    type, code, value and order through the forwarded eventN as through
    the native one (two blocking readers, one on each); EVIOCGVERSION,
    EVIOCGNAME, EVIOCGID, EVIOCGPHYS, EVIOCGPROP, every EVIOCGBIT and
    EVIOCGKEY answer the same."""
    try:
        native = fwd.start_keyboard(app, "PD forwarded kbd")
        node, = fwd.export(app, native)
        ids_n = run_ok(app, "plain", "pd-fwdtest evdev-ids %s" % native)
        ids_f = run_ok(app, "plain", "pd-fwdtest evdev-ids %s" % node)
        check("name 17 PD forwarded kbd" in ids_n, ids_n)
        check(ids_f == ids_n, "identity differs:\n--- native\n%s\n"
              "--- forwarded\n%s" % (ids_n, ids_f))
        run_ok(app, "plain", "(pd-fwdtest evdev-read %s 32 >/tmp/fwd-ev-n.txt "
               "2>&1 &); (pd-fwdtest evdev-read %s 32 >/tmp/fwd-ev-f.txt 2>&1 &)"
               "; sleep 2; touch /tmp/fwd-go" % (native, node))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            n = run_ok(app, "plain", "cat /tmp/fwd-ev-n.txt")
            f = run_ok(app, "plain", "cat /tmp/fwd-ev-f.txt")
            if n.count("\n") >= 32 and f.count("\n") >= 32:
                break
            time.sleep(1)
        check(n.count("\n") == 32, "native reader got:\n%s" % n)
        check("1 25 1\n0 0 0\n1 25 0\n" in n, "no KEY_P press and release "
              "in the native events:\n%s" % n)
        check(f == n, "events differ:\n--- native\n%s\n--- forwarded\n%s"
              % (n, f))
    finally:
        fwd.teardown(app, kill=("pd-fwdtest",))


def test_libinput_sees_a_keyboard(app):
    """udev's input_id tags the forwarded node ID_INPUT_KEYBOARD (from the
    capabilities/ attributes of its parent, copied from the real device)
    and `libinput list-devices` lists it as a keyboard."""
    try:
        native = fwd.start_keyboard(app, "PD libinput kbd")
        node, = fwd.export(app, native)
        run_ok(app, "plain", "udevadm settle -t 60", timeout=90)
        props = run_ok(app, "plain", "udevadm info %s" % node)
        check("ID_INPUT_KEYBOARD=1" in props, props)
        out = run_ok(app, "plain", "libinput list-devices", timeout=90)
        blocks = [b for b in out.split("\n\n") if "Kernel:" in b]
        mine = [b for b in blocks if "Kernel:           %s\n" % node in b + "\n"]
        check(mine, "libinput does not list %s:\n%s" % (node, out))
        check("PD libinput kbd" in mine[0] and
              "Capabilities:     keyboard" in mine[0],
              "libinput's view of %s:\n%s" % (node, mine[0]))
    finally:
        fwd.teardown(app, kill=("pd-fwdtest",))


def test_fasync_delivers_sigio(app):
    """O_ASYNC on a forwarded evdev file (fasync forwarded, the backend's
    SIGIO of the real file coming back as PD_EV_SIGIO): the program gets
    SIGIO when a key is pressed, and reads the key."""
    try:
        native = fwd.start_keyboard(app, "PD fasync kbd")
        node, = fwd.export(app, native)
        run_ok(app, "plain", "(pd-fwdtest fasync %s 30 >/tmp/fwd-fasync.txt "
               "2>&1 &); sleep 2" % node)
        early = run_ok(app, "plain", "cat /tmp/fwd-fasync.txt")
        check(early.strip() == "armed", "before any key: %r" % early)
        run_ok(app, "plain", "touch /tmp/fwd-go")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            out = run_ok(app, "plain", "cat /tmp/fwd-fasync.txt")
            if out.count("\n") >= 3 or "no sigio" in out:
                break
            time.sleep(0.5)
        check(out == "armed\nsigio\n1 25 1\n", "got:\n%s" % out)
    finally:
        fwd.teardown(app, kill=("pd-fwdtest",))
