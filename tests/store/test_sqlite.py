"""The SQLite store: accounts and their SSH keys, mail, boards, history, bans
and their change feed, threads."""

from __future__ import annotations

import queue
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from twisted.python.failure import Failure
from twisted.python.threadpool import ThreadPool
from zope.interface.verify import verifyObject

from bbs.store import (
    Account,
    AccountExists,
    AccountKey,
    BanChanges,
    BanRecord,
    BanRow,
    HistoryEntry,
    IStore,
    KeyExists,
    KEYS_PER_ACCOUNT,
    MailboxFull,
    NoSuchAccount,
    NoSuchBoard,
    Post,
    PostHeader,
    SQLiteStore,
    StoreError,
    TooManyKeys,
)
from bbs.store import sqlite as sqlite_store
from bbs.store.schema import MIGRATIONS
from tests.store.deferred import DeferredStore
from tests.store.peek import account_keys


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(tmp_path: Path, clock: FakeClock) -> Iterator[SQLiteStore]:
    opened = SQLiteStore(tmp_path / "bbs.sqlite3", clock=clock)
    opened.open()
    yield opened
    opened.close()


# Accounts


def test_create_and_get_account(store: SQLiteStore) -> None:
    created = store.create_account("Alice", "hash-a", sysop=True)
    assert created == Account("Alice", "hash-a", True, 1000.0, None)
    assert store.get_account("alice") == created
    assert store.get_account("bob") is None


def test_password_hash_not_in_repr(store: SQLiteStore) -> None:
    assert "hash-a" not in repr(store.create_account("Alice", "hash-a"))


@pytest.mark.parametrize("other", ["alice", "ALICE", "\uff21lice"])
def test_nick_unique_by_fold(store: SQLiteStore, other: str) -> None:
    store.create_account("Alice", "hash-a")
    with pytest.raises(AccountExists, match="The nickname Alice is already registered"):
        store.create_account(other, "hash-b")
    assert store.get_account(other) == store.get_account("Alice")
    assert [a.nick for a in store.list_accounts()] == ["Alice"]


def test_set_password_hash(store: SQLiteStore) -> None:
    store.create_account("Alice", "old")
    store.set_password_hash("ALICE", "new")
    account = store.get_account("alice")
    assert account is not None and account.password_hash == "new"
    with pytest.raises(NoSuchAccount, match="There is no account bob"):
        store.set_password_hash("bob", "x")


def test_set_sysop(store: SQLiteStore) -> None:
    store.create_account("Alice", "h")
    store.set_sysop("alice", True)
    assert store.get_account("Alice").is_sysop  # type: ignore[union-attr]
    store.set_sysop("alice", False)
    assert not store.get_account("Alice").is_sysop  # type: ignore[union-attr]
    with pytest.raises(NoSuchAccount):
        store.set_sysop("bob", True)


def test_delete_account_takes_its_mail(store: SQLiteStore) -> None:
    store.create_account("Alice", "h")
    store.send_mail("bob", "alice", "hello", 1.0)
    assert store.delete_account("ALICE") is True
    assert store.get_account("Alice") is None
    assert store.delete_account("Alice") is False
    store.create_account("Alice", "h")
    assert store.inbox("alice") == []


def test_list_accounts_sorted(store: SQLiteStore) -> None:
    for nick in ("carol", "Alice", "bob"):
        store.create_account(nick, "h")
    assert [a.nick for a in store.list_accounts()] == ["Alice", "bob", "carol"]


def test_touch_seen(store: SQLiteStore) -> None:
    store.create_account("Alice", "h")
    store.touch_seen("alice", 1234.5)
    assert store.get_account("Alice").last_seen == 1234.5  # type: ignore[union-attr]
    store.touch_seen("ghost", 1.0)  # deleted meanwhile: nothing to record
    assert store.get_account("ghost") is None


# SSH keys

ED_BLOB = b"\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20" + bytes(range(32))


def _add(store: SQLiteStore, nick: str, blob: bytes, comment: str = "", when: float = 5.0):
    return store.add_key(nick, "ssh-ed25519", blob, comment, "SHA256:" + blob.hex()[-8:], when)


