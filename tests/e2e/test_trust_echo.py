"""Passwords are not shown by clients in line mode: the server offers to
echo (and echoes nothing) for every secret prompt, then gives the client its
echo back; netcat, which cannot be asked, is told so."""

from __future__ import annotations

import pytest

from tests.e2e.harness import DO, DONT, IAC, WILL, WONT, Client, Server
from tests.e2e.tmux import TelnetWindow

ECHO, SGA = 1, 3
TOLD = b"Your client shows what you type"


@pytest.fixture
def alice_server(tmp_path):
    srv = Server(tmp_path)
    made = srv.admin("user", "add", "alice", stdin="alice-password-1\n")
    assert made.returncode == 0, made.stderr
    yield srv.start()
    srv.stop()


class LineModeClient(Client):
    """Answers like netkit telnet after `mode line`: it refuses our first
    offers, echoes what is typed itself, and stops echoing while the server
    says it will echo.  C{screen} is what its user sees."""

    def __init__(self, port: int, source: str) -> None:
        super().__init__(port, answer=False, source=source)
        self.local_echo = True
        self.screen = b""
        self._refused_echo = False
        self._tail = b""

    def _feed(self, chunk: bytes) -> None:
        data, self._tail = self._tail + chunk, b""
        i = 0
        while i < len(data):
            if data[i] != IAC:
                i += 1
            elif i + 1 >= len(data) or (data[i + 1] >= WILL and i + 2 >= len(data)):
                self._tail = data[i:]
                break
            elif data[i + 1] >= WILL:
                self._negotiate(data[i + 1], data[i + 2])
                i += 3
            else:
                i += 2
        before = len(self.text)
        super()._feed(chunk)
        self.screen += self.text[before:]

    def _negotiate(self, verb: int, option: int) -> None:
        if option == ECHO and verb == WILL:
            if not self._refused_echo:  # the greeting's offer: `mode line` says no
                self._refused_echo = True
                self.send(bytes((IAC, DONT, ECHO)))
            else:
                self.local_echo = False
                self.send(bytes((IAC, DO, ECHO)))
        elif option == ECHO and verb == WONT:
            self.local_echo = True
            self.send(bytes((IAC, DONT, ECHO)))
        elif verb == WILL:
            self.send(bytes((IAC, DONT, option)))
        elif verb == DO:
            self.send(bytes((IAC, WONT, option)))

    def type_line(self, text: str) -> None:
        """The user types a line: the client shows it if it echoes, then sends it."""
        if self.local_echo:
            self.screen += text.encode() + b"\r\n"
        self.line(text)


def test_a_line_mode_client_never_shows_a_password(alice_server):
    c = LineModeClient(alice_server.port, "127.0.0.2")
    c.expect(b"login: ")
    c.type_line("alice")
    c.expect(b"Password: ")
    assert not c.local_echo
    c.type_line("alice-password-1")
    c.expect(b"joined lobby")
    c.line("/password")
    for prompt, typed in ((b"Old password: ", "alice-password-1"),
                          (b"New password: ", "alice-password-2"),
                          (b"New password again: ", "alice-password-2")):
        c.expect(prompt)
        assert not c.local_echo
        c.type_line(typed)
    c.expect(b"Your password has been changed.")
    c.type_line("hello after the secrets")
    c.expect(rb"<alice> hello after the secrets")
    assert c.local_echo
    assert b"alice-password" not in c.screen and b"alice-password" not in c.raw
    assert b"\x1b" not in c.raw and b"[lobby]" not in c.text  # still served in line mode
    assert c.screen.count(b"hello after the secrets") == 2  # its own echo, and the room's line


def test_netcat_is_told_its_client_shows_passwords(alice_server):
    nc = alice_server.connect(answer=False, source="127.0.0.3")
    nc.expect(b"login: ")
    nc.consume()
    nc.line("alice")
    nc.expect(b"Password: ")
    told = nc.text
    assert TOLD in told and told.index(TOLD) < told.index(b"Password: ")
    assert bytes((IAC, WILL, ECHO)) not in nc.raw[-len(told) - 20:]
    nc.line("wrong-password")
    nc.expect(b"Login incorrect")
    nc.line("alice")
    nc.expect(b"Password: ")
    assert nc.text.count(TOLD) == 1


def test_real_telnet_in_line_mode_hides_every_password(alice_server):
    w = TelnetWindow(alice_server.port, 80, 40)
    try:
        w.wait("login:$")
        w.keys("C-]")
        w.wait("telnet>")
        w.type("mode line")
        w.keys("Enter")
        w.type("alice")
        w.keys("Enter")
        w.wait("Password:")
        w.type("alice-password-1")
        w.keys("Enter")
        w.wait("joined lobby")
        w.type("/password")
        w.keys("Enter")
        for prompt, typed in (("Old password:", "alice-password-1"),
                              ("New password:", "alice-password-2"),
                              ("New password again:", "alice-password-2")):
            w.wait(prompt + "$")
            w.type(typed)
            w.keys("Enter")
        w.wait("Your password has been changed.")
        w.type("typed after")
        rows = w.wait("^typed after$")  # the client echoes again, by itself
        assert not any("alice-password" in row for row in rows), rows
        assert not any("[lobby]" in row for row in rows), rows  # still line mode
    finally:
        w.close()
