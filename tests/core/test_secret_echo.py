"""Secret prompts over telnet: a line-mode client is asked not to echo the
secret (RFC 857) and gets its echo back after it; netcat is told once."""

from __future__ import annotations

import pytest

from bbs import passwords
from tests.world import World
from tests.store.peek import account_keys

IAC, WILL, WONT, DO, DONT, ECHO = 255, 251, 252, 253, 254, 1
WILL_ECHO, WONT_ECHO = bytes((IAC, WILL, ECHO)), bytes((IAC, WONT, ECHO))
DO_ECHO, DONT_ECHO = bytes((IAC, DO, ECHO)), bytes((IAC, DONT, ECHO))
TOLD = b"Your client shows what you type"


@pytest.fixture
def world(store):
    store.create_account("alice", passwords.hash_password("right password"))
    w = World()
    w.bbs.store, w.bbs.registered = store, account_keys(store)
    return w


def line_mode(w: World, ip: str = "192.0.2.5"):
    """A telnet client that refused our echo at the start: it echoes itself."""
    s, t = w.connect(ip)
    s.door.dataReceived(DONT_ECHO)
    assert not s.editor.character_mode
    t.clear()
    return s, t


def test_a_line_mode_client_is_asked_not_to_echo_the_password_then_given_it_back(world):
    s, t = line_mode(world)
    s.door.dataReceived(b"alice\r\n")
    assert t.value().endswith(WILL_ECHO + b"Password: ")  # asked before the prompt
    s.door.dataReceived(DO_ECHO)  # it agrees: it stops echoing
    assert not s.editor.character_mode  # and still sends whole lines
    t.clear()
    s.door.dataReceived(b"right password\r\n")
    wire = t.value()
    # It echoed nothing, not even the line's end: we end the row; once in,
    # it gets its echo back.
    assert wire.startswith(b"\r\n")
    assert b"Welcome, alice!" in wire and wire.endswith(WONT_ECHO)
    s.door.dataReceived(DONT_ECHO)
    assert not s.editor.character_mode and s.room is not None
    t.clear()
    s.door.dataReceived(b"hello\r\n")
    world.clock.advance(0)  # the room speaks at the end of the turn
    assert b"\x1b" not in t.value() and b"hello" in t.value()  # no redraws: line mode


def test_a_client_that_refuses_stays_as_it_was(world):
    s, t = line_mode(world)
    s.door.dataReceived(b"alice\r\n")
    s.door.dataReceived(DONT_ECHO)
    t.clear()
    s.door.dataReceived(b"wrong password\r\n")
    assert WONT_ECHO not in t.value()
    assert t.value().startswith(b"Login incorrect.")  # its own echo ended the row
    assert not s.editor.character_mode


def test_netcat_is_told_once_and_sent_no_negotiation(world):
    s, t = world.connect("192.0.2.6")
    t.clear()
    s.door_data(b"alice\n")
    assert TOLD in t.value() and WILL_ECHO not in t.value()
    s.door_data(b"wrong password\n")
    s.door_data(b"alice\n")
    assert t.value().count(TOLD) == 1
    assert t.value().endswith(b"Password: ")


def dialogue(s, t, command: bytes, answers: list[tuple[bytes, bytes]]) -> bytes:
    """Run a dialogue of secret prompts; what was sent after the last answer."""
    s.door.dataReceived(command + b"\r\n")
    assert t.value().endswith(WILL_ECHO + answers[0][0]), t.value()
    s.door.dataReceived(DO_ECHO)
    for n, (prompt, answer) in enumerate(answers):
        assert t.value().endswith(prompt), t.value()
        t.clear()
        s.door.dataReceived(answer + b"\r\n")
        assert t.value().startswith(b"\r\n")  # the row ends though nothing was echoed
        if n + 1 < len(answers):  # echo stays off between the secrets of one dialogue
            assert WONT_ECHO not in t.value() and WILL_ECHO not in t.value()
    assert t.value().count(WONT_ECHO) == 1
    s.door.dataReceived(DONT_ECHO)
    assert not s.editor.character_mode
    return t.value()


def test_every_secret_prompt_of_register_and_password_is_hidden(world):
    s, t = line_mode(world)
    s.door.dataReceived(b"bob\r\n")
    said = dialogue(s, t, b"/register", [(b"Password: ", b"bob-secret-1"),
                                         (b"Password again: ", b"bob-secret-1")])
    assert b"Registered bob" in said
    said = dialogue(s, t, b"/password", [(b"Old password: ", b"bob-secret-1"),
                                         (b"New password: ", b"bob-secret-2"),
                                         (b"New password again: ", b"bob-secret-2")])
    assert b"Your password has been changed." in said


def test_a_refused_password_gives_echo_back_at_the_next_prompt(world):
    s, t = line_mode(world)
    s.door.dataReceived(b"bob\r\n")
    said = dialogue(s, t, b"/register", [(b"Password: ", b"short")])
    assert b"at least 8" in said and said.index(b"at least 8") < said.index(WONT_ECHO)


def test_a_character_mode_client_needs_no_asking(world):
    s, t = world.connect("192.0.2.7")
    s.door.dataReceived(DO_ECHO)
    assert s.editor.character_mode
    t.clear()
    s.door.dataReceived(b"alice\r")
    assert WILL_ECHO not in t.value() and b"Password: " in t.value()
    s.door.dataReceived(b"right password\r")
    assert WONT_ECHO not in t.value() and b"right password" not in t.value()
    assert s.editor.character_mode and s.room is not None


def test_a_late_answer_to_the_first_offer_still_brings_character_mode(world):
    s, t = world.connect("192.0.2.8")
    s.door.dataReceived(bytes((IAC, DO, 3)))  # it negotiates, but has not answered ECHO yet
    t.clear()
    s.door.dataReceived(b"alice\r\n")
    assert WILL_ECHO not in t.value()  # our first offer is still unanswered
    s.door.dataReceived(DO_ECHO)
    assert s.editor.character_mode
    s.door.dataReceived(b"right password\r")
    assert s.room is not None and WONT_ECHO not in t.value()
