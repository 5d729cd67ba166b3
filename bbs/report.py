"""The bot report: what the honeypot saw, summed up from the event log.

The sysop reads it in a terminal, and nearly every string in it was chosen by
a bot, so the text form escapes each character that is not plainly printable
(C{ESC} shows as C{\\x1b}) instead of dropping it: the sysop sees what was
sent and no bot can move their cursor or retitle their window.  The JSON form
keeps the values exact; JSON escapes controls by itself.

The log may be hundreds of megabytes and is written by whoever connects, so
it is read one bounded line at a time, a line that is not a well-formed
event is counted and skipped, and each ranking keeps at most
L{DISTINCT_LIMIT} distinct values (L{ADDRESS_LIMIT} addresses): past that
the least counted half is dropped and the ranking says it is approximate.
"""

from __future__ import annotations

import heapq
import json
import math
import re
from collections.abc import Hashable, Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Generic, TypeVar

import attrs

from bbs.durations import format_duration, parse_duration
from bbs.events import LOG_NAME, MAX_LINE, ROTATED, timestamp
from bbs.styled import visible_width
from bbs.text import printable

WIDTH = 80
DEFAULT_TOP = 10
MAX_TOP = 1000
# Memory stays bounded whatever bots type: a few tens of megabytes at worst.
DISTINCT_LIMIT = 10_000  # distinct values kept per ranking
ADDRESS_LIMIT = 200_000  # distinct addresses kept: they are short, and many
KEY_CHARS = 512  # characters of a value kept; longer ones are cut and end in "…"
OUTFILES_KEPT = 3  # distinct file names remembered per download URL
SIGHTINGS_KEPT = 10_000  # distinct sessions and addresses counted per sample

_WHITESPACE = re.compile(r"[ \t\n\r\f\v]+")
_SINCE_USAGE = ("Use YYYY-MM-DD, an ISO timestamp such as 2026-11-27T11:00:00Z, "
                "or how long ago such as 24h or 7d.")

K = TypeVar("K", bound=Hashable)


class ReportError(Exception):
    """The log cannot be read; the message says why."""


# -- the value -------------------------------------------------------------------

@attrs.frozen
class Count:
    """One row of a ranking: a value and how often it was seen."""

    value: str
    count: int


@attrs.frozen
class Credential:
    """A user name and password a bot tried; C{password} is C{None} when the
    event did not log one."""

    username: str
    password: str | None
    count: int


@attrs.frozen
class Download:
    """A URL the fake shell was asked to fetch, and where it was to be saved."""

    url: str
    count: int
    outfiles: tuple[str, ...]


@attrs.frozen
class Sample:
    """A payload kept under C{DATA/downloads/}: its SHA-256, size, what its
    ELF header says as file(1) puts it (C{elf} is e.g. C{"ELF 32-bit LSB
    ARM"}, empty if it is no ELF file), when it was first kept, by how many sessions from how
    many addresses (lower bounds past L{SIGHTINGS_KEPT}), the names it had on
    the fake device and the URLs that named it."""

    sha256: str
    size: int
    elf: str
    first_seen: datetime
    sessions: int
    addresses: int
    names: tuple[str, ...]
    urls: tuple[str, ...]


@attrs.frozen
class Recording:
    """A finished session recording."""

    when: datetime
    src_ip: str
    ttylog: str
    size: int
    duration: float


@attrs.frozen
class Report:
    """Everything the report shows, for text or JSON alike.

    C{approximate} names the rankings whose counts are estimates because
    they held too many distinct values; their C{addresses} and
    C{banned_addresses} are then lower bounds.
    """

    directory: str
    files: tuple[str, ...]
    since: datetime | None
    first: datetime | None
    last: datetime | None
    events: int
    before_since: int
    skipped: int
    sessions: int
    addresses: int
    top_addresses: tuple[Count, ...]
    logins_failed: int
    logins_succeeded: int
    credentials: tuple[Credential, ...]
    commands: int
    top_commands: tuple[Count, ...]
    downloads: int
    top_downloads: tuple[Download, ...]
    detections: int
    by_rule: tuple[Count, ...]
    by_family: tuple[Count, ...]
    bans: int
    banned_addresses: int
    top_banned: tuple[Count, ...]
    recordings: int
    newest_recordings: tuple[Recording, ...]
    approximate: tuple[str, ...]
    samples: int = 0
    top_samples: tuple[Sample, ...] = ()


