"""The telnet layer on Twisted: a connection around a L{TelnetParser}.

Everything above this module sees plain application bytes with every line
end turned into one C{b"\\n"}, and writes plain bytes with C{b"\\n"} line
ends; only the telnet package knows about IAC, CR NUL and options.  The
rules of the protocol are the parser's (L{bbs.telnet.parser}); this adapter
holds what needs a reactor: input metering and pausing, flow control and
the bound on pending output, timers (window-report pacing, the silent-client
watch, the close linger), the per-address log limit, closing, and handing
the parser's events on to the L{DoorApplication}.
"""

from __future__ import annotations

from collections import deque
from weakref import WeakKeyDictionary

from twisted.internet.interfaces import IDelayedCall, IPushProducer, IReactorTime
from twisted.internet.protocol import Protocol, connectionDone
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from bbs.door import DoorApplication, Variable
from bbs.rates import InputMeter, Paced, RateLimit, TokenBucket
from bbs.telnet.limits import TelnetLimits
from bbs.telnet.parser import CR, IAC, LF, TelnetParser
from bbs.sockets import ConnectionSocket, address
from bbs.text import loggable
from bbs.turns import TurnEnd, turn_end

log = Logger()

_AYT_REPLY = b"\r\n[yes]\r\n"
NEGOTIATION_TIMEOUT = 2.0  # seconds before a silent client is reported
CLOSE_TIMEOUT = 10.0  # seconds a closing client gets to read its last line
# Log lines this layer writes about one address (protocol errors, foreign
# protocols, non-readers), per LOG_PER seconds; the rest are counted and
# summed up in one line when the window ends.
LOG_RATE = 10
LOG_PER = 60.0

_FOREIGN_LINES = {
    "http": "This is a telnet server, not a web server.",
    "tls": "This is a plain telnet server; TLS is not spoken on this port.",
    "ssh": "This is a telnet server, not an SSH server.",
}


class _SilenceWatch:
    """Connections that have not negotiated yet, in the order they came.

    They all wait the same time, so one reactor timer (for the oldest) serves
    them all: a timer per connection would put thousands in the reactor's
    heap, and every other timer's insertion would pay for them.  (It stays
    beside the connection: nothing else waits so, and its one user is
    clearer than a generic helper would be.)
    """

    def __init__(self, clock: IReactorTime) -> None:
        self.clock = clock
        self.waiting: deque[tuple[float, TelnetConnection]] = deque()
        self.silent = 0  # of the waiting, those still silent
        self.call: IDelayedCall | None = None

    def add(self, connection: TelnetConnection) -> None:
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
                try:
                    connection.parser.signal("no-negotiation")
                except Exception:
                    log.failure("reporting a silent client failed")
        if waiting:
            self.call = self.clock.callLater(max(waiting[0][0] - now, 0), self._due)


_SILENCE: WeakKeyDictionary[IReactorTime, _SilenceWatch] = WeakKeyDictionary()
_LOG_LIMITS: WeakKeyDictionary[IReactorTime, RateLimit] = WeakKeyDictionary()


def _silence_watch(clock: IReactorTime) -> _SilenceWatch:
    watch = _SILENCE.get(clock)
    if watch is None:
        watch = _SILENCE[clock] = _SilenceWatch(clock)
    return watch


def _log_limit(clock: IReactorTime) -> RateLimit:
    """The per-address log allowance of every connection on C{clock}."""
    limit = _LOG_LIMITS.get(clock)
    if limit is None:
        limit = _LOG_LIMITS[clock] = RateLimit(clock, LOG_RATE, LOG_PER, _log_suppressed)
    return limit


def _log_suppressed(ip: str, count: int) -> None:
    log.info(
        "{count} more telnet log lines about {ip} were not written (limit {rate} per {per:g} s)",
        count=count, ip=ip, rate=LOG_RATE, per=LOG_PER,
    )


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


