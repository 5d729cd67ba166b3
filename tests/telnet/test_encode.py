"""to_wire(): application bytes (b"\\n" newlines) to telnet wire bytes."""

from __future__ import annotations

import pytest

from bbs.telnet.protocol import to_wire


@pytest.mark.parametrize(
    "data, wire",
    [
        (b"", b""),
        (b"plain text", b"plain text"),
        (b"line\n", b"line\r\n"),
        (b"\n\n", b"\r\n\r\n"),
        (b"a\xffb", b"a\xff\xffb"),
        (b"\xff\xff", b"\xff\xff\xff\xff"),
        (b"spin\rner", b"spin\r\0ner"),
        (b"end\r", b"end\r\0"),
        (b"tolerated\r\n", b"tolerated\r\n"),
        (b"cr then newline\r\r\n", b"cr then newline\r\0\r\n"),
        (b"\xe2\x82\xac\n", b"\xe2\x82\xac\r\n"),
        (b"\xff\r\n\r", b"\xff\xff\r\n\r\0"),
    ],
)
def test_encode(data, wire):
    assert to_wire(data) == wire


def test_crlf_never_becomes_cr_nul_crlf():
    assert b"\r\0\r\n" not in to_wire(b"one\r\ntwo\r\n")


def test_text_without_specials_is_returned_as_is():
    data = b"nothing to do here"
    assert to_wire(data) is data
