"""Out of file descriptors, the accept loop logs a line of each kind, not one
per refused connection."""

from __future__ import annotations

import re
import socket

from tests.e2e.harness import Server

FILES = 40  # RLIMIT_NOFILE of the server: room for about thirty connections
CONNECTIONS = 60


def _answered(sock: socket.socket) -> bool:
    """Whether the server spoke on C{sock} (admitted) rather than closing it unheard."""
    sock.settimeout(10)
    try:
        return bool(sock.recv(1))
    except ConnectionResetError:
        return False


def test_a_burst_past_the_file_limit_logs_one_line_of_each_kind_and_a_count(tmp_path):
    srv = Server(tmp_path, wrap=["prlimit", f"--nofile={FILES}:{FILES}", "--"]).start()
    socks = []
    try:
        for n in range(CONNECTIONS):
            socks.append(socket.create_connection(
                ("127.0.0.1", srv.port), timeout=10, source_address=(f"127.0.1.{n + 1}", 0)))
        refused = CONNECTIONS - sum(_answered(s) for s in socks)
        assert refused >= 10, "the burst did not run the server out of descriptors"
        srv.wait_for_log("Re-reserving EMFILE recovery file descriptor")
    finally:
        for s in socks:
            s.close()
        srv.stop()
    log = "".join(srv.output)
    accept_lines = re.findall(r"\[twisted\.internet\.tcp\.Port#\w+\] (.*)", log)
    assert len(accept_lines) <= 3, accept_lines  # released, closed one, re-reserved
    assert sum("Closed socket from" in line for line in accept_lines) == 1
    # Every other socket closed to recover is counted, in one line.
    counted = re.findall(
        r"(\d+) more accept-loop log lines like 'EMFILE recovery: Closed socket from", log)
    assert [int(n) for n in counted] == [refused - 1]
