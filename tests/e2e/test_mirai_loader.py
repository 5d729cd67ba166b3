"""Mirai's own loader (a transcription, tests/e2e/mirai_loader.py) against
the shell policy: it logs in as root/xc3511 and reaches its download-and-run
step every time, and never enters the chat."""

from __future__ import annotations

import re

import pytest

from tests.e2e.harness import Server
from tests.e2e.mirai_loader import MiraiLoader

RUNS = 10
# Mirai's timer sends the name's line end a second later; a tenth of a second
# keeps the race (the line end comes after the name) and ten runs short.
LINE_END_DELAY = 0.1
# What people said in the lobby before: prompt characters Mirai scans for.
HISTORY = ["ok: that works > 2 # yes", "price is $5 or 50% off: deal>", "C:\\> dir"]


@pytest.mark.parametrize("history", [False, True], ids=["fresh", "lobby-history"])
def test_the_loader_reaches_download_and_run_every_time_and_never_a_room(tmp_path, history):
    # The loader's wget fails as from a silent server: in one second, not five.
    srv = Server(tmp_path, "--bot-policy", "shell", "--shell-net-timeout", "1s").start()
    try:
        watcher = srv.login("watcher", source="127.0.7.1")
        for line in HISTORY if history else ():
            watcher.line(line)
            watcher.expect(re.escape(f"<watcher> {line}".encode()))
        watcher.consume()
        sources = [f"127.0.8.{n}" for n in range(1, RUNS + 1)]
        results = []
        for source in sources:
            loader = MiraiLoader("127.0.0.1", srv.port, b"root", b"xc3511", source=source,
                                 line_end_delay=LINE_END_DELAY)
            results.append(loader.run(deadline=10))
        reached = [r.states[-1] for r in results]
        assert reached == ["RUN_BINARY"] * RUNS, [r.states for r in results]
        assert all(r.arch == "arm7" and r.upload_method == "wget" for r in results)
        assert all(r.sent[-1] == b"./dvrHelper telnet.arm7; /bin/busybox IHCCE\r\n"
                   for r in results)

        watcher.line("/who")
        watcher.expect(b"1 user online")
        assert b"joined" not in watcher.text and b"root" not in watcher.text
        events = srv.events_when(lambda events: sum(
            e["eventid"] == "cowrie.session.closed" and e["src_ip"] in sources
            for e in events) == RUNS)
        for source in sources:
            mine = [e for e in events if e.get("src_ip") == source]
            ids = [e["eventid"] for e in mine]
            assert "bbs.user.login" not in ids
            success = [e for e in mine if e["eventid"] == "cowrie.login.success"]
            assert [(e["username"], e["password"]) for e in success] == [("root", "xc3511")]
            assert any(e["eventid"] == "cowrie.session.file_download" for e in mine)
            # Its handshake names the family, and its fixed window is logged.
            detected = next(e for e in mine if e["eventid"] == "bbs.bot.detected")
            assert (detected["rule"], detected["family"]) == ("login-root", "mirai")
            assert any(e["eventid"] == "cowrie.client.size" and (e["width"], e["height"]) == (80, 24)
                       for e in mine)
    finally:
        srv.stop()
