"""Doors: what a session needs of the connection that carries it, and what
the connection tells the session, whatever protocol carries them.

The doors are telnet (L{bbs.telnet.protocol.TelnetConnection}), the
browser (L{bbs.web.door.WebDoor}) and SSH (L{bbs.ssh.door.SSHDoor}).  A session, the hub, the commands and the honeypot
know a connection only as a L{Door}, so a new door is a new adapter beside
the telnet one, not a change threaded through the session.

Text crosses a door as UTF-8 application bytes with C{b"\\n"} line ends; the
door turns them into its wire form.  L{Door.prepare} is that conversion on
its own, pure, so that bytes shared by many connections of one kind (a room
line, see L{bbs.lines}) are converted once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

import attrs

if TYPE_CHECKING:
    from twisted.internet.defer import Deferred

__all__ = ["Door", "DoorApplication", "Variable"]


@attrs.frozen
class Variable:
    """One environment variable a client sent about itself (telnet
    NEW-ENVIRON, an SSH C{env} request): C{user} for a telnet USERVAR,
    C{value} C{None} if it had none.  Only ever logged."""

    name: str
    value: str | None
    user: bool = False

    @property
    def exploit(self) -> bool:
        """Whether this is the CVE-2026-24061 telnetd bypass: C{USER}
        starting with C{-f} (C{login -f root} on an unpatched server)."""
        return (not self.user and self.name == "USER" and self.value is not None
                and self.value.lstrip().startswith("-f"))


class Door(Protocol):
    """One connection, as the session above it uses it (on the reactor thread).

    @ivar kind: The door's name in events and the sysop's views:
        C{"telnet"}, C{"ssh"} or C{"web"}.
    @ivar peer: The client's address and port.
    @ivar host: The address and port it connected to.
    @ivar window: C{(width, height)}; a default until the client says
        (L{DoorApplication.door_window}).
    @ivar terminal_type: What the client calls its terminal, or C{None}.
    @ivar prepare: Application bytes to this kind of door's wire bytes, for
        L{write_prepared}: pure, the same function for every door of a kind.
    @ivar authenticates: Whether the door asks who comes in itself (SSH):
        then the session shows no C{login:} prompt, is asked by
        L{DoorApplication.door_password} and L{DoorApplication.door_key}, and
        starts at L{DoorApplication.door_shell} or L{DoorApplication.door_exec}.
    """

    kind: str
    authenticates: bool
    peer: tuple[str, int]
    host: tuple[str, int]
    window: tuple[int, int]
    terminal_type: str | None
    prepare: Callable[[bytes], bytes]

    @property
    def character_mode(self) -> bool:
        """Whether the client sends each key as typed and we echo it, rather
        than sending whole lines it edited and echoed itself."""

    @property
    def negotiates(self) -> bool:
        """Whether the client can be asked to stop echoing (L{request_echo}):
        a line-mode client that can not shows passwords as they are typed."""

    def write(self, data: bytes) -> None:
        """Send application bytes."""

    def write_prepared(self, wire: bytes) -> None:
        """Send bytes that L{prepare} made."""

    def request_echo(self, on: bool) -> bool:
        """Ask to echo ourselves (C{on}, around a secret prompt) or to give the
        client its own echo back; whether this changed where echo is headed."""

    def keepalive(self) -> None:
        """Send something that shows nothing, so that routers on the way keep
        an idle connection's state."""

    def close(self, reason: str | None = None, *, shown: bool = False) -> None:
        """Send C{reason} as a last line (unless the session has C{shown} it
        itself), then close once the output is sent.

        Flow control is the door's own: it stops reading a client that sends
        too fast, and drops one that stops reading while output waits.
        """

    def abort(self, reason: str) -> None:
        """Drop the connection now, discarding unsent output."""


class DoorApplication(Protocol):
    """What a door calls on what sits above it (the session), in the order
    things happen on the connection."""

    def door_connected(self, door: Door) -> None:
        """The connection is up; C{door} is how to use it."""

    def door_data(self, data: bytes) -> None:
        """Input, with every line end made one C{b"\\n"}."""

    def door_window(self, width: int, height: int) -> None:
        """The client's window has this size (first report, or a change)."""

    def door_ttype(self, name: str) -> None:
        """The client named its terminal (once)."""

    def door_echo(self, server_echoes: bool) -> None:
        """The client agreed that we echo (character mode), or stopped."""

    def door_signal(self, name: str) -> None:
        """The connection behaved as a bot's does (a name from the door's
        list, e.g. C{"no-negotiation"}); each name once per connection."""

    def door_environ(self, variables: tuple[Variable, ...]) -> None:
        """The client sent environment variables about itself."""

    def door_event(self, eventid: str, message: str, fields: Mapping[str, Any]) -> None:
        """What the door saw of the client, for the event log (its version,
        its key exchange: Cowrie's vocabulary)."""

    def door_password(self, user: str, password: str | None) -> Deferred[bool]:
        """Whether C{user} may come in with C{password} (C{None}: none was
        asked, as for a guest); an authenticating door's question."""

    def door_key(self, user: str, blob: bytes, signed: bool) -> Deferred[bool]:
        """Whether C{user} may come in with the public key C{blob}: asked
        first unsigned (would it do?), then C{signed}, the door having
        checked the signature; only the signed answer lets it in."""

    def door_shell(self) -> None:
        """The client asked for its interactive session, on the terminal the
        door has described (after a successful L{door_password} or L{door_key})."""

    def door_exec(self, command: str) -> None:
        """The client asked to run C{command} instead of a session."""

    def door_lost(self, reason: str) -> None:
        """The connection is gone, for C{reason}."""

