"""Command handlers called as the session calls them, on a made-up snapshot
of the server (a Context), without a session or a reactor."""

from __future__ import annotations

from types import MappingProxyType

import attrs

from bbs import effects as fx
from bbs.commands.catalog import load
from bbs.context import Context, HubView, RoomView, UserView
from tests.store.peek import account_keys

registry = load()


def text_of(effect) -> str:
    message = effect.message
    return message if isinstance(message, str) else "".join(s.text for s in message)


def ctx(nick="alice", room="lobby", *, sysop=False, away=None, reply_to=None,
        users=(("alice", "lobby"), ("bob", "lobby"), ("carol", "den")), now=1000.0,
        account=None, store=None, **extra):
    views = {
        u.lower(): UserView(u, r, connected=0.0, last_active=now - 125, away=None,
                            guest=False, ip="127.0.0.1")
        for u, r in users
    }
    rooms: dict[str, list[str]] = {}
    for u, r in users:
        rooms.setdefault(r, []).append(u)
    rooms_view = {r: RoomView(r, "", len(m)) for r, m in rooms.items()}
    if store is not None:  # what the server knows of the store's accounts
        extra.setdefault("registered", account_keys(store))
    return Context(
        session="s1", nick=nick, room=room, guest=False, account=account, sysop=sysop,
        away=away, reply_to=reply_to, ignoring=frozenset(), colour=False, now=now,
        hub=HubView(MappingProxyType(views), MappingProxyType(rooms_view)), store=store, **extra,
    )


def run(line: str, context: Context | None = None):
    name, _, args = line.lstrip("/").partition(" ")
    return list(registry.lookup(name).handler(context or ctx(), args))


def answer(effect: fx.Ask, context, line: str):
    assert isinstance(effect, fx.Ask)
    return list(effect.then(context, line))


def register(store, nick="alice", pw="correct horse"):
    c = ctx(nick, store=store)
    (ask,) = run("/register", c)
    assert ask.secret and ask.prompt == "Password: "
    (again,) = answer(ask, c, pw)
    assert again.secret
    return answer(again, c, pw)


def at_addresses(context, **ips):
    """C{context} with the users named given those addresses (the rest keep theirs)."""
    users = {key: attrs.evolve(u, ip=ips.get(key, u.ip)) for key, u in context.hub.users.items()}
    hub = attrs.evolve(context.hub, users=MappingProxyType(users))
    return attrs.evolve(context, hub=hub)
