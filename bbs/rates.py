"""Rates: how often something may happen, measured on an injected clock.

Every layer limits something -- chat lines and logins (L{bbs.guard.limits}),
Tab completions (the editor), window reports and input bytes (telnet), log
lines per address (the event log) -- and they all count the same way, so
the counters live here on the ground floor, below all of them.  Two hold a
timer: L{RateLimit}, whose summary must be written when a window ends even
if its address never comes back, and L{Paced}, whose last value must be
passed on when the allowance has refilled.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Callable, Generic, Protocol, TypeVar

import attrs
from twisted.internet.interfaces import IDelayedCall, IReactorTime

MAX_ADDRESSES = 10_000  # addresses whose log rate is tracked at once

T = TypeVar("T")


class Clock(Protocol):
    """The one thing a bucket needs from the reactor: the current time."""

    def seconds(self) -> float: ...


class TokenBucket:
    """Allow C{rate} events per second on average and C{burst} at once.

    The bucket is refilled from the elapsed time whenever it is asked, so it
    needs no timer.  A clock that steps backwards refills nothing.
    """

    __slots__ = ("_clock", "rate", "burst", "_tokens", "_last")

    def __init__(self, clock: Clock, rate: float, burst: int) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("a token bucket needs rate > 0 and burst >= 1")
        self._clock = clock
        self.rate = rate
        self.burst = burst
        self._tokens = float(burst)
        self._last = clock.seconds()

    def take(self) -> bool:
        """Spend one token if there is one; say whether there was."""
        now = self._clock.seconds()
        elapsed = max(0.0, now - self._last)
        self._last = now
        self._tokens = min(self.burst, self._tokens + elapsed * self.rate)
        if self._tokens >= 1 - 1e-9:  # 0.2 s at 5/s is one token, float or not
            self._tokens = max(0.0, self._tokens - 1)
            return True
        return False

    def wait(self) -> float:
        """Seconds until L{take} would succeed (0: now); spends nothing."""
        elapsed = max(0.0, self._clock.seconds() - self._last)
        tokens = min(self.burst, self._tokens + elapsed * self.rate)
        return max(0.0, (1 - tokens) / self.rate)


class InputMeter:
    """How far a client is over its input allowance.

    A token bucket that may go into debt: a read is never cut short (it is
    already in memory), but a debt tells how long to stop reading so that
    the average stays within C{rate}.
    """

    def __init__(self, clock: IReactorTime, rate: int, burst: int) -> None:
        if rate < 1 or burst < 1:
            raise ValueError("an input meter needs rate >= 1 and burst >= 1")
        self.clock = clock
        self.rate = rate
        self.burst = burst
        self._level = float(burst)
        self._at = clock.seconds()

    def spend(self, size: int) -> float:
        """Count C{size} bytes read; return how many seconds to pause (0: none)."""
        now = self.clock.seconds()
        elapsed = max(0.0, now - self._at)
        self._at = now
        self._level = min(self.burst, self._level + elapsed * self.rate) - size
        return 0.0 if self._level >= 0 else -self._level / self.rate


@attrs.define
class _Window:
    start: float
    count: int = 0
    suppressed: int = 0
    call: IDelayedCall | None = None


class RateLimit:
    """At most C{rate} log lines per C{per} seconds from each address.

    Whatever goes over is only counted; the count goes to C{summary} once,
    when that address's window ends (a timer on C{clock}) or on L{close}, so
    a flood costs one line per window instead of one per attempt.  At most
    C{addresses} windows are open at once -- past that the oldest is ended
    early (its summary comes early) -- so a botnet of many addresses cannot
    grow the table either.
    """

    def __init__(self, clock: IReactorTime, rate: int, per: float,
                 summary: Callable[[str, int], None], addresses: int = MAX_ADDRESSES) -> None:
        if rate < 1 or per <= 0 or addresses < 1:
            raise ValueError("a log rate limit needs rate >= 1, per > 0 and addresses >= 1")
        self.clock = clock
        self.rate = rate
        self.per = per
        self.addresses = addresses
        self._summary = summary
        # In the order they started; ordered as a linked list, so that finding
        # the oldest stays O(1) however many have ended (a dict's would not).
        self._windows: OrderedDict[str, _Window] = OrderedDict()

    def allow(self, address: str) -> bool:
        """Count one line from C{address}; whether it may be logged."""
        now = self.clock.seconds()
        windows = self._windows
        # Windows started in order, so the expired ones are at the front.
        while windows:
            first = next(iter(windows))
            if now - windows[first].start < self.per:
                break
            self._end(first)
        window = windows.get(address)
        if window is None:
            if len(windows) >= self.addresses:
                self._end(next(iter(windows)))
            window = windows[address] = _Window(now)
        if window.count < self.rate:
            window.count += 1
            return True
        window.suppressed += 1
        if window.call is None:
            window.call = self.clock.callLater(window.start + self.per - now, self._end, address)
        return False

    def close(self) -> None:
        """End every window now, handing over what each suppressed."""
        for address in list(self._windows):
            self._end(address)

    def _end(self, address: str) -> None:
        window = self._windows.pop(address, None)
        if window is None:
            return
        if window.call is not None and window.call.active():
            window.call.cancel()
        if window.suppressed:
            self._summary(address, window.suppressed)


class Paced(Generic[T]):
    """A value that changes often, passed on at most C{rate} times a second.

    What it is passed on to costs something each time (a window size costs
    the session and the user's screen a redraw), so a storm of changes past
    the allowance is passed on as the value it ends on, once the allowance
    has refilled; a value passed on already is not passed on again.
    """

    __slots__ = ("_clock", "_bucket", "_due", "_told", "_latest")

    def __init__(self, clock: IReactorTime, rate: float, burst: int) -> None:
        self._clock = clock
        self._bucket = TokenBucket(clock, rate, burst)
        self._due: IDelayedCall | None = None
        self._told: T | None = None  # none yet: the first value is passed on, whatever it is
        self._latest: T | None = None

    def offer(self, value: T, tell: Callable[[T], None]) -> None:
        """The value is now C{value}: C{tell} it now, later, or not at all."""
        self._latest = value
        if self._due is not None or value == self._told:
            return
        if not self._bucket.take():
            self._due = self._clock.callLater(1 / self._bucket.rate, self._later, tell)
            return
        self._told = value
        tell(value)

    def cancel(self) -> None:
        """Tell nothing more (the connection is gone)."""
        if self._due is not None and self._due.active():
            self._due.cancel()
        self._due = None

    def _later(self, tell: Callable[[T], None]) -> None:
        self._due = None
        self.offer(self._latest, tell)
