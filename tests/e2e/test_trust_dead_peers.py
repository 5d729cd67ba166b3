"""A user whose network vanished is dropped within --dead-peer-timeout.

Seen from the server, a vanished network is a peer that acknowledges
nothing: its packets are dropped somewhere on the way.  In a private network
namespace (see L{tests.e2e.netns}) a blackhole route does exactly that to
one /64, while everyone else keeps talking.  The other users see the vanished
one leave: that is what shows the server found out, in seconds here, where
without keepalive and a user timeout Linux retransmits for a quarter of an
hour and never probes a silent connection at all.
"""

from __future__ import annotations

import re

import pytest

from tests.e2e.harness import Client, Server
from tests.e2e.netns import Namespace

TIMEOUT = 2  # --dead-peer-timeout, seconds


@pytest.fixture
def netns():
    namespace = Namespace()
    yield namespace
    namespace.close()


@pytest.fixture
def server(netns, tmp_path):
    srv = Server(tmp_path, "--port", r"tcp6:0:interface=\:\:", "--dead-peer-timeout",
                 f"{TIMEOUT}s", wrap=netns.command()).start()
    srv.port6 = int(re.search(r"starting on (\d+)", srv.wait_for_log(r"starting on")).group(1))
    yield srv
    srv.stop()


def _login(netns: Namespace, server: Server, nick: str, source: str) -> Client:
    c = Client(server.port6, answer=True, source=source,
               sock=netns.connect("2001:db8::1", server.port6, source))
    c.expect(b"login: ")
    c.line(nick)
    c.expect(b"joined lobby")
    c.consume()
    return c


def _vanish(netns: Namespace, network: str) -> None:
    """Drop every packet to C{network} from now on, silently."""
    netns.run("ip", "-6", "route", "add", "blackhole", network, "table", "local")


def test_users_whose_network_vanished_are_seen_to_leave_within_the_timeout(netns, server):
    bob = _login(netns, server, "bob", "2001:db8::b")
    alice = _login(netns, server, "alice", "2001:db8:0:a::1")
    carol = _login(netns, server, "carol", "2001:db8:0:c::1")
    bob.expect(b"carol joined lobby")
    _vanish(netns, "2001:db8:0:a::/64")  # alice is quiet: only keepalive can tell
    _vanish(netns, "2001:db8:0:c::/64")
    bob.line("carol, are you there?")  # carol is sent this, and never acknowledges it
    bob.expect(b"<bob> carol, are you there?")
    seen = bob.expect(rb"alice left[^\n]*\n[\s\S]*carol left|carol left[^\n]*\n[\s\S]*alice left",
                      deadline=5 * TIMEOUT)
    assert b"alice left" in seen and b"carol left" in seen
    bob.consume()
    bob.line("/who")
    assert b"alice" not in bob.expect(b"1 user online")
    for c in (alice, carol):
        c.close()
