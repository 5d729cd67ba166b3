"""The ban engine: matching, expiry, refusal wording and escalation."""

from __future__ import annotations

from datetime import datetime, timezone

import attrs
import pytest
from twisted.internet.task import Clock

from bbs.guard.addresses import NetworkSet
from bbs.guard.bans import BanList, Escalation, describe

# 2026-11-27 12:00 UTC
NOON = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc).timestamp()


@attrs.frozen
class Ban:
    """Shaped like bbs.store.BanRecord, which this layer must not import."""

    kind: str
    target: str
    expires: float | None = None
    reason: str = "testing"
    id: int | None = None
    set_by: str = "sysop"
    created: float = 0.0


def same(held: object, ban: Ban) -> bool:
    """Whether the ban list holds C{ban} as C{held}: it keeps its own compact
    form of each record, with the same fields."""
    fields = ("kind", "target", "reason", "set_by", "expires")
    return held is not None and all(getattr(held, f) == getattr(ban, f) for f in fields)


def clock_at(when: float = 0.0) -> Clock:
    clock = Clock()
    clock.advance(when)
    return clock


class TestMatchAddress:
    def test_ipv4_host(self) -> None:
        bans = BanList(Clock())
        ban = Ban("net", "1.2.3.4/32")
        bans.add(ban)
        assert same(bans.match_address("1.2.3.4"), ban)
        assert bans.match_address("1.2.3.5") is None

    def test_ipv6_host_and_network(self) -> None:
        bans = BanList(Clock())
        host = Ban("net", "2001:db8::1/128")
        net = Ban("net", "2001:db8:1::/64")
        bans.replace([host, net])
        assert same(bans.match_address("2001:db8::1"), host)
        assert bans.match_address("2001:db8::2") is None
        assert same(bans.match_address("2001:db8:1::abcd"), net)
        assert bans.match_address("2001:db8:1:1::1") is None

    def test_cidr(self) -> None:
        bans = BanList(Clock())
        ban = Ban("net", "10.0.0.0/8")
        bans.add(ban)
        assert same(bans.match_address("10.255.1.2"), ban)
        assert bans.match_address("11.0.0.1") is None

    def test_mapped_peer_matches_ipv4_ban(self) -> None:
        bans = BanList(Clock())
        ban = Ban("net", "1.2.3.4/32")
        bans.add(ban)
        assert same(bans.match_address("::ffff:1.2.3.4"), ban)

    def test_zone_id_peer(self) -> None:
        bans = BanList(Clock())
        ban = Ban("net", "fe80::/64")
        bans.add(ban)
        assert same(bans.match_address("fe80::1%eth0"), ban)

    def test_longest_lived_match_wins(self) -> None:
        bans = BanList(Clock())
        short = Ban("net", "1.2.3.4/32", expires=100)
        longer = Ban("net", "1.2.3.0/24", expires=1000)
        bans.replace([short, longer])
        assert same(bans.match_address("1.2.3.4"), longer)
        permanent = Ban("net", "1.0.0.0/8", expires=None)
        bans.add(permanent)
        assert same(bans.match_address("1.2.3.4"), permanent)

    def test_expired_bans_never_match(self) -> None:
        clock = Clock()
        bans = BanList(clock)
        bans.replace([
            Ban("net", "1.2.3.4/32", expires=60),
            Ban("net", "10.0.0.0/8", expires=120),
            Ban("nick", "mallory", expires=60),
        ])
        clock.advance(59.9)
        assert bans.match_address("1.2.3.4") is not None
        assert bans.match_nick("Mallory") is not None
        clock.advance(0.1)
        assert bans.match_address("1.2.3.4") is None
        assert bans.match_nick("mallory") is None
        assert bans.match_address("10.0.0.1") is not None
        assert len(bans) == 1
        clock.advance(60)
        assert bans.match_address("10.0.0.1") is None
        assert list(bans) == []

    def test_expired_bans_are_pruned(self) -> None:
        clock = Clock()
        bans = BanList(clock)
        for n in range(500):
            bans.add(Ban("net", f"10.0.{n // 256}.{n % 256}/32", expires=10))
        assert len(bans) == 500
        clock.advance(10)
        bans.match_address("192.0.2.1")  # any consultation prunes
        assert len(bans) == 0

    def test_expired_entry_is_not_resurrected(self) -> None:
        clock = Clock()
        bans = BanList(clock)
        bans.add(Ban("net", "1.2.3.4/32", expires=10))
        bans.add(Ban("net", "1.2.3.4/32", expires=None))  # a sysop made it permanent
        clock.advance(20)
        assert bans.match_address("1.2.3.4") is not None


