#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Count PVH guest deaths (Xen's "Triple fault") under a chosen load.

Boots the xen appliance with no guest, creates guest1 as PVH by hand
(xen-config/pd-test-guest.cfg plus the --cfg lines, so that xl options can
be tried without changing dom0's /init), runs tests/pvh/tscload.c in it
(each --load letter one process), optionally floods the guest's agent with
pings from dom0 (event channels both ways), and counts "Triple fault"
lines on Xen's console for --secs seconds. Xen restarts a dead guest under
a new domain id; the load is started again each time. Xen's console is
copied to --save at the end. Boot under the shared lock, e.g.

  PD_VM_CPU=qemu64,+npt flock LOCK tests/pvh/death_hunt.py --load n,k --ping

PD_VM_CPU, PD_VM_ACCEL, PD_VM_QEMU_ARGS, PD_VM_XEN_ARGS (tests/vm/pdvm/
machine.py) change the emulated machine. docs/testing.md has what it
measured.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(TOP, "tests", "vm"))
from pdvm.machine import Appliance, STATE  # noqa: E402


def build_load():
    out = os.path.join(TOP, "build", "pvh", "tscload")
    src = os.path.join(HERE, "tscload.c")
    if not os.path.exists(out) or os.path.getmtime(out) < os.path.getmtime(src):
        os.makedirs(os.path.dirname(out), exist_ok=True)
        subprocess.run(["cc", "-O2", "-static", "-o", out, src], check=True)
    with open(out, "rb") as f:
        return f.read()


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cfg", action="append", default=[],
                   help="one more xl config line for the guest")
    p.add_argument("--extra", default="", help="more guest kernel arguments")
    p.add_argument("--load", default="n,k",
                   help="tscload kinds, one process each (r,c,b,k,n), or none")
    p.add_argument("--ping", action="store_true",
                   help="ping the guest's agent from dom0 without pause")
    p.add_argument("--secs", type=int, default=300)
    p.add_argument("--save", default=os.path.join(TOP, "build", "pvh",
                                                  "console.log"))
    a = p.parse_args()
    prog = build_load()
    app = Appliance()
    t0 = time.time()

    def say(m):
        print("[%6.1f] %s" % (time.time() - t0, m), flush=True)

    app.up(mode="xen", guests=0)
    say("dom0 up")
    # guest1 is created here, not by dom0's /init: tell the harness so
    info_path = os.path.join(STATE, "info.json")
    with open(info_path) as f:
        info = json.load(f)
    info["guests"], info["guest_types"] = 1, ["pvh"]
    with open(info_path, "w") as f:
        json.dump(info, f)
    cfg = "\n".join(a.cfg).replace("'", "'\\''")
    code, out, err = app.agent.exec(
        "sed -e 's/@NAME@/guest1/g' -e 's/@EXTRA@/%s/' "
        "-e 's/^type = .*/type = \"pvh\"/' /etc/xen/pd-test-guest.cfg "
        ">/etc/xen/guest1.cfg; printf '%%s\\n' '%s' >>/etc/xen/guest1.cfg; "
        "grep -v '^#' /etc/xen/guest1.cfg; xl create /etc/xen/guest1.cfg"
        % (a.extra, cfg), timeout=60)
    say("xl create: %d\n%s%s" % (code, out.decode(), err.decode()))

    def start():
        app.wait_guest("guest1", time.time() + 120)
        say("guest1 up")
        if a.load == "none":
            return
        app.copy_in("guest1", prog, "/tmp/tscload", 0o755)
        for kind in a.load.split(","):
            app.run("guest1", "(/tmp/tscload %s >/tmp/tscload-%s.out 2>&1 "
                    "</dev/null &)" % (kind, kind), timeout=20)

    def faults():
        return app.console_log().count("Triple fault")

    seen = faults()
    start()
    if a.ping:
        app.agent.exec("(while :; do pd-vmagent client $(xl domid guest1) "
                       "-t 5 ping; done </dev/null >/dev/null 2>&1 &)",
                       timeout=10)
    deaths = []
    begin = time.time()
    crashed = False
    while time.time() - begin < a.secs:
        time.sleep(5)
        # a guest that panics (on_crash = "preserve") is no triple fault
        _, out, _ = app.agent.exec("xl list guest1 | awk 'NR==2{print $5}'",
                                   timeout=20)
        if "c" in out.decode():
            say("guest1 crashed (xl list state %s); its console: %s.guest1"
                % (out.decode().strip(), a.save))
            os.makedirs(os.path.dirname(a.save), exist_ok=True)
            with open(a.save + ".guest1", "w") as f:
                f.write(app.log("guest1"))
            crashed = True
            break
        n = faults()
        if n > seen:
            deaths.append(time.time() - begin)
            say("death %d at %.0f s" % (len(deaths), deaths[-1]))
            seen = n
            try:
                start()
            except Exception as e:  # noqa: BLE001 (report and stop)
                say("guest1 did not come back: %s" % e)
                break
    ran = time.time() - begin
    say("%d deaths in %.0f s (%.2f a minute), at %s s%s"
        % (len(deaths), ran, len(deaths) * 60 / ran,
           [int(d) for d in deaths], "; then a crash" if crashed else ""))
    app.down()
    os.makedirs(os.path.dirname(a.save), exist_ok=True)
    shutil.copy(os.path.join(STATE, "console.log"), a.save)
    say("Xen's console: %s" % a.save)
    return 0


if __name__ == "__main__":
    sys.exit(main())
