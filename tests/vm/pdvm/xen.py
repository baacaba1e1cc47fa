# SPDX-License-Identifier: GPL-2.0-only
"""Helpers for the tests in the xen appliance (tests/xen/): the dom0
configuration, one pd-backend per guest, the frontend in each guest, what
dom0 holds for the guests (files, grant mappings, grants), and checks that
the PV and the PVH tests run in either guest."""

import random
import struct

from .testlib import artifact, check, pixel, wait_for, run_ok

DEVICES = "/dev/dri/card0 /dev/video0 /dev/input/event0"
# both guests also get snd-aloop's card (card 1 in dom0: snd-dummy is 0),
# used by one guest at a time: its device 0's playback (arrives on dom0's
# hw:1,1,0 capture) and capture (what dom0 plays on hw:1,1,0)
SOUND = "/dev/snd/controlC1 /dev/snd/pcmC1D0p /dev/snd/pcmC1D0c"
CONF = """\
[guest guest1]
devices = %s %s

[guest guest2]
devices = %s %s
""" % (DEVICES, SOUND, DEVICES, SOUND)

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
               "videodev snd && insmod "
               "/lib/modules/$(uname -r)/updates/dkms/pdfront.ko; }")
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


RED, GREEN = "ff0000", "00ff00"


def _colour(app, name):
    shot = app.screendump(artifact(name))
    return pixel(shot, 512, 384)


def dumb_buffer_on_screen(app, guest):
    """guest maps a 1024x768 dumb buffer of dom0's bochs card, fills it red
    and sets it on the CRTC: the screendump turns red. The mode set moves
    the buffer into VRAM (dom0 takes the pages back: PD_EV_UNMAP, the move
    waits until the guest has unmapped them); the guest fills it green
    through the same mapping (it faults, and maps the backend's copy in
    RAM) and the screen turns green. Checks 768 grants while shown from
    the copy and none after the program exits."""
    setup(app)
    before = grants(app)
    run_ok(app, guest, "rm -f /tmp/go /tmp/show.log; (pd-fwdtest dumb-show "
           "/dev/dri/card0 %s %s /tmp/go 600 >/tmp/show.log 2>&1 &); true"
           % (RED, GREEN))
    try:
        wait_for("%s's buffer shown" % guest, lambda: "shown" in run_ok(
            app, guest, "cat /tmp/show.log"), timeout=120)
        wait_for("red on screen", lambda: _colour(
            app, "xen-mmap-%s-red.png" % guest) == (255, 0, 0), timeout=60)
        shown = grants(app)
        run_ok(app, guest, "touch /tmp/go")
        log = wait_for("%s's refill" % guest, lambda: (
            lambda t: t if "refilled" in t else None)(run_ok(
                app, guest, "cat /tmp/show.log")), timeout=60)
        check("0 words differ" in log, log)
        wait_for("green on screen", lambda: _colour(
            app, "xen-mmap-%s-green.png" % guest) == (0, 255, 0), timeout=60)
        during = grants(app)
        copy = run_ok(app, "dom0", "grep -c 'served from a copy' "
                      "/var/log/pd-backend-%s.log; true" % guest).strip()
        print("%s: grants in dom0: %d before; %d once the buffer moved into "
              "VRAM (taken back); %d after the refill (VRAM cannot be "
              "granted: a copy in RAM, %s such mapping in the backend's log)"
              % (guest, before, shown, during, copy))
        check(during == before + 768, "%d grants for the 768-page buffer"
              % (during - before))
    finally:
        run_ok(app, guest, "killall pd-fwdtest 2>/dev/null; true")
    wait_grants(app, before, "the grants to end")
    print("%s: grants in dom0 after the program exited: %d" % (guest, before))


def aplay_loopback(app, guest):
    """aplay in guest writes random samples into its forwarded snd-aloop
    playback device (hw:0,0,0 in the guest: the forwarded card is its only
    one) while arecord in dom0 captures the loopback's other end natively:
    checks that the samples arrive byte for byte."""
    setup(app)
    rate = 8000
    rnd = random.Random(5)
    payload = bytes(rnd.getrandbits(8) for _ in range(rate * 2))
    data = payload + bytes(rate * 2)
    hdr = (b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVEfmt " +
           struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16) +
           b"data" + struct.pack("<I", len(data)))
    app.copy_in(guest, hdr + data, "/tmp/xt.wav")
    cards = run_ok(app, "dom0", "cat /proc/asound/cards")
    check("[Loopback" in cards and cards.split("[Loopback")[0]
          .rstrip().endswith("1"), "dom0's card 1 is not snd-aloop:\n%s"
          % cards)
    # arecord runs until aplay has drained, then 1 s more, however long
    # the guest took to start (on a loaded machine aplay's first samples
    # came over 7 s after arecord's start: a fixed 8 s capture missed them)
    run_ok(app, "dom0", "rm -f /tmp/xt-cap.wav; (arecord -D hw:1,1,0 -f "
           "S16_LE -c 1 -r %d --buffer-time=2000000 -d 120 /tmp/xt-cap.wav "
           ">/tmp/xt-arecord.log 2>&1 &); sleep 1" % rate)
    try:
        out = run_ok(app, guest, "aplay -D hw:0,0,0 --buffer-time=2000000 "
                     "/tmp/xt.wav 2>&1", timeout=120)
    finally:
        run_ok(app, "dom0", "sleep 1; kill -INT $(pidof arecord); true")
    wait_for("arecord to finish", lambda: not run_ok(
        app, "dom0", "pidof arecord; true").strip(), timeout=60)
    cap = app.copy_out("dom0", "/tmp/xt-cap.wav")[44:]
    check(cap.find(payload) >= 0, "the samples did not arrive whole "
          "(%d bytes captured); aplay said:\n%s" % (len(cap), out))


