"""The telnet layer: IAC parsing, option negotiation and line-end rules.

Our own incremental parser rather than L{twisted.conch.telnet}: that one
raises on C{IAC EOF} (Ctrl-D in netkit telnet) and on C{IAC SB IAC SE}, holds
back a CR that ends a packet, and leaks unhandled Deferred errors from its
negotiations -- all of which bots and old clients trigger daily.

Everything above this module sees plain application bytes with every line
end turned into one C{b"\\n"}, and writes plain bytes with C{b"\\n"} line
ends; only this module knows about IAC, CR NUL and options.  Nothing here
waits for a negotiation answer: bots never answer, and people must not wait
for their client to make up its mind.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import socket
import typing
import weakref
from collections import deque
from collections.abc import Callable
from weakref import WeakKeyDictionary

import attrs
from twisted.internet.abstract import FileDescriptor
from twisted.internet.interfaces import (
    IAddress,
    IDelayedCall,
    IPushProducer,
    IReactorCore,
    IReactorTime,
)
from twisted.internet.protocol import Protocol, connectionDone
from twisted.logger import ILogObserver, Logger, LogEvent
from twisted.python.failure import Failure
from zope.interface import implementer

from bbs.door import DoorApplication
from bbs.rates import InputMeter, RateLimit, TokenBucket
from bbs.telnet import environ
from bbs.telnet.fingerprint import MiraiAnswers, Verdict
from bbs.telnet.options import BINARY, ECHO, NAWS, NEW_ENVIRON, SGA, TTYPE, Q, Side
from bbs.text import loggable

log = Logger()

# Commands (RFC 854, RFC 1184 for EOF/SUSP/ABORT, RFC 885 for EOR).
EOF, SUSP, ABORT, EOR = 236, 237, 238, 239
SE, NOP, DM, BRK, IP, AO, AYT, EC, EL, GA, SB = range(240, 251)
WILL, WONT, DO, DONT, IAC = 251, 252, 253, 254, 255
NUL, LF, CR = 0, 10, 13
TTYPE_IS, TTYPE_SEND = 0, 1

# Commands that stand for a key: what a character-mode client would have sent.
_COMMAND_KEYS = {IP: b"\x03", EC: b"\x7f", EL: b"\x15", EOF: b"\x04"}
_AYT_REPLY = b"\r\n[yes]\r\n"

# Options we agree to perform ourselves (DO x) and to let the client perform
# (WILL x).  Everything else, LINEMODE included, is refused.  NEW-ENVIRON is
# let on to hear (and log) what the client sends, never to use it.
_OURS = frozenset((ECHO, SGA, BINARY))
_THEIRS = frozenset((BINARY, NAWS, TTYPE, NEW_ENVIRON))
_ENVIRON_SEND = bytes((IAC, SB, NEW_ENVIRON, environ.SEND, IAC, SE))
_OFF = Side()

WIDTH_RANGE = (20, 500)
HEIGHT_RANGE = (5, 500)
NEGOTIATION_TIMEOUT = 2.0  # seconds before a silent client is reported
CLOSE_TIMEOUT = 10.0  # seconds a closing client gets to read its last line
KEEPALIVE_PROBES = 5  # unanswered TCP keepalive probes before a silent peer is dead
# Log lines this layer writes about one address (protocol errors, foreign
# protocols, non-readers), per LOG_PER seconds; the rest are counted and
# summed up in one line when the window ends.
LOG_RATE = 10
LOG_PER = 60.0
# Lines of each kind a listening port's accept loop logs per LOG_PER seconds
# (EMFILE: "Could not accept new connection", a line per socket closed to
# recover); the rest are counted and summed up like the above.
ACCEPT_LOG_RATE = 1

# Parser states.
_DATA, _COMMAND, _OPTION, _SUB, _SUB_IAC = range(5)
_ANSWERS = re.compile(rb"(?:\xff[\xfb-\xfe][\x00-\xff])+")  # IAC WILL/WONT/DO/DONT option, repeated
_SPECIAL = re.compile(b"[\x00\r\xff]")
# A terminal type is a name from a short alphabet (RFC 1091, terminfo):
# "xterm-256color", "VT100", "DEC-VT220", "screen.xterm", "vt100+fnkeys",
# "ansi_bbs".  Everything else a client sends there is dropped, so that what
# reaches the event log, the colour choice or a sysop's screen is a name.
_TTYPE_KEPT = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/._+-")
_NOT_TTYPE = bytes(b for b in range(256) if b not in _TTYPE_KEPT)

# What other protocols open with.  Their clients speak first and never send
# IAC, so the first application bytes of a connection tell them apart.
_FOREIGN = (
    (b"GET ", "http"),
    (b"POST ", "http"),
    (b"HEAD ", "http"),
    (b"PUT ", "http"),
    (b"OPTIONS ", "http"),
    (b"CONNECT ", "http"),
    (b"\x16\x03", "tls"),
    (b"SSH-", "ssh"),
)
_FOREIGN_FIRST = frozenset(signature[0] for signature, _ in _FOREIGN)
_FOREIGN_LINES = {
    "http": "This is a telnet server, not a web server.",
    "tls": "This is a plain telnet server; TLS is not spoken on this port.",
    "ssh": "This is a telnet server, not an SSH server.",
}


class _Coalescer:
    """Flushes every connection that wrote during this turn of the reactor.

    Sources (see L{at_turn_end}) run first.  While it flushes, the turn is
    over: a connection sends what it is given at once, after what it had
    waiting, instead of waiting again.
    """

    def __init__(self, clock: IReactorTime) -> None:
        self.clock = weakref.proxy(clock)  # the registry below is keyed weakly by it
        self.sources: list[Callable[[], object]] = []
        self.waiting: list[TelnetConnection] = []
        self.call: IDelayedCall | None = None
        self.flushing = False

    def add(self, connection: "TelnetConnection") -> None:
        self.waiting.append(connection)
        self._soon()

    def add_source(self, flush: Callable[[], object]) -> None:
        self.sources.append(flush)
        self._soon()

    def _soon(self) -> None:
        if self.call is None:
            self.call = self.clock.callLater(0, self.flush)

    def flush(self) -> None:
        self.call = None
        self.flushing = True
        try:
            sources, self.sources = self.sources, []
            for flush in sources:
                _guarded(flush)
            waiting, self.waiting = self.waiting, []
            for connection in waiting:
                _guarded(connection.flush)
        finally:
            self.flushing = False


def _guarded(flush: Callable[[], object]) -> None:
    """Call C{flush}: a failure is logged and must not hold up the others' output."""
    try:
        flush()
    except Exception:
        log.failure("flushing the turn's output failed")


