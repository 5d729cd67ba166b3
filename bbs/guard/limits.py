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
from collections.abc import Callable

from bbs.durations import format_duration
from bbs.guard import Clock
from bbs.guard.addresses import IPAddress, IPNetwork, NetworkSet, normalize_ip
from bbs.rates import TokenBucket
from bbs.text import fold

_MAX_TRACKED = 100_000


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


class _Tally:
    """Password attempts under one key: failed ones, ones still being
    checked, and when the latest was typed or failed."""

    __slots__ = ("failures", "pending", "last")

    def __init__(self, now: float) -> None:
        self.failures = 0
        self.pending = 0
        self.last = now

    @property
    def count(self) -> int:
        """Attempts that count against the key: an unanswered check may fail."""
        return self.failures + self.pending


_WAITING, _QUEUED, _CHECKING, _DONE = range(4)


class LoginAttempt:
    """One typed password, counted from when it was typed to its verdict.

    Made by L{LoginThrottle.attempt}.  Wait L{delay} seconds, then ask for a
    L{turn}; when it comes, check the password and report L{failed} or
    L{succeeded}.  An attempt given up before its check began (the user
    left) is L{abandon}ed: it was never checked, so it counts as nothing.
    """

    __slots__ = ("_throttle", "keys", "account", "folded", "delay", "_state", "_go")

    def __init__(self, throttle: "LoginThrottle", keys: tuple[tuple, ...],
                 account: str, delay: float) -> None:
        self._throttle = throttle
        self.keys = keys
        self.account = account
        self.folded: str = keys[2][1]  # the key of the per-account tally
        self.delay = delay
        self._state = _WAITING
        self._go: Callable[[], None] | None = None

    @property
    def over(self) -> bool:
        """Whether a verdict was given or the attempt abandoned."""
        return self._state == _DONE

    def turn(self, go: Callable[[], None]) -> None:
        """Call C{go} (maybe at once) when the account may have one more check running."""
        if self._state == _WAITING:
            self._go = go
            self._throttle._queue(self)

    def failed(self) -> None:
        """The password was wrong."""
        self._throttle._end(self, failed=True, succeeded=False)

    def succeeded(self) -> None:
        """The password was right."""
        self._throttle._end(self, failed=False, succeeded=True)

    def release(self) -> None:
        """End without a verdict (the check could not be made)."""
        self._throttle._end(self, failed=False, succeeded=False)

    def abandon(self) -> None:
        """Give up an attempt whose check has not begun; a running one ends by its verdict."""
        if self._state in (_WAITING, _QUEUED):
            self.release()


