"""Properties of the parser over arbitrary input (hypothesis)."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from bbs.telnet.limits import TelnetLimits
from tests.telnet.test_protocol import IAC, SB, SE, connect

VERBS = (251, 252, 253, 254)
OPTIONS = (0, 1, 3, 24, 31, 34, 200)

_token = st.one_of(
    st.binary(max_size=12),
    st.sampled_from(
        [b"\xff", b"\r", b"\n", b"\0", b"\r\n", b"\r\0", b"\xff\xff", b"\xff\xf0", b"\xff\xfa",
         b"\xff\xec", b"\xff\xf6", b"\xff\x01", b"GET ", b"SSH-", b"\x16\x03", b"PO"]
    ),
    st.tuples(st.sampled_from(VERBS), st.sampled_from(OPTIONS)).map(lambda t: bytes((IAC, *t))),
    st.tuples(st.sampled_from((24, 31)), st.binary(max_size=8)).map(
        lambda t: bytes((IAC, SB, t[0])) + t[1] + bytes((IAC, SE))
    ),
)
streams = st.lists(_token, max_size=40).map(b"".join)


def run(chunks: list[bytes], limits: TelnetLimits) -> tuple[list[tuple], bytes, bool]:
    c = connect(limits)
    for chunk in chunks:
        c.feed(chunk)
    merged: list[tuple] = []
    for event in c.app.events:
        if event[0] == "data" and merged and merged[-1][0] == "data":
            merged[-1] = ("data", merged[-1][1] + event[1])
        else:
            merged.append(event)
    return merged, c.transport.value(), c.transport.connected


SMALL = TelnetLimits(subnegotiation=16, negotiations=20, ttype_max=6)


@settings(max_examples=300, deadline=None)
@given(streams, st.sampled_from([TelnetLimits(), SMALL]))
def test_chunking_never_changes_the_outcome(stream, limits):
    whole = run([stream], limits)
    bytewise = run([stream[i : i + 1] for i in range(len(stream))], limits)
    assert whole == bytewise
    events, wire, _ = whole
    assert ("lost", "internal error") not in events
    assert b"internal error" not in wire


@settings(max_examples=100, deadline=None)
@given(streams, st.lists(st.integers(min_value=0), max_size=6))
def test_arbitrary_packet_boundaries(stream, cuts):
    points = sorted({cut % (len(stream) + 1) for cut in cuts})
    chunks = [stream[a:b] for a, b in zip([0, *points], [*points, len(stream)])]
    assert run(chunks, TelnetLimits()) == run([stream], TelnetLimits())


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(VERBS), st.sampled_from(OPTIONS)), max_size=300))
def test_replies_never_exceed_requests(commands):
    c = connect(SMALL)
    c.feed(b"".join(bytes((IAC, verb, option)) for verb, option in commands))
    wire = c.transport.value().replace(bytes((IAC, SB, 24, 1, IAC, SE)), b"")
    assert len(wire) % 3 == 0
    replies = [wire[i : i + 3] for i in range(0, len(wire), 3)]
    assert all(r[0] == IAC and r[1] in VERBS for r in replies)
    assert len(replies) <= min(len(commands), SMALL.negotiations)
