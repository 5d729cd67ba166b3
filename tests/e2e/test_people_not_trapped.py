"""People are never trapped by chatting, and a common user name is refused
with the reason: against the real server, with clients that type like a
person's telnet (character mode, key by key, each key's echo awaited)."""

from __future__ import annotations

import re

import pytest

from tests.e2e.harness import DO, IAC, SB, SE, WILL, WONT, Client, Server

ALICE = "alice-password-1"
CHAT_LINES = ["sh", "enable", "system", "shell", "busybox", "/bin/busybox --help",
              "cat /proc/cpuinfo", "cd /tmp && ls", "chmod 777 run.sh", "rm -rf /tmp/build",
              "echo -e '\\x1b[31mred'", "wget http://192.168.1.10/firmware.bin"]
COMMON_NAMES = ["user", "tech", "service", "default", "daemon", "telnet", "mother"]
# netkit telnet's answers: echo and go-ahead accepted, a real window, no TTYPE.
ANSWERS = bytes((IAC, DO, 1, IAC, DO, 3, IAC, WILL, 31, IAC, SB, 31, 0, 200, 0, 50, IAC, SE,
                 IAC, WONT, 24))


def person(srv: Server, source: str) -> Client:
    c = srv.connect(answer=False, source=source)
    c.expect(b"login: ")
    c.send(ANSWERS)
    return c


def type_keys(c: Client, text: str, enter: bool = True) -> None:
    """Type C{text} a key at a time, each after the echo of the one before."""
    for key in text:
        c.consume()
        c.send(key)
        c.expect(re.escape(key.encode()))
    if enter:
        c.send(b"\r\n")


def as_guest(c: Client) -> None:
    type_keys(c, "x", enter=False)  # a letter typed, then thought better of
    c.consume()
    c.send(b"\x7f")
    c.expect(b"\x08|\x1b\\[")
    c.send(b"\r\n")


@pytest.mark.parametrize("policy", ["ban", "shell"])
def test_tech_chat_is_said_in_the_room_by_guests_newcomers_and_members(tmp_path, policy):
    srv = Server(tmp_path)
    made = srv.admin("user", "add", "alice", stdin=ALICE + "\n")
    assert made.returncode == 0, made.stderr
    srv = Server(tmp_path, "--bot-policy", policy, "--flood-burst", "60").start()
    try:
        guest = person(srv, "127.0.9.1")
        as_guest(guest)
        guest.expect(b"joined lobby")
        assert b"Nickname must" not in guest.text
        carol = person(srv, "127.0.9.2")
        type_keys(carol, "carol")
        carol.expect(b"joined lobby")
        alice = person(srv, "127.0.9.3")
        type_keys(alice, "alice")
        alice.expect(b"Password: ")
        alice.line(ALICE)
        alice.expect(b"joined lobby")
        for c, nick in ((guest, b"guest1"), (carol, b"carol"), (alice, b"alice")):
            for line in CHAT_LINES:
                c.line(line)
                said = re.escape(b"<" + nick + b"> " + line.encode())
                for listener in (guest, carol, alice):
                    listener.expect(said)
        alice.consume()
        alice.line("/who")
        alice.expect(b"3 users online")
        ids = [e["eventid"] for e in srv.events()]
        assert "bbs.bot.detected" not in ids and "bbs.bot.banned" not in ids
        assert "No bans" in srv.admin("ban", "list").stdout
    finally:
        srv.stop()


def test_common_user_names_are_refused_with_the_reason_and_nobody_is_banned(server):
    for n, name in enumerate(COMMON_NAMES, 1):
        c = person(server, f"127.0.10.{n}")
        type_keys(c, name)
        c.expect(re.escape(f"The nickname {name} is a system account name that bots try "
                           "at login, so it cannot be used here.".encode()))
        c.expect(b"login: ")
        c.close()
    ids = [e["eventid"] for e in server.events()]
    assert "bbs.bot.detected" not in ids and "bbs.bot.banned" not in ids
    again = person(server, "127.0.10.1")
    type_keys(again, "dora")
    again.expect(b"joined lobby")
