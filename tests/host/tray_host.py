#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""The desktop side of the tray, for tests/host/test_switcher_ui.py: run by
Debian's /usr/bin/python3 (python3-gi), on the test's private bus
(DBUS_SESSION_BUS_ADDRESS).

  tray_host.py serve DIR     a StatusNotifierWatcher (what a panel's tray
                             runs: org.kde.StatusNotifierWatcher) and a
                             notification daemon (org.freedesktop.Notifications).
                             Each item that registers is written as a line
                             "BUSNAME OBJECTPATH" to DIR/items; each
                             notification as a JSON line to DIR/notifications.
                             Prints "ready" once both names are owned.
  tray_host.py fake-hostd    org.paradice.Switcher1 with VMs real hostd
                             never shows: "odd" (domain 7) without a State
                             property, "new_one" (8, active) in a state
                             unknown to the app ("hibernating"); every
                             switch is refused as Busy. Prints "ready".
  tray_host.py fake-lifecycle  org.paradice.Switcher1 with the states real
                             hostd shows only under Xen: Guests work, play,
                             spare; "work" (domain 1, active) running,
                             "play" (2) paused, "spare" off (no VM object).
                             play's Resume and Pause work (its State
                             follows, with PropertiesChanged); every
                             other lifecycle call is refused as polkit
                             would refuse it (Error.Refused). Each call is
                             printed as a line "CALL NAME METHOD".
  tray_host.py fake-thumbs   org.paradice.Switcher1 with "work" (domain 1,
                             active) and "play" (2) running and dom0's
                             entry "host", and the Thumbnails interface:
                             work's thumbnail solid red, play's solid
                             blue (XRGB8888, 96 x 72), host's NotAvailable.
                             Each GetThumbnail is printed as "THUMB NAME".
  tray_host.py menu ITEM     the item's menu (com.canonical.dbusmenu
                             GetLayout), as JSON: [{id, label, enabled,
                             toggle-type, toggle-state, type, children}],
                             in order; children: a submenu's items, the
                             same way
  tray_host.py click ITEM ID a dbusmenu Event "clicked" on item ID

ITEM is a line of DIR/items.
"""

import json
import os
import sys
import time

from gi.repository import Gio, GLib

WATCHER = """
<node>
  <interface name="org.kde.StatusNotifierWatcher">
    <method name="RegisterStatusNotifierItem"><arg name="service" type="s" direction="in"/></method>
    <method name="RegisterStatusNotifierHost"><arg name="service" type="s" direction="in"/></method>
    <property name="RegisteredStatusNotifierItems" type="as" access="read"/>
    <property name="IsStatusNotifierHostRegistered" type="b" access="read"/>
    <property name="ProtocolVersion" type="i" access="read"/>
    <signal name="StatusNotifierItemRegistered"><arg type="s"/></signal>
    <signal name="StatusNotifierItemUnregistered"><arg type="s"/></signal>
    <signal name="StatusNotifierHostRegistered"/>
  </interface>
</node>"""

NOTIFICATIONS = """
<node>
  <interface name="org.freedesktop.Notifications">
    <method name="Notify">
      <arg type="s" direction="in"/><arg type="u" direction="in"/>
      <arg type="s" direction="in"/><arg type="s" direction="in"/>
      <arg type="s" direction="in"/><arg type="as" direction="in"/>
      <arg type="a{sv}" direction="in"/><arg type="i" direction="in"/>
      <arg type="u" direction="out"/>
    </method>
    <method name="CloseNotification"><arg type="u" direction="in"/></method>
    <method name="GetCapabilities"><arg type="as" direction="out"/></method>
    <method name="GetServerInformation">
      <arg type="s" direction="out"/><arg type="s" direction="out"/>
      <arg type="s" direction="out"/><arg type="s" direction="out"/>
    </method>
    <signal name="NotificationClosed"><arg type="u"/><arg type="u"/></signal>
  </interface>