def test_keys_are_listed_in_the_order_added_and_found_by_blob(store: SQLiteStore) -> None:
    store.create_account("Alice", "h")
    first = _add(store, "alice", ED_BLOB, "laptop", 5.0)
    second = _add(store, "ALICE", ED_BLOB[:-1] + b"\xff", "phone", 6.0)
    assert first == AccountKey(1, "ssh-ed25519", ED_BLOB, "laptop", "SHA256:1c1d1e1f", 5.0)
    assert second.number == 2
    assert store.list_keys("alice") == [first, second]
    assert store.has_key("Alice", ED_BLOB) and store.has_key("alice", second.blob)
    assert not store.has_key("alice", ED_BLOB[:-1] + b"\x00")
    assert "blob" not in repr(first) and ED_BLOB.hex() not in repr(first)


def test_a_key_is_the_accounts_own(store: SQLiteStore) -> None:
    store.create_account("Alice", "h")
    store.create_account("Bob", "h")
    _add(store, "alice", ED_BLOB)
    assert not store.has_key("bob", ED_BLOB)
    assert not store.has_key("nobody", ED_BLOB)
    assert store.list_keys("bob") == []
    _add(store, "bob", ED_BLOB)  # the same key on two accounts: each its own
    assert store.has_key("bob", ED_BLOB)
    with pytest.raises(NoSuchAccount):
        _add(store, "nobody", ED_BLOB)


def test_the_same_key_twice_is_refused(store: SQLiteStore) -> None:
    store.create_account("Alice", "h")
    _add(store, "alice", ED_BLOB, "laptop")
    with pytest.raises(KeyExists, match="That key is already on your account."):
        _add(store, "alice", ED_BLOB, "another comment")
    assert len(store.list_keys("alice")) == 1


def test_an_account_holds_a_bounded_number_of_keys(store: SQLiteStore) -> None:
    store.create_account("Alice", "h")
    for n in range(KEYS_PER_ACCOUNT):
        _add(store, "alice", ED_BLOB + bytes([n]))
    with pytest.raises(TooManyKeys, match=f"at most {KEYS_PER_ACCOUNT} keys"):
        _add(store, "alice", ED_BLOB + b"\xff")
    assert len(store.list_keys("alice")) == KEYS_PER_ACCOUNT
    # The same key again is still told as the same key, not as one too many.
    with pytest.raises(KeyExists):
        _add(store, "alice", ED_BLOB + b"\x00")


def test_delete_key_by_its_number(store: SQLiteStore) -> None:
    store.create_account("Alice", "h")
    keys = [_add(store, "alice", ED_BLOB + bytes([n]), str(n)) for n in range(3)]
    assert store.delete_key("alice", 2) == keys[1]
    assert [k.comment for k in store.list_keys("alice")] == ["0", "2"]
    assert [k.number for k in store.list_keys("alice")] == [1, 2]
    assert not store.has_key("alice", keys[1].blob)
    for missing in (0, -1, 3):
        assert store.delete_key("alice", missing) is None
    assert store.delete_key("bob", 1) is None
    assert len(store.list_keys("alice")) == 2


def test_deleting_the_account_deletes_its_keys(store: SQLiteStore) -> None:
    store.create_account("Alice", "h")
    _add(store, "alice", ED_BLOB)
    assert store.delete_account("alice")
    store.create_account("Alice", "h")  # whoever registers the name next has no keys
    assert store.list_keys("alice") == []
    assert not store.has_key("alice", ED_BLOB)


# Mail


def test_mail_round_trip(store: SQLiteStore) -> None:
    store.create_account("Alice", "h")
    first = store.send_mail("bob", "ALICE", "one", 10.0)
    second = store.send_mail("carol", "alice", "two", 20.0)
    assert first != second
    inbox = store.inbox("Alice")
    assert [(m.number, m.id, m.sender, m.sent, m.text, m.read) for m in inbox] == [
        (1, first, "bob", 10.0, "one", False),
        (2, second, "carol", 20.0, "two", False),
    ]
    assert store.unread_count("alice") == 2
    assert store.mark_read("alice") == 2
    assert store.unread_count("alice") == 0
    assert all(m.read for m in store.inbox("alice"))
    assert store.mark_read("alice") == 0


def test_mail_to_unknown_account(store: SQLiteStore) -> None:
    with pytest.raises(NoSuchAccount, match="There is no account ghost"):
        store.send_mail("bob", "ghost", "hello", 1.0)
    assert store.inbox("ghost") == []
    assert store.unread_count("ghost") == 0


def test_mailbox_is_bounded(store: SQLiteStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqlite_store, "MAILBOX_LIMIT", 3)
    store.create_account("Alice", "h")
    for n in range(3):
        store.send_mail("bob", "alice", f"letter {n}", n)
    with pytest.raises(MailboxFull, match="The mailbox of alice is full"):
        store.send_mail("bob", "alice", "one too many", 9.0)
    assert [m.text for m in store.inbox("alice")] == ["letter 0", "letter 1", "letter 2"]
    store.delete_mail("alice", 1)
    store.send_mail("bob", "alice", "fits again", 10.0)


