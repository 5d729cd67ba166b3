"""The line editor: the line being typed, kept on one row of the terminal.

In character mode (the client let us echo) the server owns the screen's
last row: it echoes, edits, scrolls the line sideways when it is wider than
the window, and prints incoming messages above it without disturbing what is
half typed.  In line mode (netcat, bots, clients that refused to let us
echo) the client owns echo, so nothing is echoed and no escape sequence is
ever written; bytes simply accumulate until the line ends.

The buffer holds one code point per element with its column width beside
it, so wide and combining characters never desync the cursor, and every
buffer here is bounded by L{EditorLimits}.

Input can be hostile: a packet of ten thousand Ctrl-L or cursor keys must
not cost ten thousand redraws of the row.  Whatever a batch of keys does to
the input row is therefore coalesced -- once the row needs drawing again,
the row output before it is dropped and the row is drawn once, when the
batch is written -- and tab completion, which asks the session to search
everyone online, has its own rate.
"""

from __future__ import annotations

import typing
from collections import deque
from typing import Sequence

import attrs
from twisted.internet.interfaces import IReactorTime
from wcwidth import wcwidth

from bbs.rates import TokenBucket
from bbs.styled import Span, Styled
from bbs.terminal.keymap import ACTIONS, KeyActions
from bbs.terminal.keys import Key, KeyDecoder
from bbs.terminal.render import render
from bbs.terminal.shapes import layout
from bbs.text import sanitize

# Narrower than this there is no room for a prompt and a wide character.
MIN_WIDTH = 8

_BELL = "\x07"
_ERASE_TO_END = "\x1b[K"
_ERASE_BELOW = "\x1b[J"
_CLEAR_ROW = "\r" + _ERASE_TO_END
_EOF_NOTICE: Styled = (Span("Press Ctrl-D again to quit.", "dim"),)


@attrs.frozen
class EditorLimits:
    """Bounds on what one connection's editor will hold or do.

    @ivar line: Characters in the input line (1 KB of ASCII); typing past it
        rings the bell, and a line-mode line is cut and the user told.
    @ivar history: Lines remembered for Up/Down; secret lines never are.
    @ivar escape: Characters of one escape sequence kept; a longer one is
        swallowed whole.
    @ivar completions: Tab completions a second, on average; more ring the
        bell without asking the completer.
    @ivar completion_burst: Tab completions at once before that.
    """

    line: int = attrs.field(default=1024, validator=attrs.validators.ge(1))
    history: int = attrs.field(default=100, validator=attrs.validators.ge(0))
    escape: int = attrs.field(default=32, validator=attrs.validators.ge(3))
    completions: float = attrs.field(default=5.0, validator=attrs.validators.gt(0))
    completion_burst: int = attrs.field(default=10, validator=attrs.validators.ge(1))


def _widths(text: str) -> list[int]:
    if text.isascii():
        return [1] * len(text)
    return [max(wcwidth(char), 0) for char in text]


class EditorOwner(typing.Protocol):
    """Whom an editor works for (a session): where its output and finished
    lines go, and where it keeps L{LineEditor.shared_key}.

    One object rather than four callbacks: thousands of editors are alive
    at once, and a bound method each would cost a quarter of a kilobyte.
    The key is kept on the owner because a room flush visits the owner
    anyway, so reading the key of each of thousands of members costs no
    visit to their editors (see L{bbs.session._FlushFirst}).
    """

    shared_key: int | None

    def editor_output(self, text: str) -> None:
        """Show C{text} (C{"\\n"} line ends, escape sequences included)."""

    def editor_line(self, line: str) -> None:
        """A finished line, empty ones included."""

    def editor_eof(self) -> None:
        """A confirmed Ctrl-D."""

    def editor_complete(self, before: str) -> Sequence[str]:
        """The full words that could complete the last word of C{before}
        (the text before the cursor); none for no completion."""


