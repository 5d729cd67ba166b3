"""A real `telnet` in `tmux` against the real server: the terminal experience."""

from __future__ import annotations

import pytest
from wcwidth import wcswidth

from tests.e2e.tmux import TelnetWindow


@pytest.fixture
def window(server):
    opened: list[TelnetWindow] = []

    def open_window(nick: str, width: int = 80, height: int = 24) -> TelnetWindow:
        w = TelnetWindow(server.port, width, height)
        opened.append(w)
        return w.log_in(nick)

    yield open_window
    for w in opened:
        w.close()


def peer(server, nick: str = "peer"):
    c = server.connect(answer=False)
    c.expect(b"login: ")
    c.line(nick)
    c.expect(b"joined lobby")
    c.consume()
    return c


def test_backspace_history_left_ctrl_u_and_tab(server, window):
    w = window("alice")
    p = peer(server)
    w.type("hellp")
    w.keys("BSpace")
    w.type("o")
    w.keys("Enter")
    p.expect(rb"<alice> hello\r\n")
    w.keys("Up")
    w.wait(r"\[lobby\] hello$")
    w.keys("Enter")
    p.consume()
    p.expect(rb"<alice> hello\r\n")
    w.type("wrld")
    w.keys("Left", "Left", "Left")
    w.type("o")
    w.keys("Enter")
    p.expect(rb"<alice> world\r\n")
    w.type("garbage")
    w.keys("C-u")
    w.type("clean")
    w.keys("Enter")
    text = p.expect(rb"<alice> clean\r\n")
    assert b"garbage" not in text
    w.type("/jo")
    w.keys("Tab")
    w.wait(r"\[lobby\] /join$")
    w.type("den")
    w.keys("Enter")
    w.wait(r"\[den\]$")
    p.expect(rb"alice went to den")


def test_a_line_arriving_mid_typing_leaves_the_input_intact(server, window):
    w = window("alice")
    p = peer(server)
    w.type("half typed")
    p.line("interruption")
    w.wait("<peer> interruption")
    rows = [r for r in w.screen() if r.strip()]
    assert rows[-1] == "[lobby] half typed"
    assert rows[-2].endswith("<peer> interruption")
    assert w.cursor()[0] == len("[lobby] half typed")
    w.type(" and done")
    w.keys("Enter")
    p.expect(rb"<alice> half typed and done\r\n")


def test_wide_characters_delete_one_keystroke_each(server, window):
    w = window("alice")
    p = peer(server)
    w.type("héllo 日本語")
    w.wait("日本語")
    w.keys("BSpace", "BSpace")
    w.wait(r"\[lobby\] héllo 日$")
    w.type("本")
    w.keys("Enter")
    text = p.expect("<alice> héllo 日本\r\n")
    assert "語".encode() not in text


def test_a_narrow_window_never_gets_a_line_wider_than_it(server, window):
    w = window("alice", width=40)
    p = peer(server)
    p.line("a long line of chat that certainly does not fit into forty columns "
           "and has a verylongwordthatmustbesplitbecauseitislongerthanthewholeline")
    w.wait("whole")
    w.keys("Enter")
    w.type("/help")
    w.keys("Enter")
    w.wait("/quit")
    for row in w.screen(joined=True):
        assert wcswidth(row.rstrip()) <= 40, row


def test_a_netcat_style_client_sees_no_echo_and_no_escapes(server, window):
    w = window("alice")
    nc = peer(server, "netcat")
    nc.line("ping from nc")
    nc.expect(rb"<netcat> ping from nc\r\n")
    w.wait("<netcat> ping from nc")
    assert nc.text.count(b"ping from nc") == 1
    assert b"\x1b" not in nc.raw
