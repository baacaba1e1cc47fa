# SPDX-License-Identifier: GPL-2.0-only
"""The emulated appliance: QEMU (TCG) running either one Linux VM (`plain`)
or Xen 4.17 with a PV dom0 and N guests (`xen`), each PV or PVH.

State of the running appliance lives in build/vm/state/: QEMU's pid, the QMP
and agent sockets, the serial console log, and info.json (mode, guests).
Every wait is bounded by wall-clock time and fails with the tail of the log
that explains it.
"""

import json
import os
import shlex
import signal
import stat
import subprocess
import time
import zlib
import struct

from . import debs, image
from .channels import Agent, ChannelError, Qmp

TOP = image.TOP
BUILD = os.path.join(TOP, "build")
VMBUILD = os.path.join(BUILD, "vm")
# PD_VM_STATE names another state directory, so that two appliances can
# run side by side (two people, or a helper and a test run).
STATE = os.environ.get("PD_VM_STATE") or os.path.join(VMBUILD, "state")
CACHE = os.path.join(VMBUILD, "cache")

# Under Xen, dom0 is the driver domain: it owns the screen and the devices.
DOM0_MEM_MB = 1024
# A guest's memory (xen-config/pd-test-guest.cfg says 384 MiB). Its
# initramfs lives in RAM twice while the kernel unpacks it (the ramdisk and
# the files), once after.
GUEST_MEM_MB = 384
# With virgl, dom0's and the guests' images carry Mesa (the "gpu" layer,
# about 200 MiB, most of it libLLVM), and dom0's image also the guests'
# image: both get more memory.
# The root filesystem (tmpfs) holds half of the memory left beside the
# ramdisk at boot; a file that does not fit is cut off, and the kernel
# logs it (up() fails then, see UNPACK_FAILED). Measured with virgl: at
# 768 MiB a guest's rootfs had 229 MiB for its 240 MiB image (less
# duplicates between layers) and kept 1 MiB free; at 1024 MiB, see
# docs/ARCHITECTURE.md. dom0 at 2048 MiB: a 663 MiB rootfs for its
# 559 MiB image, 117 MiB free.
VIRGL_DOM0_MEM_MB = 2048
VIRGL_GUEST_MEM_MB = 1024
# What the kernel says when the initramfs does not fit its rootfs
# (init/initramfs.c), with or without CONFIG_BLK_DEV_RAM.
UNPACK_FAILED = ("Initramfs unpacking failed", "rootfs image is not initramfs")
# The virtio-gpu with virgl 3D that `up(virgl=True)` gives the machine
# beside the bochs screen: QEMU renders its commands with the host's Mesa,
# which falls back to llvmpipe here (no GPU; ../shared/EMULATION.md).
# iommu_platform=on offers VIRTIO_F_ACCESS_PLATFORM, so that the driver
# gives the device DMA addresses of buffer pages (virtio_gpu_object_
# shmem_init(): use_dma_api = !virtio_has_dma_quirk()). Without it,
# RESOURCE_ATTACH_BACKING carries sg_phys() of the pages, which in a Xen PV
# dom0 are pseudo-physical addresses, not the machine addresses QEMU
# reads and writes: measured, every pixel read back from the GPU was 0
# (and QEMU wrote into frames that are not the buffer's). With it, the
# addresses come from Xen's swiotlb, which translates them.
VIRGL_QEMU_ARGS = ["-device", "virtio-gpu-gl-pci,id=vgpu,iommu_platform=on,"
                   "xres=1920,yres=1080",
                   "-display", "egl-headless,rendernode=/dev/null"]
