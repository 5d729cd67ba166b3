"""A real telnet in tmux is kicked, banned or shut down: the notice is on a row of its own."""

from __future__ import annotations

import re
import signal

import pytest

from tests.e2e.tmux import TelnetWindow


@pytest.fixture
def carol(boss_server):
    """Carol in a real telnet (character mode), half-way through typing a line."""
    w = TelnetWindow(boss_server.port)
    w._tmux("set-option", "-g", "remain-on-exit", "on")  # the screen stays once telnet exits
    w.log_in("carol")
    w.type("half a thought")
    w.wait(r"\[lobby\] half a thought$")
    yield w
    w.close()


def alone_on_its_row(w: TelnetWindow, notice: str) -> None:
    rows = w.wait(re.escape(notice))
    assert notice in rows, rows  # the whole row, not "[lobby] half a thought<notice>"
    assert not any("[lobby]" in row for row in rows[rows.index(notice):])


def test_kick_tells_the_sysop_and_the_kicked_user_sees_it_on_its_own_line(boss_server, carol):
    boss = boss_server.login("boss", "boss-password-1", source="127.0.0.2")
    boss.line("/kick carol take a break")
    boss.expect(b"Kicked carol: take a break.")
    alone_on_its_row(carol, "You have been kicked by boss: take a break")


def test_a_ban_notice_is_on_its_own_line(boss_server, carol):
    boss = boss_server.login("boss", "boss-password-1", source="127.0.0.2")
    boss.line("/ban carol 1h spam")
    boss.expect(b"Banned 127.0.0.1/32 for 1h: spam")
    rows = carol.wait(r"^You are banned: spam")
    assert not any(re.search(r"\[lobby\].*banned", row) for row in rows), rows


def test_the_shutdown_notice_is_on_its_own_line(boss_server, carol):
    boss_server.proc.send_signal(signal.SIGTERM)
    alone_on_its_row(carol, "The server is shutting down. Goodbye.")
