"""/key: a registered user's SSH keys, against a real SQLite store and keys
made by ssh-keygen."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from twisted.conch.ssh.common import NS

from bbs.commands import CommandError
from bbs.store import KEYS_PER_ACCOUNT, KeyExists, TooManyKeys
from tests.commands.invoke import ctx, run, text_of
from tests.keygen import keygen, keygen_l


@pytest.fixture
def alice(store):
    store.create_account("alice", "h")
    return ctx(store=store, account="alice", now=1_800_000_000.0)


def texts(effects) -> list[str]:
    return [text_of(e) for e in effects]


def test_add_list_and_delete(tmp_path: Path, store, alice) -> None:
    pub = keygen(tmp_path, "-t", "ed25519", comment="alice@laptop")
    (added,) = texts(run("/key add " + pub.read_text().strip(), alice))
    assert added.startswith("Key 1 added: " + keygen_l(pub))
    assert "log in as alice over SSH" in added
    blob = store.list_keys("alice")[0].blob
    assert store.has_key("alice", blob)

    shown = texts(run("/key list", alice))
    fingerprint = keygen_l(pub).split()[1]
    assert shown[0] == "SSH keys of alice:"
    assert shown[1] == (f" 1. ssh-ed25519  {fingerprint}  alice@laptop  "
                        "added 2027-01-15 08:00 UTC")
    assert "/key del N" in shown[-1]
    assert texts(run("/key", alice)) == shown

    (deleted,) = texts(run("/key del 1", alice))
    assert deleted == f"Key 1 deleted: ssh-ed25519 {fingerprint} alice@laptop."
    assert not store.has_key("alice", blob)
    (empty,) = texts(run("/key list", alice))
    assert "You have no SSH keys" in empty


def test_keys_keep_their_order_and_numbers_close_up(tmp_path: Path, store, alice) -> None:
    pubs = [keygen(tmp_path, "-t", "ed25519", comment=f"k{n}", name=f"k{n}") for n in range(3)]
    for pub in pubs:
        run("/key add " + pub.read_text(), alice)
    run("/key del 2", alice)
    listed = texts(run("/key list", alice))[1:-1]
    assert [line.split()[0] for line in listed] == ["1.", "2."]
    assert ["k0" in listed[0], "k2" in listed[1]] == [True, True]


def test_the_same_key_twice(tmp_path: Path, alice) -> None:
    line = keygen(tmp_path, "-t", "ed25519").read_text()
    run("/key add " + line, alice)
    with pytest.raises(KeyExists, match="^That key is already on your account.$"):
        run("/key add " + line.replace("me@host", "other comment"), alice)


def test_at_most_so_many_keys(alice, store, monkeypatch) -> None:
    monkeypatch.setattr("bbs.store.sqlite.KEYS_PER_ACCOUNT", 2)
    for n in range(2):
        run("/key add ssh-ed25519 " + _ed25519(n), alice)
    with pytest.raises(TooManyKeys, match="at most 2 keys"):
        run("/key add ssh-ed25519 " + _ed25519(9), alice)
    assert KEYS_PER_ACCOUNT == 16


def _ed25519(n: int) -> str:
    """A fresh ed25519 key's line, made without ssh-keygen (faster)."""
    raw = ed25519.Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(NS(b"ssh-ed25519") + NS(raw)).decode() + f" key{n}"


@pytest.mark.parametrize("line, refusal", [
    ("/key add", "Usage: /key add <a line of your .pub file>"),
    ("/key add hello", "That is not an OpenSSH public key; .* Nothing was added."),
    ("/key add ssh-ed25519 " + "A" * 9000, "9,012 bytes long; .* at most 8 KiB. Nothing was added."),
    ("/key del", "Usage: /key del N"),
    ("/key del x", "Usage: /key del N"),
    ("/key del 1", "You have no key 1; /key list shows them."),
    ("/key frob", "Usage: /key list, /key add"),
    ("/key list all", "Usage: /key list, /key add"),
])
def test_refusals_say_why(alice, store, line: str, refusal: str) -> None:
    with pytest.raises(CommandError, match=refusal):
        run(line, alice)
    assert store.list_keys("alice") == []


def test_small_rsa_is_refused(tmp_path: Path, alice, store) -> None:
    pub = keygen(tmp_path, "-t", "rsa", "-b", "1024")
    with pytest.raises(CommandError, match="1024 bits, too few"):
        run("/key add " + pub.read_text(), alice)


@pytest.mark.parametrize("line", ["/key", "/key list", "/key add ssh-ed25519 AAAA", "/key del 1"])
def test_only_for_a_registered_user_logged_in(store, line: str) -> None:
    with pytest.raises(CommandError, match="^Only registered users can log in with SSH keys; "
                                           "see /help register.$"):
        run(line, ctx(store=store))


def test_help_documents_it() -> None:
    (reply,) = run("/help key")
    assert text_of(reply).startswith("/key [add KEY|del N]")
    (listing,) = run("/help")
    assert "/key [add KEY|del N]" in text_of(listing)