</node>"""


def serve(outdir):
    bus = Gio.bus_get_sync(Gio.BusType.SESSION, None)
    items = []
    state = {"next_id": 1, "owned": 0}

    def append(name, line):
        with open(os.path.join(outdir, name), "a") as f:
            f.write(line + "\n")

    def watcher_call(conn, sender, path, iface, method, params, inv):
        if method == "RegisterStatusNotifierItem":
            arg = params.unpack()[0]
            # the spec's "service" is a bus name or an object path of the
            # caller; libayatana-appindicator sends its object path
            if arg.startswith("/"):
                item = "%s %s" % (sender, arg)
            else:
                item = "%s /StatusNotifierItem" % arg
            items.append(item)
            append("items", item)
            conn.emit_signal(None, "/StatusNotifierWatcher",
                             "org.kde.StatusNotifierWatcher",
                             "StatusNotifierItemRegistered",
                             GLib.Variant("(s)", (item,)))
        inv.return_value(None)

    def watcher_prop(conn, sender, path, iface, prop):
        if prop == "RegisteredStatusNotifierItems":
            return GLib.Variant("as", items)
        if prop == "IsStatusNotifierHostRegistered":
            return GLib.Variant("b", True)
        return GLib.Variant("i", 0)

    def notify_call(conn, sender, path, iface, method, params, inv):
        if method == "Notify":
            a = params.unpack()
            nid = a[1] or state["next_id"]
            state["next_id"] += 1
            append("notifications", json.dumps(
                {"app": a[0], "id": nid, "icon": a[2], "summary": a[3],
                 "body": a[4], "time": time.time()}))
            inv.return_value(GLib.Variant("(u)", (nid,)))
        elif method == "GetCapabilities":
            inv.return_value(GLib.Variant("(as)", (["body"],)))
        elif method == "GetServerInformation":
            inv.return_value(GLib.Variant("(ssss)", ("tray_host", "paradice",
                                                      "1", "1.2")))
        else:
            inv.return_value(None)

    info = Gio.DBusNodeInfo.new_for_xml(WATCHER).interfaces[0]
    bus.register_object("/StatusNotifierWatcher", info, watcher_call,
                        watcher_prop, None)
    info = Gio.DBusNodeInfo.new_for_xml(NOTIFICATIONS).interfaces[0]
    bus.register_object("/org/freedesktop/Notifications", info, notify_call,
                        None, None)

    def owned(*_):
        state["owned"] += 1
        if state["owned"] == 2:
            print("ready", flush=True)

    def lost(_conn, name):
        sys.exit("tray_host: could not own %s" % name)

    for name in ("org.kde.StatusNotifierWatcher",
                 "org.freedesktop.Notifications"):
        Gio.bus_own_name_on_connection(bus, name, Gio.BusNameOwnerFlags.NONE,
                                       owned, lost)
    GLib.MainLoop().run()


FAKE_MANAGER = """
<node>
  <interface name="org.paradice.Switcher1.Manager">
    <property name="ActiveVm" type="o" access="read"/>
    <property name="Vms" type="ao" access="read"/>
    <property name="Version" type="u" access="read"/>
    <method name="SwitchTo"><arg name="name" type="s" direction="in"/></method>
    <method name="SwitchToPath"><arg name="vm" type="o" direction="in"/></method>
    <method name="SwitchNext"/>
    <method name="SwitchPrevious"/>
    <signal name="Switched"><arg type="o"/><arg type="t"/></signal>
  </interface>
</node>"""

# a VM object as an older or broken service might serve it: no State
FAKE_VM_NO_STATE = """
<node>
  <interface name="org.paradice.Switcher1.Vm">
    <property name="Name" type="s" access="read"/>
    <property name="DomainId" type="u" access="read"/>
    <property name="Active" type="b" access="read"/>
  </interface>
</node>"""

FAKE_VM = """
<node>
  <interface name="org.paradice.Switcher1.Vm">
    <property name="Name" type="s" access="read"/>
    <property name="DomainId" type="u" access="read"/>
    <property name="State" type="s" access="read"/>
    <property name="Active" type="b" access="read"/>
  </interface>
