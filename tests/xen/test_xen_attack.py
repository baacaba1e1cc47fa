# SPDX-License-Identifier: GPL-2.0-only
"""A hostile guest against dom0's limits: guest1 runs tests/xen/pd-attack
(never installed by a package) with small limits in its section of
paradice.conf; guest2 keeps the defaults and must not notice. Each test
fails if its defence is removed:

- a guest that never unmaps grants it guessed and mapped through gntdev
  does not hold dom0: its backend's exit ends within the grace period
  (pdgrant revokes the grants, keeping the pages until the guest lets go),
  no dom0 thread is left waiting (/proc/*/stack), guest2 still works, and
  the grants end once the attacker unmaps;
- grant exhaustion: the backend refuses pages past the guest's
  max_grants (ENOSPC to the guest's mmap or fault, a log line naming the
  guest and the limit in dom0) and pdgrant refuses past its global cap;
- a memory flood: GEM buffers past max_objects get ENOSPC;
- open/close churn: the handle table does not grow;
- guessing global GEM names, ioctls off the list, a flood of reads that
  wait in dom0's driver: refused or contained;
- a rogue frontend (tests/xen/pd-rogue-front, guest1's pdfront unbound)
  writes forged ring slots and requests: each is dropped or refused.

During the attacks that load dom0 (never unmapping, grant exhaustion, the
rogue frontend's floods, the read flood, the GEM flood, churn) guest2
plays a stream into its own forwarded sound card, and each test checks
it was not stalled (_guest2_streams). Nothing left in dom0 once the
attacker is destroyed: test_xen_confine.py (under hostd, whose
descriptors it counts too)."""

import contextlib
import re
import time

from pdvm import xen
from pdvm.testlib import check, run_ok, wait_for, wait_until

MODE = "xen"
GUESTS = 2
# one boot for the suite: test_xen_vm_switcher.py's guests need it
GUEST_LAYERS = ("switcher", "camera", "audio")

MAX_GRANTS = 1024
MAX_OBJECTS = 100
ATTACK_CONF = xen.CONF.replace(
    "[guest guest2]",
    "max_grants = %d\nmax_objects = %d\n\n[guest guest2]"
    % (MAX_GRANTS, MAX_OBJECTS))
MARK = "/run/paradice/attack-conf"
LOG = "/var/log/pd-backend-guest1.log"


def _restart_guest1(app, conf, mark):
    """guest1's backend anew with conf (limits are read at its start)."""
    mon = run_ok(app, "dom0", "cat /run/paradice/backend-guest1.monitor "
                 "2>/dev/null; true").strip()
    if mon.isdigit():
        run_ok(app, "dom0", "kill %s 2>/dev/null; true" % mon)
        wait_for("guest1's old backend to end", lambda: run_ok(
            app, "dom0", "[ -d /proc/%s ] || echo gone; true" % mon).strip()
            == "gone", timeout=30)
    wait_for("no backend for guest1", lambda: not xen.backend_pid(
        app, "guest1"), timeout=30)
    run_ok(app, "dom0", "mkdir -p /run/paradice; rm -f %s; %s"
           % (MARK, "touch %s" % MARK if mark else "true"))
    xen.setup(app, conf=conf)


def _attack_setup(app):
    """guest1's backend runs with ATTACK_CONF's limits."""
    if run_ok(app, "dom0", "[ -e %s ] && echo y; true" % MARK).strip() == "y" \
            and xen.backend_pid(app, "guest1"):
        xen.setup(app, conf=ATTACK_CONF)
    else:
        _restart_guest1(app, ATTACK_CONF, True)


def _log_lines(app):
    return int(run_ok(app, "dom0", "wc -l < %s" % LOG).strip())


def _log_since(app, n):
    return run_ok(app, "dom0", "tail -n +%d %s" % (n + 1, LOG))


RATE = 8000
# dom0's snd-aloop (card 1) playback substreams: guest2's hw:0,0,0
PCM_STATUS = "/proc/asound/card1/pcm0p/sub*/status"


