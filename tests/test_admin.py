"""hfnjbbs-admin, run in-process with the password on standard input."""

from __future__ import annotations

import io
import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from bbs import passwords
from bbs.admin import main
from bbs.ssh.hostkeys import ED25519_FILE, RSA_FILE, host_keys
from bbs.store import SQLiteStore
from tests.keygen import keygen_l

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def cheap() -> Iterator[None]:
    saved = passwords.context
    passwords.context = passwords.make_context(memory_cost=64, time_cost=1)
    yield
    passwords.context = saved


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return tmp_path / "data"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Admin:
    def __init__(self, data: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
        self.data = data
        self.capsys = capsys
        self.monkeypatch = monkeypatch

    def __call__(self, *argv: str, stdin: str = "", tty: bool = False) -> tuple[int, str, str]:
        self.monkeypatch.setattr("sys.stdin", Terminal(stdin) if tty else io.StringIO(stdin))
        code = main(["--data", str(self.data), *argv])
        out, err = self.capsys.readouterr()
        return code, out, err

    def store(self) -> SQLiteStore:
        store = SQLiteStore(self.data / "bbs.sqlite3")
        store.open()
        return store


@pytest.fixture
def admin(data: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Admin:
    return Admin(data, capsys, monkeypatch)


def test_user_add_and_login(admin: Admin) -> None:
    code, out, err = admin("user", "add", "Alice", stdin=PASSWORD + "\n")
    assert (code, out) == (0, "Created account Alice.\n")
    assert "Creating a new database" in err
    store = admin.store()
    try:
        account = store.get_account("alice")
        assert account is not None and not account.is_sysop
        assert passwords.verify_password(PASSWORD, account.password_hash)[0]
    finally:
        store.close()


def test_password_never_stored_in_plain_text(admin: Admin) -> None:
    admin("user", "add", "Alice", stdin=PASSWORD + "\n")
    admin("user", "passwd", "Alice", stdin="another secret\n")
    stored = b"".join(p.read_bytes() for p in admin.data.iterdir())
    assert b"Alice" in stored
    assert PASSWORD.encode() not in stored
    assert b"another secret" not in stored


def test_user_add_reserved_name_as_sysop(admin: Admin) -> None:
    code, out, _ = admin("user", "add", "sysop", "--sysop", stdin=PASSWORD + "\n")
    assert (code, out) == (0, "Created sysop account sysop.\n")
    code, out, _ = admin("user", "list")
    assert code == 0 and "sysop" in out and "yes" in out


@pytest.mark.parametrize(
    "name, stdin, message",
    [
        ("x", PASSWORD + "\n", "must be 2 to 16 characters"),
        ("bad name", PASSWORD + "\n", "must start with a letter"),
        ("Alice", "short\n", "at least 8 characters"),
        ("Alice", "", "No password on standard input"),
    ],
)
def test_user_add_refused(admin: Admin, name: str, stdin: str, message: str) -> None:
    code, out, err = admin("user", "add", name, stdin=stdin)
    assert code == 1 and out == ""
    assert err.splitlines()[-1].startswith("hfnjbbs-admin: ")
    assert message in err
    code, out, _ = admin("user", "list")
    assert out == "No accounts.\n"


def test_user_add_twice(admin: Admin) -> None:
    admin("user", "add", "Alice", stdin=PASSWORD + "\n")
    code, _, err = admin("user", "add", "ALICE", stdin=PASSWORD + "\n")
    assert code == 1
    assert err == "hfnjbbs-admin: The nickname ALICE is already registered.\n"


def test_password_from_terminal(admin: Admin, monkeypatch: pytest.MonkeyPatch) -> None:
    typed = iter([PASSWORD, PASSWORD, PASSWORD, "something else"])
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(typed))
    assert admin("user", "add", "Alice", tty=True)[0] == 0
    code, _, err = admin("user", "add", "Bob", tty=True)
    assert code == 1 and "do not match" in err
    code, out, _ = admin("user", "list")
    assert "Alice" in out and "Bob" not in out


def test_user_passwd(admin: Admin) -> None:
    admin("user", "add", "Alice", stdin=PASSWORD + "\n")
    code, out, _ = admin("user", "passwd", "alice", stdin="new password\r\n")
    assert (code, out) == (0, "Changed the password of alice.\n")
    store = admin.store()
    try:
        stored = store.get_account("alice").password_hash  # type: ignore[union-attr]
    finally:
        store.close()
    assert passwords.verify_password("new password", stored)[0]
    assert not passwords.verify_password(PASSWORD, stored)[0]
    code, _, err = admin("user", "passwd", "bob", stdin="new password\n")
    assert code == 1 and "There is no account bob" in err


def test_user_sysop_and_del(admin: Admin) -> None:
    admin("user", "add", "Alice", stdin=PASSWORD + "\n")
    assert admin("user", "sysop", "alice", "on")[1] == "alice is now a sysop.\n"
    assert "yes" in admin("user", "list")[1]
    assert admin("user", "sysop", "alice", "off")[1] == "alice is no longer a sysop.\n"
    code, _, err = admin("user", "sysop", "bob", "on")
    assert code == 1 and "There is no account bob" in err
    assert admin("user", "del", "ALICE")[:2] == (
        0, "Deleted account ALICE, its mail and its SSH keys.\n")
    code, _, err = admin("user", "del", "alice")
    assert code == 1 and "There is no account alice" in err


def test_reading_commands_need_a_database(admin: Admin) -> None:
    code, _, err = admin("user", "list")
    assert code == 1 and "There is no database at" in err
    assert not admin.data.exists()


def test_usage_errors(admin: Admin) -> None:
    assert admin()[0] == 2
    assert admin("user")[0] == 2
    assert admin("user", "sysop", "alice", "maybe")[0] == 2
    code, _, err = admin("ban", "add", "1.2.3.4", "--duration", "soon")
    assert code == 2 and "Not a duration: 'soon'" in err
    assert admin("--help")[0] == 0


def test_a_ban_without_a_duration_lasts_a_day_as_in_the_chat(admin: Admin) -> None:
    assert admin("ban", "add", "203.0.113.8")[1] == "Banned 203.0.113.8/32 for 1d.\n"
    code, out, _ = admin("ban", "list")
    assert re.search(r"203\.0\.113\.8/32\s+(1d|23h 59m) left", out)


def test_bans(admin: Admin) -> None:
    code, out, _ = admin("ban", "add", "192.0.2.7/24", "--duration", "2h", "--reason", "scanning")
    assert (code, out) == (0, "Banned 192.0.2.0/24 for 2h.\n")
    assert admin("ban", "add", "::ffff:198.51.100.1", "--duration", "perm")[1] == \
        "Banned 198.51.100.1/32 permanently.\n"
    assert admin("ban", "add", "Mallory", "--duration", "1w")[1] == "Banned Mallory for 1w.\n"
    code, out, _ = admin("ban", "list")
    lines = out.splitlines()
    assert len(lines) == 3
    assert "192.0.2.0/24" in lines[0] and re.search(r"(2h|1h 59m) left", lines[0]) and "scanning" in lines[0]
    assert "198.51.100.1/32" in lines[1] and "permanent" in lines[1]
    assert "nick" in lines[2] and "Mallory" in lines[2] and "by console" in lines[2]
    assert admin("ban", "del", "192.0.2.99/24")[1] == "Lifted the ban on 192.0.2.0/24.\n"
    assert admin("ban", "del", "mallory")[1] == "Lifted the ban on mallory.\n"
    code, _, err = admin("ban", "del", "mallory")
    assert code == 1 and err == "hfnjbbs-admin: There is no ban on mallory.\n"
    assert len(admin("ban", "list")[1].splitlines()) == 1


def test_ban_bad_target(admin: Admin) -> None:
    code, _, err = admin("ban", "add", "10.0.0.1/40")
    assert code == 1 and "Not a valid network: 10.0.0.1/40" in err
    code, _, err = admin("ban", "add", "no such thing!")
    assert code == 1 and "Not an address, network or nickname" in err


def test_works_while_the_server_runs(admin: Admin) -> None:
    admin("user", "add", "Alice", stdin=PASSWORD + "\n")
    server = admin.store()
    try:
        change = server.last_ban_change()
        with closing(sqlite3.connect(admin.data / "bbs.sqlite3", isolation_level=None)) as reader:
            reader.execute("BEGIN")  # a long read in progress does not block
            reader.execute("SELECT COUNT(*) FROM accounts").fetchall()
            assert admin("ban", "add", "203.0.113.5")[0] == 0
            reader.execute("COMMIT")
        assert server.last_ban_change() != change
        assert [b.target for b in server.list_bans(time.time())] == ["203.0.113.5/32"]
        server.add_post("general", "alice", "live", "written by the server", 1.0)
        assert admin("user", "sysop", "alice", "on")[0] == 0
        assert server.get_account("alice").is_sysop  # type: ignore[union-attr]
    finally:
        server.close()


def test_backup(admin: Admin, tmp_path: Path) -> None:
    admin("user", "add", "Alice", stdin=PASSWORD + "\n")
    server = admin.store()
    try:
        server.add_post("general", "alice", "Hi", "kept in the backup", 1.0)
        target = tmp_path / "copy.sqlite3"
        code, out, _ = admin("backup", str(target))
        assert code == 0 and out.startswith("Backed up ")
        server.add_post("general", "alice", "Later", "not in the backup", 2.0)
    finally:
        server.close()
    copy = SQLiteStore(target)
    copy.open()
    try:
        assert copy.get_account("alice") is not None
        assert [p.subject for p in copy.list_posts("general")] == ["Hi"]
    finally:
        copy.close()
    with closing(sqlite3.connect(target)) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_backup_never_overwrites(admin: Admin, tmp_path: Path) -> None:
    admin("user", "add", "Alice", stdin=PASSWORD + "\n")
    target = tmp_path / "precious.txt"
    target.write_text("keep me")
    code, _, err = admin("backup", str(target))
    assert code == 1 and "Could not create the backup" in err
    assert target.read_text() == "keep me"


def test_rows_from_elsewhere_are_shown_escaped_never_obeyed(admin: Admin) -> None:
    # A reason written by another tool or an older version: the sysop's
    # terminal must show it, not clear its screen or turn its text around.
    from bbs.store import BanRecord

    store = admin.store()
    try:
        store.add_ban(BanRecord(None, "net", "192.0.2.1/32", "spam\x1b[2J\u202eevil\nsecond",
                                "console", time.time(), None))
    finally:
        store.close()
    code, out, _ = admin("ban", "list")
    assert code == 0
    assert "\x1b" not in out and "\u202e" not in out
    assert out.count("\n") == 1  # the reason's line end does not start a forged line
    assert "spam\\x1b[2J\\u202eevil\\nsecond" in out


def test_ban_list_shows_the_newest_and_finds_by_text(admin: Admin) -> None:
    for n in range(120):
        admin("ban", "add", f"192.0.2.{n}", "--reason", "scan" if n % 3 else "bot")
    lines = admin("ban", "list")[1].splitlines()
    assert len(lines) == 101 and "192.0.2.20/32" in lines[0] and "192.0.2.119/32" in lines[99]
    assert lines[-1].startswith("(the newest 100 of 120 bans; --all lists every one")
    assert len(admin("ban", "list", "--all")[1].splitlines()) == 120
    found = admin("ban", "list", "--match", "bot", "--limit", "5")[1].splitlines()
    assert len(found) == 6 and all(": bot" in line for line in found[:5])
    assert admin("ban", "list", "--match", "nope")[1] == "No ban mentions nope.\n"
    code, _, err = admin("ban", "list", "--limit", "0")
    assert code == 2 and "Not a number of bans" in err


def test_ssh_fingerprints_are_those_of_the_host_keys(admin: Admin) -> None:
    made = host_keys(admin.data)
    code, out, err = admin("ssh", "fingerprints")
    assert (code, err) == (0, "")
    assert out.splitlines() == made.fingerprints()
    assert out.split()[:2] == keygen_l(admin.data / ED25519_FILE).split()[:2]
    assert not (admin.data / "bbs.sqlite3").exists()  # no database is needed, none made


def test_ssh_fingerprints_before_the_first_start_makes_no_key(admin: Admin) -> None:
    code, out, err = admin("ssh", "fingerprints")
    assert (code, out) == (1, "")
    assert err == (f"hfnjbbs-admin: There are no SSH host keys in {admin.data} yet; the server "
                   "makes them on its first start.\n")
    assert not admin.data.exists()
    admin.data.mkdir()
    assert admin("ssh", "fingerprints")[0] == 1
    assert list(admin.data.iterdir()) == []


def test_ssh_fingerprints_of_a_damaged_key_name_the_file(admin: Admin) -> None:
    admin.data.mkdir()
    (admin.data / RSA_FILE).write_bytes(b"not a key")
    code, out, err = admin("ssh", "fingerprints")
    assert (code, out) == (1, "")
    assert f"The SSH host key {admin.data / RSA_FILE} is not an OpenSSH private key" in err
    assert (admin.data / RSA_FILE).read_bytes() == b"not a key"
