"""A trapped bot's stay under the C{shell} policy.

The bot is let in with any password, given a convincing BusyBox shell, and
everything it types and is sent is logged and recorded as an asciicast.
The files it leaves that it runs, makes executable or names as a download's
target are kept under C{DATA/downloads/} (L{bbs.samples}).  When it leaves,
runs out of commands or time, its address is banned like under the C{ban}
policy.  Nothing it types reaches a room or runs for real.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bbs.samples import DOWNLOADS, SampleStore
from bbs.shell.cast import CastRecorder
from bbs.shell.payloads import Payload
from bbs.shell.shell import BusyBoxShell
from bbs.telnet.protocol import encode

if TYPE_CHECKING:
    from bbs.session import Session

TIME_LIMIT = 300.0
CASTS = "casts"
LOGIN_PROMPT = "login: "

# One store per downloads directory, so its count and size are shared by
# every session of the server.
_STORES: dict[str, SampleStore] = {}


def sample_store(session: "Session") -> SampleStore:
    directory = session.bbs.config.data / DOWNLOADS
    store = _STORES.get(str(directory))
    if store is None:
        store = _STORES[str(directory)] = SampleStore(directory)
    return store


class Honeypot:
    def __init__(self, session: "Session", username: str, first_line: str | None = None) -> None:
        self.session = session
        session.honeypot = self  # what the session writes from now on is recorded
        bbs = session.bbs
        self.clock = bbs.clock
        self.started = self.clock.seconds()
        self.username = username
        self.shell = BusyBoxShell(arch=bbs.config.shell_arch, hostname=bbs.config.shell_host,
                                  clock=bbs.clock)
        self.logged_in = False
        self._ended = False
        self._timer = self.clock.callLater(TIME_LIMIT, self.end, "time limit")
        path = bbs.config.data / CASTS / f"{session.id}.cast"
        self.recorder: CastRecorder | None = CastRecorder(
            path, width=session.editor.width, height=session.editor.height,
            started=self.started, title=f"hfnjbbs bot session {session.id} from {session.ip}")
        if first_line is None:
            # The row the bot's terminal shows: the prompt and the name it typed.
            self.recorder.output(self.started, f"{LOGIN_PROMPT}{username}\r\n")
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
            self._open_shell()
            self._send(self.shell.banner_after_login().encode("utf-8"))
            return
        result = self.shell.run(text)
        for e in result.events:
            self.session.event(e.eventid, e.message, **e.fields())
        if result.data:
            self._send(result.data)
        self._keep(result.payloads)
        if result.exit:
            self.end("exit")

    def sent(self, data: bytes) -> None:
        """The session wrote C{data} (application bytes) to the bot: the line
        editor's prompt and echo."""
        if self.recorder is not None:
            self.recorder.sent(self.clock.seconds(), encode(data))

    def _open_shell(self) -> None:
        self.logged_in = True
        self.session.editor.set_prompt(self.shell.prompt)

    def _send(self, data: bytes) -> None:
        wire = encode(data)
        self.session.telnet.write_wire(wire)
        if self.recorder is not None:
            self.recorder.sent(self.clock.seconds(), wire)

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
        """Keep what is left to keep, close the recording, ban the address,
        drop the connection."""
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
        s.bbs.ban_bot(s, f"bot shell session ended ({why})")
        s.close(None)
