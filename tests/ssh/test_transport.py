"""The SSH transport's edge: the version line, the client's KEXINIT and
HASSH, the handshake deadline, packet bounds, and errors that close a
connection with one log line and no traceback.

Bad input is raw bytes over StringTransport on a task.Clock; a real key
exchange runs in memory against conch's client transport; one test runs
Debian's OpenSSH client against the transport on the real reactor.
"""

from __future__ import annotations

import os
import struct
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from cryptography.hazmat.primitives.asymmetric import ed25519
from twisted.conch.ssh import keys
from twisted.conch.ssh.common import NS
from twisted.conch.ssh.connection import SSHConnection
from twisted.conch.ssh.factory import SSHFactory
from twisted.conch.ssh.transport import SSHClientTransport, SSHServerTransport
from twisted.cred.portal import Portal
from twisted.internet import defer, reactor
from twisted.internet.address import IPv4Address
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.internet.utils import getProcessOutputAndValue
from twisted.logger import Logger, globalLogPublisher
from twisted.test.iosim import connectedServerAndClient
from twisted.trial.unittest import TestCase

from bbs.config import Config
from bbs.ssh.hassh import KexInit, hassh, parse_kexinit
from bbs.ssh.transport import (
    CLOSE_GRACE,
    HANDSHAKE_TIMEOUT,
    MAX_PACKET_UNAUTHENTICATED,
    MAX_VERSION_LINE,
    MISMATCH,
    SSHTransport,
)
from tests.ssh.test_hassh import reference_hassh

PEER = IPv4Address("TCP", "198.51.100.9", 40000)
HOST = IPv4Address("TCP", "127.0.0.1", 2222)
VERSION = b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"
HOST_KEY = keys.Key(ed25519.Ed25519PrivateKey.generate())  # throwaway, for these tests


class Heard:
    """A TransportListener that keeps what it is told."""

    def __init__(self) -> None:
        self.versions: list[str] = []
        self.kex: list[tuple[KexInit, str, str]] = []
        self.refused: list[str] = []

    def ssh_version(self, version: str) -> None:
        self.versions.append(version)

    def ssh_kex(self, kexinit: KexInit, algorithms: str, hassh: str) -> None:
        self.kex.append((kexinit, algorithms, hassh))

    def ssh_refused(self, reason: str) -> None:
        self.refused.append(reason)


def factory(make: Any) -> SSHFactory:
    f = SSHFactory()
    f.publicKeys = {b"ssh-ed25519": HOST_KEY.public()}
    f.privateKeys = {b"ssh-ed25519": HOST_KEY}
    f.primes = None
    f.portal = Portal(None, [])  # no way in: these tests end at authentication
    f.protocol = make
    return f


class Wire:
    """One transport over StringTransport, on a Clock."""

    def __init__(self, **options: Any) -> None:
        self.heard = Heard()
        self.clock = Clock()
        self.proto: SSHTransport = factory(
            lambda: SSHTransport(self.heard, clock=self.clock, **options)).buildProtocol(HOST)
        self.tr = StringTransport(peerAddress=PEER, hostAddress=HOST)
        self.proto.makeConnection(self.tr)
        self.greeting = self.tr.value()
        self.tr.clear()

    def send(self, data: bytes) -> None:
        self.proto.dataReceived(data)

    @property
    def closed(self) -> bool:
        return self.tr.disconnecting


def plain_packet(payload: bytes) -> bytes:
    """An unencrypted binary packet (RFC 4253 6) around C{payload}."""
    pad = 8 - (len(payload) + 5) % 8
    pad += 8 if pad < 4 else 0
    return struct.pack(">LB", len(payload) + pad + 1, pad) + payload + b"\0" * pad


def lines_of(logged: list[dict]) -> list[str]:
    """The log lines of a connection: all but the factory's (which says, for
    each protocol it builds, that it has no moduli file: the door's to mind)."""
    from twisted.logger import formatEvent

    return [formatEvent(e) for e in logged
            if not e.get("log_namespace", "").startswith("twisted.conch.ssh.factory")]


