"""Turning a command line into what ash would run, without running anything.

Bots chain their probes with C{;}, C{&&} and C{||}, quote their echo-loader
payloads, and redirect into files; getting that right is what makes the
replies they parse come out right.  Variables are expanded late (by
L{expand}, when each command runs) so that C{cd /tmp; echo $PWD} sees the
new directory.  What ash would fork for (command substitution) is refused
with the error a memory-starved router gives.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import attrs


class ShellSyntaxError(Exception):
    """The line cannot run; C{str()} is what ash prints after C{-sh: }."""


@attrs.frozen
class Part:
    """A piece of a word: literal text, or (C{var}) the name of a variable.

    C{quoted} parts are neither split nor globbed."""

    text: str
    quoted: bool = False
    var: bool = False


@attrs.frozen
class Word:
    parts: tuple[Part, ...]

    @property
    def pattern(self) -> str | None:
        """The glob pattern this word is, if it is one (unquoted, no variables)."""
        if all(not p.quoted and not p.var for p in self.parts):
            text = "".join(p.text for p in self.parts)
            if any(c in text for c in "*?["):
                return text
        return None

    @property
    def assignment(self) -> str | None:
        """The variable name if this word is C{NAME=value}."""
        first = self.parts[0] if self.parts else None
        if first is not None and not first.quoted and not first.var:
            m = _ASSIGN.match(first.text)
            if m:
                return m.group(1)
        return None


@attrs.frozen
class Redirect:
    """C{fd op target}: op is one of C{<}, C{>}, C{>>}, C{>&}, C{<&}."""

    fd: int
    op: str
    target: Word


@attrs.frozen
class Command:
    """A simple command; C{source} is its text as typed, for the event log."""

    words: tuple[Word, ...]
    redirects: tuple[Redirect, ...]
    source: str


@attrs.frozen
class Step:
    """A pipeline and how it depends on the previous one: C{;} always runs,
    C{&&} only after success, C{||} only after failure."""

    op: str
    pipeline: tuple[Command, ...]


_FD = re.compile(r"\d+(?=[<>])")
_PLAIN = re.compile(r"[^ \t\n;&|<>()\\'\"$`]+")
_PLAIN_QUOTED = re.compile(r'[^"\\$`]+')
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ASSIGN = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=")
_SPECIAL_VARS = "?$#!-@*0123456789"
_META = " \t\n;&|<>()"
_KEYWORDS = frozenset({
    "if", "then", "else", "elif", "fi", "for", "while", "until", "do", "done", "case",
    "esac", "in", "{", "}", "!", "function", "select",
})
NO_FORK = "can't fork: Out of memory"


class _Lexer:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        # (kind, value, start, end): kind is "word", "op" or "redir"
        self.tokens: list[tuple[str, object, int, int]] = []

    def run(self) -> list[tuple[str, object, int, int]]:
        text, n = self.text, len(self.text)
        while self.pos < n:
            c = text[self.pos]
            start = self.pos
            if c in " \t":
                self.pos += 1
            elif c == "\n":
                self.pos += 1
                self.tokens.append(("op", ";", start, start))
            elif c == "#":
                break
            elif c in "&|;":
                two = text[start:start + 2]
                op = two if two in ("&&", "||", ";;") else c
                self.pos += len(op)
                self.tokens.append(("op", op, start, self.pos))
            elif c in "()":
                raise ShellSyntaxError(f'syntax error: unexpected "{c}"')
            elif c in "<>":
                self._redirect(None)
            elif c.isdigit() and (m := _FD.match(text, start)):
                self.pos = m.end()
                self._redirect(int(m.group()) if len(m.group()) <= 2 else 99)
            else:
                word = self._word()
                self.tokens.append(("word", word, start, self.pos))
        return self.tokens

    def _redirect(self, fd: int | None) -> None:
        text, start = self.text, self.pos
        for op in (">>", ">&", ">|", "<<", "<&", "<>", ">", "<"):
            if text.startswith(op, start):
                break
        if op == "<<":
            raise ShellSyntaxError('syntax error: unexpected "<<"')
        self.pos += len(op)
        op = {">|": ">", "<>": "<"}.get(op, op)
        if fd is None:
            fd = 0 if op[0] == "<" else 1
        self.tokens.append(("redir", (fd, op), start, self.pos))

    def _word(self) -> Word:
        text, n = self.text, len(self.text)
        parts: list[Part] = []
        while self.pos < n and text[self.pos] not in _META:
            c = text[self.pos]
            if c == "\\":
                if self.pos + 1 < n and text[self.pos + 1] != "\n":
                    parts.append(Part(text[self.pos + 1], quoted=True))
                self.pos += 2
            elif c == "'":
                end = text.find("'", self.pos + 1)
                if end < 0:
                    raise ShellSyntaxError("syntax error: unterminated quoted string")
                parts.append(Part(text[self.pos + 1:end], quoted=True))
                self.pos = end + 1
            elif c == '"':
                self._double_quoted(parts)
            elif c == "$":
                parts.append(self._dollar(quoted=False))
            elif c == "`":
                raise ShellSyntaxError(NO_FORK)
            else:
                m = _PLAIN.match(text, self.pos)
                end = m.end() if m else self.pos + 1
                parts.append(Part(text[self.pos:end]))
                self.pos = end
        return Word(_merge(parts))

    def _double_quoted(self, parts: list[Part]) -> None:
        text, n = self.text, len(self.text)
        self.pos += 1
        parts.append(Part("", quoted=True))  # "" is still a word
        while True:
            if self.pos >= n:
                raise ShellSyntaxError("syntax error: unterminated quoted string")
            c = text[self.pos]
            if c == '"':
                self.pos += 1
                return
            if c == "\\" and self.pos + 1 < n and text[self.pos + 1] in '$`"\\\n':
                if text[self.pos + 1] != "\n":
                    parts.append(Part(text[self.pos + 1], quoted=True))
                self.pos += 2
            elif c == "$":
                parts.append(self._dollar(quoted=True))
            elif c == "`":
                raise ShellSyntaxError(NO_FORK)
            else:
                m = _PLAIN_QUOTED.match(text, self.pos)
                end = m.end() if m else self.pos + 1
                parts.append(Part(text[self.pos:end], quoted=True))
                self.pos = end

    def _dollar(self, *, quoted: bool) -> Part:
        text, start = self.text, self.pos
        after = text[start + 1:start + 2]
        if after == "(":
            raise ShellSyntaxError(NO_FORK)
        if after == "{":
            end = text.find("}", start + 2)
            name = text[start + 2:end] if end >= 0 else ""
            if end < 0 or not (_NAME.fullmatch(name) or (len(name) == 1 and name in _SPECIAL_VARS)):
                raise ShellSyntaxError("syntax error: bad substitution")
            self.pos = end + 1
            return Part(name, quoted=quoted, var=True)
        m = _NAME.match(text, start + 1)
        if m:
            self.pos = m.end()
            return Part(m.group(), quoted=quoted, var=True)
        if after and after in _SPECIAL_VARS:
            self.pos += 2
            return Part(after, quoted=quoted, var=True)
        self.pos += 1
        return Part("$", quoted=quoted)


def _merge(parts: list[Part]) -> tuple[Part, ...]:
    """Join neighbouring literal parts of the same quoting."""
    out: list[Part] = []
    for p in parts:
        if out and not p.var and not out[-1].var and out[-1].quoted == p.quoted:
            out[-1] = Part(out[-1].text + p.text, quoted=p.quoted)
        else:
            out.append(p)
    return tuple(out)


def parse(line: str) -> tuple[Step, ...]:
    """The steps of C{line}, or L{ShellSyntaxError}."""
    tokens = _Lexer(line).run()
    steps: list[Step] = []
    pipeline: list[Command] = []
    words: list[Word] = []
    redirects: list[Redirect] = []
    span: list[int] = []
    op = ";"
    dangling = False  # the line ended right after "|", "&&" or "||"

    def end_command(what: str) -> None:
        if not words and not redirects:
            raise ShellSyntaxError(f'syntax error: unexpected "{what}"' if what
                                   else "syntax error: unexpected end of file")
        first = words[0].parts if words else ()
        if len(first) == 1 and not first[0].quoted and not first[0].var \
                and first[0].text in _KEYWORDS:
            raise ShellSyntaxError(f'syntax error: unexpected "{first[0].text}"')
        pipeline.append(Command(tuple(words), tuple(redirects), line[span[0]:span[1]]))
        words.clear()
        redirects.clear()
        span.clear()

    i = 0
    while i < len(tokens):
        kind, value, start, end = tokens[i]
        if kind == "op":
            if value == ";;" or (value == ";" and not words and not redirects and not pipeline
                                 and start == end):
                if value == ";;":
                    raise ShellSyntaxError('syntax error: unexpected ";;"')
                i += 1
                continue  # a blank line in a script
            end_command(str(value))
            dangling = value in ("|", "&&", "||")
            if value != "|":
                steps.append(Step(op, tuple(pipeline)))
                pipeline.clear()
                op = ";" if value in (";", "&") else str(value)
        else:
            dangling = False
            span[:] = [span[0] if span else start, end]
            if kind == "word":
                words.append(value)  # type: ignore[arg-type]
            else:
                i += 1
                if i >= len(tokens) or tokens[i][0] != "word":
                    raise ShellSyntaxError(
                        "syntax error: unexpected newline" if i >= len(tokens)
                        else f'syntax error: unexpected "{tokens[i][1]}"')
                fd, redir_op = value  # type: ignore[misc]
                redirects.append(Redirect(fd, redir_op, tokens[i][1]))  # type: ignore[arg-type]
                span[1] = tokens[i][3]
        i += 1
    if words or redirects:
        end_command("")
    if dangling:
        raise ShellSyntaxError("syntax error: unexpected end of file")
    if pipeline:
        steps.append(Step(op, tuple(pipeline)))
    return tuple(steps)


def expand(word: Word, env: Mapping[str, str]) -> list[str]:
    """The fields C{word} becomes: variables substituted, unquoted ones split
    on blanks, and a word made only of an empty unquoted variable dropped."""
    fields: list[str] = []
    current, real = "", False
    for part in word.parts:
        value = env.get(part.text, "") if part.var else part.text
        if not part.var or part.quoted:
            current += value
            real = real or part.quoted or bool(value)
            continue
        pieces = value.split()
        if value[:1].isspace() and real:
            fields.append(current)
            current, real = "", False
        for k, piece in enumerate(pieces):
            if k:
                fields.append(current)
                current = ""
            current += piece
            real = True
        if pieces and value[-1].isspace():
            fields.append(current)
            current, real = "", False
    if real:
        fields.append(current)
    return fields
