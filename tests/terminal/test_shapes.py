"""bbs.terminal.shapes: prompt layouts and the keys of shared output."""

from __future__ import annotations

from bbs.terminal import shapes
from bbs.terminal.editor import LineEditor
from tests.terminal.owner import Owner


def test_equal_shapes_share_a_key_and_different_ones_never_do(monkeypatch):
    monkeypatch.setattr(shapes, "MAX_KEYS", 3)  # the table is cleared along the way
    seen: dict[int, int] = {}
    for width in [80, 100, 80, 60, 120, 100, 40, 80]:
        editor = LineEditor(Owner())
        editor.set_size(width, 24)
        assert seen.setdefault(editor.shared_key, width) == width
    first, again = (LineEditor(Owner()) for _ in range(2))
    assert first.shared_key == again.shared_key


def test_a_prompt_too_wide_is_cut_to_leave_room_to_type():
    shown, columns, _, _ = shapes.layout("a very long prompt indeed> ", 20, False, None)
    assert shown == "a very lon" and columns == 10
    assert shapes.layout("> ", 20, False, None)[:2] == ("> ", 2)


def test_the_form_is_part_of_the_key():
    telnet, other = (shapes.layout("> ", 80, False, form) for form in ("telnet", "ssh"))
    assert telnet[2] != other[2] and telnet[3] != other[3]
