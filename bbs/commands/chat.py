"""Core chat commands: identity, rooms, presence and private messages."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from bbs.commands import CommandError, online, registry, split_first
from bbs.context import Context
from bbs.durations import format_duration
from bbs.effects import (
    ChangeNick, Effect, Join, PrivateMessage, Quit, Reply, Say, SetAway,
    SetColour, SetTopic, ToggleIgnore,
)
from bbs.names import nick_problem
from bbs.styled import Span, visible_width
from bbs.text import fold, name_problem

LOBBY = "lobby"
TOPIC_MAX = 200
AWAY_MAX = 120


@registry.command("help", "/help [COMMAND]", "List commands, or explain one.")
def help_(ctx: Context, args: str) -> Sequence[Effect]:
    name = args.strip().lstrip("/")
    if name:
        cmd = registry.lookup(name)
        if cmd is None or (cmd.sysop and not ctx.sysop):
            raise CommandError(f"Unknown command: /{name} — try /help")
        also = f" (also /{', /'.join(cmd.aliases)})" if cmd.aliases else ""
        return [Reply(f"{cmd.usage}{also}\n  {cmd.summary}")]
    visible = [(c.usage, c.summary) for c in registry if ctx.sysop or not c.sysop]
    lines = ["Commands (a line without / is said in the room):"]
    lines += command_table(visible, ctx.width)
    return [Reply("\n".join(lines))]


USAGE_COLUMN = 22  # the widest usage shown beside its summary
SUMMARY_LEAST = 24  # columns a summary needs beside the usages to read well


def command_table(rows: Sequence[tuple[str, str]], width: int) -> list[str]:
    """Lay out (usage, summary) rows as lines of at most C{width} columns.

    Summaries line up in a column after the usages, and wrap within it; a
    usage too long for its column has a line of its own, with its summary
    below, so that one long usage does not push every summary off a narrow
    screen.  Too narrow for two columns, each summary goes under its usage.
    """
    usage_width = min(max(len(usage) for usage, _ in rows), USAGE_COLUMN)
    column = 2 + usage_width + 2
    if width - column < SUMMARY_LEAST:
        column = 4
    lines: list[str] = []
    for usage, summary in rows:
        beside = column > 4 and len(usage) <= usage_width
        head = _wrap(usage, width, "  ", "    ")
        body = _wrap(summary, width, " " * column, " " * column)
        if beside:
            body[0] = head.pop().ljust(column) + body[0].lstrip()
        lines += head + body
    return lines


def _wrap(text: str, width: int, first: str, rest: str) -> list[str]:
    return textwrap.wrap(text, width, initial_indent=first, subsequent_indent=rest,
                         break_on_hyphens=False) or [first.rstrip()]


def _pad(text: str, width: int) -> str:
    return text + " " * max(1, width - visible_width(text))


def _column(heading: str, entries: Sequence[str], least: int = 18) -> int:
    """The width of a column that fits C{heading} and its widest entry in
    terminal cells (a CJK character takes two), with two cells to spare."""
    return max(least, visible_width(heading) + 2, *(visible_width(e) + 2 for e in entries))


@registry.command("who", "/who [ROOM]", "Who is on, where, idle and online times.")
def who(ctx: Context, args: str) -> Sequence[Effect]:
    room = args.strip()
    users = sorted(ctx.hub.users.values(), key=lambda u: fold(u.nick))
    if room:
        users = [u for u in users if fold(u.room) == fold(room)]
        if not users:
            raise CommandError(f"No one is in {room}.")
    names = [u.nick + (" (sysop)" if u.sysop else "") for u in users]
    nick_width = _column("Nick", names)
    room_width = _column("Room", [u.room for u in users])
    rows = [Reply((Span(
        _pad("Nick", nick_width) + _pad("Room", room_width) + _pad("Idle", 9) + "Online", "bold"
    ),))]
    for u, name in zip(users, names):
        away = f"  [away: {u.away}]" if u.away is not None else ""
        rows.append(Reply(
            _pad(name, nick_width)
            + _pad(u.room, room_width)
            + _pad(format_duration(ctx.now - u.last_active), 9)
            + format_duration(ctx.now - u.connected)
            + away
        ))
    count = len(users)
    where = f" in {room}" if room else " online"
    rows.append(Reply((Span(f"{count} user{'s' if count != 1 else ''}{where}.", "dim"),)))
    return rows


@registry.command("nick", "/nick NAME", "Change your nickname.", heard=True)
def nick(ctx: Context, args: str) -> Sequence[Effect]:
    new = args.strip()
    if not new:
        raise CommandError("Usage: /nick NAME")
    owned = ctx.account is not None and fold(ctx.account) == fold(new)
    problem = name_problem(new)
    if problem:  # the whole argument: "foo bar" is no nickname "foo"
        raise CommandError(f"{problem} You are still {ctx.nick}.")
    if new == ctx.nick:
        raise CommandError(f"You are already {new}.")
    if not owned and fold(new) in ctx.registered:
        raise CommandError(f"{new} is a registered nickname; /login {new} if it is yours.")
    problem = None if owned else nick_problem(new, ctx.registered)
    if problem:
        raise CommandError(problem)
    return [ChangeNick(new)]


@registry.command("join", "/join ROOM", "Go to a room (created if new).", heard=True)
def join(ctx: Context, args: str) -> Sequence[Effect]:
    room = args.strip()
    if not room:
        raise CommandError("Usage: /join ROOM")
    room = room.lstrip("#")
    problem = name_problem(room, "A room name")
    if problem:  # the whole argument: "bad room!" is no room called "bad"
        raise CommandError(f"{problem} You are still in {ctx.room}.")
    if fold(room) == fold(ctx.room):
        raise CommandError(f"You are already in {ctx.room}.")
    return [_join(ctx, room)]


def _join(ctx: Context, room: str) -> Join:
    """Join C{room}; the first to enter it since start-up brings its stored history.

    A room that exists now was entered since start-up, and that first join
    already gave the hub its history; only a new room costs a store read.
    """
    if ctx.store is None or fold(room) in ctx.hub.rooms:
        return Join(room)
    return Join(room, tuple(ctx.store.recent_history(room)))


@registry.command("part", "/part", "Leave this room for the lobby.", heard=True)
def part(ctx: Context, args: str) -> Sequence[Effect]:
    if fold(ctx.room) == LOBBY:
        raise CommandError("You are in the lobby already; /quit leaves the server.")
    return [_join(ctx, LOBBY)]


@registry.command("rooms", "/rooms", "List rooms with their members and topics.")
def rooms(ctx: Context, args: str) -> Sequence[Effect]:
    views = sorted(ctx.hub.rooms.values(), key=lambda r: fold(r.name))
    width = _column("Room", [v.name for v in views])
    out: list[Effect] = [Reply((Span(_pad("Room", width) + _pad("Users", 7) + "Topic", "bold"),))]
    for view in views:
        out.append(Reply(_pad(view.name, width) + _pad(str(view.size), 7) + view.topic))
    return out


@registry.command("topic", "/topic [TEXT]", "Show or set this room's topic.",
                  heard=True)
def topic(ctx: Context, args: str) -> Sequence[Effect]:
    text = args.strip()
    if not text:
        view = ctx.hub.rooms.get(fold(ctx.room))
        current = view.topic if view else ""
        return [Reply(f"Topic of {ctx.room}: {current}" if current else f"{ctx.room} has no topic.")]
    if len(text) > TOPIC_MAX:
        raise CommandError(f"A topic is at most {TOPIC_MAX} characters.")
    return [SetTopic(text)]


@registry.command("me", "/me ACTION", "Act something out: /me waves.", heard=True)
def me(ctx: Context, args: str) -> Sequence[Effect]:
    if not args.strip():
        raise CommandError("Usage: /me ACTION")
    return [Say(args.strip(), emote=True)]


@registry.command(
    "msg", "/msg NICK TEXT", "Send a private message.", aliases=("tell", "w"), heard=True
)
def msg(ctx: Context, args: str) -> Sequence[Effect]:
    target, text = split_first(args)
    if not target or not text:
        raise CommandError("Usage: /msg NICK TEXT")
    user = online(ctx, target)
    if fold(user.nick) == fold(ctx.nick):
        raise CommandError("Talking to yourself? Try saying it in the room.")
    return [PrivateMessage(user.nick, text)]


@registry.command("reply", "/reply TEXT", "Answer the last private message.", heard=True)
def reply(ctx: Context, args: str) -> Sequence[Effect]:
    if ctx.reply_to is None:
        raise CommandError("Nobody has sent you a private message yet.")
    if not args.strip():
        raise CommandError("Usage: /reply TEXT")
    return [PrivateMessage(online(ctx, ctx.reply_to).nick, args.strip())]


@registry.command("away", "/away [TEXT]", "Mark yourself away, or back.", heard=True)
def away(ctx: Context, args: str) -> Sequence[Effect]:
    text = args.strip()[:AWAY_MAX]
    if not text and ctx.away is None:
        return [SetAway("away")]
    return [SetAway(text or None)]


@registry.command("ignore", "/ignore NICK", "Stop or resume seeing someone's lines.")
def ignore(ctx: Context, args: str) -> Sequence[Effect]:
    target, _ = split_first(args)
    if not target:
        if not ctx.ignoring:
            return [Reply("You are not ignoring anyone.")]
        return [Reply("Ignoring: " + ", ".join(sorted(ctx.ignoring)))]
    if fold(target) == fold(ctx.nick):
        raise CommandError("You cannot ignore yourself.")
    problem = name_problem(target)
    if problem:
        raise CommandError(problem)
    return [ToggleIgnore(target)]


@registry.command("set", "/set color on|off", "Turn colour on or off.")
def set_(ctx: Context, args: str) -> Sequence[Effect]:
    name, value = split_first(args)
    if fold(name) not in ("color", "colour") or value.lower() not in ("on", "off"):
        raise CommandError("Usage: /set color on|off")
    return [SetColour(value.lower() == "on")]


@registry.command("quit", "/quit [MESSAGE]", "Leave the server.")
def quit_(ctx: Context, args: str) -> Sequence[Effect]:
    return [Quit(args.strip())]