</node>"""


def fake_hostd():
    bus = Gio.bus_get_sync(Gio.BusType.SESSION, None)
    root = "/org/paradice/Switcher1"
    vms = {root + "/vm/7": {"Name": GLib.Variant("s", "odd"),
                            "DomainId": GLib.Variant("u", 7),
                            "Active": GLib.Variant("b", False)},
           root + "/vm/8": {"Name": GLib.Variant("s", "new_one"),
                            "DomainId": GLib.Variant("u", 8),
                            "State": GLib.Variant("s", "hibernating"),
                            "Active": GLib.Variant("b", True)}}
    mgr = {"ActiveVm": GLib.Variant("o", root + "/vm/8"),
           "Vms": GLib.Variant("ao", sorted(vms)),
           "Version": GLib.Variant("u", 1)}

    def call(conn, sender, path, iface, method, params, inv):
        inv.return_dbus_error("org.paradice.Switcher1.Error.Busy",
                              "a switch is already under way")

    def prop(conn, sender, path, iface, name):
        return (mgr if path == root else vms[path]).get(name)

    info = Gio.DBusNodeInfo.new_for_xml(FAKE_MANAGER).interfaces[0]
    bus.register_object(root, info, call, prop, None)
    for path, props in vms.items():
        xml = FAKE_VM if "State" in props else FAKE_VM_NO_STATE
        info = Gio.DBusNodeInfo.new_for_xml(xml).interfaces[0]
        bus.register_object(path, info, None, prop, None)

    def owned(*_):
        print("ready", flush=True)

    def lost(_conn, name):
        sys.exit("tray_host: could not own %s" % name)

    Gio.bus_own_name_on_connection(bus, "org.paradice.Switcher1",
                                   Gio.BusNameOwnerFlags.NONE, owned, lost)
    GLib.MainLoop().run()


FAKE_LIFECYCLE_MANAGER = FAKE_MANAGER.replace(
    '<property name="Version"',
    '<property name="Guests" type="as" access="read"/>'
    '<method name="Start"><arg name="name" type="s" direction="in"/></method>'
    '<property name="Version"')

FAKE_LIFECYCLE_VM = FAKE_VM.replace(
    "</interface>", '<method name="Shutdown"/><method name="Pause"/>'
    '<method name="Resume"/><method name="ForceOff"/></interface>')


def fake_lifecycle():
    bus = Gio.bus_get_sync(Gio.BusType.SESSION, None)
    root = "/org/paradice/Switcher1"
    vms = {root + "/vm/1": {"Name": GLib.Variant("s", "work"),
                            "DomainId": GLib.Variant("u", 1),
                            "State": GLib.Variant("s", "running"),
                            "Active": GLib.Variant("b", True)},
           root + "/vm/2": {"Name": GLib.Variant("s", "play"),
                            "DomainId": GLib.Variant("u", 2),
                            "State": GLib.Variant("s", "paused"),
                            "Active": GLib.Variant("b", False)}}
    mgr = {"ActiveVm": GLib.Variant("o", root + "/vm/1"),
           "Vms": GLib.Variant("ao", sorted(vms)),
           "Guests": GLib.Variant("as", ["work", "play", "spare"]),
           "Version": GLib.Variant("u", 1)}

    def set_state(path, state):
        vms[path]["State"] = GLib.Variant("s", state)
        bus.emit_signal(None, path, "org.freedesktop.DBus.Properties",
                        "PropertiesChanged",
                        GLib.Variant("(sa{sv}as)", (
                            "org.paradice.Switcher1.Vm",
                            {"State": vms[path]["State"]}, [])))

    def call(conn, sender, path, iface, method, params, inv):
        name = params.unpack()[0] if method == "Start" else \
            vms[path]["Name"].unpack()
        print("CALL %s %s" % (name, method), flush=True)
        if name == "play" and method in ("Pause", "Resume"):
            set_state(path, "paused" if method == "Pause" else "running")
            inv.return_value(None)
            return
        inv.return_dbus_error("org.paradice.Switcher1.Error.Refused",
                              "not authorized by polkit")

    def prop(conn, sender, path, iface, name):
        return (mgr if path == root else vms[path]).get(name)

    info = Gio.DBusNodeInfo.new_for_xml(FAKE_LIFECYCLE_MANAGER).interfaces[0]
    bus.register_object(root, info, call, prop, None)
    for path in vms:
        info = Gio.DBusNodeInfo.new_for_xml(FAKE_LIFECYCLE_VM).interfaces[0]
        bus.register_object(path, info, call, prop, None)

    def owned(*_):
        print("ready", flush=True)

    def lost(_conn, name):
        sys.exit("tray_host: could not own %s" % name)

    Gio.bus_own_name_on_connection(bus, "org.paradice.Switcher1",
                                   Gio.BusNameOwnerFlags.NONE, owned, lost)
    GLib.MainLoop().run()


FAKE_THUMBS = """
<node>
  <interface name="org.paradice.Switcher1.Thumbnails">
    <method name="GetThumbnail">
      <arg name="name" type="s" direction="in"/>
      <arg name="max_width" type="u" direction="in"/>
      <arg name="max_height" type="u" direction="in"/>
      <arg name="width" type="u" direction="out"/>
      <arg name="height" type="u" direction="out"/>
      <arg name="stride" type="u" direction="out"/>
      <arg name="format" type="s" direction="out"/>
      <arg name="pixels" type="ay" direction="out"/>
    </method>
  </interface>
