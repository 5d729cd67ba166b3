"""An editor's owner made of callables, for tests that watch one editor."""

from __future__ import annotations

from collections.abc import Callable, Sequence


class Owner:
    """A L{bbs.terminal.editor.EditorOwner} that hands each call to a callable."""

    def __init__(
        self,
        output: Callable[[str], None] = lambda text: None,
        line: Callable[[str], None] = lambda line: None,
        eof: Callable[[], None] = lambda: None,
        complete: Callable[[str], Sequence[str]] = lambda before: (),
    ) -> None:
        self.shared_key: int | None = None
        self.editor_output = output
        self.editor_line = line
        self.editor_eof = eof
        self.editor_complete = complete
