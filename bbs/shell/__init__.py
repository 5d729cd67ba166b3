"""The fake BusyBox shell bots are kept talking to, so that everything they
try is recorded while nothing they send ever runs."""

from bbs.shell.limits import ShellLimits
from bbs.shell.results import ShellEvent, ShellResult
from bbs.shell.shell import BusyBoxShell

__all__ = ["BusyBoxShell", "ShellEvent", "ShellLimits", "ShellResult"]