def no_tracebacks(logged: list[dict]) -> bool:
    return not any("log_failure" in e for e in logged)


def test_the_server_sends_its_version_and_kexinit_first() -> None:
    wire = Wire()
    assert wire.greeting.startswith(b"SSH-2.0-")
    line, _, rest = wire.greeting.partition(b"\r\n")
    assert len(line) + 2 <= MAX_VERSION_LINE
    assert rest[5] == 20  # SSH_MSG_KEXINIT
    assert not wire.closed


def test_the_handshake_timeout_is_the_login_timeout() -> None:
    assert HANDSHAKE_TIMEOUT == Config().login_timeout


@pytest.mark.parametrize("garbage", [b"root\r\n", b"GET / HTTP/1.1\r\n", b"\xff\xfd\x18",
                                     b"\x00\x00", b"S", b"SSH_2.0-x\r\n", b"\r\nSSH-2.0-x\r\n"])
def test_anything_but_a_version_line_first_is_refused(garbage: bytes, logged: list) -> None:
    """Conch skips lines before the version (and buffers 4 KB for one):
    here the first byte that cannot start C{SSH-} ends the connection."""
    wire = Wire()
    if garbage == b"S":
        wire.send(garbage)  # could still be SSH-: wait
        assert not wire.closed and wire.heard.refused == []
        wire.send(b"H\r\n")
    else:
        wire.send(garbage)
    assert wire.tr.value() == MISMATCH
    assert wire.closed
    assert len(wire.heard.refused) == 1 and wire.heard.refused[0].startswith("not an SSH client")
    assert wire.heard.versions == []
    assert len(lines_of(logged)) == 1 and no_tracebacks(logged)
    assert "198.51.100.9" in lines_of(logged)[0] and "not an SSH client" in lines_of(logged)[0]
    wire.send(b"SSH-2.0-late\r\n" * 100)  # nothing more is read
    assert wire.tr.value() == MISMATCH and len(wire.heard.refused) == 1


def test_plain_conch_takes_lines_before_the_version() -> None:
    """What the version rule above changes: conch itself reads on."""
    proto = factory(SSHServerTransport).buildProtocol(HOST)
    tr = StringTransport(peerAddress=PEER)
    proto.makeConnection(tr)
    proto.dataReceived(b"root\r\nadmin\r\n" + VERSION)
    assert proto.gotVersion and not tr.disconnecting


def test_a_version_line_of_255_bytes_is_taken_and_256_refused(logged: list) -> None:
    longest = b"SSH-2.0-" + b"v" * (MAX_VERSION_LINE - 10) + b"\r\n"
    assert len(longest) == MAX_VERSION_LINE
    wire = Wire()
    for byte in longest:  # byte by byte, as a slow client sends it
        wire.send(bytes([byte]))
    assert wire.proto.gotVersion and not wire.closed
    assert wire.heard.versions == [longest[:-2].decode()]

    wire = Wire()
    wire.send(b"SSH-2.0-" + b"v" * (MAX_VERSION_LINE - 9) + b"\r\n")
    assert wire.tr.value() == MISMATCH and wire.closed
    assert wire.heard.refused == [f"version line longer than {MAX_VERSION_LINE} bytes"]
    assert wire.heard.versions == []


def test_a_long_line_is_refused_without_waiting_for_its_end() -> None:
    wire = Wire()
    wire.send(b"SSH-2.0-" + b"v" * (MAX_VERSION_LINE - 9))
    assert not wire.closed  # 254 bytes: the line end may come
    wire.send(b"v")
    assert wire.closed and wire.tr.value() == MISMATCH
    assert len(wire.proto.buf) <= MAX_VERSION_LINE


def test_a_bare_lf_ends_the_version_line_too() -> None:
    wire = Wire()
    wire.send(b"SSH-2.0-libssh_0.9.6\n")
    assert wire.proto.gotVersion and wire.proto.otherVersionString == b"SSH-2.0-libssh_0.9.6"
    assert wire.heard.versions == ["SSH-2.0-libssh_0.9.6"]


