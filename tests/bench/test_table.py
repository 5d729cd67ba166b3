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
