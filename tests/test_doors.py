"""bbs.doors: what the browser and SSH doors share, on a door of the
smallest kind (it sends to a list) and a task.Clock."""

from __future__ import annotations

from twisted.internet.task import Clock

from bbs.doors import TerminalDoor, TerminalLimits, clamp, crlf, typed
from bbs.rates import RateLimit
from bbs.turns import TurnEnd


LIMITS = TerminalLimits(input_rate=100, input_burst=100, window_rate=1.0, window_burst=2)


class App:
    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def __getattr__(self, name: str):
        return lambda *args: self.calls.append((name[5:], *args))


class ListDoor(TerminalDoor):
    __slots__ = ("app", "limits", "peer", "window", "clock", "_turns", "_batch", "_input",
                 "_unpause", "_windows", "_closing", "_lost", "_reason", "_log_limit",
                 "sent", "read")
    prepare = staticmethod(crlf)

    def __init__(self, clock: Clock) -> None:
        self._start_terminal(clock, TurnEnd(clock), LIMITS,
                             RateLimit(clock, 10, 60.0, lambda key, count: None))
        self.app, self.peer, self.window = App(), ("192.0.2.1", 1), (80, 24)
        self.sent: list[bytes] = []
        self.read: list[bool] = []

    def _deliver(self, wire: bytes) -> None:
        self.sent.append(wire)

    def _reading(self, on: bool) -> None:
        self.read.append(on)


def test_a_turns_writes_go_out_in_one_write_at_its_end():
    clock = Clock()
    door = ListDoor(clock)
    door.write(b"one\n")
    door.write(b"")
    door.write_prepared(b"two\r\n")
    assert door.sent == []
    clock.advance(0)
    assert door.sent == [b"one\r\ntwo\r\n"]


def test_typing_past_the_limit_stops_reading_a_while_and_says_so_once():
    clock = Clock()
    door = ListDoor(clock)
    door._metered(500)
    door._metered(500)
    assert door.read == [False] and door.app.calls == [("signal", "input-flood")]
    clock.advance(60)
    assert door.read == [False, True]


def test_window_sizes_are_paced_and_a_storm_ends_on_its_last():
    clock = Clock()
    door = ListDoor(clock)
    for cols in range(30, 90):
        door._offer_window((cols, 24))
    assert len([c for c in door.app.calls if c[0] == "window"]) <= 2
    clock.advance(30)
    assert door.app.calls[-1] == ("window", 89, 24) and door.window == (89, 24)


def test_the_session_hears_once_why_the_connection_went():
    clock = Clock()
    door = ListDoor(clock)
    door._metered(500)
    door._reason = "output queue full"
    door.lost("connection lost")
    door.lost("connection lost")
    assert door.app.calls[-1] == ("lost", "output queue full")
    assert [c for c in door.app.calls if c[0] == "lost"] == [("lost", "output queue full")]
    clock.advance(60)
    assert door.read == [False]  # its timer went with it
    door.write(b"too late\n")
    clock.advance(0)
    assert door.sent == []


def test_line_ends_and_sizes():
    assert typed(b"a\r\nb\rc\n") == b"a\nb\nc\n"
    assert crlf(b"a\nb\r\n") == b"a\r\nb\r\n"
    assert clamp(5, (20, 500)) == 20 and clamp(900, (20, 500)) == 500
