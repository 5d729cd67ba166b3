"""/who and /rooms stay aligned for wide names; /join refuses a bad room name."""

from __future__ import annotations

from types import MappingProxyType

import attrs
import pytest

from bbs import effects as fx
from bbs.context import HubView
from bbs.durations import format_duration
from bbs.commands import CommandError
from bbs.styled import visible_width
from tests.core.test_commands import ctx, run, text_of

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
