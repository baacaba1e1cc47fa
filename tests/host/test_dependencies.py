# SPDX-License-Identifier: GPL-2.0-only
"""What the README's commands need from Debian comes from the one package
list, scripts/debian-packages.txt.

`make check`, `make demo`, `make demo-game` and `make bench` install that
list (scripts/install-deps, without Recommends) and nothing else. A file
they take from this machine that only arrives through a package's
Recommends, or that a package installed by hand brought, works here and
fails on a newcomer's fresh machine (it happened: OpenArena's data pk3 comes
from openarena-oacmp1, which openarena only recommends). These tests look
up, in dpkg's own database, which package owns each such file and check
that the package is on the list or is a Depends/Pre-Depends of one that is,
recursively.

What is checked: every file the emulated machines' images take (the
profiles in tests/vm/profiles, with the libraries of each program, as the
image builder collects them), the game data the bench packs
(bench/openarena-files.txt), the kernels and Xen the machines boot, and
the programs the make targets run by name.
"""

import os
import shutil
import sys

from pdvm import image
from pdvm.testlib import check

MODE = "host"
TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LIST = os.path.join(TOP, "scripts", "debian-packages.txt")
STATUS = "/var/lib/dpkg/status"
INFO = "/var/lib/dpkg/info"

# Programs the make targets and the tests run by name on this machine,
# each with who runs it.
PROGRAMS = {
    "make": "Makefile", "meson": "make build", "ninja": "make build",
    "clang": "make unit (sanitizer build)", "gcc": "make kernel",
    "ldd": "tests/vm/pdvm/image.py", "cpio": "scripts",
    "qemu-system-x86_64": "tests/vm/pdvm/machine.py",
    "dpkg-buildpackage": "packaging/build-debs (make debs)",
    "dh": "debian/rules", "dh_dkms": "debian/rules",
    "dpkg-deb": "tests/host/test_packaging.py",
    "lintian": "tests/host/test_packaging.py",
    "debootstrap": "packaging/test-install (make debs-check)",
    "Xvfb": "tests/host/test_switcher_ui.py",
    "xdotool": "tests/host/test_switcher_ui.py",
    "convert": "tests/host/test_switcher_ui.py (screenshots)",
    "dbus-daemon": "tests/host (private buses)",
    "gnuplot": "make bench (the throughput plot)",
    "python3": "tests/run-all, bench/run",
    "gdbus-codegen": "make build (switcher-ui's D-Bus client code)",
    "msgfmt": "make build (switcher-ui's translations)",
    "xgettext": "switcher-ui/po (the translation template)",
    "setpriv": "tests/host/test_switcher_ui.py (the app as another user)",
}

# Files the tests take by path, each with who takes it.
FILES = {
    "/usr/lib/python3/dist-packages/gi/__init__.py":
        "tests/host/tray_host.py (python3-gi)",
    "/usr/include/libayatana-appindicator3-0.1/libayatana-appindicator/app-indicator.h":
        "make build (switcher-ui's tray icon)",
    # clang finds them by its own version: the fuzz targets and the unit
    # tests link them (-fsanitize=fuzzer,address,undefined)
    "/usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a":
        "tests/fuzz (make unit, make fuzz)",
    "/usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.asan-x86_64.a":
        "make unit (the sanitizer build)",
}

# Files the images take that no package owns because the base system's
# maintainer scripts or depmod make them on every Debian system.
MADE_BY_THE_SYSTEM = {
    "/etc/passwd": "base-passwd's postinst",
    "/etc/group": "base-passwd's postinst",
    # pam-auth-update, from libpam-runtime's postinst
    "/etc/pam.d/common-auth": "libpam-runtime's postinst",
    "/etc/pam.d/common-account": "libpam-runtime's postinst",
    "/etc/pam.d/common-session": "libpam-runtime's postinst",
    "/etc/pam.d/common-session-noninteractive": "libpam-runtime's postinst",
    "/etc/pam.d/common-password": "libpam-runtime's postinst",
}


def _listed():
    names = set()
    with open(LIST) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                names.add(line)
    return names


def _installed():
    """name -> (depends: list of alternative lists, provides: list) of the
    installed packages, from dpkg's status file, and the set of those that
    every Debian system has (Essential, or Priority required)."""
    pkgs, cur, base = {}, {}, set()

    def done():
        if cur.get("Package") and cur.get("Status", "").endswith(" installed"):
            if cur.get("Essential") == "yes" or \
                    cur.get("Priority") == "required":
                base.add(cur["Package"])
            pkgs[cur["Package"]] = (
                _relations(cur.get("Depends", "") + "," +
                           cur.get("Pre-Depends", "")),
                [a[0] for a in _relations(cur.get("Provides", ""))])

    key = None
    with open(STATUS) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                done()
                cur, key = {}, None
            elif line[0] in " \t":
                if key:
                    cur[key] += " " + line.strip()
            else:
                key, _, val = line.partition(":")
                cur[key] = val.strip()
    done()
    return pkgs, base


def _relations(field):
    """'a (>= 1) | b:any, c' -> [['a', 'b'], ['c']]"""
    out = []
    for group in field.split(","):
        alts = [a.split("(")[0].split("[")[0].strip().split(":")[0]
                for a in group.split("|")]
        alts = [a for a in alts if a]
        if alts:
            out.append(alts)
    return out


