"""Rate limits: chat floods, connection storms and password guessing.

Each limiter is a little state machine driven by the injected clock, O(1)
per event and without timers, so that thousands of sessions cost nothing
while they behave.  Every table keyed by address or account is bounded and
forgets idle entries, so a botnet cannot grow them without limit.
"""

from __future__ import annotations

import enum
import ipaddress
from collections import OrderedDict, deque

from bbs.guard import Clock
from bbs.guard.addresses import IPAddress, IPNetwork, NetworkSet, normalize_ip
from bbs.text import fold

_MAX_TRACKED = 100_000


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


class Verdict(enum.Enum):
    """What to do with one chat line."""

    OK = "ok"  # say it
    DROP = "drop"  # do not say it; tell the sender to slow down
    MUTE = "mute"  # do not say it; the sender keeps flooding: mute them
    KICK = "kick"  # do not say it; the sender floods even so: disconnect


class MessageLimiter:
    """One session's chat flood policy.

    Lines pass through a token bucket of C{rate} lines a second and C{burst}
    lines at once, so a normal conversation or a short paste goes through.

    A line that finds the bucket empty is dropped (L{Verdict.DROP}) and
    starts an I{overflow episode}; the episode lasts until a line is accepted
    again.  An episode that goes on for C{burst} dropped lines counts as a new
    episode, so one long paste counts as much as repeated bursts.

    Episodes are strikes, remembered for C{window} seconds.  The line whose
    strike is the C{mute_after}-th within the window gets L{Verdict.MUTE}
    (once; the session mutes the sender); the line whose strike is the
    C{kick_after}-th or later gets L{Verdict.KICK}.  Every other excess line
    gets L{Verdict.DROP}.  Keep calling L{check} for a muted sender, so that
    a flood that goes on despite the mute ends in a kick.

    A sender who stays quiet for C{window} seconds starts from nothing again.
    """

    def __init__(
        self,
        clock: Clock,
        rate: float = 5.0,
        burst: int = 10,
        mute_after: int = 3,
        kick_after: int = 6,
        window: float = 60,
    ) -> None:
        if not 1 <= mute_after <= kick_after:
            raise ValueError("need 1 <= mute_after <= kick_after")
        if window <= 0:
            raise ValueError("the strike window must be positive")
        self._clock = clock
        self._bucket = TokenBucket(clock, rate, burst)
        self.mute_after = mute_after
        self.kick_after = kick_after
        self.window = window
        self._strikes: deque[float] = deque()
        self._dropped = 0  # lines dropped in the current episode; 0 = none

    def check(self) -> Verdict:
        """Judge the line just received."""
        if self._bucket.take():
            self._dropped = 0
            return Verdict.OK
        now = self._clock.seconds()
        strike = self._dropped == 0 or self._dropped >= self._bucket.burst
        if strike:
            self._dropped = 0
            while self._strikes and now - self._strikes[0] >= self.window:
                self._strikes.popleft()
            self._strikes.append(now)
        self._dropped += 1
        if not strike:
            return Verdict.DROP
        strikes = len(self._strikes)
        if strikes >= self.kick_after:
            return Verdict.KICK
        if strikes == self.mute_after:
            return Verdict.MUTE
        return Verdict.DROP


Source = IPAddress | IPNetwork  # what connection limits count: an address or a network


def source_of(address: IPAddress, ipv6_prefix: int) -> Source:
    """C{address} as connection limits count it: an IPv4 address alone, an
    IPv6 address as its C{ipv6_prefix} network (itself at 128)."""
    if address.version == 4 or ipv6_prefix >= 128:
        return address
    return ipaddress.IPv6Network((address, ipv6_prefix), strict=False)


def _yours(source: Source) -> str:
    """How a refusal names where the connections come from."""
    if isinstance(source, ipaddress.IPv6Network):
        return f"your network ({source})"
    return "your address"


