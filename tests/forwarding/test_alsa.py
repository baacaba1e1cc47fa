# SPDX-License-Identifier: GPL-2.0-only
"""ALSA through the loop transport: snd-aloop's control and first playback
device forwarded as a card of their own, compared with the native card in
the same run."""

import random
import struct

from pdvm import fwd
from pdvm.testlib import check, run_ok

MODE = "plain"

RATE = 8000


def wav():
    """One second of random 16-bit mono samples, then one of silence. The
    loopback drops the last moments of a stream that stops (natively too,
    under emulation), which the silence absorbs: the random part must
    arrive whole."""
    rnd = random.Random(3)
    payload = bytes(rnd.getrandbits(8) for _ in range(RATE * 2))
    data = payload + bytes(RATE * 2)
    hdr = (b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVEfmt " +
           struct.pack("<IHHIIHH", 16, 1, 1, RATE, RATE * 2, 2, 16) +
           b"data" + struct.pack("<I", len(data)))
    return hdr + data, payload


def loopback_card(app):
    cards = run_ok(app, "plain", "cat /proc/asound/cards")
    for line in cards.splitlines():
        if "[Loopback" in line:
            return int(line.split()[0])
    raise AssertionError("no Loopback card:\n%s" % cards)


def forwarded_card(node):
    return int(node.split("controlC")[1])


def test_amixer_contents_identical(app):
    """`amixer contents` lists the same controls with the same values
    through the forwarded card as through the native one (alsa-lib opens
    /dev/snd/controlC<n> and asks it everything)."""
    try:
        real = loopback_card(app)
        ctl, _ = fwd.export(app, "/dev/snd/controlC%d" % real,
                            "/dev/snd/pcmC%dD0p" % real)
        native = run_ok(app, "plain", "amixer -c %d contents" % real)
        forwarded = run_ok(app, "plain", "amixer -c %d contents"
                           % forwarded_card(ctl))
        check(native.count("numid=") > 5, "native:\n%s" % native)
        check(forwarded == native, "amixer differs:\n--- native\n%s\n"
              "--- forwarded\n%s" % (native, forwarded))
    finally:
        fwd.teardown(app)


def play_through(app, device, extra=""):
    data, payload = wav()
    app.copy_in("plain", data, "/tmp/fwd-test.wav")
    real = loopback_card(app)
    # aplay in the background with a bounded wait, so that a hang shows
    # where it is stuck instead of a channel timeout. The backend is found
    # by /proc/PID/comm, never by pidof: reading a process's cmdline waits
    # for its mmap lock, which a program stuck in a forwarded mmap holds
    # (a hang once took the test's shell with it that way)
    out = run_ok(app, "plain", "rm -f /tmp/fwd-cap.wav; (arecord -D hw:%d,1,0 "
                 "-f S16_LE -c 1 -r %d --buffer-time=2000000 -d 5 "
                 "/tmp/fwd-cap.wav >/tmp/fwd-arecord.log 2>&1 &); sleep 1; "
                 "aplay -D %s %s --buffer-time=2000000 /tmp/fwd-test.wav "
                 ">/tmp/fwd-aplay.log 2>&1 & p=$!; i=0; "
                 "while kill -0 $p 2>/dev/null && [ $i -lt 60 ]; do sleep 1; "
                 "i=$((i+1)); done; if kill -0 $p 2>/dev/null; then "
                 "echo HUNG; cat /proc/$p/stack; for t in /proc/[0-9]*; do "
                 "[ \"$(cat $t/comm 2>/dev/null)\" = pd-backend ] || continue; "
                 "for s in $t/task/*; do cat $s/comm $s/stack; done; done; "
                 "dmesg | tail -40; kill $p; fi; cat /tmp/fwd-aplay.log; "
                 "sleep 5" % (real, RATE, device, extra), timeout=120)
    check("HUNG" not in out, "aplay -D %s %s hung:\n%s" % (device, extra, out))
    cap = app.copy_out("plain", "/tmp/fwd-cap.wav")[44:]
    return cap.find(payload) >= 0, len(cap)


def test_aplay_into_forwarded_playback_arrives_byte_identical(app):
    """aplay writes a WAV into the forwarded loopback playback device
    (hw params, sw params, WRITEI transfers sized by the stream's frame
    size, status through the mmapped status page of the real file) while
    arecord captures from the native loopback capture: the samples arrive
    byte for byte. aplay in mmap mode (-M: the data area is the real
    driver's buffer, mapped through the forwarded file) too. The same
    played natively is the control."""
    try:
        real = loopback_card(app)
        ctl, pcm = fwd.export(app, "/dev/snd/controlC%d" % real,
                              "/dev/snd/pcmC%dD0p" % real)
        card = forwarded_card(ctl)
        check(pcm == "/dev/snd/pcmC%dD0p" % card, pcm)
        ok, n = play_through(app, "hw:%d,0,0" % real)
        check(ok, "control failed: native playback did not arrive whole "
              "(%d bytes captured)" % n)
        ok, n = play_through(app, "hw:%d,0,0" % card)
        check(ok, "forwarded playback did not arrive byte-identical "
              "(%d bytes captured)" % n)
        ok, n = play_through(app, "hw:%d,0,0" % card, "-M")
        check(ok, "forwarded mmap playback did not arrive byte-identical "
              "(%d bytes captured)" % n)
    finally:
        fwd.teardown(app, kill=("aplay", "arecord"))
