"""Limits, moderation effects and bot traps, on a session driven by task.Clock."""

from __future__ import annotations

import json

import pytest
from twisted.internet.testing import StringTransport

from bbs import effects as fx
from bbs.config import Config
from bbs.events import JsonEventLog
from bbs.server import BBS
from bbs.service import Refusal
from bbs.store import BanRecord
from tests.store.peek import account_keys
from tests.world import InlinePool, World, text


def test_a_burst_of_60_lines_reaches_others_as_far_fewer():
    w = World()
    flooder, ft = w.guest("127.0.0.2")
    _, listener = w.guest("127.0.0.3")
    flooder.door_data(b"".join(b"spam %d\n" % i for i in range(60)))
    heard = text(listener).count("> spam ")
    assert 5 <= heard <= 12
    assert text(ft).count("typing too fast") == 1


def test_persistent_flooders_are_muted_then_kicked():
    w = World()
    flooder, ft = w.guest("127.0.0.2")
    _, listener = w.guest("127.0.0.3")
    for second in range(30):
        if ft.disconnecting:
            break
        flooder.door_data(b"".join(b"spam %d\n" % i for i in range(20)))
        w.clock.advance(1)
    assert "You are muted (flooding)" in text(ft)
    assert ft.disconnecting and "Disconnected for flooding" in text(ft)


def test_sysops_and_trusted_networks_are_exempt_from_the_bucket():
    w = World(trust=("127.0.0.8/32",))
    trusted, _ = w.guest("127.0.0.8")
    sysop, _ = w.guest("127.0.0.9")
    sysop.sysop = True
    _, listener = w.guest("127.0.0.3")
    trusted.door_data(b"".join(b"ok %d\n" % i for i in range(40)))
    sysop.door_data(b"".join(b"op %d\n" % i for i in range(40)))
    w.clock.advance(0)
    assert text(listener).count("> ok ") == 40
    assert text(listener).count("> op ") == 40


def test_only_untrusted_peers_count_against_the_event_log_limit(tmp_path):
    w = World(per_address=100, trust=("127.0.0.8/32",))
    w.bbs.events = log = JsonEventLog(tmp_path, sensor="n", clock=w.clock, rate=3)
    for _ in range(6):
        w.connect("127.0.0.8")
        w.connect("127.0.0.7")
    log.close()
    connects = [json.loads(line)["src_ip"] for line in (tmp_path / "events.json").read_text().splitlines()]
    assert connects.count("127.0.0.8") == 6
    assert connects.count("127.0.0.7") == 3 + 1  # and the summary of what went over


def test_login_and_idle_timeouts_and_keepalive():
    w = World(idle_timeout=600.0, login_timeout=60.0)
    lurker, lt = w.connect("127.0.0.4")
    user, ut = w.guest("127.0.0.5")
    w.clock.advance(61)
    w.bbs.sweep()
    assert lt.disconnecting and "Login timed out" in text(lt)
    assert not ut.disconnecting
    assert b"\xff\xf1" not in ut.value()
    w.clock.advance(600 - 61 - 60)
    w.bbs.sweep()
    assert "idle a long time" in text(ut) and not ut.disconnecting
    assert b"\xff\xf1" in ut.value()  # IAC NOP keepalive after two quiet minutes
    w.clock.advance(61)
    w.bbs.sweep()
    assert ut.disconnecting and "idle for too long" in text(ut)


def test_admission_bans_limits_and_trust():
    w = World(per_address=2, trust=("127.0.0.9/32",))
    w.bbs.bans.add(BanRecord(None, "net", "10.0.0.0/8", "spam", "boss", 0.0, 3600.0))
    refusal = w.bbs.admit("::ffff:10.1.2.3")
    assert "banned" in refusal and "spam" in refusal
    w.clock.advance(3601)
    assert w.bbs.admit("10.1.2.3") is None  # the ban expired by itself
    w.bbs.limiter.release("10.1.2.3")
    assert w.bbs.admit("127.0.0.7") is None
    assert w.bbs.admit("127.0.0.7") is None
    assert w.bbs.admit("127.0.0.7") is not None
    for _ in range(10):
        assert w.bbs.admit("127.0.0.9") is None