def _play_pos(app):
    """dom0's view of the playback substream a guest's backend holds open:
    (uptime, state, hw_ptr), or None if none is open."""
    out = run_ok(app, "dom0", "cut -d' ' -f1 /proc/uptime; for f in %s; do "
                 "grep -q owner_pid $f && grep -E '^(state|hw_ptr)' $f; "
                 "done; true" % PCM_STATUS).split("\n")
    state = re.search(r"^state: (\w+)", "\n".join(out), re.M)
    ptr = re.search(r"^hw_ptr\s*: (\d+)", "\n".join(out), re.M)
    if not state or not ptr:
        return None
    return float(out[0]), state.group(1), int(ptr.group(1))


def _underruns(app):
    """aplay's underruns in guest2 so far: (how many, their ms in all)."""
    ms = [float(x) for x in re.findall(
        r"underrun!!! \(at least ([\d.]+) ms long\)",
        run_ok(app, "guest2", "cat /tmp/g2play.log 2>/dev/null; true"))]
    return len(ms), sum(ms)


@contextlib.contextmanager
def _guest2_streams(app, what):
    """guest2 plays a stream (silence, 8 kHz, a 2 s buffer) into its
    forwarded snd-aloop card while the body attacks from guest1, and the
    stream must not stall: dom0's device takes its samples at 3 s before
    the attack (the baseline, at least half the rate); during the attack
    aplay's underruns add up to at most a quarter of the attack's time
    (or 2 s: TCG), without one the device took at least half as many
    samples a second as at the baseline, and at the end the stream still
    runs. A stalled backend of guest2 (or a dom0 thread it waits on) would
    leave dom0's substream in XRUN and aplay blocked."""
    run_ok(app, "guest2", "killall aplay 2>/dev/null; rm -f /tmp/g2play.log;"
           " (aplay -D hw:0,0,0 -t raw -f S16_LE -c 1 -r %d "
           "--buffer-time=2000000 /dev/zero >/tmp/g2play.log 2>&1 &); true"
           % RATE)

    def running():
        p = _play_pos(app)
        return p if p and p[1] == "RUNNING" else None
    try:
        p0 = wait_for("guest2's stream running in dom0", running, timeout=60)
        time.sleep(3)
        p1 = wait_for("guest2's stream at its baseline", running, timeout=15)
        u1 = _underruns(app)
        base = (p1[2] - p0[2]) / (p1[0] - p0[0])
        check(base >= RATE / 2, "premise: guest2's stream ran at %.0f "
              "samples/s before the attack (%s; %s)" % (
                  base, u1, run_ok(app, "guest2", "cat /tmp/g2play.log")))
        yield
        p2 = wait_for("guest2's stream still running after %s" % what,
                      running, timeout=15)
        u2 = _underruns(app)
        alive = run_ok(app, "guest2", "pidof aplay; true").strip()
    finally:
        log = run_ok(app, "guest2", "killall aplay 2>/dev/null; "
                     "cat /tmp/g2play.log 2>/dev/null; true")
    secs = p2[0] - p1[0]
    stalls, stalled = u2[0] - u1[0], u2[1] - u1[1]
    rate = (p2[2] - p1[2]) / secs if not stalls else None
    print("guest2's stream during %s: %.1f s, %d underruns (%.0f ms), %s "
          "samples/s (baseline %.0f)" % (
              what, secs, stalls, stalled,
              "%.0f" % rate if rate is not None else "-", base))
    check(alive, "guest2's aplay ended during %s:\n%s" % (what, log))
    check(stalled <= max(2000, 250 * secs), "guest2's stream stalled %.0f "
          "ms of %.1f s during %s:\n%s" % (stalled, secs, what, log))
    check(rate is None or rate >= base / 2, "guest2's stream slowed to "
          "%.0f samples/s (baseline %.0f) during %s" % (rate, base, what))


