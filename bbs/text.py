"""Text rules shared by every layer: sanitising user text, which characters
may be typed, escaping text for logs, and name shapes.

Anything a user typed is untrusted: it must never carry escape sequences,
control or bidi-override characters onto another user's screen, nor pile
combining marks into a tower over everyone's lines.  Whose a nickname is
(look-alikes, reserved names) is L{bbs.names}'s business.
"""

from __future__ import annotations

import re
import unicodedata

import icu
from wcwidth import wcwidth

# Characters removed from user text: C0/C1 controls and DEL (the server emits
# its own control sequences; users never do), bidi embeddings/overrides and
# isolates, and zero-width or invisible formatting characters.
_BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_INVISIBLE = "\u00ad\u180e\u200b\u200c\u200d\u2060\u2061\u2062\u2063\u2064\ufeff"
_STRIP = re.compile(
    "[\x00-\x1f\x7f-\x9f" + _BIDI + _INVISIBLE + "\ufff9-\ufffb]"
)
# A whole escape sequence goes, not only its ESC: CSI, OSC, and the rest of
# ECMA-35's (intermediates, then a final byte: ESC c resets a terminal).
_ESCAPE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]?|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[ -/]*[0-~]?"
    r"|\x9b[0-?]*[ -/]*[@-~]?|\x9d[^\x07\x9c]*[\x07\x9c]?"
)
# At most this many combining marks stay on one base character: enough for
# any script's accents (Vietnamese stacks two, Hebrew points three), not for
# "Zalgo" text, whose dozens of stacked marks spill over other people's lines.
MARKS_MAX = 3
_MARK_RANGES = icu.UnicodeSet("[:M:]")  # Unicode's marks (Mn, Mc, Me), from ICU's tables
_MARK = "[" + "".join(
    re.escape(first) + ("-" + re.escape(last) if last != first else "")
    for first, last in (
        (_MARK_RANGES.getRangeStart(i), _MARK_RANGES.getRangeEnd(i))
        for i in range(_MARK_RANGES.getRangeCount())
    )
) + "]"
_TOWER = re.compile(f"({_MARK}{{{MARKS_MAX}}}){_MARK}+")

NICK_MIN = 2
NICK_MAX = 16
_NICK_SHAPE = re.compile(r"[^\W\d_][\w-]*\Z")


def sanitize(text: str) -> str:
    """Return C{text} with escape sequences and unsafe characters removed,
    and towers of combining marks cut to L{MARKS_MAX} on each character.

    Tabs become a space so that columns stay predictable for the wrapper.
    """
    plain = text.isascii()
    if plain and text.isprintable():
        return text  # the usual line: nothing to remove, nothing to look for
    text = text.replace("\t", " ")
    if "\x1b" in text or "\x9b" in text or "\x9d" in text:
        text = _ESCAPE.sub("", text)
    text = _STRIP.sub("", text)
    # Last: what was stripped may have stood between the marks of a tower.
    return text if plain else _TOWER.sub(r"\1", text)


def sanitize_lines(text: str) -> str:
    """L{sanitize} each line of C{text}, keeping its line ends.

    For text shown to people that may hold several lines (a post's body, a
    help page) and may come from anywhere: a row stored by an older version,
    a restored backup or another tool never went through today's input path.
    """
    if text.isascii() and text.isprintable():
        return text
    return "\n".join([sanitize(line) for line in text.split("\n")])


def printable(char: str) -> bool:
    """Whether C{char} may be typed into the input line.

    Spaces of every kind are fine (U+3000 is how Japanese users type a
    space); controls, format characters, private-use code points and U+FFFD
    (which only ever stands for garbage) are not.  Code points that
    Python's Unicode database does not know yet but wcwidth calls wide are
    newer emoji, and are kept.
    """
    if char.isprintable():
        return char != "\ufffd"
    category = unicodedata.category(char)
    return category == "Zs" or (category == "Cn" and wcwidth(char) == 2)


def escape(text: str) -> str:
    """C{text} with every unprintable character written as a Python escape.

    For what a sysop reads in a log or from the admin command: an escape
    sequence, a line end or a bidi override from a stored row or a peer is
    shown as C{\\x1b}, C{\\n} or C{\\u202e}, never obeyed by the terminal,
    and the sysop sees that it was there.
    """
    if text.isprintable():
        return text
    return "".join([c if c.isprintable() else repr(c)[1:-1] for c in text])


def loggable(value: object, limit: int = 200) -> str:
    """C{value} as text that cannot break out of its log line.

    Text logs are read by people and by tools that split on newlines: a peer
    who gets a CR, LF or escape sequence into a field could forge a line or
    repaint the sysop's terminal.  Every unprintable character becomes a
    Python-style escape and the result is cut to C{limit} characters.
    """
    text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
    cut = len(text) > limit
    text = escape(text[:limit])
    return text + "..." if cut else text


def fold(name: str) -> str:
    """The identity of a nickname or room name: NFKC then case folding.

    Compatibility normalisation makes full-width and other look-alike forms
    collide with their plain spelling.
    """
    return unicodedata.normalize("NFKC", name).casefold()


def name_problem(name: str, what: str = "Nickname") -> str | None:
    """Why C{name} is not a valid nickname or room name, or C{None} if it is."""
    if not NICK_MIN <= len(name) <= NICK_MAX:
        return f"{what} must be {NICK_MIN} to {NICK_MAX} characters long."
    if sanitize(name) != name or not _NICK_SHAPE.match(name):
        return (
            f"{what} must start with a letter and contain only letters, "
            "digits, '_' and '-'."
        )
    return None
