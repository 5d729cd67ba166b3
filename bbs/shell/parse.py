"""Turning a script into the tree ash would run (L{bbs.shell.syntax}),
without running anything.

Bots chain probes with C{;}, C{&&} and C{||}, loop over files with C{while
read}, test for tools with C{if}/C{case}, substitute C{$(...)}, and feed
here-documents; getting that right is what makes the replies they parse come
out right.  Words are kept as parts and expanded late (by the shell, when
each command runs) so that C{cd /tmp; echo $PWD} sees the new directory.
Input that stops inside a construct raises L{Incomplete}, so the shell can
ask for more with its C{> } prompt, as ash does.
"""

from __future__ import annotations

import re

import attrs

from bbs.shell.syntax import (
    AndOr, Case, Command, For, Group, If, Loop, Node, Part, Pipeline, Redirect, Script, Step, Word,
)


class ShellSyntaxError(Exception):
    """The script cannot run; C{str()} is what ash prints after C{-sh: }."""


class Incomplete(ShellSyntaxError):
    """The script stops inside a quote, a compound command or a here-document."""

    def __init__(self) -> None:
        super().__init__("syntax error: unexpected end of file")


_FD = re.compile(r"\d+(?=[<>])")
_PLAIN = re.compile(r"[^ \t\n;&|<>()\\'\"$`]+")
_PLAIN_QUOTED = re.compile(r'[^"\\$`]+')
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SPECIAL_VARS = "?$#!-@*0123456789"
_META = " \t\n;&|<>()"
_PARAM_OPS = (":-", ":=", ":+", ":?", "##", "%%", "-", "=", "+", "?", "#", "%")
_RESERVED = frozenset({"then", "else", "elif", "fi", "do", "done", "esac", "}", "in"})
MAX_NESTING = 16


@attrs.frozen
class _Tok:
    kind: str  # "word", "op", "redir", "nl", "eof"
    value: object
    start: int
    end: int


