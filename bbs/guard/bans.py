"""The ban engine: which addresses and nicknames are refused, and for how long.

Bans are decided elsewhere (a sysop's C{/ban}, a trap) and persisted by the
store; this module only answers "is this peer banned?" on every connection,
fast and without touching the database, and says how long an automatic ban
should be.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timezone
from typing import Protocol

from bbs.guard import Clock
from bbs.guard.addresses import IPAddress, NetworkSet, normalize_ip
from bbs.guard.bantable import (
    ExpiryQueue,
    Held,
    HeldBan,
    HeldNickBan,
    NetworkBans,
    hold,
    network_key,
)
from bbs.text import fold, sanitize

_REASON_MAX = 200


class BanLike(Protocol):
    """What the ban list needs of a ban record (C{bbs.store.BanRecord})."""

    @property
    def id(self) -> int | None: ...
    @property
    def kind(self) -> str: ...  # "net" | "nick"
    @property
    def target(self) -> str: ...  # "1.2.3.4/32", "2001:db8::/64", folded nick
    @property
    def reason(self) -> str: ...
    @property
    def set_by(self) -> str: ...
    @property
    def created(self) -> float: ...
    @property
    def expires(self) -> float | None: ...  # None: permanent


def _lifetime(ban: BanLike) -> float:
    return math.inf if ban.expires is None else ban.expires


class BanList:
    """The active bans, matched against peers on the reactor thread.

    There is one ban per target: adding a ban for a target that is already
    banned replaces the old one, as the store does.  Expired bans never match;
    they are dropped in expiry order whenever the list is consulted.  Adding,
    lifting or expiring one ban costs work for that ban only, and each is held
    in the compact form of L{bbs.guard.bantable}: what is returned are those
    held bans, shaped like the records that were added.

    C{ended} is told of every ban that leaves before being replaced: expired,
    or lifted.
    """

    def __init__(self, clock: Clock, ended: Callable[[Held], None] | None = None) -> None:
        self._clock = clock
        self._ended = ended
        self._nets = NetworkBans()
        self._nicks: dict[str, HeldNickBan] = {}
        self._expiry = ExpiryQueue()

    def _current(self, ban: Held) -> Held | None:
        if isinstance(ban, HeldBan):
            return self._nets.get(ban.where, ban.number)
        return self._nicks.get(ban.key)

    def _file(self, ban: Held) -> Held | None:
        """Hold C{ban}; return the ban it replaces."""
        if isinstance(ban, HeldBan):
            old: Held | None = self._nets.put(ban)
        else:
            old = self._nicks.get(ban.key)
            self._nicks[ban.key] = ban
        if ban.expires is not None:
            self._expiry.push(ban)
            # Replaced and lifted bans leave entries behind; keep them bounded.
            if len(self._expiry) > 2 * len(self) + 64:
                self._expiry.rebuild(self._held())
        return old

    def _unfile(self, ban: Held) -> None:
        if isinstance(ban, HeldBan):
            self._nets.pop(ban.where, ban.number)
        else:
            self._nicks.pop(ban.key, None)
        if self._ended is not None:
            self._ended(ban)

    def _prune(self) -> None:
        for ban in self._expiry.pop_due(self._clock.seconds()):
            if self._current(ban) is ban:
                self._unfile(ban)

    def _held(self) -> Iterator[Held]:
        yield from self._nets
        yield from self._nicks.values()

    def replace(self, bans: Iterable[BanLike]) -> None:
        """Hold exactly C{bans} (the store's list at start-up).

        Every record is checked first, so a bad one changes nothing.

        @raise ValueError: if a record has an unknown kind or a bad target.
        """
        held = [hold(ban) for ban in bans]
        self._nets = NetworkBans()
        self._nicks = {}
        self._expiry = ExpiryQueue()
        now = self._clock.seconds()
        for ban in held:
            if ban.expires is None or ban.expires > now:
                self._file(ban)

    def take(self, other: BanList) -> None:
        """Hold what C{other} holds, in place of all this list held: a list
        filled by L{replace} in a worker is swapped in on the reactor thread
        at the cost of three assignments."""
        self._nets, self._nicks, self._expiry = other._nets, other._nicks, other._expiry

    def add(self, ban: BanLike) -> Held:
        """Hold C{ban}, replacing any ban of the same target; return it as held.

        @raise ValueError: if the record has an unknown kind or a bad target.
        """
        held = hold(ban)
        self._file(held)
        return held

    def remove(self, kind: str, target: str) -> Held | None:
        """Lift the ban of C{target}; return it, or C{None} if there was none.

        C{target} may be given in any form L{parse_network} or L{fold} accept.
        """
        if kind == "net":
            where, number = network_key(target)
            ban: Held | None = self._nets.get(where, number)
        else:
            ban = self._nicks.get(fold(target))
        if ban is not None:
            self._unfile(ban)
        return ban

    def match_address(self, address: str | IPAddress) -> Held | None:
        """The longest-lived ban covering C{address}, or C{None}."""
        self._prune()
        found = self._nets.covering(normalize_ip(address))
        if not found:
            return None
        return found[0] if len(found) == 1 else max(found, key=_lifetime)

    def matches(self, address: str | IPAddress) -> list[Held]:
        """Every ban in force covering C{address}, the longest-lived first."""
        self._prune()
        found: list[Held] = list(self._nets.covering(normalize_ip(address)))
        return sorted(found, key=_lifetime, reverse=True)

    def covers(self, address: str | IPAddress) -> bool:
        """Whether any ban in force now covers C{address}."""
        return self.match_address(address) is not None

    def match_nick(self, nick: str) -> Held | None:
        """The ban of nickname C{nick} (compared folded), or C{None}."""
        self._prune()
        return self._nicks.get(fold(nick))

    def __iter__(self) -> Iterator[Held]:
        self._prune()
        yield from list(self._held())

    def __len__(self) -> int:
        return len(self._nets) + len(self._nicks)


def reach(bans: Iterable[BanLike]) -> Callable[[str, str | None], bool]:
    """A test of whether any of C{bans} covers a peer: C{(address, name)},
    the name compared folded; an address that is not an IP matches no
    network.  For enforcing a few new bans on the people online without
    looking at every ban held.

    @raise ValueError: if a record has a bad target.
    """
    nets: dict[int, list[tuple[int, int]]] = {}  # version -> [(prefix length, number)]
    nicks = set()
    for ban in bans:
        if ban.kind == "net":
            (version, prefixlen), number = network_key(ban.target)
            nets.setdefault(version, []).append((prefixlen, number))
        else:
            nicks.add(fold(ban.target))

    def reaches(address: str, name: str | None) -> bool:
        if name is not None and fold(name) in nicks:
            return True
        if not nets:
            return False
        try:
            ip = normalize_ip(address)
        except ValueError:
            return False
        bits = ip.max_prefixlen
        value = int(ip)
        return any(value >> (bits - prefixlen) == number
                   for prefixlen, number in nets.get(ip.version, ()))

    return reaches


def _span(seconds: float) -> str:
    """A duration rounded up to the minute, in its two largest units."""
    minutes = max(1, math.ceil(seconds / 60))
    days, minutes = divmod(minutes, 1440)
    hours, minutes = divmod(minutes, 60)
    parts = [f"{n}{unit}" for n, unit in ((days, "d"), (hours, "h"), (minutes, "m")) if n]
    return " ".join(parts[:2])


def describe(ban: BanLike, now: float) -> str:
    """The one line a banned peer or nickname is refused with.

    For example C{You are banned: spam (until 2026-11-27 14:00 UTC, in 2h)}.
    The reason is sanitised and shortened: it was typed by a sysop and is
    about to be written to an unknown terminal.
    """
    # Line breaks become blanks before sanitising would glue words together.
    reason = " ".join(sanitize(" ".join(ban.reason.split())).split())
    if len(reason) > _REASON_MAX:
        reason = reason[: _REASON_MAX - 1] + "\u2026"
    line = f"You are banned: {reason}" if reason else "You are banned"
    if ban.expires is None:
        return f"{line} (permanent)"
    until = datetime.fromtimestamp(ban.expires, timezone.utc)
    return (
        f"{line} (until {until:%Y-%m-%d %H:%M} UTC, "
        f"in {_span(ban.expires - now)})"
    )


class Escalation:
    """How long to ban an address that has just been caught, fail2ban style.

    Policy, per address:

      - The first offence is banned for C{bantime} seconds; each repeat
        offence for C{factor} times the previous one, up to C{maxtime}:
        C{min(bantime * factor ** (n - 1), maxtime)} for the n-th offence.
      - An offence while the address's previous ban is still running (another
        connection it opened before the ban) is the same offence: it gets the
        same duration and does not count again.  Whether it still runs is
        asked of C{banned} (the ban list), not worked out from when it was
        meant to end: a ban a sysop lifted early has ended, and the address
        caught again is a repeat offender.
      - An offence within C{findtime} after the previous ban ended counts as a
        repeat.  One that comes later is banned as long as the previous one
        was, until the address is forgotten.
      - An address is forgotten C{forget} seconds after its last offence, and
        at most C{max_addresses} are remembered (the least recent go first),
        so memory stays bounded under a scan from a whole botnet.
      - Addresses in C{ignore} are never banned.
    """

    def __init__(
        self,
        clock: Clock,
        *,
        bantime: float = 3600,
        factor: float = 2,
        maxtime: float = 7 * 86400,
        findtime: float = 86400,
        forget: float = 30 * 86400,
        ignore: NetworkSet = NetworkSet(),
        max_addresses: int = 100_000,
        banned: Callable[[IPAddress], bool] = lambda address: True,
    ) -> None:
        if bantime <= 0 or factor < 1 or maxtime < bantime:
            raise ValueError("need bantime > 0, factor >= 1 and maxtime >= bantime")
        if findtime < 0 or forget <= 0 or max_addresses < 1:
            raise ValueError("need findtime >= 0, forget > 0 and max_addresses >= 1")
        self._clock = clock
        self.bantime = bantime
        self.factor = factor
        self.maxtime = maxtime
        self.findtime = findtime
        self.forget = forget
        self.ignore = ignore
        self._max = max_addresses
        self._banned = banned
        # address -> (offences, last offence, end of the ban it was given),
        # least recent offender first.
        self._offenders: OrderedDict[IPAddress, tuple[int, float, float]] = (
            OrderedDict()
        )

    def _duration(self, offences: int) -> float:
        exponent = min(offences - 1, 64)  # beyond this maxtime has long won
        return float(min(self.bantime * self.factor**exponent, self.maxtime))

    def next_duration(self, address: str | IPAddress) -> float | None:
        """Record an offence by C{address}; return its ban length in seconds.

        @return: C{None} if the address is in the ignore list.
        """
        address = normalize_ip(address)
        if address in self.ignore:
            return None
        now = self._clock.seconds()
        while self._offenders:
            oldest = next(iter(self._offenders.values()))
            if now - oldest[1] < self.forget:
                break
            self._offenders.popitem(last=False)
        previous = self._offenders.pop(address, None)
        if previous is None:
            offences = 1
        else:
            offences, _, until = previous
            if now < until and self._banned(address):
                self._offenders[address] = (offences, now, until)
                return self._duration(offences)
            if now - min(until, now) <= self.findtime:
                offences += 1
        duration = self._duration(offences)
        self._remember(address, offences, now, now + duration)
        return duration

    def recall(self, address: str | IPAddress, start: float, end: float) -> None:
        """Remember a ban of C{address} from C{start} to C{end} that this
        escalation gave before (one kept in the store across a restart).

        Its length tells which offence it was, since lengths grow by
        C{factor} from C{bantime}; one at C{maxtime} counts as the first to
        reach it.
        """
        address = normalize_ip(address)
        offences = self._offences(end - start)
        known = self._offenders.get(address)
        if known is not None and known[0] >= offences:
            return
        self._remember(address, offences, start, end)

    def _offences(self, duration: float) -> int:
        """Which offence a ban of C{duration} seconds was given for."""
        if self.factor == 1 or duration <= self.bantime:
            return 1
        # Rounded up (a ban cut short by maxtime was the first to reach it),
        # but a length exactly on the scale is not pushed past its place.
        return 1 + math.ceil(math.log(duration / self.bantime, self.factor) - 1e-9)

    def _remember(self, address: IPAddress, offences: int, last: float, until: float) -> None:
        self._offenders.pop(address, None)
        self._offenders[address] = (offences, last, until)
        if len(self._offenders) > self._max:
            self._offenders.popitem(last=False)

