"""An SSH client's KEXINIT and its HASSH: Salesforce's published example,
strict bounds on hostile payloads, and the KEXINITs that Debian's OpenSSH
client and asyncssh really send."""

from __future__ import annotations

import hashlib
import socket
import struct
import subprocess
import sys
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st
from twisted.conch.ssh.common import NS, getNS

from bbs.ssh.hassh import MAX_NAME_LIST, KexInit, hassh, kex_event_fields, parse_kexinit

# Salesforce's README, "Example 1: Client Fingerprinting": Cyberduck 6.7.1's
# lists and the hassh published for them.
CYBERDUCK_KEX = (
    "curve25519-sha256@libssh.org,diffie-hellman-group-exchange-sha256,ecdh-sha2-nistp521,"
    "ecdh-sha2-nistp384,ecdh-sha2-nistp256,diffie-hellman-group-exchange-sha1,"
    "diffie-hellman-group1-sha1,diffie-hellman-group14-sha1,diffie-hellman-group14-sha256,"
    "diffie-hellman-group15-sha512,diffie-hellman-group16-sha512,diffie-hellman-group17-sha512,"
    "diffie-hellman-group18-sha512,diffie-hellman-group14-sha256@ssh.com,"
    "diffie-hellman-group15-sha256,diffie-hellman-group15-sha256@ssh.com,"
    "diffie-hellman-group15-sha384@ssh.com,diffie-hellman-group16-sha256,"
    "diffie-hellman-group16-sha384@ssh.com,diffie-hellman-group16-sha512@ssh.com,"
    "diffie-hellman-group18-sha512@ssh.com")
CYBERDUCK_ENC = (
    "aes128-cbc,aes128-ctr,aes192-cbc,aes192-ctr,aes256-cbc,aes256-ctr,blowfish-cbc,"
    "blowfish-ctr,cast128-cbc,cast128-ctr,idea-cbc,idea-ctr,serpent128-cbc,serpent128-ctr,"
    "serpent192-cbc,serpent192-ctr,serpent256-cbc,serpent256-ctr,3des-cbc,3des-ctr,"
    "twofish128-cbc,twofish128-ctr,twofish192-cbc,twofish192-ctr,twofish256-cbc,"
    "twofish256-ctr,twofish-cbc,arcfour,arcfour128,arcfour256")
CYBERDUCK_MAC = "hmac-sha1,hmac-sha1-96,hmac-md5,hmac-md5-96,hmac-sha2-256,hmac-sha2-512"
CYBERDUCK_COMP = "zlib@openssh.com,zlib,none"
CYBERDUCK_HASSH = "8a8ae540028bf433cd68356c1b9e8d5b"


def kexinit_payload(lists: list[str], follows: bool = False, reserved: int = 0,
                    cookie: bytes = b"C" * 16) -> bytes:
    """A KEXINIT payload (after the message type byte) of ten name-lists."""
    assert len(lists) == 10
    return (cookie + b"".join(NS(n.encode()) for n in lists)
            + bytes([follows]) + struct.pack(">L", reserved))


def cyberduck() -> bytes:
    return kexinit_payload([CYBERDUCK_KEX, "ssh-rsa,ssh-dss", CYBERDUCK_ENC, "aes256-ctr",
                            CYBERDUCK_MAC, "hmac-sha1", CYBERDUCK_COMP, "none", "", ""])


def reference_hassh(payload: bytes) -> tuple[str, str]:
    """HASSH computed the way its README says, from the name-lists as conch's
    own reader (getNS) takes them out: kex;enc c2s;mac c2s;comp c2s, MD5."""
    lists = getNS(payload[16:], 10)[:10]
    algorithms = ";".join(lists[i].decode() for i in (0, 2, 4, 6))
    return algorithms, hashlib.md5(algorithms.encode()).hexdigest()


def test_salesforce_published_example() -> None:
    kexinit = parse_kexinit(cyberduck())
    algorithms, digest = hassh(kexinit)
    assert algorithms == ";".join((CYBERDUCK_KEX, CYBERDUCK_ENC, CYBERDUCK_MAC, CYBERDUCK_COMP))
    assert digest == CYBERDUCK_HASSH


def test_fields_are_taken_in_order() -> None:
    payload = kexinit_payload([f"l{i}a,l{i}b" for i in range(10)], follows=True, reserved=7,
                              cookie=bytes(range(16)))
    k = parse_kexinit(payload)
    assert k.cookie == bytes(range(16))
    assert [k.kex_algorithms, k.server_host_key_algorithms, k.encryption_client_to_server,
            k.encryption_server_to_client, k.mac_client_to_server, k.mac_server_to_client,
            k.compression_client_to_server, k.compression_server_to_client,
            k.languages_client_to_server, k.languages_server_to_client] == \
        [f"l{i}a,l{i}b" for i in range(10)]
    assert k.first_kex_packet_follows is True and k.reserved == 7
    assert hassh(k)[0] == "l0a,l0b;l2a,l2b;l4a,l4b;l6a,l6b"


def test_cowrie_event_fields() -> None:
    fields = kex_event_fields(parse_kexinit(cyberduck()))
    assert fields["hassh"] == CYBERDUCK_HASSH
    assert fields["hasshAlgorithms"].startswith("curve25519-sha256@libssh.org,")
    assert fields["keyAlgs"] == ["ssh-rsa", "ssh-dss"]
    assert fields["compCS"] == ["zlib@openssh.com", "zlib", "none"]
    assert fields["encCS"][-1] == "arcfour256" and fields["macCS"][0] == "hmac-sha1"
    assert fields["kexAlgs"][0] == "curve25519-sha256@libssh.org"
    assert fields["langCS"] == [""]  # an empty list, as Cowrie splits it


