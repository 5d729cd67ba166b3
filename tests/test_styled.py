"""Styled-text values (bbs/styled.py): spans and the width of text on a terminal."""

from __future__ import annotations

import pytest

from bbs.styled import Span, visible_width


def test_unknown_style_is_refused() -> None:
    with pytest.raises(ValueError):
        Span("x", "blink")


def test_visible_width() -> None:
    assert visible_width("abc") == 3
    assert visible_width("日本") == 4
    assert visible_width("e\u0301") == 1
    assert visible_width("\x1b[31mred\x1b[0m") == 3
    assert visible_width("😀!") == 3
