"""The values the store holds and hands out: accounts and their SSH keys,
mail, boards and posts, room history, bans and the changes to them.  Frozen, so a value read
in a worker thread can be handed to the reactor thread as it is."""

from __future__ import annotations

from typing import Literal, NamedTuple

import attrs

from bbs.guard.addresses import BanKind, ban_target
from bbs.text import fold


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


@attrs.frozen
class AccountKey:
    """An SSH public key on an account; C{number} is its place in the
    account's list, in the order the keys were added.  C{blob} is the key's
    wire form, as a client offers it."""

    number: int
    algorithm: str
    blob: bytes = attrs.field(repr=False)
    comment: str
    fingerprint: str
    added: float


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
