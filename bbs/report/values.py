"""What the bot report holds: the rankings and figures summed up from the
event log, the same for its text and its JSON form."""

from __future__ import annotations

from datetime import datetime

import attrs



class ReportError(Exception):
    """The log cannot be read; the message says why."""


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
    many addresses (lower bounds past
    L{bbs.report.reading.SIGHTINGS_KEPT}), the names it had on
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
    by_door: tuple[Count, ...] = ()  # sessions by door: telnet, ssh, web
    ssh_versions: tuple[Count, ...] = ()  # SSH clients' version lines
    hassh: tuple[Count, ...] = ()  # their key exchange fingerprints, "HASSH  its algorithms"
