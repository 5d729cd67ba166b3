"""The bans' change feed and pruning: a server reads what changed since it
last looked (including what was lifted or pruned), never every ban again, and
expired bans leave the store in bounded batches."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from bbs.store import BanChanges, BanRecord, BanRow, SQLiteStore
from bbs.store import sqlite as sqlite_store
from bbs.store.schema import MIGRATIONS
from tests.store.test_store import FakeClock


def ban(target: str, *, kind: str = "net", expires: float | None = None,
        reason: str = "spam") -> BanRecord:
    return BanRecord(None, kind, target, reason, "sysop", 1000.0, expires)  # type: ignore[arg-type]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "bbs.sqlite3"


@pytest.fixture
def server(path: Path, clock: FakeClock) -> Iterator[SQLiteStore]:
    """The server's connection to the database."""
    opened = SQLiteStore(path, clock=clock)
    opened.open()
    yield opened
    opened.close()


@pytest.fixture
def admin(path: Path, server: SQLiteStore, clock: FakeClock) -> Iterator[SQLiteStore]:
    """Another connection to it, as hfnjbbs-admin has."""
    opened = SQLiteStore(path, clock=clock)
    opened.open()
    yield opened
    opened.close()


def targets(changes: BanChanges) -> tuple[list[str], list[str]]:
    return sorted(b.target for b in changes.bans), sorted(t for _, t in changes.lifted)


def test_nothing_changed_reads_nothing(server: SQLiteStore, admin: SQLiteStore) -> None:
    admin.add_ban(ban("192.0.2.1/32"))
    last = server.last_ban_change()
    assert server.ban_changes(last) == BanChanges(last)


def test_changes_by_another_connection_are_seen_and_only_they(
    server: SQLiteStore, admin: SQLiteStore
) -> None:
    for n in range(50):
        admin.add_ban(ban(f"198.51.100.{n}/32"))
    admin.add_ban(ban("Mallory", kind="nick"))
    last = server.last_ban_change()
    admin.add_ban(ban("203.0.113.7/32", reason="new"))
    admin.add_ban(ban("198.51.100.3/32", reason="longer", expires=9000.0))  # replaced
    assert admin.remove_ban("net", "198.51.100.4/32") == 1
    assert admin.remove_ban("nick", "mallory") == 1
    changes = server.ban_changes(last)
    assert changes.complete
    assert targets(changes) == (["198.51.100.3/32", "203.0.113.7/32"],
                                ["198.51.100.4/32", "mallory"])
    replaced = next(b for b in changes.bans if b.target == "198.51.100.3/32")
    assert (replaced.reason, replaced.expires) == ("longer", 9000.0)
    assert changes.last == server.last_ban_change()
    assert server.ban_changes(changes.last) == BanChanges(changes.last)


def test_a_target_changed_twice_is_read_once_as_it_is_now(
    server: SQLiteStore, admin: SQLiteStore
) -> None:
    last = server.last_ban_change()
    admin.add_ban(ban("192.0.2.0/24"))
    admin.remove_ban("net", "192.0.2.0/24")
    admin.add_ban(ban("Eve", kind="nick"))
    admin.remove_ban("nick", "eve")
    admin.add_ban(ban("EVE", kind="nick", reason="again"))
    changes = server.ban_changes(last)
    assert targets(changes) == (["EVE"], ["192.0.2.0/24"])


def test_reading_is_paged(server: SQLiteStore, admin: SQLiteStore) -> None:
    last = server.last_ban_change()
    for n in range(5):
        admin.add_ban(ban(f"192.0.2.{n}/32"))
    first = server.ban_changes(last, limit=3)
    assert targets(first)[0] == ["192.0.2.0/32", "192.0.2.1/32", "192.0.2.2/32"]
    rest = server.ban_changes(first.last, limit=3)
    assert targets(rest)[0] == ["192.0.2.3/32", "192.0.2.4/32"]
    assert rest.last == server.last_ban_change()


def test_a_reader_too_far_behind_is_told_to_read_everything(
    server: SQLiteStore, admin: SQLiteStore, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_store, "BAN_CHANGES_KEEP", 3)
    last = server.last_ban_change()
    for n in range(10):
        admin.add_ban(ban(f"192.0.2.{n}/32"))
    admin.prune_bans()  # keeps the last 3 changes only
    changes = server.ban_changes(last)
    assert not changes.complete and changes.last == server.last_ban_change()
    assert server.ban_changes(changes.last) == BanChanges(changes.last)


def test_change_numbers_never_go_back_even_when_every_change_is_pruned(
    server: SQLiteStore, admin: SQLiteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_store, "BAN_CHANGES_KEEP", 0)
    admin.add_ban(ban("192.0.2.1/32"))
    admin.prune_bans()
    last = server.last_ban_change()
    assert last > 0
    admin.add_ban(ban("192.0.2.2/32"))
    changes = server.ban_changes(last)
    assert changes.complete and targets(changes) == (["192.0.2.2/32"], [])


def test_expired_bans_are_pruned_in_bounded_batches_and_reported_lifted(
    server: SQLiteStore, admin: SQLiteStore, clock: FakeClock
) -> None:
    for n in range(25):
        admin.add_ban(ban(f"192.0.2.{n}/32", expires=1100.0 + n))
    admin.add_ban(ban("198.51.100.1/32"))  # permanent
    admin.add_ban(ban("198.51.100.2/32", expires=5000.0))
    last = server.last_ban_change()
    assert admin.prune_bans() == 0  # nothing has ended yet (the clock says 1000)
    clock.now = 1110.0
    assert admin.prune_bans(batch=4) == 4
    assert admin.prune_bans(batch=4) == 4
    assert admin.prune_bans(batch=4) == 3  # 1100 to 1110 have ended
    assert admin.prune_bans(batch=4) == 0
    assert admin.prune_bans(now=1200.0, batch=100) == 14
    assert len(admin.list_bans(0)) == 2
    changes = server.ban_changes(last)
    assert targets(changes) == ([], sorted(f"192.0.2.{n}/32" for n in range(25)))


def test_ban_rows_are_the_bans_in_force(server: SQLiteStore) -> None:
    kept = server.add_ban(ban("192.0.2.0/24"))
    server.add_ban(ban("192.0.2.9/32", expires=1500.0))
    assert list(server.ban_rows(1500.0)) == [BanRow(kept.id, "net", "192.0.2.0/24", "spam",
                                                    "sysop", 1000.0, None)]


def test_an_old_database_is_migrated_with_its_bans(path: Path, clock: FakeClock) -> None:
    """A file from before the change feed keeps its bans; changes start being recorded."""
    step = len(MIGRATIONS) - 1
    with sqlite3.connect(path) as db:
        for statements in MIGRATIONS[:step]:
            for statement in statements:
                db.execute(statement)
        db.execute("INSERT INTO bans (kind, target, target_key, reason, set_by, created, expires)"
                   " VALUES ('net', '192.0.2.1/32', '192.0.2.1/32', 'old', 'boss', 0, NULL)")
        db.execute(f"PRAGMA user_version = {step}")
    db.close()
    opened = SQLiteStore(path, clock=clock)
    opened.open()
    try:
        assert [b.target for b in opened.ban_rows(0)] == ["192.0.2.1/32"]
        last = opened.last_ban_change()
        opened.remove_ban("net", "192.0.2.1/32")
        assert targets(opened.ban_changes(last)) == ([], ["192.0.2.1/32"])
    finally:
        opened.close()