class LineEditor(KeyActions):
    """Input line editing and output interleaving for one connection,
    working for an L{EditorOwner}.  C{clock} (the reactor by default) paces
    tab completion.
    """

    __slots__ = (
        "_character_mode",
        "_chars",
        "_clock",
        "_colour",
        "_completions",
        "_cursor",
        "_draft",
        "_drawn",
        "_ended",
        "_eof_pending",
        "_form",
        "_height",
        "_history",
        "_keys",
        "_limits",
        "_listed",
        "_owner",
        "_out",
        "_overflow",
        "_prompt",
        "_prompt_columns",
        "_recalled",
        "_ring",
        "_room",
        "_row_from",
        "_row_used",
        "_scroll",
        "_secret",
        "_shown_prompt",
        "_line_key",
        "_char_key",
        "_stale",
        "_width",
        "_widths",
        "keep_entered",
    )

    def __init__(
        self,
        owner: EditorOwner,
        *,
        limits: EditorLimits = EditorLimits(),
        clock: IReactorTime | None = None,
    ) -> None:
        if clock is None:
            from twisted.internet import reactor as clock  # type: ignore[no-redef]
        self._owner = owner
        self._clock = clock
        self._completions: TokenBucket | None = None  # made on the first Tab
        self._limits = limits
        self._keys = KeyDecoder(limits.escape)
        self._chars: list[str] = []
        self._widths: list[int] = []
        self._cursor = 0
        self._scroll = 0  # index of the first character shown
        self._prompt = ""
        self._shown_prompt = ""  # the prompt cut to leave room to type
        self._prompt_columns = 0
        self._room = 0  # columns left for the line after the prompt
        self._secret = False
        self._character_mode = False
        self._colour = False
        self._width = 80
        self._height = 24
        self._form: typing.Hashable = None
        # Whether the prompt for the line being typed is on screen.  False
        # only while the owner's editor_line runs: the next prompt is shown
        # once it returns.
        self._drawn = True
        # Line mode: the cursor is not at the start of a row (a prompt or
        # the client's own echo is on it).
        self._row_used = False
        self._history: deque[str] | None = None  # made on the first line
        self._recalled: int | None = None  # history index being shown
        self._draft = ""  # the line typed before walking the history
        self._eof_pending = False
        self._ended = False  # a confirmed Ctrl-D: the rest of the packet is dropped
        self._listed: tuple[tuple[str, ...], int] | None = None
        self._overflow = False  # line mode: characters were dropped
        self._out: list[str] = []
        # _out[_row_from:] only redraws parts of the input row; when the row
        # needs drawing whole (_stale is the erase to use) that part is
        # dropped, later row output skipped, and the row drawn once at the
        # next _settle.
        self._row_from = 0
        self._stale: str | None = None
        self._ring = False
        # Whether an entered line stays on screen (a shell's habit) or its
        # row is cleared for the next prompt (a chat client's: the line
        # comes back as the message everyone sees).
        self.keep_entered = True
        owner.shared_key = None  # kept by _share
        self._layout()

    # -- configuration --------------------------------------------------------

    @property
    def character_mode(self) -> bool:
        return self._character_mode

    @character_mode.setter
    def character_mode(self, value: bool) -> None:
        if value == self._character_mode:
            return
        self._character_mode = value
        self._overflow = False
        self._cursor = len(self._chars)
        if value:
            # The row already shows the prompt as a line-mode client left it:
            # drawn again only if something was typed on it, or it is not on
            # the row any more.  A real telnetd never redraws an unchanged
            # prompt, and Mirai's loader takes a second prompt character for
            # the password prompt (its user name's line end is still to come).
            if self._drawn and (self._chars or (self._prompt and not self._row_used)):
                self._repaint()
        else:
            self._stale = None  # the client draws its own row from now on
            del self._out[self._row_from :]
            self._row_used = bool(self._prompt or self._chars)
        self._flush()

    @property
    def colour(self) -> bool:
        """Whether output gets SGR colour; never in line mode."""
        return self._colour and self._character_mode

    @colour.setter
    def colour(self, value: bool) -> None:
        self._colour = value
        self._layout()

    def set_form(self, form: typing.Hashable) -> None:
        """Name what this editor's text becomes on its way out (its door's
        wire form): editors share output (L{shared_key}) only with editors
        whose text goes out in the same form."""
        self._form = form
        self._layout()

    @property
    def width(self) -> int:
        return self._width

    @property
    def height(self) -> int:
        return self._height

    @property
    def buffer(self) -> str:
        return "".join(self._chars)

    @property
    def cursor(self) -> int:
        return self._cursor

    @property
    def idle_input(self) -> bool:
        return not self._chars

    def set_size(self, width: int, height: int) -> None:
        """Follow a window size change; 0 means the client does not know.

        Only a change of width can move anything, and it redraws the input
        row in place, so a storm of NAWS reports costs at most one row each.
        """
        if height > 0:
            self._height = height
        if width <= 0:
            return
        width = max(width, MIN_WIDTH)
        if width == self._width:
            return
        self._width = width
        self._layout()
        if self._character_mode and self._drawn:
            # Terminals that reflow on resize may have wrapped the old row:
            # erase below it too (it is the last row in use).
            self._repaint(_ERASE_BELOW)
        self._flush()

    def set_prompt(self, prompt: str) -> None:
        """Show C{prompt} before the line; this also ends a secret line."""
        self._set_prompt(prompt, secret=False)

    def ask_secret(self, prompt: str) -> None:
        """Make the next line secret: nothing of it is echoed or remembered.

        Once it has been entered the prompt is empty until the caller sets
        one again, so a password prompt is never left showing with echo on.
        """
        self._set_prompt(prompt, secret=True)

    def _set_prompt(self, prompt: str, secret: bool) -> None:
        prompt = sanitize(prompt)
        unchanged = prompt == self._prompt
        self._prompt = prompt
        self._secret = secret
        self._layout()
        if self._drawn:
            if self._character_mode:
                self._repaint()
            elif not (unchanged and self._row_used and not self._chars):
                self._show_line_prompt()
        self._flush()

    # -- output ---------------------------------------------------------------

    def print(self, message: Styled | str) -> None:
        """Show C{message} above the input line."""
        self.print_rendered(render(message, self._width, self.colour))

    def print_rendered(self, rendered: str) -> None:
        """Show a message already laid out for (L{width}, L{colour})."""
        if not self._character_mode:
            if self._row_used:
                self._text("\n")
            self._text(rendered + "\n")
            self._row_used = False
        elif self._drawn and (self._prompt or self._chars):
            self._text(_CLEAR_ROW + rendered + "\n")
            self._repaint()
        else:
            self._text(rendered + "\n")
        self._flush()

    def farewell(self, message: Styled | str) -> None:
        """Show C{message} as the last output, at the start of a row of its own.

        The connection closes next, so the prompt and whatever was half
        typed are cleared off the row first and never drawn again: a
        goodbye is not glued to C{[lobby] }.
        """
        self._prompt = ""
        self._secret = False
        self._reset_line()
        self._layout()
        rendered = render(message, self._width, self.colour)
        if self._character_mode:
            self._stale = None
            del self._out[self._row_from :]
            self._text(_CLEAR_ROW + rendered + "\n")
        else:
            if self._row_used:
                self._text("\n")
            self._text(rendered + "\n")
            self._row_used = False
        self._flush()

    def _share(self) -> None:
        """Set L{shared_key}: a key under which L{shared_output} is the same
        for every editor, or C{None}.

        When nothing is typed or pending, printing a message writes a text
        that depends only on the message, the mode, the prompt, the width and
        colour, and leaves the editor as it was; the hub then encodes a room
        line once per key instead of once per member.

        L{_flush} calls this; it ends every operation and comes before each
        call out (write, line, end of input) that could show a message.  So
        the key can be a plain attribute, kept in the editor's L{EditorOwner}: a
        room flush reads one per member, not the editor's whole state,
        cache-cold for each of thousands.
        """
        if self._chars or self._out or self._stale is not None:
            self._owner.shared_key = None
        elif not self._character_mode:
            self._owner.shared_key = None if self._row_used else self._line_key
        else:
            self._owner.shared_key = self._char_key if self._drawn else None

    @property
    def shared_key(self) -> int | None:
        """See L{_share}; kept in the editor's L{EditorOwner}."""
        return self._owner.shared_key

    def shared_output(self, rendered: str) -> str:
        """What L{print_rendered} writes while L{shared_key} is not C{None}."""
        if not self._character_mode or not self._prompt:
            return rendered + "\n"
        return _CLEAR_ROW + rendered + "\n" + self._image()

    def prompt_anew(self) -> None:
        """Output written past the editor ended the row: show the prompt again
        on the row it left (the fake shell answers lines the bot typed while
        a long answer was still going out, after it)."""
        self._row_used = False
        if self._character_mode:
            self._repaint()
        else:
            self._show_line_prompt()
        self._flush()

    def redraw(self) -> None:
        """Draw the input row again (character mode only)."""
        if self._character_mode:
            self._drawn = True
            self._repaint()
        self._flush()

    def _text(self, text: str) -> None:
        """Output that is not just the input row: it is written as it comes."""
        self._settle()
        self._out.append(text)
        self._row_from = len(self._out)

    def _row(self, text: str) -> None:
        """An edit of the row as it is on screen, unless it is to be drawn anew."""
        if self._stale is None:
            self._out.append(text)

    def _erase_back(self, columns: int) -> None:
        """Rub out the C{columns} just before the cursor, at the row's end."""
        self._row("\b" * columns + _ERASE_TO_END)

    def _repaint(self, erase: str = _ERASE_TO_END) -> None:
        """The row is to be drawn whole: what was written for it goes."""
        del self._out[self._row_from :]
        if self._stale != _ERASE_BELOW:
            self._stale = erase

    def _settle(self) -> None:
        if self._stale is not None:
            self._out.append(self._image(self._stale))
            self._stale = None

    def _flush(self) -> None:
        self._settle()
        if self._ring:
            self._ring = False
            self._out.append(_BELL)
        self._row_from = 0
        out = self._out
        data = "".join(out) if out else ""
        out.clear()
        self._share()  # before writing: the write may show room lines first
        if data:
            self._owner.editor_output(data)

    def _bell(self) -> None:
        if self._character_mode:
            self._ring = True

    # -- input ----------------------------------------------------------------

    def feed(self, data: bytes) -> None:
        """Take input bytes from the telnet layer.

        A confirmed Ctrl-D ends the input: whatever followed it in the same
        packet is dropped, as it would be had it come in a packet of its own
        after the connection closed.
        """
        self._ended = False
        if not self._character_mode and not self._chars:
            # What line-mode clients and bots send: whole lines, no keys.
            lines = self._keys.whole_lines(data)
            if lines is not None and max(map(len, lines)) <= self._limits.line:
                self._eof_pending = False
                self._listed = None
                for line in lines:
                    self._submit(line)
                self._flush()
                return
        for event in self._keys.feed(data):
            if self._ended:
                break
            if isinstance(event, str):
                self._eof_pending = False
                self._listed = None
                self._insert(event)
            else:
                if event is not Key.EOF:
                    self._eof_pending = False
                if event is not Key.TAB:
                    self._listed = None
                if self._character_mode:
                    ACTIONS[event](self)
                elif event is Key.ENTER:
                    self._enter()
                elif event is Key.BACKSPACE:
                    self._line_mode_backspace()
                elif event is Key.EOF and not self._chars:
                    self._eof()
        self._flush()

    def _insert(self, text: str) -> None:
        room = self._limits.line - len(self._chars)
        if len(text) > room:
            self._bell()
            self._overflow = not self._character_mode
            text = text[:room]
            if not text:
                return
        at = self._cursor
        self._chars[at:at] = text
        self._widths[at:at] = _widths(text)
        self._cursor = at + len(text)
        if not self._character_mode:
            self._row_used = True  # the client echoed it
        elif not self._secret and self._stale is None:
            if self._cursor == len(self._chars) and self._in_view():
                self._row(text)
            else:
                self._repaint()

    def _line_mode_backspace(self) -> None:
        if self._chars:
            self._chars.pop()
            self._widths.pop()
            self._cursor = len(self._chars)

    def _enter(self) -> None:
        self._submit("".join(self._chars))

    def _submit(self, line: str) -> None:
        """The line is entered: hand it on and start the next one."""
        if self._character_mode:
            self._text("\n" if self.keep_entered else "\r\x1b[K")
        else:
            self._row_used = False  # the client's own echo ended the row
            if self._overflow:
                self.print(
                    (Span(f"Line too long: cut to {self._limits.line} characters.", "error"),)
                )
        secret = self._secret
        # Only character mode can walk the history: line-mode clients keep none.
        if (self._character_mode and not secret and line.strip()
                and (not self._history or self._history[-1] != line)):
            if self._history is None:
                self._history = deque(maxlen=self._limits.history)
            self._history.append(line)
        self._reset_line()
        if secret:
            self._secret = False
            self._prompt = ""
            self._layout()
        self._drawn = False
        self._flush()
        try:
            self._owner.editor_line(line)
        finally:
            self._drawn = True
            if self._character_mode:
                self._repaint()
            else:
                self._show_line_prompt()

    def _reset_line(self) -> None:
        self._chars.clear()
        self._widths.clear()
        self._cursor = 0
        self._scroll = 0
        self._recalled = None
        self._draft = ""
        self._overflow = False

    def _show_line_prompt(self) -> None:
        if self._prompt:
            if self._row_used:
                self._text("\n")
            self._text(self._prompt)
            self._row_used = True

    def _eof(self) -> None:
        if self._eof_pending:
            self._eof_pending = False
            self._ended = True
            self._flush()
            self._owner.editor_eof()
        else:
            self.print(_EOF_NOTICE)
            self._eof_pending = True

    # -- editing helpers ------------------------------------------------------

    def _delete(self, start: int, end: int) -> None:
        del self._chars[start:end]
        del self._widths[start:end]
        self._cursor = start

    def _kill(self, start: int, end: int) -> None:
        if start < end:
            self._delete(start, end)
            self._redraw_line()

    def _replace(self, start: int, text: str) -> None:
        """Put C{text} in place of the characters from C{start} to the cursor."""
        if len(self._chars) - (self._cursor - start) + len(text) > self._limits.line:
            self._bell()
            return
        self._chars[start : self._cursor] = text
        self._widths[start : self._cursor] = _widths(text)
        self._cursor = start + len(text)
        self._redraw_line()

    def _load(self, text: str) -> None:
        self._chars[:] = text
        self._widths[:] = _widths(text)
        self._cursor = len(self._chars)
        self._redraw_line()

    def _move(self, index: int) -> None:
        while 0 < index < len(self._widths) and self._widths[index] == 0:
            index -= 1  # never between a character and its combining marks
        if index == self._cursor:
            return
        if self._secret or self._stale is not None:
            self._cursor = index
            return
        before = sum(self._widths[self._scroll : self._cursor])
        self._cursor = index
        if self._in_view():
            after = sum(self._widths[self._scroll : index])
            if after < before:
                self._row(f"\x1b[{before - after}D")
            elif after > before:
                self._row(f"\x1b[{after - before}C")
        else:
            self._repaint()

    def _redraw_line(self) -> None:
        if not self._secret:
            self._repaint()

    # -- the input row --------------------------------------------------------

    def _layout(self) -> None:
        """Fit the prompt to the width, leaving room to type, and make the
        keys L{shared_key} hands out: once per shape for all editors."""
        self._shown_prompt, self._prompt_columns, self._line_key, self._char_key = layout(
            self._prompt, self._width, self._colour, self._form)
        self._room = self._width - 1 - self._prompt_columns
        self._share()

    def _in_view(self) -> bool:
        """Whether the cursor is visible without moving the scroll position."""
        scroll, cursor = self._scroll, self._cursor
        if scroll == 0:
            return sum(self._widths[:cursor]) <= self._room
        if cursor <= scroll or sum(self._widths) <= self._room:
            return False
        return sum(self._widths[scroll:cursor]) <= self._room

    def _view(self) -> tuple[int, int]:
        """The slice of the line on screen, scrolled so the cursor shows.

        When the cursor leaves the view it is brought back to the middle, so
        scrolling happens once per half a row, not on every keystroke.
        """
        widths = self._widths
        if not self._in_view():
            if sum(widths) <= self._room:
                self._scroll = 0
            else:
                target = self._room // 2
                start, columns = self._cursor, 0
                while start > 0 and columns + widths[start - 1] <= target:
                    start -= 1
                    columns += widths[start]
                while 0 < start < len(widths) and widths[start] == 0:
                    start -= 1
                self._scroll = start
        end, columns = self._scroll, 0
        while end < len(widths) and columns + widths[end] <= self._room:
            columns += widths[end]
            end += 1
        return self._scroll, end

    def _image(self, erase: str = _ERASE_TO_END) -> str:
        """Everything that draws the input row over whatever it shows now."""
        if self._secret:
            return "\r" + self._shown_prompt + erase
        start, end = self._view()
        back = sum(self._widths[self._cursor : end])
        return (
            "\r"
            + self._shown_prompt
            + "".join(self._chars[start:end])
            + erase
            + (f"\x1b[{back}D" if back else "")
        )
