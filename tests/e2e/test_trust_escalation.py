"""A bot that keeps coming back is banned for longer each time, also across a restart."""

from __future__ import annotations

import re

from tests.e2e.harness import Server

BOT = "127.0.4.7"
HOUR = 3600.0


def trap(srv: Server) -> float:
    """A bot answers login: with root, is cut off, and its ban is saved: its length."""
    bot = srv.connect(answer=False, source=BOT)
    bot.expect(b"login: ")
    bot.line("root")
    assert bot.closed()
    srv.wait_for_log("Bans updated")  # our own ban, read back from the store
    banned = [e for e in srv.events() if e["eventid"] == "bbs.bot.banned"]
    return banned[-1]["duration"]


def lift(srv: Server) -> None:
    """The sysop lifts the bot's ban from the shell; the server takes it up."""
    done = srv.admin("ban", "del", BOT)
    assert done.returncode == 0, done.stderr
    srv.wait_for_log("Bans updated")
    again = srv.connect(answer=False, source=BOT)
    again.expect(b"login: ")
    again.close()


def test_repeat_offences_double_also_when_lifted_and_after_a_restart(tmp_path):
    srv = Server(tmp_path).start()
    try:
        assert trap(srv) == HOUR
        lift(srv)
        assert trap(srv) == 2 * HOUR
        lift(srv)
        assert trap(srv) == 4 * HOUR
    finally:
        assert srv.stop() == 0
    srv = Server(tmp_path).start()
    try:
        lift(srv)
        assert trap(srv) == 8 * HOUR
        listed = srv.admin("ban", "list")
        assert re.search(r"127\.0\.4\.7/32\s+(8h|7h 5\dm) left\s+by traps", listed.stdout)
    finally:
        srv.stop()
