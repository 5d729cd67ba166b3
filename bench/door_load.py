#!/usr/bin/env python3
"""The shared C{loadgen.py} with our other doors' dialects: C{ws} (the
browser door) and C{ssh}.

    python bench/door_load.py --loadgen PATH/loadgen.py MODE --dialect ws|ssh [loadgen options]

Both are loadgen's C{bbs} dialect (login lines, readiness sentinels, ANSI
stripped) carried the way a person's client carries it:

  - C{ws}: as the page does, each client upgrades C{GET /ws} with its
    page's origin, sends its window's size, then types masked binary
    messages and reads the terminal's output from binary messages;
  - C{ssh}: as OpenSSH does, each client logs in by keyboard-interactive
    (a guest: no password is asked) under the nickname loadgen would have
    typed, taking the server's ed25519 key as OpenSSH does, asks for a pty
    of 200x50 and a shell, and types on that channel
    (asyncssh is the client).  Its login lines should not type the nickname
    again: C{--login "/join {room}"}.

Both terminals are in character mode: the server echoes what is typed and
redraws the input row under each line, so the echo of the line just typed and
the row's erase codes are left out before loadgen reads.  Every measurement,
bound and report is loadgen's own: this file only swaps the socket under its
clients, so a C{ws} or C{ssh} figure and a C{bbs} figure of the same run
compare the doors and nothing else.  Any other dialect is passed to loadgen
untouched.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import importlib.util
import os
import socket
import struct
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MAX_HEADER = 16 * 1024
OP_CONT, OP_TEXT, OP_BIN, OP_CLOSE, OP_PING, OP_PONG = 0, 1, 2, 8, 9, 10
RESIZE = b'{"type": "resize", "cols": 200, "rows": 50}'
# The server's key as OpenSSH's client asks for it, ed25519 first (asyncssh
# would ask for RSA first, which costs the server an RSA signature a login).
HOST_KEY_ALGS = ["ssh-ed25519", "rsa-sha2-512", "rsa-sha2-256"]


def mask(key: bytes, data: bytes) -> bytes:
    """RFC 6455 §5.3: the payload XOR the key repeated (one integer XOR, not a loop)."""
    n = len(data)
    if not n:
        return data
    k = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "little") ^ int.from_bytes(k, "little")).to_bytes(n, "little")


def frame(opcode: int, payload: bytes) -> bytes:
    """One final, masked client frame."""
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    key = os.urandom(4)
    return head + key + mask(key, payload)


class Frames:
    """Server frames (never masked) from a byte stream: C{(opcode, payload)}s."""

    __slots__ = ("buf",)

    def __init__(self) -> None:
        self.buf = b""

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        if not self.buf and len(data) >= 2 and data[1] < 126 and len(data) == data[1] + 2:
            return [(data[0] & 0x0F, data[2:])]  # the usual read: one small frame, whole
        buf = self.buf + data if self.buf else data
        out = []
        i, end = 0, len(buf)
        while end - i >= 2:
            b0, b1 = buf[i], buf[i + 1]
            n, at = b1 & 0x7F, i + 2
            if n == 126:
                if end - at < 2:
                    break
                (n,) = struct.unpack_from("!H", buf, at)
                at += 2
            elif n == 127:
                if end - at < 8:
                    break
                (n,) = struct.unpack_from("!Q", buf, at)
                at += 8
            if b1 & 0x80:
                raise ValueError("the server masked a frame")
            if end - at < n:
                break
            out.append((b0 & 0x0F, buf[at:at + n]))
            i = at + n
        self.buf = buf[i:]
        return out


class Terminal:
    """What a character-mode door's client hands loadgen's: its output,
    less what loadgen's plain terminal never sees (see the module)."""

    inner: asyncio.Protocol
    echo = b""  # the line just typed, until the next output

    def _output(self, data: bytes) -> None:
        if b"\x1b[K" in data:
            # The input row's redraw: C code here, so that loadgen's regex
            # for escapes runs only when colours do.
            data = data.replace(b"\x1b[K", b"")
        if self.echo:
            # The server echoes what is typed in its next output: the line
            # typed is not the line delivered, which comes after it.
            data = data.replace(self.echo, b"", 1)
            self.echo = b""
        self.inner.data_received(data)


