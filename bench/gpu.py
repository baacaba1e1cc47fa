# SPDX-License-Identifier: GPL-2.0-only
"""The 3D part of `make bench` (bench/run --mode gpu): glmark2-es2-drm
natively in dom0 on the virtio-gpu with virgl 3D, and in guest1 on the
same card forwarded through Paradice, in one appliance run.

dom0's pd-backend is started by hand, without hostd (as in the xen part of
the bench), so the guest's display ioctls run on the real card through the
backend's descriptor: the first opener of a card is its DRM master, and
nothing else in dom0 opens the virtio-gpu's card. glmark2 picks the largest
mode of the connector; the appliance gives that connector one 1920x1080
mode (machine.py, VIRGL_LINUX_ARGS).
"""

import os
import re
import statistics
import time

from pdvm.machine import BUILD, VmError

import openarena

# The layers `bench/run --mode gpu` boots with; the game's data layer is
# packed from Debian's files on the build machine (openarena.data_layer).
def layers(log=print):
    return ("bench3d", "game", openarena.data_layer(log))

# Scenes of glmark2's default set, each run for a fixed time, so that one
# glmark2 run takes the same wall time natively and in the guest. The
# score is glmark2's own: the mean of the scenes' frame rates.
GLMARK2_SCENES = [
    "build:use-vbo=true",
    "texture:texture-filter=linear",
    "shading:shading=phong",
    "bump:bump-render=high-poly",
    "effect2d:kernel=0,1,0;1,-4,1;0,1,0;",
    "pulsar:light=false:quads=5:texture=false",
    "desktop:effect=shadow:windows=4",
]
# glmark2 picks an EGL config with alpha by default, and the virtio-gpu's
# primary plane scans out XRGB8888 only (SETCRTC: "Invalid pixel format
# AR24"): ask for one without.
GLMARK2_ARGS = "--visual-config a=0"

GPU_CONF = """\
[guest guest1]
devices = %(card)s %(render)s
"""


def virtio_nodes(b):
    """dom0's card and render node of the virtio-gpu (the DRM device whose
    parent's virtio child is bound to virtio_gpu)."""
    out = b.sh("for d in /sys/class/drm/card? /sys/class/drm/renderD*; do "
               "drv=$(readlink $d/device/virtio*/driver 2>/dev/null); "
               "[ \"${drv##*/}\" = virtio_gpu ] && echo ${d##*/}; done; true",
               vm="dom0").split()
    cards = [n for n in out if n.startswith("card")]
    renders = [n for n in out if n.startswith("renderD")]
    if len(cards) != 1 or len(renders) != 1:
        raise VmError("dom0 has no single virtio_gpu card and render node: "
                      "%r (is the appliance booted with virgl?)" % out)
    return "/dev/dri/" + cards[0], "/dev/dri/" + renders[0]


def forward(b, card, render):
    """guest1 gets dom0's virtio-gpu card and render node through its own
    pd-backend; in guest1 they are /dev/dri/card0 and renderD128. No hostd:
    the guest drives the card's display itself (--direct-display), as the
    same programs do natively in dom0."""
    b.app.copy_in("dom0", (GPU_CONF % {"card": card, "render": render})
                  .encode(), "/etc/paradice/paradice.conf")
    b.sh("(pd-backend --xen guest1 --direct-display "
         ">/var/log/pd-backend-guest1.log 2>&1 &);"
         " true", vm="dom0")
    # PD_BENCH_PDFRONT_ARGS: module parameters for guest1's frontend, to
    # compare a feature off and on in the same session (pollstate=0: the
    # wire 1.4 behaviour of polls; async=0: 1.3)
    b.sh("modprobe -a drm videodev snd && insmod "
         "/lib/modules/$(uname -r)/updates/dkms/pdfront.ko %s; t=0; "
         "while [ ! -c /dev/dri/renderD128 ] && [ $t -lt 300 ]; do sleep 0.2; "
         "t=$((t+1)); done; [ -c /dev/dri/renderD128 ]"
         % os.environ.get("PD_BENCH_PDFRONT_ARGS", ""), vm="guest1")
    return "/dev/dri/card0"


def domain_seconds(b):
    """CPU seconds each Xen domain has used so far, by name (xl list's
    Time(s) column; dom0 is "Domain-0")."""
    res = {}
    for line in b.sh("xl list", vm="dom0").splitlines()[1:]:
        f = line.split()
        try:
            res[f[0]] = float(f[-1])
        except (IndexError, ValueError):
            pass
    return res


