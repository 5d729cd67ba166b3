"""TelnetConnection over a StringTransport: negotiation, commands, limits, closing."""

from __future__ import annotations

import attrs
import pytest
from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.interfaces import IPushProducer
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport, StringTransportWithDisconnection
from zope.interface.verify import verifyObject

from bbs.telnet.limits import TelnetLimits
from bbs.telnet.parser import terminal_type_name
from bbs.telnet.protocol import TelnetConnection

IAC, DONT, DO, WONT, WILL, SB, SE = 255, 254, 253, 252, 251, 250, 240
ECHO, SGA, BINARY, TTYPE, NAWS, LINEMODE = 1, 3, 0, 24, 31, 34
OPENING = bytes((IAC, WILL, ECHO, IAC, WILL, SGA, IAC, DO, NAWS, IAC, DO, TTYPE))
TTYPE_SEND = bytes((IAC, SB, TTYPE, 1, IAC, SE))


def cmd(verb: int, option: int) -> bytes:
    return bytes((IAC, verb, option))


def sub(*payload: int | bytes) -> bytes:
    body = b"".join(bytes((p,)) if isinstance(p, int) else p for p in payload)
    return bytes((IAC, SB)) + body.replace(b"\xff", b"\xff\xff") + bytes((IAC, SE))


def naws(width: int, height: int) -> bytes:
    return sub(NAWS, width.to_bytes(2, "big") + height.to_bytes(2, "big"))


@attrs.define
class RecordingApp:
    """Records every callback in order, as a session would see them."""

    events: list[tuple] = attrs.Factory(list)
    wire_at_connect: bytes | None = None
    telnet: TelnetConnection | None = None
    fail_on_data: bool = False

    def door_connected(self, telnet: TelnetConnection) -> None:
        self.telnet = telnet
        self.wire_at_connect = telnet.transport.value()
        self.events.append(("connected",))

    def door_data(self, data: bytes) -> None:
        if self.fail_on_data:
            raise RuntimeError("session bug")
        self.events.append(("data", data))

    def door_window(self, width: int, height: int) -> None:
        self.events.append(("window", width, height))

    def door_ttype(self, name: str) -> None:
        self.events.append(("ttype", name))

    def door_echo(self, server_echoes: bool) -> None:
        self.events.append(("echo", server_echoes))

    def door_signal(self, name: str) -> None:
        self.events.append(("signal", name))

    def door_environ(self, variables: tuple) -> None:
        self.events.append(("environ", variables))

    def door_lost(self, reason: str) -> None:
        self.events.append(("lost", reason))

    @property
    def data(self) -> bytes:
        return b"".join(e[1] for e in self.events if e[0] == "data")

    def calls(self, kind: str) -> list[tuple]:
        return [e[1:] for e in self.events if e[0] == kind]


@attrs.define
class Connected:
    telnet: TelnetConnection
    transport: StringTransportWithDisconnection
    app: RecordingApp
    clock: Clock

    def feed(self, *chunks: bytes) -> None:
        for chunk in chunks:
            self.telnet.dataReceived(chunk)

    def sent(self) -> bytes:
        """Bytes written since the opening negotiation (and clear them)."""
        value = self.transport.value()
        self.transport.clear()
        return value


def connect(limits: TelnetLimits = TelnetLimits(), transport=None) -> Connected:
    clock = Clock()
    app = RecordingApp()
    telnet = TelnetConnection(app, clock=clock, limits=limits)
    transport = transport or StringTransportWithDisconnection()
    transport.protocol = telnet
    telnet.makeConnection(transport)
    assert transport.value().startswith(OPENING)
    transport.clear()
    return Connected(telnet, transport, app, clock)


def ours(events: list[dict]) -> list[dict]:
    return [e for e in events if e.get("log_namespace") == "bbs.telnet.protocol"]


# -- connecting


