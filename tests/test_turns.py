"""The end of a reactor turn (bbs/turns.py), with no connection in sight:
anything with a flush() may wait for it."""

from __future__ import annotations

from twisted.internet.task import Clock

from bbs.turns import at_turn_end, turn_end


class Waiter:
    """Anything with a flush() may wait for the end of the turn."""

    def __init__(self, name: str, calls: list[str]) -> None:
        self.name, self.calls = name, calls

    def flush(self) -> None:
        self.calls.append(self.name)


def test_sources_run_first_then_the_waiting_in_order_on_one_timer():
    clock = Clock()
    ends = turn_end(clock)
    assert turn_end(clock) is ends  # one per reactor
    calls: list[str] = []
    flushing: list[bool] = []
    ends.add(Waiter("a", calls))
    at_turn_end(clock, lambda: (calls.append("room"), flushing.append(ends.flushing)))
    ends.add(Waiter("b", calls))
    assert len(clock.getDelayedCalls()) == 1 and calls == []
    clock.advance(0)
    assert calls == ["room", "a", "b"] and flushing == [True] and not ends.flushing
    assert clock.getDelayedCalls() == []


def test_a_failing_flush_is_logged_and_holds_up_nobody(logged):
    clock = Clock()
    calls: list[str] = []

    class Broken:
        def flush(self) -> None:
            raise RuntimeError("a bug in one connection")

    turn_end(clock).add(Broken())
    turn_end(clock).add(Waiter("after", calls))
    clock.advance(0)
    assert calls == ["after"]
    failures = [e["log_failure"] for e in logged if "log_failure" in e]
    assert len(failures) == 1 and failures[0].check(RuntimeError)


def test_each_reactor_has_its_own():
    first, second = Clock(), Clock()
    assert turn_end(first) is not turn_end(second)
