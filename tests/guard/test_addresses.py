"""Addresses and networks: one host, one identity."""

from __future__ import annotations

import ipaddress

import pytest

from bbs.guard import addresses as addresses_module
from bbs.guard.addresses import (
    NetworkSet,
    NetworkTable,
    ban_network,
    ban_target,
    normalize_ip,
    parse_network,
)


class TestNormalizeIp:
    def test_ipv4(self) -> None:
        assert normalize_ip("192.0.2.7") == ipaddress.IPv4Address("192.0.2.7")

    def test_ipv6_is_compressed_canonically(self) -> None:
        assert str(normalize_ip("2001:0db8:0000::0001")) == "2001:db8::1"

    def test_mapped_ipv4_is_unmapped(self) -> None:
        assert normalize_ip("::ffff:1.2.3.4") == ipaddress.IPv4Address("1.2.3.4")
        mapped = ipaddress.IPv6Address("::ffff:10.0.0.1")
        assert normalize_ip(mapped) == ipaddress.IPv4Address("10.0.0.1")

    def test_zone_id_is_stripped(self) -> None:
        address = normalize_ip("fe80::1%eth0")
        assert address == ipaddress.IPv6Address("fe80::1")
        assert str(address) == "fe80::1"
        scoped = ipaddress.IPv6Address("fe80::2%3")
        assert str(normalize_ip(scoped)) == "fe80::2"

    def test_brackets_and_blanks(self) -> None:
        assert str(normalize_ip(" [2001:db8::5] ")) == "2001:db8::5"
        assert str(normalize_ip(" [192.0.2.9] ")) == "192.0.2.9"

    @pytest.mark.parametrize("text", ["", "1.2.3", "1.2.3.256", "example.com", "::g",
                                      "01.2.3.4", "127.000.0.1", "0x7f.0.0.1", "1.2.3.4.5"])
    def test_not_an_address(self, text: str) -> None:
        with pytest.raises(ValueError, match="not an IP address"):
            normalize_ip(text)


class TestParseNetwork:
    def test_host_bits_are_ignored(self) -> None:
        assert str(parse_network("10.1.2.3/8")) == "10.0.0.0/8"

    def test_single_address(self) -> None:
        assert str(parse_network("10.1.2.3")) == "10.1.2.3/32"
        assert str(parse_network("2001:db8::1")) == "2001:db8::1/128"

    def test_mapped_network_is_unmapped(self) -> None:
        assert str(parse_network("::ffff:10.0.0.0/104")) == "10.0.0.0/8"
        assert str(parse_network("::ffff:1.2.3.4")) == "1.2.3.4/32"

    def test_wide_mapped_prefix_stays_ipv6(self) -> None:
        assert str(parse_network("::ffff:0:0/95")) == "::fffe:0:0/95"

    def test_zone_in_cidr(self) -> None:
        assert str(parse_network("fe80::1%eth0/64")) == "fe80::/64"

    @pytest.mark.parametrize("text", ["10.0.0.0/33", "10.0.0.0/x", "nick", "/8"])
    def test_bad(self, text: str) -> None:
        with pytest.raises(ValueError, match="not an IP address or network"):
            parse_network(text)


class TestBanTarget:
    @pytest.mark.parametrize(
        "text, expected",
        [
            ("192.0.2.7", ("net", "192.0.2.7/32")),
            ("192.0.2.7/24", ("net", "192.0.2.0/24")),
            ("2001:DB8::1", ("net", "2001:db8::1/128")),
            ("2001:db8::1/32", ("net", "2001:db8::/32")),
            ("::ffff:192.0.2.7", ("net", "192.0.2.7/32")),
            ("::ffff:192.0.2.7/120", ("net", "192.0.2.0/24")),
            ("::ffff:192.168.0.0/112", ("net", "192.168.0.0/16")),
            ("2001:db8:1::/48", ("net", "2001:db8:1::/48")),
            ("Mallory", ("nick", "Mallory")),
            ("root", ("nick", "root")),
        ],
    )
    def test_as_the_store_spells_it(self, text: str, expected: tuple[str, str]) -> None:
        assert ban_target(text) == expected

    @pytest.mark.parametrize(
        "text, message",
        [
            ("192.0.2.7/33", "Not a valid network"),
            ("10.0.0.0/40", "Not a valid network"),
            ("::ffff:192.0.2.7/64", "Not a valid network"),
            ("not a nick!", "Not an address, network or nickname"),
            ("x", "Not an address, network or nickname"),
            ("1.2.3.256", "Not an address, network or nickname"),
        ],
    )
    def test_refused(self, text: str, message: str) -> None:
        with pytest.raises(ValueError, match=message):
            ban_target(text)

    def test_one_ipv6_host_widens_to_the_ban_prefix(self) -> None:
        assert ban_target("2001:db8::1:2:3:4", ipv6_prefix=64) == ("net", "2001:db8::/64")
        assert ban_target("2001:db8::1/128", ipv6_prefix=64) == ("net", "2001:db8::/64")

    def test_only_one_host_widens(self) -> None:
        assert ban_target("2001:db8:1::/48", ipv6_prefix=64) == ("net", "2001:db8:1::/48")
        assert ban_target("::ffff:1.2.3.4", ipv6_prefix=64) == ("net", "1.2.3.4/32")
        assert ban_target("1.2.3.4", ipv6_prefix=64) == ("net", "1.2.3.4/32")
        assert ban_target("Mallory", ipv6_prefix=64) == ("nick", "Mallory")


