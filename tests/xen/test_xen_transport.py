# SPDX-License-Identifier: GPL-2.0-only
"""The Xen transport: two guests (guest1 PV, guest2 PVH) each load pdfront, connect over xenbus
to their own pd-backend in dom0 (rings and a data area in granted pages,
event channels both ways) and use dom0's real bochs card, vivid capture
device and keyboard; a backend that dies mid-request gives -EIO and its
successor serves again; a guest destroyed mid-request leaves nothing of it
in dom0.

The guests' nodes are the forwarded files themselves (/dev/dri/card0,
/dev/video0, /dev/input/event0): a guest has no devices of its own."""

import random
import re
import struct
import time

from pdvm import xen
from pdvm.testlib import wait_for as _wait, v4l2_comparable, TestFailure, check, run_ok

MODE = "xen"
GUESTS = 2
# one boot for the suite: test_xen_vm_switcher.py's guests need it
GUEST_LAYERS = ("switcher", "camera", "audio")

def test_xen_modetest_and_v4l2_identical_in_both_guests_at_once(app):
    """Both guests, at the same time, run modetest -M bochs-drm and
    v4l2-ctl --all 3 times each over their own Xen connection; every
    output is the same as dom0's native one (v4l2-ctl: up to what cannot
    be the same, see v4l2_comparable())."""
    xen.setup(app)
    native_drm = run_ok(app, "dom0", "modetest -M bochs-drm")
    native_v4l2 = run_ok(app, "dom0", "v4l2-ctl -d /dev/video0 --all")
    check("Connectors:" in native_drm and native_drm.count("\n") > 50,
          "native modetest printed too little:\n%s" % native_drm)
    check(native_v4l2.count("\n") > 100, "native v4l2-ctl too short")
    # (busybox's date has no %N: times come from /proc/uptime)
    loop = ("rm -rf /tmp/xt; mkdir /tmp/xt; cut -d\" \" -f1 /proc/uptime "
            ">/tmp/xt/t0; for i in 1 2 3; do modetest -M bochs-drm "
            ">/tmp/xt/m$i 2>&1; v4l2-ctl -d /dev/video0 --all >/tmp/xt/v$i "
            "2>&1; done; cut -d\" \" -f1 /proc/uptime >/tmp/xt/t1")
    for g in ("guest1", "guest2"):
        run_ok(app, g, "(sh -c '%s' >/dev/null 2>&1 &); true" % loop)
    for g in ("guest1", "guest2"):
        _wait("the loop in %s" % g, lambda: run_ok(
            app, g, "cat /tmp/xt/t1 2>/dev/null; true").strip(), timeout=400,
            step=2)
    for g in ("guest1", "guest2"):
        t = run_ok(app, g, "cat /tmp/xt/t0 /tmp/xt/t1").split()
        print("%s: 3 x (modetest + v4l2-ctl --all) in %.1f s, both guests "
              "running" % (g, float(t[1]) - float(t[0])))
        for i in range(1, 4):
            drm = run_ok(app, g, "cat /tmp/xt/m%d" % i)
            check(drm == native_drm, "%s: modetest run %d differs:\n--- dom0\n"
                  "%s\n--- %s\n%s" % (g, i, native_drm, g, drm))
            v4l2 = run_ok(app, g, "cat /tmp/xt/v%d" % i)
            check(v4l2_comparable(v4l2) == v4l2_comparable(native_v4l2),
                  "%s: v4l2-ctl run %d differs:\n--- dom0\n%s\n--- %s\n%s"
                  % (g, i, native_v4l2, g, v4l2))


def test_xen_ioctl_round_trips(app):
    """1000 DRM ioctls (VERSION, GET_CAP) through the Xen transport all
    succeed; prints the time, a measure of one round trip."""
    xen.setup(app)
    out = run_ok(app, "guest1", "pd-fwdtest drm-ioctls /dev/dri/card0 1000",
                 timeout=120)
    print("guest1:", out.strip())
    check(out.startswith("ok 2000 of 2000") or out.startswith("ok 1000 of 1000"),
          out)


