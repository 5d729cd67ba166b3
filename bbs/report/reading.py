"""The event log read into a L{Report}.

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

from bbs.durations import parse_duration
from bbs.events import LOG_NAME, MAX_LINE, ROTATED
from bbs.report.values import Count, Credential, Download, Recording, Report, ReportError, Sample

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
    doors: _Tally[str] = attrs.Factory(_Tally)
    versions: _Tally[str] = attrs.Factory(_Tally)
    hassh: _Tally[str] = attrs.Factory(_Tally)
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
            address = _key(_field(event, "src_ip"))
            door = _key(_field(event, "protocol")) if "protocol" in event else "telnet"
            self.addresses.add(address)
            self.doors.add(door)
            self.sessions += 1
        elif eventid == "cowrie.client.version":
            self.versions.add(_key(_field(event, "version")))
        elif eventid == "cowrie.client.kex":
            hassh, algorithms = _key(_field(event, "hassh")), _key(_field(event, "hasshAlgorithms"))
            self.hassh.add(hassh, algorithms)
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
                   "rules": self.rules, "families": self.families, "bans": self.banned,
                   "ssh versions": self.versions, "hassh": self.hassh}
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
            by_door=counts(self.doors),
            ssh_versions=counts(self.versions),
            hassh=tuple(Count(f"{value}  {' '.join(self.hassh.details.get(value, ()))}".rstrip(), n)
                        for value, n in self.hassh.top(self.top)),
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
