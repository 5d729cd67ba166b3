"""Names nobody can fake, on the real server: look-alikes are refused everywhere a name is chosen."""

from __future__ import annotations

import pytest

from tests.e2e.harness import Server

PASSWORD = "alice-password-1"


@pytest.fixture
def alice_server(tmp_path):
    srv = Server(tmp_path)
    made = srv.admin("user", "add", "alice", stdin=PASSWORD + "\n")
    assert made.returncode == 0, made.stderr
    yield srv.start()
    srv.stop()


def test_look_alikes_are_refused_at_login_with_the_reason(alice_server):
    c = alice_server.connect(source="127.0.0.2")
    c.expect(b"login: ")
    for name, why in (
        ("ѕуѕор", "is reserved: it looks like sysop"),  # Cyrillic
        ("sysοp", "is reserved: it looks like sysop"),  # Greek omicron
        ("Sys0p", "is reserved: it looks like sysop"),
        ("аlice", "looks like the registered nickname alice"),  # Cyrillic a
    ):
        c.consume()
        c.line(name)
        c.expect(f"The nickname {name} {why}. Try another".encode())
        c.expect(b"login: ")
    c.line("mallory")
    c.expect(b"Welcome, mallory!")


def test_look_alikes_are_refused_by_nick_and_honest_names_pass(alice_server):
    bob = alice_server.login("bob", source="127.0.0.3")
    mallory = alice_server.login("mallory", source="127.0.0.2")
    for name, why in (
        ("b0b", "looks like bob, who is online"),
        ("sysοp", "is reserved: it looks like sysop"),
        ("r00t", "is reserved: it looks like root"),
        ("adm1n2", "is reserved: it looks like a name starting with admin"),
        ("guеst5", "is reserved: it looks like a name starting with guest"),
        ("a1ice", "looks like the registered nickname alice"),
        ("Ivanов", "mixes Latin with Cyrillic letters"),
    ):
        mallory.line(f"/nick {name}")
        mallory.expect(f"The nickname {name} {why}".encode())
    mallory.line("/nick Иван")
    mallory.expect("You are now known as Иван.".encode())
    bob.expect("mallory is now known as Иван".encode())
    mallory.line("/nick 張三abc")
    mallory.expect("You are now known as 張三abc.".encode())


def test_an_account_made_since_takes_its_name_back_from_a_look_alike(tmp_path):
    srv = Server(tmp_path).start()
    try:
        squatter = srv.login("a1ice", source="127.0.0.2")
        made = srv.admin("user", "add", "alice", stdin=PASSWORD + "\n")
        assert made.returncode == 0, made.stderr
        srv.wait_for_log("Accounts reloaded")
        squatter.line("/register")
        squatter.expect(b"The nickname a1ice looks like the registered nickname alice.")
        assert b"Password:" not in squatter.text
        owner = srv.login("alice", PASSWORD, source="127.0.0.3")
        squatter.expect(b"a1ice looks like alice, which is a registered nickname; you are now guest")
        owner.line("/who")
        owner.expect(b"2 users online")
        assert b"a1ice" not in owner.text
    finally:
        srv.stop()


def test_the_admin_tool_refuses_disguises_but_lets_the_sysop_name_sysop(alice_server):
    for name, why in (
        ("aIice", "looks like the registered nickname alice"),
        ("sys0p", "is reserved: it looks like sysop"),
        ("Ivanов", "mixes Latin with Cyrillic letters"),
    ):
        refused = alice_server.admin("user", "add", name, stdin=PASSWORD + "\n")
        assert refused.returncode != 0
        assert f"The nickname {name} {why}" in refused.stderr
    made = alice_server.admin("user", "add", "sysop", "--sysop", stdin=PASSWORD + "\n")
    assert made.returncode == 0, made.stderr
    listed = alice_server.admin("user", "list").stdout
    assert "aIice" not in listed and "sys0p" not in listed and "sysop" in listed
