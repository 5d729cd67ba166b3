"""The payloads bots leave, kept on disk under C{DATA/downloads/}.

Each sample is named by its SHA-256, so the same dropper from a thousand
bots is one file, and is written as a whole under a temporary name and
renamed into place: a reader (or a crash) never sees half a sample.  Files
are mode 0600 and never executable; nothing here ever runs them.  The store
is bounded by a count and a total size, so bots on the open internet cannot
fill the disk; past either bound a new sample is logged but not written.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

import attrs
from twisted.logger import Logger

log = Logger()

DOWNLOADS = "downloads"
MAX_FILES = 10_000
MAX_BYTES = 1 << 30  # 1 GiB
_SHA256 = re.compile(r"[0-9a-f]{64}")


@attrs.frozen
class Kept:
    """What became of one sample: C{path} where it is (C{None} if it was not
    written: C{why} says why), C{duplicate} if it was there already."""

    path: str | None
    duplicate: bool
    why: str = ""


class SampleStore:
    """The C{downloads} directory of one data directory.

    Its count and size are read from the directory on first use and kept up
    to date as samples are added; another process adding files is noticed
    only at the next start, which errs on the side of writing too little.
    """

    def __init__(self, directory: Path, *, max_files: int = MAX_FILES,
                 max_bytes: int = MAX_BYTES) -> None:
        self.directory = directory
        self.max_files = max_files
        self.max_bytes = max_bytes
        self._count: int | None = None
        self._bytes = 0

    def path_of(self, sha256: str) -> Path:
        return self.directory / sha256

    def keep(self, sha256: str, data: bytes) -> Kept:
        """Write C{data} as C{sha256} unless it is there already or the store is full."""
        if not _SHA256.fullmatch(sha256):
            raise ValueError(f"not a SHA-256 in hex: {sha256!r}")
        path = self.path_of(sha256)
        try:
            self._scan()
            if path.exists():
                return Kept(str(path), True)
            if self._count >= self.max_files:  # type: ignore[operator]
                return Kept(None, False, f"the store holds {self.max_files} samples already")
            if self._bytes + len(data) > self.max_bytes:
                return Kept(None, False, f"the store would exceed {self.max_bytes} bytes")
            self._write(path, data)
        except OSError as e:
            log.error("sample {sha256} not kept: {error}", sha256=sha256, error=e)
            return Kept(None, False, f"it could not be written: {e.strerror or e}")
        self._count = (self._count or 0) + 1
        self._bytes += len(data)
        return Kept(str(path), False)

    def _scan(self) -> None:
        if self._count is not None:
            return
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        count = size = 0
        with os.scandir(self.directory) as entries:
            for entry in entries:
                if _SHA256.fullmatch(entry.name) and entry.is_file(follow_symlinks=False):
                    count += 1
                    size += entry.stat(follow_symlinks=False).st_size
        self._count, self._bytes = count, size

    def _write(self, path: Path, data: bytes) -> None:
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(temporary, path)
        except BaseException:
            try:
                os.unlink(temporary)
            except OSError:
                pass
            raise
