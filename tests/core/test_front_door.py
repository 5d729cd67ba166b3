"""The front door for bots: glued credentials, common names, chat lines that
look like shell, the log policy's holding shell, and the Mirai handshake."""

from __future__ import annotations

import pytest

from bbs.session import INSTANT
from bbs.states import CHAT, SHELL
from tests.world import World, text

IAC, DO, WILL, WONT, SB, SE = 255, 253, 251, 252, 250, 240
MIRAI_ANSWERS = bytes((IAC, DO, 1, IAC, DO, 3, IAC, WILL, 31, IAC, SB, 31, 0, 80, 0, 24, IAC, SE,
                       IAC, WONT, 24))
NETKIT_ANSWERS = bytes((IAC, DO, 1, IAC, DO, 3, IAC, WILL, 31, IAC, SB, 31, 0, 120, 0, 40, IAC, SE,
                        IAC, WILL, 24))
# Lines of everyday tech chat that the shell traps would take for a bot's.
CHAT_LINES = ["sh", "enable", "system", "shell", "busybox", "/bin/busybox --help",
              "cat /proc/cpuinfo", "cd /tmp && ls", "chmod 777 run.sh", "rm -rf /tmp/build",
              "echo -e '\\x1b[31mred'", "wget http://192.168.1.10/firmware.bin"]
COMMON_NAMES = ["user", "tech", "service", "default", "daemon", "telnet", "mother"]


def person(w: World, ip: str):
    """A telnet client typed on by a person: it negotiates, and its login line
    comes a while after the prompt, key by key."""
    s, t = w.connect(ip)
    s.door.dataReceived(NETKIT_ANSWERS)
    w.clock.advance(1.5)
    return s, t


def type_line(w: World, s, line: str) -> None:
    for key in line:
        s.door_data(key.encode())
        w.clock.advance(0.1)
    s.door_data(b"\r\n")


def failed_logins(w: World) -> list[tuple[str, str]]:
    return [(e["username"], e.get("password")) for e in w.events.events
            if e["eventid"] == "cowrie.login.failed"]


def test_a_glued_user_and_password_is_a_credential_attempt_not_a_nickname():
    w = World()
    bot, t = w.connect("203.0.113.20")
    w.clock.advance(1)
    bot.door_data(b"rootxc3511\r\n")
    assert t.disconnecting and w.bbs.hub.find("rootxc3511") is None
    assert failed_logins(w) == [("root", "xc3511")]
    detected = next(e for e in w.events.events if e["eventid"] == "bbs.bot.detected")
    assert detected["rule"] == "login-glued-credentials"
    assert "banned" in w.bbs.admit("203.0.113.20")
    w.ids()


def test_under_the_shell_policy_a_glued_login_opens_the_shell_as_root():
    w = World(bot_policy="shell")
    bot, t = w.connect("203.0.113.21")
    bot.door_data(b"adminadmin\r\n")
    assert bot.state == SHELL and text(t).endswith("# ")
    success = next(e for e in w.events.events if e["eventid"] == "cowrie.login.success")
    assert (success["username"], success["password"]) == ("admin", "admin")
    w.ids()


@pytest.mark.parametrize("name", COMMON_NAMES)
def test_a_common_user_name_typed_by_a_person_is_refused_with_the_reason(name):
    w = World()
    s, t = person(w, "198.51.100.20")
    type_line(w, s, name)
    assert not t.disconnecting and s.state != CHAT
    assert f"The nickname {name} is a system account name that bots try" in text(t)
    assert w.bbs.admit("198.51.100.20") is None
    assert "bbs.bot.detected" not in w.ids()


def test_a_common_user_name_sent_at_once_by_a_bot_is_trapped():
    w = World()
    bot, t = w.connect("203.0.113.22")
    bot.door_data(b"tech\r\n")  # the whole line, within milliseconds of the prompt
    assert t.disconnecting
    detected = next(e for e in w.events.events if e["eventid"] == "bbs.bot.detected")
    assert detected["rule"] == "login-tech"


