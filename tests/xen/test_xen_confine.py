# SPDX-License-Identifier: GPL-2.0-only
"""What a guest's backend holds once hostd started it (docs/security.md):
its guest's own uid and gid (the config's backend_uid, by default
0x50440000 plus the guest's place), no supplementary groups, no
capabilities in any set, no_new_privs, a syscall filter, in every thread (the bounding set
and no_new_privs are per thread), as /proc/PID/status shows; and with that
its guest's devices still work, opened by hostd for it (PD_DISP_OPEN):
the card (a client paints, the screen shows it), a V4L2 capture stream,
sound byte for byte, across a restart of hostd too (the backend
reattaches as its own user and asks the new hostd). And nothing of an
attacking guest stays in dom0 once it is destroyed (grants, processes,
descriptors, memory); it is then created again for the modules after.

hostd runs with the suite's own configuration (pdvm.xen.CONF: card,
vivid, uinput event0, snd-aloop for both guests); the module shares the
boot of test_xen_attack.py and test_xen_vm_switcher.py (which stops these
backends at its start) and stops hostd and its backends at its end."""

import re
import time

from pdvm import xen
from pdvm.testlib import (artifact, check, pixel, run_ok, wait_for,
                           wait_until)

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


def _dom0_state(app):
    """What dom0 holds, for the leak check: {grants, hostd's descriptors,
    the system's open files (file-nr), MemAvailable in KiB, pd-backend
    processes by their --xen argument (hostd gives the domain id)}."""
    out = run_ok(app, "dom0", "cat /sys/module/pdgrant/parameters/grants; "
                 "ls /proc/$(pidof hostd)/fd | wc -l; cut -f1 "
                 "/proc/sys/fs/file-nr; grep MemAvailable /proc/meminfo; "
                 "for p in $(pidof pd-backend); do echo \"backend $p $(tr "
                 "'\\0' ' ' </proc/$p/cmdline)\"; done").splitlines()
    procs = {}
    for line in out[4:]:
        f = line.split()
        if "--xen" in f[:-1]:
            procs.setdefault(f[f.index("--xen") + 1], []).append(f[1])
    return {"grants": int(out[0]), "hostd_fds": int(out[1]),
            "files": int(out[2]), "avail": int(out[3].split()[1]),
            "procs": procs}


def _hostd_fds(app):
    """What hostd's descriptors are, sorted, without inode and device
    numbers ("socket:", "/dev/input/event", "anon_inode:[pidfd]": a
    guest created again may get input devices of other numbers)."""
    out = run_ok(app, "dom0", "for f in /proc/$(pidof hostd)/fd/*; do "
                 "readlink $f; done")
    return sorted(re.sub(r"\[\d+\]$|\d+$", "", line)
                  for line in out.split())


def _pdgrant_waiters(app):
    return run_ok(app, "dom0", "grep -l pdg_ /proc/[0-9]*/stack "
                  "2>/dev/null; true").strip()


