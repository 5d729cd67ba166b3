"""Command handlers as pure functions of a snapshot and their arguments."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from bbs import effects as fx
from bbs.commands import CommandError
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


def test_help_lists_every_command_from_the_registry():
    (reply,) = run("/help")
    listing = text_of(reply)
    for command in registry:
        if not command.sysop:
            assert command.usage in listing


def test_help_for_one_command_and_for_an_unknown_one():
    (reply,) = run("/help msg")
    assert "/msg NICK TEXT" in text_of(reply) and "/tell" in text_of(reply)
    with pytest.raises(CommandError, match="Unknown command: /frob"):
        run("/help frob")


def test_who_lists_users_with_room_idle_and_online_times():
    replies = [text_of(r) for r in run("/who")]
    assert replies[0].split() == ["Nick", "Room", "Idle", "Online"]
    bob = next(r for r in replies if r.startswith("bob"))
    assert bob.split() == ["bob", "lobby", "2m", "5s", "16m", "40s"]
    assert replies[-1] == "3 users online."


def test_who_room_filters_and_refuses_an_empty_room():
    replies = [text_of(r) for r in run("/who den")]
    assert [r.split()[0] for r in replies[1:-1]] == ["carol"]
    with pytest.raises(CommandError, match="No one is in attic"):
        run("/who attic")


@pytest.mark.parametrize("line, error", [
    ("/nick", "Usage: /nick NAME"),
    ("/nick x", "2 to 16 characters"),
    ("/nick 9lives", "start with a letter"),
    ("/nick foo bar", "start with a letter and contain only .* You are still alice"),
    ("/nick root", "reserved"),
    ("/nick guest7", "reserved"),
    ("/nick alice", "already alice"),
])
def test_nick_refusals_say_why(line, error):
    with pytest.raises(CommandError, match=error):
        run(line)


def test_nick_and_join_produce_effects():
    assert run("/nick Alicia") == [fx.ChangeNick("Alicia")]
    assert run("/join #den") == [fx.Join("den")]
    assert run("/part", ctx(room="den")) == [fx.Join("lobby")]


def test_join_and_part_refusals():
    with pytest.raises(CommandError, match="already in lobby"):
        run("/join LOBBY")
    with pytest.raises(CommandError, match="A room name must"):
        run("/join a b c!")
    with pytest.raises(CommandError, match="in the lobby already"):
        run("/part")


def test_msg_finds_the_user_by_folded_name():
    assert run("/msg BOB hi there") == [fx.PrivateMessage("bob", "hi there")]
    assert run("/tell bob x") == run("/w bob x")
    with pytest.raises(CommandError, match="No such user online: dave"):
        run("/msg dave hi")
    with pytest.raises(CommandError, match="Usage"):
        run("/msg bob")
    with pytest.raises(CommandError, match="yourself"):
        run("/msg alice hi")


def test_reply_needs_a_previous_sender():
    with pytest.raises(CommandError, match="Nobody has sent"):
        run("/reply hey")
    assert run("/reply hey", ctx(reply_to="carol")) == [fx.PrivateMessage("carol", "hey")]


def test_away_toggles_and_takes_a_message():
    assert run("/away lunch") == [fx.SetAway("lunch")]
    assert run("/away") == [fx.SetAway("away")]
    assert run("/away", ctx(away="lunch")) == [fx.SetAway(None)]


def test_me_topic_ignore_set_quit():
    assert run("/me waves") == [fx.Say("waves", emote=True)]
    assert run("/topic Tea time") == [fx.SetTopic("Tea time")]
    assert "no topic" in text_of(run("/topic")[0])
    assert run("/ignore bob") == [fx.ToggleIgnore("bob")]
    assert run("/set color off") == [fx.SetColour(False)]
    assert run("/quit bye all") == [fx.Quit("bye all")]
    with pytest.raises(CommandError):
        run("/set colour purple")
    with pytest.raises(CommandError, match="yourself"):
        run("/ignore Alice")


def test_rooms_lists_members_and_topics():
    replies = [text_of(r) for r in run("/rooms")]
    assert replies[1].split() == ["den", "1"]
    assert replies[2].split() == ["lobby", "2"]