def test_xen_attack_never_unmapping_does_not_hold_dom0(app):
    """guest1 streams from vivid (its capture buffers granted to it), and
    pd-attack maps every grant dom0 gave guest1 through gntdev and never
    lets go. Its backend is killed: its exit zaps the granted range, the
    helper closes the connection at once and, the guest not obeying,
    revokes the grants 3 s later. Checked: the old server is gone within
    20 s, no dom0 thread sleeps in pdgrant, dom0's log says what was
    revoked, a new backend serves guest1, guest2 is served all along, and
    the grants end when the attacker exits."""
    _attack_setup(app)
    before = xen.grants(app)
    run_ok(app, "guest1", "(v4l2-ctl -d /dev/video0 --stream-mmap "
           "--stream-count=1000000 >/tmp/stream.log 2>&1 &) ; true")
    streaming = wait_for("guest1's buffers granted", lambda: (
        lambda n: n if n > before else None)(xen.grants(app)), timeout=60)
    run_ok(app, "guest1", "(pd-attack hold-grants 8192 600 >/tmp/hold.log "
           "2>&1 &) ; true")
    held = wait_for("pd-attack to hold the grants", lambda: (
        lambda t: t if "held" in t or "error" in t else None)(
            run_ok(app, "guest1", "cat /tmp/hold.log")), timeout=180)
    n = int(re.search(r"held (\d+)", held).group(1)) if "held" in held else 0
    check(n > 0, "pd-attack mapped none of guest1's grants: %s" % held)
    with _guest2_streams(app, "the never-unmapping attack"):
        try:
            old = xen.backend_pid(app, "guest1")
            t0 = time.monotonic()
            run_ok(app, "dom0", "kill -9 %s" % old)
            gone = wait_until(lambda: run_ok(
                app, "dom0", "[ -d /proc/%s ] || echo gone; true" % old).strip()
                == "gone", timeout=20)
            took = time.monotonic() - t0
            stacks = run_ok(app, "dom0", "grep -l pdg_ /proc/[0-9]*/stack "
                            "2>/dev/null; true").strip()
            check(gone, "guest1's killed backend %s still exists after 20 s "
                  "(stack: %s)" % (old, run_ok(app, "dom0", "cat /proc/%s/stack "
                                               "2>/dev/null; true" % old)))
            check(not stacks, "dom0 threads in pdgrant: %s" % stacks)
            msg = run_ok(app, "dom0", "dmesg | grep pdgrant | tail -4")
            check("revoked" in msg, "no revocation in dom0's log:\n" + msg)
            wait_for("a new backend for guest1", lambda: (
                lambda p: p and p != old)(xen.backend_pid(app, "guest1")),
                timeout=60)
            out = run_ok(app, "guest2", "modetest -M bochs-drm -c 2>&1; true")
            check("Connectors:" in out, "guest2 not served:\n" + out)
            deferred = xen.grants(app)
            print("grants: %d before, %d streaming, %d mapped by pd-attack; "
                  "killed backend gone after %.1f s; %d grants kept (pages held) "
                  "while pd-attack maps them\n%s" % (before, streaming, n, took,
                                                     deferred, msg.strip()))
        finally:
            run_ok(app, "guest1", "killall pd-attack v4l2-ctl 2>/dev/null; true")
    xen.wait_grants(app, before, "the revoked grants to end", timeout=60)
    wait_for("guest1 served again", lambda: "Connectors:" in run_ok(
        app, "guest1", "modetest -M bochs-drm -c 2>&1; true"), timeout=60)


