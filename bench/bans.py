#!/usr/bin/env python3
"""Bans at honeypot scale: what holding many bans costs the server.

    python bench/bans.py [--bans 100000] [--cli 5] [--bots 10] [--tree DIR] [--json FILE]

A sensor on the open internet bans thousands of bot addresses a day.  This
starts our server twice, over a data directory with no bans and over one
with C{--bans} bot bans written into its store beforehand, and measures:

  - start-up: from starting twistd to its first C{login:} (the port is
    bound before the bans are read);
  - RSS per ban: the difference of the two servers' resident memory, settled,
    divided by the number of bans;
  - CPU per ban added from the shell: C{hfnjbbs-admin ban add}, one at a time,
    each until the server logs that it took it up (its poll): all the
    server's CPU over that time (its idle polls included, shown apart);
  - CPU per trapped bot: bots from distinct addresses, one a second, each
    answering C{login:} with C{root} (a trap: it is banned), and the poll
    that reads those bans back: all the server's CPU over it, per bot.

C{--tree} runs another checkout's code (e.g. an older commit exported with
C{git archive}) to compare.  Everything is loopback; every server is stopped
by its own PID; the run is bounded (about a minute and a half).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
TARGET_CPU_MS = 5.0  # per ban added, with 100,000 held
TARGET_RSS_B = 300  # per ban held
PICKUP = re.compile(r"Bans (updated|reloaded)")
WEEK = 7 * 86400
_TWISTD = "import sys; sys.argv[0] = 'twistd'; from twisted.scripts.twistd import run; run()"


def _env(tree: Path) -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(tree), PYTHONUNBUFFERED="1")


def _no_doors(tree: Path) -> list[str]:
    """Telnet only, in trees that have other doors: the start-up measured is
    the bans' (an SSH door's first start makes its host keys)."""
    return [x for door in ("web", "ssh") if (tree / "bbs" / door).is_dir()
            for x in (f"--{door}", "none")]


def fill(tree: Path, data: Path, count: int) -> None:
    """A store with C{count} bot bans in force, written before the server starts."""
    data.mkdir(parents=True)
    path = data / "bbs.sqlite3"
    subprocess.run([sys.executable, "-c",
                    "import sys; from bbs.store import SQLiteStore; s = SQLiteStore(sys.argv[1]);"
                    " s.open(); s.close()", str(path)],
                   env=_env(tree), check=True, timeout=60, cwd=data)
    now = time.time()
    with sqlite3.connect(path) as db:
        db.executemany(
            "INSERT INTO bans (kind, target, target_key, reason, set_by, created, expires)"
            " VALUES ('net', ?1, ?1, 'bot: login-root', 'traps', ?2, ?3)",
            ((f"{11 + n // 65536}.{n // 256 % 256}.{n % 256}.{1 + n % 7}/32",
              now - n % 3600, now + WEEK - n % 86400) for n in range(count)),
        )
    db.close()


class Server:
    """Our server on a free loopback port, its output watched for log lines."""

    def __init__(self, tree: Path, data: Path) -> None:
        pin = ["taskset", "-c", "0"] if _has("taskset") else []
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [*pin, sys.executable, "-c", _TWISTD, "-n", "--pidfile=", "hfnjbbs",
             "--port", "tcp:0:interface=127.0.0.1", "--data", str(data), *_no_doors(tree)],
            cwd=data, env=_env(tree), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            start_new_session=True)
        self.lines: list[str] = []
        self._seen = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()
        line = self.wait(re.compile(r"starting on (\d+)"), 0, 120)
        self.port = int(re.search(r"starting on (\d+)", line).group(1))
        # The port is bound before the services start (and read the bans):
        # ready is when a connection is answered with login:.
        with socket.create_connection(("127.0.0.1", self.port), timeout=300) as probe:
            seen = b""
            while b"login: " not in seen:
                chunk = probe.recv(4096)
                if not chunk:
                    raise RuntimeError("the server hung up on the first connection")
                seen += chunk
        self.startup_s = time.monotonic() - self.started

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            with self._seen:
                self.lines.append(raw.decode("utf-8", "replace"))
                self._seen.notify_all()

    def count(self, pattern: re.Pattern) -> int:
        with self._seen:
            return sum(1 for line in self.lines if pattern.search(line))

    def wait(self, pattern: re.Pattern, seen: int, deadline: float = 20.0) -> str:
        """The first line matching C{pattern} after the first C{seen} such lines."""
        end = time.monotonic() + deadline
        with self._seen:
            while True:
                found = [line for line in self.lines if pattern.search(line)]
                if len(found) > seen:
                    return found[seen]
                left = end - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    raise RuntimeError(f"server never logged {pattern.pattern!r}:\n"
                                       + "".join(self.lines[-20:]))
                self._seen.wait(left)

    def cpu(self) -> float:
        """Seconds of CPU used by all the server's threads, to the nanosecond
        (schedstat; /proc/PID/stat counts in ticks of 10 ms)."""
        total = 0
        for task in Path(f"/proc/{self.proc.pid}/task").iterdir():
            try:
                total += int((task / "schedstat").read_text().split()[0])
            except (OSError, ValueError, IndexError):
                pass  # a thread that just ended
        if total:
            return total / 1e9
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_kb(self) -> int:
        with open(f"/proc/{self.proc.pid}/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def _has(command: str) -> bool:
    return any((Path(d) / command).exists() for d in os.environ.get("PATH", "").split(os.pathsep))


def bot(port: int, source: str) -> None:
    """A Mirai-like client: no telnet answers, root at login:, cut off."""
    with socket.socket() as s:
        s.bind((source, 0))
        s.settimeout(10)
        s.connect(("127.0.0.1", port))
        seen = b""
        while b"login: " not in seen:
            chunk = s.recv(4096)
            if not chunk:
                return
            seen += chunk
        s.sendall(b"root\r\n")
        while s.recv(4096):
            pass


def measure(tree: Path, work: Path, held: int, cli: int, bots: int) -> dict[str, Any]:
    data = work / f"data-{held}"
    fill(tree, data, held)
    srv = Server(tree, data)
    try:
        time.sleep(3)  # let start-up's garbage go before reading RSS
        rss = srv.rss_kb()
        before, t = srv.cpu(), time.monotonic()
        time.sleep(6)  # two polls, nothing to do
        idle = (srv.cpu() - before) / (time.monotonic() - t)
        admin = [sys.executable, "-m", "bbs.admin", "--data", str(data)]
        per_cli = []
        for n in range(cli):
            seen = srv.count(PICKUP)
            before, t = srv.cpu(), time.monotonic()
            subprocess.run([*admin, "ban", "add", f"10.250.0.{n + 1}", "--reason", "bench"],
                           env=_env(tree), check=True, timeout=60, capture_output=True)
            srv.wait(PICKUP, seen)
            per_cli.append(srv.cpu() - before)
        seen = srv.count(PICKUP)
        before, t = srv.cpu(), time.monotonic()
        for n in range(bots):
            start = time.monotonic()
            bot(srv.port, f"127.77.0.{n + 1}")
            time.sleep(max(0.0, 1.0 - (time.monotonic() - start)))  # ten bots in ten seconds
        seen = srv.count(PICKUP) if srv.count(PICKUP) > seen else seen
        srv.wait(PICKUP, seen)  # the last bots' bans read back
        per_bot = (srv.cpu() - before) / max(1, bots)
        return {"held": held, "startup_s": srv.startup_s, "rss_kb": rss,
                "idle_cpu_per_s": idle, "cli_ban_cpu_s": statistics.median(per_cli) if per_cli else None,
                "bot_cpu_s": per_bot}
    finally:
        srv.stop()


def table(empty: dict[str, Any], full: dict[str, Any]) -> str:
    held = full["held"]
    per_ban = (full["rss_kb"] - empty["rss_kb"]) * 1024 / held if held else None

    def ms(v: float | None) -> str:
        return "-" if v is None else f"{v * 1000:.1f} ms"

    rows = [
        ("start-up", f"{empty['startup_s']:.2f} s", f"{full['startup_s']:.2f} s", ""),
        ("RSS", f"{empty['rss_kb'] / 1024:.1f} MB", f"{full['rss_kb'] / 1024:.1f} MB", ""),
        ("RSS per ban held", "", "-" if per_ban is None else f"{per_ban:.0f} B",
         f"<= {TARGET_RSS_B} B"),
        ("CPU per ban from the shell (poll)", ms(empty["cli_ban_cpu_s"]), ms(full["cli_ban_cpu_s"]),
         f"<= {TARGET_CPU_MS:g} ms"),
        ("CPU per trapped bot (session, ban, poll)", ms(empty["bot_cpu_s"]), ms(full["bot_cpu_s"]),
         f"<= {TARGET_CPU_MS:g} ms more"),
        ("idle CPU (polls)", ms(empty["idle_cpu_per_s"]) + "/s", ms(full["idle_cpu_per_s"]) + "/s",
         ""),
    ]
    head = ("bans", "no bans", f"{held:,} bans", "target")
    widths = [max(len(r[i]) for r in (head, *rows)) for i in range(4)]
    out = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
           for r in (head, *rows)]
    out.insert(1, "-" * len(out[0]))
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bans", type=int, default=100_000, help="bans held (default 100000)")
    ap.add_argument("--cli", type=int, default=5, help="bans added from the shell (default 5)")
    ap.add_argument("--bots", type=int, default=10, help="trapped bots, one a second (default 10)")
    ap.add_argument("--tree", type=Path, default=REPO, help="the code to run (default: this tree)")
    ap.add_argument("--json", type=Path, help="write the figures here as JSON")
    a = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="hfnjbbs-bans-"))
    try:
        empty = measure(a.tree.resolve(), work, 0, a.cli, a.bots)
        full = measure(a.tree.resolve(), work, a.bans, a.cli, a.bots)
    finally:
        subprocess.run(["rm", "-rf", str(work)], check=False)
    print(f"Bans held ({a.tree.resolve() if a.tree != REPO else 'this tree'}):")
    print(table(empty, full))
    if a.json:
        a.json.write_text(json.dumps({"empty": empty, "full": full}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
