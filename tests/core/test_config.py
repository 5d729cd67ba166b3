"""Options become a configuration, or a usage error before anything starts."""

from __future__ import annotations

import pytest
from twisted.python import usage

from bbs.config import Options


def parse(*argv: str, tmp_path) -> Options:
    options = Options()
    options.parseOptions(["--data", str(tmp_path / "data"), *argv])
    return options


def test_max_rooms_has_a_default_and_a_range(tmp_path) -> None:
    assert parse(tmp_path=tmp_path).config.max_rooms == 500
    assert parse("--max-rooms", "3", tmp_path=tmp_path).config.max_rooms == 3
    for bad in ("0", "many", "100001"):
        with pytest.raises(usage.UsageError, match="--max-rooms"):
            parse("--max-rooms", bad, tmp_path=tmp_path)


def test_shell_net_timeout_has_a_default_and_a_range(tmp_path) -> None:
    assert parse(tmp_path=tmp_path).config.shell_net_timeout == 5.0
    assert parse("--shell-net-timeout", "1s", tmp_path=tmp_path).config.shell_net_timeout == 1.0
    for bad in ("0s", "2m", "soon"):
        with pytest.raises(usage.UsageError, match="--shell-net-timeout"):
            parse("--shell-net-timeout", bad, tmp_path=tmp_path)