class ConnectionLimiter:
    """Who may open one more connection.

    Three limits, checked in this order: C{total} concurrent connections,
    C{per_address} concurrent connections from one address, and C{rate}
    connection attempts per address within C{rate_window} seconds (a bot
    reconnecting in a loop).  Refused attempts count towards the rate too, so
    hammering keeps an address out until it pauses.  Addresses in C{trusted}
    are exempt from the per-address and rate limits, not from the total,
    which protects the server itself.

    An IPv6 "address" here is its C{ipv6_prefix} network (the /64 by
    default): one subscriber or one rented server holds a whole /64, and
    could otherwise come from as many addresses as it likes, each with its
    own allowance.
    """

    def __init__(
        self,
        clock: Clock,
        per_address: int = 5,
        total: int = 2000,
        rate: int = 10,
        rate_window: float = 10.0,
        trusted: NetworkSet = NetworkSet(),
        ipv6_prefix: int = 64,
    ) -> None:
        if per_address < 1 or total < 1 or rate < 1 or rate_window <= 0:
            raise ValueError("connection limits must be positive")
        if not 0 <= ipv6_prefix <= 128:
            raise ValueError(f"IPv6 prefix must be 0 to 128, not {ipv6_prefix}")
        self._clock = clock
        self.ipv6_prefix = ipv6_prefix
        self.per_address = per_address
        self.total = total
        self.rate = rate
        self.rate_window = rate_window
        self.trusted = trusted
        self._open: dict[Source, int] = {}
        self._count = 0
        # source -> times of its last `rate` attempts, least recent first
        self._attempts: OrderedDict[Source, deque[float]] = OrderedDict()

    @property
    def connections(self) -> int:
        """How many admitted connections are open."""
        return self._count

    def source(self, address: str | IPAddress) -> Source:
        """What the limits count C{address} as: itself, or for IPv6 its
        C{ipv6_prefix} network."""
        return source_of(normalize_ip(address), self.ipv6_prefix)

    def _too_fast(self, address: Source, now: float) -> bool:
        while self._attempts:
            times = next(iter(self._attempts.values()))
            if now - times[-1] < self.rate_window:
                break
            self._attempts.popitem(last=False)
        times = self._attempts.pop(address, None) or deque(maxlen=self.rate)
        too_fast = len(times) == self.rate and now - times[0] < self.rate_window
        times.append(now)
        self._attempts[address] = times
        if len(self._attempts) > _MAX_TRACKED:
            self._attempts.popitem(last=False)
        return too_fast

    def admit(self, address: str | IPAddress) -> str | None:
        """Count a new connection from C{address} if it may stay.

        @return: C{None} if admitted (call L{release} when it closes), else
            the one line to send before closing it.
        """
        trusted = address in self.trusted  # before parsing: the set remembers strings
        source = self.source(address)
        too_fast = not trusted and self._too_fast(source, self._clock.seconds())
        if self._count >= self.total:
            return "The server is full; please try again later."
        if not trusted:
            if self._open.get(source, 0) >= self.per_address:
                return (
                    f"Too many connections from {_yours(source)}; "
                    "close one and try again."
                )
            if too_fast:
                return "You are connecting too fast; wait a few seconds and try again."
        self._open[source] = self._open.get(source, 0) + 1
        self._count += 1
        return None

    def release(self, address: str | IPAddress) -> None:
        """Forget one admitted connection from C{address}.

        Releasing an address with no admitted connection does nothing, so a
        double release cannot push the counts below zero.
        """
        source = self.source(address)
        count = self._open.get(source, 0)
        if count == 0:
            return
        if count == 1:
            del self._open[source]
        else:
            self._open[source] = count - 1
        self._count -= 1


class LoginThrottle:
    """Slow down and then stop password guessing.

    Failed logins are counted per address and per account (folded), so that
    neither many guesses from one place nor guesses spread over a botnet
    against one account get far.  With C{n} the larger of the two counts:

      - the first C{free} failures cost nothing;
      - after that, the next attempt must wait
        C{min(base_delay * 2 ** (n - free - 1), max_delay)} seconds after the
        last failure;
      - at C{lock_after} failures, attempts are refused until C{lock_time}
        seconds after the last failure.

    A count is forgotten C{lock_time} seconds after its last failure (which
    also ends a lock) and when a login succeeds (both the address and the
    account start afresh).  At most C{max_tracked} counts are kept, the least
    recent go first.
    """

    def __init__(
        self,
        clock: Clock,
        *,
        free: int = 3,
        base_delay: float = 1.0,
        max_delay: float = 30.0,
        lock_after: int = 10,
        lock_time: float = 900,
        max_tracked: int = _MAX_TRACKED,
    ) -> None:
        if free < 0 or base_delay <= 0 or max_delay < base_delay:
            raise ValueError("need free >= 0, base_delay > 0 and max_delay >= base_delay")
        if lock_after <= free or lock_time <= 0 or max_tracked < 2:
            raise ValueError("need lock_after > free, lock_time > 0 and max_tracked >= 2")
        self._clock = clock
        self.free = free
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.lock_after = lock_after
        self.lock_time = lock_time
        self._max = max_tracked
        # key -> (failures, time of the last one), least recent first
        self._failures: OrderedDict[tuple[str, object], tuple[int, float]] = (
            OrderedDict()
        )

    @staticmethod
    def _keys(address: str | IPAddress, account: str) -> list[tuple[str, object]]:
        return [("address", normalize_ip(address)), ("account", fold(account))]

    def _records(self, address: str | IPAddress, account: str) -> list[tuple[int, float]]:
        now = self._clock.seconds()
        while self._failures:
            _, last = next(iter(self._failures.values()))
            if now - last < self.lock_time:
                break
            self._failures.popitem(last=False)
        return [
            record
            for record in map(self._failures.get, self._keys(address, account))
            if record is not None
        ]

    def _wait(self, failures: int) -> float:
        if failures <= self.free:
            return 0.0
        exponent = min(failures - self.free - 1, 64)
        return min(self.base_delay * 2**exponent, self.max_delay)

    def delay(self, address: str | IPAddress, account: str) -> float:
        """Seconds from now before the next attempt may be checked (0: now)."""
        now = self._clock.seconds()
        waits = [
            last + self._wait(failures) - now
            for failures, last in self._records(address, account)
        ]
        return max([0.0, *waits])

    def locked(self, address: str | IPAddress, account: str) -> float | None:
        """Seconds left of a refusal to check any password, or C{None}."""
        now = self._clock.seconds()
        left = [
            last + self.lock_time - now
            for failures, last in self._records(address, account)
            if failures >= self.lock_after
        ]
        return max(left) if left else None

    def failed(self, address: str | IPAddress, account: str) -> None:
        """Count a failed login."""
        self._records(address, account)  # forget what has expired
        now = self._clock.seconds()
        for key in self._keys(address, account):
            failures, _ = self._failures.pop(key, (0, now))
            self._failures[key] = (failures + 1, now)
        while len(self._failures) > self._max:
            self._failures.popitem(last=False)

    def succeeded(self, address: str | IPAddress, account: str) -> None:
        """Forget the failures of this address and this account."""
        for key in self._keys(address, account):
            self._failures.pop(key, None)
