"""The last words before a close start a row of their own, never after a prompt."""

from __future__ import annotations

from tests.terminal.emulator import Terminal


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
