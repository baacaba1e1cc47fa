# SPDX-License-Identifier: GPL-2.0-only
"""What a guest's backend holds once hostd started it (docs/security.md):
its guest's own uid and gid (the config's backend_uid, by default
0x50440000 plus the guest's place), no supplementary groups, no
capabilities in any set, no_new_privs, a syscall filter, in every thread (the bounding set
and no_new_privs are per thread), as /proc/PID/status shows; and with that
its guest's devices still work, opened by hostd for it (PD_DISP_OPEN):
the card (a client paints, the screen shows it), a V4L2 capture stream,
sound byte for byte, across a restart of hostd too (the backend
reattaches as its own user and asks the new hostd).

hostd runs with the suite's own configuration (pdvm.xen.CONF: card,
vivid, uinput event0, snd-aloop for both guests); the module shares the
boot of test_xen_attack.py and test_xen_vm_switcher.py (which stops these
backends at its start) and stops hostd and its backends at its end."""

import re

from pdvm import xen
from pdvm.testlib import artifact, check, pixel, run_ok, wait_for

MODE = "xen"
GUESTS = 2
# one boot with test_xen_attack.py and test_xen_vm_switcher.py
GUEST_LAYERS = ("switcher", "camera", "audio")

UID_BASE = 0x50440000	# HOSTD_BACKEND_UID_BASE (hostd/config.h)
UIDS = {"guest1": UID_BASE, "guest2": UID_BASE + 1}
CAPS = ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")
# the monitor keeps KILL, SETGID, SETUID, SETPCAP and SYS_ADMIN only
MONITOR_CAPS = (1 << 5) | (1 << 6) | (1 << 7) | (1 << 8) | (1 << 21)


def _hostd_log(app):
    return run_ok(app, "dom0", "cat /var/log/hostd.log 2>/dev/null; true")


def _no_backends(app):
    return not run_ok(app, "dom0", "pidof pd-backend; true").strip()


def _hostd_up(app):
    """hostd with the suite's configuration and its own backends."""
    run_ok(app, "dom0", "t=0; while [ ! -e /run/pd-udev-settled ] && "
           "[ $t -lt 90 ]; do sleep 1; t=$((t+1)); done; "
           "(hostd >>/var/log/hostd.log 2>&1 &); true", timeout=120)
    wait_for("hostd ready", lambda: "ready:" in _hostd_log(app), timeout=90)


def _start(app):
    """The suite's backends ended; hostd starts its own, confined; each
    guest's frontend loaded and its nodes there."""
    if xen.backend_pid(app, "guest1") and "ready:" in _hostd_log(app) and \
            run_ok(app, "dom0", "pidof hostd; true").strip():
        return
    run_ok(app, "dom0", "killall hostd pd-backend 2>/dev/null; true")
    wait_for("the suite's backends to end", lambda: _no_backends(app),
             timeout=30)
    app.copy_in("dom0", xen.CONF.encode(), "/etc/paradice/paradice.conf")
    run_ok(app, "dom0", "rm -f /var/log/hostd.log")
    _hostd_up(app)
    for g in ("guest1", "guest2"):
        run_ok(app, g, "lsmod | grep -q '^pdfront ' || { modprobe -a drm "
               "videodev snd && insmod /lib/modules/$(uname -r)/updates/"
               "dkms/pdfront.ko; }", timeout=180)
    for g in ("guest1", "guest2"):
        wait_for("the forwarded nodes in %s" % g,
                 lambda: xen.nodes_up(app, g), timeout=90)


def _status(app, pid):
    """/proc/PID/status of every thread of pid: {tid: {field: value}}."""
    out = run_ok(app, "dom0", "for t in /proc/%s/task/*; do echo \"== "
                 "${t##*/}\"; cat $t/status; done" % pid)
    threads, cur = {}, None
    for line in out.splitlines():
        if line.startswith("== "):
            cur = threads.setdefault(line[3:], {})
        elif cur is not None and ":" in line:
            k, v = line.split(":", 1)
            cur[k] = v.strip()
    return threads


def test_each_backend_runs_as_its_own_user_with_nothing(app):
    """For each guest, its backend's server (the process that reads the
    guest's rings): Uid and Gid its guest's, all four of each; Groups
    empty; CapInh, CapPrm, CapEff, CapBnd, CapAmb 0; NoNewPrivs 1;
    Seccomp 2 (its syscall filter), in every one of its threads; the two
    guests' users differ. The monitor that forks the servers stays root
    (docs/security.md) with only the capabilities a server's confinement
    takes (KILL, SETGID, SETUID, SETPCAP, SYS_ADMIN)."""
    _start(app)
    for g in ("guest1", "guest2"):
        pid = wait_for("%s's backend" % g, lambda: xen.backend_pid(app, g),
                       timeout=60)
        wait_for("%s's backend confined" % g, lambda: _status(app, pid).get(
            pid, {}).get("Uid", "").split()[:1] == [str(UIDS[g])],
            timeout=30)
        threads = _status(app, pid)
        st = threads[pid]
        print("%s's backend %s (%d threads):\n%s" % (g, pid, len(threads),
              "\n".join("  %s:\t%s" % (k, st.get(k)) for k in (
                  "Uid", "Gid", "Groups") + CAPS + ("NoNewPrivs",
                                                    "Seccomp"))))
        for tid, t in threads.items():
            what = "%s's backend %s, thread %s" % (g, pid, tid)
            check(t["Uid"].split() == [str(UIDS[g])] * 4,
                  "%s: Uid %s" % (what, t["Uid"]))
            check(t["Gid"].split() == [str(UIDS[g])] * 4,
                  "%s: Gid %s" % (what, t["Gid"]))
            check(t.get("Groups", "") == "", "%s: Groups %s"
                  % (what, t.get("Groups")))
            for c in CAPS:
                check(int(t[c], 16) == 0, "%s: %s %s" % (what, c, t[c]))
            check(t["NoNewPrivs"] == "1", "%s: NoNewPrivs %s"
                  % (what, t["NoNewPrivs"]))
            check(t.get("Seccomp") == "2", "%s: Seccomp %s (2: a filter)"
                  % (what, t.get("Seccomp")))
        mon = run_ok(app, "dom0", "cat /run/paradice/backend-%s.monitor"
                     % g).strip()
        ms = _status(app, mon).get(mon, {})
        print("%s's monitor %s: Uid %s, CapEff %s, CapBnd %s" % (
            g, mon, ms.get("Uid"), ms.get("CapEff"), ms.get("CapBnd")))
        for c in ("CapPrm", "CapEff", "CapBnd"):
            check(int(ms[c], 16) == MONITOR_CAPS, "%s's monitor: %s %s, "
                  "not %x" % (g, c, ms[c], MONITOR_CAPS))
    log = _hostd_log(app)
    check(len(re.findall(r"confined: uid and gid \d+, no groups", log)) >= 2,
          "the backends did not log their confinement:\n%s" % log[-3000:])


