"""Moderation that cannot be turned against the server: bot ban escalation,
bans that spare the sysop who set them, goodbyes on a line of their own, and
last words saved before the store closes."""

from __future__ import annotations

import time

import pytest

from bbs import effects as fx
from bbs.config import Config
from bbs.server import BBS, BOT_BANNER, STORE_POLL
from bbs.store import BanRecord
from tests.world import InlinePool, World, bot_ban

HOUR = 3600.0


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
    s.door.dataReceived(b"\xff\xfd\x01\xff\xfd\x03")
    s.door_data(b"\n")
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
    bob.door_data(b"half typed")
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


def sysop_among(store, **ips):
    """boss (a sysop, account boss) online with bob, carol and dave at C{ips}."""
    from tests.commands.invoke import at_addresses, ctx

    store.create_account("boss", "h", sysop=True)  # sysop commands read the role from the store

    context = ctx("boss", sysop=True, account="boss", store=store,
                  users=(("boss", "lobby"), ("bob", "lobby"), ("carol", "den"), ("dave", "den")))
    return at_addresses(context, **ips)


def test_a_ban_that_covers_the_sysop_and_others_asks_first(store):
    from tests.commands.invoke import run, text_of

    here = sysop_among(store, boss="127.0.0.1", bob="127.0.0.1", carol="127.0.0.1",
                       dave="127.0.0.1")
    (ask,) = run("/ban carol 2h spam", here)
    assert isinstance(ask, fx.Ask) and not ask.secret
    assert ask.prompt == ("This ban covers 127.0.0.1, your own address, and 2 other people "
                          "online (bob, dave): ban anyway? [y/N] ")
    assert store.list_bans(1000.0) == []
    (no,) = ask.then(here, "")
    assert text_of(no) == "Not banned: carol."
    assert store.list_bans(1000.0) == []
    banned, reply = ask.then(here, "y")
    (record,) = banned.records
    assert (record.target, record.set_by, record.expires) == ("127.0.0.1/32", "boss", 1000.0 + 7200)
    assert text_of(reply) == "Banned 127.0.0.1/32 for 2h: spam"


@pytest.mark.parametrize(("ips", "line", "covers"), [
    (dict(boss="127.0.0.9", bob="127.0.0.2", carol="127.0.0.2", dave="127.0.0.3"),
     "/ban carol", "1 other person online (bob)"),
    (dict(boss="127.0.0.9", bob="127.0.0.2", carol="127.0.0.3", dave="127.0.0.4"),
     "/ban 127.0.0.0/24", "127.0.0.9, your own address, and 3 other people online "
                          "(bob, carol, dave)"),
    (dict(boss="127.0.0.9", bob="127.0.0.2", carol="127.0.0.3", dave="127.0.0.4"),
     "/ban 127.0.0.9", "127.0.0.9, your own address"),
])
def test_what_a_ban_would_cover_besides_its_target(store, ips, line, covers):
    from tests.commands.invoke import run

    (ask,) = run(line, sysop_among(store, **ips))
    assert ask.prompt == f"This ban covers {covers}: ban anyway? [y/N] "


@pytest.mark.parametrize("line", ["/ban carol", "/ban 127.0.0.0/30"])
def test_a_ban_that_covers_only_what_was_named_is_not_asked_about(store, line):
    from tests.commands.invoke import run

    here = sysop_among(store, boss="127.0.0.9", bob="127.0.0.2", carol="127.0.0.3",
                       dave="127.0.0.4")
    banned, _ = run(line, here)
    assert isinstance(banned, fx.Banned)


def test_the_sysop_who_sets_a_ban_on_his_own_address_stays_on():
    w = World()
    boss, bt = w.guest("127.0.0.1")
    boss.sysop, boss.account = True, "boss"
    other_sysop, ot = w.guest("127.0.0.1")
    other_sysop.sysop, other_sysop.account = True, "alice"
    carol, ct = w.guest("127.0.0.1")
    bob, bobt = w.guest("127.0.0.2")
    record = BanRecord(1, "net", "127.0.0.1/32", "spam", "boss", 0.0, None)
    boss.apply([fx.Banned((record,), carol.nick)])
    assert ct.disconnecting and "You are banned: spam" in ct.value().decode()
    assert ot.disconnecting  # a ban another sysop set is a ban
    assert not bt.disconnecting and not bobt.disconnecting
    w.bbs.enforce_bans()  # as when the bans are read back from the store
    assert not bt.disconnecting
    assert "banned" in w.bbs.admit("127.0.0.1")  # but he cannot come back from there


def test_with_a_wider_ipv6_ban_the_whole_network_is_one_repeat_offender(store):
    w = World()
    w.clock.advance(time.time())
    config = Config(ipv6_ban_prefix=64)
    w.bbs = BBS(config, pool=InlinePool(), events=w.events, clock=w.clock, store=store)
    w.bbs.startService()
    assert bot_ban(w, "2001:db8::1") == HOUR
    w.bbs.bans.remove("net", "2001:db8::/64")  # a sysop's /unban
    assert bot_ban(w, "2001:db8::2") == 2 * HOUR
    w.bbs.stopService()
    restarted = BBS(config, pool=InlinePool(), events=w.events, clock=w.clock, store=store)
    w.bbs = restarted
    restarted.startService()
    restarted.bans.remove("net", "2001:db8::/64")
    assert bot_ban(w, "2001:db8::3") == 4 * HOUR
    restarted.stopService()
