"""The structured event log: JSON lines that honeypot tooling can ingest.

Event ids and field names are Cowrie's wherever the meaning is the same, so
dashboards built for Cowrie read this log unchanged; our own events use
C{bbs.*} ids.  C{bbs/events.schema.json} documents every event and field;
the tests check every event they see against it (C{tests/events/schema.py}).

Passwords: the C{password} of C{cowrie.login.*} events is what a bot typed at
the honeypot login and is logged, as Cowrie does.  A registered user's
password is never logged; the session, which knows which is which, decides
what it puts in an event.

Everything a remote party sends ends up in some field, so the writer never
lets data shape the file: each event is one C{json.dumps(ensure_ascii=True)}
line (a newline in a field is C{\\n}, not a line break), long strings are
cut to keep lines bounded, and each address is rate-limited so one noisy bot
cannot flood the disk.  Whole lines are written together at the end of each
turn of the reactor, so a burst of events costs one C{write}, and a killed
process loses at most the events of the turn it was in.
"""

from __future__ import annotations

import json
import math
import os
import re
import time
from collections.abc import Mapping
from datetime import datetime, timezone
from functools import lru_cache
from json.encoder import encode_basestring_ascii as _quote
from pathlib import Path
from typing import Any, Callable

from twisted.application.service import Service
from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.logger import Logger
from zope.interface import Interface, implementer

from bbs.rates import RateLimit

log = Logger()

LOG_NAME = "events.json"
MAX_LINE = 64 * 1024  # bytes in one event line; longer strings are cut
_CUT = 2048  # characters kept of each long string in an over-long event
FLUSH_BYTES = 64 * 1024  # written at once when this much is waiting
# A rotated log: events.json.DAY[.N] (the report reads them too).
ROTATED = re.compile(re.escape(LOG_NAME) + r"\.(\d{4}-\d{2}-\d{2})(?:\.(\d+))?")
_SURROGATE = re.compile("[\ud800-\udfff]")


class IEventSink(Interface):
    """Somewhere events go."""

    def emit(event: dict[str, Any], limited: bool = True) -> None:
        """Record one event, a dict made by L{make_event}.  Never raises.

        C{limited} is False for events of a trusted peer (C{--trust}): a sink
        that limits how much each address may log does not count them.
        """


def timestamp(when: float) -> str:
    """C{when} as Cowrie writes it: C{2026-11-27T11:00:00.123456Z}."""
    second, micro = divmod(round(when * 1_000_000), 1_000_000)
    return f"{_second(second)}.{micro:06d}Z"


@lru_cache(maxsize=4)
def _second(second: int) -> str:
    return datetime.fromtimestamp(second, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def make_event(eventid: str, fields: Mapping[str, Any] | None = None, *, session: str,
               src_ip: str, message: str, sensor: str, when: float | None = None) -> dict[str, Any]:
    """An event with the common fields, then C{fields}.  C{when} defaults to
    the current time; pass the reactor's C{seconds()} so that logs follow the
    same clock.  (The fields come as a mapping, not keywords: matching
    keywords cost more than the rest of making the event.)"""
    event = {
        "eventid": eventid,
        "timestamp": timestamp(time.time() if when is None else when),
        "sensor": sensor,
        "session": session,
        "src_ip": src_ip,
        "message": message,
    }
    if fields:
        event.update(fields)
    return event


# -- writing -------------------------------------------------------------------------

def _clean(value: Any, cut: int | None) -> Any:
    """C{value} made safe for strict JSON readers: lone surrogates (raw bytes a
    bot sent) become C{\\xNN}, non-finite numbers become strings, and strings
    longer than C{cut} are shortened."""
    if isinstance(value, str):
        if not value.isascii() and _SURROGATE.search(value):
            value = _SURROGATE.sub(
                lambda m: f"\\x{ord(m.group()) - 0xDC00:02x}"
                if "\udc80" <= m.group() <= "\udcff" else "\ufffd", value)
        if cut is not None and len(value) > cut:
            value = value[:cut] + "...[truncated]"
        return value
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _clean(v, cut) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v, cut) for v in value]
    return value


