"""The base image of one fake device: its directory tree, C{/etc},
C{/proc}, C{/dev} and the BusyBox binary with its applet links, built once
per architecture and sensor and shared, unchanged, by every session on it
(each writes into its own overlay, L{bbs.shell.fs.FileSystem})."""

from __future__ import annotations

import posixpath
from functools import lru_cache

import attrs

from bbs.shell.fs import DEV, DEVICES, DIR, FILE, LINK, Image, Mount, Node
from bbs.shell.processors import Arch
from bbs.shell.sensor import Sensor

# A static BusyBox with a router's applets is a few hundred KB; bots read it
# whole (Mirai's loader cats /bin/echo for its ELF header) over many reads,
# and a small one makes them stall (see bbs.honeypot's pacing).
BUSYBOX_SIZE = 239_476

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
