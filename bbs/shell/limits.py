"""What one bot session may consume in the fake shell.

A module of its own, below the shell and its applets, which both read it.
"""

from __future__ import annotations

import attrs

__all__ = ["ShellLimits"]


@attrs.frozen
class ShellLimits:
    """What one bot session may consume."""

    max_files: int = 256  # files and directories it creates or changes
    max_bytes: int = 1 << 20  # bytes it writes, in total
    max_line: int = 16384  # characters in one line
    max_commands: int = 2000  # commands it runs, in total
    max_output: int = 256 * 1024  # bytes of output one line produces
    max_depth: int = 4  # scripts running scripts, substitutions in substitutions
    max_iterations: int = 1000  # rounds of one loop
    max_delay: float = 30.0  # seconds one line may make the caller wait
    net_timeout: float = 5.0  # seconds a download from a silent server takes to fail
    max_pending: int = 64 * 1024  # characters of an unfinished script kept for its next line