def dom0_seconds(b):
    """dom0's CPU seconds so far: "backend" (every pd-backend process,
    user + system), and /proc/stat's "user", "system" (with irq and
    softirq) of the whole domain."""
    out = b.sh("for p in $(pidof pd-backend); do cut -d')' -f2 /proc/$p/stat"
               " | cut -d' ' -f13,14; done; head -1 /proc/stat", vm="dom0")
    res = {"backend": 0.0, "backend user": 0.0}
    for line in out.splitlines():
        f = line.split()
        if f and f[0] == "cpu":
            v = [int(x) / 100.0 for x in f[1:8]]
            res["user"] = v[0] + v[1]
            res["system"] = v[2] + v[5] + v[6]
        elif len(f) == 2:
            res["backend"] += (int(f[0]) + int(f[1])) / 100.0
            res["backend user"] += int(f[0]) / 100.0
    return res


def glmark2(b, vm, card, duration):
    """One glmark2-es2-drm run on card; {"glmark2": (score, "score")}, and
    each scene's frame rate under its name; "cpu": glmark2's own CPU
    seconds (user + system, the shell's reaped children)."""
    cmd = "glmark2-es2-drm %s --winsys-options drm-device=%s %s 2>&1" % (
        GLMARK2_ARGS, card, " ".join(
            "-b '%s:duration=%g'" % (s, duration) for s in GLMARK2_SCENES))
    out = b.sh(cmd + "; echo; echo \"children $(cut -d')' -f2 /proc/$$/stat"
               " | cut -d' ' -f15,16)\"",
               timeout=120 + 20 * duration * len(GLMARK2_SCENES), vm=vm)
    res = {}
    c = re.search(r"^children (\d+) (\d+)", out, re.M)
    if c:
        res["cpu"] = ((int(c.group(1)) + int(c.group(2))) / 100.0, "s")
        res["cpu user"] = (int(c.group(1)) / 100.0, "s")
    m = re.search(r"glmark2 Score: (\d+)", out)
    if not m or "virgl" not in out or "Error" in out:
        raise VmError("%s: glmark2-es2-drm on %s did not run through: %s"
                      % (vm, card, out[-1500:]))
    res["glmark2"] = (float(m.group(1)), "score")
    for line in out.splitlines():
        s = re.match(r"\[(\w+)\].*FPS: (\d+)", line)
        if s:
            res["fps " + s.group(1)] = (float(s.group(2)), "fps")
    size = re.search(r"Surface Size:\s+(\S+)", out)
    res["size"] = (0.0, size.group(1) if size else "?")
    return res


STATS = "/sys/kernel/debug/pdfront/stats"


# names of the ioctls a glmark2 frame makes (DRM core, then virtio-gpu's)
IOCTL_NAMES = {
    (0x64, 0x09): "GEM_CLOSE", (0x64, 0x2d): "PRIME_HANDLE_TO_FD",
    (0x64, 0x2e): "PRIME_FD_TO_HANDLE", (0x64, 0x3a): "WAIT_VBLANK",
    (0x64, 0xa1): "MODE_GETCRTC", (0x64, 0xa2): "MODE_SETCRTC",
    (0x64, 0xae): "MODE_ADDFB", (0x64, 0xaf): "MODE_RMFB",
    (0x64, 0xb0): "MODE_PAGE_FLIP", (0x64, 0xb8): "MODE_ADDFB2",
    (0x64, 0x41): "VIRTGPU_MAP", (0x64, 0x42): "VIRTGPU_EXECBUFFER",
    (0x64, 0x43): "VIRTGPU_GETPARAM", (0x64, 0x44): "VIRTGPU_RESOURCE_CREATE",
    (0x64, 0x45): "VIRTGPU_RESOURCE_INFO",
    (0x64, 0x46): "VIRTGPU_TRANSFER_FROM_HOST",
    (0x64, 0x47): "VIRTGPU_TRANSFER_TO_HOST", (0x64, 0x48): "VIRTGPU_WAIT",
}


