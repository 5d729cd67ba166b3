"""A daemonized twistd keeps a bounded log: rotated, and only so many old files."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tests.e2e.harness import ROOT, read_until_closed

SIZE = 10_000  # --logfile-size
KEEP = 2  # --logfile-keep


def _until(condition: Callable[[], object], deadline: float, what: str) -> object:
    """Look every 50 ms until C{condition} holds (a daemon is not our child,
    and a file does not say when it is written); fail after C{deadline}."""
    end = time.monotonic() + deadline
    while not (result := condition()):
        if time.monotonic() > end:
            raise AssertionError(f"{what}: not within {deadline:g} s")
        time.sleep(0.05)
    return result


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _speak_http(port: int, source: str) -> None:
    """One connection that logs a line (a foreign protocol, 10 a minute per address)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(source, 0))
    sock.sendall(b"GET /" + b"x" * 80 + b" HTTP/1.0\r\n\r\n")
    assert read_until_closed(sock, lambda _: None)
    sock.close()


def test_a_daemon_under_attack_keeps_its_log_bounded(tmp_path: Path):
    (tmp_path / "logs").mkdir()
    started = subprocess.run(
        [sys.executable, "-c", "from twisted.scripts.twistd import run; run()",
         "--pidfile", "twistd.pid", "--logfile", "logs/twistd.log", "hfnjbbs",
         "--port", "tcp:0:interface=127.0.0.1", "--web", "none", "--ssh", "none", "--data", "data",
         "--logfile-size", str(SIZE), "--logfile-keep", str(KEEP)],
        cwd=tmp_path, env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=60,
        capture_output=True, text=True,
    )
    assert started.returncode == 0, started.stdout + started.stderr
    log = tmp_path / "logs" / "twistd.log"
    pid = int(_until(lambda: (tmp_path / "twistd.pid").exists()
                     and (tmp_path / "twistd.pid").read_text().strip(), 20, "pid file"))
    try:
        port = int(_until(lambda: re.search(r"starting on (\d+)", log.read_text()), 20,
                          "listening").group(1))
        for address in range(2, 32):  # 300 lines of about 200 bytes: six files' worth
            for _ in range(10):
                _speak_http(port, f"127.0.0.{address}")
    finally:
        os.kill(pid, signal.SIGTERM)
        _until(lambda: not _alive(pid), 20, "the daemon to exit")
    files = sorted(os.listdir(log.parent))
    assert files == ["twistd.log", "twistd.log.1", "twistd.log.2"]
    line = max(len(text) for text in (log.parent / "twistd.log.1").read_text().splitlines())
    assert all((log.parent / name).stat().st_size <= SIZE + line + 1 for name in files)
    assert "Server Shut Down." in log.read_text()
