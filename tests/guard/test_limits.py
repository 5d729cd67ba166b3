"""Rate limits, driven by a fake clock."""

from __future__ import annotations

import ipaddress

import pytest
from twisted.internet.task import Clock

from bbs.guard.addresses import NetworkSet
from bbs.guard.limits import (
    ConnectionLimiter,
    LoginThrottle,
    MessageLimiter,
    TokenBucket,
    Verdict,
    source_of,
)


class TestTokenBucket:
    def test_burst_then_empty(self) -> None:
        bucket = TokenBucket(Clock(), rate=1.0, burst=3)
        assert [bucket.take() for _ in range(4)] == [True, True, True, False]

    def test_refill(self) -> None:
        clock = Clock()
        bucket = TokenBucket(clock, rate=2.0, burst=3)
        for _ in range(3):
            bucket.take()
        clock.advance(0.4)
        assert not bucket.take()
        clock.advance(0.1)  # 0.5 s at 2/s: one token
        assert bucket.take()
        assert not bucket.take()

    def test_refill_is_capped_at_burst(self) -> None:
        clock = Clock()
        bucket = TokenBucket(clock, rate=10.0, burst=2)
        clock.advance(1000)
        assert [bucket.take() for _ in range(3)] == [True, True, False]

    def test_clock_going_back_refills_nothing(self) -> None:
        clock = Clock()
        clock.advance(100)
        bucket = TokenBucket(clock, rate=1.0, burst=1)
        assert bucket.take()
        clock.rightNow = 50.0
        assert not bucket.take()

    def test_bad_settings(self) -> None:
        with pytest.raises(ValueError):
            TokenBucket(Clock(), rate=0, burst=1)
        with pytest.raises(ValueError):
            TokenBucket(Clock(), rate=1, burst=0)


def flood(limiter: MessageLimiter, lines: int) -> list[Verdict]:
    return [limiter.check() for _ in range(lines)]


class TestMessageLimiter:
    def test_conversation_passes(self) -> None:
        clock = Clock()
        limiter = MessageLimiter(clock)
        for _ in range(200):
            assert limiter.check() is Verdict.OK
            clock.advance(0.5)

    def test_short_paste_is_cut_not_punished(self) -> None:
        limiter = MessageLimiter(Clock(), rate=5.0, burst=10)
        verdicts = flood(limiter, 15)
        assert verdicts == [Verdict.OK] * 10 + [Verdict.DROP] * 5

    def test_repeated_bursts_drop_mute_kick(self) -> None:
        clock = Clock()
        limiter = MessageLimiter(
            clock, rate=5.0, burst=10, mute_after=3, kick_after=6, window=60
        )
        assert flood(limiter, 10) == [Verdict.OK] * 10
        episodes = []
        for _ in range(6):
            episodes.append(limiter.check())  # the bucket is empty: a strike
            clock.advance(0.2)  # one token back
            assert limiter.check() is Verdict.OK  # ends the episode
        assert episodes == [
            Verdict.DROP,
            Verdict.DROP,
            Verdict.MUTE,
            Verdict.DROP,
            Verdict.DROP,
            Verdict.KICK,
        ]

    def test_long_flood_counts_as_many_episodes(self) -> None:
        limiter = MessageLimiter(Clock(), burst=10, mute_after=3, kick_after=6)
        verdicts = flood(limiter, 10 + 60)
        excess = verdicts[10:]
        assert Verdict.OK not in excess
        # Every 10 dropped lines are one more strike.
        assert excess.index(Verdict.MUTE) == 20
        assert excess.count(Verdict.MUTE) == 1
        assert excess.index(Verdict.KICK) == 50
        assert excess[51:] == [Verdict.DROP] * 9

    def test_flood_after_kick_keeps_kicking(self) -> None:
        limiter = MessageLimiter(Clock(), burst=1, mute_after=1, kick_after=2)
        verdicts = flood(limiter, 1 + 1 + 1)
        assert verdicts == [Verdict.OK, Verdict.MUTE, Verdict.KICK]
        assert limiter.check() is Verdict.KICK

    def test_recovery_after_quiet(self) -> None:
        clock = Clock()
        limiter = MessageLimiter(clock, burst=10, mute_after=3, kick_after=6, window=60)
        flood(limiter, 10 + 20)  # two strikes
        clock.advance(59)
        # Still within the window: one more episode is the third strike.
        flood(limiter, 10)
        assert limiter.check() is Verdict.MUTE
        clock.advance(60)
        # Quiet for a whole window: the slate is clean.
        assert flood(limiter, 10) == [Verdict.OK] * 10
        assert flood(limiter, 20) == [Verdict.DROP] * 20

    def test_strikes_expire_one_by_one(self) -> None:
        clock = Clock()
        limiter = MessageLimiter(clock, burst=1, rate=1.0, mute_after=3, kick_after=4, window=60)
        for _ in range(2):
            limiter.check()
            assert limiter.check() is Verdict.DROP
            clock.advance(40)
        # The first strike is 80 s old, the second 40 s: this is only the second.
        limiter.check()
        assert limiter.check() is Verdict.DROP
        clock.advance(1)
        limiter.check()
        assert limiter.check() is Verdict.MUTE

    def test_bad_settings(self) -> None:
        with pytest.raises(ValueError):
            MessageLimiter(Clock(), mute_after=7, kick_after=6)
        with pytest.raises(ValueError):
            MessageLimiter(Clock(), window=0)


