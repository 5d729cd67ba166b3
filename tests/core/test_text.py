"""Text hygiene: what users type is shown to others only once made harmless."""

from __future__ import annotations

import re

from hypothesis import given, strategies as st

from bbs.text import sanitize

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