_LITERALS = {True: "true", False: "false", None: "null"}
_NAMES: dict[str, str] = {}  # field name -> its JSON and the colon: names repeat


def _flat(event: dict[str, Any]) -> str | None:
    """C{json.dumps(event)} for the usual event, whose values are strings,
    integers, booleans and None, at half the cost; None for any other."""
    parts = []
    for key, value in event.items():
        name = _NAMES.get(key)
        if name is None:
            name = _quote(key) + ": "
            if len(_NAMES) < 1000:
                _NAMES[key] = name
        kind = type(value)
        if kind is str:
            parts.append(name + _quote(value))
        elif kind is int:
            parts.append(name + str(value))
        elif kind is bool or value is None:
            parts.append(name + _LITERALS[value])
        else:
            return None
    return "{" + ", ".join(parts) + "}"


def event_line(event: dict[str, Any]) -> bytes:
    """One event as one line of at most L{MAX_LINE} bytes, newline included."""
    try:  # most events are plain and need no cleaning
        line = _flat(event) or json.dumps(event, ensure_ascii=True, allow_nan=False)
        plain = "\\ud" not in line  # else perhaps a lone surrogate, invalid in strict JSON
    except (TypeError, ValueError):  # not a finite number, or not a JSON type at all
        plain = False
    if not plain:
        line = json.dumps(_clean(event, None), ensure_ascii=True, default=str, allow_nan=False)
    if len(line) >= MAX_LINE:
        shorter = _clean(event, _CUT)
        shorter["truncated"] = True
        line = json.dumps(shorter, ensure_ascii=True, default=str, allow_nan=False)
        if len(line) >= MAX_LINE:  # very many fields: keep what identifies the event
            line = json.dumps({k: shorter[k] for k in (
                "eventid", "timestamp", "sensor", "session", "src_ip", "message", "truncated",
            ) if k in shorter}, ensure_ascii=True, default=str)[:MAX_LINE - 1]
    return line.encode("ascii") + b"\n"


def _day(when: float) -> str:
    return datetime.fromtimestamp(when, timezone.utc).strftime("%Y-%m-%d")


