"""Telling a bot's telnet code by how it answers our opening negotiation.

Mirai's scanner and loader (C{consume_iacs} in C{bot/scanner.c} and
C{loader/src/connection.c}) answer every C{WILL} with C{DO}, every C{DO} but
NAWS with C{WONT}, and a C{DO NAWS} with C{WILL NAWS} and a fixed
C{SB NAWS 0 80 0 24}, all in one burst.  To our opening (C{WILL ECHO},
C{WILL SGA}, C{DO NAWS}, C{DO TTYPE}) that is exactly C{DO ECHO}, C{DO SGA},
C{WILL NAWS}, C{SB NAWS 80x24} and C{WONT TTYPE}.  People's clients answer
C{WILL TTYPE} (netkit, inetutils, PuTTY) or report their real window, and
take longer than a few milliseconds when they ask the user.
"""

from __future__ import annotations

import enum
from collections.abc import Hashable

from bbs.telnet.options import ECHO, NAWS, SGA, TTYPE

WILL, WONT, DO, DONT = 251, 252, 253, 254
# Mirai sends its answers within a millisecond; this leaves room for their
# packets to be split and delivered a little apart.
MIRAI_BURST = 0.01
_MIRAI_ANSWERS = frozenset(((DO, ECHO), (DO, SGA), (WILL, NAWS), (WONT, TTYPE), (NAWS, 80, 24)))


class Verdict(enum.Enum):
    MIRAI = "mirai"
    OTHER = "other"


class MiraiAnswers:
    """Watches a connection's first negotiation answers for Mirai's.

    Fed each answer as it comes (C{(verb, option)}, or C{(NAWS, width,
    height)} for a window report) until it gives a verdict; then it is
    dropped, so it costs a connection nothing after its first packets.
    """

    __slots__ = ("_missing", "_since")

    def __init__(self, now: float) -> None:
        self._missing = set(_MIRAI_ANSWERS)
        self._since = now

    def seen(self, answer: Hashable, now: float) -> Verdict | None:
        """Note one answer; a verdict once it is clear, else C{None}."""
        if answer not in self._missing or now - self._since > MIRAI_BURST:
            return Verdict.OTHER
        self._missing.discard(answer)
        return None if self._missing else Verdict.MIRAI
