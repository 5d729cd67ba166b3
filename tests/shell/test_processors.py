"""The processors the shell can claim to be, and the names the options accept."""

from __future__ import annotations

from bbs.arches import ARCH_NAMES
from bbs.shell.processors import ARCHES


def test_every_architecture_the_options_accept_is_one_the_shell_can_be() -> None:
    """--shell-arch is checked against bbs.arches, the shell builds from processors.ARCHES."""
    assert tuple(ARCHES) == ARCH_NAMES