class _Lexer:
    """Tokens on demand, with here-document bodies read at each newline."""

    def __init__(self, text: str, depth: int = 0) -> None:
        if depth > MAX_NESTING:
            raise ShellSyntaxError("syntax error: nesting too deep")
        self.text = text
        self.pos = 0
        self.depth = depth
        self.nesting = 0  # ${...} open around the one being read
        self._pending: list[tuple[str, bool, bool, list[Word]]] = []

    def next(self) -> _Tok:
        text, n = self.text, len(self.text)
        while self.pos < n:
            c = text[self.pos]
            start = self.pos
            if c in " \t":
                self.pos += 1
            elif c == "\\" and text.startswith("\\\n", start):
                self.pos += 2
            elif c == "\n":
                self.pos += 1
                self._read_heredocs()
                return _Tok("nl", "\n", start, start)
            elif c == "#":
                end = text.find("\n", start)
                self.pos = n if end < 0 else end
            elif c in "&|;":
                two = text[start:start + 2]
                op = two if two in ("&&", "||", ";;") else c
                self.pos += len(op)
                return _Tok("op", op, start, self.pos)
            elif c in "()":
                self.pos += 1
                return _Tok("op", c, start, self.pos)
            elif c in "<>":
                return self._redirect(None)
            elif c.isdigit() and (m := _FD.match(text, start)):
                self.pos = m.end()
                return self._redirect(int(m.group()) if len(m.group()) <= 2 else 99)
            else:
                return _Tok("word", self.word(), start, self.pos)
        if self._pending:
            raise Incomplete()
        return _Tok("eof", None, n, n)

    def _redirect(self, fd: int | None) -> _Tok:
        text, start = self.text, self.pos
        for op in ("<<-", ">>", ">&", ">|", "<<", "<&", "<>", ">", "<"):
            if text.startswith(op, start):
                break
        self.pos += len(op)
        if op in ("<<", "<<-"):
            while self.pos < len(text) and text[self.pos] in " \t":
                self.pos += 1
            word = self.word()
            if not word.parts:
                raise ShellSyntaxError("syntax error: unexpected newline" if self.pos >= len(text)
                                       else f'syntax error: unexpected "{text[self.pos]}"')
            delimiter = "".join(p.text for p in word.parts)
            quoted = any(p.quoted for p in word.parts)
            body: list[Word] = []
            self._pending.append((delimiter, op == "<<-", quoted, body))
            return _Tok("redir", (0 if fd is None else fd, "<<", body, quoted), start, self.pos)
        op = {">|": ">", "<>": "<"}.get(op, op)
        if fd is None:
            fd = 0 if op[0] == "<" else 1
        return _Tok("redir", (fd, op), start, self.pos)

    def _read_heredocs(self) -> None:
        for delimiter, strip, quoted, body in self._pending:
            lines: list[str] = []
            while True:
                if self.pos >= len(self.text):
                    raise Incomplete()
                end = self.text.find("\n", self.pos)
                if end < 0:
                    line, self.pos = self.text[self.pos:], len(self.text)
                else:
                    line, self.pos = self.text[self.pos:end], end + 1
                if strip:
                    line = line.lstrip("\t")
                if line == delimiter:
                    break
                lines.append(line + "\n")
            content = "".join(lines)
            body.append(Word((Part(content, quoted=True),)) if quoted
                        else _Lexer(content, self.depth + 1).heredoc_word())
        self._pending.clear()

    def heredoc_word(self) -> Word:
        """The whole text as a here-document body: C{$} expansions and C{\\} only."""
        parts: list[Part] = []
        text, n = self.text, len(self.text)
        while self.pos < n:
            c = text[self.pos]
            if c == "\\" and self.pos + 1 < n and text[self.pos + 1] in "$`\\\n":
                if text[self.pos + 1] != "\n":
                    parts.append(Part(text[self.pos + 1], quoted=True))
                self.pos += 2
            elif c == "$":
                parts.append(self._dollar(quoted=True))
            elif c == "`":
                parts.append(self._backtick(quoted=True))
            else:
                end = self.pos + 1
                while end < n and text[end] not in "\\$`":
                    end += 1
                parts.append(Part(text[self.pos:end], quoted=True))
                self.pos = end
        return Word(_merge(parts))

    def word(self, stop: str = _META) -> Word:
        text, n = self.text, len(self.text)
        parts: list[Part] = []
        while self.pos < n and text[self.pos] not in stop:
            c = text[self.pos]
            if c == "\\":
                if self.pos + 1 >= n:
                    self.pos += 1
                    continue
                if text[self.pos + 1] != "\n":
                    parts.append(Part(text[self.pos + 1], quoted=True))
                self.pos += 2
            elif c == "'":
                end = text.find("'", self.pos + 1)
                if end < 0:
                    raise Incomplete()
                parts.append(Part(text[self.pos + 1:end], quoted=True))
                self.pos = end + 1
            elif c == '"':
                self._double_quoted(parts)
            elif c == "$":
                parts.append(self._dollar(quoted=False))
            elif c == "`":
                parts.append(self._backtick(quoted=False))
            else:
                m = _PLAIN.match(text, self.pos)
                end = m.end() if m else self.pos + 1
                if stop != _META:
                    end = self.pos + 1
                    while end < n and text[end] not in stop and text[end] not in "\\'\"$`":
                        end += 1
                parts.append(Part(text[self.pos:end]))
                self.pos = end
        return Word(_merge(parts))

    def _double_quoted(self, parts: list[Part]) -> None:
        text, n = self.text, len(self.text)
        self.pos += 1
        parts.append(Part("", quoted=True))  # "" is still a word
        while True:
            if self.pos >= n:
                raise Incomplete()
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
                parts.append(self._backtick(quoted=True))
            else:
                m = _PLAIN_QUOTED.match(text, self.pos)
                end = m.end() if m else self.pos + 1
                parts.append(Part(text[self.pos:end], quoted=True))
                self.pos = end

    def _backtick(self, *, quoted: bool) -> Part:
        text, n = self.text, len(self.text)
        i, body = self.pos + 1, []
        while True:
            if i >= n:
                raise Incomplete()
            c = text[i]
            if c == "`":
                break
            if c == "\\" and i + 1 < n and text[i + 1] in "$`\\":
                body.append(text[i + 1])
                i += 2
                continue
            body.append(c)
            i += 1
        self.pos = i + 1
        script = "".join(body)
        parse(script, self.depth + 1)  # a syntax error inside is one outside
        return Part(script, quoted=quoted, kind="cmd")

    def _matching(self, start: int) -> int:
        """The index of the C{)} that closes the C{(} before C{start}."""
        inner = _Lexer(self.text, self.depth + 1)
        inner.pos = start
        depth = 1
        while True:
            tok = inner.next()
            if tok.kind == "eof":
                raise Incomplete()
            if tok.value == "(":
                depth += 1
            elif tok.value == ")":
                depth -= 1
                if depth == 0:
                    return tok.start

    def _dollar(self, *, quoted: bool) -> Part:
        text, start = self.text, self.pos
        after = text[start + 1:start + 2]
        if text.startswith("$((", start):
            depth, i = 0, start + 3
            while i < len(text):
                if text[i] == "(":
                    depth += 1
                elif text[i] == ")":
                    if depth == 0:
                        if text[i + 1:i + 2] != ")":
                            raise ShellSyntaxError("arithmetic syntax error")
                        self.pos = i + 2
                        return Part(text[start + 3:i], quoted=quoted, kind="arith")
                    depth -= 1
                i += 1
            raise Incomplete()
        if after == "(":
            end = self._matching(start + 2)  # lexes the body once: errors in it surface here
            script = text[start + 2:end]
            self.pos = end + 1
            return Part(script, quoted=quoted, kind="cmd")
        if after == "{":
            return self._braced(quoted)
        m = _NAME.match(text, start + 1)
        if m:
            self.pos = m.end()
            return Part(m.group(), quoted=quoted, kind="var")
        if after and after in _SPECIAL_VARS:
            self.pos += 2
            return Part(after, quoted=quoted, kind="var")
        self.pos += 1
        return Part("$", quoted=quoted)

    def _braced(self, quoted: bool) -> Part:
        self.nesting += 1
        try:
            if self.nesting > MAX_NESTING:
                raise ShellSyntaxError("syntax error: bad substitution")
            return self._parameter(quoted)
        finally:
            self.nesting -= 1

    def _parameter(self, quoted: bool) -> Part:
        text = self.text
        i = self.pos + 2
        length = text.startswith("#", i) and not text.startswith("#}", i)
        if length:
            i += 1
        m = _NAME.match(text, i)
        if m:
            name, i = m.group(), m.end()
        elif i < len(text) and text[i] in _SPECIAL_VARS:
            name, i = text[i], i + 1
        else:
            if "}" not in text[i:]:
                raise Incomplete()
            raise ShellSyntaxError("syntax error: bad substitution")
        if text.startswith("}", i):
            self.pos = i + 1
            return Part(name, quoted=quoted, kind="var", op="#" if length else "")
        op = next((o for o in _PARAM_OPS if text.startswith(o, i)), None)
        if op is None or length:
            if "}" not in text[i:]:
                raise Incomplete()
            raise ShellSyntaxError("syntax error: bad substitution")
        self.pos = i + len(op)
        arg = self.word(stop="}")
        if self.pos >= len(text):
            raise Incomplete()
        self.pos += 1
        return Part(name, quoted=quoted, kind="var", op=op, arg=arg)


