"""The worker pool: off the reactor thread, bounded, results back on it."""

from __future__ import annotations

import threading

from twisted.internet import reactor
from twisted.trial.unittest import TestCase

from bbs.pool import Overloaded, WorkerPool


class WorkerPoolTests(TestCase):
    def setUp(self) -> None:
        self.pool = WorkerPool(reactor, size=2, queue_limit=3)
        self.pool.startService()
        self.addCleanup(self.pool.stopService)

    async def test_jobs_run_off_the_reactor_thread_and_answer_on_it(self) -> None:
        reactor_thread = threading.get_ident()
        seen: list[int] = []

        def job() -> int:
            return threading.get_ident()

        worker = await self.pool.run(job)
        seen.append(threading.get_ident())
        self.assertNotEqual(worker, reactor_thread)
        self.assertEqual(seen, [reactor_thread])

    async def test_a_full_queue_refuses_instead_of_growing(self) -> None:
        gate = threading.Event()
        running = [self.pool.run(gate.wait, 5) for _ in range(3)]
        refused = self.pool.run(lambda: None)
        failure = self.failureResultOf(refused, Overloaded)
        self.assertIn("busy", str(failure.value))
        gate.set()
        for d in running:
            self.assertTrue(await d)
        # Once drained, new work is accepted again.
        self.assertEqual(await self.pool.run(lambda: 42), 42)

    async def test_an_exception_in_a_job_reaches_the_caller(self) -> None:
        def boom() -> None:
            raise ZeroDivisionError("x")

        with self.assertRaises(ZeroDivisionError):
            await self.pool.run(boom)
        self.assertEqual(await self.pool.run(lambda: 1), 1)
