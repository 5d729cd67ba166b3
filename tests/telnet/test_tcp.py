"""The telnet layer over a real loopback TCP connection.

Writes go straight to the socket when nothing is queued in the transport
(see L{bbs.sockets.ConnectionSocket}); these tests make sure that never
reorders or loses output when the client is slow and Twisted has to queue,
and that sending goes straight to the socket again once the client caught up.
"""

from __future__ import annotations

from twisted.internet import defer, reactor
from twisted.internet.protocol import Factory, Protocol
from twisted.trial.unittest import TestCase

from bbs.telnet.limits import TelnetLimits
from bbs.telnet.protocol import TelnetConnection
from bbs.turns import at_turn_end

CHUNK = 4096
TURNS = 400  # 1.6 MB in all: far beyond what the socket buffers hold


class App:
    """The smallest telnet application: remembers its connection."""

    def __init__(self, connected: defer.Deferred) -> None:
        self.connected = connected

    def door_connected(self, telnet: TelnetConnection) -> None:
        self.connected.callback(telnet)

    def __getattr__(self, name: str):
        return lambda *args: None


class Reader(Protocol):
    """A client that starts paused and collects everything it is sent."""

    def __init__(self, done: defer.Deferred) -> None:
        self.data = bytearray()
        self.done = done

    def connectionMade(self) -> None:
        self.transport.pauseProducing()

    def dataReceived(self, data: bytes) -> None:
        self.data += data

    def connectionLost(self, reason) -> None:
        self.done.callback(bytes(self.data))


def chunk(n: int) -> bytes:
    return f"{n:08d}".encode() * (CHUNK // 8)


class DirectSendTests(TestCase):
    async def test_output_stays_in_order_when_the_client_is_slow(self) -> None:
        await self._slow_client(lambda telnet, data: telnet.write_prepared(data))

    async def test_so_does_output_written_while_the_turn_ends(self) -> None:
        # A room flush writes to its members as the turn ends (at_turn_end),
        # when writes go straight to the socket instead of into the batch.
        await self._slow_client(
            lambda telnet, data: at_turn_end(reactor, lambda: telnet.write_prepared(data)))

    async def _slow_client(self, write) -> None:
        connected: defer.Deferred = defer.Deferred()
        limits = TelnetLimits(pending_output=64 * 1024 * 1024)
        factory = Factory.forProtocol(
            lambda: TelnetConnection(App(connected), clock=reactor, limits=limits, coalesce=True)
        )
        port = reactor.listenTCP(0, factory, interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        done: defer.Deferred = defer.Deferred()
        client = await defer.ensureDeferred(_connect(port.getHost().port, Reader(done)))
        telnet = await connected
        queued = False
        for n in range(TURNS):  # one write per turn of the reactor
            write(telnet, chunk(n))
            await _next_turn()
            queued = queued or bool(telnet.transport._tempDataLen)
            if n == TURNS // 2:  # the client catches up while output is queued
                self.assertTrue(queued, "the client never fell behind")
                client.transport.resumeProducing()
        transport = telnet.transport
        for _ in range(10_000):  # until Twisted has sent all it queued
            if not transport.dataBuffer and not transport._tempDataLen:
                break
            await _next_turn()
        write(telnet, b"the end")
        await _next_turn()
        self.assertFalse(transport._tempDataLen, "caught up, yet still queueing in Twisted")
        telnet.close()
        data = await done
        negotiation, _, rest = data.partition(chunk(0))
        self.assertTrue(negotiation.startswith(b"\xff"))
        self.assertEqual(rest, b"".join(chunk(n) for n in range(1, TURNS)) + b"the end")


async def _connect(port: int, protocol: Protocol) -> Protocol:
    from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol

    return await connectProtocol(TCP4ClientEndpoint(reactor, "127.0.0.1", port), protocol)


def _next_turn() -> defer.Deferred:
    d: defer.Deferred = defer.Deferred()
    reactor.callLater(0, d.callback, None)
    return d