def test_first_bytes_are_the_four_negotiations_before_the_app_starts():
    app = RecordingApp()
    telnet = TelnetConnection(app, clock=Clock())
    transport = StringTransportWithDisconnection()
    transport.protocol = telnet
    telnet.makeConnection(transport)
    assert app.wire_at_connect == OPENING
    assert transport.value() == OPENING
    assert app.events == [("connected",)]
    assert transport.producer is telnet and transport.streaming
    assert verifyObject(IPushProducer, telnet)


def test_addresses_are_recorded_as_plain_ipv4():
    transport = StringTransportWithDisconnection(
        hostAddress=IPv6Address("TCP", "::ffff:10.0.0.1", 2323),
        peerAddress=IPv6Address("TCP", "::ffff:192.0.2.7", 40000),
    )
    c = connect(transport=transport)
    assert c.telnet.peer == ("192.0.2.7", 40000)
    assert c.telnet.host == ("10.0.0.1", 2323)


def test_plain_ipv4_and_ipv6_addresses_are_kept():
    transport = StringTransportWithDisconnection(
        hostAddress=IPv6Address("TCP", "2001:db8::1", 2323),
        peerAddress=IPv4Address("TCP", "198.51.100.9", 5555),
    )
    c = connect(transport=transport)
    assert c.telnet.peer == ("198.51.100.9", 5555)
    assert c.telnet.host == ("2001:db8::1", 2323)


def test_defaults_before_any_answer():
    c = connect()
    assert c.telnet.window == (80, 24)
    assert c.telnet.terminal_type is None
    assert not c.telnet.character_mode
    assert not c.telnet.binary


def test_silent_client_is_reported_once_after_two_seconds():
    c = connect()
    c.clock.advance(1.9)
    assert c.app.calls("signal") == []
    c.clock.advance(0.2)
    assert c.app.calls("signal") == [("no-negotiation",)]
    c.clock.advance(10)
    assert c.app.calls("signal") == [("no-negotiation",)]


def test_negotiating_client_is_not_reported_silent():
    c = connect()
    c.feed(cmd(DO, SGA))
    c.clock.advance(5)
    assert c.app.calls("signal") == []


def test_data_alone_does_not_count_as_negotiating():
    c = connect()
    c.feed(b"root\r\n")
    c.clock.advance(2)
    assert c.app.calls("signal") == [("no-negotiation",)]


def test_each_silent_client_is_reported_at_its_own_time_by_one_timer():
    clock = Clock()
    apps = [RecordingApp() for _ in range(3)]
    for app in apps:
        telnet = TelnetConnection(app, clock=clock)
        transport = StringTransportWithDisconnection()
        transport.protocol = telnet
        telnet.makeConnection(transport)
        if app is apps[1]:
            telnet.dataReceived(cmd(DO, SGA))  # this one negotiates
        clock.advance(0.5)
    assert len(clock.getDelayedCalls()) == 1
    clock.advance(0.5)  # 2 s after the first connected
    assert [a.calls("signal") for a in apps] == [[("no-negotiation",)], [], []]
    clock.advance(1.0)
    assert [a.calls("signal") for a in apps] == [[("no-negotiation",)], [], [("no-negotiation",)]]
    assert clock.getDelayedCalls() == []


def test_connection_lost_cancels_the_timer():
    c = connect()
    c.telnet.close()
    assert c.clock.getDelayedCalls() == []
    c.clock.advance(5)
    assert c.app.calls("signal") == []


# -- option negotiation


def test_client_accepting_our_echo_enters_character_mode_without_reply():
    c = connect()
    c.feed(cmd(DO, ECHO) + cmd(DO, SGA) + cmd(WILL, NAWS))
    assert c.sent() == b""
    assert c.telnet.character_mode
    assert c.app.calls("echo") == [(True,)]


def test_refused_echo_reports_false_without_reply():
    c = connect()
    c.feed(cmd(DONT, ECHO))
    assert c.sent() == b""
    assert not c.telnet.character_mode
    assert c.app.calls("echo") == [(False,)]
    c.feed(cmd(DONT, ECHO))  # repeated: already off, nothing happens
    assert c.sent() == b""
    assert c.app.calls("echo") == [(False,)]


