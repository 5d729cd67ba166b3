"""The real twistd server, driven over loopback by raw-socket clients."""

from __future__ import annotations

import signal
import subprocess
import sys

from tests.e2e.harness import DO, IAC, ROOT, WILL, Server

NAWS, TTYPE, ECHO, SGA = 31, 24, 1, 3


def login(server, nick: str = "", **kw):
    client = server.connect(**kw)
    client.expect(b"login: ")
    client.line(nick)
    client.expect(b"joined lobby")
    return client


def test_negotiation_comes_first_then_motd_then_login_prompt(server):
    bot = server.connect(answer=False)
    text = bot.expect(b"login: ")
    assert bot.raw.startswith(bytes([IAC, WILL, ECHO, IAC, WILL, SGA, IAC, DO, NAWS, IAC, DO, TTYPE]))
    assert b"Welcome to hfnjbbs" in text
    assert text.index(b"Welcome to hfnjbbs") < text.index(b"login: ")


def test_guests_and_nicknames_chat_together_in_the_lobby(server):
    quiet = login(server, "", answer=False)  # never answers negotiation
    assert b"Welcome, guest1!" in quiet.text
    alice = login(server, "alice")
    bob = login(server, "bob")
    for c in (quiet, alice, bob):
        c.consume()
    alice.line("hello everyone")
    for c in (quiet, alice, bob):
        c.expect(rb"<alice> hello everyone")
    quiet.line("hi from a netcat")
    bob.expect(rb"<guest1> hi from a netcat")
    # A client that never negotiated gets no escape sequences at all.
    assert b"\x1b" not in quiet.raw


def test_private_messages_who_and_unknown_commands(server):
    alice = login(server, "alice")
    bob = login(server, "bob")
    alice.line("/msg BOB psst")
    bob.expect(rb"\*alice\* psst")
    bob.line("/reply hi back")
    alice.expect(rb"\*bob\* hi back")
    alice.line("who")
    alice.expect(rb"bob\s+lobby")
    alice.expect(rb"2 users online")
    alice.line("/frobnicate")
    alice.expect("Unknown command: /frobnicate — try /help")


def test_join_then_say_keeps_order_across_the_worker_pool(server):
    alice = login(server, "alice")
    bob = login(server, "bob")
    bob.line("/join den")
    bob.expect(b"joined den")
    bob.consume()
    # Sent in one packet: the chat line must land in den, after the join.
    alice.send(b"/join den\r\nhi den\r\n")
    bob.expect(rb"<alice> hi den")
    assert b"alice joined den" in bob.text


def test_refused_nicknames_say_why(server):
    c = server.connect()
    c.expect(b"login: ")
    c.line("root2!")
    c.expect(b"must start with a letter")
    c.line("sysop")
    c.expect(b"reserved")
    c.line("carol")
    c.expect(b"Welcome, carol!")


def test_sigterm_tells_everyone_and_exits_zero(tmp_path):
    srv = Server(tmp_path).start()
    a = srv.connect()
    a.expect(b"login: ")
    a.line("alice")
    a.expect(b"joined lobby")
    assert srv.stop(signal.SIGTERM) == 0
    assert a.closed()
    assert b"shutting down" in a.text


def test_bad_options_are_usage_errors_before_anything_listens(tmp_path):
    for args in (["--port", "tcp:notaport"], ["--workers", "0"], ["--motd", str(tmp_path / "nope")],
                 ["--web", "tcp:notaport"], ["--web-proxy", "not a network"],
                 ["--web-origin", "javascript:alert(1)"], ["--ssh", "tcp:notaport"]):
        proc = subprocess.run(
            [sys.executable, "-c", "from twisted.scripts.twistd import run; run()",
             "-n", "--pidfile=", "hfnjbbs", *args],
            cwd=tmp_path, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
            capture_output=True, text=True, timeout=60,
        )
        assert proc.returncode != 0, args
        assert args[0] in proc.stdout + proc.stderr
        assert "starting on" not in proc.stdout + proc.stderr
