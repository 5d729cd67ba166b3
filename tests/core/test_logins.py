"""Password guessing against sessions: counted as typed, throttled per
address, never locking out the owner elsewhere (task.Clock, no sleeping)."""

from __future__ import annotations

import pytest
from twisted.internet.defer import Deferred
from twisted.internet.error import ConnectionDone
from twisted.python.failure import Failure

from bbs import passwords
from tests.world import World, text
from tests.store.peek import account_keys


class HeldPool:
    """A worker pool whose jobs run only when the test says: checks in flight."""

    def __init__(self) -> None:
        self.jobs: list[tuple[Deferred, object, tuple]] = []

    def run(self, f, *args) -> Deferred:
        d: Deferred = Deferred()
        self.jobs.append((d, f, args))
        return d

    def finish(self) -> int:
        """Run every job queued so far; how many there were."""
        jobs, self.jobs = self.jobs, []
        for d, f, args in jobs:
            d.callback(f(*args))
        return len(jobs)


@pytest.fixture
def alice(store):
    store.create_account("alice", passwords.hash_password("right password"))
    return store


def world_with(store, pool=None) -> World:
    w = World()
    if pool is not None:
        w.bbs.pool = pool
    w.bbs.store, w.bbs.registered = store, account_keys(store)
    return w


def at_password(w: World, ip: str):
    s, t = w.connect(ip)
    s.door_data(b"alice\n")
    assert s._ask is not None, text(t)
    t.clear()
    return s, t


def test_prompts_answered_at_once_are_not_all_checked_at_once(alice):
    pool = HeldPool()
    w = world_with(alice, pool)
    w.bbs.limiter.per_address = w.bbs.limiter.rate = 100
    guessers = [at_password(w, "203.0.113.9") for _ in range(12)]
    for s, _ in guessers[:-1]:
        s.door_data(b"wrong password\n")
    right, rt = guessers[-1]
    right.door_data(b"right password\n")
    assert pool.finish() == 2  # at most two checks of one account at once
    assert pool.finish() == 2  # the other two free ones, as slots come free
    assert pool.finish() == 0  # the fifth waits a second
    w.clock.advance(1)
    assert pool.finish() == 1
    refused = [t for _, t in guessers if "Too many failed logins as alice" in text(t)]
    assert len(refused) == 7
    assert "Too many failed logins as alice from your address; try again in 15m." in text(rt)
    assert right.room is None and right.account is None
    w.clock.advance(60)
    assert pool.finish() == 0  # nothing more was ever checked
    assert sum("Login incorrect" in text(t) for _, t in guessers) == 5


def test_a_guesser_elsewhere_does_not_lock_the_owner_out(alice):
    w = world_with(alice)
    w.bbs.limiter.per_address = w.bbs.limiter.rate = 100
    for n in range(50):
        s, t = at_password(w, f"198.51.100.{n % 10}")
        s.door_data(b"wrong password\n")
        w.clock.advance(30)
        assert "Login incorrect" in text(t)
    owner, t = at_password(w, "192.0.2.7")
    owner.door_data(b"right password\n")
    w.clock.advance(5)  # the account's delay is at most five seconds
    assert owner.account == "alice" and owner.room is not None, text(t)


def test_leaving_during_the_delay_counts_nothing_and_frees_the_turn(alice):
    w = world_with(alice)
    for _ in range(4):
        s, _ = at_password(w, "203.0.113.9")
        s.door_data(b"wrong password\n")
    s, t = at_password(w, "203.0.113.9")
    s.door_data(b"wrong password\n")  # the fifth: waits a second
    assert "Login incorrect" not in text(t)
    s.door.transport.loseConnection()
    s.door.connectionLost(Failure(ConnectionDone()))
    w.clock.advance(1)
    assert "Login incorrect" not in text(t)
    assert w.bbs.throttle.refusal("203.0.113.9", "alice") is None  # four failures, not five
