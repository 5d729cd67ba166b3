from __future__ import annotations

import pytest

from tests.e2e.harness import Server


@pytest.fixture
def server(tmp_path):
    srv = Server(tmp_path).start()
    yield srv
    srv.stop()


@pytest.fixture
def boss_server(tmp_path):
    """A server with one sysop account, boss (password boss-password-1)."""
    srv = Server(tmp_path)
    made = srv.admin("user", "add", "boss", "--sysop", stdin="boss-password-1\n")
    assert made.returncode == 0, made.stderr
    yield srv.start()
    srv.stop()
