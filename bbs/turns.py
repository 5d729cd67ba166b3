"""The end of a reactor turn: where a turn's output is batched and sent.

What one turn of the reactor writes -- a room's lines (the hub), a burst of
event lines (the event log), a connection's output (telnet) -- is cheaper
sent once when the turn ends than piece by piece as it is made: one socket
write per member per turn instead of one per line.  Sources (L{at_turn_end})
run first, so that what they write leaves in the same sends as the rest.
Nothing here knows telnet: a connection is anything with a C{flush()}.
"""

from __future__ import annotations

import typing
import weakref
from collections.abc import Callable
from weakref import WeakKeyDictionary

from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.logger import Logger

log = Logger()


class Flushable(typing.Protocol):
    """What batches output for the end of the turn (a connection)."""

    def flush(self) -> None:
        """Send what this turn wrote."""


class TurnEnd:
    """Flushes every connection that wrote during this turn of the reactor.

    Sources (see L{at_turn_end}) run first.  While it flushes, the turn is
    over: a connection sends what it is given at once, after what it had
    waiting, instead of waiting again (it reads L{flushing}).
    """

    __slots__ = ("clock", "sources", "waiting", "call", "flushing", "__weakref__")

    def __init__(self, clock: IReactorTime) -> None:
        self.clock = weakref.proxy(clock)  # the registry below is keyed weakly by it
        self.sources: list[Callable[[], object]] = []
        self.waiting: list[Flushable] = []
        self.call: IDelayedCall | None = None
        self.flushing = False

    def add(self, connection: Flushable) -> None:
        """Call C{connection.flush()} when the turn ends (once per call)."""
        self.waiting.append(connection)
        if self.call is None:
            self.call = self.clock.callLater(0, self.flush)

    def add_source(self, flush: Callable[[], object]) -> None:
        """Call C{flush} when the turn ends, before the connections."""
        self.sources.append(flush)
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


_TURN_ENDS: WeakKeyDictionary[IReactorTime, TurnEnd] = WeakKeyDictionary()


def turn_end(clock: IReactorTime) -> TurnEnd:
    """The one L{TurnEnd} of C{clock}'s reactor, shared by all its users."""
    ends = _TURN_ENDS.get(clock)
    if ends is None:
        ends = _TURN_ENDS[clock] = TurnEnd(clock)
    return ends


def at_turn_end(clock: IReactorTime, flush: Callable[[], object]) -> None:
    """Call C{flush} at the end of this turn of C{clock}'s reactor, before the
    connections send what the turn wrote, so that what C{flush} writes (a
    room's lines) leaves in the same sends."""
    turn_end(clock).add_source(flush)
