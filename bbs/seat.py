"""What a session may use of the server it sits in: the narrow interface.

A session is handed its server as a L{Seat}, never the server class
(L{bbs.server.BBS}), so the session depends on this list and not on the
server or the twistd glue, and no import cycle runs through them.  It is
generic in the session type, so this module needs no session either.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableSet, Sequence
from typing import TYPE_CHECKING, Protocol, TypeVar

if TYPE_CHECKING:
    from twisted.internet.interfaces import IReactorTime

    from bbs.commands import Registry
    from bbs.config import Config
    from bbs.context import Policy, Sighting
    from bbs.guard.addresses import NetworkSet
    from bbs.guard.bans import BanList
    from bbs.guard.limits import ConnectionLimiter, LoginThrottle
    from bbs.guard.traps import TrapRules
    from bbs.hub import Hub
    from bbs.lines import Lines
    from bbs.names import Registered
    from bbs.pool import WorkerPool
    from bbs.store import BanRecord, IStore

__all__ = ["Seat"]

S = TypeVar("S")


class Seat(Protocol[S]):
    """The server as its sessions (of type C{S}) see it, on the reactor thread."""

    config: Config
    clock: IReactorTime
    hub: Hub
    store: IStore | None
    pool: WorkerPool
    commands: Registry
    motd: Lines | None
    policy: Policy
    traps: TrapRules
    trusted: NetworkSet
    bans: BanList  # matched at login; changed through add_bans and lift_ban
    limiter: ConnectionLimiter
    throttle: LoginThrottle
    # Who is on: a session adds itself when it starts and takes itself away
    # when it ends, a set operation rather than a call, once per connection.
    sessions: MutableSet[S]

    # Read here, changed through the methods below.
    @property
    def mutes(self) -> Mapping[str, float | None]: ...

    @property
    def sightings(self) -> Sequence[Sighting]: ...

    @property
    def registered(self) -> Registered: ...

    def ended(self, session: S) -> None:
        """C{session} has done all it does when its connection is lost."""

    def ban_bot(self, session: S, reason: str) -> float | None:
        """Ban a trapped bot's network; for how long, or None if not anew."""

    def add_bans(self, records: Sequence[BanRecord]) -> None:
        """Hold the bans a sysop just set and disconnect everyone they match."""

    def lift_ban(self, kind: str, target: str) -> None:
        """Stop holding a ban a sysop just lifted."""

    def shutdown_in(self, delay: float, message: str, by: str) -> None:
        """Count down to everyone, then stop the server."""

    def mute_address(self, ip: str, until: float | None) -> None:
        """Keep C{ip} muted until then, C{None} for until a sysop unmutes it."""

    def unmute_address(self, ip: str) -> None:
        """C{ip} is no longer muted."""

    def sighted(self, sighting: Sighting) -> None:
        """A bot was trapped: remember it for /bots."""

    def note_account(self, nick: str) -> None:
        """C{nick} is an account registered just now (not yet in C{registered})."""
