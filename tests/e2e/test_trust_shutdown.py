"""SIGTERM while people are on: what their sessions write on the way out is saved."""

from __future__ import annotations

import time

from bbs.store import DATABASE_NAME, SQLiteStore
from tests.e2e.harness import Server


def last_seen(srv: Server, nick: str) -> float | None:
    store = SQLiteStore(srv.data / DATABASE_NAME)
    store.open()
    try:
        return store.get_account(nick).last_seen
    finally:
        store.close()


def test_sigterm_saves_the_last_seen_time_of_everyone_on(tmp_path):
    srv = Server(tmp_path)
    for nick in ("bob", "dave", "boss"):
        made = srv.admin("user", "add", nick, stdin=f"{nick}-password-1\n")
        assert made.returncode == 0, made.stderr
    srv.start()
    bob = srv.login("bob", "bob-password-1", source="127.0.0.2")
    dave = srv.login("dave", "dave-password-1", source="127.0.0.3")
    logged_in = last_seen(srv, "bob")
    assert logged_in is not None
    stopping = time.time()
    assert srv.stop() == 0
    for person in (bob, dave):
        assert person.closed() and b"The server is shutting down." in person.text
    output = "".join(srv.output)
    assert "not saved" not in output and "The store is not open" not in output
    assert last_seen(srv, "bob") >= stopping > logged_in
    assert last_seen(srv, "dave") >= stopping

    srv = Server(tmp_path).start()
    try:
        boss = srv.login("boss", "boss-password-1")
        boss.line("/seen bob")
        boss.expect(b"bob was last on ")
    finally:
        srv.stop()
