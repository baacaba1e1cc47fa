# SPDX-License-Identifier: GPL-2.0-only
"""A minimal RFB (VNC) client: one full frame of a QEMU display in raw
encoding, to capture the virtio-gpu's scanout of an appliance with virgl
(`-vnc unix:SOCK,display=vgpu`), which QMP's screendump cannot."""

import socket
import struct


class VncError(Exception):
    pass


def _read(sock, n):
    buf = b""
    while len(buf) < n:
        part = sock.recv(n - len(buf))
        if not part:
            raise VncError("the VNC server closed the connection")
        buf += part
    return buf


def grab(path, timeout=30):
    """Connect to QEMU's VNC server on the Unix socket path (no password),
    ask for one non-incremental update of the whole screen as 32-bit
    little-endian xRGB, and return (width, height, rgb bytes)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(path)
        version = _read(s, 12)
        if not version.startswith(b"RFB 003."):
            raise VncError("not an RFB server: %r" % version)
        s.sendall(b"RFB 003.008\n")
        count = _read(s, 1)[0]
        if count == 0:
            reason = _read(s, struct.unpack(">I", _read(s, 4))[0])
            raise VncError("VNC server refused: %s" % reason.decode())
        if 1 not in _read(s, count):
            raise VncError("the VNC server wants authentication")
        s.sendall(b"\x01")
        if struct.unpack(">I", _read(s, 4))[0] != 0:
            raise VncError("VNC security handshake failed")
        s.sendall(b"\x01")  # ClientInit: shared
        w, h = struct.unpack(">HH", _read(s, 4))
        _read(s, 16)  # the server's pixel format: ours is set below
        _read(s, struct.unpack(">I", _read(s, 4))[0])  # the desktop's name
        # SetPixelFormat: 32 bpp, depth 24, little endian, true colour,
        # red at bit 16, green 8, blue 0
        s.sendall(struct.pack(">B3xBBBBHHHBBB3x", 0, 32, 24, 0, 1,
                              255, 255, 255, 16, 8, 0))
        s.sendall(struct.pack(">BxHi", 2, 1, 0))  # SetEncodings: raw
        s.sendall(struct.pack(">BBHHHH", 3, 0, 0, 0, w, h))
        fb = bytearray(w * h * 4)
        covered = 0
        while covered < w * h:
            kind = _read(s, 1)[0]
            if kind == 2:           # Bell
                continue
            if kind == 3:           # ServerCutText
                _read(s, 3)
                _read(s, struct.unpack(">I", _read(s, 4))[0])
                continue
            if kind == 1:           # SetColourMapEntries
                _, n = struct.unpack(">xHH", _read(s, 5))
                _read(s, 6 * n)
                continue
            if kind != 0:
                raise VncError("unexpected VNC message %d" % kind)
            (nrect,) = struct.unpack(">xH", _read(s, 3))
            for _ in range(nrect):
                x, y, rw, rh, enc = struct.unpack(">HHHHi", _read(s, 12))
                if enc == -223:     # DesktopSize
                    w, h = rw, rh
                    fb = bytearray(w * h * 4)
                    covered = 0
                    s.sendall(struct.pack(">BBHHHH", 3, 0, 0, 0, w, h))
                    continue
                if enc != 0:
                    raise VncError("VNC rectangle in encoding %d" % enc)
                data = _read(s, rw * rh * 4)
                for row in range(rh):
                    off = ((y + row) * w + x) * 4
                    fb[off:off + rw * 4] = data[row * rw * 4:(row + 1) * rw * 4]
                covered += rw * rh
    finally:
        s.close()
    rgb = bytearray(w * h * 3)
    rgb[0::3] = fb[2::4]
    rgb[1::3] = fb[1::4]
    rgb[2::3] = fb[0::4]
    return w, h, bytes(rgb)
