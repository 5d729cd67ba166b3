"""A trapped bot's stay under the C{shell} policy.

The bot is let in with any password, given a convincing BusyBox shell, and
everything it types and is sent is logged and recorded as an asciicast.
When it leaves, runs out of commands or time, its address is banned like
under the C{ban} policy (under C{log} the shell only holds the bot, and
nobody is banned).  Nothing it types reaches a room or runs for real.

Output is paced like a device behind a slow link: a long answer (C{cat} of
a binary) goes out in chunks a few milliseconds apart, and the next prompt
and the answers to lines typed meanwhile only after it.  Bots read it so:
Mirai's loader looks for the ELF header in one read and its end-of-command
token in a later one, and stalls if both come at once.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from bbs.shell.cast import CastRecorder
from bbs.shell.shell import BusyBoxShell

if TYPE_CHECKING:
    from bbs.session import Session

TIME_LIMIT = 300.0
CASTS = "casts"
CHUNK = 4096  # bytes sent at once of a long answer
PACE = 0.004  # seconds between two chunks: about 1 MB/s


class Honeypot:
    def __init__(self, session: "Session", username: str, first_line: str | None = None, *,
                 password: str | None = None, ban: bool = True) -> None:
        self.session = session
        self.ban = ban
        self._waiting: deque[str] | None = None  # lines typed while output is paced out
        bbs = session.bbs
        self.clock = bbs.clock
        self.started = self.clock.seconds()
        self.username = username
        self.shell = BusyBoxShell(arch=bbs.config.shell_arch, hostname=bbs.config.shell_host,
                                  clock=bbs.clock)
        self.recorder: CastRecorder | None = None
        self._ended = False
        self._timer = self.clock.callLater(TIME_LIMIT, self.end, "time limit")
        if password is not None:
            self.line(password)  # typed on the login line, glued to the name
        elif first_line is None:
            session.editor.ask_secret("Password: ")
        else:
            self._open_shell()
            self.line(first_line)

    def line(self, text: str) -> None:
        """A line the bot typed: the password first, then shell commands."""
        if self.recorder is None:
            self.session.event(
                "cowrie.login.success",
                f"login attempt [{self.username}/{text}] succeeded",
                username=self.username, password=text,
            )
            self._open_shell()
            self._send(self.shell.banner_after_login())
            return
        if self._waiting is not None:
            self._waiting.append(text)  # answered once the output before it is out
            return
        now = self.clock.seconds()
        self.recorder.input(now, text + "\r")
        result = self.shell.run(text)
        for e in result.events:
            self.session.event(e.eventid, e.message, **e.fields())
        data = result.data
        if len(data) > CHUNK:
            self._waiting = deque()
            self.session.editor.set_prompt("")  # the prompt comes after the data
            self.clock.callLater(0, self._pace, data, 0, result.exit)
            return
        if data:
            self.session.telnet.write(data)
            self.recorder.output(now, result.output)
        self._answered(result.exit)

    def _pace(self, data: bytes, sent: int, exit: bool) -> None:
        """Send the next chunk of a long answer, and schedule the one after."""
        if self._ended:
            return
        chunk = data[sent:sent + CHUNK]
        self.session.telnet.write(chunk)
        self.recorder.output(self.clock.seconds(), chunk.decode("utf-8", "surrogateescape"))
        sent += len(chunk)
        if sent < len(data):
            self.clock.callLater(PACE, self._pace, data, sent, exit)
            return
        waiting, self._waiting = self._waiting, None
        editor = self.session.editor
        editor.set_prompt(self.shell.prompt)
        self._answered(exit)
        while waiting and self._waiting is None and not self._ended:
            self.line(waiting.popleft())
            if self._waiting is None and not self._ended:
                editor.prompt_anew()
        if waiting and self._waiting is not None:
            self._waiting.extend(waiting)  # still behind the answer now going out

    def _answered(self, exit: bool) -> None:
        if exit:
            self.end("exit")
        else:
            self.recorder.output(self.clock.seconds(), self.shell.prompt)

    def _open_shell(self) -> None:
        s = self.session
        path = s.bbs.config.data / CASTS / f"{s.id}.cast"
        width, height = s.editor.width, s.editor.height
        self.recorder = CastRecorder(path, width=width, height=height, started=self.started,
                                     title=f"hfnjbbs bot session {s.id} from {s.ip}")
        s.editor.set_prompt(self.shell.prompt)

    def _send(self, text: str) -> None:
        self.session.telnet.write(text.encode("utf-8"))
        if self.recorder is not None:
            self.recorder.output(self.clock.seconds(), text)

    def end(self, why: str) -> None:
        """Close the recording, ban the address, drop the connection."""
        if self._ended:
            return
        self._ended = True
        if self._timer.active():
            self._timer.cancel()
        s = self.session
        if self.recorder is not None and not self.recorder.closed:
            self.recorder.close()
            duration = round(self.clock.seconds() - self.started, 3)
            s.event("cowrie.log.closed", f"Closing TTY Log: {self.recorder.path} after {duration} s",
                    ttylog=self.recorder.path, size=self.recorder.size, duration=duration)
        if self.ban:
            s.bbs.ban_bot(s, f"bot shell session ended ({why})")
        s.close(None)