def _closure(roots, pkgs):
    """Every installed package that installing roots brings, through
    Depends and Pre-Depends (Recommends are not installed by install-deps)."""
    providers = {}
    for name, (_, provides) in pkgs.items():
        for p in provides:
            providers.setdefault(p, set()).add(name)
    seen, todo = set(), [r for r in roots if r in pkgs]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for alts in pkgs[name][0]:
            for a in alts:
                for real in ({a} if a in pkgs else set()) | providers.get(a, set()):
                    if real not in seen:
                        todo.append(real)
    return seen


def _owners():
    """path -> set of packages, from dpkg's file lists."""
    owners = {}
    for n in os.listdir(INFO):
        if not n.endswith(".list"):
            continue
        pkg = n[:-5].split(":")[0]
        with open(os.path.join(INFO, n), errors="replace") as f:
            for line in f:
                owners.setdefault(line.rstrip("\n"), set()).add(pkg)
    return owners


def _spellings(path):
    """The names dpkg may know a file by on a merged-/usr system: as given,
    each symlink on the way resolved, and /usr/X as /X."""
    seen = []
    for p in (path, os.path.realpath(path),
              os.path.join(os.path.realpath(os.path.dirname(path)),
                           os.path.basename(path))):
        for q in (p, p[4:] if p.startswith("/usr/") else "/usr" + p):
            if q not in seen:
                seen.append(q)
    return seen


def _check_owned(needed):
    """needed: path -> who needs it. Fails with every path whose package
    the list does not install."""
    listed = _listed()
    pkgs, base = _installed()
    unknown = sorted(listed - set(pkgs))
    check(not unknown, "scripts/debian-packages.txt names packages that are "
          "not installed here: %s (run scripts/install-deps)" % unknown)
    brought = _closure(listed | base, pkgs)
    owners = _owners()
    problems = []
    for path, who in sorted(needed.items()):
        if path in MADE_BY_THE_SYSTEM:
            continue
        own = set()
        for p in _spellings(path):
            own |= owners.get(p, set())
        if not own:
            problems.append("%s (needed by %s): no installed package owns it"
                            % (path, who))
        elif not own & brought:
            problems.append("%s (needed by %s): owned by %s, which "
                            "scripts/debian-packages.txt does not install "
                            "(neither listed nor a Depends of a listed "
                            "package)" % (path, who, ", ".join(sorted(own))))
    check(not problems, "%d file(s) the README's commands need do not come "
          "from the package list:\n  %s" % (len(problems),
                                           "\n  ".join(problems[:40])))
    return len(needed)


def test_image_and_bench_files_come_from_the_package_list(app):
    """Every file the emulated machines' images take from this machine
    (each profile in tests/vm/profiles, programs with their libraries and
    modules with theirs), the OpenArena data the bench packs, and the
    kernel and Xen the machines boot belong to a package that
    scripts/debian-packages.txt installs. Fails, naming the file and its
    package, if for example openarena-oacmp1 is dropped from the list."""
    kver = image.kernel_version()
    needed = {}
    profiles = sorted(n[:-4] for n in os.listdir(
        os.path.join(image.VMDIR, "profiles")) if n.endswith(".txt"))
    for name in profiles:
        profile = image.Profile(name, kver)
        b = image.BaseBuilder(profile, kver)
        for lineno, words in profile.lines:
            where = "tests/vm/profiles/%s.txt:%d" % (name, lineno)
            for arg in words[1:]:
                if words[0] == "tree":
                    # what lies below a tree varies with what else is
                    # installed; the tree itself must be there
                    needed.setdefault(arg, where)
                elif words[0] == "bin":
                    b.add_binary(arg, where)
                elif words[0] == "file":
                    b.add_path(arg, where)
                elif words[0] == "mod":
                    b.add_module(arg, where)
            if words[0] == "busybox":
                b.add_path("/bin/busybox", where)
        for p in list(b.files) + list(b.links):
            needed.setdefault(p, "tests/vm/profiles/%s.txt" % name)
    data = "/usr/lib/openarena/baseoa"
    with open(os.path.join(TOP, "bench", "openarena-files.txt")) as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                needed.setdefault(os.path.join(data, line.split()[0]),
                                  "bench/openarena-files.txt (make bench)")
    needed["/boot/vmlinuz-%s" % kver] = "tests/vm (every machine's kernel)"
    needed["/boot/xen-4.17-amd64.gz"] = "tests/vm (the xen appliance)"
    needed["/lib/modules/%s/build/Makefile" % kver] = "make kernel"
    n = _check_owned(needed)
    check(n > 100, "only %d files collected: is the profile reader broken?" % n)


def test_programs_the_make_targets_run_come_from_the_package_list(app):
    """Each program the make targets and tests run by name, and each file
    they take by path, is there and belongs to a package the list
    installs."""
    needed, missing = {}, []
    for prog, who in PROGRAMS.items():
        # Debian's own, not a copy in /usr/local or a user's PATH
        path = shutil.which(prog, path="/usr/sbin:/usr/bin:/sbin:/bin")
        if not path:
            missing.append("%s (%s)" % (prog, who))
        else:
            needed[path] = who
    check(not missing, "not on PATH: %s" % ", ".join(missing))
    for path, who in FILES.items():
        check(os.path.exists(path), "%s (%s) is missing" % (path, who))
        needed[path] = who
    _check_owned(needed)


if __name__ == "__main__":
    sys.exit("run through tests/run-all -k host/test_dependencies")
