"""The JSON-lines event log."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.internet.task import Clock
from zope.interface.verify import verifyObject

from bbs.events import (
    FLUSH_BYTES,
    MAX_LINE,
    IEventSink,
    JsonEventLog,
    event_line,
    make_event,
    timestamp,
)
from bbs.shell import ShellEvent
from tests.events.schema import schema, validate
from tests.events.sink import MemoryEventSink

DAY1 = 1_795_777_200.0  # 2026-11-27 11:00 UTC
MIDNIGHT = 1_795_824_000.0  # 2026-11-28 00:00 UTC


def clock_at(when: float = DAY1) -> Clock:
    clock = Clock()
    clock.advance(when)
    return clock


def event(clock: Clock, ip: str = "198.51.100.7", **fields: Any) -> dict[str, Any]:
    fields.setdefault("input", "uname -a")
    return make_event("cowrie.command.input", fields, session="s1", src_ip=ip, message="CMD",
                      sensor="node1", when=clock.seconds())


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_bytes().split(b"\n") if line]


# Every documented event with plausible values, as emitters build them.
EXAMPLES: dict[str, dict[str, Any]] = {
    "cowrie.session.connect": dict(src_port=40123, dst_ip="203.0.113.1", dst_port=2323,
                                   protocol="telnet"),
    "cowrie.client.version": dict(version="SSH-2.0-OpenSSH_9.2p1 Debian-2"),
    "cowrie.client.kex": dict(hassh="ec7378c1a92f5a8dde7e8b7a1ddf33d1",
                              hasshAlgorithms="curve25519-sha256;aes128-ctr;hmac-sha2-256;none",
                              kexAlgs=["curve25519-sha256", "ext-info-c"],
                              keyAlgs=["ssh-ed25519"], encCS=["aes128-ctr"],
                              macCS=["hmac-sha2-256"], compCS=["none"], langCS=[""]),
    "cowrie.client.fingerprint": dict(username="carol",
                                      fingerprint="SHA256:FePrtdhkh31zpS/OG1oV0cUkFGCqZztZT3xFO7jHEno"),
    "cowrie.client.size": dict(width=80, height=24),
    "cowrie.client.var": dict(name="TERM", value="xterm"),
    "cowrie.telnet.exploit_attempt": dict(cve="CVE-2026-24061", name="USER", value="-f root"),
    "cowrie.login.success": dict(username="root", password="xc3511"),
    "cowrie.login.failed": dict(username="admin", password="admin"),
    "cowrie.command.input": dict(input="enable"),
    "cowrie.command.failed": dict(input="/bin/busybox MIRAI"),
    "cowrie.session.file_download": dict(url="http://h/x", outfile="/tmp/x", protocol="http"),
    "cowrie.session.file_upload": dict(filename="/tmp/upnp", shasum="ab" * 32, size=2048,
                                       outfile="downloads/" + "ab" * 32, destfile="/tmp/upnp",
                                       trigger="exec", duplicate=False, elf_class=32,
                                       elf_endian="little", elf_machine="ARM"),
    "cowrie.session.closed": dict(duration=12.5),
    "cowrie.log.closed": dict(ttylog="casts/s1.cast", size=1234, duration=12.5),
    "bbs.bot.detected": dict(rule="busybox-token", family="mirai", score=90, input="sh"),
    "bbs.bot.banned": dict(duration=None, reason="mirai"),
    "bbs.user.login": dict(nick="ann", guest=False, account="ann"),
    "bbs.user.logout": dict(nick="ann"),
    "bbs.sysop.action": dict(actor="op", action="kick", target="bob", reason="spam"),
    "bbs.command.error": dict(command="/mail", error="database is locked"),
    "bbs.protocol.error": dict(reason="subnegotiation too long"),
    "bbs.log.suppressed": dict(count=3),
    "bbs.chat": dict(room="lobby", nick="ann", text="hello"),
}


def test_examples_cover_the_schema() -> None:
    assert set(EXAMPLES) == set(schema()["events"])
    for spec in schema()["events"].values():
        assert spec["description"]
        assert all(field["description"] for field in spec["fields"].values())


@pytest.mark.parametrize("eventid", sorted(EXAMPLES))
def test_validate_accepts_documented_events(eventid: str) -> None:
    built = make_event(eventid, EXAMPLES[eventid], session="abc", src_ip="192.0.2.1",
                       message="m", sensor="n", when=DAY1)
    assert validate(built) == []
    for name in EXAMPLES[eventid]:
        spec = schema()["events"][eventid]["fields"][name]
        if not spec.get("optional"):
            missing = {k: v for k, v in built.items() if k != name}
            assert validate(missing) == [f"{name}: missing"]


def test_validate_rejects_bad_events() -> None:
    good = make_event("cowrie.client.size", {"width": 80, "height": 24}, session="a",
                      src_ip="", message="m", sensor="n", when=DAY1)
    assert validate({**good, "width": "80"}) == ["width: expected integer, got str"]
    assert validate({**good, "width": True}) == ["width: expected integer, got bool"]
    assert validate({**good, "colour": 1}) == ["colour: not a documented field of "
                                               "cowrie.client.size"]
    assert validate({**good, "eventid": "nope"}) == ["eventid: unknown event 'nope'"]
    assert validate({k: v for k, v in good.items() if k != "sensor"}) == ["sensor: missing"]
    assert validate({**good, "timestamp": "yesterday"})[0].startswith("timestamp:")
    connect = make_event("cowrie.session.connect", EXAMPLES["cowrie.session.connect"],
                         session="a", src_ip="", message="m", sensor="n", when=DAY1)
    assert validate({**connect, "protocol": "ssh"}) == []
    assert validate({**connect, "protocol": "ftp"}) == [
        "protocol: 'ftp' is not one of ['telnet', 'ssh', 'web']"]
    kex = make_event("cowrie.client.kex", EXAMPLES["cowrie.client.kex"], session="a",
                     src_ip="", message="m", sensor="n", when=DAY1)
    assert validate({**kex, "kexAlgs": ["a", 1]}) == ["kexAlgs: expected a list of strings"]
    assert validate({**kex, "kexAlgs": "a,b"}) == ["kexAlgs: expected array, got str"]
    # Passwords stay optional so a session can leave a real user's out.
    login = make_event("cowrie.login.failed", {"username": "ann"}, session="a", src_ip="",
                       message="m", sensor="n", when=DAY1)
    assert validate(login) == []


def test_shell_events_are_documented() -> None:
    for shell_event in (ShellEvent("command.input", input="ls"),
                        ShellEvent("command.failed", input="xyz"),
                        ShellEvent("file_download", url="tftp://h/x", outfile="/tmp/x",
                                   protocol="tftp")):
        built = make_event(shell_event.eventid, shell_event.fields(), session="a",
                           src_ip="192.0.2.1", message=shell_event.message, sensor="n",
                           when=DAY1)
        assert validate(built) == []


def test_timestamp_format() -> None:
    assert timestamp(DAY1 + 0.123456) == "2026-11-27T11:00:00.123456Z"
    assert make_event("bbs.chat", {"room": "r", "nick": "n", "text": "t"}, session="",
                      src_ip="", message="", sensor="s", when=0)["timestamp"] == \
        "1970-01-01T00:00:00.000000Z"


def test_sinks_provide_the_interface(tmp_path: Path) -> None:
    assert verifyObject(IEventSink, MemoryEventSink())
    log = JsonEventLog(tmp_path, sensor="n", clock=clock_at())
    assert verifyObject(IEventSink, log)
    log.close()
    memory = MemoryEventSink()
    memory.emit(event(clock_at()))
    assert memory.events[0]["input"] == "uname -a"


def test_one_event_per_line_whatever_the_data(tmp_path: Path) -> None:
    clock = clock_at()
    log = JsonEventLog(tmp_path, sensor="n", clock=clock)
    hostile = [
        "line one\nline two\r\n{\"eventid\": \"forged\"}\n",
        "\x00\x1b[31m\u2028\u2029\ud800\udc80\udcff",
        "\\n\\\"",
        "x" * (3 * MAX_LINE),
    ]
    for text in hostile:
        log.emit(event(clock, input=text))
    log.emit(event(clock, input="ok", extra=[float("nan"), {"k": object()}]))
    log.close()
    raw = (tmp_path / "events.json").read_bytes()
    assert raw.isascii()
    assert all(len(line) < MAX_LINE for line in raw.split(b"\n"))
    got = lines(tmp_path / "events.json")
    assert len(got) == 5
    assert got[0]["input"] == hostile[0]
    assert got[1]["input"] == "\x00\x1b[31m\u2028\u2029\ufffd\\x80\\xff"
    assert got[2]["input"] == hostile[2]
    assert got[3]["truncated"] is True and got[3]["input"].startswith("x" * 1000)
    assert got[4]["extra"][0] == "nan"


def test_rotation_by_size_keeps_newest(tmp_path: Path) -> None:
    clock = clock_at()
    log = JsonEventLog(tmp_path, sensor="n", clock=clock, max_bytes=1000, keep=3)
    for n in range(40):
        log.emit(event(clock, input=f"command {n:03d}"))
        clock.advance(0.5)
    log.close()
    rotated = log.rotated()
    names = [p.name.rsplit(".", 1) for p in rotated]
    assert {prefix for prefix, _ in names} == {"events.json.2026-11-27"}
    first = int(names[0][1])
    assert first > 1 and [int(n) for _, n in names] == [first, first + 1, first + 2]
    seen = [e["input"] for p in rotated + [tmp_path / "events.json"] for e in lines(p)]
    assert seen == [f"command {n:03d}" for n in range(40 - len(seen), 40)]
    assert all(p.stat().st_size <= 1000 for p in rotated)


def test_rotation_at_utc_midnight(tmp_path: Path) -> None:
    clock = clock_at(MIDNIGHT - 10)
    log = JsonEventLog(tmp_path, sensor="n", clock=clock)
    log.emit(event(clock, input="before"))
    clock.advance(20)
    log.emit(event(clock, input="after"))
    log.close()
    assert [e["input"] for e in lines(tmp_path / "events.json.2026-11-27")] == ["before"]
    assert [e["input"] for e in lines(tmp_path / "events.json")] == ["after"]
    # A restart on a later day rotates yesterday's file before the first new event.
    clock.advance(86400)
    again = JsonEventLog(tmp_path, sensor="n", clock=clock)
    again.emit(event(clock, input="next day"))
    again.close()
    assert [e["input"] for e in lines(tmp_path / "events.json.2026-11-28")] == ["after"]
    assert [e["input"] for e in lines(tmp_path / "events.json")] == ["next day"]


def test_rate_limit_and_summary(tmp_path: Path) -> None:
    clock = clock_at()
    log = JsonEventLog(tmp_path, sensor="node1", clock=clock, rate=5, per=60)
    for _ in range(12):
        log.emit(event(clock))
    log.emit(event(clock, ip="192.0.2.50"))
    log.emit(make_event("bbs.sysop.action", {"actor": "op", "action": "wall", "target": ""},
                        session="", src_ip="", message="m", sensor="n", when=clock.seconds()))
    clock.advance(59)
    log.emit(event(clock))
    got = lines(tmp_path / "events.json")
    assert len(got) == 7  # 5 from the flood, the other address, the sysop
    clock.advance(1)  # the window ends: its summary is written by itself
    got = lines(tmp_path / "events.json")
    summary = got[-1]
    assert summary["eventid"] == "bbs.log.suppressed"
    assert (summary["src_ip"], summary["count"], summary["sensor"]) == ("198.51.100.7", 8, "node1")
    assert summary["timestamp"] == timestamp(DAY1 + 60)
    assert validate(summary) == []
    log.emit(event(clock))
    assert lines(tmp_path / "events.json")[-1]["eventid"] == "bbs.log.suppressed"
    clock.advance(0)  # lines are written at the end of the reactor's turn
    assert lines(tmp_path / "events.json")[-1]["eventid"] == "cowrie.command.input"
    log.emit(event(clock))
    log.close()
    assert clock.getDelayedCalls() == []


def test_lines_wait_for_the_end_of_the_turn_the_server_names(tmp_path: Path) -> None:
    clock = clock_at()
    ends: list = []
    log = JsonEventLog(tmp_path, sensor="node1", clock=clock, at_turn_end=ends.append)
    log.emit(event(clock))
    log.emit(event(clock, ip="192.0.2.50"))
    assert len(ends) == 1 and lines(tmp_path / "events.json") == []
    assert clock.getDelayedCalls() == []  # the turn's end runs anyway: no timer of our own
    ends.pop()()
    assert [e["src_ip"] for e in lines(tmp_path / "events.json")] == ["198.51.100.7", "192.0.2.50"]
    log.emit(event(clock))
    assert len(ends) == 1  # the next turn is asked for again
    log.close()
    assert len(lines(tmp_path / "events.json")) == 3


def test_events_of_trusted_peers_are_not_rate_limited(tmp_path: Path) -> None:
    clock = clock_at()
    log = JsonEventLog(tmp_path, sensor="n", clock=clock, rate=2)
    for _ in range(10):
        log.emit(event(clock, ip="192.0.2.9"), limited=False)
        log.emit(event(clock, ip="198.51.100.7"))
    log.close()
    got = [e["src_ip"] for e in lines(tmp_path / "events.json")]
    assert got.count("192.0.2.9") == 10 and got.count("198.51.100.7") == 3  # 2 + summary


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=8), st.one_of(
    st.text(), st.integers(), st.booleans(), st.none(), st.floats(allow_nan=False, allow_infinity=False),
    st.lists(st.integers(), max_size=3)), max_size=8))
def test_each_event_is_the_json_of_its_fields_on_one_line(fields: dict[str, Any]) -> None:
    line = event_line(fields)
    assert line.endswith(b"\n") and line.count(b"\n") == 1 and line.isascii()
    if not any(isinstance(v, str) and any("\ud800" <= c <= "\udfff" for c in v)
               for v in [*fields, *fields.values()]):
        assert json.loads(line) == fields


def test_close_reports_pending_summaries(tmp_path: Path) -> None:
    clock = clock_at()
    log = JsonEventLog(tmp_path, sensor="n", clock=clock, rate=1)
    log.emit(event(clock))
    log.emit(event(clock))
    log.stopService()
    assert [e["eventid"] for e in lines(tmp_path / "events.json")] == [
        "cowrie.command.input", "bbs.log.suppressed"]
    assert clock.getDelayedCalls() == []
    # An event after the stop (a session closing during shutdown) is written
    # at once: the reactor may never turn again to write it later.
    log.emit(make_event("cowrie.session.closed", {"duration": 1.0}, session="s1",
                        src_ip="192.0.2.1", message="closed", sensor="n", when=clock.seconds()))
    assert lines(tmp_path / "events.json")[-1]["eventid"] == "cowrie.session.closed"
    assert clock.getDelayedCalls() == []
    log.close()


def test_write_errors_do_not_raise(tmp_path: Path) -> None:
    clock = clock_at()
    log = JsonEventLog(tmp_path, sensor="n", clock=clock)
    log.close()
    (tmp_path / "events.json").unlink()
    (tmp_path / "events.json").mkdir()  # reopening now fails
    log.emit(event(clock))
    log.emit(event(clock))


def test_events_wait_at_most_one_turn_or_one_buffer(tmp_path: Path) -> None:
    clock = clock_at()
    log = JsonEventLog(tmp_path, sensor="n", clock=clock, rate=10_000)
    log.emit(event(clock, input="first"))
    assert lines(tmp_path / "events.json") == []  # still in this turn of the reactor
    clock.advance(0)
    assert [e["input"] for e in lines(tmp_path / "events.json")] == ["first"]
    big = "x" * 1000
    count = 2 * FLUSH_BYTES // 1000
    for _ in range(count):  # no turn ends, yet memory stays bounded
        log.emit(event(clock, input=big))
    assert len(lines(tmp_path / "events.json")) > count // 2
    log.close()
    assert len(lines(tmp_path / "events.json")) == count + 1
