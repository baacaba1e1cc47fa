#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Turn dbus/org.paradice.Switcher1.xml, the single source of truth of
hostd's D-Bus interface, into a C header with one string per interface,
which hostd serves from org.freedesktop.DBus.Introspectable."""
import sys
import xml.etree.ElementTree as ET


def c_string(text):
    out = []
    for line in text.splitlines():
        out.append('\t"%s\\n"' % line.replace("\\", "\\\\").replace('"', '\\"'))
    return "\n".join(out)


def main(src, dst):
    root = ET.parse(src).getroot()
    lines = ["/* Generated from %s by dbus/gen-introspect.py: do not edit. */"
             % src.split("/")[-1], "#ifndef HOSTD_INTROSPECT_H",
             "#define HOSTD_INTROSPECT_H", ""]
    for iface in root.findall("interface"):
        name = iface.get("name")
        ident = "HOSTD_XML_" + name.split(".")[-1].upper()
        ET.indent(iface, "  ", level=1)
        xml = "  " + ET.tostring(iface, encoding="unicode").strip()
        lines.append("#define %s_NAME \"%s\"" % (ident, name))
        lines.append("#define %s \\\n%s" % (ident, c_string(xml).replace("\n", " \\\n")))
        lines.append("")
    lines.append("#endif")
    with open(dst, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
