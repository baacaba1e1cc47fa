# SPDX-License-Identifier: GPL-2.0-only
"""Helpers for the tests in the xen appliance (tests/xen/): the dom0
configuration, one pd-backend per guest, the frontend in each guest, and
what dom0 holds for the guests (files, grant mappings, grants)."""

from .testlib import wait_for, run_ok

DEVICES = "/dev/dri/card0 /dev/video0 /dev/input/event0"
# guest1 also gets snd-aloop's card (card 1 in dom0: snd-dummy is 0)
SOUND = "/dev/snd/controlC1 /dev/snd/pcmC1D0p"
CONF = """\
[guest guest1]
devices = %s %s

[guest guest2]
devices = %s
""" % (DEVICES, SOUND, DEVICES)

GUEST_NODES = ("/dev/dri/card0", "/dev/video0", "/dev/input/event0")


def backend_pid(app, guest):
    out = run_ok(app, "dom0", "cat /run/paradice/backend-%s.pid 2>/dev/null;"
                 " true" % guest).strip()
    return out if out.isdigit() and run_ok(
        app, "dom0", "[ -d /proc/%s ] && echo y; true" % out).strip() else None


def nodes_up(app, guest, nodes=GUEST_NODES):
    code, _, _ = app.run(guest, "for n in %s; do [ -c $n ] || exit 1; done"
                         % " ".join(nodes))
    return code == 0


# No hostd in these tests: the backends let their guests drive dom0's
# screen through its card (pd-backend --direct-display), as the tests of
# buffers moved into VRAM need; restart_backend(direct=False) gives a
# guest the default, a display kept to dom0.
DIRECT = ("guest1", "guest2")


def setup(app, guests=("guest1", "guest2"), conf=CONF, nodes=GUEST_NODES,
          direct=DIRECT):
    """Config in dom0 (conf), one backend per guest (if not running yet;
    with --direct-display for the guests in direct), the frontend loaded in
    each guest; waits for the forwarded nodes (the guest's paths of
    nodes)."""
    app.copy_in("dom0", conf.encode(), "/etc/paradice/paradice.conf")
    for g in guests:
        if not backend_pid(app, g):
            run_ok(app, "dom0", "(pd-backend --xen %s%s >>/var/log/pd-backend"
                   "-%s.log 2>&1 &); true" % (
                       g, " --direct-display" if g in direct else "", g))
    for g in guests:
        run_ok(app, g, "lsmod | grep -q '^pdfront ' || { modprobe -a drm "
               "videodev snd && insmod /usr/lib/modules/extra/pdfront.ko; }")
    for g in guests:
        wait_for("the forwarded nodes in %s" % g,
                 lambda: nodes_up(app, g, nodes))


def restart_backend(app, guest, direct):
    """guest's backend (its monitor and server) ended and started anew,
    with --direct-display or without; waits until guest is served again."""
    mon = run_ok(app, "dom0", "cat /run/paradice/backend-%s.monitor "
                 "2>/dev/null; true" % guest).strip()
    if mon.isdigit():
        run_ok(app, "dom0", "kill %s 2>/dev/null; true" % mon)
        wait_for("%s's old backend to end" % guest, lambda: run_ok(
            app, "dom0", "[ -d /proc/%s ] || echo gone; true" % mon).strip()
            == "gone", timeout=30)
    wait_for("no backend for %s" % guest, lambda: not backend_pid(
        app, guest), timeout=30)
    setup(app, guests=(guest,), direct=(guest,) if direct else ())
    wait_for("%s served again" % guest, lambda: "Connectors:" in run_ok(
        app, guest, "modetest -M bochs-drm -c 2>&1; true"), timeout=60)


def dom0_counts(app):
    """Open files and grant mappings that pd-backend processes hold in
    dom0, per process, and the domains Xen knows of (a domain whose pages
    dom0 still maps stays as a zombie)."""
    out = run_ok(app, "dom0", "for p in $(pidof pd-backend); do "
                 "echo \"$p $(ls /proc/$p/fd | wc -l) "
                 "$(grep -c /dev/xen/gntdev /proc/$p/maps)\"; done; "
                 "echo domains $(xl list | tail -n +2 | wc -l)")
    procs = {}
    domains = None
    for line in out.splitlines():
        f = line.split()
        if f[0] == "domains":
            domains = int(f[1])
        else:
            procs[f[0]] = (int(f[1]), int(f[2]))
    return procs, domains


def grants(app):
    """Grants dom0's helper (pdgrant) has made to guests and not ended:
    the pages of guests' mappings of forwarded files."""
    return int(run_ok(app, "dom0", "cat /sys/module/pdgrant/parameters/grants"))


def wait_grants(app, want, what, timeout=30):
    """Wait until dom0's grant count is want; returns it."""
    wait_for(what, lambda: grants(app) == want, timeout=timeout)
    return want