# The virtio-gpu's connector (Virtual-2: bochs's is Virtual-1, and its
# driver is loaded first) gets one of the kernel's built-in EDIDs instead
# of QEMU's, whose mode list goes up to 5120x2160: glmark2-es2-drm takes
# the largest mode of a connector, not the preferred one, and scanning out
# 11 Mpixel frames under TCG measures little but memory copies. QEMU's
# xres/yres must say the same size: virtio_gpu_conn_mode_valid() refuses
# a preferred mode other than the host's size (or 1024x768).
VIRGL_LINUX_ARGS = " drm.edid_firmware=Virtual-2:edid/1920x1080.bin"
# from dom0 ready to one guest's agent answering; PD_VM_GUEST_TIMEOUT for a
# machine shared with other emulated machines
GUEST_TIMEOUT = int(os.environ.get("PD_VM_GUEST_TIMEOUT") or 100)
# With virgl a guest's image is about 240 MiB instead of 40: `xl create`
# took 27-40 s and the guest's unpacking of it 23 s (measured, one other
# emulated machine running).
VIRGL_GUEST_TIMEOUT_FACTOR = 2
BOOT_TIMEOUT = 150      # from QEMU start to the first agent answer
# The emulated CPU. qemu64 carries the svm flag and TCG emulates SVM, so
# Xen can run HVM containers; +npt adds nested paging, without which
# Debian's Xen (no shadow paging) refuses PVH and HVM guests ("neither hap
# nor shadow paging available"). With it Xen reports "HAP detected"; the
# PV dom0, PV guests and the plain VM boot as before (../shared/
# EMULATION.md; `-cpu max` crashes the PV dom0). Used only when a PVH guest
# is asked for: PVH is opt-in while its guests still die at random here.
QEMU_CPU = "qemu64"
QEMU_CPU_PVH = "qemu64,+npt"
# For experiments by hand: PD_VM_CPU replaces the -cpu argument,
# PD_VM_ACCEL replaces -accel, PD_VM_QEMU_ARGS adds QEMU arguments,
# PD_VM_XEN_ARGS adds to Xen's command line.
ENV_ACCEL = os.environ.get("PD_VM_ACCEL")
ENV_CPU = os.environ.get("PD_VM_CPU")
ENV_QEMU_ARGS = shlex.split(os.environ.get("PD_VM_QEMU_ARGS") or "")
ENV_XEN_ARGS = os.environ.get("PD_VM_XEN_ARGS") or ""
# What a Xen test guest can be (xen-config/pd-test-guest.cfg's `type`):
# pv, or pvh (the same kernel and initramfs, paging auto-translated by
# Xen with nested paging). hvm needs a device model in dom0 (QEMU), which
# the images do not carry.
GUEST_TYPES = ("pv", "pvh")
# The project's packages (`make debs`) unpacked into each role's image, as
# dpkg would (tests/vm/pdvm/debs.py): the programs, the D-Bus and polkit
# files, the config, the udev rules; the kernel modules built from the
# packages' DKMS trees as DKMS would, where DKMS installs them. The plain
# VM is dom0 and guest at once (loop transport), so the host image, which
# it shares with dom0, carries the guest's package too. No image has
# paradice-switcher-ui: no emulated machine runs a desktop in dom0.
ROLE_PACKAGES = {
    "host": ("paradice-host", "paradice-dom0-dkms", "pd-guest-tools"),
    "guest": ("pd-guest-tools",),
}
# Where DKMS installs a module for kernel KVER (DEST_MODULE_LOCATION of
# both dkms.conf): tests load them from there (insmod).
DKMS_MODULE_DIR = "usr/lib/modules/%s/updates/dkms"
# Test programs, in no package: put in every image at /usr/bin (paths under
# build/meson), with the libraries they need; optional ones are skipped
# when the build did not make them.
PROJECT_PROGRAMS = [
    ("tests/vm/agent/pd-vmagent", True),
    ("bench/pd-bench", False),
    ("tests/forwarding/pd-fwdtest", False),
    ("tests/xen/pd-attack", False),
    ("tests/xen/pd-rogue-front", False),
    ("tests/display/pd-kmsclient", False),
    ("tests/gpu/pd-gltest", False),
]
# The project's programs put only in the guests of images with one guest
# layer (tests/vm/profiles/NAME.txt), which holds their libraries: what
# runs only in those guests, without the libraries in every image.
LAYER_PROGRAMS = {
    "switcher": ["switcher-ui/switcher-ui"],
}
# Read-only disks (tests/vm/profiles/NAME.txt made an ext2 image by
# image.build_disk()) that a xen appliance whose guests carry a layer
# gets as virtio disks in dom0 (serial NAME: /sys/block/vdX/serial), for
# programs too big for the guests' initramfs; a test hands one to a guest
# as a Xen virtual disk (pdvm.xen.disk_attach()). Nothing reads them
# unless a test does: QEMU reads the file lazily.
LAYER_DISKS = {
    "camera": ("ffmpeg",),
}
# Libraries of the project's tests (under build/meson), put in every image
# when the build made them: wlroots' debug log for cage (tests/desktop);
# PulseAudio's timer-based scheduling in a guest (tests/xen).
PROJECT_LIBS = [
    ("tests/desktop/libpd-wlrdebug.so", "usr/lib/pd-wlrdebug.so"),
    ("tests/xen/libpd-pa-novm.so", "usr/lib/pd-pa-novm.so"),
]
# "Triple fault": Xen's word for a PVH/HVM guest that died; the guest is
# then restarted under a new domain id, and tests that load the frontend
# again would pass without a word.
LOG_PATTERNS = ("Oops", "BUG:", "WARNING:", "Kernel panic",
                "general protection fault", "Call Trace:", "UBSAN:",
                "KASAN:", "(XEN) ****", "Triple fault")


