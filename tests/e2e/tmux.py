"""A real `telnet` (or `ssh`) client inside `tmux`: type keys, read the screen."""

from __future__ import annotations

import os
import re
import select
import shutil
import subprocess
import time
import uuid

import pytest



def require_tools(*tools: str) -> None:
    missing = [t for t in ("tmux", *tools) if shutil.which(t) is None]
    if missing:
        if os.environ.get("CI"):
            raise AssertionError(f"CI must install {missing} (.ci/run does)")
        pytest.skip(f"needs {' and '.join(missing)} (apt-get install; .ci/run does)")


class TelnetWindow:
    """One tmux server with one window running `telnet 127.0.0.1 PORT`
    (or C{command}: L{ssh_command})."""

    def __init__(self, port: int, width: int = 80, height: int = 24,
                 command: str | None = None) -> None:
        require_tools("telnet" if command is None else command.split()[0])
        self.socket = f"hfnjbbs-{uuid.uuid4().hex[:8]}"
        self.env = dict(os.environ, LANG="C.UTF-8", LC_ALL="C.UTF-8", TERM="xterm-256color")
        self._tmux("new-session", "-d", "-x", str(width), "-y", str(height),
                   command or f"telnet 127.0.0.1 {port}")
        self._tmux("set-option", "-g", "window-size", "manual")
        # A control-mode client reports every change of the pane, so waiting
        # for the screen is waiting for an event, not polling on a timer.
        self._control = subprocess.Popen(
            ["tmux", "-L", self.socket, "-C", "attach"], env=self.env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )

    def _tmux(self, *args: str) -> str:
        out = subprocess.run(["tmux", "-L", self.socket, "-f", "/dev/null", *args],
                             env=self.env, capture_output=True, text=True, timeout=10)
        if out.returncode != 0:
            raise AssertionError(f"tmux {args}: {out.stderr}")
        return out.stdout

    def keys(self, *keys: str) -> None:
        """tmux key names: 'Enter', 'BSpace', 'Left', 'Up', 'C-u', 'Tab', …"""
        self._tmux("send-keys", *keys)

    def type(self, text: str) -> None:
        self._tmux("send-keys", "-l", text)

    def screen(self, joined: bool = False) -> list[str]:
        args = ["capture-pane", "-p"] + (["-J"] if joined else [])
        return [row.rstrip() for row in self._tmux(*args).rstrip("\n").split("\n")]

    def cursor(self) -> tuple[int, int]:
        x, y = self._tmux("display-message", "-p", "#{cursor_x} #{cursor_y}").split()
        return int(x), int(y)

    def wait(self, pattern: str, deadline: float = 10.0) -> list[str]:
        """Wait until the screen shows C{pattern}, re-reading it on each change.

        Rows are compared without trailing blanks, and C{$} matches a row's end.
        """
        rx = re.compile(pattern, re.MULTILINE)
        end = time.monotonic() + deadline
        out = self._control.stdout
        while True:
            rows = self.screen()
            if rx.search("\n".join(rows)):
                return rows
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError(f"screen never showed {pattern!r}:\n" + "\n".join(rows))
            if select.select([out], [], [], left)[0] and not os.read(out.fileno(), 65536):
                raise AssertionError("the tmux control client ended")

    def last_line(self) -> str:
        rows = [r for r in self.screen() if r.strip()]
        return rows[-1] if rows else ""

    def log_in(self, nick: str, password: str | None = None) -> "TelnetWindow":
        """Answer C{login:} (and C{Password:}) and wait for the lobby's prompt."""
        self.wait("login:$")
        self.type(nick)
        self.keys("Enter")
        if password is not None:
            self.wait("Password:$")
            self.type(password)
            self.keys("Enter")
        self.wait(r"\[lobby\]$")
        return self

    def resize(self, width: int, height: int) -> None:
        self._tmux("resize-window", "-x", str(width), "-y", str(height))

    def close(self) -> None:
        self._control.kill()
        self._control.wait()
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], env=self.env,
                       capture_output=True, timeout=10)


def ssh_command(port: int, user: str, key: str | None = None) -> str:
    """OpenSSH's client as a person runs it: a fresh known-hosts file, and
    either one key (C{-i}) or none offered."""
    keys = f"-i {key} -o IdentitiesOnly=yes" if key else "-o PubkeyAuthentication=no"
    return (f"ssh -p {port} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null "
            f"-o LogLevel=ERROR {keys} {user}@127.0.0.1")
