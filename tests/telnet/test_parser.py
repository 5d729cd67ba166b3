"""TelnetParser alone: bytes in, events out; no transport, no reactor, no clock."""

from __future__ import annotations

import attrs
import pytest
from hypothesis import example, given, settings, strategies as st

from bbs.telnet.environ import Variable
from bbs.telnet.limits import TelnetLimits
from bbs.telnet.parser import TelnetParser
from tests.telnet.test_properties import streams
from tests.telnet.test_protocol import (
    BINARY, DO, DONT, ECHO, IAC, NAWS, OPENING, SB, SGA, TTYPE, TTYPE_SEND, WILL, WONT,
    cmd, naws, sub,
)


@attrs.define
class Recorder:
    """A ParserListener that records every event in order; C{stop_on} stops
    the parser from inside the first event of that kind, as a closing app does."""

    events: list[tuple] = attrs.Factory(list)
    parser: TelnetParser | None = None
    stop_on: str | None = None
    heads: list[bytes] = attrs.Factory(list)

    def _record(self, *event: object) -> None:
        self.events.append(event)
        if event[0] == self.stop_on:
            self.parser.stop()

    def app_data(self, data: bytes) -> None:
        self._record("data", data)

    def reply(self, wire: bytes) -> None:
        self._record("reply", wire)

    def negotiation_started(self) -> None:
        self._record("negotiating")

    def window_changed(self, width: int, height: int) -> None:
        self._record("window", width, height)

    def ttype_received(self, name: str) -> None:
        self._record("ttype", name)

    def echo_changed(self, server_echoes: bool) -> None:
        self._record("echo", server_echoes)

    def environ_received(self, variables: tuple[Variable, ...]) -> None:
        self._record("environ", variables)

    def signalled(self, name: str) -> None:
        self._record("signal", name)

    def are_you_there(self) -> None:
        self._record("ayt")

    def protocol_error(self, detail: str, line: str) -> None:
        self._record("error", detail, line)
        self.parser.stop()  # as the adapter does: it closes

    def foreign_protocol(self, name: str, head: bytes) -> None:
        # (The head, for the log, is what had come when it was told: it
        # depends on how the bytes were cut, so it is not compared.)
        self.heads.append(head)
        self._record("foreign", name)
        self.parser.stop()

    def merged(self) -> list[tuple]:
        """The events with adjacent data joined: how chunks were cut is not an event."""
        merged: list[tuple] = []
        for event in self.events:
            if event[0] == "data" and merged and merged[-1][0] == "data":
                merged[-1] = ("data", merged[-1][1] + event[1])
            else:
                merged.append(event)
        return merged


def parser(limits: TelnetLimits = TelnetLimits(), **kwargs: object) -> tuple[TelnetParser, Recorder]:
    recorder = Recorder(**kwargs)
    recorder.parser = TelnetParser(recorder, limits)
    assert recorder.parser.opening() == OPENING
    return recorder.parser, recorder


def test_the_opening_asks_four_options_and_nothing_is_sent_until_fed():
    p, r = parser()
    assert r.events == []
    assert (p.window, p.terminal_type, p.character_mode, p.binary, p.negotiates) == (
        (80, 24), None, False, False, False)


def test_a_plain_line_is_handed_on_as_it_came_in_one_call():
    p, r = parser()
    p.feed(b"root\r\n", 0.0)  # the first bytes are looked at (a foreign protocol?)
    packet = b"hello world\n"
    p.feed(packet, 0.0)
    assert r.events == [("data", b"root\n"), ("data", packet)]
    assert r.events[1][1] is packet  # not copied


def test_crlf_becomes_lf_and_text_between_iacs_is_taken_whole():
    p, r = parser()
    p.feed(b"alice\r\nhi\r\n" + cmd(DO, ECHO) + b"there\r\n", 0.0)
    assert r.events == [("data", b"alice\nhi\n"), ("negotiating",), ("echo", True),
                        ("data", b"there\n")]


def test_answers_are_handled_in_place_with_their_replies():
    p, r = parser()
    p.feed(cmd(DO, ECHO) + cmd(DO, SGA) + cmd(WILL, NAWS) + cmd(WILL, TTYPE) + cmd(DO, 200), 0.0)
    assert r.events == [("negotiating",), ("echo", True), ("reply", TTYPE_SEND),
                        ("reply", cmd(WONT, 200))]
    assert p.character_mode and p.negotiates


def test_naws_ttype_and_environ_events():
    p, r = parser(TelnetLimits(ttype_max=6))
    p.feed(naws(1000, 0) + sub(TTYPE, 0, b"xterm-256color")
           + sub(39, 0, 0, b"USER", 1, b"-f root"), 0.0)
    assert r.events == [("window", 500, 24), ("ttype", "xterm-"),
                        ("environ", (Variable("USER", "-f root"),))]
    assert p.window == (500, 24) and p.terminal_type == "xterm-"


def test_ayt_is_left_to_the_listener():
    p, r = parser()
    p.feed(b"a" + bytes((IAC, 246)) + b"b", 0.0)
    assert r.events == [("data", b"a"), ("ayt",), ("data", b"b")]