def guest_stats(b, vm):
    """The frontend's counts of synchronous trips so far in vm (debugfs,
    kernel/front_stats.c): {"trips": all, "op NAME": n, "ioctl NAME": n}."""
    out = b.sh("mountpoint -q /sys/kernel/debug || mount -t debugfs none "
               "/sys/kernel/debug; cat %s" % STATS, vm=vm)
    m = re.search(r"^trips count (\d+)", out, re.M)
    if not m:
        raise VmError("%s: no trip count in %s: %s" % (vm, STATS, out[:300]))
    res = {"trips": int(m.group(1))}
    for line in out.splitlines():
        p = re.match(r"poll trips made_files (\d+) nodes (\d+)", line)
        if p:
            res["poll on made files"] = int(p.group(1))
            res["poll on nodes"] = int(p.group(2))
        o = re.match(r"op (\S+) count (\d+)", line)
        i = re.match(r"ioctl \S+ type 0x(\w+) nr 0x(\w+) count (\d+)", line)
        if o and o.group(1) != "ioctl":
            res["op " + o.group(1)] = int(o.group(2))
        elif i:
            t, n = int(i.group(1), 16), int(i.group(2), 16)
            res["ioctl " + IOCTL_NAMES.get((t, n), "0x%02x/0x%02x" % (t, n))] \
                = int(i.group(3))
    return res


def trips_by_call(before, after, nframes):
    """The calls that travelled per frame between two guest_stats, most
    first: "VIRTGPU_EXECBUFFER 1.02, op POLL 0.98, ..."."""
    per = sorted(((after[k] - before.get(k, 0)) / max(1.0, nframes), k)
                 for k in after if k != "trips" and not k.startswith("poll "))
    # the poll trips split by file (counted apart: not added to the total)
    split = ["%s %.2f" % (k, (after[k] - before.get(k, 0)) / max(1.0, nframes))
             for k in ("poll on nodes", "poll on made files") if k in after]
    calls = ", ".join("%s %.2f" % (k.replace("ioctl ", ""), v)
                      for v, k in reversed(per) if v >= 0.05)
    return calls + (" (%s)" % ", ".join(split) if split else "")


def frames(res, duration):
    """Frames glmark2 drew: each scene ran for duration at its rate."""
    return sum(v[0] * duration for k, v in res.items() if k.startswith("fps "))


