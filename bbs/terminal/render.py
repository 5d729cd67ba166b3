"""Styled text laid out for one terminal: colour, width and word wrap.

A message is formatted once per terminal shape (width, colour) and the same
string is written to every member of a room with that shape, so this is on
the broadcast path: short plain messages return untouched, and nothing here
caches (the caller does, by shape).

Every rendered line is complete on its own: colour is switched off before
the line ends, so a wrapped message never bleeds into the next line or into
the prompt, and without colour not one escape byte is produced.
"""

from __future__ import annotations

import re
import zlib

from wcwidth import wcwidth

from bbs.styled import Span, Styled
from bbs.text import sanitize_lines

_SGR = {
    "dim": "\x1b[2m",
    "bold": "\x1b[1m",
    "error": "\x1b[31m",
    "me": "\x1b[3m",
    "private": "\x1b[35m",
}
# Nick colours: readable on dark and light backgrounds, and none of them red
# (errors) or magenta (private messages).
_NICK_SGR = tuple(f"\x1b[{n}m" for n in (32, 33, 34, 36, 92, 93, 94, 96))
RESET = "\x1b[0m"

# Narrower than this, a wide character plus the indent could not fit a line.
MIN_WIDTH = 4

_SPACES = re.compile("( +)")

# Layout works on pieces: (text, SGR opening code or "" for plain).
_Piece = tuple[str, str]


def render(message: Styled | str, width: int, colour: bool, indent: int = 2) -> str:
    """Lay C{message} out in lines of at most C{width} columns.

    Lines are broken at spaces; a word longer than a line is split between
    characters.  Lines that wrap continue after C{indent} spaces; lines the
    message itself starts with C{"\\n"} begin at the margin, so preformatted
    text keeps its shape.  Text is sanitised again here whatever its source
    (L{bbs.text.sanitize_lines}; a stored row may predate today's input
    rules), so no escape sequence, control or bidi override reaches a screen.
    The lines are joined by C{"\\n"}, without a final one (line ends that
    close the message are dropped too).
    """
    if isinstance(message, str):
        if len(message) <= width and message.isascii() and message.isprintable():
            return message
        pieces: list[_Piece] = [(message, "")]
    else:
        total = 0
        for span in message:
            text = span.text
            if not (text.isascii() and text.isprintable()):
                break
            total += len(text)
        else:
            if total <= width:
                if not colour:
                    return "".join([span.text for span in message])
                return "".join([_paint(span.text, _code(span)) for span in message])
        pieces = [(span.text, _code(span) if colour else "") for span in message]
    width = max(width, MIN_WIDTH)
    indent = max(0, min(indent, width // 2))
    lines = _fill(_paragraphs(pieces), width, indent)
    while lines and not lines[-1]:
        lines.pop()  # the message's own final line ends: the caller adds one
    return "\n".join([_line(line) for line in lines])


def _code(span: Span) -> str:
    if span.style == "nick":
        return _NICK_SGR[zlib.crc32(span.text.encode("utf-8")) % len(_NICK_SGR)]
    return _SGR.get(span.style, "")


def _paint(text: str, code: str) -> str:
    if not code or not text:
        return text
    return code + text + RESET


def _width(text: str) -> int:
    if text.isascii():
        return len(text)
    return sum(max(wcwidth(char), 0) for char in text)


# A token: (is a run of spaces, its pieces, its width in columns).
_Token = tuple[bool, list[_Piece], int]


def _paragraphs(pieces: list[_Piece]) -> list[list[_Token]]:
    """Split the message at its own line ends into words and runs of spaces.

    A word may straddle spans (C{<alice>} then C{:}), so words are gathered
    across pieces and only spaces are places to break.
    """
    paragraphs: list[list[_Token]] = [[]]
    word: list[_Piece] = []
    word_width = 0
    for text, code in pieces:
        for number, line in enumerate(sanitize_lines(text).split("\n")):
            if number:
                if word:
                    paragraphs[-1].append((False, word, word_width))
                    word, word_width = [], 0
                paragraphs.append([])
            for part in _SPACES.split(line):
                if not part:
                    continue
                if part[0] == " ":
                    if word:
                        paragraphs[-1].append((False, word, word_width))
                        word, word_width = [], 0
                    paragraphs[-1].append((True, [(part, code)], len(part)))
                else:
                    word.append((part, code))
                    word_width += _width(part)
    if word:
        paragraphs[-1].append((False, word, word_width))
    return paragraphs


def _fill(paragraphs: list[list[_Token]], width: int, indent: int) -> list[list[_Piece]]:
    """Greedy line filling: each word on the current line if it fits."""
    lines: list[list[_Piece]] = []
    margin: list[_Piece] = [(" " * indent, "")] if indent else []
    for tokens in paragraphs:
        line: list[_Piece] = []
        column = 0
        filled = False  # the line holds more than its indent
        gap: list[_Piece] = []
        gap_width = 0
        for is_gap, pieces, token_width in tokens:
            if is_gap:
                gap.extend(pieces)
                gap_width += token_width
                continue
            if column + gap_width + token_width <= width:
                line.extend(gap)
                line.extend(pieces)
                column += gap_width + token_width
            elif token_width <= width - indent:
                if filled:
                    lines.append(line)
                    line, column = list(margin), indent
                else:  # spaces opening a paragraph: keep what fits
                    spaces = " " * (width - column - token_width)
                    line.append((spaces, ""))
                    column += len(spaces)
                line.extend(pieces)
                column += token_width
            else:  # longer than any line: split it between characters
                if column + gap_width < width:
                    line.extend(gap)
                    column += gap_width
                elif filled:
                    lines.append(line)
                    line, column = list(margin), indent
                else:
                    spaces = " " * (width - 1 - column)
                    line.append((spaces, ""))
                    column += len(spaces)
                for text, code in pieces:
                    start = 0
                    for index, char in enumerate(text):
                        char_width = 1 if char.isascii() else max(wcwidth(char), 0)
                        if column + char_width > width:
                            line.append((text[start:index], code))
                            lines.append(line)
                            line, column = list(margin), indent
                            start = index
                        column += char_width
                    line.append((text[start:], code))
            filled = True
            gap, gap_width = [], 0
        lines.append(line)
    return lines


def _line(pieces: list[_Piece]) -> str:
    """Join a line's pieces, each styled run opened and closed on the line."""
    out: list[str] = []
    open_code = ""
    for text, code in pieces:
        if not text:
            continue
        if code != open_code:
            if open_code:
                out.append(RESET)
            if code:
                out.append(code)
            open_code = code
        out.append(text)
    if open_code:
        out.append(RESET)
    return "".join(out)
