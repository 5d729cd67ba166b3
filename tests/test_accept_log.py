"""A listening port's accept loop logs within limits (out of descriptors it
would log a line per refused accept, thousands a second)."""

from __future__ import annotations

from twisted.internet import tcp
from twisted.internet.protocol import Factory
from twisted.internet.task import Clock
from twisted.internet.testing import MemoryReactorClock
from twisted.logger import LogLevel, formatEvent

from bbs.accept_log import AcceptLog
from bbs.sockets import tune_listener
from bbs.telnet.limits import TelnetLimits


def _accept_event(log_format: str, **fields: object) -> dict:
    return {"log_format": log_format, "log_level": LogLevel.info,
            "log_namespace": "twisted.internet.tcp.Port", **fields}


def test_the_accept_loop_logs_one_line_of_each_kind_then_a_count(logged):
    clock = Clock()
    passed: list[dict] = []
    accept_log = AcceptLog(passed.append, clock)
    for _ in range(2906):
        accept_log(_accept_event("Could not accept new connection ({acceptError})",
                                 acceptError="EMFILE"))
    for n in range(30):
        accept_log(_accept_event("EMFILE recovery: Closed socket from {address}",
                                 address=("192.0.2.1", n)))
    assert [formatEvent(e) for e in passed] == [
        "Could not accept new connection (EMFILE)",
        "EMFILE recovery: Closed socket from ('192.0.2.1', 0)",
    ]
    assert logged == []
    clock.advance(60)
    assert {formatEvent(e) for e in logged} == {
        "2905 more accept-loop log lines like 'Could not accept new connection "
        "({acceptError})' were not written (limit 1 per 60 s)",
        "29 more accept-loop log lines like 'EMFILE recovery: Closed socket from "
        "{address}' were not written (limit 1 per 60 s)",
    }
    accept_log(_accept_event("Could not accept new connection ({acceptError})",
                             acceptError="EMFILE"))
    assert len(passed) == 3  # a new minute, a new first line


def test_closing_the_accept_log_sums_up_at_once(logged):
    accept_log = AcceptLog([].append, Clock())
    for _ in range(3):
        accept_log(_accept_event("Could not accept new connection ({acceptError})",
                                 acceptError="ENFILE"))
    accept_log.close()
    assert [e["count"] for e in logged] == [2]


def test_a_tuned_twisted_port_logs_its_accept_loop_through_the_limit(logged):
    reactor = MemoryReactorClock()
    port = tcp.Port(0, Factory(), interface="127.0.0.1", reactor=reactor)
    port.startListening()
    try:
        del logged[:]  # the port's start
        tune_listener(port, TelnetLimits())
        tune_listener(port, TelnetLimits())  # twice is once
        observer = port._logger.observer
        assert isinstance(observer, AcceptLog) and not isinstance(observer._observer, AcceptLog)
        for _ in range(100):  # as tcp.Port.doRead logs, through _BuffersLogs
            with tcp._BuffersLogs(port._logger.namespace, port._logger.observer) as logger:
                logger.info("Could not accept new connection ({acceptError})",
                            acceptError="EMFILE")
        assert [formatEvent(e) for e in logged] == ["Could not accept new connection (EMFILE)"]
        # At shutdown the count is written.
        assert [trigger[0] for trigger in reactor.triggers["before"]["shutdown"]] \
            == [observer.close]
        observer.close()
        assert logged[-1]["count"] == 99
    finally:
        port.stopListening()