@pytest.mark.parametrize(("line", "protocol"), [(b"SSH-1.5-OldClient", "1.5"),
                                                (b"SSH-3.0-x", "3.0"), (b"SSH-", "")])
def test_a_version_other_than_2_0_or_1_99_is_refused(line: bytes, protocol: str,
                                                      logged: list) -> None:
    wire = Wire()
    wire.send(line + b"\r\n")
    assert wire.tr.value() == MISMATCH and wire.closed
    assert wire.heard.versions == [line.decode()]
    assert wire.heard.refused == [f"unsupported protocol version {protocol!r} (only 2.0 and 1.99)"]
    assert len(lines_of(logged)) == 1 and no_tracebacks(logged)


def test_version_1_99_is_taken() -> None:
    wire = Wire()
    wire.send(b"SSH-1.99-Client\r\n")
    assert wire.proto.gotVersion and not wire.closed


def test_a_version_with_control_bytes_is_told_escaped_and_refused() -> None:
    wire = Wire()
    wire.send(b"SSH-2.0-x\x1b[31m\x00\xff\r\n")
    assert wire.heard.versions == ["SSH-2.0-x\\x1b[31m\\x00\\xff"]
    assert wire.heard.refused == ["version line has a byte that is not printable ASCII"]
    assert wire.tr.value() == MISMATCH


def test_version_and_first_packet_in_one_read() -> None:
    wire = Wire()
    client = SSHClientTransport()
    wire.send(VERSION + plain_packet(bytes([20]) + client_kexinit()))
    assert wire.heard.versions == [VERSION[:-2].decode()]
    assert len(wire.heard.kex) == 1 and not wire.closed


def client_kexinit() -> bytes:
    """A KEXINIT payload as conch's client would send it (after the type byte)."""
    lists = [b",".join(SSHClientTransport.supportedKeyExchanges), b"ssh-ed25519",
             b"aes128-ctr", b"aes128-ctr", b"hmac-sha2-256", b"hmac-sha2-256", b"none",
             b"none", b"", b""]
    return b"K" * 16 + b"".join(NS(x) for x in lists) + b"\0" + b"\0" * 4


def test_the_client_kexinit_is_told_with_its_hassh_once() -> None:
    wire = Wire()
    payload = client_kexinit()
    wire.send(VERSION + plain_packet(bytes([20]) + payload))
    [(kexinit, algorithms, digest)] = wire.heard.kex
    assert kexinit == parse_kexinit(payload)
    assert (algorithms, digest) == reference_hassh(payload)


@pytest.mark.parametrize(("payload", "reason"), [
    (b"K" * 10, "KEXINIT truncated: 10 bytes, shorter than its cookie"),
    (b"K" * 16 + struct.pack(">L", 70_000), "KEXINIT name-list 1 is 70000 bytes, over the "
                                            "limit of 65536"),
    (b"K" * 16 + NS(b"a") * 3, "KEXINIT truncated before name-list 4 of 10"),
])
def test_a_malformed_kexinit_is_refused_with_its_reason(payload: bytes, reason: str,
                                                        logged: list) -> None:
    wire = Wire()
    wire.send(VERSION + plain_packet(bytes([20]) + payload))
    assert wire.heard.refused == [reason] and wire.heard.kex == []
    assert wire.closed and reason.encode() in wire.tr.value()  # in the DISCONNECT message
    assert len(lines_of(logged)) == 1 and reason in lines_of(logged)[0]
    assert no_tracebacks(logged)


def test_a_gigabyte_packet_is_dropped_not_buffered(logged: list) -> None:
    """Conch's own bound (1 MiB) refuses the length from its first bytes."""
    wire = Wire()
    wire.send(VERSION + struct.pack(">LB", 2**30, 4) + b"\0" * 3)
    assert wire.closed and wire.heard.refused == ["bad packet length 1073741824"]
    for _ in range(16):
        wire.send(b"\0" * 65536)  # the rest of it, while the close is under way
    assert len(wire.proto.buf) < 100
    assert len(lines_of(logged)) == 1 and no_tracebacks(logged)


