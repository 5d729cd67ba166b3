"""A client switching to character mode: the prompt already on its screen
is left alone unless the row needs drawing (Mirai's loader reads a second
prompt character as the password prompt)."""

from __future__ import annotations

from bbs.styled import Span
from tests.terminal.emulator import Terminal


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
