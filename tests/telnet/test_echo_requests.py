"""Offering echo around a secret line: what goes out, and whether the offer
changed anything (RFC 857 over the RFC 1143 Q method)."""

from __future__ import annotations

import pytest

from bbs.telnet.options import Q, Side
from tests.telnet.test_protocol import DO, DONT, ECHO, SGA, WILL, WONT, cmd, connect


@pytest.mark.parametrize(("side", "on"), [
    (Side(Q.NO), False), (Side(Q.YES), True),
    (Side(Q.WANTYES), True), (Side(Q.WANTYES, queued=True), False),
    (Side(Q.WANTNO), False), (Side(Q.WANTNO, queued=True), True),
])
def test_where_a_side_is_headed(side, on):
    assert side.headed_on is on


def test_a_line_mode_client_is_offered_echo_and_has_it_taken_back():
    c = connect()
    c.sent()
    c.feed(cmd(DONT, ECHO), cmd(DONT, SGA))
    assert c.telnet.negotiates
    assert c.telnet.request_echo(True) is True
    assert c.sent() == cmd(WILL, ECHO)
    c.feed(cmd(DO, ECHO))
    assert c.telnet.request_echo(False) is True
    assert c.sent() == cmd(WONT, ECHO)
    c.feed(cmd(DONT, ECHO))
    assert c.sent() == b""
    assert c.app.calls("echo") == [(False,), (True,), (False,)]


def test_an_offer_while_our_first_is_unanswered_changes_nothing():
    c = connect()  # WILL ECHO went out with the greeting
    c.sent()
    assert c.telnet.request_echo(True) is False
    assert c.sent() == b""


def test_an_offer_while_taking_echo_back_is_queued_behind_the_answer():
    c = connect()
    c.feed(cmd(DO, ECHO))
    c.sent()
    assert c.telnet.request_echo(False) is True
    assert c.telnet.request_echo(True) is True  # asked again once answered
    assert c.sent() == cmd(WONT, ECHO)
    c.feed(cmd(DONT, ECHO))
    assert c.sent() == cmd(WILL, ECHO)


def test_netcat_never_negotiates():
    c = connect()
    c.feed(b"alice\r\n")
    assert not c.telnet.negotiates
