"""A whole BBS on a task.Clock with StringTransport peers: the world the
session, server and behaviour tests drive, deterministic and on one thread."""

from __future__ import annotations

from twisted.internet.address import IPv4Address
from twisted.internet.defer import maybeDeferred
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport

from bbs.config import Config
from bbs.server import BBS
from bbs.session import Session
from bbs.telnet.protocol import TelnetConnection
from tests.events.schema import validate
from tests.events.sink import MemoryEventSink


class InlinePool:
    """Runs handlers at once on the calling thread: deterministic unit tests."""

    def run(self, f, *args):
        return maybeDeferred(f, *args)


class World:
    def __init__(self, **config) -> None:
        self.clock = Clock()
        self.events = MemoryEventSink()
        self.bbs = BBS(Config(**config), pool=InlinePool(), events=self.events, clock=self.clock)

    def connect(self, ip: str = "127.0.0.1"):
        assert self.bbs.admit(ip) is None
        session = Session(self.bbs)
        t = StringTransport(peerAddress=IPv4Address("TCP", ip, 5555),
                            hostAddress=IPv4Address("TCP", "127.0.0.1", 2323))
        TelnetConnection(session, clock=self.clock).makeConnection(t)
        return session, t

    def guest(self, ip: str = "127.0.0.1"):
        session, t = self.connect(ip)
        session.door_data(b"\n")
        assert session.room is not None
        t.clear()
        return session, t

    def ids(self) -> list[str]:
        for e in self.events.events:
            assert validate(e) == [], e
        return [e["eventid"] for e in self.events.events]


def text(t: StringTransport) -> str:
    return t.value().decode("utf-8", "replace")


def bot_ban(w: World, ip: str) -> float:
    """A bot from C{ip} types root at login:; the length of the ban it gets."""
    bot, t = w.connect(ip)
    bot.door_data(b"root\r\n")
    assert t.disconnecting
    bot.door.connectionLost(None)
    banned = [e for e in w.events.events if e["eventid"] == "bbs.bot.banned"]
    return banned[-1]["duration"]