class _SilenceWatch:
    """Connections that have not negotiated yet, in the order they came.

    They all wait the same time, so one reactor timer (for the oldest) serves
    them all: a timer per connection would put thousands in the reactor's
    heap, and every other timer's insertion would pay for them.
    """

    def __init__(self, clock: IReactorTime) -> None:
        self.clock = clock
        self.waiting: deque[tuple[float, TelnetConnection]] = deque()
        self.silent = 0  # of the waiting, those still silent
        self.call: IDelayedCall | None = None

    def add(self, connection: "TelnetConnection") -> None:
        self.waiting.append((self.clock.seconds() + NEGOTIATION_TIMEOUT, connection))
        self.silent += 1
        if self.call is None:
            self.call = self.clock.callLater(NEGOTIATION_TIMEOUT, self._due)

    def spoke(self) -> None:
        """One of the waiting negotiated or went away."""
        self.silent -= 1
        if not self.silent:  # nobody left to report: no timer left behind
            self.waiting.clear()
            if self.call is not None:
                self.call.cancel()
                self.call = None

    def _due(self) -> None:
        self.call = None
        now = self.clock.seconds()
        waiting = self.waiting
        while waiting and waiting[0][0] <= now:
            connection = waiting.popleft()[1]
            if connection._silent is not None:
                connection._silent = None
                self.silent -= 1
                _guarded(connection._no_negotiation)
        if waiting:
            self.call = self.clock.callLater(max(waiting[0][0] - now, 0), self._due)


class _PerReactor:
    """What every connection on one reactor shares."""

    def __init__(self, clock: IReactorTime) -> None:
        self.coalescer = _Coalescer(clock)
        self.silence = _SilenceWatch(clock)


_PER_REACTOR: WeakKeyDictionary[IReactorTime, _PerReactor] = WeakKeyDictionary()


def _per_reactor(clock: IReactorTime) -> _PerReactor:
    shared = _PER_REACTOR.get(clock)
    if shared is None:
        shared = _PER_REACTOR[clock] = _PerReactor(clock)
    return shared


def at_turn_end(clock: IReactorTime, flush: Callable[[], object]) -> None:
    """Call C{flush} at the end of this turn of C{clock}'s reactor, before the
    connections send what the turn wrote, so that what C{flush} writes (a
    room's lines) leaves in the same sends."""
    _per_reactor(clock).coalescer.add_source(flush)


def _direct_socket(transport: object) -> socket.socket | None:
    """The socket to send on directly (see L{TelnetConnection._send}), if any.

    Twisted's TCP transport always buffers a write and sends it on the next
    pass of the reactor: two C{epoll_ctl} calls and a poll wake-up per write.
    Our writes already come at the end of a turn (the coalescer), so when
    nothing of ours is queued in the transport, sending at once keeps the
    order and costs one C{send}.  Only a plain Twisted socket transport, whose
    queue we can see, qualifies; TLS and test transports take the usual path.
    """
    if not isinstance(transport, FileDescriptor):
        return None
    handle = getattr(transport, "getHandle", None)
    sock = handle() if handle is not None else None
    return sock if isinstance(sock, socket.socket) else None


def to_wire(data: bytes) -> bytes:
    """Turn application bytes into telnet wire bytes.

    IAC is doubled, C{b"\\n"} becomes CR LF and a CR not followed by LF
    becomes CR NUL (RFC 854).  Application text uses C{b"\\n"} alone for
    newlines; a C{b"\\r\\n"} is tolerated and sent as one CR LF.  Pure, so that
    the hub encodes a broadcast once for all its recipients.

    (A byte is looked for as an int: in CPython 3.11, C{b"\\n" in data}
    first fails to read C{b"\\n"} as an int, and building that TypeError
    costs more than the search.)
    """
    if IAC in data:
        data = data.replace(b"\xff", b"\xff\xff")
    if CR in data:
        data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\r\0")
    if LF in data:
        data = data.replace(b"\n", b"\r\n")
    return data


