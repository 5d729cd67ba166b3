"""The SSH door's transport: conch's server transport, bounded at its edge.

Conch's L{SSHServerTransport} does the key exchange and the packets.  What a
public server that bots walk into needs beside it is here:

  - the client's version line (RFC 4253 section 4.2) is the first thing it
    sends, at most 255 bytes with its CR LF, and says SSH-2.0 or SSH-1.99.
    Conch skips any lines before it and buffers 4 KB looking for one;
    here anything else (a telnet bot's C{root}, an HTTP request) closes
    the connection at once with C{Protocol mismatch.}, as OpenSSH's sshd
    says it;
  - the key exchange and authentication finish within a deadline
    (C{handshake_timeout}); L{SSHTransport.authenticated} ends it, which
    starting the connection service (conch does it on success) calls;
  - no compression is offered: conch inflates without a bound;
  - until authentication a packet is at most L{MAX_PACKET_UNAUTHENTICATED}
    bytes, the size RFC 4253 section 6.1 asks every implementation to take
    (conch's own bound, 1 MiB, is the one that stays after it);
  - whatever conch refuses (a bad packet length, a bad MAC, no common
    algorithm) and any exception while handling a packet closes the
    connection with one log line and no traceback.  Conch's own log lines
    (several debug lines a connection) are not written.

The owner hears of the client through a L{TransportListener}: its version,
its KEXINIT with its HASSH, and why the transport closed it, which is what
Cowrie's C{cowrie.client.version} and C{cowrie.client.kex} events need.
"""

from __future__ import annotations

import struct
from typing import Any, Protocol

from twisted.conch.ssh.common import NS
from twisted.conch.ssh.transport import (
    DISCONNECT_CONNECTION_LOST,
    DISCONNECT_PROTOCOL_ERROR,
    MSG_DISCONNECT,
    SSHServerTransport,
)
from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure

from bbs.rates import RateLimit
from bbs.ssh.hassh import KexInit, hassh, parse_kexinit

log = Logger()

MAX_VERSION_LINE = 255  # bytes, CR LF included (RFC 4253 section 4.2)
VERSIONS = (b"SSH-2.0-", b"SSH-1.99-")  # 1.99: a client that also speaks 2.0
MISMATCH = b"Protocol mismatch.\r\n"  # what OpenSSH's sshd says to a non-SSH client
# The handshake deadline: that of a telnet login (bbs.config's login_timeout),
# which the service passes on; tests/ssh/test_transport.py checks they agree.
HANDSHAKE_TIMEOUT = 60.0
MAX_PACKET_UNAUTHENTICATED = 35_000  # RFC 4253 6.1: what every implementation must take
CLOSE_GRACE = 10.0  # seconds a closed connection may take to send its goodbye

# Log lines about one address: at most LOG_RATE per LOG_PER seconds, as telnet's.
LOG_RATE = 10
LOG_PER = 60.0
_LOG_LIMITS: dict[IReactorTime, RateLimit] = {}


class TransportListener(Protocol):
    """What the owner of an SSH connection hears from its transport."""

    def ssh_version(self, version: str) -> None:
        """The client's version line, e.g. C{SSH-2.0-OpenSSH_9.2p1 Debian-2},
        without its line end, every byte outside printable ASCII written as
        C{\\xNN} (at most 253 bytes, so at most 1012 characters).  Told once,
        also for a version that is then refused."""

    def ssh_kex(self, kexinit: KexInit, algorithms: str, hassh: str) -> None:
        """The client's first KEXINIT, its C{hasshAlgorithms} and C{hassh}
        (L{bbs.ssh.hassh.kex_event_fields} makes Cowrie's event of them)."""

    def ssh_refused(self, reason: str) -> None:
        """The transport closed the connection, for C{reason} (one sentence
        of printable ASCII): a bad version line, a malformed or too large
        packet, the handshake deadline, an error in handling a packet, or a
        refusal of the layers above (C{sendDisconnect})."""


class _NoListener:
    """A listener that hears nothing, until the owner sets its own."""

    def ssh_version(self, version: str) -> None:
        pass

    def ssh_kex(self, kexinit: KexInit, algorithms: str, hassh: str) -> None:
        pass

    def ssh_refused(self, reason: str) -> None:
        pass


