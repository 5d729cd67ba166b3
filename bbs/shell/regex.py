"""The regular expressions of C{grep}: POSIX basic (and, with C{-E},
extended) syntax without groups, matched by a state-set simulation.

A bot's pattern runs against whatever a bot pipes in, so matching must take
time in proportion to the text, whatever the pattern: no backtracking.
"""

from __future__ import annotations

import attrs


class RegexError(Exception):
    """The pattern cannot be compiled; C{str()} is the reason grep gives."""


@attrs.frozen
class _Atom:
    chars: frozenset[int] | None  # None: any byte but a newline
    negate: bool = False
    min: int = 1  # 0 for * and ?
    many: bool = False  # * and +

    def accepts(self, byte: int) -> bool:
        if self.chars is None:
            return byte != 10
        return (byte in self.chars) != self.negate


_CLASSES = {
    "alpha": b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", "digit": b"0123456789",
    "alnum": b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
    "upper": b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", "lower": b"abcdefghijklmnopqrstuvwxyz",
    "space": b" \t\n\r\f\v", "blank": b" \t", "xdigit": b"0123456789abcdefABCDEF",
    "punct": bytes(c for c in range(33, 127) if not chr(c).isalnum()),
}


def _bracket(p: bytes, i: int) -> tuple[frozenset[int], bool, int]:
    """The set of bytes of the bracket expression at C{p[i]} (after C{[}), and where it ends."""
    negate = p[i:i + 1] == b"^"
    if negate:
        i += 1
    chars: set[int] = set()
    first = True
    while i < len(p) and (p[i] != ord("]") or first):
        first = False
        if p.startswith(b"[:", i):
            end = p.find(b":]", i)
            name = p[i + 2:end].decode("ascii", "replace") if end > 0 else ""
            if name not in _CLASSES:
                raise RegexError("Invalid character class name")
            chars.update(_CLASSES[name])
            i = end + 2
            continue
        if i + 2 < len(p) and p[i + 1] == ord("-") and p[i + 2] != ord("]"):
            chars.update(range(p[i], p[i + 2] + 1))
            i += 3
            continue
        chars.add(p[i])
        i += 1
    if i >= len(p):
        raise RegexError("Unmatched [, [^, [:, [., or [=")
    return frozenset(chars), negate, i + 1


@attrs.frozen
class Regex:
    branches: tuple[tuple[tuple[_Atom, ...], bool, bool], ...]  # (atoms, ^, $)

    @classmethod
    def compile(cls, pattern: bytes, extended: bool = False, fold: bool = False) -> "Regex":
        if fold:
            pattern = pattern.lower()
        parts = pattern.split(b"|") if extended else pattern.split(b"\\|")
        return cls(tuple(cls._branch(p, extended) for p in parts[:16]))

    @staticmethod
    def _branch(p: bytes, extended: bool) -> tuple[tuple[_Atom, ...], bool, bool]:
        start = p.startswith(b"^")
        if start:
            p = p[1:]
        end = p.endswith(b"$") and not p.endswith(b"\\$")
        if end:
            p = p[:-1]
        atoms: list[_Atom] = []
        i = 0
        while i < len(p):
            c = p[i]
            quantifiers = b"*+?" if extended else b"*"
            if c in quantifiers and atoms and atoms[-1].min == 1 and not atoms[-1].many:
                atoms[-1] = attrs.evolve(atoms[-1], min=0 if c in b"*?" else 1,
                                         many=c in b"*+")
                i += 1
                continue
            if not extended and p.startswith((b"\\+", b"\\?"), i) and atoms:
                atoms[-1] = attrs.evolve(atoms[-1], min=0 if p[i + 1] == ord("?") else 1,
                                         many=p[i + 1] == ord("+"))
                i += 2
                continue
            if c == ord("["):
                chars, negate, i = _bracket(p, i + 1)
                atoms.append(_Atom(chars, negate))
                continue
            if c == ord("."):
                atoms.append(_Atom(None))
            elif c == ord("\\") and i + 1 < len(p):
                i += 1
                atoms.append(_Atom(frozenset({p[i]})))
            elif extended and c in b"(){}":
                raise RegexError("groups and intervals are not supported")
            else:
                atoms.append(_Atom(frozenset({c})))
            i += 1
        if len(atoms) > 256:
            raise RegexError("Regular expression too big")
        return tuple(atoms), start, end

    def search(self, line: bytes, fold: bool = False) -> bool:
        if fold:
            line = line.lower()
        return any(_search(atoms, start, end, line) for atoms, start, end in self.branches)


def _closure(atoms: tuple[_Atom, ...], states: set[int]) -> set[int]:
    """C{states} plus those reached by skipping optional atoms."""
    out, todo = set(states), list(states)
    while todo:
        s = todo.pop()
        if s < len(atoms) and atoms[s].min == 0 and s + 1 not in out:
            out.add(s + 1)
            todo.append(s + 1)
    return out


def _search(atoms: tuple[_Atom, ...], start: bool, end: bool, line: bytes) -> bool:
    done = len(atoms)
    states = _closure(atoms, {0})
    for byte in line:
        if done in states and not end:
            return True
        nxt: set[int] = set()
        for s in states:
            if s < done and atoms[s].accepts(byte):
                nxt.add(s if atoms[s].many else s + 1)
                if atoms[s].many:
                    nxt.add(s + 1)
        if not start:
            nxt.add(0)
        states = _closure(atoms, nxt)
        if not states:
            return False
    return done in states
