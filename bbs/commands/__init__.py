"""The command registry.

A command is a plain function of (context snapshot, argument string) that
returns a sequence of Effects.  It runs in a worker thread, may block (store,
password hashing) and must not touch sockets or shared state.  `/help` and tab
completion are generated from this registry, so a command exists in exactly
one place.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import attrs

from bbs.context import Context, UserView
from bbs.effects import Effect
from bbs.text import fold

Handler = Callable[[Context, str], Sequence[Effect]]


class CommandError(Exception):
    """A refusal the user should see as-is (bad arguments, permission)."""


@attrs.frozen
class Command:
    name: str
    handler: Handler
    usage: str
    summary: str
    aliases: tuple[str, ...] = ()
    sysop: bool = False
    # What it does reaches other people (said, shown or announced to them):
    # refused while the user is muted.
    heard: bool = False


class Registry:
    """Commands by name and alias."""

    def __init__(self) -> None:
        self._by_name: dict[str, Command] = {}
        self._commands: list[Command] = []

    def command(
        self,
        name: str,
        usage: str,
        summary: str,
        *,
        aliases: tuple[str, ...] = (),
        sysop: bool = False,
        heard: bool = False,
    ) -> Callable[[Handler], Handler]:
        """Register the decorated function as C{/name}."""

        def register(handler: Handler) -> Handler:
            cmd = Command(name, handler, usage, summary, aliases, sysop, heard)
            for key in (name, *aliases):
                if key in self._by_name:
                    raise ValueError(f"command /{key} registered twice")
                self._by_name[key] = cmd
            self._commands.append(cmd)
            return handler

        return register

    def lookup(self, name: str) -> Command | None:
        return self._by_name.get(name.lower())

    def __iter__(self) -> Iterator[Command]:
        return iter(sorted(self._commands, key=lambda c: c.name))

    def names(self, *, sysop: bool) -> list[str]:
        """Every name and alias of what the user may run, for completion:
        a sysop's commands are not offered to others."""
        return sorted(name for name, cmd in self._by_name.items() if sysop or not cmd.sysop)


registry = Registry()


def split_first(args: str) -> tuple[str, str]:
    """Split an argument string into its first word and the rest."""
    head, _, rest = args.strip().partition(" ")
    return head, rest.strip()


def online(ctx: Context, nick: str) -> UserView:
    """The online user called C{nick}, or a refusal the user sees."""
    if not nick:
        raise CommandError("Whom? Give a nickname.")
    user = ctx.hub.users.get(fold(nick))
    if user is None:
        raise CommandError(f"No such user online: {nick}")
    return user