def _merge(parts: list[Part]) -> tuple[Part, ...]:
    """Join neighbouring literal parts of the same quoting."""
    out: list[Part] = []
    for p in parts:
        if out and p.kind == "lit" and out[-1].kind == "lit" and out[-1].quoted == p.quoted:
            out[-1] = Part(out[-1].text + p.text, quoted=p.quoted)
        else:
            out.append(p)
    return tuple(out)


class _Parser:
    def __init__(self, text: str, depth: int) -> None:
        self.text = text
        self.lexer = _Lexer(text, depth)
        self.depth = depth
        self.nesting = 0  # compound commands open around the one being parsed
        self.last_end = 0
        self.tok = self.lexer.next()

    def advance(self) -> _Tok:
        tok, self.tok = self.tok, self.lexer.next()
        self.last_end = tok.end
        return tok

    def unexpected(self) -> ShellSyntaxError:
        tok = self.tok
        if tok.kind == "eof":
            return Incomplete()
        if tok.kind == "nl":
            return ShellSyntaxError("syntax error: unexpected newline")
        if tok.kind == "word":
            shown = self.text[tok.start:tok.end]
        elif tok.kind == "redir":
            shown = self.text[tok.start:tok.end]
        else:
            shown = str(tok.value)
        return ShellSyntaxError(f'syntax error: unexpected "{shown}"')

    def keyword(self) -> str | None:
        return self.tok.value.literal if self.tok.kind == "word" else None  # type: ignore[union-attr]

    def skip_newlines(self) -> None:
        while self.tok.kind == "nl":
            self.advance()

    def expect(self, word: str) -> None:
        self.skip_newlines()
        if self.keyword() != word:
            raise self.unexpected()
        self.advance()

    def script(self, *until: str) -> Script:
        """A list of and-or lists, up to one of the C{until} keywords, a C{)},
        a C{;;} or the end."""
        items: list[AndOr] = []
        while True:
            self.skip_newlines()
            if self._at_end(until):
                return tuple(items)
            items.append(self.and_or())
            if self.tok.kind == "op" and self.tok.value in (";", "&"):
                self.advance()
            elif self.tok.kind == "nl":
                self.advance()
            elif not self._at_end(until):
                raise self.unexpected()

    def _at_end(self, until: tuple[str, ...]) -> bool:
        return self.tok.kind == "eof" or (self.tok.kind == "op" and self.tok.value in (")", ";;")) \
            or (bool(until) and self.keyword() in until)

    def and_or(self) -> AndOr:
        steps = [Step(";", self.pipeline())]
        while self.tok.kind == "op" and self.tok.value in ("&&", "||"):
            op = str(self.advance().value)
            self.skip_newlines()
            steps.append(Step(op, self.pipeline()))
        return AndOr(tuple(steps))

    def pipeline(self) -> Pipeline:
        negate = False
        if self.keyword() == "!":
            self.advance()
            negate = True
        commands = [self.command()]
        while self.tok.kind == "op" and self.tok.value == "|":
            self.advance()
            self.skip_newlines()
            commands.append(self.command())
        return Pipeline(tuple(commands), negate)

    def command(self) -> Node:
        self.nesting += 1
        try:
            if self.nesting > MAX_NESTING * 2:
                raise ShellSyntaxError("syntax error: nesting too deep")
            return self._command()
        finally:
            self.nesting -= 1

    def _command(self) -> Node:
        word = self.keyword()
        if word == "if":
            return self._with_redirects(self._if())
        if word in ("while", "until"):
            self.advance()
            condition = self.body("do")
            self.expect("do")
            body = self.body("done")
            self.expect("done")
            return self._with_redirects(Loop(condition, body, word == "until"))
        if word == "for":
            return self._with_redirects(self._for())
        if word == "case":
            return self._with_redirects(self._case())
        if word == "{":
            self.advance()
            body = self.body("}")
            self.expect("}")
            return self._with_redirects(Group(body))
        if self.tok.kind == "op" and self.tok.value == "(":
            self.advance()
            body = self.body()
            if self.tok.value != ")":
                raise self.unexpected()
            self.advance()
            return self._with_redirects(Group(body, subshell=True))
        if word in _RESERVED:
            raise self.unexpected()
        return self.simple()

    def body(self, *until: str) -> Script:
        body = self.script(*until)
        if not body:
            raise self.unexpected()
        return body

    def _if(self) -> If:
        self.advance()
        branches = []
        condition = self.body("then")
        self.expect("then")
        branches.append((condition, self.body("elif", "else", "fi")))
        otherwise = None
        while True:
            word = self.keyword()
            if word == "elif":
                self.advance()
                condition = self.body("then")
                self.expect("then")
                branches.append((condition, self.body("elif", "else", "fi")))
            elif word == "else":
                self.advance()
                otherwise = self.body("fi")
            else:
                self.expect("fi")
                return If(tuple(branches), otherwise)

    def _for(self) -> For:
        self.advance()
        if self.tok.kind != "word" or not _NAME.fullmatch(self.tok.value.literal or ""):  # type: ignore[union-attr]
            raise ShellSyntaxError("syntax error: bad for loop variable")
        name = self.advance().value.literal  # type: ignore[union-attr]
        items: list[Word] | None = None
        self.skip_newlines()
        if self.keyword() == "in":
            self.advance()
            items = []
            while self.tok.kind == "word":
                items.append(self.advance().value)  # type: ignore[arg-type]
            if self.tok.kind == "op" and self.tok.value == ";":
                self.advance()
            elif self.tok.kind != "nl":
                raise self.unexpected()
        elif self.tok.kind == "op" and self.tok.value == ";":
            self.advance()
        self.expect("do")
        body = self.body("done")
        self.expect("done")
        return For(str(name), tuple(items) if items is not None else None, body)

    def _case(self) -> Case:
        self.advance()
        if self.tok.kind != "word":
            raise self.unexpected()
        subject = self.advance().value
        self.expect("in")
        arms = []
        while True:
            self.skip_newlines()
            if self.keyword() == "esac":
                self.advance()
                return Case(subject, tuple(arms))  # type: ignore[arg-type]
            if self.tok.value == "(":
                self.advance()
            patterns = []
            while True:
                if self.tok.kind != "word":
                    raise self.unexpected()
                patterns.append(self.advance().value)
                if self.tok.value == "|":
                    self.advance()
                    continue
                if self.tok.value != ")":
                    raise self.unexpected()
                self.advance()
                break
            body = self.script("esac")
            arms.append((tuple(patterns), body))
            if self.tok.value == ";;":
                self.advance()
            elif self.keyword() != "esac":
                self.skip_newlines()
                if self.keyword() != "esac":
                    raise self.unexpected()

    def _with_redirects(self, node: Node) -> Node:
        redirects = []
        while self.tok.kind == "redir":
            redirects.append(self._redirect())
        return attrs.evolve(node, redirects=tuple(redirects)) if redirects else node

    def _redirect(self) -> Redirect:
        tok = self.advance()
        value = tok.value
        if value[1] == "<<":  # type: ignore[index]
            fd, _, body, quoted = value  # type: ignore[misc]
            return Redirect(fd, "<<", Word(()), quoted, body)
        if self.tok.kind != "word":
            raise self.unexpected()
        fd, op = value  # type: ignore[misc]
        return Redirect(fd, op, self.advance().value)  # type: ignore[arg-type]

    def simple(self) -> Command:
        words: list[Word] = []
        redirects: list[Redirect] = []
        start = self.tok.start
        while True:
            if self.tok.kind == "word":
                words.append(self.advance().value)  # type: ignore[arg-type]
            elif self.tok.kind == "redir":
                redirects.append(self._redirect())
            else:
                break
        if not words and not redirects:
            raise self.unexpected()
        return Command(tuple(words), tuple(redirects), self.text[start:self.last_end])


def template(text: str) -> Word:
    """C{text} as one word whose C{$} expansions and backslashes work as in a
    here-document (the inside of C{$((...))} is read this way too)."""
    return _Lexer(text).heredoc_word()


def parse(text: str, depth: int = 0) -> Script:
    """The script C{text} is, or L{ShellSyntaxError} (L{Incomplete} if it stops early)."""
    parser = _Parser(text, depth)
    script = parser.script()
    if parser.tok.kind != "eof":
        raise parser.unexpected()
    return script
