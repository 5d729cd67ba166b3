"""L{IStore}: what the rest of the server may ask of the store, whatever
backend keeps it."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from zope.interface import Interface

from bbs.store.records import (
    Account, AccountKey, BanChanges, BanRecord, BanRow, BoardInfo, HistoryEntry, Mail, Post, PostHeader,
)


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
        """Remove the account, its mailbox and its keys; whether it existed."""

    def list_accounts() -> list[Account]:
        """Every account, by folded nickname."""

    def touch_seen(nick: str, when: float) -> None:
        """Record when C{nick} was last seen; unknown nicks are ignored."""

    def add_key(nick: str, algorithm: str, blob: bytes, comment: str, fingerprint: str,
                when: float) -> AccountKey:
        """Put an SSH public key (its wire form C{blob}) on the account;
        raise L{NoSuchAccount}, L{KeyExists} or L{TooManyKeys}."""

    def list_keys(nick: str) -> list[AccountKey]:
        """The SSH keys of C{nick}, numbered from 1 in the order added."""

    def delete_key(nick: str, number: int) -> AccountKey | None:
        """Remove key C{number} of the list; the key removed, if there was one."""

    def has_key(nick: str, blob: bytes) -> bool:
        """Whether the account C{nick} holds the key whose wire form is C{blob}."""

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

    def ban_rows(now: float) -> Iterator[BanRow]:
        """The bans still in force at C{now}, unchecked and in bulk (start-up)."""

    def last_ban_change() -> int:
        """The number of the latest change to the bans (0 if none)."""

    def ban_changes(since: int, limit: int = ...) -> BanChanges:
        """What changed in the bans after change number C{since}."""

    def prune_bans(now: float | None = None, batch: int = ...) -> int:
        """Delete up to C{batch} bans that ended by C{now}; how many went."""

    def accounts_version() -> int:
        """A number that changes whenever an account is added or removed, or
        a sysop's role is given or taken away; cheap to poll."""
