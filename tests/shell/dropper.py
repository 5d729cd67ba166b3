"""A test dropper and the lines a Mirai loader types to echo-load it."""

from __future__ import annotations

import random
import struct


def elf(machine: int = 40, *, bits: int = 32, little: bool = True, size: int = 2048,
        seed: int = 7) -> bytes:
    """A small static ELF executable header for C{machine} (40: ARM) followed by
    random bytes, C{size} long: its SHA-256 is its own, its header is real."""
    order = "<" if little else ">"
    ident = b"\x7fELF" + bytes((1 if bits == 32 else 2, 1 if little else 2, 1, 0)) + bytes(8)
    if bits == 32:
        header = ident + struct.pack(order + "HHIIIIIHHHHHH", 2, machine, 1, 0x8000 + 0x74,
                                     52, 0, 0x05000200, 52, 32, 1, 40, 0, 0)
    else:
        header = ident + struct.pack(order + "HHIQQQIHHHHHH", 2, machine, 1, 0x400078,
                                     64, 0, 0, 64, 56, 1, 64, 0, 0)
    body = random.Random(seed).randbytes(size - len(header))
    return header + body


def echo_load(data: bytes, name: str = "upnp", chunk: int = 128) -> list[str]:
    """Mirai's echo loader (loader/src/server.c): the file rebuilt with
    C{echo -ne '\\xNN...'}, C{>} for the first chunk and C{>>} after, then made
    executable and run."""
    lines = []
    for i in range(0, len(data), chunk):
        escaped = "".join(f"\\x{b:02x}" for b in data[i:i + chunk])
        lines.append(f"echo -ne '{escaped}' {'>' if i == 0 else '>>'} {name}")
    lines.append(f"chmod 777 {name}; ./{name}")
    return lines
