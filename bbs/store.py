"""Persistence: accounts, mail, boards, room history and bans.

L{IStore} is the boundary; L{SQLiteStore} keeps everything in one SQLite file
(C{bbs.sqlite3} in the data directory) so that a PostgreSQL backend can be
added later without touching its callers.

Every method blocks. Command handlers call them from worker threads; code on
the reactor thread hands each call to the worker pool (L{bbs.pool.WorkerPool.run})
and gets a Deferred back.

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

The schema is versioned with C{PRAGMA user_version}; L{MIGRATIONS} is applied
in order at open. A file written by a newer version is refused, untouched.
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
from typing import Any, Literal, NamedTuple, ParamSpec, TypeVar

import attrs
from zope.interface import Interface, implementer

from bbs.guard.addresses import BanKind, ban_target
from bbs.text import fold

DATABASE_NAME = "bbs.sqlite3"

# Bounds on what one user can make the server keep.
MAILBOX_LIMIT = 100
HISTORY_KEEP = 200
# Lines of a room replayed to who joins it: the hub keeps as many in memory
# and the history writer saves no more per room in one batch.
HISTORY_LINES = 20
BAN_CHANGES_KEEP = 10_000  # a reader further behind than this reads every ban again
BAN_CHANGES_READ = 10_000  # changes read in one go
PRUNE_BATCH = 1_000  # expired bans deleted in one transaction


class StoreError(Exception):
    """The database could not be read or written; nothing was changed.

    The message says what failed; callers tell the user to try later.
    """


class SchemaTooNew(StoreError):
    """The database was written by a newer hfnjbbs than this one."""


class Refused(Exception):
    """A request the store will not carry out; the message is for the user."""


class AccountExists(Refused):
    pass


class NoSuchAccount(Refused):
    pass


class NoSuchBoard(Refused):
    pass


class MailboxFull(Refused):
    pass


@attrs.frozen
class Account:
    nick: str
    password_hash: str = attrs.field(repr=False)
    is_sysop: bool
    created: float
    last_seen: float | None


@attrs.frozen
class Mail:
    """One letter; C{number} is its place in the inbox, oldest first."""

    number: int
    id: int
    sender: str
    sent: float
    text: str
    read: bool


@attrs.frozen
class BoardInfo:
    name: str
    description: str
    post_role: Literal["registered", "sysop"]
    posts: int
    newest: float | None


@attrs.frozen
class PostHeader:
    number: int
    author: str
    subject: str
    posted: float


@attrs.frozen
class Post:
    board: str
    number: int
    author: str
    subject: str
    body: str
    posted: float


@attrs.frozen
class HistoryEntry:
    """A line said in a room, kept so that people who join can catch up."""

    room: str
    nick: str
    text: str
    kind: str
    at: float


def _check_target(record: BanRecord, attribute: attrs.Attribute, target: str) -> None:
    if ban_target(target) != (record.kind, target):
        raise ValueError(f"{target!r} is not a normalised {record.kind} target")


@attrs.frozen
class BanRecord:
    """A ban as stored; C{expires} is C{None} for a permanent ban.

    Nick bans match by L{fold}; net bans hold the normalised network.
    """

    id: int | None
    kind: BanKind = attrs.field(validator=attrs.validators.in_(("net", "nick")))
    target: str = attrs.field(validator=_check_target)
    reason: str
    set_by: str
    created: float
    expires: float | None

    def key(self) -> str:
        """The identity of the target: two bans with one key are one ban."""
        return fold(self.target) if self.kind == "nick" else self.target


class BanRow(NamedTuple):
    """A ban as read in bulk: the fields of L{BanRecord}, without its checks
    (a hundred thousand of them are read at start-up)."""

    id: int
    kind: str
    target: str
    reason: str
    set_by: str
    created: float
    expires: float | None


@attrs.frozen
class BanChanges:
    """The bans changed after a change number, as they are now.

    C{bans} are in force (added or replaced), C{lifted} are gone (lifted or
    expired), as C{(kind, target)} with the target as L{ban_target} spells it.
    C{complete} is false when changes after C{since} were already pruned:
    the reader must read every ban again.  C{last} is the change to ask
    after next time.
    """

    last: int
    bans: tuple[BanRow, ...] = ()
    lifted: tuple[tuple[str, str], ...] = ()
    complete: bool = True


class IStore(Interface):
    """Blocking, thread-safe persistence for the BBS.

    Nicknames and board names are compared by L{fold}. Writes are committed
    before they return. Failures to read or write raise L{StoreError};
    refusals raise a L{Refused} subclass.
    """

    def open() -> None:
        """Open (creating or upgrading) the database. Idempotent."""

    def close() -> None:
        """Close every connection. Idempotent."""

    def create_account(nick: str, password_hash: str, *, sysop: bool = False) -> Account:
        """Register C{nick}; raise L{AccountExists} if it is taken."""

    def get_account(nick: str) -> Account | None:
        """The account registered as C{nick}, if any."""

    def set_password_hash(nick: str, password_hash: str) -> None:
        """Replace the password hash; raise L{NoSuchAccount}."""

    def set_sysop(nick: str, on: bool) -> None:
        """Grant or revoke sysop rights; raise L{NoSuchAccount}."""

    def delete_account(nick: str) -> bool:
        """Remove the account and its mailbox; whether it existed."""

    def list_accounts() -> list[Account]:
        """Every account, by folded nickname."""

    def touch_seen(nick: str, when: float) -> None:
        """Record when C{nick} was last seen; unknown nicks are ignored."""

    def send_mail(sender: str, recipient: str, text: str, when: float) -> int:
        """Leave mail; raise L{NoSuchAccount} or L{MailboxFull}. The id."""

    def inbox(nick: str) -> list[Mail]:
        """The mail of C{nick}, numbered from 1, oldest first."""

    def mark_read(nick: str) -> int:
        """Mark all mail of C{nick} read; how many were unread."""

    def unread_count(nick: str) -> int:
        """How many letters C{nick} has not read."""

    def delete_mail(nick: str, number: int) -> bool:
        """Delete letter C{number} of the inbox; whether it existed."""

    def list_boards() -> list[BoardInfo]:
        """Every board, by name."""

    def get_board(name: str) -> BoardInfo | None:
        """The board called C{name}, if any."""

    def list_posts(board: str, limit: int = 50) -> list[PostHeader]:
        """The newest C{limit} posts of C{board}, oldest first."""

    def get_post(board: str, number: int) -> Post | None:
        """Post C{number} of C{board}; raise L{NoSuchBoard}."""

    def add_post(board: str, author: str, subject: str, body: str, when: float) -> int:
        """Post on C{board}; raise L{NoSuchBoard}. The post's number."""

    def append_history(entry: HistoryEntry) -> None:
        """Keep a room line, forgetting the oldest beyond the limit."""

    def append_history_many(entries: Iterable[HistoryEntry]) -> None:
        """Keep many room lines in one transaction."""

    def recent_history(room: str, limit: int = 20) -> list[HistoryEntry]:
        """The last C{limit} lines of C{room}, oldest first."""

    def add_ban(record: BanRecord) -> BanRecord:
        """Store C{record}, replacing a ban on the same target. With id."""

    def remove_ban(kind: str, target: str) -> int:
        """Lift the ban on C{target} (as L{ban_target} spells it); 0 or 1."""

    def list_bans(now: float) -> list[BanRecord]:
        """The bans still in force at C{now}."""

    def find_bans(now: float, match: str = "", limit: int = 50) -> tuple[int, list[BanRecord]]:
        """How many bans in force at C{now} mention C{match} (in the target,
        reason or who set it; any ban if empty), and the newest C{limit} of them."""

    def bans_version() -> int:
        """A number that changes whenever the bans change, cheap to poll."""

    def ban_rows(now: float) -> Iterator[BanRow]:
        """The bans still in force at C{now}, unchecked and in bulk (start-up)."""

    def last_ban_change() -> int:
        """The number of the latest change to the bans (0 if none)."""

    def ban_changes(since: int, limit: int = ...) -> BanChanges:
        """What changed in the bans after change number C{since}."""

    def prune_bans(now: float | None = None, batch: int = ...) -> int:
        """Delete up to C{batch} bans that ended by C{now}; how many went."""

    def account_keys() -> frozenset[str]:
        """The folded nickname of every account: what the server keeps in memory."""

    def accounts_version() -> int:
        """A number that changes whenever an account is added or removed, or
        a sysop's role is given or taken away; cheap to poll."""


