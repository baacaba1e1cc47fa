# SPDX-License-Identifier: GPL-2.0-only
"""The audio part of `make bench` (bench/run --mode audio): what
forwarding adds to a sound path, in the xen appliance with virgl, two
guests and backends started by hand (no hostd): guest1 gets dom0's
snd-aloop card (pdvm.xen.SOUND), guest2 the virtio-gpu's card and render
node for glmark2.

- Latency, on one clock: dom0's alsabat --roundtriplatency plays clicks
  into the loopback (hw:1,1,0) and records them back from it (hw:1,1,0),
  both streams in one program on dom0's loopback timer. Between them an
  echo, alsaloop, copies the loopback's device 0 capture to its device 0
  playback: natively in dom0 on hw:1,0,0, or in guest1 on its forwarded
  hw:0,0,0 (the same real device). The difference of the two is what
  forwarding adds to one capture plus one playback.
- Underruns: aplay plays 60 s at a 5 ms period (4 periods of buffer) in
  guest1 on the forwarded device, natively in dom0 on the real one, while
  guest2 runs glmark2-es2-drm in a loop; aplay's "underrun!!!" lines are
  counted (the goal is none).
"""

import re
import statistics
import time

from pdvm.machine import VmError

import gpu

RATE = 48000
# the echo's own target latency (alsaloop -t, us): the same both ways
ECHO_US = 20000
PERIOD_US, BUFFER_US = 5000, 20000
# alsabat's own buffer and period (frames): without them its round trip
# mode asks for a period as long as its buffer, which ALSA refuses
BAT_BUFFER, BAT_PERIOD = 3840, 960
PLAY_S = 60
CONF = """\
[guest guest1]
devices = /dev/snd/controlC1 /dev/snd/pcmC1D0p /dev/snd/pcmC1D0c

[guest guest2]
devices = %(card)s %(render)s
"""


def setup(b):
    card, render = gpu.virtio_nodes(b)
    b.app.copy_in("dom0", (CONF % {"card": card, "render": render})
                  .encode(), "/etc/paradice/paradice.conf")
    b.sh("(pd-backend --xen guest1 >/var/log/pd-backend-guest1.log 2>&1 &);"
         " (pd-backend --xen guest2 --direct-display "
         ">/var/log/pd-backend-guest2.log 2>&1 &); true", vm="dom0")
    for g, node in (("guest1", "/dev/snd/pcmC0D0c"),
                    ("guest2", "/dev/dri/renderD128")):
        b.sh("modprobe -a drm videodev snd && insmod "
             "/lib/modules/$(uname -r)/updates/dkms/pdfront.ko; t=0; "
             "while [ ! -c %s ] && [ $t -lt 300 ]; do sleep 0.2; "
             "t=$((t+1)); done; [ -c %s ]" % (node, node), vm=g)


def roundtrip(b, vm, dev):
    """alsabat's round trip through an alsaloop echo on dev in vm, in ms
    (None when alsabat found no click)."""
    b.sh("(alsaloop -C %s -P %s -f S16_LE -c 2 -r %d -t %d "
         ">/tmp/alsaloop.log 2>&1 & echo $! >/tmp/alsaloop.pid); sleep 2"
         % (dev, dev, RATE, ECHO_US), vm=vm)
    try:
        out = b.sh("alsabat -P hw:1,1,0 -C hw:1,1,0 -f S16_LE -c 2 -r %d "
                   "-B %d -E %d --roundtriplatency 2>&1; true" % (
                       RATE, BAT_BUFFER, BAT_PERIOD), vm="dom0",
                   timeout=180)
    finally:
        log = b.sh("kill $(cat /tmp/alsaloop.pid) 2>/dev/null; sleep 1; "
                   "cat /tmp/alsaloop.log", vm=vm)
    # alsabat prints each of its clicks ("Test2, round trip latency
    # 41ms") and their mean ("Final round trip latency: 40ms"), or gives
    # up when one is over twice another; the median of those it printed
    steps = [float(v) for v in re.findall(
        r"Test\d+, round trip latency (\d+)\s*ms", out)]
    if not steps:
        print("  (%s) alsabat found no round trip:\n  %s\n  alsaloop: %s"
              % (vm, out[-600:].replace("\n", "\n  "), log[-300:]),
              flush=True)
        return None
    return statistics.median(steps)


def latency(b):
    nat, fwd = [], []
    for _ in range(b.repeat):
        n = roundtrip(b, "dom0", "hw:1,0,0")
        f = roundtrip(b, "guest1", "hw:0,0,0")
        if n is not None and f is not None:
            nat.append(n)
            fwd.append(f)
    if not nat:
        # the underrun row still runs; the table lacks this one
        print("  audio round trip (echo): not measured (see above)",
              flush=True)
        return
    n, f = statistics.median(nat), statistics.median(fwd)
    b.rows.append({
        "transport": "xen", "measure": "audio round trip through an echo",
        "unit": "ms", "native": n, "forwarded": f,
        "spread": "%g..%g" % (min(fwd), max(fwd)), "ratio": f / n,
        "goal": None, "met": None})
    print("  %-34s native %10.4g  forwarded %10.4g ms       added %.1f ms "
          "(%d of %d runs)" % ("audio round trip (echo)", n, f, f - n,
                              len(nat), b.repeat), flush=True)


def glmark2_loop(b, start):
    if start:
        b.sh("(while :; do glmark2-es2-drm %s --winsys-options "
             "drm-device=/dev/dri/card0 >/dev/null 2>&1; done & "
             "echo $! >/tmp/glloop.pid); true" % gpu.GLMARK2_ARGS,
             vm="guest2")
        time.sleep(10)
    else:
        b.sh("kill $(cat /tmp/glloop.pid) 2>/dev/null; killall "
             "glmark2-es2-drm 2>/dev/null; true", vm="guest2")


def underruns(b, vm, dev):
    out = b.sh("aplay -D %s -t raw -f S16_LE -c 2 -r %d --period-time=%d "
               "--buffer-time=%d -d %d /dev/zero 2>&1; true" % (
                   dev, RATE, PERIOD_US, BUFFER_US, PLAY_S),
               vm=vm, timeout=PLAY_S * 4 + 60)
    return len(re.findall(r"underrun!!!", out)), out


def xruns(b):
    """Underruns natively and forwarded while guest2 runs glmark2."""
    glmark2_loop(b, True)
    try:
        load = b.sh("cat /proc/loadavg", vm="dom0").strip()
        n, nout = underruns(b, "dom0", "hw:1,0,0")
        f, fout = underruns(b, "guest1", "hw:0,0,0")
    finally:
        glmark2_loop(b, False)
    b.rows.append({
        "transport": "xen", "measure": "underruns, %d s at a %d ms period, "
        "guest2 in glmark2" % (PLAY_S, PERIOD_US // 1000), "unit": "xruns",
        "native": n, "forwarded": f, "spread": "", "ratio": None,
        "goal": ("<=", 0), "met": f == 0})
    print("  %-34s native %d  forwarded %d xruns (goal 0); dom0 loadavg "
          "%s" % ("underruns, 60 s at 5 ms", n, f, load), flush=True)
    for what, out in (("native", nout), ("forwarded", fout)):
        print("    %s aplay: %s" % (what, " | ".join(
            out.strip().splitlines()[:3])), flush=True)


def run_audio(b, quick):
    """b: a Bench with vm guest1 and native_vm dom0 in an appliance booted
    with virgl, two guests and the bench3d layer."""
    setup(b)
    latency(b)
    xruns(b)
    return b.rows
