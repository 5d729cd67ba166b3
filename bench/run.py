#!/usr/bin/env python3
"""The hfnjbbs benchmark driver: our server beside the shared anchors, in one table.

    python bench/run.py [--anchors PATH/bench_anchors.py] [--reps N] [--quick] [--out FILE]

It runs the shared C{bench_anchors.py} with our server added through C{--custom},
so every figure is measured in the same run as the reference servers it is compared
with (each server pinned to CPU 0, C{loadgen.py} to CPU 1).  Then it measures what
the anchors have no scenario for, with direct C{loadgen.py} calls: the login storm
of ours and of the bare server in turns (the host drifts between the anchors'
runs), members who never read (their queue must be capped and they dropped, the
room unharmed), our browser door beside our telnet door (C{door_load.py}: the
same scenarios over WebSockets) and one room of 5,000.  Last it prints our figure, the Twisted
reference's, the ratio and the target of the "Performance" issue for each metric.

Our server runs from this work tree (not an installed copy) with a fresh data
directory for every start.  Everything is loopback-only; every server is stopped by
its own PID; the run is bounded (about 13 minutes, or 5 with C{--quick}).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SHARED_ENV = "HFNJBBS_BENCH_SHARED"
NAME = "hfnjbbs"
ROOM = "lg0"  # loadgen's first room (--room-prefix lg)
SRC_NET = "127.64.0.0/10"  # spread client addresses past per-address limits
BARE = "bare"  # bench/ref_bbs.py: our dialect's bare bones on plain Twisted, a ceiling
PAIRED = "logins-paired"  # connect5k's storm without the hold, ours and bare's in turns
PAIRS = 3
REF_PORTS = {"twisted": 7000, BARE: 7002, "asyncio": 7001, "ngircd": 6667}
WEB = "hfnjbbs-web"  # our browser door, beside our telnet door (NAME) in the doors' runs
SSH = "hfnjbbs-ssh"  # our SSH door, likewise
WEB_PORT, SSH_PORT = 8093, 2293

# The targets of the "Performance" issue.
FANOUT_P99_RATIO = 1.5  # at most this times the Twisted reference
THROUGHPUT_RATIO = 0.7  # at least this times the Twisted reference
RSS_PER_SESSION = 8 * 1024  # bytes, holding all sessions
LOGINS_PER_S = 1500
LOGIN_P99_MS = 50.0
P99_BOUND_MS = 50.0  # the room's bound while members stall
# The targets of the "browser door" issue.
WEB_P99_RATIO = 1.5  # fan-out p99 at most this times the telnet door's
WEB_RSS_PER_SESSION = 12 * 1024  # bytes

# Budgets in seconds: the whole run, and the margin kept for stopping servers.
BUDGET = {False: 780.0, True: 330.0}
MARGIN = 15.0


# -- our server, started by bench_anchors or by us ------------------------------------


def serve(port: str, root: str, *options: str) -> None:
    """Become our server (same PID, so CPU and RSS are measured on twistd itself)."""
    data = tempfile.mkdtemp(prefix="data-", dir=root)
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # 5,000 sockets and more
    os.chdir(data)
    argv = [sys.executable, "-c", _TWISTD, "-n", "--pidfile=", NAME,
            "--port", f"tcp:{port}:interface=127.0.0.1", "--data", data, *options]
    os.execve(sys.executable, argv, _env())


_TWISTD = "import sys; sys.argv[0] = 'twistd'; from twisted.scripts.twistd import run; run()"
# Options given when this work tree's server has them (they are being added):
# the load comes from many loopback addresses, and 5,000 sessions must fit.
_WANTED = (("--trust", "127.0.0.0/8"), ("--max-connections", "20000"), ("--web", "none"),
           ("--ssh", "none"))


def _env() -> dict[str, str]:
    """Run this work tree's code, not an installed copy."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(REPO), env.get("PYTHONPATH"))))
    return env


def server_command(port: int, root: Path, options: list[str]) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), "serve", str(port), str(root),
            *options]


def server_options() -> list[str]:
    """Those of L{_WANTED} that C{twistd -n hfnjbbs --help} lists."""
    try:
        r = subprocess.run([sys.executable, "-c", _TWISTD, "-n", NAME, "--help"], env=_env(),
                           capture_output=True, text=True, timeout=60, cwd=tempfile.gettempdir())
    except subprocess.TimeoutExpired:
        return []
    listed = set(re.findall(r"--[a-z][a-z-]*", r.stdout))
    return [x for option, value in _WANTED if option in listed for x in (option, value)]


def port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def wait_port(port: int, timeout: float = 30.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.1)
    return False


