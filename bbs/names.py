"""Nickname identity: a name nobody can fake.

Two names are the same person's if a reader cannot tell them apart.  Case,
width and invisible characters were folded by L{bbs.text.fold}; here the
Unicode confusables of TS #39 (Cyrillic "ѕуѕор", Greek "sysοp", "sys0p",
"rn" for "m") fold too, through ICU's skeletons, and names that mix scripts
in ways TS #39 calls unsafe (Latin with Cyrillic or Greek) are refused
outright.  The rule lives here alone: login, /nick, /register, the hub's
claim of a name online and hfnjbbs-admin all ask it.

A name's I{keys} are its skeletons read in the ways a look-alike can be
meant: case folded before the skeleton (so "ADMIN" is "admin") and after it
(so capital "I" is the "l" it looks like), and the digit 1 read as an "i"
as well as an "l" ("adm1n").  Two names collide when they share a key.

Plain ASCII names, nearly every login, take a table instead of ICU: the
table is built from ICU itself at import, and a test holds the two equal.
"""

from __future__ import annotations

import functools
import threading
import unicodedata
from collections.abc import Collection, Iterable, Mapping
from types import MappingProxyType

import attrs
import icu

from bbs.text import fold, name_problem

RESERVED = frozenset((
    "sysop", "admin", "administrator", "root", "server", "system", "operator",
    "op", "moderator", "mod", "nobody", "everyone", "all", "here", "staff",
    "support", "hfnjbbs", "bbs", "chanserv", "nickserv", "lobby",
))
RESERVED_PREFIXES = ("guest", "sysop", "admin")
# Accounts of the devices bots attack, tried at every telnet login prompt:
# refused as nicknames so that a person is never taken for a bot.
SYSTEM_NAMES = frozenset(("user", "tech", "service", "default", "daemon", "telnet", "mother"))
_ROUNDS = 6  # skeleton and case folding settle in two or three; this bounds a cycle

# ICU's checking functions are thread safe on one checker once it is set up
# (ICU's uspoof.h: functions taking a const checker may run concurrently),
# but each thread gets its own anyway: handlers run in workers and on the
# reactor thread, and a checker per thread needs no argument about PyICU.
_local = threading.local()


def _checker() -> icu.SpoofChecker:
    checker = getattr(_local, "checker", None)
    if checker is None:
        checker = icu.SpoofChecker()
        checker.setRestrictionLevel(icu.URestrictionLevel.MODERATELY_RESTRICTIVE)
        checker.setChecks(icu.USpoofChecks.RESTRICTION_LEVEL | icu.USpoofChecks.MIXED_NUMBERS)
        _local.checker = checker
    return checker


def _casefold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def _settle(text: str, fold_first: bool) -> str:
    """Apply case folding and the TS #39 skeleton in turns until nothing moves.

    ICU's skeleton maps "0" to a capital "O", so one pass is not enough.
    """
    checker = _checker()
    for _ in range(_ROUNDS):
        if fold_first:
            after = checker.getSkeleton(0, _casefold(text))
        else:
            after = _casefold(checker.getSkeleton(0, text))
        if after == text:
            break
        text = after
    return text


def _icu_keys(name: str) -> frozenset[str]:
    """A name's keys, worked out by ICU (any name)."""
    readings = (name, name.replace("1", "i")) if "1" in name else (name,)
    return frozenset(
        unicodedata.normalize("NFD", _settle(r, first)) for r in readings for first in (True, False)
    )


def _ascii_table(fold_first: bool) -> dict[str, str]:
    """Each ASCII character's settled form."""
    table = {}
    for code in range(128):
        settled = _settle(chr(code), fold_first)
        if not settled.isascii():
            raise RuntimeError(f"ICU maps ASCII {chr(code)!r} outside ASCII; the fast path is wrong")
        table[chr(code)] = settled
    return table


