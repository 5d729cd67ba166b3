"""Does laying out what a room flush reads first in each object pay?

`bbs.session._FlushFirst` is a base class that exists only so that CPython places
the fields a room flush reads (editor, ignoring, door, shared key) right
after the object header, in its first cache line.  This measures a room
flush with that layout against the same class with the fields in their
natural order, A/B interleaved in one process, with rooms big enough that
the members do not fit in the CPU's caches.

    python bench/layout.py [--members 20000] [--rounds 40]

Prints the median flush time per member of each layout and their ratio.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from typing import Any

from twisted.internet.task import Clock

from bbs.config import Config
from bbs.lines import Message
from bbs.pool import WorkerPool
from bbs.server import BBS
from bbs.session import Session, _FlushFirst
from bbs.styled import Span
from bbs.telnet.protocol import TelnetConnection


class _NoSink:
    def emit(self, event: dict[str, Any], limited: bool = True) -> None:
        pass


class _Sink:
    """A transport that takes writes and keeps nothing."""

    disconnecting = False

    def write(self, data: bytes) -> None:
        pass

    def writeSequence(self, data: list[bytes]) -> None:
        pass

    def getPeer(self) -> Any:
        from twisted.internet.address import IPv4Address
        return IPv4Address("TCP", "127.0.0.1", 40000)

    getHost = getPeer

    def registerProducer(self, producer: Any, streaming: bool) -> None:
        pass

    def unregisterProducer(self) -> None:
        pass

    def loseConnection(self) -> None:
        pass


def _flat() -> type:
    """Session with the seat's fields among the rest, not first."""
    namespace = {k: v for k, v in vars(Session).items()
                 if k not in Session.__slots__ and k not in ("__dict__", "__weakref__")}
    namespace["__slots__"] = tuple(Session.__slots__) + tuple(_FlushFirst.__slots__)
    return type("FlatSession", (object,), namespace)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    clock = Clock()
    bbs = BBS(Config(), WorkerPool(clock, 1), _NoSink(), clock)
    layouts = {"seat first": Session, "natural order": _flat()}
    rooms = {}
    junk = []
    for i in range(args.members):
        for name, cls in layouts.items():
            session = cls(bbs)
            TelnetConnection(session, clock=clock).makeConnection(_Sink())
            nick = f"{name[0]}{i}"
            assert bbs.hub.claim(session, nick) is None
            session.nick = nick
            bbs.hub.join(session, name.replace(" ", "-"))
            session.editor.print("")  # the row is free again: line-mode chat, as in bench/run.py
            session.editor.set_prompt("")
            rooms[name] = session.room
            junk.append(bytearray(200))  # what else a server allocates between logins
    clock.advance(0)
    bbs.hub.flush()
    shared = sum(s.shared_key is not None for room in rooms.values() for s in room.members)
    print(f"{shared} of {2 * args.members} members share the room's bytes")
    times: dict[str, list[float]] = {name: [] for name in layouts}
    gc.disable()
    for r in range(args.rounds):
        for name in (layouts if r % 2 else reversed(list(layouts))):
            room = rooms[name]
            bbs.hub.broadcast(room, Message((Span(f"<x> line {r}"),), "x"))
            started = time.perf_counter()
            bbs.hub.flush()
            times[name].append((time.perf_counter() - started) / args.members)
            for chunk in junk[::7]:
                chunk[0] = r & 255  # evict the members from the caches
    gc.enable()
    medians = {name: statistics.median(t) for name, t in times.items()}
    for name, median in medians.items():
        print(f"{name:>14}: {median * 1e9:7.1f} ns per member")
    print(f"natural / seat first: {medians['natural order'] / medians['seat first']:.3f}")


if __name__ == "__main__":
    main()