def test_delete_mail_by_inbox_number(store: SQLiteStore) -> None:
    store.create_account("Alice", "h")
    store.create_account("Bob", "h")
    for text in ("one", "two", "three"):
        store.send_mail("carol", "alice", text, 1.0)
    store.send_mail("carol", "bob", "bob's", 1.0)
    assert store.delete_mail("alice", 2) is True
    assert [(m.number, m.text) for m in store.inbox("alice")] == [(1, "one"), (2, "three")]
    assert store.delete_mail("alice", 3) is False
    assert store.delete_mail("alice", 0) is False
    assert store.delete_mail("alice", -1) is False
    assert [m.text for m in store.inbox("bob")] == ["bob's"]


# Boards


def test_default_boards(store: SQLiteStore) -> None:
    boards = {b.name: b for b in store.list_boards()}
    assert set(boards) == {"general", "announcements"}
    assert boards["general"].post_role == "registered"
    assert boards["announcements"].post_role == "sysop"
    assert boards["general"].posts == 0 and boards["general"].newest is None


def test_posts(store: SQLiteStore) -> None:
    assert store.add_post("General", "alice", "Hi", "First post.", 10.0) == 1
    assert store.add_post("general", "bob", "Re: Hi", "Second.", 20.0) == 2
    assert store.add_post("announcements", "sysop", "News", "Body", 30.0) == 1
    assert store.list_posts("GENERAL") == [
        PostHeader(1, "alice", "Hi", 10.0),
        PostHeader(2, "bob", "Re: Hi", 20.0),
    ]
    assert store.get_post("general", 2) == Post(
        "general", 2, "bob", "Re: Hi", "Second.", 20.0
    )
    assert store.get_post("general", 3) is None
    general = store.get_board("General")
    assert general is not None and (general.posts, general.newest) == (2, 20.0)


def test_list_posts_newest_only(store: SQLiteStore) -> None:
    for n in range(5):
        store.add_post("general", "alice", f"post {n}", "", float(n))
    assert [p.number for p in store.list_posts("general", limit=2)] == [4, 5]


def test_unknown_board(store: SQLiteStore) -> None:
    assert store.get_board("nowhere") is None
    with pytest.raises(NoSuchBoard, match="There is no board nowhere"):
        store.add_post("nowhere", "alice", "s", "b", 1.0)
    with pytest.raises(NoSuchBoard):
        store.list_posts("nowhere")
    with pytest.raises(NoSuchBoard):
        store.get_post("nowhere", 1)


# Room history


def _line(room: str, n: int) -> HistoryEntry:
    return HistoryEntry(room, "alice", f"line {n}", "say", float(n))


def test_history_oldest_first(store: SQLiteStore) -> None:
    for n in range(5):
        store.append_history(_line("Lobby", n))
    store.append_history(_line("den", 99))
    assert store.recent_history("lobby", limit=3) == [_line("Lobby", n) for n in (2, 3, 4)]
    assert store.recent_history("DEN") == [_line("den", 99)]
    assert store.recent_history("attic") == []


def test_history_is_pruned(store: SQLiteStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqlite_store, "HISTORY_KEEP", 5)
    store.append_history_many([_line("lobby", n) for n in range(8)] + [_line("den", 0)])
    store.append_history(_line("lobby", 8))
    assert [e.text for e in store.recent_history("lobby", limit=100)] == [
        f"line {n}" for n in range(4, 9)
    ]
    assert store.recent_history("den") == [_line("den", 0)]


def test_history_empty_batch(store: SQLiteStore) -> None:
    store.append_history_many([])
    assert store.recent_history("lobby") == []


# Bans


def _ban(target: str, *, kind: str = "net", expires: float | None = None) -> BanRecord:
    return BanRecord(None, kind, target, "spam", "sysop", 1000.0, expires)  # type: ignore[arg-type]


def test_add_and_list_bans(store: SQLiteStore) -> None:
    net = store.add_ban(_ban("10.0.0.0/8"))
    nick = store.add_ban(_ban("Mallory", kind="nick", expires=2000.0))
    assert net.id is not None and nick.id is not None and net.id != nick.id
    assert net == attrs.evolve(_ban("10.0.0.0/8"), id=net.id)
    assert store.list_bans(1500.0) == [net, nick]
    assert store.list_bans(2000.0) == [net]