def test_dont_echo_after_accepting_leaves_character_mode_and_confirms():
    c = connect()
    c.feed(cmd(DO, ECHO))
    c.feed(cmd(DONT, ECHO))
    assert c.sent() == cmd(WONT, ECHO)
    assert not c.telnet.character_mode
    assert c.app.calls("echo") == [(True,), (False,)]


def test_repeated_do_echo_is_not_answered():
    c = connect()
    c.feed(cmd(DO, ECHO), cmd(DO, ECHO), cmd(DO, ECHO))
    assert c.sent() == b""
    assert c.app.calls("echo") == [(True,)]


def test_request_echo_round_trip():
    c = connect()
    c.feed(cmd(DONT, ECHO))
    c.telnet.request_echo(True)
    assert c.sent() == cmd(WILL, ECHO)
    c.telnet.request_echo(True)  # already asking
    assert c.sent() == b""
    c.feed(cmd(DO, ECHO))
    assert c.sent() == b""
    assert c.telnet.character_mode
    c.telnet.request_echo(False)
    assert c.sent() == cmd(WONT, ECHO)
    assert not c.telnet.character_mode
    c.feed(cmd(DONT, ECHO))
    assert c.sent() == b""
    assert c.app.calls("echo") == [(False,), (True,), (False,)]


def test_change_of_mind_while_waiting_is_queued_not_sent():
    c = connect()  # WILL ECHO is pending
    c.telnet.request_echo(False)
    c.telnet.request_echo(True)
    c.telnet.request_echo(False)
    assert c.sent() == b""
    c.feed(cmd(DO, ECHO))  # the answer to the first request
    assert c.sent() == cmd(WONT, ECHO)
    c.feed(cmd(DONT, ECHO))
    assert c.sent() == b""
    assert not c.telnet.character_mode


def test_will_ttype_asks_for_the_type_once():
    c = connect()
    c.feed(cmd(WILL, TTYPE))
    assert c.sent() == TTYPE_SEND
    c.feed(cmd(WONT, TTYPE), cmd(WILL, TTYPE))
    assert TTYPE_SEND not in c.sent()


@pytest.mark.parametrize("verb, reply", [(DO, WILL), (WILL, DO)])
def test_binary_is_accepted_both_ways(verb, reply):
    c = connect()
    c.feed(cmd(verb, BINARY))
    assert c.sent() == cmd(reply, BINARY)
    assert c.telnet.binary


@pytest.mark.parametrize(
    "received, reply",
    [
        (cmd(WILL, LINEMODE), cmd(DONT, LINEMODE)),
        (cmd(DO, LINEMODE), cmd(WONT, LINEMODE)),
        (cmd(WILL, ECHO), cmd(DONT, ECHO)),  # the client echoing: no
        (cmd(DO, NAWS), cmd(WONT, NAWS)),
        (cmd(DO, 200), cmd(WONT, 200)),
        (cmd(WILL, 200), cmd(DONT, 200)),
        (cmd(WONT, 200), b""),
        (cmd(DONT, 200), b""),
    ],
)
def test_everything_else_is_refused(received, reply):
    c = connect()
    c.feed(received)
    assert c.sent() == reply
    c.feed(received)  # asked again, refused again: one reply per request
    assert c.sent() == reply
    assert c.transport.connected


def test_sga_toggling_is_answered_each_time_but_never_looped():
    c = connect()
    c.feed(cmd(DO, SGA))  # answer to our WILL SGA
    assert c.sent() == b""
    c.feed(cmd(DONT, SGA))
    assert c.sent() == cmd(WONT, SGA)
    c.feed(cmd(WONT, SGA))  # nonsense about the wrong side: the other table
    assert c.sent() == b""
    c.feed(cmd(DO, SGA))
    assert c.sent() == cmd(WILL, SGA)


