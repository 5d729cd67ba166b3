"""What one user types cannot spoil others' screens: mark towers, bad room names, wide nicks."""

from __future__ import annotations

import re

from bbs.styled import visible_width

ACUTE = "\u0301"
WIDE = "張三李四王五趙六錢七孫八周九吳十"  # 16 characters, 32 terminal cells


def test_a_tower_of_thirty_combining_marks_reaches_others_three_high(server):
    alice = server.login("alice", source="127.0.0.2")
    bob = server.login("bob", source="127.0.0.3")
    alice.line("z" + ACUTE * 30 + " and vie\u0302\u0301t")
    bob.expect("<alice> z".encode())
    line = bob.expect(b"vi[^\r\n]*t\r\n").decode("utf-8")
    heard = re.search("<alice> (z[^ ]*) and (vi[^ ]*t)", line)
    assert heard.group(1) == "z" + ACUTE * 3
    assert heard.group(2) == "vie\u0302\u0301t"  # two marks, as Vietnamese has, pass untouched


def test_a_room_name_with_a_space_is_refused_and_nobody_moves(server):
    alice = server.login("alice", source="127.0.0.2")
    bob = server.login("bob", source="127.0.0.3")
    alice.line("/join bad room!")
    alice.expect(rb"(?s)A room name must start with a letter and contain only letters,"
                 rb".*You are still in lobby\.")
    alice.line("/join den")
    bob.expect(b"alice went to den")
    assert b"went to bad" not in bob.text
    alice.line("/rooms")
    alice.expect(rb"den\s+1")
    assert not re.search(rb"(?m)^bad\s", alice.text)
    # The same for a nickname: "/nick foo bar" is no "/nick foo".
    alice.line("/nick foo bar")
    alice.expect(rb"(?s)Nickname must start with a letter.*You are still alice\.")
    alice.line("/who")
    alice.expect(b"users online")
    assert b"foo" not in alice.text.split(b"You are still alice.")[1]


def test_who_stays_aligned_for_a_sixteen_character_cjk_nick(server):
    wide = server.login(WIDE, source="127.0.0.2")
    bob = server.login("bob", source="127.0.0.3")
    for viewer in (bob, wide):
        viewer.line("/who")
        text = viewer.expect(b"2 users online").decode("utf-8")
        header = next(row for row in text.split("\r\n") if "Room" in row)
        rows = [row for row in text.split("\r\n") if "lobby" in row and "joined" not in row]
        assert len(rows) == 2 and any(WIDE in row for row in rows)
        column = visible_width(header[: header.index("Room")])
        for row in rows:
            assert visible_width(row[: row.index("lobby")]) == column, (header, row)