def test_ban_on_same_target_replaces(store: SQLiteStore) -> None:
    first = store.add_ban(_ban("Mallory", kind="nick", expires=2000.0))
    again = store.add_ban(_ban("MALLORY", kind="nick"))
    assert [(b.id, b.target, b.expires) for b in store.list_bans(0)] == [
        (first.id, "MALLORY", None)
    ]
    assert again.id == first.id


def test_remove_ban(store: SQLiteStore) -> None:
    store.add_ban(_ban("Mallory", kind="nick"))
    store.add_ban(_ban("192.0.2.0/24"))
    assert store.remove_ban("nick", "mallory") == 1
    assert store.remove_ban("nick", "mallory") == 0
    assert store.remove_ban("nick", "192.0.2.0/24") == 0
    assert store.remove_ban("net", "192.0.2.0/24") == 1
    assert store.list_bans(0) == []


def test_expired_bans_are_dropped_by_the_prune(store: SQLiteStore, clock: FakeClock) -> None:
    store.add_ban(_ban("192.0.2.1/32", expires=1100.0))
    clock.now = 1200.0
    store.add_ban(_ban("192.0.2.2/32"))
    assert store.prune_bans() == 1
    # Asking as of long ago shows only what is still stored.
    assert [b.target for b in store.list_bans(0)] == ["192.0.2.2/32"]


def test_accounts_and_their_version(store: SQLiteStore) -> None:
    start = store.accounts_version()
    assert account_keys(store) == frozenset()
    store.create_account("Alice", "h")
    store.create_account("BOB", "h")
    added = store.accounts_version()
    assert added != start
    assert account_keys(store) == {"alice", "bob"}
    store.touch_seen("alice", 5.0)
    store.set_password_hash("alice", "h2")
    store.add_ban(_ban("192.0.2.0/24"))
    assert store.accounts_version() == added  # who exists and who is sysop matter, nothing else
    store.set_sysop("alice", True)
    promoted = store.accounts_version()
    assert promoted != added and store.get_account("alice").is_sysop
    store.set_sysop("alice", False)
    assert store.accounts_version() not in (added, promoted)
    store.delete_account("alice")
    assert store.accounts_version() not in (start, added, promoted)
    assert account_keys(store) == {"bob"}


def test_the_last_ban_change_moves_with_bans_only(store: SQLiteStore) -> None:
    start = store.last_ban_change()
    store.create_account("Alice", "h")
    store.list_bans(0)
    assert store.last_ban_change() == start
    store.add_ban(_ban("192.0.2.0/24"))
    added = store.last_ban_change()
    assert added != start
    store.add_ban(_ban("192.0.2.0/24", expires=5000.0))
    replaced = store.last_ban_change()
    assert replaced != added
    store.remove_ban("net", "192.0.2.0/24")
    assert store.last_ban_change() not in (start, added, replaced)


def test_ban_record_checks_itself() -> None:
    with pytest.raises(ValueError):
        _ban("192.0.2.7/24")  # not normalised
    with pytest.raises(ValueError):
        _ban("Mallory", kind="net")
    with pytest.raises(ValueError):
        _ban("Mallory", kind="host")


# Open and close


def test_closed_store_refuses(tmp_path: Path) -> None:
    closed = SQLiteStore(tmp_path / "bbs.sqlite3")
    with pytest.raises(StoreError, match="not open"):
        closed.get_account("alice")
    with pytest.raises(StoreError, match="not open"):
        closed.create_account("alice", "h")
    assert not (tmp_path / "bbs.sqlite3").exists()  # nothing happens before open()
    closed.open()
    closed.open()
    closed.create_account("alice", "h")
    closed.close()
    closed.close()
    with pytest.raises(StoreError, match="not open"):
        closed.get_account("alice")


def test_open_creates_the_data_directory(tmp_path: Path) -> None:
    fresh = SQLiteStore(tmp_path / "data" / "bbs.sqlite3")
    fresh.open()
    fresh.close()
    assert (tmp_path / "data" / "bbs.sqlite3").is_file()


# Threads


def test_many_threads_write_and_read(store: SQLiteStore) -> None:
    """Worker threads share one store: every write lands, numbers are unique."""
    numbers: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def work(n: int) -> None:
        try:
            start.wait()
            store.create_account(f"user{n}", "h")
            for i in range(10):
                numbers.append(store.add_post("general", f"user{n}", f"{i}", "", 1.0))
                assert store.get_account(f"user{n}") is not None
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(numbers) == list(range(1, 61))
    assert len(store.list_accounts()) == 6


