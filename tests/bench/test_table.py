"""The benchmark driver's table (bench/run.py), from recorded runs."""

from __future__ import annotations

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "bench_run", Path(__file__).resolve().parents[2] / "bench" / "run.py")
run = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(run)


def storm(server: str, rep: int, rate: float | None, status: str = "ok") -> dict:
    return {"server": server, "scenario": run.PAIRED, "rep": rep, "status": status,
            "conn_per_s": rate}


def test_paired_storms_compare_ours_with_bare_within_each_pair():
    rows = [storm(run.NAME, 0, 1200.0), storm(run.BARE, 0, 1600.0),
            storm(run.NAME, 1, 1500.0), storm(run.BARE, 1, 1500.0),
            storm(run.NAME, 2, 900.0), storm(run.BARE, 2, 1800.0),
            storm(run.NAME, 3, 1400.0), storm(run.BARE, 3, None, status="timeout")]
    results = run.Results(rows)
    ours, bare = results.paired(run.NAME, run.BARE, run.PAIRED, "conn_per_s")
    assert (ours, bare) == ([1200.0, 1500.0, 900.0], [1600.0, 1500.0, 1800.0])  # rep 3 has no pair
    text = run.table(results, ["twisted", run.BARE])
    side = next(line for line in text.splitlines() if "side by side" in line)
    assert "3 pairs" in side and "1,200" in side and "1,600" in side
    # The median of the pairs' ratios (0.75, 1.0, 0.5), not the ratio of the medians (0.8).
    assert "0.75x" in next(line for line in text.splitlines() if "median of the pairs" in line)


def test_no_paired_storms_no_rows():
    text = run.table(run.Results([]), ["twisted", run.BARE])
    assert "side by side" not in text


def test_server_cpu_per_login_shows_the_hosts_minute():
    """The same bare server needs 0.7 ms a login in one storm and 0.45 in
    another: the table says so beside the rates, anchors and pairs apart."""
    def cpu(d: dict, seconds: float) -> dict:
        return {**d, "server_cpu_s_ramp": seconds, "established": 5000}
    rows = [cpu({"server": run.BARE, "scenario": "connect5k", "status": "ok", "conn_per_s": 1274.0}, 3.5),
            cpu({"server": run.NAME, "scenario": "connect5k", "status": "ok", "conn_per_s": 1140.0}, 3.9),
            cpu(storm(run.NAME, 0, 1600.0), 3.0), cpu(storm(run.BARE, 0, 2000.0), 2.25),
            cpu(storm(run.NAME, 1, 1500.0), 3.2), cpu(storm(run.BARE, 1, 2100.0), 2.35)]
    lines = run.table(run.Results(rows), ["twisted", run.BARE]).splitlines()
    anchors, paired = [line for line in lines if "server CPU per login" in line]
    assert anchors.split()[5:] == ["0.780", "-", "0.700"]  # ours, twisted (no storm), bare
    assert paired.split()[6:] == ["0.620", "0.460"]  # medians of ours and of bare's pairs


def test_the_browser_doors_table_sets_each_figure_beside_the_telnet_doors():
    def ran(server: str, scenario: str, **figures) -> dict:
        return {"server": server, "scenario": scenario, "rep": 0, "status": "ok",
                "clients": 1000, **figures}
    rows = [ran(run.NAME, "doors-fanout1000", latency_ms={"p50": 4.0, "p99": 10.0}, lost=0),
            ran(run.WEB, "doors-fanout1000", latency_ms={"p50": 5.0, "p99": 16.0}, lost=0),
            ran(run.NAME, "doors-tput100", max_rate_pass=4000.0),
            ran(run.WEB, "doors-tput100", max_rate_pass=3000.0),
            ran(run.NAME, "doors-connect", rss_per_conn_bytes=6 * 1024, conn_per_s=1500.0),
            ran(run.WEB, "doors-connect", rss_per_conn_bytes=11 * 1024, conn_per_s=500.0)]
    lines = run.doors_table(run.Results(rows)).splitlines()
    fanout = next(line for line in lines if "p99 ms" in line)
    assert fanout.split()[-7:] == ["16.0", "10.0", "1.60x", "<=", "1.5x", "telnet", "FAIL"]
    rss = next(line for line in lines if "RSS per session" in line)
    assert rss.split()[-7:] == ["11.0", "6.0", "1.83x", "<=", "12", "KB", "PASS"]
    assert "0.75x" in next(line for line in lines if "max msg/s" in line)
    assert run.doors_table(run.Results(rows[:1])) == ""  # no browser runs, no table


def test_the_ssh_doors_section_shows_its_room_its_memory_and_its_handshakes():
    def ran(server: str, scenario: str, **figures) -> dict:
        return {"server": server, "scenario": scenario, "rep": 0, "status": "ok",
                "clients": 500, **figures}
    rows = [ran(run.NAME, "doors-fanout500", latency_ms={"p50": 2.0, "p99": 5.0}, lost=0),
            ran(run.SSH, "doors-fanout500", latency_ms={"p50": 3.0, "p99": 7.5}, lost=0),
            ran(run.NAME, "doors-connect500", rss_per_conn_bytes=6 * 1024, conn_per_s=1500.0),
            ran(run.SSH, "doors-connect500", rss_per_conn_bytes=30 * 1024, conn_per_s=150.0)]
    text = run.doors_table(run.Results(rows))
    assert "browser door" not in text and "SSH door" in text
    lines = text.splitlines()
    assert next(line for line in lines if "p99 ms" in line).split()[-3:] == ["7.5", "5.0", "1.50x"]
    assert "0.10x" in next(line for line in lines if "handshakes" in line)
    assert next(line for line in lines if "RSS per session" in line).split()[-3:] \
        == ["30.0", "6.0", "5.00x"]