def test_destroyed_attacker_leaves_nothing_in_dom0(app):
    """guest1 attacks its confined backend and holds what it got: 64 dumb
    buffers of 64 pages mapped and written (4096 pages granted to it),
    every grant it can guess mapped through gntdev (never unmapped),
    200 reads of its input device waiting (a ring of them in dom0's
    driver). Then `xl destroy guest1`: its backend (monitor and
    server) ends, no dom0 thread waits in pdgrant, Xen forgets the
    domain (no zombie), dom0's grant count is back to what it was
    before the attack, dom0's open files and available memory are no
    worse than before (64 files and 8 MiB of slack). guest1 is created
    again as the appliance does (xl create of its config): hostd starts
    its backend, it is served, and hostd holds the same descriptors as
    before the attack (by kind: the numbers of sockets and devices may
    change)."""
    # hostd anew, as the backends' parent: after a restart of hostd it
    # keeps a pidfd for each backend it adopted, which guest1's new
    # backend (its child) would not need
    run_ok(app, "dom0", "killall hostd pd-backend 2>/dev/null; true")
    wait_for("the backends to end", lambda: _no_backends(app), timeout=30)
    _start(app)
    # the earlier tests' clients end: their mappings would leave with
    # guest1 and make the baseline meaningless
    for g in ("guest1", "guest2"):
        run_ok(app, g, "killall pd-kmsclient v4l2-ctl aplay 2>/dev/null; "
               "true")
    wait_for("the earlier clients' grants to end", lambda: xen.grants(
        app) == 0, timeout=60)
    wait_for("guest1 served", lambda: "Connectors:" in run_ok(
        app, "guest1", "modetest -M bochs-drm -c 2>&1; true"), timeout=60)
    dom1 = run_ok(app, "dom0", "xl domid guest1").strip()
    dom2 = run_ok(app, "dom0", "xl domid guest2").strip()
    before = _dom0_state(app)
    fds = _hostd_fds(app)
    check(before["procs"].get(dom1), "no backend for guest1 (domain %s): "
          "%r" % (dom1, before))
    doms = run_ok(app, "dom0", "xl list | tail -n +2 | wc -l").strip()
    destroyed = False
    try:
        run_ok(app, "guest1", "(pd-attack grant-flood /dev/dri/card0 64 600 "
               ">/tmp/leak-flood.log 2>&1 &); true")
        flood = wait_for("guest1's buffers mapped", lambda: (
            lambda t: t if "holding" in t or "error" in t else None)(
                run_ok(app, "guest1", "cat /tmp/leak-flood.log")),
            timeout=300)
        check("none refused" in flood, "guest1's flood: " + flood)
        held = run_ok(app, "guest1", "(pd-attack hold-grants 8192 600 "
                      ">/tmp/leak-hold.log 2>&1 &); t=0; while ! grep -q "
                      "'held\\|error' /tmp/leak-hold.log && [ $t -lt 170 ];"
                      " do sleep 1; t=$((t+1)); done; cat /tmp/leak-hold.log",
                      timeout=200)
        check("held" in held and "held 0" not in held,
              "pd-attack mapped none of guest1's grants: " + held)
        # last: the waiting reads fill guest1's ring (its own requests
        # would wait behind them)
        run_ok(app, "guest1", "(pd-attack read-flood /dev/input/event0 200 "
               "600 >/tmp/leak-read.log 2>&1 &); true")
        wait_for("guest1's reads waiting", lambda: "waiting in" in run_ok(
            app, "guest1", "cat /tmp/leak-read.log"), timeout=60)
        during = _dom0_state(app)
        check(during["grants"] >= before["grants"] + 4096,
              "premise: guest1's 4096 pages not granted: %r" % during)
        run_ok(app, "dom0", "xl destroy guest1", timeout=120)
        destroyed = True
        wait_for("guest1's backend to end", lambda: not _dom0_state(
            app)["procs"].get(dom1) and not xen.backend_pid(app, "guest1"),
            timeout=60)
        wait_for("Xen to forget guest1", lambda: run_ok(
            app, "dom0", "xl list | tail -n +2 | wc -l").strip() ==
            str(int(doms) - 1), timeout=60)
        wait_until(lambda: _dom0_state(app)["grants"] == before["grants"],
                   timeout=60)
        after = _dom0_state(app)
        waiters = _pdgrant_waiters(app)
        print("%s; %s\nbefore:  %r\nduring:  %r\nafter:   %r" % (
            flood.strip().replace("\n", ", "), held.strip(), before,
            during, after))
        check(after["grants"] == before["grants"], "dom0's grants to "
              "guests: %d before the attack, %d 60 s after guest1's "
              "destruction" % (before["grants"], after["grants"]))
        check(not waiters, "dom0 threads in pdgrant: " + waiters)
        check(after["procs"].get(dom2) == before["procs"].get(dom2),
              "guest2's backend changed: %r -> %r" % (before["procs"],
                                                     after["procs"]))
        check(after["files"] <= before["files"] + 64, "dom0's open files: "
              "%d before the attack, %d after guest1's destruction"
              % (before["files"], after["files"]))
        check(after["avail"] >= before["avail"] - 8192, "dom0's available "
              "memory: %d KiB before the attack, %d after guest1's "
              "destruction" % (before["avail"], after["avail"]))
        zombies = run_ok(app, "dom0", "xl list | grep -c null; true").strip()
        check(zombies == "0", "a zombie domain remains:\n%s"
              % run_ok(app, "dom0", "xl list"))
    finally:
        # whatever happened, a fresh guest1 for the tests after this one
        if not destroyed:
            app.run("dom0", "xl destroy guest1", 120)
        _recreate_guest1(app)
        fds_again = wait_until(lambda: (lambda f: f if f == fds else None)(
            _hostd_fds(app)), timeout=30) or _hostd_fds(app)
        print("guest1 created again: %r\nhostd's descriptors: %d before, "
              "%d now; only before: %r; only now: %r" % (
                  _dom0_state(app), len(fds), len(fds_again),
                  [f for f in fds if f not in fds_again],
                  [f for f in fds_again if f not in fds]))
    check(fds_again == fds, "hostd's descriptors before the attack:\n%s\n"
          "once guest1 is served again:\n%s" % (fds, fds_again))


def _recreate_guest1(app):
    """guest1 created as the appliance's init does, its frontend loaded;
    hostd starts its backend; waits until it is served."""
    run_ok(app, "dom0", "xl create /etc/xen/guest1.cfg "
           ">/var/log/xen/create-guest1.log 2>&1", timeout=120)
    app.wait_guest("guest1", time.monotonic() + 180)
    run_ok(app, "guest1", "lsmod | grep -q '^pdfront ' || { modprobe -a drm "
           "videodev snd && insmod /lib/modules/$(uname -r)/updates/"
           "dkms/pdfront.ko; }", timeout=180)
    wait_for("the forwarded nodes in guest1", lambda: xen.nodes_up(
        app, "guest1"), timeout=90)
    wait_for("guest1 served again", lambda: "Connectors:" in run_ok(
        app, "guest1", "modetest -M bochs-drm -c 2>&1; true"), timeout=60)


def test_confine_cleanup(app):
    """Stop the clients, hostd and its backends; the suite's config back."""
    for g in ("guest1", "guest2"):
        app.run(g, "killall pd-kmsclient v4l2-ctl; true")
    run_ok(app, "dom0", "killall hostd; sleep 2; killall pd-backend; true")
    wait_for("hostd's backends to end", lambda: _no_backends(app),
             timeout=30)
    app.copy_in("dom0", xen.CONF.encode(), "/etc/paradice/paradice.conf")