def test_negotiation_storm_yields_bounded_output():
    c = connect()
    c.feed((cmd(DO, SGA) + cmd(DONT, SGA) + cmd(DO, 99)) * 10_000)
    output = c.sent()
    assert len(output) <= 3 * TelnetLimits().negotiations
    assert c.transport.connected
    c.feed(b"still here\n")
    assert c.app.data == b"still here\n"


def test_storm_split_into_packets_also_bounded():
    c = connect(TelnetLimits(negotiations=10))
    for _ in range(5_000):
        c.feed(cmd(WILL, 77), cmd(WONT, 77))
    assert len(c.sent()) <= 3 * 10


# -- IAC commands


def test_doubled_iac_is_byte_255():
    c = connect()
    c.feed(b"a\xff\xffb")
    assert c.app.data == b"a\xffb"


@pytest.mark.parametrize("command, key", [(236, b"\x04"), (244, b"\x03"), (247, b"\x7f"), (248, b"\x15")])
def test_commands_that_stand_for_keys(command, key):
    c = connect()
    c.feed(b"x" + bytes((IAC, command)) + b"y")
    assert c.app.data == b"x" + key + b"y"
    assert c.transport.connected


@pytest.mark.parametrize("command", [241, 242, 243, 245, 249, 237, 238, 239, SE])
def test_ignored_commands(command):
    c = connect()
    c.feed(b"ab" + bytes((IAC, command)) + b"cd")
    assert c.app.data == b"abcd"
    assert c.sent() == b""
    assert c.transport.connected


def test_are_you_there_is_answered():
    c = connect()
    c.feed(bytes((IAC, 246)))
    assert c.sent() == b"\r\n[yes]\r\n"


def test_empty_subnegotiation_is_harmless():
    c = connect()
    c.feed(bytes((IAC, SB, IAC, SE)) + b"ok\n")
    assert c.app.data == b"ok\n"
    assert c.transport.connected


def test_command_inside_subnegotiation_ends_it():
    c = connect()
    c.feed(bytes((IAC, SB, NAWS, 0, 100)) + cmd(DO, ECHO) + b"hi")
    assert c.telnet.character_mode
    assert c.app.data == b"hi"
    assert c.telnet.window == (80, 24)


def test_bad_iac_closes_with_reason_and_one_log_line(logged):
    c = connect()
    c.feed(b"hello\n" + bytes((IAC, 0x41)) + b"more\n")
    assert c.app.data == b"hello\n"
    assert c.sent() == b"protocol error\r\n"
    assert not c.transport.connected
    assert c.app.calls("signal") == [("protocol-error",)]
    assert c.app.calls("lost") == [("protocol error",)]
    [event] = ours(logged)
    assert "log_failure" not in event


# -- NAWS


def test_window_size_is_reported_once_per_change():
    c = connect()
    c.feed(cmd(WILL, NAWS), naws(100, 40))
    assert c.telnet.window == (100, 40)
    c.feed(naws(100, 40))
    assert c.app.calls("window") == [(100, 40)]
    c.feed(naws(132, 40))
    assert c.app.calls("window") == [(100, 40), (132, 40)]


def test_a_first_report_of_the_default_size_is_passed_on_once():
    # Mirai reports a fixed 80x24, our default: it is logged all the same.
    c = connect()
    c.feed(naws(80, 24))
    assert c.app.calls("window") == [(80, 24)]
    c.feed(naws(80, 24))
    assert c.app.calls("window") == [(80, 24)]


@pytest.mark.parametrize(
    "size, window",
    [((5, 1), (20, 5)), ((1000, 1000), (500, 500)), ((0, 50), (80, 50)), ((90, 0), (90, 24)), ((255, 255), (255, 255))],
)
def test_window_size_is_clamped_and_zero_means_unknown(size, window):
    c = connect()
    c.feed(naws(*size))
    assert c.telnet.window == window


