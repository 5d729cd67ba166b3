"""Hub members without a session: what they were delivered, as text."""

from __future__ import annotations

from twisted.internet.task import Clock

from bbs.hub import LOBBY, Hub
from bbs.lines import Lines


class FakeMember:
    def __init__(self, hub: Hub, nick: str) -> None:
        self.nick = ""
        self.key = ""
        self.room = None
        self.connected = self.last_active = 0.0
        self.away = None
        self.guest = False
        self.sysop = False
        self.account = None
        self.ip = "127.0.0.1"
        self.ignoring: set[str] = set()
        self.seen: list[str] = []
        self.deliveries = 0
        assert hub.claim(self, nick) is None

    def deliver(self, lines: Lines) -> None:
        self.deliveries += 1
        self.seen.extend("".join(s.text for s in m.spans) for m in lines.messages)


def make(*nicks: str) -> tuple[Hub, list[FakeMember]]:
    hub = Hub(Clock())
    members = [FakeMember(hub, n) for n in nicks]
    for m in members:
        hub.join(m, LOBBY)
    turn(hub)
    return hub, members


def turn(hub: Hub) -> None:
    """Let this turn of the reactor end: rooms deliver what was said in it."""
    hub.clock.advance(0)