def test_xen_attack_grant_exhaustion_refused(app):
    """pd-attack maps 32 dumb buffers of 64 pages and writes every page:
    past guest1's max_grants (1024) it is refused (a PV guest's frontend
    has every page granted at mmap, so the 17th mmap gets ENOSPC; a PVH
    guest's at the fault, SIGBUS; the frontend logs the backend's -28),
    dom0's log names the guest and the limit, and dom0 never grants guest1
    more than the limit. Then pdgrant's
    own global cap (max_grants parameter) set just above what is granted
    refuses the next map with a log line naming the domain."""
    _attack_setup(app)
    with _guest2_streams(app, "grant exhaustion"):
        before = xen.grants(app)
        n0 = _log_lines(app)
        out = run_ok(app, "guest1", "pd-attack grant-flood /dev/dri/card0 32",
                     timeout=300)
        log = _log_since(app, n0)
        dmesg = run_ok(app, "guest1", "dmesg | grep 'refused by the backend' "
                       "| tail -2; true")
        print("%s\n%s" % (out.strip(), dmesg.strip()))
        m = re.search(r"mapped (\d+) pages, refused at buffer (\d+)", out)
        check(m, "guest1 was never refused: " + out)
        check(int(m.group(1)) <= MAX_GRANTS, out)
        check("pd-backend[guest1]" in log and "the limit is %d (max_grants)"
              % MAX_GRANTS in log, "no refusal in dom0's log:\n" + log[-2000:])
        check("-28" in dmesg, "the guest did not see ENOSPC: " + dmesg)
        xen.wait_grants(app, before, "guest1's grants to end")

        # the global cap, in dom0's helper
        run_ok(app, "dom0", "echo %d > /sys/module/pdgrant/parameters/max_grants"
               % (before + 200))
        try:
            out = run_ok(app, "guest1", "pd-attack grant-flood /dev/dri/card0 8",
                         timeout=300)
            msg = run_ok(app, "dom0", "dmesg | grep 'grants refused' | tail -2")
        finally:
            run_ok(app, "dom0", "echo 0 > /sys/module/pdgrant/parameters/"
                   "max_grants")
        print("%s\n%s" % (out.strip(), msg.strip()))
        m = re.search(r"mapped (\d+) pages, refused at buffer (\d+)", out)
        check(m and int(m.group(1)) <= 200, "the global cap did not hold: " + out)
        check("the limit is %d (max_grants)" % (before + 200) in msg,
              "no refusal in pdgrant's log:\n" + msg)
        xen.wait_grants(app, before, "guest1's grants to end")