class TestBanNetwork:
    def test_ipv4_host_alone(self) -> None:
        assert str(ban_network("192.0.2.7", 64)) == "192.0.2.7/32"

    def test_ipv6_host_its_prefix(self) -> None:
        assert str(ban_network("2001:db8::1:2:3:4", 64)) == "2001:db8::/64"
        assert str(ban_network("2001:db8::1", 128)) == "2001:db8::1/128"

    def test_mapped_and_zoned_hosts_are_normalised(self) -> None:
        assert str(ban_network("::ffff:1.2.3.4", 64)) == "1.2.3.4/32"
        assert str(ban_network("fe80::1%eth0", 128)) == "fe80::1/128"

    def test_not_an_address(self) -> None:
        with pytest.raises(ValueError, match="not an IP address"):
            ban_network("mallory", 64)


class TestNetworkSet:
    def test_membership(self) -> None:
        trusted = NetworkSet(["10.0.0.0/8", "192.168.1.0/24", "2001:db8::/32", "1.2.3.4"])
        assert "10.200.3.4" in trusted
        assert "192.168.1.77" in trusted
        assert "192.168.2.1" not in trusted
        assert "1.2.3.4" in trusted
        assert "1.2.3.5" not in trusted
        assert "2001:db8:ffff::1" in trusted
        assert "2001:db9::1" not in trusted
        assert len(trusted) == 4

    def test_answers_stay_right_when_asked_again(self) -> None:
        # The set remembers its answers to strings, a bounded number of them.
        trusted = NetworkSet(["10.0.0.0/8"])
        addresses = [f"{first}.0.{n // 256}.{n % 256}" for n in range(3000) for first in (10, 11)]
        expected = [address.startswith("10.") for address in addresses]
        assert [address in trusted for address in addresses] == expected
        assert [address in trusted for address in addresses] == expected
        assert [ipaddress.ip_address(address) in trusted for address in addresses] == expected
        assert len(trusted._answers) <= addresses_module._ANSWERS_KEPT

    def test_mapped_peer_matches_ipv4_network(self) -> None:
        assert "::ffff:10.1.1.1" in NetworkSet(["10.0.0.0/8"])

    def test_what_is_not_an_address_is_not_in_it(self) -> None:
        assert "not an address" not in NetworkSet(["0.0.0.0/0"])
        assert "" not in NetworkSet(["0.0.0.0/0"])

    def test_mapped_network_matches_ipv4_peer(self) -> None:
        assert "10.1.1.1" in NetworkSet(["::ffff:10.0.0.0/104"])

    def test_versions_do_not_mix(self) -> None:
        everything_v4 = NetworkSet(["0.0.0.0/0"])
        assert "8.8.8.8" in everything_v4
        assert "2001:db8::1" not in everything_v4

    def test_empty(self) -> None:
        assert "127.0.0.1" not in NetworkSet()
        assert not NetworkSet()

    def test_non_address_objects_are_not_members(self) -> None:
        assert None not in NetworkSet(["0.0.0.0/0"])

    def test_bad_entry(self) -> None:
        with pytest.raises(ValueError, match="'10.0.0.0/99'"):
            NetworkSet(["10.0.0.0/99"])

    def test_iter_and_repr(self) -> None:
        networks = NetworkSet(["10.0.0.0/8"])
        assert [str(n) for n in networks] == ["10.0.0.0/8"]
        assert "10.0.0.0/8" in repr(networks)


class TestNetworkTable:
    def test_matches_every_containing_network(self) -> None:
        table: NetworkTable[str] = NetworkTable()
        table[parse_network("10.0.0.0/8")] = "wide"
        table[parse_network("10.1.0.0/16")] = "narrow"
        table[parse_network("10.1.2.3")] = "host"
        found = table.matches(normalize_ip("10.1.2.3"))
        assert sorted(found) == ["host", "narrow", "wide"]
        assert table.matches(normalize_ip("10.2.0.1")) == ["wide"]
        assert table.matches(normalize_ip("11.0.0.1")) == []

    def test_replace_get_pop(self) -> None:
        table: NetworkTable[int] = NetworkTable()
        net = parse_network("10.0.0.0/8")
        table[net] = 1
        table[parse_network("10.9.9.9/8")] = 2  # the same network
        assert len(table) == 1
        assert table.get(net) == 2
        assert table.pop(net) == 2
        assert table.pop(net) is None
        assert len(table) == 0
        assert table.matches(normalize_ip("10.0.0.1")) == []