# -- arguments -------------------------------------------------------------------

def parse_since(text: str, now: datetime) -> datetime:
    """The moment C{text} names: a date (midnight UTC), an ISO timestamp (UTC
    unless it says otherwise) or a duration before C{now}.

    @raise ValueError: with a message fit to show the sysop.
    """
    spelled = text.strip()
    try:
        moment = datetime.fromisoformat(spelled)
    except ValueError:
        pass
    else:
        return _utc(moment)
    try:
        ago = parse_duration(spelled)
    except ValueError:
        ago = None
    else:
        if ago is not None:
            return datetime.fromtimestamp(now.timestamp() - ago, timezone.utc)
    raise ValueError(f"Not a date or duration: {text!r}. {_SINCE_USAGE}")


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


# -- reading -----------------------------------------------------------------------

def log_files(directory: Path) -> list[Path]:
    """The event log files in C{directory} in time order: the rotated ones,
    oldest first, as L{bbs.events.JsonEventLog} names them, then the live one."""
    try:
        names = [path.name for path in directory.iterdir()]
    except FileNotFoundError:
        return []
    except OSError as e:
        raise ReportError(f"Cannot read {directory}: {e.strerror or e}.") from None
    rotated = sorted(((m.group(1), int(m.group(2) or 0)), name)
                     for name in names if (m := ROTATED.fullmatch(name)))
    files = [directory / name for _, name in rotated]
    if LOG_NAME in names:
        files.append(directory / LOG_NAME)
    return files


def _lines(path: Path) -> Iterator[bytes | None]:
    """The lines of C{path}; C{None} stands for a line longer than any event,
    which is read past in bounded pieces, never whole."""
    try:
        f = open(path, "rb")
    except FileNotFoundError:  # rotated away since it was listed
        return
    except OSError as e:
        raise ReportError(f"Cannot read {path}: {e.strerror or e}.") from None
    with f:
        while line := f.readline(MAX_LINE):
            if len(line) == MAX_LINE and not line.endswith(b"\n"):
                while (rest := f.readline(MAX_LINE)) and not rest.endswith(b"\n"):
                    pass
                yield None
            else:
                yield line


class _Malformed(Exception):
    """A line that is not an event this report can count."""


def _field(event: dict[str, Any], name: str) -> str:
    value = event.get(name)
    if not isinstance(value, str):
        raise _Malformed(name)
    return value


def _number(event: dict[str, Any], name: str) -> float:
    value = event.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _Malformed(name)
    try:
        number = float(value)
    except OverflowError:
        raise _Malformed(name) from None
    if not math.isfinite(number):
        raise _Malformed(name)
    return number


@attrs.define
class _Seen:
    """What the reader gathers about one sample."""

    size: int
    elf: str
    first: datetime
    sessions: set[str] = attrs.Factory(set)
    addresses: set[str] = attrs.Factory(set)
    names: list[str] = attrs.Factory(list)
    urls: list[str] = attrs.Factory(list)

    def add(self, session: str, address: str, name: str, url: str | None,
            when: datetime) -> None:
        self.first = min(self.first, when)
        for kept, value in ((self.sessions, session), (self.addresses, address)):
            if len(kept) < SIGHTINGS_KEPT:
                kept.add(value)
        for listed, value in ((self.names, name), (self.urls, url)):
            if value is not None and value not in listed and len(listed) < OUTFILES_KEPT:
                listed.append(value)


def _elf(event: dict[str, Any]) -> str:
    if "elf_machine" not in event:
        return ""
    bits = int(_number(event, "elf_class"))
    order = "LSB" if _field(event, "elf_endian") == "little" else "MSB"
    return f"ELF {bits}-bit {order} {_field(event, 'elf_machine')}"


def _key(text: str) -> str:
    """C{text} short enough to keep in memory as a ranking key."""
    return text if len(text) <= KEY_CHARS else text[:KEY_CHARS] + "…"


