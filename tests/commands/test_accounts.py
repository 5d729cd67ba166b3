"""Account, mail, board and /seen handlers against a real SQLite store."""

from __future__ import annotations

import pytest

from bbs import effects as fx
from bbs import passwords
from bbs.commands import CommandError
from bbs.commands.accounts import identify
from tests.commands.invoke import answer, ctx, register, run, text_of


def test_register_asks_twice_then_logs_in(store):
    reply, logged_in = register(store)
    assert "Registered alice" in text_of(reply)
    assert logged_in == fx.LoggedIn("alice", False, 0)
    account = store.get_account("ALICE")
    assert account is not None and "correct horse" not in account.password_hash


def test_register_refusals(store):
    c = ctx(store=store)
    (ask,) = run("/register", c)
    with pytest.raises(CommandError, match="at least 8"):
        answer(ask, c, "short")
    (again,) = answer(ask, c, "long enough")
    with pytest.raises(CommandError, match="differ"):
        answer(again, c, "long enougj")
    assert store.get_account("alice") is None
    register(store)
    with pytest.raises(CommandError, match="registered already"):
        run("/register", ctx(store=store))
    with pytest.raises(CommandError, match="already registered"):
        run("/register", ctx(store=store, account="alice"))


def test_login_prompt_asks_a_registered_nick_for_its_password(store):
    register(store)
    (ask,) = identify(ctx("guest1", store=store), "Alice")
    assert ask.secret and ask.login == "Alice"
    assert answer(ask, ctx(store=store), "correct horse") == [fx.LoggedIn("alice", False, 0)]
    assert answer(ask, ctx(store=store), "wrong horse") == [fx.LoginFailed("Alice")]
    assert identify(ctx("guest1", store=store), "bob") == [fx.ChangeNick("bob")]
    with pytest.raises(CommandError, match="reserved"):
        identify(ctx("guest1", store=store), "admin")


def test_unknown_account_fails_like_a_wrong_password(store):
    (ask,) = run("/login nobody", ctx(store=store))
    assert answer(ask, ctx(store=store), "whatever1") == [fx.LoginFailed("nobody")]


def test_old_hashes_are_upgraded_on_login(store):
    old = passwords.make_context(memory_cost=32, time_cost=1)
    store.create_account("dave", old.hash("password1"))
    (ask,) = run("/login dave", ctx(store=store))
    assert answer(ask, ctx(store=store), "password1")[0].nick == "dave"
    assert store.get_account("dave").password_hash.startswith("$argon2id$v=19$m=64,")


def test_nick_to_a_registered_name_is_refused(store):
    register(store)
    with pytest.raises(CommandError, match="Alice is a registered nickname; /login Alice"):
        run("/nick Alice", ctx("bob", store=store))
    with pytest.raises(CommandError, match="registered nickname"):
        run("/nick ALICE", ctx("bob", store=store))


def test_password_change(store):
    register(store)
    c = ctx(store=store, account="alice")
    (old,) = run("/password", c)
    with pytest.raises(CommandError, match="not your password"):
        answer(old, c, "wrong one!")
    (new,) = answer(old, c, "correct horse")
    (again,) = answer(new, c, "battery staple")
    assert "changed" in text_of(answer(again, c, "battery staple")[0])
    ok, _ = passwords.verify_password("battery staple", store.get_account("alice").password_hash)
    assert ok
    with pytest.raises(CommandError, match="registered users"):
        run("/password", ctx(store=store))


def test_mail_inbox_and_delete(store):
    register(store, "alice")
    register(store, "bob")
    sent = run("/mail BOB see you at eight", ctx(store=store, account="alice"))
    assert "saved" in text_of(sent[0])
    assert sent[1] == fx.Notify("bob", "You have new mail from alice; /inbox reads it.")
    assert store.unread_count("bob") == 1
    listing = [text_of(r) for r in run("/inbox", ctx("bob", store=store, account="bob"))]
    assert listing[0].startswith("1. [new] from alice, ") and listing[0].endswith("see you at eight")
    assert store.unread_count("bob") == 0
    assert "deleted" in text_of(run("/inbox del 1", ctx("bob", store=store, account="bob"))[0])
    with pytest.raises(CommandError, match="no letter 1"):
        run("/inbox del 1", ctx("bob", store=store, account="bob"))
    with pytest.raises(CommandError, match="no registered user called carol"):
        run("/mail carol hi", ctx(store=store, account="alice"))
    with pytest.raises(CommandError, match="Only registered users"):
        run("/mail bob hi", ctx("carol", store=store))


def test_boards_post_and_read(store):
    register(store)
    c = ctx(store=store, account="alice")
    intro, ask = run("/post general Hello world", c)
    (ask,) = answer(ask, c, "first line")
    (ask,) = answer(ask, c, "second line")
    (done,) = answer(ask, c, ".")
    assert "general #1" in text_of(done)
    boards = [text_of(r) for r in run("/boards", c)]
    assert any(b.split()[:2] == ["general", "1"] for b in boards)
    assert any(b.split()[:2] == ["announcements", "0"] for b in boards)
    (listing,) = run("/read general", ctx("guest1", store=store))
    assert "alice" in text_of(listing) and "Hello world" in text_of(listing)
    shown = [text_of(r) for r in run("/read general 1", ctx("guest1", store=store))]
    assert shown[0] == "#1 Hello world" and shown[2] == "first line\nsecond line"


def test_post_refusals(store):
    register(store)
    with pytest.raises(CommandError, match="Only registered users can post"):
        run("/post general Hi", ctx("guest1", store=store))
    with pytest.raises(CommandError, match="Only sysops post on announcements"):
        run("/post announcements Hi", ctx(store=store, account="alice"))
    with pytest.raises(CommandError, match="no board called attic"):
        run("/read attic", ctx(store=store))
    c = ctx(store=store, account="alice")
    _, ask = run("/post general Hi", c)
    assert "cancelled" in text_of(answer(ask, c, "~q")[0])
    assert store.list_posts("general") == []


def test_seen(store):
    register(store)
    store.touch_seen("alice", 0.0)
    assert "1970-01-01 00:00 UTC" in text_of(run("/seen alice", ctx("carol", store=store,
                                                                     users=(("carol", "lobby"),)))[0])
    assert "online now" in text_of(run("/seen bob", ctx(store=store))[0])
    with pytest.raises(CommandError):
        run("/seen nobody", ctx(store=store))
