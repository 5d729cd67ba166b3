"""bbs.door_logins: who an authenticating door (SSH) lets in, decided by the
session with C{login:}'s rules, on a task.Clock."""

from __future__ import annotations

import pytest

from bbs import passwords
from bbs.session import Session
from bbs.ssh.door import to_ssh
from tests.store.peek import account_keys
from tests.world import World


class Door:
    """An authenticating door, as the session sees one: what it was sent."""

    kind = "ssh"
    authenticates = True
    character_mode = True
    negotiates = False
    terminal_type = "xterm-256color"
    prepare = staticmethod(to_ssh)

    def __init__(self, ip: str) -> None:
        self.peer, self.host, self.window = (ip, 4000), ("127.0.0.1", 2222), (80, 24)
        self.sent = b""
        self.closed: str | None = None

    def write(self, data: bytes) -> None:
        self.sent += data

    def write_prepared(self, wire: bytes) -> None:
        self.sent += wire

    def request_echo(self, on: bool) -> bool:
        return False

    def keepalive(self) -> None:
        pass

    def close(self, reason=None, *, shown=False) -> None:
        self.closed = reason or ""

    def abort(self, reason: str) -> None:
        self.closed = reason

    @property
    def text(self) -> str:
        return self.sent.decode("utf-8", "replace")


def at_door(w: World, ip: str = "198.51.100.7") -> tuple[Session, Door]:
    assert w.bbs.admit(ip) is None
    s, door = Session(w.bbs), Door(ip)
    s.door_connected(door)
    return s, door


def answer(d) -> bool:
    results = []
    d.addBoth(results.append)
    assert len(results) == 1, "not answered yet"
    assert isinstance(results[0], bool), results[0]
    return results[0]


@pytest.fixture
def world(store):
    store.create_account("carol", passwords.hash_password("carol password"))
    w = World()
    w.bbs.store, w.bbs.registered = store, account_keys(store)
    return w


def test_a_guest_comes_in_under_the_name_given_with_no_login_prompt(world):
    s, door = at_door(world)
    assert door.sent == b""  # nothing before the client opens its session
    assert answer(s.door_password("alice", None))
    s.door_shell()
    assert "Welcome, alice!" in door.text and "login:" not in door.text
    assert s.room is not None and s.guest and s.account is None
    other, other_door = at_door(world, "198.51.100.8")
    assert answer(other.door_password("guest", None))
    other.door_shell()
    assert other.nick.startswith("guest") and other.room is not None


def test_a_registered_name_needs_its_password_and_a_wrong_one_is_logged_without_it(world):
    s, door = at_door(world)
    assert not answer(s.door_password("carol", None))  # ask for one
    assert not answer(s.door_password("carol", "guess"))
    assert answer(s.door_password("carol", "carol password"))
    s.door_shell()
    assert s.account == "carol" and "Welcome, carol!" in door.text
    failed = [e for e in world.events.events if e["eventid"] == "cowrie.login.failed"]
    assert [e["username"] for e in failed] == ["carol"]
    assert "guess" not in str(world.events.events) and "carol password" not in str(world.events.events)


def test_password_guessing_is_throttled_exactly_as_at_login(world):
    by_ssh, by_telnet = "203.0.113.5", "203.0.113.6"
    world.bbs.limiter.per_address = world.bbs.limiter.rate = 100
    for _ in range(5):
        s, _ = at_door(world, by_ssh)
        d = s.door_password("carol", "guess")
        t, transport = world.connect(by_telnet)
        t.door_data(b"carol\n")
        t.door_data(b"guess\n")
        world.clock.advance(5)  # the throttle's delays, the same for both
        assert answer(d) is False
    ssh_says = world.bbs.throttle.refusal(by_ssh, "carol")
    telnet_says = world.bbs.throttle.refusal(by_telnet, "carol")
    assert ssh_says is not None and ssh_says == telnet_says
    s, _ = at_door(world, by_ssh)
    assert not answer(s.door_password("carol", "carol password"))  # refused unchecked


def test_a_trapped_name_under_shell_policy_gets_the_fake_shell_with_its_password_logged(world):
    world.bbs.config = world.bbs.config.__class__(bot_policy="shell", data=world.bbs.config.data)
    s, door = at_door(world)
    assert answer(s.door_password("root", "xc3511"))
    s.door_shell()
    assert s.honeypot is not None and s.room is None
    success = next(e for e in world.events.events if e["eventid"] == "cowrie.login.success")
    assert (success["username"], success["password"]) == ("root", "xc3511")


def test_a_trapped_name_under_ban_policy_is_banned_at_its_first_attempt(world):
    s, door = at_door(world, "192.0.2.77")
    assert not answer(s.door_password("root", "xc3511"))
    assert world.bbs.bans.match_address("192.0.2.77") is not None
    assert door.closed and "banned" in door.closed


def test_a_person_asking_for_a_command_is_told_this_is_a_chat(world):
    s, door = at_door(world)
    assert answer(s.door_password("alice", None))
    s.door_exec("uname -a")
    assert door.closed is not None and "chat server" in door.text
    assert s.room is None
    assert any(e["eventid"] == "cowrie.command.input" and e["input"] == "uname -a"
               for e in world.events.events)


def test_a_key_asked_about_is_not_a_key_signed_with(world, store):
    blob = b"\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20" + bytes(range(32))
    store.add_key("carol", "ssh-ed25519", blob, "laptop", "SHA256:x", 0.0)
    s, door = at_door(world)
    assert answer(s.door_key("carol", blob, False))  # it would do
    assert s.admitted is None  # but only a signature lets in
    assert not answer(s.door_key("carol", b"another key", True))
    assert answer(s.door_key("carol", blob, True))
    s.door_shell()
    assert s.account == "carol"
    offered = [e for e in world.events.events if e["eventid"] == "cowrie.client.fingerprint"]
    assert [e["username"] for e in offered] == ["carol"]
