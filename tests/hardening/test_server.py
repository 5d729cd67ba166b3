"""Hostile clients against the real twistd server, over loopback.

For each offence: the offender's fate (closed, throttled or ignored), the
server's memory growth (its RSS, a generous bound), and proof that two
ordinary users still chat promptly -- one says a line, the other must see it
within L{PROMPT} seconds.  Every loop is bounded in count and time.
"""

from __future__ import annotations

import re
import select
import socket
import time

import pytest

from tests.e2e.harness import Server
from tests.hardening.stack import (
    DO, DONT, ECHO, IAC, NAWS, NEW_ENVIRON, SB, SE, SGA, TTYPE, WILL, WONT, cmd, naws, sub,
)
from tests.hardening.wire import (
    MEMORY_BOUND, PROMPT, Addresses, Probe, RawClient, drain, events, expect_count, login,
    reset, rss,
)

KB = 1024
MB = 1024 * KB
CHARACTER_MODE = cmd(DO, ECHO) + cmd(DO, SGA) + cmd(WILL, NAWS) + cmd(WONT, TTYPE)


@pytest.fixture
def server(tmp_path):
    srv = Server(tmp_path).start()
    try:
        yield srv
    finally:
        if srv.proc.returncode is None:
            srv.stop()
    assert "Traceback" not in "".join(srv.output)