class TestEditing:
    def test_add_replaces_same_target(self) -> None:
        bans = BanList(Clock())
        first = Ban("net", "1.2.3.4/32", reason="first")
        second = Ban("net", "1.2.3.4/32", reason="second")
        bans.add(first)
        bans.add(second)
        assert len(bans) == 1
        assert same(bans.match_address("1.2.3.4"), second)

    def test_remove_net(self) -> None:
        bans = BanList(Clock())
        ban = Ban("net", "10.0.0.0/8")
        bans.add(ban)
        assert same(bans.remove("net", "10.0.0.0/8"), ban)
        assert bans.match_address("10.0.0.1") is None
        assert bans.remove("net", "10.0.0.0/8") is None

    def test_remove_accepts_any_spelling(self) -> None:
        bans = BanList(Clock())
        bans.add(Ban("net", "1.2.3.4/32"))
        bans.add(Ban("nick", "alice"))
        assert bans.remove("net", "::ffff:1.2.3.4") is not None
        assert bans.remove("nick", "ALICE") is not None
        assert len(bans) == 0

    def test_match_nick_is_folded(self) -> None:
        bans = BanList(Clock())
        ban = Ban("nick", "alice")
        bans.add(ban)
        assert same(bans.match_nick("Alice"), ban)
        assert same(bans.match_nick("\uff41lice"), ban)  # full-width a
        assert bans.match_nick("bob") is None

    def test_nick_ban_does_not_match_addresses(self) -> None:
        bans = BanList(Clock())
        bans.add(Ban("nick", "alice"))
        assert bans.match_address("1.2.3.4") is None

    def test_replace_swaps_everything(self) -> None:
        bans = BanList(Clock())
        bans.add(Ban("net", "1.2.3.4/32"))
        bans.replace([Ban("nick", "bob")])
        assert bans.match_address("1.2.3.4") is None
        assert bans.match_nick("bob") is not None

    def test_bad_record_changes_nothing(self) -> None:
        bans = BanList(Clock())
        bans.add(Ban("net", "1.2.3.4/32"))
        with pytest.raises(ValueError, match="ban 7: '300.1.1.1/32'"):
            bans.replace([Ban("nick", "bob"), Ban("net", "300.1.1.1/32", id=7)])
        with pytest.raises(ValueError, match="unknown kind 'user'"):
            bans.add(Ban("user", "bob"))
        assert bans.match_address("1.2.3.4") is not None
        assert bans.match_nick("bob") is None

    def test_iteration_lists_active_bans(self) -> None:
        bans = BanList(Clock())
        records = [Ban("net", "1.2.3.4/32"), Ban("nick", "bob")]
        bans.replace(records)
        assert sorted(b.target for b in bans) == ["1.2.3.4/32", "bob"]

    def test_stale_expiry_entries_stay_bounded(self) -> None:
        bans = BanList(Clock())
        for n in range(2000):
            bans.add(Ban("net", "1.2.3.4/32", expires=1e9 + n))
        assert len(bans) == 1
        assert len(bans._expiry) <= 2 * len(bans) + 64
        assert bans.match_address("1.2.3.4").expires == 1e9 + 1999


class TestDescribe:
    def test_temporary(self) -> None:
        ban = Ban("net", "1.2.3.4/32", reason="flooding", expires=NOON + 2 * 3600)
        assert describe(ban, NOON) == (
            "You are banned: flooding (until 2026-11-27 14:00 UTC, in 2h)"
        )

    def test_permanent(self) -> None:
        ban = Ban("net", "1.2.3.4/32", reason="bot")
        assert describe(ban, NOON) == "You are banned: bot (permanent)"

    def test_no_reason(self) -> None:
        assert describe(Ban("nick", "bob", reason=""), NOON) == "You are banned (permanent)"

    @pytest.mark.parametrize(
        "seconds, left",
        [(30, "1m"), (90 * 60, "1h 30m"), (3 * 86400 + 7200, "3d 2h"), (7 * 86400, "7d")],
    )
    def test_time_left(self, seconds: float, left: str) -> None:
        text = describe(Ban("net", "1.2.3.4/32", expires=NOON + seconds), NOON)
        assert "banned" in text
        assert text.endswith(f", in {left})")

    def test_reason_is_sanitised_to_one_line(self) -> None:
        ban = Ban("net", "1.2.3.4/32", reason="bad\r\n\x1b[31mbot\x1b[0m " + "x" * 500)
        text = describe(ban, NOON)
        assert "\x1b" not in text and "\n" not in text and "\r" not in text
        assert text.startswith("You are banned: bad bot x")
        assert len(text) < 250


