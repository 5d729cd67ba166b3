"""The telnet layer and the line editor wired together as the session wires them.

Hostile input reaches the editor only through the telnet layer, so the
in-process tests drive both at once over a StringTransport, with time on a
L{twisted.internet.task.Clock}.
"""

from __future__ import annotations

import pyte
from twisted.internet.address import IPv4Address
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransportWithDisconnection

from bbs.telnet.limits import TelnetLimits
from bbs.telnet.protocol import TelnetConnection
from bbs.terminal.editor import EditorLimits, LineEditor
from tests.terminal.owner import Owner

IAC, DONT, DO, WONT, WILL, SB, SE = 255, 254, 253, 252, 251, 250, 240
ECHO, SGA, TTYPE, NAWS, NEW_ENVIRON = 1, 3, 24, 31, 39
NAMES = ("alice", "alfred", "bob", "/help", "/join", "/who")


def cmd(verb: int, option: int) -> bytes:
    return bytes((IAC, verb, option))


def sub(option: int, payload: bytes) -> bytes:
    return bytes((IAC, SB, option)) + payload.replace(b"\xff", b"\xff\xff") + bytes((IAC, SE))


def naws(width: int, height: int) -> bytes:
    return sub(NAWS, width.to_bytes(2, "big") + height.to_bytes(2, "big"))


class Stack:
    """One connection: telnet layer below, line editor above, a prompt of C{"> "}.

    Every finished line is recorded and printed back above the input row, as
    a chat room would; a confirmed Ctrl-D closes the connection.
    """

    def __init__(
        self,
        telnet_limits: TelnetLimits = TelnetLimits(),
        editor_limits: EditorLimits = EditorLimits(),
        peer: str = "192.0.2.7",
        clock: Clock | None = None,
    ) -> None:
        self.clock = clock or Clock()
        self.lines: list[str] = []
        self.events: list[tuple] = []
        self.completions: list[str] = []
        self.editor = LineEditor(
            Owner(self._write, self._line, self._eof, self._complete),
            limits=editor_limits, clock=self.clock,
        )
        self.telnet = TelnetConnection(self, clock=self.clock, limits=telnet_limits)
        self.transport = StringTransportWithDisconnection(
            peerAddress=IPv4Address("TCP", peer, 40000)
        )
        self.transport.protocol = self.telnet
        self.telnet.makeConnection(self.transport)

    # -- TelnetApplication

    def door_connected(self, telnet: TelnetConnection) -> None:
        self.editor.set_prompt("> ")

    def door_data(self, data: bytes) -> None:
        self.editor.feed(data)

    def door_window(self, width: int, height: int) -> None:
        self.events.append(("window", width, height))
        self.editor.set_size(width, height)

    def door_ttype(self, name: str) -> None:
        self.events.append(("ttype", name))

    def door_echo(self, server_echoes: bool) -> None:
        self.events.append(("echo", server_echoes))
        self.editor.character_mode = server_echoes

    def door_signal(self, name: str) -> None:
        self.events.append(("signal", name))

    def door_environ(self, variables: tuple) -> None:
        self.events.append(("environ", variables))

    def door_lost(self, reason: str) -> None:
        self.events.append(("lost", reason))

    # -- the editor's side

    def _write(self, text: str) -> None:
        self.telnet.write(text.encode("utf-8"))

    def _line(self, line: str) -> None:
        self.lines.append(line)
        self.editor.print(f"<me> {line}")

    def _eof(self) -> None:
        self.telnet.close("Goodbye.")

    def _complete(self, before: str) -> list[str]:
        self.completions.append(before)
        word = before.rsplit(" ", 1)[-1]
        return [name for name in NAMES if name.startswith(word)]

    # -- driving it

    def feed(self, *chunks: bytes) -> None:
        for chunk in chunks:
            self.telnet.dataReceived(chunk)

    def wire(self) -> bytes:
        """Everything sent so far (and forget it)."""
        value = self.transport.value()
        self.transport.clear()
        return value

    @property
    def closed(self) -> bool:
        return not self.transport.connected

    def outcome(self) -> tuple:
        """What a user or the session could tell apart: not how it was drawn."""
        editor = self.editor
        return (
            tuple(self.lines), tuple(self.events), editor.buffer, editor.cursor,
            editor.character_mode, editor.width, self.telnet.window,
            self.telnet.terminal_type, self.closed,
        )


class Screen:
    """A client's screen: strips telnet from the wire and plays the rest on pyte."""

    def __init__(self, width: int = 80, height: int = 24) -> None:
        self.screen = pyte.Screen(width, height)
        self.stream = pyte.ByteStream(self.screen)
        self._state = "data"

    def feed(self, wire: bytes) -> None:
        out = bytearray()
        for byte in wire:
            state = self._state
            if state == "data":
                if byte == IAC:
                    self._state = "iac"
                else:
                    out.append(byte)
            elif state == "iac":
                if byte == IAC:
                    out.append(IAC)
                    self._state = "data"
                elif byte in (WILL, WONT, DO, DONT):
                    self._state = "option"
                elif byte == SB:
                    self._state = "sb"
                else:
                    self._state = "data"
            elif state == "option":
                self._state = "data"
            elif state == "sb":
                if byte == IAC:
                    self._state = "sb-iac"
            else:  # sb-iac
                self._state = "data" if byte == SE else "sb"
        self.stream.feed(bytes(out).replace(b"\r\0", b"\r"))

    @property
    def row(self) -> str:
        return self.screen.display[self.screen.cursor.y].rstrip()

    @property
    def x(self) -> int:
        return self.screen.cursor.x
