"""bbs.web.door: one browser's WebSocket as a door, over a fake channel."""

from __future__ import annotations

import json

import pytest
from twisted.internet.task import Clock

from bbs.rates import RateLimit
from bbs.turns import TurnEnd
from autobahn.twisted.websocket import WebSocketServerFactory, WebSocketServerProtocol
from twisted.internet.address import IPv4Address
from twisted.internet.testing import StringTransport

from bbs.web.door import OPEN, WebDoor, WebLimits, to_web

CLOSING = WebSocketServerProtocol.STATE_CLOSING


def messages(wire: bytes) -> list[bytes]:
    """The payloads of the final, unmasked binary frames C{wire} is made of."""
    out = []
    while wire:
        assert wire[0] == 0x82 and not wire[1] & 0x80
        n, at = wire[1], 2
        if n == 126:
            n, at = int.from_bytes(wire[2:4], "big"), 4
        elif n == 127:
            n, at = int.from_bytes(wire[2:10], "big"), 10
        assert len(wire) >= at + n
        out.append(wire[at:at + n])
        wire = wire[at + n:]
    return out


class Transport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.paused = 0
        self.resumed = 0
        self.producer = None

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def getHost(self) -> IPv4Address:  # noqa: N802
        return IPv4Address("TCP", "127.0.0.1", 8080)

    def registerProducer(self, producer, streaming: bool) -> None:  # noqa: N802
        assert self.producer is None, "a producer is registered already"
        self.producer = producer

    def unregisterProducer(self) -> None:  # noqa: N802
        self.producer = None

    def pauseProducing(self) -> None:  # noqa: N802
        self.paused += 1

    def resumeProducing(self) -> None:  # noqa: N802
        self.resumed += 1


class Channel:
    """What the door uses of autobahn's protocol, recorded."""

    def __init__(self) -> None:
        self.transport = Transport()
        self.state = OPEN
        self.closed: tuple[int, str] | None = None
        self.dropped = False
        self.pings = 0

    @property
    def sent(self) -> list[bytes]:
        """What each write carried, its messages joined."""
        return [b"".join(messages(wire)) for wire in self.transport.writes]

    def sendCloseFrame(self, code: int, reasonUtf8: bytes, isReply: bool) -> None:  # noqa: N802, N803
        assert not isReply
        self.closed = (code, reasonUtf8.decode("utf-8"))
        self.state = CLOSING

    def dropConnection(self, abort: bool = False) -> None:  # noqa: N802
        self.dropped = True

    def sendPing(self) -> None:  # noqa: N802
        self.pings += 1