@implementer(IEventSink)
class JsonEventLog(Service):
    """C{DIRECTORY/events.json}, rotated by size and at each UTC midnight.

    A rotated file is renamed C{events.json.YYYY-MM-DD} after the day of its
    events, then C{.1}, C{.2}... for later ones of the same day; only the
    newest C{keep} are kept.  Each address gets C{rate} events per C{per}
    seconds; what goes over is counted and reported in one
    C{bbs.log.suppressed} event when its window ends (or on close).
    Events emitted as not C{limited} (trusted peers) are not counted.

    As a service, stopping it closes the file; an event that still arrives
    afterwards reopens it, so nothing emitted during shutdown is lost.
    """

    name = "events"

    def __init__(self, directory: str | os.PathLike[str], *, sensor: str, clock: IReactorTime,
                 max_bytes: int = 50 * 1024 * 1024, keep: int = 10, rate: int = 200,
                 per: float = 60.0,
                 at_turn_end: Callable[[Callable[[], None]], object] | None = None) -> None:
        self.directory = Path(directory)
        self.path = self.directory / LOG_NAME
        self.sensor = sensor
        self.clock = clock
        self.max_bytes = max_bytes
        self.keep = keep
        self.rate = rate
        self.per = per
        self._limit = RateLimit(clock, rate, per, self._suppressed)
        self._file: Any = None
        self._size = 0  # of the file, including what is waiting to be written
        self._file_day: str | None = None
        self._failing = False
        self._waiting: list[bytes] = []
        self._waiting_bytes = 0
        # Lines are written at the end of the reactor's turn, together; the
        # server passes the telnet layer's end of turn, which runs anyway.
        self._at_turn_end = at_turn_end or (lambda f: clock.callLater(0, f))
        self._due: object = None  # what at_turn_end returned (a timer, if one)
        self._stopped = False
        self._day: tuple[float, float, str] = (0.0, 0.0, "")  # [start, end) of a UTC day
        self.directory.mkdir(parents=True, exist_ok=True)
        self._open()

    # -- IEventSink ---------------------------------------------------------------

    def emit(self, event: dict[str, Any], limited: bool = True) -> None:
        address = event.get("src_ip")
        if limited and address and not self._limit.allow(str(address)):
            return
        self._write(event, self.clock.seconds())

    def close(self) -> None:
        """Report suppressed counts, write what is waiting and close the file."""
        self._limit.close()
        due, self._due = self._due, None
        if IDelayedCall.providedBy(due) and due.active():
            due.cancel()
        self.flush()
        if self._file is not None:
            self._file.close()
            self._file = None

    def stopService(self) -> None:
        super().stopService()
        self._stopped = True  # the reactor may not turn again: write at once from now on
        self.close()

    def _suppressed(self, address: str, count: int) -> None:
        now = self.clock.seconds()
        self._write(make_event(
            "bbs.log.suppressed", {"count": count}, session="", src_ip=address,
            sensor=self.sensor, when=now,
            message=f"{count} events from {address} over the rate limit were not logged",
        ), now)

    # -- the file ---------------------------------------------------------------------

    def _open(self) -> None:
        self._file = open(self.path, "ab", buffering=0)
        self._size = self._file.seek(0, os.SEEK_END)
        self._file_day = self._day_of_existing() if self._size else None

    def _day_of_existing(self) -> str:
        """The day of the events already in the file, from its first line."""
        try:
            with open(self.path, "rb") as f:
                first = json.loads(f.readline(MAX_LINE))
            stamp = first["timestamp"]
            datetime.strptime(stamp[:10], "%Y-%m-%d")
            return stamp[:10]
        except (OSError, ValueError, KeyError, TypeError):
            return _day(os.stat(self.path).st_mtime)

    def _write(self, event: dict[str, Any], now: float) -> None:
        try:
            line = event_line(event)
        except (TypeError, ValueError) as e:
            log.error("event not logged, cannot encode it: {error}", error=e)
            return
        day = self._day_of(now)
        try:
            if self._file is None:
                self._open()
            if self._size and (day != self._file_day or self._size + len(line) > self.max_bytes):
                self.flush()
                self._rotate()
        except OSError as e:
            self._failed(e)
            return
        if not self._size:
            self._file_day = day
        self._waiting.append(line)
        self._size += len(line)
        self._waiting_bytes += len(line)
        if self._waiting_bytes >= FLUSH_BYTES or self._stopped:
            self.flush()
        elif self._due is None:
            self._due = self._at_turn_end(self._turn_ended) or True

    def _turn_ended(self) -> None:
        self._due = None
        self.flush()

    def flush(self) -> None:
        """Write every waiting line now."""
        if not self._waiting:
            return
        data, self._waiting, self._waiting_bytes = b"".join(self._waiting), [], 0
        try:
            if self._file is None:
                self._open()
            view = memoryview(data)
            while view:
                written = self._file.write(view)
                view = view[written:]
            self._failing = False
        except OSError as e:
            self._failed(e)

    def _failed(self, e: OSError) -> None:
        if not self._failing:
            log.error("cannot write the event log {path}: {error}", path=self.path, error=e)
        self._failing = True

    def _day_of(self, when: float) -> str:
        start, end, day = self._day
        if not start <= when < end:
            day = _day(when)
            start = (when // 86400) * 86400
            self._day = (start, start + 86400, day)
        return day

    def rotated(self) -> list[Path]:
        """Rotated files, oldest first."""
        found = []
        for path in self.directory.iterdir():
            m = ROTATED.fullmatch(path.name)
            if m:
                found.append(((m.group(1), int(m.group(2) or 0)), path))
        return [path for _, path in sorted(found)]

    def _rotate(self) -> None:
        self._file.close()
        self._file = None
        day = self._file_day or _day(self.clock.seconds())
        numbers = [int(m.group(2) or 0) for p in self.directory.iterdir()
                   if (m := ROTATED.fullmatch(p.name)) and m.group(1) == day]
        suffix = f".{max(numbers) + 1}" if numbers else ""
        os.replace(self.path, self.directory / f"{LOG_NAME}.{day}{suffix}")
        for old in self.rotated()[:-self.keep] if self.keep > 0 else self.rotated():
            old.unlink(missing_ok=True)
        self._open()