def test_the_refusal_is_one_line_before_any_negotiation():
    t = StringTransport()
    Refusal("You are banned: spam (permanent)").makeConnection(t)
    assert t.value() == b"You are banned: spam (permanent)\r\n"
    assert t.disconnecting


def test_kick_mute_wall_and_ban_effects():
    w = World()
    boss, bt = w.guest("127.0.0.2")
    boss.sysop = True
    bob, bobt = w.guest("127.0.0.3")
    carol, ct = w.guest("127.0.0.4")
    boss.apply([fx.Mute(bob.nick, w.clock.seconds() + 600)])
    bob.door_data(b"can anyone hear me\n")
    assert "can anyone hear me" not in text(ct)
    assert "You are muted (by guest1) for 10m" in text(bobt)
    assert "nobody hears you" in text(bobt)
    boss.apply([fx.Wall("maintenance at noon")])
    assert "Announcement from guest1: maintenance at noon" in text(ct)
    boss.apply([fx.Kick(bob.nick, "be nice")])
    assert bobt.disconnecting and "kicked by guest1: be nice" in text(bobt)
    bob.door.connectionLost(None)
    w.clock.advance(0)
    assert "guest2 left (kicked by guest1: be nice)" in text(ct)
    record = BanRecord(1, "net", "127.0.0.4/32", "rude", "guest1", 0.0, None)
    boss.apply([fx.Banned((record,), carol.nick)])
    assert ct.disconnecting and "banned" in text(ct)
    actions = [e["action"] for e in w.events.events if e["eventid"] == "bbs.sysop.action"]
    assert actions == ["mute", "wall", "kick", "ban"]
    w.ids()


def test_a_bot_at_the_login_prompt_is_banned_at_once():
    w = World()
    bot, t = w.connect("203.0.113.5")
    bot.door_data(b"root\r\n")
    assert t.disconnecting
    assert "banned" in w.bbs.admit("203.0.113.5")
    ids = w.ids()
    assert "bbs.bot.detected" in ids and "bbs.bot.banned" in ids
    detected = next(e for e in w.events.events if e["eventid"] == "bbs.bot.detected")
    assert detected["rule"] == "login-root" and detected["input"] == "root"
    assert w.bbs.hub.find("root") is None


@pytest.mark.parametrize("line", [
    "I ran sh in my root shell and it worked",
    "root",  # a nickname-free chat line from a guest is chat, not a login
    "has anyone tried /bin/busybox on a router?",
    "wget is my favourite tool",
])
def test_people_chatting_about_sh_and_root_are_never_caught(line):
    w = World()
    person, t = w.guest("198.51.100.7")
    person.door_data(line.encode() + b"\n")
    assert not t.disconnecting
    assert w.bbs.admit("198.51.100.7") is None
    assert "bbs.bot.detected" not in w.ids()


def test_log_policy_holds_the_bot_in_the_shell_and_bans_nobody():
    w = World(bot_policy="log")
    bot, t = w.connect("203.0.113.6")
    bot.door_data(b"root\r\n")
    assert not t.disconnecting and text(t).endswith("Password: ")
    bot.door_data(b"xc3511\r\nexit\r\n")
    assert t.disconnecting and w.bbs.hub.find("root") is None
    assert "bbs.bot.detected" in w.ids() and "bbs.bot.banned" not in w.ids()
    assert w.bbs.admit("203.0.113.6") is None


def test_failed_logins_are_throttled_then_refused(store):
    from bbs import passwords

    store.create_account("alice", passwords.hash_password("right password"))
    w = World()
    w.bbs.store, w.bbs.registered = store, account_keys(store)
    s, t = w.connect("192.0.2.44")
    for attempt in range(5):
        s.door_data(b"alice\n")
        assert s._ask is not None and s._ask.login == "alice", text(t)
        s.door_data(b"wrong password\n")
        w.clock.advance(60)  # past any growing delay
        assert "Login incorrect" in text(t)
        t.clear()
        s._login_tries = 0
    s.door_data(b"alice\n")
    assert "Too many failed logins as alice from your address; try again in" in text(t)
    failed = [e for e in w.events.events if e["eventid"] == "cowrie.login.failed"]
    assert len(failed) == 5
    assert all("password" not in e for e in failed)
    w.ids()