class App:
    """A session, as far as a door sees: every call, in order."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.door: WebDoor | None = None

    def door_connected(self, door) -> None:
        self.door = door
        self.calls.append(("connected",))
        door.write(b"Welcome\nlogin: ")

    def __getattr__(self, name: str):
        if not name.startswith("door_"):
            raise AttributeError(name)
        return lambda *args: self.calls.append((name[5:], *args))


def make(refusal: str | None = None, limits: WebLimits = WebLimits()):
    clock = Clock()
    channel, app = Channel(), App()
    channel.transport.producer = "the web server's, before the upgrade"
    door = WebDoor(channel, admit=lambda ip: refusal, make_app=lambda: app, peer=("192.0.2.9", 5555),
                   clock=clock, turns=TurnEnd(clock), limits=limits,
                   log_limit=RateLimit(clock, 10, 60.0, lambda key, count: None))
    channel.door = door
    return clock, channel, app, door


def test_an_open_websocket_is_a_character_mode_xterm_session_and_a_turn_is_one_message():
    clock, channel, app, door = make()
    door.opened()
    assert app.calls == [("connected",), ("ttype", "xterm-256color"), ("echo", True)]
    assert channel.transport.producer is door
    assert door.host == ("127.0.0.1", 8080)
    assert channel.sent == []  # not before the turn ends
    door.write(b"more\n")
    clock.advance(0)
    assert channel.sent == [b"Welcome\r\nlogin: more\r\n"]
    assert messages(channel.transport.writes[0]) == [b"Welcome\r\nlogin: ", b"more\r\n"]
    assert door.kind == "web" and door.character_mode and door.prepare is to_web


@pytest.mark.parametrize("size", [0, 1, 125, 126, 127, 65535, 65536, 70000])
def test_our_frames_are_the_bytes_autobahn_would_send(size):
    """to_web frames output itself (a fifteenth of sendMessage's cost):
    held here to autobahn's own frames for every length encoding."""
    channel = WebSocketServerProtocol()
    channel.factory = WebSocketServerFactory()
    channel.transport = StringTransport()
    channel._connectionMade()
    channel.state, channel.websocket_version = OPEN, 13
    text = bytes(range(32, 127)) * (size // 95 + 1)
    text = text[:size]
    channel.sendMessage(text, isBinary=True)
    assert to_web(text) == channel.transport.value()
    assert to_web(b"a\nb\r\n") == to_web(b"a\r\nb\r\n") == b"\x82\x06a\r\nb\r\n"


def test_nothing_is_sent_after_the_browser_closed():
    clock, channel, app, door = make()
    door.opened()
    clock.advance(0)
    channel.state = CLOSING  # its close frame came, autobahn answered
    door.write(b"into the void\n")
    clock.advance(0)
    assert channel.sent == [b"Welcome\r\nlogin: "]


def test_typed_bytes_reach_the_session_with_each_line_end_one_newline():
    clock, channel, app, door = make()
    door.opened()
    door.received("héllo\r".encode(), True)
    door.received(b"pasted\r\nlines\r", True)
    assert [c for c in app.calls if c[0] == "data"] == [
        ("data", "héllo\n".encode()), ("data", b"pasted\nlines\n")]


def test_a_resize_is_the_window_clamped_and_a_storm_ends_on_its_last_size():
    clock, channel, app, door = make()
    door.opened()
    door.received(json.dumps({"type": "resize", "cols": 132, "rows": 43}).encode(), False)
    door.received(json.dumps({"type": "resize", "cols": 5000, "rows": 1}).encode(), False)
    assert app.calls[-2:] == [("window", 132, 43), ("window", 500, 5)]
    for cols in range(30, 60):
        door.received(json.dumps({"type": "resize", "cols": cols, "rows": 24}).encode(), False)
    windows = [c for c in app.calls if c[0] == "window"]
    assert len(windows) <= 4
    clock.advance(5)
    assert [c for c in app.calls if c[0] == "window"][-1] == ("window", 59, 24)


@pytest.mark.parametrize("payload", [b"not json", b"[1, 2]", b'{"type": "launch"}'])
def test_a_control_message_we_do_not_know_closes_with_unsupported_data(payload):
    clock, channel, app, door = make()
    door.opened()
    door.received(payload, False)
    assert channel.closed == (1003, "unknown control message")
    door.received(b"typed after\r", True)
    assert ("data", b"typed after\n") not in app.calls
    door.lost("closed (1003)")
    assert app.calls[-1] == ("lost", "unknown control message")


def test_a_refused_browser_gets_its_one_line_and_a_policy_close_and_no_session():
    clock, channel, app, door = make(refusal="You are banned until 2026-12-08 (spam).")
    door.opened()
    assert channel.sent == [b"You are banned until 2026-12-08 (spam).\r\n"]
    assert channel.closed == (1008, "You are banned until 2026-12-08 (spam).")
    assert app.calls == []


def test_closing_says_the_reason_then_closes_and_the_session_hears_why():
    clock, channel, app, door = make()
    door.opened()
    door.write(b"last words\n")
    door.close("Goodbye.")
    assert channel.sent == [b"Welcome\r\nlogin: last words\r\nGoodbye.\r\n"]
    assert channel.closed == (1000, "Goodbye.")
    door.write(b"too late\n")
    clock.advance(0)
    assert len(channel.sent) == 1
    door.lost("closed (1000)")
    assert app.calls[-1] == ("lost", "Goodbye.")


def test_a_browser_that_stops_reading_is_dropped_once_too_much_waits():
    clock, channel, app, door = make(limits=WebLimits(pending_output=1000))
    door.opened()
    clock.advance(0)
    door.pauseProducing()
    for _ in range(20):
        door.write(b"x" * 99 + b"\n")
        clock.advance(0)
    assert channel.dropped
    door.lost("connection lost")
    assert app.calls[-1] == ("lost", "output queue full")


def test_a_browser_sending_too_fast_is_not_read_for_a_while_and_signalled():
    clock, channel, app, door = make(limits=WebLimits(input_rate=100, input_burst=100))
    door.opened()
    door.received(b"y" * 500, True)
    assert channel.transport.paused == 1
    assert ("signal", "input-flood") in app.calls
    clock.advance(10)
    assert channel.transport.resumed == 1
