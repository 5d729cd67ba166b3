"""Look-alike names where they are chosen: login, /nick, /register, the hub, the owner's return."""

from __future__ import annotations

import pytest
from twisted.trial.unittest import TestCase

from bbs import effects as fx
from bbs.commands import CommandError
from bbs.commands.accounts import identify
from bbs.hub import LOBBY
from bbs.names import Registered
from tests.commands.invoke import ctx, register, run
from tests.harness import Harness, said, settle
from tests.members import FakeMember, make, turn


# -- the hub ------------------------------------------------------------------


def test_a_look_alike_of_someone_online_is_refused_by_the_hub():
    hub, (alice, bob) = make("alice", "bob")
    late = FakeMember(hub, "carol")
    assert hub.claim(late, "b0b") == "The nickname b0b looks like bob, who is online."
    assert hub.claim(late, "аlice") == "The nickname аlice looks like alice, who is online."
    assert hub.claim(late, "Bob") == "The nickname Bob is in use."
    assert hub.holder("B0B") is bob and hub.holder("dave") is None


def test_a_name_given_up_or_left_behind_is_free_for_its_look_alikes():
    hub, (alice, bob) = make("alice", "bob")
    assert hub.claim(bob, "robert") is None
    late = FakeMember(hub, "carol")
    assert hub.claim(late, "b0b") is None  # bob is robert now
    hub.leave(alice)
    assert hub.claim(late, "аlice") is None
    assert hub.holder("robert") is bob


def test_one_may_change_to_a_look_alike_of_ones_own_name():
    hub, (alice,) = make("alice")
    assert hub.claim(alice, "ALICE") is None
    assert hub.claim(alice, "a1ice") is None
    turn(hub)
    assert alice.seen[-1] == "-- ALICE is now known as a1ice"


def test_a_guest_name_skips_one_that_looks_like_a_name_online():
    hub, (odd,) = make("guestl")  # an account the sysop made
    assert hub.guest_name() == "guest2"
    guest = FakeMember(hub, hub.guest_name())
    assert guest.nick == "guest2"


# -- handlers -----------------------------------------------------------------


def test_login_refuses_a_look_alike_of_a_registered_name_and_says_so(store):
    register(store)
    with pytest.raises(CommandError, match="looks like the registered nickname alice"):
        identify(ctx("guest1", store=store), "аlice")
    with pytest.raises(CommandError, match="reserved: it looks like sysop"):
        identify(ctx("guest1", store=store), "ѕуѕор")
    (ask,) = identify(ctx("guest1", store=store), "ALICE")
    assert ask.login == "ALICE"


def test_nick_refuses_look_alikes_but_the_owner_may_recase_their_name(store):
    register(store)
    with pytest.raises(CommandError, match="looks like the registered nickname alice"):
        run("/nick a1ice", ctx("bob", store=store))
    with pytest.raises(CommandError, match="mixes Latin with Cyrillic letters"):
        run("/nick Ivanов", ctx("bob", store=store))
    with pytest.raises(CommandError, match="reserved: it looks like root"):
        run("/nick r00t", ctx("bob", store=store))
    assert run("/nick Alice", ctx("alice", store=store, account="alice")) == [fx.ChangeNick("Alice")]
    assert run("/nick Иван", ctx("bob", store=store)) == [fx.ChangeNick("Иван")]


def test_register_refuses_a_name_that_looks_like_an_account_made_since(store):
    register(store)
    with pytest.raises(CommandError, match="looks like the registered nickname alice"):
        run("/register", ctx("aIice", store=store))
    assert store.get_account("aIice") is None


def test_a_set_of_folded_names_is_indexed_on_its_way_into_a_context():
    context = ctx("bob", registered=frozenset({"alice"}))
    assert isinstance(context.registered, Registered)
    assert context.registered.like("аlice") == "alice"


# -- a session ----------------------------------------------------------------


class OwnerTests(TestCase):
    async def test_the_owner_takes_back_a_look_alike_held_by_a_guest(self) -> None:
        h = Harness(self)
        squatter, st = await h.login("a1ice")
        h.bbs.registered = Registered.of(["alice"])  # registered from the shell since
        owner, _ = await h.login("")
        owner._logged_in(fx.LoggedIn("alice", False, 0))
        await settle(owner)
        self.assertEqual(owner.nick, "alice")
        self.assertTrue(squatter.guest)
        self.assertTrue(squatter.nick.startswith("guest"))
        self.assertIn("a1ice looks like alice, which is a registered nickname", said(st))
        self.assertIs(h.bbs.hub.holder("a1ice"), owner)
        self.assertEqual(owner.room.key, LOBBY)
