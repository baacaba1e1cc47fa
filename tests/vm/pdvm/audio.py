# SPDX-License-Identifier: GPL-2.0-only
"""Helpers for the tests of dom0's audio mix (docs/audio.md): tones as WAV
files, a frequency check of recorded samples, and hostd started and
stopped in the xen appliance with a config of the test's.

The appliance's snd-aloop cards (tests/vm/init.sh): PdSpeakers stands for
dom0's physical card (pd-mixer plays the mix on its device 0, a test
records device 1's capture; the microphone is what a test plays on device
1, which pd-mixer captures on device 0), PdGuest1 and PdGuest2 are
guest1's and guest2's own cards (card 3 and 4: the guest has device 0).
Tests without hostd use card 1 (xen.SOUND), untouched by these."""

import math
import struct

from .testlib import TestFailure, check, run_ok, wait_until

SPEAKERS = "PdSpeakers"
# each guest's own card in dom0: (card number, ALSA id)
GUEST_CARDS = {"guest1": (3, "PdGuest1"), "guest2": (4, "PdGuest2")}


def guest_devices(g):
    """The devices line that gives guest g its own card's device 0."""
    n = GUEST_CARDS[g][0]
    return "/dev/snd/controlC%d /dev/snd/pcmC%dD0p /dev/snd/pcmC%dD0c" % (
        n, n, n)


def tone_wav(freq, secs, rate=8000, amplitude=0.3):
    """A mono S16_LE WAV file of a sine at freq Hz."""
    n = int(rate * secs)
    a = amplitude * 32767
    data = b"".join(struct.pack("<h", int(round(a * math.sin(
        2 * math.pi * freq * i / rate)))) for i in range(n))
    return (b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVEfmt " +
            struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16) +
            b"data" + struct.pack("<I", len(data)) + data)


def wav_samples(wav):
    """(rate, channels, mono samples: the channels' mean) of a S16_LE WAV
    file as arecord writes it (its data chunk's length may be 0 or too
    big when it was stopped: the rest of the file is taken)."""
    check(wav[:4] == b"RIFF" and wav[8:12] == b"WAVE", "not a WAV file")
    pos, rate, ch = 12, None, None
    while pos + 8 <= len(wav):
        cid, size = wav[pos:pos + 4], struct.unpack("<I", wav[pos + 4:pos + 8])[0]
        if cid == b"fmt ":
            _, ch, rate = struct.unpack("<HHI", wav[pos + 8:pos + 16])
        if cid == b"data":
            body = wav[pos + 8:]
            body = body[:len(body) // (2 * ch) * 2 * ch]
            v = struct.unpack("<%dh" % (len(body) // 2), body)
            return rate, ch, [sum(v[i:i + ch]) / ch
                              for i in range(0, len(v), ch)]
        pos += 8 + size
    raise TestFailure("no data chunk in the WAV file")


def amplitude(samples, rate, freq):
    """The amplitude of the sine at freq Hz in samples (Goertzel over the
    whole of them): a steady tone of amplitude A gives about A."""
    n = len(samples)
    if not n:
        return 0.0
    w = 2 * math.pi * freq / rate
    c = 2 * math.cos(w)
    s1 = s2 = 0.0
    for x in samples:
        s1, s2 = x + c * s1 - s2, s1
    power = s1 * s1 + s2 * s2 - c * s1 * s2
    return 2 * math.sqrt(max(power, 0.0)) / n


def levels(wav, freqs):
    """{freq: amplitude} of a recorded WAV file (see amplitude())."""
    rate, _, s = wav_samples(wav)
    return {f: amplitude(s, rate, f) for f in freqs}


def hostd_log(app):
    return run_ok(app, "dom0", "cat /var/log/hostd.log 2>/dev/null; true")


def start_hostd(app, conf, args="--no-grab"):
    """hostd (log /var/log/hostd.log) with conf as paradice.conf, once no
    hostd or backend of an earlier test runs; waits for its ready line.
    The log is opened to append: pd-mixer shares it and may outlive
    hostd, and the next hostd appends to it too."""
    stop_hostd(app)
    app.copy_in("dom0", conf.encode(), "/etc/paradice/paradice.conf")
    run_ok(app, "dom0", "t=0; while [ ! -e /run/pd-udev-settled ] && "
           "[ $t -lt 90 ]; do sleep 1; t=$((t+1)); done; "
           ": >/var/log/hostd.log; (hostd %s >>/var/log/hostd.log 2>&1 &); "
           "true" % args, timeout=120)
    check(wait_until(lambda: "ready:" in hostd_log(app), 90),
          "hostd did not start:\n%s" % hostd_log(app))


def stop_hostd(app):
    """hostd, its pd-mixer and every backend ended (hostd leaves backends
    running for the next hostd: the next test's config is another), and
    the foreground guest and the volumes hostd keeps for its next start
    forgotten (the next test's hostd starts with its first guest in
    front, every volume at 100)."""
    run_ok(app, "dom0", "killall hostd pd-backend pd-mixer 2>/dev/null; t=0; "
           "while pidof hostd pd-backend pd-mixer >/dev/null && [ $t -lt 60 ];"
           " do sleep 0.5; t=$((t+1)); done; killall -9 hostd pd-backend "
           "pd-mixer 2>/dev/null; rm -f /run/paradice/active "
           "/var/lib/paradice/volumes; true",
           timeout=90)
    check(wait_until(lambda: not run_ok(
        app, "dom0", "pidof hostd pd-backend pd-mixer; true").strip(), 30),
        "hostd, pd-mixer or a backend still runs")
