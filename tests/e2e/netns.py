"""A private network namespace, for tests that need addresses or failures
loopback does not have (many IPv6 addresses, a peer that vanishes).

The namespace has only its own loopback, so nothing a test does there can
reach a real network.  On it, 2001:db8::/48 (the documentation prefix) is
local: any of its addresses can be a client's or the server's.  The server
runs in it under C{nsenter}; the test makes its client sockets in it by
switching its own thread there for the moment of C{socket()} (a socket stays
in the namespace it was made in).
"""

from __future__ import annotations

import ctypes
import os
import select
import shutil
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

CLONE_NEWNET = 0x40000000
PREFIX = "2001:db8::/48"  # /64s of it: 2001:db8::/64, 2001:db8:0:1::/64, ...
SETUP = (
    "ip link set lo up"
    f" && ip -6 route add local {PREFIX} dev lo table local"
    # bind() to an address of the prefix, which is routed, not assigned
    " && sysctl -q -w net.ipv6.ip_nonlocal_bind=1"
)
_TOOLS = ("unshare", "nsenter", "ip", "sysctl")


def _unavailable(why: str) -> None:
    """Skip on a developer's machine; fail in CI, where .ci/run installs the tools."""
    if os.environ.get("CI"):
        raise AssertionError(f"CI must be able to make a network namespace: {why}")
    pytest.skip(why)


class Namespace:
    """One network namespace, held open by a process until L{close}."""

    def __init__(self) -> None:
        missing = [tool for tool in _TOOLS if shutil.which(tool) is None]
        if os.geteuid() != 0 or missing:
            _unavailable("a private network namespace needs root and "
                         f"unshare, nsenter, ip and sysctl (missing: {missing or 'root'})")
        self._holder = subprocess.Popen(
            ["unshare", "--net", "--", "sh", "-c", f"{SETUP} && echo ready && exec cat"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        if not select.select([self._holder.stdout], [], [], 10.0)[0] \
                or self._holder.stdout.readline() != b"ready\n":
            self.close()
            _unavailable("could not make a network namespace: "
                         + self._holder.stderr.read().decode(errors="replace"))
        self.path = f"/proc/{self._holder.pid}/ns/net"
        self._libc = ctypes.CDLL(None, use_errno=True)

    def command(self) -> list[str]:
        """The prefix that runs a command inside."""
        return ["nsenter", f"--net={self.path}", "--"]

    def run(self, *args: str) -> subprocess.CompletedProcess:
        """Run a command inside (C{ip}, C{ss}); it must succeed."""
        return subprocess.run([*self.command(), *args], check=True, capture_output=True,
                              text=True, timeout=30)

    @contextmanager
    def _inside(self) -> Iterator[None]:
        with open("/proc/thread-self/ns/net") as home, open(self.path) as there:
            self._setns(there.fileno())
            try:
                yield
            finally:
                self._setns(home.fileno())

    def _setns(self, fd: int) -> None:
        if self._libc.setns(fd, CLONE_NEWNET) != 0:
            errno = ctypes.get_errno()
            raise OSError(errno, os.strerror(errno))

    def connect(self, address: str, port: int, source: str,
                deadline: float = 10.0) -> socket.socket:
        """A TCP connection made inside, from C{source} to C{address}."""
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        with self._inside():
            sock = socket.socket(family, socket.SOCK_STREAM)
        sock.settimeout(deadline)
        sock.bind((source, 0))
        sock.connect((address, port))
        return sock

    def close(self) -> None:
        if self._holder.poll() is None:
            self._holder.stdin.close()
            try:
                self._holder.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._holder.kill()
                self._holder.wait()
        for stream in (self._holder.stdout, self._holder.stderr):
            stream.close()

