"""Rate limits, driven by a fake clock."""

from __future__ import annotations

import ipaddress

import pytest
from twisted.internet.task import Clock

from bbs.guard.addresses import NetworkSet
from bbs.guard.limits import (
    ConnectionLimiter,
    LoginAttempt,
    LoginThrottle,
    MessageLimiter,
    Verdict,
    source_of,
)


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


def fail(throttle: LoginThrottle, address: str, account: str) -> None:
    """Type a wrong password and have it checked at once, whatever the delay."""
    attempt = throttle.attempt(address, account)
    assert isinstance(attempt, LoginAttempt), attempt
    attempt.turn(attempt.failed)


def started(throttle: LoginThrottle, address: str, account: str) -> tuple[LoginAttempt, list]:
    """Type a password; the list gets True once its check may begin."""
    attempt = throttle.attempt(address, account)
    assert isinstance(attempt, LoginAttempt), attempt
    began: list[bool] = []
    attempt.turn(lambda: began.append(True))
    return attempt, began


class TestLoginThrottle:
    def test_free_failures_then_growing_delay(self) -> None:
        throttle = LoginThrottle(Clock(), free=3, base_delay=1.0, max_delay=30.0,
                                 account_max_delay=30.0, lock_after=20, pair_lock_after=20)
        delays = []
        for _ in range(10):
            attempt = throttle.attempt("1.2.3.4", "alice")
            delays.append(attempt.delay)
            attempt.turn(attempt.failed)
        assert delays == [0, 0, 0, 0, 1, 2, 4, 8, 16, 30]

    def test_delay_counts_down(self) -> None:
        clock = Clock()
        throttle = LoginThrottle(clock, free=0, base_delay=2.0)
        fail(throttle, "1.2.3.4", "alice")
        assert throttle.attempt("1.2.3.5", "bob").delay == 0
        clock.advance(1.5)
        attempt = throttle.attempt("1.2.3.4", "carol")
        assert attempt.delay == 0.5

    def test_answers_at_once_count_before_any_is_checked(self) -> None:
        """A hundred prompts answered together are a hundred attempts, not
        a hundred first tries: they are spaced out, then refused."""
        throttle = LoginThrottle(Clock(), free=3, lock_after=10, pair_lock_after=5)
        outcomes = [throttle.attempt("1.2.3.4", "alice") for _ in range(100)]
        delays = [o.delay for o in outcomes if isinstance(o, LoginAttempt)]
        assert delays == [0, 0, 0, 0, 1]
        refused = outcomes[len(delays):]
        assert set(refused) == {
            "Too many failed logins as alice from your address; try again in 15m."
        }

    def test_spraying_many_accounts_from_one_address_is_refused(self) -> None:
        throttle = LoginThrottle(Clock(), free=3, lock_after=10, pair_lock_after=5)
        for n in range(10):
            assert isinstance(throttle.attempt("1.2.3.4", f"user{n}"), LoginAttempt)
        assert throttle.attempt("::ffff:1.2.3.4", "carol") == (
            "Too many failed logins from your address; try again in 15m."
        )
        assert throttle.refusal("1.2.3.4", "carol") is not None
        assert isinstance(throttle.attempt("1.2.3.5", "carol"), LoginAttempt)

    def test_a_running_check_that_succeeds_stops_counting(self) -> None:
        throttle = LoginThrottle(Clock(), free=0, pair_lock_after=2, lock_after=3)
        first, _ = started(throttle, "1.2.3.4", "alice")
        second, _ = started(throttle, "1.2.3.4", "alice")
        assert throttle.refusal("1.2.3.4", "alice") is not None  # both might fail
        first.succeeded()
        second.succeeded()
        assert throttle.refusal("1.2.3.4", "alice") is None

    def test_an_attempt_abandoned_before_its_check_counts_for_nothing(self) -> None:
        throttle = LoginThrottle(Clock(), free=0, account_parallel=1, pair_lock_after=2)
        running, _ = started(throttle, "1.2.3.4", "alice")
        queued, began = started(throttle, "1.2.3.5", "alice")
        assert not began
        queued.abandon()
        running.abandon()  # already checking: its verdict ends it, not this
        assert not running.over
        running.failed()
        waiting, began = started(throttle, "1.2.3.5", "alice")
        assert began  # the abandoned one neither holds a slot nor counts
        waiting.failed()
        assert throttle.refusal("1.2.3.5", "alice") is None

    def test_an_owner_elsewhere_is_slowed_never_refused(self) -> None:
        """Anyone can fail at alice's password for ever; alice, typing it
        right from another address, waits at most account_max_delay."""
        clock = Clock()
        throttle = LoginThrottle(clock, account_max_delay=5.0, lock_time=900)
        for round_ in range(5):
            for n in range(20):
                fail(throttle, f"10.0.{round_}.{n}", "alice")
            clock.advance(60)
        attempt = throttle.attempt("192.0.2.1", "Alice")
        assert isinstance(attempt, LoginAttempt)
        assert attempt.delay <= 5.0
        clock.advance(attempt.delay)
        began: list[bool] = []
        attempt.turn(lambda: began.append(True))
        assert began
        attempt.succeeded()

    def test_checks_of_one_account_run_a_few_at_a_time_in_order(self) -> None:
        throttle = LoginThrottle(Clock(), account_parallel=2, free=100, lock_after=200,
                                 pair_lock_after=200)
        order: list[int] = []
        attempts = []
        for n in range(5):
            attempt = throttle.attempt(f"10.0.0.{n}", "alice")
            attempt.turn(lambda n=n: order.append(n))
            attempts.append(attempt)
        assert order == [0, 1]
        assert started(throttle, "10.0.1.1", "bob")[1]  # another account is not held up
        attempts[1].failed()
        assert order == [0, 1, 2]
        attempts[0].succeeded()
        attempts[2].release()
        assert order == [0, 1, 2, 3, 4]

    def test_lock_ends_after_lock_time(self) -> None:
        clock = Clock()
        throttle = LoginThrottle(clock, lock_after=10, pair_lock_after=5, lock_time=900)
        for _ in range(5):
            fail(throttle, "1.2.3.4", "alice")
        assert throttle.refusal("1.2.3.4", "alice") == (
            "Too many failed logins as alice from your address; try again in 15m."
        )
        assert throttle.refusal("1.2.3.4", "bob") is None
        clock.advance(899)
        assert throttle.refusal("1.2.3.4", "alice") is not None
        clock.advance(1)
        assert throttle.refusal("1.2.3.4", "alice") is None
        assert throttle.attempt("1.2.3.4", "alice").delay == 0

    def test_success_forgets_only_its_account_at_its_address(self) -> None:
        throttle = LoginThrottle(Clock(), free=1, lock_after=10, pair_lock_after=5)
        for _ in range(4):
            fail(throttle, "1.2.3.4", "alice")
        for n in range(5):
            fail(throttle, "1.2.3.4", f"user{n}")
        own, _ = started(throttle, "1.2.3.4", "mallory")
        own.succeeded()  # an account of one's own does not wipe the guesses
        fail(throttle, "1.2.3.4", "bob")  # the tenth failure from the address
        assert throttle.refusal("1.2.3.4", "mallory") == (
            "Too many failed logins from your address; try again in 15m."
        )

    def test_memory_is_bounded(self) -> None:
        throttle = LoginThrottle(Clock(), max_tracked=10)
        for n in range(50):
            fail(throttle, f"10.0.0.{n}", f"user{n}")
        assert len(throttle._tallies) == 10
        assert not throttle._running and not throttle._waiting

    def test_bad_settings(self) -> None:
        with pytest.raises(ValueError):
            LoginThrottle(Clock(), free=10, lock_after=10)
        with pytest.raises(ValueError):
            LoginThrottle(Clock(), free=5, pair_lock_after=5)
        with pytest.raises(ValueError):
            LoginThrottle(Clock(), base_delay=5, max_delay=1)
        with pytest.raises(ValueError):
            LoginThrottle(Clock(), account_parallel=0)
