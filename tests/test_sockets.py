"""Socket tuning and the direct-send path (bbs/sockets.py).

The direct-send path reads private fields of Twisted's TCP transport
(C{dataBuffer}, C{_tempDataLen}); the last tests run it over a real loopback
connection and fail if those fields change shape in a new Twisted.
"""

from __future__ import annotations

import socket

import pytest
from twisted.internet import defer, reactor
from twisted.internet.address import IPv4Address
from twisted.internet.protocol import Factory
from twisted.internet.testing import StringTransportWithDisconnection
from twisted.trial.unittest import TestCase

from bbs import sockets as sockets_module
from bbs.telnet.limits import TelnetLimits
from bbs.telnet.protocol import TelnetConnection
from bbs.sockets import tune_listener
from tests.telnet.test_protocol import connect
from tests.telnet.test_tcp import App, Reader, _connect, _next_turn, chunk


class _Port:
    """A listening port, as the telnet layer sees Twisted's."""

    def __init__(self, interface: str = "127.0.0.1") -> None:
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))  # tests listen on loopback only...
        self.socket.listen()
        self.interface = interface  # ...whatever the port says it is bound to

    def getHost(self) -> IPv4Address:
        return IPv4Address("TCP", self.interface, self.socket.getsockname()[1])

    def accept(self) -> tuple[socket.socket, socket.socket]:
        client = socket.create_connection(("127.0.0.1", self.socket.getsockname()[1]))
        accepted, _ = self.socket.accept()
        return client, accepted

    def close(self, *sockets: socket.socket) -> None:
        for s in (self.socket, *sockets):
            s.close()


def _connect_over(port: _Port, accepted: socket.socket,
                  limits: TelnetLimits = TelnetLimits()) -> TelnetConnection:
    class Transport(StringTransportWithDisconnection):
        server = port

        def getHandle(self) -> socket.socket:
            return accepted

        def getHost(self) -> IPv4Address:
            return IPv4Address("TCP", *accepted.getsockname())

    return connect(limits, transport=Transport()).telnet


TCP = socket.IPPROTO_TCP


def _options(sock: socket.socket) -> tuple[int, int]:
    return (sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY),
            sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF))


@pytest.mark.parametrize("tuned", ["never", "before", "after the first accept"])
def test_every_connection_gets_no_delay_and_bounded_buffers(tuned):
    # A tuned listener hands its options down where the system does (Linux);
    # the first connection checks, and if not they are set on each.
    reference = socket.socket()
    reference.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, TelnetLimits().socket_buffer)
    wanted = (1, reference.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF))
    port = _Port()
    if tuned == "before":
        tune_listener(port, TelnetLimits())
    first = port.accept()
    if tuned == "after the first accept":
        tune_listener(port, TelnetLimits())  # the first socket came without: the check must see it
    second = port.accept()
    try:
        for _, accepted in (first, second):
            assert _options(accepted) != wanted or tuned != "never"
            _connect_over(port, accepted)
            assert _options(accepted) == wanted
        listening = sockets_module._LISTENING.get(port)
        if tuned == "never":
            assert listening is None
        elif tuned == "before":  # Linux hands every option down
            assert listening.missing == ()
        else:  # the first socket predates the tuning: its defaults look not inherited
            everything = sockets_module._wanted(TelnetLimits())
            assert (TCP, socket.TCP_NODELAY, 1) in listening.missing
            assert set(listening.missing) <= set(everything)
    finally:
        port.close(reference, *first, *second)


def _dead_peer_options(sock: socket.socket) -> dict[str, int]:
    return {
        "keepalive": sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE),
        "idle": sock.getsockopt(TCP, socket.TCP_KEEPIDLE),
        "interval": sock.getsockopt(TCP, socket.TCP_KEEPINTVL),
        "probes": sock.getsockopt(TCP, socket.TCP_KEEPCNT),
        "user timeout": sock.getsockopt(TCP, socket.TCP_USER_TIMEOUT),
    }


