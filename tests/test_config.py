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


# Options of the operations side.


def parse_config(tmp_path, *args: str):
    options = Options()
    options.parseOptions(["--data", str(tmp_path / "data"), *args])
    return options.config


def test_ipv6_limit_prefix_defaults_to_the_64(tmp_path):
    assert parse_config(tmp_path).ipv6_limit_prefix == 64
    assert parse_config(tmp_path, "--ipv6-limit-prefix", "128").ipv6_limit_prefix == 128


@pytest.mark.parametrize("value, problem", [
    ("0", "must be from 16 to 128"), ("129", "must be from 16 to 128"), ("/64", "not a number"),
])
def test_a_bad_ipv6_limit_prefix_is_a_usage_error(tmp_path, value, problem):
    with pytest.raises(usage.UsageError, match=f"--ipv6-limit-prefix.*{problem}"):
        parse_config(tmp_path, "--ipv6-limit-prefix", value)


def test_dead_peer_timeout_defaults_to_five_minutes(tmp_path):
    assert parse_config(tmp_path).dead_peer_timeout == 300.0
    assert parse_config(tmp_path, "--dead-peer-timeout", "90s").dead_peer_timeout == 90.0


@pytest.mark.parametrize("value, problem", [
    ("0s", "longer than zero"), ("2h", "must be from 1s to 1h"),
    ("perm", "give a length of time"), ("soon", "Not a duration"),
])
def test_a_bad_dead_peer_timeout_is_a_usage_error(tmp_path, value, problem):
    with pytest.raises(usage.UsageError, match=f"--dead-peer-timeout.*{problem}"):
        parse_config(tmp_path, "--dead-peer-timeout", value)
