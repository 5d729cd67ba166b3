"""Sessions over StringTransport: login, chat, commands on the worker pool,
what tab completion offers."""

from __future__ import annotations

import threading

from twisted.internet import reactor
from twisted.internet.task import deferLater
from twisted.trial.unittest import TestCase

from bbs import effects as fx
from bbs.commands import Registry
from bbs.commands.catalog import load
from bbs import passwords
from bbs.pool import blocking
from bbs.config import Config
from bbs.telnet.protocol import TelnetConnection
from tests.harness import Harness, said, settle
from tests.world import World


class SessionTests(TestCase):
    def setUp(self) -> None:
        self.h = Harness(self)

    async def test_login_as_guest_or_nick_lands_in_the_lobby(self) -> None:
        guest, gt = await self.h.login("")
        alice, at = await self.h.login("alice")
        self.assertEqual(guest.nick, "guest1")
        self.assertIn("You are in the lobby", said(gt))
        self.assertIn("-- alice joined lobby", said(gt))
        self.assertIs(alice.room, guest.room)
        ids = [e["eventid"] for e in self.h.events.events]
        self.assertIn("cowrie.session.connect", ids)
        self.assertIn("bbs.user.login", ids)

    async def test_a_bad_name_at_the_login_prompt_is_explained_and_asked_again(self) -> None:
        session, transport = self.h.connect()
        for bad in ("x", "guest5", "two words"):
            transport.clear()
            session.door_data(bad.encode() + b"\n")
            await settle(session)
            self.assertIn("Try another, or press Enter to be a guest.", " ".join(said(transport).split()))
            self.assertEqual((session.state, session.nick), ("login", ""))
        session.door_data(b"\n")
        await settle(session)
        self.assertEqual(session.nick, "guest1")

    def test_every_connection_gets_its_own_session_id(self) -> None:
        ids = [self.h.connect()[0].id for _ in range(2000)]
        self.assertEqual(len(set(ids)), len(ids))
        for session_id in ids:
            self.assertRegex(session_id, r"^[0-9a-f]{12}$")
        logged = {e["session"] for e in self.h.events.events if e["eventid"] == "cowrie.session.connect"}
        self.assertEqual(logged, set(ids))

    async def test_chat_reaches_everyone_including_the_sender(self) -> None:
        alice, at = await self.h.login("alice")
        bob, bt = await self.h.login("bob")
        alice.door_data(b"hello bob\n")
        await settle(alice)
        self.assertIn("<alice> hello bob", said(at))
        self.assertIn("<alice> hello bob", said(bt))

    async def test_blocking_handlers_run_off_the_reactor_thread(self) -> None:
        threads: dict[str, list[int]] = {"quick": [], "hash": [], "store": []}
        registry = Registry()

        @registry.command("quick", "/quick", "never blocks")
        def quick(ctx, args):
            threads["quick"].append(threading.get_ident())
            return [fx.Reply("quick ran")]

        @registry.command("hash", "/hash", "hashes a password")
        def hash_(ctx, args):
            threads["hash"].append(threading.get_ident())
            passwords.hash_password("correct horse")
            return [fx.Reply("hash ran")]

        @registry.command("store", "/store", "reads the store")
        def store(ctx, args):
            threads["store"].append(threading.get_ident())
            return [fx.Reply(f"store says {ctx.store.answer()}")]

        class Store:
            def answer(self) -> str:
                stored.append(threading.get_ident())
                return "42"

        stored: list[int] = []
        alice, at = await self.h.login("alice")
        self.h.bbs.store = Store()
        self.h.bbs.commands = registry
        alice.door_data(b"/quick\n/hash\n/store\n")
        await settle(alice)
        self.assertIn("quick ran", said(at))
        self.assertIn("hash ran", said(at))
        self.assertIn("store says 42", said(at))
        here = threading.get_ident()
        self.assertEqual(threads["quick"], [here])
        # Tried here first, stopped before the blocking part, run again in a worker.
        self.assertEqual(threads["hash"][0], here)
        self.assertNotEqual(threads["hash"][1], here)
        self.assertEqual(len(threads["store"]), 2)
        self.assertNotIn(here, stored)
        self.assertEqual(len(stored), 1)

    async def test_a_crashing_handler_is_contained(self) -> None:
        registry = load()
        boom = Registry()
        for c in registry:
            boom.command(c.name, c.usage, c.summary, aliases=c.aliases)(c.handler)

        @boom.command("boom", "/boom", "crash")
        def crash(ctx, args):
            raise RuntimeError("kaboom")

        self.h.bbs.commands = boom
        alice, at = await self.h.login("alice")
        alice.door_data(b"/boom\nstill here\n")
        await settle(alice)
        self.assertIn("/boom failed with an internal error", said(at))
        self.assertIn("<alice> still here", said(at))
        errors = [e for e in self.h.events.events if e["eventid"] == "bbs.command.error"]
        self.assertEqual(len(errors), 1)
        self.flushLoggedErrors(RuntimeError)

    async def test_per_session_order_holds_while_many_sessions_send_at_once(self) -> None:
        # Trusted, so that the flood limit lets 20 lines at once through.
        self.h = Harness(self, config=Config(trust=("127.0.0.0/8",)))
        registry = Registry()

        @registry.command("n", "/n X", "echo a number after a pause")
        def n(ctx, args):
            blocking()
            threading.Event().wait(0.001 * (int(args) % 3))
            return [fx.Reply(f"n={args}")]

        self.h.bbs.commands = registry
        sessions = [await self.h.login(f"user{i}") for i in range(8)]
        for s, t in sessions:
            t.clear()
            s.door_data(b"".join(b"/n %d\n" % k for k in range(20)))
        for s, t in sessions:
            await settle(s)
        for s, t in sessions:
            numbers = [int(x.split("=")[1]) for x in said(t).split() if x.startswith("n=")]
            self.assertEqual(numbers, list(range(20)))

    async def test_commands_then_chat_keep_their_order(self) -> None:
        alice, at = await self.h.login("alice")
        bob, bt = await self.h.login("bob")
        bob.door_data(b"/join den\n")
        await settle(bob)
        bt.clear()
        alice.door_data(b"/join den\nhi den\n")
        await settle(alice)
        text = said(bt)
        self.assertIn("<alice> hi den", text)
        self.assertLess(text.index("alice joined den"), text.index("<alice> hi den"))

    async def test_nothing_overtakes_a_line_said_earlier_in_the_room(self) -> None:
        # Room lines wait for the end of the reactor's turn; a private message
        # in the same turn must still arrive after them.
        alice, at = await self.h.login("alice")
        bob, bt = await self.h.login("bob")
        at.clear()
        alice.door_data(b"hello\n")
        bob.door_data(b"/msg alice psst\n")
        await settle(bob)
        await settle(alice)
        text = said(at)
        self.assertLess(text.index("<alice> hello"), text.index("*bob* psst"))

    async def test_quitting_tells_the_room_and_closes(self) -> None:
        alice, at = await self.h.login("alice")
        bob, bt = await self.h.login("bob")
        alice.door_data(b"/quit see you\n")
        await settle(alice)
        self.assertTrue(at.disconnecting)
        alice.door.connectionLost(None)
        await deferLater(reactor, 0, lambda: None)
        self.assertIn("-- alice left (see you)", said(bt))
        self.assertIsNone(self.h.bbs.hub.find("alice"))


