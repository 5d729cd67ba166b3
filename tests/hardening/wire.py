"""Loopback tools for driving hostile clients at the real server.

Every client gets its own source address in 127.0.0.0/8 (Linux routes the
whole block to the loopback interface), so per-address limits only ever
see the offender they are meant for, and traffic never leaves the host.
"""

from __future__ import annotations

import itertools
import json
import re
import select
import socket
import struct
import time
from pathlib import Path

from tests.e2e.harness import Client, Server, read_until_closed

PROMPT = 2.0  # seconds within which another user's chat line must arrive
MEMORY_BOUND = 30 * 1024 * 1024  # bytes the server may grow by per offence
DEADLINE = 10.0


def rss(server: Server) -> int:
    """The server process's resident set size, in bytes (Linux /proc)."""
    status = Path(f"/proc/{server.proc.pid}/status").read_text()
    kb = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
    assert kb is not None
    return int(kb.group(1)) * 1024


class Addresses:
    """Distinct loopback source addresses: 127.<net>.x.y."""

    def __init__(self, net: int) -> None:
        self._hosts = itertools.count(1)
        self.net = net

    def __call__(self) -> str:
        n = next(self._hosts)
        assert n < 65000
        return f"127.{self.net}.{n // 250}.{n % 250 + 1}"


def login(server: Server, source: str, *, answer: bool = True) -> Client:
    """A guest in the lobby."""
    client = server.connect(answer=answer, source=source)
    client.expect(b"login: ")
    client.line("")
    client.expect(b"joined lobby")
    return client


def reset(sock: socket.socket) -> None:
    """Close with a TCP RST, as a crashed client or a yanked cable looks."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


class RawClient:
    """A bare socket that reads only when told to: for non-readers and floods."""

    def __init__(self, port: int, source: str, *, rcvbuf: int | None = None,
                 sndbuf: int | None = None) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        if sndbuf is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
        sock.bind((source, 0))
        sock.settimeout(DEADLINE)
        sock.connect(("127.0.0.1", port))
        self.sock = sock
        self.raw = b""

    def expect(self, pattern: bytes, deadline: float = DEADLINE) -> None:
        end = time.monotonic() + deadline
        while pattern not in self.raw:
            left = end - time.monotonic()
            assert left > 0, f"never saw {pattern!r}; got {self.raw[-300:]!r}"
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            assert chunk, f"closed before {pattern!r}; got {self.raw[-300:]!r}"
            self.raw += chunk

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def flood(self, data: bytes, seconds: float) -> int:
        """Push C{data} for at most C{seconds} without blocking; bytes taken."""
        self.sock.setblocking(False)
        sent = 0
        end = time.monotonic() + seconds
        view = memoryview(data)
        while sent < len(data) and time.monotonic() < end:
            if not select.select([], [self.sock], [], max(0.0, end - time.monotonic()))[1]:
                continue
            try:
                sent += self.sock.send(view[sent : sent + 65536])
            except BlockingIOError:
                continue
        self.sock.setblocking(True)
        return sent

    def closed(self, deadline: float = DEADLINE) -> bool:
        """Drain until the server closes or resets the connection."""
        return read_until_closed(self.sock, self._take, deadline)

    def _take(self, chunk: bytes) -> None:
        self.raw += chunk


class Probe:
    """Two ordinary users: one says a line, the other must see it promptly."""

    def __init__(self, server: Server, speaker: str = "127.0.0.2",
                 listener: str = "127.0.0.3") -> None:
        self.server = server
        self.speaker = login(server, speaker)
        self.listener = login(server, listener)
        self._said = itertools.count(1)
        self.latencies: list[float] = []

    def check(self, deadline: float = PROMPT) -> float:
        """Seconds from saying a line to seeing it (asserts C{deadline})."""
        token = f"probe line {next(self._said)} still arrives"
        self.listener.consume()
        start = time.monotonic()
        self.speaker.line(token)
        self.listener.expect(re.escape(token).encode(), deadline)
        latency = time.monotonic() - start
        self.latencies.append(latency)
        self.speaker.expect(re.escape(token).encode())  # it reads its room too
        self.speaker.consume()
        return latency

    def who_count(self, deadline: float = DEADLINE) -> int:
        """How many users C{/who} lists right now."""
        self.listener.consume()
        self.listener.line("/who")
        text = self.listener.expect(rb"(\d+) users? online", deadline)
        return int(re.search(rb"(\d+) users? online", text).group(1))


def drain(client: Client) -> None:
    """Read and drop what has arrived: a talker in a flood must keep reading.

    The bytes bypass the client's parser, so use the client only to send
    (and close) afterwards.
    """
    client.sock.setblocking(False)
    try:
        while True:
            chunk = client.sock.recv(1 << 20)
            assert chunk, "the server closed an ordinary client"
    except BlockingIOError:
        pass
    finally:
        client.sock.settimeout(DEADLINE)


def expect_count(client: Client, needle: bytes, count: int, deadline: float = DEADLINE) -> None:
    """Read until C{needle} has appeared C{count} times since the last consume."""
    end = time.monotonic() + deadline
    while client.text.count(needle) < count:
        left = end - time.monotonic()
        assert left > 0, f"saw {needle!r} {client.text.count(needle)} times of {count}"
        client.expect(b"(?s).{%d}" % (len(client.text) + 1), left)  # anything more


def events(server: Server) -> list[dict]:
    path = server.data / "events.json"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
