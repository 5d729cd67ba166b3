"""The bans in memory, compact: a honeypot holds a year of bot addresses.

A sensor on the open internet bans thousands of addresses a day, so the
server may hold a hundred thousand bans and more.  Each is kept here as one
small slotted object: its network as the integer key it is filed under,
beside the table's (version, prefix length) pair that all the bans of that
table share; its reason and author interned, so the few texts the traps use
are stored once.  Finding the bans that cover an address costs one dict
lookup per prefix length held, whatever the number of bans.
"""

from __future__ import annotations

import bisect
import heapq
import ipaddress
import math
import socket
import sys
from collections.abc import Iterator
from operator import attrgetter
from typing import Any

from bbs.guard.addresses import IPAddress, IPNetwork, parse_network
from bbs.text import fold

# (IP version, prefix length): one table of networks of that shape.
Where = tuple[int, int]

_BITS = {4: 32, 6: 128}
_WHERE: dict[Where, Where] = {}  # one shared tuple per shape


def _shape(version: int, prefixlen: int) -> Where:
    where = (version, prefixlen)
    return _WHERE.setdefault(where, where)


def _text(value: str) -> str:
    """An interned copy: the traps give thousands of bans the same reason."""
    return sys.intern(value) if type(value) is str else sys.intern(str(value))


def _float(value: float | None) -> float | None:
    return None if value is None else float(value)


_V4_SHAPES = {str(n): _shape(4, n) for n in range(33)}  # canonical prefix text -> shape


def network_key(target: str | IPNetwork) -> tuple[Where, int]:
    """Where a network is filed: its shape and its network number.

    A canonical IPv4 target (C{"192.0.2.1/32"}, what the store holds) takes
    a fast path, a hundred thousand of them are read at start-up; every
    other spelling goes through L{parse_network}.  (inet_pton refuses what
    the parser refuses: leading zeros, fewer than four parts, blanks.)

    @raise ValueError: if C{target} is not an address or network.
    """
    if type(target) is str and ":" not in target:
        address, _, prefix = target.partition("/")
        where = _V4_SHAPES.get(prefix or "32")
        if where is not None:
            try:
                packed = socket.inet_pton(socket.AF_INET, address)
            except OSError:
                pass
            else:
                return where, int.from_bytes(packed, "big") >> (32 - where[1])
    network = parse_network(target)
    host_bits = network.max_prefixlen - network.prefixlen
    return (
        _shape(network.version, network.prefixlen),
        int(network.network_address) >> host_bits,
    )


class HeldBan:
    """One address ban as the server holds it; shaped like the store's record.

    C{kind}, C{target} and C{network} are worked out when asked (by a
    refusal, a listing), not stored.  The store's row id is not kept (a ban
    is known by its target), which saves 40 bytes a ban.
    """

    __slots__ = ("where", "number", "reason", "set_by", "created", "expires")

    kind = "net"
    id = None

    def __init__(self, where: Where, number: int, reason: str,
                 set_by: str, created: float, expires: float | None) -> None:
        self.where = where
        self.number = number
        self.reason = sys.intern(reason)
        self.set_by = sys.intern(set_by)
        self.created = created
        self.expires = expires

    @property
    def network(self) -> IPNetwork:
        version, prefixlen = self.where
        host_bits = _BITS[version] - prefixlen
        kind = ipaddress.IPv4Network if version == 4 else ipaddress.IPv6Network
        return kind((self.number << host_bits, prefixlen))

    @property
    def target(self) -> str:
        return str(self.network)

    def covers(self, address: IPAddress) -> bool:
        """Whether this ban's network holds C{address} (already normalised)."""
        version, prefixlen = self.where
        return address.version == version and \
            int(address) >> (_BITS[version] - prefixlen) == self.number

    def __repr__(self) -> str:
        return f"<HeldBan {self.target} expires={self.expires} by {self.set_by}>"


class HeldNickBan:
    """One nickname ban as the server holds it (few: sysops set them by hand)."""

    __slots__ = ("target", "key", "reason", "set_by", "created", "expires")

    kind = "nick"
    id = None

    def __init__(self, target: str, reason: str, set_by: str,
                 created: float, expires: float | None) -> None:
        self.target = target
        self.key = fold(target)
        self.reason = _text(reason)
        self.set_by = _text(set_by)
        self.created = float(created)
        self.expires = _float(expires)

    def __repr__(self) -> str:
        return f"<HeldNickBan {self.target} expires={self.expires} by {self.set_by}>"


Held = HeldBan | HeldNickBan


