"""Soak: ordinary chat under a steady mix of hostile clients, on loopback.

    python bench/soak.py [--duration 180] [--chatters 50] [--rooms 5] [--rate 1]

Starts the real `twistd -n hfnjbbs` on a free 127.0.0.1 port with a fresh
data directory, then for --duration seconds runs chatters (each in one of
the rooms, saying --rate lines a second) beside hostile clients that are
replaced as they go: random bytes, negotiation and NAWS storms, clients
that never read, connect/disconnect churn and bots typing `root`/`sh`.
Every 10 s it prints the server's RSS, the chat lines delivered and their
delivery latency; at the end a summary table.  Every client uses its own
address in 127.0.0.0/8, nothing leaves the host, and it stops by itself.
"""

from __future__ import annotations

import abc
import argparse
import itertools
import os
import random
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IAC, SB, SE = 255, 250, 240
WILL, WONT, DO, DONT = 251, 252, 253, 254
REPORT_EVERY = 10.0
TICK = 0.02  # seconds between hostile steps
OUTBOX = 64 * 1024  # a flooding client queues no more than this itself
BOT_LINES = (b"root\r\n", b"sh\r\n", b"enable\r\n", b"system\r\n",
             b"/bin/busybox SOAKBOT\r\n", b"cat /proc/mounts; /bin/busybox SOAKBOT\r\n")
_CHAT = re.compile(rb"soak (\d+) (\d+)\b")
_REFUSED = (b"Too many", b"too fast", b"banned", b"full")


# -- the server ---------------------------------------------------------------------

