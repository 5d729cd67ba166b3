"""A trapped bot's stay under the C{shell} policy.

The bot is let in with any password, given a convincing BusyBox shell, and
everything it types and is sent is logged and recorded as an asciicast.
When it leaves, runs out of commands or time, its address is banned like
under the C{ban} policy (under C{log} the shell only holds the bot, and
nobody is banned).  Nothing it types reaches a room or runs for real.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bbs.shell.cast import CastRecorder
from bbs.shell.shell import BusyBoxShell

if TYPE_CHECKING:
    from bbs.session import Session

TIME_LIMIT = 300.0
CASTS = "casts"


class Honeypot:
    def __init__(self, session: "Session", username: str, first_line: str | None = None, *,
                 password: str | None = None, ban: bool = True) -> None:
        self.session = session
        self.ban = ban
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
        now = self.clock.seconds()
        self.recorder.input(now, text + "\r")
        result = self.shell.run(text)
        for e in result.events:
            self.session.event(e.eventid, e.message, **e.fields())
        if result.data:
            self.session.telnet.write(result.data)
            self.recorder.output(now, result.output)
        if result.exit:
            self.end("exit")
        else:
            self.recorder.output(now, self.shell.prompt)

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
