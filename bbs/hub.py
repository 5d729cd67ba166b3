"""Rooms, membership, broadcast and presence.

The hub lives on the reactor thread and never blocks.  A room line is built
once as a L{Message} and delivered to each member by one call,
C{member.deliver}; how a room of a thousand costs one rendering per terminal
shape rather than one per member is L{bbs.lines}'s business.

A room's lines wait until the end of the reactor's turn and then reach each
member together as one L{Lines}: one write per member for a join
announcement and the line that follows it, or for several people talking at
once.  Waiting never reorders what a member sees: the room's lines go out
before anything else is shown to one of its members (L{Hub.flush_room}) and
before anyone joins or leaves the room.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Set as AbstractSet
from types import MappingProxyType
from typing import Protocol, TypeVar

from twisted.logger import Logger

from bbs.context import HubView, RoomView, UserView
from bbs.names import keys
from bbs.lines import Lines, Message
from bbs.store import HISTORY_LINES, HistoryEntry
from bbs.styled import Span, Styled
from bbs.text import fold

log = Logger()
_V = TypeVar("_V")

LOBBY = "lobby"
# Above this many members a room announces joins and departures once a
# second in one line: telling N people about each of N arrivals is O(N^2).
BUSY_ROOM = 200
BATCH_EVERY = 1.0
BATCH_NAMES = 10
HISTORY_ROOMS = 1000
VIEW_MAX_AGE = 1.0


class _Fresh(Mapping[str, _V]):
    """One of the hub's tables of views, brought up to date when read.

    Whether a name is taken is answered from the hub's own table, with no
    view made: that is all most handlers ask (does the room exist?), and a
    login changes its user and two rooms, whose views nobody may look at.
    """

    __slots__ = ("_views", "_names", "_refresh")

    def __init__(self, views: dict[str, _V], names: Mapping[str, object],
                 refresh: Callable[[], None]) -> None:
        self._views = views
        self._names = names
        self._refresh = refresh

    def __contains__(self, key: object) -> bool:
        return key in self._names

    def __len__(self) -> int:
        return len(self._names)

    def __getitem__(self, key: str) -> _V:
        self._refresh()
        return self._views[key]

    def __iter__(self) -> Iterator[str]:
        self._refresh()
        return iter(self._views)


class Member(Protocol):
    """What the hub needs of a connected, logged-in user (a session)."""

    nick: str
    key: str  # fold(nick), kept by the hub
    room: "Room | None"
    connected: float
    last_active: float
    away: str | None
    guest: bool
    sysop: bool
    account: str | None
    ip: str
    ignoring: AbstractSet[str]

    def deliver(self, lines: Lines) -> None:
        """Show C{lines} now (L{bbs.lines.deliver}).  The hub calls this only
        once what the member's room said before them has been shown
        (L{Hub.flush_room}): members need not check, which matters for each
        of a thousand in a flush."""


class Room:
    __slots__ = ("name", "key", "topic", "members", "pending", "arrived", "departed", "batch")

    def __init__(self, name: str) -> None:
        self.name = name
        self.key = fold(name)
        self.topic = ""
        self.members: dict[Member, None] = {}
        self.pending: list[Message] = []  # said this turn, not yet delivered
        # Busy rooms announce comings and goings in batches (see Hub._moved).
        self.arrived: list[str] = []
        self.departed: list[str] = []
        self.batch = None


def notice(text: str) -> Styled:
    return (Span(text, "dim"),)


def chat_line(nick: str, text: str, emote: bool = False) -> Styled:
    if emote:
        return (Span(f"* {nick} {text}", "me"),)
    return (Span(f"<{nick}>", "nick"), Span(" " + text))


class Hub:
    """Rooms and the people in them.

    C{on_history} receives every line said in a room, so that the service
    can persist room history without the hub ever blocking.  C{at_turn_end}
    calls a function at the end of this turn of the reactor (by default with
    C{clock.callLater(0, ...)}); the service passes one that runs before the
    connections send what the turn wrote.
    """

    def __init__(self, clock, on_history: Callable[[HistoryEntry], None] | None = None,
                 at_turn_end: Callable[[Callable[[], None]], object] | None = None) -> None:
        self.clock = clock
        self.on_history = on_history
        self._at_turn_end = at_turn_end or (lambda f: clock.callLater(0, f))
        self._due: list[Room] = []  # rooms with lines pending
        # Set while the server shuts down: everyone is leaving at once, and
        # telling each of N people about the other N-1 would take O(N^2).
        self.closing = False
        self.users: dict[str, Member] = {}
        # Who holds each look-alike key (L{bbs.names.keys}) of a name online,
        # so that a claim finds its double with a lookup, not a walk; and
        # each member's keys, to let go of them without working them out again.
        self._alike: dict[str, Member] = {}
        self._keys: dict[Member, Collection[str]] = {}
        self.rooms: dict[str, Room] = {LOBBY: Room(LOBBY)}
        self._history: OrderedDict[str, deque[Message]] = OrderedDict()
        self._replays: dict[str, Lines] = {}  # each room's history as one Lines
        # What handlers may see.  A change only marks what moved; views are
        # made when someone looks (L{live}, L{view}): a login that joins,
        # leaves and joins again builds each at most once, and a snapshot is
        # two dict copies, not a walk over every session.
        self._user_views: dict[str, UserView] = {}
        self._room_views: dict[str, RoomView] = {LOBBY: RoomView(LOBBY, "", 0)}
        self._stale_users: set[str] = set()
        self._stale_rooms: set[str] = set()
        self._view: HubView | None = None
        # What handlers on the reactor thread see: read-only but live (nothing
        # changes while they run, so they need no copy).
        self.live = HubView(
            _Fresh(self._user_views, self.users, self._refresh),
            _Fresh(self._room_views, self.rooms, self._refresh),
        )

    # -- identity -----------------------------------------------------------

    def find(self, nick: str) -> Member | None:
        return self.users.get(fold(nick))

    def holder(self, nick: str) -> Member | None:
        """Who online has C{nick} or a name that looks like it."""
        member = self.users.get(fold(nick))
        if member is None:
            for key in keys(nick):
                member = self._alike.get(key)
                if member is not None:
                    break
        return member

    def claim(self, member: Member, nick: str) -> str | None:
        """Give C{member} the nickname C{nick}; returns why not, or None."""
        key = fold(nick)
        holder = self.users.get(key)
        if holder is not None and holder is not member:
            return f"The nickname {nick} is in use."
        alike = keys(nick)
        for look in alike:
            holder = self._alike.get(look)
            if holder is not None and holder is not member:
                return f"The nickname {nick} looks like {holder.nick}, who is online."
        if member.nick:
            self.users.pop(member.key, None)
            self._forget(member)
            self._stale_users.add(member.key)
        self.users[key] = member
        self._keys[member] = alike
        for look in alike:
            self._alike[look] = member
        old, member.nick, member.key = member.nick, nick, key
        self.changed(member)
        if old and member.room is not None:
            self.broadcast(member.room, Message(notice(f"-- {old} is now known as {nick}")))
        return None

    def _forget(self, member: Member) -> None:
        """Drop C{member}'s name from the look-alike index."""
        for look in self._keys.pop(member, ()):
            if self._alike.get(look) is member:
                del self._alike[look]

    def guest_name(self) -> str:
        """The first guestN that neither is nor looks like a name online
        (the sysop may have made an account such as "guestl")."""
        n = 1
        while self.holder(f"guest{n}") is not None:
            n += 1
        return f"guest{n}"

    # -- rooms --------------------------------------------------------------

    def join(self, member: Member, name: str, history: Iterable[HistoryEntry] = ()) -> Room:
        """Move C{member} into room C{name}, creating it; replays its history.

        C{history} (from the store) seeds a room this process has not heard
        anything in yet, so a restart keeps what was said.
        """
        key = fold(name)
        if history:
            self.seed(key, history)
        room = self.rooms.get(key)
        if room is None:
            room = self.rooms[key] = Room(name)
        self._leave_room(member, f"-- {member.nick} went to {room.name}")
        self.flush_room(room)  # said before they came: theirs only as history
        member.room = room
        room.members[member] = None
        self._room_changed(room)
        self.changed(member)
        replay = self._replay(key)
        if replay is not None:
            seen = replay.seen_by(member.ignoring)
            if seen is not None:
                member.deliver(seen)
        joined = Message(notice(f"-- {member.nick} joined {room.name}"))
        if self._moved(room, room.arrived, member.nick, joined):
            member.deliver(Lines((joined,)))
        return room

    def _moved(self, room: Room, batch: list[str], nick: str, message: Message) -> bool:
        """Announce a join or departure now, or (busy room) in the next batch.

        Returns whether it was batched.
        """
        if len(room.members) <= BUSY_ROOM:
            self.broadcast(room, message)
            return False
        batch.append(nick)
        if room.batch is None:
            room.batch = self.clock.callLater(BATCH_EVERY, self._announce_batch, room)
        return True

    def _announce_batch(self, room: Room) -> None:
        room.batch = None
        arrived, departed, room.arrived, room.departed = room.arrived, room.departed, [], []
        if self.rooms.get(room.key) is not room or self.closing:
            return
        for names, verb in ((arrived, "joined"), (departed, "left")):
            if not names:
                continue
            shown = ", ".join(names[:BATCH_NAMES])
            if len(names) > BATCH_NAMES:
                shown += f" and {len(names) - BATCH_NAMES} more"
            self.broadcast(room, Message(notice(f"-- {len(names)} {verb} {room.name}: {shown}")))

    def _leave_room(self, member: Member, announcement: str) -> None:
        room = member.room
        if room is None:
            return
        self.flush_room(room)  # what they were there for
        room.members.pop(member, None)
        member.room = None
        if room.members:
            if not self.closing:
                self._moved(room, room.departed, member.nick, Message(notice(announcement)))
        elif room.key != LOBBY:
            del self.rooms[room.key]
            if room.batch is not None and room.batch.active():
                room.batch.cancel()
        self._room_changed(room)
        self.changed(member)

    def leave(self, member: Member, message: str = "") -> None:
        """Remove a user who has disconnected."""
        said = f" ({message})" if message else ""
        self._leave_room(member, f"-- {member.nick} left{said}")
        key = member.key
        if self.users.get(key) is member:
            del self.users[key]
            self._forget(member)
        self.changed(member)

    def set_topic(self, member: Member, topic: str) -> None:
        room = member.room
        if room is None:
            return
        room.topic = topic
        self._room_changed(room)
        self.broadcast(room, Message(notice(f"-- {member.nick} set the topic: {topic}")))

    # -- talking ------------------------------------------------------------

    def say(self, member: Member, text: str, emote: bool = False) -> None:
        room = member.room
        if room is None:
            return
        message = Message(chat_line(member.nick, text, emote), member.key)
        self._remember(room.key, message)
        self.broadcast(room, message)
        if self.on_history is not None:
            kind = "me" if emote else "say"
            self.on_history(HistoryEntry(room.name, member.nick, text, kind, self.clock.seconds()))

    def broadcast(self, room: Room, message: Message) -> None:
        """Say C{message} to everyone in C{room}, at the end of this turn."""
        if not room.members:
            return
        if not room.pending:
            if not self._due:
                self._at_turn_end(self.flush)
            self._due.append(room)
        room.pending.append(message)

    def flush(self) -> None:
        """Deliver the lines every room said during this turn."""
        due, self._due = self._due, []
        for room in due:
            self.flush_room(room)

    def flush_room(self, room: Room) -> None:
        """Deliver C{room}'s pending lines now.

        Members call this before anything else is shown to them, so nothing
        overtakes a line said earlier in their room.
        """
        if room.pending:
            lines, room.pending = Lines(tuple(room.pending)), []
            self._deliver_all(room.members, lines)

    def wall(self, message: Message) -> None:
        self.flush()
        self._deliver_all(self.users.values(), Lines((message,)))

    def tell(self, member: Member, message: Message) -> None:
        """Show C{message} to C{member} alone (a private message), after what
        their room said earlier in this turn."""
        if member.room is not None:
            self.flush_room(member.room)
        self._deliver_all((member,), Lines((message,)))

    def _deliver_all(self, members: Iterable[Member], lines: Lines) -> None:
        for member in list(members):
            try:
                ignoring = member.ignoring
                if not ignoring:
                    member.deliver(lines)
                else:  # rare: most people ignore nobody
                    seen = lines.seen_by(ignoring)
                    if seen is not None:
                        member.deliver(seen)
            except Exception:
                # One member's failure must not cost the others their lines.
                log.failure("delivering to {nick} failed", nick=member.nick)

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
                self._replays.pop(self._history.popitem(last=False)[0], None)
        else:
            self._history.move_to_end(key)
        lines.append(message)
        self._replays.pop(key, None)

    def _replay(self, key: str) -> Lines | None:
        """Room C{key}'s history as one L{Lines}, kept until a line is added."""
        replay = self._replays.get(key)
        if replay is None:
            history = self._history.get(key)
            if history:
                replay = self._replays[key] = Lines(tuple(history))
        return replay

    # -- snapshots ----------------------------------------------------------

    def changed(self, member: Member | None = None) -> None:
        """Something handlers can see changed, about C{member} if given."""
        if member is not None:
            self._stale_users.add(member.key)
        self._view = None

    def touch(self, member: Member) -> None:
        """C{member} was active: idle times in snapshots may lag a second."""
        view = self._user_views.get(member.key)
        if view is not None and member.last_active - view.last_active >= VIEW_MAX_AGE:
            self.changed(member)

    def _room_changed(self, room: Room) -> None:
        self._stale_rooms.add(room.key)
        self._view = None

    def _refresh(self) -> None:
        """Make the views of what changed since anyone last looked."""
        if not (self._stale_users or self._stale_rooms):
            return
        for key in self._stale_users:
            member = self.users.get(key)
            if member is None:
                self._user_views.pop(key, None)
            else:
                room = member.room
                self._user_views[key] = UserView(
                    member.nick, room.name if room else "", member.connected,
                    member.last_active, member.away, member.guest, member.sysop,
                    member.account, member.ip,
                )
        self._stale_users.clear()
        for key in self._stale_rooms:
            room = self.rooms.get(key)
            if room is None:
                self._room_views.pop(key, None)
            else:
                self._room_views[key] = RoomView(room.name, room.topic, len(room.members))
        self._stale_rooms.clear()

    def view(self) -> HubView:
        """An immutable snapshot, for handlers run in a worker."""
        self._refresh()
        if self._view is None:
            self._view = HubView(
                MappingProxyType(dict(self._user_views)), MappingProxyType(dict(self._room_views))
            )
        return self._view

    def __iter__(self) -> Iterator[Member]:
        return iter(list(self.users.values()))
