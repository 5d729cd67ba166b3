"""Prompt layouts, and the keys under which editors share their output.

When nothing is typed, what an editor writes for a room line depends only on
its shape: the prompt, the width, colour, the input mode and the form its
output goes out in (its door's wire form).  Each shape gets a small number,
its key (L{bbs.terminal.editor.LineEditor.shared_key}): editors with equal
keys write the same bytes, so a room line is rendered once per key
(L{bbs.lines}).  Keys are ints because a flush reads one per member, and an
int hashes for free where a tuple is hashed anew at each lookup.
"""

from __future__ import annotations

import itertools
import typing

from wcwidth import wcwidth

from bbs.styled import visible_width

# Terminal shapes by the number that shares their output.
_SHAPE_KEYS: dict[tuple, int] = {}
_NUMBERS = itertools.count()
MAX_KEYS = 4096  # shapes (prompt, width, colour, form) in use at once, far more than real


def _key(shape: tuple) -> int:
    """A number for C{shape}: the same for equal shapes, never reused for
    another, and an int's hash costs nothing (a tuple's is computed anew at
    each lookup, once per member in a room flush)."""
    key = _SHAPE_KEYS.get(shape)
    if key is None:
        if len(_SHAPE_KEYS) >= MAX_KEYS:
            _SHAPE_KEYS.clear()  # numbers still held stay valid; they are just not shared
        key = _SHAPE_KEYS[shape] = next(_NUMBERS)
    return key


def _lay_out(prompt: str, width: int, colour: bool,
             form: typing.Hashable) -> tuple[str, int, int, int]:
    """The prompt as shown in C{width} columns (cut to leave room to type), its
    columns, and the line-mode and character-mode keys (see L{_key}) for
    output that goes out in C{form} (see L{bbs.terminal.editor.LineEditor.set_form})."""
    usable = width - 1  # the last column stays free for the cursor
    least = max(usable // 2, 4)  # a wide character and the cursor fit
    if visible_width(prompt) > usable - least:
        kept: list[str] = []
        columns = 0
        for char in prompt:
            columns += max(wcwidth(char), 0)
            if columns > usable - least:
                break
            kept.append(char)
        prompt = "".join(kept)
    return (prompt, visible_width(prompt), _key((False, "", width, form)),
            _key((True, prompt, width, colour, form)))


# (prompt, width, colour, form) -> what _lay_out makes of it: a few shapes serve all.
_LAYOUTS: dict[tuple, tuple[str, int, int, int]] = {}


def layout(prompt: str, width: int, colour: bool,
           form: typing.Hashable) -> tuple[str, int, int, int]:
    """L{_lay_out}, worked out once per shape for all editors."""
    shape = (prompt, width, colour, form)
    laid = _LAYOUTS.get(shape)
    if laid is None:
        if len(_LAYOUTS) >= MAX_KEYS:
            _LAYOUTS.clear()
        laid = _LAYOUTS[shape] = _lay_out(prompt, width, colour, form)
    return laid
