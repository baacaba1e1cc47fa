# SPDX-License-Identifier: GPL-2.0-only
"""Smoke test of the plain VM: one Linux kernel with the real drivers whose
device files Paradice forwards (the loop transport's tests run here)."""

from pdvm.testlib import check, run_ok

MODE = "plain"
# first in the forwarding suite's boot (tests/run-all)
BOOT_WITH = "forwarding"


def test_real_drivers_give_device_files(app):
    """bochs and vgem (DRM), vivid (V4L2), snd-dummy and snd-aloop (ALSA)
    and uinput are loaded and their device files exist."""
    out = run_ok(app, "plain", "cat /sys/class/drm/card*/device/uevent "
                 "/sys/class/video4linux/video*/name /proc/asound/cards; "
                 "ls /dev/uinput /dev/dri/renderD128 /dev/snd/controlC0")
    for want in ("DRIVER=bochs-drm", "vivid", "Dummy", "Loopback"):
        check(want in out, "%r not found:\n%s" % (want, out))
    out = run_ok(app, "plain", "ls /sys/bus/platform/drivers/vgem 2>/dev/null;"
                 " lsmod")
    check("vgem" in out, "vgem is not loaded")


def test_frontend_module_loads(app):
    """The module DKMS builds from pd-guest-tools loads in the plain
    kernel and unloads."""
    out = run_ok(app, "plain", "insmod "
                 "/lib/modules/$(uname -r)/updates/dkms/pdfront.ko && "
                 "dmesg | grep 'paradice:'; rmmod pdfront")
    check("paradice: frontend loaded" in out, out)
