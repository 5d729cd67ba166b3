"""The fake BusyBox shell bots are kept talking to, so that everything they
try is recorded while nothing they send ever runs."""

from bbs.shell.shell import BusyBoxShell, ShellEvent, ShellLimits, ShellResult

__all__ = ["BusyBoxShell", "ShellEvent", "ShellLimits", "ShellResult"]