class Server:
    """One of our servers on CPU 0, stopped by its PID (SIGTERM, then SIGKILL)."""

    def __init__(self, port: int, root: Path, options: list[str], log: Path) -> None:
        self.port = port
        self.root = Path(tempfile.mkdtemp(prefix="srv-", dir=root))
        self._log = open(log, "ab")
        self.proc = subprocess.Popen(
            ["taskset", "-c", "0"] + server_command(port, self.root, options),
            stdout=self._log, stderr=self._log, start_new_session=True)
        self.stop_s: float | None = None
        if not wait_port(port):
            self.stop()
            raise RuntimeError(f"our server did not open port {port}; see {log}")
        time.sleep(0.5)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def rss_kb(self) -> int | None:
        try:
            with open(f"/proc/{self.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except OSError:
            pass
        return None

    def logins(self) -> list[str]:
        return sorted(t for data in self.root.glob("data-*") for t in logins(data))

    def stop(self, grace: float = 5.0) -> None:
        t = time.monotonic()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
            else:
                self.stop_s = time.monotonic() - t
        self._log.close()


# -- the shared harness ---------------------------------------------------------------


class Harness:
    """Where the shared bench lives, and how to call it within the time budget."""

    def __init__(self, anchors: Path, out: Path, work: Path, deadline: float,
                 greet_wait: float) -> None:
        self.anchors = anchors
        self.greet = ["--greet-wait", f"{greet_wait:g}"]
        self.loadgen = anchors.parent / "loadgen.py"
        self.out = out
        self.work = work
        self.deadline = deadline  # time.monotonic() by which everything must be done

    def left(self) -> float:
        return self.deadline - time.monotonic()

    def anchors_run(self, servers: list[str], scenarios: list[str], reps: int,
                    custom: list[str], extra: list[str]) -> None:
        """bench_anchors.py for some servers and scenarios, appending to C{out}."""
        # Only the bbs dialect waits for a greeting, so this leaves the references alone.
        extra = extra + self.greet
        argv = [sys.executable, str(self.anchors), "--servers", ",".join(servers),
                "--scenarios", ",".join(scenarios), "--reps", str(reps),
                "--out", str(self.out), "--extra", " ".join(extra)]
        for spec in custom:
            argv += ["--custom", spec]
        env = dict(os.environ, TMPDIR=str(self.work))
        say("$ bench_anchors.py --servers %s --scenarios %s --reps %d --extra '%s'"
            % (",".join(servers), ",".join(scenarios), reps, " ".join(extra)))
        proc = subprocess.Popen(argv, cwd=REPO, env=env, stdout=subprocess.PIPE, text=True,
                                start_new_session=True)
        reader = threading.Thread(target=_echo, args=(proc.stdout,), daemon=True)
        reader.start()
        try:
            proc.wait(max(1.0, self.left() - MARGIN))
        except subprocess.TimeoutExpired:
            # SIGINT lets bench_anchors stop its current server and loadgen itself.
            say("! time budget spent: interrupting bench_anchors")
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        reader.join(5)
        if proc.returncode:
            say(f"! bench_anchors exited with status {proc.returncode}")

    def loadgen_run(self, mode: str, args: list[str], port: int, pid: int, label: str,
                    deadline: float, driver: list[str] | None = None) -> dict:
        """One direct loadgen.py call (pinned to CPU 1) against C{port}; its JSON.
        C{driver}: what runs loadgen (default: loadgen.py itself)."""
        deadline = max(5.0, min(deadline, self.left() - MARGIN, 600.0))
        argv = (driver or [sys.executable, str(self.loadgen)]) + [mode, "--port", str(port), "--cpu", "1",
                "--server-pid", str(pid), "--label", label, "-q",
                "--deadline", "%.0f" % deadline] + args
        try:
            r = subprocess.run(argv, capture_output=True, text=True, timeout=deadline + 40)
        except subprocess.TimeoutExpired:
            return {"status": "timeout"}
        lines = r.stdout.strip().splitlines()
        try:
            return json.loads(lines[-1]) if lines else {"status": "no-output"}
        except ValueError:
            return {"status": "bad-output"}

    def record(self, row: dict) -> None:
        with open(self.out, "a") as f:
            f.write(json.dumps(row, separators=(",", ":")) + "\n")


def _echo(stream) -> None:
    for line in stream:
        say("  " + line.rstrip())


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# -- scenarios the anchors do not have --------------------------------------------------


class Staller:
    """A member who logs in, joins the room and then never reads a byte."""

    def __init__(self, port: int, nick: str, source: str) -> None:
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a tiny window, as a stuck client's
        s.bind((source, 0))
        s.connect(("127.0.0.1", port))
        s.sendall(f"{nick}\r\n/join {ROOM}\r\n".encode())
        self.sock = s

    def outcome(self, timeout: float) -> dict:
        """Read what the server left queued: dropped = it closed the connection."""
        s = self.sock
        s.settimeout(0.5)
        got = bytearray()
        end = time.monotonic() + timeout
        how = "still open"
        while time.monotonic() < end and len(got) < 64 * 1024 * 1024:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            except OSError as e:
                how = "reset" if e.errno == 104 else f"error {e.errno}"
                break
            if not chunk:
                how = "closed"
                break
            got += chunk
        s.close()
        return {"dropped": how in ("closed", "reset"), "how": how, "queued_bytes": len(got),
                "joined": f"joined {ROOM}".encode() in got or b"went to " + ROOM.encode() in got}


def slow_readers(h: Harness, port: int, options: list[str], rate: float, quick: bool) -> None:
    """Room of 100 at a fixed rate, with and then without members who never read."""
    stallers_n = 5
    duration = "3" if quick else "6"
    common = ["--dialect", "bbs", "--clients", "100", "--rate", "%.0f" % rate,
              "--duration", duration, "--size", "200", "--concurrency", "8",
              "--src-net", SRC_NET] + h.greet
    for scenario, stalled in (("base100", 0), ("slow100", stallers_n)):
        if h.left() < 40:
            say(f"! skipping {scenario}: time budget spent")
            return
        say(f"$ {scenario}: room 100 at {rate:.0f} msg/s, {stalled} members never reading")
        srv = Server(port, h.work, options, h.work / "server-slow.log")
        try:
            stuck = [Staller(port, f"stuck{i}", f"127.63.0.{i + 1}") for i in range(stalled)]
            time.sleep(1.0)  # their logins and joins go through the worker pool
            rss0 = srv.rss_kb()
            d = h.loadgen_run("throughput", common, port, srv.pid, NAME, 60)
            rss1 = srv.rss_kb()
            d["stallers"] = [s.outcome(5.0) for s in stuck]
        finally:
            srv.stop()
        d.update({"server": NAME, "scenario": scenario, "rep": 0,
                  "rss_start_kb": rss0, "rss_end_kb": rss1})
        h.record(d)
        say(f"  {scenario}: {d.get('status')}, p99 {g(d, 'latency_ms.p99')} ms, "
            f"lost {d.get('lost')}, dropped "
            f"{sum(s['dropped'] for s in d['stallers'])}/{stalled}")


@contextmanager
def reference(argv: list[str], port: int) -> Iterator[subprocess.Popen | None]:
    """A reference server on CPU 0 for the block: None if it did not open C{port}."""
    proc = subprocess.Popen(["taskset", "-c", "0", *argv], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        if not wait_port(port):
            yield None
            return
        time.sleep(0.5)
        yield proc
    finally:
        _stop(proc)


def login_pairs(h: Harness, port: int, options: list[str], rounds: int) -> None:
    """The login storm of C{connect5k}, ours and the bare server's in turns.

    The host's speed drifts by a tenth and more from one minute to the next,
    and the anchors run each server's storm minutes apart; storms run back to
    back compare the two servers on the same minutes.
    """
    args = ["--dialect", "bbs", "--clients", "5000", "--rooms", "50", "--hold", "0",
            "--concurrency", "8", "--src-net", SRC_NET] + h.greet
    bare = [sys.executable, str(Path(__file__).resolve().parent / "ref_bbs.py"),
            str(REF_PORTS[BARE])]
    for rep in range(rounds):
        if h.left() < 60:
            say("! skipping the paired login storms: time budget spent")
            return
        say(f"$ logins side by side, pair {rep + 1} of {rounds}")
        for server in (NAME, BARE):
            if server == NAME:
                srv = Server(port, h.work, options, h.work / "server-logins.log")
                try:
                    d = h.loadgen_run("connect", args, port, srv.pid, server, 60)
                finally:
                    srv.stop()
            else:
                with reference(bare, REF_PORTS[BARE]) as ref:
                    if ref is None:
                        say("! the bare server did not start")
                        return
                    d = h.loadgen_run("connect", args, REF_PORTS[BARE], ref.pid, server, 60)
            d.update({"server": server, "scenario": PAIRED, "rep": rep})
            h.record(d)
            say(f"  {server}: {d.get('status')}, {g(d, 'conn_per_s')} logins/s")


def big_room(h: Harness, port: int, options: list[str], clients: int) -> None:
    """Everyone in one room: how it fills (joins are announced) and how it fans out."""
    args = ["--clients", str(clients), "--messages", "20", "--concurrency", "8",
            "--ready-timeout", "60"]
    # The reference first: it is quick, and ours gets whatever time is left.
    if port_free(REF_PORTS["twisted"]) and h.left() > 60:
        say(f"$ room{clients}: Twisted reference")
        with reference([os.environ.get("TWISTED_PY", sys.executable),
                        str(h.anchors.parent / "ref_twisted_line.py"), "--port",
                        str(REF_PORTS["twisted"])], REF_PORTS["twisted"]) as ref:
            if ref is not None:
                d = h.loadgen_run("fanout", args + ["--dialect", "line"], REF_PORTS["twisted"],
                                  ref.pid, "twisted", 60)
                d.update({"server": "twisted", "scenario": f"room{clients}", "rep": 0})
                h.record(d)
    budget = h.left() - 2 * MARGIN
    if budget < 45:
        say(f"! skipping room{clients} for {NAME}: time budget spent")
        return
    say(f"$ room{clients}: {NAME} (at most {budget:.0f} s)")
    srv = Server(port, h.work, options, h.work / "server-room.log")
    t0 = time.time()
    try:
        d = h.loadgen_run("fanout", args + ["--dialect", "bbs", "--src-net", SRC_NET] + h.greet,
                          port, srv.pid, NAME, budget)
        stamps = srv.logins()
    finally:
        srv.stop()
    d.update({"server": NAME, "scenario": f"room{clients}", "rep": 0,
              "logged_in": len(stamps), "budget_s": round(budget),
              "fill_s": round(_span(stamps), 1) if len(stamps) > 1 else None,
              "stopped_in_s": None if srv.stop_s is None else round(srv.stop_s, 1),
              "wall_s": round(time.time() - t0, 1)})
    h.record(d)
    say(f"  room{clients}: {d.get('status')}, {len(stamps)} logged in, "
        f"p99 {g(d, 'latency_ms.p99')} ms")


def doors(h: Harness, port: int, options: list[str], quick: bool) -> None:
    """Our browser and SSH doors beside our telnet door: the same scenarios
    through the same driver (C{door_load.py}: loadgen with WebSocket and SSH
    dialects), each run on a fresh server, telnet first, so that they compare
    the doors on the same minutes of the host."""
    opened = [x for x in options if x not in ("--web", "--ssh", "none")] + [
        "--web", f"tcp:{WEB_PORT}:interface=127.0.0.1",
        "--ssh", f"tcp:{SSH_PORT}:interface=127.0.0.1"]
    driver = [sys.executable, str(Path(__file__).resolve().parent / "door_load.py"),
              "--loadgen", str(h.loadgen)]
    common = ["--concurrency", "8", "--src-net", SRC_NET] + h.greet
    # The telnet load has no colours (it names no terminal type): the other
    # doors' clients turn theirs off, so that every door sends the same text.
    # An SSH client's nickname is its user name: it is not typed again.
    logins = {"bbs": [], "ws": ["--login", "{nick}", "--login", "/colour off",
                                "--login", "/join {room}"],
              "ssh": ["--login", "/colour off", "--login", "/join {room}"]}
    telnet, web, ssh = (NAME, "bbs", port), (WEB, "ws", WEB_PORT), (SSH, "ssh", SSH_PORT)
    held = "1000" if quick else "5000"
    scenarios = [
        ("doors-fanout1000", "fanout", ["--clients", "1000", "--messages", "100" if quick else "200"],
         (telnet, web)),
        ("doors-tput100", "throughput", ["--find-max", "--clients", "100", "--rate", "500",
                                         "--step", "1.5", "--duration", "1.5" if quick else "3",
                                         "--refine", "1" if quick else "2"], (telnet, web)),
        ("doors-connect", "connect", ["--clients", held, "--rooms", "50", "--hold", "2"],
         (telnet, web)),
        ("doors-fanout500", "fanout", ["--clients", "500", "--messages", "100" if quick else "200"],
         (telnet, ssh)),
        ("doors-connect500", "connect", ["--clients", "500", "--rooms", "1", "--hold", "2"],
         (telnet, ssh)),
    ]
    for scenario, mode, args, which in scenarios:
        for server, dialect, target in which:
            if h.left() < 60:
                say(f"! skipping {scenario} for {server}: time budget spent")
                return
            say(f"$ {scenario}: {server} ({dialect})")
            srv = Server(port, h.work, opened, h.work / "server-doors.log")
            try:
                if not (wait_port(WEB_PORT) and wait_port(SSH_PORT)):
                    raise RuntimeError(f"our server did not open its doors on {WEB_PORT}, {SSH_PORT}")
                d = h.loadgen_run(mode, args + common + ["--dialect", dialect] + logins[dialect],
                                  target, srv.pid, server, 120, driver)
            finally:
                srv.stop()
            d.update({"server": server, "scenario": scenario, "rep": 0})
            h.record(d)
            say(f"  {server}: {d.get('status')}, p99 {g(d, 'latency_ms.p99')} ms, "
                f"max {g(d, 'max_rate_pass')} msg/s, {g(d, 'rss_per_conn_bytes')} B/session, "
                f"{g(d, 'conn_per_s')} logins/s")


def held_bans(work: Path) -> None:
    """bench/bans.py, in full runs, after the anchors' table: start-up, RSS per
    ban and CPU per added ban with 100,000 bans held (about a minute and a half,
    outside the anchors' budget: it needs no reference and no load generator)."""
    print()
    try:
        r = subprocess.run([sys.executable, str(Path(__file__).resolve().parent / "bans.py"),
                            "--json", str(work / "bans.json")],
                           capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired:
        say("! bench/bans.py did not finish in 5 minutes")
        return
    print(r.stdout.rstrip() if r.returncode == 0 else f"! bench/bans.py failed:\n{r.stderr}")


def logins(data: Path) -> list[str]:
    """When each login happened, from the event log in the data directory C{data}."""
    stamps = []
    for path in data.glob("events.json*"):
        with open(path, errors="replace") as f:
            for line in f:
                if '"bbs.user.login"' in line:
                    try:
                        stamps.append(json.loads(line)["timestamp"])
                    except (ValueError, KeyError):
                        pass
    return sorted(stamps)


def annotate(out: Path, work: Path) -> None:
    """Add to each of our anchor runs how many logged in, from its server's event log.

    loadgen reports nothing of a ramp cut short by its deadline; the event log
    still says how far it got.  bench_anchors starts one server per run, in the
    order the runs are written, and each start made one data directory.
    """
    rows = [json.loads(x) for x in open(out) if x.strip()]
    dirs = sorted(work.glob("data-*"), key=_started)
    ours = [d for d in rows if d.get("server") == NAME and "logged_in" not in d]
    for row, data in zip(ours, dirs):
        stamps = logins(data)
        row["logged_in"] = len(stamps)
        row["login_span_s"] = round(_span(stamps), 2) if len(stamps) > 1 else None
    with open(out, "w") as f:
        for d in rows:
            f.write(json.dumps(d, separators=(",", ":")) + "\n")


def _started(data: Path) -> str:
    """The time of a data directory's first event (the first connection)."""
    try:
        with open(data / "events.json", errors="replace") as f:
            return json.loads(f.readline())["timestamp"]
    except (OSError, ValueError, KeyError):
        return "~"  # sorts last


def _span(stamps: list[str]) -> float:
    def t(s: str) -> float:
        return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
    return t(stamps[-1]) - t(stamps[0])


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


# -- the table --------------------------------------------------------------------------


def g(d: Any, path: str) -> Any:
    for k in path.split("."):
        if not isinstance(d, dict):
            return None
        d = d.get(k)
    return d


class Results:
    def __init__(self, rows: list[dict]) -> None:
        self.rows: dict[tuple[str, str], list[dict]] = {}
        for d in rows:
            self.rows.setdefault((d.get("server"), d.get("scenario")), []).append(d)

    def runs(self, server: str, scenario: str) -> list[dict]:
        return [d for d in self.rows.get((server, scenario), []) if d.get("status") == "ok"]

    def median(self, server: str, scenario: str, path: str) -> float | None:
        vals = [g(d, path) for d in self.runs(server, scenario)]
        vals = [v for v in vals if isinstance(v, (int, float))]
        return statistics.median(vals) if vals else None

    def cpu_per_login(self, server: str, scenario: str) -> float | None:
        """Median server CPU (ms) per session of a login ramp: the same server
        needs more of it on a slow minute of the host, so it shows the drift."""
        vals = [cpu / n * 1000 for d in self.runs(server, scenario)
                if (cpu := g(d, "server_cpu_s_ramp")) and (n := g(d, "established"))]
        return statistics.median(vals) if vals else None

    def total(self, server: str, scenario: str, paths: tuple[str, ...]) -> int | None:
        runs = self.runs(server, scenario)
        if not runs:
            return None
        return sum(int(g(d, p) or 0) for d in runs for p in paths)

    def paired(self, a: str, b: str, scenario: str, path: str) -> tuple[list[float], list[float]]:
        """C{path} of C{a} and of C{b} in the reps where both ran and gave a number."""
        def by_rep(server: str) -> dict[Any, float]:
            return {d.get("rep"): v for d in self.runs(server, scenario)
                    if isinstance(v := g(d, path), (int, float)) and v}
        ra, rb = by_rep(a), by_rep(b)
        reps = [rep for rep in ra if rep in rb]
        return [ra[rep] for rep in reps], [rb[rep] for rep in reps]

    def any(self, server: str, scenario: str) -> dict | None:
        runs = self.runs(server, scenario) or self.rows.get((server, scenario), [])
        return runs[0] if runs else None


def fmt(v: Any, nd: int = 1) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        if abs(v) >= 1000:
            return f"{v:,.0f}"
        return f"{v:.{nd}f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def ratio(a: float | None, b: float | None) -> str:
    if a is None or not b:
        return "-"
    return f"{a / b:.2f}x"


def verdict(ok: bool | None) -> str:
    return "" if ok is None else ("PASS" if ok else "FAIL")


def tput_ref(r: Results, server: str) -> str:
    """The reference's max rate, marked as a lower bound when loadgen was the limit
    (it lagged, or the server still had CPU to spare at the highest passing step)."""
    v = r.median(server, "tput100", "max_rate_pass")
    if v is None:
        return "-"
    runs = r.runs(server, "tput100")
    bound = any("client-lag" in (s.get("fail_reasons") or []) for d in runs
                for s in d.get("steps") or []) or any(
        (g(d, "at_max.server_cpu_util") or 1.0) < 0.8 for d in runs)  # the server had room
    return (">=" if bound else "") + fmt(v)


def table(r: Results, refs: list[str]) -> str:
    extra = [s for s in (BARE, "asyncio", "ngircd") if s in refs]
    head = ["metric", NAME, "twisted", "ratio", "target", "verdict"] + extra
    lines: list[list[str]] = []

    def row(label: str, scen: str, path: str, ours: Any = None, target: str = "",
            ok: bool | None = None, rat: bool = True, refs_fmt: Callable | None = None) -> None:
        o = r.median(NAME, scen, path) if ours is None else ours
        t = r.median("twisted", scen, path)
        cells = [label, fmt(o), refs_fmt("twisted") if refs_fmt else fmt(t),
                 ratio(o, t) if rat else "", target, verdict(ok)]
        cells += [refs_fmt(s) if refs_fmt else fmt(r.median(s, scen, path)) for s in extra]
        lines.append(cells)

    def size(scen: str, key: str = "clients") -> str:
        d = r.any(NAME, scen) or r.any("twisted", scen) or {}
        return fmt(d.get(key))

    # Fan-out.
    o, t = (r.median(s, "fanout1000", "latency_ms.p99") for s in (NAME, "twisted"))
    row(f"fanout, room {size('fanout1000')}: p99 ms", "fanout1000", "latency_ms.p99",
        target=f"<= {FANOUT_P99_RATIO}x ref",
        ok=None if o is None or t is None else o <= FANOUT_P99_RATIO * t)
    row("  p50 ms", "fanout1000", "latency_ms.p50")
    row("  deliveries/s (burst)", "fanout1000", "deliveries_per_s")
    if r.runs(NAME, "fanout100"):
        row(f"fanout, room {size('fanout100')}: p99 ms", "fanout100", "latency_ms.p99")
    # Throughput.
    o, t = (r.median(s, "tput100", "max_rate_pass") for s in (NAME, "twisted"))
    row("max msg/s, room 100 (p99<=50ms, 0 lost)", "tput100", "max_rate_pass",
        target=f">= {THROUGHPUT_RATIO}x ref", refs_fmt=lambda s: tput_ref(r, s),
        ok=None if o is None or t is None else o >= THROUGHPUT_RATIO * t)
    o = r.median(NAME, "tput100", "at_max.server_cpu_util")
    row("  server CPU at that rate", "tput100", "at_max.server_cpu_util", rat=False)
    # Sessions held, and the logins that got them there.
    want = r.any(NAME, "connect5k") or {}
    cut = bool(want) and not r.runs(NAME, "connect5k")  # the ramp did not finish
    held = r.median(NAME, "connect5k", "established")
    lost_hold = r.median(NAME, "connect5k", "disconnects_during_hold")
    ok = None if held is None else held == want.get("clients") and not lost_hold
    if cut:
        held, ok = f"{fmt(want.get('logged_in'))} ({want.get('status')})", False
    row(f"sessions held (of {fmt(want.get('clients'))}, {fmt(want.get('rooms'))} rooms)",
        "connect5k", "established", ours=held, target="all", ok=ok, rat=False)
    rss = r.median(NAME, "connect5k", "rss_per_conn_bytes")
    refkb = {s: r.median(s, "connect5k", "rss_per_conn_bytes") for s in ["twisted"] + extra}
    lines.append(["  RSS per session, KB", fmt(rss and rss / 1024), fmt(refkb["twisted"] and refkb["twisted"] / 1024),
                  ratio(rss, refkb["twisted"]), f"<= {RSS_PER_SESSION // 1024} KB",
                  verdict(None if rss is None else rss <= RSS_PER_SESSION)]
                 + [fmt(refkb[s] and refkb[s] / 1024) for s in extra])
    p99 = r.median(NAME, "connect5k", "ready_ms.p99")
    rate = r.median(NAME, "connect5k", "conn_per_s")
    if cut and want.get("login_span_s"):
        rate = want["logged_in"] / want["login_span_s"]  # from the server's event log
    row("logins: ready p99 ms, 8 in flight (*)", "connect5k", "ready_ms.p99",
        target=f"<= {LOGIN_P99_MS:.0f} ms", ok=False if cut else None if p99 is None else p99 <= LOGIN_P99_MS,
        rat=False)
    row("logins per second (*)", "connect5k", "conn_per_s", ours=rate, target=f">= {LOGINS_PER_S:,}/s",
        ok=None if rate is None else rate >= LOGINS_PER_S, rat=False)
    if BARE in extra:
        bare = r.median(BARE, "connect5k", "conn_per_s")
        lines.append(["  of the bare bbs server's", ratio(rate, bare), "", "", "", ""]
                     + [""] * len(extra))
    cpu = {s: r.cpu_per_login(s, "connect5k") for s in [NAME, "twisted"] + extra}
    if cpu[NAME] is not None:
        lines.append(["  server CPU per login, ms", fmt(cpu[NAME], 3), fmt(cpu["twisted"], 3), "", "", ""]
                     + [fmt(cpu[s], 3) for s in extra])
    ours_p, bare_p = r.paired(NAME, BARE, PAIRED, "conn_per_s")
    if ours_p:
        lines.append([f"  side by side, {len(ours_p)} pairs in turns: median /s",
                      fmt(statistics.median(ours_p)), "", "", "", ""]
                     + [fmt(statistics.median(bare_p)) if s == BARE else "" for s in extra])
        lines.append(["  ... of bare's, median of the pairs", "%.2fx" % statistics.median(
                      [o / b for o, b in zip(ours_p, bare_p)]), "", "", "", ""] + [""] * len(extra))
        lines.append(["  ... server CPU per login, ms", fmt(r.cpu_per_login(NAME, PAIRED), 3),
                      "", "", "", ""]
                     + [fmt(r.cpu_per_login(BARE, PAIRED), 3) if s == BARE else "" for s in extra])
    # Losses.
    def losses(server: str) -> str:
        fan = [r.total(server, s, ("lost", "excess", "dups")) for s in ("fanout100", "fanout1000")]
        tp = r.total(server, "tput100", ("at_max.lost", "at_max.excess", "at_max.dups"))
        vals = [v for v in fan + [tp] if v is not None]
        return "-" if not vals else fmt(sum(vals))
    ours_lost = losses(NAME)
    lines.append(["lost+duplicated deliveries (**)", ours_lost, losses("twisted"), "", "0",
                  verdict(None if ours_lost == "-" else ours_lost == "0")]
                 + [losses(s) for s in extra])
    over = sum(int(s.get("lost") or 0) for d in r.runs(NAME, "tput100") for s in d.get("steps") or []
               if not s.get("pass"))
    if r.runs(NAME, "tput100"):
        lines.append(["  lost in overloaded steps (info)", fmt(over), "", "", "", ""] + [""] * len(extra))
    # Members who never read.
    base, slow = r.any(NAME, "base100"), r.any(NAME, "slow100")
    if base and slow:
        st = slow.get("stallers") or []
        dropped = sum(1 for s in st if s["dropped"])
        joined = sum(1 for s in st if s["joined"])
        bp, sp = g(base, "latency_ms.p99"), g(slow, "latency_ms.p99")
        ok = (slow.get("status") == "ok" and dropped == len(st) and not slow.get("lost")
              and sp is not None and sp <= P99_BOUND_MS)
        lines.append([f"slow readers: room 100 @ {fmt(int(slow.get('rate_target') or 0))} msg/s, p99 ms",
                      f"{fmt(sp)} (alone {fmt(bp)})", "", ratio(sp, bp),
                      f"<= {P99_BOUND_MS:.0f} ms, 0 lost", verdict(ok)] + [""] * len(extra))
        lines.append([f"  {len(st)} never-reading members dropped", f"{dropped}/{len(st)}", "", "",
                      "all", verdict(dropped == len(st))] + [""] * len(extra))
        lines.append(["  ...of which were in the room", f"{joined}/{len(st)}", "", "", "", ""]
                     + [""] * len(extra))
        lines.append(["  readers' lost / server RSS growth MB", "%s / %s" % (
            fmt(slow.get("lost")), fmt(_growth(slow))), "", "", "", ""] + [""] * len(extra))
    # One big room.
    for (server, scen), ds in sorted(r.rows.items()):
        if server != NAME or not scen.startswith("room"):
            continue
        d = ds[0]
        n = scen[4:]
        ref = r.any("twisted", scen)
        ok = d.get("status") == "ok"
        lines.append([f"room of {int(n):,}: members in / fill s", "%s / %s" % (
            fmt(d.get("established") or d.get("logged_in")), fmt(d.get("fill_s"))),
            "%s / %s" % (fmt(g(ref, "established")), fmt(g(ref, "ramp_s"))) if ref else "-",
            "", "info", "" if ok else d.get("status", "")] + [""] * len(extra))
        lines.append(["  fanout p50 / p99 ms", "%s / %s" % (fmt(g(d, "latency_ms.p50")),
                      fmt(g(d, "latency_ms.p99"))),
                      "%s / %s" % (fmt(g(ref, "latency_ms.p50")), fmt(g(ref, "latency_ms.p99")))
                      if ref else "-", ratio(g(d, "latency_ms.p99"), g(ref, "latency_ms.p99")),
                      "info", ""] + [""] * len(extra))
        lines.append(["  stopped after SIGTERM within 5 s", fmt(d.get("stopped_in_s") is not None),
                      "", "", "", ""] + [""] * len(extra))
    out = columns(head, lines)
    out.append("")
    out.append("(*) twisted and asyncio speak the `line` dialect: for them a login is only a connect;")
    out.append("    bare (bench/ref_bbs.py) logs in, joins, announces and echoes like us, and no more.")
    out.append("(**) fan-out runs and the highest passing throughput step.")
    return "\n".join(out)


def columns(head: list[str], lines: list[list[str]]) -> list[str]:
    """Rows as aligned text: the first column left, the others right."""
    widths = [max(len(x[i]) for x in [head] + lines) for i in range(len(head))]
    out = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(x, widths)))
           for x in [head] + lines]
    out.insert(1, "-" * len(out[0]))
    return out


