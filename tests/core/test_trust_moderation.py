"""Moderation that cannot be turned against the server: bot ban escalation,
bans that spare the sysop who set them, goodbyes on a line of their own, and
last words saved before the store closes."""

from __future__ import annotations

import time

import pytest

from bbs import effects as fx
from bbs.service import BBS, BOT_BANNER, STORE_POLL, Config
from bbs.store import BanRecord
from tests.core.test_defences import InlinePool, World

HOUR = 3600.0


def bot_ban(w: World, ip: str) -> float:
    """A bot from C{ip} types root at login:; the length of the ban it gets."""
    bot, t = w.connect(ip)
    bot.telnet_data(b"root\r\n")
    assert t.disconnecting
    bot.telnet.connectionLost(None)
    banned = [e for e in w.events.events if e["eventid"] == "bbs.bot.banned"]
    return banned[-1]["duration"]


def test_a_bot_whose_ban_was_lifted_is_banned_twice_as_long_next_time(store):
    w = World()
    w.bbs = BBS(Config(), pool=InlinePool(), events=w.events, clock=w.clock, store=store)
    w.bbs.startService()
    lengths = []
    for _ in range(3):
        lengths.append(bot_ban(w, "203.0.113.9"))
        store.remove_ban("net", "203.0.113.9/32")  # hfnjbbs-admin ban del
        w.clock.advance(STORE_POLL)
        assert w.bbs.admit("203.0.113.9") is None
    assert lengths == [HOUR, 2 * HOUR, 4 * HOUR]
    w.bbs.stopService()


def test_a_bot_serving_a_ban_at_a_restart_is_a_repeat_offender_after_it(store):
    w = World()
    w.clock.advance(time.time())  # the store drops bans that ended by its own clock
    now = w.clock.seconds()
    store.add_ban(BanRecord(None, "net", "203.0.113.9/32", "bot: login-root", BOT_BANNER,
                            now - HOUR, now + 3 * HOUR))  # the third offence, 4h
    store.add_ban(BanRecord(None, "net", "203.0.113.10/32", "spam", "boss",
                            now - HOUR, now + 3 * HOUR))  # a sysop's: not the traps'
    w.bbs = BBS(Config(), pool=InlinePool(), events=w.events, clock=w.clock, store=store)
    w.bbs.startService()
    w.clock.advance(3 * HOUR + 60)
    assert bot_ban(w, "203.0.113.9") == 8 * HOUR
    assert bot_ban(w, "203.0.113.10") == HOUR
    w.bbs.stopService()


def character_mode_guest(w: World, ip: str):
    """A guest whose client let us echo (DO ECHO, DO SUPPRESS-GO-AHEAD)."""
    s, t = w.connect(ip)
    s.telnet.dataReceived(b"\xff\xfd\x01\xff\xfd\x03")
    s.telnet_data(b"\n")
    assert s.room is not None
    t.clear()
    return s, t


@pytest.mark.parametrize(("act", "notice"), [
    (lambda w, boss, bob: boss.apply([fx.Kick(bob.nick, "be nice")]),
     b"You have been kicked by guest1: be nice\r\n"),
    (lambda w, boss, bob: w.bbs.stopService(), b"The server is shutting down. Goodbye.\r\n"),
    (lambda w, boss, bob: (w.clock.advance(2 * 3600), w.bbs.sweep()), b"Disconnected: idle for too long.\r\n"),
])
def test_a_closing_notice_clears_the_prompt_row_first(act, notice):
    w = World()
    boss, _ = w.guest("127.0.0.2")
    boss.sysop = True
    bob, t = character_mode_guest(w, "127.0.0.3")
    bob.telnet_data(b"half typed")
    assert t.value().endswith(b"half typed")
    act(w, boss, bob)
    assert t.disconnecting
    assert t.value().endswith(b"\r\x00\x1b[K" + notice)  # CR is CR NUL on the wire


def test_the_sysop_is_told_the_kick_was_done():
    w = World()
    boss, bt = w.guest("127.0.0.2")
    boss.sysop = True
    bob, _ = w.guest("127.0.0.3")
    boss.apply([fx.Kick(bob.nick, "be nice")])
    assert "Kicked guest2: be nice." in bt.value().decode()
