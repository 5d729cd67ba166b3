"""What the user's screen shows while the editor works (played on pyte)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bbs.styled import Span, visible_width
from tests.terminal.emulator import END, HOME, LEFT, Terminal


def test_a_message_arriving_mid_typing_leaves_the_line_intact_at_the_bottom() -> None:
    term = Terminal(width=40, height=10)
    for n in range(15):
        term.call(lambda: term.editor.print(f"message {n}"))
    term.feed("hello wor" + "\x1b[D" * 3)
    term.call(lambda: term.editor.print((Span("<bob>", "nick"), Span(" hi there"))))
    rows = term.rows()
    assert rows[-2:] == ["<bob> hi there", "> hello wor"]
    assert rows[-3] == "message 14"
    assert (term.screen.cursor.y, term.x) == (9, 2 + 9 - 3)
    term.feed("ld")
    assert term.rows()[-1] == "> hello ldwor"


def test_a_long_message_wraps_above_the_line_and_the_line_stays_put() -> None:
    term = Terminal(width=20, height=8)
    term.feed("typing")
    term.call(lambda: term.editor.print("a fairly long message that wraps"))
    assert term.rows()[:4] == ["a fairly long", "  message that wraps", "> typing", ""]
    assert (term.screen.cursor.y, term.x) == (2, 8)


def test_wide_characters_keep_the_cursor_in_sync() -> None:
    term = Terminal(width=40, height=6)
    term.feed("日本語abc😀")
    assert term.x == 2 + 6 + 3 + 2
    term.feed(LEFT * 2)
    assert term.x == 2 + 6 + 2
    term.call(lambda: term.editor.print("ping"))
    assert term.rows()[:2] == ["ping", "> 日本語abc😀"]
    assert term.x == 2 + 6 + 2
    term.feed("x")
    assert term.rows()[1] == "> 日本語abxc😀" and term.x == 2 + 6 + 3
    term.feed(HOME)
    assert term.x == 2
    term.feed(b"\x1b[C")
    assert term.x == 4


def test_a_long_line_scrolls_sideways_and_the_cursor_stays_visible() -> None:
    term = Terminal(width=20, height=4)
    text = "".join(chr(ord("a") + n % 26) for n in range(50))
    term.feed(text)
    assert term.editor.buffer == text
    row = term.row
    assert len(row) <= 19 and row.startswith("> ")
    assert text.endswith(row[2:]) and term.x == len(row)
    assert term.screen.cursor.y == 0 and term.rows()[1] == ""  # never wrapped
    term.feed(HOME)
    assert term.row == "> " + text[:17] and term.x == 2
    term.feed(END)
    assert text.endswith(term.row[2:]) and term.x == len(term.row)
    term.feed(b"\n")
    assert term.lines == [text]


def test_wide_characters_scroll_without_breaking_the_row() -> None:
    term = Terminal(width=20, height=4)
    text = "日本語のテキスト" * 3
    term.feed(text)
    assert visible_width(term.row) <= 19
    assert text.endswith(term.row[2:])
    assert term.x == visible_width(term.row)
    term.feed(HOME)
    assert term.row == "> " + text[:8] and term.x == 2


def test_a_prompt_wider_than_the_window_is_cut_not_wrapped() -> None:
    term = Terminal(width=20, height=4, prompt="[a-very-long-room-name] ")
    term.feed("hello")
    assert term.row.startswith("[a-very-lo") and term.row.endswith("hello")
    assert len(term.row) <= 19 and term.rows()[1] == ""


PRINT = object()
_keys = st.sampled_from(
    ["a", "b", " ", "日", "本語", "é", "xyz", "😀", "\x7f", "\x1b[D", "\x1b[C", "\x01",
     "\x05", "\x17", "\x0b", "\x15", "\x1b[3~", "\x1bb", "\x1bf"]
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(_keys, st.just(PRINT)), max_size=40), st.sampled_from([10, 12, 20, 33]))
def test_the_row_always_shows_a_slice_of_the_line_around_the_cursor(keys, width) -> None:
    term = Terminal(width=width, height=45, prompt="> ")
    printed = 0
    for key in keys:
        if key is PRINT:
            term.call(lambda: term.editor.print("msg"))
            printed += 1
        else:
            term.feed(key)
        buffer, cursor = term.editor.buffer, term.editor.cursor
        rows = term.rows()
        # Messages above, then the input row, never wrapped onto a second row.
        assert rows[:printed] == ["msg"] * printed
        assert term.screen.cursor.y == printed
        assert not any(rows[printed + 1:])
        row = rows[printed]
        assert row.startswith(">") and visible_width(row) <= width - 1
        shown = row[2:]
        # The cursor sits where the buffer's cursor is within the slice shown.
        starts = [
            start for start in range(cursor + 1)
            if 2 + visible_width(buffer[start:cursor]) == term.x
            and buffer[start:].rstrip(" ").startswith(shown)
            and (start == 0 or start < cursor)
        ]
        assert starts, (buffer, cursor, row, term.x)
