"""What one user types cannot spoil others' screens."""

from __future__ import annotations

import re

ACUTE = "\u0301"


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