class TestConnectionLimiter:
    def test_per_address(self) -> None:
        limiter = ConnectionLimiter(Clock(), per_address=2)
        assert limiter.admit("1.2.3.4") is None
        assert limiter.admit("1.2.3.4") is None
        refusal = limiter.admit("1.2.3.4")
        assert refusal is not None and "Too many connections" in refusal
        assert limiter.admit("1.2.3.5") is None
        limiter.release("1.2.3.4")
        assert limiter.admit("1.2.3.4") is None

    def test_mapped_address_is_the_same_address(self) -> None:
        limiter = ConnectionLimiter(Clock(), per_address=1)
        assert limiter.admit("1.2.3.4") is None
        assert limiter.admit("::ffff:1.2.3.4") is not None
        limiter.release("::ffff:1.2.3.4")
        assert limiter.connections == 0

    def test_total(self) -> None:
        limiter = ConnectionLimiter(Clock(), total=3, trusted=NetworkSet(["10.0.0.0/8"]))
        for n in range(3):
            assert limiter.admit(f"1.2.3.{n}") is None
        refusal = limiter.admit("5.6.7.8")
        assert refusal is not None and "full" in refusal
        # Trust does not override the total: it protects the server itself.
        assert limiter.admit("10.0.0.1") is not None
        limiter.release("1.2.3.0")
        assert limiter.admit("5.6.7.8") is None
        assert limiter.connections == 3

    def test_rate(self) -> None:
        clock = Clock()
        limiter = ConnectionLimiter(clock, rate=3, rate_window=10.0)
        for _ in range(3):
            assert limiter.admit("1.2.3.4") is None
            limiter.release("1.2.3.4")
            clock.advance(1)
        refusal = limiter.admit("1.2.3.4")
        assert refusal is not None and "too fast" in refusal
        assert limiter.admit("1.2.3.5") is None  # others are not affected
        clock.advance(10)
        assert limiter.admit("1.2.3.4") is None

    def test_hammering_keeps_an_address_out(self) -> None:
        clock = Clock()
        limiter = ConnectionLimiter(clock, rate=3, rate_window=10.0)
        for _ in range(3):
            limiter.admit("1.2.3.4")
            limiter.release("1.2.3.4")
        for _ in range(30):
            clock.advance(2)  # five attempts every ten seconds
            assert limiter.admit("1.2.3.4") is not None
        clock.advance(10)
        assert limiter.admit("1.2.3.4") is None

    def test_trusted_are_exempt_from_per_address_and_rate(self) -> None:
        limiter = ConnectionLimiter(
            Clock(), per_address=1, rate=2, trusted=NetworkSet(["192.0.2.0/24", "2001:db8::/32"])
        )
        for _ in range(20):
            assert limiter.admit("192.0.2.9") is None
            assert limiter.admit("2001:db8::1") is None
        assert limiter.connections == 40
        assert limiter.admit("198.51.100.1") is None
        assert limiter.admit("198.51.100.1") is not None

    def test_release_without_admit_is_harmless(self) -> None:
        limiter = ConnectionLimiter(Clock())
        limiter.release("1.2.3.4")
        assert limiter.connections == 0
        assert limiter.admit("1.2.3.4") is None
        limiter.release("1.2.3.4")
        limiter.release("1.2.3.4")
        assert limiter.connections == 0

    def test_idle_addresses_are_forgotten(self) -> None:
        clock = Clock()
        limiter = ConnectionLimiter(clock, rate_window=10.0)
        for n in range(200):
            limiter.admit(f"10.0.0.{n}")
            limiter.release(f"10.0.0.{n}")
        assert len(limiter._attempts) == 200
        clock.advance(10)
        limiter.admit("192.0.2.1")
        assert len(limiter._attempts) == 1
        assert limiter._open == {ipaddress.IPv4Address("192.0.2.1"): 1}

    def test_bad_address(self) -> None:
        with pytest.raises(ValueError, match="not an IP address"):
            ConnectionLimiter(Clock()).admit("nonsense")

    def test_ipv6_addresses_of_one_64_share_one_allowance(self) -> None:
        limiter = ConnectionLimiter(Clock(), per_address=5, rate=1000)
        admitted = [limiter.admit(f"2001:db8::{n:x}") for n in range(1, 51)]
        assert admitted[:5] == [None] * 5
        assert all(r is not None for r in admitted[5:])
        assert "Too many connections from your network (2001:db8::/64)" in admitted[5]
        # The next /64 is someone else.
        assert limiter.admit("2001:db8:0:1::1") is None
        # Released from any address of the /64, a connection frees its place.
        limiter.release("2001:db8::ffff:1")
        assert limiter.admit("2001:db8::abcd") is None
        assert limiter.connections == 6

    def test_ipv6_connection_rate_counts_the_whole_64(self) -> None:
        limiter = ConnectionLimiter(Clock(), rate=3, rate_window=10.0)
        for n in range(3):
            assert limiter.admit(f"2001:db8::{n + 1}") is None
            limiter.release(f"2001:db8::{n + 1}")
        refusal = limiter.admit("2001:db8::99")
        assert refusal is not None and "too fast" in refusal
        assert limiter.admit("2001:db8:1::1") is None

    @pytest.mark.parametrize("prefix, neighbour, next_64", [
        (128, None, None), (112, "refused", None), (48, "refused", "refused"),
    ])
    def test_the_ipv6_prefix_is_configurable(self, prefix, neighbour, next_64) -> None:
        limiter = ConnectionLimiter(Clock(), per_address=1, ipv6_prefix=prefix)
        assert limiter.admit("2001:db8::1") is None
        assert ("refused" if limiter.admit("2001:db8::2") else None) == neighbour
        assert ("refused" if limiter.admit("2001:db8:0:1::1") else None) == next_64

    def test_ipv4_is_counted_per_address_whatever_the_ipv6_prefix(self) -> None:
        limiter = ConnectionLimiter(Clock(), per_address=1, ipv6_prefix=16)
        assert limiter.admit("192.0.2.1") is None
        assert limiter.admit("192.0.2.2") is None
        assert limiter.admit("::ffff:192.0.2.3") is None
        refusal = limiter.admit("192.0.2.1")
        assert refusal == "Too many connections from your address; close one and try again."

    def test_a_bad_ipv6_prefix_is_refused(self) -> None:
        with pytest.raises(ValueError, match="IPv6 prefix"):
            ConnectionLimiter(Clock(), ipv6_prefix=129)

    def test_source_of(self) -> None:
        v6 = ipaddress.IPv6Address("2001:db8::1:2:3:4")
        assert source_of(v6, 64) == ipaddress.IPv6Network("2001:db8::/64")
        assert source_of(v6, 128) == v6
        v4 = ipaddress.IPv4Address("192.0.2.1")
        assert source_of(v4, 64) == v4


