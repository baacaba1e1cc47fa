# SPDX-License-Identifier: GPL-2.0-only
"""Root filesystems for the emulated machines, as uncompressed initramfs
archives (cpio "newc"), built from Debian's installed files and the project's
build outputs.

An image is two layers concatenated, which the kernel unpacks in order:
  base     Debian's binaries with their libraries, kernel modules, data files.
           Cached under build/vm/cache/ by a hash of its inputs (the profile,
           this file, and the path, size and mtime of every file it takes).
  project  /init and the project's build outputs: rebuilt on every `up`
           (about a second), so a code change never needs a base rebuild.

Uncompressed because decompressing under TCG costs more than copying.
"""

import hashlib
import os
import shlex
import stat
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))
VMDIR = os.path.dirname(HERE)
TOP = os.path.dirname(os.path.dirname(VMDIR))

# Debian 12 merges /usr: keep the same layout so every path resolves.
MERGED_USR = {"bin": "usr/bin", "sbin": "usr/sbin", "lib": "usr/lib",
              "lib64": "usr/lib64"}


class ImageError(Exception):
    pass


def kernel_version():
    try:
        out = subprocess.run([os.path.join(TOP, "scripts", "kver")],
                             check=True, capture_output=True, text=True)
    except subprocess.CalledProcessError as e:
        raise ImageError(e.stderr.strip()) from e
    return out.stdout.strip()


# Debian packages that `deb` lines name: fetched once with apt-get download
# (the version this machine's apt sources offer) and unpacked here; the
# parts of them an image does not need; where their own libraries are.
DEB_CACHE = os.path.join(TOP, "build", "vm", "cache", "debian")
# alsa-lib's configuration hooks (pulseaudio's alsa.conf.d/pulse.conf):
# they load a plugin from libasound2-plugins, which no image carries, and
# alsa-lib then fails every open ("Unknown PCM hw:0,0"), aplay's too.
DEB_SKIP = ("usr/share/doc", "usr/share/man", "usr/share/locale",
            "usr/share/lintian", "usr/share/bash-completion",
            "usr/share/zsh", "usr/share/metainfo", "etc/alsa/conf.d",
            "usr/share/alsa/alsa.conf.d")
DEB_LIB_DIRS = ("lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu",
                "lib/elogind", "usr/lib/elogind")


