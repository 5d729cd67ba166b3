"""Powers end when revoked, muted means silent, and a newcomer's post stays
on screen: against the real server, with real clients."""

from __future__ import annotations

import pytest

from tests.e2e.harness import Server
from tests.e2e.tmux import TelnetWindow

BOSS = "boss-password-1"
ALICE = "alice-password-1"


@pytest.fixture
def srv(tmp_path):
    server = Server(tmp_path)
    for name, password, *sysop in (("boss", BOSS, "--sysop"), ("alice", ALICE)):
        made = server.admin("user", "add", name, *sysop, stdin=password + "\n")
        assert made.returncode == 0, made.stderr
    server.start()
    yield server
    server.stop()


def test_a_post_body_stays_on_screen_as_it_is_written(srv):
    w = TelnetWindow(srv.port)
    try:
        w.log_in("alice", ALICE)
        w.type("/post general Hello all")
        w.keys("Enter")
        w.wait("^>$")
        w.type("first line of the body")
        w.keys("Enter")
        w.wait(r"^> first line of the body\n>$")
        w.type("and the second")
        w.keys("Enter")
        w.type(".")
        w.keys("Enter")
        rows = w.wait("Posted as general #1")
        text = "\n".join(rows)
        assert "> first line of the body\n> and the second\n" in text
    finally:
        w.close()


def test_a_revoked_or_deleted_sysop_loses_the_powers_in_the_session(srv):
    boss = srv.login("boss", BOSS)
    alice = srv.login("alice", ALICE, source="127.0.0.2")
    boss.line("/wall before")
    alice.expect(b"Announcement from boss: before")
    assert srv.admin("user", "sysop", "boss", "off").returncode == 0
    # At once: the command reads the role as it is now...
    boss.line("/wall after")
    boss.expect(b"Permission denied: /wall is for sysops")
    boss.line("/mute alice")
    boss.expect(b"Permission denied: /mute is for sysops")
    # ...and within seconds the session itself is told.
    boss.expect(b"You are no longer a sysop")
    boss.line("/kick alice")
    boss.expect(b"Permission denied: /kick is for sysops")
    alice.line("/who")
    alice.expect(b"users online")
    assert b"(sysop)" not in alice.consume()
    assert b"Announcement from boss: after" not in alice.raw

    assert srv.admin("user", "sysop", "boss", "on").returncode == 0
    boss.expect(b"You are now a sysop")
    assert srv.admin("user", "del", "boss").returncode == 0
    boss.expect(b"Your account boss has been deleted")
    assert boss.closed()
    alice.expect(b"boss left \\(account deleted\\)")


def test_a_muted_user_reaches_nobody_and_nick_changes_are_paced(srv):
    boss = srv.login("boss", BOSS)
    bob = srv.login("bob", source="127.0.0.3")
    carol = srv.login("carol", source="127.0.0.4")
    boss.line("/mute bob 10m")
    bob.expect(b"You are muted")
    for line in ("/nick bobby", "/topic look at me", "/join den", "/me waves", "/away gone"):
        bob.line(line)
    bob.line("/part")
    bob.line("/quit so long, suckers")
    assert bob.closed()
    assert bob.text.count(b"nobody hears you") == 6
    boss.line("marker")
    carol.expect(b"<boss> marker")
    # Of all bob did, carol saw only that he left: not why, not his last words.
    assert carol.consume() == b"-- bob left\r\n<boss> marker\r\n"

    dave = srv.login("dave", source="127.0.0.5")
    dave.send(b"".join(b"/nick dave%d\r\n" % n for n in range(10)))
    dave.expect(b"changing your nickname too often; try again in")
    boss.line("marker two")
    carol.expect(b"<boss> marker two")
    assert carol.consume().count(b"is now known as") == 3


def test_rooms_are_capped_with_a_reason(tmp_path):
    srv = Server(tmp_path, "--max-rooms", "2").start()
    try:
        alice = srv.login("alice")
        alice.line("/join den")
        alice.expect(b"joined den")
        bob = srv.login("bob", source="127.0.0.3")
        bob.line("/join attic")
        bob.expect(b"2 rooms are open, as many as this server holds; join one of them")
        bob.line("/join den")
        bob.expect(b"bob joined den")
    finally:
        srv.stop()
