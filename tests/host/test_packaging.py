# SPDX-License-Identifier: GPL-2.0-only
"""The Debian packages: `make debs` (packaging/build-debs, dpkg-buildpackage
on debian/) builds the four packages of the one source; they hold what they
should and nothing of a build; their maintainer scripts enable hostd's unit
through debhelper and drive DKMS without hiding its failures; the DKMS
trees, unpacked from the packages, build their modules against the Debian
6.1 headers as DKMS would; lintian finds no error and no warning. The
packages are those the emulated machines' images are made from
(tests/vm/pdvm/debs.py: built again when the source changed)."""

import os
import re
import shutil
import subprocess
import tempfile

from pdvm import debs as pdvm_debs
from pdvm.testlib import check

MODE = "host"
TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PACKAGES = {"paradice-host", "paradice-dom0-dkms", "paradice-switcher-ui",
            "pd-guest-tools"}
# Files a kernel or meson build leaves beside the sources.
LEFTOVER = re.compile(r"(\.mod\.c|\.mod|\.o|\.ko|\.cmd|Module\.symvers|"
                      r"modules\.order)$")

def _debs():
    """package name -> .deb path, built by packaging/build-debs from the
    source as it is."""
    try:
        return pdvm_debs.ensure(log=lambda msg: None)
    except pdvm_debs.DebsError as e:
        check(False, str(e))


def _contents(deb):
    out = subprocess.run(["dpkg-deb", "-c", deb], capture_output=True,
                         text=True, check=True).stdout
    return {line.split()[5][1:] for line in out.splitlines()
            if not line.startswith("d")}


def _control(deb, member):
    r = subprocess.run(["dpkg-deb", "-I", deb, member], capture_output=True,
                       text=True)
    return r.stdout if r.returncode == 0 else ""


def test_packages_hold_their_files(app):
    """Each package holds its programs, man pages, the D-Bus, polkit and
    systemd files, the config, the DKMS tree of its module (sources only,
    no *.mod.c or objects) and the udev and modules-load.d files; every
    file under /etc is a conffile."""
    debs = _debs()
    check(set(debs) == PACKAGES, "packages: %r" % sorted(debs))
    want = {
        "paradice-host": [
            "/usr/sbin/hostd", "/usr/sbin/pd-backend", "/usr/bin/pdctl",
            "/usr/share/man/man8/hostd.8.gz",
            "/usr/share/dbus-1/system.d/org.paradice.Switcher1.conf",
            "/usr/share/dbus-1/interfaces/org.paradice.Switcher1.xml",
            "/usr/share/dbus-1/system-services/org.paradice.Switcher1.service",
            "/usr/share/polkit-1/actions/org.paradice.switcher.policy",
            "/etc/paradice/paradice.conf",
            "/lib/systemd/system/paradice-hostd.service",
            "/usr/share/doc/paradice-host/copyright"],
        "paradice-dom0-dkms": [
            "/usr/src/pdgrant-0.1.0/dkms.conf",
            "/usr/lib/modules-load.d/paradice-dom0.conf"],
        "paradice-switcher-ui": [
            "/usr/bin/switcher-ui",
            "/etc/xdg/autostart/paradice-switcher-ui.desktop"],
        "pd-guest-tools": [
            "/usr/src/pdfront-0.1.0/dkms.conf",
            "/lib/udev/rules.d/70-paradice.rules",
            "/usr/lib/modules-load.d/paradice.conf",
            "/usr/sbin/pd-switcher-agent",
            "/lib/systemd/system/pd-switcher-agent.service",
            "/usr/share/dbus-1/system.d/org.paradice.Switcher1.guest.conf"],
    }
    for pkg, files in want.items():
        have = _contents(debs[pkg])
        for f in files:
            check(f in have, "%s lacks %s" % (pkg, f))
        left = sorted(f for f in have if LEFTOVER.search(f))
        check(not left, "%s ships build leftovers: %s" % (pkg, left))
        etc = {f for f in have if f.startswith("/etc/")}
        conf = set(_control(debs[pkg], "conffiles").split())
        check(etc == conf, "%s: /etc files %s, conffiles %s" %
              (pkg, sorted(etc), sorted(conf)))
    check(any(f.endswith("/pd_grant.c")
              for f in _contents(debs["paradice-dom0-dkms"])),
          "paradice-dom0-dkms lacks pd_grant.c")
    deps = subprocess.run(["dpkg-deb", "-f", debs["paradice-host"], "Depends"],
                          capture_output=True, text=True).stdout
    for lib in ("libc6", "libxenevtchn1", "libxengnttab1", "libxenstore4"):
        check(lib in deps, "paradice-host: no dependency on %s: %s" % (lib, deps))


