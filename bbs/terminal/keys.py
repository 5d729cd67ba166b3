"""Turn the bytes a terminal sends into keys.

Terminals spell one key many ways (Home alone is C{ESC [ H}, C{ESC O H},
C{ESC [ 1 ~} or C{ESC [ 7 ~}), bots and pastes send anything at all, and a
UTF-8 character may arrive split over two packets.  The decoder maps every
spelling it knows to one L{Key}, hands printable text over in runs, and
swallows everything else whole -- unknown sequences, stray controls,
undecodable bytes -- so that nothing unprintable ever reaches the input line.
"""

from __future__ import annotations

import codecs
import enum
import re

from bbs.text import printable


class Key(enum.Enum):
    """An editing key, whatever bytes the terminal used for it."""

    ENTER = "enter"
    BACKSPACE = "backspace"
    DELETE = "delete"
    TAB = "tab"
    LEFT = "left"
    RIGHT = "right"
    UP = "up"
    DOWN = "down"
    HOME = "home"
    END = "end"
    WORD_LEFT = "word-left"
    WORD_RIGHT = "word-right"
    KILL_START = "kill-start"
    KILL_END = "kill-end"
    KILL_WORD = "kill-word"
    REDRAW = "redraw"
    INTERRUPT = "interrupt"
    EOF = "eof"


# What the decoder hands over: a Key, or a non-empty run of printable text.
Event = Key | str

ESC = "\x1b"

_CONTROLS = {
    "\x01": Key.HOME,  # Ctrl-A
    "\x02": Key.LEFT,  # Ctrl-B
    "\x03": Key.INTERRUPT,  # Ctrl-C
    "\x04": Key.EOF,  # Ctrl-D
    "\x05": Key.END,  # Ctrl-E
    "\x06": Key.RIGHT,  # Ctrl-F
    "\x08": Key.BACKSPACE,  # Ctrl-H
    "\t": Key.TAB,
    "\n": Key.ENTER,  # the telnet layer turned every line end into this
    "\x0b": Key.KILL_END,  # Ctrl-K
    "\x0c": Key.REDRAW,  # Ctrl-L
    "\x0e": Key.DOWN,  # Ctrl-N
    "\x10": Key.UP,  # Ctrl-P
    "\x15": Key.KILL_START,  # Ctrl-U
    "\x17": Key.KILL_WORD,  # Ctrl-W
    "\x7f": Key.BACKSPACE,
}
# ESC followed by one character: the Meta (Alt) keys we give a meaning.
_META = {
    "b": Key.WORD_LEFT,
    "f": Key.WORD_RIGHT,
    "\x7f": Key.KILL_WORD,
    "\x08": Key.KILL_WORD,
}
# Final byte of CSI/SS3 cursor keys (xterm, VT100 application mode, rxvt).
_CURSOR = {
    "A": Key.UP,
    "B": Key.DOWN,
    "C": Key.RIGHT,
    "D": Key.LEFT,
    "H": Key.HOME,
    "F": Key.END,
}
# xterm modifier parameters (ESC [ 1 ; m C): Alt, Ctrl, Ctrl-Alt move by word.
_WORD_MODIFIERS = frozenset(("3", "5", "7"))
_WORD_MOVES = {"C": Key.WORD_RIGHT, "D": Key.WORD_LEFT}
# rxvt sends Ctrl-Right / Ctrl-Left as ESC O c / ESC O d.
_SS3_EXTRA = {"c": Key.WORD_RIGHT, "d": Key.WORD_LEFT}
# VT220 editing keys: ESC [ n ~.
_TILDE = {"1": Key.HOME, "7": Key.HOME, "4": Key.END, "8": Key.END, "3": Key.DELETE}
_NUMERIC = re.compile(r"[0-9;]*\Z")

_ASCII_RUN = re.compile(r"[ -~]+")
_LINE_BYTES = bytes(range(0x20, 0x7F)) + b"\n"  # printable ASCII and line ends
_PARAMETERS = re.compile(r"[ -?]+")  # CSI parameter and intermediate bytes

# Decoder states.
_GROUND, _ESCAPE, _CSI, _SS3, _LINUX_FKEY = range(5)