def test_naws_with_doubled_iac_split_everywhere():
    wire = naws(255, 257)  # width 255: IAC doubled inside
    for cut in range(len(wire) + 1):
        c = connect()
        c.feed(wire[:cut], wire[cut:])
        assert c.telnet.window == (255, 257)


def test_malformed_naws_is_ignored():
    c = connect()
    c.feed(sub(NAWS, b"\x00\x64\x00"), sub(NAWS, b"\x00\x64\x00\x28\x00"))
    assert c.telnet.window == (80, 24)
    assert c.transport.connected


# -- TTYPE


def test_terminal_type_is_filtered_cut_and_reported_once():
    c = connect()
    name = b"XTERM\x1b[31m-256\x00COLOR\xe9" + b"x" * 100
    c.feed(cmd(WILL, TTYPE), sub(TTYPE, 0, name), sub(TTYPE, 0, b"VT100"))
    expected = ("XTERM31m-256COLOR" + "x" * 100)[:40]
    assert c.telnet.terminal_type == expected
    assert c.app.calls("ttype") == [(expected,)]


@pytest.mark.parametrize("raw, kept", [
    (b"xterm\x1b[31m;rm -rf /<script>", "xterm31mrm-rf/script"),
    (b"xterm-256color", "xterm-256color"),
    (b"DEC-VT220", "DEC-VT220"),
    (b"screen.xterm-256color", "screen.xterm-256color"),
    (b"vt100+fnkeys", "vt100+fnkeys"),
    (b"ansi_bbs", "ansi_bbs"),
    (b"$(reboot)`id`|&'\"{}\\", "rebootid"),
])
def test_a_terminal_type_keeps_only_the_characters_of_a_name(raw, kept):
    c = connect()
    c.feed(sub(TTYPE, 0, raw))
    assert c.telnet.terminal_type == kept
    assert c.app.calls("ttype") == [(kept,)]


def test_a_terminal_type_of_nothing_but_junk_is_no_answer():
    # Nothing is reported, and a later real answer still counts.
    c = connect()
    c.feed(sub(TTYPE, 0, b"\x1b[;<>"))
    assert c.telnet.terminal_type is None and c.app.calls("ttype") == []
    c.feed(sub(TTYPE, 0, b"vt100"))
    assert c.app.calls("ttype") == [("vt100",)]


def test_terminal_type_name_cuts_after_filtering():
    assert terminal_type_name(b"<<<<<<<<vt100", 5) == "vt100"
    assert terminal_type_name(b"\xffvt\xfe100", 40) == "vt100"


def test_ttype_limit_is_configurable():
    c = connect(TelnetLimits(ttype_max=5))
    c.feed(sub(TTYPE, 0, b"ANSI-BBS"))
    assert c.telnet.terminal_type == "ANSI-"


def test_ttype_send_from_client_is_ignored():
    c = connect()
    c.feed(sub(TTYPE, 1))
    assert c.telnet.terminal_type is None
    assert c.sent() == b""


# -- subnegotiation bound


def test_subnegotiation_at_the_limit_is_accepted():
    c = connect(TelnetLimits(subnegotiation=64))
    c.feed(bytes((IAC, SB, 99)) + b"\xff\xff" * 63 + bytes((IAC, SE)) + b"ok")
    assert c.app.data == b"ok"
    assert c.transport.connected


@pytest.mark.parametrize("filler", [b"a", b"\xff\xff"])
def test_oversize_subnegotiation_closes(filler):
    c = connect(TelnetLimits(subnegotiation=64))
    c.feed(bytes((IAC, SB, 99)) + filler * 64)
    assert c.sent() == b"subnegotiation too long\r\n"
    assert not c.transport.connected
    assert c.app.calls("lost") == [("subnegotiation too long",)]


def test_oversize_subnegotiation_trickled_closes():
    c = connect(TelnetLimits(subnegotiation=64))
    c.feed(bytes((IAC, SB, 99)))
    for _ in range(100):
        c.feed(b"z")
    assert not c.transport.connected
    assert len(c.telnet.parser._sub) <= 64