def test_xen_attack_rogue_frontend_forged_ring(app):
    """guest1 plays a hostile kernel: with pdfront unbound from the device,
    tests/xen/pd-rogue-front connects to guest1's backend as a frontend
    does (XenStore nodes, rings and a data area shared through gntalloc,
    two event channels) and writes forged ring slots and requests (its
    header lists them). Directories with a data area too large or grant
    references that do not exist are refused (the connection closes, a new
    server waits). A bad slot is dropped with a log line naming the
    guest and the slot's fields; a lying header, a forged handle, an
    unknown opcode, an MMAP where the file has no object or of 2^32 pages,
    a FAULT of a map never made, stale and unused handles and a second
    RELEASE get an errno; after each the backend still answers a
    valid request; 3200 requests each costing dom0 a log line are all
    answered but leave at most the guest's bound in dom0's log (200 lines,
    then 10 a second; the line after them says how many were held back);
    a producer index a ring ahead ends that connection and
    only it: a new server serves guest1 once pdfront is back, guest2 is
    served, no dom0 thread waits in pdgrant, and dom0's backends hold as
    many files and guest mappings as before."""
    _attack_setup(app)
    procs, _ = xen.dom0_counts(app)
    held = [sum(v[i] for v in procs.values()) for i in (0, 1)]
    n0 = _log_lines(app)
    # the frontend driver lets go of the device (its connections hold the
    # module, so unbinding, not unloading); the backend sees it Closed
    dev = run_ok(app, "guest1", "ls -d /sys/bus/xen/drivers/*/paradice-0"
                 ).strip()
    run_ok(app, "guest1", "echo paradice-0 > %s/unbind" % dev.rsplit("/", 1)[0])
    t0 = time.monotonic()
    with _guest2_streams(app, "the rogue frontend"):
        try:
            out = run_ok(app, "guest1", "pd-rogue-front 60", timeout=240)
        finally:
            run_ok(app, "guest1", "echo paradice-0 > %s/bind"
                   % dev.rsplit("/", 1)[0])
            xen.setup(app, conf=ATTACK_CONF)
    log = _log_since(app, n0)
    print(out)
    check("done" in out.splitlines(), "pd-rogue-front did not finish:\n"
          + out)
    check(re.search(r"^before-connect: reply -107$", out, re.M), out)
    check(re.search(r"^connect: reply \d+$", out, re.M), out)
    for step in ("slot-past-area", "slot-len-wraps", "slot-short",
                 "slot-id-lies"):
        check(("%s: no reply" % step) in out and ("%s: alive" % step) in out,
              "%s not dropped, or the backend stopped answering:\n%s"
              % (step, out))
    for step in ("bad-data-pages", "bad-ring-ref", "bad-dir-ref"):
        check(("%s: refused" % step) in out, "%s not refused:\n%s"
              % (step, out))
    check("header-len-lies: reply -22" in out, out)
    check("open: ok" in out and "release: reply 0" in out, out)
    for step in ("mmap-no-object", "mmap-huge", "fault-forged-map",
                 "handle-stale", "handle-unused", "release-again"):
        check(re.search(r"^%s: reply -\d+$" % step, out, re.M),
              "%s not refused:\n%s" % (step, out))
    for step in ("forged-handle", "unknown-op"):
        check(re.search(r"%s: reply -\d+" % step, out), out)
    for step in ("connect", "header-len-lies", "forged-handle",
                 "unknown-op", "forged-files", "overlapping"):
        check(("%s: alive" % step) in out, out)
    check("overlapping: first answered, second answered" in out, out)
    flood = re.search(r"^log-flood: (\d+) of (\d+) answered", out, re.M)
    check(flood and flood.group(1) == flood.group(2) and
          "log-flood: alive" in out, "the log flood was not all answered:\n"
          + out)
    secs = time.monotonic() - t0
    logged = log.count("malformed request header")
    print("log flood: %s requests, %d lines of them in dom0's log over "
          "%.0f s" % (flood.group(2), logged, secs))
    check(logged <= 200 + 10 * secs + 1 and logged < int(flood.group(2)),
          "the guest's flood reached dom0's log: %d lines in %.0f s"
          % (logged, secs))
    check(re.search(r"earlier lines held back: more than 10 a second",
                    log), "no line says how many were held back:\n%s"
          % log[-3000:])
    check("ring-overrun: connection ended" in out, out)
    for want in ("pd-backend[guest1]: bad slot (id ", "offset 65536, len 64",
                 "len 4294967295", "holds request", "malformed request "
                 "header", "frontend overran the request ring",
                 "frontend directory out of range", "cannot map the rings",
                 "cannot read the data directory"):
        check(want in log, "dom0's log lacks %r:\n%s" % (want, log[-3000:]))
    stacks = run_ok(app, "dom0", "grep -l pdg_ /proc/[0-9]*/stack "
                    "2>/dev/null; true").strip()
    check(not stacks, "dom0 threads in pdgrant: %s" % stacks)
    out2 = run_ok(app, "guest2", "modetest -M bochs-drm -c 2>&1; true")
    check("Connectors:" in out2, "guest2 not served:\n" + out2)
    wait_for("guest1 served again", lambda: "Connectors:" in run_ok(
        app, "guest1", "modetest -M bochs-drm -c 2>&1; true"), timeout=60)
    procs, _ = xen.dom0_counts(app)
    after = [sum(v[i] for v in procs.values()) for i in (0, 1)]
    check(after == held, "dom0's backends held %s files and guest mappings "
          "before the attack, %s after" % (held, after))


