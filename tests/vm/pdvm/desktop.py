# SPDX-License-Identifier: GPL-2.0-only
"""Real desktop sessions in the guests of the xen appliance, as
tests/desktop checks them and `make demo` shows them: hostd in dom0 with
both guests' cards, Weston 10 (DRM backend, pixman, desktop shell) with
weston-image showing a picture of four colour blocks in guest1, Xorg 21.1
(xinit, modesetting and libinput drivers) with an xterm on a coloured
root window in guest2. The guests' image must carry the desktop layer
(tests/vm/profiles/desktop.txt).

How they start: as on a Debian 12 desktop whose init is not systemd.
pd-guest-tools' udev rules (guest-tools/70-paradice.rules, in the guests'
image from the package) tag the forwarded card and input devices for
seat0; elogind (the desktop layer, started by tests/vm/init.sh) makes
seat0 of them. agetty logs the user pd in on tty1 (--autologin, as a
getty set up for autologin does), login's PAM stack opens pd's session
on seat0 (pam_elogind), and pd's ~/.profile starts the desktop on that
VT, as people start one without a display manager: Weston 10 (Debian
builds it without libseat; its logind launcher takes the card and input
devices from elogind with TakeDevice) in guest1, xinit with Xorg (its
systemd-logind support does the same: no root, no Xorg.wrap) in guest2.
Neither runs as root: session() says who runs it and what its session
holds."""

import re
import shlex
import struct
import zlib

from .testlib import wait_for, check, evdev_node, run_ok, indent

CONF = """\
[switch]
next = ctrl+alt+right
previous = ctrl+alt+left

[guest guest1]
devices = /dev/dri/card0
hotkey = ctrl+alt+f1

[guest guest2]
devices = /dev/dri/card0
hotkey = ctrl+alt+f2
"""
GDBUS = ("gdbus call --system --dest org.paradice.Switcher1 "
         "--object-path /org/paradice/Switcher1 "
         "--method org.paradice.Switcher1.Manager.")

# What a guest's /etc holds for a desktop user (as adduser and
# pam-auth-update leave it): pd (uid 1000; the image's /etc/passwd is this
# machine's, whose uid 1000 goes) in the group that owns the card (video:
# seatd's socket, for cage) and the render node, not in input: the input
# devices reach a compositor through the session only. pam_elogind in
# the common session stack, where this machine's has pam_systemd.
SETUP = r"""
set -e
sed -i -e '/^[^:]*:[^:]*:1000:/d' -e '/^pd:/d' /etc/passwd /etc/group
echo 'pd:x:1000:1000:Paradice user:/home/pd:/bin/sh' >>/etc/passwd
echo 'pd:x:1000:' >>/etc/group
sed -i -E -e 's/^(video|render):([^:]*):([0-9]+):$/\1:\2:\3:pd/' \
    -e 's/^(video|render):([^:]*):([0-9]+):(.+)$/\1:\2:\3:\4,pd/' /etc/group
printf 'root:*:20000:0:99999:7:::\npd:*:20000:0:99999:7:::\n' >/etc/shadow
chmod 640 /etc/shadow
sed -i 's/pam_systemd\.so/pam_elogind.so/' /etc/pam.d/common-session
mkdir -p /home/pd /var/lib/xkb /tmp/.X11-unix
chmod 1777 /tmp/.X11-unix /var/lib/xkb
chown 1000:1000 /home/pd
udevadm control --reload
udevadm trigger --action=add --subsystem-match=drm --subsystem-match=input
udevadm settle --timeout=60
# udevd runs with --resolve-names=never: the group and mode that
# systemd's 50-udev-default.rules give, by hand. wlroots opens the card a
# second time itself (its allocator), as the user.
chgrp video /dev/dri/card*; chmod 660 /dev/dri/card*
chgrp input /dev/input/event*; chmod 660 /dev/input/event*
"""

# pd's ~/.profile: the desktop on the VT of the login (what a person
# without a display manager writes there).
PROFILE = """\
if [ "$(tty)" = /dev/tty1 ]; then
	%s
fi
"""
WESTON_SESSION = ("exec weston --use-pixman --log=/tmp/weston.log "
                  ">/tmp/weston.out 2>&1")
XORG_SESSION = ("exec xinit $HOME/.xsession -- /usr/bin/Xorg :0 "
                "vt$XDG_VTNR -keeptty -nolisten tcp -logfile /tmp/Xorg.log "
                ">/tmp/xinit.log 2>&1")
# the autologin on tty1, started once the guest's devices are set up
LOGIN = ("(setsid agetty --autologin pd --noclear tty1 linux </dev/null "
         ">/dev/null 2>&1 &); true")
# pd's runtime directory, which elogind makes at the login
RUNTIME = "/run/user/1000"


def as_pd(cmd):
    """cmd run by pd (in no session: a client of pd's desktop)."""
    return "su pd -c %s" % shlex.quote(cmd)


def wayland(cmd):
    """cmd run by pd as a client of guest1's Weston."""
    return as_pd("cd %s && export XDG_RUNTIME_DIR=%s WAYLAND_DISPLAY=$(ls "
                 "wayland-? | head -1) && %s" % (RUNTIME, RUNTIME, cmd))


