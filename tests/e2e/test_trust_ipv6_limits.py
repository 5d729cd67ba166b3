"""IPv6 clients are limited by their /64, not by each of its addresses.

Loopback has one IPv6 address, so the server and its clients run in a
private network namespace where all of 2001:db8::/48 is local.
"""

from __future__ import annotations

import re

import pytest

from tests.e2e.harness import Client, Server
from tests.e2e.netns import Namespace


@pytest.fixture
def netns():
    namespace = Namespace()
    yield namespace
    namespace.close()


def _start(netns: Namespace, tmp_path, *args: str) -> tuple[Server, int]:
    """A server inside C{netns}, also listening on IPv6; and that port."""
    srv = Server(tmp_path, "--port", r"tcp6:0:interface=\:\:", *args,
                 wrap=netns.command()).start()
    port = int(re.search(r"starting on (\d+)", srv.wait_for_log(r"starting on")).group(1))
    return srv, port


def _connect(netns: Namespace, port: int, source: str) -> Client:
    return Client(port, answer=False, source=source,
                  sock=netns.connect("2001:db8::1", port, source))


def _admitted(client: Client) -> bool:
    """Whether the server let C{client} in (a prompt) or refused it (a reason)."""
    said = client.expect(rb"login: |Too many connections[^\n]*\n")
    return b"login: " in said


def test_fifty_addresses_of_one_64_get_the_connections_of_one_address(netns, tmp_path):
    srv, port = _start(netns, tmp_path)
    clients = []
    try:
        for n in range(50):
            clients.append(_connect(netns, port, f"2001:db8::1:{n + 1:x}"))
        refused = [c for c in clients if not _admitted(c)]
        assert len(clients) - len(refused) == 5  # --max-per-address 5
        for c in refused:
            assert b"Too many connections from your network (2001:db8::/64)" in c.text
            assert c.closed()
        # Another /64 is another subscriber.
        other = _connect(netns, port, "2001:db8:0:1::7")
        assert _admitted(other)
        clients.append(other)
    finally:
        for c in clients:
            c.close()
        srv.stop()


def test_ipv6_limit_prefix_128_counts_each_address(netns, tmp_path):
    srv, port = _start(netns, tmp_path, "--ipv6-limit-prefix", "128")
    clients = []
    try:
        for n in range(12):
            clients.append(_connect(netns, port, f"2001:db8::2:{n + 1:x}"))
        assert all(_admitted(c) for c in clients)
        clients += [_connect(netns, port, "2001:db8::2:1") for _ in range(5)]
        assert [_admitted(c) for c in clients[12:]] == [True] * 4 + [False]
    finally:
        for c in clients:
            c.close()
        srv.stop()
