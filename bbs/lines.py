"""What the hub delivers, and how one rendering of it is shared.

A room line is built once as a L{Message} and reaches each member in a
L{Lines}.  Rendering is the costly part of a room of a thousand, so it is
done once per shape, not once per member, at two levels, both here:

  - a L{Message} keeps its text per window width and colour (it is replayed
    from the history to whoever joins later, too);
  - a L{Lines} keeps its wire bytes per I{shared key}: members whose editor
    has nothing typed write the very same bytes for it (the key names the
    prompt, width, colour, input mode and the door's wire form, see
    L{bbs.terminal.editor.LineEditor.shared_key}).  The first member of a
    key renders and prepares them; the others only write them.

L{deliver} is that path, the only one: the hub calls C{member.deliver}, and
a session's C{deliver} is this function.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING, Protocol

import attrs

from bbs.styled import Styled
from bbs.terminal.render import render

if TYPE_CHECKING:
    from bbs.door import Door
    from bbs.terminal.editor import LineEditor

__all__ = ["Lines", "Message", "Viewer", "deliver"]


@attrs.frozen
class Message:
    """One line for other users' screens; C{sender} (folded) lets them ignore it.

    C{shapes} keeps its renderings per window width and colour, so a line is
    formatted once for a whole room and again for nobody who joins later and
    gets it replayed from the history.
    """

    spans: Styled
    sender: str | None = None
    shapes: dict = attrs.field(factory=dict, eq=False, repr=False)

    def rendered(self, width: int, colour: bool) -> str:
        key = (width, colour)
        text = self.shapes.get(key)
        if text is None:
            text = self.shapes[key] = render(self.spans, width, colour)
        return text


@attrs.frozen
class Lines:
    """Messages that reach a member together, in one write.

    C{shapes} keeps the wire bytes per shared key (see L{deliver}).
    """

    messages: tuple[Message, ...]
    shapes: dict = attrs.field(factory=dict, init=False, eq=False, repr=False)

    def rendered(self, width: int, colour: bool) -> str:
        key = (width, colour)  # each Message's cached rendering, without a call per message
        return "\n".join([m.shapes.get(key) or m.rendered(width, colour) for m in self.messages])

    def seen_by(self, ignoring: AbstractSet[str]) -> Lines | None:
        """What of these someone ignoring C{ignoring} sees (C{None}: nothing)."""
        if not ignoring:
            return self
        kept = tuple(m for m in self.messages if m.sender not in ignoring)
        if len(kept) == len(self.messages):
            return self  # the same lines, and their encodings with them
        return Lines(kept) if kept else None


class Viewer(Protocol):
    """Who L{deliver} shows lines to: a session, with its editor's shared key
    kept on itself (see L{bbs.terminal.editor.EditorOwner}) and its door."""

    shared_key: int | None
    editor: LineEditor
    door: Door | None


def deliver(viewer: Viewer, lines: Lines) -> None:
    """Show C{lines} to C{viewer} now, sharing bytes with its shape (see above).

    The hub calls this for each member of a room only once what that room
    said before has been shown, so it need not check.  A member mid-typing
    costs an editor redraw; everyone else, one dictionary lookup and a write.
    """
    key = viewer.shared_key
    if key is not None:
        wire = lines.shapes.get(key)
        door = viewer.door
        if wire is None:
            editor = viewer.editor
            text = editor.shared_output(lines.rendered(editor.width, editor.colour))
            wire = lines.shapes[key] = door.prepare(text.encode("utf-8"))
        door.write_prepared(wire)
    else:
        editor = viewer.editor
        editor.print_rendered(lines.rendered(editor.width, editor.colour))