@attrs.frozen
class TelnetLimits:
    """Bounds on what one client can make us buffer, compute or send.

    The defaults are far above what a person or a real client ever needs:
    nobody types 16 KB a second, a 4 KB paste passes untouched, and a real
    terminal answers a handful of negotiations and NAWS reports.

    @ivar subnegotiation: Bytes in one SB; more closes the connection.
    @ivar pending_output: Bytes written while the transport says the client
        is not reading (beyond the transport's own 64 KB buffer); more aborts.
    @ivar negotiations: Option commands answered per connection; later
        ones are only taken note of, never answered.
    @ivar ttype_max: Characters kept of the terminal type.
    @ivar input_rate: Bytes a second a client may send, on average; reading
        from a client that sends faster is paused until it is back within.
    @ivar input_burst: Bytes a client may send at once before that.
    @ivar window_rate: NAWS changes a second reported above, on average; a
        storm is coalesced into the latest size.
    @ivar window_burst: NAWS changes reported at once before that.
    @ivar ayt_rate: C{IAC AYT} answered per second; the rest are ignored.
    @ivar ayt_burst: C{IAC AYT} answered at once before that.
    @ivar socket_buffer: Bytes of kernel send and receive buffer asked for
        (Linux doubles it).  Left to itself the kernel grows them to
        megabytes, which a client that never reads -- or whose reading we
        paused -- would fill; chat needs a few kilobytes a second.
    @ivar dead_peer: Seconds before the kernel drops a connection whose
        peer acknowledges nothing, not what we sent nor keepalive probes:
        a client whose network vanished.  Linux alone takes about 15
        minutes of retransmissions, and a silent connection is never
        probed.  (A client that stops reading with our output waiting is
        dropped after this time too.)
    """

    subnegotiation: int = 4096
    pending_output: int = 256 * 1024
    negotiations: int = 100
    ttype_max: int = 40
    input_rate: int = 16 * 1024
    input_burst: int = 64 * 1024
    window_rate: float = 2.0
    window_burst: int = 4
    ayt_rate: float = 1.0
    ayt_burst: int = 3
    socket_buffer: int = 64 * 1024
    dead_peer: float = 300.0


def _address(address: IAddress) -> tuple[str, int]:
    """C{(ip, port)} of a Twisted address, IPv4-mapped IPv6 shown as IPv4."""
    host = getattr(address, "host", "")
    port = getattr(address, "port", 0)
    if ":" in host:
        try:
            mapped = ipaddress.IPv6Address(host).ipv4_mapped
        except ValueError:
            mapped = None
        if mapped is not None:
            host = str(mapped)
    return host, port


def _foreign(head: bytes) -> str | None:
    """The protocol C{head} opens, C{""} for none, C{None} if too short to tell."""
    if head and head[0] not in _FOREIGN_FIRST:
        return ""  # the usual first bytes, a name or a command: no signature starts so
    undecided = False
    for signature, name in _FOREIGN:
        if head.startswith(signature):
            return name
        if signature.startswith(head):
            undecided = True
    return None if undecided else ""


_log_limits: WeakKeyDictionary[IReactorTime, RateLimit] = WeakKeyDictionary()


def _log_limit(clock: IReactorTime) -> RateLimit:
    """The per-address log allowance of every connection on C{clock}."""
    limit = _log_limits.get(clock)
    if limit is None:
        limit = _log_limits[clock] = RateLimit(clock, LOG_RATE, LOG_PER, _log_suppressed)
    return limit


def _log_suppressed(ip: str, count: int) -> None:
    log.info(
        "{count} more telnet log lines about {ip} were not written (limit {rate} per {per:g} s)",
        count=count, ip=ip, rate=LOG_RATE, per=LOG_PER,
    )


_Option = tuple[int, int, int]  # (level, option, value) for setsockopt


@functools.cache
def _wanted(limits: TelnetLimits) -> tuple[_Option, ...]:
    """The socket options every connection gets.

    No Nagle delay (a chat line should leave at once), bounded kernel buffers
    (L{TelnetLimits.socket_buffer}), and a dead peer dropped within
    L{TelnetLimits.dead_peer}: what we send (a line, the keepalive NOP) may
    go unacknowledged that long (C{TCP_USER_TIMEOUT}), and a silent
    connection is probed from half that time on, five probes in the other
    half (keepalive).  Options this system lacks are left out.
    """
    dead = limits.dead_peer
    size = limits.socket_buffer
    tcp = socket.IPPROTO_TCP
    wanted = [
        (tcp, "TCP_NODELAY", 1),
        (socket.SOL_SOCKET, "SO_SNDBUF", size),
        (socket.SOL_SOCKET, "SO_RCVBUF", size),
        (socket.SOL_SOCKET, "SO_KEEPALIVE", 1),
        (tcp, "TCP_KEEPIDLE", max(1, int(dead / 2))),
        (tcp, "TCP_KEEPINTVL", max(1, int(dead / 2 / KEEPALIVE_PROBES))),
        (tcp, "TCP_KEEPCNT", KEEPALIVE_PROBES),
        (tcp, "TCP_USER_TIMEOUT", int(dead * 1000)),
    ]
    return tuple(
        (level, getattr(socket, name), value)
        for level, name, value in wanted
        if hasattr(socket, name)
    )


class _Listening:
    """What the telnet layer knows of a listening port (L{tune_listener})."""

    __slots__ = ("missing", "host", "limits")

    def __init__(self, host: tuple[str, int] | None, limits: TelnetLimits) -> None:
        # Of the options it was given, those accepted sockets do not come
        # with (none, on Linux): None until the first one is looked at.
        self.missing: tuple[_Option, ...] | None = None
        # The local address of every connection, if bound to one address.
        self.host = host
        self.limits = limits  # what its options were made for


_LISTENING: WeakKeyDictionary[object, _Listening] = WeakKeyDictionary()