class VmError(Exception):
    pass


def known_dump(lines, i):
    """Is lines[i] the "Call Trace:" of vivid's capture thread asking
    schedule_timeout() for a negative wait? Debian 6.1's vivid computes
    its next frame's wait in jiffies unsigned; when the machine falls
    more than a frame behind (TCG under load: "hrtimer: interrupt took
    134196166 ns" before it) the wait wraps, schedule_timeout() says
    "wrong timeout value" with a stack dump and returns at once, and
    vivid goes on. A driver's own message about its own thread, not a
    fault, and nothing forwarding can cause or avoid."""
    if "Call Trace:" not in lines[i]:
        return False
    before = lines[max(0, i - 6):i]
    after = lines[i + 1:i + 12]
    return (any("schedule_timeout: wrong timeout value" in l for l in before)
            and any("vivid_thread_vid_cap" in l for l in after))


def layers_mb(host_image, layers):
    """MiB of the extra layers of an image (0 without)."""
    total = 0
    for n in layers:
        path = n if n.endswith(".cpio") else None
        if path is None:
            found = [f for f in os.listdir(CACHE)
                     if f.startswith("base-%s-" % n)]
            path = os.path.join(CACHE, max(
                found, key=lambda f: os.path.getmtime(os.path.join(CACHE, f))))
        total += os.path.getsize(path)
    return (total >> 20) + (1 if total else 0)


def log_tail(text, n=25):
    lines = text.splitlines()[-n:]
    return "\n".join("    | " + line for line in lines)


def now():
    return time.monotonic()