def test_accounts_added_or_removed_from_outside_are_known_within_one_poll(store):
    from bbs import passwords
    from bbs.server import STORE_POLL

    store.create_account("alice", passwords.hash_password("right password"))
    w = World()
    w.bbs = BBS(Config(), pool=InlinePool(), events=w.events, clock=w.clock, store=store)
    w.bbs.startService()

    addresses = (f"192.0.2.{n}" for n in range(1, 100))

    def at_login(nick: str) -> str:
        s, t = w.connect(next(addresses))
        s.door_data(nick.encode() + b"\n")
        return "asked" if s._ask is not None else "welcomed" if s.room is not None else text(t)

    assert at_login("alice") == "asked"
    assert at_login("carol") == "welcomed"
    store.create_account("Dave", passwords.hash_password("right password"))  # hfnjbbs-admin
    store.delete_account("alice")
    w.clock.advance(STORE_POLL)
    assert at_login("DAVE") == "asked"
    assert at_login("alice") == "welcomed"
    # Registered here: known at once, without waiting for a poll.
    erin, t = w.connect(next(addresses))
    erin.door_data(b"erin\n/register\nlong enough\nlong enough\n")
    assert "Registered erin" in text(t)
    assert at_login("Erin") == "asked"
    w.bbs.stopService()


def test_a_failed_reload_of_bans_is_tried_again_at_the_next_poll(store):
    from bbs.server import STORE_POLL
    from bbs.store import StoreError

    w = World()
    w.bbs = BBS(Config(), pool=InlinePool(), events=w.events, clock=w.clock, store=store)
    w.bbs.startService()
    store.add_ban(BanRecord(None, "net", "192.0.2.0/24", "spam", "op", 0.0, None))  # hfnjbbs-admin
    real = store.ban_changes
    store.ban_changes = lambda since: (_ for _ in ()).throw(StoreError("database is locked"))
    w.clock.advance(STORE_POLL)
    assert w.bbs.admit("192.0.2.9") is None  # not read yet
    store.ban_changes = real
    w.clock.advance(STORE_POLL)
    assert "banned" in w.bbs.admit("192.0.2.9")
    w.bbs.stopService()


def test_the_login_delay_grows_after_the_free_attempts(store):
    from bbs import passwords

    store.create_account("alice", passwords.hash_password("right password"))
    w = World()
    w.bbs.store, w.bbs.registered = store, account_keys(store)
    s, t = w.connect("192.0.2.45")
    for _ in range(4):  # three are free; the fourth starts the delay
        s.door_data(b"alice\nwrong password\n")
        s._login_tries = 0
    t.clear()
    s.door_data(b"alice\nright password\n")
    assert "Welcome" not in text(t)  # the answer waits for the delay
    w.clock.advance(0.9)
    assert "Welcome" not in text(t)
    w.clock.advance(0.2)
    assert "Welcome, alice!" in text(t)


def test_colour_follows_the_terminal_type_and_set_color():
    w = World()
    s, t = w.connect("127.0.0.2")
    # The client agrees to character mode and says it is an xterm.
    s.door.dataReceived(b"\xff\xfd\x01\xff\xfd\x03\xff\xfb\x18")
    s.door.dataReceived(b"\xff\xfa\x18\x00xterm-256color\xff\xf0")
    s.door_data(b"\n")
    t.clear()
    s.door_data(b"hello\n")
    assert b"\x1b[" in t.value() and "hello" in text(t)
    s.apply([fx.SetColour(False)])
    t.clear()
    s.door_data(b"plain now\n")
    assert "<guest1> plain now" in text(t)
    assert b"\x1b[3" not in t.value() and b"\x1b[1m" not in t.value()


