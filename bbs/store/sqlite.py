"""L{IStore} in one SQLite file, C{bbs.sqlite3} in the data directory.

Durability choices, and why:

  - C{journal_mode=WAL}: readers (the worker threads, the admin command) run
    beside the one writer instead of waiting for it.
  - C{synchronous=FULL}: in WAL mode C{NORMAL} already survives a killed
    process, but a power loss or kernel crash may roll back the last commits.
    C{FULL} syncs the log at every commit, so a write that was acknowledged
    survives both. Writes are rare (accounts, mail, posts, bans) and room
    history is flushed in batches, so one sync per commit is affordable.
  - Every public write is one transaction, committed before the method
    returns: "done" means "on disk".
  - C{busy_timeout}: C{hfnjbbs-admin} writes while the server runs; each side
    waits for the other's short transaction instead of failing.

The schema is versioned with C{PRAGMA user_version}; L{MIGRATIONS}
(L{bbs.store.schema}) is applied in order at open. A file written by a newer
version is refused, untouched.
SQLite errors (disk full, I/O errors, locked too long) come out as
L{StoreError}, after which the store is still usable.
"""

from __future__ import annotations

import functools
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing, contextmanager, suppress
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import attrs
from zope.interface import implementer

from bbs.store.bounds import (
    BAN_CHANGES_KEEP, BAN_CHANGES_READ, HISTORY_KEEP, KEYS_PER_ACCOUNT, MAILBOX_LIMIT, PRUNE_BATCH,
)
from bbs.store.errors import (
    AccountExists, KeyExists, MailboxFull, NoSuchAccount, NoSuchBoard, SchemaTooNew, StoreError,
    TooManyKeys,
)
from bbs.store.interface import IStore
from bbs.store.records import (
    Account, AccountKey, BanChanges, BanRecord, BanRow, BoardInfo, HistoryEntry, Mail, Post, PostHeader,
)
from bbs.store.schema import MIGRATIONS, SCHEMA_VERSION
from bbs.text import fold

DATABASE_NAME = "bbs.sqlite3"

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _surfaced(doing: str) -> Callable[[Callable[_P, _R]], Callable[_P, _R]]:
    """Turn SQLite's errors in the decorated method into L{StoreError}."""

    def decorate(method: Callable[_P, _R]) -> Callable[_P, _R]:
        @functools.wraps(method)
        def surfaced(*args: _P.args, **kwargs: _P.kwargs) -> _R:
            try:
                return method(*args, **kwargs)
            except sqlite3.Error as e:
                raise StoreError(f"Could not {doing}: {e}") from e

        return surfaced

    return decorate


_ACCOUNT = "SELECT nick, password_hash, is_sysop, created, last_seen FROM accounts"
_BOARD = """
    SELECT b.name, b.description, b.post_role, COUNT(p.id), MAX(p.posted)
    FROM boards AS b LEFT JOIN posts AS p ON p.board_id = b.id
"""
_BAN = "SELECT id, kind, target, reason, set_by, created, expires FROM bans"
# Kept by AUTOINCREMENT even when the rows are pruned.
_LAST_BAN_CHANGE = (
    "SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'ban_changes'), 0)"
)


def _account(row: tuple[Any, ...]) -> Account:
    nick, password_hash, is_sysop, created, last_seen = row
    return Account(nick, password_hash, bool(is_sysop), created, last_seen)


