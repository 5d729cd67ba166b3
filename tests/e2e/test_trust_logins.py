"""Password guessing against the real server: guesses are counted as they
are typed, so holding many prompts open buys nothing, and nobody can lock
an owner out of an account by failing at its password."""

from __future__ import annotations

import re
import time

import pytest

from tests.e2e.harness import Client, Server

REFUSED = rb"Too many failed logins as alice from your address; try again in \d+m"
VERDICT = rb"Login incorrect|Too many failed logins"


@pytest.fixture
def alice_server(tmp_path):
    srv = Server(tmp_path, "--max-per-address", "20", "--connect-rate", "100")
    made = srv.admin("user", "add", "alice", "--sysop", stdin="alice-password-1\n")
    assert made.returncode == 0, made.stderr
    yield srv.start()
    srv.stop()


def at_password(srv: Server, count: int, source: str) -> list[Client]:
    """C{count} connections from C{source}, each holding alice's Password: prompt."""
    clients = [srv.connect(source=source) for _ in range(count)]
    for c in clients:
        c.expect(b"login: ")
        c.line("alice")
    for c in clients:
        c.expect(b"Password: ")
        c.consume()
    return clients


def first_verdict(clients: list[Client], pattern: bytes, deadline: float = 10.0) -> Client:
    """Wait until one of C{clients} shows C{pattern}; that one."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        for c in clients:
            try:
                c.expect(pattern, deadline=0.05)
            except AssertionError:
                continue
            return c
    raise AssertionError(f"none of {len(clients)} connections saw {pattern!r}")


def test_prompts_held_open_and_answered_at_once_are_throttled(alice_server):
    srv = alice_server
    guessers = at_password(srv, 12, "127.0.0.2")
    wrong, right = guessers[:-1], guessers[-1]
    for n, c in enumerate(wrong):
        c.line(f"wrong-guess-{n}")
    first_verdict(wrong, REFUSED)  # the answers were counted before being checked
    right.line("alice-password-1")
    right.expect(REFUSED)
    right.expect(b"login: ")
    assert b"joined lobby" not in right.text
    for c in wrong:
        c.expect(VERDICT)
    verdicts = [re.search(VERDICT, c.text).group() for c in wrong]
    # Four checked at once and a fifth a second later; the other six refused.
    assert verdicts.count(b"Login incorrect") == 5, verdicts
    assert verdicts.count(b"Too many failed logins") == 6, verdicts
    # The address is still throttled: the right password does not get in.
    again = srv.connect(source="127.0.0.2")
    again.expect(b"login: ")
    again.line("alice")
    again.expect(REFUSED)
    assert b"Password:" not in again.text


def test_failing_at_alice_elsewhere_does_not_lock_her_out(alice_server):
    srv = alice_server
    guessers = at_password(srv, 10, "127.0.0.2")
    for n, c in enumerate(guessers):
        c.line(f"wrong-guess-{n}")
    for c in guessers:
        c.expect(VERDICT)
    started = time.monotonic()
    alice = srv.login("alice", "alice-password-1", source="127.0.0.3")
    assert time.monotonic() - started < 8  # slowed by at most the account's delay
    alice.line("/who")
    alice.expect(rb"alice \(sysop\)")
    failed = [e for e in srv.events() if e["eventid"] == "cowrie.login.failed"]
    assert 1 <= len(failed) <= 5
    assert all(e["src_ip"] == "127.0.0.2" for e in failed)
