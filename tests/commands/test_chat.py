"""The chat commands (help, who, nick, join, msg, rooms...) as pure functions
of a snapshot and their arguments."""

from __future__ import annotations

from types import MappingProxyType

import attrs
import pytest

from bbs import effects as fx
from bbs.commands import CommandError
from bbs.commands.chat import command_table
from bbs.context import HubView
from bbs.durations import format_duration
from bbs.styled import visible_width
from bbs.terminal.render import render
from tests.commands.invoke import ctx, registry, run, text_of


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


# /who and /rooms stay aligned for wide names; /join refuses a bad room name.

WIDE = "張三李四王五趙六錢七孫八周九吳十"  # 16 characters, 32 terminal cells


def starts(line: str, word: str) -> int:
    """The terminal cell at which C{word} starts in C{line}."""
    return visible_width(line[: line.index(word)])


def test_who_aligns_columns_by_display_width_for_a_16_character_cjk_nick():
    replies = run("/who", ctx(users=((WIDE, "den"), ("bob", "lobby"), ("carol", "den"))))
    header, *rows, _count = [text_of(r) for r in replies]
    room_at, idle_at = starts(header, "Room"), starts(header, "Idle")
    assert room_at >= visible_width(WIDE) + 1
    idle = format_duration(125.0)
    for row, room in zip(rows, ("lobby", "den", "den")):  # sorted: bob, carol, the CJK nick
        assert starts(row, room) == room_at, row
        assert starts(row, idle) == idle_at, row


def test_who_keeps_the_narrow_layout_for_short_names():
    header, first, *_ = [text_of(r) for r in run("/who")]
    assert starts(header, "Room") == 18 == starts(first, "lobby")


def test_a_sysop_flag_on_a_long_nick_does_not_push_the_room_column():
    plain = ctx(users=(("abcdefghijklmnop", "lobby"), ("bob", "den")))
    users = dict(plain.hub.users)
    users["abcdefghijklmnop"] = attrs.evolve(users["abcdefghijklmnop"], sysop=True)
    views = attrs.evolve(plain, hub=HubView(MappingProxyType(users), plain.hub.rooms))
    header, *rows, _ = [text_of(r) for r in run("/who", views)]
    assert "abcdefghijklmnop (sysop)" in rows[0]
    assert [starts(r, room) for r, room in zip(rows, ("lobby", "den"))] == [starts(header, "Room")] * 2


def test_rooms_aligns_a_wide_room_name():
    replies = run("/rooms", ctx(users=(("alice", WIDE), ("bob", "lobby"))))
    header, *rows = [text_of(r) for r in replies]
    users_at = starts(header, "Users")
    assert users_at >= visible_width(WIDE) + 1
    for row in rows:
        assert visible_width(row.split(" ")[0]) < users_at
        assert starts(row, "1") == users_at, row


@pytest.mark.parametrize("argument", ["bad room!", "bad room", "#bad!", "a", "9lives"])
def test_join_refuses_a_bad_room_name_with_the_reason_and_moves_nobody(argument):
    with pytest.raises(CommandError) as refused:
        run(f"/join {argument}")
    message = str(refused.value)
    assert "A room name must" in message and "You are still in lobby." in message


def test_join_takes_a_good_room_name_with_or_without_a_hash():
    assert run("/join den") == [fx.Join("den")]
    assert run("/join #den") == [fx.Join("den")]
    assert run("/join  Café ") == [fx.Join("Café")]


# What /help shows: only what the user may run, laid out to read at the width
# of the user's window (what tab completion offers: tests/test_session.py).

SYSOP_ONLY = sorted(f"/{c.name}" for c in registry if c.sysop)
ROWS = [(c.usage, c.summary) for c in registry]


def shown(sysop: bool, width: int) -> list[str]:
    """A /help listing as the user's terminal shows it."""
    (reply,) = run("/help", ctx(sysop=sysop, width=width))
    return render(text_of(reply), width, False).split("\n")


@pytest.mark.parametrize("width", [80, 40])
@pytest.mark.parametrize("sysop", [False, True])
def test_help_never_wraps_mid_column(sysop, width):
    lines = shown(sysop, width)
    lines = lines[next(i for i, line in enumerate(lines) if line.startswith("  /")):]
    assert all(len(line) <= width for line in lines), lines
    usages = [line for line in lines if line.startswith("  /")]
    summaries = [line for line in lines if not line.startswith("  /")]
    assert len(usages) == sum(1 for c in registry if sysop or not c.sysop)
    # Every line that is not a usage is a summary, at the one summary column.
    margins = {len(line) - len(line.lstrip()) for line in summaries}
    assert len(margins) <= 1 and min(margins, default=3) > 2, summaries


def test_at_80_columns_summaries_sit_beside_usages_and_long_usages_stand_alone():
    lines = shown(True, 80)
    away = next(line for line in lines if line.startswith("  /away"))
    column = away.index("Mark yourself away")
    assert column <= 2 + 22 + 2  # a bounded usage column, not the longest usage
    ban = lines.index("  /ban NICK|IP|CIDR [DURATION] [REASON]")
    assert lines[ban + 1] == " " * column + lines[ban + 1].lstrip()
    assert lines[ban + 1].lstrip().startswith("Ban a user's address")


def test_at_40_columns_each_summary_goes_under_its_usage():
    lines = shown(False, 40)
    at = lines.index("  /away [TEXT]")
    assert lines[at + 1] == "    Mark yourself away, or back."


def test_a_table_keeps_each_summary_whole():
    for width in (30, 40, 60, 80, 132):
        lines = command_table(ROWS, width)
        text = " ".join(" ".join(lines).split())
        for usage, summary in ROWS:
            assert f"{usage} {summary}" in text


def test_help_hides_sysop_commands_from_others():
    listing = "\n".join(shown(False, 80))
    for name in SYSOP_ONLY:
        assert f"  {name}" not in listing
