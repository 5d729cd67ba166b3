from __future__ import annotations

import pytest
from twisted.logger import globalLogPublisher


@pytest.fixture
def logged():
    """Every event sent to Twisted's global log publisher during the test."""
    events: list[dict] = []
    globalLogPublisher.addObserver(events.append)
    yield events
    globalLogPublisher.removeObserver(events.append)
