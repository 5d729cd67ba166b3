"""Start the real `twistd -n hfnjbbs` and talk to it over loopback sockets.

Waiting is always for an event (a log line, bytes on a socket) with a
deadline, never a fixed sleep.
"""

from __future__ import annotations

import os
import re
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
IAC, DONT, DO, WONT, WILL, SB, SE = 255, 254, 253, 252, 251, 250, 240
DEADLINE = 10.0


class Server:
    """A twistd process listening on a free loopback port (telnet), and on
    others for the browser and SSH doors if its C{args} name them (C{--web},
    C{--ssh}): their default ports are not for tests."""

    def __init__(self, workdir: Path, *args: str, wrap: Sequence[str] = ()) -> None:
        self.workdir = workdir
        self.args = args if "--web" in args else (*args, "--web", "none")
        if "--ssh" not in self.args:
            self.args = (*self.args, "--ssh", "none")
        self.web_port = 0
        self.ssh_port = 0
        self.wrap = tuple(wrap)  # a command that runs twistd: nsenter, prlimit
        self.data = workdir / "hfnjbbs-data"
        self.port = 0
        self.proc: subprocess.Popen | None = None
        self.output: list[str] = []
        self._partial = ""

    def start(self) -> "Server":
        env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
        cmd = [
            *self.wrap, sys.executable, "-c", "from twisted.scripts.twistd import run; run()",
            "-n", "--pidfile=", "hfnjbbs",
            "--port", "tcp:0:interface=127.0.0.1", "--data", str(self.data), *self.args,
        ]
        self.proc = subprocess.Popen(
            cmd, cwd=self.workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )
        try:
            line = self.wait_for_log(r"TelnetFactory starting on (\d+)")
            if self._serves("--web"):
                web = next((seen for seen in self.output if "Site starting on" in seen), None) \
                    or self.wait_for_log(r"Site starting on (\d+)")
                self.web_port = int(re.search(r"starting on (\d+)", web).group(1))
            if self._serves("--ssh"):
                ssh = next((seen for seen in self.output if "SSHDoorFactory starting on" in seen),
                           None) or self.wait_for_log(r"SSHDoorFactory starting on (\d+)")
                self.ssh_port = int(re.search(r"starting on (\d+)", ssh).group(1))
        except AssertionError:
            self.stop(signal.SIGKILL)
            raise
        self.port = int(re.search(r"starting on (\d+)", line).group(1))
        return self

    def _serves(self, door: str) -> bool:
        """Whether the args open C{door} (C{--web}, C{--ssh}) on a port."""
        args = list(self.args)
        return any(a == door and v != "none" for a, v in zip(args, args[1:]))

    def wait_for_log(self, pattern: str, deadline: float = 20.0) -> str:
        """Read the server's output until a line matches C{pattern}."""
        assert self.proc is not None and self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        rx = re.compile(pattern)
        end = time.monotonic() + deadline
        while True:
            while "\n" in self._partial:
                line, self._partial = self._partial.split("\n", 1)
                self.output.append(line + "\n")
                if rx.search(line):
                    return line
            left = end - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                break
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            self._partial += chunk.decode("utf-8", "replace")
        raise AssertionError(f"server never logged {pattern!r}:\n" + "".join(self.output))

    def stop(self, sig: int = signal.SIGTERM, deadline: float = 15.0) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rest, _ = self.proc.communicate(timeout=deadline)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rest, _ = self.proc.communicate()
        self.output.append(self._partial + (rest or b"").decode("utf-8", "replace"))
        self._partial = ""
        self.check_events()
        return self.proc.returncode

    def check_events(self) -> None:
        """Every event the server wrote must match the documented schema."""
        from tests.events.schema import validate

        for event in self.events():
            problems = validate(event)
            assert not problems, (event, problems)

    def connect(self, *, answer: bool = True, source: str = "127.0.0.1") -> "Client":
        return Client(self.port, answer=answer, source=source)

    def login(self, nick: str = "", password: str | None = None, *,
              source: str = "127.0.0.1", answer: bool = True) -> "Client":
        """Connect and log in; into the lobby, ready to chat."""
        c = self.connect(source=source, answer=answer)
        c.expect(b"login: ")
        c.line(nick)
        if password is not None:
            c.expect(b"Password: ")
            c.line(password)
        c.expect(b"joined lobby")
        c.consume()
        return c

    def admin(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
        """Run hfnjbbs-admin on this server's data directory."""
        return subprocess.run(
            [sys.executable, "-m", "bbs.admin", "--data", str(self.data), *args],
            input=stdin, capture_output=True, text=True, timeout=60,
            env=dict(os.environ, PYTHONPATH=str(ROOT)),
        )

    def events_when(self, done: Callable[[list[dict]], bool],
                    deadline: float = DEADLINE) -> list[dict]:
        """The event log once C{done(events)} holds.

        The server writes a turn's events as the turn ends, which may be
        after a client has seen its connection close: read the log again
        until they are there (a moment between reads), within C{deadline}.
        """
        end = time.monotonic() + deadline
        while True:
            events = self.events()
            if done(events):
                return events
            left = end - time.monotonic()
            assert left > 0, "the events awaited never came"
            select.select([], [], [], min(left, 0.05))

    def events(self) -> list[dict]:
        import json

        path = self.data / "events.json"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def read_until_closed(sock: socket.socket, take: Callable[[bytes], None],
                      deadline: float = DEADLINE) -> bool:
    """Give C{take} what arrives until the server closes or resets C{sock}:
    whether it did within C{deadline} seconds."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        sock.settimeout(max(0.01, end - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            return False
        except ConnectionResetError:
            return True
        if not chunk:
            return True
        take(chunk)
    return False


class Client:
    """A raw-socket telnet client; with C{answer=False} it never negotiates (like a bot)."""

    def __init__(self, port: int, *, answer: bool, source: str,
                 sock: socket.socket | None = None) -> None:
        # A socket connected elsewhere (IPv6, another namespace) may be given.
        self.sock = sock or socket.create_connection(("127.0.0.1", port), timeout=DEADLINE,
                                                     source_address=(source, 0))
        self.answer = answer
        self.raw = b""
        self.text = b""
        self._sb = False
        self._pending = b""

    def send(self, data: bytes | str) -> None:
        if isinstance(data, str):
            data = data.encode("utf-8")
        self.sock.sendall(data)

    def line(self, text: str) -> None:
        self.send(text.encode("utf-8") + b"\r\n")

    def _feed(self, chunk: bytes) -> None:
        self.raw += chunk
        data = self._pending + chunk
        self._pending = b""
        i = 0
        out = bytearray()
        while i < len(data):
            b = data[i]
            if self._sb:
                if b == IAC and i + 1 < len(data) and data[i + 1] == SE:
                    self._sb = False
                    i += 2
                    continue
                if b == IAC and i + 1 >= len(data):
                    self._pending = data[i:]
                    break
                i += 1
                continue
            if b != IAC:
                out.append(b)
                i += 1
                continue
            if i + 1 >= len(data):
                self._pending = data[i:]
                break
            cmd = data[i + 1]
            if cmd == IAC:
                out.append(IAC)
                i += 2
            elif cmd in (DO, DONT, WILL, WONT):
                if i + 2 >= len(data):
                    self._pending = data[i:]
                    break
                if self.answer and cmd in (DO, WILL):
                    self.send(bytes([IAC, WONT if cmd == DO else DONT, data[i + 2]]))
                i += 3
            elif cmd == SB:
                self._sb = True
                i += 2
            else:
                i += 2
        self.text += bytes(out)

    def expect(self, pattern: str | bytes, deadline: float = DEADLINE) -> bytes:
        """Read until the text (negotiation stripped) matches; return it all."""
        if isinstance(pattern, str):
            pattern = pattern.encode("utf-8")
        rx = re.compile(pattern)
        end = time.monotonic() + deadline
        while not rx.search(self.text):
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError(f"never saw {pattern!r}; got {self.text[-600:]!r}")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            if not chunk:
                raise AssertionError(f"closed before {pattern!r}; got {self.text[-600:]!r}")
            self._feed(chunk)
        return self.text

    def consume(self) -> bytes:
        """Forget what was read so far (so later expects see only new text)."""
        text, self.text = self.text, b""
        return text

    def closed(self, deadline: float = DEADLINE) -> bool:
        """Wait for the server to close the connection."""
        return read_until_closed(self.sock, self._feed, deadline)

    def close(self) -> None:
        self.sock.close()
