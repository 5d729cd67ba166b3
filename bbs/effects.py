"""Effects: what a command handler asks the reactor thread to do.

Handlers run in worker threads and must not touch sockets or shared state, so
they describe the outcome as plain frozen values and the session applies
them, in order, on the reactor thread.  The reactor re-checks anything that
may have changed meanwhile (a nickname taken, a user gone) when it applies.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Union

import attrs

from bbs.store import BanRecord, HistoryEntry
from bbs.styled import Styled

if TYPE_CHECKING:
    from bbs.context import Context


@attrs.frozen
class Reply:
    """Show C{message} to the user who ran the command."""

    message: Styled | str


@attrs.frozen
class PrivateMessage:
    """Deliver C{text} privately from the command's user to C{target}."""

    target: str
    text: str
    emote: bool = False


@attrs.frozen
class Say:
    """Say C{text} in the user's current room (C{emote} for /me)."""

    text: str
    emote: bool = False


@attrs.frozen
class ChangeNick:
    nick: str


@attrs.frozen
class Join:
    """Move to C{room}; C{history} is its stored recent history."""

    room: str
    history: tuple[HistoryEntry, ...] = ()


@attrs.frozen
class SetTopic:
    topic: str


@attrs.frozen
class SetAway:
    """Mark the user away with C{text}, or back when C{text} is None."""

    text: str | None


@attrs.frozen
class ToggleIgnore:
    nick: str


@attrs.frozen
class SetColour:
    on: bool


@attrs.frozen
class Quit:
    message: str = ""


@attrs.frozen
class Notify:
    """Show a notice to the online user C{nick}, if they are on."""

    nick: str
    text: str


@attrs.frozen
class Ask:
    """Ask the user a question; their next line goes to C{then} in a worker.

    C{secret} turns echo off and keeps the answer out of history and logs.
    C{login} names the account when the answer is a password attempt, so
    that the reactor can throttle failed logins before it is checked.
    """

    prompt: str
    then: Callable[["Context", str], Sequence["Effect"]]
    secret: bool = False
    login: str | None = None


@attrs.frozen
class LoggedIn:
    """The user proved they own C{nick}."""

    nick: str
    sysop: bool
    unread: int


@attrs.frozen
class LoginFailed:
    nick: str


@attrs.frozen
class Kick:
    nick: str
    reason: str


@attrs.frozen
class Banned:
    """Bans already saved in the store; enforce them now."""

    records: tuple[BanRecord, ...]
    target: str


@attrs.frozen
class Unbanned:
    kind: str
    target: str


@attrs.frozen
class Mute:
    """Mute C{nick} until C{until} (None: until unmuted); C{False} unmutes."""

    nick: str
    until: float | None
    on: bool = True


@attrs.frozen
class Wall:
    text: str


@attrs.frozen
class Shutdown:
    delay: float
    message: str


Effect = Union[
    Reply, PrivateMessage, Say, ChangeNick, Join, SetTopic, SetAway,
    ToggleIgnore, SetColour, Quit, Notify, Ask, LoggedIn, LoginFailed,
    Kick, Banned, Unbanned, Mute, Wall, Shutdown,
]
