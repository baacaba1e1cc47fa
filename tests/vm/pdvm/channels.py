# SPDX-License-Identifier: GPL-2.0-only
"""The two ways into a running emulated machine: QEMU's QMP socket, and the
test agent (pd-vmagent) behind a virtio-serial port. The agent's protocol is
described in tests/vm/agent/vmagent_proto.h."""

import fcntl
import json
import os
import socket
import struct
import time

MAGIC = 0x41564450
REQ_PING, REQ_EXEC, REQ_PUT, REQ_GET = 1, 2, 3, 4
RESP_OUT, RESP_ERR, RESP_EXIT, RESP_FAIL, RESP_DATA, RESP_DONE = \
    0x81, 0x82, 0x83, 0x84, 0x85, 0x86
HDR = struct.Struct("<IIII")
# PD_VM_TRACE_SLOW=SECONDS: print each command into a machine that took at
# least that long (where a test's time goes)
TRACE_SLOW = float(os.environ.get("PD_VM_TRACE_SLOW") or 0)


class ChannelError(Exception):
    pass


class Qmp:
    def __init__(self, path, timeout=10):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b""
        self._read()  # greeting
        self.cmd("qmp_capabilities")

    def _read(self):
        while b"\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise ChannelError("QMP: QEMU closed the connection")
            self.buf += data
        line, _, self.buf = self.buf.partition(b"\n")
        return json.loads(line)

    def cmd(self, name, **args):
        msg = {"execute": name}
        if args:
            msg["arguments"] = args
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            r = self._read()
            if "return" in r:
                return r["return"]
            if "error" in r:
                raise ChannelError("QMP %s: %s" % (name, r["error"]["desc"]))
            # asynchronous events are skipped

    def close(self):
        self.sock.close()


class Agent:
    """One request at a time over QEMU's agent socket. QEMU takes a single
    client on that socket, so every use holds a lock file: several
    `appliance` commands may run at once and simply take turns."""

    def __init__(self, sock_path, lock_path):
        self.sock_path = sock_path
        self.lock_path = lock_path
        self.next_id = (os.getpid() << 12) & 0xffffffff

    def _connect(self, deadline):
        while True:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(self.sock_path)
                return s
            except OSError as e:
                s.close()
                if time.monotonic() > deadline:
                    raise ChannelError("agent socket %s: %s" %
                                       (self.sock_path, e))
                time.sleep(0.2)

    def request(self, rtype, payload, timeout, on_frame):
        """Send a request; feed each reply frame to on_frame(type, data)
        until it returns something other than None, and return that."""
        deadline = time.monotonic() + timeout
        self.next_id = (self.next_id + 1) & 0xffffffff
        rid = self.next_id
        with open(self.lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            s = self._connect(deadline)
            try:
                s.sendall(HDR.pack(MAGIC, rtype, rid, len(payload)) + payload)
                buf = b""
                while True:
                    while True:
                        # resynchronise on the magic, as the agent does
                        i = buf.find(struct.pack("<I", MAGIC))
                        if i > 0:
                            buf = buf[i:]
                        if len(buf) >= HDR.size:
                            _, t, fid, n = HDR.unpack_from(buf)
                            if len(buf) >= HDR.size + n:
                                data = buf[HDR.size:HDR.size + n]
                                buf = buf[HDR.size + n:]
                                if fid == rid:
                                    r = on_frame(t, data)
                                    if r is not None:
                                        return r
                                continue
                        break
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise ChannelError("agent: no answer in %ds" % timeout)
                    s.settimeout(min(left, 1.0))
                    try:
                        data = s.recv(1 << 20)
                    except socket.timeout:
                        continue
                    if not data:
                        raise ChannelError("agent: connection closed")
                    buf += data
            finally:
                s.close()

    def ping(self, timeout=5):
        return self.request(REQ_PING, b"", timeout,
                            lambda t, d: True if t == RESP_DONE else None)

    def exec(self, cmd, timeout=60, out=None, err=None):
        """Run cmd under /bin/sh; returns (exit code, stdout, stderr).
        out/err, if given, receive output as it comes instead."""
        chunks = {RESP_OUT: [], RESP_ERR: []}
        sinks = {RESP_OUT: out, RESP_ERR: err}

        def frame(t, d):
            if t in chunks:
                if sinks[t]:
                    sinks[t].write(d)
                    sinks[t].flush()
                else:
                    chunks[t].append(d)
            elif t == RESP_EXIT:
                return struct.unpack("<i", d)[0]
            elif t == RESP_FAIL:
                raise ChannelError("agent: " + d.decode(errors="replace"))
            return None

        payload = struct.pack("<I", int(timeout)) + cmd.encode() + b"\0"
        t0 = time.monotonic()
        try:
            code = self.request(REQ_EXEC, payload, timeout + 15, frame)
        finally:
            took = time.monotonic() - t0
            if TRACE_SLOW and took >= TRACE_SLOW:
                print("    [%.1fs] %s" % (took, cmd[:200]), flush=True)
        return code, b"".join(chunks[RESP_OUT]), b"".join(chunks[RESP_ERR])

    def put(self, data, remote, mode=0o644, timeout=120):
        def frame(t, d):
            if t == RESP_DONE:
                return True
            if t == RESP_FAIL:
                raise ChannelError("agent: " + d.decode(errors="replace"))
            return None

        payload = struct.pack("<I", mode) + remote.encode() + b"\0" + data
        return self.request(REQ_PUT, payload, timeout, frame)

    def get(self, remote, timeout=120):
        parts = []

        def frame(t, d):
            if t == RESP_DATA:
                parts.append(d)
            elif t == RESP_DONE:
                return True
            elif t == RESP_FAIL:
                raise ChannelError("agent: " + d.decode(errors="replace"))
            return None

        self.request(REQ_GET, remote.encode() + b"\0", timeout, frame)
        return b"".join(parts)