class LoginThrottle:
    """Slow down and then stop password guessing, without locking out owners.

    Attempts are counted when a password is typed, not when the prompt is
    shown, and an attempt still being checked counts as a failure until its
    verdict: a hundred connections that answer their prompts at once are a
    hundred attempts, not a hundred first tries.  Three tallies are kept:

      - per address: every attempt from it, at any account;
      - per account and address: attempts at one account from one address;
      - per account: attempts from anywhere.

    With C{n} the attempts a tally already holds, an attempt waits
    C{min(base_delay * 2 ** (n - free - 1), cap)} seconds after the tally's
    latest attempt (nothing for the first C{free}); the cap is C{max_delay},
    or C{account_max_delay} for the per-account tally.  The longest wait of
    the three is the attempt's delay.  An address with C{lock_after}
    attempts, or an account and address with C{pair_lock_after}, is refused
    until C{lock_time} seconds after the latest one.

    The per-account tally never refuses: a botnet guessing at an account
    must not lock its owner out.  It only slows every attempt at that
    account (by at most C{account_max_delay}) and lets at most
    C{account_parallel} checks of it run at once; the rest queue in order.

    A tally is forgotten C{lock_time} seconds after its latest attempt.  A
    right password forgets its account-and-address tally only: logging in
    to an account of one's own must not wipe an address's record of guesses
    at others.  At most C{max_tracked} tallies are kept, the least recent
    go first.
    """

    def __init__(
        self,
        clock: Clock,
        *,
        free: int = 3,
        base_delay: float = 1.0,
        max_delay: float = 30.0,
        account_max_delay: float = 5.0,
        account_parallel: int = 2,
        lock_after: int = 10,
        pair_lock_after: int = 5,
        lock_time: float = 900,
        max_tracked: int = _MAX_TRACKED,
    ) -> None:
        if free < 0 or base_delay <= 0 or max_delay < base_delay:
            raise ValueError("need free >= 0, base_delay > 0 and max_delay >= base_delay")
        if not 0 < account_max_delay <= max_delay or account_parallel < 1:
            raise ValueError("need 0 < account_max_delay <= max_delay and account_parallel >= 1")
        if min(lock_after, pair_lock_after) <= free or lock_time <= 0 or max_tracked < 3:
            raise ValueError(
                "need lock_after and pair_lock_after > free, lock_time > 0 and max_tracked >= 3"
            )
        self._clock = clock
        self.free = free
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.account_max_delay = account_max_delay
        self.account_parallel = account_parallel
        self.lock_after = lock_after
        self.pair_lock_after = pair_lock_after
        self.lock_time = lock_time
        self._max = max_tracked
        self._tallies: OrderedDict[tuple, _Tally] = OrderedDict()  # least recent first
        self._running: dict[str, int] = {}  # account -> checks running
        self._waiting: dict[str, deque[LoginAttempt]] = {}  # account -> queued attempts

    @staticmethod
    def _keys(address: str | IPAddress, account: str) -> tuple[tuple, tuple, tuple]:
        ip, name = normalize_ip(address), fold(account)
        return ("address", ip), ("pair", name, ip), ("account", name)

    def _forget_old(self, now: float) -> None:
        tallies = self._tallies
        for _ in range(len(tallies)):
            key, tally = next(iter(tallies.items()))
            if now - tally.last < self.lock_time:
                break
            if tally.pending:
                tallies.move_to_end(key)  # a check still running: keep it
            else:
                del tallies[key]

    def _wait(self, count: int, cap: float) -> float:
        if count <= self.free:
            return 0.0
        exponent = min(count - self.free - 1, 64)
        return min(self.base_delay * 2**exponent, cap)

    def _refusal(self, keys: tuple[tuple, ...], account: str, now: float) -> str | None:
        """Why an attempt would be refused now, in words, or C{None}."""
        address, pair, _ = (self._tallies.get(key) for key in keys)
        if address is not None and address.count >= self.lock_after:
            left = format_duration(address.last + self.lock_time - now)
            return f"Too many failed logins from your address; try again in {left}."
        if pair is not None and pair.count >= self.pair_lock_after:
            left = format_duration(pair.last + self.lock_time - now)
            return (f"Too many failed logins as {account} from your address; "
                    f"try again in {left}.")
        return None

    def refusal(self, address: str | IPAddress, account: str) -> str | None:
        """Whether to refuse even to ask for a password (counts nothing)."""
        now = self._clock.seconds()
        self._forget_old(now)
        return self._refusal(self._keys(address, account), account, now)

    def attempt(self, address: str | IPAddress, account: str) -> LoginAttempt | str:
        """Count a password just typed: the attempt to check, or why not."""
        now = self._clock.seconds()
        self._forget_old(now)
        keys = self._keys(address, account)
        refused = self._refusal(keys, account, now)
        if refused is not None:
            return refused
        delay = 0.0
        for key, cap in zip(keys, (self.max_delay, self.max_delay, self.account_max_delay)):
            tally = self._tallies.pop(key, None) or _Tally(now)
            delay = max(delay, tally.last + self._wait(tally.count, cap) - now)
            tally.pending += 1
            tally.last = now
            self._tallies[key] = tally
        while len(self._tallies) > self._max:
            self._tallies.popitem(last=False)
        return LoginAttempt(self, keys, account, delay)

    def _queue(self, attempt: LoginAttempt) -> None:
        account = attempt.folded
        if self._running.get(account, 0) < self.account_parallel:
            self._start(attempt, account)
            return
        attempt._state = _QUEUED
        self._waiting.setdefault(account, deque()).append(attempt)

    def _start(self, attempt: LoginAttempt, account: str) -> None:
        self._running[account] = self._running.get(account, 0) + 1
        attempt._state = _CHECKING
        go, attempt._go = attempt._go, None
        go()

    def _end(self, attempt: LoginAttempt, *, failed: bool, succeeded: bool) -> None:
        state = attempt._state
        if state == _DONE:
            return
        attempt._state = _DONE
        attempt._go = None
        now = self._clock.seconds()
        for key in attempt.keys:
            tally = self._tallies.get(key)
            if tally is None:
                continue
            if succeeded and key[0] == "pair":
                del self._tallies[key]
                continue
            tally.pending = max(0, tally.pending - 1)
            if failed:
                tally.failures += 1
                tally.last = now
                self._tallies.move_to_end(key)
        account = attempt.folded
        if state == _QUEUED:
            self._waiting[account].remove(attempt)
            if not self._waiting[account]:
                del self._waiting[account]
        elif state == _CHECKING:
            self._next(account)

    def _next(self, account: str) -> None:
        """A check of C{account} ended: start the one queued longest, if any."""
        running = self._running[account] - 1
        if running:
            self._running[account] = running
        else:
            del self._running[account]
        waiting = self._waiting.get(account)
        if waiting:
            attempt = waiting.popleft()
            if not waiting:
                del self._waiting[account]
            self._start(attempt, account)

