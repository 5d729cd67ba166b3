"""The key decoder: every spelling of a key becomes one Key, junk vanishes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bbs.terminal.keys import Key, KeyDecoder
from bbs.text import printable


def decode(*chunks: bytes, limit: int = 32) -> list:
    decoder = KeyDecoder(limit)
    events: list = []
    for chunk in chunks:
        events.extend(decoder.feed(chunk))
    return events


@pytest.mark.parametrize(
    "data, key",
    [
        (b"\x1b[A", Key.UP),
        (b"\x1bOA", Key.UP),
        (b"\x10", Key.UP),
        (b"\x1b[B", Key.DOWN),
        (b"\x1bOB", Key.DOWN),
        (b"\x0e", Key.DOWN),
        (b"\x1b[C", Key.RIGHT),
        (b"\x1bOC", Key.RIGHT),
        (b"\x06", Key.RIGHT),
        (b"\x1b[D", Key.LEFT),
        (b"\x1bOD", Key.LEFT),
        (b"\x02", Key.LEFT),
        (b"\x1b[H", Key.HOME),
        (b"\x1bOH", Key.HOME),
        (b"\x1b[1~", Key.HOME),
        (b"\x1b[7~", Key.HOME),
        (b"\x01", Key.HOME),
        (b"\x1b[F", Key.END),
        (b"\x1bOF", Key.END),
        (b"\x1b[4~", Key.END),
        (b"\x1b[8~", Key.END),
        (b"\x05", Key.END),
        (b"\x1b[3~", Key.DELETE),
        (b"\x1b[3;5~", Key.DELETE),
        (b"\x7f", Key.BACKSPACE),
        (b"\x08", Key.BACKSPACE),
        (b"\n", Key.ENTER),
        (b"\t", Key.TAB),
        (b"\x03", Key.INTERRUPT),
        (b"\x04", Key.EOF),
        (b"\x0b", Key.KILL_END),
        (b"\x0c", Key.REDRAW),
        (b"\x15", Key.KILL_START),
        (b"\x17", Key.KILL_WORD),
        (b"\x1b\x7f", Key.KILL_WORD),
        (b"\x1bb", Key.WORD_LEFT),
        (b"\x1bf", Key.WORD_RIGHT),
        (b"\x1b[1;5D", Key.WORD_LEFT),
        (b"\x1b[1;3C", Key.WORD_RIGHT),
        (b"\x1bOd", Key.WORD_LEFT),
        (b"\x1bOc", Key.WORD_RIGHT),
    ],
)
def test_known_keys(data: bytes, key: Key) -> None:
    assert decode(b"x" + data + b"y") == ["x", key, "y"]


def test_printable_text_comes_in_runs() -> None:
    assert decode("hé 日本 😀".encode()) == ["hé 日本 😀"]


def test_a_key_split_over_packets_is_one_key() -> None:
    assert decode(b"\x1b", b"[", b"3", b"~") == [Key.DELETE]
    assert decode(*[bytes([b]) for b in "日".encode()]) == ["日"]
    # ASCII first, then a character split over packets, then ASCII again.
    assert decode(b"ab", "é".encode()[:1], "é".encode()[1:] + b"cd", b"e") == ["ab", "écd", "e"]


@pytest.mark.parametrize(
    "data",
    [
        b"\x1b[12;34X",  # CSI with parameters
        b"\x1b[?1;2c",  # a terminal's report
        b"\x1b[200~",  # bracketed paste marker
        b"\x1bOz",  # unknown SS3
        b"\x1bOP",  # F1
        b"\x1b[[A",  # F1 on the Linux console
        b"\x1bx",  # ESC + printable
        "\x1bé".encode(),
        b"\x1b]",
        b"\x00\x1c\x1d\x1e\x1f\x07",  # controls with no meaning
        b"\xff\xfe\xc3",  # not UTF-8
        "\u202e\u200b\ue000".encode(),  # bidi override, zero width space, private use
        "\ufffd".encode(),
    ],
)
def test_unknown_input_is_swallowed_whole(data: bytes) -> None:
    events = decode(b"a" + data + b"b")
    assert all(isinstance(event, str) for event in events)
    assert "".join(events) == "ab"


def test_an_escape_sequence_longer_than_the_limit_is_dropped_whole() -> None:
    assert decode(b"\x1b[" + b"1" * 200 + b"A" + b"z", limit=32) == ["z"]
    # Right at the limit it is still a key; one more and it is gone.
    assert decode(b"\x1b[1;" + b"5" * 27 + b"~z", limit=32) == [Key.HOME, "z"]
    assert decode(b"\x1b[1;" + b"5" * 28 + b"~z", limit=32) == ["z"]


def test_a_control_inside_a_sequence_ends_it_and_still_counts() -> None:
    assert decode(b"\x1b[1\nx") == [Key.ENTER, "x"]
    assert decode(b"\x1b\nx") == [Key.ENTER, "x"]
    assert decode(b"\x1b\x1b[A") == [Key.UP]


def test_printable() -> None:
    assert printable("a") and printable("日") and printable("\u3000") and printable("\xa0")
    assert printable("\U0001fae8")  # newer than this Python's Unicode tables
    for char in "\x1b\x7f\x85\u200b\u202e\ue000\ufffd\u2028":
        assert not printable(char)


@given(st.binary(max_size=200))
def test_nothing_unprintable_ever_comes_out(data: bytes) -> None:
    for event in decode(data, limit=8):
        if isinstance(event, str):
            assert event and all(printable(char) for char in event)
