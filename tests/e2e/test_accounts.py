"""Accounts, mail and boards survive a SIGKILL of the real server."""

from __future__ import annotations

import signal

from tests.e2e.harness import Server


def test_registered_data_survives_kill_9_and_no_password_is_stored_in_plain(tmp_path):
    srv = Server(tmp_path).start()
    alice = srv.login("alice")
    alice.line("/register")
    alice.expect(b"Password: ")
    alice.line("alice-secret-1")
    alice.expect(b"Password again: ")
    alice.line("alice-secret-1")
    alice.expect(b"Registered alice")
    bob = srv.login("bob")
    bob.line("/register")
    bob.expect(b"Password: ")
    bob.line("bob-secret-22")
    bob.expect(b"Password again: ")
    bob.line("bob-secret-22")
    bob.expect(b"Registered bob")
    bob.line("/quit")
    assert bob.closed()
    alice.line("/mail bob dinner at eight?")
    alice.expect(b"Mail for bob saved")
    alice.line("/post general Hello board")
    alice.expect(b"lone '.'")
    alice.line("first post body")
    alice.line(".")
    alice.expect(rb"Posted as general #1")
    assert srv.stop(signal.SIGKILL) == -signal.SIGKILL

    srv = Server(tmp_path).start()
    try:
        bob = srv.connect()
        bob.expect(b"login: ")
        bob.line("bob")
        bob.expect(b"Password: ")
        bob.line("wrong password")
        bob.expect(b"Login incorrect")
        bob.expect(b"login: ")
        bob.line("bob")
        bob.expect(b"Password: ")
        bob.line("bob-secret-22")
        bob.expect(b"You have 1 new message")
        bob.line("/inbox")
        bob.expect(rb"1\. \[new\] from alice, .*dinner at eight\?")
        bob.line("/read general 1")
        bob.expect(b"first post body")
        bob.line("/seen alice")
        bob.expect(b"alice was last on ")
        guest = srv.login("")
        guest.line("/nick alice")
        guest.expect(b"alice is a registered nickname; /login alice")
    finally:
        srv.stop()
    for path in (tmp_path / "hfnjbbs-data").rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for secret in (b"alice-secret-1", b"bob-secret-22", b"wrong password"):
                assert secret not in data, (path, secret)


def test_room_history_survives_a_restart(tmp_path):
    srv = Server(tmp_path).start()
    alice = srv.login("alice")
    alice.line("/join den")
    alice.expect(b"joined den")
    alice.line("remember this line")
    alice.expect(b"<alice> remember this line")
    alice.line("/part")
    alice.expect(b"joined lobby")
    alice.line("and this lobby line")
    alice.expect(b"<alice> and this lobby line")
    assert srv.stop() == 0
    srv = Server(tmp_path).start()
    try:
        bob = srv.connect()
        bob.expect(b"login: ")
        bob.line("bob")
        bob.expect(b"<alice> and this lobby line")
        bob.line("/join den")
        bob.expect(b"<alice> remember this line")
    finally:
        srv.stop()