class WebSocket(Terminal, asyncio.Protocol):
    """A WebSocket client that is also the transport of one loadgen client."""

    def __init__(self, inner: asyncio.Protocol, host: str, port: int, loop) -> None:
        self.inner = inner
        self.where = f"{host}:{port}"
        self.t: asyncio.Transport | None = None
        self.upgraded = loop.create_future()
        self.head = b""
        self.frames: Frames | None = None
        self.closing = False

    # -- the TCP connection
    def connection_made(self, transport) -> None:
        self.t = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.key = base64.b64encode(os.urandom(16))
        transport.write(b"GET /ws HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n"
                        b"Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                        b"Sec-WebSocket-Version: 13\r\nOrigin: http://%s\r\n\r\n"
                        % (self.where.encode(), self.key, self.where.encode()))

    def data_received(self, data: bytes) -> None:
        n = len(data)
        if n > 2 and data[0] == 0x82 and data[1] == n - 2 and self.frames is not None \
                and not self.frames.buf:
            self._output(data[2:])  # the usual read: one small binary frame, whole
            return
        if self.frames is None:
            self.head += data
            cut = self.head.find(b"\r\n\r\n")
            if cut < 0:
                if len(self.head) > MAX_HEADER:
                    self._refused(b"response header too long")
                return
            head, data = self.head[:cut], self.head[cut + 4:]
            self.head = b""
            accept = base64.b64encode(hashlib.sha1(self.key + GUID).digest())
            if not head.startswith(b"HTTP/1.1 101") or accept not in head:
                self._refused(head.split(b"\r\n", 1)[0])
                return
            self.frames = Frames()
            # As the page does, its window's size first: a desktop's, so that
            # a line typed is echoed whole (not scrolled) and none is wrapped.
            self.t.write(frame(OP_TEXT, RESIZE))
            self.inner.connection_made(self)
            self.upgraded.set_result(None)
            if not data:
                return
        try:
            got = self.frames.feed(data)
        except ValueError as e:
            self._refused(str(e).encode())
            return
        output = []
        for opcode, payload in got:
            if opcode in (OP_BIN, OP_CONT, OP_TEXT):
                output.append(payload)
            elif opcode == OP_PING:
                self.t.write(frame(OP_PONG, payload))
            elif opcode == OP_CLOSE:
                if not self.closing:
                    self.t.write(frame(OP_CLOSE, payload[:2]))
                self.closing = True
                self.t.close()
        if output:
            self._output(output[0] if len(output) == 1 else b"".join(output))

    def connection_lost(self, exc) -> None:
        if self.frames is not None:
            self.inner.connection_lost(exc)
        elif not self.upgraded.done():
            self.upgraded.set_exception(ConnectionError("closed before the upgrade"))

    def _refused(self, why: bytes) -> None:
        if not self.upgraded.done():
            self.upgraded.set_exception(ConnectionError(why[:60].decode("latin-1")))
        self.t.abort()

    # -- the transport loadgen's client sees
    def write(self, data: bytes) -> None:
        if not self.closing:
            self.echo = data.rstrip(b"\r\n")
            self.t.write(frame(OP_BIN, data))

    def is_closing(self) -> bool:
        return self.closing or self.t.is_closing()

    def close(self) -> None:
        if not self.closing and not self.t.is_closing():
            self.closing = True
            self.t.write(frame(OP_CLOSE, struct.pack("!H", 1000)))
        self.t.close()

    def abort(self) -> None:
        self.closing = True
        self.t.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.t, name)  # the rest of a transport: the TCP one's


class WebSocketLoop:
    """The event loop, but C{create_connection} opens a WebSocket."""

    def __init__(self, loop) -> None:
        self._loop = loop

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loop, name)

    async def create_connection(self, factory, host: str, port: int, **kw):
        ws = WebSocket(factory(), host, port, self._loop)
        await self._loop.create_connection(lambda: ws, host, port, **kw)
        await ws.upgraded
        return ws, ws.inner


class SSHTerminal(Terminal):
    """One SSH session channel (asyncssh's) that is also the transport of one
    loadgen client."""

    def __init__(self, inner: asyncio.Protocol, conn: Any) -> None:
        self.inner = inner
        self.conn = conn
        self.chan: Any = None

    # -- asyncssh's SSHClientSession
    def connection_made(self, chan: Any) -> None:
        self.chan = chan

    def session_started(self) -> None:
        self.inner.connection_made(self)

    def data_received(self, data: bytes, datatype: Any) -> None:
        self._output(data)

    def eof_received(self) -> bool:
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        pass

    def resume_writing(self) -> None:
        pass

    # -- the transport loadgen's client sees
    def write(self, data: bytes) -> None:
        if not self.chan.is_closing():
            self.echo = data.rstrip(b"\r\n")
            self.chan.write(data)

    def is_closing(self) -> bool:
        return self.chan.is_closing()

    def close(self) -> None:
        self.chan.close()
        self.conn.close()

    def abort(self) -> None:
        self.conn.abort()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self.conn.get_extra_info(name, default)

    def get_write_buffer_size(self) -> int:
        return self.chan.get_write_buffer_size()


class SSHLoop:
    """The event loop, but C{create_connection} logs in over SSH and opens
    a shell on a pty."""

    def __init__(self, loop) -> None:
        self._loop = loop

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loop, name)

    async def create_connection(self, factory, host: str, port: int, local_addr=None, **kw):
        import asyncssh  # only this dialect needs it

        inner = factory()
        nick = inner.run.nick_prefix.decode() + str(inner.idx)
        conn = await asyncssh.connect(host, port, username=nick, password="",
                                      preferred_auth="keyboard-interactive", known_hosts=None,
                                      server_host_key_algs=HOST_KEY_ALGS, local_addr=local_addr)
        terminal = SSHTerminal(inner, conn)
        await conn.create_session(lambda: terminal, term_type="xterm-256color",
                                  term_size=(200, 50), encoding=None)
        return terminal, inner


def load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("loadgen", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def with_door(loadgen: ModuleType, dialect: str, loop_class: type) -> None:
    """Every loadgen run opens its clients through C{loop_class}'s door."""
    plain = loadgen.Run

    class Run(plain):
        def __init__(self, a, loop) -> None:
            super().__init__(a, loop_class(loop))
            self.result["dialect"] = dialect

    loadgen.Run = Run


DIALECTS = {"ws": WebSocketLoop, "ssh": SSHLoop}


def main(argv: list[str]) -> int:
    if argv[:1] != ["--loadgen"] or len(argv) < 2:
        raise SystemExit(__doc__.split("\n\n")[1])
    loadgen = load(Path(argv[1]))
    rest = argv[2:]
    for i, arg in enumerate(rest[:-1]):
        if arg == "--dialect" and rest[i + 1] in DIALECTS:
            dialect, rest[i + 1] = rest[i + 1], "bbs"
            with_door(loadgen, dialect, DIALECTS[dialect])
    return loadgen.main(rest)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
