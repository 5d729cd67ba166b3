"""The guard layer: bans, rate limits and bot traps.

Everything here runs on the reactor thread for every connection and every
line, so it is pure bookkeeping: no I/O (the traps file is read once at
start-up), no timers, no threads.  Time always comes from an injected clock,
the reactor in production and L{twisted.internet.task.Clock} in tests, which
is what makes every policy here testable without sleeping.
"""

from __future__ import annotations

from bbs.rates import Clock

__all__ = ["Clock"]  # the one thing the guard needs from the reactor: the time
