"""Glued credentials: a user name and its password typed as one line."""

from __future__ import annotations

import pytest

from bbs.guard.credentials import MIRAI, Credential, unglue


@pytest.mark.parametrize("line, user, password", [
    ("rootxc3511", "root", "xc3511"), ("adminadmin", "admin", "admin"),
    ("root7ujMko0vizxv", "root", "7ujMko0vizxv"), ("supportsupport", "support", "support"),
    ("motherfucker", "mother", "fucker"), ("rootxc3511\x00", "root", "xc3511"),
])
def test_glued_credentials_come_apart(line, user, password):
    assert unglue(line) == Credential(user, password)


@pytest.mark.parametrize("line", ["root", "admin", "alice", "rootxc351", "RootXC3511", "", "xc3511"])
def test_anything_else_is_not_a_credential(line):
    assert unglue(line) is None


def test_every_pair_with_a_password_is_known():
    assert all(unglue(u + p) is not None for u, p in MIRAI if p)
