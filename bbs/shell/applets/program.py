"""What a program of the fake device runs with: its standard streams
(L{Io}), the shell it runs in (L{Shell}, a Protocol, so that no program
imports the shell that runs it), and the exceptions that end a script or
unwind a loop."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

import attrs


if TYPE_CHECKING:
    from bbs.shell.fs import FileSystem
    from bbs.shell.limits import ShellLimits
    from bbs.shell.processors import Arch
    from bbs.shell.sensor import Sensor


class Sink:
    """Where a command's output goes; bounded, so nothing a bot runs can grow
    a buffer without limit."""

    def __init__(self, limit: int, path: str | None = None) -> None:
        self.data = bytearray()
        self.limit = limit
        self.path = path

    def write(self, data: bytes) -> None:
        room = self.limit - len(self.data)
        if room > 0:
            self.data += data[:room]


_NOT_A_BYTE = re.compile("[\ud800-\udc7f\udd00-\udfff]")


def as_bytes(text: str | bytes) -> bytes:
    """Text as the bytes a real shell would hold: the lone surrogates that
    stand for raw bytes become those bytes, any other one becomes U+FFFD."""
    if isinstance(text, bytes):
        return text
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return _NOT_A_BYTE.sub("\ufffd", text).encode("utf-8", "surrogateescape")


class Reader:
    """A command's standard input: read once, shared by the commands of a
    redirected loop, so C{while read i; do ...; done < f} walks the file."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def rest(self) -> bytes:
        """Everything not yet read, consumed."""
        data, self.pos = self.data[self.pos:], len(self.data)
        return data

    def line(self) -> bytes | None:
        """The next line without its newline, or C{None} at the end."""
        if self.pos >= len(self.data):
            return None
        end = self.data.find(b"\n", self.pos)
        if end < 0:
            line, self.pos = self.data[self.pos:], len(self.data)
        else:
            line, self.pos = self.data[self.pos:end], end + 1
        return line


@attrs.frozen
class Io:
    """A command's standard streams.  C{stdout_path} is the file stdout was
    redirected to, if any; C{tty} says stdout is the bot's terminal."""

    source: Reader | None
    stdout: Sink
    stderr: Sink
    stdout_path: str | None = None
    tty: bool = False

    @property
    def stdin(self) -> bytes | None:
        """What is left of standard input (C{None} for the terminal), consumed."""
        return self.source.rest() if self.source is not None else None

    def out(self, data: str | bytes) -> None:
        self.stdout.write(as_bytes(data))

    def err(self, data: str | bytes) -> None:
        self.stderr.write(as_bytes(data))


class ShellExit(Exception):
    """The shell (or the script running) ends with this status."""

    def __init__(self, status: int = 0) -> None:
        super().__init__(status)
        self.status = status


class LoopControl(Exception):
    """C{break N} or C{continue N} unwinding to its loop."""

    def __init__(self, kind: str, levels: int) -> None:
        super().__init__(kind, levels)
        self.kind = kind
        self.levels = levels


class Shell(Protocol):
    """What the applets use of the shell running them (L{bbs.shell.shell.BusyBoxShell}):
    named here, so that the applets do not import the shell that imports them."""

    arch: Arch
    hostname: str
    sensor: Sensor
    limits: ShellLimits
    fs: FileSystem
    cwd: str
    env: dict[str, str]
    args: list[str]
    aliases: dict[str, str]
    traps: dict[str, str]
    readonly: set[str]
    history: list[str]
    umask: int
    ulimits: dict[str, str]
    status: int
    processes: dict[int, tuple[int, str, str]]
    running: dict[int, tuple[int, str, str]]
    pid: int
    current_pid: int
    _last_pid: int
    boot: float

    def now(self) -> float: ...

    def pause(self, seconds: float) -> float: ...

    def path(self, name: str) -> str: ...

    def which(self, name: str) -> str | None: ...

    def resolve(self, name: str) -> tuple[str, str | None]: ...

    def download(self, url: str, outfile: str, protocol: str) -> None: ...

    def run_script(self, data: bytes, io: Io, args: list[str] | None = None) -> int: ...

    def run_string(self, text: str, io: Io) -> int: ...

    def variable(self, name: str) -> str | None: ...

    def set_variable(self, name: str, value: str) -> bool: ...


Handler = Callable[[Shell, Io, list[str]], int]
