"""Text hygiene: what users type is shown to others only once made harmless."""

from __future__ import annotations

import re

from hypothesis import given, strategies as st

from bbs.text import MARKS_MAX, loggable, name_problem, sanitize

_TOWER = re.compile("[\u0300-\u036f\u0483-\u0489\u20d0-\u20f0]{%d}" % (MARKS_MAX + 1))
_HARMFUL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def test_plain_text_is_left_alone():
    assert sanitize("hello, world! [lobby] ~R.12.") == "hello, world! [lobby] ~R.12."
    assert sanitize("") == ""


def test_escapes_controls_and_bidi_overrides_go():
    assert sanitize("red \x1b[31mtext\x1b[0m") == "red text"
    assert sanitize("title \x1b]0;pwned\x07 here") == "title  here"
    assert sanitize("bell\x07 and\x00 nul") == "bell and nul"
    assert sanitize("abc\u202edcba") == "abcdcba"
    assert sanitize("tab\there") == "tab here"


@given(st.text(alphabet=st.characters(max_codepoint=0x3000) | st.sampled_from("\x1b\x9b\x9d[]0;m\x07\t")))
def test_nothing_harmful_survives(text):
    out = sanitize(text)
    assert not _HARMFUL.search(out)
    assert sanitize(out) == out


def test_a_tower_of_combining_marks_is_cut_to_three_on_each_character():
    assert sanitize("z" + "\u0301" * 30 + "a" + "\u0300" * 5) == "z" + "\u0301" * 3 + "a" + "\u0300" * 3
    assert sanitize("\u0489" * 10) == "\u0489" * 3  # enclosing marks too, even with no base
    assert sanitize("vie\u0302\u0301t ca\u0301") == "vie\u0302\u0301t ca\u0301"  # accents stay


def test_a_tower_split_by_invisible_characters_is_cut_all_the_same():
    assert sanitize("z" + "\u0301\u200b" * 10) == "z" + "\u0301" * 3
    assert sanitize("z" + "\u0301\x1b[0m" * 10) == "z" + "\u0301" * 3


def test_a_name_carries_no_combining_marks_at_all():
    assert name_problem("z" + "\u0301" * 30) is not None
    assert name_problem("Jose\u0301") is not None  # decomposed; precomposed José is a name
    assert name_problem("José") is None


@given(st.text(alphabet=st.sampled_from("ab \u0301\u0300\u0489\u20dd\u200b\x1b[m")))
def test_no_tower_survives(text):
    out = sanitize(text)
    assert not _TOWER.search(out)
    assert sanitize(out) == out


def test_loggable_escapes_and_cuts():
    assert loggable("ok") == "ok"
    assert loggable("a\nb\r\x1b[31m\u202e") == "a\\nb\\r\\x1b[31m\\u202e"
    assert loggable(b"\xff\x00") == "ÿ\\x00"
    assert loggable("x" * 300, 10) == "x" * 10 + "..."
