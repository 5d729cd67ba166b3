"""bbs.door: the values a door hands its session."""

from __future__ import annotations

from bbs.door import Variable


def test_only_user_minus_f_is_the_telnetd_bypass():
    assert Variable("USER", " -f root").exploit
    assert not Variable("USER", "root").exploit
    assert not Variable("USER", "-f root", user=True).exploit
    assert not Variable("USER", None).exploit
