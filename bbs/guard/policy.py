"""What happens to a trapped bot: the sysop's policy and its outcomes.

One enum for the policy (C{--bot-policy}), one function for what each means,
so that the session and the honeypot ask the same question the same way.
"""

from __future__ import annotations

import enum

import attrs

__all__ = ["BotPolicy", "Outcome", "outcome"]


class BotPolicy(enum.Enum):
    """C{ban} it now; hold it in the fake C{shell} and ban it when it leaves;
    or hold it in the fake shell to C{log} what it does, banning nobody."""

    BAN = "ban"
    SHELL = "shell"
    LOG = "log"

    @classmethod
    def parse(cls, text: str) -> BotPolicy:
        """The policy called C{text}, or a ValueError that names the choices."""
        try:
            return cls(text)
        except ValueError:
            choices = ", ".join(p.value for p in cls)
            raise ValueError(f"{text!r}: choose one of {choices}") from None


@attrs.frozen
class Outcome:
    """What a policy does to a bot caught by a trap."""

    shell: bool  # it is held in the fake shell (never the chat); else banned and cut off at once
    ban_on_leaving: bool  # its network is banned when it leaves the fake shell
    # The user name and password it glued into one line are logged as a failed
    # login: under the fake shell the shell's own login logs them instead.
    log_glued_login: bool


_OUTCOMES = {
    BotPolicy.BAN: Outcome(shell=False, ban_on_leaving=False, log_glued_login=True),
    BotPolicy.SHELL: Outcome(shell=True, ban_on_leaving=True, log_glued_login=False),
    BotPolicy.LOG: Outcome(shell=True, ban_on_leaving=False, log_glued_login=False),
}


def outcome(policy: BotPolicy) -> Outcome:
    """What C{policy} does to a trapped bot."""
    return _OUTCOMES[policy]