def test_every_truncation_is_one_clear_error() -> None:
    payload = cyberduck()
    for cut in range(len(payload)):
        with pytest.raises(ValueError, match="KEXINIT truncated"):
            parse_kexinit(payload[:cut])


def test_bytes_after_the_end_are_refused() -> None:
    with pytest.raises(ValueError, match="3 bytes after its end"):
        parse_kexinit(cyberduck() + b"xyz")


def test_a_name_list_over_the_limit_is_refused_before_it_is_read() -> None:
    # A length of 64 KiB + 1 is refused from its four bytes: nothing behind them is needed.
    payload = b"C" * 16 + struct.pack(">L", MAX_NAME_LIST + 1)
    with pytest.raises(ValueError, match=f"over the limit of {MAX_NAME_LIST}"):
        parse_kexinit(payload)
    with pytest.raises(ValueError, match="name-list 1 is 4294967295 bytes"):
        parse_kexinit(b"C" * 16 + b"\xff\xff\xff\xff")
    at_limit = kexinit_payload(["a" * MAX_NAME_LIST] + [""] * 9)
    assert len(parse_kexinit(at_limit).kex_algorithms) == MAX_NAME_LIST


def test_a_name_list_that_is_not_ascii_is_refused() -> None:
    with pytest.raises(ValueError, match="name-list 3 is not US-ASCII"):
        parse_kexinit(kexinit_payload(["a", "b", "\u00e9", "", "", "", "", "", "", ""]))


@given(st.binary(max_size=300))
def test_any_bytes_parse_or_raise_value_error(data: bytes) -> None:
    try:
        parse_kexinit(data)
    except ValueError as error:
        assert str(error).startswith("KEXINIT ")


@given(st.lists(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-@.,", max_size=40),
                min_size=10, max_size=10), st.booleans())
def test_hassh_agrees_with_the_reference_reading(lists: list[str], follows: bool) -> None:
    payload = kexinit_payload(lists, follows=follows)
    assert hassh(parse_kexinit(payload)) == reference_hassh(payload)


# -- what real clients send ------------------------------------------------


def first_packet(client: list[str], server_version: bytes = b"SSH-2.0-OpenSSH_9.2p1\r\n",
                 deadline: float = 20.0) -> tuple[bytes, bytes]:
    """Run C{client} (its argv, where C{{port}} is the port) against a socket
    that sends C{server_version} and records what comes back; return the
    client's version line and its first packet's payload, a KEXINIT, which
    a client sends before anything else."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(deadline)
    port = listener.getsockname()[1]
    got: dict[str, bytes] = {}

    def serve() -> None:
        conn, _ = listener.accept()
        conn.settimeout(deadline)
        with conn:
            conn.sendall(server_version)
            buf = b""
            while True:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                buf += chunk
                end = buf.find(b"\n")
                if end >= 0 and len(buf) >= end + 5:
                    (size,) = struct.unpack(">L", buf[end + 1:end + 5])
                    if len(buf) >= end + 5 + size:
                        got["version"] = buf[:end + 1]
                        packet = buf[end + 5:end + 5 + size]
                        got["payload"] = packet[1:len(packet) - packet[0]]
                        break

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    argv = [a.replace("{port}", str(port)) for a in client]
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    thread.join(deadline)
    listener.close()
    try:
        proc.wait(deadline)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    assert "payload" in got, f"{client[0]} sent no KEXINIT"
    return got["version"], got["payload"]


def check_real_kexinit(version: bytes, payload: bytes, software: bytes) -> None:
    assert version.startswith(b"SSH-2.0-" + software) and version.endswith(b"\r\n")
    assert payload[0] == 20  # SSH_MSG_KEXINIT
    kexinit = parse_kexinit(payload[1:])
    assert hassh(kexinit) == reference_hassh(payload[1:])
    assert "curve25519-sha256" in KexInit.names(kexinit.kex_algorithms)
    assert "ssh-ed25519" in KexInit.names(kexinit.server_host_key_algorithms)


def test_the_kexinit_of_debian_openssh() -> None:
    version, payload = first_packet(
        ["ssh", "-F", "/dev/null", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
         "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=20", "-p", "{port}",
         "x@127.0.0.1", "true"])
    check_real_kexinit(version, payload, b"OpenSSH_")
    # OpenSSH announces extension negotiation and strict kex among its key exchanges.
    names = KexInit.names(parse_kexinit(payload[1:]).kex_algorithms)
    assert "ext-info-c" in names


def test_the_kexinit_of_asyncssh() -> None:
    code = ("import asyncio, asyncssh, sys\n"
            "async def main():\n"
            "    try:\n"
            "        await asyncssh.connect('127.0.0.1', int(sys.argv[1]), known_hosts=None,\n"
            "                               username='x', password='y', login_timeout=20)\n"
            "    except Exception:\n"
            "        pass\n"
            "asyncio.run(main())\n")
    version, payload = first_packet([sys.executable, "-W", "ignore", "-c", code, "{port}"])
    check_real_kexinit(version, payload, b"AsyncSSH_")


def test_the_event_fields_are_those_the_schema_documents() -> None:
    from bbs.events import make_event
    from tests.events.schema import validate

    event = make_event("cowrie.client.kex", kex_event_fields(parse_kexinit(cyberduck())),
                       session="s", src_ip="192.0.2.1", message="m", sensor="n", when=0)
    assert validate(event) == []
