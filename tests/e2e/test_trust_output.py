"""Rows that never went through today's input rules are made safe at output.

An older version, a restored backup or another tool may have written escape
sequences and bidi overrides into the database; the chat and the admin
command must show such rows without obeying them.
"""

from __future__ import annotations

import time

from bbs import passwords
from bbs.store import BanRecord, HistoryEntry, SQLiteStore
from tests.e2e.harness import Server

CLEAR = "\x1b[2J"
TITLE = "\x1b]0;owned\x07"
RLO = "\u202e"
PASSWORD = "alice-password-1"


def _plant(data) -> None:
    """Write hostile rows straight into the database, as another tool could."""
    data.mkdir(parents=True, exist_ok=True)
    store = SQLiteStore(data / "bbs.sqlite3")
    store.open()
    try:
        store.create_account("alice", passwords.hash_password(PASSWORD))
        store.create_account("mallory", passwords.hash_password(PASSWORD))
        store.send_mail("mallory", "alice", f"hello{CLEAR} there{RLO}gnp.exe", time.time())
        store.add_post("general", "mallory", f"news{TITLE}", f"body{CLEAR}\n{RLO}txt.exe",
                       time.time())
        store.append_history(HistoryEntry("lobby", "mallory", f"old line{CLEAR}{RLO}x",
                                          "say", time.time()))
        store.add_ban(BanRecord(None, "net", "192.0.2.1/32", f"spam{CLEAR}{RLO}", "console",
                                time.time(), None))
    finally:
        store.close()


def test_stored_escapes_and_bidi_overrides_reach_no_terminal(tmp_path):
    srv = Server(tmp_path)
    _plant(srv.data)
    srv.start()
    try:
        alice = srv.connect()
        alice.expect(b"login: ")
        alice.line("alice")
        alice.expect(b"Password: ")
        alice.line(PASSWORD)
        alice.expect(b"joined lobby")
        alice.line("/inbox")
        alice.expect(b"gnp.exe")
        alice.line("/read general 1")
        alice.expect(b"txt.exe")
        alice.line("/read general")
        alice.expect(b"news")
        alice.line("/seen mallory")
        alice.expect(b"mallory (has never been on|was last on)")
        raw = alice.raw.decode("utf-8", "replace")
        assert "<mallory> old linex" in raw and "hello theregnp.exe" in raw and "body\r\ntxt.exe" in raw
        # A line-mode client gets no escape sequence at all from the server,
        # so any ESC here came from a row; none may.
        assert "\x1b" not in raw and RLO not in raw and "\x07" not in raw
        listed = srv.admin("ban", "list")
        assert listed.returncode == 0, listed.stderr
        assert "\x1b" not in listed.stdout and RLO not in listed.stdout
        assert "spam\\x1b[2J\\u202e" in listed.stdout
    finally:
        srv.stop()
