"""Room history on its way to the store, in batches, off the reactor thread.

Chat is the hot path: one SQLite transaction per line would cost more than
the line itself.  Lines are gathered on the reactor thread and written by a
worker once a second (or sooner when many pile up).  History is a courtesy
to people who join later, not something a user was promised, so if the
store falls behind the oldest unsaved lines are dropped rather than letting
memory grow.
"""

from __future__ import annotations

from twisted.application.service import Service
from twisted.internet.defer import Deferred, succeed
from twisted.internet.task import LoopingCall
from twisted.logger import Logger

from bbs.pool import WorkerPool
from bbs.store import HISTORY_LINES, HistoryEntry, IStore

log = Logger()

FLUSH_EVERY = 1.0
FLUSH_AT = 500
KEEP_AT_MOST = 20_000


class HistoryWriter(Service):
    name = "history"

    def __init__(self, store: IStore, pool: WorkerPool, clock) -> None:
        self.store = store
        self.pool = pool
        self._pending: list[HistoryEntry] = []
        self._loop = LoopingCall(self.flush)
        self._loop.clock = clock

    def __call__(self, entry: HistoryEntry) -> None:
        pending = self._pending
        pending.append(entry)
        if len(pending) >= FLUSH_AT:
            if len(pending) > KEEP_AT_MOST:
                del pending[: len(pending) - KEEP_AT_MOST]
            self.flush()

    def flush(self) -> Deferred:
        batch, self._pending = self._pending, []
        if not batch:
            return succeed(None)
        # Only the last lines of each room are ever replayed: a busy second
        # need not write more than that many per room.
        per_room: dict[str, list[HistoryEntry]] = {}
        for entry in batch:
            per_room.setdefault(entry.room, []).append(entry)
        if any(len(lines) > HISTORY_LINES for lines in per_room.values()):
            batch = [e for lines in per_room.values() for e in lines[-HISTORY_LINES:]]
        d = self.pool.run(self.store.append_history_many, batch)
        return d.addErrback(lambda f: log.error("room history not saved: {e}", e=f.value))

    def startService(self) -> None:
        super().startService()
        self._loop.start(FLUSH_EVERY, now=False)

    def stopService(self) -> Deferred:
        super().stopService()
        if self._loop.running:
            self._loop.stop()
        return self.flush()
