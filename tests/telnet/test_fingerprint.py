"""Mirai's telnet answers, told apart from people's clients (bbs.telnet.fingerprint)."""

from __future__ import annotations

import pytest

from bbs.telnet.fingerprint import MIRAI_BURST, MiraiAnswers, Verdict
from tests.telnet.test_protocol import (
    DO, ECHO, NAWS, SGA, TTYPE, WILL, WONT, cmd, connect, naws,
)

# What Mirai's consume_iacs sends to our opening, in its order: DO ECHO,
# DO SGA, WILL NAWS + SB NAWS 0 80 0 24, WONT TTYPE.
MIRAI = [cmd(DO, ECHO), cmd(DO, SGA), cmd(WILL, NAWS), naws(80, 24), cmd(WONT, TTYPE)]


def test_mirais_answers_in_one_packet_raise_the_signal_once():
    c = connect()
    c.feed(b"".join(MIRAI))
    c.feed(b"".join(MIRAI))
    assert c.app.calls("signal") == [("mirai-negotiation",)]


def test_mirais_answers_in_separate_packets_within_a_millisecond():
    c = connect()
    for part in MIRAI:
        c.feed(part)
        c.clock.advance(0.0002)
    assert ("mirai-negotiation",) in c.app.calls("signal")


@pytest.mark.parametrize("answers", [
    # netkit telnet: real window, WILL TTYPE
    [cmd(DO, ECHO), cmd(DO, SGA), cmd(WILL, NAWS), naws(132, 43), cmd(WILL, TTYPE)],
    # a client at 80x24 that does send its terminal type
    [cmd(DO, ECHO), cmd(DO, SGA), cmd(WILL, NAWS), naws(80, 24), cmd(WILL, TTYPE)],
    # refusing echo: a line-mode client
    [cmd(254, ECHO), cmd(DO, SGA), cmd(WILL, NAWS), naws(80, 24), cmd(WONT, TTYPE)],
    # Mirai's answers and something it never sends
    [cmd(DO, ECHO), cmd(WILL, 39), cmd(DO, SGA), cmd(WILL, NAWS), naws(80, 24), cmd(WONT, TTYPE)],
])
def test_other_clients_are_not_taken_for_mirai(answers):
    c = connect()
    c.feed(b"".join(answers))
    assert ("mirai-negotiation",) not in c.app.calls("signal")


def test_the_same_answers_given_slowly_are_a_person_clicking_through():
    c = connect()
    for part in MIRAI:
        c.feed(part)
        c.clock.advance(MIRAI_BURST)
    assert ("mirai-negotiation",) not in c.app.calls("signal")


def test_the_verdict_comes_at_the_last_answer_and_at_the_first_stranger():
    answers = MiraiAnswers(0.0)
    assert answers.seen((DO, ECHO), 0.0) is None
    assert answers.seen((NAWS, 80, 24), 0.001) is None
    assert answers.seen((DO, SGA), 0.001) is None
    assert answers.seen((WILL, NAWS), 0.001) is None
    assert answers.seen((WONT, TTYPE), 0.002) is Verdict.MIRAI
    assert MiraiAnswers(0.0).seen((WILL, TTYPE), 0.0) is Verdict.OTHER
