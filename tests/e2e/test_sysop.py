"""A sysop moderates the real server; the server defends itself."""

from __future__ import annotations


from tests.e2e.harness import Server


def test_kick_ban_refuse_restart_unban(boss_server, tmp_path):
    srv = boss_server
    boss = srv.login("boss", "boss-password-1")
    bob = srv.login("bob", source="127.0.0.3")
    mallory = srv.login("mallory", source="127.0.0.2")
    mallory.line("/kick bob")
    mallory.expect(b"Permission denied: /kick is for sysops")
    boss.line("/kick mallory stop that")
    mallory.expect(b"kicked by boss: stop that")
    assert mallory.closed()
    bob.expect(b"mallory left \\(kicked by boss: stop that\\)")
    mallory = srv.login("mallory", source="127.0.0.2")
    boss.line("/ban mallory 1h being rude")
    boss.expect(b"Banned 127.0.0.2/32 for 1h: being rude")
    mallory.expect(b"banned")
    assert mallory.closed()
    again = srv.connect(source="127.0.0.2")
    assert again.closed()
    assert b"banned" in again.text and b"being rude" in again.text
    assert b"login:" not in again.text
    other = srv.connect(source="127.0.0.3")
    other.expect(b"login: ")
    assert srv.stop() == 0

    srv = Server(tmp_path).start()
    try:
        refused = srv.connect(source="127.0.0.2")
        assert refused.closed() and b"banned" in refused.text
        boss = srv.login("boss", "boss-password-1")
        boss.line("/bans")
        boss.expect(rb"127\.0\.0\.2/32\s+boss")
        boss.line("/unban 127.0.0.2")
        boss.expect(b"Unbanned 127.0.0.2/32")
        back = srv.connect(source="127.0.0.2")
        back.expect(b"login: ")
        # A ban set from the command line reaches the running server.
        added = srv.admin("ban", "add", "127.0.0.5", "--reason", "from the shell")
        assert added.returncode == 0, added.stderr
        srv.wait_for_log("Bans updated")
        shut_out = srv.connect(source="127.0.0.5")
        assert shut_out.closed() and b"from the shell" in shut_out.text
    finally:
        srv.stop()


def test_a_burst_of_60_lines_reaches_others_as_far_fewer(server):
    flooder = server.login("flooder", source="127.0.0.2")
    listener = server.login("listener", source="127.0.0.3")
    flooder.send(b"".join(b"flood %d\r\n" % i for i in range(60)))
    flooder.expect(b"typing too fast")
    listener.line("done")
    listener.expect(b"<listener> done")
    heard = listener.text.count(b"<flooder> flood")
    assert 5 <= heard <= 15


def test_30_connections_from_one_address_leave_at_most_the_limit(server):
    socks = []
    try:
        for _ in range(30):
            socks.append(server.connect(source="127.0.0.6"))
        alive = 0
        for c in socks:
            if not c.closed(deadline=1.0):
                alive += 1
        assert alive <= 5
        # Someone from elsewhere still gets in.
        fine = server.connect(source="127.0.0.7")
        fine.expect(b"login: ")
    finally:
        for c in socks:
            c.close()


def test_sysop_wall_and_shutdown_countdown(boss_server):
    srv = boss_server
    boss = srv.login("boss", "boss-password-1")
    bob = srv.login("bob", source="127.0.0.3")
    boss.line("/join office")
    boss.expect(b"joined office")
    boss.line("/wall tea in five")
    bob.expect(b"Announcement from boss: tea in five")
    boss.line("/shutdown 2 back soon")
    bob.expect(b"boss is stopping the server in 2s. back soon")
    assert bob.closed(deadline=15)
    assert srv.proc.wait(timeout=15) == 0
