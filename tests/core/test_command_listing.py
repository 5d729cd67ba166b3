"""What /help and tab completion show: only what the user may run, laid out
to read at the width of the user's window."""

from __future__ import annotations

import pytest

from bbs.commands.catalog import load
from bbs.commands.chat import command_table
from bbs.terminal.render import render
from tests.core.test_commands import ctx, run, text_of
from tests.core.test_defences import World

registry = load()
SYSOP_ONLY = sorted(f"/{c.name}" for c in registry if c.sysop)
ROWS = [(c.usage, c.summary) for c in registry]


def shown(sysop: bool, width: int) -> list[str]:
    """A /help listing as the user's terminal shows it."""
    (reply,) = run("/help", ctx(sysop=sysop, width=width))
    return render(text_of(reply), width, False).split("\n")


@pytest.mark.parametrize("width", [80, 40])
@pytest.mark.parametrize("sysop", [False, True])
def test_help_never_wraps_mid_column(sysop, width):
    lines = shown(sysop, width)
    lines = lines[next(i for i, line in enumerate(lines) if line.startswith("  /")):]
    assert all(len(line) <= width for line in lines), lines
    usages = [line for line in lines if line.startswith("  /")]
    summaries = [line for line in lines if not line.startswith("  /")]
    assert len(usages) == sum(1 for c in registry if sysop or not c.sysop)
    # Every line that is not a usage is a summary, at the one summary column.
    margins = {len(line) - len(line.lstrip()) for line in summaries}
    assert len(margins) <= 1 and min(margins, default=3) > 2, summaries


def test_at_80_columns_summaries_sit_beside_usages_and_long_usages_stand_alone():
    lines = shown(True, 80)
    away = next(line for line in lines if line.startswith("  /away"))
    column = away.index("Mark yourself away")
    assert column <= 2 + 22 + 2  # a bounded usage column, not the longest usage
    ban = lines.index("  /ban NICK|IP|CIDR [DURATION] [REASON]")
    assert lines[ban + 1] == " " * column + lines[ban + 1].lstrip()
    assert lines[ban + 1].lstrip().startswith("Ban a user's address")


def test_at_40_columns_each_summary_goes_under_its_usage():
    lines = shown(False, 40)
    at = lines.index("  /away [TEXT]")
    assert lines[at + 1] == "    Mark yourself away, or back."


def test_a_table_keeps_each_summary_whole():
    for width in (30, 40, 60, 80, 132):
        lines = command_table(ROWS, width)
        text = " ".join(" ".join(lines).split())
        for usage, summary in ROWS:
            assert f"{usage} {summary}" in text


def test_help_hides_sysop_commands_from_others():
    listing = "\n".join(shown(False, 80))
    for name in SYSOP_ONLY:
        assert f"  {name}" not in listing


def test_tab_offers_only_the_commands_a_user_may_run():
    w = World()
    person, _ = w.guest("192.0.2.10")
    offered = person._complete("/")
    assert "/help" in offered and "/msg" in offered
    assert not set(SYSOP_ONLY) & set(offered)
    assert person._complete("/ki") == [] and person._complete("/shut") == []
    person.sysop = True
    assert set(SYSOP_ONLY) <= set(person._complete("/"))
    assert person._complete("/ki") == ["/kick"]
