"""What the browser and SSH doors share: the bookkeeping of a door whose
client is a terminal behind someone else's protocol (autobahn's WebSocket,
conch's channel).

  - output written during a turn of the reactor goes out in one write at
    its end (L{bbs.turns}); written while the turn ends, at once;
  - a client that types faster than its door's limits is not read for a
    while, and the session hears C{input-flood};
  - window sizes are passed on at a bounded rate (L{bbs.rates.Paced}), a
    storm as the size it ends on;
  - closing says the reason as a last line, then hangs up the protocol's
    way (L{TerminalDoor._hang_up}); the session hears once that the
    connection is gone, and why;
  - lines about one address are logged within a rate.

L{TerminalDoor} is a stateless mixin, as L{bbs.applying.Applying} is: the
door holds the fields (so that a door with C{__slots__} keeps them) and
says how to send, stop reading, hang up and cut off
(L{TerminalDoor._deliver}, L{TerminalDoor._reading}, L{TerminalDoor._hang_up},
L{TerminalDoor._drop}).  Telnet has its own (L{bbs.telnet.protocol}):
it owns its socket and its parser.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import attrs
from twisted.logger import Logger

from bbs.rates import InputMeter, Paced, RateLimit
from bbs.turns import TurnEnd

if TYPE_CHECKING:
    from twisted.internet.interfaces import IDelayedCall, IReactorTime

    from bbs.door import DoorApplication

log = Logger()


@attrs.frozen
class TerminalLimits:
    """Bounds on what one client of a terminal door can make us hold or compute.

    @ivar input_rate: Bytes a second a client may type, on average; reading
        from one that sends faster is paused until it is back within.
    @ivar input_burst: Bytes it may send at once before that (a paste of 16 KB passes).
    @ivar pending_output: Bytes written while the client does not read
        (beyond the kernel's buffers); more drops it.
    @ivar window_rate: Window sizes a second passed on, on average; a storm
        of resizes is passed on as the size it ends on.
    @ivar window_burst: Window sizes passed on at once before that.
    @ivar socket_buffer: Bytes of kernel send and receive buffer asked for
        (L{bbs.sockets}).
    @ivar dead_peer: Seconds before the kernel drops a connection whose
        client went away without a word.
    """

    input_rate: int = 16 * 1024
    input_burst: int = 64 * 1024
    pending_output: int = 256 * 1024
    window_rate: float = 2.0
    window_burst: int = 4
    socket_buffer: int = 64 * 1024
    dead_peer: float = 300.0


def typed(data: bytes) -> bytes:
    """What a terminal sent, each line end one C{\\n}: Enter is CR (and a
    paste's line ends too), sometimes CR LF."""
    if b"\r" in data:
        data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return data


def crlf(data: bytes) -> bytes:
    """Application bytes (C{\\n} line ends) as a terminal is written: CR LF."""
    if b"\n" in data:
        data = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    return data


def clamp(value: int, bounds: tuple[int, int]) -> int:
    low, high = bounds
    return min(max(value, low), high)


class TerminalDoor:
    """The shared part of the browser and SSH doors (see the module)."""

    __slots__ = ()

    # What the door holds, for this mixin (declared in its __slots__).
    app: DoorApplication | None
    limits: TerminalLimits
    peer: tuple[str, int]
    window: tuple[int, int]
    clock: IReactorTime
    prepare: Callable[[bytes], bytes]
    _turns: TurnEnd
    _batch: list[bytes] | None
    _input: InputMeter
    _unpause: IDelayedCall | None
    _windows: Paced[tuple[int, int]] | None
    _closing: bool
    _lost: bool
    _reason: str | None
    _log_limit: RateLimit

    def _start_terminal(self, clock: IReactorTime, turns: TurnEnd, limits: TerminalLimits,
                        log_limit: RateLimit) -> None:
        """The fields this mixin uses, as a new connection has them."""
        self.app = None
        self.clock = clock
        self.limits = limits
        self._turns = turns
        self._batch = None
        self._input = InputMeter(clock, limits.input_rate, limits.input_burst)
        self._unpause = None
        self._windows = None
        self._closing = False
        self._lost = False
        self._reason = None
        self._log_limit = log_limit

    # -- the door's side: to subclass

    def _deliver(self, wire: bytes) -> None:
        """Send C{wire} now (nothing of this turn waits any more)."""
        raise NotImplementedError

    def _reading(self, on: bool) -> None:
        """Read the client again, or stop reading it for now."""
        raise NotImplementedError

    def _hang_up(self) -> None:
        """Close the way the door's protocol closes, once what was written is out."""
        raise NotImplementedError

    def _drop(self) -> None:
        """Cut the connection now."""
        raise NotImplementedError

    # -- output

    def write(self, data: bytes) -> None:
        if data:
            self.write_prepared(self.prepare(data))

    def write_prepared(self, wire: bytes) -> None:
        if self._closing or not wire:
            return
        if self._turns.flushing:  # the turn is over: at once, after what waits
            self._send(wire)
            return
        if self._batch is None:
            self._batch = [wire]
            self._turns.add(self)
        else:
            self._batch.append(wire)

    def flush(self) -> None:
        """Send what this turn wrote, in one write."""
        self._send(b"")

    def _send(self, wire: bytes) -> None:
        batch, self._batch = self._batch, None
        if batch is not None:
            batch.append(wire)
            wire = b"".join(batch)
        if wire and not self._closing:
            self._deliver(wire)

    # -- input

    def _metered(self, size: int) -> None:
        """Count C{size} bytes typed; past the door's limit, stop reading a while."""
        pause = self._input.spend(size)
        if pause and self._unpause is None:
            self._reading(False)
            self._unpause = self.clock.callLater(pause, self._read_again)
            if self.app is not None:
                self.app.door_signal("input-flood")

    def _read_again(self) -> None:
        self._unpause = None
        if not self._closing:
            self._reading(True)

    def _offer_window(self, window: tuple[int, int]) -> None:
        """Pass a window size on, within the door's rate (L{Paced})."""
        self.window = window
        if self._closing:
            return
        if self._windows is None:
            limits = self.limits
            self._windows = Paced(self.clock, limits.window_rate, limits.window_burst)
        self._windows.offer(window, self._tell_window)

    def _tell_window(self, window: tuple[int, int]) -> None:
        if not self._closing and self.app is not None:
            self.app.door_window(*window)

    # -- the end

    def close(self, reason: str | None = None, *, shown: bool = False) -> None:
        """Say C{reason} as a last line (unless the session has shown it),
        then hang up; the session hears it as why (L{lost})."""
        if self._closing:
            return
        last = reason is not None and not shown
        self._send(self.prepare(reason.encode("utf-8") + b"\n") if last else b"")
        self._closing = True
        self._reason = reason if reason is not None else "closed by server"
        self._hang_up()

    def abort(self, reason: str) -> None:
        """Drop the connection now, what waits unsent."""
        if self._lost:
            return
        self._closing = True
        self._batch = None
        if self._reason is None:
            self._reason = reason
        self._drop()

    def lost(self, reason: str) -> None:
        """The connection is gone: stop every timer, tell the session once."""
        if self._unpause is not None and self._unpause.active():
            self._unpause.cancel()
        self._unpause = None
        if self._windows is not None:
            self._windows.cancel()
        self._closing = True
        self._batch = None
        if self._lost:
            return
        self._lost = True
        if self.app is not None:
            self.app.door_lost(self._reason if self._reason is not None else reason)

    def _log(self, format: str, **fields: object) -> None:
        ip = self.peer[0]
        if self._log_limit.allow(ip):
            log.info(format, ip=ip, **fields)
