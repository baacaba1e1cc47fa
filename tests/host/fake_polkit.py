#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""A polkit authority and a Switcher1 client for tests/host/test_hostd_polkit.py,
run by Debian's /usr/bin/python3 (python3-gi) on the test's private bus
(DBUS_SYSTEM_BUS_ADDRESS).

  fake_polkit.py serve DIR   org.freedesktop.PolicyKit1: CheckAuthorization
                             answers as DIR/policy (JSON) says when the call
                             comes: {"answer": "yes"|"no"|"never",
                             "delay": SECONDS}. Each call is written as a
                             JSON line {"subject", "action", "flags"} to
                             DIR/calls. Prints "ready" once the name is owned.
  fake_polkit.py call N VM [--interactive] [--exit-after SECONDS]
                             N SwitchTo(VM) calls at once on one connection
                             (with ALLOW_INTERACTIVE_AUTHORIZATION if asked);
                             one JSON line per answer, as they come:
                             {"i", "ok", "error", "t"} (t: seconds since the
                             calls were sent). --exit-after: leave the bus
                             then, answered or not.
"""

import json
import os
import sys
import time

from gi.repository import Gio, GLib

AUTHORITY = """
<node>
  <interface name="org.freedesktop.PolicyKit1.Authority">
    <method name="CheckAuthorization">
      <arg type="(sa{sv})" direction="in"/>
      <arg type="s" direction="in"/>
      <arg type="a{ss}" direction="in"/>
      <arg type="u" direction="in"/>
      <arg type="s" direction="in"/>
      <arg type="(bba{ss})" direction="out"/>
    </method>
  </interface>
</node>"""


def serve(d):
    loop = GLib.MainLoop()
    node = Gio.DBusNodeInfo.new_for_xml(AUTHORITY)

    def on_call(conn, sender, path, iface, method, params, inv):
        (kind, subject), action, _details, flags, _cancel = params.unpack()
        with open(os.path.join(d, "calls"), "a") as f:
            f.write(json.dumps({"subject": subject.get("name"),
                                "kind": kind, "action": action,
                                "flags": flags}) + "\n")
        with open(os.path.join(d, "policy")) as f:
            policy = json.load(f)
        if policy["answer"] == "never":
            kept.append(inv)
            return
        yes = policy["answer"] == "yes"

        def answer():
            inv.return_value(GLib.Variant("((bba{ss}))", ((yes, False, {}),)))
            return False
        GLib.timeout_add(int(policy.get("delay", 0) * 1000), answer)

    kept = []

    def on_bus(conn, name):
        conn.register_object("/org/freedesktop/PolicyKit1/Authority",
                             node.interfaces[0], on_call, None, None)

    def on_name(conn, name):
        print("ready", flush=True)

    Gio.bus_own_name(Gio.BusType.SYSTEM, "org.freedesktop.PolicyKit1",
                     Gio.BusNameOwnerFlags.NONE, on_bus, on_name,
                     lambda c, n: loop.quit())
    loop.run()


def call(n, vm, interactive, exit_after):
    loop = GLib.MainLoop()
    conn = Gio.bus_get_sync(Gio.BusType.SYSTEM, None)
    flags = Gio.DBusCallFlags.NONE
    if interactive:
        flags |= Gio.DBusCallFlags.ALLOW_INTERACTIVE_AUTHORIZATION
    start = time.monotonic()
    left = [n]

    def done(c, res, i):
        out = {"i": i, "ok": True, "error": None,
               "t": round(time.monotonic() - start, 3)}
        try:
            c.call_finish(res)
        except GLib.Error as e:
            out["ok"] = False
            out["error"] = Gio.DBusError.get_remote_error(e) or e.message
        print(json.dumps(out), flush=True)
        left[0] -= 1
        if not left[0]:
            loop.quit()

    for i in range(n):
        conn.call("org.paradice.Switcher1", "/org/paradice/Switcher1",
                  "org.paradice.Switcher1.Manager", "SwitchTo",
                  GLib.Variant("(s)", (vm,)), None, flags, 60000, None,
                  done, i)
    if exit_after is not None:
        GLib.timeout_add(int(exit_after * 1000), loop.quit)
    loop.run()


def main():
    if sys.argv[1] == "serve":
        serve(sys.argv[2])
    elif sys.argv[1] == "call":
        args = sys.argv[2:]
        exit_after = None
        if "--exit-after" in args:
            k = args.index("--exit-after")
            exit_after = float(args[k + 1])
            del args[k:k + 2]
        interactive = "--interactive" in args
        args = [a for a in args if a != "--interactive"]
        call(int(args[0]), args[1], interactive, exit_after)
    else:
        sys.exit("usage: see the docstring")


if __name__ == "__main__":
    main()
