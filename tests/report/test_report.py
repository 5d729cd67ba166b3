"""hfnjbbs-admin report, run in-process over a hand-made event directory."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from bbs import report
from bbs.admin import main
from bbs.events import MAX_LINE, event_line, make_event
from bbs.report import reading
from bbs.styled import visible_width

DAY0 = 1_795_604_400.0  # 2026-11-25 11:00 UTC, before --since 2026-11-26
DAY1 = 1_795_690_800.0  # 2026-11-26 11:00 UTC
DAY2 = 1_795_777_200.0  # 2026-11-27 11:00 UTC
ATTACKER = "203.0.113.5"
OTHER = "198.51.100.7"
EARLY = "192.0.2.1"
SCARY = "echo \x1b]0;pwned\x07\x1b[2J\x9b31m ok"
URL = "http://198.51.100.9/bins/mirai.x86"


def line(eventid: str, when: float, ip: str = ATTACKER, **fields: Any) -> bytes:
    return event_line(make_event(eventid, fields, session="s1", src_ip=ip, message="m",
                                 sensor="node1", when=when))


def connect(when: float, ip: str = ATTACKER) -> bytes:
    return line("cowrie.session.connect", when, ip, src_port=40000, dst_ip="192.0.2.10",
                dst_port=23, protocol="telnet")


def write(path: Path, *lines: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(lines))


@pytest.fixture
def data(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    write(d / "events.json.2026-11-25",
          connect(DAY0, EARLY),
          line("cowrie.command.input", DAY0 + 1, EARLY, input="old command"))
    write(d / "events.json.2026-11-26",
          connect(DAY1),
          line("cowrie.login.failed", DAY1 + 1, username="root", password="xc3245"),
          line("cowrie.login.failed", DAY1 + 2, username="root", password=""),
          b"{not json\n",
          b"[1, 2]\n",
          b'{"eventid": "cowrie.login.failed", "timestamp": "2026-11-26T11:00:03.000000Z"}\n',
          connect(DAY1 + 10, OTHER),
          line("cowrie.login.failed", DAY1 + 11, OTHER, username="root", password="xc3245"))
    # The second rotated file of the day, read after the first.
    write(d / "events.json.2026-11-26.1",
          line("cowrie.login.success", DAY1 + 20, username="admin", password="admin"),
          line("cowrie.command.input", DAY1 + 21, input="cat  /proc/cpuinfo"),
          line("cowrie.command.input", DAY1 + 22, input=" cat /proc/cpuinfo\t"),
          line("cowrie.session.file_download", DAY1 + 23, url=URL, outfile="/tmp/a"),
          line("cowrie.session.file_download", DAY1 + 24, url=URL, outfile="/tmp/b"),
          line("bbs.bot.detected", DAY1 + 25, rule="busybox-probe", family="mirai", score=1.0,
               input="/bin/busybox MIRAI"),
          line("cowrie.log.closed", DAY1 + 26, ttylog="data/casts/first.cast", size=10,
               duration=5.0))
    write(d / "events.json",
          connect(DAY2),
          line("cowrie.command.input", DAY2 + 1, input=SCARY),
          line("bbs.bot.detected", DAY2 + 2, rule="busybox-probe", family="mirai", score=1.0,
               input="/bin/busybox MIRAI"),
          line("bbs.bot.detected", DAY2 + 3, rule="enable-sh", family="unknown", score=0.5,
               input="enable"),
          line("bbs.bot.banned", DAY2 + 4, duration=None, reason="bot"),
          line("bbs.bot.banned", DAY2 + 5, OTHER, duration=3600.0, reason="bot"),
          line("cowrie.log.closed", DAY2 + 6, ttylog="data/casts/second.cast", size=20,
               duration=65.0))
    return d


def run(capsys: pytest.CaptureFixture[str], data: Path, *argv: str) -> tuple[int, str, str]:
    code = main(["--data", str(data), "report", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def rows(out: str, heading: str) -> list[list[str]]:
    """The rows of the table under C{heading}, split on runs of spaces."""
    lines = out.splitlines()
    start = lines.index(heading) + 2  # past the column headers
    found = []
    for text in lines[start:]:
        if not text.strip():
            break
        found.append(text.split())
    return found


def test_text_report_counts_everything_from_every_file(
        capsys: pytest.CaptureFixture[str], data: Path) -> None:
    code, out, err = run(capsys, data)
    assert (code, err) == (0, "")
    assert out.startswith("hfnjbbs bot report: ")
    assert "Period:      2026-11-25 11:00:00 to 2026-11-27 11:00:06 UTC" in out
    assert "Events:      21 in 4 files" in out
    assert "Sessions:    4 from 3 addresses" in out
    assert "Logins:      3 failed, 1 succeeded" in out
    assert "Bans:        2 of 2 addresses" in out
    assert rows(out, "Top addresses by sessions") == [
        ["2", ATTACKER], ["1", EARLY], ["1", OTHER]]
    assert rows(out, "Top credentials") == [
        ["2", "root", "xc3245"], ["1", "root", '""'], ["1", "admin", "admin"]]
    # Whitespace is normalised, so both spellings of cat count as one command.
    assert rows(out, "Top commands")[0] == ["2", "cat", "/proc/cpuinfo"]
    assert rows(out, "Downloads (never fetched)") == [
        ["2", URL], ["saved", "as", "/tmp/a,", "/tmp/b"]]
    assert rows(out, "Detections by rule") == [["2", "busybox-probe"], ["1", "enable-sh"]]
    assert rows(out, "Detections by family") == [["2", "mirai"], ["1", "unknown"]]
    assert rows(out, "Banned addresses") == [["1", ATTACKER], ["1", OTHER]]
    assert [row[-1] for row in rows(out, "Newest recordings")] == [
        "data/casts/second.cast", "data/casts/first.cast"]
    assert out.rstrip().splitlines()[-1] == "Skipped 3 malformed lines."


def test_text_report_escapes_what_bots_typed(
        capsys: pytest.CaptureFixture[str], data: Path) -> None:
    code, out, _ = run(capsys, data)
    assert code == 0
    for control in ("\x1b", "\x07", "\x9b"):
        assert control not in out
    assert r"echo \x1b]0;pwned\x07\x1b[2J\x9b31m ok" in out


def test_text_report_fits_80_columns(capsys: pytest.CaptureFixture[str], data: Path) -> None:
    long_url = "http://198.51.100.9/" + "x" * 200
    with open(data / "events.json", "ab") as f:
        f.write(line("cowrie.session.file_download", DAY2 + 7, url=long_url, outfile="/tmp/c"))
        f.write(line("cowrie.command.input", DAY2 + 8, input="中文" * 60))
    _, out, _ = run(capsys, data)
    assert max(visible_width(text) for text in out.splitlines()) <= 80
    assert "http://198.51.100.9/xxxx" in out
    assert any(text.endswith("x…") for text in out.splitlines())
    assert any(text.endswith("文…") or text.endswith("中…") for text in out.splitlines())


def test_json_report_has_the_same_numbers_and_exact_values(
        capsys: pytest.CaptureFixture[str], data: Path) -> None:
    code, out, _ = run(capsys, data, "--json")
    assert code == 0
    assert len(out.splitlines()) == 1 and out.isascii()
    assert "\x1b" not in out
    got = json.loads(out)
    assert got["files"] == ["events.json.2026-11-25", "events.json.2026-11-26",
                            "events.json.2026-11-26.1", "events.json"]
    assert (got["first"], got["last"]) == ("2026-11-25T11:00:00.000000Z",
                                           "2026-11-27T11:00:06.000000Z")
    assert (got["events"], got["skipped"], got["before_since"]) == (21, 3, 0)
    assert (got["sessions"], got["addresses"]) == (4, 3)
    assert got["top_addresses"][0] == {"value": ATTACKER, "count": 2}
    assert got["credentials"][:2] == [
        {"username": "root", "password": "xc3245", "count": 2},
        {"username": "root", "password": "", "count": 1}]
    assert {"value": SCARY, "count": 1} in got["top_commands"]
    assert got["top_downloads"] == [{"url": URL, "count": 2, "outfiles": ["/tmp/a", "/tmp/b"]}]
    assert got["by_family"] == [{"value": "mirai", "count": 2}, {"value": "unknown", "count": 1}]
    assert (got["bans"], got["banned_addresses"]) == (2, 2)
    assert got["recordings"] == 2
    assert got["newest_recordings"][0] == {
        "when": "2026-11-27T11:00:06.000000Z", "src_ip": ATTACKER,
        "ttylog": "data/casts/second.cast", "size": 20, "duration": 65.0}
    assert got["approximate"] == []


@pytest.mark.parametrize("since", [
    "2026-11-26", "2026-11-26T00:00:00Z", "2026-11-26T02:00:00+02:00", "2026-11-26 00:00",
])
def test_since_leaves_out_earlier_events(
        capsys: pytest.CaptureFixture[str], data: Path, since: str) -> None:
    code, out, _ = run(capsys, data, "--since", since, "--json")
    assert code == 0
    got = json.loads(out)
    assert got["since"] == "2026-11-26T00:00:00.000000Z"
    assert (got["events"], got["before_since"], got["skipped"]) == (19, 2, 3)
    assert (got["sessions"], got["addresses"]) == (3, 2)
    assert "old command" not in [c["value"] for c in got["top_commands"]]
    assert got["first"] == "2026-11-26T11:00:00.000000Z"


def test_since_in_text(capsys: pytest.CaptureFixture[str], data: Path) -> None:
    _, out, _ = run(capsys, data, "--since", "2026-11-27")
    # Events left out are not examined: the login without a user name counts
    # as earlier, not as malformed.
    assert "Since:       2026-11-27 00:00:00 UTC (15 earlier events left out)" in out
    assert out.rstrip().endswith("Skipped 2 malformed lines.")
    assert "Sessions:    1 from 1 address" in out


def test_since_a_while_ago(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    now = time.time()
    write(tmp_path / "events.json",
          connect(now - 10 * 86400, EARLY), connect(now - 2 * 86400), connect(now - 3600, OTHER))
    got = json.loads(run(capsys, tmp_path, "--since", "7d", "--json")[1])
    assert [a["value"] for a in got["top_addresses"]] == [ATTACKER, OTHER]
    got = json.loads(run(capsys, tmp_path, "--since", "24h", "--json")[1])
    assert [a["value"] for a in got["top_addresses"]] == [OTHER]


@pytest.mark.parametrize("since", ["yesterday", "7", "perm", "2026-13-01", "", "7x"])
def test_bad_since_is_a_usage_error(
        capsys: pytest.CaptureFixture[str], data: Path, since: str) -> None:
    code, out, err = run(capsys, data, "--since", since)
    assert (code, out) == (2, "")
    assert "--since" in err
    assert "Not a date or duration" in err and "YYYY-MM-DD" in err


@pytest.mark.parametrize("top", ["0", "-1", "x", "1001", "²"])
def test_bad_top_is_a_usage_error(
        capsys: pytest.CaptureFixture[str], data: Path, top: str) -> None:
    code, out, err = run(capsys, data, "--top", top)
    assert (code, out) == (2, "")
    assert "--top" in err and "1 to 1000" in err


def test_top_limits_every_ranking(capsys: pytest.CaptureFixture[str], data: Path) -> None:
    got = json.loads(run(capsys, data, "--top", "1", "--json")[1])
    for key in ("top_addresses", "credentials", "top_commands", "by_rule", "by_family",
                "top_banned", "newest_recordings"):
        assert len(got[key]) == 1, key
    assert got["newest_recordings"][0]["ttylog"] == "data/casts/second.cast"
    assert got["sessions"] == 4


def test_missing_directory_is_no_events(capsys: pytest.CaptureFixture[str],
                                        tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    code, out, err = run(capsys, missing)
    assert (code, err) == (0, "")
    assert "No events: there is no event log in this directory." in out
    assert not missing.exists()
    got = json.loads(run(capsys, missing, "--json")[1])
    assert (got["events"], got["files"], got["first"]) == (0, [], None)


def test_empty_log_is_no_events(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    write(tmp_path / "events.json")
    code, out, _ = run(capsys, tmp_path)
    assert code == 0
    assert "No events in the event log." in out
    assert "Top commands" not in out


def test_nothing_since_is_no_events(capsys: pytest.CaptureFixture[str], data: Path) -> None:
    code, out, _ = run(capsys, data, "--since", "2030-01-01")
    assert code == 0
    assert "No events since 2030-01-01 00:00:00 UTC." in out
    assert "22 earlier events left out" in out
    assert out.rstrip().endswith("Skipped 2 malformed lines.")


def test_over_long_line_is_skipped_and_the_next_one_read(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    write(tmp_path / "events.json",
          b'{"eventid": "' + b"x" * (3 * MAX_LINE) + b'"}\n', connect(DAY2))
    got = json.loads(run(capsys, tmp_path, "--json")[1])
    assert (got["skipped"], got["sessions"]) == (1, 1)


def test_bad_field_types_are_malformed(capsys: pytest.CaptureFixture[str],
                                       tmp_path: Path) -> None:
    stamp = '"timestamp": "2026-11-27T11:00:00.000000Z"'
    write(tmp_path / "events.json",
          b'{"eventid": "cowrie.command.input", "input": 7, %s}\n' % stamp.encode(),
          b'{"eventid": "cowrie.log.closed", "src_ip": "a", "ttylog": "t", "size": 1, '
          b'"duration": NaN, %s}\n' % stamp.encode(),
          b'{"eventid": "cowrie.session.connect", "src_ip": "a", "timestamp": "noon"}\n',
          b'\xff\xfe\n',
          b"[" * 100_000 + b"\n",
          connect(DAY2))
    got = json.loads(run(capsys, tmp_path, "--json")[1])
    assert (got["skipped"], got["events"], got["commands"], got["recordings"]) == (5, 1, 0, 0)


def test_lone_surrogate_is_escaped(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    write(tmp_path / "events.json",
          b'{"eventid": "cowrie.command.input", "timestamp": "2026-11-27T11:00:00.000000Z", '
          b'"src_ip": "a", "input": "a\\ud800b\\u202ec"}\n')
    code, out, _ = run(capsys, tmp_path)
    assert code == 0
    assert r"a\ud800b\u202ec" in out
    assert '"a\\ud800b\\u202ec"' in run(capsys, tmp_path, "--json")[1]


def test_text_for_an_ascii_terminal(data: Path) -> None:
    text = report.report_text(report.build_report(data), encoding="ascii")
    text.encode("ascii")
    with open(data / "events.json", "ab") as f:
        f.write(line("cowrie.command.input", DAY2 + 9, input="café"))
    text = report.report_text(report.build_report(data), encoding="ascii")
    assert r"caf\xe9" in text


def test_rankings_past_the_limit_are_approximate(
        capsys: pytest.CaptureFixture[str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reading, "DISTINCT_LIMIT", 4)
    monkeypatch.setattr(reading, "ADDRESS_LIMIT", 6)
    events = []
    for i in range(20):
        events.append(line("cowrie.command.input", DAY2 + i, input="uname -a"))
        events.append(line("cowrie.command.input", DAY2 + i, input=f"echo {i}"))
        events.append(connect(DAY2 + i, f"192.0.2.{i}"))
    write(tmp_path / "events.json", *events)
    got = json.loads(run(capsys, tmp_path, "--json")[1])
    assert got["approximate"] == ["addresses", "commands"]
    assert (got["commands"], got["sessions"]) == (40, 20)
    assert got["top_commands"][0] == {"value": "uname -a", "count": 20}
    out = run(capsys, tmp_path)[1]
    assert "Sessions:    20 from more than 6 addresses" in out
    assert "Approximate, too many distinct values to count exactly: addresses, commands." in out


SHA_A, SHA_B = "a" * 64, "b" * 64


def sample(eventid: str, when: float, ip: str, session: str, sha: str, **fields: Any) -> bytes:
    fields = {"shasum": sha, "outfile": f"data/downloads/{sha}", "trigger": "exec",
              "duplicate": False, **fields}
    return event_line(make_event(eventid, fields, session=session, src_ip=ip, message="m",
                                 sensor="node1", when=when))


def test_samples_are_listed_with_hash_size_machine_and_who_left_them(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    elf = dict(elf_class=32, elf_endian="little", elf_machine="ARM")
    write(tmp_path / "events.json",
          sample("cowrie.session.file_upload", DAY1, ATTACKER, "s1", SHA_A, size=2048,
                 filename="/tmp/upnp", destfile="/tmp/upnp", **elf),
          sample("cowrie.session.file_upload", DAY2, OTHER, "s2", SHA_A, size=2048,
                 filename="/var/run/upnp", destfile="/var/run/upnp", **elf),
          sample("cowrie.session.file_upload", DAY2 + 1, OTHER, "s3", SHA_A, size=2048,
                 filename="/tmp/upnp", destfile="/tmp/upnp", **elf),
          sample("cowrie.session.file_download", DAY2 + 2, OTHER, "s3", SHA_B, size=10,
                 url=URL, destfile="/tmp/x.sh", trigger="end"),
          line("cowrie.session.file_download", DAY2 + 3, url=URL, outfile="/tmp/x.sh"))
    code, out, _ = run(capsys, tmp_path)
    assert code == 0
    assert "Samples:     2" in out and "Downloads:   1" in out
    lines = out.splitlines()
    at = lines.index("Samples kept (DATA/downloads/SHA-256)")
    assert lines[at + 1:at + 7] == [
        f"  {SHA_A}  2048 bytes",
        "    ELF 32-bit LSB ARM, 3 sessions from 2 addresses, first 2026-11-26 11:00",
        "    as /tmp/upnp, /var/run/upnp",
        f"  {SHA_B}  10 bytes",
        "    not ELF, 1 session from 1 address, first 2026-11-27 11:00",
        f"    as /tmp/x.sh from {URL}",
    ]
    assert max(visible_width(text) for text in lines) <= 80
    code, out, _ = run(capsys, tmp_path, "--json")
    got = json.loads(out)
    assert got["samples"] == 2
    assert got["top_samples"][0] == {
        "sha256": SHA_A, "size": 2048, "elf": "ELF 32-bit LSB ARM",
        "first_seen": "2026-11-26T11:00:00.000000Z", "sessions": 3, "addresses": 2,
        "names": ["/tmp/upnp", "/var/run/upnp"], "urls": []}
    assert got["top_samples"][1]["urls"] == [URL]
    assert got["top_downloads"] == [{"url": URL, "count": 1, "outfiles": ["/tmp/x.sh"]}]


def test_sessions_are_counted_by_door_with_ssh_clients_versions_and_hassh(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    def session(when: float, door: str) -> bytes:
        return line("cowrie.session.connect", when, src_port=1, dst_ip="192.0.2.10",
                    dst_port=22, protocol=door)
    kex = dict(hasshAlgorithms="curve25519-sha256;aes128-ctr;hmac-sha2-256;none",
               kexAlgs=["curve25519-sha256"], keyAlgs=["ssh-ed25519"], encCS=["aes128-ctr"],
               macCS=["hmac-sha2-256"], compCS=["none"], langCS=[""])
    d = tmp_path / "data"
    write(d / "events.json",
          session(DAY1, "telnet"), session(DAY1 + 1, "ssh"), session(DAY1 + 2, "ssh"),
          session(DAY1 + 3, "web"),
          line("cowrie.client.version", DAY1 + 4, version="SSH-2.0-Go"),
          line("cowrie.client.version", DAY1 + 5, version="SSH-2.0-Go"),
          line("cowrie.client.kex", DAY1 + 6, hassh="a" * 32, **kex),
          line("cowrie.client.kex", DAY1 + 7, hassh="a" * 32, **kex))
    code, out, _ = run(capsys, d)
    assert code == 0
    assert "Sessions:    4 from 1 address (2 ssh, 1 telnet, 1 web)" in out
    assert rows(out, "SSH clients by version") == [["2", "SSH-2.0-Go"]]
    assert rows(out, "SSH clients by HASSH (the key exchange they offer)")[0][:2] == ["2", "a" * 32]
    code, out, _ = run(capsys, d, "--json")
    loaded = json.loads(out)
    assert loaded["by_door"][0] == {"value": "ssh", "count": 2}
    assert loaded["ssh_versions"] == [{"value": "SSH-2.0-Go", "count": 2}]
