"""A sysop's ban that would reach further than meant asks first and never cuts the sysop off."""

from __future__ import annotations

import re


def test_a_ban_on_a_shared_address_asks_and_spares_the_sysop(boss_server):
    srv = boss_server
    boss = srv.login("boss", "boss-password-1", source="127.0.0.1")
    carol = srv.login("carol", source="127.0.0.1")  # behind the same NAT
    bob = srv.login("bob", source="127.0.0.1")
    dave = srv.login("dave", source="127.0.0.2")
    question = (rb"This ban covers 127\.0\.0\.1, your own address, and 1 other person "
                rb"online \(bob\): ban anyway\? \[y/N\] ")
    boss.line("/ban carol 1h spam")
    boss.expect(question)
    boss.line("n")
    boss.expect(b"Not banned: carol.")
    carol.line("still here")
    dave.expect(b"<carol> still here")

    boss.consume()
    boss.line("/ban carol 1h spam")
    boss.expect(question)
    boss.line("y")
    boss.expect(b"Banned 127.0.0.1/32 for 1h: spam")
    for person in (carol, bob):
        assert person.closed() and b"You are banned: spam" in person.text
    boss.line("I am still on")
    dave.expect(b"<boss> I am still on")
    refused = srv.connect(source="127.0.0.1")
    assert refused.closed() and b"banned" in refused.text
    boss.line("/unban 127.0.0.1")
    boss.expect(b"Unbanned 127.0.0.1/32.")
    srv.connect(source="127.0.0.1").expect(b"login: ")
    actions = [e["action"] for e in srv.events() if e["eventid"] == "bbs.sysop.action"]
    assert actions == ["ban", "unban"]


def test_a_ban_from_the_shell_lasts_a_day_unless_told_otherwise(boss_server):
    srv = boss_server
    added = srv.admin("ban", "add", "127.0.0.7", "--reason", "from the shell")
    assert (added.returncode, added.stdout) == (0, "Banned 127.0.0.7/32 for 1d.\n")
    forever = srv.admin("ban", "add", "127.0.0.8", "--duration", "perm")
    assert forever.stdout == "Banned 127.0.0.8/32 permanently.\n"
    listed = srv.admin("ban", "list").stdout
    assert re.search(r"127\.0\.0\.7/32\s+(1d|23h 59m) left", listed)
    assert re.search(r"127\.0\.0\.8/32\s+permanent", listed)
    srv.wait_for_log("Bans updated")
    shut_out = srv.connect(source="127.0.0.7")
    assert shut_out.closed()
    assert re.search(rb"You are banned: from the shell \(until .* UTC, in (1d|23h 59m)\)",
                     shut_out.text)