class Server:
    """twistd on a free loopback port; its log goes to a file, never a full pipe."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.log = workdir / "twistd.log"
        self.proc: subprocess.Popen | None = None
        self.port = 0

    def start(self, deadline: float = 30.0) -> "Server":
        env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", "from twisted.scripts.twistd import run; run()",
                 "-n", "--pidfile=", "hfnjbbs", "--port", "tcp:0:interface=127.0.0.1",
                 "--data", str(self.workdir / "data"), "--web", "none", "--ssh", "none"],
                cwd=self.workdir, env=env, stdout=out, stderr=subprocess.STDOUT,
            )
        end = time.monotonic() + deadline
        while time.monotonic() < end and self.proc.poll() is None:
            found = re.search(r"starting on (\d+)", self.log.read_text("utf-8", "replace"))
            if found:
                self.port = int(found.group(1))
                return self
            time.sleep(0.05)
        self.stop()
        raise SystemExit("the server did not start:\n" + self.log.read_text()[-3000:])

    def rss(self) -> int:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        return int(re.search(r"^VmRSS:\s+(\d+) kB", status, re.M).group(1)) * 1024

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# -- clients ------------------------------------------------------------------------

class Addresses:
    """Fresh loopback source addresses, 127.<net>.x.y."""

    def __init__(self, net: int) -> None:
        self.net = net
        self._n = itertools.count(1)

    def __call__(self) -> str:
        n = next(self._n) % 60000
        return f"127.{self.net}.{n // 250}.{n % 250 + 1}"


def strip_telnet(data: bytes, state: list[int]) -> bytes:
    """Application text of server output; C{state} carries a split command."""
    out = bytearray()
    mode = state[0]  # 0 data, 1 after IAC, 2 option byte, 3 in SB, 4 SB after IAC
    for byte in data:
        if mode == 0:
            if byte == IAC:
                mode = 1
            else:
                out.append(byte)
        elif mode == 1:
            mode = 2 if WILL <= byte <= DONT else 3 if byte == SB else 0
            if byte == IAC:
                out.append(IAC)
        elif mode == 2:
            mode = 0
        elif mode == 3:
            mode = 4 if byte == IAC else 3
        else:
            mode = 0 if byte == SE else 3
    state[0] = mode
    return bytes(out)


class Conn:
    """One non-blocking client socket with its own read buffer."""

    def __init__(self, port: int, source: str, *, rcvbuf: int | None = None) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf is not None:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.bind((source, 0))
        self.sock.settimeout(2.0)
        self.sock.connect(("127.0.0.1", port))
        self.sock.setblocking(False)
        self.text = b""
        self.closed_by_server = False
        self._state = [0]
        self.outbox = b""

    def read(self) -> bool:
        """Take what arrived; False once the server has closed the connection."""
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    self.closed_by_server = True
                    return False
                self.text += strip_telnet(chunk, self._state)
        except BlockingIOError:
            return True
        except OSError:
            self.closed_by_server = True
            return False

    def send(self, data: bytes) -> bool:
        """Queue and push C{data}; False if the server has gone."""
        self.outbox += data
        try:
            while self.outbox:
                sent = self.sock.send(self.outbox[:65536])
                self.outbox = self.outbox[sent:]
        except BlockingIOError:
            pass
        except OSError:
            self.closed_by_server = True
            return False
        return True

    def close(self, abrupt: bool = False) -> None:
        if abrupt:
            try:
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except OSError:
                pass
        self.sock.close()


class Chatter:
    """An ordinary user: logs in, joins a room, says stamped lines, reads everything."""

    def __init__(self, bench: "Soak", number: int, room: str) -> None:
        self.bench = bench
        self.nick = f"soak{number:02d}"
        self.room = room
        self.conn = Conn(bench.server.port, f"127.0.0.{number + 10}")
        self.ready = False
        self.alive = True
        self.seq = 0
        self.next_line = 0.0
        self._stage = 0

    def step(self, now: float) -> None:
        conn = self.conn
        if not self.alive:
            return
        if not conn.read():
            self.alive = False
            self.bench.lost(self, conn.text[-200:])
            return
        if self._stage == 0 and b"login: " in conn.text:
            conn.send(self.nick.encode() + b"\r\n")
            self._stage = 1
        elif self._stage == 1 and b"joined lobby" in conn.text:
            conn.send(b"/join " + self.room.encode() + b"\r\n")
            self._stage = 2
        elif self._stage == 2 and f"joined {self.room}".encode() in conn.text:
            self._stage = 3
            self.ready = True
            conn.text = b""
        if not self.ready:
            return
        cut = conn.text.rfind(b"\n")
        if cut >= 0:  # whole lines only: a stamp may be split between reads
            for match in _CHAT.finditer(conn.text, 0, cut):
                self.bench.delivered(now, int(match.group(2)))
            conn.text = conn.text[cut + 1 :]
        if not self.bench.chatting:
            self.next_line = now + random.random() / self.bench.rate
        elif now >= self.next_line:
            self.seq += 1
            stamp = int((now - self.bench.t0) * 1000)
            conn.send(b"soak %d %d from %s\r\n" % (self.seq, stamp, self.nick.encode()))
            self.bench.said(self.room)
            self.next_line += 1 / self.bench.rate


class Hostile(abc.ABC):
    """Base of the hostile kinds: a connection with a lifetime and a fate."""

    kind = "hostile"
    lifetime = 5.0

    def __init__(self, bench: "Soak", source: str, **conn: int) -> None:
        self.bench = bench
        self.born = time.monotonic()
        self.conn = Conn(bench.server.port, source, **conn)
        self.done = False
        bench.stats[f"{self.kind} connections"] += 1

    def step(self, now: float) -> None:
        open_ = not self.conn.closed_by_server and self.conn.read()
        if any(word in self.conn.text for word in _REFUSED):
            self.finish("refused/banned")
        elif not open_:
            self.finish("closed by server")
        elif now - self.born > self.lifetime:
            self.finish("left", abrupt=random.random() < 0.5)
        else:
            self.act(now)

    @abc.abstractmethod
    def act(self, now: float) -> None:
        """Do this kind's mischief for one step."""

    def finish(self, fate: str, abrupt: bool = False) -> None:
        if not self.done:
            self.done = True
            self.bench.stats[f"{self.kind} {fate}"] += 1
            self.conn.close(abrupt)


class RandomBytes(Hostile):
    kind = "random-bytes"
    lifetime = 3.0

    def act(self, now: float) -> None:
        if len(self.conn.outbox) < OUTBOX:
            self.conn.send(random.randbytes(2048))


class Storm(Hostile):
    kind = "negotiation-storm"
    lifetime = 3.0

    def act(self, now: float) -> None:
        if len(self.conn.outbox) >= OUTBOX:
            return
        verbs = bytes(random.choice((WILL, WONT, DO, DONT)) for _ in range(1000))
        options = random.randbytes(1000)
        burst = b"".join(bytes((IAC, v, o)) for v, o in zip(verbs, options))
        widths = b"".join(bytes((IAC, SB, 31)) + struct.pack(">HH", random.randrange(1, 500), 24)
                          + bytes((IAC, SE)) for _ in range(300))
        self.conn.send(burst + widths)