@implementer(IStore)
class SQLiteStore:
    """L{IStore} in one SQLite file, safe to share between threads.

    Writes go through one connection, one at a time under a lock (the single
    writer). Each thread that reads gets its own connection, so reads never
    wait for the lock; WAL lets them run while a write is in progress.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        busy_timeout: float = 5.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = Path(path)
        self._busy_timeout = busy_timeout
        self._clock = clock
        # Held for the whole of each write transaction: the single writer.
        self._lock = threading.Lock()
        self._writer: sqlite3.Connection | None = None
        self._local = threading.local()
        # Guards the list of reader connections; never held while waiting
        # for the database, so starting a reader never waits for a write.
        self._readers_lock = threading.Lock()
        self._readers: list[sqlite3.Connection] = []
        # Bumped at every open and close so that a thread's reader connection
        # from an earlier opening is never used again.
        self._generation = 0

    def __repr__(self) -> str:
        return f"<SQLiteStore {str(self.path)!r}>"

    # Connections

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(
            self.path,
            timeout=self._busy_timeout,
            isolation_level=None,
            check_same_thread=False,
        )
        connection.execute("PRAGMA foreign_keys = ON")
        return connection

    @_surfaced("open the database")
    def open(self) -> None:
        with self._lock:
            if self._writer is not None:
                return
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise StoreError(f"Could not create {self.path.parent}: {e}") from e
            writer = self._connect()
            try:
                self._check_version(writer)
                writer.execute("PRAGMA journal_mode = WAL").fetchall()
                writer.execute("PRAGMA synchronous = FULL")
                self._migrate(writer)
            except BaseException:
                writer.close()
                raise
            with self._readers_lock:
                self._generation += 1
                self._writer = writer

    def _check_version(self, connection: sqlite3.Connection) -> None:
        (version,) = connection.execute("PRAGMA user_version").fetchone()
        if version > SCHEMA_VERSION:
            raise SchemaTooNew(
                f"{self.path} has schema version {version}, but this hfnjbbs "
                f"only knows versions up to {SCHEMA_VERSION}: it was written by "
                "a newer hfnjbbs. Upgrade hfnjbbs, or restore a backup."
            )

    def _migrate(self, connection: sqlite3.Connection) -> None:
        connection.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have migrated while we waited for the lock.
            self._check_version(connection)
            (version,) = connection.execute("PRAGMA user_version").fetchone()
            for step in MIGRATIONS[version:]:
                for statement in step:
                    connection.execute(statement)
            connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            connection.execute("COMMIT")
        except BaseException:
            with suppress(sqlite3.Error):
                connection.execute("ROLLBACK")
            raise

    def close(self) -> None:
        with self._lock, self._readers_lock:
            self._generation += 1
            connections = self._readers
            self._readers = []
            if self._writer is not None:
                connections.append(self._writer)
                self._writer = None
        for connection in connections:
            with suppress(sqlite3.Error):
                connection.close()

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, committed when the block ends."""
        with self._lock:
            connection = self._writer
            if connection is None:
                raise StoreError("The store is not open.")
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
                connection.execute("COMMIT")
            except BaseException:
                if connection.in_transaction:
                    with suppress(sqlite3.Error):
                        connection.execute("ROLLBACK")
                raise

    def _reader(self) -> sqlite3.Connection:
        """This thread's connection for reading."""
        mine = getattr(self._local, "reader", None)
        if mine is not None and mine[0] == self._generation:
            return mine[1]
        with self._readers_lock:
            if self._writer is None:
                raise StoreError("The store is not open.")
            connection = self._connect()
            connection.execute("PRAGMA query_only = ON")
            self._readers.append(connection)
            self._local.reader = (self._generation, connection)
        return connection

    def _read(self, sql: str, *parameters: Any) -> list[tuple[Any, ...]]:
        return self._reader().execute(sql, parameters).fetchall()

    @_surfaced("back up the database")
    def backup_to(self, target: str | Path) -> None:
        """Copy a consistent snapshot of the database to the new file C{target}.

        Safe while the server runs: the copy is read in one step, between
        two writes. Specific to SQLite, so not part of L{IStore}.
        """
        target = Path(target)
        try:
            target.open("xb").close()
        except OSError as e:
            raise StoreError(f"Could not create the backup {target}: {e}") from e
        try:
            with closing(sqlite3.connect(target)) as copy:
                self._reader().backup(copy)
                (check,) = copy.execute("PRAGMA integrity_check").fetchone()
            if check != "ok":
                raise StoreError(f"The backup failed its integrity check: {check}")
        except BaseException:
            target.unlink(missing_ok=True)
            raise

    # Accounts

    @_surfaced("create the account")
    def create_account(self, nick: str, password_hash: str, *, sysop: bool = False) -> Account:
        account = Account(nick, password_hash, sysop, self._clock(), None)
        with self._writing() as db:
            taken = db.execute(
                "SELECT nick FROM accounts WHERE nick_key = ?", (fold(nick),)
            ).fetchone()
            if taken:
                raise AccountExists(f"The nickname {taken[0]} is already registered.")
            db.execute(
                "INSERT INTO accounts (nick_key, nick, password_hash, is_sysop, created)"
                " VALUES (?, ?, ?, ?, ?)",
                (fold(nick), nick, password_hash, int(sysop), account.created),
            )
        return account

    @_surfaced("read the account")
    def get_account(self, nick: str) -> Account | None:
        rows = self._read(_ACCOUNT + " WHERE nick_key = ?", fold(nick))
        return _account(rows[0]) if rows else None

    def _update_account(self, nick: str, assignment: str, value: object) -> None:
        with self._writing() as db:
            changed = db.execute(
                f"UPDATE accounts SET {assignment} = ? WHERE nick_key = ?",
                (value, fold(nick)),
            ).rowcount
            if not changed:
                raise NoSuchAccount(f"There is no account {nick}.")

    @_surfaced("change the password")
    def set_password_hash(self, nick: str, password_hash: str) -> None:
        self._update_account(nick, "password_hash", password_hash)

    @_surfaced("change sysop rights")
    def set_sysop(self, nick: str, on: bool) -> None:
        self._update_account(nick, "is_sysop", int(on))

    @_surfaced("delete the account")
    def delete_account(self, nick: str) -> bool:
        with self._writing() as db:
            return bool(
                db.execute("DELETE FROM accounts WHERE nick_key = ?", (fold(nick),)).rowcount
            )

    @_surfaced("list the accounts")
    def list_accounts(self) -> list[Account]:
        return [_account(row) for row in self._read(_ACCOUNT + " ORDER BY nick_key")]

    @_surfaced("record when the user was seen")
    def touch_seen(self, nick: str, when: float) -> None:
        with self._writing() as db:
            db.execute(
                "UPDATE accounts SET last_seen = ? WHERE nick_key = ?", (when, fold(nick))
            )

    # SSH keys

    @_surfaced("add the key")
    def add_key(self, nick: str, algorithm: str, blob: bytes, comment: str, fingerprint: str,
                when: float) -> AccountKey:
        key = fold(nick)
        with self._writing() as db:
            if db.execute("SELECT 1 FROM accounts WHERE nick_key = ?", (key,)).fetchone() is None:
                raise NoSuchAccount(f"There is no account {nick}.")
            rows = db.execute(
                "SELECT blob FROM account_keys WHERE nick_key = ?", (key,)
            ).fetchall()
            if any(row[0] == blob for row in rows):
                raise KeyExists("That key is already on your account.")
            if len(rows) >= KEYS_PER_ACCOUNT:
                raise TooManyKeys(f"An account holds at most {KEYS_PER_ACCOUNT} keys; "
                                  "delete one before adding another.")
            db.execute(
                "INSERT INTO account_keys"
                " (nick_key, algorithm, blob, comment, fingerprint, added)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (key, algorithm, blob, comment, fingerprint, when),
            )
        return AccountKey(len(rows) + 1, algorithm, blob, comment, fingerprint, when)

    @_surfaced("list the keys")
    def list_keys(self, nick: str) -> list[AccountKey]:
        rows = self._read(
            "SELECT algorithm, blob, comment, fingerprint, added FROM account_keys"
            " WHERE nick_key = ? ORDER BY id",
            fold(nick),
        )
        return [AccountKey(number, *row) for number, row in enumerate(rows, 1)]

    @_surfaced("delete the key")
    def delete_key(self, nick: str, number: int) -> AccountKey | None:
        if number < 1:
            return None
        with self._writing() as db:
            row = db.execute(
                "DELETE FROM account_keys WHERE id = (SELECT id FROM account_keys"
                " WHERE nick_key = ? ORDER BY id LIMIT 1 OFFSET ?)"
                " RETURNING algorithm, blob, comment, fingerprint, added",
                (fold(nick), number - 1),
            ).fetchone()
        return None if row is None else AccountKey(number, *row)

    @_surfaced("look the key up")
    def has_key(self, nick: str, blob: bytes) -> bool:
        return bool(self._read(
            "SELECT 1 FROM account_keys WHERE nick_key = ? AND blob = ?", fold(nick), blob
        ))

    # Mail

    @_surfaced("send the mail")
    def send_mail(self, sender: str, recipient: str, text: str, when: float) -> int:
        key = fold(recipient)
        with self._writing() as db:
            if db.execute("SELECT 1 FROM accounts WHERE nick_key = ?", (key,)).fetchone() is None:
                raise NoSuchAccount(f"There is no account {recipient}.")
            (held,) = db.execute(
                "SELECT COUNT(*) FROM mail WHERE recipient_key = ?", (key,)
            ).fetchone()
            if held >= MAILBOX_LIMIT:
                raise MailboxFull(f"The mailbox of {recipient} is full.")
            cursor = db.execute(
                "INSERT INTO mail (recipient_key, sender, sent, text) VALUES (?, ?, ?, ?)",
                (key, sender, when, text),
            )
            assert cursor.lastrowid is not None
            return cursor.lastrowid

    @_surfaced("read the mail")
    def inbox(self, nick: str) -> list[Mail]:
        rows = self._read(
            "SELECT id, sender, sent, text, is_read FROM mail"
            " WHERE recipient_key = ? ORDER BY id",
            fold(nick),
        )
        return [
            Mail(number, id, sender, sent, text, bool(read))
            for number, (id, sender, sent, text, read) in enumerate(rows, 1)
        ]

    @_surfaced("mark the mail read")
    def mark_read(self, nick: str) -> int:
        with self._writing() as db:
            return db.execute(
                "UPDATE mail SET is_read = 1 WHERE recipient_key = ? AND is_read = 0",
                (fold(nick),),
            ).rowcount

    @_surfaced("count the mail")
    def unread_count(self, nick: str) -> int:
        (row,) = self._read(
            "SELECT COUNT(*) FROM mail WHERE recipient_key = ? AND is_read = 0", fold(nick)
        )
        return int(row[0])

    @_surfaced("delete the mail")
    def delete_mail(self, nick: str, number: int) -> bool:
        if number < 1:
            return False
        key = fold(nick)
        with self._writing() as db:
            return bool(
                db.execute(
                    "DELETE FROM mail WHERE id = (SELECT id FROM mail"
                    " WHERE recipient_key = ? ORDER BY id LIMIT 1 OFFSET ?)",
                    (key, number - 1),
                ).rowcount
            )

    # Boards

    @_surfaced("list the boards")
    def list_boards(self) -> list[BoardInfo]:
        rows = self._read(_BOARD + " GROUP BY b.id ORDER BY b.name_key")
        return [BoardInfo(*row) for row in rows]

    @_surfaced("read the board")
    def get_board(self, name: str) -> BoardInfo | None:
        rows = self._read(_BOARD + " WHERE b.name_key = ? GROUP BY b.id", fold(name))
        return BoardInfo(*rows[0]) if rows else None

    def _board_id(self, db: sqlite3.Connection, name: str) -> tuple[int, str]:
        row = db.execute(
            "SELECT id, name FROM boards WHERE name_key = ?", (fold(name),)
        ).fetchone()
        if row is None:
            raise NoSuchBoard(f"There is no board {name}.")
        return row

    @_surfaced("list the posts")
    def list_posts(self, board: str, limit: int = 50) -> list[PostHeader]:
        db = self._reader()
        board_id, _ = self._board_id(db, board)
        rows = db.execute(
            "SELECT number, author, subject, posted FROM posts"
            " WHERE board_id = ? ORDER BY number DESC LIMIT ?",
            (board_id, max(0, limit)),
        ).fetchall()
        return [PostHeader(*row) for row in reversed(rows)]

    @_surfaced("read the post")
    def get_post(self, board: str, number: int) -> Post | None:
        db = self._reader()
        board_id, name = self._board_id(db, board)
        row = db.execute(
            "SELECT number, author, subject, body, posted FROM posts"
            " WHERE board_id = ? AND number = ?",
            (board_id, number),
        ).fetchone()
        return Post(name, *row) if row else None

    @_surfaced("save the post")
    def add_post(self, board: str, author: str, subject: str, body: str, when: float) -> int:
        with self._writing() as db:
            board_id, _ = self._board_id(db, board)
            (number,) = db.execute(
                "SELECT COALESCE(MAX(number), 0) + 1 FROM posts WHERE board_id = ?",
                (board_id,),
            ).fetchone()
            db.execute(
                "INSERT INTO posts (board_id, number, author, subject, body, posted)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (board_id, number, author, subject, body, when),
            )
            return int(number)

    # Room history

    def append_history(self, entry: HistoryEntry) -> None:
        self.append_history_many((entry,))

    @_surfaced("save the room history")
    def append_history_many(self, entries: Iterable[HistoryEntry]) -> None:
        rows = [
            (fold(e.room), e.room, e.nick, e.text, e.kind, e.at) for e in entries
        ]
        if not rows:
            return
        with self._writing() as db:
            db.executemany(
                "INSERT INTO history (room_key, room, nick, text, kind, at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )
            for room_key in {row[0] for row in rows}:
                db.execute(
                    "DELETE FROM history WHERE room_key = ? AND id <= ("
                    " SELECT id FROM history WHERE room_key = ?"
                    " ORDER BY id DESC LIMIT 1 OFFSET ?)",
                    (room_key, room_key, HISTORY_KEEP),
                )

    @_surfaced("read the room history")
    def recent_history(self, room: str, limit: int = 20) -> list[HistoryEntry]:
        rows = self._read(
            "SELECT room, nick, text, kind, at FROM history"
            " WHERE room_key = ? ORDER BY id DESC LIMIT ?",
            fold(room),
            max(0, min(limit, HISTORY_KEEP)),
        )
        return [HistoryEntry(*row) for row in reversed(rows)]

    # Bans

    @_surfaced("save the ban")
    def add_ban(self, record: BanRecord) -> BanRecord:
        with self._writing() as db:
            ((id,),) = db.execute(
                "INSERT INTO bans"
                " (kind, target, target_key, reason, set_by, created, expires)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (kind, target_key) DO UPDATE SET"
                " target = excluded.target, reason = excluded.reason,"
                " set_by = excluded.set_by, created = excluded.created,"
                " expires = excluded.expires"
                " RETURNING id",
                (
                    record.kind,
                    record.target,
                    record.key(),
                    record.reason,
                    record.set_by,
                    record.created,
                    record.expires,
                ),
            ).fetchall()
        return attrs.evolve(record, id=id)

    @_surfaced("lift the ban")
    def remove_ban(self, kind: str, target: str) -> int:
        key = fold(target) if kind == "nick" else target
        with self._writing() as db:
            return db.execute(
                "DELETE FROM bans WHERE kind = ? AND target_key = ?", (kind, key)
            ).rowcount

    @_surfaced("list the bans")
    def list_bans(self, now: float) -> list[BanRecord]:
        rows = self._read(
            _BAN + " WHERE expires IS NULL OR expires > ? ORDER BY id", now
        )
        return [BanRecord(*row) for row in rows]

    @_surfaced("list the bans")
    def find_bans(self, now: float, match: str = "", limit: int = 50) -> tuple[int, list[BanRecord]]:
        where, parameters = " WHERE (expires IS NULL OR expires > ?)", [now]
        if match:
            like = "%" + match.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            where += (" AND (target LIKE ? ESCAPE '\\' OR reason LIKE ? ESCAPE '\\'"
                      " OR set_by LIKE ? ESCAPE '\\')")
            parameters += [like, like, like]
        ((total,),) = self._read("SELECT COUNT(*) FROM bans" + where, *parameters)
        rows = self._read(_BAN + where + " ORDER BY id DESC LIMIT ?", *parameters, limit)
        return total, [BanRecord(*row) for row in rows]

    @_surfaced("read the bans")
    def ban_rows(self, now: float) -> Iterator[BanRow]:
        """Read as they are used, a thousand at a time: the server files each
        as it comes instead of holding every row at once."""
        rows = self._reader().execute(
            _BAN + " WHERE expires IS NULL OR expires > ? ORDER BY id", (now,)
        )

        def read() -> Iterator[BanRow]:
            try:
                while batch := rows.fetchmany(1000):
                    yield from map(BanRow._make, batch)
            except sqlite3.Error as e:
                raise StoreError(f"Could not read the bans: {e}") from e
            finally:
                rows.close()

        return read()

    @_surfaced("read the last change to the bans")
    def last_ban_change(self) -> int:
        ((last,),) = self._read(_LAST_BAN_CHANGE)
        return int(last)

    @_surfaced("read the changes to the bans")
    def ban_changes(self, since: int, limit: int = BAN_CHANGES_READ) -> BanChanges:
        db = self._reader()
        db.execute("BEGIN")  # one snapshot for both reads
        try:
            ((first,),) = db.execute("SELECT MIN(id) FROM ban_changes").fetchall()
            rows = db.execute(
                "SELECT c.id, c.kind, c.target_key, b.id, b.target, b.reason,"
                " b.set_by, b.created, b.expires FROM ban_changes AS c"
                " LEFT JOIN bans AS b ON b.kind = c.kind AND b.target_key = c.target_key"
                " WHERE c.id > ? ORDER BY c.id LIMIT ?",
                (since, limit),
            ).fetchall()
        finally:
            db.execute("COMMIT")
        if first is not None and first > since + 1:
            ((last,),) = self._read(_LAST_BAN_CHANGE)
            return BanChanges(int(last), complete=False)
        # A target changed twice is read once, as it is now.
        now: dict[tuple[str, str], BanRow | None] = {}
        for change, kind, key, id, target, reason, set_by, created, expires in rows:
            now.pop((kind, key), None)
            now[(kind, key)] = None if id is None else BanRow(
                id, kind, target, reason, set_by, created, expires)
        return BanChanges(
            last=rows[-1][0] if rows else since,
            bans=tuple(row for row in now.values() if row is not None),
            lifted=tuple(key for key, row in now.items() if row is None),
        )

    @_surfaced("prune the bans")
    def prune_bans(self, now: float | None = None, batch: int = PRUNE_BATCH) -> int:
        """Delete up to C{batch} bans that ended by C{now} (the store's clock
        by default), and the record of changes older than the last
        L{BAN_CHANGES_KEEP}; one short transaction, so a caller deletes a
        backlog batch by batch without holding the writer long."""
        when = self._clock() if now is None else now
        with self._writing() as db:
            gone = db.execute(
                "DELETE FROM bans WHERE id IN (SELECT id FROM bans"
                " WHERE expires IS NOT NULL AND expires <= ? ORDER BY expires LIMIT ?)",
                (when, batch),
            ).rowcount
            db.execute(
                "DELETE FROM ban_changes WHERE id IN (SELECT id FROM ban_changes"
                " WHERE id <= (SELECT MAX(id) FROM ban_changes) - ? ORDER BY id LIMIT ?)",
                (BAN_CHANGES_KEEP, batch + batch),
            )
        return gone

    @_surfaced("read the accounts version")
    def accounts_version(self) -> int:
        (row,) = self._read("SELECT value FROM counters WHERE name = 'accounts'")
        return int(row[0])