def test_stopping_waits_until_every_session_has_ended():
    w = World()
    (a, at), (b, bt) = w.guest("127.0.0.2"), w.guest("127.0.0.3")
    stopped = w.bbs.stopService()
    assert "shutting down" in text(at) and "shutting down" in text(bt)
    fired: list[object] = []
    stopped.addCallback(fired.append)
    a.door.connectionLost(None)
    assert not fired
    b.door.connectionLost(None)
    assert fired
    assert [e["eventid"] for e in w.events.events][-2:] == ["bbs.user.logout", "cowrie.session.closed"]


def test_a_silent_client_counts_toward_a_bot_score_unless_trusted():
    from bbs.telnet.protocol import NEGOTIATION_TIMEOUT

    w = World(trust=("127.0.0.8/32",))
    stranger, _ = w.connect("127.0.0.7")
    friend, _ = w.connect("127.0.0.8")
    w.clock.advance(NEGOTIATION_TIMEOUT)
    assert stranger.score is not None and "no-telnet-reply" in stranger.score.signals
    assert friend.score is None


def test_a_muted_user_reaches_nobody_by_any_command_and_is_told_why():
    w = World()
    boss, _ = w.guest("127.0.0.2")
    boss.sysop = True
    bob, bt = w.guest("127.0.0.3")
    carol, ct = w.guest("127.0.0.4")
    boss.apply([fx.Mute(bob.nick, w.clock.seconds() + 600)])
    ct.clear()
    for line in (b"/nick bobby", b"/join den", b"/topic hello", b"/me waves", b"/away lunch",
                 f"/msg {carol.nick} psst".encode()):
        bt.clear()
        bob.door_data(line + b"\n")
        assert "You are muted for 10m more; nobody hears you." in text(bt), line
    assert text(ct) == ""
    assert bob.nick == "guest2" and bob.room.name == "lobby" and bob.away is None
    # Muted while a command ran: its effect is dropped when it lands.
    bob.apply([fx.ChangeNick("bobby"), fx.SetTopic("x"), fx.Join("den")])
    assert text(ct) == "" and bob.nick == "guest2"
    bob.apply([fx.Quit("so long, suckers")])
    bob.door.connectionLost(None)
    w.clock.advance(0)
    assert "guest2 left\r\n" in text(ct) and "suckers" not in text(ct)


def test_nick_changes_and_room_moves_are_paced_for_everyone_but_sysops():
    w = World()
    bob, bt = w.guest("127.0.0.3")
    _, ct = w.guest("127.0.0.4")
    for n in range(3):
        bob.door_data(b"/nick bob%d\n" % n)
    assert bob.nick == "bob2"
    bob.door_data(b"/nick bob3\n")
    assert bob.nick == "bob2"
    assert "You are changing your nickname too often; try again in 10s." in text(bt)
    w.clock.advance(10)
    bob.door_data(b"/nick bob3\n")
    assert bob.nick == "bob3"
    w.clock.advance(0)
    assert text(ct).count("is now known as") == 4
    for room in ("a1", "a2", "a3", "a4", "a5", "a6"):
        bob.door_data(b"/join " + room.encode() + b"\n")
    assert bob.room.name == "a5"
    assert "You are moving between rooms too often; try again in 5s." in text(bt)
    boss, _ = w.guest("127.0.0.2")
    boss.sysop = True
    for n in range(10):
        boss.door_data(b"/nick boss%d\n" % n)
    assert boss.nick == "boss9"


def test_rooms_are_capped_with_a_reason():
    w = World(max_rooms=3, trust=("127.0.0.0/8",))  # trusted: no pacing, only the cap
    a, at = w.guest("127.0.0.2")
    b, _ = w.guest("127.0.0.3")
    a.door_data(b"/join one\n")
    b.door_data(b"/join two\n")
    a.door_data(b"/join three\n")  # 'one' empties and goes: three rooms open
    assert a.room.name == "three"
    c, ct = w.guest("127.0.0.4")
    c.door_data(b"/join four\n")
    assert c.room.name == "lobby"
    assert "3 rooms are open, as many as this server holds; join one of them" in text(ct)
    c.door_data(b"/join two\n")
    assert c.room.name == "two"
