"""render(): what a message looks like on terminals of a given width."""

from __future__ import annotations

import re
import unicodedata

import pyte
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bbs.styled import Span, visible_width
from bbs.terminal.render import RESET, render

SGR = re.compile(r"\x1b\[[0-9;]*m")


def show(text: str, width: int, height: int = 60) -> list[str]:
    """The rows a terminal of C{width} columns shows for C{text}."""
    screen = pyte.Screen(width, height)
    pyte.Stream(screen).feed(text.replace("\n", "\r\n"))
    rows = [row.rstrip() for row in screen.display]
    while rows and not rows[-1]:
        rows.pop()
    return rows


def test_a_short_plain_message_is_returned_as_is() -> None:
    message = "<alice> hello there"
    assert render(message, 80, True) is message
    assert render((Span("<alice>"), Span(" hi")), 80, False) == "<alice> hi"


def test_words_wrap_with_continuation_indent() -> None:
    assert render("aaa bbb ccc ddd", 7, False) == "aaa bbb\n  ccc\n  ddd"
    assert render("aaa bbb ccc ddd", 7, False, indent=0) == "aaa bbb\nccc ddd"


def test_a_word_longer_than_a_line_is_split_not_lost() -> None:
    assert render("x" * 25, 10, False) == "x" * 10 + "\n  " + "x" * 8 + "\n  " + "x" * 7
    assert render("see http://" + "y" * 10, 12, False) == "see http://y\n  yyyyyyyyy"


def test_line_ends_in_the_message_are_kept_and_start_at_the_margin() -> None:
    assert render("one\n  two\nthree four", 9, False) == "one\n  two\nthree\n  four"
    assert render("a\n\nb", 80, False) == "a\n\nb"


def test_no_trailing_newline_and_no_trailing_spaces_at_breaks() -> None:
    assert render("motd line\n\n", 80, False) == "motd line"
    text = render("word " * 30, 20, False)
    assert not text.endswith("\n")
    assert all(not line.endswith(" ") for line in text.split("\n"))


def test_wide_characters_wrap_by_columns() -> None:
    text = render("日本語" * 10, 10, False)
    lines = text.split("\n")
    assert [visible_width(line) for line in lines] == [10] * 7 + [4]
    assert "".join(line.strip() for line in lines) == "日本語" * 10
    # A wide character never straddles the edge: it moves to the next line.
    assert render("a" + "日" * 5, 10, False) == "a日日日日\n  日"


def test_combining_marks_stay_with_their_letter() -> None:
    text = render("e\u0301" * 12, 10, False)
    first, second = text.split("\n")
    assert first == "e\u0301" * 10
    assert second == "  " + "e\u0301" * 2


def test_controls_and_whole_escape_sequences_are_dropped_and_tabs_become_spaces() -> None:
    assert render("a\x1b[2Jb\tc\x07\r", 80, False) == "ab c"
    assert render((Span("x\x1bc", "bold"),), 80, False) == "x"  # ESC c resets a terminal


def test_text_from_anywhere_is_sanitised_line_by_line_at_output() -> None:
    # A stored row (an old version's history, a restored post) never went
    # through today's input rules: render is the last line of defence.
    body = "line one\x1b]0;owned\x07\n\u202eevil\u202c two\nthree\x9b31m"
    assert render(body, 80, False) == "line one\nevil two\nthree"
    assert render((Span("<a>", "nick"), Span(" \u2067hi\u2069\x1b[2J")), 80, True).count("\x1b[") == 2


def test_colour_wraps_spans_in_sgr_and_plain_has_none() -> None:
    message = (Span("<bob>", "nick"), Span(" says "), Span("oops", "error"))
    coloured = render(message, 80, True)
    assert coloured.startswith("\x1b[") and coloured.endswith("\x1b[31moops" + RESET)
    assert SGR.sub("", coloured) == "<bob> says oops"
    assert "\x1b" not in render(message, 80, False)


@pytest.mark.parametrize("style, code", [
    ("dim", "\x1b[2m"), ("bold", "\x1b[1m"), ("error", "\x1b[31m"),
    ("me", "\x1b[3m"), ("private", "\x1b[35m"),
])
def test_styles(style: str, code: str) -> None:
    assert render((Span("x", style),), 80, True) == code + "x" + RESET


def test_nick_colour_is_stable_and_differs_between_nicks() -> None:
    codes = {render((Span(nick, "nick"),), 80, True)[:-len(RESET)].removesuffix(nick)
             for nick in ("alice", "bob", "carol", "dave", "eve", "mallory")}
    assert len(codes) > 1
    assert render((Span("alice", "nick"),), 80, True) == render((Span("alice", "nick"),), 40, True)
    assert not codes & {"\x1b[31m", "\x1b[91m", "\x1b[35m", "\x1b[95m"}


def test_colour_is_reset_at_every_line_end() -> None:
    text = render((Span("warning " * 12, "error"), Span("end")), 20, True)
    lines = text.split("\n")
    assert len(lines) > 3
    for line in lines[:-1]:
        assert line.lstrip(" ").startswith("\x1b[31m") and line.endswith(RESET)
    assert lines[-1].endswith("end")


def test_tiny_widths_still_lose_nothing() -> None:
    text = render("日本 abc", 1, False)
    assert "".join(text.split()) == "日本abc"


# Text users send: words of every length, CJK, emoji, accents, line ends.
_alphabet = st.sampled_from(
    list("abcdefghij") + [" ", " ", " ", "\n", "日", "本", "語", "😀", "🎉", "é", "e\u0301", "한", "ｗ"]
)
_texts = st.lists(
    st.one_of(_alphabet, st.sampled_from(["x" * 45, "https://example.com/" + "p" * 30])),
    max_size=60,
).map("".join)
_spans = st.lists(
    st.builds(Span, _texts, st.sampled_from(["", "dim", "bold", "error", "nick", "me", "private"])),
    max_size=4,
).map(tuple)


def _ink(text: str) -> str:
    """The visible characters, in order (pyte composes accents: so do we)."""
    return unicodedata.normalize("NFC", "".join(SGR.sub("", text).split()))


@settings(max_examples=150, deadline=None)
@given(_spans, st.integers(min_value=10, max_value=60), st.integers(min_value=0, max_value=4))
def test_rendered_rows_fit_and_nothing_is_lost(message, width, indent) -> None:
    plain = render(message, width, False, indent)
    coloured = render(message, width, True, indent)
    assert "\x1b" not in plain
    assert SGR.sub("", coloured) == plain
    assert not plain.endswith("\n")
    lines = plain.split("\n")
    assert all(visible_width(line) <= width for line in lines)
    assert _ink(plain) == _ink("".join(span.text for span in message))
    for line in coloured.split("\n"):
        codes = SGR.findall(line)
        assert not codes or codes[-1] == RESET


@settings(max_examples=100, deadline=None)
@given(_texts)
def test_at_40_columns_a_terminal_never_wraps_a_row(text: str) -> None:
    # pyte (unlike xterm) wraps before a combining mark that follows a
    # character in the last column, so compose accents for it.
    text = unicodedata.normalize("NFC", text)
    rendered = render(text, 40, True)
    lines = rendered.split("\n")
    rows = show(rendered, 40, height=len(lines) + 5)
    # pyte wraps rows wider than the screen onto extra rows: there are none.
    assert len(rows) <= len(lines)
    assert all(visible_width(line) <= 40 for line in lines)
    assert _ink("".join(rows)) == _ink(text)