def doors_table(r: Results) -> str:
    """Our browser and SSH doors, each beside our telnet door, from L{doors}' runs."""
    out: list[str] = []
    if any(r.rows.get((WEB, s)) for s in ("doors-fanout1000", "doors-tput100", "doors-connect")):
        out += _door_section(r, WEB, "browser door (WebSocket)", "doors-fanout1000",
                             "doors-connect", "doors-tput100", WEB_RSS_PER_SESSION, "logins")
        out.append("")
    if any(r.rows.get((SSH, s)) for s in ("doors-fanout500", "doors-connect500")):
        out += _door_section(r, SSH, "SSH door", "doors-fanout500", "doors-connect500", None,
                             None, "logins (handshakes)")
        out.append("")
    if not out:
        return ""
    out.append("Each door of our server beside its telnet door, each run on a fresh server through")
    out.append("bench/door_load.py. A browser session holds a WebSocket, an SSH one a channel of an")
    out.append("encrypted connection, where a telnet one holds a socket; both other terminals are in")
    out.append("character mode (each line redraws the input row below it).")
    out.append("(***) what the door costs the server; when the load generator is the busier (its")
    out.append("      WebSocket and SSH clients are Python), the latencies are partly its own.")
    return "\n".join(out)


def _door_section(r: Results, door: str, title: str, fanout: str, connect: str,
                  tput: str | None, rss_target: int | None, logins: str) -> list[str]:
    lines = []

    def row(label: str, scenario: str, path: str, target: str = "",
            ok: Callable[[float, float], bool] | None = None, scale: float = 1.0) -> None:
        d, t = (r.median(s, scenario, path) for s in (door, NAME))
        d, t = (None if v is None else v / scale for v in (d, t))
        passed = None if ok is None or d is None or t is None else ok(d, t)
        lines.append([label, fmt(d), fmt(t), ratio(d, t), target, verdict(passed)])

    clients = g(r.any(door, fanout), "clients")
    row(f"fanout, room {fmt(clients)}: p99 ms", fanout, "latency_ms.p99",
        f"<= {WEB_P99_RATIO}x telnet" if door == WEB else "",
        (lambda d, t: d <= WEB_P99_RATIO * t) if door == WEB else None)
    row("  p50 ms", fanout, "latency_ms.p50")
    row("  deliveries/s (burst)", fanout, "deliveries_per_s")
    cpu = [r.median(s, fanout, "server_cpu_util") for s in (door, NAME)]
    rate = [r.median(s, fanout, "deliveries_per_s") for s in (door, NAME)]
    per = [c / d * 1e6 if c and d else None for c, d in zip(cpu, rate)]
    lines.append(["  server CPU per delivery, us (***)", fmt(per[0], 2), fmt(per[1], 2),
                  ratio(per[0], per[1]), "", ""])
    load = [r.median(s, fanout, "client_cpu_util") for s in (door, NAME)]
    lines.append(["  server / load generator CPU busy", f"{fmt(cpu[0], 2)} / {fmt(load[0], 2)}",
                  f"{fmt(cpu[1], 2)} / {fmt(load[1], 2)}", "", "", ""])
    if tput is not None:
        row("max msg/s, room 100 (p99<=50ms, 0 lost)", tput, "max_rate_pass")
    held = g(r.any(door, connect), "clients")
    if rss_target is not None:
        row(f"RSS per session, KB ({fmt(held)} held)", connect, "rss_per_conn_bytes",
            f"<= {rss_target // 1024} KB", lambda d, t: d * 1024 <= rss_target, scale=1024)
    else:
        row(f"RSS per session, KB ({fmt(held)} held)", connect, "rss_per_conn_bytes", scale=1024)
    row(f"{logins} per second, 8 in flight", connect, "conn_per_s")
    lost = [r.total(s, fanout, ("lost", "excess", "dups")) for s in (door, NAME)]
    lines.append(["lost+duplicated deliveries", fmt(lost[0]), fmt(lost[1]), "", "0",
                  verdict(None if lost[0] is None else lost[0] == 0)])
    return columns([title, door.split("-")[-1], "telnet", "ratio", "target", "verdict"], lines)


