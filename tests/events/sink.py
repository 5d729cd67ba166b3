"""An event sink that keeps events in a list, for tests that read them back."""

from __future__ import annotations

from typing import Any

from zope.interface import implementer

from bbs.events import IEventSink


@implementer(IEventSink)
class MemoryEventSink:
    """Events kept in a list, for tests."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def emit(self, event: dict[str, Any], limited: bool = True) -> None:
        self.events.append(dict(event))
