"""The database file: schema versions, durability, and failing disks."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from contextlib import closing
from pathlib import Path

import pytest

import bbs
from bbs.store import (
    BanRecord,
    HistoryEntry,
    SchemaTooNew,
    SQLiteStore,
    StoreError,
)
from bbs.store.schema import MIGRATIONS, SCHEMA_VERSION
from tests.store.peek import account_keys, bans_counter


def _raw(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def test_fresh_database(tmp_path: Path) -> None:
    path = tmp_path / "bbs.sqlite3"
    store = SQLiteStore(path)
    store.open()
    store.close()
    with closing(_raw(path)) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_data_survives_close_and_reopen(tmp_path: Path) -> None:
    path = tmp_path / "bbs.sqlite3"
    store = SQLiteStore(path)
    store.open()
    store.create_account("Alice", "h", sysop=True)
    store.send_mail("bob", "alice", "hello", 1.0)
    store.add_post("general", "alice", "Hi", "Body", 2.0)
    store.append_history(HistoryEntry("lobby", "alice", "hi", "say", 3.0))
    ban = store.add_ban(BanRecord(None, "nick", "Mallory", "spam", "alice", 4.0, None))
    store.close()

    again = SQLiteStore(path)
    again.open()
    try:
        assert again.get_account("alice").is_sysop  # type: ignore[union-attr]
        assert [m.text for m in again.inbox("alice")] == ["hello"]
        assert again.get_post("general", 1).body == "Body"  # type: ignore[union-attr]
        assert [e.text for e in again.recent_history("lobby")] == ["hi"]
        assert again.list_bans(0) == [ban]
    finally:
        again.close()


def test_migration_from_version_1(tmp_path: Path) -> None:
    """A database written by the first release is upgraded and keeps its data."""
    path = tmp_path / "bbs.sqlite3"
    with closing(_raw(path)) as db:
        for statement in MIGRATIONS[0]:
            db.execute(statement)
        db.execute("PRAGMA user_version = 1")
        db.execute(
            "INSERT INTO accounts (nick_key, nick, password_hash, is_sysop, created)"
            " VALUES ('alice', 'Alice', 'h', 1, 5.0)"
        )
        db.execute(
            "INSERT INTO mail (recipient_key, sender, sent, text) VALUES ('alice', 'bob', 6.0, 'hi')"
        )
        db.execute(
            "INSERT INTO bans (kind, target, target_key, reason, set_by, created)"
            " VALUES ('net', '192.0.2.0/24', '192.0.2.0/24', 'spam', 'alice', 7.0)"
        )

    store = SQLiteStore(path)
    store.open()
    try:
        account = store.get_account("ALICE")
        assert account is not None and (account.nick, account.is_sysop) == ("Alice", True)
        assert [m.text for m in store.inbox("alice")] == ["hi"]
        assert [b.target for b in store.list_bans(0)] == ["192.0.2.0/24"]
        # What version 2 added works.
        version = bans_counter(path)
        store.remove_ban("net", "192.0.2.0/24")
        assert bans_counter(path) != version
        store.append_history(HistoryEntry("lobby", "alice", "hi", "say", 8.0))
        assert len(store.recent_history("lobby")) == 1
        # What version 3 added works, and counts from the accounts already there.
        assert account_keys(store) == {"alice"}
        version = store.accounts_version()
        # What version 6 added works: keys on an account that was there before.
        store.add_key("alice", "ssh-ed25519", b"blob", "", "SHA256:x", 9.0)
        assert store.has_key("ALICE", b"blob")
        store.delete_account("alice")
        assert store.accounts_version() != version
        assert not store.has_key("alice", b"blob")
    finally:
        store.close()
    with closing(_raw(path)) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)


def test_schema_too_new_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "bbs.sqlite3"
    with closing(_raw(path)) as db:
        db.execute("CREATE TABLE future (x)")
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    before = path.read_bytes()
    store = SQLiteStore(path)
    with pytest.raises(SchemaTooNew, match=f"version {SCHEMA_VERSION + 1}.*newer hfnjbbs"):
        store.open()
    assert path.read_bytes() == before
    with pytest.raises(StoreError, match="not open"):
        store.list_accounts()


def test_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "bbs.sqlite3"
    path.write_bytes(b"this is not a database, it is a shopping list\n" * 100)
    before = path.read_bytes()
    with pytest.raises(StoreError, match="Could not open the database"):
        SQLiteStore(path).open()
    assert path.read_bytes() == before


def test_disk_full_is_a_store_error_and_changes_nothing(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "bbs.sqlite3")
    store.open()
    try:
        store.create_account("Alice", "h")
        # Deterministic "disk full": forbid the file from growing.
        writer = store._writer
        assert writer is not None
        (pages,) = writer.execute("PRAGMA page_count").fetchone()
        writer.execute(f"PRAGMA max_page_count = {pages}")
        with pytest.raises(StoreError, match="Could not save the post: database or disk is full"):
            store.add_post("general", "alice", "big", "x" * 100_000, 1.0)
        assert store.list_posts("general") == []
        # Space again: the same store carries on.
        writer.execute("PRAGMA max_page_count = 1073741823")
        assert store.add_post("general", "alice", "big", "x" * 100_000, 1.0) == 1
    finally:
        store.close()


def test_locked_database_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "bbs.sqlite3"
    store = SQLiteStore(path, busy_timeout=0.01)
    store.open()
    try:
        with closing(_raw(path)) as other:
            other.execute("BEGIN IMMEDIATE")
            with pytest.raises(StoreError, match="Could not create the account: database is locked"):
                store.create_account("Alice", "h")
            # Readers are not blocked by the other writer.
            assert store.get_account("Alice") is None
            other.execute("ROLLBACK")
        store.create_account("Alice", "h")
        assert store.get_account("alice") is not None
    finally:
        store.close()


_WRITER = textwrap.dedent(
    """
    import sys
    from bbs.store import SQLiteStore
    store = SQLiteStore(sys.argv[1])
    store.open()
    store.create_account("alice", "h")
    for n in range(5000):
        number = store.add_post("general", "alice", str(n), "body", float(n))
        print(number, flush=True)
    """
)


def test_acknowledged_writes_survive_kill_9(tmp_path: Path) -> None:
    path = tmp_path / "bbs.sqlite3"
    env = dict(os.environ, PYTHONPATH=str(Path(bbs.__file__).parent.parent))
    child = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(path)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    acknowledged: list[int] = []
    try:
        assert child.stdout is not None
        while len(acknowledged) < 30:
            line = child.stdout.readline()
            assert line, "the writer died before acknowledging 30 posts"
            acknowledged.append(int(line))
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL

    store = SQLiteStore(path)
    store.open()
    try:
        numbers = {p.number for p in store.list_posts("general", limit=10_000)}
        assert set(acknowledged) <= numbers
    finally:
        store.close()
    with closing(_raw(path)) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
