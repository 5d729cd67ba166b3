"""Sysop commands: kick, ban, mute, wall, shutdown and the bot list.

The registry marks them C{sysop=True}, so the session refuses them to anyone
else before a worker is involved; the handlers check the role again because
the snapshot they get is what counts.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from functools import partial

from bbs.commands import CommandError, online, registry, split_first
from bbs.context import Context
from bbs.durations import format_duration, parse_duration
from bbs.effects import Ask, Banned, Effect, Kick, Mute, Reply, Shutdown, Unbanned, Wall
from bbs.guard.addresses import NetworkSet, ban_network, ban_target
from bbs.store import BanRecord, IStore
from bbs.styled import Span
from bbs.text import fold

REASON_MAX = 200
BANS_SHOWN = 50  # a honeypot holds tens of thousands: /bans shows the newest
SHUTDOWN_MAX = 3600.0
COVERED_SHOWN = 10  # names listed when a ban would cover other people


def _sysop(ctx: Context, command: str) -> None:
    """Refuse anyone who is not a sysop now.

    With a store, the role is read from it as the command runs (in a
    worker): a role taken away a moment ago, or an account deleted, no
    longer counts, whatever the session learnt at login.
    """
    sysop = ctx.sysop
    if sysop and ctx.store is not None and ctx.account is not None:
        account = ctx.store.get_account(ctx.account)
        sysop = account is not None and account.is_sysop
    if not sysop:
        raise CommandError(f"Permission denied: /{command} is for sysops")


def _duration_and_rest(args: str, default: float | None) -> tuple[float | None, str]:
    """An optional leading duration, then free text."""
    first, rest = split_first(args)
    if first:
        try:
            return parse_duration(first), rest
        except ValueError:
            pass
    return default, args.strip()


def _until(ctx: Context, seconds: float | None) -> float | None:
    return None if seconds is None else ctx.now + seconds


def _spell(ctx: Context, until: float | None) -> str:
    if until is None:
        return "permanently"
    return f"for {format_duration(until - ctx.now)}"


def _store(ctx: Context) -> IStore:
    if ctx.store is None:
        raise CommandError("Bans need the store, which this server does not have.")
    return ctx.store


@registry.command("kick", "/kick NICK [REASON]", "Disconnect a user.", sysop=True)
def kick(ctx: Context, args: str) -> Sequence[Effect]:
    _sysop(ctx, "kick")
    nick, reason = split_first(args)
    user = online(ctx, nick)
    return [Kick(user.nick, reason[:REASON_MAX])]


@registry.command(
    "ban", "/ban NICK|IP|CIDR [DURATION] [REASON]",
    "Ban a user's address (and account), an address or a network.", sysop=True,
)
def ban(ctx: Context, args: str) -> Sequence[Effect]:
    _sysop(ctx, "ban")
    target, rest = split_first(args)
    if not target:
        raise CommandError("Usage: /ban NICK|IP|CIDR [DURATION] [REASON]")
    seconds, reason = _duration_and_rest(rest, ctx.policy.default_ban)
    reason = reason[:REASON_MAX] or "banned by a sysop"
    user = ctx.hub.users.get(fold(target))
    wanted: list[tuple[str, str]] = []
    if user is not None:
        if fold(user.nick) == fold(ctx.nick):
            raise CommandError("You cannot ban yourself.")
        if user.ip:
            wanted.append(("net", str(ban_network(user.ip, ctx.policy.ipv6_ban_prefix))))
        if user.account:
            wanted.append(("nick", user.account))
    else:
        try:
            kind, normal = ban_target(target, ipv6_prefix=ctx.policy.ipv6_ban_prefix)
        except ValueError as e:
            raise CommandError(str(e))
        wanted.append((kind, normal))
    bans = tuple(wanted)
    covered = collateral(ctx, bans, user.nick if user is not None else None)
    if covered:
        return [Ask(f"This ban covers {covered}: ban anyway? [y/N] ",
                    partial(_confirmed, bans, seconds, reason, target))]
    return _ban(ctx, bans, seconds, reason, target)


def collateral(ctx: Context, bans: Sequence[tuple[str, str]], named: str | None) -> str:
    """Whom else the address bans in C{bans} would cut off, in words, or "".

    That is the acting sysop's own address, and, when a user was named,
    anyone else online behind the same address (a NAT, a family): a ban
    that would lock out more than was meant is asked about first.
    """
    networks = NetworkSet(normal for kind, normal in bans if kind == "net")
    if not networks:
        return ""
    me = ctx.hub.users.get(fold(ctx.nick))
    own = me is not None and me.ip in networks
    if not own and named is None:
        return ""
    spared = {fold(ctx.nick)} | ({fold(named)} if named else set())
    others = sorted((u.nick for key, u in ctx.hub.users.items()
                     if key not in spared and u.ip in networks), key=fold)
    parts = [f"{me.ip}, your own address"] if own else []
    if others:
        shown = ", ".join(others[:COVERED_SHOWN]) + (", …" if len(others) > COVERED_SHOWN else "")
        people = "person" if len(others) == 1 else "people"
        parts.append(f"{len(others)} other {people} online ({shown})")
    return ", and ".join(parts)


def _confirmed(bans: tuple[tuple[str, str], ...], seconds: float | None, reason: str,
               target: str, ctx: Context, answer: str) -> Sequence[Effect]:
    """The answer to "ban anyway?": only yes bans."""
    if answer.strip().lower() not in ("y", "yes"):
        return [Reply(f"Not banned: {target}.")]
    return _ban(ctx, bans, seconds, reason, target)


def _ban(ctx: Context, bans: Sequence[tuple[str, str]], seconds: float | None,
         reason: str, target: str) -> Sequence[Effect]:
    """Save the bans and have them enforced; the sysop who set them is spared."""
    _sysop(ctx, "ban")  # again: a confirmation may come long after the question
    store = _store(ctx)
    until = _until(ctx, seconds)
    by = ctx.account or ctx.nick
    records = tuple(
        store.add_ban(BanRecord(None, kind, normal, reason, by, ctx.now, until))
        for kind, normal in bans
    )
    what = ", ".join(r.target for r in records)
    return [
        Banned(records, target),
        Reply(f"Banned {what} {_spell(ctx, until)}: {reason}"),
    ]


@registry.command("unban", "/unban NICK|IP|CIDR", "Lift a ban.", sysop=True)
def unban(ctx: Context, args: str) -> Sequence[Effect]:
    _sysop(ctx, "unban")
    target, _ = split_first(args)
    if not target:
        raise CommandError("Usage: /unban NICK|IP|CIDR")
    try:
        kind, normal = ban_target(target)
        wider = ban_target(target, ipv6_prefix=ctx.policy.ipv6_ban_prefix)[1]
    except ValueError as e:
        raise CommandError(str(e))
    store = _store(ctx)
    if wider != normal:  # one IPv6 host: the network its ban covers, else the host alone
        if store.remove_ban("net", wider):
            return [Unbanned("net", wider), Reply(f"Unbanned {wider}.")]
    if not store.remove_ban(kind, normal):
        raise CommandError(f"{target} is not banned; /bans lists the bans.")
    return [Unbanned(kind, normal), Reply(f"Unbanned {normal}.")]


@registry.command("bans", "/bans [TEXT]",
                  "The newest bans in force, or those that mention TEXT.", sysop=True)
def bans(ctx: Context, args: str) -> Sequence[Effect]:
    _sysop(ctx, "bans")
    match = args.strip()
    total, records = _store(ctx).find_bans(ctx.now, match, BANS_SHOWN)
    if not records:
        return [Reply(f"No ban in force mentions {match}." if match else "No bans are in force.")]
    out: list[Effect] = [Reply((Span(
        f"{'Target':<22}{'By':<12}{'Set':<18}{'Expires':<18}Reason", "bold"),))]
    for r in records:
        expires = "never" if r.expires is None else _stamp(r.expires)
        out.append(Reply(f"{r.target:<22}{r.set_by:<12}{_stamp(r.created):<18}{expires:<18}{r.reason}"))
    if total > len(records):
        which = f"that mention {match}" if match else "in force"
        out.append(Reply((Span(f"The newest {len(records)} of {total:,} bans {which}; "
                               "/bans TEXT finds by address, nickname, reason or sysop.", "dim"),)))
    return out


def _stamp(seconds: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(seconds))


@registry.command("mute", "/mute NICK [DURATION]", "Silence a user.", sysop=True)
def mute(ctx: Context, args: str) -> Sequence[Effect]:
    _sysop(ctx, "mute")
    nick, rest = split_first(args)
    user = online(ctx, nick)
    seconds = None
    if rest:
        try:
            seconds = parse_duration(rest)
        except ValueError as e:
            raise CommandError(str(e))
    until = _until(ctx, seconds)
    return [Mute(user.nick, until), Reply(f"Muted {user.nick} {_spell(ctx, until)}.")]


@registry.command("unmute", "/unmute NICK", "Let a muted user speak again.", sysop=True)
def unmute(ctx: Context, args: str) -> Sequence[Effect]:
    _sysop(ctx, "unmute")
    nick, _ = split_first(args)
    user = online(ctx, nick)
    return [Mute(user.nick, None, on=False), Reply(f"Unmuted {user.nick}.")]


@registry.command("wall", "/wall TEXT", "Announce to everyone in every room.", sysop=True)
def wall(ctx: Context, args: str) -> Sequence[Effect]:
    _sysop(ctx, "wall")
    if not args.strip():
        raise CommandError("Usage: /wall TEXT")
    return [Wall(args.strip())]


@registry.command(
    "shutdown", "/shutdown [SECONDS] [MESSAGE]",
    "Stop the server after a countdown.", sysop=True,
)
def shutdown(ctx: Context, args: str) -> Sequence[Effect]:
    _sysop(ctx, "shutdown")
    first, rest = split_first(args)
    delay = 0.0
    if first.isdigit():
        delay = float(first)
        message = rest
    else:
        message = args.strip()
    if delay > SHUTDOWN_MAX:
        raise CommandError(f"At most {int(SHUTDOWN_MAX)} seconds.")
    return [Shutdown(delay, message[:REASON_MAX])]


@registry.command("bots", "/bots", "The latest bot detections.", sysop=True)
def bots(ctx: Context, args: str) -> Sequence[Effect]:
    _sysop(ctx, "bots")
    if not ctx.bots:
        return [Reply("No bots detected since the server started.")]
    out: list[Effect] = [Reply((Span(
        f"{'When':<18}{'Address':<18}{'Rule':<20}{'Family':<9}Input", "bold"),))]
    for d in ctx.bots:
        out.append(Reply(f"{_stamp(d.at):<18}{d.ip:<18}{d.rule:<20}{d.family:<9}{d.input}"))
    return out
