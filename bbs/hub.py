"""Rooms, membership, broadcast and presence.

The hub lives on the reactor thread and never blocks.  A room line is built
once as a L{Message}; members render it for their own window width and
colour setting through a per-broadcast cache, so a room of a thousand people
costs one formatting per distinct terminal shape, not one per member.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator
from types import MappingProxyType
from typing import Protocol

import attrs

from bbs.context import HubView, RoomView, UserView
from bbs.store import HistoryEntry
from bbs.terminal.render import Span, Styled
from bbs.text import fold

LOBBY = "lobby"
HISTORY_LINES = 20
HISTORY_ROOMS = 1000
VIEW_MAX_AGE = 1.0


@attrs.frozen
class Message:
    """One line for other users' screens; C{sender} (folded) lets them ignore it."""

    spans: Styled
    sender: str | None = None


class Member(Protocol):
    """What the hub needs of a connected, logged-in user (a session)."""

    nick: str
    room: "Room | None"
    connected: float
    last_active: float
    away: str | None
    guest: bool
    sysop: bool
    account: str | None
    ip: str
    ignoring: set[str]

    def deliver(self, message: Message, cache: dict) -> None: ...


class Room:
    __slots__ = ("name", "key", "topic", "members")

    def __init__(self, name: str) -> None:
        self.name = name
        self.key = fold(name)
        self.topic = ""
        self.members: dict[Member, None] = {}


def notice(text: str) -> Styled:
    return (Span(text, "dim"),)


def chat_line(nick: str, text: str, emote: bool = False) -> Styled:
    if emote:
        return (Span(f"* {nick} {text}", "me"),)
    return (Span(f"<{nick}>", "nick"), Span(" " + text))


class Hub:
    """Rooms and the people in them.

    C{on_history} receives every line said in a room, so that the service
    can persist room history without the hub ever blocking.
    """

    def __init__(self, clock, on_history: Callable[[HistoryEntry], None] | None = None) -> None:
        self.clock = clock
        self.on_history = on_history
        self.users: dict[str, Member] = {}
        self.rooms: dict[str, Room] = {LOBBY: Room(LOBBY)}
        self._history: OrderedDict[str, deque[Message]] = OrderedDict()
        self._view: HubView | None = None
        self._view_at = 0.0

    # -- identity -----------------------------------------------------------

    def find(self, nick: str) -> Member | None:
        return self.users.get(fold(nick))

    def claim(self, member: Member, nick: str) -> str | None:
        """Give C{member} the nickname C{nick}; returns why not, or None."""
        key = fold(nick)
        holder = self.users.get(key)
        if holder is not None and holder is not member:
            return f"The nickname {nick} is in use."
        if member.nick:
            self.users.pop(fold(member.nick), None)
        self.users[key] = member
        old, member.nick = member.nick, nick
        self.changed()
        if old and member.room is not None:
            self.broadcast(member.room, Message(notice(f"-- {old} is now known as {nick}")))
        return None

    def guest_name(self) -> str:
        n = 1
        while f"guest{n}" in self.users:
            n += 1
        return f"guest{n}"

    # -- rooms --------------------------------------------------------------

    def join(self, member: Member, name: str, history: Iterable[HistoryEntry] = ()) -> Room:
        """Move C{member} into room C{name}, creating it; replays its history.

        C{history} (from the store) seeds a room this process has not heard
        anything in yet, so a restart keeps what was said.
        """
        key = fold(name)
        self.seed(key, history)
        room = self.rooms.get(key)
        if room is None:
            room = self.rooms[key] = Room(name)
        self._leave_room(member, f"-- {member.nick} went to {room.name}")
        member.room = room
        room.members[member] = None
        self.changed()
        for line in self._history.get(key, ()):
            member.deliver(line, {})
        self.broadcast(room, Message(notice(f"-- {member.nick} joined {room.name}")))
        return room

    def _leave_room(self, member: Member, announcement: str) -> None:
        room = member.room
        if room is None:
            return
        room.members.pop(member, None)
        member.room = None
        if room.members:
            self.broadcast(room, Message(notice(announcement)))
        elif room.key != LOBBY:
            del self.rooms[room.key]
        self.changed()

    def leave(self, member: Member, message: str = "") -> None:
        """Remove a user who has disconnected."""
        if self.users.get(fold(member.nick)) is member:
            del self.users[fold(member.nick)]
        said = f" ({message})" if message else ""
        self._leave_room(member, f"-- {member.nick} left{said}")
        self.changed()

    def set_topic(self, member: Member, topic: str) -> None:
        room = member.room
        if room is None:
            return
        room.topic = topic
        self.changed()
        self.broadcast(room, Message(notice(f"-- {member.nick} set the topic: {topic}")))

    # -- talking ------------------------------------------------------------

    def say(self, member: Member, text: str, emote: bool = False) -> None:
        room = member.room
        if room is None:
            return
        message = Message(chat_line(member.nick, text, emote), fold(member.nick))
        self._remember(room.key, message)
        self.broadcast(room, message)
        if self.on_history is not None:
            kind = "me" if emote else "say"
            self.on_history(HistoryEntry(room.name, member.nick, text, kind, self.clock.seconds()))

    def broadcast(self, room: Room, message: Message) -> None:
        self._deliver_all(room.members, message)

    def wall(self, message: Message) -> None:
        self._deliver_all(self.users.values(), message)

    def _deliver_all(self, members: Iterable[Member], message: Message) -> None:
        cache: dict = {}
        sender = message.sender
        for member in list(members):
            if sender is None or sender not in member.ignoring:
                member.deliver(message, cache)

    def seed(self, key: str, entries: Iterable[HistoryEntry]) -> None:
        """Fill an unheard room's history from stored entries."""
        if key in self._history:
            return
        lines = [Message(chat_line(e.nick, e.text, e.kind == "me"), fold(e.nick)) for e in entries]
        for message in lines[-HISTORY_LINES:]:
            self._remember(key, message)

    def _remember(self, key: str, message: Message) -> None:
        lines = self._history.get(key)
        if lines is None:
            lines = self._history[key] = deque(maxlen=HISTORY_LINES)
            if len(self._history) > HISTORY_ROOMS:
                self._history.popitem(last=False)
        else:
            self._history.move_to_end(key)
        lines.append(message)

    # -- snapshots ----------------------------------------------------------

    def changed(self) -> None:
        self._view = None

    def view(self) -> HubView:
        """An immutable snapshot for handlers; idle times may lag by a second."""
        now = self.clock.seconds()
        if self._view is None or now - self._view_at >= VIEW_MAX_AGE:
            users = {
                key: UserView(
                    m.nick, m.room.name if m.room else "", m.connected,
                    m.last_active, m.away, m.guest, m.sysop, m.account, m.ip,
                )
                for key, m in self.users.items()
            }
            rooms = {
                key: RoomView(r.name, r.topic, tuple(m.nick for m in r.members))
                for key, r in self.rooms.items()
            }
            self._view = HubView(MappingProxyType(users), MappingProxyType(rooms))
            self._view_at = now
        return self._view

    def __iter__(self) -> Iterator[Member]:
        return iter(list(self.users.values()))
