"""twistd's own log file, bounded in size and in number of files.

Left to itself, twistd logs to C{twistd.log} (or C{--logfile}) through a
L{LogFile} that rotates at 1 MB and keeps every old file: a server that runs
for months under a botnet's attention fills its disk.  The same file, rotated
at the same size, keeps at most C{--logfile-keep} old files here.

twistd asks the application for an L{ILogObserver} component before it
builds its own observer (a C{.tac} file sets one the same way), so the
bounded file is handed over as that component, only where twistd would have
logged to a file: logging to standard output (C{-n}, C{--logfile -}), to
syslog or through a C{--logger} of the sysop's stays as twistd makes it.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from twisted.logger import ILogObserver, textFileLogObserver
from twisted.python.logfile import LogFile

DEFAULT_LOG = "twistd.log"  # where a daemonized twistd logs without --logfile


def log_path(twistd: Mapping[str, Any]) -> Path | None:
    """The file twistd's options C{twistd} make it log to, or C{None} if
    they make it log elsewhere.  Relative to the current directory, as
    twistd resolves it (before it changes to C{--rundir})."""
    if twistd.get("logger") or twistd.get("syslog"):
        return None
    name = twistd.get("logfile")
    if name == "-" or (not name and twistd.get("nodaemon")):
        return None
    return Path(os.path.abspath(name or DEFAULT_LOG))


def bounded_log(path: Path, size: int, keep: int) -> LogFile:
    """The log file at C{path}, rotated at C{size} bytes, with at most
    C{keep} rotated files (C{path.1} the newest) beside it."""
    return LogFile.fromFullPath(str(path), rotateLength=size, maxRotatedFiles=keep)


def observer(log_file: LogFile) -> ILogObserver:
    """Text lines to C{log_file}, as twistd writes them; and SIGUSR1 rotates
    it, as twistd's own does, unless that signal is taken."""
    if not signal.getsignal(signal.SIGUSR1):
        from twisted.internet import reactor

        def rotate(signum: int, frame: Any) -> None:
            reactor.callFromThread(log_file.rotate)

        signal.signal(signal.SIGUSR1, rotate)
    return textFileLogObserver(log_file)
