"""SSH bots against the real twistd, scripted with asyncssh as botnets' SSH
clients are: the same traps, fake shell and bans as behind telnet."""

from __future__ import annotations

import asyncio
import json
import re
import warnings

import pytest

from tests.e2e.harness import Server

asyncssh = pytest.importorskip("asyncssh")
warnings.filterwarnings("ignore", module="asyncssh")

RECON = "uname -a; cat /proc/cpuinfo | grep name | head -1; echo done"


def _ssh(port: int, source: str, **options):
    return asyncssh.connect("127.0.0.1", port, username="root", password="xc3511",
                            known_hosts=None, local_addr=(source, 0), **options)


async def _exec(port: int, source: str, command: str) -> tuple[int | None, str]:
    async with _ssh(port, source) as conn:
        done = await conn.run(command, check=False, timeout=20)
        return done.exit_status, done.stdout


async def _interactive(port: int, source: str, lines: list[str], until: str) -> str:
    async with _ssh(port, source) as conn:
        proc = await conn.create_process(term_type="xterm", term_size=(80, 24))
        seen = ""
        for line in lines:
            proc.stdin.write(line + "\n")
        while until not in seen:
            seen += await asyncio.wait_for(proc.stdout.read(4096), 20)
        proc.stdin.write("exit\n")
        return seen


def _telnet_answer(srv: Server, source: str, command: str) -> str:
    """What the telnet door's fake shell answers to C{command}, for root/xc3511."""
    c = srv.connect(answer=False, source=source)
    c.expect(b"login: ")
    c.line("root")
    c.expect(b"Password: ")
    c.line("xc3511")
    c.expect(rb"# $")
    c.consume()
    c.line(command)
    return c.expect(rb"done\r\n").decode("utf-8", "replace")


@pytest.fixture
def shell(tmp_path):
    srv = Server(tmp_path, "--ssh", "tcp:0:interface=127.0.0.1", "--bot-policy", "shell").start()
    yield srv
    srv.stop()


def test_an_ssh_bot_is_kept_in_the_fake_shell_recorded_and_banned_from_both_doors(shell):
    status, answer = asyncio.run(_exec(shell.ssh_port, "127.0.0.41", RECON))
    assert status == 0 and "done" in answer
    # The same answer, line for line, as the telnet door's shell gives.
    by_telnet = _telnet_answer(shell, "127.0.0.42", RECON)
    assert answer.replace("\r", "").splitlines() == \
        by_telnet.replace("\r", "").removesuffix("# ").splitlines()  # its next prompt aside
    # A Mirai-style interactive session, from another address.
    seen = asyncio.run(_interactive(shell.ssh_port, "127.0.0.43",
                                    ["enable", "system", "shell", "sh", "/bin/busybox MIRAI"],
                                    "MIRAI: applet not found"))
    assert "MIRAI: applet not found" in seen
    events = shell.events_when(lambda evs: sum(e.get("eventid") == "bbs.bot.banned"
                                               for e in evs) >= 2)
    ssh_sessions = {e["session"] for e in events if e.get("eventid") == "cowrie.session.connect"
                    and e.get("protocol") == "ssh"}
    assert len(ssh_sessions) == 2
    mine = [e for e in events if e.get("session") in ssh_sessions]
    ids = {e["eventid"] for e in mine}
    assert {"cowrie.client.version", "cowrie.client.kex", "cowrie.login.success",
            "cowrie.command.input", "cowrie.session.closed", "bbs.bot.banned"} <= ids
    success = next(e for e in mine if e["eventid"] == "cowrie.login.success")
    assert (success["username"], success["password"]) == ("root", "xc3511")
    inputs = [e["input"] for e in mine
              if e["eventid"] in ("cowrie.command.input", "cowrie.command.failed")]
    assert "/bin/busybox MIRAI" in inputs, inputs
    kex = next(e for e in mine if e["eventid"] == "cowrie.client.kex")
    assert re.fullmatch(r"[0-9a-f]{32}", kex["hassh"])
    for session in ssh_sessions:
        assert (shell.data / "casts" / f"{session}.cast").is_file()
    # Banned for both doors: telnet from the bot's address gets the banned line.
    c = shell.connect(answer=False, source="127.0.0.41")
    c.expect(rb"banned")
    assert c.closed()


def test_under_ban_a_trapped_ssh_login_bans_the_address_at_once(tmp_path):
    srv = Server(tmp_path, "--ssh", "tcp:0:interface=127.0.0.1", "--bot-policy", "ban").start()
    try:
        with pytest.raises((asyncssh.PermissionDenied, asyncssh.DisconnectError)):
            asyncio.run(_exec(srv.ssh_port, "127.0.0.51", "uname -a"))
        with pytest.raises(asyncssh.DisconnectError, match="banned"):
            asyncio.run(_exec(srv.ssh_port, "127.0.0.51", "uname -a"))
        c = srv.connect(answer=False, source="127.0.0.51")
        c.expect(rb"banned")
        failed = [e for e in srv.events() if e.get("eventid") == "cowrie.login.failed"]
        assert any(e.get("username") == "root" and e.get("password") == "xc3511" for e in failed)
    finally:
        srv.stop()
    assert not any("Traceback" in line for line in srv.output)


def test_the_event_log_never_holds_a_persons_password(tmp_path):
    srv = Server(tmp_path, "--ssh", "tcp:0:interface=127.0.0.1")
    srv.admin("user", "add", "dora", stdin="dora-password-1\n")
    srv.start()
    try:
        async def attempts() -> None:
            for password in ("not-doras-1", "dora-password-1"):
                try:
                    async with asyncssh.connect("127.0.0.1", srv.ssh_port, username="dora",
                                                password=password, known_hosts=None,
                                                preferred_auth="password") as conn:
                        proc = await conn.create_process(term_type="xterm")
                        seen = ""
                        while "Welcome, dora!" not in seen:
                            seen += await asyncio.wait_for(proc.stdout.read(4096), 20)
                        proc.stdin.write("/quit\n")
                except asyncssh.PermissionDenied:
                    pass
        asyncio.run(attempts())
    finally:
        srv.stop()
    files = [p for p in srv.data.rglob("*") if p.is_file()]
    for path in files:
        data = path.read_bytes()
        assert b"not-doras-1" not in data and b"dora-password-1" not in data, path
    assert not any("not-doras-1" in line or "dora-password-1" in line for line in srv.output)
    events = [json.loads(line) for line in (srv.data / "events.json").read_text().splitlines()]
    assert any(e["eventid"] == "cowrie.login.failed" and e.get("username") == "dora"
               for e in events)
    assert any(e["eventid"] == "bbs.user.login" and e.get("account") == "dora" for e in events)
