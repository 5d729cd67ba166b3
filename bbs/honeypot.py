"""A trapped bot's stay in the fake shell.

The bot is let in with any password, given a convincing BusyBox shell, and
everything it types and is sent is logged and recorded as an asciicast.
The files it leaves that it runs, makes executable or names as a download's
target are kept under C{DATA/downloads/} (L{bbs.samples}).  When it leaves,
runs out of commands or time, its address is banned like under the C{ban}
policy (under C{log} the shell only holds the bot, and nobody is banned).
Nothing it types reaches a room or runs for real.

Output is paced like a device behind a slow link: a long answer (C{cat} of
a binary) goes out in chunks a few milliseconds apart, a command that takes
time on the device (C{sleep}, a network time-out) holds what follows it for
that long, and the next prompt and the answers to lines typed meanwhile come
only after.  Bots read it so: Mirai's loader looks for the ELF header in one
read and its end-of-command token in a later one, and stalls if both come at
once.
"""

from __future__ import annotations

import secrets
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from bbs.samples import DOWNLOADS, SampleStore
from bbs.shell.cast import CastRecorder
from bbs.shell.limits import ShellLimits
from bbs.shell.payloads import Payload
from bbs.shell.results import ShellResult
from bbs.shell.shell import BusyBoxShell

if TYPE_CHECKING:
    from bbs.seat import Seat
    from bbs.door import Door
    from bbs.terminal.editor import LineEditor

TIME_LIMIT = 300.0
CASTS = "casts"
LOGIN_PROMPT = "login: "
CHUNK = 4096  # bytes sent at once of a long answer
PACE = 0.004  # seconds between two chunks: about 1 MB/s
SENSOR_FILE = "sensor-id"  # what makes this sensor's fake device its own

# One store per downloads directory, so its count and size are shared by
# every session of the server; one sensor id per data directory.
_STORES: dict[str, SampleStore] = {}
_SENSORS: dict[str, str] = {}


def sample_store(session: Trapped) -> SampleStore:
    directory = session.bbs.config.data / DOWNLOADS
    store = _STORES.get(str(directory))
    if store is None:
        store = _STORES[str(directory)] = SampleStore(directory)
    return store


def sensor_id(data: Path) -> str:
    """The random id kept in the data directory, made at first use.

    The fake device's hostname, build stamp, process ids, uptime and hashes
    follow from it: every sensor tells its own story, and always the same.
    """
    known = _SENSORS.get(str(data))
    if known is None:
        path = data / SENSOR_FILE
        try:
            known = path.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            known = ""
        if not known:
            known = secrets.token_hex(16)
            try:
                path.write_text(known + "\n", encoding="ascii")
            except OSError:
                pass  # the same story for this run, at least
        _SENSORS[str(data)] = known
    return known


class Trapped(Protocol):
    """What the honeypot uses of the session holding the bot (a
    L{bbs.session.Session}): named here, so that the honeypot does not import
    the session that imports it."""

    id: str
    ip: str
    bbs: Seat[Any]
    editor: LineEditor
    door: Door | None
    honeypot: Honeypot | None

    def event(self, eventid: str, message: str, **fields: Any) -> None: ...

    def close(self, reason: str | None) -> None: ...


