# SPDX-License-Identifier: GPL-2.0-only
"""A real audio server in a guest: PulseAudio in guest1 on its forwarded
snd-aloop card (pdvm.xen.SOUND, backends without hostd), with timer-based
scheduling and mmap of the PCM's data area and control page (its status
read with SYNC_PTR), which aplay and arecord do not exercise the way a
server does. A tone played through the server arrives in dom0 on the
loopback's other side. (Capture through the server is not tested yet:
docs/audio-guest.md.)

The tones are recognised here by frequency (pdvm.pulse.check_tone): the
server mixes and may resample, so bytes are not the criterion."""

import re

from pdvm import pulse as audio, xen
from pdvm.testlib import check, run_ok, wait_for

MODE = "xen"
GUESTS = 2
# the suite's one boot: every tests/xen module names the same layers
GUEST_LAYERS = ("switcher", "camera", "audio")

STATS = "/sys/kernel/debug/pdfront/stats"


def _stats(app, guest):
    return run_ok(app, guest, "cat %s" % STATS)


def _op_count(stats, op):
    m = re.search(r"^op %s count (\d+)" % op, stats, re.M)
    return int(m.group(1)) if m else 0


def _server_modes(log, what):
    """The server's own words for mmap and timer-based scheduling on the
    forwarded device (alsa-sink.c logs them at open)."""
    check("Successfully enabled mmap() mode." in log,
          "%s: the server did not use mmap:\n%s" % (what, log[-4000:]))
    check("Successfully enabled timer-based scheduling mode." in log,
          "%s: the server did not use timer-based scheduling:\n%s"
          % (what, log[-4000:]))


def _xruns(log):
    return len(re.findall(r"Underrun!", log))


def test_xen_pulseaudio_plays_through_forwarded_card(app):
    """PulseAudio in guest1 opens the forwarded playback device with mmap
    and timer-based scheduling (its log says both; the guest's pdfront
    counters show the mmap and fault trips of the data area and control
    page over the rings, and SYNC_PTR for the status); paplay plays a
    1 kHz tone through it, and dom0's arecord on the loopback's other
    side records a 1 kHz tone."""
    xen.setup(app)
    g = "guest1"
    app.copy_in(g, audio.wav(audio.tone(1000, 3)), "/tmp/tone.wav")
    run_ok(app, g, "echo 0 >%s" % STATS)
    run_ok(app, "dom0", "rm -f /tmp/pa-cap.wav; (arecord -D %s -f S16_LE "
           "-c %d -r %d -d 150 /tmp/pa-cap.wav >/tmp/pa-arecord.log 2>&1 &);"
           " sleep 1" % (audio.DOM0_CAPTURE, audio.CHANNELS, audio.RATE))
    try:
        audio.start_pulseaudio(app, g)
        out = run_ok(app, g, "%s paplay --device=fwd /tmp/tone.wav 2>&1"
                     % audio.env(), timeout=120)
        run_ok(app, g, "sleep 1")
        log = audio.pulseaudio_log(app, g)
        stats = _stats(app, g)
    finally:
        run_ok(app, "dom0", "kill -INT $(pidof arecord) 2>/dev/null; true")
        audio.stop_pulseaudio(app, g)
    wait_for("arecord to finish", lambda: not run_ok(
        app, "dom0", "pidof arecord; true").strip(), timeout=60)
    _server_modes(log, "playback")
    mmaps, faults = _op_count(stats, "mmap"), _op_count(stats, "fault")
    print("guest1 pdfront trips while the server ran: %s" % "; ".join(
        l for l in stats.splitlines() if l.startswith(("trips", "op ")) or
        " nr 0x23 " in l))
    print("server: %d underruns logged" % _xruns(log))
    # the data area and the control page are mapped; the status page is
    # refused (its stamps are dom0's clock: pd-backend's clock.c), so
    # alsa-lib reads the status with SYNC_PTR, whose stamps the backend
    # makes the guest's
    sync_ptr = sum(int(m) for m in re.findall(
        r"^ioctl 0x[0-9a-f]+ type 0x41 nr 0x23 count (\d+)", stats, re.M))
    check(mmaps >= 2 and faults >= 1, "no forwarded mmap of the PCM "
          "(mmap %d, fault %d):\n%s" % (mmaps, faults, stats))
    check(sync_ptr > 0, "no SYNC_PTR through the forwarding:\n%s" % stats)
    cap = app.copy_out("dom0", "/tmp/pa-cap.wav")
    print(audio.check_tone(audio.pcm_samples(cap), 1000,
                           "dom0's capture of the guest's server") +
          "; paplay said: %r" % out.strip())