class Watch:
    """Memory and chat health of the server around one offence."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.probe = Probe(server)
        self.probe.check()
        self.before = rss(server)

    def healthy(self, offence: str) -> None:
        latency = self.probe.check(PROMPT)
        growth = rss(self.server) - self.before
        print(f"\n[hardening] {offence}: RSS growth {growth / MB:+.1f} MB, "
              f"chat latency {max(self.probe.latencies) * 1000:.0f} ms (worst)")
        assert growth < MEMORY_BOUND
        assert latency < PROMPT


def test_unterminated_subnegotiation(server):
    watch = Watch(server)
    addr = Addresses(10)
    held = login(server, addr())
    held.send(bytes((IAC, SB, TTYPE)) + b"x" * (3 * KB))  # within 4 KB: held, ignored
    endless = RawClient(server.port, addr())
    endless.expect(b"login: ")
    endless.send(bytes((IAC, SB, 99)) + b"y" * (64 * KB))
    assert endless.closed()
    assert b"subnegotiation too long" in endless.raw
    watch.healthy("unterminated subnegotiation")
    held.send(bytes((IAC, SE)))
    held.line("after a long subnegotiation")
    watch.probe.listener.expect(b"after a long subnegotiation")


def test_bad_iac_and_foreign_protocol_hellos(server):
    watch = Watch(server)
    addr = Addresses(11)
    cases = [
        (bytes((IAC, 0x41)) + b"x\r\n", b"protocol error", "Telnet protocol error from {ip}"),
        (b"GET /shell?cd+/tmp HTTP/1.1\r\n\r\n", b"not a web server", "{ip} spoke http"),
        (b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03", b"TLS is not spoken", "{ip} spoke tls"),
        (b"SSH-2.0-Go\r\n", b"not an SSH server", "{ip} spoke ssh"),
    ]
    for opening, line, logline in cases:
        ip = addr()
        bad = RawClient(server.port, ip)
        bad.send(opening)
        assert bad.closed(), opening
        assert line in bad.raw
        server.wait_for_log(re.escape(logline.format(ip=ip)))
    # Harmless IAC commands are ignored: NOP, DM, BRK, GA, a stray SE.
    fine = login(server, addr())
    fine.send(bytes((IAC, 241, IAC, 242, IAC, 243, IAC, 249, IAC, SE)) + b"still here\r\n")
    watch.probe.listener.expect(b"still here")
    watch.healthy("bad IAC and foreign hellos")
    server.stop()
    log = "".join(server.output)
    for n in range(1, 5):
        ip = f"127.11.0.{n + 1}"
        assert len(re.findall(rf"\b{re.escape(ip)}\b", log)) == 1, ip  # one line each
    assert "Traceback" not in log


def test_negotiation_storm(server):
    watch = Watch(server)
    storm = RawClient(server.port, Addresses(12)())
    storm.expect(b"login: ")
    opening = len(storm.raw)
    requests = b"".join(cmd(verb, option) for verb in (DO, WILL, DONT, WONT) * 500
                        for option in (ECHO, SGA, NAWS, TTYPE, 34, 39, 200))
    storm.send(requests)
    storm.send(b"\r\n")  # a guest, then a line: proof it was not disconnected
    storm.expect(b"joined lobby")
    answers = storm.raw[opening:].count(bytes((IAC,)))
    assert answers <= 100 + 1  # the negotiation limit, plus one TTYPE SEND
    assert answers <= requests.count(bytes((IAC,)))
    storm.send(b"storm over\r\n")
    watch.probe.listener.expect(b"storm over")
    watch.healthy("negotiation storm")


def test_absurd_naws_and_a_naws_storm(server):
    watch = Watch(server)
    client = RawClient(server.port, Addresses(13)())
    client.send(CHARACTER_MODE + naws(65535, 65535))
    client.expect(b"login: ")
    client.send(b"\r")
    client.expect(b"joined lobby")
    client.send(b"w" * 400)  # a long line being typed: every redraw would repeat it
    client.expect(b"w" * 300)
    before = len(client.raw)
    storm = b"".join(naws(60 + n % 2, 24) for n in range(5000)) + naws(0, 0) + naws(1, 1)
    client.send(storm)  # 45 KB of window changes
    client.send(b"\x15naws storm over\r")
    watch.probe.listener.expect(b"naws storm over")
    client.expect(b"naws storm over")
    assert len(client.raw) - before < 16 * KB  # a few redraws, not 5000
    watch.healthy("absurd NAWS and NAWS storm")


def test_huge_terminal_type_and_new_environ(server):
    watch = Watch(server)
    ip = Addresses(14)()
    client = RawClient(server.port, ip)
    client.send(cmd(WILL, TTYPE) + cmd(WILL, NEW_ENVIRON))
    client.expect(bytes((IAC, SB, TTYPE, 1, IAC, SE)))
    junk = b"VT100\x1b]2;owned\x07\r\n" + bytes(range(256)) * 12
    client.send(sub(TTYPE, b"\0" + junk))
    client.send(sub(NEW_ENVIRON, b"\0\0USER\x01-f root\0" + b"E" * 3000))
    client.send(b"\r\n")
    client.expect(b"joined lobby")
    client.send(b"typed after the junk\r\n")
    watch.probe.listener.expect(b"typed after the junk")
    watch.healthy("huge TTYPE and NEW-ENVIRON")
    mine = [e for e in events(server) if e.get("src_ip") == ip]
    variables = {e["name"]: e["value"] for e in mine if e["eventid"] == "cowrie.client.var"}
    term = variables["TERM"]
    assert term.startswith("VT100") and len(term) <= 40
    assert term.isascii() and term.isprintable()
    # The bypass is logged as tried, and the variable reached no login: a guest.
    assert variables["USER"] == "-f root"
    assert any(e["eventid"] == "cowrie.telnet.exploit_attempt" for e in mine)
    login = next(e for e in mine if e["eventid"] == "bbs.user.login")
    assert login["guest"] and login["nick"].startswith("guest")


def test_long_line(server):
    watch = Watch(server)
    client = login(server, Addresses(15)(), answer=False)
    watch.probe.listener.consume()
    client.send(b"a" * (60 * KB) + b"\r\nafter the long line\r\n")  # within the input burst
    client.expect(b"Line too long: cut to 1024 characters.")
    text = watch.probe.listener.expect(b"after the long line")
    said = re.search(rb"<guest\d+> (a[a\r\n ]*)\r\n<", text).group(1)
    assert said.replace(b"\r\n  ", b"") == b"a" * 1024  # wrapped for 80 columns
    watch.healthy("60 KB line")


def test_escape_sequence_flood_is_throttled(server):
    watch = Watch(server)
    client = RawClient(server.port, Addresses(16)(), sndbuf=16 * KB)
    client.expect(b"login: ")
    client.send(b"\r\n")
    client.expect(b"joined lobby")
    flood = b"\x1b[" + b"1" * MB
    taken = client.flood(flood, 1.5)
    watch.probe.check()  # mid-flood
    taken += client.flood(flood[taken:], 1.5)
    # 1 MB offered in 3 s: the 64 KB burst, 16 KB/s, and the socket buffers.
    assert 64 * KB < taken < 700 * KB, taken
    watch.healthy("ESC [ + 1 MB of digits")
    reset(client.sock)


def test_invalid_and_split_utf8(server):
    watch = Watch(server)
    client = login(server, Addresses(17)(), answer=False)
    client.send(b"caf\xc3")
    client.send(b"\xa9 \xfe\xc0\xaf\xed\xa0\x80 fine \xe6\x97")
    client.send(b"\xa5\r\n")
    text = watch.probe.listener.expect("café  fine 日".encode())
    assert b"\xef\xbf\xbd" not in text  # no U+FFFD: bad bytes are dropped, not shown
    watch.healthy("invalid and split UTF-8")


def test_nul_and_bare_cr(server):
    watch = Watch(server)
    client = login(server, Addresses(18)(), answer=False)
    client.send(b"nul\0line\rbare cr\r\0cr nul\r\n")
    listener = watch.probe.listener
    listener.expect(b"nulline")
    listener.expect(b"bare cr")
    listener.expect(b"cr nul")
    watch.healthy("NUL and bare CR")


def test_a_client_that_never_reads_is_dropped(server):
    watch = Watch(server)
    addr = Addresses(19)
    sloth = RawClient(server.port, addr(), rcvbuf=4 * KB)
    sloth.expect(b"login: ")
    sloth.send(b"\r\n")
    sloth.expect(b"joined lobby")
    sloth.send(b"/join flood\r\n")
    sloth.expect(b"joined flood")  # and from now on it never reads
    talkers = [login(server, addr()) for _ in range(16)]
    for t in talkers:
        t.line("/join flood")
        t.expect(b"joined flood")
    # Within the chat flood limit (5 lines/s, 10 at once) for each talker.
    line = "flood " + "z" * 1000
    due = {t: 0.0 for t in talkers}
    sent = {t: 0 for t in talkers}
    dropped = False
    end = time.monotonic() + 40
    while not dropped and time.monotonic() < end:
        now = time.monotonic()
        for t in talkers:
            if now >= due[t]:
                t.line(f"{sent[t]} {line}")
                sent[t] += 1
                due[t] = now + (0.0 if sent[t] < 8 else 0.25)
        readable, _, _ = select.select([t.sock for t in talkers], [], [], 0.05)
        for t in talkers:
            if t.sock in readable:
                drain(t)
        try:
            server.wait_for_log(r"is not reading; dropping it", deadline=0.01)
            dropped = True
        except AssertionError:
            pass
    assert dropped, f"{sum(sent.values())} lines of 1 KB and the non-reader is still there"
    assert sloth.closed()
    watch.healthy(f"non-reader ({sum(sent.values())} KB of chat sent at it)")
    for t in talkers:
        t.close()


def test_300_abrupt_disconnects_leave_no_ghosts(server):
    watch = Watch(server)
    addr = Addresses(20)
    listener = watch.probe.listener
    listener.consume()
    logged_in = 0
    for batch in range(6):
        clients = [RawClient(server.port, addr()) for _ in range(50)]
        for n, c in enumerate(clients):
            phase = n % 4
            if phase >= 1:
                c.expect(b"login: ")
            if phase >= 2:
                c.send(b"\r\n")
                c.expect(b"joined lobby")
                logged_in += 1
            if phase == 3:
                c.send(b"half a line with no end")
        for c in clients:
            reset(c.sock)
    expect_count(listener, b" left", logged_in, 15)
    assert watch.probe.who_count() == 2
    watch.healthy("300 abrupt disconnects")
    sessions = events(server)
    opened = sum(e["eventid"] == "cowrie.session.connect" for e in sessions)
    closed = sum(e["eventid"] == "cowrie.session.closed" for e in sessions)
    assert opened - closed == 2  # the two probe users, nobody else


def test_1000_connection_attempts_from_one_address(server):
    watch = Watch(server)
    source = Addresses(21)()
    # Twenty-five held open at once: the first five get telnet negotiation,
    # every other one a one-line refusal before any negotiation.
    held = []
    for _ in range(25):
        sock = socket.socket()
        sock.bind((source, 0))
        sock.settimeout(5)
        sock.connect(("127.0.0.1", server.port))
        held.append(sock)
    firsts = [sock.recv(200) for sock in held]
    admitted = sum(first.startswith(b"\xff") for first in firsts)
    refusals = sum(first.startswith((b"Too many connections", b"You are connecting too fast"))
                   for first in firsts)
    assert admitted == 5
    assert admitted + refusals == 25
    for sock in held:
        sock.close()
    attempts = refused = 0
    deadline = time.monotonic() + 30
    while attempts < 1000 and time.monotonic() < deadline:
        batch = []
        for _ in range(25):
            sock = socket.socket()
            sock.bind((source, 0))
            sock.settimeout(0.25)
            try:
                sock.connect(("127.0.0.1", server.port))
            except OSError:  # refused, or the SYN dropped on a full accept queue:
                sock.close()  # acceptable fates for a connection storm
                refused += 1
            else:
                batch.append(sock)
            attempts += 1
        for n, sock in enumerate(batch):
            if n % 2:
                reset(sock)
            else:
                sock.close()
        if attempts == 500:
            watch.probe.check()  # mid-storm
    assert attempts == 1000
    assert watch.probe.who_count() == 2
    watch.healthy(f"1000 connection attempts from one address ({refused} not accepted)")