def test_xen_card_without_hostd_keeps_the_display(app):
    """No hostd shows the guests here (each pd-backend runs without a
    display socket; guest2's without --direct-display): guest2 may query
    dom0's card but not drive its screen. modetest -s in guest2 is refused
    as a client that is not master is (EACCES), SET_MASTER as when another
    master holds the card (EBUSY), and guest2's backend logs why; without
    the guard the backend, root and the card's master, would set the mode
    on dom0's screen."""
    xen.setup(app)
    xen.restart_backend(app, "guest2", direct=False)
    try:
        _card_kept(app)
    finally:
        xen.restart_backend(app, "guest2", direct=True)


def _card_kept(app):
    conns = run_ok(app, "guest2", "modetest -M bochs-drm -c")
    m = re.search(r"^(\d+)\s+\d+\s+connected", conns, re.M)
    check(m, "no connected connector in guest2:\n%s" % conns)
    out = run_ok(app, "guest2", "modetest -M bochs-drm -s %s:1024x768 "
                 "</dev/null 2>&1; true" % m.group(1), timeout=60)
    check("Permission denied" in out, "modetest -s in guest2:\n%s" % out)
    out = run_ok(app, "guest2", "pd-fwdtest drm-master /dev/dri/card0")
    check("set_master -1 errno 16" in out and
          "drop_master -1 errno 22" in out, out)
    log = run_ok(app, "dom0", "cat /var/log/pd-backend-guest2.log")
    check(re.search(r"display ioctl 0x[0-9a-f]+ refused \(Permission "
                    r"denied\): no hostd", log), log[-2000:])


def test_xen_evdev_keys_reach_both_guests(app):
    """Keys typed on the emulated keyboard reach evtest in both guests
    through their forwarded /dev/input/event0 (blocking reads, poll events
    over the event ring), in order."""
    xen.setup(app)
    for g in ("guest1", "guest2"):
        run_ok(app, g, "rm -f /tmp/kbd.log; (evtest /dev/input/event0 "
               ">/tmp/kbd.log 2>&1 &); true")
    for g in ("guest1", "guest2"):
        _wait("evtest in %s" % g, lambda: "Testing" in run_ok(
            app, g, "cat /tmp/kbd.log"))
    app.keys(["h", "i", "shift-a"])
    try:
        for g in ("guest1", "guest2"):
            def pressed():
                log = run_ok(app, g, "cat /tmp/kbd.log")
                keys = re.findall(r"\((KEY_\w+)\), value 1", log)
                return keys if len(keys) >= 4 else None
            keys = _wait("keys in %s" % g, pressed, timeout=30)
            check(keys == ["KEY_H", "KEY_I", "KEY_LEFTSHIFT", "KEY_A"],
                  "%s saw %r" % (g, keys))
    finally:
        for g in ("guest1", "guest2"):
            run_ok(app, g, "killall evtest 2>/dev/null; true")


def test_xen_backend_killed_gives_eio_and_restart_serves(app):
    """SIGKILL of guest1's backend while a program in guest1 is blocked in
    a read of the forwarded keyboard: the read fails with EIO, the guest
    kernel stays healthy, the monitor starts a new backend, the frontend
    reconnects, and new opens work (modetest)."""
    xen.setup(app)
    run_ok(app, "guest1", "rm -f /tmp/eio.txt; (pd-fwdtest read-err "
           "/dev/input/event0 >/tmp/eio.txt 2>&1 &); sleep 2")
    old = xen.backend_pid(app, "guest1")
    check(old, "no backend for guest1")
    t0 = time.monotonic()
    run_ok(app, "dom0", "kill -9 %s" % old)
    out = _wait("the blocked read to fail", lambda: (lambda o: o if "errno"
                in o else None)(run_ok(app, "guest1", "cat /tmp/eio.txt")),
                timeout=30, step=0.2)
    t_eio = time.monotonic() - t0
    check("read -1 errno 5" in out, "the blocked read gave:\n%s" % out)
    new = _wait("a new backend", lambda: (lambda p: p if p and p != old
                else None)(xen.backend_pid(app, "guest1")))
    _wait("guest1 reconnected", lambda: "Connectors:" in run_ok(
        app, "guest1", "modetest -M bochs-drm -c 2>&1; true"), timeout=60)
    t_back = time.monotonic() - t0
    print("backend %s killed: EIO in the guest after %.1f s (as seen by the "
          "test through the agent), new backend %s serving after %.1f s"
          % (old, t_eio, new, t_back))
    dmesg = run_ok(app, "guest1", "dmesg | grep paradice")
    check(re.search(r"conn \d+ closed", dmesg) and
          dmesg.count("connected to domain 0") >= 2, dmesg)


