"""A terminal type is a name: what a client puts around it never gets further."""

from __future__ import annotations

import re

from tests.e2e.harness import DO, IAC, SB, SE, WILL

ECHO, SGA, TTYPE = 1, 3, 24
IS = 0
SGR = re.compile(rb"\x1b\[[0-9;]*m")  # a colour; the line editor's own \x1b[K is not


def _terminal(name: bytes) -> bytes:
    """What a character-mode client says first: echo and go-ahead from the
    server, and its terminal type."""
    return bytes((IAC, DO, ECHO, IAC, DO, SGA, IAC, WILL, TTYPE, IAC, SB, TTYPE, IS)) \
        + name + bytes((IAC, SE))


def _login(server, nick: str, ttype: bytes, source: str):
    c = server.connect(answer=False, source=source)
    c.send(_terminal(ttype))
    c.expect(b"login: ")
    c.line(nick)
    c.expect(b"joined lobby")
    c.consume()
    return c


def _terms(server) -> dict[str, str]:
    return {
        e["src_ip"]: e["value"] for e in server.events() if e["eventid"] == "cowrie.client.var"
    }


def test_a_terminal_type_with_escapes_and_shell_reaches_the_log_as_a_name(server):
    hostile = _login(server, "hostile", b"xterm\x1b[31m;rm -rf /<script>", "127.0.0.2")
    plain = _login(server, "plain", b"vt100", "127.0.0.3")
    junk = _login(server, "junk", b"\x1b[;<>$`|", "127.0.0.4")
    # The cleaned name still says xterm: colour, as for any xterm.
    hostile.line("/nosuch")
    assert b"\x1b[31mUnknown command" in hostile.expect(b"Unknown command.*\n")
    plain.line("/nosuch")
    assert not SGR.search(plain.expect(b"Unknown command.*\n"))
    junk.line("/nosuch")
    assert not SGR.search(junk.expect(b"Unknown command.*\n"))
    terms = _terms(server)
    assert terms["127.0.0.2"] == "xterm31mrm-rf/script"
    assert terms["127.0.0.3"] == "vt100"
    assert "127.0.0.4" not in terms  # nothing of a name: no terminal type at all
