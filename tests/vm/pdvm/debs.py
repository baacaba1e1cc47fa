# SPDX-License-Identifier: GPL-2.0-only
"""The project's Debian packages as the emulated machines get them.

The images take the project's installed files from the .debs that `make
debs` builds (packaging/build-debs), unpacked as dpkg would, so that every
appliance test also tests what the packages ship. The packages are built
again only when the source changed since (build-debs --tree-hash), about
15 s. The kernel modules come as DKMS source trees, and an initramfs runs
no DKMS: dkms_module() builds one from its package's tree as `dkms build`
does, against the Debian 6.1 headers, and keeps it until the package
changes.
"""

import hashlib
import os
import shutil
import subprocess
import tempfile
import time

from . import image

TOP = image.TOP
OUT = os.path.join(TOP, "build", "debs")
BUILD_DEBS = os.path.join(TOP, "packaging", "build-debs")
CACHE = os.path.join(TOP, "build", "vm", "cache", "debs")
PACKAGES = ("paradice-host", "paradice-dom0-dkms", "paradice-switcher-ui",
            "pd-guest-tools")


class DebsError(Exception):
    pass


def _run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        raise DebsError("%s failed (rc %d):\n%s%s" % (
            " ".join(cmd), r.returncode, r.stdout[-3000:], r.stderr[-3000:]))
    return r.stdout


def _built():
    """package name -> .deb in build/debs (no -dbgsym)."""
    debs = {}
    if os.path.isdir(OUT):
        for f in os.listdir(OUT):
            if f.endswith(".deb"):
                name = f.split("_")[0]
                if not name.endswith("-dbgsym"):
                    debs[name] = os.path.join(OUT, f)
    return debs


def ensure(log=print):
    """package name -> .deb path of the packages of this source: those in
    build/debs when they were built from the source as it is now, else
    built again with packaging/build-debs."""
    want = _run([BUILD_DEBS, "--tree-hash"]).strip()
    try:
        with open(os.path.join(OUT, "tree-hash")) as f:
            have = f.read().strip()
    except OSError:
        have = None
    debs = _built()
    if have == want and set(debs) == set(PACKAGES):
        return debs
    t0 = time.monotonic()
    log("debs: building the packages (packaging/build-debs)")
    _run([BUILD_DEBS])
    debs = _built()
    if set(debs) != set(PACKAGES):
        raise DebsError("build-debs built %s, not %s" % (
            sorted(debs), sorted(PACKAGES)))
    log("debs: built in %.1fs" % (time.monotonic() - t0))
    return debs


def _digest(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:16]


def unpack(deb):
    """The directory deb is unpacked into (dpkg-deb -x), once per content
    of the package."""
    name = os.path.basename(deb).split("_")[0]
    dest = os.path.join(CACHE, "%s-%s" % (name, _digest(deb)))
    if not os.path.isdir(dest):
        os.makedirs(CACHE, exist_ok=True)
        for old in os.listdir(CACHE):
            if old.startswith(name + "-") and not old.endswith(".ko"):
                shutil.rmtree(os.path.join(CACHE, old), ignore_errors=True)
        tmp = tempfile.mkdtemp(prefix=name + ".", dir=CACHE)
        _run(["dpkg-deb", "-x", deb, tmp])
        os.rename(tmp, dest)
    return dest


def dkms_build(tree, kver, workdir):
    """Do with the DKMS source tree `tree` (a package's /usr/src/NAME-VERSION)
    what `dkms build` does: copy it to $dkms_tree/NAME/VERSION/build, read
    its dkms.conf with kernelver, kernel_source_dir and dkms_tree set, run
    MAKE[0] there, and strip the module's debugging symbols (dkms.conf's
    STRIP[0], yes unless said otherwise). Returns (module name, path of
    the built .ko) below workdir."""
    name, version = os.path.basename(tree.rstrip("/")).rsplit("-", 1)
    build = os.path.join(workdir, name, version, "build")
    shutil.copytree(tree, build)
    script = ('set -e; kernelver=%s; kernel_source_dir=/lib/modules/%s/build;'
              ' dkms_tree=%s; . ./dkms.conf;'
              ' test "$PACKAGE_NAME-$PACKAGE_VERSION" = %s-%s;'
              ' eval "${MAKE[0]}" >&2;'
              ' ko="${BUILT_MODULE_LOCATION[0]}${BUILT_MODULE_NAME[0]}.ko";'
              ' [ "${STRIP[0]:-yes}" = no ] || strip -g "$ko";'
              ' echo "${BUILT_MODULE_NAME[0]}";'
              ' echo "$ko"'
              % (kver, kver, workdir, name, version))
    r = subprocess.run(["bash", "-c", script], cwd=build,
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise DebsError("DKMS build of %s-%s failed:\n%s" % (
            name, version, r.stdout[-2000:] + r.stderr[-3000:]))
    module, ko = r.stdout.split()
    ko = os.path.join(build, ko)
    if not os.path.exists(ko):
        raise DebsError("DKMS build of %s-%s made no %s" % (name, version, ko))
    return module, ko


def dkms_modules(deb, kver, log=print):
    """[(module name, .ko path)] of the DKMS tree(s) that deb ships in
    /usr/src, built for kver (dkms_build), once per content of the
    package and kernel."""
    root = unpack(deb)
    src = os.path.join(root, "usr", "src")
    out = []
    for tree in sorted(os.listdir(src)) if os.path.isdir(src) else []:
        key = "%s-%s-%s" % (os.path.basename(root), tree, kver)
        cached = [f for f in os.listdir(CACHE)
                  if f.startswith(key + ".") and f.endswith(".ko")]
        if cached:
            out.append((cached[0][len(key) + 1:-3],
                        os.path.join(CACHE, cached[0])))
            continue
        t0 = time.monotonic()
        work = tempfile.mkdtemp(prefix="dkms.", dir=CACHE)
        try:
            module, ko = dkms_build(os.path.join(src, tree), kver, work)
            dest = os.path.join(CACHE, "%s.%s.ko" % (key, module))
            pkg = os.path.basename(deb).split("_")[0]
            for old in os.listdir(CACHE):
                if old.startswith(pkg + "-") and old.endswith(".ko"):
                    os.unlink(os.path.join(CACHE, old))
            shutil.copy(ko, dest + ".tmp")
            os.replace(dest + ".tmp", dest)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        log("debs: DKMS built %s.ko from %s in %.1fs" % (
            module, tree, time.monotonic() - t0))
        out.append((module, dest))
    return out