def test_a_packet_over_the_unauthenticated_limit_is_refused_from_its_length() -> None:
    wire = Wire()
    size = MAX_PACKET_UNAUTHENTICATED + 1
    wire.send(VERSION + struct.pack(">LB", size, 4) + b"\0" * 3)
    assert wire.closed
    assert wire.heard.refused == [f"packet of {size} bytes before authentication, over the "
                                  f"limit of {MAX_PACKET_UNAUTHENTICATED}"]


def test_after_authentication_only_conchs_bound_stays() -> None:
    wire = Wire()
    wire.send(VERSION)
    wire.proto.authenticated()
    wire.send(struct.pack(">LB", 100_000, 4) + b"\0" * 3)
    assert not wire.closed and wire.heard.refused == []


def test_an_exception_in_a_handler_closes_with_one_line_and_no_traceback(logged: list) -> None:
    """A SERVICE_REQUEST with no name makes conch's handler raise (struct.error)."""
    wire = Wire()
    wire.send(VERSION + plain_packet(bytes([5])))
    assert wire.closed
    [reason] = wire.heard.refused
    assert reason.startswith("error handling a packet (error: ")
    assert len(lines_of(logged)) == 1 and no_tracebacks(logged)


def test_starting_the_connection_service_is_authentication() -> None:
    wire = Wire(handshake_timeout=30)
    wire.send(VERSION)
    wire.proto.setService(SSHConnection())
    wire.clock.advance(3600)
    assert not wire.closed and wire.proto.max_packet is None


def test_a_client_that_offers_only_compression_is_refused() -> None:
    """zlib would inflate a small packet into gigabytes: only none is offered."""
    wire = Wire()
    zlib_only = client_kexinit().replace(NS(b"none") * 2, NS(b"zlib") * 2)
    assert zlib_only != client_kexinit()
    wire.send(VERSION + plain_packet(bytes([20]) + zlib_only))
    assert wire.closed and wire.heard.refused == ["couldn't match all kex parts"]


def test_the_handshake_deadline(logged: list) -> None:
    wire = Wire(handshake_timeout=30)
    wire.send(VERSION)
    wire.clock.advance(29.9)
    assert not wire.closed
    wire.clock.advance(0.2)
    assert wire.closed and wire.heard.refused == ["handshake timeout"]
    assert b"handshake timeout" in wire.tr.value()  # a DISCONNECT message: it sent a version
    assert len(lines_of(logged)) == 1 and "handshake timeout" in lines_of(logged)[0]


def test_a_client_that_never_speaks_is_closed_at_the_deadline_with_nothing_sent() -> None:
    wire = Wire(handshake_timeout=30)
    wire.clock.advance(30)
    assert wire.closed and wire.tr.value() == b""
    assert wire.heard.refused == ["handshake timeout"]


def test_authentication_ends_the_deadline() -> None:
    wire = Wire(handshake_timeout=30)
    wire.send(VERSION)
    wire.proto.authenticated()
    wire.clock.advance(3600)
    assert not wire.closed and wire.heard.refused == []


def test_a_closed_connection_that_is_not_read_is_cut_off() -> None:
    wire = Wire()
    aborted = []
    wire.tr.abortConnection = lambda: aborted.append(True)  # type: ignore[method-assign]
    wire.send(b"root\r\n")
    wire.clock.advance(CLOSE_GRACE)
    assert aborted == [True]
    wire.proto.connectionLost(None)  # once gone, no timer is left
    assert wire.clock.getDelayedCalls() == []


def test_the_doors_own_close_is_quiet(logged: list) -> None:
    wire = Wire()
    wire.send(VERSION)
    wire.proto.loseConnection()
    assert wire.closed and wire.heard.refused == [] and lines_of(logged) == []
    assert b"user closed connection" in wire.tr.value()
    wire.proto.connectionLost(None)
    assert wire.clock.getDelayedCalls() == []


