"""Options of the operations side: checked before anything starts."""

from __future__ import annotations

import pytest
from twisted.python import usage

from bbs.config import Options


def parse(tmp_path, *args: str):
    options = Options()
    options.parseOptions(["--data", str(tmp_path / "data"), *args])
    return options.config


def test_ipv6_limit_prefix_defaults_to_the_64(tmp_path):
    assert parse(tmp_path).ipv6_limit_prefix == 64
    assert parse(tmp_path, "--ipv6-limit-prefix", "128").ipv6_limit_prefix == 128


@pytest.mark.parametrize("value, problem", [
    ("0", "must be from 16 to 128"), ("129", "must be from 16 to 128"), ("/64", "not a number"),
])
def test_a_bad_ipv6_limit_prefix_is_a_usage_error(tmp_path, value, problem):
    with pytest.raises(usage.UsageError, match=f"--ipv6-limit-prefix.*{problem}"):
        parse(tmp_path, "--ipv6-limit-prefix", value)