class TestEscalation:
    def test_growth_and_cap(self) -> None:
        clock = Clock()
        escalation = Escalation(clock, bantime=3600, factor=2, maxtime=6 * 3600)
        durations = []
        for _ in range(5):
            duration = escalation.next_duration("1.2.3.4")
            assert duration is not None
            durations.append(duration)
            clock.advance(duration + 60)  # comes back a minute after the ban
        assert durations == [3600, 7200, 14400, 21600, 21600]

    def test_addresses_are_independent(self) -> None:
        clock = Clock()
        escalation = Escalation(clock)
        assert escalation.next_duration("1.2.3.4") == 3600
        clock.advance(3601)
        assert escalation.next_duration("1.2.3.4") == 7200
        assert escalation.next_duration("5.6.7.8") == 3600

    def test_mapped_address_is_the_same_offender(self) -> None:
        clock = Clock()
        escalation = Escalation(clock)
        escalation.next_duration("1.2.3.4")
        clock.advance(3601)
        assert escalation.next_duration("::ffff:1.2.3.4") == 7200

    def test_offence_during_the_ban_is_the_same_offence(self) -> None:
        clock = Clock()
        escalation = Escalation(clock)
        assert escalation.next_duration("1.2.3.4") == 3600
        clock.advance(5)  # a second connection opened before the ban
        assert escalation.next_duration("1.2.3.4") == 3600
        clock.advance(3600)
        assert escalation.next_duration("1.2.3.4") == 7200

    def test_a_ban_lifted_early_makes_the_next_offence_a_repeat(self) -> None:
        clock = Clock()
        bans = BanList(clock)
        escalation = Escalation(clock, banned=bans.covers)
        for expected in (3600, 7200, 14400):
            duration = escalation.next_duration("1.2.3.4")
            assert duration == expected
            bans.add(Ban("net", "1.2.3.4/32", expires=clock.seconds() + duration))
            clock.advance(60)
            bans.remove("net", "1.2.3.4")  # a sysop lifts it a minute later
            clock.advance(60)

    def test_an_offence_while_the_ban_is_in_force_is_the_same_one(self) -> None:
        clock = Clock()
        bans = BanList(clock)
        escalation = Escalation(clock, banned=bans.covers)
        bans.add(Ban("net", "1.2.3.4/32", expires=3600))
        assert escalation.next_duration("1.2.3.4") == 3600
        clock.advance(5)
        assert escalation.next_duration("1.2.3.4") == 3600

    @pytest.mark.parametrize(("length", "next_length"), [
        (3600, 7200), (7200, 14400), (4 * 3600, 8 * 3600), (128 * 3600, 7 * 86400),
        (7 * 86400, 7 * 86400), (1800, 7200),
    ])
    def test_a_recalled_ban_counts_as_the_offence_its_length_says(
            self, length: float, next_length: float) -> None:
        clock = Clock()
        clock.advance(10_000)
        escalation = Escalation(clock)
        escalation.recall("1.2.3.4", 9_000, 9_000 + length)
        clock.advance(length)
        assert escalation.next_duration("1.2.3.4") == next_length

    def test_recall_never_lowers_what_is_known(self) -> None:
        clock = Clock()
        escalation = Escalation(clock)
        escalation.next_duration("1.2.3.4")
        clock.advance(3601)
        assert escalation.next_duration("1.2.3.4") == 7200
        escalation.recall("1.2.3.4", 0, 3600)
        clock.advance(7201)
        assert escalation.next_duration("1.2.3.4") == 14400

    def test_late_return_keeps_but_does_not_grow(self) -> None:
        clock = Clock()
        escalation = Escalation(clock, findtime=86400, forget=30 * 86400)
        escalation.next_duration("1.2.3.4")
        clock.advance(3600 + 60)
        assert escalation.next_duration("1.2.3.4") == 7200
        clock.advance(7200 + 2 * 86400)  # two days after the ban ended
        assert escalation.next_duration("1.2.3.4") == 7200

    def test_forgotten_after_forget(self) -> None:
        clock = Clock()
        escalation = Escalation(clock, forget=10 * 86400)
        escalation.next_duration("1.2.3.4")
        clock.advance(3700)
        assert escalation.next_duration("1.2.3.4") == 7200
        clock.advance(10 * 86400)
        assert escalation.next_duration("1.2.3.4") == 3600

    def test_ignore_list(self) -> None:
        escalation = Escalation(Clock(), ignore=NetworkSet(["10.0.0.0/8"]))
        assert escalation.next_duration("10.1.2.3") is None
        assert escalation.next_duration("::ffff:10.1.2.3") is None
        assert escalation.next_duration("11.1.2.3") == 3600

    def test_memory_is_bounded(self) -> None:
        clock = Clock()
        escalation = Escalation(clock, max_addresses=100)
        escalation.next_duration("10.0.0.0")
        clock.advance(3601)
        escalation.next_duration("10.0.0.0")  # a repeat offender, 2nd offence
        clock.advance(1)
        for n in range(1, 101):
            escalation.next_duration(f"10.0.1.{n}")
        assert len(escalation._offenders) == 100
        clock.advance(7300)
        # The oldest offender was forgotten to make room.
        assert escalation.next_duration("10.0.0.0") == 3600

    def test_huge_offence_counts_do_not_overflow(self) -> None:
        clock = Clock()
        escalation = Escalation(clock, bantime=1, maxtime=5, findtime=1e9)
        for _ in range(2000):
            duration = escalation.next_duration("1.2.3.4")
            assert duration is not None
            clock.advance(duration)
        assert duration == 5

    def test_bad_settings(self) -> None:
        with pytest.raises(ValueError):
            Escalation(Clock(), bantime=0)
        with pytest.raises(ValueError):
            Escalation(Clock(), bantime=3600, maxtime=60)
