"""What each key does in character mode, where we echo and edit.

The line editor (L{bbs.terminal.editor.LineEditor}) decodes keys
(L{bbs.terminal.keys}) and looks each up in L{ACTIONS}: readline's moves,
kills, history and completion.  L{KeyActions} holds them, a stateless part
of the editor that uses its buffer, cursor and drawing, kept apart so that
the bindings read as a list and the editor as the state it keeps.
"""

from __future__ import annotations

import os
import typing
from collections.abc import Callable

from bbs.rates import TokenBucket
from bbs.terminal.keys import Key
from bbs.text import printable

# Tab lists at most this many candidates.
MAX_LISTED = 50


class KeyActions:
    """The character-mode keys; part of L{bbs.terminal.editor.LineEditor}."""

    __slots__ = ()

    def _key_enter(self) -> None:
        self._enter()  # the editor's: line mode ends a line the same way

    def _key_eof(self) -> None:
        if self._chars:
            self._key_delete()
        else:
            self._eof()

    def _key_interrupt(self) -> None:
        if self._secret:
            self._text("^C\n")
        else:
            self._settle()  # the row on screen is the one to put "^C" after
            start, end = self._view()
            column = self._prompt_columns + sum(self._widths[start:end])
            ahead = sum(self._widths[self._cursor:end])
            move = f"\x1b[{ahead}C" if ahead else ""
            # "^C" goes after the text when it fits, else on a row of its own.
            self._text(move + ("^C\n" if column + 2 <= self._width else "\n^C\n"))
        self._reset_line()
        self._repaint()

    def _key_backspace(self) -> None:
        if self._cursor == 0:
            return
        start = self._cluster_before(self._cursor)
        gone = sum(self._widths[start : self._cursor])
        at_end = self._cursor == len(self._chars)
        self._delete(start, self._cursor)
        if self._secret or self._stale is not None:
            return
        if at_end and gone and self._in_view():
            self._erase_back(gone)
        else:
            self._repaint()

    def _key_delete(self) -> None:
        self._kill(self._cursor, self._cluster_after(self._cursor))

    def _key_left(self) -> None:
        self._move(self._cluster_before(self._cursor))

    def _key_right(self) -> None:
        self._move(self._cluster_after(self._cursor))

    def _key_home(self) -> None:
        self._move(0)

    def _key_end(self) -> None:
        self._move(len(self._chars))

    def _key_word_left(self) -> None:
        self._move(self._word_before())

    def _key_word_right(self) -> None:
        chars, index = self._chars, self._cursor
        while index < len(chars) and chars[index] == " ":
            index += 1
        while index < len(chars) and chars[index] != " ":
            index += 1
        self._move(index)

    def _key_kill_start(self) -> None:
        self._kill(0, self._cursor)

    def _key_kill_end(self) -> None:
        self._kill(self._cursor, len(self._chars))

    def _key_kill_word(self) -> None:
        self._kill(self._word_before(), self._cursor)

    def _key_redraw(self) -> None:
        self._repaint()

    def _key_up(self) -> None:
        if self._secret:
            return
        history = self._history or ()
        index = (len(history) if self._recalled is None else self._recalled) - 1
        if index < 0:
            self._bell()
            return
        if self._recalled is None:
            self._draft = "".join(self._chars)
        self._recalled = index
        self._load(history[index])

    def _key_down(self) -> None:
        if self._secret:
            return
        if self._recalled is None:
            self._bell()
            return
        index = self._recalled + 1
        if index < len(self._history or ()):
            self._recalled = index
            self._load(self._history[index])
        else:
            self._recalled = None
            self._load(self._draft)
            self._draft = ""

    def _key_tab(self) -> None:
        if self._secret:
            return
        state = (tuple(self._chars), self._cursor)
        if self._completions is None:
            limits = self._limits
            self._completions = TokenBucket(self._clock, limits.completions, limits.completion_burst)
        if self._listed == state or not self._completions.take():
            self._bell()  # already listed, or asked too often: not again
            return
        start = self._word_start()
        word = "".join(self._chars[start : self._cursor])
        candidates = list(
            dict.fromkeys(
                c for c in self._owner.editor_complete("".join(self._chars[: self._cursor]))
                if c and all(printable(char) for char in c)
            )
        )
        if not candidates:
            self._bell()
            return
        if len(candidates) == 1:
            self._replace(start, candidates[0] + " ")
            return
        common = os.path.commonprefix(candidates)
        if len(common) > len(word):
            self._replace(start, common)
            return
        self._listed = state
        shown = "  ".join(candidates[:MAX_LISTED])
        if len(candidates) > MAX_LISTED:
            shown += f"  (+{len(candidates) - MAX_LISTED} more)"
        self.print(shown)

    # -- where keys move to ----------------------------------------------------

    def _cluster_before(self, index: int) -> int:
        """Where the character ending at C{index} starts.

        Combining marks belong to the character before them: the cursor
        never stops between them, and one keystroke deletes them together.
        """
        index -= 1
        while index > 0 and self._widths[index] == 0:
            index -= 1
        return max(index, 0)

    def _cluster_after(self, index: int) -> int:
        index += 1
        while index < len(self._widths) and self._widths[index] == 0:
            index += 1
        return min(index, len(self._widths))

    def _word_start(self) -> int:
        index = self._cursor
        while index > 0 and self._chars[index - 1] != " ":
            index -= 1
        return index

    def _word_before(self) -> int:
        """Readline's word rubout: the spaces before the cursor, then a word."""
        index = self._cursor
        while index > 0 and self._chars[index - 1] == " ":
            index -= 1
        while index > 0 and self._chars[index - 1] != " ":
            index -= 1
        return index


ACTIONS: dict[Key, Callable[[typing.Any], None]] = {
    Key.ENTER: KeyActions._key_enter,
    Key.BACKSPACE: KeyActions._key_backspace,
    Key.DELETE: KeyActions._key_delete,
    Key.TAB: KeyActions._key_tab,
    Key.LEFT: KeyActions._key_left,
    Key.RIGHT: KeyActions._key_right,
    Key.UP: KeyActions._key_up,
    Key.DOWN: KeyActions._key_down,
    Key.HOME: KeyActions._key_home,
    Key.END: KeyActions._key_end,
    Key.WORD_LEFT: KeyActions._key_word_left,
    Key.WORD_RIGHT: KeyActions._key_word_right,
    Key.KILL_START: KeyActions._key_kill_start,
    Key.KILL_END: KeyActions._key_kill_end,
    Key.KILL_WORD: KeyActions._key_kill_word,
    Key.REDRAW: KeyActions._key_redraw,
    Key.INTERRUPT: KeyActions._key_interrupt,
    Key.EOF: KeyActions._key_eof,
}
