"""Stopping the service tree: the store outlives every job queued for it."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from twisted.internet import defer, reactor
from twisted.trial.unittest import TestCase

from bbs.config import Config
from bbs.service import service_tree
from bbs.store import DATABASE_NAME, SQLiteStore

JOBS = 200


class StopOrderTests(TestCase):
    async def test_writes_queued_as_the_server_stops_are_saved(self) -> None:
        data = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, data)
        # One worker: its queue runs in order, so the last write queued is
        # the one that stays (two could finish their last jobs either way).
        top = service_tree(reactor, Config(ports=("tcp:0:interface=127.0.0.1",), web=(),
                                           data=data, workers=1))
        top.startService()
        store = top.getServiceNamed("store").store
        pool = top.getServiceNamed("bbs").pool
        store.create_account("bob", "not-a-real-hash")
        # What sessions leaving at a shutdown queue: their last-seen times,
        # far more than the workers can have written by the time all stops.
        writes = [pool.run(store.touch_seen, "bob", 1000.0 + n) for n in range(JOBS)]
        await defer.maybeDeferred(top.stopService)
        results = await defer.DeferredList(writes, consumeErrors=True)
        failed = [r.getErrorMessage() for ok, r in results if not ok]
        self.assertEqual(failed, [])
        reopened = SQLiteStore(data / DATABASE_NAME)
        reopened.open()
        self.addCleanup(reopened.close)
        self.assertEqual(reopened.get_account("bob").last_seen, 1000.0 + JOBS - 1)