def _growth(d: dict) -> float | None:
    a, b = d.get("rss_start_kb"), d.get("rss_end_kb")
    return None if a is None or b is None else (b - a) / 1024


# -- main -------------------------------------------------------------------------------


def find_anchors(flag: str | None) -> Path:
    where = flag or os.environ.get(SHARED_ENV) or str(REPO.parent / "shared" / "bench")
    path = Path(where)
    if path.is_dir():
        path = path / "bench_anchors.py"
    if not path.is_file() or not (path.parent / "loadgen.py").is_file():
        raise SystemExit(f"bench_anchors.py and loadgen.py not found at {path} "
                         f"(use --anchors or {SHARED_ENV})")
    return path


def preflight(servers: list[str]) -> list[str]:
    """Drop the references that cannot run here, and say why."""
    try:
        import uvloop  # noqa: F401
    except ImportError:
        say("! uvloop is not installed: loadgen's figures will be lower (pip install uvloop)")
    if shutil.which("taskset") is None:
        raise SystemExit("taskset (util-linux) is needed to pin the servers")
    if os.cpu_count() and os.cpu_count() < 2:
        say("! fewer than 2 CPUs: the server and loadgen will share one")
    kept = []
    for s in servers:
        if s == "ngircd" and shutil.which("ngircd") is None:
            say("! ngircd is not installed (apt-get install -y ngircd): skipping it")
            continue
        if s in REF_PORTS and not port_free(REF_PORTS[s]):
            say(f"! port {REF_PORTS[s]} is busy: skipping the {s} reference")
            continue
        kept.append(s)
    return kept


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["serve"]:
        serve(*argv[1:])
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--anchors", help=f"path to bench_anchors.py (or its folder); default: "
                    f"${SHARED_ENV}, else <repo>/../shared/bench/bench_anchors.py")
    ap.add_argument("--reps", type=int, default=1,
                    help="repetitions of each anchor scenario (medians are shown); 1 fits "
                         "the 13-minute budget, 3 does not")
    ap.add_argument("--quick", action="store_true", help="a ~5 minute smoke run, smaller scenarios")
    ap.add_argument("--out", help="JSON lines of every run (overwritten); default: a temp file")
    ap.add_argument("--port", type=int, default=4023, help="our server's port (default 4023)")
    ap.add_argument("--servers", default="twisted,bare,asyncio,ngircd",
                    help="reference servers (default twisted,bare,asyncio,ngircd; --quick: "
                         "twisted,bare); bare is bench/ref_bbs.py")
    ap.add_argument("--greet-wait", type=float, default=0.0, metavar="S",
                    help="how long loadgen waits for `login:` before typing (default 0: it "
                         "types at once, which the server must accept; loadgen 1.0 can miss a "
                         "prompt that comes before it starts waiting and then waits all S)")
    ap.add_argument("--table", metavar="FILE", help="only print the table for an earlier --out file")
    a = ap.parse_args(argv)
    if a.table:
        refs = [s for s in REF_PORTS if s in a.servers.split(",")]
        rows = [json.loads(x) for x in open(a.table) if x.strip()]
        print(table(Results(rows), refs))
        web = doors_table(Results(rows))
        if web:
            print()
            print(web)
        return 0
    if not 1 <= a.reps <= 5:
        ap.error("--reps must be 1 to 5")
    anchors = find_anchors(a.anchors)
    if not port_free(a.port):
        ap.error(f"port {a.port} is busy (use --port)")
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="hfnjbbs-bench-"))
    out = Path(a.out) if a.out else work / "results.jsonl"
    out.write_text("")
    quick_refs = ["twisted", BARE]
    refs = quick_refs if a.quick and a.servers == ap.get_default("servers") else a.servers.split(",")
    refs = preflight([s for s in refs if s])
    options = server_options()
    say(f"hfnjbbs bench: {'quick' if a.quick else 'full'} run, reps {a.reps}, references "
        f"{','.join(refs) or 'none'}, server options {' '.join(options) or 'none'}; "
        f"work files in {work}")
    h = Harness(anchors, out, work, started + BUDGET[a.quick] * a.reps, a.greet_wait)
    custom = ["%s|bbs|%d|%s" % (NAME, a.port, " ".join(server_command(a.port, work, options))),
              "%s|bbs|%d|%s %s %d" % (BARE, REF_PORTS[BARE], sys.executable,
                                      Path(__file__).resolve().parent / "ref_bbs.py", REF_PORTS[BARE])]
    servers = [NAME] + refs
    if a.quick:
        h.anchors_run(servers, ["connect5k"], a.reps, custom, ["--clients", "1000", "--hold", "2"])
        h.anchors_run(servers, ["fanout1000"], a.reps, custom, ["--clients", "300", "--messages", "100"])
        h.anchors_run(servers, ["tput100"], a.reps, custom,
                      ["--duration", "1.5", "--refine", "1", "--deadline", "60"])
    else:
        h.anchors_run(servers, ["connect5k", "fanout1000", "tput100"], a.reps, custom,
                      ["--deadline", "100"])
    annotate(out, work)
    rows = [json.loads(x) for x in open(out) if x.strip()]
    best = Results(rows).median(NAME, "tput100", "max_rate_pass")
    rate = max(100.0, min(1000.0, round((best or 1000.0) / 2, -1)))
    steps = [lambda: slow_readers(h, a.port, options, rate, a.quick),
             lambda: doors(h, a.port, options, a.quick),
             lambda: big_room(h, a.port, options, 1000 if a.quick else 5000)]
    if not a.quick and BARE in refs:
        steps.insert(0, lambda: login_pairs(h, a.port, options, PAIRS))
    for step in steps:
        try:
            step()
        except (RuntimeError, OSError) as e:
            say(f"! {e}")
    rows = [json.loads(x) for x in open(out) if x.strip()]
    print()
    print(f"hfnjbbs vs the shared anchors ({'quick' if a.quick else 'full'} run, reps {a.reps}, "
          f"{time.monotonic() - started:.0f} s; server CPU 0, loadgen CPU 1)")
    print(table(Results(rows), refs))
    web = doors_table(Results(rows))
    if web:
        print()
        print(web)
    print(f"\nraw results: {out}")
    if not a.quick:
        held_bans(work)
    for junk in [*work.glob("data-*"), *work.glob("srv-*"), work / "bench-ngircd.log"]:
        if junk.is_dir():
            shutil.rmtree(junk, ignore_errors=True)
        elif junk.exists():
            junk.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
