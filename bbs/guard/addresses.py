"""IP addresses and networks as the guard sees them.

A peer can reach us as C{::ffff:1.2.3.4} on a dual-stack socket, or as a
link-local address with a zone id; a ban or a trust entry must catch it all
the same.  So every address and network is normalised here, once, and the
rest of the guard only ever compares normalised values.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import Generic, Literal, TypeVar

from bbs.text import name_problem

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
BanKind = Literal["net", "nick"]
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_T = TypeVar("_T")


def _strip(text: str) -> str:
    """Remove blanks, brackets (C{[::1]}) and a zone id (C{fe80::1%eth0})."""
    text = text.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    return text.partition("%")[0]


def normalize_ip(text: str | IPAddress) -> IPAddress:
    """The canonical form of a peer address.

    IPv4-mapped IPv6 addresses become plain IPv4 and zone ids are dropped, so
    that one host has one identity whatever socket it came in on.

    @raise ValueError: if C{text} is not an IP address.
    """
    return _parsed(text) if isinstance(text, str) else _canonical(text)


@lru_cache(maxsize=4096)
def _parsed(text: str) -> IPAddress:
    """L{normalize_ip} of a string, remembered: one peer's address is checked
    several times per connection (bans, limits, trust), and parsing is slow."""
    bare = _strip(text)
    try:  # the usual peer, parsed in C: ipaddress's parser is slower than all the checks
        return ipaddress.IPv4Address(socket.inet_pton(socket.AF_INET, bare))
    except OSError:
        pass
    try:
        return _canonical(ipaddress.ip_address(bare))
    except ValueError:
        raise ValueError(f"{text!r} is not an IP address") from None


def _canonical(address: IPAddress) -> IPAddress:
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.scope_id is not None:
            return ipaddress.IPv6Address(address.packed)
    return address


def parse_network(text: str | IPNetwork) -> IPNetwork:
    """The canonical form of a network given as CIDR or as a single address.

    Host bits are ignored (C{10.1.2.3/8} is C{10.0.0.0/8}) and an IPv4-mapped
    IPv6 network of prefix 96 or more becomes the IPv4 network it maps.

    @raise ValueError: if C{text} is neither.
    """
    if isinstance(text, str):
        address, slash, prefix = text.strip().partition("/")
        try:
            network: IPNetwork = ipaddress.ip_network(
                _strip(address) + slash + prefix.strip(), strict=False
            )
        except ValueError:
            raise ValueError(f"{text!r} is not an IP address or network") from None
    else:
        network = text
    if isinstance(network, ipaddress.IPv6Network):
        mapped = network.network_address.ipv4_mapped
        if mapped is not None and network.prefixlen >= 96:
            return ipaddress.IPv4Network((mapped, network.prefixlen - 96))
    return network


def ban_network(address: str | IPAddress, ipv6_prefix: int) -> IPNetwork:
    """The network a ban on one host covers: an IPv4 address alone, an IPv6
    address its C{ipv6_prefix} network, because one IPv6 host usually owns a
    whole /64 (C{--ipv6-ban-prefix}).  The one rule for /ban of a user or an
    address, and for a trapped bot's ban.

    @raise ValueError: if C{address} is not an IP address.
    """
    ip = normalize_ip(address)
    prefix = ipv6_prefix if ip.version == 6 else 32
    return ipaddress.ip_network(f"{ip}/{prefix}", strict=False)


def ban_target(text: str, *, ipv6_prefix: int = 128) -> tuple[BanKind, str]:
    """Classify and normalise what a sysop asked to ban (/ban, hfnjbbs-admin).

    An IPv4 or IPv6 address or network is a C{"net"} ban on the normalised
    network (an IPv4-mapped IPv6 address counts as IPv4), a single IPv6 host
    widened to its C{ipv6_prefix} network (L{ban_network}); anything else
    must be shaped like a nickname and is a C{"nick"} ban.  With the default
    prefix the result is how the store spells a target.

    @raise ValueError: with a message fit to show the sysop.
    """
    address, _, prefix = text.partition("/")
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        ip = None
    if ip is not None:
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
            if prefix:
                if not prefix.isdigit() or not 96 <= int(prefix) <= 128:
                    raise ValueError(f"Not a valid network: {text}")
                prefix = str(int(prefix) - 96)
        spelled = f"{ip}/{prefix}" if prefix else str(ip)
        try:
            network = ipaddress.ip_network(spelled, strict=False)
        except ValueError:
            raise ValueError(f"Not a valid network: {text}") from None
        if network.prefixlen == 128 and ipv6_prefix != 128:
            network = ban_network(network.network_address, ipv6_prefix)
        return "net", str(network)
    problem = name_problem(text)
    if problem:
        raise ValueError(f"Not an address, network or nickname: {problem}")
    return "nick", text


class NetworkTable(Generic[_T]):
    """Networks mapped to values, with a fast "which networks hold this
    address" query.

    Entries are grouped by prefix length; a lookup masks the address once per
    prefix length present, so it costs a handful of dictionary lookups however
    many networks are stored.
    """

    def __init__(self) -> None:
        # (version, prefixlen) -> {network number >> host bits: (network, value)}
        self._tables: dict[tuple[int, int], dict[int, tuple[IPNetwork, _T]]] = {}
        self._size = 0

    @staticmethod
    def _slot(network: IPNetwork) -> tuple[tuple[int, int], int]:
        host_bits = network.max_prefixlen - network.prefixlen
        return (network.version, network.prefixlen), (
            int(network.network_address) >> host_bits
        )

    def __setitem__(self, network: IPNetwork, value: _T) -> None:
        network = parse_network(network)
        key, number = self._slot(network)
        table = self._tables.setdefault(key, {})
        if number not in table:
            self._size += 1
        table[number] = (network, value)

    def get(self, network: IPNetwork) -> _T | None:
        key, number = self._slot(parse_network(network))
        entry = self._tables.get(key, {}).get(number)
        return None if entry is None else entry[1]

    def pop(self, network: IPNetwork) -> _T | None:
        """Remove C{network}; return its value, or C{None} if it was absent."""
        key, number = self._slot(parse_network(network))
        table = self._tables.get(key)
        if table is None or number not in table:
            return None
        _, value = table.pop(number)
        self._size -= 1
        if not table:
            del self._tables[key]
        return value

    def matches(self, address: IPAddress) -> list[_T]:
        """The values of every network that contains C{address}."""
        number = int(address)
        found = []
        for (version, prefixlen), table in self._tables.items():
            if version != address.version:
                continue
            entry = table.get(number >> (address.max_prefixlen - prefixlen))
            if entry is not None:
                found.append(entry[1])
        return found

    def items(self) -> Iterator[tuple[IPNetwork, _T]]:
        for table in self._tables.values():
            yield from table.values()

    def __len__(self) -> int:
        return self._size


_ANSWERS_KEPT = 4096


class NetworkSet:
    """An immutable set of networks, for C{--trust} and ignore lists.

    C{address in networks} accepts an address object or string, normalised
    like a peer address.
    """

    def __init__(self, cidrs: Iterable[str | IPNetwork] = ()) -> None:
        self._table: NetworkTable[IPNetwork] = NetworkTable()
        for cidr in cidrs:
            network = parse_network(cidr)
            self._table[network] = network
        # Answers so far (the set never changes): a connection's address is
        # asked about several times (admission, limits, its session).
        self._answers: dict[object, bool] = {}

    def __contains__(self, address: object) -> bool:
        """Whether C{address} is in one of the networks; False for what is not an address."""
        answers = self._answers
        answer = answers.get(address) if type(address) is str else None
        if answer is None:
            answer = self._lookup(address)
            if type(address) is str:
                if len(answers) >= _ANSWERS_KEPT:
                    answers.clear()  # cheaper than finding the oldest past deleted slots
                answers[address] = answer
        return answer

    def _lookup(self, address: object) -> bool:
        if not isinstance(address, (str, ipaddress.IPv4Address, ipaddress.IPv6Address)):
            return False
        try:
            return bool(self._table.matches(normalize_ip(address)))
        except ValueError:
            return False

    def __iter__(self) -> Iterator[IPNetwork]:
        return (network for network, _ in self._table.items())

    def __len__(self) -> int:
        return len(self._table)

    def __repr__(self) -> str:
        return f"NetworkSet({[str(network) for network in self]!r})"