@pytest.mark.parametrize("dead_peer, expected", [
    (300.0, {"keepalive": 1, "idle": 150, "interval": 30, "probes": 5, "user timeout": 300_000}),
    (2.0, {"keepalive": 1, "idle": 1, "interval": 1, "probes": 5, "user timeout": 2_000}),
])
@pytest.mark.parametrize("tuned", [True, False])
def test_a_dead_peer_is_given_up_within_dead_peer_seconds(dead_peer, expected, tuned):
    # Unacknowledged output ends the connection after dead_peer seconds, and
    # a silent one is probed from half that on: by the listener's options
    # handed down, or set on the connection.
    limits = TelnetLimits(dead_peer=dead_peer)
    port = _Port()
    if tuned:
        tune_listener(port, limits)
    client, accepted = port.accept()
    try:
        assert _dead_peer_options(accepted)["keepalive"] == int(tuned)
        _connect_over(port, accepted, limits)
        assert _dead_peer_options(accepted) == expected
        assert (port in sockets_module._LISTENING) is tuned
    finally:
        port.close(client, accepted)


def test_only_the_options_a_connection_did_not_inherit_are_set_on_it():
    # As on a system that does not hand down the user timeout.
    port = _Port()
    tune_listener(port, TelnetLimits())
    first, second = port.accept(), port.accept()
    try:
        for _, accepted in (first, second):
            accepted.setsockopt(TCP, socket.TCP_USER_TIMEOUT, 0)
        _connect_over(port, first[1])
        listening = sockets_module._LISTENING[port]
        assert listening.missing == ((TCP, socket.TCP_USER_TIMEOUT, 300_000),)
        _connect_over(port, second[1])
        assert second[1].getsockopt(TCP, socket.TCP_USER_TIMEOUT) == 300_000
    finally:
        port.close(*first, *second)


def test_a_connection_wanting_other_buffers_than_its_port_gets_them():
    port = _Port()
    tune_listener(port, TelnetLimits())
    first, second = port.accept(), port.accept()
    try:
        _connect_over(port, first[1])  # the port's own size: inherited
        smaller = TelnetLimits(socket_buffer=16 * 1024)
        _connect_over(port, second[1], smaller)
        reference = socket.socket()
        reference.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, smaller.socket_buffer)
        assert _options(second[1]) == (1, reference.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF))
        assert _options(second[1]) != _options(first[1])
    finally:
        port.close(*first, *second)
        reference.close()


@pytest.mark.parametrize("interface", ["127.0.0.1", "0.0.0.0"])
def test_the_local_address_is_the_one_connected_to(interface):
    # A port bound to one address answers for all its connections.
    port = _Port(interface)
    tune_listener(port, TelnetLimits())
    client, accepted = port.accept()
    try:
        telnet = _connect_over(port, accepted)
        assert telnet.host == ("127.0.0.1", port.socket.getsockname()[1])
        listening = sockets_module._LISTENING[port]
        assert listening.host == (telnet.host if interface != "0.0.0.0" else None)
    finally:
        port.close(client, accepted)




class TwistedShapeTests(TestCase):
    """What L{ConnectionSocket} reads of Twisted's TCP transport, on a real one.

    If a new Twisted renames or retypes C{dataBuffer} or C{_tempDataLen},
    these fail: either the direct path is no longer taken, or queued output
    goes unnoticed (and would be overtaken).
    """

    async def test_the_direct_path_notices_what_twisted_holds(self) -> None:
        connected: defer.Deferred = defer.Deferred()
        factory = Factory.forProtocol(lambda: TelnetConnection(
            App(connected), clock=reactor, limits=TelnetLimits(pending_output=1 << 30)))
        port = reactor.listenTCP(0, factory, interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        done: defer.Deferred = defer.Deferred()
        client = await defer.ensureDeferred(_connect(port.getHost().port, Reader(done)))
        telnet = await connected
        transport = telnet.transport
        # The fields, as Twisted 26.10.0 has them.
        self.assertIsInstance(transport.dataBuffer, bytes)
        self.assertIsInstance(transport._tempDataLen, int)
        self.assertIsNotNone(telnet._socket, "a plain TCP transport should be sent past")
        self.assertTrue(telnet._drained())
        sent = 0
        while not telnet._queued:  # the client does not read: the socket fills
            telnet.write_prepared(chunk(sent))
            sent += 1
            self.assertLess(sent, 10_000, "the socket never filled")
        self.assertTrue(transport._tempDataLen or transport.dataBuffer)
        self.assertFalse(telnet._drained(), "Twisted holds our output, yet it looks drained")
        telnet.write_prepared(b"the end")  # goes behind what Twisted holds
        client.transport.resumeProducing()
        for _ in range(10_000):
            if telnet._drained():
                break
            await _next_turn()
        self.assertTrue(telnet._drained(), "Twisted sent it all, yet it looks queued")
        telnet.close()
        data = await done
        self.assertTrue(data.endswith(b"".join(chunk(n) for n in range(sent)) + b"the end"))
