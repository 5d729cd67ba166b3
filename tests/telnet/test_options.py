"""The RFC 1143 Q method, transition by transition."""

from __future__ import annotations

import itertools

import pytest

from bbs.telnet.options import Q, Side

NO, YES, WANTNO, WANTYES = Q.NO, Q.YES, Q.WANTNO, Q.WANTYES


@pytest.mark.parametrize(
    "side, enable, acceptable, new, answer",
    [
        # Peer asks to enable (WILL/DO).
        (Side(NO), True, True, Side(YES), True),
        (Side(NO), True, False, Side(NO), False),
        (Side(YES), True, True, Side(YES), None),
        (Side(WANTNO), True, True, Side(NO), None),
        (Side(WANTNO, True), True, True, Side(YES), None),
        (Side(WANTYES), True, True, Side(YES), None),
        (Side(WANTYES, True), True, True, Side(WANTNO), False),
        # Peer asks to disable (WONT/DONT).
        (Side(NO), False, True, Side(NO), None),
        (Side(YES), False, True, Side(NO), False),
        (Side(WANTNO), False, True, Side(NO), None),
        (Side(WANTNO, True), False, True, Side(WANTYES), True),
        (Side(WANTYES), False, True, Side(NO), None),
        (Side(WANTYES, True), False, True, Side(NO), None),
    ],
)
def test_received(side, enable, acceptable, new, answer):
    assert side.received(enable, acceptable) == (new, answer)


@pytest.mark.parametrize(
    "side, enable, new, answer",
    [
        (Side(NO), True, Side(WANTYES), True),
        (Side(YES), True, Side(YES), None),
        (Side(WANTNO), True, Side(WANTNO, True), None),
        (Side(WANTNO, True), True, Side(WANTNO, True), None),
        (Side(WANTYES), True, Side(WANTYES), None),
        (Side(WANTYES, True), True, Side(WANTYES), None),
        (Side(YES), False, Side(WANTNO), False),
        (Side(NO), False, Side(NO), None),
        (Side(WANTYES), False, Side(WANTYES, True), None),
        (Side(WANTYES, True), False, Side(WANTYES, True), None),
        (Side(WANTNO), False, Side(WANTNO), None),
        (Side(WANTNO, True), False, Side(WANTNO), None),
    ],
)
def test_request(side, enable, new, answer):
    assert side.request(enable) == (new, answer)


def test_two_q_method_peers_never_loop():
    """Both ends asking and changing their minds settle without a loop."""
    for a_wants, b_accepts in itertools.product([True, False], repeat=2):
        start = Side(NO if a_wants else YES)
        ours, theirs = start, start
        ours, sent = ours.request(a_wants)
        in_flight = [] if sent is None else [("to_them", sent)]
        ours, extra = ours.request(not a_wants)  # change of mind: queued
        assert extra is None
        exchanged = 0
        while in_flight:
            exchanged += 1
            assert exchanged < 10
            direction, enable = in_flight.pop(0)
            if direction == "to_them":
                theirs, reply = theirs.received(enable, b_accepts)
                if reply is not None:
                    in_flight.append(("to_us", reply))
            else:
                ours, reply = ours.received(enable, True)
                if reply is not None:
                    in_flight.append(("to_them", reply))
        assert ours.state in (NO, YES) and theirs.state in (NO, YES)
        assert ours.enabled == theirs.enabled