# -- hostd in dom0 with its own (confined) backends --------------------------

GDBUS = ("gdbus call --system --dest org.paradice.Switcher1 "
         "--object-path /org/paradice/Switcher1 "
         "--method org.paradice.Switcher1.Manager.")


def hostd_log(app):
    return run_ok(app, "dom0", "cat /var/log/hostd.log 2>/dev/null; true")


def no_backends(app):
    return not run_ok(app, "dom0", "pidof pd-backend; true").strip()


def hostd_start(app, conf, nodes=("/dev/dri/card0",)):
    """hostd with conf and its own backends (every backend running before
    ended first), its log in /var/log/hostd.log (a new one); each guest's
    frontend loaded and the guest's paths of nodes there."""
    run_ok(app, "dom0", "killall hostd pd-backend 2>/dev/null; true")
    wait_for("the earlier backends to end", lambda: no_backends(app),
             timeout=30)
    app.copy_in("dom0", conf.encode(), "/etc/paradice/paradice.conf")
    run_ok(app, "dom0", "rm -f /var/log/hostd.log; t=0; while [ ! -e "
           "/run/pd-udev-settled ] && [ $t -lt 90 ]; do sleep 1; "
           "t=$((t+1)); done; (hostd >/var/log/hostd.log 2>&1 &); true",
           timeout=120)
    wait_for("hostd ready", lambda: "ready:" in hostd_log(app), timeout=90)
    for g in ("guest1", "guest2"):
        run_ok(app, g, "lsmod | grep -q '^pdfront ' || { modprobe -a drm "
               "videodev snd && insmod /lib/modules/$(uname -r)/updates/"
               "dkms/pdfront.ko; }", timeout=180)
    for g in ("guest1", "guest2"):
        wait_for("the forwarded nodes in %s" % g,
                 lambda: nodes_up(app, g, nodes), timeout=90)


def hostd_stop(app):
    """hostd and its backends stopped; the suite's config (CONF) back."""
    run_ok(app, "dom0", "killall hostd; sleep 2; killall pd-backend; true")
    wait_for("hostd's backends to end", lambda: no_backends(app),
             timeout=30)
    app.copy_in("dom0", CONF.encode(), "/etc/paradice/paradice.conf")


def switch_to(app, vm):
    """SwitchTo vm over D-Bus in dom0 (as root: polkit not asked)."""
    run_ok(app, "dom0", GDBUS + "SwitchTo %s" % vm)


# -- a read-only disk of dom0 handed to a guest ------------------------------

def disk_attach(app, guest, name, mnt, vdev="xvdb"):
    """Dom0's read-only virtio disk with serial name (machine.py's
    LAYER_DISKS) attached to guest as a Xen virtual disk (xl block-attach:
    xl's hotplug script /etc/xen/scripts/block, blkback in dom0,
    xen-blkfront in the guest) and mounted read-only at mnt there (ext2,
    through the ext4 driver, which asks for crc32c at every mount). The
    guest layer carries the modules (the camera layer): loaded here in
    modules.dep's order."""
    # locking.sh in xl's block script stats /dev/stdin, which a system
    # has and devtmpfs does not: without it the script waits forever
    run_ok(app, "dom0", "modprobe -a virtio_blk xen-blkback; for i in 0 1 2;"
           " do n=$(echo stdin stdout stderr | cut -d' ' -f$((i+1))); [ -e "
           "/dev/$n ] || ln -s /proc/self/fd/$i /dev/$n; done")
    dev = wait_for("dom0's disk %s" % name, lambda: run_ok(
        app, "dom0", "for d in /sys/block/vd*; do [ \"$(cat $d/serial "
        "2>/dev/null)\" = %s ] && echo /dev/${d##*/}; done; true"
        % name).strip() or None, timeout=30)
    run_ok(app, "dom0", "xl block-attach %s 'format=raw,vdev=%s,access=ro,"
           "target=%s'" % (guest, vdev, dev), timeout=120)
    mods = "/lib/modules/$(uname -r)/kernel"
    run_ok(app, guest, "for m in drivers/block/xen-blkfront "
           "crypto/crc32c_generic lib/crc16 "
           "fs/mbcache fs/jbd2/jbd2 fs/ext4/ext4; do n=${m##*/}; lsmod | "
           "grep -q \"^$(echo $n | tr - _) \" || insmod %s/$m.ko || exit 1; "
           "done" % mods, timeout=60)
    wait_for("%s's /dev/%s" % (guest, vdev), lambda: app.run(
        guest, "test -b /dev/%s" % vdev)[0] == 0, timeout=60)
    run_ok(app, guest, "mkdir -p %s && mount -t ext4 -o ro /dev/%s %s"
           % (mnt, vdev, mnt))
    return dev


def disk_detach(app, guest, mnt, vdev="xvdb"):
    """Undo disk_attach(): unmounted in the guest, detached in dom0."""
    app.run(guest, "umount %s" % mnt)
    app.run("dom0", "xl block-detach %s %s" % (guest, vdev), timeout=120)
