# SPDX-License-Identifier: GPL-2.0-only
"""hostd asks polkit without blocking (hostd/bus.c): on a private bus of
this machine, the real hostd (the AddressSanitizer/UBSan build, --no-input
--no-xen) and tests/host/fake_polkit.py as the polkit authority, whose
answer and delay each test sets. Switches come from user nobody (root's
skip polkit). hostd must exit cleanly (no leak report) after each."""

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

from pdvm.testlib import ANY_USER_BUS, TestFailure, check

MODE = "host"

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HOSTD = os.path.join(TOP, "build", "meson-san", "hostd", "hostd")
FAKE = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                    "fake_polkit.py")
# fake_polkit.py needs python3-gi, which Debian's python3 has
SYSTEM_PYTHON = "/usr/bin/python3"


CONF = """\
[guest work]
[guest play]
"""

MANAGER = "org.paradice.Switcher1.Manager"
ERR = "org.paradice.Switcher1.Error."


class Session:
    """A private bus that any user may join, the fake polkit, and hostd."""

    def __init__(self, timeout=None, conf=CONF):
        self.hostd = self.polkit = self.bus = self.log = None
        self.clients = []
        self.conf = conf
        try:
            self.start(timeout)
        except BaseException:
            self.close()
            raise

    def start(self, timeout):
        self.dir = tempfile.mkdtemp(prefix="pd-polkit-")
        os.chmod(self.dir, 0o755)
        conf = os.path.join(self.dir, "paradice.conf")
        with open(conf, "w") as f:
            f.write(self.conf)
        bus_conf = os.path.join(self.dir, "bus.conf")
        with open(bus_conf, "w") as f:
            f.write(ANY_USER_BUS % self.dir)
        self.policy("yes")
        self.bus = subprocess.Popen(["dbus-daemon", "--config-file=" + bus_conf,
                                     "--nofork", "--print-address"],
                                    stdout=subprocess.PIPE,
                                    stderr=subprocess.DEVNULL, text=True)
        self.address = self.bus.stdout.readline().strip()
        check(self.address.startswith("unix:"), "no bus: %r" % self.address)
        self.env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=self.address)
        self.polkit = subprocess.Popen([SYSTEM_PYTHON, FAKE, "serve", self.dir],
                                       env=self.env, stdout=subprocess.PIPE,
                                       text=True)
        line = self.polkit.stdout.readline().strip()
        check(line == "ready", "fake polkit did not start: %r" % line)
        self.log = open(os.path.join(self.dir, "hostd.log"), "w+")
        cmd = [HOSTD, "--config", conf, "--bus", self.address, "--no-input",
               "--no-xen"]
        if timeout:
            cmd += ["--polkit-timeout", str(timeout)]
        self.hostd = subprocess.Popen(
            cmd, stderr=self.log,
            env=dict(os.environ, ASAN_OPTIONS="detect_leaks=1",
                     UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"))
        self.wait_for(lambda: "ready:" in self.hostd_log(), "hostd ready")

    def policy(self, answer, delay=0):
        with open(os.path.join(self.dir, "policy"), "w") as f:
            json.dump({"answer": answer, "delay": delay}, f)

    def calls(self):
        try:
            with open(os.path.join(self.dir, "calls")) as f:
                return [json.loads(line) for line in f]
        except FileNotFoundError:
            return []

    def hostd_log(self):
        if not self.log or self.log.closed:
            return ""
        self.log.seek(0)
        return self.log.read()

    def wait_for(self, cond, what, timeout=20):
        deadline = time.monotonic() + timeout
        while not cond():
            if time.monotonic() > deadline:
                raise TestFailure("timed out waiting for %s; hostd log:\n%s"
                                  % (what, self.hostd_log()[-3000:]))
            time.sleep(0.05)

    def switch(self, n=1, vm="play", *opts):
        """n SwitchTo calls from user nobody, on one connection; the
        process, whose stdout gives a JSON line per answer."""
        p = subprocess.Popen(["setpriv", "--reuid=nobody", "--regid=nogroup",
                              "--clear-groups", SYSTEM_PYTHON, FAKE, "call",
                              str(n), vm] + list(opts),
                             env=self.env, stdout=subprocess.PIPE, text=True,
                             cwd="/")
        self.clients.append(p)
        return p

    def answers(self, p, timeout=30):
        out, _ = p.communicate(timeout=timeout)
        return sorted((json.loads(line) for line in out.splitlines()),
                      key=lambda a: a["i"])

    def gdbus(self, *args):
        """A call as root (no polkit), with how long it took."""
        t = time.monotonic()
        r = subprocess.run(["gdbus", "call", "--system", "--dest",
                            "org.paradice.Switcher1", "--object-path",
                            "/org/paradice/Switcher1"] + list(args),
                           env=self.env, capture_output=True, text=True,
                           timeout=30)
        return r, time.monotonic() - t

    def active(self):
        r, _ = self.gdbus("--method", "org.freedesktop.DBus.Properties.Get",
                          MANAGER, "ActiveVm")
        check(r.returncode == 0, "ActiveVm: %s" % r.stderr)
        return r.stdout.strip()

    def stop_hostd(self):
        self.hostd.send_signal(signal.SIGTERM)
        code = self.hostd.wait(timeout=20)
        self.hostd = None
        log = self.hostd_log()
        check(code == 0, "hostd exited %d:\n%s" % (code, log[-3000:]))
        check("ERROR: AddressSanitizer" not in log and
              "runtime error" not in log, "sanitizer report:\n%s" % log)

    def close(self):
        try:
            for p in self.clients:
                if p.poll() is None:
                    p.kill()
                p.wait()
            if self.hostd:
                self.stop_hostd()
        finally:
            for p in (self.polkit, self.bus):
                if p:
                    p.kill()
                    p.wait()
            if self.log:
                self.log.close()
            shutil.rmtree(self.dir, ignore_errors=True)


def test_a_switch_waiting_for_polkit_blocks_nothing(app):
    """While polkit takes 3 s over nobody's switch, root's property reads
    and introspection are answered at once; then the switch is made."""
    s = Session()
    try:
        work = s.active()
        s.policy("yes", delay=3)
        p = s.switch()
        s.wait_for(lambda: len(s.calls()) == 1, "the question to polkit")
        took = []
        for _ in range(5):
            r, t = s.gdbus("--method", "org.freedesktop.DBus.Properties.GetAll",
                           MANAGER)
            check(r.returncode == 0, "GetAll: %s" % r.stderr)
            took.append(t)
        r, t = s.gdbus("--method", "org.freedesktop.DBus.Introspectable.Introspect")
        check(r.returncode == 0, "Introspect: %s" % r.stderr)
        took.append(t)
        check(p.poll() is None, "the switch was answered before polkit")
        check(max(took) < 1.0, "reads waited while polkit was asked: %r" % took)
        check(s.active() == work, "switched before polkit answered")
        a = s.answers(p)
        check(a[0]["ok"], "the granted switch failed: %r" % a)
        check(a[0]["t"] >= 2.5, "answered before polkit did: %r" % a)
        check(s.active() != work, "polkit granted it but no switch")
        c = s.calls()[0]
        check(c["action"] == "org.paradice.switcher.switch" and
              c["kind"] == "system-bus-name" and c["subject"].startswith(":"),
              "what polkit was asked: %r" % c)
        print("reads while polkit waited: %s s" %
              " ".join("%.3f" % t for t in took))
        s.stop_hostd()
    finally:
        s.close()


def test_polkit_may_ask_exactly_when_the_caller_allows(app):
    """CheckAuthorization's flags carry AllowUserInteraction (1) when the
    caller's message has ALLOW_INTERACTIVE_AUTHORIZATION, else 0."""
    s = Session()
    try:
        check(s.answers(s.switch())[0]["ok"], "plain switch refused")
        check(s.answers(s.switch(1, "work", "--interactive"))[0]["ok"],
              "interactive switch refused")
        flags = [c["flags"] for c in s.calls()]
        check(flags == [0, 1], "polkit's flags: %r (want [0, 1])" % flags)
        s.stop_hostd()
    finally:
        s.close()


def test_polkit_denies(app):
    """polkit says no: Error.Refused, and no switch."""
    s = Session()
    try:
        work = s.active()
        s.policy("no", delay=0.5)
        a = s.answers(s.switch())[0]
        check(not a["ok"] and a["error"] == ERR + "Refused",
              "denied switch answered %r" % a)
        check(s.active() == work, "switched although polkit said no")
        s.stop_hostd()
    finally:
        s.close()


def test_too_many_waiting_switches(app):
    """A caller with 4 switches waiting for polkit gets
    Error.LimitsExceeded for more at once, and hostd logs who; the 4 are
    answered when polkit is."""
    s = Session()
    try:
        s.policy("yes", delay=2)
        a = s.answers(s.switch(6))
        errors = [x["error"] for x in a]
        check(errors.count(ERR + "LimitsExceeded") == 2 and
              errors.count(None) == 4, "answers: %r" % a)
        for x in a:
            if x["error"]:
                check(x["t"] < 1.0, "the refusal waited: %r" % x)
        check(len(s.calls()) == 4, "polkit asked %d times" % len(s.calls()))
        log = s.hostd_log()
        check("switches already wait for polkit" in log and
              "(uid 65534)" in log, "no log line naming the caller:\n%s" %
              log[-2000:])
        s.stop_hostd()
    finally:
        s.close()


def test_caller_leaves_before_polkit_answers(app):
    """The caller leaves the bus while polkit is asked: hostd drops the
    call, keeps serving, and exits without a leak."""
    s = Session()
    try:
        work = s.active()
        s.policy("yes", delay=2)
        p = s.switch(2, "play", "--exit-after", "0.5")
        p.communicate(timeout=20)
        s.wait_for(lambda: "left while polkit was asked" in s.hostd_log(),
                   "hostd to see the caller leave")
        time.sleep(2.5)   # polkit's late answers come
        check(s.active() == work, "switched for a caller that left")
        check(s.answers(s.switch())[0]["ok"], "no switch after")
        s.stop_hostd()
    finally:
        s.close()


def test_polkit_never_answers(app):
    """polkit never answers: Error.Timeout after hostd's --polkit-timeout;
    a switch still waiting when hostd exits is answered, not leaked."""
    s = Session(timeout=1.5)
    try:
        s.policy("never")
        a = s.answers(s.switch())[0]
        check(not a["ok"] and a["error"] == ERR + "Timeout",
              "answer: %r" % a)
        check(1.3 <= a["t"] < 5, "timed out after %.2f s" % a["t"])
        check("polkit did not answer" in s.hostd_log(), "not logged")
        p = s.switch()
        s.wait_for(lambda: len(s.calls()) == 2, "the second question")
        s.stop_hostd()
        a = s.answers(p)[0]
        check(not a["ok"] and a["error"] == ERR + "Refused",
              "at exit: %r" % a)
    finally:
        s.close()
