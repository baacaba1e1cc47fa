# SPDX-License-Identifier: GPL-2.0-only
"""pd-guest-tools' udev rules (guest-tools/70-paradice.rules) on forwarded
files: the card and the render node are on the seat and the session's
(uaccess), the card may make a seat (master-of-seat), the forwarded input
device's parent pdinputN_M is on the seat (systemd's 71-seat.rules only
knows inputN parents), the event node itself gets no uaccess (as a real
keyboard's), and every forwarded node is marked ID_PARADICE=1 with a
/dev/paradice/ link. The rules are the ones pd-guest-tools installs
(/lib/udev/rules.d/70-paradice.rules), in the image since boot as in a
guest with the package installed."""

import os

from pdvm import fwd
from pdvm.testlib import check, run_ok

MODE = "plain"
TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))



def _info(app, what):
    return run_ok(app, "plain", "udevadm info %s" % what)


def _tags(info):
    for line in info.splitlines():
        if line.startswith("E: TAGS="):
            return set(t for t in line[8:].split(":") if t)
    return set()


def test_forwarded_devices_are_on_seat0(app):
    """With the rules, udev tags the forwarded card seat, master-of-seat
    and uaccess, the render node seat and uaccess, the forwarded keyboard's
    parent seat and its event node no uaccess; all are ID_PARADICE=1 with
    /dev/paradice/<name> links; the native keyboard is not marked."""
    with open(os.path.join(TOP, "guest-tools", "70-paradice.rules"), "rb") as f:
        check(app.copy_out("plain", "/lib/udev/rules.d/70-paradice.rules")
              == f.read(), "the image's 70-paradice.rules (pd-guest-tools') "
              "is not guest-tools/70-paradice.rules")
    try:
        run_ok(app, "plain", "t=0; until [ -e /run/pd-udev-settled ] || "
               "[ $t -gt 120 ]; do sleep 1; t=$((t+1)); done", timeout=150)
        native_kbd = fwd.start_keyboard(app, "PD seat kbd")
        paths = ["/dev/dri/card0", native_kbd]
        render = run_ok(app, "plain", "ls /dev/dri/renderD* 2>/dev/null | "
                        "head -n 1").strip()
        if render:
            paths.append(render)
        drm_nodes = ("ls /dev/dri /sys/class/drm | grep -E "
                     "'^(card|renderD)[0-9]+$' | sort -u")
        before = set(run_ok(app, "plain", drm_nodes).split())
        nodes = fwd.export(app, *paths)
        run_ok(app, "plain", "udevadm settle -t 60", timeout=90)
        card, event = nodes[0], nodes[1]
        # each forwarded DRM node is one node of the guest: a render node
        # brings no card of its own (kernel/front_drm.c hides it)
        after = set(run_ok(app, "plain", drm_nodes).split())
        want = {os.path.basename(n) for n in nodes if "/dri/" in n}
        check(after - before == want, "forwarding %s made %s in /dev/dri "
              "and /sys/class/drm (new: %s)" % (
                  " ".join(sorted(want)), " ".join(sorted(after)),
                  " ".join(sorted(after - before))))

        info = _info(app, card)
        check({"seat", "master-of-seat", "uaccess"} <= _tags(info) and
              "E: ID_PARADICE=1" in info and
              "/dev/paradice/%s" % os.path.basename(card) in info,
              "forwarded card %s:\n%s" % (card, info))
        if render:
            info = _info(app, nodes[2])
            check({"seat", "uaccess"} <= _tags(info) and
                  "E: ID_PARADICE=1" in info,
                  "forwarded render node %s:\n%s" % (nodes[2], info))

        info = _info(app, event)
        check("E: ID_PARADICE=1" in info and "uaccess" not in _tags(info) and
              "/dev/paradice/%s" % os.path.basename(event) in info,
              "forwarded event node %s:\n%s" % (event, info))
        path = run_ok(app, "plain", "udevadm info -q path %s" % event).strip()
        parent = os.path.dirname(path)
        check(os.path.basename(parent).startswith("pdinput") and
              "/paradice." in parent, "event node's parent: %s" % parent)
        info = _info(app, "-p " + parent)
        check("seat" in _tags(info), "forwarded keyboard's parent %s is on no "
              "seat:\n%s" % (parent, info))

        info = _info(app, native_kbd)
        check("ID_PARADICE" not in info, "native keyboard marked:\n" + info)
    finally:
        fwd.teardown(app, kill=("pd-fwdtest",))
