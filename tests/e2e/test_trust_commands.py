"""What a person sees of the commands in a real `telnet` (in `tmux`): only
the ones they may run, in a /help that reads well in their window."""

from __future__ import annotations

import pytest

from tests.e2e.tmux import TelnetWindow

SYSOP_ONLY = ("/kick", "/ban", "/unban", "/bans", "/mute", "/unmute", "/wall",
              "/shutdown", "/bots")


@pytest.fixture
def window(boss_server):
    opened: list[TelnetWindow] = []

    def open_window(nick: str, password: str | None = None, width: int = 80) -> TelnetWindow:
        w = TelnetWindow(boss_server.port, width, 100)
        opened.append(w)
        return w.log_in(nick, password)

    yield open_window
    for w in opened:
        w.close()


def listing(w: TelnetWindow) -> list[str]:
    """What Tab at a lone '/' lists (over as many rows as it takes)."""
    w.type("/")
    w.keys("Tab")
    rows = w.wait(r"/who\s[\s\S]*\[lobby\] /$")
    start = max(i for i, row in enumerate(rows) if row.startswith("/away"))
    end = max(i for i, row in enumerate(rows) if row.startswith("[lobby] /"))
    return " ".join(rows[start:end]).split()


def test_tab_offers_sysop_commands_only_to_sysops(window):
    person = window("alice")
    offered = listing(person)
    assert "/msg" in offered and "/quit" in offered
    assert not set(SYSOP_ONLY) & set(offered), offered
    boss = window("boss", "boss-password-1")
    assert set(SYSOP_ONLY) <= set(listing(boss))


@pytest.mark.parametrize("width", [80, 40])
def test_a_sysops_help_reads_in_columns(window, width):
    boss = window("boss", "boss-password-1", width=width)
    boss.type("/help")
    boss.keys("Enter")
    rows = boss.wait(r"/who \[ROOM\]")
    rows = rows[next(i for i, r in enumerate(rows) if r.startswith("  /away")):]
    rows = rows[: next(i for i, r in enumerate(rows) if r.startswith("[lobby]"))]
    rows = [r for r in rows if r.strip()]
    usages = [r for r in rows if r.startswith("  /")]
    summaries = [r for r in rows if not r.startswith("  /")]
    assert {u.split()[0] for u in usages} >= set(SYSOP_ONLY)
    # Nothing wrapped at the terminal's edge: every other row is a summary
    # at the one summary column, not a stray piece of a usage or summary.
    assert len({len(r) - len(r.lstrip()) for r in summaries}) <= 1, summaries
    assert all(len(r) - len(r.lstrip()) > 2 for r in summaries), summaries
    ban = next(r for r in rows if r.startswith("  /ban"))
    assert ban == "  /ban NICK|IP|CIDR [DURATION] [REASON]"
