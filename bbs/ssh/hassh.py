"""An SSH client's key exchange offer (SSH_MSG_KEXINIT) and its HASSH.

The KEXINIT is the one thing every SSH client sends in the clear and in
its own order: which key exchanges, ciphers, MACs and compressions it
knows.  Salesforce's HASSH is the MD5 of four of those lists, the way
honeypots (Cowrie) and network monitors name a client implementation
whatever its version string claims.  This module is sans-IO: bytes in,
values out.
"""

from __future__ import annotations

import hashlib
import struct
from typing import Any

import attrs

COOKIE = 16  # bytes of random cookie that open the payload (RFC 4253 7.1)
NAME_LISTS = 10
MAX_NAME_LIST = 64 * 1024  # bytes in one name-list; real clients send under 2 KiB


@attrs.frozen
class KexInit:
    """The fields of one SSH_MSG_KEXINIT payload (RFC 4253 section 7.1).

    Each name-list is kept as it came (C{kex_algorithms} and the rest, the
    comma-separated text HASSH hashes); L{names} splits one.
    """

    cookie: bytes
    kex_algorithms: str
    server_host_key_algorithms: str
    encryption_client_to_server: str
    encryption_server_to_client: str
    mac_client_to_server: str
    mac_server_to_client: str
    compression_client_to_server: str
    compression_server_to_client: str
    languages_client_to_server: str
    languages_server_to_client: str
    first_kex_packet_follows: bool
    reserved: int

    @staticmethod
    def names(name_list: str) -> list[str]:
        """The names of one name-list, split as Cowrie splits them (an
        empty list is one empty name), so the logged lists read the same."""
        return name_list.split(",")


def parse_kexinit(payload: bytes) -> KexInit:
    """The KEXINIT in C{payload}: the message's bytes after its type byte.

    @raise ValueError: with one sentence saying what is wrong, for a
        payload that is truncated, has bytes after its end, or a name-list
        longer than L{MAX_NAME_LIST} or not US-ASCII (RFC 4253 section 5).
    """
    if len(payload) < COOKIE:
        raise ValueError(f"KEXINIT truncated: {len(payload)} bytes, shorter than its cookie")
    cookie, at = payload[:COOKIE], COOKIE
    lists: list[str] = []
    for index in range(NAME_LISTS):
        if len(payload) < at + 4:
            raise ValueError(f"KEXINIT truncated before name-list {index + 1} of {NAME_LISTS}")
        (size,) = struct.unpack_from(">L", payload, at)
        at += 4
        if size > MAX_NAME_LIST:
            raise ValueError(f"KEXINIT name-list {index + 1} is {size} bytes, "
                             f"over the limit of {MAX_NAME_LIST}")
        if len(payload) < at + size:
            raise ValueError(f"KEXINIT truncated inside name-list {index + 1} of {NAME_LISTS}")
        raw = payload[at:at + size]
        at += size
        if not raw.isascii():
            raise ValueError(f"KEXINIT name-list {index + 1} is not US-ASCII")
        lists.append(raw.decode("ascii"))
    if len(payload) < at + 5:
        raise ValueError("KEXINIT truncated before first_kex_packet_follows and reserved")
    follows = payload[at] != 0
    (reserved,) = struct.unpack_from(">L", payload, at + 1)
    if len(payload) != at + 5:
        raise ValueError(f"KEXINIT has {len(payload) - at - 5} bytes after its end")
    return KexInit(cookie, *lists, first_kex_packet_follows=follows, reserved=reserved)


def hassh(kexinit: KexInit) -> tuple[str, str]:
    """The client's C{(hasshAlgorithms, hassh)} as Salesforce defines them:
    its key exchanges, client-to-server ciphers, MACs and compressions, each
    list as sent, joined by C{;}, and the MD5 of that in hex."""
    algorithms = ";".join((kexinit.kex_algorithms, kexinit.encryption_client_to_server,
                           kexinit.mac_client_to_server, kexinit.compression_client_to_server))
    return algorithms, hashlib.md5(algorithms.encode("ascii"), usedforsecurity=False).hexdigest()


def kex_event_fields(kexinit: KexInit) -> dict[str, Any]:
    """The fields of a C{cowrie.client.kex} event for C{kexinit}, named as
    Cowrie names them: C{hassh}, C{hasshAlgorithms} and the client's lists
    (C{kexAlgs}, C{keyAlgs}, C{encCS}, C{macCS}, C{compCS}, C{langCS})."""
    algorithms, digest = hassh(kexinit)
    names = KexInit.names
    return {
        "hassh": digest,
        "hasshAlgorithms": algorithms,
        "kexAlgs": names(kexinit.kex_algorithms),
        "keyAlgs": names(kexinit.server_host_key_algorithms),
        "encCS": names(kexinit.encryption_client_to_server),
        "macCS": names(kexinit.mac_client_to_server),
        "compCS": names(kexinit.compression_client_to_server),
        "langCS": names(kexinit.languages_client_to_server),
    }
