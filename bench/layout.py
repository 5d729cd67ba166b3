"""Does laying out what a room flush reads first in each object pay?

Two base classes exist only so that CPython places the fields a room flush
reads right after the object header, in its first cache line:
`bbs.session._FlushFirst` (editor, ignoring, door, shared key) and
`bbs.telnet.protocol._Output` with `bbs.sockets.ConnectionSocket`
(batch, closing, coalescer, paused, socket, queued).  This measures a room
flush with those layouts against the same classes with the fields in their
natural order, one class at a time, interleaved in one process, with rooms
big enough that the members do not fit in the CPU's caches.

    PYTHONPATH=. python bench/layout.py [--members 20000] [--rounds 40]

Prints the median flush time per member of each layout and the ratios.
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
from bbs.telnet.protocol import TelnetConnection, _Output
from bbs.sockets import ConnectionSocket


class _NoSink:
    def emit(self, event: dict[str, Any], limited: bool = True) -> None:
        pass


class _Socket:
    """What a connection sends on directly in a room flush: takes it all."""

    __slots__ = ()

    def send(self, data: bytes) -> int:
        return len(data)


class _Sink:
    """A transport that takes writes and keeps nothing."""

    disconnecting = False
    dataBuffer = b""  # nothing queued: sends go straight to the socket
    _tempDataLen = 0

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


def _flat(cls: type, firsts: tuple[type, ...], base: type) -> type:
    """C{cls} without its base classes C{firsts}: their fields come after
    its own, in one class on C{base}, with the same methods."""
    namespace: dict[str, Any] = {}
    slots: list[str] = []
    for part in (*reversed(firsts), cls):
        namespace.update((k, v) for k, v in vars(part).items()
                         if k not in part.__slots__ and k not in ("__dict__", "__weakref__"))
    for part in (cls, *firsts):
        slots.extend(part.__slots__)
    namespace["__slots__"] = tuple(slots)
    return type("Flat" + cls.__name__, (base,), namespace)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    clock = Clock()
    bbs = BBS(Config(), WorkerPool(clock, 1), _NoSink(), clock)
    flat_session = _flat(Session, (_FlushFirst,), object)
    flat_connection = _flat(TelnetConnection, (_Output, ConnectionSocket), TelnetConnection.__bases__[1])
    layouts = {"both first": (Session, TelnetConnection),
               "session natural": (flat_session, TelnetConnection),
               "connection natural": (Session, flat_connection)}
    rooms = {}
    junk = []
    for i in range(args.members):
        for n, (name, (session_class, connection_class)) in enumerate(layouts.items()):
            session = session_class(bbs)
            connection = connection_class(session, clock=clock)
            connection.makeConnection(_Sink())
            connection._socket = _Socket()  # the path of a real TCP connection
            nick = f"m{n}x{i}"
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
    print(f"{shared} of {len(layouts) * args.members} members share the room's bytes")
    times: dict[str, list[float]] = {name: [] for name in layouts}
    gc.disable()
    for r in range(args.rounds):
        for name in (list(layouts) if r % 2 else reversed(list(layouts))):
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
    for name in list(layouts)[1:]:
        print(f"{name} / both first: {medians[name] / medians['both first']:.3f}")


if __name__ == "__main__":
    main()