class Appliance:
    def __init__(self, quiet=False):
        self.quiet = quiet
        self.agent = Agent(os.path.join(STATE, "agent.sock"),
                           os.path.join(STATE, "agent.lock"))

    def say(self, msg):
        if not self.quiet:
            print("appliance: " + msg, flush=True)

    # -- state ---------------------------------------------------------------
    def info(self):
        try:
            with open(os.path.join(STATE, "info.json")) as f:
                return json.load(f)
        except FileNotFoundError:
            raise VmError("the appliance is not up (tests/vm/appliance up)")

    def pid(self):
        try:
            with open(os.path.join(STATE, "qemu.pid")) as f:
                pid = int(f.read().strip())
            os.kill(pid, 0)
            return pid
        except (FileNotFoundError, ValueError, ProcessLookupError):
            return None

    def console_log(self):
        try:
            with open(os.path.join(STATE, "console.log"), "rb") as f:
                return f.read().decode(errors="replace")
        except FileNotFoundError:
            return ""

    def vms(self):
        info = self.info()
        if info["mode"] == "plain":
            return ["plain"]
        return ["dom0"] + ["guest%d" % i for i in range(1, info["guests"] + 1)]

    def guest_type(self, g):
        """pv or pvh: how guest g (guest1, ...) was created."""
        self._check_guest(g)
        types = self.info().get("guest_types") or []
        i = int(g[len("guest"):]) - 1
        return types[i] if i < len(types) else "pv"

    # -- images --------------------------------------------------------------
    def _project_layer(self, role, kver, packages, guest_image=None,
                       guest_layers=()):
        """/init, the project's packages and test programs, for one role;
        a guest's also the LAYER_PROGRAMS of its guest_layers.
        packages: package name -> .deb (debs.ensure())."""
        c = image.Cpio()
        for layer in guest_layers if role == "guest" else ():
            for rel in LAYER_PROGRAMS.get(layer, []):
                prog = os.path.join(BUILD, "meson", rel)
                if not os.path.exists(prog):
                    raise VmError("%s is missing: run `make build` first"
                                  % prog)
                c.file("usr/bin/" + os.path.basename(rel), prog, 0o755)
        c.file("init", os.path.join(image.VMDIR, "init.sh"), 0o755)
        libs = image.BaseBuilder(None, kver)
        for name in ROLE_PACKAGES[role]:
            self._unpack_package(c, libs, packages[name], kver)
        for rel, required in PROJECT_PROGRAMS:
            prog = os.path.join(BUILD, "meson", rel)
            if not os.path.exists(prog):
                if required:
                    raise VmError("%s is missing: run `make build` first"
                                  % prog)
                continue
            libs.add_binary(prog, rel)
            del libs.files[os.path.realpath(prog)]
            c.file("usr/bin/" + os.path.basename(rel), prog, 0o755)
        for p in libs.files:
            c.file(p, p, 0o755)
        for p, t in libs.links.items():
            c.symlink(p, t)
        for src, dest in PROJECT_LIBS:
            if os.path.exists(os.path.join(BUILD, "meson", src)):
                c.file(dest, os.path.join(BUILD, "meson", src), 0o755)
        if role == "host":
            c.file("etc/xen/pd-test-guest.cfg",
                   os.path.join(TOP, "xen-config", "pd-test-guest.cfg"))
            c.file("boot/vmlinux", image.vmlinux(kver, CACHE))
            c.file("images/guest.cpio", guest_image)
        return c

    def _unpack_package(self, c, libs, deb, kver):
        """Put into c what installing deb leaves on a Debian 12 system:
        its files (/bin, /sbin, /lib as /usr's: the images merge /usr as
        Debian 12 does), the libraries its programs need (into libs), and
        the modules DKMS would build from its /usr/src trees."""
        root = debs.unpack(deb)
        for dirpath, dirnames, names in os.walk(root):
            for n in names + [d for d in dirnames
                              if os.path.islink(os.path.join(dirpath, d))]:
                src = os.path.join(dirpath, n)
                rel = os.path.relpath(src, root)
                top, _, rest = rel.partition("/")
                if top in image.MERGED_USR and rest:
                    rel = image.MERGED_USR[top] + "/" + rest
                if os.path.islink(src):
                    c.symlink(rel, os.readlink(src))
                    continue
                mode = stat.S_IMODE(os.stat(src).st_mode)
                c.file(rel, src, mode)
                if mode & 0o111:
                    with open(src, "rb") as f:
                        elf = f.read(4) == b"\x7fELF"
                    if elf:
                        libs.add_binary(src, deb)
                        del libs.files[os.path.realpath(src)]
        try:
            built = debs.dkms_modules(deb, kver, self.say)
        except debs.DebsError as e:
            raise VmError(str(e)) from e
        for module, ko in built:
            c.file("%s/%s.ko" % (DKMS_MODULE_DIR % kver, module), ko)

    def build_images(self, virgl=False, layers=(), guest_layers=()):
        """The host (plain VM or dom0) and guest images; with virgl both
        also get the "gpu" layer (Mesa) and other file names, so that an
        appliance with virgl and one without can be built side by side.
        layers: more profiles (tests/vm/profiles/NAME.txt), or paths of
        ready cpio layers, put in both images after the gpu layer, for what
        only the bench or the demo runs (glmark2, a game): the images
        `make check` boots never carry them. guest_layers: profiles put in
        the guests' image only (dom0 carries them inside it, as a file),
        for what only guests run (the desktop sessions)."""
        kver = image.kernel_version()
        os.makedirs(VMBUILD, exist_ok=True)
        try:
            packages = debs.ensure(self.say)
        except debs.DebsError as e:
            raise VmError(str(e)) from e
        suffix = ("-virgl" if virgl else "") + "".join(
            "-" + os.path.basename(n).replace(".cpio", "") for n in layers) \
            + "".join("-g" + n for n in guest_layers)
        guest = os.path.join(VMBUILD, "guest%s.cpio" % suffix)
        host = os.path.join(VMBUILD, "host%s.cpio" % suffix)
        t0 = now()
        gpu = [image.build_base("gpu", CACHE, kver, self.say)] if virgl else []
        gpu += [n if n.endswith(".cpio") else
                image.build_base(n, CACHE, kver, self.say) for n in layers]
        image.concat(guest, [image.build_base("guest", CACHE, kver, self.say)]
                     + gpu + [image.build_base(n, CACHE, kver, self.say)
                              for n in guest_layers]
                     + [self._project_layer("guest", kver, packages,
                                            guest_layers=guest_layers)])
        image.concat(host, [image.build_base("host", CACHE, kver, self.say)]
                     + gpu + [self._project_layer("host", kver, packages,
                                                  guest)])
        self.say("images ready in %.1fs (host %d MiB, guest %d MiB)" % (
            now() - t0, os.path.getsize(host) >> 20,
            os.path.getsize(guest) >> 20))
        return kver, host

    def xen_elf(self):
        out = os.path.join(VMBUILD, "xen.elf")
        src = "/boot/xen-4.17-amd64.gz"
        if not os.path.exists(src):
            raise VmError("%s missing: install xen-hypervisor-4.17-amd64" % src)
        if not os.path.exists(out) or \
                os.path.getmtime(out) < os.path.getmtime(src):
            with open(src, "rb") as f:
                data = zlib.decompress(f.read(), 16 + zlib.MAX_WBITS)
            with open(out + ".tmp", "wb") as f:
                f.write(data)
            os.replace(out + ".tmp", out)
        return out

    # -- up / down -----------------------------------------------------------
    def up(self, mode="xen", guests=2, broken=(), timeout=BOOT_TIMEOUT,
           virgl=False, layers=(), guest_layers=(), guest_types=None):
        """Boot the appliance. virgl: a virtio-gpu with virgl 3D beside the
        bochs screen (VIRGL_QEMU_ARGS), whose driver the plain VM or dom0
        loads, and Mesa in every image. layers, guest_layers: see
        build_images(). guest_types: the type of each guest in order
        (GUEST_TYPES), the last one repeated for the guests after it; all
        PV when None."""
        if self.pid():
            raise VmError("the appliance is already up (tests/vm/appliance down)")
        if mode not in ("plain", "xen"):
            raise VmError("unknown mode %r (plain or xen)" % mode)
        types = list(guest_types or ["pv"])
        bad = [t for t in types if t not in GUEST_TYPES]
        if bad:
            raise VmError("unknown guest type %r (%s)"
                          % (bad[0], ", ".join(GUEST_TYPES)))
        types = (types + types[-1:] * guests)[:guests]
        kver, host = self.build_images(virgl, layers, guest_layers)
        extra_mb = layers_mb(host, layers)
        guest_extra_mb = layers_mb(host, guest_layers)
        os.makedirs(STATE, exist_ok=True)
        for f in os.listdir(STATE):
            os.unlink(os.path.join(STATE, f))
        vmlinuz = "/boot/vmlinuz-%s" % kver
        qemu = ["qemu-system-x86_64", "-accel", ENV_ACCEL or "tcg,thread=multi",
                "-cpu", ENV_CPU or (QEMU_CPU_PVH if "pvh" in types
                                    else QEMU_CPU),
                "-smp", "2", "-vga", "std",
                "-nic", "none", "-no-reboot",
                "-chardev", "file,id=con,path=%s/console.log" % STATE,
                "-serial", "chardev:con",
                "-qmp", "unix:%s/qmp.sock,server=on,wait=off" % STATE,
                "-device", "virtio-serial-pci,id=vser",
                "-chardev", "socket,id=agent,path=%s/agent.sock,server=on,wait=off" % STATE,
                "-device", "virtserialport,bus=vser.0,chardev=agent,name=org.paradice.agent",
                "-pidfile", "%s/qemu.pid" % STATE, "-daemonize"]
        linux_args = "loglevel=6 panic=-1 oops=panic" \
            if os.environ.get("PD_VM_PANIC_ON_OOPS") else "loglevel=6"
        dom0_mem, guest_mem = DOM0_MEM_MB, GUEST_MEM_MB
        if not virgl:
            qemu += ["-display", "none"]
        else:
            qemu += VIRGL_QEMU_ARGS + [
                "-vnc", "unix:%s/vnc.sock,display=vgpu" % STATE]
            linux_args += " pd.virgl=1" + VIRGL_LINUX_ARGS
            dom0_mem, guest_mem = VIRGL_DOM0_MEM_MB, VIRGL_GUEST_MEM_MB
        # A layer of L MiB: the guest holds it as ramdisk and as files, in
        # a rootfs of half the memory left (3L more); dom0 holds it twice
        # (its own, and in the guests' image) as ramdisk and as files (6L).
        # A guest-only layer: the guest as above (3L), dom0 holds it once,
        # inside the guests' image (3L).
        if mode == "xen":
            dom0_mem += 6 * extra_mb + 3 * guest_extra_mb
            guest_mem += 3 * (extra_mb + guest_extra_mb)
        if mode == "plain":
            qemu += ["-m", "2048", "-kernel", vmlinuz, "-initrd", host,
                     "-append", "console=ttyS0 pd.role=plain " + linux_args]
        else:
            extra = " pd.guests=%d" % guests
            if guest_mem != GUEST_MEM_MB:
                extra += " pd.guest_mem=%d" % guest_mem
            if broken:
                extra += " pd.break=" + ",".join(broken)
            # (not commas: QEMU's -initrd takes them between modules)
            if any(t != "pv" for t in types):
                extra += " pd.guest_types=" + ":".join(types)
            # Room for every guest, one spare (tests create extra guests),
            # and Xen itself. QEMU only backs what is touched.
            mem = dom0_mem + (guest_mem + 16) * (guests + 1) + 256
            # iommu_platform=on: as for the virtio-gpu (VIRGL_QEMU_ARGS),
            # a PV dom0's driver must hand QEMU addresses from Xen's
            # swiotlb, not pseudo-physical ones; QEMU offers it on a
            # modern-only device (disable-legacy=on)
            for name in sorted({d for g in guest_layers
                                for d in LAYER_DISKS.get(g, ())}):
                try:
                    disk = image.build_disk(name, CACHE, kver, self.say)
                except image.ImageError as e:
                    raise VmError(str(e)) from e
                qemu += ["-drive", "file=%s,if=none,id=disk-%s,format=raw,"
                         "readonly=on" % (disk, name),
                         "-device", "virtio-blk-pci,drive=disk-%s,serial=%s,"
                         "disable-legacy=on,iommu_platform=on" % (name, name)]
            qemu += ["-m", str(mem), "-kernel", self.xen_elf(),
                     "-append", "dom0_mem=%dM,max:%dM console=com1 "
                     "com1=115200,8n1 bootscrub=0 loglvl=all guest_loglvl=all%s"
                     % (dom0_mem, dom0_mem,
                        " " + ENV_XEN_ARGS if ENV_XEN_ARGS else ""),
                     "-initrd", "%s console=hvc0 pd.role=dom0 %s%s,%s" % (
                         vmlinuz, linux_args, extra, host)]
        qemu += ENV_QEMU_ARGS
        with open(os.path.join(STATE, "info.json"), "w") as f:
            json.dump({"mode": mode, "guests": guests if mode == "xen" else 0,
                       "guest_types": types if mode == "xen" else [],
                       "virgl": bool(virgl), "layers": list(layers),
                       "guest_layers": list(guest_layers),
                       "started": time.time()}, f)
        with open(os.path.join(STATE, "qemu.cmdline"), "w") as f:
            f.write(" ".join(shlex.quote(a) for a in qemu) + "\n")
        t0 = now()
        r = subprocess.run(qemu, capture_output=True, text=True)
        if r.returncode != 0:
            raise VmError("QEMU did not start: %s" % r.stderr.strip())
        first = "plain" if mode == "plain" else "dom0"
        self.wait_agent(first, t0 + timeout)
        self.check_unpacked(first)
        self.say("%s ready after %.1fs" % (first, now() - t0))
        if mode == "xen":
            t1 = now()
            wait = GUEST_TIMEOUT * (VIRGL_GUEST_TIMEOUT_FACTOR if virgl
                                    else 1)
            for i in range(1, guests + 1):
                g = "guest%d" % i
                self.wait_guest(g, t1 + wait * i)
                self.check_unpacked(g)
                self.say("%s (%s) ready after %.1fs" % (g, types[i - 1],
                                                        now() - t0))
        return now() - t0

    def check_unpacked(self, vm):
        """Fail when vm's kernel could not unpack its whole image: files
        would be missing or cut short without another word."""
        text = self.log(vm)
        for line in text.splitlines():
            if any(p in line for p in UNPACK_FAILED):
                raise VmError("%s: its image does not fit its memory: %s"
                              % (vm, line.strip()))

    def wait_agent(self, vm, deadline):
        """Wait until the agent of the plain VM or dom0 answers."""
        while True:
            if not self.pid():
                raise VmError("QEMU exited while %s was booting; console:\n%s"
                              % (vm, log_tail(self.console_log())))
            try:
                if self.agent.ping(timeout=3):
                    return
            except ChannelError:
                pass
            if now() > deadline:
                raise VmError("%s: its agent did not answer in time; "
                              "console:\n%s" % (vm, log_tail(self.console_log())))
            time.sleep(0.5)

    def wait_guest(self, g, deadline):
        """Wait until guest g's domain exists and its agent answers over
        vchan; give up at deadline (a ping waits for the agent for at most
        what is left, 1 to 20 s)."""
        while True:
            wait = int(min(20, max(1, deadline - now())))
            code, out, _ = self.agent.exec(
                "pd-vmagent client %s -t %d ping 2>/dev/null"
                % (g, wait), timeout=wait + 20)
            if code == 0:
                return
            if now() >= deadline:
                raise VmError("%s did not come up in time: no answer from "
                              "its agent (no PD-READY marker).\n%s" %
                              (g, self.guest_diagnosis(g)))
            time.sleep(1)

    def guest_diagnosis(self, g):
        _, out, _ = self.agent.exec(
            "echo '--- xl list'; xl list; echo '--- xl create %s'; "
            "tail -n 15 /var/log/xen/create-%s.log; "
            "echo '--- console of %s'; tail -n 25 /var/log/xen/console/guest-%s.log"
            % (g, g, g, g), timeout=20)
        return log_tail(out.decode(errors="replace"), 60)

    def down(self, timeout=20):
        pid = self.pid()
        if not pid:
            self.say("not running")
            return
        try:
            if self.info()["mode"] == "xen":
                self.agent.exec("xl shutdown -a -w >/dev/null 2>&1 & "
                                "sleep 3; sync; poweroff -f", timeout=8)
            else:
                self.agent.exec("sync; poweroff -f", timeout=5)
        except (ChannelError, VmError):
            pass
        deadline = now() + timeout
        while self.pid() and now() < deadline:
            time.sleep(0.2)
        if self.pid():
            try:
                q = Qmp(os.path.join(STATE, "qmp.sock"))
                q.cmd("quit")
                q.close()
            except (OSError, ChannelError):
                pass
            time.sleep(1)
        pid = self.pid()
        if pid:
            os.kill(pid, signal.SIGKILL)
        self.say("down")

    # -- commands into the machines ----------------------------------------
    # commands run in the machines (run()) and the seconds they took, for
    # tests/run-all's per-test line
    runs = [0, 0.0]

    def run(self, vm, cmd, timeout=60, out=None, err=None):
        """Run a shell command in vm; returns (code, stdout, stderr).
        Exit code 125 means the channel itself failed."""
        mode = self.info()["mode"]
        if vm == "plain" and mode != "plain" or vm != "plain" and mode == "plain":
            raise VmError("no VM %r in %s mode (have: %s)" %
                          (vm, mode, ", ".join(self.vms())))
        t0 = time.monotonic()
        try:
            if vm in ("plain", "dom0"):
                return self.agent.exec(cmd, timeout, out, err)
            self._check_guest(vm)
            wrapped = "pd-vmagent client %s -t %d exec %s" % (
                vm, timeout, shlex.quote(cmd))
            return self.agent.exec(wrapped, timeout + 10, out, err)
        finally:
            Appliance.runs[0] += 1
            Appliance.runs[1] += time.monotonic() - t0

    def _check_guest(self, vm):
        if vm not in self.vms():
            raise VmError("no VM %r (have: %s)" % (vm, ", ".join(self.vms())))

    def copy_in(self, vm, data, dest, mode=0o644):
        if vm in ("plain", "dom0"):
            return self.agent.put(data, dest, mode)
        self._check_guest(vm)
        tmp = "/tmp/pd-copy-%d" % os.getpid()
        self.agent.put(data, tmp, mode)
        code, out, err = self.agent.exec(
            "pd-vmagent client %s put %s %s %o; r=$?; rm -f %s; "
            "exit $r" % (vm, tmp, shlex.quote(dest), mode, tmp), timeout=120)
        if code != 0:
            raise VmError("copy to %s:%s failed: %s" % (vm, dest,
                                                        err.decode().strip()))
        return True

    def copy_out(self, vm, src):
        if vm in ("plain", "dom0"):
            return self.agent.get(src)
        self._check_guest(vm)
        tmp = "/tmp/pd-copy-%d" % os.getpid()
        code, _, err = self.agent.exec(
            "pd-vmagent client %s get %s %s" %
            (vm, shlex.quote(src), tmp), timeout=120)
        if code != 0:
            raise VmError("copy from %s:%s failed: %s" %
                          (vm, src, err.decode().strip()))
        data = self.agent.get(tmp)
        self.agent.exec("rm -f " + tmp, timeout=10)
        return data

    def log(self, vm):
        """The console of a VM: the serial log for plain and dom0 (with
        Xen's own lines), xenconsoled's log for a guest."""
        if vm in ("plain", "dom0", "xen"):
            return self.console_log()
        self._check_guest(vm)
        _, out, _ = self.agent.exec(
            "cat /var/log/xen/console/guest-%s.log" % vm, timeout=20)
        return out.decode(errors="replace")

    def log_problems(self, vm, since=0):
        """Lines from vm's console after offset `since` that show a kernel
        or hypervisor fault; returns (lines, new offset). One known stack
        dump is not ours: known_dump()."""
        text = self.log(vm)
        lines = text[since:].splitlines()
        found = [line for i, line in enumerate(lines)
                 if any(p in line for p in LOG_PATTERNS) and
                 not known_dump(lines, i)]
        return found, len(text)

    # -- screen and input ----------------------------------------------------
    def vnc_grab(self, png_path):
        """Save what the virtio-gpu's scanout shows (appliances with virgl:
        QMP screendump cannot capture a virgl scanout); returns (width,
        height, rgb bytes)."""
        from . import vnc
        w, h, rgb = vnc.grab(os.path.join(STATE, "vnc.sock"))
        if png_path:
            write_png(png_path, w, h, rgb)
        return w, h, rgb

    def qmp(self):
        if not self.pid():
            raise VmError("the appliance is not up")
        return Qmp(os.path.join(STATE, "qmp.sock"))

    def screendump(self, png_path):
        """Save what the emulated screen shows; returns (width, height,
        rgb bytes)."""
        ppm = os.path.join(STATE, "screen.ppm")
        q = self.qmp()
        try:
            q.cmd("screendump", filename=ppm)
        finally:
            q.close()
        w, h, rgb = read_ppm(ppm)
        if png_path:
            write_png(png_path, w, h, rgb)
        return w, h, rgb

    def keys(self, combos, hold_ms=50):
        """Press key combinations such as 'ctrl-alt-f2' or 'a', one after
        the other: every key of a combination goes down in order and up in
        reverse order."""
        q = self.qmp()
        try:
            for combo in combos:
                names = [qcode(k) for k in combo.split("-")] \
                    if combo != "-" else ["minus"]
                ev = [{"type": "key", "data": {"down": True, "key": {
                    "type": "qcode", "data": n}}} for n in names]
                q.cmd("input-send-event", events=ev)
                time.sleep(hold_ms / 1000)
                for e in ev:
                    e["data"]["down"] = False
                q.cmd("input-send-event", events=list(reversed(ev)))
        finally:
            q.close()

    def mouse(self, dx=0, dy=0, buttons=()):
        q = self.qmp()
        try:
            ev = []
            if dx:
                ev.append({"type": "rel", "data": {"axis": "x", "value": dx}})
            if dy:
                ev.append({"type": "rel", "data": {"axis": "y", "value": dy}})
            if ev:
                q.cmd("input-send-event", events=ev)
            for b in buttons:
                for down in (True, False):
                    q.cmd("input-send-event", events=[{
                        "type": "btn", "data": {"down": down, "button": b}}])
        finally:
            q.close()


QCODE_ALIASES = {"control": "ctrl", "return": "ret", "enter": "ret",
                 "escape": "esc", "del": "delete", "super": "meta_l",
                 "win": "meta_l", "space": "spc", "pgup": "pgup"}


def qcode(name):
    n = name.lower()
    return QCODE_ALIASES.get(n, n)


def read_ppm(path):
    with open(path, "rb") as f:
        data = f.read()
    fields, pos = [], 0
    while len(fields) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos) + 1
            continue
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    if fields[0] != b"P6" or fields[3] != b"255":
        raise VmError("%s: not a P6 PPM with 8-bit samples" % path)
    w, h = int(fields[1]), int(fields[2])
    return w, h, data[pos + 1:pos + 1 + w * h * 3]


def write_png(path, w, h, rgb):
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + \
            struct.pack(">I", zlib.crc32(kind + body) & 0xffffffff)

    rows = b"".join(b"\0" + rgb[y * w * 3:(y + 1) * w * 3] for y in range(h))
    png = b"\x89PNG\r\n\x1a\n" + \
        chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + \
        chunk(b"IDAT", zlib.compress(rows, 6)) + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(png)