def test_xen_attack_flink_guessing_and_ioctls_off_the_list(app):
    """dom0 gives 4 dumb buffers of its card global names (pd-attack
    flink-hold, natively) and another native process opens them by
    guessing the names: the premise, any opener of the real card can.
    guest1, guessing the same names on its forwarded card, opens none
    (GEM_OPEN is off the list), cannot make names (GEM_FLINK), gets no
    handle to a framebuffer it did not make: guest2 holds one (ADDFB on
    dom0's card through its backend), which dom0's root natively gets a
    handle to by its id (GETFB and GETFB2: the premise), guest1 gets an
    errno for both, and for ids 1..256; an unknown DRM ioctl and a V4L2
    ioctl on its card are refused too; its card still works after."""
    _attack_setup(app)
    run_ok(app, "dom0", "(pd-attack flink-hold /dev/dri/card0 4 120 "
           ">/tmp/flink.log 2>&1 &); true")
    run_ok(app, "guest2", "(pd-attack make-fb /dev/dri/card0 120 "
           ">/tmp/fb.log 2>&1 &); true")
    try:
        made = wait_for("guest2's framebuffer", lambda: (
            lambda t: t if "fb " in t or "error" in t else None)(
                run_ok(app, "guest2", "cat /tmp/fb.log")), timeout=30)
        m = re.search(r"^fb (\d+)$", made, re.M)
        check(m, "guest2 could not make a framebuffer: " + made)
        fb_native = run_ok(app, "dom0", "pd-attack getfb /dev/dri/card0 %s"
                           % m.group(1)).strip()
        fb_guest = run_ok(app, "guest1", "pd-attack getfb /dev/dri/card0 %s"
                          % m.group(1)).strip()
        names = wait_for("dom0's named buffers", lambda: (
            lambda t: t if "holding" in t or "error" in t else None)(
                run_ok(app, "dom0", "cat /tmp/flink.log")), timeout=30)
        top = max([int(n) for n in re.findall(r"name (\d+)", names)] or [0])
        check(top, "dom0 could not name its buffers: " + names)
        native = run_ok(app, "dom0", "pd-attack flink-guess /dev/dri/card0 "
                        "%d" % top).strip()
        guest = run_ok(app, "guest1", "pd-attack flink-guess "
                       "/dev/dri/card0 %d" % top).strip()
        off = run_ok(app, "guest1", "pd-attack off-list /dev/dri/card0")
    finally:
        run_ok(app, "dom0", "killall pd-attack 2>/dev/null; true")
        run_ok(app, "guest2", "killall pd-attack 2>/dev/null; true")
    print("dom0: %s\nguest1: %s\n%s" % (native, guest, off.strip()))
    print("guest2's framebuffer %s: dom0 natively: %s; guest1: %s" % (
        m.group(1), fb_native.replace("\n", ", "),
        fb_guest.replace("\n", ", ")))
    check(fb_native.count("allowed (handle") == 2 and
          "(handle 0)" not in fb_native, "premise: dom0's root got no "
          "handle to guest2's framebuffer: " + fb_native)
    check("allowed" not in fb_guest and fb_guest.count("\n") == 1,
          "guest1 reached guest2's framebuffer: " + fb_guest)
    check(re.match(r"opened [1-9]\d* of", native),
          "premise: dom0 opened none of its own names: " + native)
    check(guest.startswith("opened 0 of"), "guest1 opened a global name: "
          + guest)
    check("allowed" not in off and off.count("\n") >= 4,
          "an ioctl off the list got through:\n" + off)
    out = run_ok(app, "guest1", "modetest -M bochs-drm -c 2>&1; true")
    check("Connectors:" in out, "guest1's card after it:\n" + out)


