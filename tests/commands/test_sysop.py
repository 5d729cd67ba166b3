"""Sysop command handlers: success, refusal for non-sysops, bad arguments."""

from __future__ import annotations


import pytest

from bbs import effects as fx
from bbs.commands import CommandError
from bbs.commands.catalog import load
from bbs.context import Policy, Sighting
from tests.commands.invoke import at_addresses, ctx, run, text_of

registry = load()
SYSOP_COMMANDS = ["kick", "ban", "unban", "bans", "mute", "unmute", "wall", "shutdown", "bots"]


@pytest.mark.parametrize("name", SYSOP_COMMANDS)
def test_every_sysop_command_refuses_others(name):
    assert registry.lookup(name).sysop
    with pytest.raises(CommandError, match=f"Permission denied: /{name} is for sysops"):
        run(f"/{name} bob", ctx())


def boss(store=None, **kw):
    """A sysop; boss, bob and carol each come from an address of their own."""
    context = ctx("boss", sysop=True, store=store,
                  users=(("boss", "lobby"), ("bob", "lobby"), ("carol", "den")), **kw)
    return at_addresses(context, boss="127.0.0.9", carol="127.0.0.3")


def test_kick_needs_an_online_user():
    assert run("/kick BOB spamming", boss()) == [fx.Kick("bob", "spamming")]
    with pytest.raises(CommandError, match="No such user online: dave"):
        run("/kick dave", boss())
    with pytest.raises(CommandError, match="Whom"):
        run("/kick", boss())


def test_ban_an_online_user_bans_their_address(store):
    banned, reply = run("/ban bob 2h being rude", boss(store))
    (record,) = banned.records
    assert (record.kind, record.target, record.reason, record.set_by) == (
        "net", "127.0.0.1/32", "being rude", "boss")
    assert record.expires == pytest.approx(1000.0 + 7200)
    assert "Banned 127.0.0.1/32 for 2h: being rude" == text_of(reply)
    assert [r.target for r in store.list_bans(1000.0)] == ["127.0.0.1/32"]


def test_ban_addresses_networks_and_default_duration(store):
    (banned, _) = run("/ban 10.1.2.3", boss(store))
    assert banned.records[0].target == "10.1.2.3/32"
    assert banned.records[0].expires == 1000.0 + 86400
    (banned, _) = run("/ban 2001:db8::/48 perm scanners", boss(store))
    assert banned.records[0].target == "2001:db8::/48" and banned.records[0].expires is None
    (banned, _) = run("/ban ::ffff:192.0.2.7 1w", boss(store))
    assert banned.records[0].target == "192.0.2.7/32"
    wide = boss(store, policy=Policy(ipv6_ban_prefix=64))
    (banned, _) = run("/ban 2001:db8::1:2", wide)
    assert banned.records[0].target == "2001:db8::/64"


def test_ban_refusals(store):
    with pytest.raises(CommandError, match="Usage"):
        run("/ban", boss(store))
    with pytest.raises(CommandError, match="yourself"):
        run("/ban boss", boss(store))
    with pytest.raises(CommandError, match="Not an address"):
        run("/ban 999.1.1.1/99x", boss(store))


def test_unban_and_bans(store):
    run("/ban 10.0.0.0/8 1d botnet", boss(store))
    listing = [text_of(r) for r in run("/bans", boss(store))]
    assert listing[1].startswith("10.0.0.0/8") and "boss" in listing[1] and "botnet" in listing[1]
    effects = run("/unban 10.0.0.0/8", boss(store))
    assert effects[0] == fx.Unbanned("net", "10.0.0.0/8")
    with pytest.raises(CommandError, match="is not banned"):
        run("/unban 10.0.0.0/8", boss(store))
    assert text_of(run("/bans", boss(store))[0]) == "No bans are in force."


def test_mute_unmute_wall_shutdown():
    mute, reply = run("/mute bob 10m", boss())
    assert mute == fx.Mute("bob", 1000.0 + 600)
    assert text_of(reply) == "Muted bob for 10m."
    assert run("/mute bob", boss())[0] == fx.Mute("bob", None)
    with pytest.raises(CommandError, match="Not a duration"):
        run("/mute bob soon", boss())
    assert run("/unmute bob", boss())[0] == fx.Mute("bob", None, on=False)
    assert run("/wall Server restarts at noon", boss()) == [fx.Wall("Server restarts at noon")]
    with pytest.raises(CommandError, match="Usage"):
        run("/wall", boss())
    assert run("/shutdown 30 back soon", boss()) == [fx.Shutdown(30.0, "back soon")]
    assert run("/shutdown", boss()) == [fx.Shutdown(0.0, "")]
    with pytest.raises(CommandError, match="At most"):
        run("/shutdown 99999", boss())


def test_bots_lists_sightings():
    assert "No bots" in text_of(run("/bots", boss())[0])
    seen = (Sighting(0.0, "203.0.113.9", "login-root", "mirai", "root"),)
    rows = [text_of(r) for r in run("/bots", boss(bots=seen))]
    assert rows[1].split() == ["1970-01-01", "00:00", "203.0.113.9", "login-root", "mirai", "root"]


def test_help_shows_sysop_commands_only_to_sysops():
    assert "/kick" not in text_of(run("/help", ctx())[0])
    assert "/kick NICK [REASON]" in text_of(run("/help", boss())[0])


@pytest.mark.parametrize("name", SYSOP_COMMANDS)
def test_a_role_taken_away_or_an_account_deleted_counts_at_once(store, name):
    # The session still believes it is a sysop (it learnt so at login): the
    # store, read as the command runs, says otherwise.
    store.create_account("boss", "h", sysop=True)
    store.set_sysop("boss", False)
    with pytest.raises(CommandError, match=f"Permission denied: /{name} is for sysops"):
        run(f"/{name} bob", boss(store, account="boss"))
    store.delete_account("boss")
    with pytest.raises(CommandError, match=f"Permission denied: /{name} is for sysops"):
        run(f"/{name} bob", boss(store, account="boss"))


def test_a_sysop_in_the_store_keeps_the_role(store):
    store.create_account("boss", "h", sysop=True)
    assert run("/wall tea", boss(store, account="boss")) == [fx.Wall("tea")]


def test_bans_shows_the_newest_and_finds_by_text(store):
    from bbs.store import BanRecord

    for n in range(60):
        store.add_ban(BanRecord(None, "net", f"192.0.2.{n}/32", "scanning" if n < 55 else "rude",
                                "boss", 900.0, None))
    out = [text_of(r) for r in run("/bans", boss(store))]
    assert len(out) == 1 + 50 + 1
    assert out[1].startswith("192.0.2.59/32") and out[-1] == (
        "The newest 50 of 60 bans in force; /bans TEXT finds by address, nickname, reason or sysop.")
    rude = [text_of(r) for r in run("/bans rude", boss(store))]
    assert len(rude) == 1 + 5 and all("rude" in row for row in rude[1:])
    (none,) = run("/bans nothing-like-it", boss(store))
    assert text_of(none) == "No ban in force mentions nothing-like-it."