# -- foreign protocols


@pytest.mark.parametrize(
    "opening, name",
    [
        (b"GET / HTTP/1.1\r\nHost: example\r\n\r\n", "http"),
        (b"POST /login HTTP/1.0\r\n\r\n", "http"),
        (b"HEAD / HTTP/1.0\r\n\r\n", "http"),
        (b"PUT /x HTTP/1.1\r\n", "http"),
        (b"OPTIONS * HTTP/1.1\r\n", "http"),
        (b"CONNECT example:443 HTTP/1.1\r\n", "http"),
        (bytes.fromhex("160301020001 0001fc0303".replace(" ", "")) + b"\xff\x00" * 8, "tls"),
        (b"SSH-2.0-OpenSSH_9.2p1\r\n", "ssh"),
    ],
)
@pytest.mark.parametrize("split", [False, True])
def test_foreign_protocols_are_recognised_and_closed(opening, name, split, logged):
    c = connect()
    if split:
        c.feed(*(bytes((b,)) for b in opening))
    else:
        c.feed(opening)
    assert c.app.data == b""
    assert c.app.calls("signal") == [(f"foreign-protocol:{name}",)]
    assert not c.transport.connected
    line = c.sent()
    assert line.endswith(b"\r\n") and line.count(b"\r\n") == 1
    assert len(ours(logged)) == 1


@pytest.mark.parametrize(
    "first",
    [b"GETTY\r\n", b"G", b"PO", b"GET\r\n", b"\x16", b"ssh-2.0\n", b"root\r\n"],
)
def test_telnet_text_is_not_foreign(first):
    c = connect()
    c.feed(first, b"x\n")
    assert c.app.data == (first + b"x\n").replace(b"\r\n", b"\n")
    assert c.transport.connected


def test_prefix_of_a_method_is_held_only_until_told_apart():
    c = connect()
    c.feed(b"PO")
    assert c.app.data == b""
    c.feed(b"ny\n")
    assert c.app.data == b"POny\n"


def test_only_the_first_bytes_are_checked():
    c = connect()
    c.feed(b"hello\n", b"GET / HTTP/1.1\r\n")
    assert c.app.data == b"hello\nGET / HTTP/1.1\n"
    assert c.transport.connected


def test_a_client_that_negotiates_is_telnet():
    c = connect()
    c.feed(b"GE", cmd(DO, ECHO), b"T / HTTP/1.1\r\n")
    assert c.app.data == b"GET / HTTP/1.1\n"


def test_a_client_that_answers_before_it_types_is_telnet():
    c = connect()
    c.feed(cmd(DONT, ECHO) + cmd(WONT, NAWS), b"GET / HTTP/1.1\r\n")
    assert c.app.data == b"GET / HTTP/1.1\n" and c.transport.connected
    assert c.app.calls("echo") == [(False,)]
    assert c.transport.connected


def test_answers_and_the_lines_typed_meanwhile_come_in_one_packet():
    c = connect()
    c.feed(cmd(DONT, ECHO) + cmd(WONT, NAWS) + b"alice\r\n/join x\r\nhi\r")
    assert [e for e in c.app.events if e[0] in ("echo", "data")] == [
        ("echo", False), ("data", b"alice\n/join x\nhi\n")]
    c.feed(b"\n" + cmd(WILL, TTYPE) + b"there\r\n")
    assert c.app.data == b"alice\n/join x\nhi\nthere\n"
    assert c.transport.connected


def test_lines_typed_before_the_answers_reach_the_app_before_them():
    c = connect()
    c.feed(b"alice\r\n/quit\n" + cmd(DONT, ECHO) + cmd(WONT, NAWS) + b"hi\r\n" + cmd(DO, ECHO))
    assert [e for e in c.app.events if e[0] in ("echo", "data")] == [
        ("data", b"alice\n/quit\n"), ("echo", False), ("data", b"hi\n"), ("echo", True)]