# Weston's configuration: no screen lock or blanking (the test types into
# clients minutes later), a known background colour, no animations.
WESTON_INI = """\
[core]
idle-time=0
require-input=false

[shell]
background-color=0xff204060
locking=false
animation=none
startup-animation=none
close-animation=none
focus-animation=none

[keyboard]
repeat-delay=1000
"""
WESTON_BG = (0x20, 0x40, 0x60)

# The X session: the root window's colour, a terminal of a known colour
# in the top left corner (away from the pointer, which starts in the
# middle), and xev on the root window logging keys (with no window manager
# the focus follows the pointer, which is over the root window).
XSESSION = """\
#!/bin/sh
xsetroot -solid '#30c060'
xterm -geometry 40x8+0+0 -fa 'DejaVu Sans Mono' -fs 10 -bg '#c03080' \
    -fg white -e sh -c 'while :; do date; sleep 1; done' &
exec xev -root -event keyboard
"""
X_ROOT, X_TERM = (0x30, 0xc0, 0x60), (0xc0, 0x30, 0x80)

# The picture weston-image shows: four blocks of colours nothing else on
# either screen has.
PATTERN = [(0xff, 0x00, 0xc0), (0x00, 0xc0, 0x40), (0x20, 0x40, 0xff),
           (0xff, 0xc0, 0x00)]
PATTERN_W, PATTERN_H = 240, 160
# cage's picture: four other colours, so that a frame Weston left on the
# screen is never taken for cage's
CAGE_PATTERN = [(0x80, 0x00, 0xff), (0x00, 0xff, 0xe0), (0xe0, 0x60, 0x00),
                (0x60, 0x80, 0x00)]


