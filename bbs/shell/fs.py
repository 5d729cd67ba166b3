"""The fake device's files: one immutable base image, one overlay per session.

Bots fingerprint a device by reading it: C{/proc/mounts} to find somewhere
writable, C{/proc/cpuinfo} and the ELF header of C{/bin/echo} to pick which
binary to drop.  So the base image is built per architecture and everything
in it agrees (uname, cpuinfo, ELF machine, endianness).  It is shared by all
sessions and never changes; each session writes into its own bounded overlay,
so one bot can neither see nor fill another bot's files.
"""

from __future__ import annotations

import posixpath
import random
import struct
from collections.abc import Mapping
from functools import lru_cache
from typing import Callable, Protocol

import attrs

from bbs.shell.sensor import Sensor

# A static BusyBox with a router's applets is a few hundred KB; bots read it
# whole (Mirai's loader cats /bin/echo for its ELF header) over many reads,
# and a small one makes them stall (see bbs.honeypot's pacing).
BUSYBOX_SIZE = 239_476

DIR, FILE, LINK, DEV = "dir", "file", "link", "dev"

# Character devices a small embedded /dev has: name -> (major, minor).
DEVICES: Mapping[str, tuple[int, int]] = {
    "console": (5, 1), "null": (1, 3), "ptmx": (5, 2), "random": (1, 8),
    "tty": (5, 0), "urandom": (1, 9), "watchdog": (10, 130), "zero": (1, 5),
}
# Filesystem types a process may create files on.
_WRITABLE_TYPES = frozenset({"tmpfs", "devtmpfs", "jffs2", "ramfs", "ubifs"})


class FsError(Exception):
    """A failed file operation; C{str()} is the C{strerror} text busybox prints."""


ENOENT = "No such file or directory"
ENOTDIR = "Not a directory"
EISDIR = "Is a directory"
EEXIST = "File exists"
EROFS = "Read-only file system"
EACCES = "Permission denied"
ENOSPC = "No space left on device"
ENOTEMPTY = "Directory not empty"
EBUSY = "Device or resource busy"
EINVAL = "Invalid argument"


@attrs.frozen
class Node:
    """One directory entry.  C{program} names the built-in program that runs
    when the file is executed (busybox, curl); written files have none."""

    kind: str
    mode: int
    mtime: float = 0.0
    data: bytes = b""
    target: str = ""
    device: str = ""
    program: str = ""


@attrs.frozen
class Mount:
    """A line of C{/proc/mounts}, plus the sizes C{df} reports (KiB)."""

    device: str
    point: str
    fstype: str
    options: str
    blocks: int = 0
    used: int = 0

    @property
    def writable(self) -> bool:
        return self.fstype in _WRITABLE_TYPES and self.options.split(",")[0] == "rw"

    def line(self) -> str:
        return f"{self.device} {self.point} {self.fstype} {self.options} 0 0\n"


MOUNTS: tuple[Mount, ...] = (
    Mount("rootfs", "/", "rootfs", "rw"),
    Mount("/dev/root", "/", "squashfs", "ro,relatime", 6016, 6016),
    Mount("proc", "/proc", "proc", "rw,relatime"),
    Mount("sysfs", "/sys", "sysfs", "rw,relatime"),
    Mount("tmpfs", "/dev", "tmpfs", "rw,relatime,mode=755", 30644, 0),
    Mount("devpts", "/dev/pts", "devpts", "rw,relatime,mode=600,ptmxmode=000"),
    Mount("tmpfs", "/tmp", "tmpfs", "rw,relatime", 30644, 124),
    Mount("tmpfs", "/var", "tmpfs", "rw,relatime", 30644, 36),
    Mount("/dev/mtdblock4", "/mnt", "jffs2", "rw,relatime", 4096, 1212),
)


