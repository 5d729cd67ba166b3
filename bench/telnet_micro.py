"""Micro-benchmark of the telnet layer's hot paths, one tree against another.

    python bench/telnet_micro.py                        # this tree only
    python bench/telnet_micro.py --tree OLD --tree .    # side by side (e.g. a main checkout)

Each tree runs in its own process (its code first on PYTHONPATH), in turns,
and the best of --rounds is kept per scenario:

- lines: 10,000 plain lines (CR LF), one packet each, into one connection;
- mixed: a stream of negotiation answers, NAWS, TTYPE, CR NUL and plain
  text, cut into 7-byte packets, the byte-level states' share;
- login: a connection's life as in a login storm: connect (the opening),
  four answers, a window and a terminal type, three lines, close;
- fanout: one end of turn writing a line to 1,000 connections whose socket
  takes everything (the room flush's direct-send path).

Over C{StringTransport} and a no-op application: what is measured is the
telnet layer alone.  Figures are microseconds per line, per packet, per
login and per member.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

SCENARIOS = ("lines", "mixed", "login", "fanout")


def _child(rounds: int) -> dict[str, float]:
    from twisted.internet import reactor
    from twisted.internet.testing import StringTransport

    from bbs.telnet.protocol import TelnetConnection

    try:
        from bbs.turns import at_turn_end
    except ImportError:  # before the split
        from bbs.telnet.protocol import at_turn_end  # type: ignore[attr-defined,no-redef]

    class App:
        """A no-op application, under the door names and the telnet names
        they had before (trees from before the door rename)."""

        def door_connected(self, door: object) -> None: ...
        def door_data(self, data: bytes) -> None: ...
        def door_window(self, width: int, height: int) -> None: ...
        def door_ttype(self, name: str) -> None: ...
        def door_echo(self, on: bool) -> None: ...
        def door_signal(self, name: str) -> None: ...
        def door_environ(self, variables: object) -> None: ...
        def door_lost(self, reason: str) -> None: ...

        telnet_connected, telnet_data, telnet_window, telnet_ttype = (
            door_connected, door_data, door_window, door_ttype)
        telnet_echo, telnet_signal, telnet_environ, telnet_lost = (
            door_echo, door_signal, door_environ, door_lost)

    class Socket:
        def send(self, data: bytes) -> int:
            return len(data)

    def connection(coalesce: bool = False) -> TelnetConnection:
        telnet = TelnetConnection(App(), clock=reactor, coalesce=coalesce)
        telnet.makeConnection(StringTransport())
        return telnet

    iac = lambda *b: bytes((255, *b))  # noqa: E731
    answers = iac(253, 1) + iac(253, 3) + iac(251, 31) + iac(251, 24)
    naws = iac(250, 31, 0, 132, 0, 43) + iac(240)
    ttype = iac(250, 24, 0) + b"xterm-256color" + iac(240)

    def lines() -> float:
        telnet = connection()
        telnet.dataReceived(b"alice\r\n")
        packet = b"hello there, this is a chat line\r\n"
        feed = telnet.dataReceived
        start = time.perf_counter()
        for _ in range(10_000):
            feed(packet)
        elapsed = time.perf_counter() - start
        telnet.connectionLost()
        return elapsed / 10_000

    stream = (answers + naws + ttype + b"root\r\0" + b"ls -la\r\n" + iac(246) + b"x\ry\r\n"
              + iac(255) + b"plain text here\r\n") * 200
    packets = [stream[i:i + 7] for i in range(0, len(stream), 7)]

    def mixed() -> float:
        telnet = connection()
        feed = telnet.dataReceived
        start = time.perf_counter()
        for packet in packets:
            feed(packet)
        elapsed = time.perf_counter() - start
        telnet.connectionLost()
        return elapsed / len(packets)

    def login() -> float:
        start = time.perf_counter()
        for _ in range(2_000):
            telnet = connection()
            telnet.dataReceived(answers + naws)
            telnet.dataReceived(ttype)
            telnet.dataReceived(b"alice\r\n")
            telnet.dataReceived(b"/join den\r\n")
            telnet.dataReceived(b"hi all\r\n")
            telnet.close("bye")
            telnet.connectionLost()
        return (time.perf_counter() - start) / 2_000

    members = [connection(coalesce=True) for _ in range(1_000)]
    for member in members:
        member._socket = Socket()  # as a plain TCP transport would let it
        member._queued = False
    wire = b"<alice> hello there, this is a chat line\r\n"

    def fanout() -> float:
        writes = [getattr(m, "write_prepared", None) or m.write_wire for m in members]

        def room() -> None:
            for write in writes:
                write(wire)

        start = time.perf_counter()
        for _ in range(50):
            at_turn_end(reactor, room)
            reactor.runUntilCurrent()  # the turn ends: the source runs
        return (time.perf_counter() - start) / (50 * len(members))

    best = {}
    for name, run in (("lines", lines), ("mixed", mixed), ("login", login), ("fanout", fanout)):
        best[name] = min(run() for _ in range(rounds)) * 1e6
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tree", action="append", help="a checkout to measure (default: this one)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--turns", type=int, default=3, help="processes per tree, in turns")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.rounds)))
        return
    trees = [str(Path(t).resolve()) for t in (args.tree or [Path(__file__).parent.parent])]
    results: dict[str, list[dict[str, float]]] = {t: [] for t in trees}
    for _ in range(args.turns):
        for tree in trees:
            env = dict(os.environ, PYTHONPATH=tree)
            out = subprocess.run([sys.executable, __file__, "--child", "--rounds", str(args.rounds)],
                                 env=env, cwd=tree, capture_output=True, text=True, check=True)
            results[tree].append(json.loads(out.stdout))
    print(f"{'scenario':<10}" + "".join(f"{Path(t).name:>16}" for t in trees)
          + ("     ratio" if len(trees) == 2 else ""))
    for name in SCENARIOS:
        figures = [min(r[name] for r in results[t]) for t in trees]
        row = f"{name:<10}" + "".join(f"{f:>13.3f} us" for f in figures)
        if len(trees) == 2:
            row += f"{figures[1] / figures[0]:>10.3f}"
        print(row)


if __name__ == "__main__":
    main()
