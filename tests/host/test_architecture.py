# SPDX-License-Identifier: GPL-2.0-only
"""docs/ARCHITECTURE.md stays a true map of the tree.

The map's ownership table names every product source file, the files the
docs name exist, and no product source file grows past what one person
reads in a sitting (issue 13: about 900 lines)."""

import glob
import os
import re
import subprocess

from pdvm.testlib import check

MODE = "host"
TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MAP = os.path.join(TOP, "docs", "ARCHITECTURE.md")
PRODUCT = ("kernel", "hostd", "common", "include", "switcher-ui", "dbus",
           "guest-tools", "packaging", "xen-config")
SOURCE = (".c", ".h")
MAX_LINES = 900
# Folders whose names the docs use as the first part of a path.
TOPS = PRODUCT + ("tests", "bench", "docs", "scripts")


def _product_sources(exts=SOURCE):
    """The tracked source files of the product folders (build outputs such
    as Kbuild's *.mod.c are not sources)."""
    out = subprocess.run(["git", "-C", TOP, "ls-files", "--cached",
                          "--others", "--exclude-standard", "--"] +
                         list(PRODUCT), capture_output=True, text=True,
                         check=True).stdout.split()
    return sorted(p for p in out if p.endswith(exts) and
                  os.path.exists(os.path.join(TOP, p)))


def _expand(path):
    """`a/{b,c}.txt` -> [a/b.txt, a/c.txt]"""
    m = re.search(r"\{([^{}]*)\}", path)
    if not m:
        return [path]
    out = []
    for alt in m.group(1).split(","):
        out += _expand(path[:m.start()] + alt + path[m.end():])
    return out


def _named_paths(text):
    """Repository paths written in backquotes: `hostd/bus.c`, also
    `kernel/front_snd.c, front_v4l2.c` style lists are not guessed."""
    names = set()
    for tok in re.findall(r"`([^`\s]+)`", text):
        tok = tok.rstrip(".,:;)")
        if tok.split("/")[0] in TOPS and "/" in tok:
            names.update(_expand(tok))
    return names


def test_map_names_every_product_source_file(app):
    """Every .c and .h file under kernel/, hostd/, common/, include/ (and
    the other product folders) appears in docs/ARCHITECTURE.md, written
    as its path in backquotes; so does each folder's own table entry."""
    with open(MAP) as f:
        text = f.read()
    named = _named_paths(text)
    missing = [p for p in _product_sources() if p not in named]
    check(not missing, "docs/ARCHITECTURE.md does not name: %s" %
          ", ".join(missing))
    lines = text.count("\n")
    check(lines <= 220, "docs/ARCHITECTURE.md has %d lines: it is the map, "
          "detail goes to a page of docs/ by subject" % lines)


def test_docs_name_only_files_that_exist(app):
    """Every repository path the docs (README.md, docs/*.md, the parts'
    READMEs) write in backquotes exists: no page describes a file that was
    moved or removed."""
    pages = [os.path.join(TOP, "README.md")] + \
        glob.glob(os.path.join(TOP, "docs", "*.md")) + \
        glob.glob(os.path.join(TOP, "*", "README.md"))
    stale = []
    for page in sorted(pages):
        with open(page) as f:
            text = f.read()
        for p in sorted(_named_paths(text)):
            if "*" in p or "NAME" in p or "GUEST" in p:
                continue
            if not os.path.exists(os.path.join(TOP, p)):
                stale.append("%s: %s" % (os.path.relpath(page, TOP), p))
    check(not stale, "the docs name files that do not exist:\n  %s" %
          "\n  ".join(stale))


def test_no_product_source_file_is_too_long(app):
    """No product .c or .h file is over 900 lines: one that grows past it
    owns more than one thing and is split by concern."""
    long = []
    for p in _product_sources():
        with open(os.path.join(TOP, p), errors="replace") as f:
            n = sum(1 for _ in f)
        if n > MAX_LINES:
            long.append("%s (%d lines)" % (p, n))
    check(not long, "over %d lines: %s" % (MAX_LINES, ", ".join(long)))