def test_a_line_this_soon_but_typed_key_by_key_is_not_instant():
    w = World()
    s, t = w.connect("198.51.100.21")
    s.door.dataReceived(NETKIT_ANSWERS)
    for key in b"tech":
        s.door_data(bytes((key,)))
    w.clock.advance(INSTANT / 2)
    s.door_data(b"\r\n")
    assert not t.disconnecting and "system account name" in text(t)


@pytest.mark.parametrize("line", CHAT_LINES)
def test_people_are_never_trapped_by_chatting(line):
    w = World(bot_policy="shell")
    s, t = person(w, "198.51.100.22")
    type_line(w, s, "")
    assert s.state == CHAT
    t.clear()
    s.door_data(line.encode() + b"\r\n")
    assert s.state == CHAT and s.room is not None and not t.disconnecting
    assert f"<{s.nick}> {line}" in text(t)
    assert "bbs.bot.detected" not in w.ids()


def test_a_chat_line_is_judged_when_the_connection_never_answered_telnet():
    w = World()
    s, t = w.connect("203.0.113.23")
    w.clock.advance(1)
    s.door_data(b"\r\n")  # a guest, typed like a person...
    assert s.state == CHAT
    w.clock.advance(5)  # ...but nothing ever answered our negotiation
    s.door_data(b"cd /tmp && ls\r\n")
    assert t.disconnecting
    said = " ".join(text(t).split())
    assert ("Connection closed: that is what telnet bots type here (trap cd-chain); "
            "this address is banned for 1h.") in said


def test_under_the_log_policy_a_bot_in_the_chat_is_moved_to_the_holding_shell():
    w = World(bot_policy="log")
    watcher, wt = w.guest("198.51.100.30")
    bot, t = w.connect("203.0.113.24")
    w.clock.advance(1)
    bot.door_data(b"\r\n")
    w.clock.advance(5)
    nick = bot.nick
    wt.clear()
    bot.door_data(b"enable\r\n")
    assert bot.state == SHELL and bot.room is None and w.bbs.hub.find(nick) is None
    assert f"<{nick}> enable" not in text(wt)
    assert "-sh: enable: not found" in text(t) or text(t).endswith("# ")
    bot.door_data(b"exit\r\n")
    assert t.disconnecting
    assert "bbs.bot.banned" not in w.ids() and w.bbs.admit("203.0.113.24") is None


def test_the_mirai_handshake_names_the_family_and_its_window_is_logged():
    w = World()
    bot, t = w.connect("203.0.113.25")
    bot.door.dataReceived(MIRAI_ANSWERS)
    bot.door_data(b"root\r\n")
    detected = next(e for e in w.events.events if e["eventid"] == "bbs.bot.detected")
    assert detected["rule"] == "login-root" and detected["family"] == "mirai"
    size = next(e for e in w.events.events if e["eventid"] == "cowrie.client.size")
    assert (size["width"], size["height"]) == (80, 24)


def test_new_environ_is_logged_and_the_user_variable_logs_nobody_in():
    w = World()
    s, t = w.connect("203.0.113.26")
    s.door.dataReceived(bytes((IAC, SB, 39, 0, 0)) + b"USER\x01-f root" + bytes((IAC, SE)))
    w.clock.advance(1)
    s.door_data(b"\r\n")
    ids = w.ids()
    assert "cowrie.telnet.exploit_attempt" in ids
    var = next(e for e in w.events.events if e["eventid"] == "cowrie.client.var")
    assert (var["name"], var["value"]) == ("USER", "-f root")
    assert s.nick.startswith("guest") and s.account is None


def test_mirais_handshake_is_evidence_enough_for_a_common_name():
    # Mirai tries tech/tech; its loader sends the name's line end a second later.
    w = World()
    bot, t = w.connect("203.0.113.27")
    bot.door.dataReceived(MIRAI_ANSWERS)
    bot.door_data(b"tech")
    w.clock.advance(1)
    bot.door_data(b"\r\n")
    assert t.disconnecting
    detected = next(e for e in w.events.events if e["eventid"] == "bbs.bot.detected")
    assert (detected["rule"], detected["family"]) == ("login-tech", "mirai")
