"""The SSH door against hostile clients on the real twistd: each is refused
or closed with one log line, and the people chatting notice nothing."""

from __future__ import annotations

import asyncio
import socket
import warnings

import pytest

from tests.e2e.harness import DEADLINE, Server, read_until_closed
from tests.e2e.test_terminal import peer

asyncssh = pytest.importorskip("asyncssh")
warnings.filterwarnings("ignore", module="asyncssh")


@pytest.fixture
def srv(tmp_path):
    server = Server(tmp_path, "--ssh", "tcp:0:interface=127.0.0.1", "--login-timeout", "3s").start()
    yield server
    server.stop()


def _raw(srv: Server, source: str, send: bytes) -> bytes:
    sock = socket.create_connection(("127.0.0.1", srv.ssh_port), timeout=DEADLINE,
                                    source_address=(source, 0))
    sock.sendall(send)
    got = bytearray()
    read_until_closed(sock, got.extend, DEADLINE)
    sock.close()
    return bytes(got)


def _lines_about(srv: Server, ip: str) -> list[str]:
    return [line for line in srv.output if ip in line]


def test_garbage_a_long_version_and_a_stalled_handshake_are_closed_with_one_line_each(srv):
    a, b = peer(srv, "ann"), peer(srv, "bob")
    assert _raw(srv, "127.0.0.61", b"GET / HTTP/1.1\r\n\r\n").endswith(b"Protocol mismatch.\r\n")
    srv.wait_for_log(r"SSH connection from 127\.0\.0\.61 closed: not an SSH client")
    assert _raw(srv, "127.0.0.62", b"SSH-2.0-" + b"x" * 300).endswith(b"Protocol mismatch.\r\n")
    srv.wait_for_log(r"SSH connection from 127\.0\.0\.62 closed: version line longer")
    stalled = _raw(srv, "127.0.0.63", b"SSH-2.0-Stalled_1.0\r\n")  # then nothing, until closed
    assert stalled.startswith(b"SSH-2.0-OpenSSH_")
    srv.wait_for_log(r"SSH connection from 127\.0\.0\.63 closed: handshake timeout")
    a.line("still here")
    b.expect(rb"<ann> still here")
    for ip in ("127.0.0.61", "127.0.0.62", "127.0.0.63"):
        assert len(_lines_about(srv, ip)) == 1, _lines_about(srv, ip)
    assert not any("Traceback" in line for line in srv.output)


async def _many_channels(port: int) -> tuple[int, int, str]:
    """Open sessions and forwardings until the server stops answering."""
    opened, refused = 0, 0
    async with asyncssh.connect("127.0.0.1", port, username="eve", known_hosts=None,
                                local_addr=("127.0.0.64", 0), password="",
                                preferred_auth="keyboard-interactive") as conn:
        for _ in range(1000):
            for open_one in (lambda: conn.create_session(asyncssh.SSHClientSession),
                             lambda: conn.create_connection(asyncssh.SSHTCPSession,
                                                            "192.0.2.1", 80)):
                try:
                    await open_one()
                    opened += 1
                except asyncssh.ChannelOpenError as e:
                    if e.code != asyncssh.OPEN_ADMINISTRATIVELY_PROHIBITED:
                        return opened, refused, e.reason
                    refused += 1
                except (asyncssh.Error, OSError) as e:
                    return opened, refused, str(e)
    return opened, refused, "never dropped"


def test_a_thousand_channels_and_port_forwarding_are_refused_then_the_client_dropped(srv):
    a, b = peer(srv, "ann"), peer(srv, "bob")
    opened, refused, how = asyncio.run(asyncio.wait_for(_many_channels(srv.ssh_port), 60))
    assert (opened, refused) == (1, 10), how  # one session; ten refused; the eleventh ends it
    srv.wait_for_log(r"SSH connection from 127\.0\.0\.64 closed: too many channel requests")
    a.line("still here")
    b.expect(rb"<ann> still here")
    assert len(_lines_about(srv, "127.0.0.64")) == 1
    assert not any("Traceback" in line for line in srv.output)


async def _resize_storm(port: int) -> str:
    async with asyncssh.connect("127.0.0.1", port, username="eve", known_hosts=None,
                                password="", preferred_auth="keyboard-interactive") as conn:
        proc = await conn.create_process(term_type="xterm", term_size=(80, 24))
        seen = ""
        while "[lobby]" not in seen:
            seen += await asyncio.wait_for(proc.stdout.read(4096), DEADLINE)
        for i in range(1000):
            proc.change_terminal_size(40 + i % 100, 24)
        proc.stdin.write("/who\n")
        while "online" not in seen:
            seen += await asyncio.wait_for(proc.stdout.read(4096), DEADLINE)
        proc.stdin.write("/quit\n")
        return seen


def test_a_window_change_storm_is_taken_as_a_few_sizes(srv):
    seen = asyncio.run(_resize_storm(srv.ssh_port))
    assert "1 user online" in seen
    sizes = [e for e in srv.events() if e.get("eventid") == "cowrie.client.size"]
    assert 1 <= len(sizes) <= 10, len(sizes)
