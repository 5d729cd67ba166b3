"""A sensor holding a honeypot's worth of bans starts, refuses and admits as it
should, and takes up a ban added or lifted from the shell within a poll for
the work of that one ban, not of every ban held."""

from __future__ import annotations

import os
import sqlite3

from bbs.store import DATABASE_NAME, SQLiteStore
from tests.e2e.harness import Server

HELD = 20_000
WEEK = 7 * 86400.0
PICKUP_CPU = 0.15  # seconds of the server's CPU to take up one ban from the shell


def fill(data, now: float) -> None:
    """HELD bot bans in the store before the server starts (127.1.0.0 onwards)."""
    store = SQLiteStore(data / DATABASE_NAME)
    store.open()  # creates the schema
    store.close()
    with sqlite3.connect(data / DATABASE_NAME) as db:
        db.executemany(
            "INSERT INTO bans (kind, target, target_key, reason, set_by, created, expires)"
            " VALUES ('net', ?1, ?1, 'bot: login-root', 'traps', ?2, ?3)",
            [(f"127.1.{n // 256}.{n % 256}/32", now, now + WEEK) for n in range(HELD)],
        )
    db.close()


def cpu(pid: int) -> float:
    """Seconds of CPU the process has used."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_many_bans_held_and_changes_taken_up_by_delta(tmp_path):
    import time

    srv = Server(tmp_path)
    fill(srv.data, time.time())
    srv.start()
    try:
        refused = srv.connect(answer=False, source="127.1.2.3")
        assert refused.closed() and b"You are banned: bot: login-root (until" in refused.text
        srv.connect(answer=False, source="127.1.200.1").expect(b"login: ")  # past the held range
        user = srv.login(source="127.2.0.9")

        before = cpu(srv.proc.pid)
        added = srv.admin("ban", "add", "127.2.0.9", "--reason", "late")
        assert added.returncode == 0, added.stderr
        user.expect(b"You are banned: late")
        assert user.closed()
        srv.wait_for_log("Bans (updated|reloaded)")
        taken = cpu(srv.proc.pid) - before
        assert taken < PICKUP_CPU, f"taking up one ban cost {taken:.2f} s of CPU"
        shut_out = srv.connect(answer=False, source="127.2.0.9")
        assert shut_out.closed() and b"You are banned: late" in shut_out.text

        before = cpu(srv.proc.pid)
        lifted = srv.admin("ban", "del", "127.1.2.3")
        assert lifted.returncode == 0, lifted.stderr
        srv.wait_for_log("Bans (updated|reloaded)")
        taken = cpu(srv.proc.pid) - before
        assert taken < PICKUP_CPU, f"taking up one lifted ban cost {taken:.2f} s of CPU"
        srv.connect(answer=False, source="127.1.2.3").expect(b"login: ")
        still = srv.connect(answer=False, source="127.1.2.4")
        assert still.closed() and b"You are banned" in still.text
    finally:
        assert srv.stop() == 0