@implementer(ILogObserver)
class AcceptLog:
    """A listening port's accept-loop log, at most L{ACCEPT_LOG_RATE} lines
    of each kind a minute.

    Out of file descriptors, Twisted's accept loop logs a line per refused
    accept, at every turn of the reactor while the port stays readable:
    thousands of lines a second, which fill the disk and hide everything
    else.  One line of each kind says what happened; the rest are counted
    and summed up in one line when the minute ends (or at shutdown).
    """

    def __init__(self, observer: ILogObserver, clock: IReactorTime) -> None:
        self._observer = observer
        self._limit = RateLimit(clock, ACCEPT_LOG_RATE, LOG_PER, self._suppressed)

    def __call__(self, event: LogEvent) -> None:
        if self._limit.allow(str(event.get("log_format"))):
            self._observer(event)

    def close(self) -> None:
        """Sum up what is counted so far."""
        self._limit.close()

    @staticmethod
    def _suppressed(kind: str, count: int) -> None:
        log.info(
            "{count} more accept-loop log lines like {kind!r} were not written "
            "(limit {rate} per {per:g} s)",
            count=count, kind=kind, rate=ACCEPT_LOG_RATE, per=LOG_PER,
        )


def quiet_accept_loop(port: object) -> None:
    """Send the log of C{port}'s accept loop (a Twisted TCP port's
    C{_logger}) through an L{AcceptLog}; other ports are left alone."""
    logger = getattr(port, "_logger", None)
    reactor = getattr(port, "reactor", None)
    if not isinstance(logger, Logger) or not IReactorTime.providedBy(reactor):
        return
    if isinstance(logger.observer, AcceptLog):
        return
    accept_log = AcceptLog(logger.observer, reactor)
    port._logger = Logger(  # type: ignore[attr-defined]
        namespace=logger.namespace, source=port, observer=accept_log
    )
    if IReactorCore.providedBy(reactor):
        reactor.addSystemEventTrigger("before", "shutdown", accept_log.close)


def tune_listener(port: object, limits: TelnetLimits | None = None) -> object:
    """Set the connections' socket options on C{port}'s listening socket.

    Linux copies them all to every socket it accepts, which saves eight
    system calls per connection; which ones this system copies is checked
    on the first connection, and the others are set on each one.  A port
    bound to one address also saves asking each connection for its local
    address.  The port's accept loop logs within L{AcceptLog}'s limits.
    """
    quiet_accept_loop(port)
    sock = getattr(port, "socket", None)
    if isinstance(sock, socket.socket):
        limits = limits or TelnetLimits()
        try:
            for level, option, value in _wanted(limits):
                sock.setsockopt(level, option, value)
            host = _address(port.getHost())  # type: ignore[attr-defined]
        except OSError:
            return port
        wildcard = not host[0] or ipaddress.ip_address(host[0]).is_unspecified
        _LISTENING[port] = _Listening(None if wildcard else host, limits)
    return port


def _tune(transport: object, listening: _Listening | None, limits: TelnetLimits) -> None:
    """Give the connection's socket our options, those it did not come with."""
    if listening is not None and listening.limits is not limits \
            and _wanted(listening.limits) != _wanted(limits):
        listening = None  # the connection wants other options than its port has
    if listening is not None and listening.missing == ():
        return  # the usual case: one identity check and one comparison per connection
    sock = _socket_of(transport)
    if sock is None:
        return
    wanted = _wanted(limits)
    if listening is not None:
        if listening.missing is None:
            port_socket = transport.server.socket  # type: ignore[attr-defined]
            listening.missing = _not_inherited(sock, port_socket, wanted)
        wanted = listening.missing
    for level, option, value in wanted:
        try:
            sock.setsockopt(level, option, value)
        except OSError:
            pass


def _not_inherited(sock: socket.socket, port_socket: socket.socket,
                   wanted: tuple[_Option, ...]) -> tuple[_Option, ...]:
    """The options of C{wanted} that C{sock} did not get from C{port_socket}."""
    missing = []
    for level, option, value in wanted:
        try:
            if sock.getsockopt(level, option) == port_socket.getsockopt(level, option):
                continue
        except OSError:
            pass
        missing.append((level, option, value))
    return tuple(missing)


def _socket_of(transport: object) -> socket.socket | None:
    """The socket under C{transport}: under TLS, the wrapped transport's; a
    test transport has none."""
    for _ in range(3):
        handle = getattr(transport, "getHandle", None)
        sock = handle() if handle is not None else None
        if isinstance(sock, socket.socket):
            return sock
        transport = getattr(transport, "transport", None)
    return None


def _clamp(value: int, bounds: tuple[int, int]) -> int:
    low, high = bounds
    return min(max(value, low), high)


class _Output:
    """What sending reads, alone in a base class so that CPython lays it out
    first, in the object header's cache line: a room flush sends to thousands
    of connections (see L{bbs.session._FlushFirst})."""

    __slots__ = ("_batch", "_closing", "_coalesce", "_paused", "_queued", "_socket")


