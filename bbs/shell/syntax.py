"""The tree a script parses into (L{bbs.shell.parse}) and the shell runs:
words kept as parts to be expanded late, simple and compound commands,
pipelines and the C{;}/C{&&}/C{||} steps between them.  Values only, so a
parsed script can be held and walked without the parser."""

from __future__ import annotations

import re

import attrs

_ASSIGN = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=")


@attrs.frozen
class Part:
    """A piece of a word.  C{kind} is C{lit} (text), C{var} (C{${text op arg}}),
    C{cmd} (C{$(text)} or backticks) or C{arith} (C{$((text))}).  C{quoted}
    parts are neither split nor globbed."""

    text: str
    quoted: bool = False
    kind: str = "lit"
    op: str = ""
    arg: "Word | None" = None

    @property
    def var(self) -> bool:
        return self.kind == "var"


@attrs.frozen
class Word:
    parts: tuple[Part, ...]

    @property
    def pattern(self) -> str | None:
        """The glob pattern this word is, if it is one (unquoted, no expansions)."""
        if all(not p.quoted and p.kind == "lit" for p in self.parts):
            text = "".join(p.text for p in self.parts)
            if any(c in text for c in "*?["):
                return text
        return None

    @property
    def assignment(self) -> str | None:
        """The variable name if this word is C{NAME=value}."""
        first = self.parts[0] if self.parts else None
        if first is not None and not first.quoted and first.kind == "lit":
            m = _ASSIGN.match(first.text)
            if m:
                return m.group(1)
        return None

    @property
    def literal(self) -> str | None:
        """The word's text if it is one unquoted literal (a keyword candidate)."""
        if len(self.parts) == 1 and self.parts[0].kind == "lit" and not self.parts[0].quoted:
            return self.parts[0].text
        return None


@attrs.frozen
class Redirect:
    """C{fd op target}: op is one of C{<}, C{>}, C{>>}, C{>&}, C{<&}, C{<<}
    (a here-document, whose body is C{target}; expanded unless C{quoted})."""

    fd: int
    op: str
    target: Word
    quoted: bool = False
    doc: list[Word] | None = attrs.field(default=None, eq=False, repr=False)

    @property
    def body(self) -> Word:
        """A here-document's text, filled in when the line that holds it ended."""
        return self.doc[0] if self.doc else Word(())


@attrs.frozen
class Command:
    """A simple command; C{source} is its text as typed, for the event log."""

    words: tuple[Word, ...]
    redirects: tuple[Redirect, ...]
    source: str


@attrs.frozen
class If:
    branches: tuple[tuple["Script", "Script"], ...]  # (condition, body)
    otherwise: "Script | None"
    redirects: tuple[Redirect, ...] = ()


@attrs.frozen
class Loop:
    """C{while} (or, with C{until}, C{until}) CONDITION; do BODY; done."""

    condition: "Script"
    body: "Script"
    until: bool = False
    redirects: tuple[Redirect, ...] = ()


@attrs.frozen
class For:
    name: str
    items: tuple[Word, ...] | None  # None: "$@"
    body: "Script"
    redirects: tuple[Redirect, ...] = ()


@attrs.frozen
class Case:
    subject: Word
    arms: tuple[tuple[tuple[Word, ...], "Script"], ...]
    redirects: tuple[Redirect, ...] = ()


@attrs.frozen
class Group:
    """C{{ ...; }} or, with C{subshell}, C{( ... )}: the latter keeps its changes."""

    body: "Script"
    subshell: bool = False
    redirects: tuple[Redirect, ...] = ()


Node = Command | If | Loop | For | Case | Group


@attrs.frozen
class Pipeline:
    commands: tuple[Node, ...]
    negate: bool = False


@attrs.frozen
class Step:
    """A pipeline and how it depends on the previous one: C{;} always runs,
    C{&&} only after success, C{||} only after failure."""

    op: str
    pipeline: Pipeline


@attrs.frozen
class AndOr:
    steps: tuple[Step, ...]


Script = tuple[AndOr, ...]
