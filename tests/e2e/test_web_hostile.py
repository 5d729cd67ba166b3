"""The browser door against hostile clients, on the real twistd: each bad
input gets its HTTP error or WebSocket close code, is logged once, and the
people chatting meanwhile notice nothing."""

from __future__ import annotations

import asyncio
import base64
import os
import re
import socket
import struct
import time

import pytest

from tests.e2e.harness import DEADLINE, Server
from tests.e2e.test_web import Browser

FLOOD = 10_000
FLOOD_FROM = "127.0.0.9"
STALLER = "127.0.0.31"
# Its one line (a message), then a close frame with 1008 (0x03f0).
_REFUSED = re.compile(rb"(Too many connections|connecting too fast)[^\x88]*\r\n\x88.\x03\xf0",
                      re.S)


def _upgrade(port: int, source: str = "127.0.0.1") -> socket.socket:
    """A raw WebSocket, past its handshake; the server's first bytes left unread."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE,
                                    source_address=(source, 0))
    sock.sendall(_request(port))
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


def _request(port: int) -> bytes:
    key = base64.b64encode(os.urandom(16))
    return (b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
            b"Origin: http://127.0.0.1:%d\r\n\r\n" % (port, key, port))


def _close_code(sock: socket.socket) -> int:
    """Read server frames until its close frame; the code in it."""
    data = b""
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        while len(data) >= 2:
            n, at = data[1] & 0x7F, 2
            if n == 126:
                n, at = struct.unpack("!H", data[2:4])[0], 4
            if len(data) < at + n:
                break
            if data[0] & 0x0F == 8:
                return struct.unpack("!H", data[at:at + 2])[0]
            data = data[at + n:]
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    raise AssertionError(f"no close frame in {data[-200:]!r}")


def _masked(opcode: int, payload: bytes, length: int | None = None) -> bytes:
    n = len(payload) if length is None else length
    head = struct.pack("!BB", 0x80 | opcode, 0x80 | (n if n < 126 else 126))
    if n >= 126:
        head += struct.pack("!H", n) if n < 65536 else b""
    if n >= 65536:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    key = b"\x01\x02\x03\x04"
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


@pytest.fixture
def chat(tmp_path):
    """A server, a telnet user and a browser user in the lobby, seeing each other.
    (STALLER is trusted: its flood of commands is not cut by the flood limit,
    so that only its not reading can end it.)"""
    srv = Server(tmp_path, "--web", "tcp:0:interface=127.0.0.1", "--trust", f"{STALLER}/32").start()
    telnet = srv.login("ann")
    browser = Browser(srv, forwarded=None)
    browser.expect("login: ")
    browser.type("bob\r")
    browser.expect("Welcome, bob!")
    yield srv, telnet, browser
    srv.stop()


def _still_chatting(telnet, browser, text: str) -> None:
    telnet.line(f"from ann: {text}")
    browser.expect(f"from ann: {text}")
    browser.type(f"from bob: {text}\r")
    telnet.expect(f"from bob: {text}".encode())


@pytest.mark.parametrize("frame, code, source", [
    # A client's frame must be masked (RFC 6455 5.1): protocol error.
    (b"\x82\x05hello", 1002, "127.0.0.21"),
    # Over the door's 64 KiB: too big, refused from its header alone.
    (_masked(2, b"", length=100_000), 1009, "127.0.0.22"),
    # A text (control) message that is not UTF-8: invalid payload.
    (_masked(1, b"\xff\xfe{}"), 1007, "127.0.0.23"),
    # Reserved bits without an extension: protocol error.
    (b"\xf2" + _masked(2, b"x")[1:], 1002, "127.0.0.24"),
])
def test_a_bad_frame_gets_its_close_code_and_one_log_line(chat, frame, code, source):
    srv, telnet, browser = chat
    sock = _upgrade(srv.web_port, source)
    sock.sendall(frame)
    assert _close_code(sock) == code
    sock.close()
    line = srv.wait_for_log(rf"Browser {re.escape(source)} closed with {code}")
    _still_chatting(telnet, browser, "after a bad frame")
    assert sum(source in seen for seen in srv.output) == 1, line
    assert not any("Traceback" in seen for seen in srv.output)


def test_a_browser_that_never_reads_is_dropped_and_the_room_goes_on(chat):
    srv, telnet, browser = chat
    sock = _upgrade(srv.web_port, STALLER)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.sendall(_masked(2, b"\r"))  # a guest, in the lobby; then it never reads again
    pages = _masked(2, b"/help\r") * 20
    dropped = rf"Browser {re.escape(STALLER)} is not reading; dropping it"
    end = time.monotonic() + 3 * DEADLINE
    while True:
        try:
            sock.sendall(pages)  # pages of help it never takes
        except OSError:
            pass  # dropped already: the log says so
        try:
            srv.wait_for_log(dropped, deadline=0.2)
            break
        except AssertionError:
            assert time.monotonic() < end, "the browser that never reads was never dropped"
    _still_chatting(telnet, browser, "after the stalled browser")


def test_ten_thousand_upgrade_requests_are_refused_and_nobody_notices(chat):
    srv, telnet, browser = chat
    outcomes = asyncio.run(_flood(srv.web_port))
    # Five are let in (the limit of one address), every other one is told
    # why not, in its one line, and closed with 1008.
    assert outcomes["admitted"] <= 5 and outcomes["refused"] + outcomes["admitted"] == FLOOD, outcomes
    _still_chatting(telnet, browser, "after the flood")
    # A line logged after the flood's: once it is read, all of theirs are.
    sock = _upgrade(srv.web_port, "127.0.0.25")
    sock.sendall(b"\x82\x05hello")
    srv.wait_for_log(r"Browser 127\.0\.0\.25 closed with 1002")
    about = [seen for seen in srv.output if FLOOD_FROM in seen]
    assert 1 <= len(about) <= 12, about[:20]  # ten lines a minute, then a count
    assert not any("Traceback" in seen for seen in srv.output)


async def _flood(port: int) -> dict[str, int]:
    counts = {"admitted": 0, "refused": 0}
    gate = asyncio.Semaphore(100)

    async def one() -> None:
        async with gate:
            reader, writer = await asyncio.open_connection("127.0.0.1", port,
                                                           local_addr=(FLOOD_FROM, 0))
            writer.write(_request(port))
            seen = b""
            while b"login: " not in seen:
                chunk = await asyncio.wait_for(reader.read(65536), DEADLINE)
                if not chunk:
                    break
                seen += chunk
            writer.close()
            if b"login: " in seen:
                counts["admitted"] += 1
            elif seen.startswith(b"HTTP/1.1 101") and _REFUSED.search(seen):
                counts["refused"] += 1

    await asyncio.gather(*(one() for _ in range(FLOOD)))
    return counts
