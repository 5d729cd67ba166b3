"""Durations as sysops type them (C{30m}, C{2h}, C{7d}, C{perm}) and read them.

Bans and mutes are set both from the chat and from C{hfnjbbs-admin}; one
parser keeps the two spellings identical, and C{format_duration} prints what
C{parse_duration} accepts, so a value shown to a sysop can be typed back.
"""

from __future__ import annotations

import re

_UNITS: dict[str, int] = {
    "w": 7 * 24 * 3600,
    "d": 24 * 3600,
    "h": 3600,
    "m": 60,
    "s": 1,
}
PERMANENT = frozenset(("perm", "permanent", "forever"))
# How long a ban lasts when no duration is given: in the chat (/ban, unless
# the server's --ban-duration says otherwise) and from hfnjbbs-admin alike.
DEFAULT_BAN = "1d"
# Longer than anyone means; past this "perm" says what the sysop wants.
LONGEST = 10 * 365 * 24 * 3600

_PART = re.compile(r"\s*(\d{1,7})([wdhms])")
_USAGE = "Durations look like 90s, 30m, 2h, 7d, 1w, 1h30m or perm."


def parse_duration(text: str) -> float | None:
    """Seconds for C{text}, or C{None} for a permanent duration.

    Parts may be combined (C{1h30m}, C{2h 5m}); a bare number is refused
    because it is unclear whether minutes or seconds were meant.

    @raise ValueError: with a message fit to show the sysop.
    """
    spelled = text.strip().lower()
    if spelled in PERMANENT:
        return None
    if not spelled:
        raise ValueError(f"Missing duration. {_USAGE}")
    total = 0
    position = 0
    while position < len(spelled):
        part = _PART.match(spelled, position)
        if part is None:
            raise ValueError(f"Not a duration: {text!r}. {_USAGE}")
        total += int(part.group(1)) * _UNITS[part.group(2)]
        position = part.end()
    if total <= 0:
        raise ValueError("A duration must be longer than zero.")
    if total > LONGEST:
        raise ValueError("A duration can be at most 10 years; use perm instead.")
    return float(total)


def format_duration(seconds: float) -> str:
    """A short spelling of C{seconds}: the largest unit and the next one.

    C{7505} is C{"2h 5m"}, C{259200} is C{"3d"}; the seconds of a long
    duration are dropped because nobody reads them.
    """
    left = max(0, round(seconds))
    parts: list[str] = []
    for unit, size in _UNITS.items():
        count, left = divmod(left, size)
        if parts:
            if count:
                parts.append(f"{count}{unit}")
            break
        if count:
            parts.append(f"{count}{unit}")
    return " ".join(parts) or "0s"