@attrs.frozen
class Arch:
    """What one kind of device reports about its processor."""

    name: str
    uname: str
    bits: int
    little: bool
    machine: int
    flags: int
    base: int
    kernel: str
    mem_kb: int
    cpus: int
    cpuinfo: str

    def elf_header(self, entry: int, shoff: int = 0, phnum: int = 0) -> bytes:
        """The ELF file header a static executable for this processor starts with."""
        order = "<" if self.little else ">"
        ident = b"\x7fELF" + bytes((1 if self.bits == 32 else 2, 1 if self.little else 2, 1, 0))
        ident += bytes(8)
        if self.bits == 32:
            return ident + struct.pack(order + "HHIIIIIHHHHHH", 2, self.machine, 1, entry,
                                       52, shoff, self.flags, 52, 32, phnum, 40, 0, 0)
        return ident + struct.pack(order + "HHIQQQIHHHHHH", 2, self.machine, 1, entry,
                                   64, shoff, self.flags, 64, 56, phnum, 64, 0, 0)

    def executable(self, strings: bytes, size: int = 2048) -> bytes:
        """A small, well-formed static ELF executable carrying C{strings}."""
        order = "<" if self.little else ">"
        header_size = 52 if self.bits == 32 else 64
        ph_size = 32 if self.bits == 32 else 56
        code = header_size + 3 * ph_size
        body_len = max(size, code + 64 + len(strings))
        data_at = body_len - 32

        def ph(kind: int, offset: int, vaddr: int, filesz: int, memsz: int, flags: int,
               align: int) -> bytes:
            if self.bits == 32:
                return struct.pack(order + "8I", kind, offset, vaddr, vaddr, filesz, memsz,
                                   flags, align)
            return struct.pack(order + "2I6Q", kind, flags, offset, vaddr, vaddr, filesz,
                               memsz, align)

        headers = (
            ph(1, 0, self.base, data_at, data_at, 5, 0x10000)
            + ph(1, data_at, self.base + 0x10000 + data_at, 32, 0x400, 6, 0x10000)
            + ph(0x6474E551, 0, 0, 0, 0, 6, 4)  # PT_GNU_STACK, not executable
        )
        body = bytearray(self.elf_header(self.base + code, 0, 3) + headers)
        body += bytes(64)  # where the entry point's instructions would be
        body += strings
        body += bytes(body_len - len(body))
        return bytes(body)

    def runs(self, data: bytes) -> bool:
        """Whether an ELF file is built for this processor (class, byte order, machine)."""
        if len(data) < 20 or not data.startswith(b"\x7fELF"):
            return False
        little = data[5] == 1
        (machine,) = struct.unpack("<H" if little else ">H", data[18:20])
        return data[4] == (1 if self.bits == 32 else 2) and little == self.little \
            and machine == self.machine


def _arm_cpu(model: str, features: str, arch: str, part: str, rev: int, bogo: str,
             cpus: int, hardware: str, label: str = "model name") -> str:
    named = f"{label}\t: {model}\n" if model else ""
    blocks = [
        f"processor\t: {n}\n{named}BogoMIPS\t: {bogo}\nFeatures\t: {features}\n"
        f"CPU implementer\t: 0x41\nCPU architecture: {arch}\nCPU variant\t: 0x0\n"
        f"CPU part\t: {part}\nCPU revision\t: {rev}\n\n"
        for n in range(cpus)
    ]
    tail = f"Hardware\t: {hardware}\nRevision\t: 0000\nSerial\t\t: 0000000000000000\n"
    return "".join(blocks) + tail if hardware else "".join(blocks)


def _mips_cpu(system: str, machine: str, model: str, bogo: str, ases: str) -> str:
    return (
        f"system type\t\t: {system}\nmachine\t\t\t: {machine}\nprocessor\t\t: 0\n"
        f"cpu model\t\t: {model}\nBogoMIPS\t\t: {bogo}\nwait instruction\t: yes\n"
        "microsecond timers\t: yes\ntlb_entries\t\t: 32\nextra interrupt vector\t: yes\n"
        "hardware watchpoint\t: yes, count: 4, address/irw mask: "
        "[0x0000, 0x0ff8, 0x0ff8, 0x0ff8]\nisa\t\t\t: mips1 mips2 mips32r1 mips32r2\n"
        f"ASEs implemented\t: {ases}\nshadow register sets\t: 1\nkscratch registers\t: 0\n"
        "core\t\t\t: 0\nVCED exceptions\t\t: not available\n"
        "VCEI exceptions\t\t: not available\n\n"
    )