@implementer(IPushProducer)
class TelnetConnection(_Output, Protocol):
    """One telnet client, speaking application bytes to a L{DoorApplication}.

    It is also the transport's streaming producer: Twisted pauses it when the
    client stops reading, and whatever is written meanwhile is counted so a
    client that never reads cannot make us buffer without bound.  The other
    way round, it pauses the transport (stops reading the socket) for as long
    as a client that sends too fast is over its L{TelnetLimits.input_rate}.

    @ivar character_mode: The client accepted our ECHO, so it sends each key
        as typed and we echo.
    @ivar binary: Binary transmission (RFC 856) is on in either direction.
    @ivar window: C{(width, height)}, C{(80, 24)} until the client says.
    @ivar terminal_type: The client's first TTYPE answer, or C{None}.
    """

    __slots__ = (
        "_aborted",
        "_answers",
        "_ayt",
        "_commands",
        "_cr",
        "_him",
        "_input",
        "_linger",
        "_lost",
        "_received",
        "_pending",
        "_reason",
        "_registered",
        "_reported",
        "_signalled",
        "_silent",
        "_sniff",
        "_state",
        "_sub",
        "_ttype_asked",
        "_unpause",
        "_us",
        "_verb",
        "_window_due",
        "_windows",
        "app",
        "clock",
        "connected",
        "factory",
        "host",
        "limits",
        "peer",
        "terminal_type",
        "transport",
        "window",
    )

    def __init__(
        self,
        app: DoorApplication,
        *,
        clock: IReactorTime | None = None,
        limits: TelnetLimits = TelnetLimits(),
        coalesce: bool = False,
    ) -> None:
        if clock is None:
            from twisted.internet import reactor as clock  # type: ignore[no-redef]
        self._coalesce = _per_reactor(clock).coalescer if coalesce else None
        self._batch: bytes | list[bytes] | None = None
        self.app = app
        self.clock: IReactorTime = clock
        self.limits = limits
        self.peer: tuple[str, int] = ("", 0)
        self.host: tuple[str, int] = ("", 0)
        self.window: tuple[int, int] = (80, 24)
        self.terminal_type: str | None = None
        self._us: dict[int, Side] = {}
        self._him: dict[int, Side] = {}
        self._state = _DATA
        self._verb = 0
        self._sub = bytearray()
        self._input = InputMeter(self.clock, limits.input_rate, limits.input_burst)
        self._unpause: IDelayedCall | None = None  # resumes reading a fast sender
        self._windows: TokenBucket | None = None  # made on the first size report
        self._reported = (0, 0)  # the size the app was last told: none yet
        self._window_due: IDelayedCall | None = None
        self._ayt: TokenBucket | None = None  # made on the first AYT
        self._cr = False  # the last data byte was a CR: drop a following LF/NUL
        self._received = bytearray()  # parsed application bytes not yet delivered
        self._sniff: bytearray | None = bytearray()  # first bytes, until told apart
        self._commands = 0  # option commands received
        self._ttype_asked = False
        self._signalled: set[str] | None = None  # made at the first signal
        self._answers: MiraiAnswers | None = None  # while the first answers are judged
        # While waiting for the first negotiation, the watch that waits.
        self._silent: _SilenceWatch | None = None
        self._linger: IDelayedCall | None = None
        self._registered = False
        self._socket: socket.socket | None = None
        # We gave the transport output: until it has sent it all, ours goes
        # behind it (and checking costs two more objects per send, cache-cold
        # in a room flush, so we only look while this is set).
        self._queued = False
        self._paused = False
        self._pending = 0
        self._closing = False
        self._aborted = False
        self._reason: str | None = None
        self._lost = False

    kind = "telnet"
    prepare = staticmethod(to_wire)

    # -- state seen from above

    @property
    def character_mode(self) -> bool:
        return self._us.get(ECHO, _OFF).enabled

    @property
    def negotiates(self) -> bool:
        """Whether the client has sent any option command: a telnet client,
        not netcat (which shows our requests as junk and never answers)."""
        return self._commands > 0

    @property
    def binary(self) -> bool:
        return self._us.get(BINARY, _OFF).enabled or self._him.get(BINARY, _OFF).enabled

    # -- Protocol

    def connectionMade(self) -> None:
        transport = self.transport
        port = getattr(transport, "server", None)
        listening = _LISTENING.get(port) if port is not None else None
        _tune(transport, listening, self.limits)
        self._socket = _direct_socket(transport)
        self.peer = _address(transport.getPeer())
        host = listening.host if listening is not None else None
        self.host = host if host is not None else _address(transport.getHost())
        transport.registerProducer(self, True)
        self._registered = True
        us, him, asking = _OPENING
        self._us, self._him = dict(us), dict(him)
        self.write_prepared(asking)  # first on the wire, in the same write as the greeting
        self._silent = _per_reactor(self.clock).silence
        self._silent.add(self)
        self.app.door_connected(self)

    def dataReceived(self, data: bytes) -> None:
        if self._closing or not data:
            return
        try:
            self._meter(len(data))
            data = self._take_plain(data)
            if data and not self._closing:
                self._parse(data)
                self._deliver()
        except Exception:
            if _log_limit(self.clock).allow(self.peer[0]):
                log.failure("Unexpected error on telnet input from {ip}", ip=self.peer[0])
            self._received.clear()
            self.close("internal error")

    def _take_plain(self, data: bytes) -> bytes:
        """Take what needs no parser from the head of C{data}; the rest is
        for L{_parse}.

        A client's packets are nearly always lines of text (ending in CR LF
        or LF) and answers to our negotiations (IAC WILL/WONT/DO/DONT
        option), in either order: both are taken whole here, in the order
        they came, so that text before a command reaches the app first.
        """
        while data and self._state == _DATA and not self._cr and not self._closing:
            answers = _ANSWERS.match(data)
            if answers is not None:
                self._end_sniff()  # a client that sends IAC is a telnet client
                self._deliver()
                cut = answers.end()
                for i in range(0, cut, 3):
                    if self._closing:
                        return b""
                    self._negotiate(data[i + 1], data[i + 2])
                data = data[cut:]
                continue
            iac = data.find(b"\xff")
            if iac == 0:
                break  # some other command
            text = data if iac < 0 else data[:iac]
            if text.find(b"\x00") >= 0:
                break
            if text.find(b"\r") >= 0:
                text = text.replace(b"\r\n", b"\n")
                if text.find(b"\r") >= 0:
                    break
            if self._sniff is None:
                self.app.door_data(text)
            else:
                self._emit(text)
                self._deliver()
            if iac < 0:
                return b""
            data = data[iac:]
        return data

    def _meter(self, size: int) -> None:
        pause = self._input.spend(size)
        if pause and self._unpause is None and not self._closing:
            self.transport.pauseProducing()
            self._unpause = self.clock.callLater(pause, self._resume_reading)
            self._signal("input-flood")

    def _resume_reading(self) -> None:
        self._unpause = None
        if not self._closing:
            self.transport.resumeProducing()

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self._spoke()
        for call in (self._linger, self._unpause, self._window_due):
            if call is not None and call.active():
                call.cancel()
        self._linger = self._unpause = self._window_due = None
        held, self._sniff = self._sniff, None
        self._closing = True
        self._registered = False
        if self._lost:
            return
        self._lost = True
        self._batch = None
        if held and self._reason is None:
            # The client left before its first bytes could be told apart.
            self.app.door_data(bytes(held))
        self.app.door_lost(
            self._reason if self._reason is not None else reason.getErrorMessage()
        )

    # -- IPushProducer: the transport tells us whether the client reads

    def pauseProducing(self) -> None:
        self._paused = True

    def resumeProducing(self) -> None:
        self._paused = False
        self._pending = 0

    def stopProducing(self) -> None:
        self._closing = True
        self._registered = False

    # -- output

    def write(self, data: bytes) -> None:
        """Send application bytes (C{b"\\n"} line ends); see L{to_wire}."""
        self.write_prepared(to_wire(data))

    def write_prepared(self, wire: bytes) -> None:
        """Send bytes that L{to_wire} (L{prepare}) has already made ready for the wire.

        With C{coalesce}, everything written during one turn of the reactor
        goes out as one transport write at the end of the turn: a member of a
        busy room gets one write for several lines instead of one each.
        """
        if self._closing or not wire:
            return
        coalesce = self._coalesce
        if coalesce is not None and not coalesce.flushing:
            batch = self._batch
            if batch is None:
                self._batch = wire  # most turns write once: no list to allocate
                coalesce.add(self)
            elif type(batch) is bytes:
                self._batch = [batch, wire]
            else:
                batch.append(wire)
            return
        sock = self._socket
        if sock is not None and self._batch is None and not self._queued and not self._paused:
            # What a room flush does for each of its members: straight to the
            # socket, one call fewer than through _send, which does the rest.
            try:
                sent = sock.send(wire)
            except OSError:
                sent = 0
            if sent == len(wire):
                return
            wire = wire[sent:]
        self._send(wire)

    def keepalive(self) -> None:
        """IAC NOP: shows nothing, and keeps routers' NAT state alive."""
        self.write_prepared(b"\xff\xf1")

    def flush(self) -> None:
        """Send what this turn of the reactor wrote (see L{write_prepared})."""
        wire = self._take()
        if wire and not self._closing:
            self._send(wire)

    def _take(self) -> bytes:
        """What this turn wrote so far, leaving nothing behind."""
        batch, self._batch = self._batch, None
        if batch is None or type(batch) is bytes:
            return batch or b""
        return b"".join(batch)

    def request_echo(self, on: bool) -> bool:
        """Offer (or withdraw) to echo, e.g. around a password prompt.

        @return: whether this changed where echo is headed: C{False} if it
            is on (off) already or being asked for, as our first offer is
            until the client answers.  A request made while the opposite one
            is unanswered goes out when it is answered (RFC 1143).
        """
        if self._closing:
            return False
        was = self._us.get(ECHO, _OFF).headed_on
        self._send(self._request(ECHO, us=True, enable=on))
        return self._us[ECHO].headed_on != was

    def close(self, reason: str | None = None, *, shown: bool = False) -> None:
        """Send C{reason} as a last line, then close once the output is flushed.

        With C{shown}, the application has shown C{reason} itself (through
        its line editor, which clears the prompt first): it is only kept as
        the reason the connection ended.
        """
        if self._closing:
            return
        self.flush()
        if reason is not None and not shown:
            self._send(to_wire(reason.encode("utf-8") + b"\n"))
            if self._closing:  # that line overflowed the queue and aborted
                return
        self._closing = True
        self._reason = reason if reason is not None else "closed by server"
        self._unregister()
        self.transport.loseConnection()
        if not self._lost:
            # A client that does not read would keep the socket open for ever.
            self._linger = self.clock.callLater(CLOSE_TIMEOUT, self.abort, "close timed out")

    def abort(self, reason: str) -> None:
        """Drop the connection now, discarding unsent output."""
        if self._aborted or self._lost:
            return
        self._aborted = self._closing = True
        self._batch = None
        if self._reason is None:
            self._reason = reason
        self._unregister()
        self.transport.abortConnection()

    def _unregister(self) -> None:
        # A paused streaming producer keeps the transport from closing.
        if self._registered:
            self._registered = False
            self.transport.unregisterProducer()

    def _send(self, wire: bytes) -> None:
        if self._batch is not None:  # keep the order of everything written
            wire = self._take() + wire
        if not wire:
            return
        if self._paused:
            self._pending += len(wire)
            if self._pending > self.limits.pending_output:
                self._log("Telnet client {ip} is not reading; dropping it")
                self.abort("output queue full")
                return
        sock = self._socket
        if sock is not None and (not self._queued or self._drained()):
            try:
                sent = sock.send(wire)
            except OSError:  # full (EAGAIN), or broken: the transport finds out itself
                sent = 0
            if sent == len(wire):
                return
            wire = wire[sent:]
        self._queued = True
        self.transport.write(wire)

    def _drained(self) -> bool:
        """Whether the transport has sent all it was given (then we may send past it)."""
        transport = self.transport
        self._queued = bool(transport.dataBuffer or transport._tempDataLen)
        return not self._queued

    # -- input

    def _parse(self, data: bytes) -> None:
        i, end = 0, len(data)
        while i < end and not self._closing:
            state = self._state
            if state == _DATA:
                if self._cr:
                    self._cr = False
                    byte = data[i]
                    if byte == LF:
                        i += 1
                        continue
                    if byte == NUL:
                        i += 1
                        self._nul()
                        continue
                match = _SPECIAL.search(data, i)
                if match is None:
                    self._emit(data[i:])
                    return
                j = match.start()
                if j > i:
                    self._emit(data[i:j])
                byte = data[j]
                i = j + 1
                if byte == CR:
                    self._emit(b"\n")
                    self._cr = True
                elif byte == NUL:
                    self._nul()
                else:
                    # What came before a command reaches the app first, so
                    # that if it ends the session (Ctrl-D, /quit) nothing
                    # after it is acted on, however the bytes were packed.
                    self._end_sniff()
                    self._deliver()
                    if i + 1 < end and WILL <= data[i] <= DONT and not self._closing:
                        # A whole negotiation, the usual command: at once.
                        self._negotiate(data[i], data[i + 1])
                        i += 2
                    else:
                        self._state = _COMMAND
            elif state == _COMMAND:
                self._state = _DATA
                self._command(data[i])
                i += 1
            elif state == _OPTION:
                self._state = _DATA
                self._negotiate(self._verb, data[i])
                i += 1
            elif state == _SUB:
                j = data.find(b"\xff", i)
                stop = end if j < 0 else j
                if len(self._sub) + stop - i > self.limits.subnegotiation:
                    self._sub_too_long()
                    return
                self._sub += data[i:stop]
                if j < 0:
                    return
                i = j + 1
                self._state = _SUB_IAC
            else:  # _SUB_IAC
                byte = data[i]
                i += 1
                if byte == IAC:
                    if len(self._sub) >= self.limits.subnegotiation:
                        self._sub_too_long()
                        return
                    self._sub.append(IAC)
                    self._state = _SUB
                elif byte == SE:
                    self._state = _DATA
                    sub = bytes(self._sub)
                    self._sub.clear()
                    self._subnegotiation(sub)
                else:
                    # IAC <command> cuts the subnegotiation short; obey the
                    # command, as a lenient client would.
                    self._sub.clear()
                    self._state = _DATA
                    self._command(byte)

    def _emit(self, data: bytes) -> None:
        """Queue application bytes, first holding them until told apart."""
        sniff = self._sniff
        if sniff is not None:
            sniff += data
            verdict = _foreign(sniff)
            if verdict is None:
                return
            self._sniff = None
            if verdict:
                self._reject_foreign(verdict, bytes(sniff))
                return
            data = bytes(sniff)
        self._received += data

    def _end_sniff(self) -> None:
        # A client that sends IAC is a telnet client, whatever follows.
        if self._sniff is not None:
            self._received += self._sniff
            self._sniff = None

    def _deliver(self) -> None:
        """Hand the input parsed so far to the application (L{flush} sends output)."""
        if self._received and not self._closing:
            data = bytes(self._received)
            self._received.clear()
            self.app.door_data(data)

    def _notify(self, callback: typing.Callable[..., None], *args: object) -> None:
        """Call the app, after the data that came before, unless closing."""
        self._deliver()
        if not self._closing:
            callback(*args)

    def _signal(self, name: str) -> None:
        if self._signalled is None:
            self._signalled = set()
        if name not in self._signalled:
            self._signalled.add(name)
            self._notify(self.app.door_signal, name)

    def _nul(self) -> None:
        # Dropped either way; only its use as a line end is telling: netkit
        # telnet sends CR NUL in character mode, bots send it in line mode.
        if not self.character_mode:
            self._signal("nul-line-end")

    def _no_negotiation(self) -> None:
        self._signal("no-negotiation")

    def _spoke(self) -> None:
        """Stop waiting for a first negotiation: it came, or the client left."""
        watch = self._silent
        if watch is not None:
            self._silent = None
            watch.spoke()

    def _command(self, byte: int) -> None:
        """Handle the byte after an IAC (state already reset to data)."""
        if byte == IAC:
            self._emit(b"\xff")
        elif byte >= WILL:
            self._verb = byte
            self._state = _OPTION
        elif byte == SB:
            self._state = _SUB
        elif byte == AYT:
            if self._ayt is None:
                self._ayt = TokenBucket(self.clock, self.limits.ayt_rate, self.limits.ayt_burst)
            if self._ayt.take():
                self._send(_AYT_REPLY)
        elif byte in _COMMAND_KEYS:
            self._emit(_COMMAND_KEYS[byte])
        elif byte < EOF:
            self._protocol_error(f"IAC followed by {byte}", "protocol error")
        # NOP, DM, BRK, AO, GA, SUSP, ABORT, EOR and a stray SE mean nothing here.

    def _log(self, format: str, **fields: object) -> None:
        """Log one line about this client, within its address's allowance.

        Fields must be ours or already passed through L{loggable}.
        """
        ip = self.peer[0]
        if _log_limit(self.clock).allow(ip):
            log.info(format, ip=ip, **fields)

    def _protocol_error(self, detail: str, line: str) -> None:
        self._deliver()
        self._log("Telnet protocol error from {ip}: {detail}", detail=detail)
        self._signal("protocol-error")
        self.close(line)

    def _sub_too_long(self) -> None:
        self._sub.clear()
        self._protocol_error(
            f"subnegotiation over {self.limits.subnegotiation} bytes",
            "subnegotiation too long",
        )

    def _reject_foreign(self, name: str, head: bytes) -> None:
        self._log("{ip} spoke {protocol}, not telnet: {head}", protocol=name,
                  head=loggable(head, 80))
        self._signal(f"foreign-protocol:{name}")
        self.close(_FOREIGN_LINES[name])

    # -- options

    def _request(self, option: int, *, us: bool, enable: bool) -> bytes:
        return _ask(self._us if us else self._him, option, us, enable)

    def _negotiate(self, verb: int, option: int) -> None:
        if self._silent is not None:
            self._spoke()
        self._commands += 1
        if self._commands == 1:
            self._answers = MiraiAnswers(self.clock.seconds())
        if self._answers is not None:
            self._judge_answer((verb, option))
        us = verb in (DO, DONT)
        table = self._us if us else self._him
        old = table.get(option, _OFF)
        new, answer = old.received(verb in (WILL, DO), option in (_OURS if us else _THEIRS))
        if answer is not None and self._commands > self.limits.negotiations:
            return  # a storm: stop answering, only take note of answers
        table[option] = new
        if answer is not None:
            self._send(_option(us, answer, option))
        if us and option == ECHO and old.state is not new.state:
            if new.enabled:
                self._notify(self.app.door_echo, True)
            elif new.state is Q.NO:
                self._notify(self.app.door_echo, False)
        elif not us and option == TTYPE and new.enabled and not self._ttype_asked:
            self._ttype_asked = True
            self._send(bytes((IAC, SB, TTYPE, TTYPE_SEND, IAC, SE)))
        elif not us and option == NEW_ENVIRON and new.enabled and not old.enabled:
            self._send(_ENVIRON_SEND)  # RFC 1572: an empty SEND asks for every variable

    def _judge_answer(self, answer: tuple[int, ...]) -> None:
        """Hand one of the first answers to the Mirai fingerprint (L{MiraiAnswers})."""
        verdict = self._answers.seen(answer, self.clock.seconds())
        if verdict is not None:
            self._answers = None
            if verdict is Verdict.MIRAI:
                self._signal("mirai-negotiation")

    def _subnegotiation(self, sub: bytes) -> None:
        if not sub:
            return
        option = sub[0]
        if option == NAWS and len(sub) == 5:
            width, height = int.from_bytes(sub[1:3]), int.from_bytes(sub[3:5])
            if self._answers is not None:
                self._judge_answer((NAWS, width, height))
            self._resize(width, height)
        elif option == TTYPE and len(sub) > 1 and sub[1] == TTYPE_IS:
            self._terminal_type(sub[2:])
        elif option == NEW_ENVIRON:
            # Parsed whether or not it was asked for: exploits send it unasked.
            variables = environ.parse(sub[1:])
            if variables:
                self._notify(self.app.door_environ, variables)
        # Other subnegotiations are parsed and ignored.

    def _resize(self, width: int, height: int) -> None:
        # Zero means "unknown" (RFC 1073): keep what we had.
        old_width, old_height = self.window
        window = (
            _clamp(width, WIDTH_RANGE) if width else old_width,
            _clamp(height, HEIGHT_RANGE) if height else old_height,
        )
        if window != self.window or self._reported == (0, 0):
            self.window = window  # the first report is passed on, the default size too
            self._report_window()

    def _report_window(self) -> None:
        """Tell the app the current size, at most L{TelnetLimits.window_rate} times a second.

        A NAWS storm costs the app (and the user's screen) one redraw per
        report, so reports beyond the allowance are coalesced: the size the
        storm ends on is reported once the allowance has refilled.
        """
        if self._window_due is not None or self.window == self._reported or self._closing:
            return
        if self._windows is None:
            limits = self.limits
            self._windows = TokenBucket(self.clock, limits.window_rate, limits.window_burst)
        if not self._windows.take():
            self._window_due = self.clock.callLater(1 / self._windows.rate, self._window_timer)
            return
        self._reported = self.window
        self._notify(self.app.door_window, *self.window)

    def _window_timer(self) -> None:
        self._window_due = None
        self._report_window()

    def _terminal_type(self, raw: bytes) -> None:
        if self.terminal_type is not None:
            return
        name = terminal_type_name(raw, self.limits.ttype_max)
        if name:
            self.terminal_type = name
            self._notify(self.app.door_ttype, name)