def printable_ascii(raw: bytes) -> str:
    """C{raw} as text of printable ASCII: every other byte as C{\\xNN}."""
    return "".join(chr(b) if 0x20 <= b < 0x7F else f"\\x{b:02x}" for b in raw)


def log_limit(clock: IReactorTime) -> RateLimit:
    """The limit on log lines about one address, for the whole SSH door:
    its transports' refusals and its doors' own lines count together."""
    limit = _LOG_LIMITS.get(clock)
    if limit is None:
        limit = _LOG_LIMITS[clock] = RateLimit(clock, LOG_RATE, LOG_PER, _log_suppressed)
    return limit


def _log_suppressed(ip: str, count: int) -> None:
    log.info("{count} more SSH log lines about {ip} were not written (limit {rate} per {per:g} s)",
             count=count, ip=ip, rate=LOG_RATE, per=LOG_PER)


def _discard(event: dict[str, Any]) -> None:
    """Conch's transport logs several lines a connection (algorithms, new
    keys, the close); ours says in one line what matters."""


class SSHTransport(SSHServerTransport):
    """Conch's server transport with a bounded edge (see the module).

    @ivar listener: Told of the client's version, KEXINIT and refusal; the
        owner may set it after construction (a factory builds the protocol
        with no arguments).
    """

    _log = Logger(observer=_discard)
    # No compression: conch inflates a zlib packet with no bound, so 35,000
    # bytes before authentication (1 MiB after) could become gigabytes.
    supportedCompressions = [b"none"]

    def __init__(self, listener: TransportListener | None = None, *,
                 handshake_timeout: float = HANDSHAKE_TIMEOUT,
                 clock: IReactorTime | None = None,
                 max_packet: int = MAX_PACKET_UNAUTHENTICATED) -> None:
        if clock is None:
            from twisted.internet import reactor
            clock = reactor  # type: ignore[assignment]
        self.listener: TransportListener = listener if listener is not None else _NoListener()
        self.handshake_timeout = handshake_timeout
        self.clock: IReactorTime = clock  # type: ignore[assignment]
        self.max_packet: int | None = max_packet
        self._closing = False
        self._kex_seen = False
        self._deadline: IDelayedCall | None = None
        self._abort: IDelayedCall | None = None

    # -- the connection --------------------------------------------------

    def connectionMade(self) -> None:
        self._deadline = self.clock.callLater(self.handshake_timeout, self._expired)
        super().connectionMade()

    def authenticated(self) -> None:
        """Authentication succeeded: the handshake deadline and the bound
        on a packet before it end (conch's 1 MiB stays)."""
        self._cancel_deadline()
        self.max_packet = None

    def setService(self, service: Any) -> None:
        """The connection service starts only once the client has
        authenticated (conch's user authentication starts it then)."""
        if service.name == b"ssh-connection":
            self.authenticated()
        super().setService(service)

    def dataReceived(self, data: bytes) -> None:
        if self._closing:
            return
        try:
            if not self.gotVersion:
                self.buf += data
                if not self._take_version():
                    return
                data = b""
            super().dataReceived(data)
        except Exception as error:  # noqa: BLE001 - a peer's packet must not leave a traceback
            self._refuse(f"error handling a packet ({type(error).__name__}: "
                         f"{printable_ascii(str(error).encode('ascii', 'replace'))[:120]})",
                         code=DISCONNECT_PROTOCOL_ERROR)

    def connectionLost(self, reason: Failure | None = None) -> None:
        # Conch's, without its log line.
        self._closing = True
        self._cancel_deadline()
        if self._abort is not None and self._abort.active():
            self._abort.cancel()
        self._abort = None
        if self.service:
            self.service.serviceStopped()
        if hasattr(self, "avatar"):
            self.logoutFunction()

    def loseConnection(self) -> None:
        """Close, as the door does when its session ends: the client is
        told (C{DISCONNECT_CONNECTION_LOST}) and nothing is logged."""
        if self._closing:
            return
        self._closing = True
        self._cancel_deadline()
        self._goodbye(DISCONNECT_CONNECTION_LOST, "user closed connection")

    def sendDisconnect(self, reason: int, desc: bytes) -> None:
        """Conch's refusals (and those of the layers above it) end here."""
        self._refuse(printable_ascii(desc), code=reason)

    # -- the version line ------------------------------------------------

    def _take_version(self) -> bool:
        """Take the version line from the buffer if it is all there; whether
        it was.  A bad one closes the connection."""
        buf = self.buf
        if not buf.startswith(b"SSH-"[:len(buf)]):
            self._refuse(f"not an SSH client: it sent '{printable_ascii(buf[:32])}' "
                         "instead of a version line", mismatch=True)
            return False
        end = buf.find(b"\n", 0, MAX_VERSION_LINE)
        if end < 0:
            if len(buf) >= MAX_VERSION_LINE:
                self._refuse(f"version line longer than {MAX_VERSION_LINE} bytes", mismatch=True)
            return False
        line = buf[:end].removesuffix(b"\r")
        self.listener.ssh_version(printable_ascii(line))
        if not line.startswith(VERSIONS):
            protocol = printable_ascii(line.split(b"-")[1] if line.count(b"-") else line)[:20]
            self._refuse(f"unsupported protocol version {protocol!r} (only 2.0 and 1.99)",
                         mismatch=True)
            return False
        if any(not 0x20 <= b < 0x7F for b in line):
            self._refuse("version line has a byte that is not printable ASCII", mismatch=True)
            return False
        self.gotVersion = True
        self.otherVersionString = line
        self.buf = buf[end + 1:]
        return True

    # -- packets ----------------------------------------------------------

    def getPacket(self) -> bytes | None:
        if self._closing:
            return None
        packet = super().getPacket()
        limit = self.max_packet
        if self._closing or limit is None:
            return None if self._closing else packet
        if packet is not None:
            size = len(packet)
        elif hasattr(self, "first"):  # conch's decrypted first block of a packet still coming
            (size,) = struct.unpack(">L", self.first[:4])
        else:
            return None
        if size > limit:
            self._refuse(f"packet of {size} bytes before authentication, over the limit "
                         f"of {limit}", code=DISCONNECT_PROTOCOL_ERROR)
            return None
        return packet

    def ssh_KEXINIT(self, packet: bytes) -> None:
        try:
            kexinit = parse_kexinit(packet)
        except ValueError as error:
            self._refuse(str(error), code=DISCONNECT_PROTOCOL_ERROR)
            return
        if not self._kex_seen:
            self._kex_seen = True
            algorithms, digest = hassh(kexinit)
            self.listener.ssh_kex(kexinit, algorithms, digest)
        super().ssh_KEXINIT(packet)

    # -- closing ----------------------------------------------------------

    def _expired(self) -> None:
        self._deadline = None
        self._refuse("handshake timeout", code=DISCONNECT_CONNECTION_LOST)

    def _cancel_deadline(self) -> None:
        if self._deadline is not None and self._deadline.active():
            self._deadline.cancel()
        self._deadline = None

    def _refuse(self, reason: str, *, code: int | None = None, mismatch: bool = False) -> None:
        """Close the connection for C{reason}: one log line, the listener
        told, and the client told as far as it can be (C{Protocol
        mismatch.} before the version, a DISCONNECT message after it)."""
        if self._closing:
            return
        self._closing = True
        self._cancel_deadline()
        peer = self.transport.getPeer()
        ip = getattr(peer, "host", str(peer))
        if log_limit(self.clock).allow(ip):
            log.info("SSH connection from {ip} closed: {reason}", ip=ip, reason=reason)
        try:
            self.listener.ssh_refused(reason)
        finally:
            if mismatch:
                self.transport.write(MISMATCH)
                self._close_transport()
            elif self.gotVersion and code is not None:
                self._goodbye(code, reason)
            else:
                self._close_transport()

    def _goodbye(self, code: int, reason: str) -> None:
        """Send a DISCONNECT message (when it can still be made) and close."""
        try:
            self.sendPacket(MSG_DISCONNECT, struct.pack(">L", code)
                            + NS(reason.encode("ascii", "replace")[:200]) + NS(b""))
        except Exception:  # noqa: BLE001 - a broken cipher state: close without a goodbye
            pass
        self._close_transport()

    def _close_transport(self) -> None:
        """Close; a peer that does not read what is left is cut off after
        L{CLOSE_GRACE} seconds."""
        self.transport.loseConnection()
        abort = getattr(self.transport, "abortConnection", None)
        if abort is not None and self._abort is None:
            self._abort = self.clock.callLater(CLOSE_GRACE, abort)
