"""Styled text as values: the spans a message is made of, and its width.

Commands, effects, the hub and the terminal all speak in these values, so
they sit on the ground floor: a handler builds a message from spans without
importing the terminal that will lay it out (L{bbs.terminal.render}).
"""

from __future__ import annotations

import re

import attrs
from wcwidth import wcwidth

STYLES = frozenset(("", "dim", "bold", "error", "nick", "me", "private"))

_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")
_SGR_SEQUENCE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")


@attrs.frozen
class Span:
    """A run of text in one style."""

    text: str
    style: str = attrs.field(default="", validator=attrs.validators.in_(STYLES))


# A message: its spans in order.
Styled = tuple[Span, ...]


def error(text: str) -> Styled:
    """A line that tells the user what went wrong."""
    return (Span(text, "error"),)


def visible_width(text: str) -> int:
    """The number of terminal columns C{text} occupies.

    SGR sequences take no room; controls take none either.
    """
    if text.isascii():
        if text.isprintable():
            return len(text)
        if "\x1b" in text:
            text = _SGR_SEQUENCE.sub("", text)
        return len(_CONTROL.sub("", text.replace("\n", "")))
    if "\x1b" in text:
        text = _SGR_SEQUENCE.sub("", text)
    return sum(max(wcwidth(char), 0) for char in text)