class TestLoginThrottle:
    def test_free_failures_then_growing_delay(self) -> None:
        throttle = LoginThrottle(Clock(), free=3, base_delay=1.0, max_delay=30.0)
        delays = []
        for _ in range(9):
            throttle.failed("1.2.3.4", "alice")
            delays.append(throttle.delay("1.2.3.4", "alice"))
        assert delays == [0, 0, 0, 1, 2, 4, 8, 16, 30]

    def test_delay_counts_down(self) -> None:
        clock = Clock()
        throttle = LoginThrottle(clock, free=0, base_delay=2.0)
        throttle.failed("1.2.3.4", "alice")
        assert throttle.delay("1.2.3.4", "alice") == 2.0
        clock.advance(1.5)
        assert throttle.delay("1.2.3.4", "alice") == 0.5
        clock.advance(1)
        assert throttle.delay("1.2.3.4", "alice") == 0

    def test_per_account_across_addresses(self) -> None:
        throttle = LoginThrottle(Clock(), free=3)
        for n in range(5):
            throttle.failed(f"10.0.0.{n}", "Alice")
        # A fresh address guessing the same account waits; folding applies.
        assert throttle.delay("10.9.9.9", "ALICE") == 2.0
        assert throttle.delay("10.9.9.9", "bob") == 0

    def test_per_address_across_accounts(self) -> None:
        throttle = LoginThrottle(Clock(), free=3)
        for n in range(5):
            throttle.failed("1.2.3.4", f"user{n}")
        assert throttle.delay("1.2.3.4", "carol") == 2.0
        assert throttle.delay("::ffff:1.2.3.4", "carol") == 2.0
        assert throttle.delay("1.2.3.5", "carol") == 0

    def test_lock_per_address(self) -> None:
        clock = Clock()
        throttle = LoginThrottle(clock, lock_after=10, lock_time=900)
        for n in range(9):
            throttle.failed("1.2.3.4", f"user{n}")
        assert throttle.locked("1.2.3.4", "anyone") is None
        throttle.failed("1.2.3.4", "user9")
        assert throttle.locked("1.2.3.4", "anyone") == 900
        assert throttle.locked("1.2.3.5", "anyone") is None
        clock.advance(899)
        assert throttle.locked("1.2.3.4", "anyone") == 1
        clock.advance(1)
        assert throttle.locked("1.2.3.4", "anyone") is None
        # The lock's end forgets the failures too.
        assert throttle.delay("1.2.3.4", "anyone") == 0

    def test_lock_per_account(self) -> None:
        throttle = LoginThrottle(Clock(), lock_after=10, lock_time=900)
        for n in range(10):
            throttle.failed(f"10.0.0.{n}", "alice")
        assert throttle.locked("192.0.2.1", "Alice") == 900
        assert throttle.locked("192.0.2.1", "bob") is None

    def test_failures_are_forgotten_after_lock_time(self) -> None:
        clock = Clock()
        throttle = LoginThrottle(clock, free=3, lock_time=900)
        for _ in range(5):
            throttle.failed("1.2.3.4", "alice")
        clock.advance(900)
        throttle.failed("1.2.3.4", "alice")
        assert throttle.delay("1.2.3.4", "alice") == 0

    def test_success_forgets(self) -> None:
        throttle = LoginThrottle(Clock(), free=1)
        for _ in range(5):
            throttle.failed("1.2.3.4", "alice")
        throttle.succeeded("1.2.3.4", "alice")
        assert throttle.delay("1.2.3.4", "alice") == 0
        assert throttle.delay("1.2.3.4", "bob") == 0
        assert throttle.delay("5.6.7.8", "alice") == 0

    def test_memory_is_bounded(self) -> None:
        throttle = LoginThrottle(Clock(), max_tracked=10)
        for n in range(50):
            throttle.failed(f"10.0.0.{n}", f"user{n}")
        assert len(throttle._failures) == 10

    def test_bad_settings(self) -> None:
        with pytest.raises(ValueError):
            LoginThrottle(Clock(), free=10, lock_after=10)
        with pytest.raises(ValueError):
            LoginThrottle(Clock(), base_delay=5, max_delay=1)


def test_token_bucket_says_how_long_until_the_next_token() -> None:
    clock = Clock()
    bucket = TokenBucket(clock, rate=0.1, burst=2)
    assert bucket.wait() == 0.0
    assert bucket.take() and bucket.take() and not bucket.take()
    assert bucket.wait() == pytest.approx(10.0)
    clock.advance(4)
    assert bucket.wait() == pytest.approx(6.0)  # asking spends nothing
    clock.advance(6)
    assert bucket.wait() == 0.0 and bucket.take()
