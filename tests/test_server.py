"""The server takes up bans changed from outside by their changes, not by
reading every ban again; new bans are matched against the people online, not
the people against every ban; expired bans leave the store on a schedule."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bbs.guard.bantable import NetworkBans
from bbs.config import Config
from bbs.server import BBS, BOT_BANNER, PRUNE_EVERY, STORE_POLL
from bbs.store import BanRecord, SQLiteStore
from tests.world import InlinePool, World

HOUR = 3600.0
HELD = 2000


@pytest.fixture
def world(tmp_path) -> Iterator[tuple[World, SQLiteStore]]:
    """A server with HELD bans in its store, which shares the world's clock."""
    w = World()
    w.clock.advance(1_800_000_000)
    store = SQLiteStore(tmp_path / "bbs.sqlite3", clock=w.clock.seconds)
    store.open()
    now = w.clock.seconds()
    with store._writing() as db:  # in one transaction: a fsync per ban is slow
        db.executemany(
            "INSERT INTO bans (kind, target, target_key, reason, set_by, created, expires)"
            " VALUES ('net', ?1, ?1, 'bot: login-root', ?2, ?3, ?4)",
            [(f"10.{n // 256}.{n % 256}.1/32", BOT_BANNER, now, now + 7 * 86400)
             for n in range(HELD)],
        )
    w.bbs = BBS(Config(), pool=InlinePool(), events=w.events, clock=w.clock, store=store)
    w.bbs.startService()
    yield w, store
    w.bbs.stopService()
    store.close()


def admin_ban(store: SQLiteStore, target: str, kind: str = "net", *,
              expires: float | None = None, reason: str = "spam") -> None:
    """What hfnjbbs-admin ban add does: a write by another hand."""
    store.add_ban(BanRecord(None, kind, target, reason, "console", 0.0, expires))


def test_bans_added_and_lifted_outside_are_taken_up_without_reading_every_ban(world, monkeypatch):
    w, store = world
    assert len(w.bbs.bans) == HELD and "banned" in w.bbs.admit("10.0.5.1")

    def everything(*args):
        raise AssertionError("every ban was read again")

    monkeypatch.setattr(store, "ban_rows", everything)
    monkeypatch.setattr(store, "list_bans", everything)
    read = []
    changes = store.ban_changes
    monkeypatch.setattr(store, "ban_changes", lambda since: read.append(r := changes(since)) or r)
    admin_ban(store, "192.0.2.0/24")
    admin_ban(store, "mallory", "nick")
    store.remove_ban("net", "10.0.5.1/32")
    w.clock.advance(STORE_POLL)
    assert "You are banned: spam" in w.bbs.admit("192.0.2.77")
    assert w.bbs.admit("10.0.5.1") is None
    assert w.bbs.bans.match_nick("Mallory") is not None
    assert len(w.bbs.bans) == HELD + 1
    (seen,) = read
    assert len(seen.bans) == 2 and len(seen.lifted) == 1  # the three changes, nothing else
    w.clock.advance(STORE_POLL)
    assert read[1].bans == () and read[1].lifted == ()


def test_a_ban_taken_up_cuts_off_only_the_people_it_covers(world, monkeypatch):
    w, store = world
    covered, ct = w.guest("192.0.2.5")
    other, ot = w.guest("192.0.2.6")
    named, nt = w.guest("192.0.2.7")
    w.bbs.hub.claim(named, "Mallory")
    # The held bans are not looked at: only the new ones are matched.
    monkeypatch.setattr(NetworkBans, "__iter__", lambda self: pytest.fail("every ban was scanned"))
    admin_ban(store, "192.0.2.5/32", reason="flooding")
    admin_ban(store, "mallory", "nick", reason="rude")
    w.clock.advance(STORE_POLL)
    assert ct.disconnecting and "You are banned: flooding (permanent)" in ct.value().decode()
    assert nt.disconnecting and "You are banned: rude (permanent)" in nt.value().decode()
    assert not ot.disconnecting


def test_expired_bans_are_pruned_from_the_store_on_schedule_and_leave_memory(world):
    w, store = world
    admin_ban(store, "192.0.2.1/32", expires=w.clock.seconds() + 30)
    w.clock.advance(STORE_POLL)
    assert "banned" in w.bbs.admit("192.0.2.1")
    w.clock.advance(PRUNE_EVERY - STORE_POLL)  # the prune deletes it from the store
    assert [b.target for b in store.list_bans(0) if b.target == "192.0.2.1/32"] == []
    w.clock.advance(7 * 86400)  # every held ban has ended
    w.clock.advance(PRUNE_EVERY)
    assert store.list_bans(0) == []
    assert len(w.bbs.bans) == 0
    assert w.bbs.admit("10.0.5.1") is None


def test_a_bot_whose_ban_ended_while_held_is_a_repeat_offender(world):
    w, store = world
    from tests.world import bot_ban

    assert bot_ban(w, "192.0.2.44") == HOUR
    w.clock.advance(HOUR + PRUNE_EVERY + STORE_POLL)  # ended, pruned, the feed says it went
    assert store.list_bans(0) and w.bbs.admit("192.0.2.44") is None
    assert bot_ban(w, "192.0.2.44") == 2 * HOUR


def test_a_server_too_far_behind_reads_every_ban_again(world, monkeypatch):
    from bbs import store as store_module

    w, store = world
    monkeypatch.setattr(store_module, "BAN_CHANGES_KEEP", 5)
    for n in range(20):
        admin_ban(store, f"192.0.2.{n}/32")
    store.remove_ban("net", "10.0.0.1/32")
    store.prune_bans()  # the changes this server has not read yet are gone
    w.clock.advance(STORE_POLL)
    assert "banned" in w.bbs.admit("192.0.2.3")
    assert w.bbs.admit("10.0.0.1") is None
    assert len(w.bbs.bans) == HELD + 20 - 1
