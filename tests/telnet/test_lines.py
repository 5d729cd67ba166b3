"""Every client line end becomes one b"\\n", delivered as soon as it arrives."""

from __future__ import annotations

import pytest

from tests.telnet.test_protocol import DO, ECHO, cmd, connect

LINES = [b"root", b"", b"ls -la", b"exit"]
ENDINGS = [b"\r\n", b"\r\0", b"\r", b"\n"]


@pytest.mark.parametrize("ending", ENDINGS, ids=["crlf", "crnul", "cr", "lf"])
def test_each_line_end_form_split_at_every_position(ending):
    wire = ending.join(LINES) + ending
    expected = b"\n".join(LINES) + b"\n"
    for cut in range(len(wire) + 1):
        c = connect()
        c.feed(wire[:cut])
        first = c.app.data
        # What was sent so far is delivered at once, a trailing CR included.
        assert first == expected[: len(first)]
        assert first.count(b"\n") == wire[:cut].count(ending[:1])
        c.feed(wire[cut:])
        assert c.app.data == expected, cut


def test_cr_ending_a_packet_is_delivered_at_once():
    c = connect()
    c.feed(b"hello\r")
    assert c.app.data == b"hello\n"
    c.feed(b"\n")
    c.feed(b"\r")
    assert c.app.data == b"hello\n\n"
    c.feed(b"\0world")
    assert c.app.data == b"hello\n\nworld"


def test_mixed_line_ends():
    c = connect()
    c.feed(b"a\r\r\nb\n\rc\n\nd\r\0\r\ne")
    assert c.app.data == b"a\n\nb\n\nc\n\nd\n\ne"


def test_other_nul_bytes_are_dropped():
    c = connect()
    c.feed(b"\0ab\0\0c\0")
    assert c.app.data == b"abc"


def test_only_one_byte_after_cr_is_swallowed():
    c = connect()
    c.feed(b"x\r\n\n")
    assert c.app.data == b"x\n\n"


def test_cr_nul_in_line_mode_is_signalled_once():
    c = connect()
    c.feed(b"root\r\0", b"admin\r\0")
    assert c.app.data == b"root\nadmin\n"
    assert c.app.calls("signal") == [("nul-line-end",)]


def test_bare_nul_in_line_mode_is_signalled():
    c = connect()
    c.feed(b"root\0")
    assert c.app.calls("signal") == [("nul-line-end",)]


def test_cr_nul_in_character_mode_is_normal():
    c = connect()
    c.feed(cmd(DO, ECHO), b"r", b"o", b"o", b"t", b"\r\0")
    assert c.app.data == b"root\n"
    assert c.app.calls("signal") == []


def test_crlf_is_not_signalled():
    c = connect()
    c.feed(b"root\r\n")
    assert c.app.calls("signal") == []


def test_signal_comes_after_the_line_it_ends():
    c = connect()
    c.feed(b"hello\r\0")
    assert c.app.events[1:] == [("data", b"hello\n"), ("signal", "nul-line-end")]
