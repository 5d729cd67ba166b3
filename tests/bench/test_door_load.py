"""bench/door_load.py: the shared loadgen's clients over WebSockets and SSH.

Its frames are checked against the RFC by hand, then the whole driver runs
a small fan-out through a real server's browser and SSH doors: if a dialect
broke, the doors' rows of the benchmark would compare nothing.
"""

from __future__ import annotations

import importlib.util
import json
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.harness import Server

BENCH = Path(__file__).resolve().parents[2] / "bench"
LOADGEN = BENCH.parent.parent / "shared" / "bench" / "loadgen.py"

_spec = importlib.util.spec_from_file_location("door_load", BENCH / "door_load.py")
door_load = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(door_load)


@pytest.mark.parametrize("size", [0, 5, 125, 126, 65535, 65536])
def test_a_client_frame_is_final_masked_binary_and_unmasks_to_its_payload(size):
    payload = bytes(range(256)) * (size // 256 + 1)
    payload = payload[:size]
    wire = door_load.frame(door_load.OP_BIN, payload)
    assert wire[0] == 0x82 and wire[1] & 0x80
    n, at = wire[1] & 0x7F, 2
    if n == 126:
        (n,), at = struct.unpack("!H", wire[2:4]), 4
    elif n == 127:
        (n,), at = struct.unpack("!Q", wire[2:10]), 10
    key, body = wire[at:at + 4], wire[at + 4:]
    assert n == size == len(body)
    assert bytes(b ^ key[i % 4] for i, b in enumerate(body)) == payload


def test_server_frames_are_read_wherever_the_stream_is_cut():
    stream = (b"\x82\x05hello" + b"\x82\x7e\x01\x00" + b"x" * 256 + b"\x89\x00" + b"\x88\x02\x03\xe8")
    want = [(2, b"hello"), (2, b"x" * 256), (9, b""), (8, b"\x03\xe8")]
    for cut in range(len(stream) + 1):
        frames = door_load.Frames()
        assert frames.feed(stream[:cut]) + frames.feed(stream[cut:]) == want
    one = door_load.Frames()
    assert [f for i in range(len(stream)) for f in one.feed(stream[i:i + 1])] == want


def test_a_masked_server_frame_is_an_error():
    with pytest.raises(ValueError):
        door_load.Frames().feed(b"\x82\x85abcdhello")


@pytest.mark.skipif(not LOADGEN.is_file(), reason="the shared bench is not beside the project")
def test_a_fanout_through_the_browser_door_delivers_every_line(tmp_path):
    # Trusted, as in the benchmark: one sender's ten lines at once are not a flood.
    srv = Server(tmp_path, "--web", "tcp:0:interface=127.0.0.1", "--trust", "127.0.0.0/8").start()
    try:
        run = subprocess.run(
            [sys.executable, str(BENCH / "door_load.py"), "--loadgen", str(LOADGEN), "fanout",
             "--dialect", "ws", "--port", str(srv.web_port), "--clients", "5",
             "--messages", "10", "--warmup", "1", "--deadline", "60", "-q"],
            capture_output=True, text=True, timeout=90)
    finally:
        srv.stop()
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["status"] == "ok" and result["dialect"] == "ws", result
    assert result["established"] == 5 and result["lost"] == 0
    assert result["latency_ms"]["n"] == 50
    protocols = {e.get("protocol") for e in srv.events() if e.get("eventid") == "cowrie.session.connect"}
    assert protocols == {"web"}


@pytest.mark.skipif(not LOADGEN.is_file(), reason="the shared bench is not beside the project")
def test_a_fanout_through_the_ssh_door_delivers_every_line(tmp_path):
    srv = Server(tmp_path, "--ssh", "tcp:0:interface=127.0.0.1", "--trust", "127.0.0.0/8").start()
    try:
        run = subprocess.run(
            [sys.executable, str(BENCH / "door_load.py"), "--loadgen", str(LOADGEN), "fanout",
             "--dialect", "ssh", "--port", str(srv.ssh_port), "--clients", "5",
             "--messages", "10", "--warmup", "1", "--deadline", "60", "-q",
             "--login", "/colour off", "--login", "/join {room}"],
            capture_output=True, text=True, timeout=90)
    finally:
        srv.stop()
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["status"] == "ok" and result["dialect"] == "ssh", result
    assert result["established"] == 5 and result["lost"] == 0 and result["dups"] == 0
    assert result["latency_ms"]["n"] == 50
    logins = [e for e in srv.events() if e.get("eventid") == "bbs.user.login"]
    assert len(logins) == 5 and all(e["nick"].startswith("l") for e in logins)
