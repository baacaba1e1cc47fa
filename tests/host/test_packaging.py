# SPDX-License-Identifier: GPL-2.0-only
"""The .deb packages: built from the tree by packaging/build-debs, they hold
what they should, and each package's DKMS source, unpacked from the
package, builds its module (pd-guest-tools: the frontend, paradice-host:
the grant helper) against the Debian 6.1 headers."""

import os
import shutil
import subprocess
import tempfile

from pdvm.testlib import check

MODE = "host"
TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _debs():
    r = subprocess.run([os.path.join(TOP, "packaging", "build-debs")],
                       capture_output=True, text=True)
    check(r.returncode == 0, "build-debs failed: %s" % r.stderr)
    return {os.path.basename(p).split("_")[0]: p for p in r.stdout.split()}


def _contents(deb):
    out = subprocess.run(["dpkg-deb", "-c", deb], capture_output=True,
                         text=True, check=True).stdout
    return {line.split()[-1].lstrip(".") for line in out.splitlines()}


def test_packages_hold_their_files(app):
    """Each package holds its programs, the D-Bus and polkit files, the
    config (as a conffile), the DKMS trees (dom0: pdgrant, guests: pdfront),
    modules-load.d entries and udev rules."""
    debs = _debs()
    check(set(debs) == {"paradice-host", "paradice-switcher-ui",
                        "pd-guest-tools"}, "packages: %r" % debs)
    host = _contents(debs["paradice-host"])
    for f in ("/usr/sbin/hostd", "/usr/sbin/pd-backend", "/usr/bin/pdctl",
              "/usr/share/dbus-1/system.d/org.paradice.Switcher1.conf",
              "/usr/share/dbus-1/interfaces/org.paradice.Switcher1.xml",
              "/usr/share/polkit-1/actions/org.paradice.switcher.policy",
              "/etc/paradice/paradice.conf",
              "/usr/lib/systemd/system/paradice-hostd.service",
              "/usr/lib/modules-load.d/paradice-host.conf"):
        check(f in host, "paradice-host lacks %s" % f)
    check(any(f.endswith("/kernel/dom0/pd_grant.c") for f in host) and
          any(f.endswith("/dkms.conf") for f in host),
          "paradice-host lacks the grant helper's DKMS source")
    conffiles = subprocess.run(["dpkg-deb", "-I", debs["paradice-host"],
                                "conffiles"], capture_output=True, text=True).stdout
    check("/etc/paradice/paradice.conf" in conffiles, "config is no conffile")
    check("/usr/bin/switcher-ui" in _contents(debs["paradice-switcher-ui"]),
          "switcher-ui missing")
    guest = _contents(debs["pd-guest-tools"])
    for f in ("/usr/lib/udev/rules.d/70-paradice.rules",
              "/usr/lib/modules-load.d/paradice.conf"):
        check(f in guest, "pd-guest-tools lacks %s" % f)
    check(any(f.endswith("/dkms.conf") for f in guest), "no dkms.conf")


def _dkms_source_builds(package, module):
    """Unpack package's DKMS source alone and build it as DKMS would: make
    in BUILT_MODULE_LOCATION[0] against the 6.1 headers, which must give
    module.ko there."""
    deb = _debs()[package]
    tmp = tempfile.mkdtemp(prefix="pd-deb-")
    try:
        subprocess.run(["dpkg-deb", "-x", deb, tmp], check=True)
        src = [os.path.join(tmp, "usr", "src", d)
               for d in os.listdir(os.path.join(tmp, "usr", "src"))][0]
        with open(os.path.join(src, "dkms.conf")) as f:
            conf = f.read()
        check('BUILT_MODULE_NAME[0]="%s"' % module in conf, conf)
        where = [line.split("=", 1)[1].strip('"')
                 for line in conf.splitlines()
                 if line.startswith("BUILT_MODULE_LOCATION[0]=")]
        check(len(where) == 1, "no BUILT_MODULE_LOCATION[0]:\n" + conf)
        kver = subprocess.run([os.path.join(TOP, "scripts", "kver")],
                              capture_output=True, text=True, check=True).stdout.strip()
        r = subprocess.run(["make", "-C", where[0], "KVER=" + kver], cwd=src,
                           capture_output=True, text=True)
        check(r.returncode == 0, "DKMS build of %s failed:\n%s" %
              (package, r.stdout[-2000:] + r.stderr[-2000:]))
        check(os.path.exists(os.path.join(src, where[0], module + ".ko")),
              "no %s.ko in %s" % (module, where[0]))
    finally:
        shutil.rmtree(tmp)


def test_guest_tools_dkms_source_builds_the_module(app):
    """The kernel source shipped in pd-guest-tools is complete: unpacked
    alone, it builds pdfront.ko (W=1, -Werror) as DKMS would."""
    _dkms_source_builds("pd-guest-tools", "pdfront")


def test_host_dkms_source_builds_the_module(app):
    """The kernel source shipped in paradice-host (kernel/dom0/) is
    complete: unpacked alone, it builds pdgrant.ko (W=1, -Werror) as DKMS
    would."""
    _dkms_source_builds("paradice-host", "pdgrant")
