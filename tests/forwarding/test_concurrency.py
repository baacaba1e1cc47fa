# SPDX-License-Identifier: GPL-2.0-only
"""Many requests in flight: a blocked request on one forwarded file never
holds up another file or process."""

import re
import time

from pdvm import fwd
from pdvm.testlib import check, run_ok

MODE = "plain"



def test_blocking_read_does_not_delay_ioctls(app):
    """One process blocks in read() on a forwarded evdev file (no key is
    pressed) while another makes 1000 ioctls on the forwarded DRM card:
    all of them finish while the read still waits, and the read completes
    with the right event once a key is pressed."""
    try:
        kbd = fwd.start_keyboard(app, "PD busy kbd", 90)
        ev, card = fwd.export(app, kbd, "/dev/dri/card0")
        run_ok(app, "plain", "(pd-fwdtest evdev-read %s 1 >/tmp/fwd-blk.txt "
               "2>&1 &)" % ev)
        time.sleep(2)
        out = run_ok(app, "plain", "pd-fwdtest drm-ioctls %s 1000" % card,
                     timeout=300)
        m = re.search(r"ok (\d+) of 1000 in ([\d.]+) s", out)
        check(m and m.group(1) == "1000", out)
        blocked = run_ok(app, "plain", "cat /tmp/fwd-blk.txt; "
                         "ps | grep -c '[e]vdev-read'")
        check(blocked.strip() == "1", "the reader is not blocked any more "
              "(or gone): %r" % blocked)
        run_ok(app, "plain", "touch /tmp/fwd-go")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            got = run_ok(app, "plain", "cat /tmp/fwd-blk.txt")
            if got.strip():
                break
            time.sleep(0.5)
        check(got.strip() == "1 25 1", "the blocked read returned %r" % got)
        print("    1000 DRM ioctls in %s s beside a blocked read" % m.group(2))
    finally:
        fwd.teardown(app, kill=("pd-fwdtest",))


def poll_three(app, how):
    try:
        kbd = fwd.start_keyboard(app, "PD busy kbd", 90)
        cards = run_ok(app, "plain", "cat /proc/asound/cards")
        real = [int(l.split()[0]) for l in cards.splitlines()
                if "[Loopback" in l][0]
        card, ctl, ev = fwd.export(app, "/dev/dri/card0",
                                   "/dev/snd/controlC%d" % real, kbd)
        run_ok(app, "plain", "(pd-fwdtest %s 30000 %s %s %s "
               ">/tmp/fwd-poll.txt 2>&1 &); sleep 3" % (how, card, ctl, ev))
        early = run_ok(app, "plain", "cat /tmp/fwd-poll.txt")
        check(early.strip() == "polling", "%s returned before any key: %r"
              % (how, early))
        run_ok(app, "plain", "touch /tmp/fwd-go")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            out = run_ok(app, "plain", "cat /tmp/fwd-poll.txt")
            if "done" in out:
                break
            time.sleep(0.5)
        check(re.search(r"ready 2 \d+\ndone 1", out) and "ready 0" not in out
              and "ready 1" not in out, "%s reported:\n%s" % (how, out))
    finally:
        fwd.teardown(app, kill=("pd-fwdtest",))


def test_poll_over_three_classes_wakes_on_the_right_one(app):
    """poll() over a forwarded DRM card, a forwarded ALSA control and a
    forwarded evdev keyboard, all for POLLIN: it sleeps while none is
    ready and wakes reporting only the keyboard when a key is pressed
    (readiness comes back from the backend as a PD_EV_POLL event)."""
    poll_three(app, "poll3")


def test_epoll_and_select_wake_on_the_right_one(app):
    """The same with epoll_wait() and with select()."""
    poll_three(app, "epoll3")
    poll_three(app, "select3")


def test_signal_interrupts_a_blocked_read_without_losing_data(app):
    """On a forwarded evdev file: an O_NONBLOCK read with nothing queued
    gives EAGAIN; a blocking read that a signal (without SA_RESTART)
    interrupts returns EINTR after the signal, which also cancelled the
    backend's read of the real file: the next read gets the first event
    typed afterwards, not the one after it."""
    try:
        kbd = fwd.start_keyboard(app, "PD busy kbd", 90)
        ev, = fwd.export(app, kbd)
        run_ok(app, "plain", "(pd-fwdtest evdev-intr %s >/tmp/fwd-intr.txt "
               "2>&1 &); sleep 4" % ev)
        early = run_ok(app, "plain", "cat /tmp/fwd-intr.txt")
        check("nonblock EAGAIN\n" in early, early)
        check(re.search(r"interrupted EINTR after 1\.\d s", early), early)
        run_ok(app, "plain", "touch /tmp/fwd-go")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            out = run_ok(app, "plain", "cat /tmp/fwd-intr.txt")
            if out.count("\n") >= 3:
                break
            time.sleep(0.5)
        check(out.splitlines()[-1] == "1 25 1",
              "the read after the interrupted one got:\n%s" % out)
    finally:
        fwd.teardown(app, kill=("pd-fwdtest",))


def test_backend_death_fails_requests_with_eio(app):
    """When the backend dies (SIGKILL) while a program is blocked in a read
    of a forwarded file, the read fails with EIO, the forwarded node
    disappears, and once the program is gone the module unloads: nothing
    leaks and nothing hangs."""
    try:
        kbd = fwd.start_keyboard(app, "PD busy kbd", 90)
        ev, = fwd.export(app, kbd)
        run_ok(app, "plain", "(pd-fwdtest read-err %s >/tmp/fwd-eio.txt "
               "2>&1 &); sleep 2" % ev)
        pid = run_ok(app, "plain", "pdctl list").split()[0]
        run_ok(app, "plain", "kill -9 %s" % pid)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            out = run_ok(app, "plain", "cat /tmp/fwd-eio.txt")
            if "errno" in out:
                break
            time.sleep(0.5)
        check("read -1 errno 5" in out, "the blocked read gave:\n%s" % out)
        gone = run_ok(app, "plain", "sleep 1; ls %s 2>&1; true" % ev)
        check("No such file" in gone, "%s still exists: %s" % (ev, gone))
    finally:
        fwd.teardown(app, kill=("pd-fwdtest",))
