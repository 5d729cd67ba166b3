"""A fake shell on a clock set to one known moment, and what a line prints."""

from __future__ import annotations

from twisted.internet.task import Clock

from bbs.shell import BusyBoxShell, ShellLimits

START = 1_795_777_200.0  # 2026-11-27 11:00 UTC


def shell(limits: ShellLimits = ShellLimits(), **kwargs: object) -> BusyBoxShell:
    clock = Clock()
    clock.advance(START)
    return BusyBoxShell(clock=clock, limits=limits, **kwargs)  # type: ignore[arg-type]


def out(sh: BusyBoxShell, line: str) -> str:
    return sh.run(line).output
