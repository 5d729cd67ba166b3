"""Password hashing: argon2id, upgrades, and no enumeration by timing."""

from collections.abc import Iterator

import pytest
from passlib.hash import argon2

from bbs import passwords


@pytest.fixture
def cheap() -> Iterator[None]:
    """Hash with tiny parameters: the real ones are tested once, below."""
    saved = passwords.context
    passwords.context = passwords.make_context(memory_cost=64, time_cost=1)
    yield
    passwords.context = saved


def test_real_parameters() -> None:
    stored = passwords.hash_password("correct horse")
    assert stored.startswith("$argon2id$")
    assert "m=19456,t=2,p=1" in stored
    assert passwords.verify_password("correct horse", stored) == (True, None)
    assert passwords.verify_password("wrong horse", stored) == (False, None)


def test_dummy_hash_costs_what_a_real_one_does() -> None:
    """The dummy hash carries the current parameters, so it takes as long."""
    assert passwords.DUMMY_HASH.startswith("$argon2id$")
    assert not passwords.make_context().needs_update(passwords.DUMMY_HASH)


def test_salted(cheap: None) -> None:
    first = passwords.hash_password("correct horse")
    assert first != passwords.hash_password("correct horse")
    assert "correct horse" not in first


def test_verify_unknown_never_matches(cheap: None) -> None:
    assert passwords.verify_unknown("anything at all") == (False, None)
    assert passwords.verify_unknown("x" * 10000) == (False, None)


def test_upgrade_to_current_parameters(cheap: None) -> None:
    old = argon2.using(type="ID", memory_cost=32, rounds=1).hash("correct horse")
    ok, replacement = passwords.verify_password("correct horse", old)
    assert ok
    assert replacement is not None and "m=64,t=1" in replacement
    assert passwords.verify_password("correct horse", replacement) == (True, None)


def test_no_upgrade_on_a_wrong_password(cheap: None) -> None:
    old = argon2.using(type="ID", memory_cost=32, rounds=1).hash("correct horse")
    assert passwords.verify_password("wrong horse", old) == (False, None)


@pytest.mark.parametrize("stored", ["", "plain text", "$argon2id$garbage"])
def test_malformed_hash_never_matches(cheap: None, stored: str) -> None:
    assert passwords.verify_password("plain text", stored) == (False, None)


def test_overlong_password_never_matches(cheap: None) -> None:
    stored = passwords.hash_password("x" * passwords.MAX_PASSWORD)
    too_long = "x" * (passwords.MAX_PASSWORD + 1)
    assert passwords.verify_password(too_long, stored) == (False, None)


def test_composed_and_decomposed_spellings_match(cheap: None) -> None:
    stored = passwords.hash_password("caf\u00e9 au lait")
    assert passwords.verify_password("cafe\u0301 au lait", stored) == (True, None)


def test_password_problem() -> None:
    assert passwords.password_problem("1234567") == (
        "Password must be at least 8 characters long."
    )
    assert passwords.password_problem("12345678") is None
    assert passwords.password_problem("x" * passwords.MAX_PASSWORD) is None
    assert "at most" in passwords.password_problem("x" * (passwords.MAX_PASSWORD + 1))
