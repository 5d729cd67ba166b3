"""The compact ban table answers as a plain list of bans would, whatever is
added, replaced, lifted or left to expire."""

from __future__ import annotations

import ipaddress

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.internet.task import Clock

from bbs.guard.addresses import normalize_ip, parse_network
from bbs.guard.bans import BanList, reach
from bbs.guard.bantable import ExpiryQueue, HeldBan, hold, network_key
from bbs.text import fold


@attrs.frozen
class Ban:
    kind: str
    target: str
    expires: float | None
    reason: str = "r"
    id: int | None = None
    set_by: str = "op"
    created: float = 0.0


class Naive:
    """The reference: a list, scanned."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.bans: list[Ban] = []

    @staticmethod
    def key(ban: Ban) -> tuple[str, object]:
        return ban.kind, parse_network(ban.target) if ban.kind == "net" else fold(ban.target)

    def live(self) -> list[Ban]:
        now = self.clock.seconds()
        return [b for b in self.bans if b.expires is None or b.expires > now]

    def add(self, ban: Ban) -> None:
        self.bans = [b for b in self.bans if self.key(b) != self.key(ban)] + [ban]

    def remove(self, kind: str, target: str) -> None:
        gone = (kind, parse_network(target) if kind == "net" else fold(target))
        self.bans = [b for b in self.bans if self.key(b) != gone]

    def matches(self, address: str) -> list[Ban]:
        ip = normalize_ip(address)
        return [b for b in self.live()
                if b.kind == "net" and ip in parse_network(b.target)]


# Few distinct networks, so that bans overlap, replace each other and cover
# the addresses asked about.
v4 = st.builds(lambda a, b, p: f"10.{a}.{b}.7/{p}", st.integers(0, 3), st.integers(0, 3),
               st.sampled_from([8, 16, 24, 30, 32]))
v6 = st.builds(lambda a, p: f"2001:db8:{a}::5/{p}", st.integers(0, 3),
               st.sampled_from([32, 48, 64, 128]))
mapped = st.builds(lambda a: f"::ffff:10.{a}.0.7/128", st.integers(0, 3))
targets = st.one_of(v4, v6, mapped)
nicks = st.sampled_from(["alice", "ALICE", "bob", "\uff41lice"])
# From now (when added): some already past, many landing on the same second.
expiries = st.one_of(st.none(), st.integers(-10, 200))
addresses = st.one_of(
    st.builds(lambda a, b, c: f"10.{a}.{b}.{c}", st.integers(0, 3), st.integers(0, 3),
              st.sampled_from([0, 5, 7])),
    st.builds(lambda a, c: f"2001:db8:{a}::{c}", st.integers(0, 3), st.sampled_from([5, 6])),
    st.builds(lambda a: f"::ffff:10.{a}.0.7", st.integers(0, 3)),
)
operations = st.lists(st.one_of(
    st.tuples(st.just("add"), st.builds(Ban, st.just("net"), targets, expiries)),
    st.tuples(st.just("add"), st.builds(Ban, st.just("nick"), nicks, expiries)),
    st.tuples(st.just("remove"), st.tuples(st.just("net"), targets)),
    st.tuples(st.just("remove"), st.tuples(st.just("nick"), nicks)),
    st.tuples(st.just("wait"), st.integers(0, 90)),
    st.tuples(st.just("ask"), addresses),
), max_size=60)


def shape(ban: object) -> tuple:
    return (ban.kind, str(parse_network(ban.target)) if ban.kind == "net" else fold(ban.target),
            ban.expires, ban.reason)


@settings(max_examples=250, deadline=None)
@given(operations)
def test_the_table_answers_as_a_list_would(ops) -> None:
    clock = Clock()
    ended: list[object] = []
    table, naive = BanList(clock, ended=ended.append), Naive(clock)
    for op, arg in ops:
        if op == "add":
            if arg.expires is not None:
                arg = attrs.evolve(arg, expires=clock.seconds() + arg.expires)
            table.add(arg)
            naive.add(arg)
        elif op == "remove":
            table.remove(*arg)
            naive.remove(*arg)
        elif op == "wait":
            clock.advance(arg)
        else:
            found = [shape(b) for b in table.matches(arg)]
            expected = [shape(b) for b in naive.matches(arg)]
            assert sorted(found, key=repr) == sorted(expected, key=repr)
            assert table.covers(arg) == bool(expected)
            best = table.match_address(arg)
            lives = [float("inf") if b.expires is None else b.expires for b in naive.matches(arg)]
            assert (best is None) == (not lives)
            if best is not None:
                assert (best.expires or float("inf")) == max(lives)
        for nick in ("alice", "bob"):
            held = table.match_nick(nick)
            want = [b for b in naive.live() if b.kind == "nick" and fold(b.target) == nick]
            assert (None if held is None else shape(held)) == (shape(want[0]) if want else None)
    assert sorted(map(shape, table), key=repr) == sorted(map(shape, naive.live()), key=repr)
    assert len(table) == len(naive.live())
    assert len(table._expiry) <= 2 * len(table) + 64


@given(st.lists(targets, max_size=8), st.lists(nicks, max_size=2), addresses,
       st.one_of(st.none(), nicks))
def test_reach_agrees_with_matching(nets, names, address, name) -> None:
    bans = [Ban("net", t, None) for t in nets] + [Ban("nick", n, None) for n in names]
    held = BanList(Clock())
    for ban in bans:
        held.add(ban)
    expected = bool(held.matches(address)) or (
        name is not None and held.match_nick(name) is not None)
    assert reach(bans)(address, name) == expected


@given(st.one_of(
    st.ip_addresses(v=4).flatmap(lambda a: st.integers(0, 32).map(lambda p: f"{a}/{p}")),
    st.ip_addresses(v=6).flatmap(lambda a: st.integers(0, 128).map(lambda p: f"{a}/{p}")),
    st.ip_addresses(v=4).map(str),
))
def test_network_keys_agree_with_the_parser(text) -> None:
    network = parse_network(text)
    where, number = network_key(text)
    assert where == (network.version, network.prefixlen)
    held = hold(Ban("net", text, None))
    assert isinstance(held, HeldBan) and held.network == network
    assert held.covers(network.network_address)
    assert held.target == str(network)


def test_odd_spellings_take_the_slow_path_to_the_same_key() -> None:
    with pytest.raises(ValueError, match="not an IP address"):
        network_key("010.1.2.3/32")  # refused as the parser refuses it, not read as octal
    assert network_key("10.1.2.3") == network_key("10.1.2.3/32")
    assert network_key("10.1.2.3/08") == network_key("10.0.0.0/8")
    assert network_key("::ffff:10.1.2.3") == network_key("10.1.2.3/32")
    assert network_key(ipaddress.ip_network("10.0.0.0/8")) == network_key("10.0.0.0/8")


def test_expiry_queue_gives_bans_back_in_order_across_buckets() -> None:
    queue = ExpiryQueue(grain=10)
    bans = [hold(Ban("net", f"10.0.0.{n}/32", float(e))) for n, e in
            enumerate([35, 5, 12, 19, 11, 70])]
    for ban in bans:
        queue.push(ban)
    assert [b.expires for b in queue.pop_due(11)] == [5, 11]
    queue.push(hold(Ban("net", "10.0.0.9/32", 13.0)))  # into the bucket falling due
    queue.push(hold(Ban("net", "10.0.0.8/32", 2.0)))  # already past
    assert [b.expires for b in queue.pop_due(40)] == [2, 12, 13, 19, 35]
    assert len(queue) == 1
    assert [b.expires for b in queue.pop_due(1e9)] == [70]
