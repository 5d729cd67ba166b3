"""The shell's own regular expressions, matched in linear time."""

from __future__ import annotations

import time

import pytest

from bbs.shell.regex import Regex, RegexError


def test_regex_matches_in_linear_time() -> None:
    assert Regex.compile(b"^ab*c$").search(b"abbbc")
    assert not Regex.compile(b"^ab*c$").search(b"abbbcd")
    assert Regex.compile(b"[[:digit:]][[:digit:]]*").search(b"x42")
    assert Regex.compile(b"a.c").search(b"xxabcxx") and not Regex.compile(b"a.c").search(b"ac")
    assert Regex.compile(b"cat|dog", extended=True).search(b"hotdog")
    assert Regex.compile(b"x+y?z", extended=True).search(b"xxz")
    assert Regex.compile(b"MODEL", fold=True).search(b"model name", fold=True)
    with pytest.raises(RegexError):
        Regex.compile(b"[abc")
    started = time.monotonic()
    assert not Regex.compile(b"a*a*a*a*a*a*a*a*b").search(b"a" * 20_000)
    assert time.monotonic() - started < 2