# Append-only: a released step is never edited, a change is a new step.
# Each step is a sequence of single statements (executescript would commit).
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE accounts (
            nick_key TEXT PRIMARY KEY,
            nick TEXT NOT NULL,
            password_hash TEXT NOT NULL,
            is_sysop INTEGER NOT NULL DEFAULT 0 CHECK (is_sysop IN (0, 1)),
            created REAL NOT NULL,
            last_seen REAL
        )""",
        """CREATE TABLE mail (
            id INTEGER PRIMARY KEY,
            recipient_key TEXT NOT NULL
                REFERENCES accounts (nick_key) ON DELETE CASCADE,
            sender TEXT NOT NULL,
            sent REAL NOT NULL,
            text TEXT NOT NULL,
            is_read INTEGER NOT NULL DEFAULT 0 CHECK (is_read IN (0, 1))
        )""",
        "CREATE INDEX mail_by_recipient ON mail (recipient_key, id)",
        """CREATE TABLE boards (
            id INTEGER PRIMARY KEY,
            name_key TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            description TEXT NOT NULL,
            post_role TEXT NOT NULL CHECK (post_role IN ('registered', 'sysop'))
        )""",
        """CREATE TABLE posts (
            id INTEGER PRIMARY KEY,
            board_id INTEGER NOT NULL REFERENCES boards (id) ON DELETE CASCADE,
            number INTEGER NOT NULL,
            author TEXT NOT NULL,
            subject TEXT NOT NULL,
            body TEXT NOT NULL,
            posted REAL NOT NULL,
            UNIQUE (board_id, number)
        )""",
        """INSERT INTO boards (name_key, name, description, post_role) VALUES
            ('general', 'general', 'Anything goes.', 'registered'),
            ('announcements', 'announcements', 'News from the sysops.', 'sysop')""",
        """CREATE TABLE bans (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('net', 'nick')),
            target TEXT NOT NULL,
            target_key TEXT NOT NULL,
            reason TEXT NOT NULL,
            set_by TEXT NOT NULL,
            created REAL NOT NULL,
            expires REAL,
            UNIQUE (kind, target_key)
        )""",
    ),
    (
        """CREATE TABLE history (
            id INTEGER PRIMARY KEY,
            room_key TEXT NOT NULL,
            room TEXT NOT NULL,
            nick TEXT NOT NULL,
            text TEXT NOT NULL,
            kind TEXT NOT NULL,
            at REAL NOT NULL
        )""",
        "CREATE INDEX history_by_room ON history (room_key, id)",
        """CREATE TABLE counters (
            name TEXT PRIMARY KEY,
            value INTEGER NOT NULL
        )""",
        "INSERT INTO counters (name, value) VALUES ('bans', 0)",
        """CREATE TRIGGER bans_inserted AFTER INSERT ON bans BEGIN
            UPDATE counters SET value = value + 1 WHERE name = 'bans';
        END""",
        """CREATE TRIGGER bans_updated AFTER UPDATE ON bans BEGIN
            UPDATE counters SET value = value + 1 WHERE name = 'bans';
        END""",
        """CREATE TRIGGER bans_deleted AFTER DELETE ON bans BEGIN
            UPDATE counters SET value = value + 1 WHERE name = 'bans';
        END""",
    ),
    (
        "INSERT INTO counters (name, value) VALUES ('accounts', 0)",
        """CREATE TRIGGER accounts_inserted AFTER INSERT ON accounts BEGIN
            UPDATE counters SET value = value + 1 WHERE name = 'accounts';
        END""",
        """CREATE TRIGGER accounts_deleted AFTER DELETE ON accounts BEGIN
            UPDATE counters SET value = value + 1 WHERE name = 'accounts';
        END""",
    ),
    (
        # A sysop's role taken away must reach their sessions at the next poll.
        """CREATE TRIGGER accounts_role_changed AFTER UPDATE OF is_sysop ON accounts BEGIN
            UPDATE counters SET value = value + 1 WHERE name = 'accounts';
        END""",
    ),
    (
        # Every change to a ban, by target, so the server reads what changed
        # since it last looked instead of every ban (see ban_changes).
        """CREATE TABLE ban_changes (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            kind TEXT NOT NULL,
            target_key TEXT NOT NULL
        )""",
        """CREATE TRIGGER ban_changes_inserted AFTER INSERT ON bans BEGIN
            INSERT INTO ban_changes (kind, target_key) VALUES (new.kind, new.target_key);
        END""",
        """CREATE TRIGGER ban_changes_updated AFTER UPDATE ON bans BEGIN
            INSERT INTO ban_changes (kind, target_key) SELECT old.kind, old.target_key
                WHERE old.kind IS NOT new.kind OR old.target_key IS NOT new.target_key;
            INSERT INTO ban_changes (kind, target_key) VALUES (new.kind, new.target_key);
        END""",
        """CREATE TRIGGER ban_changes_deleted AFTER DELETE ON bans BEGIN
            INSERT INTO ban_changes (kind, target_key) VALUES (old.kind, old.target_key);
        END""",
        # Expired bans are pruned in batches, oldest first.
        "CREATE INDEX bans_by_expiry ON bans (expires) WHERE expires IS NOT NULL",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)

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

    @_surfaced("read the bans version")
    def bans_version(self) -> int:
        (row,) = self._read("SELECT value FROM counters WHERE name = 'bans'")
        return int(row[0])

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

    @_surfaced("list the accounts")
    def account_keys(self) -> frozenset[str]:
        return frozenset(key for (key,) in self._read("SELECT nick_key FROM accounts"))

    @_surfaced("read the accounts version")
    def accounts_version(self) -> int:
        (row,) = self._read("SELECT value FROM counters WHERE name = 'accounts'")
        return int(row[0])
