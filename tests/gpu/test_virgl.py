# SPDX-License-Identifier: GPL-2.0-only
"""3D through Paradice: dom0 has a virtio-gpu with virgl 3D (QEMU renders
its command streams with the host's llvmpipe); guest1 is given dom0's
render node of it, and Mesa's Gallium virgl driver in guest1 renders
through the forwarded node: GBM, EGL, GEM buffers, command submission,
transfers, waits and mmap of buffers all cross the Xen transport to the
real virtio_gpu driver in dom0.

tests/gpu/pd-gltest draws a known scene (a blue clear, an orange triangle
over the lower left half) into a framebuffer object and reads 8 pixels
back; it runs natively in dom0 and in guest1 on the forwarded node."""

import re

from pdvm import xen
from pdvm.testlib import check, run_ok

MODE = "xen"
GUESTS = 2
VIRGL = True
# the same guests' image as tests/gpu/test_weston_gl.py (one boot)
GUEST_LAYERS = ("desktop",)

FRAMES = 20


def dom0_render_node(app):
    """dom0's render node whose DRM device sits on the virtio_gpu driver
    (the card's parent device is the virtio PCI function; its virtio
    child is bound to virtio_gpu)."""
    out = run_ok(app, "dom0", "for d in /sys/class/drm/renderD*; do "
                 "drv=$(readlink $d/device/virtio*/driver 2>/dev/null); "
                 "[ \"${drv##*/}\" = virtio_gpu ] && echo ${d##*/}; done; true")
    nodes = out.split()
    check(len(nodes) == 1, "dom0 has %d virtio_gpu render nodes: %r "
          "(is the appliance booted with virgl?)" % (len(nodes), nodes))
    return "/dev/dri/" + nodes[0]


def gltest(app, vm, node):
    """Run pd-gltest in vm on node; returns (exit code, output)."""
    code, out, err = app.run(vm, "pd-gltest -n %d %s" % (FRAMES, node),
                             timeout=400)
    text = out.decode(errors="replace")
    print("--- %s: pd-gltest %s (exit %d)\n%s%s" % (
        vm, node, code, text, err.decode(errors="replace")[-2000:]))
    return code, text


def proof_lines(text):
    """What must be the same in dom0 and the guest: the renderer and
    the pixels read back."""
    return [line for line in text.splitlines()
            if line.startswith(("GL_RENDERER ", "pixel "))]


def check_scene(vm, code, text):
    renderer = re.search(r"^GL_RENDERER (.*)$", text, re.M)
    check(renderer and "virgl" in renderer.group(1),
          "%s: the renderer is not virgl: %r" % (
              vm, renderer.group(1) if renderer else None))
    check(code == 0 and text.rstrip().endswith("\nok"),
          "%s: pd-gltest did not read back the scene (exit %d)" % (vm, code))
    check(len([x for x in text.splitlines() if x.startswith("pixel ")]) == 8,
          "%s: pd-gltest printed no 8 pixels" % vm)


def test_virgl_native_in_dom0(app):
    """In dom0, on the virtio-gpu's render node itself, pd-gltest reports
    GL_RENDERER virgl and reads back the pixels of the known scene."""
    node = dom0_render_node(app)
    code, text = gltest(app, "dom0", node)
    check_scene("dom0", code, text)


def test_virgl_in_guest_through_paradice(app):
    """guest1, given dom0's virgl render node through Paradice: with no
    driver override or other hint, Mesa in guest1 picks the virgl driver
    for the forwarded /dev/dri/renderD128, and pd-gltest reports the same
    GL_RENDERER and reads back the same pixels as natively in dom0."""
    node = dom0_render_node(app)
    conf = "[guest guest1]\ndevices = %s\n" % node
    xen.setup(app, guests=("guest1",), conf=conf,
              nodes=("/dev/dri/renderD128",))
    code0, native = gltest(app, "dom0", node)
    check_scene("dom0", code0, native)
    code1, forwarded = gltest(app, "guest1", "/dev/dri/renderD128")
    check_scene("guest1", code1, forwarded)
    check(proof_lines(forwarded) == proof_lines(native),
          "guest1 differs from dom0:\n--- dom0\n%s\n--- guest1\n%s" % (
              "\n".join(proof_lines(native)),
              "\n".join(proof_lines(forwarded))))
