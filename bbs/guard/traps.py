"""Bot traps: telling a botnet's telnet scanner from a person.

Two kinds of evidence, kept apart on purpose:

  - L{TrapRules}: whole lines only a bot types (C{root} at the login
    prompt, C{/bin/busybox ECCHI}, a C{wget} dropper).  A hit is a
    L{Detection}, and the session acts on it.  Rules match whole lines, never
    words inside a sentence, so people are never caught by chatting about
    bots.
  - L{BotScore}: behaviour that is merely typical of bots (never answering
    telnet negotiation, typing a line within milliseconds).  It is scored and
    logged but never decides anything by itself: plenty of people use C{nc}.

The rules live in a text file, documented at the top of the default one
(C{traps.rules} next to this module), so a sysop can follow new botnets
without a release.
"""

from __future__ import annotations

import importlib.resources
import math
import re
from pathlib import Path

import attrs

from bbs.text import fold

WHERE = ("login", "any")
SURE = 100  # a hit this sure is acted on alone; a lesser one needs bot-like behaviour too
# Longer lines are not matched at all: no bot sends them, and it keeps the
# cost of a regular expression on a pasted wall of text bounded.
MAX_LINE = 2048
_BLANKS = " \t\r\n\v\f\x00"
_NAME = re.compile(r"[A-Za-z0-9][\w.-]*\Z")


class RulesError(Exception):
    """A traps file could not be used; says which line and why."""

    def __init__(self, line: int, message: str, path: str = "") -> None:
        super().__init__(line, message, path)
        self.line = line
        self.message = message
        self.path = path

    def __str__(self) -> str:
        where = f"{self.path}, line {self.line}" if self.path else f"line {self.line}"
        return f"{where}: {self.message}"


@attrs.frozen
class Detection:
    """A rule hit: which rule, the botnet family it suggests, how sure it is."""

    rule: str
    family: str
    score: int


@attrs.frozen
class Rule:
    """One line of a traps file."""

    name: str
    where: str
    family: str
    score: int
    pattern: str
    line: int
    regex: re.Pattern[str] | None = attrs.field(eq=False, repr=False)  # None: literal

    @property
    def detection(self) -> Detection:
        return Detection(self.name, self.family, self.score)


class _Matcher:
    """The rules of one place, in file order: literals by dictionary lookup,
    regular expressions tried until one matches earlier than the literal."""

    def __init__(self, rules: list[Rule]) -> None:
        self._literals: dict[str, tuple[int, Rule]] = {}
        self._regexes: list[tuple[int, Rule, re.Pattern[str]]] = []
        for index, rule in enumerate(rules):
            if rule.regex is None:
                self._literals.setdefault(_literal(rule.pattern), (index, rule))
            else:
                self._regexes.append((index, rule, rule.regex))

    def match(self, line: str) -> Detection | None:
        if len(line) > MAX_LINE:
            return None
        line = line.strip(_BLANKS)
        if not line:
            return None
        literal = self._literals.get(_literal(line))
        first = math.inf if literal is None else literal[0]
        for index, rule, regex in self._regexes:
            if index > first:
                break
            if regex.fullmatch(line):
                return rule.detection
        return None if literal is None else literal[1].detection


def _literal(text: str) -> str:
    return fold(" ".join(text.split()))


class TrapRules:
    """A loaded traps file."""

    def __init__(self, rules: list[Rule]) -> None:
        self.rules = tuple(rules)
        self._login = _Matcher([r for r in rules if r.where in ("login", "any")])
        self._line = _Matcher([r for r in rules if r.where == "any"])

    @classmethod
    def load(cls, path: str | Path | None = None) -> TrapRules:
        """Read a traps file; C{None} reads the one shipped with hfnjbbs.

        @raise RulesError: if the file cannot be read or has a bad line.
        """
        source = (
            importlib.resources.files("bbs.guard").joinpath("traps.rules")
            if path is None
            else Path(path)
        )
        name = str(source)
        try:
            data = source.read_bytes()
        except OSError as e:
            raise RulesError(0, f"cannot read the file: {e.strerror}", name) from None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            line = data.count(b"\n", 0, e.start) + 1
            raise RulesError(line, "not valid UTF-8", name) from None
        return cls.parse(text, name)

    @classmethod
    def parse(cls, text: str, path: str = "") -> TrapRules:
        """Read the text of a traps file (see the default file for the format).

        @raise RulesError: on the first bad line.
        """
        rules: list[Rule] = []
        names: dict[str, int] = {}
        for number, raw in enumerate(text.splitlines(), 1):
            try:
                rule = _parse_line(raw, number)
            except ValueError as e:
                raise RulesError(number, str(e), path) from None
            if rule is None:
                continue
            if rule.name in names:
                raise RulesError(
                    number,
                    f"rule {rule.name!r} is already defined on line {names[rule.name]}",
                    path,
                )
            names[rule.name] = number
            rules.append(rule)
        return cls(rules)

    def match_login(self, line: str) -> Detection | None:
        """Judge an answer to the C{login:} prompt (C{login} and C{any} rules)."""
        return self._login.match(line)

    def match_line(self, line: str) -> Detection | None:
        """Judge a line typed by someone not registered (C{any} rules)."""
        return self._line.match(line)

    def __len__(self) -> int:
        return len(self.rules)