def _refused_syscalls(app):
    """The kernel's lines for syscalls a filter refused (the backends'
    filter logs each: SECCOMP_FILTER_FLAG_LOG)."""
    return [l for l in run_ok(app, "dom0", "dmesg").splitlines()
            if "type=1326" in l]


def _paints(app, g, rgb):
    run_ok(app, g, "killall pd-kmsclient 2>/dev/null; (pd-kmsclient run "
           "/dev/dri/card0 %s 900 >/tmp/kms.log 2>&1 &); true" % rgb)
    try:
        wait_for("%s's colour painted" % g, lambda: "painted" in run_ok(
            app, g, "cat /tmp/kms.log"), timeout=60)
    except Exception:
        print("%s's client:\n%s\nhostd's log:\n%s\nrefused syscalls:\n%s"
              % (g, run_ok(app, g, "cat /tmp/kms.log"),
                 "\n".join(_hostd_log(app).splitlines()[-60:]),
                 "\n".join(_refused_syscalls(app))))
        raise


def _screen_is(app, name, rgb):
    shot = app.screendump(artifact(name))
    w, h, _ = shot
    got = pixel(shot, w // 2, h // 2)
    want = tuple(int(rgb[i:i + 2], 16) for i in (0, 2, 4))
    return all(abs(a - b) <= 16 for a, b in zip(got, want))


def test_confined_backends_serve_the_card_capture_and_sound(app):
    """The guests' devices, each opened by hostd for a confined backend:
    guest1 paints its card red (on the screen: it is in front), captures
    5 frames from vivid, and plays samples that dom0's snd-aloop receives
    byte for byte; hostd's log has an open of each and no refusal."""
    _start(app)
    _paints(app, "guest1", "ff0000")
    wait_for("guest1's red on the screen", lambda: _screen_is(
        app, "confine-guest1.png", "ff0000"), timeout=60)
    out = run_ok(app, "guest1", "v4l2-ctl -d /dev/video0 --stream-mmap "
                 "--stream-count=5 2>&1; echo exit=$?", timeout=120)
    check("exit=0" in out, "capture in guest1:\n%s" % out)
    xen.aplay_loopback(app, "guest1")
    log = _hostd_log(app)
    check("refused" not in "\n".join(
        l for l in log.splitlines() if "broker:" in l),
        "hostd refused an open:\n%s" % log[-3000:])
    check("did not open" not in log, "a backend's open failed:\n%s"
          % log[-3000:])
    refused = _refused_syscalls(app)
    print("syscalls the backends' filters refused: %d\n%s"
          % (len(refused), "\n".join(refused)))
    check(not any("pd-backend" in l for l in refused),
          "a backend's filter refused a syscall:\n%s" % "\n".join(refused))


def test_confined_backend_opens_through_a_new_hostd(app):
    """hostd restarts: each backend reattaches as its own user (the new
    hostd takes its uid as that guest's) and asks the new hostd for the
    files its guest opens: guest2 paints its card after the restart."""
    _start(app)
    n = len(_hostd_log(app).splitlines())
    run_ok(app, "dom0", "kill $(pidof hostd); t=0; while pidof hostd && "
           "[ $t -lt 20 ]; do sleep 1; t=$((t+1)); done; true", timeout=60)
    _hostd_up(app)
    wait_for("both backends reattached", lambda: len(re.findall(
        r"reattached to a new hostd", "\n".join(
            _hostd_log(app).splitlines()[n:]))) >= 2, timeout=60)
    run_ok(app, "guest2", "killall pd-kmsclient 2>/dev/null; true")
    _paints(app, "guest2", "0000ff")
    log = "\n".join(_hostd_log(app).splitlines()[n:])
    check("not our user" not in log and "neither our user" not in log,
          "the new hostd refused a backend:\n%s" % log)
    for g in ("guest1", "guest2"):
        pid = xen.backend_pid(app, g)
        check(pid and _status(app, pid)[pid]["Uid"].split()[0] ==
              str(UIDS[g]), "%s's backend after the restart" % g)


def test_confine_cleanup(app):
    """Stop the clients, hostd and its backends; the suite's config back."""
    for g in ("guest1", "guest2"):
        app.run(g, "killall pd-kmsclient v4l2-ctl; true")
    run_ok(app, "dom0", "killall hostd; sleep 2; killall pd-backend; true")
    wait_for("hostd's backends to end", lambda: _no_backends(app),
             timeout=30)
    app.copy_in("dom0", xen.CONF.encode(), "/etc/paradice/paradice.conf")