class NonReader(Hostile):
    """Logs in, then asks for /who four times a second and never reads again."""

    kind = "non-reader"
    lifetime = 120.0

    def __init__(self, bench: "Soak", source: str) -> None:
        super().__init__(bench, source, rcvbuf=4096)
        self.reading = True
        self.answered = False
        self.next_ask = 0.0

    def step(self, now: float) -> None:
        if self.reading:
            super().step(now)
            return
        if now - self.born > self.lifetime:
            self.finish("left", abrupt=True)
        elif now >= self.next_ask:
            self.next_ask = now + 0.25
            if not self.conn.send(b"/who\r\n") or self._reset():
                self.bench.drop_times.append(now - self.born)
                self.finish("closed by server")

    def _reset(self) -> bool:
        """Whether the server has reset the connection (without reading data)."""
        err = self.conn.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        return err != 0

    def act(self, now: float) -> None:
        if b"joined lobby" in self.conn.text:
            self.reading = False  # from now on, never again
        elif b"login: " in self.conn.text and not self.answered:
            self.answered = True
            self.conn.send(b"\r\n")


class Churn(Hostile):
    """Connects and goes, half the time at once, from a few addresses."""

    kind = "churn"
    lifetime = 0.5

    def act(self, now: float) -> None:
        if random.random() < 0.3:
            self.finish("left", abrupt=True)
        elif b"login: " in self.conn.text:
            self.conn.send(b"\r\n")
            self.finish("left", abrupt=random.random() < 0.5)


class Bot(Hostile):
    kind = "bot"
    lifetime = 5.0

    def __init__(self, bench: "Soak", source: str) -> None:
        super().__init__(bench, source)
        self.lines = list(BOT_LINES)

    def act(self, now: float) -> None:
        if b"login: " in self.conn.text and self.lines:
            self.conn.send(self.lines.pop(0))


# -- the run -------------------------------------------------------------------------