def test_held_bytes_are_delivered_if_the_client_leaves():
    c = connect()
    c.feed(b"SS")
    c.transport.loseConnection()
    assert c.app.events[-2:] == [("data", b"SS"), ("lost", "Connection was closed cleanly: Bye..")]


# -- output


def test_write_encodes():
    c = connect()
    c.telnet.write(b"a\xffb\nc\rd")
    assert c.sent() == b"a\xff\xffb\r\nc\r\0d"


def test_write_wire_is_sent_verbatim():
    c = connect()
    c.telnet.write_prepared(b"\xff\xfb\x01raw\r\n")
    assert c.sent() == b"\xff\xfb\x01raw\r\n"


def test_close_sends_one_line_then_nothing():
    c = connect()
    c.telnet.close("Goodbye.")
    c.telnet.write(b"late\n")
    c.telnet.close("again")
    c.feed(b"ignored\n")
    assert c.sent() == b"Goodbye.\r\n"
    assert not c.transport.connected
    assert c.app.calls("lost") == [("Goodbye.",)]
    assert c.app.data == b""


def test_close_unregisters_the_producer_so_a_paused_transport_can_close():
    c = connect()
    c.telnet.pauseProducing()
    c.telnet.close()
    assert c.transport.producer is None


class StuckTransport(StringTransportWithDisconnection):
    """The client never reads: a graceful close never completes."""

    def loseConnection(self) -> None:
        self.disconnecting = True

    def abortConnection(self) -> None:
        self.disconnected = True
        StringTransportWithDisconnection.loseConnection(self)


def test_close_aborts_a_client_that_never_reads_the_last_line():
    c = connect(transport=StuckTransport())
    c.telnet.close("Bye.")
    c.clock.advance(9)
    assert c.transport.connected
    c.clock.advance(2)
    assert c.transport.disconnected
    assert c.app.calls("lost") == [("Bye.",)]
    assert c.clock.getDelayedCalls() == []


def test_close_without_reason_sends_nothing():
    c = connect()
    c.telnet.close()
    assert c.sent() == b""
    assert c.app.calls("lost") == [("closed by server",)]


def test_peer_closing_reports_lost_once():
    c = connect()
    c.transport.loseConnection()
    c.telnet.connectionLost()
    assert c.app.calls("lost") == [("Connection was closed cleanly: Bye..",)]
    c.telnet.write(b"nobody\n")
    assert c.sent() == b""


def test_abort_drops_at_once():
    c = connect()
    c.telnet.abort("client never reads")
    assert c.transport.disconnected
    assert c.app.calls("lost") == [("client never reads",)]
    c.telnet.abort("twice")
    assert len(c.app.calls("lost")) == 1


def test_paused_client_over_the_limit_is_aborted():
    c = connect(TelnetLimits(pending_output=1000))
    c.telnet.pauseProducing()
    c.telnet.write(b"x" * 600)
    assert not c.transport.disconnected
    c.telnet.write(b"x" * 600)
    assert c.transport.disconnected
    assert c.app.calls("lost") == [("output queue full",)]
    assert c.sent() == b"x" * 600


def test_resuming_resets_the_count():
    c = connect(TelnetLimits(pending_output=1000))
    for _ in range(5):
        c.telnet.pauseProducing()
        c.telnet.write(b"x" * 900)
        c.telnet.resumeProducing()
        c.telnet.write(b"x" * 5000)
    assert not c.transport.disconnected


def test_stop_producing_makes_writes_no_ops():
    c = connect()
    c.telnet.stopProducing()
    c.telnet.write(b"x\n")
    assert c.sent() == b""


# -- robustness


def test_exception_in_the_app_is_logged_and_closes(logged):
    c = connect()
    c.app.fail_on_data = True
    c.feed(b"boom\r\n")
    assert not c.transport.connected
    assert c.app.calls("lost") == [("internal error",)]
    assert len(ours(logged)) == 1