def test_request_echo_replies_through_the_listener():
    p, r = parser()
    p.feed(cmd(DONT, ECHO), 0.0)
    assert p.request_echo(True) is True
    assert p.request_echo(True) is False  # already asking
    assert r.events[-1] == ("reply", cmd(WILL, ECHO))
    assert [e for e in r.events if e[0] == "reply"] == [("reply", cmd(WILL, ECHO))]


@pytest.mark.parametrize("stop_on, after", [
    ("data", b"more\n"),
    ("echo", b"more\n"),
    ("signal", b"more\n"),
])
def test_nothing_is_acted_on_after_the_listener_stops_the_parser(stop_on, after):
    p, r = parser(stop_on=stop_on)
    p.feed(b"quit\r\0" + cmd(DO, ECHO) + after + cmd(DO, BINARY) + bytes((IAC, 246)), 0.0)
    kinds = [e[0] for e in r.events]
    assert kinds[-1] == stop_on
    assert ("reply", cmd(WILL, BINARY)) not in r.events and ("ayt",) not in r.events
    p.feed(b"later\n" + cmd(DO, SGA), 0.0)
    assert [e[0] for e in r.events] == kinds


def test_a_protocol_error_comes_after_the_text_before_it():
    p, r = parser()
    p.feed(b"hello\n" + bytes((IAC, 0x41)) + b"more\n", 0.0)
    assert r.events == [("data", b"hello\n"), ("error", "IAC followed by 65", "protocol error")]


def test_an_oversize_subnegotiation_is_a_protocol_error():
    p, r = parser(TelnetLimits(subnegotiation=8))
    p.feed(bytes((IAC, SB, 99)) + b"x" * 9, 0.0)
    assert r.events == [("error", "subnegotiation over 8 bytes", "subnegotiation too long")]


def test_a_foreign_protocol_is_told_by_its_first_bytes_and_held_until_then():
    p, r = parser()
    p.feed(b"GE", 0.0)
    assert r.events == []
    p.feed(b"T / HTTP/1.1\r\n", 0.0)
    assert r.events == [("foreign", "http")] and r.heads == [b"GET / HTTP/1.1\n"]


def test_held_first_bytes_can_be_taken_when_the_client_leaves():
    p, r = parser()
    p.feed(b"SS", 0.0)
    assert r.events == []
    assert p.held() == b"SS" and p.held() == b""


def test_mirais_answers_within_its_burst_are_signalled():
    answers = (cmd(DO, ECHO) + cmd(DO, SGA) + cmd(WILL, NAWS) + naws(80, 24) + cmd(WONT, TTYPE))
    p, r = parser()
    p.feed(answers[:6], 100.0)
    p.feed(answers[6:], 100.005)
    assert ("signal", "mirai-negotiation") in r.events
    slow, r = parser()
    slow.feed(answers[:6], 100.0)
    slow.feed(answers[6:], 100.5)  # a person's client, answering later
    assert ("signal", "mirai-negotiation") not in r.events


def test_signals_are_told_once_each_and_after_the_text_before_them():
    p, r = parser()
    p.feed(b"root\r\0admin\r\0", 0.0)
    p.signal("no-negotiation")
    p.signal("no-negotiation")
    assert r.events == [("data", b"root\n"), ("signal", "nul-line-end"), ("data", b"admin\n"),
                        ("signal", "no-negotiation")]


# -- one parser: however the bytes are cut, the same events


def run(chunks: list[bytes], limits: TelnetLimits) -> list[tuple]:
    p, r = parser(limits)
    for chunk in chunks:
        p.feed(chunk, 0.0)
    return r.merged()


SMALL = TelnetLimits(subnegotiation=16, negotiations=20, ttype_max=6)


@settings(max_examples=500, deadline=None)
@given(streams, st.lists(st.integers(min_value=0), max_size=8),
       st.sampled_from([TelnetLimits(), SMALL]))
@example(b"\r\xff\xff\n", [], TelnetLimits())  # a CR before an IAC swallows no LF after it
def test_whole_chunked_or_bytewise_the_events_are_the_same(stream, cuts, limits):
    # The plain-text run taken whole (the fast path) and byte by byte (the
    # byte-level states) must agree: this is what holds the one to the other.
    points = sorted({cut % (len(stream) + 1) for cut in cuts})
    chunked = [stream[a:b] for a, b in zip([0, *points], [*points, len(stream)])]
    whole = run([stream], limits)
    assert run(chunked, limits) == whole
    assert run([stream[i:i + 1] for i in range(len(stream))], limits) == whole


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([b"hello", b"\r\n", b"\n", b"\r", b"\0", b"\r\0", b"\xff\xff",
                                 cmd(DO, ECHO), cmd(WONT, TTYPE), b"\xff\xf6", naws(100, 40)]),
                max_size=30).map(b"".join))
def test_line_text_and_answers_cut_anywhere(stream):
    whole = run([stream], TelnetLimits())
    assert run([stream[i:i + 1] for i in range(len(stream))], TelnetLimits()) == whole
    data = b"".join(e[1] for e in whole if e[0] == "data")
    assert b"\r" not in data and b"\0" not in data
