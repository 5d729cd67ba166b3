from __future__ import annotations

import pytest

from tests.e2e.harness import Server


@pytest.fixture
def server(tmp_path):
    srv = Server(tmp_path).start()
    yield srv
    srv.stop()