def test_a_real_key_exchange_with_conchs_client(logged: list) -> None:
    """In memory: the whole key exchange, the client's hassh told as the
    reference computes it from what the client sent."""
    heard = Heard()
    secure: list[bool] = []

    class Client(SSHClientTransport):
        _log = Logger(observer=lambda event: None)  # the client's debug lines are not ours

        def verifyHostKey(self, hostKey: bytes, fingerprint: str) -> defer.Deferred:
            return defer.succeed(True)

        def connectionSecure(self) -> None:
            secure.append(True)

    clock = Clock()
    client, server, pump = connectedServerAndClient(
        lambda: factory(lambda: SSHTransport(heard, clock=clock)).buildProtocol(HOST),
        Client)
    pump.flush()
    assert secure == [True] and server.isEncrypted("both")
    assert heard.versions == [client.ourVersionString.decode()]
    [(kexinit, algorithms, digest)] = heard.kex
    assert (algorithms, digest) == reference_hassh(client.ourKexInitPayload[1:])
    assert heard.refused == [] and lines_of(logged) == []
    # Encrypted now: a packet over the bound before authentication (a 1 MB
    # public key, say) is refused all the same.
    client.sendPacket(50, b"k" * 40_000)  # SSH_MSG_USERAUTH_REQUEST
    pump.flush()
    assert len(heard.refused) == 1
    assert heard.refused[0].startswith("packet of ") and "over the limit of 35000" in heard.refused[0]
    assert len(lines_of(logged)) == 1 and no_tracebacks(logged)


PACKETS = st.lists(st.tuples(st.integers(0, 255), st.binary(max_size=200)), max_size=5).map(
    lambda packets: b"".join(plain_packet(bytes([kind]) + body) for kind, body in packets))


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=2000), PACKETS), st.lists(st.integers(1, 300), max_size=20),
       st.sampled_from([b"", VERSION]))
def test_whatever_a_client_sends_no_exception_escapes(data: bytes, cuts: list[int],
                                                     version: bytes) -> None:
    """Random bytes or packets of any type with random bodies, before or
    after a version line, in random pieces: the transport reads them or
    closes with one line; nothing is raised."""
    events: list[dict] = []
    globalLogPublisher.addObserver(events.append)
    try:
        wire = Wire()
        data = version + data
        at = 0
        for cut in cuts + [len(data)]:
            wire.send(data[at:at + cut])
            at += cut
        assert len(wire.heard.refused) <= 1
        assert len(lines_of(events)) == len(wire.heard.refused) and no_tracebacks(events)
    finally:
        globalLogPublisher.removeObserver(events.append)


class RealClientTests(TestCase):
    """Debian's OpenSSH client against the transport on the real reactor."""

    @defer.inlineCallbacks
    def test_openssh_completes_the_key_exchange(self) -> Any:
        heard = Heard()
        lost: defer.Deferred = defer.Deferred()

        class Watched(SSHTransport):
            def connectionLost(self, reason: Any = None) -> None:
                super().connectionLost(reason)
                lost.callback(None)

        port = reactor.listenTCP(0, factory(lambda: Watched(heard)), interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        out, err, code = yield getProcessOutputAndValue(
            "ssh", ["-F", "/dev/null", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
                    "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=20",
                    "-p", str(port.getHost().port), "x@127.0.0.1", "true"],
            env=os.environ)
        yield lost
        # Past the key exchange (the host key was taken) to authentication,
        # where a server with no way in says no.
        self.assertIn(b"Permission denied", err)
        self.assertEqual(code, 255)
        self.assertEqual(len(heard.versions), 1)
        self.assertTrue(heard.versions[0].startswith("SSH-2.0-OpenSSH_"))
        [(kexinit, algorithms, digest)] = heard.kex
        self.assertEqual(hassh(kexinit), (algorithms, digest))
        self.assertIn("curve25519-sha256", KexInit.names(kexinit.kex_algorithms))
        self.assertEqual(heard.refused, [])