def terminal_type_name(raw: bytes, limit: int) -> str:
    """What of a TTYPE answer is kept: the characters a terminal name is made
    of (see L{_TTYPE_KEPT}), at most C{limit} of them; C{""} if none."""
    return raw.translate(None, _NOT_TTYPE)[:limit].decode("ascii")


def _option(us: bool, enable: bool, option: int) -> bytes:
    if us:
        verb = WILL if enable else WONT
    else:
        verb = DO if enable else DONT
    return bytes((IAC, verb, option))


def _ask(table: dict[int, Side], option: int, us: bool, enable: bool) -> bytes:
    """Ask for C{option} on our side (C{us}) or theirs; what to send, if anything."""
    side, answer = table.get(option, _OFF).request(enable)
    table[option] = side
    return b"" if answer is None else _option(us, answer, option)


def _opening() -> tuple[dict[int, Side], dict[int, Side], bytes]:
    """What every connection asks for first (echo and go-ahead suppression
    from us, window size and terminal type from them), and the option states
    that leaves: the same for all, so worked out once."""
    us: dict[int, Side] = {}
    him: dict[int, Side] = {}
    asking = (_ask(us, ECHO, True, True) + _ask(us, SGA, True, True)
              + _ask(him, NAWS, False, True) + _ask(him, TTYPE, False, True))
    return us, him, asking


_OPENING = _opening()