# DeferredStore


class ImmediatePool:
    """A thread pool that runs the call at once, in this thread."""

    def callInThreadWithCallback(
        self, onResult: Callable[[bool, object], None], f: Callable[..., Any], *a: Any, **kw: Any
    ) -> None:
        try:
            result = f(*a, **kw)
        except BaseException:
            onResult(False, Failure())
        else:
            onResult(True, result)


class ImmediateReactor:
    def callFromThread(self, f: Callable[..., Any], *a: Any, **kw: Any) -> None:
        f(*a, **kw)


def _result(d: Any) -> Any:
    outcome: list[Any] = []
    d.addBoth(outcome.append)
    assert outcome, "the Deferred has not fired"
    return outcome[0]


def test_deferred_store_calls_through(store: SQLiteStore) -> None:
    deferred = DeferredStore(store, ImmediatePool(), ImmediateReactor())  # type: ignore[arg-type]
    created = _result(deferred.call("create_account", "Alice", "h", sysop=True))
    assert created.is_sysop
    assert _result(deferred.call("get_account", "alice")) == created
    failure = _result(deferred.call("create_account", "alice", "h"))
    assert isinstance(failure, Failure) and failure.check(AccountExists)


def test_deferred_store_only_forwards_the_interface(store: SQLiteStore) -> None:
    deferred = DeferredStore(store, ImmediatePool(), ImmediateReactor())  # type: ignore[arg-type]
    with pytest.raises(AttributeError, match="backup_to"):
        deferred.call("backup_to", "/tmp/x")


class QueueReactor:
    """Hands calls from pool threads to the test's thread, like a reactor."""

    def __init__(self) -> None:
        self.calls: queue.Queue[tuple[Callable[..., Any], tuple[Any, ...]]] = queue.Queue()

    def callFromThread(self, f: Callable[..., Any], *a: Any) -> None:
        self.calls.put((f, a))

    def run_one(self) -> None:
        f, a = self.calls.get(timeout=10)
        f(*a)


def test_deferred_store_runs_in_a_real_pool(store: SQLiteStore) -> None:
    pool = ThreadPool(minthreads=2, maxthreads=2)
    pool.start()
    try:
        reactor = QueueReactor()
        deferred = DeferredStore(store, pool, reactor)  # type: ignore[arg-type]
        outcome: list[Any] = []
        deferred.call("create_account", "Alice", "h").addBoth(outcome.append)
        reactor.run_one()
        assert outcome and outcome[0].nick == "Alice"
        deferred.call("get_account", "ALICE").addBoth(outcome.append)
        reactor.run_one()
        assert outcome[1] == outcome[0]
    finally:
        pool.stop()


def test_sqlite_store_provides_the_interface(store: SQLiteStore) -> None:
    assert verifyObject(IStore, store)


def test_find_bans_counts_all_and_returns_the_newest_that_match(store: SQLiteStore) -> None:
    for n in range(120):
        store.add_ban(BanRecord(None, "net", f"192.0.2.{n}/32", "bot: login-root" if n % 2 else "spam",
                                "traps" if n % 2 else "boss", 1000.0, None))
    store.add_ban(BanRecord(None, "net", "198.51.100.7/32", "100%_sure", "boss", 1000.0, 1500.0))
    total, newest = store.find_bans(1000.0, limit=5)
    assert total == 121 and [b.target for b in newest] == [
        "198.51.100.7/32", "192.0.2.119/32", "192.0.2.118/32", "192.0.2.117/32", "192.0.2.116/32"]
    total, bots = store.find_bans(1000.0, "LOGIN-ROOT", limit=3)  # any case
    assert total == 60 and all(b.reason == "bot: login-root" for b in bots)
    assert store.find_bans(1000.0, "boss", limit=200)[0] == 61
    # LIKE's own wildcards are plain characters here.
    assert store.find_bans(1000.0, "%_", limit=5)[0] == 1
    assert store.find_bans(2000.0, "100%")[0] == 0  # expired by then


# The bans' change feed and pruning: a server reads what changed since it last
# looked (including what was lifted or pruned), never every ban again, and
# expired bans leave the store in bounded batches.


def ban(target: str, *, kind: str = "net", expires: float | None = None,
        reason: str = "spam") -> BanRecord:
    return BanRecord(None, kind, target, reason, "sysop", 1000.0, expires)  # type: ignore[arg-type]


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