class _Tally(Generic[K]):
    """How often each value was seen, with at most C{limit} values kept.

    When a new value would go over the limit the least counted half is
    dropped (lossy counting): frequent values stay, their counts become
    lower bounds, and C{pruned} says so.  Each value may carry a few
    distinct details (the file names of a download URL).
    """

    def __init__(self, limit: int | None = None) -> None:
        self.limit = DISTINCT_LIMIT if limit is None else limit
        self.counts: dict[K, int] = {}
        self.details: dict[K, list[str]] = {}
        self.pruned = False

    def add(self, value: K, detail: str | None = None) -> None:
        if value not in self.counts and len(self.counts) >= self.limit:
            self._prune()
        self.counts[value] = self.counts.get(value, 0) + 1
        if detail is not None:
            kept = self.details.setdefault(value, [])
            if detail not in kept and len(kept) < OUTFILES_KEPT:
                kept.append(detail)

    def _prune(self) -> None:
        ranked = sorted(self.counts.items(), key=lambda item: -item[1])
        self.counts = dict(ranked[:self.limit // 2])
        self.details = {k: v for k, v in self.details.items() if k in self.counts}
        self.pruned = True

    def top(self, n: int) -> list[tuple[K, int]]:
        """The C{n} most counted values; ties in the order first seen."""
        return heapq.nsmallest(n, self.counts.items(), key=lambda item: -item[1])

    @property
    def distinct(self) -> int:
        """How many distinct values were seen; once pruned, a lower bound."""
        return self.limit if self.pruned else len(self.counts)


@attrs.define
class _Reader:
    """Counts events as they stream past."""

    since: datetime | None
    top: int
    events: int = 0
    before_since: int = 0
    skipped: int = 0
    first: datetime | None = None
    last: datetime | None = None
    sessions: int = 0
    addresses: _Tally[str] = attrs.Factory(lambda: _Tally(ADDRESS_LIMIT))
    logins_failed: int = 0
    logins_succeeded: int = 0
    credentials: _Tally[tuple[str, str | None]] = attrs.Factory(_Tally)
    commands: _Tally[str] = attrs.Factory(_Tally)
    downloads: _Tally[str] = attrs.Factory(_Tally)
    rules: _Tally[str] = attrs.Factory(_Tally)
    families: _Tally[str] = attrs.Factory(_Tally)
    banned: _Tally[str] = attrs.Factory(lambda: _Tally(ADDRESS_LIMIT))
    command_count: int = 0
    download_count: int = 0
    detections: int = 0
    bans: int = 0
    recordings: int = 0
    _newest: list[tuple[datetime, int, Recording]] = attrs.Factory(list)
    samples: dict[str, _Seen] = attrs.Factory(dict)
    samples_pruned: bool = False

    def feed(self, line: bytes | None) -> None:
        try:
            if line is None:
                raise _Malformed("line too long")
            try:
                event = json.loads(line)
            except (ValueError, RecursionError):  # bad JSON or UTF-8, absurd nesting
                raise _Malformed("not JSON") from None
            if not isinstance(event, dict):
                raise _Malformed("not an object")
            self._count(event)
        except _Malformed:
            self.skipped += 1

    def _count(self, event: dict[str, Any]) -> None:
        # Each branch reads every field it needs before it counts anything,
        # so a malformed event is skipped whole.
        eventid = _field(event, "eventid")
        try:
            when = _utc(datetime.fromisoformat(_field(event, "timestamp")))
        except ValueError:
            raise _Malformed("timestamp") from None
        if self.since is not None and when < self.since:
            self.before_since += 1
            return
        if eventid == "cowrie.session.connect":
            self.addresses.add(_key(_field(event, "src_ip")))
            self.sessions += 1
        elif eventid in ("cowrie.login.failed", "cowrie.login.success"):
            username = _key(_field(event, "username"))
            password = _key(_field(event, "password")) if "password" in event else None
            self.credentials.add((username, password))
            if eventid == "cowrie.login.success":
                self.logins_succeeded += 1
            else:
                self.logins_failed += 1
        elif eventid == "cowrie.command.input":
            self.commands.add(_key(_WHITESPACE.sub(" ", _field(event, "input")).strip()))
            self.command_count += 1
        elif eventid == "cowrie.session.file_download" and "shasum" not in event:
            url, outfile = _key(_field(event, "url")), _key(_field(event, "outfile"))
            self.downloads.add(url, outfile)
            self.download_count += 1
        elif eventid in ("cowrie.session.file_download", "cowrie.session.file_upload"):
            self._sample(event, when)
        elif eventid == "bbs.bot.detected":
            rule, family = _key(_field(event, "rule")), _key(_field(event, "family"))
            self.rules.add(rule)
            self.families.add(family)
            self.detections += 1
        elif eventid == "bbs.bot.banned":
            self.banned.add(_key(_field(event, "src_ip")))
            self.bans += 1
        elif eventid == "cowrie.log.closed":
            self._recorded(Recording(when, _key(_field(event, "src_ip")),
                                     _key(_field(event, "ttylog")),
                                     int(_number(event, "size")), _number(event, "duration")))
        self.events += 1
        self.first = when if self.first is None else min(self.first, when)
        self.last = when if self.last is None else max(self.last, when)

    def _sample(self, event: dict[str, Any], when: datetime) -> None:
        sha256 = _field(event, "shasum")
        if not re.fullmatch(r"[0-9a-f]{64}", sha256):
            raise _Malformed("shasum")
        size, elf = int(_number(event, "size")), _key(_elf(event))
        name = _key(_field(event, "filename" if "filename" in event else "destfile"))
        url = _key(_field(event, "url")) if "url" in event else None
        session, address = _key(_field(event, "session")), _key(_field(event, "src_ip"))
        seen = self.samples.get(sha256)
        if seen is None:
            if len(self.samples) >= DISTINCT_LIMIT:  # keep the most seen half
                ranked = sorted(self.samples.items(), key=lambda kv: -len(kv[1].sessions))
                self.samples = dict(ranked[:DISTINCT_LIMIT // 2])
                self.samples_pruned = True
            seen = self.samples[sha256] = _Seen(size, elf, when)
        seen.add(session, address, name, url, when)

    def _recorded(self, recording: Recording) -> None:
        self.recordings += 1
        entry = (recording.when, self.recordings, recording)
        if len(self._newest) < self.top:
            heapq.heappush(self._newest, entry)
        else:
            heapq.heappushpop(self._newest, entry)

    def report(self, directory: Path, files: Sequence[Path]) -> Report:
        def counts(tally: _Tally[str]) -> tuple[Count, ...]:
            return tuple(Count(value, n) for value, n in tally.top(self.top))

        tallies = {"addresses": self.addresses, "credentials": self.credentials,
                   "commands": self.commands, "downloads": self.downloads,
                   "rules": self.rules, "families": self.families, "bans": self.banned}
        return Report(
            directory=str(directory),
            files=tuple(path.name for path in files),
            since=self.since, first=self.first, last=self.last,
            events=self.events, before_since=self.before_since, skipped=self.skipped,
            sessions=self.sessions, addresses=self.addresses.distinct,
            top_addresses=counts(self.addresses),
            logins_failed=self.logins_failed, logins_succeeded=self.logins_succeeded,
            credentials=tuple(Credential(user, password, n)
                              for (user, password), n in self.credentials.top(self.top)),
            commands=self.command_count,
            top_commands=counts(self.commands),
            downloads=self.download_count,
            top_downloads=tuple(Download(url, n, tuple(self.downloads.details.get(url, ())))
                                for url, n in self.downloads.top(self.top)),
            detections=self.detections,
            by_rule=counts(self.rules), by_family=counts(self.families),
            bans=self.bans, banned_addresses=self.banned.distinct,
            top_banned=counts(self.banned),
            recordings=self.recordings,
            newest_recordings=tuple(r for _, _, r in sorted(self._newest, reverse=True)),
            approximate=tuple(name for name, tally in tallies.items() if tally.pruned)
            + (("samples",) if self.samples_pruned else ()),
            samples=len(self.samples),
            top_samples=tuple(
                Sample(sha256, seen.size, seen.elf, seen.first, len(seen.sessions),
                       len(seen.addresses), tuple(seen.names), tuple(seen.urls))
                for sha256, seen in heapq.nsmallest(
                    self.top, self.samples.items(),
                    key=lambda kv: (-len(kv[1].sessions), kv[1].first))),
        )


def build_report(directory: Path, *, since: datetime | None = None,
                 top: int = DEFAULT_TOP) -> Report:
    """Read every event file in C{directory}, in time order, into a L{Report}
    of the events at or after C{since}, with rankings of C{top} rows.

    A line is skipped as malformed when it is not a JSON object with an
    C{eventid} and a C{timestamp}, or when an event the report counts lacks
    a field it uses; an event before C{since} is left out unexamined.

    @raise ReportError: if a file exists but cannot be read.
    """
    files = log_files(directory)
    reader = _Reader(since=since, top=top)
    for path in files:
        for line in _lines(path):
            reader.feed(line)
    return reader.report(directory, files)


# -- showing -------------------------------------------------------------------------

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
        out.line(f"Sessions:    {report.sessions} from {more}"
                 f"{_plural(report.addresses, 'address', 'addresses')}")
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
