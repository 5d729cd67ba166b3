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
