"""The bot policy: one enum, parsed from --bot-policy, and its outcomes."""

from __future__ import annotations

import pytest
from twisted.python import usage

from bbs.config import Config, Options
from bbs.guard.policy import BotPolicy, outcome


def test_each_policy_parses_from_its_name() -> None:
    assert [BotPolicy.parse(p) for p in ("ban", "shell", "log")] == \
        [BotPolicy.BAN, BotPolicy.SHELL, BotPolicy.LOG]


def test_an_unknown_policy_names_the_choices() -> None:
    with pytest.raises(ValueError, match="'jail': choose one of ban, shell, log"):
        BotPolicy.parse("jail")


def test_the_option_gives_the_enum_or_a_usage_error(tmp_path) -> None:
    options = Options()
    options.parseOptions(["--data", str(tmp_path), "--bot-policy", "log"])
    assert options.config.bot_policy is BotPolicy.LOG
    with pytest.raises(usage.UsageError, match="--bot-policy 'jail': choose one of"):
        Options().parseOptions(["--data", str(tmp_path), "--bot-policy", "jail"])


def test_the_config_holds_the_enum_whichever_it_is_given() -> None:
    assert Config().bot_policy is BotPolicy.BAN
    assert Config(bot_policy="shell").bot_policy is BotPolicy.SHELL


def test_ban_cuts_the_bot_off_at_once() -> None:
    then = outcome(BotPolicy.BAN)
    assert (then.shell, then.ban_on_leaving, then.log_glued_login) == \
        (False, False, True)


def test_shell_holds_the_bot_and_bans_it_when_it_leaves() -> None:
    then = outcome(BotPolicy.SHELL)
    assert (then.shell, then.ban_on_leaving, then.log_glued_login) == \
        (True, True, False)


def test_log_holds_the_bot_and_bans_nobody() -> None:
    then = outcome(BotPolicy.LOG)
    assert (then.shell, then.ban_on_leaving, then.log_glued_login) == \
        (True, False, False)
