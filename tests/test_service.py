"""The service tree's parts: what each telnet connection is built with."""

from __future__ import annotations

from twisted.internet.address import IPv4Address
from twisted.internet.task import Clock

from bbs.config import Config
from bbs.server import BBS
from bbs.service import TelnetFactory
from bbs.telnet.protocol import TelnetConnection


def test_every_telnet_connection_gets_the_dead_peer_timeout():
    bbs = BBS(Config(dead_peer_timeout=42.0), pool=None, events=None, clock=Clock())
    factory = TelnetFactory(bbs)
    telnet = factory.buildProtocol(IPv4Address("TCP", "192.0.2.1", 4000))
    assert isinstance(telnet, TelnetConnection)
    assert telnet.limits.dead_peer == 42.0 == factory.limits.dead_peer