def pattern_png(colours=PATTERN):
    rows = []
    for y in range(PATTERN_H):
        row = bytearray(b"\0")
        for x in range(PATTERN_W):
            row += bytes(colours[(x >= PATTERN_W // 2) +
                                 2 * (y >= PATTERN_H // 2)])
        rows.append(bytes(row))

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data)))
    return (b"\x89PNG\r\n\x1a\n" +
            chunk(b"IHDR", struct.pack(">IIBBBBB", PATTERN_W, PATTERN_H,
                                       8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(b"".join(rows))) +
            chunk(b"IEND", b""))


def count(shot, rgb):
    """Pixels of a screendump of exactly the colour rgb (pixman and
    Xorg's fb code copy opaque colours unchanged; a screendump is RGB)."""
    _, _, data = shot
    return sum(1 for m in re.finditer(re.escape(bytes(rgb)), data)
               if m.start() % 3 == 0)


def log(app, vm, path):
    return run_ok(app, vm, "cat %s 2>/dev/null; true" % path)


def hostd_log(app):
    return log(app, "dom0", "/var/log/hostd.log")


def asked(app, g, since=0):
    """What guest g's compositors asked of its card and got, as its
    backend logged it (each distinct thing once, hostd/backend/vkms),
    after line since of hostd's log."""
    return [line.split("display: asked ", 1)[1]
            for line in hostd_log(app).splitlines()[since:]
            if "pd-backend[%s]: display: asked " % g in line]


def alive(app, vm, prog):
    return app.run(vm, "pidof %s >/dev/null" % prog)[0] == 0


def started(app):
    return alive(app, "dom0", "hostd") and all(
        alive(app, g, w) for g, w in (("guest1", "weston"),
                                       ("guest2", "Xorg")))


def start_hostd(app):
    app.copy_in("dom0", CONF.encode(), "/etc/paradice/paradice.conf")
    run_ok(app, "dom0", "t=0; while [ ! -e /run/pd-udev-settled ] && "
           "[ $t -lt 90 ]; do sleep 1; t=$((t+1)); done; "
           "(hostd >/var/log/hostd.log 2>&1 &); true", timeout=120)
    wait_for("hostd ready", lambda: "ready:" in hostd_log(app), timeout=90)
    for g in ("guest1", "guest2"):
        run_ok(app, g, "lsmod | grep -q '^pdfront ' || { modprobe -a drm "
               "videodev snd && insmod /lib/modules/$(uname -r)/updates/dkms/pdfront.ko; }",
               timeout=180)
    for g in ("guest1", "guest2"):
        wait_for("%s's forwarded card and keyboard" % g, lambda: app.run(
            g, "[ -c /dev/dri/card0 ]")[0] == 0 and evdev_node(
                app, g, "Paradice %s keyboard" % g), timeout=90)
    for g in ("guest1", "guest2"):
        nodes = run_ok(app, g, "ls /dev/dri /sys/class/drm | grep -E "
                       "'^(card|renderD)[0-9]+$' | sort -u").split()
        check(nodes == ["card0"], "%s: DRM nodes %r, forwarded: card0"
              % (g, nodes))
    # pd-guest-tools' udev rules are in the guests' image (70-paradice.rules)
    for g in ("guest1", "guest2"):
        run_ok(app, g, SETUP, timeout=120)
        info = run_ok(app, g, "udevadm info /dev/dri/card0; for d in "
                      "/sys/class/input/event*; do udevadm info $d; done")
        check(re.search(r"TAGS=.*:master-of-seat:", info) and
              "ID_PARADICE=1" in info and "ID_INPUT_KEYBOARD=1" in info,
              "%s: the forwarded devices are not set up for seat0:\n%s"
              % (g, indent(info)))
        # a key logger beside the sessions (evdev does not grab): at the
        # end no key may be left down in either guest
        node = evdev_node(app, g, "Paradice %s keyboard" % g)
        run_ok(app, g, "(evtest %s >/tmp/evtest.log 2>&1 &); true" % node)


def start_sessions(app):
    """hostd in dom0, pd's Weston session in guest1 with weston-image
    showing the pattern, pd's Xorg session in guest2; once per boot."""
    if started(app):
        return
    start_hostd(app)
    app.copy_in("guest1", WESTON_INI.encode(), "/etc/xdg/weston/weston.ini")
    app.copy_in("guest1", pattern_png(), "/tmp/pattern.png")
    app.copy_in("guest1", (PROFILE % WESTON_SESSION).encode(),
                "/home/pd/.profile")
    app.copy_in("guest2", XSESSION.encode(), "/home/pd/.xsession", 0o755)
    app.copy_in("guest2", (PROFILE % XORG_SESSION).encode(),
                "/home/pd/.profile")
    for g in ("guest1", "guest2"):
        run_ok(app, g, LOGIN)
    wait_for("Weston's socket in guest1", lambda: app.run(
        "guest1", "ls %s/wayland-? >/dev/null 2>&1" % RUNTIME)[0] == 0,
        timeout=90)
    run_ok(app, "guest1", wayland(
        "(weston-image /tmp/pattern.png >/tmp/image.log 2>&1 &); true"))
    wait_for("Xorg's session in guest2", lambda: "KeyPress" in log(
        app, "guest2", "/tmp/xinit.log") or alive(app, "guest2", "xev"),
        timeout=90)


def session(app, g, prog):
    """Who runs prog in guest g and what its logind session holds: a dict
    with uid (of the process), session (elogind's record of the session
    the process is in: USER, SEAT, VTNR, ACTIVE, DEVICES the compositor
    took, as major:minor), open (the device nodes the process has open:
    major:minor -> path)."""
    out = run_ok(app, g, r"""
p=$(pidof %s | cut -d" " -f1)
echo "uid $(stat -c %%u /proc/$p)"
cg=$(sed -n 's/^0::\(.*\)/\1/p' /proc/$p/cgroup)
echo "cgroup $cg"
for f in /run/systemd/sessions/*; do
    case $f in *.ref) continue ;; esac
    [ -f $f ] && sed "s|^|${f##*/} |" $f
done
for l in /proc/$p/fd/*; do
    t=$(readlink $l)
    case $t in /dev/dri/*|/dev/input/*)
        echo "fd $(stat -L -c '%%t:%%T' $t) $t" ;; esac
done
""" % prog)
    info = {"uid": None, "cgroup": "", "sessions": {}, "open": {}}
    for line in out.splitlines():
        w = line.split(" ", 1)
        if w[0] == "uid":
            info["uid"] = int(w[1])
        elif w[0] == "cgroup":
            info["cgroup"] = w[1]
        elif w[0] == "fd":
            dev, path = w[1].split()
            info["open"]["%d:%d" % tuple(int(x, 16) for x in dev.split(
                ":"))] = path
        elif "=" in w[1]:
            k, v = w[1].split("=", 1)
            info["sessions"].setdefault(w[0], {})[k] = v
    # the session the process is in: the one whose id its cgroup names
    ids = [i for i in info["sessions"]
           if re.search(r"(^|/)%s(/|$)" % re.escape(i), info["cgroup"])]
    info["session"] = info["sessions"][ids[0]] if ids else {}
    info["session_id"] = ids[0] if ids else None
    return info


def shot(app, png):
    """A screendump, saved as png (a path, or None)."""
    return app.screendump(png)


def side_by_side(a, b):
    """Two screendumps of the same height, side by side, halved (every
    other pixel and row): one picture of both guests' desktops."""
    (wa, h, da), (wb, _, db) = a, b
    rows = []
    for y in range(0, h, 2):
        for w, d in ((wa, da), (wb, db)):
            line = d[y * w * 3:(y + 1) * w * 3]
            rows.append(b"".join(line[x * 3:x * 3 + 3]
                                 for x in range(0, w, 2)))
    return (wa + wb) // 2, h // 2, b"".join(rows)


def weston_in_front(app, png):
    """Weston's desktop with weston-image's picture on the screen?
    (and the counts of its colours)"""
    s = shot(app, png)
    n = [count(s, c) for c in PATTERN]
    return all(k > PATTERN_W * PATTERN_H // 8 for k in n) and \
        count(s, WESTON_BG) > 10000, n


def xorg_in_front(app, png, root=X_ROOT):
    """Xorg's root window (of colour root) and the xterm on the screen?"""
    s = shot(app, png)
    return count(s, root) > 100000 and count(s, X_TERM) > 10000
