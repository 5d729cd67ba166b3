"""asciicast v2 recordings of bot sessions."""

from __future__ import annotations

import json
from pathlib import Path

from bbs.shell.cast import TRUNCATED, CastRecorder

T0 = 1_795_777_200.25


def read(path: Path) -> tuple[dict, list[list]]:
    lines = path.read_text(encoding="ascii").splitlines()
    header = json.loads(lines[0])
    return header, [json.loads(line) for line in lines[1:]]


def assert_playable(header: dict, events: list[list]) -> None:
    """What asciinema play requires of a v2 file."""
    assert header["version"] == 2
    assert isinstance(header["width"], int) and isinstance(header["height"], int)
    times = [e[0] for e in events]
    assert times == sorted(times) and all(t >= 0 for t in times)
    for event in events:
        assert len(event) == 3 and event[1] in ("o", "i") and isinstance(event[2], str)


def test_header_and_events(tmp_path: Path) -> None:
    path = tmp_path / "casts" / "s1.cast"
    cast = CastRecorder(path, width=100, height=30, started=T0, title="bot 198.51.100.7")
    cast.output(T0 + 0.5, "login: ")
    cast.input(T0 + 1.25, "root\r\n")
    cast.output(T0 + 2, "# ")
    cast.output(T0 + 1.0, "late\r\n")  # a clock step back never reverses the file
    cast.close()
    cast.close()
    header, events = read(path)
    assert header == {"version": 2, "width": 100, "height": 30, "timestamp": 1_795_777_200,
                      "title": "bot 198.51.100.7"}
    assert events == [[0.5, "o", "login: "], [1.25, "i", "root\r\n"], [2.0, "o", "# "],
                      [2.0, "o", "late\r\n"]]
    assert_playable(header, events)
    assert cast.size == path.stat().st_size
    assert cast.closed


def test_binary_and_hostile_text_stays_valid(tmp_path: Path) -> None:
    path = tmp_path / "b.cast"
    cast = CastRecorder(path, width=0, height=-1, started=T0, title="x\ny\udcff")
    cast.output(T0, "\x7fELF\x01\udc94\udc80\x00\x1b[2J\n\"}]")
    cast.close()
    raw = path.read_bytes()
    assert raw.count(b"\n") == 2
    header, events = read(path)
    assert (header["width"], header["height"], header["title"]) == (80, 24, "x\ny\ufffd")
    assert events == [[0.0, "o", "\x7fELF\x01\ufffd\ufffd\x00\x1b[2J\n\"}]"]]


def test_truncation(tmp_path: Path) -> None:
    path = tmp_path / "big.cast"
    cast = CastRecorder(path, width=80, height=24, started=T0, title="t", max_bytes=4096)
    for n in range(200):
        cast.output(T0 + n, "x" * 100)
    cast.input(T0 + 500, "ignored")
    cast.close()
    assert cast.truncated
    assert path.stat().st_size <= 4096
    header, events = read(path)
    assert_playable(header, events)
    assert events[-1][1:] == ["o", TRUNCATED]
    assert all(e[2] == "x" * 100 for e in events[:-1]) and len(events) > 10


def test_sent_bytes_are_recorded_as_the_terminal_gets_them(tmp_path: Path) -> None:
    path = tmp_path / "w.cast"
    cast = CastRecorder(path, width=80, height=24, started=T0, title="t")
    cast.sent(T0, b"ls\nbin\r\n# ")  # application line ends, a CR LF tolerated
    cast.sent(T0 + 1, b"a\rb\xff\n\xc3")  # a bare CR, a stray byte, half of an e-acute
    cast.sent(T0 + 2, b"\xa9\n")
    cast.close()
    _, events = read(path)
    assert events == [[0.0, "o", "ls\r\nbin\r\n# "], [1.0, "o", "a\rb\ufffd\r\n"],
                      [2.0, "o", "\u00e9\r\n"]]
