"""The fake device's files: one immutable base image (L{bbs.shell.image}),
one overlay per session.

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
from collections.abc import Mapping
from typing import Callable, Protocol

import attrs

from bbs.shell.processors import Arch
from bbs.shell.sensor import Sensor


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


@attrs.frozen
class Image:
    """A complete read-only directory tree and the mounts it sits on."""

    arch: Arch
    sensor: Sensor
    nodes: Mapping[str, Node]
    children: Mapping[str, tuple[str, ...]]
    mounts: tuple[Mount, ...]


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
