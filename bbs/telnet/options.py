"""Telnet option numbers and the RFC 1143 "Q method" for negotiating them.

RFC 854 only says "don't acknowledge a mode you are already in", which is not
enough: two peers that change their minds while a request is in flight can
loop for ever, and bots happily send thousands of DO/DONT in a row.  RFC 1143
keeps, for each side of each option, whether we are in it, out of it, or
waiting for an answer (and whether the opposite request is queued behind the
pending one).  With that state a command never provokes more than one reply
and an answer to our own request never provokes any.

The state of one side is a frozen value; a transition returns the new value
and what, if anything, must be sent, so the rules can be tested on their own.
"""

from __future__ import annotations

import enum
from functools import cache

import attrs

# Option codes (IANA telnet options registry).
BINARY = 0  # RFC 856
ECHO = 1  # RFC 857
SGA = 3  # RFC 858, suppress go-ahead
TTYPE = 24  # RFC 1091, terminal type
NAWS = 31  # RFC 1073, window size
LINEMODE = 34  # RFC 1184, refused: we edit lines ourselves
NEW_ENVIRON = 39  # RFC 1572, heard to be logged (see bbs.telnet.environ)


class Q(enum.Enum):
    """Where one side of one option stands (RFC 1143 section 7)."""

    NO = "no"
    YES = "yes"
    WANTNO = "wantno"
    WANTYES = "wantyes"


@attrs.frozen
class Side:
    """One side of one option: ours ("us", WILL/WONT) or the peer's ("him", DO/DONT).

    C{answer} values returned by the transitions are C{True} for the
    positive verb (WILL or DO), C{False} for the negative one (WONT or DONT)
    and C{None} when nothing must be sent.
    """

    state: Q = Q.NO
    queued: bool = False  # the opposite of the pending request is wanted next

    @property
    def enabled(self) -> bool:
        return self.state is Q.YES

    @property
    def headed_on(self) -> bool:
        """Whether the option is on, or will be once what is asked is answered."""
        state = self.state
        if state is Q.WANTYES:
            return not self.queued
        if state is Q.WANTNO:
            return self.queued
        return state is Q.YES

    def received(self, enable: bool, acceptable: bool) -> tuple[Side, bool | None]:
        """The peer sent WILL/DO (C{enable}) or WONT/DONT about this side."""
        state, queued = self.state, self.queued
        if enable:
            if state is Q.NO:
                return (_YES, True) if acceptable else (self, False)
            if state is Q.YES:
                return self, None
            if state is Q.WANTNO:
                # A refusal answered by agreement: the peer is in error, but
                # the option is on (if we queued "on") or off; never reply.
                return (_YES if queued else _NO), None
            # WANTYES: our request was granted, unless we changed our mind.
            if queued:
                return _WANTNO, False
            return _YES, None
        if state is Q.NO:
            return self, None
        if state is Q.YES:
            return _NO, False
        if state is Q.WANTNO and queued:
            return _WANTYES, True
        return _NO, None

    def request(self, enable: bool) -> tuple[Side, bool | None]:
        """We want this side on (C{enable}) or off."""
        state = self.state
        off, want_on, want_off = (
            (Q.NO, Q.WANTYES, Q.WANTNO) if enable else (Q.YES, Q.WANTNO, Q.WANTYES)
        )
        if state is off:
            return _side(want_on), enable
        if state is want_off:
            # Ask again once the pending request has been answered.
            return _side(state, True), None
        if state is want_on and self.queued:
            # Cancel the queued change of mind.
            return _side(state), None
        # Already there, or already asking for it.
        return self, None


@cache
def _side(state: Q, queued: bool = False) -> Side:
    """The one L{Side} with these values: sides are immutable, so every
    connection shares them instead of making new ones at each transition."""
    return Side(state, queued)


# The states a peer's command leads to, looked up by L{Side.received}: every
# connection negotiates at least four options, so this is a hot path.
_NO, _YES, _WANTNO, _WANTYES = (_side(q) for q in (Q.NO, Q.YES, Q.WANTNO, Q.WANTYES))
