"""Payloads a trapped bot leaves and recordings of what it saw, through the
real twistd under --bot-policy shell: a Mirai echo-load is saved and listed by
hfnjbbs-admin report, and a cast played by the real asciinema in tmux shows
the screen the bot's terminal showed."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import time
import uuid
from pathlib import Path

import pyte
import pytest

from tests.e2e.harness import Client, Server
from tests.events.schema import validate
from tests.shell.dropper import echo_load, elf


class LineModeBot:
    """A raw client that never negotiates, waits for each prompt, and keeps
    what its own terminal would show: what it was sent, and each line it
    typed where it typed it (a line-mode terminal echoes locally)."""

    def __init__(self, srv: Server, source: str) -> None:
        self.c: Client = srv.connect(answer=False, source=source)
        self.screen_bytes = b""
        self.text = b""  # all it was sent, telnet negotiation stripped

    def _catch_up(self) -> None:
        new = self.c.consume()
        self.screen_bytes += new
        self.text += new

    def type(self, line: str, then: bytes = rb"# $") -> None:
        """Type C{line} and wait for C{then} at the end of the answer."""
        self._catch_up()
        self.screen_bytes += line.encode() + b"\r\n"
        self.c.send(line.encode() + b"\r\n")
        self.c.expect(then)

    def login(self) -> None:
        self.c.expect(rb"login: $")
        self.type("root", rb"Password: $")
        self.type("xc3511")

    def leave(self) -> None:
        self._catch_up()
        self.screen_bytes += b"exit\r\n"
        self.c.send(b"exit\r\n")
        assert self.c.closed()
        self._catch_up()


def events(srv: Server, ip: str) -> list[dict]:
    found = srv.events()
    for e in found:
        assert validate(e) == [], e
    return [e for e in found if e.get("src_ip") == ip]


def test_an_echo_loaded_dropper_is_saved_and_reported(tmp_path: Path) -> None:
    srv = Server(tmp_path, "--bot-policy", "shell").start()
    try:
        bot = LineModeBot(srv, "127.0.4.1")
        bot.login()
        dropper = elf(40, size=2048, seed=19)
        bot.type("cd /tmp || cd /var/run || cd /mnt")
        for line in echo_load(dropper, "upnp"):
            bot.type(line)
        bot.leave()
        assert b"Illegal instruction" in bot.text  # an ARM binary, on an ARM device
        digest = hashlib.sha256(dropper).hexdigest()
        (saved,) = [e for e in events(srv, "127.0.4.1")
                    if e["eventid"] == "cowrie.session.file_upload"]
        assert (saved["shasum"], saved["size"]) == (digest, 2048)
        assert (saved["elf_class"], saved["elf_endian"], saved["elf_machine"]) == \
            (32, "little", "ARM")
        assert saved["filename"] == "/tmp/upnp"
        kept = srv.data / "downloads" / digest
        assert saved["outfile"] == str(kept)
        assert kept.read_bytes() == dropper
        assert stat.S_IMODE(kept.stat().st_mode) == 0o600
        assert os.listdir(srv.data / "downloads") == [digest]  # once, complete

        text = srv.admin("report")
        assert text.returncode == 0, text.stderr
        assert "Samples:     1" in text.stdout
        assert f"  {digest}  2048 bytes\n    ELF 32-bit LSB ARM, 1 session from 1 address" \
            in text.stdout
        as_json = srv.admin("report", "--json")
        (sample,) = json.loads(as_json.stdout)["top_samples"]
        assert (sample["sha256"], sample["size"], sample["elf"], sample["names"]) == \
            (digest, 2048, "ELF 32-bit LSB ARM", ["/tmp/upnp"])
    finally:
        srv.stop()


def require_asciinema() -> None:
    missing = [t for t in ("asciinema", "tmux") if shutil.which(t) is None]
    if missing:
        if os.environ.get("CI"):
            raise AssertionError(f"CI must install {missing} (.ci/run does)")
        pytest.skip(f"needs {' and '.join(missing)} (apt-get install asciinema tmux)")


def played(cast: Path, width: int, height: int) -> list[str]:
    """The screen a terminal of C{width}x{height} shows after the real
    asciinema played C{cast} in tmux."""
    socket = f"hfnjbbs-cast-{uuid.uuid4().hex[:8]}"
    env = dict(os.environ, LANG="C.UTF-8", LC_ALL="C.UTF-8", TERM="xterm-256color")

    def tmux(*args: str, timeout: float = 10) -> str:
        out = subprocess.run(["tmux", "-L", socket, "-f", "/dev/null", *args], env=env,
                             capture_output=True, text=True, timeout=timeout)
        assert out.returncode == 0, f"tmux {args}: {out.stderr}"
        return out.stdout

    try:
        # The played cast stays on screen; tmux signals when asciinema is done.
        tmux("new-session", "-d", "-x", str(width), "-y", str(height),
             f"asciinema play -i 0.01 {cast}; tmux -L {socket} wait-for -S played; "
             "sleep 60")
        tmux("wait-for", "played", timeout=30)
        rows = tmux("capture-pane", "-p").rstrip("\n").split("\n")
    finally:
        subprocess.run(["tmux", "-L", socket, "kill-server"], env=env, capture_output=True,
                       timeout=10)
    return [row.rstrip() for row in rows] + [""] * (height - len(rows))


def test_a_played_cast_shows_what_the_bot_saw(tmp_path: Path) -> None:
    require_asciinema()
    srv = Server(tmp_path, "--bot-policy", "shell").start()
    try:
        bot = LineModeBot(srv, "127.0.4.2")
        bot.login()
        for line in ["enable", "system", "shell", "sh", "/bin/busybox MIRAI",
                     "cat /proc/mounts; /bin/busybox ECCHI", "cat /proc/cpuinfo",
                     "echo -e 'tab\\there\\r\\nnext'", "uname -a"]:
            bot.type(line)
        bot.leave()
        (closed,) = [e for e in events(srv, "127.0.4.2") if e["eventid"] == "cowrie.log.closed"]
        cast = Path(closed["ttylog"])
        header = json.loads(cast.read_text().splitlines()[0])
        width, height = header["width"], header["height"]
        live = pyte.Screen(width, height)
        pyte.ByteStream(live).feed(bot.screen_bytes)
        live_rows = [row.rstrip() for row in live.display]
        assert any(row == "# uname -a" for row in live_rows)  # the screen has the commands
        assert played(cast, width, height) == live_rows
    finally:
        srv.stop()


def wait_for_ban(srv: Server, deadline: float = 15.0) -> None:
    """Until a new connection from 127.0.0.1 is refused as banned."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        c = srv.connect(answer=False)
        if c.closed(deadline=1.0):
            assert b"banned" in c.text
            return
        c.close()
    raise AssertionError("the bot's address was never banned")


