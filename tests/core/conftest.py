from __future__ import annotations

import pytest

from bbs import passwords
from bbs.store import SQLiteStore


@pytest.fixture
def cheap_passwords():
    """argon2 at toy cost: the real parameters are tested in tests/store."""
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
