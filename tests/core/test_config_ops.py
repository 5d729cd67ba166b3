"""Options of the operations side: checked before anything starts."""

from __future__ import annotations

import pytest
from twisted.internet.address import IPv4Address
from twisted.internet.task import Clock
from twisted.python import usage

from bbs.config import Config, Options
from bbs.server import BBS
from bbs.service import TelnetFactory
from bbs.telnet.protocol import TelnetConnection


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


def test_dead_peer_timeout_defaults_to_five_minutes(tmp_path):
    assert parse(tmp_path).dead_peer_timeout == 300.0
    assert parse(tmp_path, "--dead-peer-timeout", "90s").dead_peer_timeout == 90.0


@pytest.mark.parametrize("value, problem", [
    ("0s", "longer than zero"), ("2h", "must be from 1s to 1h"),
    ("perm", "give a length of time"), ("soon", "Not a duration"),
])
def test_a_bad_dead_peer_timeout_is_a_usage_error(tmp_path, value, problem):
    with pytest.raises(usage.UsageError, match=f"--dead-peer-timeout.*{problem}"):
        parse(tmp_path, "--dead-peer-timeout", value)


def test_every_telnet_connection_gets_the_dead_peer_timeout():
    bbs = BBS(Config(dead_peer_timeout=42.0), pool=None, events=None, clock=Clock())
    factory = TelnetFactory(bbs)
    telnet = factory.buildProtocol(IPv4Address("TCP", "192.0.2.1", 4000))
    assert isinstance(telnet, TelnetConnection)
    assert telnet.limits.dead_peer == 42.0 == factory.limits.dead_peer
