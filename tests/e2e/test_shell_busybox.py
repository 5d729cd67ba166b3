"""A bot in the fake BusyBox, through the real server: what Mirai's
descendants type and check comes back as a real BusyBox 1.35.0 says it."""

from __future__ import annotations

from tests.e2e.harness import Server
from tests.e2e.test_honeypot import mirai_login


def test_bot_lines_get_real_busybox_answers(tmp_path):
    srv = Server(tmp_path, "--bot-policy", "shell").start()
    try:
        bot = mirai_login(srv, "127.0.1.9")
        bot.expect(b"assword: ")
        bot.send(b"xc3511\r\n")
        bot.expect(b"BusyBox v1\\.35\\.0 \\(\\d{4}-\\d\\d-\\d\\d [\\d:]+ UTC\\) built-in shell")
        bot.send(b"enable\r\n")
        bot.expect(b"-sh: enable: not found\r?\n")
        bot.send(b"cd /tmp; dd bs=52 count=1 if=.s || cat .s || "
                 b"while read i; do echo $i; done < .s\r\n")
        bot.expect(b"cat: can't open '.s': No such file or directory\r?\n"
                   b"-sh: can't open .s: no such file\r?\n")
        bot.send(b"echo -e 'a\\nb' > .s; while read i; do echo got-$i; done < .s\r\n")
        bot.expect(b"got-a\r?\ngot-b\r?\n")
        bot.send(b"cat /proc/self/exe | head -c 4; echo; echo x > /proc/x\r\n")
        bot.expect(b"\x7fELF\r?\n-sh: can't create /proc/x: nonexistent directory\r?\n")
        bot.send(b"for i in 1 2; do echo n$((i*2)); done | grep -c n; "
                 b"ps | grep gre[p]\r\n")
        bot.expect(b"2\r?\n +\\d+ root +grep gre\\[p\\]\r?\n")
        bot.send(b"exit\r\n")
        assert bot.closed()
    finally:
        srv.stop()