class Soak:
    def __init__(self, server: Server, args: argparse.Namespace) -> None:
        self.server = server
        self.rate = args.rate
        self.duration = args.duration
        self.t0 = time.monotonic()
        self.chatting = False  # until every chatter is in its room
        self.latencies: list[float] = []
        self.window: list[float] = []
        self.sent = 0
        self.expected = 0
        self.room_sizes: Counter[str] = Counter()
        self.stats: Counter[str] = Counter()
        self.rss: list[tuple[float, int]] = []
        self.drop_times: list[float] = []
        rooms = [f"room{n + 1}" for n in range(args.rooms)]
        self.chatters = [Chatter(self, n + 1, rooms[n % len(rooms)]) for n in range(args.chatters)]
        for c in self.chatters:
            self.room_sizes[c.room] += 1
        scale = args.hostile
        # kind: (how many at once, where from, seconds between two arrivals)
        self.targets = {
            RandomBytes: (2 * scale, Addresses(101), 0.5),
            Storm: (2 * scale, Addresses(102), 0.5),
            NonReader: (3 * scale, Addresses(103), 1.0),
            Churn: (4 * scale, _pool(104, 8), 0.05),
            Bot: (2 * scale, Addresses(105), 0.5),
        }
        self.arrived: dict[type, float] = {}
        self.hostiles: list[Hostile] = []

    def lost(self, chatter: Chatter, last: bytes) -> None:
        self.stats["chatters disconnected"] += 1
        self.room_sizes[chatter.room] -= 1
        print(f"  ! {chatter.nick} was disconnected: {last!r}", flush=True)

    def said(self, room: str) -> None:
        self.sent += 1
        self.expected += self.room_sizes[room]

    def delivered(self, now: float, stamp_ms: int) -> None:
        latency = (now - self.t0) * 1000 - stamp_ms
        self.latencies.append(latency)
        self.window.append(latency)

    def run(self) -> None:
        end = self.t0 + self.duration
        next_report = self.t0
        next_hostile = self.t0
        socks = [c.conn.sock for c in self.chatters]
        while True:
            now = time.monotonic()
            if now >= next_report:
                self.report(now)
                next_report += REPORT_EVERY
            if now >= end:
                if self.rss[-1][0] < self.duration - 1:
                    self.report(now)
                break
            for chatter in self.chatters:
                chatter.step(now)
            if not self.chatting and all(c.ready or not c.alive for c in self.chatters):
                self.chatting = True
            if now >= next_hostile:
                next_hostile = now + TICK
                self.hostiles = [h for h in self.hostiles if not h.done]
                for hostile in self.hostiles:
                    try:
                        hostile.step(now)
                    except OSError:
                        hostile.finish("error")
                self.spawn()
            # Wake for chat as it arrives, so latencies are measured as seen.
            select.select(socks, [], [], TICK / 2)
        self.chatting = False
        for hostile in self.hostiles:
            hostile.finish("left")
        drain_end = time.monotonic() + 3.0  # let lines in flight arrive
        while time.monotonic() < drain_end and len(self.latencies) < self.expected:
            select.select(socks, [], [], TICK)
            for chatter in self.chatters:
                chatter.step(time.monotonic())

    def spawn(self) -> None:
        alive = Counter(type(h) for h in self.hostiles)
        now = time.monotonic()
        for kind, (target, addresses, interval) in self.targets.items():
            if alive[kind] >= target or now - self.arrived.get(kind, 0.0) < interval:
                continue
            self.arrived[kind] = now
            try:
                self.hostiles.append(kind(self, addresses()))
            except OSError:
                self.stats[f"{kind.kind} connect failed"] += 1

    def report(self, now: float) -> None:
        rss = self.server.rss()
        self.rss.append((now - self.t0, rss))
        window, self.window = self.window, []
        print(f"{now - self.t0:6.0f} s  RSS {rss / 2**20:6.1f} MB  sent {self.sent:6d}  "
              f"delivered {len(self.latencies):7d}  "
              f"p50 {percentile(window, 50):6.1f} ms  p99 {percentile(window, 99):6.1f} ms  "
              f"hostile alive {len(self.hostiles):3d}", flush=True)

    def summary(self) -> None:
        rss = [r for _, r in self.rss]
        rows = [
            ("duration", f"{self.duration:.0f} s"),
            ("chatters / rooms", f"{len(self.chatters)} / {len(self.room_sizes)}"),
            ("chat lines said", f"{self.sent}"),
            ("deliveries expected", f"{self.expected}"),
            ("deliveries received", f"{len(self.latencies)}"
                                    f" ({100 * len(self.latencies) / max(1, self.expected):.2f} %)"),
            ("latency p50", f"{percentile(self.latencies, 50):.1f} ms"),
            ("latency p99", f"{percentile(self.latencies, 99):.1f} ms"),
            ("latency max", f"{max(self.latencies, default=0):.1f} ms"),
            ("server RSS start", f"{rss[0] / 2**20:.1f} MB"),
            ("server RSS end", f"{rss[-1] / 2**20:.1f} MB"),
            ("server RSS max", f"{max(rss) / 2**20:.1f} MB"),
            ("non-readers dropped", f"{len(self.drop_times)}, after "
                                    f"{percentile(self.drop_times, 50):.1f} s (median)"),
        ]
        rows += [(name, str(count)) for name, count in sorted(self.stats.items())]
        width = max(len(name) for name, _ in rows)
        print("\n" + "-" * (width + 24))
        for name, value in rows:
            print(f"{name:<{width}}  {value}")
        print("-" * (width + 24))


def _pool(net: int, size: int):
    """A few addresses used over and over, so per-address limits come into play."""
    cycle = itertools.cycle([f"127.{net}.0.{n + 1}" for n in range(size)])
    return lambda: next(cycle)


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=180.0, help="seconds (default 180)")
    parser.add_argument("--chatters", type=int, default=50)
    parser.add_argument("--rooms", type=int, default=5)
    parser.add_argument("--rate", type=float, default=1.0, help="lines a second per chatter")
    parser.add_argument("--hostile", type=int, default=1, help="scale of the hostile mix")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if not (1 <= args.duration <= 3600 and 1 <= args.chatters <= 200 and args.rooms >= 1
            and 0 < args.rate <= 4 and 0 <= args.hostile <= 10):
        parser.error("out of the bounded range: duration 1-3600, chatters 1-200, "
                     "rate up to 4 (the flood limit is 5), hostile 0-10")
    random.seed(args.seed)
    with tempfile.TemporaryDirectory(prefix="hfnjbbs-soak-") as tmp:
        server = Server(Path(tmp)).start()
        try:
            soak = Soak(server, args)
            soak.run()
            soak.summary()
        finally:
            server.stop()
        log = server.log.read_text("utf-8", "replace")
        print(f"server log: {len(log.splitlines())} lines, "
              f"{log.count('Traceback')} tracebacks; the commonest:")
        shapes = Counter(re.sub(r"\d+", "#", line.partition(" [")[2])[:90]
                         for line in log.splitlines())
        for shape, count in shapes.most_common(6):
            print(f"  {count:6d}  [{shape}")


if __name__ == "__main__":
    main()
