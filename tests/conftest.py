from __future__ import annotations

import pytest
from twisted.logger import globalLogPublisher

from bbs import passwords
from bbs.store import SQLiteStore


@pytest.fixture
def logged():
    """Every event sent to Twisted's global log publisher during the test."""
    events: list[dict] = []
    globalLogPublisher.addObserver(events.append)
    yield events
    globalLogPublisher.removeObserver(events.append)


@pytest.fixture
def cheap_passwords():
    """argon2 at toy cost: the real parameters are tested in tests/test_passwords.py."""
    saved = passwords.context
    passwords.context = passwords.make_context(memory_cost=64, time_cost=1)
    yield
    passwords.context = saved


@pytest.fixture
def store(tmp_path, cheap_passwords):
    s = SQLiteStore(tmp_path / "bbs.sqlite3")
    s.open()
    yield s
    s.close()
