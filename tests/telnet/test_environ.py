"""NEW-ENVIRON (RFC 1572): parsed to be logged, never used."""

from __future__ import annotations

from bbs.door import Variable
from bbs.telnet.environ import parse
from tests.telnet.test_protocol import IAC, SB, SE, WILL, DO, cmd, connect, sub

NEW_ENVIRON = 39
IS, SEND, INFO, VAR, VALUE, ESC, USERVAR = 0, 1, 2, 0, 1, 2, 3


def test_is_and_info_lists_are_parsed():
    assert parse(bytes((IS, VAR)) + b"USER" + bytes((VALUE,)) + b"-f root"
                 + bytes((USERVAR,)) + b"TZ" + bytes((VALUE,)) + b"UTC"
                 + bytes((VAR,)) + b"DISPLAY") == (
        Variable("USER", "-f root"), Variable("TZ", "UTC", user=True),
        Variable("DISPLAY", None))
    assert parse(bytes((INFO, VAR)) + b"USER" + bytes((VALUE,)) + b"bob") == (
        Variable("USER", "bob"),)


def test_escaped_bytes_and_control_characters():
    raw = bytes((IS, VAR)) + b"A" + bytes((ESC, VALUE)) + b"B" + bytes((VALUE,)) + b"x\x1b[2Jy"
    # ESC VALUE is a literal 0x01 in the name, then dropped as a control
    # character, like the escape sequence's ESC in the value.
    assert parse(raw) == (Variable("AB", "x[2Jy"),)


def test_send_and_garbage_give_nothing():
    assert parse(bytes((SEND, VAR)) + b"USER") == ()
    assert parse(b"") == ()
    assert parse(bytes((IS,)) + b"no type byte first") == ()


def test_only_user_dash_f_is_the_bypass():
    assert Variable("USER", "-f root").exploit
    assert Variable("USER", " -froot").exploit
    assert not Variable("USER", "root").exploit
    assert not Variable("USER", "-f root", user=True).exploit  # a USERVAR is not USER
    assert not Variable("LOGNAME", "-f root").exploit


def test_a_client_offering_new_environ_is_asked_for_all_its_variables():
    c = connect()
    c.feed(cmd(WILL, NEW_ENVIRON))
    assert c.sent() == cmd(DO, NEW_ENVIRON) + bytes((IAC, SB, NEW_ENVIRON, SEND, IAC, SE))
    c.feed(cmd(WILL, NEW_ENVIRON))
    assert c.sent() == b""


def test_variables_sent_unasked_reach_the_app_as_variables_only():
    c = connect()
    c.feed(sub(NEW_ENVIRON, bytes((IS, VAR)) + b"USER" + bytes((VALUE,)) + b"-f root"), b"hi\r\n")
    [(variables,)] = c.app.calls("environ")
    assert variables == (Variable("USER", "-f root"),)
    assert c.app.data == b"hi\n"