def game_screenshot(b, fcard, png):
    """Start OpenArena's demo in guest1, wait until it renders the map,
    and grab the virtio-gpu's scanout through QEMU's VNC server: the
    guest's frames on the emulated screen."""
    env = "SDL_VIDEODRIVER=kmsdrm SDL_KMSDRM_DEVICE_INDEX=%s" % fcard[-1]
    b.sh("cd /tmp && rm -rf .openarena /tmp/shot.log && (HOME=/tmp %s %s "
         "+set com_speeds 1 +demo %s +wait 100000 +quit </dev/null "
         ">/tmp/shot.log 2>&1 &); true" % (env, openarena.ENGINE,
                                           openarena.DEMO), vm="guest1")
    t0 = time.monotonic()
    try:
        while True:
            n = int(b.sh("grep -ac '^frame:' /tmp/shot.log; true",
                         vm="guest1").strip() or 0)
            if n > 3 * openarena.SKIP:
                break
            if time.monotonic() - t0 > 900:
                raise VmError("guest1: OpenArena drew %d frames in 900 s:\n%s"
                              % (n, b.sh("grep -av '^frame:' /tmp/shot.log | "
                                         "tail -40", vm="guest1")))
            time.sleep(5)
        w, h, rgb = b.app.vnc_grab(png)
    finally:
        b.sh("kill $(pidof ioquake3) 2>/dev/null; true", vm="guest1")
    lit = sum(1 for i in range(0, len(rgb), 3 * 97)
              if rgb[i:i + 3] != b"\0\0\0")
    print("  screenshot of guest1's game on the emulated screen: %s (%dx%d, "
          "%d%% of sampled pixels not black)" % (
              png, w, h, 100 * lit // max(1, len(rgb) // (3 * 97))), flush=True)


def run_gpu(b, quick, glmark2_only=False):
    """b: a Bench with vm guest1, native_vm dom0, in an appliance booted
    with virgl and the bench3d layer; appends glmark2's rows, and then
    (unless glmark2_only) OpenArena's."""
    card, render = virtio_nodes(b)
    fcard = forward(b, card, render)
    print("virgl appliance: dom0 %s, %s -> guest1 %s" % (card, render, fcard),
          flush=True)
    duration = 2 if quick else 5
    nat, fwd, scenes, per_frame = [], [], {}, []
    cpu = {}		# (run, who) -> [ms per frame]
    size = "?"
    for _ in range(b.repeat):
        for vm, node, into in (("dom0", card, nat), ("guest1", fcard, fwd)):
            before = guest_stats(b, vm) if vm == "guest1" else {}
            t0, d0 = domain_seconds(b), dom0_seconds(b)
            r = glmark2(b, vm, node, duration)
            t1, d1 = domain_seconds(b), dom0_seconds(b)
            n = max(1.0, frames(r, duration))
            for k in d1:
                cpu.setdefault((vm, "dom0 " + k), []).append(
                    1000 * (d1[k] - d0.get(k, 0)) / n)
            for who, dom in (("dom0", "Domain-0"), ("guest1", "guest1")):
                if dom in t0 and dom in t1:
                    cpu.setdefault((vm, who), []).append(
                        1000 * (t1[dom] - t0[dom]) / n)
            for k in ("cpu", "cpu user"):
                if k in r:
                    cpu.setdefault((vm, k.replace("cpu", "glmark2")),
                                   []).append(1000 * r[k][0] / n)
            if vm == "guest1":
                after = guest_stats(b, vm)
                per_frame.append((after["trips"] - before["trips"]) /
                                 max(1.0, n))
                calls = trips_by_call(before, after, n)
            into.append(r["glmark2"][0])
            size = r["size"][1]
            for k, v in r.items():
                if k.startswith("fps "):
                    scenes.setdefault((k, vm), []).append(v[0])
    n, f = statistics.median(nat), statistics.median(fwd)
    label = "glmark2-es2-drm score (%s)" % size
    b.rows.append({
        "transport": b.transport, "measure": label, "unit": "score",
        "native": n, "forwarded": f,
        "spread": "%g..%g" % (min(fwd), max(fwd)), "ratio": f / n,
        "goal": (">=", 0.95), "met": f / n >= 0.95})  # issue 14
    print("  %-34s native %10.4g  forwarded %10.4g score    ratio %.2f" % (
        label, n, f, f / n), flush=True)
    t = statistics.median(per_frame)
    b.rows.append({
        "transport": b.transport, "measure": "glmark2 synchronous trips per frame",
        "unit": "trips", "native": 0.0, "forwarded": t,
        "spread": "%g..%g" % (min(per_frame), max(per_frame)), "ratio": None,
        "goal": ("<=", 1.0), "met": t <= 1.0})
    print("  %-34s forwarded %.3g trips per frame (start-up included)" % (
        "glmark2 synchronous trips", t), flush=True)
    print("    by call, last run: %s" % calls, flush=True)
    # where a frame's time goes: each domain's CPU (Xen's count, TCG's
    # emulated CPUs) and glmark2's own, per frame drawn, medians; the
    # host's QEMU renders virgl's commands outside every domain
    med = {k: statistics.median(v) for k, v in cpu.items()}
    print("    CPU ms per frame: in dom0's run dom0 %.1f (glmark2 %.1f, in "
          "userspace %.1f); in guest1's run guest1 %.1f (glmark2 %.1f, in "
          "userspace %.1f), dom0 %.1f; frame %.1f ms against %.1f" % (
              med.get(("dom0", "dom0"), 0), med.get(("dom0", "glmark2"), 0),
              med.get(("dom0", "glmark2 user"), 0),
              med.get(("guest1", "guest1"), 0),
              med.get(("guest1", "glmark2"), 0),
              med.get(("guest1", "glmark2 user"), 0),
              med.get(("guest1", "dom0"), 0), 1000 / max(f, 1),
              1000 / max(n, 1)), flush=True)
    print("    dom0 in guest1's run: pd-backend %.1f (in userspace %.1f); "
          "/proc/stat user %.1f, kernel %.1f (tick-sampled)" %
          tuple(med.get(("guest1", "dom0 " + k), 0) for k in
                ("backend", "backend user", "user", "system")), flush=True)
    for scene in GLMARK2_SCENES:
        k = "fps " + scene.split(":")[0]
        if (k, "dom0") in scenes and (k, "guest1") in scenes:
            sn = statistics.median(scenes[(k, "dom0")])
            sf = statistics.median(scenes[(k, "guest1")])
            print("    %-32s native %6.4g fps  forwarded %6.4g fps  ratio "
                  "%.2f" % (k[4:], sn, sf, sf / sn if sn else 0), flush=True)
    if glmark2_only:
        return b.rows
    shots = os.path.join(BUILD, "test-artifacts")
    os.makedirs(shots, exist_ok=True)
    game_screenshot(b, fcard, os.path.join(shots, "openarena-guest1.png"))
    openarena.run_game(b, int(card[-1]), int(fcard[-1]))
    return b.rows
