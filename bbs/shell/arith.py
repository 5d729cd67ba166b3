"""C{$((...))} as ash evaluates it: 64-bit signed integers, C operators.

A small recursive-descent evaluator over a bounded expression, so nothing a
bot writes can run code or take long: no exponent operator, numbers wrap.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_TOKEN = re.compile(r"\s*(0[xX][0-9a-fA-F]+|\d+|[A-Za-z_][A-Za-z0-9_]*|"
                    r"<<=|>>=|&&|\|\||<<|>>|<=|>=|==|!=|[-+*/%&|^]=|\+\+|--|[-+*/%<>&|^!~?:()=,])")
MAX_EXPRESSION = 1024
MAX_NESTING = 32  # parentheses within one another


class ArithError(Exception):
    """C{str()} is what ash prints after C{-sh: }."""


def _wrap(n: int) -> int:
    n &= (1 << 64) - 1
    return n - (1 << 64) if n >> 63 else n


def _number(text: str) -> int:
    try:
        if text[:2] in ("0x", "0X"):
            return int(text, 16)
        if len(text) > 1 and text.startswith("0"):
            return int(text, 8)
        return int(text)
    except ValueError:
        raise ArithError("arithmetic syntax error") from None


class _Eval:
    def __init__(self, text: str, get: Callable[[str], str], set_: Callable[[str, str], None]
                 ) -> None:
        self.tokens: list[str] = []
        pos = 0
        text = text.strip()
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if not m or not m.group(1):
                raise ArithError("arithmetic syntax error")
            self.tokens.append(m.group(1))
            pos = m.end()
            while pos < len(text) and text[pos].isspace():
                pos += 1
        self.i = 0
        self.nesting = 0
        self.get, self.set = get, set_

    def peek(self) -> str:
        return self.tokens[self.i] if self.i < len(self.tokens) else ""

    def take(self) -> str:
        tok = self.peek()
        self.i += 1
        return tok

    def run(self) -> int:
        if not self.tokens:
            return 0
        value = self.comma()
        if self.i != len(self.tokens):
            raise ArithError("arithmetic syntax error")
        return value

    def comma(self) -> int:
        value = self.assign()
        while self.peek() == ",":
            self.take()
            value = self.assign()
        return value

    def assign(self) -> int:
        tok = self.peek()
        after = self.tokens[self.i + 1] if self.i + 1 < len(self.tokens) else ""
        if re.fullmatch(r"[A-Za-z_]\w*", tok) and after.endswith("=") and after not in (
                "==", "<=", ">=", "!="):
            self.i += 2
            value = self.assign()
            if after != "=":
                value = _binary(after[:-1], self.variable(tok), value)
            self.set(tok, str(value))
            return value
        return self.ternary()

    def ternary(self) -> int:
        cond = self.binary(0)
        if self.peek() == "?":
            self.take()
            yes = self.comma()
            if self.take() != ":":
                raise ArithError("arithmetic syntax error")
            no = self.ternary()
            return yes if cond else no
        return cond

    _LEVELS = (("||",), ("&&",), ("|",), ("^",), ("&",), ("==", "!="), ("<", ">", "<=", ">="),
               ("<<", ">>"), ("+", "-"), ("*", "/", "%"))

    def binary(self, level: int) -> int:
        if level == len(self._LEVELS):
            return self.unary()
        value = self.binary(level + 1)
        while self.peek() in self._LEVELS[level]:
            op = self.take()
            value = _binary(op, value, self.binary(level + 1))
        return value

    def unary(self) -> int:
        self.nesting += 1
        try:
            if self.nesting > MAX_NESTING * 4:
                raise ArithError("arithmetic syntax error")
            return self._unary()
        finally:
            self.nesting -= 1

    def _unary(self) -> int:
        tok = self.take()
        if tok == "-":
            return _wrap(-self.unary())
        if tok == "+":
            return self.unary()
        if tok == "!":
            return int(not self.unary())
        if tok == "~":
            return _wrap(~self.unary())
        if tok in ("++", "--"):
            name = self.take()
            value = _wrap(self.variable(name) + (1 if tok == "++" else -1))
            self.set(name, str(value))
            return value
        if tok == "(":
            self.nesting += 1
            if self.nesting > MAX_NESTING:
                raise ArithError("arithmetic syntax error")
            value = self.comma()
            self.nesting -= 1
            if self.take() != ")":
                raise ArithError("arithmetic syntax error")
            return value
        if tok[:1].isdigit():
            return _wrap(_number(tok))
        if re.fullmatch(r"[A-Za-z_]\w*", tok):
            value = self.variable(tok)
            if self.peek() in ("++", "--"):
                self.set(tok, str(_wrap(value + (1 if self.take() == "++" else -1))))
            return value
        raise ArithError("arithmetic syntax error")

    def variable(self, name: str) -> int:
        text = self.get(name).strip()
        if not text:
            return 0
        if re.fullmatch(r"-?(0[xX][0-9a-fA-F]+|\d+)", text):
            sign = -1 if text.startswith("-") else 1
            return _wrap(sign * _number(text.lstrip("-")))
        raise ArithError("arithmetic syntax error")


def _binary(op: str, a: int, b: int) -> int:
    if op in ("/", "%"):
        if b == 0:
            raise ArithError("divide by zero")
        q = abs(a) // abs(b) * (1 if (a >= 0) == (b >= 0) else -1)
        return _wrap(q if op == "/" else a - q * b)
    if op in ("<<", ">>"):
        b &= 63
        return _wrap(a << b) if op == "<<" else a >> b
    results: dict[str, Callable[[], int]] = {
        "+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b,
        "&": lambda: a & b, "|": lambda: a | b, "^": lambda: a ^ b,
        "==": lambda: int(a == b), "!=": lambda: int(a != b), "<": lambda: int(a < b),
        ">": lambda: int(a > b), "<=": lambda: int(a <= b), ">=": lambda: int(a >= b),
        "&&": lambda: int(bool(a) and bool(b)), "||": lambda: int(bool(a) or bool(b)),
    }
    return _wrap(results[op]())


def evaluate(text: str, get: Callable[[str], str], set_: Callable[[str, str], None]) -> int:
    """The value of C{text}; variables are read with C{get} and assigned with C{set_}."""
    if len(text) > MAX_EXPRESSION:
        raise ArithError("arithmetic syntax error")
    return _Eval(text, get, set_).run()