</node>"""

FAKE_KIND_VM = FAKE_VM.replace(
    "</interface>", '<property name="Kind" type="s" access="read"/>'
    '</interface>')


def fake_thumbs():
    bus = Gio.bus_get_sync(Gio.BusType.SESSION, None)
    root = "/org/paradice/Switcher1"
    vms = {}
    for dom, name, kind in ((1, "work", "guest"), (2, "play", "guest"),
                            (0, "host", "host")):
        vms["%s/vm/%d" % (root, dom)] = {
            "Name": GLib.Variant("s", name), "DomainId": GLib.Variant("u", dom),
            "State": GLib.Variant("s", "running"),
            "Active": GLib.Variant("b", dom == 1),
            "Kind": GLib.Variant("s", kind)}
    mgr = {"ActiveVm": GLib.Variant("o", root + "/vm/1"),
           "Vms": GLib.Variant("ao", [root + "/vm/1", root + "/vm/2",
                                      root + "/vm/0"]),
           "Guests": GLib.Variant("as", ["work", "play"]),
           "Version": GLib.Variant("u", 1)}
    colours = {"work": b"\x00\x00\xff\x00", "play": b"\xff\x00\x00\x00"}

    def call(conn, sender, path, iface, method, params, inv):
        name, _w, _h = params.unpack()
        print("THUMB %s" % name, flush=True)
        if name not in colours:
            inv.return_dbus_error("org.paradice.Switcher1.Error.NotAvailable",
                                  "no frame of %s" % name)
            return
        w, h = 96, 72
        inv.return_value(GLib.Variant("(uuusay)", (
            w, h, w * 4, "XRGB8888", colours[name] * (w * h))))

    def no_call(conn, sender, path, iface, method, params, inv):
        inv.return_dbus_error("org.paradice.Switcher1.Error.Busy", "busy")

    def prop(conn, sender, path, iface, name):
        return (mgr if path == root else vms[path]).get(name)

    info = Gio.DBusNodeInfo.new_for_xml(FAKE_MANAGER.replace(
        '<property name="Version"',
        '<property name="Guests" type="as" access="read"/>'
        '<property name="Version"')).interfaces[0]
    bus.register_object(root, info, no_call, prop, None)
    info = Gio.DBusNodeInfo.new_for_xml(FAKE_THUMBS).interfaces[0]
    bus.register_object(root, info, call, None, None)
    for path in vms:
        info = Gio.DBusNodeInfo.new_for_xml(FAKE_KIND_VM).interfaces[0]
        bus.register_object(path, info, None, prop, None)

    def owned(*_):
        print("ready", flush=True)

    def lost(_conn, name):
        sys.exit("tray_host: could not own %s" % name)

    Gio.bus_own_name_on_connection(bus, "org.paradice.Switcher1",
                                   Gio.BusNameOwnerFlags.NONE, owned, lost)
    GLib.MainLoop().run()


def _menu_path(bus, item):
    name, path = item.split()
    r = bus.call_sync(name, path, "org.freedesktop.DBus.Properties", "Get",
                      GLib.Variant("(ss)", ("org.kde.StatusNotifierItem",
                                            "Menu")),
                      GLib.VariantType("(v)"), Gio.DBusCallFlags.NONE, 10000,
                      None)
    return name, r.unpack()[0]


def menu(item):
    bus = Gio.bus_get_sync(Gio.BusType.SESSION, None)
    name, path = _menu_path(bus, item)
    r = bus.call_sync(name, path, "com.canonical.dbusmenu", "GetLayout",
                      GLib.Variant("(iias)", (0, -1, [])),
                      GLib.VariantType("(u(ia{sv}av))"),
                      Gio.DBusCallFlags.NONE, 10000, None)
    _rev, (_id, _props, children) = r.unpack()

    def items(children):
        out = []
        for cid, props, sub in children:
            out.append({"id": cid, "label": props.get("label", ""),
                        "enabled": props.get("enabled", True),
                        "visible": props.get("visible", True),
                        "type": props.get("type", "standard"),
                        "toggle-type": props.get("toggle-type", ""),
                        "toggle-state": props.get("toggle-state", -1),
                        "children": items(sub)})
        return out
    print(json.dumps(items(children)))


def click(item, ident):
    bus = Gio.bus_get_sync(Gio.BusType.SESSION, None)
    name, path = _menu_path(bus, item)
    bus.call_sync(name, path, "com.canonical.dbusmenu", "Event",
                  GLib.Variant("(isvu)", (int(ident), "clicked",
                                          GLib.Variant("i", 0),
                                          int(time.time()) & 0xffffffff)),
                  None, Gio.DBusCallFlags.NONE, 10000, None)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "serve":
        serve(sys.argv[2])
    elif len(sys.argv) == 2 and sys.argv[1] == "fake-hostd":
        fake_hostd()
    elif len(sys.argv) == 2 and sys.argv[1] == "fake-lifecycle":
        fake_lifecycle()
    elif len(sys.argv) == 2 and sys.argv[1] == "fake-thumbs":
        fake_thumbs()
    elif len(sys.argv) == 3 and sys.argv[1] == "menu":
        menu(sys.argv[2])
    elif len(sys.argv) == 4 and sys.argv[1] == "click":
        click(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
