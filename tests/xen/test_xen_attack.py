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
- a rogue frontend (tests/xen/pd-rogue-front, guest1's pdfront unbound)
  writes forged ring slots and requests: each is dropped or refused."""

import re
import time

from pdvm import xen
from pdvm.testlib import check, run_ok, wait_for, wait_until

MODE = "xen"
GUESTS = 2
# one boot for the suite: test_xen_vm_switcher.py's guests need it
GUEST_LAYERS = ("switcher",)

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
    header lists them). A bad slot is dropped with a log line naming the
    guest and the slot's fields; a lying header, a forged handle and an
    unknown opcode get an errno; after each the backend still answers a
    valid request; a producer index a ring ahead ends that connection and
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
    check("header-len-lies: reply -22" in out, out)
    for step in ("forged-handle", "unknown-op"):
        check(re.search(r"%s: reply -\d+" % step, out), out)
    for step in ("connect", "header-len-lies", "forged-handle",
                 "unknown-op", "overlapping"):
        check(("%s: alive" % step) in out, out)
    check("overlapping: first answered, second answered" in out, out)
    check("ring-overrun: connection ended" in out, out)
    for want in ("pd-backend[guest1]: bad slot (id ", "offset 65536, len 64",
                 "len 4294967295", "holds request", "malformed request "
                 "header", "frontend overran the request ring"):
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


def test_xen_attack_gem_flood_capped(app):
    """pd-attack creates 300 dumb buffers on one file: the 101st gets
    ENOSPC (guest1's max_objects is 100), dom0's log says why; closing the
    file gives them back (a second flood gets as many again)."""
    _attack_setup(app)
    n0 = _log_lines(app)
    first = run_ok(app, "guest1", "pd-attack gem-flood /dev/dri/card0 300",
                   timeout=300).strip()
    second = run_ok(app, "guest1", "pd-attack gem-flood /dev/dri/card0 300",
                    timeout=300).strip()
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
        out = run_ok(app, "guest1", "pd-attack churn /dev/dri/card0 3000",
                     timeout=600).strip()
        log = _log_since(app, n0)
        sizes = [int(s) for s in re.findall(r"handle table: (\d+) slots",
                                            log)]
        print("%s; handle table growth during it: %s" % (out, sizes or
                                                         "none"))
        check(out == "churned 3000", out)
        check(all(s <= 64 for s in sizes), "the table grew: %s" % sizes)
    finally:
        _restart_guest1(app, xen.CONF, False)