class ThreadSafetyTests(TestCase):
    """Rooms and transports are only ever touched on the reactor thread."""

    async def test_hub_and_transports_are_used_only_on_the_reactor_thread(self) -> None:
        from bbs.hub import Hub

        reactor_thread = threading.get_ident()
        touched: list[tuple[str, int]] = []

        def watch(cls, name):
            original = getattr(cls, name)

            def checked(*args, **kwargs):
                touched.append((name, threading.get_ident()))
                return original(*args, **kwargs)

            self.patch(cls, name, checked)

        for name in ("claim", "join", "leave", "say", "broadcast", "set_topic", "view", "changed"):
            watch(Hub, name)
        for name in ("write", "write_prepared", "close"):
            watch(TelnetConnection, name)
        h = Harness(self)
        alice, _ = await h.login("alice")
        bob, _ = await h.login("bob")
        for line in (b"/join den\n", b"hi\n", b"/topic tea\n", b"/msg bob psst\n",
                     b"/who\n", b"/me waves\n", b"/nick alicia\n", b"/part\n", b"/quit\n"):
            alice.door_data(line)
        await settle(alice)
        names = {name for name, _ in touched}
        self.assertTrue({"join", "say", "set_topic", "write", "claim"} <= names)
        self.assertEqual({ident for _, ident in touched}, {reactor_thread})


SYSOP_ONLY = sorted(f"/{c.name}" for c in load() if c.sysop)


def test_tab_offers_only_the_commands_a_user_may_run():
    w = World()
    person, _ = w.guest("192.0.2.10")
    offered = person.editor_complete("/")
    assert "/help" in offered and "/msg" in offered
    assert not set(SYSOP_ONLY) & set(offered)
    assert person.editor_complete("/ki") == [] and person.editor_complete("/shut") == []
    person.sysop = True
    assert set(SYSOP_ONLY) <= set(person.editor_complete("/"))
    assert person.editor_complete("/ki") == ["/kick"]
