"""The Seat: what a session may use of the server, and the server has all of it."""

from __future__ import annotations

import inspect

from bbs.seat import Seat
from tests.world import World, text


def _members() -> set[str]:
    names = set(inspect.get_annotations(Seat))
    names |= {n for n, v in vars(Seat).items()
              if not n.startswith("_") and (callable(v) or isinstance(v, property))}
    return names


def test_the_server_has_every_member_of_the_seat() -> None:
    bbs = World().bbs
    missing = sorted(n for n in _members() if not hasattr(bbs, n))
    assert not missing, f"the server lacks what sessions use: {missing}"
    assert {"ban_bot", "add_bans", "lift_ban", "mute_address", "sighted", "ended", "shutdown_in"} \
        <= _members()


def test_a_muted_address_is_still_muted_after_reconnecting_until_unmuted() -> None:
    w = World()
    alice, _ = w.guest("192.0.2.5")
    alice.mute(w.clock.seconds() + 600, "by a sysop")
    again, t = w.guest("192.0.2.5")
    assert again.is_muted()
    again.unmute()
    assert "You are no longer muted." in text(t)
    third, _ = w.guest("192.0.2.5")
    assert not third.is_muted()


def test_a_mute_ends_by_itself_for_the_next_connection_too() -> None:
    w = World()
    alice, _ = w.guest("192.0.2.6")
    alice.mute(w.clock.seconds() + 60, "flooding")
    w.clock.advance(61)
    assert not alice.is_muted()
    again, _ = w.guest("192.0.2.6")
    assert not again.is_muted()


def test_a_trapped_bot_is_remembered_for_bots() -> None:
    w = World()
    bot, _ = w.connect("192.0.2.7")
    bot.door_data(b"enable\r\n")
    assert [s.ip for s in w.bbs.sightings] == ["192.0.2.7"]
