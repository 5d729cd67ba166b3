"""Sessions over StringTransport on the real reactor with a real worker pool:
for tests of what runs on which thread (trial TestCases)."""

from __future__ import annotations

from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.task import Clock, deferLater
from twisted.internet.testing import StringTransport
from twisted.trial.unittest import TestCase

from bbs.config import Config
from bbs.pool import WorkerPool
from bbs.server import BBS
from bbs.session import Session
from bbs.telnet.protocol import TelnetConnection
from tests.events.schema import validate
from tests.events.sink import MemoryEventSink


class Harness:
    def __init__(self, test: TestCase, workers: int = 4, config: Config = Config()) -> None:
        self.pool = WorkerPool(reactor, workers)
        self.pool.startService()
        test.addCleanup(self.pool.stopService)
        self.events = MemoryEventSink()
        self.bbs = BBS(config, self.pool, self.events, reactor)
        test.addCleanup(self.check_events)

    def check_events(self) -> None:
        for event in self.events.events:
            assert validate(event) == [], event

    def connect(self, ip: str = "127.0.0.1") -> tuple[Session, StringTransport]:
        session = Session(self.bbs)
        proto = TelnetConnection(session, clock=Clock())
        transport = StringTransport(peerAddress=_addr(ip), hostAddress=_addr("127.0.0.1", 2323))
        proto.makeConnection(transport)
        return session, transport

    async def login(self, nick: str) -> tuple[Session, StringTransport]:
        session, transport = self.connect()
        session.door_data(nick.encode() + b"\n")
        await settle(session)
        return session, transport


def _addr(ip: str, port: int = 40000):
    from twisted.internet.address import IPv4Address

    return IPv4Address("TCP", ip, port)


async def settle(session: Session) -> None:
    """Wait until C{session}'s lines are handled and the turn's room lines delivered."""
    handled: Deferred = Deferred()
    session._enqueue(lambda: handled.callback(None))  # after everything typed so far
    await handled
    await deferLater(reactor, 0, lambda: None)


def said(transport: StringTransport) -> str:
    return transport.value().decode("utf-8", "replace")
