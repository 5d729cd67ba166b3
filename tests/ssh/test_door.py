"""bbs.ssh.door: one SSH connection as a door, over fake conch pieces and a
task.Clock (tests/e2e/test_ssh*.py drive it with real clients)."""

from __future__ import annotations

import pytest
from twisted.conch.error import ConchError
from twisted.internet.defer import succeed
from twisted.internet.task import Clock

from bbs.rates import RateLimit
from bbs.ssh.door import SSHDoor, SSHLimits, to_ssh
from bbs.turns import TurnEnd


class Transport:
    """Our SSHTransport, as far as the door uses it."""

    def __init__(self) -> None:
        self.disconnected: tuple[int, bytes] | None = None
        self.lost = False
        self.ignored = 0
        self.transport = self  # the TCP transport under it
        self.paused = self.resumed = 0

    def sendDisconnect(self, code: int, reason: bytes) -> None:  # noqa: N802
        self.disconnected = (code, reason)

    def loseConnection(self) -> None:  # noqa: N802
        self.lost = True

    def sendIgnore(self, data: bytes) -> None:  # noqa: N802
        self.ignored += 1

    def pauseProducing(self) -> None:  # noqa: N802
        self.paused += 1

    def resumeProducing(self) -> None:  # noqa: N802
        self.resumed += 1

    def abortConnection(self) -> None:  # noqa: N802
        self.lost = True


class App:
    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def door_password(self, user, password):
        self.calls.append(("password", user, password))
        return succeed(user != "nobody")

    def __getattr__(self, name: str):
        if not name.startswith("door_"):
            raise AttributeError(name)
        return lambda *args: self.calls.append((name[5:], *args))


class Channel:
    def __init__(self) -> None:
        self.written = b""
        self.buf = b""
        self.finished = False

    def write(self, data: bytes) -> None:
        self.written += data

    def finish(self) -> None:
        self.finished = True


def make(refusal: str | None = None, limits: SSHLimits = SSHLimits()):
    clock, transport, app = Clock(), Transport(), App()
    door = SSHDoor(transport, admit=lambda ip: refusal, make_app=lambda: app,
                   peer=("192.0.2.5", 4000), host=("127.0.0.1", 2222), clock=clock,
                   turns=TurnEnd(clock), limits=limits,
                   log_limit=RateLimit(clock, 10, 60.0, lambda key, count: None))
    door.connected()
    return clock, transport, app, door


def opened(door: SSHDoor, clock: Clock, command: str | None = None) -> Channel:
    channel = Channel()
    door.channel = channel
    assert door.start(command)
    clock.advance(0)
    return channel


def test_a_refused_client_is_told_why_in_the_disconnect_message_after_its_kexinit():
    clock, transport, app, door = make(refusal="You are banned until tomorrow.")
    assert door.app is None
    door.ssh_kex(None, "", "")
    assert transport.disconnected == (1, b"You are banned until tomorrow.")


def test_the_pty_request_gives_the_terminal_and_a_clamped_window_then_the_shell_starts():
    clock, transport, app, door = make()
    assert door.pty("xterm-256color", 5000, 2)
    assert door.window == (500, 5) and door.character_mode
    channel = opened(door, clock)
    assert ("ttype", "xterm-256color") in app.calls and ("window", 500, 5) in app.calls
    assert app.calls[-2:] == [("echo", True), ("shell",)]
    assert not door.pty("vt100", 80, 24)  # not once the shell has started
    assert channel.written == b""


def test_output_before_the_session_opens_waits_and_then_comes_first():
    clock, transport, app, door = make()
    door.write(b"early\n")
    clock.advance(0)
    channel = opened(door, clock)
    door.write(b"later\n")
    clock.advance(0)
    assert channel.written == b"early\r\nlater\r\n"


def test_a_client_that_never_opens_its_session_cannot_make_us_hold_much():
    clock, transport, app, door = make(limits=SSHLimits(pending_output=1000))
    for _ in range(20):
        door.write(b"x" * 99 + b"\n")
        clock.advance(0)
    assert transport.lost
    door.lost("connection lost")
    assert app.calls[-1] == ("lost", "output queue full")


def test_one_session_channel_and_no_other_kind_and_too_many_asks_end_the_connection():
    clock, transport, app, door = make(limits=SSHLimits(channels=3))
    door.open_channel(b"session", 1000, 1000)
    for kind in (b"session", b"direct-tcpip", b"x11"):
        with pytest.raises(ConchError):
            door.open_channel(kind, 1000, 1000)
    assert transport.disconnected is None
    with pytest.raises(ConchError):
        door.open_channel(b"auth-agent@openssh.com", 1000, 1000)
    assert transport.disconnected == (1, b"too many channel requests")


def test_a_window_change_storm_is_passed_on_as_the_size_it_ends_on():
    clock, transport, app, door = make()
    door.pty("xterm", 80, 24)
    opened(door, clock)
    for cols in range(30, 130):
        door.resized(cols, 40)
    windows = [c for c in app.calls if c[0] == "window"]
    assert len(windows) <= 1 + SSHLimits().window_burst
    clock.advance(10)
    assert [c for c in app.calls if c[0] == "window"][-1] == ("window", 129, 40)


def test_a_command_keeps_its_answer_when_the_client_ends_its_input_at_once():
    clock, transport, app, door = make()
    channel = Channel()
    door.channel = channel
    door.start("uname -a")
    door.ended_input()  # ssh with stdin from /dev/null: EOF before we began
    clock.advance(0)
    assert app.calls[-1] == ("exec", "uname -a")
    assert not channel.finished


def test_the_end_of_a_chat_sessions_input_ends_it_and_closing_sends_the_reason_first():
    clock, transport, app, door = make()
    channel = opened(door, clock)
    door.ended_input()
    assert channel.finished and channel.written == b""
    clock2, transport2, app2, door2 = make()
    channel2 = opened(door2, clock2)
    door2.close("Goodbye.")
    assert channel2.written == b"Goodbye.\r\n" and channel2.finished


def test_closing_before_the_session_opened_is_a_disconnect_with_the_reason():
    clock, transport, app, door = make()
    door.close("Connection closed: that is what bots type here.")
    assert transport.disconnected == (1, b"Connection closed: that is what bots type here.")


def test_typing_is_read_with_line_ends_made_one_newline_and_a_flood_pauses_reading():
    clock, transport, app, door = make(limits=SSHLimits(input_rate=100, input_burst=100))
    door.pty("xterm", 80, 24)
    opened(door, clock)
    door.received("héllo\r".encode())
    assert ("data", "héllo\n".encode()) in app.calls
    door.received(b"y" * 500)
    assert transport.paused == 1 and ("signal", "input-flood") in app.calls
    clock.advance(10)
    assert transport.resumed == 1


def test_the_session_hears_the_clients_version_and_its_password_answers():
    clock, transport, app, door = make()
    door.ssh_version("SSH-2.0-Go")
    assert app.calls[-1][:2] == ("event", "cowrie.client.version")
    assert to_ssh(b"a\nb\r\n") == b"a\r\nb\r\n"