def test_xen_aplay_into_forwarded_loopback_arrives_byte_identical(app):
    """aplay in guest1 writes random samples into its forwarded snd-aloop
    playback device (hw:0,0,0 in the guest: the forwarded card is its only
    one) while arecord in dom0 captures the loopback's other end natively:
    the samples arrive byte for byte (WRITEI transfers and SYNC_PTR over
    the rings; mmap is not there yet for Xen)."""
    xen.aplay_loopback(app, "guest1")


def test_xen_guest_destroyed_mid_request_leaves_nothing(app):
    """guest2 is destroyed while its programs are blocked in a read, busy
    with ioctls and streaming into mmap'ed capture buffers: its backend (monitor and server) ends, so no file,
    grant mapping or event channel of it stays open in dom0; Xen forgets
    the domain (no zombie held by a mapping); every grant of its
    mappings ends (dom0's grant count); guest1's backend is
    untouched. guest2 is then created again for the tests after this."""
    xen.setup(app)
    run_ok(app, "guest2", "(pd-fwdtest read-err /dev/input/event0 "
           ">/tmp/eio.txt 2>&1 &); (while :; do modetest -M bochs-drm "
           ">/dev/null 2>&1; done &); (v4l2-ctl -d /dev/video0 --stream-mmap "
           "--stream-count=1000000 >/dev/null 2>&1 &); sleep 2")
    grants_before = _wait("guest2's capture buffers mapped", lambda: (
        lambda n: n if n > 0 else None)(xen.grants(app)), timeout=60)
    before, doms_before = xen.dom0_counts(app)
    s1 = xen.backend_pid(app, "guest1")
    s2 = xen.backend_pid(app, "guest2")
    m2 = run_ok(app, "dom0", "cat /run/paradice/backend-guest2.monitor").strip()
    check(s2 in before and before[s2][1] > 0,
          "guest2's server holds no grant mapping: %r" % before)
    print("before: pd-backend (pid: fds, gntdev mappings) %r, %d domains"
          % (before, doms_before))
    run_ok(app, "dom0", "xl destroy guest2")
    _wait("guest2's backend to end", lambda: not run_ok(
        app, "dom0", "for p in %s %s; do [ -d /proc/$p ] && echo $p; done; "
        "true" % (s2, m2)).strip(), timeout=30)
    after, doms_after = _wait("Xen to forget guest2", lambda: (
        lambda c: c if c[1] == doms_before - 1 else None)(xen.dom0_counts(app)),
        timeout=30)
    _wait("guest2's grants to end", lambda: xen.grants(app) == 0,
          timeout=30)
    print("after:  pd-backend (pid: fds, gntdev mappings) %r, %d domains"
          % (after, doms_after))
    print("grants to guests in dom0: %d before, 0 after" % grants_before)
    check(s2 not in after and m2 not in after, "guest2's backend: %r" % after)
    check(after.get(s1) == before.get(s1),
          "guest1's server changed: %r -> %r" % (before.get(s1),
                                                 after.get(s1)))
    left = run_ok(app, "dom0", "xenstore-ls /local/domain/0/backend/paradice "
                  "2>/dev/null | grep -c '^ *[0-9]' ; true")
    zombies = run_ok(app, "dom0", "xl list | grep -c null; true").strip()
    check(zombies == "0", "a zombie domain remains:\n%s"
          % run_ok(app, "dom0", "xl list"))
    print("backend xenstore entries left: %s" % left.strip())
    # guest2 again, for whatever runs after this test
    run_ok(app, "dom0", "xl create /etc/xen/guest2.cfg "
           ">/var/log/xen/create-guest2.log 2>&1", timeout=120)
    app.wait_guest("guest2", time.monotonic() + 120)
