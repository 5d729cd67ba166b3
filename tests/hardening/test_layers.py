"""Hostile input through the telnet layer and the line editor together, in process.

Each test names the offender's fate (closed, throttled or ignored) and the
bound that holds.  Time is a L{twisted.internet.task.Clock}; nothing sleeps.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st
from twisted.internet.task import Clock

from bbs.telnet.limits import TelnetLimits
from bbs.telnet.protocol import LOG_PER, LOG_RATE
from bbs.terminal.editor import EditorLimits
from tests.hardening.stack import (
    DO, DONT, ECHO, IAC, NAWS, NEW_ENVIRON, SB, SE, TTYPE, WILL, WONT, Screen, Stack,
    cmd, naws, sub,
)

DEFAULTS = TelnetLimits()
KB = 1024


def telnet_lines(events: list[dict]) -> list[dict]:
    return [e for e in events if e.get("log_namespace") == "bbs.telnet.protocol"]


def char_mode(stack: Stack) -> Stack:
    stack.feed(cmd(DO, ECHO))
    assert stack.editor.character_mode
    stack.wire()
    return stack


# -- random streams through both layers --------------------------------------------

_keys = st.sampled_from([
    b"\x1b[A", b"\x1b[B", b"\x1b[C", b"\x1b[D", b"\x1b[H", b"\x1b[F", b"\x1b[3~", b"\x1bOA",
    b"\x1b[1;5C", b"\x1b[", b"\x1b", b"\x1b[999999", b"\x1b[[A", b"\x1bb", b"\x1bf",
    b"\x01", b"\x02", b"\x03", b"\x04", b"\x05", b"\x06", b"\x08", b"\t", b"\x0b", b"\x0c",
    b"\x0e", b"\x10", b"\x15", b"\x17", b"\x7f", b"\r", b"\r\n", b"\r\0", b"\n", b"\0",
    "é日😀".encode(), b"\xc3", b"\xa9", b"\xe6\x97", b"\xf0\x9f", b"\xed\xa0\x80", b"\xfe",
])
_telnet = st.one_of(
    st.tuples(st.sampled_from((WILL, WONT, DO, DONT)), st.sampled_from((0, 1, 3, 24, 31, 34, 39)))
    .map(lambda t: cmd(*t)),
    st.sampled_from([bytes((IAC, c)) for c in (IAC, 241, 243, 244, 246, 247, 248, 236, 240)]),
    st.tuples(st.integers(0, 700), st.integers(0, 700)).map(lambda t: naws(*t)),
    st.binary(max_size=60).map(lambda b: sub(TTYPE, b"\0" + b)),
    st.binary(max_size=20).map(lambda b: sub(NEW_ENVIRON, b)),
    st.just(bytes((IAC, SB, 99)) + b"never ends"),
    st.just(bytes((IAC, 0x41))),
    st.sampled_from([b"GET ", b"SSH-", b"\x16\x03"]),
)
_tokens = st.one_of(st.binary(max_size=16), st.text(max_size=12).map(str.encode), _keys, _telnet)
streams = st.lists(_tokens, max_size=60).map(b"".join)
SMALL = (TelnetLimits(subnegotiation=32, negotiations=10, ttype_max=8),
         EditorLimits(line=24, history=3, escape=8))


def outcome(chunks: list[bytes], limits: tuple) -> tuple:
    stack = Stack(*limits)
    for chunk in chunks:
        stack.feed(chunk)
    assert ("lost", "internal error") not in stack.events
    return stack.outcome()


@settings(max_examples=250, deadline=None)
@given(streams, st.sampled_from([(TelnetLimits(), EditorLimits()), SMALL]))
def test_any_stream_parses_the_same_whole_and_byte_by_byte_and_never_raises(stream, limits):
    whole = outcome([stream], limits)
    bytewise = outcome([stream[i : i + 1] for i in range(len(stream))], limits)
    assert whole == bytewise


_ascii_keys = _keys.filter(lambda k: k.isascii() and k != b"\x1b[[A")


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(_ascii_keys, st.text("abc xyz", min_size=1, max_size=30).map(str.encode)),
                max_size=40).map(b"".join),
       st.booleans())
def test_the_row_on_screen_is_always_the_prompt_and_the_line_around_the_cursor(keys, bytewise):
    """Redraws are coalesced per packet: whatever arrives, and however it is cut
    into packets, the cursor's row on the client's screen shows the prompt and
    a slice of the buffer, with the cursor where it is in the buffer."""
    width = 30
    stack = Stack(editor_limits=EditorLimits(line=200))
    screen = Screen(width, 12)
    stack.feed(cmd(DO, ECHO), naws(width, 12))
    screen.feed(stack.wire())
    chunks = [keys[i : i + 1] for i in range(len(keys))] if bytewise else [keys]
    for chunk in chunks:
        stack.feed(chunk)
        screen.feed(stack.wire())
    if stack.closed:
        return
    editor = stack.editor
    row = screen.screen.display[screen.screen.cursor.y]
    assert row[:2] == "> "
    column = screen.x - 2
    start = editor.cursor - column
    assert 0 <= column < width - 2 and start >= 0
    room = width - 1 - 2
    assert row[2 : 2 + room].rstrip() == editor.buffer[start : start + room].rstrip()


# -- subnegotiation -------------------------------------------------------------------

def test_unterminated_subnegotiation_is_held_within_4_kb_then_closes():
    stack = Stack()
    stack.feed(bytes((IAC, SB, TTYPE)) + b"x" * (4 * KB - 1))
    assert not stack.closed  # ignored while within the bound
    stack.feed(bytes((IAC, SE)) + b"still typing\r\n")
    assert stack.lines == ["still typing"]
    stack.feed(bytes((IAC, SB, 99)) + b"y" * (4 * KB + 1))
    assert stack.closed
    assert ("lost", "subnegotiation too long") in stack.events
    assert len(stack.telnet.parser._sub) <= 4 * KB


# -- bad IAC and foreign protocols --------------------------------------------------

@pytest.mark.parametrize("opening, line", [
    (bytes((IAC, 0x41)), b"protocol error"),
    (b"GET /cgi-bin/luci HTTP/1.1\r\nHost: x\r\n\r\n", b"not a web server"),
    (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", b"TLS is not spoken"),
    (b"SSH-2.0-libssh_0.9.6\r\n", b"not an SSH server"),
])
def test_protocol_errors_close_with_one_line_and_one_log_line_without_traceback(
        opening, line, logged):
    stack = Stack(peer="192.0.2.11")
    stack.wire()
    stack.feed(opening)
    assert stack.closed
    assert line in stack.wire()
    [entry] = telnet_lines(logged)
    assert "log_failure" not in entry
    assert stack.lines == []


def test_a_forged_log_line_stays_inside_its_own_line(logged):
    stack = Stack(peer="192.0.2.12")
    stack.feed(b"GET /x\n2026-01-01T00:00:00+0000 [-] sysop logged in\x1b[2J\r\n")
    [entry] = telnet_lines(logged)
    from twisted.logger import formatEvent

    text = formatEvent(entry)
    assert "\n" not in text and "\x1b" not in text
    assert "\\n2026-01-01" in text and "\\x1b[2J" in text


def test_telnet_log_lines_are_rate_limited_per_address_and_summed_up(logged):
    clock = Clock()
    for n in range(3 * LOG_RATE):
        Stack(peer="192.0.2.13", clock=clock).feed(bytes((IAC, 0x41)))
    Stack(peer="192.0.2.14", clock=clock).feed(bytes((IAC, 0x41)))
    lines = telnet_lines(logged)
    assert [e["ip"] for e in lines].count("192.0.2.13") == LOG_RATE
    assert [e["ip"] for e in lines].count("192.0.2.14") == 1
    clock.advance(LOG_PER)
    summary = telnet_lines(logged)[-1]
    assert (summary["ip"], summary["count"]) == ("192.0.2.13", 2 * LOG_RATE)


# -- negotiation --------------------------------------------------------------------

def test_a_negotiation_storm_gets_no_more_replies_than_requests_and_at_most_the_limit():
    stack = Stack()
    stack.wire()
    storm = b"".join(cmd(verb, option) for verb in (DO, DONT, WILL, WONT) * 1250
                     for option in (ECHO, 3, 34, 200))
    stack.feed(storm)
    wire = stack.wire()
    replies = wire.count(bytes((IAC,)))
    assert replies <= DEFAULTS.negotiations + 1  # + the one TTYPE SEND
    assert not stack.closed  # ignored, not punished: a confused client is still a person
    stack.feed(b"hello\r\n")
    assert stack.lines == ["hello"]


# -- NAWS ------------------------------------------------------------------------------

@pytest.mark.parametrize("width, height, window", [
    (65535, 65535, (500, 500)), (1, 1, (20, 5)), (0, 0, (80, 24)), (255, 0, (255, 24)),
])
def test_absurd_window_sizes_are_clamped(width, height, window):
    stack = Stack()
    stack.feed(cmd(WILL, NAWS), naws(width, height))
    assert stack.telnet.window == window
    assert stack.editor.width == window[0]


def test_a_naws_storm_redraws_a_few_times_and_ends_on_the_last_size():
    stack = char_mode(Stack())
    stack.feed(b"x" * 300)
    stack.wire()
    storm = b"".join(naws(60 + n % 2, 24) for n in range(10_000)) + naws(77, 30)
    stack.feed(storm)
    reports = [e for e in stack.events if e[0] == "window"]
    assert len(reports) <= DEFAULTS.window_burst
    assert len(stack.wire()) < 2 * KB  # 90 KB of NAWS: a few rows of output
    stack.clock.advance(1)
    assert stack.events[-1] == ("window", 77, 30)
    assert stack.editor.width == 77
    stack.clock.advance(60)
    assert [e for e in stack.events if e[0] == "window"][-1] == ("window", 77, 30)
    assert len([e for e in stack.events if e[0] == "window"]) <= DEFAULTS.window_burst + 1


def test_naws_storm_one_packet_at_a_time_is_reported_at_the_window_rate():
    stack = char_mode(Stack())
    for n in range(1000):
        stack.feed(naws(40 + n % 7, 24))
        if n % 100 == 99:
            stack.clock.advance(1)
    reports = [e for e in stack.events if e[0] == "window"]
    assert len(reports) <= DEFAULTS.window_burst + 10 * DEFAULTS.window_rate + 1


# -- TTYPE and NEW-ENVIRON ------------------------------------------------------------

def test_a_huge_terminal_type_is_cut_and_filtered():
    stack = Stack()
    junk = b"XTERM\x1b]0;pwned\x07\r\n" + bytes(range(256)) * 12
    stack.feed(cmd(WILL, TTYPE), sub(TTYPE, b"\0" + junk))
    name = stack.telnet.terminal_type
    assert name is not None and len(name) <= DEFAULTS.ttype_max
    assert name.isprintable() and name.isascii() and "\x1b" not in name
    assert not stack.closed


def test_new_environ_is_heard_only_to_be_logged_and_never_reaches_the_input():
    stack = Stack()
    stack.wire()
    stack.feed(cmd(WILL, NEW_ENVIRON))
    assert stack.wire() == cmd(DO, NEW_ENVIRON) + sub(NEW_ENVIRON, b"\x01")  # SEND: all
    stack.feed(sub(NEW_ENVIRON, b"\0\0USER\x01-f root\x00" + b"A" * 3000))
    assert not stack.closed
    kept = [e for e in stack.events if e[0] != "signal"]
    assert [e[0] for e in kept] == ["environ"]
    user, other = kept[0][1]
    assert (user.name, user.value, user.exploit) == ("USER", "-f root", True)
    assert other.name == "A" * 64 and other.value is None  # cut to what a log line holds
    assert stack.lines == []


# -- lines, escapes, UTF-8, NUL, CR --------------------------------------------------

@pytest.mark.parametrize("character", [False, True])
def test_a_long_line_is_cut_at_1_kb(character):
    stack = Stack()
    if character:
        char_mode(stack)
    stack.feed(b"a" * (100 * KB) + b"\r\n")
    assert stack.lines == ["a" * 1024]
    wire = stack.wire()
    if character:
        assert wire.count(b"a") <= 2 * 1024 + 200  # echo and the line shown back
    else:
        assert b"Line too long: cut to 1024 characters." in wire


def test_a_megabyte_escape_sequence_is_swallowed_and_the_next_line_is_intact():
    stack = char_mode(Stack())
    flood = b"\x1b[" + b"1" * (1024 * KB) + b"m"
    for at in range(0, len(flood), 64 * KB):
        stack.feed(flood[at : at + 64 * KB])
    stack.feed(b"hello\r\n")
    assert stack.lines == ["hello"]
    assert len("".join(stack.editor._keys._params)) <= EditorLimits().escape  # all it held
    assert b"1" not in stack.wire().replace(b"\x1b[1", b"")  # no digit was typed


def test_invalid_and_split_utf8_is_dropped_and_the_rest_kept():
    stack = Stack()
    stack.feed(b"caf\xc3", b"\xa9 \xfe\xc0\xaf\xed\xa0\x80 ok \xe6\x97", b"\xa5\r\n")
    assert stack.lines == ["café  ok 日"]


def test_nul_and_bare_cr():
    stack = Stack()
    stack.feed(b"hel\0lo\rworld\r\0again\r\n\0")
    assert stack.lines == ["hello", "world", "again"]
    assert ("signal", "nul-line-end") in stack.events


def test_history_keeps_100_lines_and_never_a_password():
    stack = char_mode(Stack())
    stack.feed(b"".join(b"line %d\r" % n for n in range(150)))
    stack.editor.ask_secret("Password: ")
    stack.feed(b"hunter2")
    assert b"hunter2" not in stack.wire()  # not echoed
    stack.feed(b"\r")
    assert stack.lines[-1] == "hunter2"
    stack.wire()  # (our stand-in session prints every line back)
    for _ in range(150):
        stack.feed(b"\x1b[A")
    assert stack.editor.buffer == "line 50"  # the oldest of the last 100
    stack.feed(b"\x15")
    for _ in range(101):
        stack.feed(b"\x1b[B")
        assert "hunter2" not in stack.editor.buffer
    assert b"hunter2" not in stack.wire()


# -- rates ------------------------------------------------------------------------------

def test_a_4_kb_paste_passes_untouched():
    stack = Stack()
    paste = [f"pasted line {n:03d} " + "p" * 40 for n in range(4 * KB // 56)]
    stack.feed("\r\n".join(paste).encode() + b"\r\n")
    assert stack.lines == paste
    assert stack.transport.producerState == "producing"
    assert ("signal", "input-flood") not in stack.events


def test_a_fast_sender_has_its_reading_paused_and_resumed():
    stack = Stack()
    stack.feed(b"x" * (64 * KB))
    assert stack.transport.producerState == "producing"
    stack.feed(b"x" * (16 * KB))  # 16 KB over the burst: one second's worth
    assert stack.transport.producerState == "paused"
    assert ("signal", "input-flood") in stack.events
    stack.clock.advance(0.99)
    assert stack.transport.producerState == "paused"
    stack.clock.advance(0.02)
    assert stack.transport.producerState == "producing"
    stack.feed(b"x" * 8 * KB)  # back within: half a second's worth is owed again
    assert stack.transport.producerState == "paused"
    stack.transport.loseConnection()
    stack.telnet.connectionLost()
    assert stack.clock.getDelayedCalls() == []


def test_a_client_that_never_reads_is_dropped_past_256_kb():
    stack = Stack()
    stack.telnet.pauseProducing()  # the transport's buffer is full
    for _ in range(255):
        stack.editor.print_rendered("m" * 1022)  # 1 KB on the wire with its CR LF
    assert not stack.closed
    stack.editor.print_rendered("m" * 2048)
    assert stack.closed
    assert ("lost", "output queue full") in stack.events


def test_are_you_there_is_answered_at_a_bounded_rate():
    stack = Stack()
    stack.wire()
    stack.feed(bytes((IAC, 246)) * 10_000)
    assert stack.wire().count(b"[yes]") == DEFAULTS.ayt_burst
    stack.clock.advance(1)
    stack.feed(bytes((IAC, 246)) * 10)
    assert stack.wire().count(b"[yes]") == 1


def test_tab_floods_ask_the_completer_at_a_bounded_rate():
    stack = char_mode(Stack())
    for _ in range(1000):
        stack.feed(b"a\t\x7f\x7f\x7f")
    limits = EditorLimits()
    assert len(stack.completions) == limits.completion_burst
    stack.clock.advance(1)
    stack.feed(b"a\t")
    assert len(stack.completions) == limits.completion_burst + 1


def test_a_packet_of_redraw_keys_costs_one_redraw():
    stack = char_mode(Stack())
    stack.feed(b"y" * 70)
    stack.wire()
    stack.feed(b"\x0c" * 20_000 + b"\x1b[H\x1b[F" * 5000)
    assert len(stack.wire()) < 200
    assert stack.editor.buffer == "y" * 70