def _x86_cpu(model: str, family: int, number: int, stepping: int, mhz: str, cache: str,
             flags: str, bogo: str, cpus: int, bits: str) -> str:
    return "".join(
        f"processor\t: {n}\nvendor_id\t: GenuineIntel\ncpu family\t: {family}\n"
        f"model\t\t: {number}\nmodel name\t: {model}\nstepping\t: {stepping}\n"
        f"cpu MHz\t\t: {mhz}\ncache size\t: {cache}\nphysical id\t: 0\nsiblings\t: {cpus}\n"
        f"core id\t\t: {n}\ncpu cores\t: {cpus}\nfpu\t\t: yes\nfpu_exception\t: yes\n"
        f"cpuid level\t: 11\nwp\t\t: yes\nflags\t\t: {flags}\nbogomips\t: {bogo}\n"
        f"clflush size\t: 64\ncache_alignment\t: 64\naddress sizes\t: {bits}\n"
        "power management:\n\n"
        for n in range(cpus)
    )


_X86_FLAGS = (
    "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush dts "
    "acpi mmx fxsr sse sse2 ss ht tm pbe syscall nx lm constant_tsc arch_perfmon pebs bts "
    "nopl nonstop_tsc aperfmperf pni dtes64 monitor ds_cpl vmx est tm2 ssse3 cx16 xtpr pdcm "
    "sse4_1 sse4_2 movbe popcnt tsc_deadline_timer rdrand lahf_lm 3dnowprefetch"
)

ARCHES: Mapping[str, Arch] = {a.name: a for a in (
    Arch("armv7l", "armv7l", 32, True, 40, 0x05000200, 0x00008000, "3.10.14", 61292, 2,
         _arm_cpu("ARMv7 Processor rev 5 (v7l)",
                  "swp half thumb fastmult vfp edsp neon vfpv3 tls vfpv4 idiva idivt "
                  "vfpd32 lpae ", "7", "0xc07", 5, "1196.85", 2, "hi3536")),
    Arch("armv5l", "armv5tejl", 32, True, 40, 0x05000200, 0x00008000, "3.0.8", 29212, 1,
         _arm_cpu("ARM926EJ-S rev 5 (v5l)", "swp half thumb fastmult edsp java ", "5TEJ",
                  "0x926", 5, "218.72", 1, "hi3518", label="Processor")),
    Arch("aarch64", "aarch64", 64, True, 183, 0, 0x00400000, "4.9.118", 1010680, 4,
         _arm_cpu("", "fp asimd evtstrm aes pmull sha1 sha2 crc32 cpuid", "8", "0xd03", 4,
                  "48.00", 4, "")),
    Arch("mips", "mips", 32, False, 8, 0x50001007, 0x00400000, "2.6.31", 28376, 1,
         _mips_cpu("Atheros AR9341 rev 1", "TP-LINK TL-WR841N/ND v8", "MIPS 74Kc V4.12",
                   "266.24", "mips16 dsp dsp2")),
    Arch("mipsel", "mips", 32, True, 8, 0x50001007, 0x00400000, "2.6.36", 60416, 1,
         _mips_cpu("MediaTek MT7620A ver:2 eco:6", "Ralink MT7620a + MT7610e evaluation board",
                   "MIPS 24KEc V5.0", "385.84", "mips16 dsp")),
    Arch("i686", "i686", 32, True, 3, 0, 0x08048000, "3.2.40", 1022544, 2,
         _x86_cpu("Intel(R) Atom(TM) CPU D525   @ 1.80GHz", 6, 28, 10, "1800.000", "512 KB",
                  _X86_FLAGS, "3600.12", 2, "36 bits physical, 48 bits virtual")),
    Arch("x86_64", "x86_64", 64, True, 62, 0, 0x00400000, "4.4.59", 3915824, 4,
         _x86_cpu("Intel(R) Celeron(R) CPU  J1900  @ 1.99GHz", 6, 55, 8, "1999.857",
                  "1024 KB", _X86_FLAGS, "3999.71", 4, "36 bits physical, 48 bits virtual")),
    Arch("powerpc", "ppc", 32, False, 20, 0, 0x10000000, "2.6.35", 255412, 1,
         "processor\t: 0\ncpu\t\t: e500v2\nclock\t\t: 800.000000MHz\n"
         "revision\t: 5.1 (pvr 8021 1051)\nbogomips\t: 100.00\n\ntotal bogomips\t: 100.00\n"
         "timebase\t: 50000000\nplatform\t: P1020 RDB\nmodel\t\t: fsl,P1020RDB\n"
         "Memory\t\t: 256 MB\n"),
)}


