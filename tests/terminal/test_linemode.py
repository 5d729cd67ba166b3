"""Line mode: the client echoes (netcat, socat, bots); we never draw."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bbs.styled import Span
from bbs.terminal.editor import EditorLimits
from tests.terminal.emulator import Terminal


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
