"""Text rules shared by every layer: sanitising user text and nickname identity.

Anything a user typed is untrusted: it must never carry escape sequences,
control or bidi-override characters onto another user's screen, and two
nicknames that look alike must collide.
"""

from __future__ import annotations

import re
import unicodedata

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

NICK_MIN = 2
NICK_MAX = 16
_NICK_SHAPE = re.compile(r"[^\W\d_][\w-]*\Z")
_RESERVED = frozenset((
    "sysop", "admin", "administrator", "root", "server", "system", "operator",
    "op", "moderator", "mod", "nobody", "everyone", "all", "here", "staff",
    "support", "hfnjbbs", "bbs", "chanserv", "nickserv", "lobby",
))
_RESERVED_PREFIXES = ("guest", "sysop", "admin")
# Accounts of the devices bots attack, tried at every telnet login prompt:
# refused as nicknames so that a person is never taken for a bot.
_SYSTEM_NAMES = frozenset(("user", "tech", "service", "default", "daemon", "telnet", "mother"))


def sanitize(text: str) -> str:
    """Return C{text} with escape sequences and unsafe characters removed.

    Tabs become a space so that columns stay predictable for the wrapper.
    """
    if text.isascii() and text.isprintable():
        return text  # the usual line: nothing to remove, nothing to look for
    text = text.replace("\t", " ")
    if "\x1b" in text or "\x9b" in text or "\x9d" in text:
        text = _ESCAPE.sub("", text)
    return _STRIP.sub("", text)


def sanitize_lines(text: str) -> str:
    """L{sanitize} each line of C{text}, keeping its line ends.

    For text shown to people that may hold several lines (a post's body, a
    help page) and may come from anywhere: a row stored by an older version,
    a restored backup or another tool never went through today's input path.
    """
    if text.isascii() and text.isprintable():
        return text
    return "\n".join([sanitize(line) for line in text.split("\n")])


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


def nick_problem(nick: str) -> str | None:
    """Why C{nick} cannot be chosen as a nickname, or C{None} if it can."""
    problem = name_problem(nick)
    if problem:
        return problem
    folded = fold(nick)
    if folded in _RESERVED or folded.startswith(_RESERVED_PREFIXES):
        return f"The nickname {nick} is reserved."
    if folded in _SYSTEM_NAMES:
        return (f"The nickname {nick} is a system account name that bots try at "
                "login, so it cannot be used here.")
    return None