@attrs.frozen
class Image:
    """A complete read-only directory tree and the mounts it sits on."""

    arch: Arch
    sensor: Sensor
    nodes: Mapping[str, Node]
    children: Mapping[str, tuple[str, ...]]
    mounts: tuple[Mount, ...]


def _meminfo(total: int) -> str:
    free, buffers, cached = total * 38 // 100, total * 4 // 100, total * 17 // 100
    rows = [("MemTotal", total), ("MemFree", free), ("Buffers", buffers), ("Cached", cached),
            ("SwapCached", 0), ("Active", total * 21 // 100), ("Inactive", total * 12 // 100),
            ("SwapTotal", 0), ("SwapFree", 0), ("Dirty", 0), ("Writeback", 0),
            ("AnonPages", total * 15 // 100), ("Mapped", total * 6 // 100),
            ("Shmem", 160), ("Slab", total * 5 // 100), ("PageTables", 212)]
    return "".join(f"{name + ':':<16}{value:>8} kB\n" for name, value in rows)


def _etc_files(sensor: Sensor) -> dict[str, bytes]:
    return {
        "/etc/passwd": b"root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\n"
                       b"bin:x:2:2:bin:/bin:/bin/false\nsys:x:3:3:sys:/dev:/bin/false\n"
                       b"nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
        "/etc/shadow": f"root:{sensor.root_hash}:16660:0:99999:7:::\n".encode()
                       + b"daemon:*:16660:0:99999:7:::\nbin:*:16660:0:99999:7:::\n"
                       b"sys:*:16660:0:99999:7:::\nnobody:*:16660:0:99999:7:::\n",
        "/etc/group": b"root:x:0:\ndaemon:x:1:\nbin:x:2:\nsys:x:3:\nnogroup:x:65534:\n",
        "/etc/hostname": sensor.hostname.encode("utf-8", "surrogateescape") + b"\n",
        "/etc/hosts": b"127.0.0.1\tlocalhost\n",
        "/etc/resolv.conf": b"nameserver 192.168.1.1\n",
        "/etc/profile": b"export PATH=/bin:/sbin:/usr/bin:/usr/sbin\nexport HOME=/root\n"
                        b"export PS1='# '\numask 022\n",
        "/etc/inittab": b"::sysinit:/etc/init.d/rcS\n::respawn:-/bin/sh\n"
                        b"::restart:/sbin/init\n::shutdown:/bin/umount -a -r\n",
        "/etc/init.d/rcS": b"#!/bin/sh\nmount -a\nmkdir -p /var/run /var/tmp /var/log\n"
                           b"/bin/hostname -F /etc/hostname\ntelnetd\n",
        "/etc/version": f"{sensor.busybox}\nV4.02.R11.34500140.10012.131600.00000\n".encode(),
    }


def _relative_link(path: str, target: str) -> str:
    return posixpath.relpath(target, posixpath.dirname(path))


@lru_cache(maxsize=32)
def build_image(arch: Arch, sensor: Sensor, layout: tuple[tuple[str, str], ...]) -> Image:
    """The base tree for one device.  C{layout} lists (path, program): the path
    whose basename is the program holds its binary, every other path is a
    symbolic link to that binary."""
    nodes: dict[str, Node] = {}

    def add(path: str, node: Node) -> None:
        parent = posixpath.dirname(path)
        if parent != path and parent not in nodes:
            add(parent, Node(DIR, 0o755))
        nodes[path] = node if node.mtime else attrs.evolve(node, mtime=sensor.build)

    add("/", Node(DIR, 0o755))
    for path in ("/bin", "/sbin", "/usr/bin", "/usr/sbin", "/lib", "/dev/pts", "/etc/init.d",
                 "/proc", "/sys", "/mnt", "/home", "/var/run", "/var/tmp", "/var/log"):
        add(path, Node(DIR, 0o755))
    add("/root", Node(DIR, 0o700))
    add("/tmp", Node(DIR, 0o1777))
    for name in DEVICES:
        add(f"/dev/{name}", Node(DEV, 0o666 if name != "watchdog" else 0o600, device=name))
    for path, data in _etc_files(sensor).items():
        add(path, Node(FILE, 0o755 if "/init.d/" in path else
                       (0o600 if path.endswith("shadow") else 0o644), data=data))
    add("/etc/mtab", Node(LINK, 0o777, target="/proc/mounts"))
    proc = {
        "cpuinfo": arch.cpuinfo,
        "meminfo": _meminfo(arch.mem_kb),
        "mounts": "".join(m.line() for m in MOUNTS),
        "version": f"Linux version {arch.kernel} (builder@buildhost) (gcc version 4.8.3 "
                   f"(crosstool-NG 1.20.0) ) {sensor.kernel_build}\n",
        "cmdline": "console=ttyS0,115200 root=/dev/mtdblock2 rootfstype=squashfs "
                   "mtdparts=hi_sfc:256K(boot),1792K(kernel),6016K(rootfs),4096K(mnt)\n",
        "filesystems": "nodev\tsysfs\nnodev\trootfs\nnodev\ttmpfs\nnodev\tproc\n"
                       "nodev\tdevpts\n\tsquashfs\n\tjffs2\n",
    }
    for name, text in proc.items():
        add(f"/proc/{name}", Node(FILE, 0o444, data=text.encode()))
    telnetd = next(pid for pid, (_, _, name) in sensor.processes().items() if "telnetd" in name)
    add("/var/run/telnetd.pid", Node(FILE, 0o644, data=f"{telnetd}\n".encode()))

    binaries = {program: path for path, program in layout if posixpath.basename(path) == program}
    for path, program in layout:
        if binaries[program] == path:
            banner = (f"{sensor.busybox} multi-call binary." if program == "busybox"
                      else f"{program} 7.40.0 ({arch.uname}-linux-uclibc)")
            names = b"\0".join(posixpath.basename(p).encode()
                                for p, prog in layout if prog == program)
            strings = banner.encode() + b"\0" + names
            size = BUSYBOX_SIZE if program == "busybox" else 2048
            add(path, Node(FILE, 0o755, data=arch.executable(strings + b"\0", size),
                           program=program))
        else:
            add(path, Node(LINK, 0o777, target=_relative_link(path, binaries[program])))

    children: dict[str, list[str]] = {}
    for path in nodes:
        if path != "/":
            children.setdefault(posixpath.dirname(path), []).append(posixpath.basename(path))
    return Image(arch, sensor, dict(nodes),
                 {k: tuple(sorted(v)) for k, v in children.items()}, MOUNTS)


@attrs.frozen
class FileEvent:
    """A moment a file may become a payload, told to the filesystem's watcher:
    C{chmod} gave it an execute bit, C{exec} ran it, C{download} named it a
    download's target (with C{url}), C{remove} is about to delete it.
    C{node} is the file as it is then (C{None} if it does not exist yet)."""

    trigger: str
    path: str
    node: Node | None
    url: str = ""


FileWatcher = Callable[[FileEvent], None]


@attrs.frozen
class FsLimits:
    """How much one session may change: overlay entries and bytes written."""

    max_files: int
    max_bytes: int


class Dynamic(Protocol):
    """Entries computed when looked at (C{/proc/self}, C{/proc/PID}): they
    change with the processes running, so no image can hold them."""

    def node(self, path: str) -> Node | None: ...

    def names(self, path: str) -> list[str]: ...


class FileSystem:
    """A session's view: the shared image under a copy-on-write overlay.

    The overlay maps a path to its new node, or to C{None} where a base entry
    was deleted.  Paths given to every method are absolute; the shell joins
    them with its working directory first (L{abspath}).
    """

    def __init__(self, image: Image, *, limits: FsLimits, now: Callable[[], float],
                 seed: int = 0, dynamic: Dynamic | None = None,
                 watcher: FileWatcher | None = None) -> None:
        self.image = image
        self.dynamic = dynamic
        self.watcher = watcher
        self._program_data: frozenset[bytes] | None = None
        self.limits = limits
        self._now = now
        self._overlay: dict[str, Node | None] = {}
        self._files = 0  # overlay entries holding a node
        self.written = 0  # bytes written so far, the budget C{max_bytes} caps
        self._random = random.Random(seed)

    # -- looking things up ----------------------------------------------------

    @staticmethod
    def abspath(cwd: str, path: str) -> str:
        """C{path} made absolute against C{cwd}, with C{.} and C{..} folded."""
        return posixpath.normpath(posixpath.join(cwd, path)).replace("//", "/")

    def _get(self, path: str) -> Node | None:
        if path in self._overlay:
            return self._overlay[path]
        node = self.image.nodes.get(path)
        if node is None and self.dynamic is not None and path.startswith("/proc/"):
            return self.dynamic.node(path)
        return node

    def resolve(self, path: str, *, follow: bool = True) -> str:
        """The real path of C{path}, following links in every directory part (and
        in the last part when C{follow}).  The last part need not exist."""
        parts = [p for p in path.split("/") if p]
        resolved = ""
        hops = 0
        i = 0
        while i < len(parts):
            name = parts[i]
            if name in (".", ".."):
                if name == "..":
                    resolved = posixpath.dirname(resolved) if resolved else ""
                    resolved = "" if resolved == "/" else resolved
                i += 1
                continue
            candidate = f"{resolved}/{name}"
            node = self._get(candidate)
            last = i == len(parts) - 1
            if node is None:
                if last:
                    return candidate
                raise FsError(ENOENT)
            if node.kind == LINK and (follow or not last):
                hops += 1
                if hops > 16:
                    raise FsError("Too many symbolic links encountered")
                prefix = "" if node.target.startswith("/") else resolved
                parts = [p for p in f"{prefix}/{node.target}".split("/") if p] + parts[i + 1:]
                resolved, i = "", 0
                continue
            if not last and node.kind != DIR:
                raise FsError(ENOTDIR)
            resolved = candidate
            i += 1
        return resolved or "/"

    def lookup(self, path: str, *, follow: bool = True) -> Node | None:
        """The node at C{path}, or C{None} if there is none."""
        try:
            return self._get(self.resolve(path, follow=follow))
        except FsError:
            return None

    def stat(self, path: str, *, follow: bool = True) -> Node:
        node = self._get(self.resolve(path, follow=follow))
        if node is None:
            raise FsError(ENOENT)
        return node

    def mount(self, path: str) -> Mount:
        """The mount a real path lives on (the last one mounted wins)."""
        best = self.image.mounts[0]
        for m in self.image.mounts:
            if (path == m.point or path.startswith(m.point.rstrip("/") + "/")) \
                    and len(m.point) >= len(best.point):
                best = m
        return best

    def listdir(self, path: str) -> list[str]:
        real = self.resolve(path)
        node = self._get(real)
        if node is None:
            raise FsError(ENOENT)
        if node.kind != DIR:
            raise FsError(ENOTDIR)
        names = {n for n in self.image.children.get(real, ())
                 if self._get(posixpath.join(real, n)) is not None}
        names.update(posixpath.basename(p) for p, n in self._overlay.items()
                     if n is not None and p != "/" and posixpath.dirname(p) == real)
        if self.dynamic is not None and (real == "/proc" or real.startswith("/proc/")):
            names.update(self.dynamic.names(real))
        return sorted(names)

    def read(self, path: str, limit: int) -> bytes:
        """At most C{limit} bytes of a file; devices read like the real ones."""
        node = self.stat(path)
        if node.kind == DIR:
            raise FsError(EISDIR)
        if node.kind == DEV:
            if node.device == "zero":
                return bytes(limit)
            if node.device in ("random", "urandom"):
                return self._random.randbytes(limit)
            return b""
        return node.data[:limit]

    # -- changing things ------------------------------------------------------

    def _check_writable(self, real: str) -> None:
        mount = self.mount(real)
        if not mount.writable:
            # the kernel's own trees have no entry to create: ENOENT, which
            # ash words "nonexistent directory"
            raise FsError(EROFS if mount.fstype in ("squashfs", "rootfs") else
                          ENOENT if mount.fstype in ("proc", "sysfs") and self._get(real) is None
                          else EACCES)

    def _put(self, path: str, node: Node | None) -> None:
        before = self._overlay.get(path)
        if node is not None and before is None and self._files >= self.limits.max_files:
            raise FsError(ENOSPC)
        if node is None and path not in self.image.nodes:
            self._overlay.pop(path, None)
        else:
            self._overlay[path] = node
        self._files += (node is not None) - (before is not None)

    def _spend(self, size: int) -> None:
        if self.written + size > self.limits.max_bytes:
            raise FsError(ENOSPC)
        self.written += size

    def _parent_dir(self, real: str) -> None:
        parent = self._get(posixpath.dirname(real))
        if parent is None:
            raise FsError(ENOENT)
        if parent.kind != DIR:
            raise FsError(ENOTDIR)

    def write(self, path: str, data: bytes, *, append: bool = False) -> None:
        """Create, replace or extend a file; writes to a device are swallowed."""
        real = self.resolve(path)
        node = self._get(real)
        if node is not None and node.kind == DIR:
            raise FsError(EISDIR)
        if node is not None and node.kind == DEV:
            return
        if node is None:
            self._parent_dir(real)
        self._check_writable(real)
        self._spend(len(data))
        if node is not None and append:
            node = attrs.evolve(node, data=node.data + data, mtime=self._now())
        else:
            mode = node.mode if node is not None else 0o644
            node = Node(FILE, mode, self._now(), data)
        self._put(real, node)

    def mkdir(self, path: str) -> None:
        real = self.resolve(path, follow=False)
        if self._get(real) is not None:
            raise FsError(EEXIST)
        self._parent_dir(real)
        self._check_writable(real)
        self._put(real, Node(DIR, 0o755, self._now()))

    def symlink(self, target: str, path: str) -> None:
        """Make C{path} a symbolic link to C{target}, which need not exist."""
        real = self.resolve(path, follow=False)
        if self._get(real) is not None:
            raise FsError(EEXIST)
        self._parent_dir(real)
        self._check_writable(real)
        self._put(real, Node(LINK, 0o777, self._now(), target=target))

    def remove(self, path: str) -> None:
        """Remove one entry; a directory must already be empty."""
        real = self.resolve(path, follow=False)
        node = self._get(real)
        if node is None:
            raise FsError(ENOENT)
        if any(m.point == real for m in self.image.mounts):
            raise FsError(EBUSY)
        self._check_writable(real)
        if node.kind == DIR and self.listdir(real):
            raise FsError(ENOTEMPTY)
        self._tell("remove", real, node)
        self._put(real, None)

    def walk(self, path: str) -> list[str]:
        """C{path} (not followed if a link) and everything under it, parents first."""
        out: list[str] = []
        stack = [self.resolve(path, follow=False)]
        while stack:
            real = stack.pop()
            out.append(real)
            node = self._get(real)
            if node is not None and node.kind == DIR:
                stack.extend(posixpath.join(real, n) for n in reversed(self.listdir(real)))
        return out

    def rename(self, src: str, dst: str) -> None:
        real_src = self.resolve(src, follow=False)
        real_dst = self.resolve(dst, follow=False)
        node = self._get(real_src)
        if node is None:
            raise FsError(ENOENT)
        if real_dst == real_src:
            return
        if real_dst.startswith(real_src + "/"):
            raise FsError(EINVAL)
        if any(m.point == real_src for m in self.image.mounts):
            raise FsError(EBUSY)
        self._parent_dir(real_dst)
        self._check_writable(real_src)
        self._check_writable(real_dst)
        existing = self._get(real_dst)
        if existing is not None:
            if existing.kind == DIR and node.kind != DIR:
                raise FsError(EISDIR)
            if existing.kind == DIR and self.listdir(real_dst):
                raise FsError(ENOTEMPTY)
            if existing.kind != DIR and node.kind == DIR:
                raise FsError(ENOTDIR)
        tree = self.walk(real_src)
        if self._files + len(tree) > self.limits.max_files:
            raise FsError(ENOSPC)
        moved = [(p, self._get(p)) for p in tree]
        for p in reversed(tree):
            self._put(p, None)
        for p, n in moved:
            self._put(real_dst + p[len(real_src):], n)

    def copy(self, src: str, dst: str) -> None:
        """Copy one file (not a directory) to C{dst}, keeping its mode."""
        node = self.stat(src)
        if node.kind == DIR:
            raise FsError(EISDIR)
        data = self.read(src, self.limits.max_bytes + 1) if node.kind == DEV else node.data
        self.write(dst, data)
        real = self.resolve(dst)
        written = self._get(real)
        if written is not None and written.kind == FILE:
            self._put(real, attrs.evolve(written, mode=node.mode, program=node.program
                                         if node.kind == FILE else ""))

    def chmod(self, path: str, mode: int) -> None:
        real = self.resolve(path)
        node = self._get(real)
        if node is None:
            raise FsError(ENOENT)
        self._check_writable(real)
        node = attrs.evolve(node, mode=mode & 0o7777)
        self._put(real, node)
        if node.mode & 0o111:
            self._tell("chmod", real, node)

    def touch(self, path: str) -> None:
        real = self.resolve(path)
        node = self._get(real)
        if node is None:
            self.write(real, b"")
            return
        self._check_writable(real)
        self._put(real, attrs.evolve(node, mtime=self._now()))

    # -- what the watcher is told ---------------------------------------------

    def executed(self, path: str) -> None:
        """C{path} is being run (as a program or a script)."""
        real = self.resolve(path)
        self._tell("exec", real, self._get(real))

    def download_to(self, path: str, url: str) -> None:
        """A download of C{url} was to be saved at C{path}."""
        try:
            real = self.resolve(path)
        except FsError:
            return
        self._tell("download", real, self._get(real), url)

    def _tell(self, trigger: str, real: str, node: Node | None, url: str = "") -> None:
        """Tell the watcher, about files whose content this session made only:
        not the device's own programs or copies of them, nor a base file left
        as it was."""
        if self.watcher is None:
            return
        if node is not None:
            base = self.image.nodes.get(real)
            if node.kind != FILE or node.program or (base is not None and base.data == node.data) \
                    or node.data in self._programs():
                return
        self.watcher(FileEvent(trigger, real, node, url))

    def _programs(self) -> frozenset[bytes]:
        """The content of every program file of the image."""
        if self._program_data is None:
            self._program_data = frozenset(n.data for n in self.image.nodes.values()
                                           if n.program)
        return self._program_data
