"""bbs.lines: one rendering shared by every member of a terminal shape."""

from __future__ import annotations

from twisted.internet.task import Clock

from bbs.lines import Lines, Message, deliver
from bbs.styled import Span
from bbs.terminal.editor import LineEditor


class FakeDoor:
    """A door whose wire form marks what it prepared, and counts it."""

    def __init__(self, form: bytes = b"") -> None:
        self.form = form
        self.written: list[bytes] = []
        self.prepared = 0

    def prepare(self, data: bytes) -> bytes:
        self.prepared += 1
        return self.form + data

    def write(self, data: bytes) -> None:
        self.written.append(data)

    def write_prepared(self, wire: bytes) -> None:
        self.written.append(wire)


class Viewer:
    """A session as far as L{deliver} is concerned: its editor's owner,
    which keeps the editor's shared key and writes to its door."""

    def __init__(self, door: FakeDoor) -> None:
        self.shared_key: int | None = None
        self.door = door
        self.editor = LineEditor(self, clock=Clock())
        self.editor.set_form(door.prepare)
        self.editor.character_mode = True
        self.editor.set_prompt("> ")

    def editor_output(self, text: str) -> None:
        self.door.write(text.encode())

    def editor_line(self, line: str) -> None:
        pass

    def editor_eof(self) -> None:
        pass

    def editor_complete(self, before: str) -> tuple[str, ...]:
        return ()


def said(*texts: str) -> Lines:
    return Lines(tuple(Message((Span(t),), "bob") for t in texts))


def test_members_of_one_shape_share_the_bytes_the_first_one_prepared():
    door = FakeDoor()
    first, same = Viewer(door), Viewer(door)
    door.written.clear()
    lines = said("<bob> hi")
    deliver(first, lines)
    deliver(same, lines)
    assert door.prepared == 1
    assert door.written[0] is door.written[1]
    assert b"<bob> hi" in door.written[0]


def test_what_is_shared_is_what_the_editor_would_have_printed():
    shared_door, own_door = FakeDoor(), FakeDoor()
    shared, alone = Viewer(shared_door), Viewer(own_door)
    shared_door.written.clear()
    own_door.written.clear()
    lines = said("<bob> hi", "<bob> there")
    deliver(shared, lines)
    alone.editor.print_rendered(lines.rendered(alone.editor.width, alone.editor.colour))
    assert b"".join(shared_door.written) == b"".join(own_door.written)


def test_another_width_or_colour_is_another_shape():
    door = FakeDoor()
    wide, narrow, coloured = Viewer(door), Viewer(door), Viewer(door)
    narrow.editor.set_size(40, 24)
    coloured.editor.colour = True
    lines = said("<bob> hi")
    for viewer in (wide, narrow, coloured):
        deliver(viewer, lines)
    assert door.prepared == 3
    assert len({wide.shared_key, narrow.shared_key, coloured.shared_key}) == 3


def test_doors_of_another_wire_form_never_share_bytes():
    telnet, other = FakeDoor(b"T:"), FakeDoor(b"S:")
    a, b = Viewer(telnet), Viewer(other)
    telnet.written.clear()
    other.written.clear()
    lines = said("<bob> hi")
    deliver(a, lines)
    deliver(b, lines)
    assert telnet.written[0].startswith(b"T:") and other.written[0].startswith(b"S:")


def test_someone_mid_typing_gets_the_line_above_what_they_typed():
    door = FakeDoor()
    typing = Viewer(door)
    typing.editor.feed(b"half a lin")
    assert typing.shared_key is None
    door.written.clear()
    deliver(typing, said("<bob> hi"))
    assert door.prepared == 0
    out = b"".join(door.written)
    assert out.index(b"<bob> hi") < out.index(b"half a lin")


def test_lines_seen_by_someone_ignoring_a_sender_leave_out_only_that_sender():
    lines = Lines((Message((Span("<bob> a"),), "bob"), Message((Span("<eve> b"),), "eve")))
    assert lines.seen_by(frozenset()) is lines
    assert lines.seen_by(frozenset({"carol"})) is lines  # the same lines, and their bytes
    assert [m.sender for m in lines.seen_by(frozenset({"bob"})).messages] == ["eve"]
    assert lines.seen_by(frozenset({"bob", "eve"})) is None
