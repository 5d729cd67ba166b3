"""The ban bench's table (bench/bans.py): per-ban figures from two servers' runs."""

from __future__ import annotations

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "bench_bans", Path(__file__).resolve().parents[2] / "bench" / "bans.py")
bans = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bans)


def run(held: int, rss_kb: int, cli: float, bot: float) -> dict:
    return {"held": held, "startup_s": 1.0, "rss_kb": rss_kb, "idle_cpu_per_s": 0.001,
            "cli_ban_cpu_s": cli, "bot_cpu_s": bot}


def test_rss_per_ban_is_the_difference_over_the_bans_held():
    text = bans.table(run(0, 40_000, 0.002, 0.003), run(100_000, 65_000, 0.0031, 0.004))
    lines = {line.split("  ")[0]: line for line in text.splitlines()}
    assert " 256 B " in lines["RSS per ban held"]  # 25,000 KB over 100,000 bans
    assert "3.1 ms" in lines["CPU per ban from the shell (poll)"]
    assert "100,000 bans" in text.splitlines()[0]