def debian_package(name, where="?"):
    """The directory where Debian package name is unpacked (dpkg-deb -x):
    for a package that conflicts with what this machine runs (elogind
    and systemd), so that it is not installed here. The .deb is fetched
    once; delete build/vm/cache/debian to fetch newer ones."""
    os.makedirs(DEB_CACHE, exist_ok=True)
    have = sorted(f for f in os.listdir(DEB_CACHE)
                  if f.startswith(name + "_") and f.endswith(".deb"))
    if not have:
        r = subprocess.run(["apt-get", "download", name], cwd=DEB_CACHE,
                           capture_output=True, text=True)
        have = sorted(f for f in os.listdir(DEB_CACHE)
                      if f.startswith(name + "_") and f.endswith(".deb"))
        if r.returncode != 0 or not have:
            raise ImageError("%s: apt-get download %s failed: %s"
                             % (where, name, r.stderr.strip()[-500:]))
    deb = os.path.join(DEB_CACHE, have[-1])
    dest = deb[:-len(".deb")]
    if not os.path.isdir(dest):
        tmp = dest + ".tmp"
        subprocess.run(["rm", "-rf", tmp], check=True)
        r = subprocess.run(["dpkg-deb", "-x", deb, tmp],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise ImageError("%s: dpkg-deb -x %s: %s"
                             % (where, deb, r.stderr.strip()))
        os.rename(tmp, dest)
    return dest


class Cpio:
    """A newc archive written in one go; entries keep insertion order."""

    def __init__(self):
        # path -> (mode, data bytes | host path, rdev, (uid, gid))
        self.entries = {}

    def dir(self, path):
        path = path.strip("/")
        parts = path.split("/")
        for i in range(1, len(parts) + 1):
            p = "/".join(parts[:i])
            if p and p not in self.entries:
                self.entries[p] = (stat.S_IFDIR | 0o755, b"", 0, (0, 0))

    def _parent(self, path):
        parent = os.path.dirname(path.strip("/"))
        if parent:
            self.dir(parent)

    def file(self, path, data, mode=0o644, owner=(0, 0)):
        """data: bytes, or the host path of a file to copy. owner: (uid,
        gid), the numbers of the images' /etc/passwd and /etc/group."""
        self._parent(path)
        self.entries[path.strip("/")] = (stat.S_IFREG | mode, data, 0, owner)

    def symlink(self, path, target):
        self._parent(path)
        self.entries[path.strip("/")] = (stat.S_IFLNK | 0o777,
                                         target.encode(), 0, (0, 0))

    def chardev(self, path, major, minor, mode=0o600):
        self._parent(path)
        self.entries[path.strip("/")] = (stat.S_IFCHR | mode, b"",
                                         (major, minor), (0, 0))

    def write(self, out_path):
        tmp = out_path + ".tmp"
        with open(tmp, "wb") as out:
            ino = 1000
            for name, (mode, data, rdev, owner) in self.entries.items():
                if isinstance(data, str):
                    with open(data, "rb") as f:
                        data = f.read()
                ino += 1
                self._entry(out, name, mode, data, rdev, ino, owner)
            self._entry(out, "TRAILER!!!", 0, b"", 0, 0, (0, 0))
        os.replace(tmp, out_path)

    @staticmethod
    def _entry(out, name, mode, data, rdev, ino, owner):
        rmaj, rmin = rdev if rdev else (0, 0)
        bname = name.encode() + b"\0"
        hdr = "070701" + "".join("%08x" % v for v in (
            ino, mode, owner[0], owner[1], 1, 0, len(data), 0, 0, rmaj, rmin,
            len(bname), 0))
        out.write(hdr.encode() + bname)
        out.write(b"\0" * ((4 - (110 + len(bname)) % 4) % 4))
        out.write(data)
        out.write(b"\0" * ((4 - len(data) % 4) % 4))


class Profile:
    """What a base image holds, read from tests/vm/profiles/NAME.txt.

    Lines: `bin PATH` (a program and the libraries ldd lists), `file PATH`,
    `tree DIR` (every file below DIR), `mod NAME` (a kernel module and the
    modules it needs), `busybox` (busybox and its applets where no real
    program of that name was taken), `deb NAME` (a Debian package that is
    not installed on this machine: debian_package()). `#` starts a comment.
    """

    def __init__(self, name, kver):
        self.name = name
        self.path = os.path.join(VMDIR, "profiles", name + ".txt")
        self.lines = []
        with open(self.path) as f:
            for lineno, line in enumerate(f, 1):
                words = shlex.split(line.replace("@KVER@", kver),
                                    comments=True)
                if not words:
                    continue
                if words[0] not in ("bin", "file", "tree", "mod", "busybox",
                                    "deb"):
                    raise ImageError("%s:%d: unknown kind %r" %
                                     (self.path, lineno, words[0]))
                self.lines.append((lineno, words))


class BaseBuilder:
    def __init__(self, profile, kver):
        self.profile = profile
        self.kver = kver
        # image path -> host path (regular files): the same path for this
        # machine's files, a path in an unpacked package for a `deb` line's
        self.files = {}
        self.links = {}     # image path -> symlink target
        self.modules = set()

    # -- collecting ---------------------------------------------------------
    def add_path(self, path, where="?"):
        """Take a host path, keeping each symlink on the way as a symlink."""
        if not os.path.lexists(path):
            raise ImageError("%s: %s does not exist (is its package "
                             "installed? see scripts/debian-packages.txt)"
                             % (where, path))
        parent = os.path.realpath(os.path.dirname(path))
        real = os.path.join(parent, os.path.basename(path))
        if real in self.files or real in self.links:
            return
        if os.path.islink(real):
            target = os.readlink(real)
            self.links[real] = target
            self.add_path(os.path.join(parent, target), where)
        elif os.path.isdir(real):
            self.add_tree(real, where)
        else:
            self.files[real] = real

    def add_tree(self, top, where):
        for root, dirs, names in os.walk(top):
            for n in names + [d for d in dirs
                              if os.path.islink(os.path.join(root, d))]:
                self.add_path(os.path.join(root, n), where)

    def add_binary(self, path, where):
        self.add_path(path, where)
        out = subprocess.run(["ldd", path], capture_output=True, text=True)
        for line in out.stdout.splitlines():
            words = line.split()
            if "=>" in words:
                lib = words[words.index("=>") + 1]
                if lib.startswith("/"):
                    self.add_path(lib, where)
            elif words and words[0].startswith("/"):
                self.add_path(words[0], where)  # the dynamic loader

    def add_module(self, name, where):
        moddir = "/lib/modules/%s" % self.kver
        dep = self._moddep()
        key = name.replace("-", "_")
        if key not in dep[0]:
            raise ImageError("%s: no kernel module %r in %s" %
                             (where, name, moddir))
        todo = [dep[0][key]]
        while todo:
            rel = todo.pop()
            if rel in self.modules:
                continue
            self.modules.add(rel)
            self.add_path(os.path.join(moddir, rel), where)
            todo.extend(dep[1].get(rel, []))

    def _moddep(self):
        if not hasattr(self, "_dep"):
            by_name, deps = {}, {}
            with open("/lib/modules/%s/modules.dep" % self.kver) as f:
                for line in f:
                    mod, _, rest = line.partition(":")
                    base = os.path.basename(mod).split(".ko")[0]
                    by_name[base.replace("-", "_")] = mod
                    deps[mod] = rest.split()
            self._dep = (by_name, deps)
        return self._dep

    def collect(self):
        busybox = False
        for lineno, words in self.profile.lines:
            where = "%s:%d" % (self.profile.path, lineno)
            kind, args = words[0], words[1:]
            for a in args:
                if kind == "bin":
                    self.add_binary(a, where)
                elif kind in ("file", "tree"):
                    self.add_path(a, where)
                elif kind == "mod":
                    self.add_module(a, where)
            if kind == "busybox":
                busybox = True
        # last: a package's files take the place of this machine's where
        # both have one (libelogind0's libsystemd.so.0)
        for lineno, words in self.profile.lines:
            if words[0] == "deb":
                for name in words[1:]:
                    self.add_deb(name, "%s:%d" % (self.profile.path, lineno))
        if self.modules:
            moddir = "/lib/modules/%s" % self.kver
            for f in ("modules.builtin", "modules.builtin.modinfo",
                      "modules.order"):
                self.add_path(os.path.join(moddir, f), "modules")
        if busybox:
            self.add_path("/bin/busybox", "busybox")

    def add_deb(self, name, where):
        """Every file of Debian package name as dpkg would install it on
        a merged-/usr system (less its documentation), taking the place of
        this machine's file of the same path; the libraries its programs
        need from this machine, where the package has none of its own."""
        root = debian_package(name, where)
        own = [os.path.join(root, d) for d in DEB_LIB_DIRS]
        for dirpath, dirnames, names in os.walk(root):
            rel_dir = os.path.relpath(dirpath, root)
            if rel_dir.startswith(DEB_SKIP):
                dirnames[:] = []
                continue
            for n in names + [d for d in dirnames
                              if os.path.islink(os.path.join(dirpath, d))]:
                src = os.path.join(dirpath, n)
                rel = os.path.normpath(os.path.join(rel_dir, n))
                top, _, rest = rel.partition("/")
                if top in MERGED_USR and rest:
                    rel = MERGED_USR[top] + "/" + rest
                path = "/" + rel
                self.files.pop(path, None)
                self.links.pop(path, None)
                if os.path.islink(src):
                    self.links[path] = os.readlink(src)
                    continue
                self.files[path] = src
                with open(src, "rb") as f:
                    if f.read(4) != b"\x7fELF":
                        continue
                out = subprocess.run(
                    ["ldd", src], capture_output=True, text=True,
                    env=dict(os.environ, LD_LIBRARY_PATH=":".join(own)))
                for line in out.stdout.splitlines():
                    words = line.split()
                    lib = words[words.index("=>") + 1] if "=>" in words \
                        else words[0] if words else ""
                    if lib.startswith("/") and not lib.startswith(root):
                        self.add_path(lib, where)

    def key(self):
        h = hashlib.sha256()
        for p in (self.profile.path, os.path.abspath(__file__)):
            with open(p, "rb") as f:
                h.update(f.read())
        h.update(self.kver.encode())
        for p in sorted(self.files):
            st = os.stat(self.files[p])
            h.update(("%s %d %d\n" % (p, st.st_size, st.st_mtime_ns)).encode())
        for p in sorted(self.links):
            h.update(("%s -> %s\n" % (p, self.links[p])).encode())
        return h.hexdigest()[:16]

    # -- writing ------------------------------------------------------------
    def archive(self):
        c = Cpio()
        for d in ("dev", "proc", "sys", "tmp", "run", "root", "etc",
                  "var/log", "var/lib", "mnt"):
            c.dir(d)
        for top, target in MERGED_USR.items():
            c.symlink(top, target)
            c.dir(target)
        c.chardev("dev/console", 5, 1)
        c.chardev("dev/null", 1, 3, 0o666)
        c.symlink("var/run", "/run")
        for p in sorted(self.links):
            c.symlink(p, self.links[p])
        # Debian's owners (the images carry this machine's /etc/passwd
        # and /etc/group): dbus-daemon-launch-helper is setuid root and
        # runs for group messagebus only.
        for p in sorted(self.files):
            st = os.stat(self.files[p])
            c.file(p, self.files[p], stat.S_IMODE(st.st_mode),
                   (st.st_uid, st.st_gid))
        if self.modules:
            dep = self._moddep()[1]
            lines = ["%s: %s\n" % (m, " ".join(dep.get(m, [])))
                     for m in sorted(self.modules)]
            c.file("usr/lib/modules/%s/modules.dep" % self.kver,
                   "".join(lines).encode())
        if "usr/bin/busybox" in c.entries:
            out = subprocess.run(["/bin/busybox", "--list-full"],
                                 capture_output=True, text=True, check=True)
            for applet in out.stdout.split():
                real = applet
                for top, target in MERGED_USR.items():
                    if applet.startswith(top + "/"):
                        real = target + applet[len(top):]
                if real not in c.entries:
                    c.symlink(real, "/usr/bin/busybox")
        return c


def build_base(profile_name, cache_dir, kver=None, log=print):
    """Return the path of the cached base layer for a profile, building it
    when an input changed."""
    kver = kver or kernel_version()
    b = BaseBuilder(Profile(profile_name, kver), kver)
    b.collect()
    os.makedirs(cache_dir, exist_ok=True)
    out = os.path.join(cache_dir, "base-%s-%s.cpio" % (profile_name, b.key()))
    if not os.path.exists(out):
        log("image: building base layer %s (%d files)" %
            (os.path.basename(out), len(b.files)))
        for old in os.listdir(cache_dir):
            if old.startswith("base-%s-" % profile_name):
                os.unlink(os.path.join(cache_dir, old))
        b.archive().write(out)
    return out


def build_disk(profile_name, cache_dir, kver=None, log=print):
    """Return the path of a read-only disk image (ext2, which the guest
    kernel's ext4 driver mounts: no journal, no checksums that would need
    another module) holding a profile's files, for what is too big for an
    initramfs (ffmpeg's libraries: a guest's memory would hold them three
    times, docs/testing.md). Built from the profile's cached base layer
    (build_base()) with mke2fs -d, which needs no root and no loop device;
    rebuilt when that layer is. Sparse: only the files take space."""
    kver = kver or kernel_version()
    layer = build_base(profile_name, cache_dir, kver, log)
    out = layer[:-len(".cpio")] + ".ext2"
    if os.path.exists(out):
        return out
    t0 = time.monotonic()
    tree = out + ".d"
    subprocess.run(["rm", "-rf", tree], check=True)
    os.makedirs(tree)
    with open(layer, "rb") as f:
        r = subprocess.run(["cpio", "-idm", "--quiet",
                            "--no-absolute-filenames"], stdin=f, cwd=tree,
                           capture_output=True, text=True)
    if r.returncode != 0:
        raise ImageError("%s: cpio -i: %s" % (layer, r.stderr.strip()[-500:]))
    used = 0
    for root, _, names in os.walk(tree):
        for n in names:
            p = os.path.join(root, n)
            if not os.path.islink(p):
                used += os.lstat(p).st_size
    # room for the metadata, block rounding and the inode tables
    size_kib = used // 1024 * 11 // 10 + 16384
    r = subprocess.run(["mke2fs", "-q", "-F", "-t", "ext2", "-m", "0",
                        "-L", profile_name, "-d", tree, out + ".tmp",
                        "%dk" % size_kib], capture_output=True, text=True)
    subprocess.run(["rm", "-rf", tree], check=True)
    if r.returncode != 0:
        raise ImageError("mke2fs -d for %s: %s" % (profile_name,
                                                   r.stderr.strip()[-500:]))
    os.replace(out + ".tmp", out)
    log("image: disk %s, %d MiB of files, built in %.1fs"
        % (os.path.basename(out), used >> 20, time.monotonic() - t0))
    return out


def vmlinux(kver, cache_dir):
    """The guest kernel as a plain ELF, unpacked once from Debian's bzImage.

    libxc in dom0 would otherwise unpack the xz payload at every `xl create`
    under TCG: measured 36 s per guest, against 6 s for the plain ELF."""
    import lzma
    src = "/boot/vmlinuz-%s" % kver
    out = os.path.join(cache_dir, "vmlinux-%s" % kver)
    if os.path.exists(out) and os.path.getmtime(out) >= os.path.getmtime(src):
        return out
    with open(src, "rb") as f:
        data = f.read()
    start = data.find(b"\xfd7zXZ\x00")
    if start < 0:
        raise ImageError("%s: no xz payload found" % src)
    elf = lzma.LZMADecompressor().decompress(data[start:])
    if elf[:4] != b"\x7fELF":
        raise ImageError("%s: payload is not an ELF kernel" % src)
    os.makedirs(cache_dir, exist_ok=True)
    with open(out + ".tmp", "wb") as f:
        f.write(elf)
    os.replace(out + ".tmp", out)
    return out


def concat(out_path, layers):
    tmp = out_path + ".tmp"
    with open(tmp, "wb") as out:
        for layer in layers:
            if isinstance(layer, Cpio):
                part = tmp + ".layer"
                layer.write(part)
                layer = part
            with open(layer, "rb") as f:
                while True:
                    buf = f.read(1 << 22)
                    if not buf:
                        break
                    out.write(buf)
            if layer.endswith(".layer"):
                os.unlink(layer)
    os.replace(tmp, out_path)