class KeyDecoder:
    """An incremental decoder from terminal input bytes to L{Event}s.

    A lone ESC always starts a sequence: the next character decides what it
    was, so C{ESC x} is swallowed rather than typed.  A sequence longer than
    C{escape_limit} characters is swallowed whole, and only that many
    characters of it are ever held.
    """

    def __init__(self, escape_limit: int = 32) -> None:
        self._limit = escape_limit
        # Made at the first byte that is not ASCII: most input never has one.
        self._utf8: codecs.IncrementalDecoder | None = None
        self._state = _GROUND
        self._params: list[str] = []
        self._length = 0

    def whole_lines(self, data: bytes) -> list[str] | None:
        """C{data} as the lines it ends, if it is nothing but whole lines of
        printable ASCII and nothing is pending: else None, for L{feed}.

        This is what line-mode clients (and bots) send, a line or a paste of
        lines at a time; it decodes to the same text runs and ENTERs as
        L{feed} would give, at a fraction of the cost.
        """
        if (self._state != _GROUND or not data.endswith(b"\n") or not data.isascii()
                or data.translate(None, _LINE_BYTES)
                or (self._utf8 is not None and self._utf8.getstate()[0])):
            return None
        return data.decode("ascii").split("\n")[:-1]

    def feed(self, data: bytes) -> list[Event]:
        """Decode C{data}; keys split across calls come out when complete."""
        if self._utf8 is None:
            if data.isascii():
                text = data.decode("ascii")
            else:
                self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
                text = self._utf8.decode(data)
        else:
            text = self._utf8.decode(data)
        events: list[Event] = []
        run: list[str] = []
        index, end = 0, len(text)
        while index < end:
            if self._state == _GROUND:
                match = _ASCII_RUN.match(text, index)
                if match is not None:
                    run.append(match.group())
                    index = match.end()
                    continue
                char = text[index]
                index += 1
                if printable(char):
                    run.append(char)
                    continue
                if run:
                    events.append("".join(run))
                    run.clear()
                if char == ESC:
                    self._start()
                else:
                    key = _CONTROLS.get(char)
                    if key is not None:
                        events.append(key)
            else:
                if run:
                    events.append("".join(run))
                    run.clear()
                if self._state in (_CSI, _SS3):
                    # A run of parameter bytes is taken whole: a flood of
                    # digits costs one regular expression, not a call each.
                    match = _PARAMETERS.match(text, index)
                    if match is not None:
                        self._parameters(match.group())
                        index = match.end()
                        continue
                if self._sequence(text[index], events):
                    index += 1
        if run:
            events.append("".join(run))
        return events

    def _start(self) -> None:
        self._state = _ESCAPE
        self._params.clear()
        self._length = 1

    def _parameters(self, chars: str) -> None:
        """Parameter and intermediate bytes: only the first few are kept."""
        room = self._limit - self._length
        if room > 0:
            self._params.append(chars[:room])
        self._length += len(chars)

    def _sequence(self, char: str, events: list[Event]) -> bool:
        """Take C{char} into the escape sequence in progress.

        Return C{False} when C{char} cannot belong to it: the sequence is
        then dropped and the caller handles C{char} as ordinary input.
        """
        self._length += 1
        state = self._state
        if state == _ESCAPE:
            if char == "[":
                self._state = _CSI
                return True
            if char == "O":
                self._state = _SS3
                return True
            if char == ESC:
                self._start()
                return True
            self._state = _GROUND
            key = _META.get(char)
            if key is not None:
                events.append(key)
                return True
            return printable(char)
        if state == _LINUX_FKEY:
            self._state = _GROUND
            return " " <= char <= "~"
        code = ord(char)
        if 0x20 <= code <= 0x3F:  # parameter and intermediate bytes
            if self._length <= self._limit:
                self._params.append(char)
            return True
        if 0x40 <= code <= 0x7E:  # the final byte
            if state == _CSI and char == "[" and not self._params:
                self._state = _LINUX_FKEY  # ESC [ [ A is F1 on the Linux console
                return True
            self._state = _GROUND
            if self._length <= self._limit:
                key = self._lookup(state, "".join(self._params), char)
                if key is not None:
                    events.append(key)
            return True
        self._state = _GROUND
        return False

    @staticmethod
    def _lookup(state: int, params: str, final: str) -> Key | None:
        if not _NUMERIC.match(params):
            return None  # private parameters: terminal reports, not keys
        fields = params.split(";")
        if final in _WORD_MOVES and len(fields) > 1 and fields[1] in _WORD_MODIFIERS:
            return _WORD_MOVES[final]
        if state == _SS3:
            return _CURSOR.get(final) or _SS3_EXTRA.get(final)
        if final == "~":
            return _TILDE.get(fields[0])
        return _CURSOR.get(final)