class _Output(ConnectionSocket):
    """What sending reads, alone in base classes so that CPython lays it out
    first, in the object header's cache line: a room flush sends to thousands
    of connections (see L{bbs.session._FlushFirst}).  C{bench/layout.py}
    measures it: a flush to 20,000 members takes 1.08-1.09x as long with
    these fields after the connection's own."""

    __slots__ = ("_batch", "_closing", "_coalesce", "_paused")


@implementer(IPushProducer)
class TelnetConnection(_Output, Protocol):
    """One telnet client, speaking application bytes to a L{DoorApplication}.

    It is also the transport's streaming producer: Twisted pauses it when the
    client stops reading, and whatever is written meanwhile is counted so a
    client that never reads cannot make us buffer without bound.  The other
    way round, it pauses the transport (stops reading the socket) for as long
    as a client that sends too fast is over its L{TelnetLimits.input_rate}.

    It is its parser's L{ParserListener}: C{app_data} is the application's
    own C{door_data}, so a line of text costs no call through here.
    """

    __slots__ = (
        "_aborted",
        "_ayt",
        "_input",
        "_linger",
        "_lost",
        "_pending",
        "_reason",
        "_registered",
        "_silent",
        "_unpause",
        "_windows",
        "app",
        "app_data",
        "clock",
        "connected",
        "factory",
        "host",
        "limits",
        "parser",
        "peer",
        "transport",
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
        self._coalesce: TurnEnd | None = turn_end(clock) if coalesce else None
        self._batch: bytes | list[bytes] | None = None
        self.app = app
        self.app_data = app.door_data
        self.clock: IReactorTime = clock
        self.limits = limits
        self.parser = TelnetParser(self, limits)
        self.peer: tuple[str, int] = ("", 0)
        self.host: tuple[str, int] = ("", 0)
        self._input = InputMeter(self.clock, limits.input_rate, limits.input_burst)
        self._unpause: IDelayedCall | None = None  # resumes reading a fast sender
        self._windows: Paced[tuple[int, int]] | None = None  # made on the first size report
        self._ayt: TokenBucket | None = None  # made on the first AYT
        # While waiting for the first negotiation, the watch that waits.
        self._silent: _SilenceWatch | None = None
        self._linger: IDelayedCall | None = None
        self._registered = False
        self._socket = None
        self._queued = False
        self._paused = False
        self._pending = 0
        self._closing = False
        self._aborted = False
        self._reason: str | None = None
        self._lost = False

    kind = "telnet"
    authenticates = False  # login: asks
    prepare = staticmethod(to_wire)

    # -- state seen from above

    @property
    def character_mode(self) -> bool:
        """The client accepted our ECHO, so it sends each key as typed and we echo."""
        return self.parser.character_mode

    @property
    def negotiates(self) -> bool:
        """Whether the client has sent any option command (see L{TelnetParser.negotiates})."""
        return self.parser.negotiates

    @property
    def binary(self) -> bool:
        """Binary transmission (RFC 856) is on in either direction."""
        return self.parser.binary

    @property
    def window(self) -> tuple[int, int]:
        """C{(width, height)}, C{(80, 24)} until the client says."""
        return self.parser.window

    @property
    def terminal_type(self) -> str | None:
        """The client's first TTYPE answer, or C{None}."""
        return self.parser.terminal_type

    # -- Protocol

    def connectionMade(self) -> None:
        transport = self.transport
        self.host = self._attach(self.limits)
        self.peer = address(transport.getPeer())
        transport.registerProducer(self, True)
        self._registered = True
        self.write_prepared(self.parser.opening())  # first on the wire, with the greeting
        self._silent = _silence_watch(self.clock)
        self._silent.add(self)
        self.app.door_connected(self)

    def dataReceived(self, data: bytes) -> None:
        if self._closing or not data:
            return
        try:
            self._meter(len(data))
            if not self._closing:
                self.parser.feed(data, self.clock.seconds())
        except Exception:
            if _log_limit(self.clock).allow(self.peer[0]):
                log.failure("Unexpected error on telnet input from {ip}", ip=self.peer[0])
            self.close("internal error")

    def _meter(self, size: int) -> None:
        pause = self._input.spend(size)
        if pause and self._unpause is None and not self._closing:
            self.transport.pauseProducing()
            self._unpause = self.clock.callLater(pause, self._resume_reading)
            self.parser.signal("input-flood")

    def _resume_reading(self) -> None:
        self._unpause = None
        if not self._closing:
            self.transport.resumeProducing()

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self._spoke()
        if self._windows is not None:
            self._windows.cancel()
        for call in (self._linger, self._unpause):
            if call is not None and call.active():
                call.cancel()
        self._linger = self._unpause = None
        self._stop()
        held = self.parser.held()
        self._registered = False
        if self._lost:
            return
        self._lost = True
        self._batch = None
        if held and self._reason is None:
            # The client left before its first bytes could be told apart.
            self.app.door_data(held)
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
        self._stop()
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
            # What a room flush does for each of its members: ConnectionSocket._put
            # inlined (a call fewer per member), straight to the socket.
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
        self._put(wire)

    def request_echo(self, on: bool) -> bool:
        """Offer (or withdraw) to echo, e.g. around a password prompt; see
        L{TelnetParser.request_echo}."""
        if self._closing:
            return False
        return self.parser.request_echo(on)

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
        self._stop()
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
        self._aborted = True
        self._stop()
        self._batch = None
        if self._reason is None:
            self._reason = reason
        self._unregister()
        self.transport.abortConnection()

    def _stop(self) -> None:
        """Closing: send nothing more, and act on no more input."""
        self._closing = True
        self.parser.stop()

    def _unregister(self) -> None:
        # A paused streaming producer keeps the transport from closing.
        if self._registered:
            self._registered = False
            self.transport.unregisterProducer()

    def _log(self, format: str, **fields: object) -> None:
        """Log one line about this client, within its address's allowance.

        Fields must be ours or already passed through L{loggable}.
        """
        ip = self.peer[0]
        if _log_limit(self.clock).allow(ip):
            log.info(format, ip=ip, **fields)

    def _spoke(self) -> None:
        """Stop waiting for a first negotiation: it came, or the client left."""
        watch = self._silent
        if watch is not None:
            self._silent = None
            watch.spoke()

    # -- the parser's events (ParserListener; app_data is the app's own)

    def reply(self, wire: bytes) -> None:
        self._send(wire)

    def negotiation_started(self) -> None:
        self._spoke()

    def window_changed(self, width: int, height: int) -> None:
        self._report_window()

    def ttype_received(self, name: str) -> None:
        self.app.door_ttype(name)

    def echo_changed(self, server_echoes: bool) -> None:
        self.app.door_echo(server_echoes)

    def environ_received(self, variables: tuple[Variable, ...]) -> None:
        self.app.door_environ(variables)

    def signalled(self, name: str) -> None:
        self.app.door_signal(name)

    def are_you_there(self) -> None:
        if self._ayt is None:
            self._ayt = TokenBucket(self.clock, self.limits.ayt_rate, self.limits.ayt_burst)
        if self._ayt.take():
            self._send(_AYT_REPLY)

    def protocol_error(self, detail: str, line: str) -> None:
        self._log("Telnet protocol error from {ip}: {detail}", detail=detail)
        self.parser.signal("protocol-error")
        self.close(line)

    def foreign_protocol(self, name: str, head: bytes) -> None:
        self._log("{ip} spoke {protocol}, not telnet: {head}", protocol=name,
                  head=loggable(head, 80))
        self.parser.signal(f"foreign-protocol:{name}")
        self.close(_FOREIGN_LINES[name])

    def _report_window(self) -> None:
        """Tell the app the current size, within L{TelnetLimits.window_rate}
        (L{bbs.rates.Paced}: a NAWS storm ends on one report)."""
        if self._closing:
            return
        if self._windows is None:
            limits = self.limits
            self._windows = Paced(self.clock, limits.window_rate, limits.window_burst)
        self._windows.offer(self.parser.window, self._tell_window)

    def _tell_window(self, window: tuple[int, int]) -> None:
        if not self._closing:
            self.app.door_window(*window)