def test_fast_path_delivers_chunk_unchanged():
    c = connect()
    c.feed(b"hello", b" world\n")
    assert c.app.events[1:] == [("data", b"hello"), ("data", b" world\n")]


class _Quiet:
    """An app that ignores everything."""

    def __getattr__(self, name):
        return lambda *a: None


def _coalescing() -> tuple[Clock, StringTransport, TelnetConnection, list[bytes]]:
    """A coalescing connection on a Clock, and the list of its transport's writes."""
    clock = Clock()
    transport = StringTransport()
    writes: list[bytes] = []
    real_write = transport.write
    transport.write = lambda data: (writes.append(data), real_write(data))
    proto = TelnetConnection(_Quiet(), clock=clock, coalesce=True)
    proto.makeConnection(transport)
    return clock, transport, proto, writes


def test_coalescing_sends_one_write_per_turn_in_order():
    clock, transport, proto, writes = _coalescing()
    proto.write(b"login: ")
    clock.advance(0)
    # The option requests and the greeting leave in one write, IAC first.
    assert len(writes) == 1 and writes[0].startswith(b"\xff") and writes[0].endswith(b"login: ")
    writes.clear()
    transport.clear()
    proto.write_prepared(b"one\r\n")
    proto.write(b"two\n")
    proto.write_prepared(b"three\r\n")
    assert writes == []
    clock.advance(0)
    assert writes == [b"one\r\ntwo\r\nthree\r\n"]
    proto.write_prepared(b"last\r\n")
    proto.close("bye")
    assert transport.value().endswith(b"last\r\nbye\r\n")


class _Socket:
    """A socket that takes C{room} bytes at most, and records what it took."""

    def __init__(self, room: int) -> None:
        self.room = room
        self.sent: list[bytes] = []

    def send(self, data: bytes) -> int:
        if not self.room:
            raise BlockingIOError()
        taken = data[: self.room]
        self.room -= len(taken)
        self.sent.append(taken)
        return len(taken)


def test_writes_as_the_turn_ends_go_to_the_socket_but_never_overtake():
    from bbs.turns import at_turn_end

    clock, transport, proto, writes = _coalescing()
    clock.advance(0)
    writes.clear()
    # As on a Twisted TCP transport with nothing queued:
    transport.dataBuffer, transport._tempDataLen, proto._queued = b"", 0, False
    sock = proto._socket = _Socket(room=8)
    at_turn_end(clock, lambda: proto.write_prepared(b"0123456789\r\n"))
    clock.advance(0)
    # What the socket did not take waits in the transport...
    assert sock.sent == [b"01234567"] and writes == [b"89\r\n"]
    sock.room = 100  # ...and, while it waits there, nothing goes past it,
    transport.dataBuffer = b"89\r\n"  # (as Twisted keeps it until it can send)
    at_turn_end(clock, lambda: proto.write_prepared(b"next\r\n"))
    clock.advance(0)
    assert sock.sent == [b"01234567"] and writes == [b"89\r\n", b"next\r\n"]
    transport.dataBuffer = b""  # once Twisted sent it all, straight to the socket again
    at_turn_end(clock, lambda: proto.write_prepared(b"last\r\n"))
    clock.advance(0)
    assert sock.sent == [b"01234567", b"last\r\n"]


def test_turn_end_sources_write_first_and_a_failure_holds_up_nobody(logged):
    from bbs.turns import at_turn_end

    clock, transport, proto, writes = _coalescing()
    clock.advance(0)
    writes.clear()

    def broken() -> None:
        raise RuntimeError("a bug in one source")

    proto.write_prepared(b"mine\r\n")
    at_turn_end(clock, broken)
    at_turn_end(clock, lambda: proto.write_prepared(b"the room's\r\n"))
    clock.advance(0)
    # What the sources wrote joins what was waiting: one write, in order.
    assert writes == [b"mine\r\nthe room's\r\n"]
    failures = [e["log_failure"] for e in logged if "log_failure" in e]
    assert len(failures) == 1 and failures[0].check(RuntimeError)