class Honeypot:
    def __init__(self, session: Trapped, username: str, first_line: str | None = None, *,
                 password: str | None = None, ban: bool = True,
                 command: str | None = None) -> None:
        self.session = session
        # An SSH exec: that command alone is answered, with no banner and no
        # prompt, and then the session ends (as sshd runs one command).
        self.command = command
        session.honeypot = self  # what the session writes from now on is recorded
        self.ban = ban
        bbs = session.bbs
        self.clock = bbs.clock
        self.started = self.clock.seconds()
        self.username = username
        self.shell = BusyBoxShell(arch=bbs.config.shell_arch, hostname=bbs.config.shell_host,
                                  limits=ShellLimits(net_timeout=bbs.config.shell_net_timeout),
                                  clock=bbs.clock, sensor=sensor_id(bbs.config.data))
        self.logged_in = False
        self._ended = False
        self._waiting: deque[str] | None = None  # lines typed while output is paced out
        self._timer = self.clock.callLater(TIME_LIMIT, self.end, "time limit")
        path = bbs.config.data / CASTS / f"{session.id}.cast"
        self.recorder: CastRecorder | None = CastRecorder(
            path, width=session.editor.width, height=session.editor.height,
            started=self.started, title=f"hfnjbbs bot session {session.id} from {session.ip}")
        # The row the bot's terminal shows: the prompt and the name it typed.
        self.recorder.output(self.started, f"{LOGIN_PROMPT}{username}\r\n")
        if password is not None:
            self.line(password)  # typed on the login line, glued to the name
        elif first_line is None:
            session.editor.ask_secret("Password: ")
        else:
            self._open_shell()
            self.line(first_line)

    def line(self, text: str) -> None:
        """A line the bot typed: the password first, then shell commands."""
        now = self.clock.seconds()
        if self.recorder is not None:
            self.recorder.input(now, text + "\r")
            if not self.session.editor.character_mode:
                # A line-mode client's terminal showed what it typed itself.
                self.recorder.output(now, text + "\r\n")
        if not self.logged_in:
            self.session.event(
                "cowrie.login.success",
                f"login attempt [{self.username}/{text}] succeeded",
                username=self.username, password=text,
            )
            if self.command is None:
                self._open_shell()
                self._send(self.shell.banner_after_login().encode("utf-8"))
                return
            self.logged_in = True
            if self.recorder is not None:
                self.recorder.input(now, self.command + "\r")
            self._run(self.command)
            return
        if self._waiting is not None:
            self._waiting.append(text)  # answered once the output before it is out
            return
        self._run(text)

    def _run(self, text: str) -> None:
        result = self.shell.run(text)
        for e in result.events:
            self.session.event(e.eventid, e.message, **e.fields())
        self._keep(result.payloads)
        parts = _parts(result)
        if len(parts) == 1 and parts[0][0] == 0 and len(parts[0][1]) <= CHUNK:
            self._send(parts[0][1])  # the usual answer: short, at once
            self._answered(result.exit)
            return
        self._waiting = deque()
        self.session.editor.set_prompt("")  # the prompt comes after the data
        self.clock.callLater(parts[0][0], self._stream, deque(parts), result.exit)

    def _stream(self, parts: deque[tuple[float, bytes]], exit: bool) -> None:
        """Send the next chunk of a paced answer, and schedule the one after."""
        if self._ended:
            return
        _, data = parts[0]
        chunk, rest = data[:CHUNK], data[CHUNK:]
        self._send(chunk)
        if rest:
            parts[0] = (0.0, rest)
        else:
            parts.popleft()
        if parts:
            self.clock.callLater(parts[0][0] or PACE, self._stream, parts, exit)
            return
        waiting, self._waiting = self._waiting, None
        self._answered(exit)
        editor = self.session.editor
        while waiting and self._waiting is None and not self._ended:
            self._run(waiting.popleft())
            if self._waiting is None and not self._ended:
                editor.prompt_anew()
        if waiting and self._waiting is not None:
            self._waiting.extend(waiting)  # still behind the answer now going out

    def _answered(self, exit: bool) -> None:
        if exit or self.command is not None:
            self.end("exit")
        else:
            self.session.editor.set_prompt(self.shell.prompt)  # "> " inside a script

    def sent(self, data: bytes) -> None:
        """The session wrote C{data} (application bytes) to the bot: the line
        editor's prompt and echo."""
        if self.recorder is not None:
            self.recorder.sent(self.clock.seconds(), data)

    def _open_shell(self) -> None:
        self.logged_in = True
        self.session.editor.set_prompt(self.shell.prompt)

    def _send(self, data: bytes) -> None:
        if not data:
            return
        self.session.door.write(data)
        if self.recorder is not None:
            self.recorder.sent(self.clock.seconds(), data)

    def _keep(self, payloads: tuple[Payload, ...]) -> None:
        """Save each payload and log it in Cowrie's shape: a download's if a
        download named the file, else an upload's (echo, printf, a here-document)."""
        for p in payloads:
            kept = sample_store(self.session).keep(p.sha256, p.data)
            fields: dict[str, Any] = {"shasum": p.sha256, "size": p.size, "destfile": p.path,
                                      "trigger": p.trigger, "duplicate": kept.duplicate}
            if kept.path is not None:
                fields["outfile"] = kept.path
            if p.elf is not None:
                fields.update(elf_class=p.elf.bits, elf_endian=p.elf.endian,
                              elf_machine=p.elf.machine)
            what = f"{p.size} bytes" + (f", ELF {p.elf.bits}-bit {p.elf.endian}-endian "
                                        f"{p.elf.machine}" if p.elf is not None else "")
            where = (f"saved as {kept.path}" if kept.path is not None
                     else f"not saved: {kept.why}")
            if p.url:
                self.session.event("cowrie.session.file_download",
                                   f"Downloaded URL ({p.url}) to {p.path} ({what}) with "
                                   f"SHA-256 {p.sha256}, {where}", url=p.url, **fields)
            else:
                self.session.event("cowrie.session.file_upload",
                                   f"Saved file {p.path} ({what}) with SHA-256 {p.sha256}, "
                                   f"{where}", filename=p.path, **fields)

    def end(self, why: str) -> None:
        """Keep what is left to keep, close the recording, ban the address
        (unless only holding the bot), drop the connection."""
        if self._ended:
            return
        self._ended = True
        if self._timer.active():
            self._timer.cancel()
        s = self.session
        self._keep(self.shell.finish())
        if self.recorder is not None and not self.recorder.closed:
            self.recorder.close()
            duration = round(self.clock.seconds() - self.started, 3)
            s.event("cowrie.log.closed", f"Closing TTY Log: {self.recorder.path} after {duration} s",
                    ttylog=self.recorder.path, size=self.recorder.size, duration=duration)
        if self.ban:
            s.bbs.ban_bot(s, f"bot shell session ended ({why})")
        s.close(None)


def _parts(result: ShellResult) -> list[tuple[float, bytes]]:
    """The answer as (seconds to wait first, bytes) in order: split where the
    device would have been busy (C{sleep}, a time-out)."""
    data = result.data
    parts: list[tuple[float, bytes]] = []
    start, wait = 0, 0.0
    for offset, seconds in result.pauses:
        if offset > start:
            parts.append((wait, data[start:offset]))
            start, wait = offset, 0.0
        wait += seconds
    parts.append((wait, data[start:]))
    return parts
