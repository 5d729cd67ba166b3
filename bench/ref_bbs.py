#!/usr/bin/env python3
"""The least a Twisted server can do to pass loadgen's C{bbs} dialect: a ceiling.

    python bench/ref_bbs.py PORT

The shared Twisted reference speaks the C{line} dialect (every line to every
connection, no login, no rooms), so it says nothing about what a login into a
room of 100 costs.  This one keeps our contract's bare bones and nothing else:
the first line is a nickname, C{/join ROOM} moves into a room and is announced
to it, any other line goes to everyone in the room, the sender included.  It
does what hfnjbbs does to write (C{TCP_NODELAY}, one write per connection per
reactor turn, sent at once when nothing is queued) and none of the rest: no
telnet layer, line editor, sanitising, limits, bans, events or store.  The gap
between it and hfnjbbs is what all of that costs; the gap between it and the
C{line} reference is what rooms and announcements cost any Twisted server.
"""

from __future__ import annotations

import re
import resource
import sys

from twisted.internet import reactor
from twisted.internet.protocol import Factory, Protocol

# Telnet option answers (IAC WILL/WONT/DO/DONT x): loadgen sends them before its lines.
_IAC = re.compile(rb"\xff[\xfb-\xfe].")
_GREETING = b"\xff\xfb\x01\xff\xfb\x03\xff\xfd\x1f\xff\xfd\x18Welcome.\r\nlogin: "


class Turn:
    """Connections that wrote during this turn of the reactor, flushed at its end."""

    def __init__(self) -> None:
        self.waiting: list[Member] = []

    def add(self, member: Member) -> None:
        if not self.waiting:
            reactor.callLater(0, self.flush)
        self.waiting.append(member)

    def flush(self) -> None:
        waiting, self.waiting = self.waiting, []
        for member in waiting:
            member.flush()


class Member(Protocol):
    def __init__(self, rooms: dict[bytes, set[Member]], turn: Turn) -> None:
        self.rooms = rooms
        self.turn = turn
        self.buffer = b""
        self.nick: bytes | None = None
        self.room: bytes | None = None
        self.out: list[bytes] = []

    def connectionMade(self) -> None:
        self.transport.setTcpNoDelay(True)
        self.socket = self.transport.getHandle()
        self.write(_GREETING)

    def write(self, data: bytes) -> None:
        if not self.out:
            self.turn.add(self)
        self.out.append(data)

    def flush(self) -> None:
        data, self.out = b"".join(self.out), []
        transport = self.transport
        if transport.connected and not transport.dataBuffer and not transport._tempDataLen:
            try:
                data = data[self.socket.send(data):]
            except OSError:
                pass
        if data:
            transport.write(data)

    def dataReceived(self, data: bytes) -> None:
        self.buffer += _IAC.sub(b"", data) if b"\xff" in data else data
        *lines, self.buffer = self.buffer.split(b"\n")
        for line in lines:
            line = line.rstrip(b"\r")
            if line:
                self.line(line)

    def line(self, line: bytes) -> None:
        if self.nick is None:
            self.nick = line
        elif line.startswith(b"/join "):
            self.leave()
            self.room = line[6:]
            self.rooms.setdefault(self.room, set()).add(self)
            self.say(b"-- %s joined %s" % (self.nick, self.room))
        elif self.room is not None:
            self.say(b"<%s> %s" % (self.nick, line))

    def say(self, text: bytes) -> None:
        text += b"\r\n"
        for member in self.rooms[self.room]:
            member.write(text)

    def leave(self) -> None:
        if self.room is not None:
            members = self.rooms[self.room]
            members.discard(self)
            if not members:
                del self.rooms[self.room]

    def connectionLost(self, reason: object = None) -> None:
        self.leave()


def main() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    rooms: dict[bytes, set[Member]] = {}
    turn = Turn()
    factory = Factory.forProtocol(lambda: Member(rooms, turn))
    reactor.listenTCP(int(sys.argv[1]), factory, backlog=511, interface="127.0.0.1")
    reactor.run()


if __name__ == "__main__":
    main()
