"""The rate counters every layer shares (bbs/rates.py), on a fake clock."""

from __future__ import annotations

import pytest
from twisted.internet.task import Clock

from bbs.rates import Paced, RateLimit, TokenBucket


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


def test_the_log_allowance_table_is_bounded():
    clock = Clock()
    summaries: list[tuple[str, int]] = []
    limit = RateLimit(clock, rate=1, per=60, summary=lambda a, n: summaries.append((a, n)),
                      addresses=100)
    for n in range(10_000):
        limit.allow(f"10.0.{n // 256}.{n % 256}")
        limit.allow(f"10.0.{n // 256}.{n % 256}")
    assert len(limit._windows) <= 100
    assert len(summaries) == 10_000 - 100  # ended early, counted all the same
    assert all(count == 1 for _, count in summaries)


def test_the_first_size_is_told_even_the_default_and_a_size_told_is_not_told_again():
    told: list[tuple[int, int]] = []
    reports = Paced(Clock(), 2.0, 4)
    reports.offer((80, 24), told.append)
    reports.offer((80, 24), told.append)
    assert told == [(80, 24)]


def test_a_storm_past_the_allowance_is_told_once_as_the_size_it_ends_on():
    clock, told = Clock(), []
    reports = Paced(clock, 2.0, 4)
    for width in range(30, 60):
        reports.offer((width, 24), told.append)
    assert told == [(30, 24), (31, 24), (32, 24), (33, 24)]
    clock.advance(0.5)
    assert told[-1] == (59, 24) and len(told) == 5
    clock.advance(10)
    assert len(told) == 5


def test_nothing_is_told_once_cancelled():
    clock, told = Clock(), []
    reports = Paced(clock, 1.0, 1)
    reports.offer((80, 24), told.append)
    reports.offer((100, 30), told.append)
    reports.cancel()
    clock.advance(10)
    assert told == [(80, 24)]
