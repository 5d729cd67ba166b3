"""Immutable snapshots handed to command handlers in worker threads.

A handler sees the world as it was when its command started and never a
live object, so nothing a worker does can race with the reactor thread.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from bbs.durations import DEFAULT_BAN, parse_duration
from bbs.names import Registered


@attrs.frozen
class UserView:
    nick: str
    room: str
    connected: float
    last_active: float
    away: str | None
    guest: bool
    sysop: bool = False
    account: str | None = None
    ip: str = ""


@attrs.frozen
class RoomView:
    name: str
    topic: str
    size: int


@attrs.frozen
class HubView:
    """The hub's state at one moment: users and rooms keyed by folded name."""

    users: Mapping[str, UserView]
    rooms: Mapping[str, RoomView]


@attrs.frozen
class Sighting:
    """A bot the traps caught, for the sysops' /bots list."""

    at: float
    ip: str
    rule: str
    family: str
    input: str


@attrs.frozen
class Policy:
    """Server-wide settings that handlers need to decide."""

    default_ban: float | None = parse_duration(DEFAULT_BAN)
    ipv6_ban_prefix: int = 128


@attrs.frozen
class Context:
    """Everything a handler may know about the user who ran the command."""

    session: str
    nick: str
    room: str
    guest: bool
    account: str | None
    sysop: bool
    away: str | None
    reply_to: str | None
    ignoring: frozenset[str]
    colour: bool
    now: float
    hub: HubView
    store: Any = None
    # The accounts the server knows of (refreshed from the store every few
    # seconds): enough to tell a free nickname from a taken one or its
    # look-alike.  A set of folded names is indexed on the way in.
    registered: Registered = attrs.field(default=Registered(), converter=Registered.of)
    policy: Policy = Policy()
    bots: tuple[Sighting, ...] = ()
    # The columns of the user's window, for the few replies laid out as tables.
    width: int = 80