def hold(ban: Any) -> Held:
    """The compact form of a ban record (anything shaped like C{BanLike}).

    @raise ValueError: if the record has an unknown kind or a bad target.
    """
    if ban.kind == "net":
        try:
            where, number = network_key(ban.target)
        except ValueError as e:
            raise ValueError(f"ban {ban.id}: {e}") from None
        return HeldBan(where, number, ban.reason, ban.set_by, ban.created, ban.expires)
    if ban.kind == "nick":
        return HeldNickBan(ban.target, ban.reason, ban.set_by, ban.created, ban.expires)
    raise ValueError(f"ban {ban.id}: unknown kind {ban.kind!r}")


class NetworkBans:
    """Address bans filed by shape, then by network number: one per network."""

    def __init__(self) -> None:
        self._tables: dict[Where, dict[int, HeldBan]] = {}
        self._size = 0

    def put(self, ban: HeldBan) -> HeldBan | None:
        """File C{ban}; return the ban of the same network it replaces."""
        table = self._tables.get(ban.where)
        if table is None:
            table = self._tables[ban.where] = {}
        old = table.get(ban.number)
        if old is None:
            self._size += 1
        table[ban.number] = ban
        return old

    def get(self, where: Where, number: int) -> HeldBan | None:
        table = self._tables.get(where)
        return None if table is None else table.get(number)

    def pop(self, where: Where, number: int) -> HeldBan | None:
        table = self._tables.get(where)
        if table is None:
            return None
        ban = table.pop(number, None)
        if ban is not None:
            self._size -= 1
            if not table:
                del self._tables[where]
        return ban

    def covering(self, address: IPAddress) -> list[HeldBan]:
        """Every ban whose network holds C{address} (normalised)."""
        number = int(address)
        version = address.version
        bits = _BITS[version]
        found = []
        for (v, prefixlen), table in self._tables.items():
            if v == version:
                ban = table.get(number >> (bits - prefixlen))
                if ban is not None:
                    found.append(ban)
        return found

    def __iter__(self) -> Iterator[HeldBan]:
        for table in self._tables.values():
            yield from table.values()

    def __len__(self) -> int:
        return self._size


_expires = attrgetter("expires")


class ExpiryQueue:
    """Bans in the order they expire, for about one pointer per ban.

    A heap of (time, ban) pairs costs some 90 bytes a ban.  Here bans are
    dropped into buckets of C{grain} seconds by expiry; a small heap orders
    the buckets, and only the bucket that is falling due is sorted.  A ban
    that was replaced or lifted stays in its bucket until it comes up (the
    holder checks whether it is still the one in force), and the buckets are
    rebuilt when such leftovers outnumber the bans.
    """

    def __init__(self, grain: float = 60.0) -> None:
        self._grain = grain
        self._buckets: dict[int, list[Held]] = {}
        self._order: list[int] = []  # heap of bucket numbers
        self._due: list[Held] = []  # the bucket falling due, by expiry
        self._next = 0  # where in _due the next ban to expire is
        self._due_bucket: int | None = None
        self._size = 0  # entries, leftovers included

    def __len__(self) -> int:
        return self._size

    def push(self, ban: Held) -> None:
        assert ban.expires is not None
        bucket = math.floor(ban.expires / self._grain)
        self._size += 1
        if bucket == self._due_bucket:
            bisect.insort(self._due, ban, lo=self._next, key=_expires)
            return
        if self._due_bucket is not None and bucket < self._due_bucket:
            # Already due (an expired ban added): it comes up at the next look.
            self._due.insert(self._next, ban)
            return
        entries = self._buckets.get(bucket)
        if entries is None:
            entries = self._buckets[bucket] = []
            heapq.heappush(self._order, bucket)
        entries.append(ban)

    def pop_due(self, now: float) -> Iterator[Held]:
        """Take out every entry that has expired by C{now}, earliest first."""
        while True:
            due = self._due
            while self._next < len(due) and due[self._next].expires <= now:
                ban = due[self._next]
                due[self._next] = None  # type: ignore[call-overload]  # let it go
                self._next += 1
                self._size -= 1
                yield ban
            if self._next < len(due):
                return
            self._due, self._next, self._due_bucket = [], 0, None
            if not self._order or self._order[0] * self._grain > now:
                return
            bucket = heapq.heappop(self._order)
            entries = self._buckets.pop(bucket)
            entries.sort(key=_expires)
            self._due, self._due_bucket = entries, bucket

    def rebuild(self, live: Iterator[Held]) -> None:
        """Hold exactly the bans in C{live} (those with an expiry)."""
        self._buckets, self._order = {}, []
        self._due, self._next, self._due_bucket = [], 0, None
        self._size = 0
        for ban in live:
            if ban.expires is not None:
                self.push(ban)
