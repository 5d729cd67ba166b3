"""The copy-on-write filesystem under the shell."""

from __future__ import annotations

import pytest

from bbs.shell.applets.programs import layout
from bbs.shell.fs import DIR, FileSystem, FsError, FsLimits
from bbs.shell.image import build_image
from bbs.shell.processors import ARCHES
from bbs.shell.sensor import Sensor


def make_fs(max_files: int = 50, max_bytes: int = 10_000) -> FileSystem:
    image = build_image(ARCHES["mipsel"], Sensor.derive("t", "box"), layout())
    return FileSystem(image, limits=FsLimits(max_files, max_bytes), now=lambda: 1000.0)


def test_links_and_paths() -> None:
    fs = make_fs()
    assert fs.resolve("/bin/echo") == "/bin/busybox"
    assert fs.resolve("/bin/echo", follow=False) == "/bin/echo"
    assert fs.resolve("/etc/mtab") == "/proc/mounts"
    assert fs.lookup("/usr/bin/../../bin/sh") is fs.lookup("/bin/busybox")
    assert fs.abspath("/tmp", "../etc/./passwd") == "/etc/passwd"
    assert fs.abspath("/", "//x//y/") == "/x/y"
    with pytest.raises(FsError, match="Not a directory"):
        fs.resolve("/etc/passwd/x/y")
    with pytest.raises(FsError, match="No such file"):
        fs.resolve("/nope/x")


def test_writable_mounts() -> None:
    fs = make_fs()
    fs.write("/tmp/a", b"1")
    fs.write("/var/run/b", b"2")
    fs.write("/dev/.c", b"3")
    fs.write("/mnt/d", b"4")
    fs.write("/dev/null", b"discarded")
    assert fs.read("/dev/null", 10) == b""
    assert fs.read("/dev/zero", 4) == b"\0\0\0\0"
    for path, reason in (("/e", "Read-only file system"), ("/bin/f", "Read-only file system"),
                         ("/proc/g", "No such file or directory"),
                         ("/sys/h", "No such file or directory")):
        with pytest.raises(FsError) as e:
            fs.write(path, b"x")
        assert str(e.value) == reason


def test_overlay_deletes_and_recreates() -> None:
    fs = make_fs()
    assert fs.listdir("/var/run") == ["telnetd.pid"]
    fs.remove("/var/run/telnetd.pid")
    assert fs.listdir("/var/run") == []
    fs.remove("/var/run")
    assert fs.lookup("/var/run") is None and "run" not in fs.listdir("/var")
    fs.mkdir("/var/run")
    assert fs.listdir("/var/run") == []  # the base file stays deleted
    fs.write("/var/run/telnetd.pid", b"new")
    assert fs.read("/var/run/telnetd.pid", 9) == b"new"
    with pytest.raises(FsError, match="busy"):
        fs.remove("/var")
    with pytest.raises(FsError, match="not empty"):
        fs.remove("/var/run")


def test_rename_moves_a_tree() -> None:
    fs = make_fs()
    fs.mkdir("/tmp/a")
    fs.mkdir("/tmp/a/b")
    fs.write("/tmp/a/b/f", b"data")
    fs.rename("/tmp/a", "/mnt/z")
    assert fs.lookup("/tmp/a") is None
    assert fs.read("/mnt/z/b/f", 10) == b"data"
    assert fs.stat("/mnt/z").kind == DIR
    with pytest.raises(FsError, match="Invalid argument"):
        fs.rename("/mnt/z", "/mnt/z/b/inside")


def test_budgets() -> None:
    fs = make_fs(max_files=3, max_bytes=10)
    fs.write("/tmp/a", b"12345")
    fs.write("/tmp/a", b"678", append=True)
    with pytest.raises(FsError, match="No space left"):
        fs.write("/tmp/a", b"abc", append=True)
    assert fs.read("/tmp/a", 99) == b"12345678"
    fs.mkdir("/tmp/d")
    fs.write("/tmp/e", b"")
    with pytest.raises(FsError, match="No space left"):
        fs.write("/tmp/f", b"")
    fs.remove("/tmp/e")
    fs.write("/tmp/f", b"")  # removing freed the slot; bytes stay spent
    assert fs.written == 8