def _ascii_rules() -> tuple[bytes, tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
    """ASCII settling as a byte table (case and one-for-one look-alikes: "0"
    is "o"), the few characters that look like two ("m" is "rn"), and what
    the skeleton reads differently before case folding (a capital "I" is "l").

    For ASCII, NFKC is the identity and the skeleton maps each character on
    its own, so a name settles character by character.
    """
    early, late = _ascii_table(True), _ascii_table(False)
    table = bytearray(range(256))
    multi = []
    for char, settled in early.items():
        if len(settled) == 1:
            table[ord(char)] = ord(settled)
        else:
            table[ord(char)] = ord(char.lower())
            if char == char.lower():
                multi.append((char, settled))
            elif early[char.lower()] != settled:
                raise RuntimeError(f"ICU settles {char!r} apart from its lower case")
    if any(old in new for _, new in multi for old, _ in multi) or any(
        old in early.values() for old, _ in multi
    ):
        raise RuntimeError("ASCII look-alikes would chain; the fast path is wrong")
    before_folding = tuple((c, s) for c, s in late.items() if s != early[c])
    return bytes(table), tuple(multi), before_folding


_EARLY, _MULTI, _BEFORE_FOLDING = _ascii_rules()
_MULTI_CHARS = frozenset(c for c, _ in _MULTI)
_VARIANT_CHARS = frozenset("1" + "".join(c for c, _ in _BEFORE_FOLDING))  # read two ways
_ASCII_ODD = frozenset(  # the characters that settle to more than their lower case
    {c for c in map(chr, range(128)) if _EARLY[ord(c)] != ord(c.lower())}
    | _MULTI_CHARS | {c.upper() for c in _MULTI_CHARS} | _VARIANT_CHARS
)


def _settle_ascii(name: str) -> str:
    text = name.encode("ascii").translate(_EARLY).decode("ascii")
    if _MULTI_CHARS.isdisjoint(text):
        return text
    for old, new in _MULTI:
        text = text.replace(old, new)
    return text


def _ascii_keys(name: str) -> Collection[str]:
    """L{_icu_keys} for an ASCII name, without ICU."""
    if _VARIANT_CHARS.isdisjoint(name):
        return (_settle_ascii(name),)
    spellings = [name]
    for old, new in _BEFORE_FOLDING:
        if old in name:
            spellings.append(name.replace(old, new))
    if "1" in name:
        spellings += [spelling.replace("1", "i") for spelling in spellings]
    return frozenset(map(_settle_ascii, spellings))


@functools.lru_cache(maxsize=256)
def keys(name: str) -> Collection[str]:
    """The skeletons under which C{name} collides with its look-alikes (no two alike).

    The latest few are remembered: a login asks at the prompt, then the hub.
    """
    if not name.isascii():
        return _icu_keys(name)
    if _ASCII_ODD.isdisjoint(name):
        return (name.lower(),)  # most names: no ASCII character looks like another
    return _ascii_keys(name)


def _scripts(name: str) -> list[str]:
    """The scripts of C{name}'s letters, in order of first appearance."""
    seen: list[str] = []
    for char in name:
        script = icu.Script.getScript(char).getName()
        if script not in ("Common", "Inherited") and script not in seen:
            seen.append(script)
    return seen


def script_problem(name: str) -> str | None:
    """Why C{name} mixes scripts or digits unsafely (TS #39), or C{None}."""
    if name.isascii():
        return None  # Latin letters and ASCII digits: one script, one number system
    flags = _checker().check(name)
    if flags & icu.USpoofChecks.RESTRICTION_LEVEL:
        first, *others = _scripts(name)
        return f"mixes {first} with {' and '.join(others)} letters"
    if flags & icu.USpoofChecks.MIXED_NUMBERS:
        return "mixes digits of different number systems"
    return None


_RESERVED_KEYS = {key: word for word in sorted(RESERVED) for key in keys(word)}
_PREFIX_KEYS = tuple((key, word) for word in RESERVED_PREFIXES for key in sorted(keys(word)))
_PREFIX_STARTS = tuple(key for key, _ in _PREFIX_KEYS)


def reserved_like(name: str, own: bool = False) -> tuple[str, bool] | None:
    """The reserved name, or prefix (then True), that C{name} looks like.

    With C{own} (the sysop naming an account) a reserved name spelled as
    itself ("sysop", "guest7") is allowed; only its disguises are not.
    """
    return _reserved(name, keys(name), own)


def _reserved(name: str, found: Collection[str], own: bool) -> tuple[str, bool] | None:
    for key in found:
        word = _RESERVED_KEYS.get(key)
        if word is not None and not (own and fold(name) == word):
            return word, False
        if key.startswith(_PREFIX_STARTS):
            for prefix_key, prefix in _PREFIX_KEYS:
                if key.startswith(prefix_key) and not (own and fold(name).startswith(prefix)):
                    return prefix, True
    return None


@attrs.frozen
class Registered:
    """The registered nicknames: folded, and by key, to tell look-alikes.

    Keys are taken from the names as spelled, not folded: folding first would
    read a capital "I" as "i" and lose that it looks like "l".  C{in} answers
    by folded name, as the set of folded names it replaces did.
    """

    folded: frozenset[str] = frozenset()
    by_key: Mapping[str, str] = attrs.field(factory=lambda: MappingProxyType({}))

    @classmethod
    def of(cls, names: "Iterable[str] | Registered") -> "Registered":
        """The index of the accounts called C{names}."""
        if isinstance(names, Registered):
            return names
        names = sorted(set(names))
        by_key = {key: name for name in reversed(names) for key in keys(name)}
        return cls(frozenset(map(fold, names)), MappingProxyType(by_key))

    def adding(self, nick: str) -> "Registered":
        """This index and C{nick}, registered just now."""
        if fold(nick) in self.folded:
            return self
        by_key = dict(self.by_key)
        for key in keys(nick):
            by_key.setdefault(key, nick)
        return Registered(self.folded | {fold(nick)}, MappingProxyType(by_key))

    def __contains__(self, folded: object) -> bool:
        return folded in self.folded

    def __len__(self) -> int:
        return len(self.folded)

    def like(self, nick: str, found: Collection[str] | None = None) -> str | None:
        """The registered name other than C{nick} itself that C{nick} looks like.

        C{found}: C{nick}'s keys, if the caller has them.
        """
        for key in keys(nick) if found is None else found:
            name = self.by_key.get(key)
            if name is not None and fold(name) != fold(nick):
                return name
        return None


def identity_problem(nick: str, registered: Registered, own: bool = False) -> str | None:
    """Why C{nick} would pass for someone else's name, or C{None}.

    C{own}: the sysop is naming an account and may use reserved names as such.
    """
    found = keys(nick)
    reserved = _reserved(nick, found, own)
    if reserved is not None:
        word, prefix = reserved
        folded = fold(nick)
        if folded.startswith(word) if prefix else folded == word:
            return f"The nickname {nick} is reserved."
        if prefix:
            return f"The nickname {nick} is reserved: it looks like a name starting with {word}."
        return f"The nickname {nick} is reserved: it looks like {word}."
    name = registered.like(nick, found)
    if name is not None:
        return f"The nickname {nick} looks like the registered nickname {name}."
    mixed = None if nick.isascii() else script_problem(nick)
    if mixed is not None:
        return f"The nickname {nick} {mixed}; use one script, or Latin with Han and Kana."
    return None


def nick_problem(nick: str, registered: Registered = Registered(), own: bool = False) -> str | None:
    """Why C{nick} cannot be chosen as a nickname, or C{None} if it can."""
    problem = name_problem(nick) or identity_problem(nick, registered, own)
    if problem is None and fold(nick) in SYSTEM_NAMES:
        problem = (f"The nickname {nick} is a system account name that bots try at "
                   "login, so it cannot be used here.")
    return problem
