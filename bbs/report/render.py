"""The bot report shown: as text for a terminal, or as JSON.

The sysop reads it in a terminal, and nearly every string in it was chosen by
a bot, so the text form escapes each character that is not plainly printable
(C{ESC} shows as C{\\x1b}) instead of dropping it: the sysop sees what was
sent and no bot can move their cursor or retitle their window.  The JSON form
keeps the values exact; JSON escapes controls by itself.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import attrs

from bbs.durations import format_duration
from bbs.events import timestamp
from bbs.styled import visible_width
from bbs.text import printable
from bbs.report.values import Report, Sample

WIDTH = 80


def report_dict(report: Report) -> dict[str, Any]:
    """The report as JSON-ready data, times as the event log writes them."""
    def plain(instance: Any, field: Any, value: Any) -> Any:
        return timestamp(value.timestamp()) if isinstance(value, datetime) else value

    return attrs.asdict(report, value_serializer=plain)


def report_json(report: Report) -> str:
    """The report as one line of JSON; every non-ASCII character is escaped."""
    return json.dumps(report_dict(report), ensure_ascii=True)


_INDENT = "  "
_GAP = "  "
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escaped(char: str) -> str:
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _time(moment: datetime, seconds: bool = True) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else many or one + 's'}"


@attrs.frozen
class _Column:
    header: str
    right: bool = False  # numbers
    cap: int | None = None  # widest it may be; the last column takes what is left
    keep_end: bool = False  # cut on the left: the end of a path is what matters


class _Text:
    """Lines of the text report, each at most C{width} columns, with every
    character that is not plainly printable, or that C{encoding} cannot
    carry, escaped."""

    def __init__(self, width: int, encoding: str) -> None:
        self.width = width
        self.encoding = encoding
        self.lines: list[str] = []
        self.ellipsis = "…" if self._encodes("…") else "..."

    def _encodes(self, char: str) -> bool:
        try:
            char.encode(self.encoding)
        except UnicodeError:
            return False
        except LookupError:  # an encoding Python does not know: stay in ASCII
            return char.isascii()
        return True

    def escape(self, text: str) -> str:
        if text.isascii() and text.isprintable():
            return text
        return "".join(char if printable(char) and (char.isascii() or self._encodes(char))
                       else _escaped(char) for char in text)

    def fit(self, text: str, width: int, keep_end: bool = False) -> str:
        """Escaped C{text} cut with an ellipsis to at most C{width} columns."""
        if visible_width(text) <= width:
            return text
        room = width - visible_width(self.ellipsis)
        if room < 0:
            return self.ellipsis[:width]
        kept: list[str] = []
        for char in reversed(text) if keep_end else text:
            room -= visible_width(char)
            if room < 0:
                break
            kept.append(char)
        if keep_end:
            return self.ellipsis + "".join(reversed(kept))
        return "".join(kept) + self.ellipsis

    def line(self, text: str = "") -> None:
        self.lines.append(self.fit(text, self.width))

    def heading(self, text: str) -> None:
        self.lines.append("")
        self.line(text)

    def table(self, columns: Sequence[_Column], rows: Sequence[Sequence[str]],
              notes: Sequence[str] | None = None) -> None:
        """Aligned rows of raw values (escaped here); C{notes[i]}, if given,
        goes on a line of its own under the last column of row C{i}."""
        if not rows:
            self.lines.append(_INDENT + "(none)")
            return
        cells = [[self.escape(cell) for cell in row] for row in rows]
        widths = []
        for i, column in enumerate(columns[:-1]):
            natural = max(visible_width(column.header), *(visible_width(row[i]) for row in cells))
            widths.append(min(natural, column.cap) if column.cap else natural)
        start = len(_INDENT) + sum(widths) + len(_GAP) * len(widths)
        widths.append(max(self.width - start, 1))

        def render(row: Sequence[str]) -> str:
            parts = []
            for column, width, cell in zip(columns, widths, row):
                cell = self.fit(cell, width, column.keep_end)
                pad = " " * (width - visible_width(cell))
                parts.append(pad + cell if column.right else cell + pad)
            return (_INDENT + _GAP.join(parts)).rstrip()

        self.lines.append(render([column.header for column in columns]))
        for i, row in enumerate(cells):
            self.lines.append(render(row))
            if notes is not None and notes[i]:
                self.lines.append(" " * start + self.fit(self.escape(notes[i]), widths[-1]))


def _credential(text: str | None) -> str:
    if text is None:
        return "(none)"
    return text or '""'


def _samples(out: _Text, samples: Sequence[Sample]) -> None:
    """Each sample on three lines: its SHA-256 whole (it names the file) and
    size, what it is and who left it, and the names and URLs it had."""
    if not samples:
        out.lines.append(_INDENT + "(none)")
        return
    for sample in samples:
        out.line(f"{_INDENT}{sample.sha256}  {_plural(sample.size, 'byte')}")
        out.line(_INDENT * 2 + out.escape(
            f"{sample.elf or 'not ELF'}, {_plural(sample.sessions, 'session')} from "
            f"{_plural(sample.addresses, 'address', 'addresses')}, first "
            f"{_time(sample.first_seen, seconds=False)}"))
        url = f" from {', '.join(sample.urls)}" if sample.urls else ""
        out.line(_INDENT * 2 + out.escape(f"as {', '.join(sample.names)}{url}"))


def report_text(report: Report, *, width: int = WIDTH, encoding: str = "utf-8") -> str:
    """The report for a terminal of C{width} columns whose output encoding is
    C{encoding}.  Every value that came from the log is escaped."""
    out = _Text(width, encoding)
    title = "hfnjbbs bot report: "
    out.line(title + out.fit(out.escape(report.directory), width - len(title), keep_end=True))
    earlier = (f" ({_plural(report.before_since, 'earlier event')} left out)"
               if report.before_since else "")
    if report.since is not None:
        out.line(f"Since:       {_time(report.since)} UTC{earlier}")
    if not report.events:
        if not report.files:
            out.line("No events: there is no event log in this directory.")
        elif report.since is not None:
            out.line(f"No events since {_time(report.since)} UTC.")
        else:
            out.line("No events in the event log.")
    else:
        assert report.first is not None and report.last is not None
        out.line(f"Period:      {_time(report.first)} to {_time(report.last)} UTC")
        out.line(f"Events:      {report.events} in {_plural(len(report.files), 'file')}")
        more = "more than " if "addresses" in report.approximate else ""
        doors = ", ".join(f"{c.count} {c.value}" for c in report.by_door)
        out.line(f"Sessions:    {report.sessions} from {more}"
                 f"{_plural(report.addresses, 'address', 'addresses')}"
                 + (f" ({doors})" if doors else ""))
        out.line(f"Logins:      {report.logins_failed} failed, "
                 f"{report.logins_succeeded} succeeded")
        out.line(f"Commands:    {report.commands}")
        out.line(f"Downloads:   {report.downloads}")
        out.line(f"Samples:     {report.samples}")
        out.line(f"Detections:  {report.detections}")
        more = "more than " if "bans" in report.approximate else ""
        out.line(f"Bans:        {report.bans} of {more}"
                 f"{_plural(report.banned_addresses, 'address', 'addresses')}")
        out.line(f"Recordings:  {report.recordings}")

        count = _Column("COUNT", right=True)
        out.heading("Top addresses by sessions")
        out.table([_Column("SESSIONS", right=True), _Column("ADDRESS")],
                  [(str(c.count), c.value) for c in report.top_addresses])
        out.heading("Top credentials")
        out.table([count, _Column("USERNAME", cap=24), _Column("PASSWORD")],
                  [(str(c.count), _credential(c.username), _credential(c.password))
                   for c in report.credentials])
        out.heading("SSH clients by version")
        out.table([count, _Column("VERSION")], [(str(c.count), c.value) for c in report.ssh_versions])
        out.heading("SSH clients by HASSH (the key exchange they offer)")
        out.table([count, _Column("HASSH  ALGORITHMS")],
                  [(str(c.count), c.value) for c in report.hassh])
        out.heading("Top commands")
        out.table([count, _Column("COMMAND")],
                  [(str(c.count), c.value) for c in report.top_commands])
        out.heading("Downloads (never fetched)")
        out.table([count, _Column("URL")],
                  [(str(d.count), d.url) for d in report.top_downloads],
                  ["saved as " + ", ".join(d.outfiles) for d in report.top_downloads])
        out.heading("Samples kept (DATA/downloads/SHA-256)")
        _samples(out, report.top_samples)
        out.heading("Detections by rule")
        out.table([count, _Column("RULE")], [(str(c.count), c.value) for c in report.by_rule])
        out.heading("Detections by family")
        out.table([count, _Column("FAMILY")], [(str(c.count), c.value) for c in report.by_family])
        out.heading("Banned addresses")
        out.table([_Column("BANS", right=True), _Column("ADDRESS")],
                  [(str(c.count), c.value) for c in report.top_banned])
        out.heading("Newest recordings")
        out.table([_Column("WHEN"), _Column("ADDRESS", cap=24), _Column("LENGTH", right=True),
                   _Column("FILE", keep_end=True)],
                  [(_time(r.when, seconds=False), r.src_ip, format_duration(r.duration), r.ttylog)
                   for r in report.newest_recordings])
        if report.approximate:
            out.heading("Approximate, too many distinct values to count exactly: "
                        + ", ".join(report.approximate) + ".")
    if report.skipped:
        out.heading(f"Skipped {_plural(report.skipped, 'malformed line')}.")
    return "\n".join(out.lines)
