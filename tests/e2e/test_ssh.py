"""The SSH door against the real twistd: people with OpenSSH's client in
tmux, beside telnet users; refusals as a client sees them."""

from __future__ import annotations

import subprocess

import pytest

from tests.e2e.harness import Server
from tests.e2e.test_terminal import peer
from tests.e2e.tmux import TelnetWindow, require_tools, ssh_command


@pytest.fixture
def srv(tmp_path):
    server = Server(tmp_path, "--ssh", "tcp:0:interface=127.0.0.1")
    made = server.admin("user", "add", "carol", stdin="carol-password-1\n")
    assert made.returncode == 0, made.stderr
    yield server.start()
    server.stop()


@pytest.fixture
def windows():
    opened: list[TelnetWindow] = []

    def open_window(command: str, width: int = 80, height: int = 24) -> TelnetWindow:
        w = TelnetWindow(0, width, height, command=command)
        opened.append(w)
        return w

    yield open_window
    for w in opened:
        w.close()


def test_a_guest_over_ssh_chats_with_a_telnet_user_and_edits_as_in_telnet(srv, windows):
    w = windows(ssh_command(srv.ssh_port, "alice"))
    w.wait(r"Welcome, alice!")
    rows = w.wait(r"\[lobby\]$")
    assert not any("login:" in row for row in rows)  # SSH said who: no login prompt
    p = peer(srv)
    # Backspace over a wide character, then history, then Tab.
    w.type("héllo 日本語")
    w.wait("日本語")
    w.keys("BSpace", "BSpace")
    w.wait(r"\[lobby\] héllo 日$")
    w.type("本")
    w.keys("Enter")
    text = p.expect("<alice> héllo 日本\r\n")
    assert "語".encode() not in text
    w.keys("Up")
    w.wait(r"\[lobby\] héllo 日本$")
    w.keys("C-u")
    w.type("/jo")
    w.keys("Tab")
    w.wait(r"\[lobby\] /join$")
    w.keys("C-u")
    # A line arriving while half a line is typed.
    w.type("half typed")
    p.line("interruption")
    w.wait("<peer> interruption")
    rows = [r for r in w.screen() if r.strip()]
    assert rows[-1] == "[lobby] half typed"
    w.type(" and done")
    w.keys("Enter")
    p.expect(rb"<alice> half typed and done\r\n")
    p.line("and back")
    w.wait("<peer> and back")


def test_resizing_the_window_changes_the_wrap_width(srv, windows):
    w = windows(ssh_command(srv.ssh_port, "alice"), width=100)
    w.wait(r"\[lobby\]$")
    p = peer(srv)
    words = " ".join(f"word{i:02d}" for i in range(10))  # 76 columns with the nick
    p.line(words)
    w.wait("word09")
    assert any("word09" in row and "<peer>" in row for row in w.screen())  # one row at 100
    w.resize(50, 24)
    p.line("again " + words)
    w.wait("again")
    rows = [row for row in w.screen() if row.strip()]
    assert all(len(row) <= 50 for row in rows)
    tail = rows[rows.index(next(r for r in rows if "again" in r)):]
    assert any("word09" in row for row in tail) and not any("<peer>" in row and "word09" in row
                                                          for row in tail)


def test_a_registered_user_logs_in_with_a_key_added_in_the_chat(srv, windows, tmp_path):
    require_tools("ssh-keygen")
    key = tmp_path / "carol_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    c = srv.login("carol", password="carol-password-1")
    c.line(f"/key add {(tmp_path / 'carol_key.pub').read_text().strip()}")
    c.expect(rb"Key 1 added")
    c.line("/quit")
    w = windows(ssh_command(srv.ssh_port, "carol", key=str(key)))
    w.wait(r"Welcome, carol!")
    w.wait(r"\[lobby\]$")
    p = peer(srv)
    w.type("signed in by key")
    w.keys("Enter")
    p.expect(rb"<carol> signed in by key\r\n")
    assert any(e.get("eventid") == "bbs.user.login" and e.get("account") == "carol"
               for e in srv.events())


def test_a_registered_name_without_its_key_or_password_is_refused(srv, windows):
    w = windows(ssh_command(srv.ssh_port, "carol"))
    w.wait(r"[Pp]assword:")
    w.type("wrong-password")
    w.keys("Enter")
    w.wait(r"[Pp]assword:")  # asked again, as ssh does after a refusal
    failed = srv.events_when(lambda evs: any(e.get("eventid") == "cowrie.login.failed"
                                             for e in evs))
    assert any(e.get("username") == "carol" for e in failed
               if e.get("eventid") == "cowrie.login.failed")
    w.type("carol-password-1")
    w.keys("Enter")
    w.wait(r"Welcome, carol!")
    logged = (srv.data / "events.json").read_text() + "".join(srv.output)
    assert "wrong-password" not in logged and "carol-password-1" not in logged


def test_a_person_asking_to_run_a_command_is_told_this_is_a_chat(srv):
    require_tools("ssh")
    ssh = ssh_command(srv.ssh_port, "alice").split()
    run = subprocess.run([*ssh[:-1], "-T", ssh[-1], "uname", "-a"],
                         capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert "This is a chat server" in run.stdout
    sftp = subprocess.run([*ssh[:-1], "-s", ssh[-1], "sftp"],
                          capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert sftp.returncode != 0 and "This is a chat server" not in sftp.stdout