def test_hostd_unit_enabled_and_bus_activated(app):
    """paradice-host's postinst enables paradice-hostd.service (debhelper's
    deb-systemd-helper snippet) and starts it only as a restart on upgrade
    (a fresh install needs the config written first); its prerm stops it on
    remove, never on upgrade. The D-Bus activation file names the bus name
    the policy lets hostd own, the unit the package ships, and (for a bus
    without systemd) the package's hostd."""
    deb = _debs()["paradice-host"]
    postinst = _control(deb, "postinst")
    check("deb-systemd-helper enable 'paradice-hostd.service'" in postinst,
          "postinst does not enable the unit:\n" + postinst)
    check("deb-systemd-invoke try-restart 'paradice-hostd.service'" in postinst
          and 'if [ -n "$2" ]' in postinst,
          "postinst does not restart hostd on upgrade:\n" + postinst)
    check("deb-systemd-invoke start" not in postinst,
          "postinst starts hostd at install:\n" + postinst)
    prerm = _control(deb, "prerm")
    check('"$1" = remove' in prerm and "stop paradice-hostd.service" in prerm,
          "prerm does not stop hostd on remove:\n" + prerm)
    tmp = tempfile.mkdtemp(prefix="pd-deb-")
    try:
        subprocess.run(["dpkg-deb", "-x", deb, tmp], check=True)
        with open(os.path.join(tmp, "usr/share/dbus-1/system-services/"
                               "org.paradice.Switcher1.service")) as f:
            act = f.read()
        with open(os.path.join(tmp, "usr/share/dbus-1/system.d/"
                               "org.paradice.Switcher1.conf")) as f:
            policy = f.read()
        check("\nName=org.paradice.Switcher1\n" in act and
              '<allow own="org.paradice.Switcher1"/>' in policy,
              "activation file and policy disagree:\n" + act)
        m = re.search(r"^SystemdService=(\S+)$", act, re.M)
        check(m and os.path.exists(os.path.join(tmp, "lib/systemd/system",
                                                m.group(1))),
              "activation file names no unit of the package:\n" + act)
        m = re.search(r"^Exec=(\S+)$", act, re.M)
        check(m and m.group(1) == "/usr/sbin/hostd" and
              os.path.exists(os.path.join(tmp, m.group(1)[1:])),
              "activation file's Exec is not the package's hostd:\n" + act)
        check(re.search(r"^User=root$", act, re.M), act)
    finally:
        shutil.rmtree(tmp)


def test_dkms_scripts_do_not_hide_failures(app):
    """The DKMS packages' maintainer scripts are dh_dkms's: the postinst
    runs DKMS's common.postinst, whose failure fails the install; nothing
    silences dkms, and no script unloads or loads a module."""
    for pkg in ("paradice-dom0-dkms", "pd-guest-tools"):
        deb = _debs()[pkg]
        scripts = {s: _control(deb, s) for s in ("postinst", "prerm")}
        check("/usr/lib/dkms/common.postinst" in scripts["postinst"],
              "%s: no dh_dkms postinst" % pkg)
        for name, text in scripts.items():
            for line in text.splitlines():
                check(not ("dkms" in line and "|| true" in line),
                      "%s %s silences dkms: %s" % (pkg, name, line))
                check(not re.search(r"\b(rmmod|modprobe)\b", line),
                      "%s %s loads or unloads a module: %s" % (pkg, name, line))


def _dkms_build(deb, module):
    """Build the DKMS tree of deb as `dkms build` does (pdvm.debs.
    dkms_build: $dkms_tree/NAME/VERSION/build, dkms.conf read with
    kernelver, kernel_source_dir and dkms_tree set, MAKE[0] run there) and
    check it made BUILT_MODULE_NAME[0].ko, named module."""
    kver = subprocess.run([os.path.join(TOP, "scripts", "kver")],
                          capture_output=True, text=True,
                          check=True).stdout.strip()
    try:
        built = pdvm_debs.dkms_modules(deb, kver, log=lambda msg: None)
    except pdvm_debs.DebsError as e:
        check(False, str(e))
    check([m for m, _ in built] == [module], "DKMS tree of %s built %r"
          % (os.path.basename(deb), built))


def test_dkms_trees_build_their_modules(app):
    """The kernel source in paradice-dom0-dkms and pd-guest-tools is
    complete: unpacked alone, each builds its module (pdgrant, pdfront)
    with its dkms.conf against the Debian 6.1 headers."""
    _dkms_build(_debs()["paradice-dom0-dkms"], "pdgrant")
    _dkms_build(_debs()["pd-guest-tools"], "pdfront")


def test_lintian_clean(app):
    """lintian (--pedantic) reports no error and no warning on the source
    and the four packages (overrides, each with its reason, are the only
    way to silence one)."""
    changes = [os.path.join(os.path.dirname(p), f)
               for p in list(_debs().values())[:1]
               for f in os.listdir(os.path.dirname(p)) if f.endswith(".changes")]
    check(len(changes) == 1, "no .changes: %r" % changes)
    r = subprocess.run(["lintian", "--pedantic", changes[0]],
                       capture_output=True, text=True)
    bad = [l for l in r.stdout.splitlines() if re.match(r"[EW]: ", l)]
    check(not bad and r.returncode == 0,
          "lintian (rc %d):\n%s%s" % (r.returncode, r.stdout, r.stderr))
