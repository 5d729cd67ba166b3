"""Recording a bot session as an asciicast v2 file (C{asciinema play} plays it).

What is recorded is what the bot's terminal would have shown: the bytes
written to the connection (L{CastRecorder.sent}), with their CR LF line ends
and the echo of what was typed, so a player draws the session as it was
seen, not a stair-stepped transcript of the application's text.

The recording is evidence, so it is written as it happens rather than kept
in memory, and it is capped: a bot streaming megabytes cannot fill the disk.
Past the cap the recording ends with a visible note and later events are
dropped.  A write error (disk full) also ends the recording, never the
session: the constructor may raise C{OSError}, nothing after it does.
"""

from __future__ import annotations

import codecs
import json
import os
import re

from twisted.logger import Logger

log = Logger()

TRUNCATED = "\r\n[recording truncated]\r\n"
_RESERVE = 128  # room kept for the truncation note


_SURROGATE = re.compile("[\ud800-\udfff]")


def _text(text: str) -> str:
    """C{text} as valid Unicode: raw bytes the shell carried as lone surrogates
    become U+FFFD, which every asciicast player accepts."""
    return _SURROGATE.sub("\ufffd", text)


class CastRecorder:
    """An asciicast v2 file: a header line, then one JSON array per event.

    C{at} arguments are absolute times on the same clock as C{started}; the
    file holds the seconds elapsed since C{started}, never decreasing.
    """

    def __init__(self, path: str | os.PathLike[str], *, width: int, height: int,
                 started: float, title: str, max_bytes: int = 1 << 20) -> None:
        self.path = os.fspath(path)
        self.started = started
        self.max_bytes = max(max_bytes, 1024)
        self.size = 0
        self.truncated = False
        self._last = 0.0
        # Bytes written may end inside a UTF-8 character; its rest comes next.
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        directory = os.path.dirname(self.path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        self._file = open(self.path, "w", encoding="ascii", newline="\n")
        header = {"version": 2, "width": width if width > 0 else 80,
                  "height": height if height > 0 else 24, "timestamp": int(started),
                  "title": _text(title)}
        self._write(json.dumps(header, ensure_ascii=True))

    @property
    def closed(self) -> bool:
        return self._file is None

    def output(self, at: float, text: str) -> None:
        """Record text shown to the bot, as it is to appear on the screen."""
        self._event(at, "o", text)

    def sent(self, at: float, data: bytes) -> None:
        """Record application bytes written to the connection (C{b"\\n"} line
        ends, whatever the door makes of them): the terminal gets each line
        end as CR LF and decodes the rest as UTF-8."""
        if b"\n" in data:
            data = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        self._event(at, "o", self._decoder.decode(data))

    def input(self, at: float, text: str) -> None:
        """Record what the bot typed."""
        self._event(at, "i", text)

    def close(self) -> None:
        """Flush and close; safe to call more than once."""
        if self._file is not None:
            try:
                self._file.close()
            except OSError as e:
                log.error("cast {path}: {error}", path=self.path, error=e)
            self._file = None

    def _event(self, at: float, kind: str, text: str) -> None:
        if self._file is None or self.truncated or not text:
            return
        self._last = max(self._last, round(at - self.started, 6))
        line = json.dumps([self._last, kind, _text(text)], ensure_ascii=True)
        if self.size + len(line) + 1 + _RESERVE > self.max_bytes:
            self.truncated = True
            line = json.dumps([self._last, "o", TRUNCATED])
        self._write(line)

    def _write(self, line: str) -> None:
        assert self._file is not None
        try:
            self._file.write(line + "\n")
        except OSError as e:
            log.error("cast {path}: {error}; recording stopped", path=self.path, error=e)
            self.close()
            return
        self.size += len(line) + 1
