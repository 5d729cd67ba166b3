"""A LineEditor played on a pyte screen, the way a telnet client shows it, so
that tests assert what the user sees; and the keys' escape sequences."""

from __future__ import annotations

from typing import Callable, Sequence

import pyte

from bbs.terminal.editor import EditorLimits, LineEditor
from tests.terminal.owner import Owner

LEFT, RIGHT, UP, DOWN = b"\x1b[D", b"\x1b[C", b"\x1b[A", b"\x1b[B"
HOME, END, DELETE = b"\x1b[H", b"\x1b[F", b"\x1b[3~"
BELL = "\x07"


class Terminal:
    """A LineEditor wired to a pyte screen through a telnet-like write path."""

    def __init__(
        self,
        width: int = 80,
        height: int = 24,
        *,
        character_mode: bool = True,
        prompt: str = "> ",
        completer: Callable[[str], Sequence[str]] | None = None,
        limits: EditorLimits = EditorLimits(),
        on_line: Callable[[str], None] | None = None,
    ) -> None:
        self.written: list[str] = []
        self.lines: list[str] = []
        self.eofs = 0
        self.screen = pyte.Screen(width, height)
        self.stream = pyte.Stream(self.screen)
        self.editor = LineEditor(
            Owner(self._write, on_line or self.lines.append, self._eof,
                  completer or (lambda before: ())),
            limits=limits,
        )
        self.editor.set_size(width, height)
        self.editor.character_mode = character_mode
        if prompt:
            self.editor.set_prompt(prompt)

    def _write(self, text: str) -> None:
        assert isinstance(text, str)
        # The telnet layer turns "\n" into CR LF: the editor never writes
        # CR LF itself, and never clears or resets the screen.
        assert "\r\n" not in text
        assert "\x1bc" not in text and "\x1b[2J" not in text
        self.written.append(text)
        self.stream.feed(text.replace("\n", "\r\n"))

    def _eof(self) -> None:
        self.eofs += 1

    def feed(self, data: bytes | str) -> str:
        """Type C{data}; return what the editor wrote in answer."""
        if isinstance(data, str):
            data = data.encode("utf-8")
        start = len(self.written)
        self.editor.feed(data)
        return "".join(self.written[start:])

    def call(self, action: Callable[[], None]) -> str:
        start = len(self.written)
        action()
        return "".join(self.written[start:])

    @property
    def output(self) -> str:
        return "".join(self.written)

    @property
    def row(self) -> str:
        """The row the cursor is on, as the user sees it."""
        return self.screen.display[self.screen.cursor.y].rstrip()

    def rows(self) -> list[str]:
        return [row.rstrip() for row in self.screen.display]

    @property
    def x(self) -> int:
        return self.screen.cursor.x
