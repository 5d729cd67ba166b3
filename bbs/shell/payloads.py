"""The files a bot leaves behind that are worth keeping: its payloads.

An echo-loaded dropper, a script it runs, the file it named as a download's
target: these are the only samples such a session ever delivers, so the
shell watches its filesystem (L{bbs.shell.fs.FileEvent}) and hands each
payload, once and complete, to the honeypot, which keeps it on disk.
Judging is by what happens to a file, never by parsing command lines, so it
holds whatever grammar or applet wrote the file:

  - running it (C{./upnp}, C{sh x.sh}) keeps it at once, as it ran;
  - an execute bit (C{chmod 777 upnp}) or a download naming it marks it,
    and a marked file is kept when it runs, when it is removed, or with its
    final content when the session ends (so one built by many C{>>} after
    its C{chmod} is kept whole, not as the prefix there was at the chmod).

The same content is kept once a session, however many times it runs.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable, Mapping

import attrs

from bbs.shell.fs import FILE, FileEvent, Node

MAX_SIZE = 8 << 20  # bytes of one payload kept; a larger file is skipped
MAX_PER_SESSION = 32  # payloads one session may leave

# ELF e_machine values (the System V ABI's list) of the processors bots are
# built for, named as file(1) names them.
MACHINES: Mapping[int, str] = {
    2: "SPARC", 3: "Intel 80386", 4: "Motorola m68k", 8: "MIPS", 10: "MIPS (RS3000 LE)",
    18: "SPARC32PLUS", 20: "PowerPC", 21: "PowerPC64", 22: "IBM S/390", 40: "ARM",
    42: "Renesas SH", 43: "SPARC V9", 50: "IA-64", 62: "x86-64", 93: "ARC Compact",
    183: "ARM aarch64", 195: "ARCv2", 243: "RISC-V",
}


@attrs.frozen
class Elf:
    """What an ELF header says about the processor a file is built for."""

    bits: int  # 32 or 64
    endian: str  # "little" or "big"
    machine: str  # "ARM", "MIPS", "x86-64", ... or "unknown (N)"


def elf_info(data: bytes) -> Elf | None:
    """The class, byte order and machine of an ELF file; C{None} if C{data} is
    not one (too short, another magic, an invalid class or byte order)."""
    if len(data) < 20 or not data.startswith(b"\x7fELF") or data[4] not in (1, 2) \
            or data[5] not in (1, 2):
        return None
    little = data[5] == 1
    (machine,) = struct.unpack("<H" if little else ">H", data[18:20])
    return Elf(32 if data[4] == 1 else 64, "little" if little else "big",
               MACHINES.get(machine, f"unknown ({machine})"))


@attrs.frozen
class Payload:
    """One file kept from a session: where it was on the fake device, when it
    was kept (C{exec}: it ran; C{remove}: a marked file was deleted; C{end}: a
    marked file when the session ended) and the URL of a download naming it."""

    path: str
    data: bytes = attrs.field(repr=False)
    trigger: str
    url: str = ""
    sha256: str = attrs.field(init=False)
    elf: Elf | None = attrs.field(init=False)

    @sha256.default
    def _sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @elf.default
    def _elf(self) -> Elf | None:
        return elf_info(self.data)

    @property
    def size(self) -> int:
        return len(self.data)


class PayloadWatch:
    """The filesystem watcher of one shell session (see the module's docstring)."""

    def __init__(self, *, max_size: int = MAX_SIZE, max_count: int = MAX_PER_SESSION) -> None:
        self.max_size = max_size
        self.max_count = max_count
        self.skipped = 0  # payloads not kept: too large, or past the count
        self._marked: dict[str, str] = {}  # path -> URL of a download naming it, or ""
        self._kept: set[str] = set()  # SHA-256 of what this session already gave
        self._new: list[Payload] = []

    def __call__(self, event: FileEvent) -> None:
        if event.trigger in ("chmod", "download"):
            if event.url or event.path not in self._marked:
                self._marked[event.path] = event.url
        elif event.trigger == "exec" or event.path in self._marked:
            url = self._marked.pop(event.path, "") if event.trigger == "remove" \
                else self._marked.get(event.path, "")
            if event.node is not None:
                self._keep(Payload(event.path, event.node.data, event.trigger, url))

    def take(self) -> tuple[Payload, ...]:
        """The payloads found since the last call."""
        found, self._new = tuple(self._new), []
        return found

    def finish(self, lookup: Callable[[str], Node | None]) -> tuple[Payload, ...]:
        """At the session's end: every marked file as it is now, and what
        L{take} has not given yet."""
        for path, url in self._marked.items():
            node = lookup(path)
            if node is not None and node.kind == FILE:
                self._keep(Payload(path, node.data, "end", url))
        self._marked.clear()
        return self.take()

    def _keep(self, payload: Payload) -> None:
        if not payload.data or payload.sha256 in self._kept:
            return
        if payload.size > self.max_size or len(self._kept) >= self.max_count:
            self.skipped += 1
            return
        self._kept.add(payload.sha256)
        self._new.append(payload)
