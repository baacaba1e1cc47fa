# SPDX-License-Identifier: GPL-2.0-only
"""Audio in the xen appliance without hostd: PulseAudio in a guest on its
forwarded snd-aloop card (xen.SOUND), tones made and recognised here, and
the loopback's other side in dom0 (card 1: playback on device 0 arrives on
device 1's capture, and the other way round).

The guest's forwarded card is its only one (hw:0). PulseAudio runs as root
without a default script (`pulseaudio -n`): only the modules named here,
module-alsa-sink on hw:0,0 with mmap and timer-based scheduling (forced
in a VM by the preloaded tests/xen/pd-pa-novm.c, PRELOAD), and
module-native-protocol-unix on SOCKET for paplay."""

import math
import struct

from . import audio
from .testlib import check, run_ok, wait_for

RATE = 48000
CHANNELS = 2
SOCKET = "/tmp/pa/native"
LOG = "/tmp/pa.log"
# dom0's side of the loopback: what the guest plays on its hw:0,0 (dom0's
# pcmC1D0p) is captured on hw:1,1,0
DOM0_CAPTURE = "hw:1,1,0"
PRELOAD = "/usr/lib/pd-pa-novm.so"
SPEC = "format=s16le rate=%d channels=%d" % (RATE, CHANNELS)


def wav(samples, rate=RATE, channels=CHANNELS):
    """A 16-bit PCM WAV of samples (one int per frame, the same in every
    channel)."""
    data = b"".join(struct.pack("<h", s) * channels for s in samples)
    return (b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVEfmt " +
            struct.pack("<IHHIIHH", 16, 1, channels, rate,
                        rate * 2 * channels, 2 * channels, 16) +
            b"data" + struct.pack("<I", len(data)) + data)


def tone(freq, seconds, amplitude=12000, rate=RATE):
    return [int(amplitude * math.sin(2 * math.pi * freq * i / rate))
            for i in range(int(seconds * rate))]


def pcm_samples(data, channels=CHANNELS):
    """The first channel of interleaved 16-bit little-endian frames (a WAV
    file's header skipped when there is one)."""
    if data[:4] == b"RIFF":
        i = data.find(b"data")
        data = data[i + 8:] if i >= 0 else data[44:]
    n = len(data) // (2 * channels)
    return list(struct.unpack("<%dh" % (n * channels),
                              data[:n * 2 * channels]))[::channels]


def power(samples, freq, rate=RATE):
    """The power of freq in samples, normalised by their count (audio's
    Goertzel: a tone of amplitude A gives A*A/4)."""
    return (audio.amplitude(samples, rate, freq) / 2) ** 2


def loudest_window(samples, rate=RATE, seconds=0.5):
    """The window of the given length with the most energy (the part of a
    recording where the tone is)."""
    w = int(rate * seconds)
    if len(samples) <= w:
        return samples
    best, at = -1, 0
    for i in range(0, len(samples) - w, w // 4):
        e = sum(x * x for x in samples[i:i + w:16])
        if e > best:
            best, at = e, i
    return samples[at:at + w]


def check_tone(samples, freq, what, rate=RATE):
    """The loudest half second of samples is a tone of freq: its power
    there is 100 times that at any of a set of other frequencies, and it
    is not near silence. Returns a line that says what was found."""
    win = loudest_window(samples, rate)
    rms = math.sqrt(sum(x * x for x in win) / max(1, len(win)))
    others = [f for f in (250, 440, 700, 1000, 1500, 2200, 3100, 4400)
              if abs(f - freq) > 100]
    p = power(win, freq, rate)
    worst = max(others, key=lambda f: power(win, f, rate))
    pw = power(win, worst, rate)
    line = ("%s: %d samples, loudest 0.5 s rms %.0f, power at %d Hz %.3g, "
            "strongest other (%d Hz) %.3g" % (what, len(samples), rms, freq,
                                               p, worst, pw))
    check(rms > 1000, "%s: silence (%s)" % (what, line))
    check(p > 100 * pw, "%s: not a %d Hz tone (%s)" % (what, freq, line))
    return line


def start_pulseaudio(app, guest):
    """PulseAudio in guest with a sink "fwd" on the forwarded card, at
    debug level into LOG; waits until its socket answers with the sink.
    Returns pactl's list of sinks and sources."""
    mods = ["module-alsa-sink device=hw:0,0 sink_name=fwd tsched=1 "
            "mmap=1 %s" % SPEC]
    mods.append("module-native-protocol-unix auth-anonymous=1 socket=%s"
                % SOCKET)
    args = " ".join("-L '%s'" % m for m in mods)
    run_ok(app, guest, "mkdir -p /tmp/pa /tmp/pa-home; rm -f %s; "
           "(LD_PRELOAD=%s HOME=/tmp/pa-home XDG_RUNTIME_DIR=/tmp/pa "
           "pulseaudio -n "
           "--daemonize=no --system=no --exit-idle-time=-1 --use-pid-file=no "
           "--realtime=no --high-priority=no --disallow-exit=yes "
           "--log-target=stderr --log-level=debug --log-time=yes %s "
           ">%s 2>&1 </dev/null &); true" % (LOG, PRELOAD, args, LOG))
    try:
        return wait_for("pulseaudio in %s" % guest, lambda: (
            lambda o: o if "fwd" in o else None)(run_ok(
                app, guest, "%s pactl list short sinks 2>&1; %s pactl list "
                "short sources 2>&1; true" % (env(), env()))), timeout=90,
            step=2)
    except Exception as e:
        raise AssertionError("%s\n--- pulseaudio's log (ALSA and errors)\n%s"
                             % (e, run_ok(app, guest, "grep -E 'alsa|E: |W: '"
                                          " %s | head -60; true" % LOG)))


def env():
    return "PULSE_SERVER=unix:%s HOME=/tmp/pa-home" % SOCKET


def stop_pulseaudio(app, guest):
    run_ok(app, guest, "for t in /proc/[0-9]*; do [ \"$(cat $t/comm "
           "2>/dev/null)\" = pulseaudio ] && kill ${t#/proc/}; done; "
           "killall paplay 2>/dev/null; true")


def pulseaudio_log(app, guest):
    return run_ok(app, guest, "cat %s; true" % LOG)