def test_a_played_cast_shows_what_a_real_telnet_showed(tmp_path: Path) -> None:
    """In character mode the server echoes: the cast holds that echo, so the
    player draws the screen netkit telnet drew."""
    from tests.e2e.tmux import TelnetWindow

    require_asciinema()
    srv = Server(tmp_path, "--bot-policy", "shell").start()
    w = TelnetWindow(srv.port, 80, 24)
    try:
        w.wait(r"login:$")
        w.type("root")
        w.keys("Enter")
        w.wait(r"Password:$")
        w.type("xc3511")
        w.keys("Enter")
        w.wait(r"^#$")
        for command in ["enable", "cat /proc/cpuinfo", "echo -e 'a\\tb'", "uname -a"]:
            w.type(command)
            w.wait(rf"^# {re.escape(command)}$")  # echoed by the server
            w.keys("Enter")
            w.wait(r"^#$(?![\s\S]*\S)")  # the next prompt, on the last row written
        live = w.screen()
    finally:
        w.close()  # the bot leaves: its session ends, its cast is closed, it is banned
    try:
        wait_for_ban(srv)  # banned: its session ended and its cast is complete
        (closed,) = [e for e in srv.events() if e["eventid"] == "cowrie.log.closed"]
        cast = Path(closed["ttylog"])
        assert played(cast, 80, 24) == live + [""] * (24 - len(live))
        assert "# uname -a" in live
    finally:
        srv.stop()