def test_xen_attack_read_flood_contained(app):
    """guest1 starts 600 reads of its forwarded input device (600 open
    files), which nobody types on: they wait in dom0, as many at once as
    the ring carries (128 requests), the rest in guest1's frontend; guest2 is
    served meanwhile: its card answers, its stream plays, and keys typed
    during the flood reach evtest in guest2. When the attacker is killed
    each read is cancelled (the ones still queued in the backend too): no
    backend thread is left waiting in the driver and guest1 is served
    again."""
    _attack_setup(app)
    pid = xen.backend_pid(app, "guest1")

    def in_read():
        # in the driver's read, or (its events pushed: ops.c read_real())
        # in poll(fd, 1, 100 ms) of the device for the guest's read
        return int(run_ok(app, "dom0", "n=0; for t in /proc/%s/task/*; do "
                          "if grep -q evdev_read $t/stack 2>/dev/null; then "
                          "n=$((n+1)); else set -- $(cat $t/syscall "
                          "2>/dev/null); [ \"$1 $3 $4\" = '7 0x1 0x64' ] && "
                          "n=$((n+1)); fi; done; echo $n" % pid))
    run_ok(app, "guest2", "rm -f /tmp/kbd.log; (evtest /dev/input/event0 "
           ">/tmp/kbd.log 2>&1 &); true")
    with _guest2_streams(app, "the read flood"):
        run_ok(app, "guest1", "(pd-attack read-flood /dev/input/event0 600 "
               "300 >/tmp/flood.log 2>&1 &); true")
        try:
            wait_for("the flood", lambda: "waiting in" in run_ok(
                app, "guest1", "cat /tmp/flood.log"), timeout=60)
            peak = wait_for("reads waiting in dom0", lambda: (
                lambda n: n if n >= 100 else None)(in_read()), timeout=120)
            tasks = int(run_ok(app, "dom0", "ls /proc/%s/task | wc -l"
                               % pid))
            out2 = run_ok(app, "guest2", "modetest -M bochs-drm -c 2>&1; "
                          "true")
            check("Connectors:" in out2, "guest2 not served during the "
                  "flood:\n" + out2)
            wait_for("evtest in guest2", lambda: "Testing" in run_ok(
                app, "guest2", "cat /tmp/kbd.log"))
            app.keys(["h", "i"])
            keys = wait_for("the keys in guest2 during the flood", lambda: (
                lambda k: k if len(k) >= 2 else None)(re.findall(
                    r"\((KEY_\w+)\), value 1", run_ok(
                        app, "guest2", "cat /tmp/kbd.log"))), timeout=30)
            check(keys == ["KEY_H", "KEY_I"], "guest2 saw %r" % keys)
        finally:
            run_ok(app, "guest1", "killall -9 pd-attack 2>/dev/null; true")
            run_ok(app, "guest2", "killall evtest 2>/dev/null; true")
    wait_for("no backend thread left in a read", lambda: in_read() == 0,
             timeout=60)
    print("%s; %d reads waiting in dom0 at once, the backend at %d "
          "threads" % (run_ok(app, "guest1", "cat /tmp/flood.log").strip(),
                       peak, tasks))
    check(tasks < 512, "the backend grew to %d threads" % tasks)
    wait_for("guest1 served again", lambda: "Connectors:" in run_ok(
        app, "guest1", "modetest -M bochs-drm -c 2>&1; true"), timeout=60)


def test_xen_attack_gem_flood_capped(app):
    """pd-attack creates 300 dumb buffers on one file: the 101st gets
    ENOSPC (guest1's max_objects is 100), dom0's log says why; closing the
    file gives them back (a second flood gets as many again)."""
    _attack_setup(app)
    n0 = _log_lines(app)
    with _guest2_streams(app, "the GEM flood"):
        first = run_ok(app, "guest1", "pd-attack gem-flood /dev/dri/card0 "
                       "300", timeout=300).strip()
        second = run_ok(app, "guest1", "pd-attack gem-flood /dev/dri/card0 "
                        "300", timeout=300).strip()
    log = _log_since(app, n0)
    print("%s\n%s" % (first, second))
    want = "created %d, then No space left on device" % MAX_OBJECTS
    check(first == want, "first flood: " + first)
    check(second == want, "second flood (after the close): " + second)
    check("the limit is %d (max_objects)" % MAX_OBJECTS in log,
          "no refusal in dom0's log:\n" + log[-2000:])


def test_xen_attack_open_close_churn_reuses_handles(app):
    """pd-attack opens and closes /dev/dri/card0 3000 times: the backend
    reuses the freed handle ids, so its table stays at its first 64 slots
    (without reuse it would have grown to 4096). Last test of the file:
    guest1's backend goes back to the shared configuration."""
    _attack_setup(app)
    n0 = _log_lines(app)
    try:
        with _guest2_streams(app, "the churn"):
            out = run_ok(app, "guest1", "pd-attack churn /dev/dri/card0 "
                         "3000", timeout=600).strip()
        log = _log_since(app, n0)
        sizes = [int(s) for s in re.findall(r"handle table: (\d+) slots",
                                            log)]
        print("%s; handle table growth during it: %s" % (out, sizes or
                                                         "none"))
        check(out == "churned 3000", out)
        check(all(s <= 64 for s in sizes), "the table grew: %s" % sizes)
    finally:
        _restart_guest1(app, xen.CONF, False)
