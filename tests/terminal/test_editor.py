"""The line editor: keys in, buffer, cursor and bytes out, in character mode
and in line mode.

Everything the editor writes is also played on a pyte screen, the way a
telnet client would show it, so tests can assert what the user sees.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bbs.styled import Span, visible_width
from bbs.terminal.editor import EditorLimits, LineEditor
from tests.terminal.emulator import BELL, DELETE, DOWN, END, HOME, LEFT, RIGHT, UP, Terminal
from tests.terminal.owner import Owner


def test_typing_echoes_each_character_cheaply() -> None:
    term = Terminal()
    assert term.feed("abc") == "abc"
    assert term.feed("d") == "d"
    assert (term.editor.buffer, term.editor.cursor) == ("abcd", 4)
    assert (term.row, term.x) == ("> abcd", 6)


def test_wide_characters_are_one_keystroke_and_two_columns() -> None:
    term = Terminal()
    term.feed("héllo 日本語")
    assert term.x == 2 + 6 + 6
    assert term.feed(b"\x7f") == "\b\b\x1b[K"
    assert (term.editor.buffer, term.editor.cursor) == ("héllo 日本", 8)
    assert (term.row, term.x) == ("> héllo 日本", 12)
    term.feed(b"\x08")
    assert (term.row, term.x) == ("> héllo 日", 10)
    term.feed(b"\n")
    assert term.lines == ["héllo 日"]


def test_one_backspace_then_enter() -> None:
    term = Terminal()
    term.feed("héllo 日本語\x7f\n")
    assert term.lines == ["héllo 日本"]


def test_combining_marks_move_and_delete_with_their_letter() -> None:
    term = Terminal()
    term.feed("ae\u0301b")
    assert term.editor.cursor == 4
    term.feed(LEFT + LEFT)
    assert (term.editor.cursor, term.x) == (1, 3)
    term.feed(DELETE)
    assert term.editor.buffer == "ab"
    term.feed(RIGHT + b"\x7f")
    assert term.editor.buffer == "a"


@pytest.mark.parametrize("key", [LEFT, b"\x1bOD", b"\x02"])
def test_left(key: bytes) -> None:
    term = Terminal()
    term.feed("a日b")
    term.feed(key)
    assert (term.editor.cursor, term.x) == (2, 5)
    term.feed(key)
    assert (term.editor.cursor, term.x) == (1, 3)
    term.feed(key + key)
    assert (term.editor.cursor, term.x) == (0, 2)


@pytest.mark.parametrize("key", [RIGHT, b"\x1bOC", b"\x06"])
def test_right(key: bytes) -> None:
    term = Terminal()
    term.feed("a日b" + "\x01")
    term.feed(key + key)
    assert (term.editor.cursor, term.x) == (2, 5)
    term.feed(key + key)
    assert (term.editor.cursor, term.x) == (3, 6)


@pytest.mark.parametrize("key", [HOME, b"\x1bOH", b"\x1b[1~", b"\x1b[7~", b"\x01"])
def test_home(key: bytes) -> None:
    term = Terminal()
    term.feed("hello")
    assert term.feed(key) == "\x1b[5D"
    assert (term.editor.cursor, term.x) == (0, 2)


@pytest.mark.parametrize("key", [END, b"\x1bOF", b"\x1b[4~", b"\x1b[8~", b"\x05"])
def test_end(key: bytes) -> None:
    term = Terminal()
    term.feed("hello" + "\x01")
    assert term.feed(key) == "\x1b[5C"
    assert (term.editor.cursor, term.x) == (5, 7)


def test_insert_in_the_middle_redraws_the_row() -> None:
    term = Terminal()
    term.feed("ac")
    out = term.feed(LEFT + b"b")
    # One packet, one drawing of the row: the cursor move before it is moot.
    assert out == "\r> abc\x1b[K\x1b[1D"
    assert (term.editor.buffer, term.editor.cursor) == ("abc", 2)
    assert (term.row, term.x) == ("> abc", 4)
    assert term.feed(LEFT) + term.feed(b"b") == "\x1b[1D" + "\r> abbc\x1b[K\x1b[2D"


def test_delete_and_ctrl_d_delete_under_the_cursor() -> None:
    term = Terminal()
    term.feed("abcd" + "\x01")
    term.feed(DELETE)
    assert (term.editor.buffer, term.editor.cursor, term.row) == ("bcd", 0, "> bcd")
    term.feed(b"\x04")
    assert (term.editor.buffer, term.row, term.eofs) == ("cd", "> cd", 0)
    term.feed(END + DELETE + b"\x04")
    assert term.editor.buffer == "cd"


def test_kill_keys() -> None:
    term = Terminal()
    term.feed("one two  three")
    term.feed(b"\x17")
    assert (term.editor.buffer, term.row) == ("one two  ", "> one two")
    term.feed(b"\x17")
    assert term.editor.buffer == "one "
    term.feed("two three" + "\x1bb")
    assert term.editor.cursor == len("one two ")
    term.feed(b"\x0b")
    assert (term.editor.buffer, term.editor.cursor) == ("one two ", 8)
    term.feed(LEFT * 2 + b"\x15")
    assert (term.editor.buffer, term.editor.cursor, term.row, term.x) == ("o ", 0, "> o", 2)


def test_alt_and_ctrl_arrows_move_by_word() -> None:
    term = Terminal()
    term.feed("alpha beta gamma")
    term.feed(b"\x1b[1;5D")
    assert term.editor.cursor == 11
    term.feed(b"\x1bb")
    assert term.editor.cursor == 6
    term.feed(b"\x1bf")
    assert term.editor.cursor == 10
    term.feed(b"\x1b[1;5C")
    assert (term.editor.cursor, term.x) == (16, 18)


def test_ctrl_l_redraws_the_input_line_only() -> None:
    term = Terminal()
    term.feed("abc" + "\x02")
    assert term.feed(b"\x0c") == "\r> abc\x1b[K\x1b[1D"


def test_ctrl_c_abandons_the_line() -> None:
    term = Terminal()
    term.feed("abc" + "\x02")
    term.feed(b"\x03")
    assert term.lines == []
    assert (term.editor.buffer, term.editor.cursor) == ("", 0)
    assert term.rows()[:2] == ["> abc^C", ">"]
    assert (term.screen.cursor.y, term.x) == (1, 2)


def test_ctrl_d_asks_for_confirmation_on_an_empty_line() -> None:
    term = Terminal()
    term.feed(b"\x04")
    assert term.eofs == 0
    assert term.rows()[:2] == ["Press Ctrl-D again to quit.", ">"]
    term.feed(b"\x04")
    assert term.eofs == 1


def test_ctrl_d_confirmation_must_be_consecutive() -> None:
    term = Terminal()
    term.feed(b"\x04" + b"x\x7f" + b"\x04")
    assert term.eofs == 0
    term.feed(b"\x04")
    assert term.eofs == 1


def test_ctrl_d_notice_is_dim_in_colour() -> None:
    term = Terminal()
    term.editor.colour = True
    assert "\x1b[2mPress Ctrl-D again to quit.\x1b[0m" in term.feed(b"\x04")


def test_enter_delivers_the_line_and_draws_a_fresh_prompt() -> None:
    term = Terminal()
    term.feed("hi there" + "\x01")
    out = term.feed(b"\n")
    assert term.lines == ["hi there"]
    assert out == "\n\r> \x1b[K"
    assert term.rows()[:2] == ["> hi there", ">"]
    assert (term.editor.buffer, term.editor.cursor, term.editor.idle_input) == ("", 0, True)


def test_empty_lines_are_delivered() -> None:
    term = Terminal()
    term.feed(b"\n\n")
    assert term.lines == ["", ""]


def test_prompt_set_during_on_line_is_the_one_drawn_after() -> None:
    term: Terminal

    def on_line(line: str) -> None:
        term.editor.print(f"you said {line}")
        term.editor.set_prompt("[den] ")

    term = Terminal(on_line=on_line)
    out = term.feed("yo\n")
    # No redraw in between: the message, then the new prompt, once.
    assert out == "yo\n" + "you said yo\n" + "\r[den] \x1b[K"
    assert term.rows()[:3] == ["> yo", "you said yo", "[den]"]


def test_several_lines_in_one_packet() -> None:
    term = Terminal()
    term.feed(b"one\ntwo\nthr")
    assert term.lines == ["one", "two"]
    assert term.editor.buffer == "thr"
    assert term.rows()[:3] == ["> one", "> two", "> thr"]


def test_history_walks_back_and_keeps_the_draft() -> None:
    term = Terminal()
    term.feed(b"one\ntwo\ntwo\n\n   \n")
    term.feed("dra" + "\x02")
    term.feed(UP)
    assert (term.editor.buffer, term.editor.cursor, term.row, term.x) == ("two", 3, "> two", 5)
    term.feed(b"\x1bOA")
    assert term.editor.buffer == "one"
    assert term.feed(UP) == BELL
    assert term.editor.buffer == "one"
    term.feed(DOWN)
    assert term.editor.buffer == "two"
    term.feed(b"\x1bOB")
    assert (term.editor.buffer, term.editor.cursor, term.row) == ("dra", 3, "> dra")
    assert term.feed(DOWN) == BELL


def test_history_skips_blank_lines_and_consecutive_duplicates() -> None:
    term = Terminal()
    term.feed(b"a\na\n\n  \nb\na\n")
    walked = []
    for _ in range(4):
        term.feed(UP)
        walked.append(term.editor.buffer)
    assert walked == ["a", "b", "a", "a"]


def test_history_is_bounded() -> None:
    term = Terminal(limits=EditorLimits(history=3))
    term.feed(b"1\n2\n3\n4\n5\n")
    term.feed(UP * 3)
    assert term.editor.buffer == "3"
    assert term.feed(UP) == BELL


def _nicks(before: str) -> list[str]:
    word = before.rsplit(" ", 1)[-1]
    if word.startswith("/"):
        return [c for c in ["/join", "/msg", "/me"] if c.startswith(word)]
    return [n for n in ["alice", "alan", "bob"] if n.startswith(word)]


def test_tab_completes_a_unique_word_with_a_space() -> None:
    seen: list[str] = []

    def completer(before: str) -> list[str]:
        seen.append(before)
        return _nicks(before)

    term = Terminal(completer=completer)
    term.feed("/jo\t")
    assert seen == ["/jo"]
    assert (term.editor.buffer, term.editor.cursor, term.row) == ("/join ", 6, "> /join")


def test_tab_completes_in_the_middle_of_the_line() -> None:
    term = Terminal(completer=_nicks)
    term.feed("hi b, ok" + "\x1b[D" * 4 + "\t")
    assert (term.editor.buffer, term.editor.cursor) == ("hi bob , ok", 7)
    assert (term.row, term.x) == ("> hi bob , ok", 9)


def test_tab_with_several_candidates_extends_then_lists_once() -> None:
    term = Terminal(completer=_nicks)
    term.feed("hi a\t")
    assert (term.editor.buffer, term.row) == ("hi al", "> hi al")
    term.feed(b"\t")
    assert term.rows()[:2] == ["alice  alan", "> hi al"]
    assert (term.editor.buffer, term.editor.cursor, term.x) == ("hi al", 5, 7)
    assert term.feed(b"\t") == BELL
    assert term.rows()[:3] == ["alice  alan", "> hi al", ""]


def test_tab_with_no_candidates_or_no_completer_rings_the_bell() -> None:
    term = Terminal(completer=_nicks)
    assert term.feed("zz\t") == "zz" + BELL
    assert term.editor.buffer == "zz"
    term = Terminal()
    assert term.feed(b"\t") == BELL


@pytest.mark.parametrize(
    "sequence",
    [b"\x1b[12;34X", b"\x1b[?1;2c", b"\x1bOz", b"\x1bx", b"\x1b[[A", b"\x1b[" + b"1" * 100 + b"A",
     b"\x1b[200~", "\x1bé".encode(), b"\x00\x1c\x1f", b"\xff\xfe"],
)
def test_unknown_sequences_are_swallowed(sequence: bytes) -> None:
    term = Terminal()
    term.feed(b"old\n")
    term.feed(b"a")
    assert term.feed(sequence) == ""
    term.feed(b"b")
    assert (term.editor.buffer, term.row) == ("ab", "> ab")


def test_a_sequence_split_over_packets_is_one_key() -> None:
    term = Terminal()
    term.feed(b"ab")
    term.feed(b"\x1b")
    term.feed(b"[")
    term.feed(b"D")
    assert term.editor.cursor == 1
    for byte in "日".encode():
        term.feed(bytes([byte]))
    assert term.editor.buffer == "a日b"


def test_the_line_limit_rings_the_bell_and_takes_nothing() -> None:
    term = Terminal(limits=EditorLimits(line=5))
    out = term.feed("abcdefgh")
    assert out == "abcde" + BELL
    assert term.editor.buffer == "abcde"
    assert term.feed("x") == BELL
    term.feed(b"\x7f")
    assert term.feed("日") == "日"
    assert term.feed("\n") and term.lines == ["abcd日"]


def test_completion_beyond_the_limit_rings_the_bell() -> None:
    term = Terminal(completer=_nicks, limits=EditorLimits(line=4))
    assert term.feed("/jo\t") == "/jo" + BELL
    assert term.editor.buffer == "/jo"


def test_secret_lines_echo_nothing_and_are_forgotten() -> None:
    term = Terminal()
    term.feed(b"visible\n")
    out = term.call(lambda: term.editor.ask_secret("Password: "))
    assert out == "\rPassword: \x1b[K"
    assert term.feed("hunter2 日") == ""
    assert term.feed(b"\x7f\x7f" + LEFT + b"\x0c") == "\rPassword: \x1b[K"
    assert term.feed(UP + b"\t") == ""
    assert term.x == len("Password: ")
    out = term.feed(b"\n")
    assert term.lines == ["visible", "hunter2"]
    assert "hunter" not in term.output
    assert term.rows()[1] == "Password:"
    # The secret prompt is not left up with echo back on.
    assert out == "\n\r\x1b[K"
    term.call(lambda: term.editor.set_prompt("> "))
    term.feed(UP)
    assert term.editor.buffer == "visible"


def test_set_prompt_redraws_with_the_line() -> None:
    term = Terminal()
    term.feed("abc" + "\x02")
    assert term.call(lambda: term.editor.set_prompt("[lobby] ")) == "\r[lobby] abc\x1b[K\x1b[1D"


def test_print_while_typing_keeps_the_line() -> None:
    term = Terminal()
    term.feed("half" + "\x02")
    out = term.call(lambda: term.editor.print("<bob> hello"))
    assert out == "\r\x1b[K<bob> hello\n\r> half\x1b[K\x1b[1D"
    assert term.rows()[:2] == ["<bob> hello", "> half"]
    assert (term.editor.buffer, term.editor.cursor, term.x) == ("half", 3, 5)


def test_print_with_no_prompt_and_no_line_is_just_the_message() -> None:
    term = Terminal(prompt="")
    assert term.call(lambda: term.editor.print("hello")) == "hello\n"


def test_print_in_colour_and_without() -> None:
    message = (Span("<bob>", "nick"), Span(" hi"))
    term = Terminal(prompt="")
    assert "\x1b" not in term.call(lambda: term.editor.print(message))
    term.editor.colour = True
    assert term.editor.colour
    assert "\x1b[0m" in term.call(lambda: term.editor.print(message))


def test_print_rendered_writes_the_given_text() -> None:
    term = Terminal()
    term.feed("x")
    assert term.call(lambda: term.editor.print_rendered("pre\nmade")) == (
        "\r\x1b[Kpre\nmade\n\r> x\x1b[K"
    )
    assert term.rows()[:3] == ["pre", "made", "> x"]


def test_print_wraps_to_the_window_width() -> None:
    term = Terminal(width=20)
    term.call(lambda: term.editor.print("word " * 8))
    assert term.rows()[:4] == ["word word word word", "  word word word", "  word", ">"]


def test_set_size_redraws_only_when_the_width_changes() -> None:
    term = Terminal()
    term.feed("abc")
    assert term.call(lambda: term.editor.set_size(80, 50)) == ""
    assert term.call(lambda: term.editor.set_size(0, 0)) == ""
    # Erasing below too: a reflowing terminal may have wrapped the old row.
    assert term.call(lambda: term.editor.set_size(100, 50)) == "\r> abc\x1b[J"
    assert term.editor.width == 100 and term.editor.height == 50


def test_idle_input() -> None:
    term = Terminal()
    assert term.editor.idle_input
    term.feed("a")
    assert not term.editor.idle_input


def test_limits_are_validated() -> None:
    with pytest.raises(ValueError):
        EditorLimits(line=0)
    with pytest.raises(ValueError):
        EditorLimits(history=-1)


def test_a_chat_client_clears_the_entered_row_instead_of_keeping_it():
    written: list[str] = []
    lines: list[str] = []
    editor = LineEditor(Owner(written.append, lines.append))
    editor.character_mode = True
    editor.set_prompt("[lobby] ")
    editor.keep_entered = False
    written.clear()
    editor.feed(b"hi\n")
    assert lines == ["hi"]
    assert "".join(written) == "hi\r\x1b[K\r[lobby] \x1b[K"


@pytest.mark.parametrize("character_mode", [True, False])
@pytest.mark.parametrize("prompt", ["", "[lobby] ", "login: "])
def test_shared_output_is_exactly_what_printing_writes(character_mode, prompt):
    written: list[str] = []
    editor = LineEditor(Owner(written.append))
    editor.character_mode = character_mode
    editor.set_prompt(prompt)
    editor.feed(b"a line\n")  # entered: nothing left on the input line
    written.clear()
    key = editor.shared_key
    if not character_mode and prompt:
        # The prompt holds the row: printing must first end it, a change.
        assert key is None
        return
    assert key is not None
    expected = editor.shared_output("<bob> hi")
    editor.print_rendered("<bob> hi")
    assert "".join(written) == expected
    assert editor.shared_key == key


def test_nothing_is_shared_while_something_is_typed():
    editor = LineEditor(Owner())
    editor.character_mode = True
    editor.set_prompt("[lobby] ")
    editor.feed(b"half")
    assert editor.shared_key is None


def _shared_key_by_definition(editor: LineEditor) -> int | None:
    """When printing writes the same for every editor (see L{LineEditor.shared_key})."""
    if editor._chars or editor._out or editor._stale is not None:
        return None
    if not editor._character_mode:
        return None if editor._row_used else editor._line_key
    return editor._char_key if editor._drawn else None


_KEYS_TYPED = st.sampled_from([b"a", b"\xc3\xa9", b"\r\n", b"\n", b"\x7f", b"\x04", b"\x15",
                               b"\t", b"\x1b[D", b"\x1b[A", b"\x01", b" "])
_STEPS = st.lists(st.one_of(
    st.tuples(st.just("feed"), st.lists(_KEYS_TYPED, max_size=6).map(b"".join)),
    st.tuples(st.just("print"), st.none()),
    st.tuples(st.just("prompt"), st.sampled_from(["", "[lobby] ", "login: "])),
    st.tuples(st.just("secret"), st.just("Password: ")),
    st.tuples(st.just("width"), st.integers(20, 120)),
    st.tuples(st.just("mode"), st.booleans()),
    st.tuples(st.just("colour"), st.booleans()),
), max_size=25)


@settings(max_examples=300, deadline=None)
@given(_STEPS, st.booleans())
def test_the_shared_key_is_never_out_of_date(steps, deliver_inside):
    """The key is kept, not worked out per message: it must never claim a
    shared write while printing would write something else, not even from
    inside the editor's own callbacks (where a session's room flush runs);
    and once an operation is over it must be there whenever it may be."""
    editor: LineEditor

    def deliver() -> None:  # what a session does with a room line
        if editor.shared_key is not None:
            editor.shared_output("<bob> hi")
        else:
            editor.print_rendered("<bob> hi")

    inside = [False]

    def callback(*args: object) -> None:
        key = editor.shared_key
        assert key is None or key == _shared_key_by_definition(editor)
        if deliver_inside and not inside[0]:
            inside[0] = True
            try:
                deliver()
            finally:
                inside[0] = False

    editor = LineEditor(Owner(callback, callback, callback, lambda before: ["alpha", "alps"]))
    for step, arg in steps:
        if step == "feed":
            editor.feed(arg)
        elif step == "print":
            deliver()
        elif step == "prompt":
            editor.set_prompt(arg)
        elif step == "secret":
            editor.ask_secret(arg)
        elif step == "width":
            editor.set_size(arg, 24)
        elif step == "mode":
            editor.character_mode = arg
        else:
            editor.colour = arg
        assert editor.shared_key == _shared_key_by_definition(editor), step


# What the user's screen shows while the editor works (played on pyte).


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


# Line mode: the client echoes (netcat, socat, bots); we never draw.


def test_nothing_is_echoed_and_the_line_is_delivered_at_its_end() -> None:
    term = Terminal(character_mode=False, prompt="")
    assert term.feed("hello 日本") == ""
    assert term.lines == []
    assert term.feed(b" there\n") == ""
    assert term.lines == ["hello 日本 there"]


def test_the_prompt_is_written_once_then_after_each_line() -> None:
    term = Terminal(character_mode=False, prompt="")
    assert term.call(lambda: term.editor.set_prompt("login: ")) == "login: "
    assert term.call(lambda: term.editor.set_prompt("login: ")) == ""
    assert term.feed(b"root\n") == "login: "
    assert term.lines == ["root"]


def test_escape_sequences_and_controls_are_dropped_whole() -> None:
    term = Terminal(character_mode=False, prompt="")
    out = term.feed(b"ab\x1b[Acd\x1b[1;5D\x01\x03\x0b\tef\x07\x1bx\n")
    assert out == ""
    assert term.lines == ["abcdef"]


def test_backspace_deletes_the_previous_character() -> None:
    term = Terminal(character_mode=False, prompt="")
    term.feed("abc\x7f\x08d日\x7fe\n")
    assert term.lines == ["ade"]


def test_a_too_long_line_is_cut_and_the_user_told() -> None:
    term = Terminal(character_mode=False, prompt="", limits=EditorLimits(line=10))
    term.feed("x" * 5000)
    assert term.editor.buffer == "x" * 10  # bounded while pending
    assert term.output == ""
    out = term.feed(b"yyy\nnext\n")
    assert term.lines == ["x" * 10, "next"]
    assert out == "Line too long: cut to 10 characters.\n"
    assert "\x1b" not in term.output and "\x07" not in term.output


def test_the_default_limit_notice() -> None:
    term = Terminal(character_mode=False, prompt="")
    term.feed(b"z" * 1500 + b"\n")
    assert term.lines == ["z" * 1024]
    assert term.output == "Line too long: cut to 1024 characters.\n"


def test_messages_are_plain_lines_and_start_on_a_fresh_row() -> None:
    term = Terminal(character_mode=False, prompt="[lobby] ")
    term.editor.colour = True
    assert not term.editor.colour
    out = term.call(lambda: term.editor.print((Span("<bob>", "nick"), Span(" hi", "error"))))
    assert out == "\n<bob> hi\n"
    assert term.call(lambda: term.editor.print("again")) == "again\n"
    assert term.rows()[:3] == ["[lobby]", "<bob> hi", "again"]


def test_a_line_typed_after_the_prompt_ends_the_row() -> None:
    def on_line(line: str) -> None:
        term.editor.print(f"<me> {line}")

    term: Terminal = Terminal(character_mode=False, prompt="[lobby] ", on_line=on_line)
    assert term.feed(b"hi\n") == "<me> hi\n[lobby] "


def test_secret_in_line_mode_writes_the_prompt_only() -> None:
    term = Terminal(character_mode=False, prompt="")
    assert term.call(lambda: term.editor.ask_secret("Password: ")) == "Password: "
    assert term.feed(b"pw\n") == ""
    assert term.lines == ["pw"]
    term.feed(b"\x1b[A")
    assert term.editor.buffer == ""


def test_ctrl_d_twice_on_an_empty_line_is_eof() -> None:
    term = Terminal(character_mode=False, prompt="")
    assert term.feed(b"\x04") == "Press Ctrl-D again to quit.\n"
    term.feed(b"\x04")
    assert term.eofs == 1


def test_switching_to_character_mode_draws_the_pending_line() -> None:
    term = Terminal(character_mode=False, prompt="login: ")
    term.feed(b"ali")
    out = term.call(lambda: setattr(term.editor, "character_mode", True))
    assert out == "\rlogin: ali\x1b[K"
    assert term.feed(b"ce") == "ce"
    term.feed(b"\n")
    assert term.lines == ["alice"]


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300))
def test_line_mode_never_writes_an_escape_or_a_bell(data: bytes) -> None:
    term = Terminal(character_mode=False, prompt="> ", limits=EditorLimits(line=16))
    term.feed(data)
    term.call(lambda: term.editor.print((Span("x", "error"),)))
    assert "\x1b" not in term.output and "\x07" not in term.output
    assert len(term.editor.buffer) <= 16
    assert all(len(line) <= 16 for line in term.lines)


_LINE_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=24)
_PENDING = st.sampled_from([b"", b"ab", b"\x1b", b"\x1b[", b"\x1b[1;", b"\x1bO", b"\xe6\x97"])


@settings(max_examples=200, deadline=None)
@given(st.lists(_LINE_TEXT, max_size=5), st.one_of(_PENDING, st.binary(max_size=6)), st.booleans())
def test_a_packet_of_whole_lines_is_taken_as_typed_byte_by_byte(
    lines: list[str], before: bytes, secret: bool
) -> None:
    """Whole lines of printable ASCII skip the key decoder; nothing else may
    change: a line over the limit, something already pending (a partial
    line, an escape sequence, half a UTF-8 character) or a password prompt
    reads the same whole as byte by byte."""
    packet = "".join(line + "\n" for line in lines).encode("ascii")
    outputs = []
    after = b"\xa5z\n"  # would end a UTF-8 character left pending before
    for chunks in ([before, packet, after], [bytes([b]) for b in before + packet + after]):
        term = Terminal(character_mode=False, prompt="> ", limits=EditorLimits(line=16))
        if secret:
            term.call(lambda t=term: t.editor.ask_secret("Password: "))
        for chunk in chunks:
            term.feed(chunk)
        outputs.append((term.lines, term.output, term.editor.buffer))
    assert outputs[0] == outputs[1]


def test_a_packet_of_lines_counts_as_keys_typed_for_ctrl_d() -> None:
    term = Terminal(character_mode=False, prompt="")
    term.feed(b"\x04")
    term.feed(b"hi\n")
    term.feed(b"\x04")
    assert term.eofs == 0  # the lines between made the second Ctrl-D a first


# A client switching to character mode: the prompt already on its screen is
# left alone unless the row needs drawing (Mirai's loader reads a second
# prompt character as the password prompt).


def _switch(term: Terminal) -> str:
    def on() -> None:
        term.editor.character_mode = True

    return term.call(on)


def test_an_unchanged_prompt_is_not_redrawn_when_echo_is_accepted() -> None:
    term = Terminal(character_mode=False, prompt="login: ")
    assert term.output.endswith("login: ")
    assert _switch(term) == ""
    # Typing now echoes after the prompt that was already there.
    assert term.feed("ro") == "ro"
    assert term.screen.display[0].rstrip() == "login: ro"


def test_a_half_typed_line_is_drawn_again_under_the_editor() -> None:
    term = Terminal(character_mode=False, prompt="login: ")
    term.feed("ro")  # the client echoed it itself, in line mode
    assert "login: ro" in _switch(term)


def test_a_prompt_pushed_off_its_row_by_a_message_is_drawn_again() -> None:
    term = Terminal(character_mode=False, prompt="login: ")
    term.editor.print((Span("a notice", "error"),))
    out = _switch(term)
    assert "login: " in out


# The last words before a close start a row of their own, never after a
# prompt.


def test_a_goodbye_clears_the_prompt_and_the_half_typed_line_first() -> None:
    term = Terminal(prompt="[den] ")
    term.feed("half a thou")
    term.call(lambda: term.editor.farewell("You have been kicked by boss"))
    assert term.rows()[0] == "You have been kicked by boss"
    assert term.row == ""  # nothing drawn after it: no prompt, no echo
    term.call(lambda: term.editor.print("a late line"))
    assert "[den]" not in "\n".join(term.rows())


def test_a_goodbye_in_the_middle_of_a_line_being_handled_is_alone_on_its_row() -> None:
    term = Terminal(prompt="[den] ", on_line=lambda line: term.editor.farewell("Goodbye."))
    term.editor.keep_entered = False  # as in a chat: the line comes back as a message
    term.feed("/quit\r\n")
    assert [r for r in term.rows() if r] == ["Goodbye."]


def test_a_long_goodbye_is_wrapped_to_the_window_as_any_message() -> None:
    term = Terminal(width=20, prompt="> ")
    term.call(lambda: term.editor.farewell("You are banned: spam (until tomorrow)"))
    assert [r for r in term.rows() if r] == ["You are banned: spam", "  (until tomorrow)"]


def test_in_line_mode_a_goodbye_after_a_prompt_starts_a_new_line() -> None:
    term = Terminal(character_mode=False, prompt="login: ")
    out = term.call(lambda: term.editor.farewell("Login timed out. Goodbye."))
    assert out == "\nLogin timed out. Goodbye.\n"
    assert "\x1b" not in out