def _parse_line(raw: str, number: int) -> Rule | None:
    """One rule, or C{None} for a blank or comment line.

    @raise ValueError: with a message for the sysop.
    """
    text = raw.strip()
    if not text or text.startswith("#"):
        return None
    fields = text.split(None, 4)
    if len(fields) < 5:
        raise ValueError(
            "expected five columns: name, where, family, score and pattern"
        )
    name, where, family, score_text, pattern = fields
    if not _NAME.match(name):
        raise ValueError(
            f"bad rule name {name!r}: use letters, digits, '.', '_' and '-'"
        )
    if where not in WHERE:
        raise ValueError(f"where must be 'login' or 'any', not {where!r}")
    if not _NAME.match(family):
        raise ValueError(
            f"bad family {family!r}: use letters, digits, '.', '_' and '-'"
        )
    if not score_text.isdigit() or not 1 <= int(score_text) <= 100:
        raise ValueError(f"score must be a whole number from 1 to 100, not {score_text!r}")
    regex = None
    if pattern.startswith("re:"):
        try:
            regex = re.compile(pattern[3:])
        except re.error as e:
            raise ValueError(f"bad regular expression: {e}") from None
        if regex.fullmatch(""):
            raise ValueError(
                "the pattern matches an empty line, which is how people become guests"
            )
    return Rule(name, where, family, int(score_text), pattern, number, regex)


@attrs.frozen
class Signal:
    """A behaviour typical of bots, how much it counts, and which family it
    points at if any."""

    weight: int
    family: str | None
    why: str


SIGNALS: dict[str, Signal] = {
    "no-telnet-reply": Signal(
        30, None, "never answered our telnet option negotiation"
    ),
    "instant-line": Signal(
        25, None, "sent a whole line within a few milliseconds of the prompt"
    ),
    "line-burst": Signal(
        15, None, "sent several lines in one packet before being prompted"
    ),
    "nul-line-end": Signal(
        10, None, "ended a line with a NUL byte instead of CR LF or CR NUL"
    ),
    "foreign-protocol": Signal(
        40, None, "spoke another protocol (HTTP, TLS, SSH, ...) to the telnet port"
    ),
    "mirai-negotiation": Signal(
        40, "mirai",
        "answered our options as Mirai's scanner and loader do, within milliseconds: "
        "DO to every WILL, WONT to every DO but NAWS, WILL NAWS with a fixed 80x24 "
        "window, WONT TTYPE",
    ),
}


class BotScore:
    """How bot-like one connection behaves, from the signals in L{SIGNALS}.

    Each signal counts once however often it is seen.  The score and family
    guess go into the log and the C{/bots} report; they never ban anyone.
    """

    def __init__(self) -> None:
        self._signals: set[str] = set()

    def add_signal(self, name: str) -> int:
        """Note a signal; return the score so far.

        @raise ValueError: if C{name} is not in L{SIGNALS}.
        """
        if name not in SIGNALS:
            raise ValueError(f"unknown bot signal {name!r}")
        self._signals.add(name)
        return self.score

    @property
    def signals(self) -> frozenset[str]:
        return frozenset(self._signals)

    @property
    def score(self) -> int:
        return sum(SIGNALS[name].weight for name in self._signals)

    @property
    def family(self) -> str:
        """The family of the weightiest signal that names one, or C{unknown}."""
        named = [SIGNALS[name] for name in sorted(self._signals) if SIGNALS[name].family]
        if not named:
            return "unknown"
        return str(max(named, key=lambda signal: signal.weight).family)
