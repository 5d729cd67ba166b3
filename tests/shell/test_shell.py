"""The shell's semantics, isolation and limits."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twisted.internet.task import Clock

from bbs.shell import BusyBoxShell, ShellLimits

START = 1_795_777_200.0  # 2026-11-27 11:00 UTC


def shell(limits: ShellLimits = ShellLimits(), **kwargs: object) -> BusyBoxShell:
    clock = Clock()
    clock.advance(START)
    return BusyBoxShell(clock=clock, limits=limits, **kwargs)  # type: ignore[arg-type]


def out(sh: BusyBoxShell, line: str) -> str:
    return sh.run(line).output


def test_prompt_and_banner() -> None:
    sh = shell()
    assert sh.prompt == "# "
    banner = sh.banner_after_login()
    assert "BusyBox v1.35.0 (" in banner and "built-in shell (ash)" in banner


def test_unknown_command_is_failed_event() -> None:
    sh = shell()
    result = sh.run("xyz -a; ls /nope")
    assert result.output == "-sh: xyz: not found\nls: /nope: No such file or directory\n"
    assert [(e.kind, e.input) for e in result.events] == [
        ("command.failed", "xyz -a"), ("command.input", "ls /nope")]
    assert [e.eventid for e in result.events] == ["cowrie.command.failed", "cowrie.command.input"]


@pytest.mark.parametrize("line,expected", [
    ("true && echo a", "a\n"),
    ("false && echo a", ""),
    ("false || echo b", "b\n"),
    ("true || echo b", ""),
    ("false && echo a || echo c", "c\n"),
    ("true && false || echo d; echo e", "d\ne\n"),
    ("false; echo $?; true; echo $?", "1\n0\n"),
    ("xyz 2>/dev/null || echo missing", "missing\n"),
    ("echo one & echo two", "one\ntwo\n"),
])
def test_chains_short_circuit(line: str, expected: str) -> None:
    assert out(shell(), line) == expected


def test_skipped_commands_leave_no_event() -> None:
    result = shell().run("false && echo a && echo b || echo c")
    assert [e.input for e in result.events] == ["false", "echo c"]


def test_redirections() -> None:
    sh = shell()
    sh.run("cd /tmp")
    assert out(sh, "echo a > f; echo b >> f; cat f") == "a\nb\n"
    assert out(sh, "echo c > f; cat < f") == "c\n"
    assert out(sh, "cat nope 2>/dev/null; echo $?") == "1\n"
    assert out(sh, "cat nope >/dev/null 2>&1") == ""
    assert out(sh, "cat nope 2>&1 >/dev/null") == "cat: can't open 'nope': No such file or directory\n"
    assert out(sh, "cat nope 2>err; cat err") == "cat: can't open 'nope': No such file or directory\n"
    assert out(sh, ">empty; ls -l empty").split()[4] == "0"
    assert out(sh, "echo x > /proc/x") == "-sh: can't create /proc/x: nonexistent directory\n"
    assert out(sh, "echo x > /nodir/x") == "-sh: can't create /nodir/x: nonexistent directory\n"
    assert out(sh, "cat < missing; echo $?") == "-sh: can't open missing: no such file\n1\n"


def test_quotes_and_variables() -> None:
    sh = shell()
    assert out(sh, """echo 'a  b' "c  d" e\\ f""") == "a  b c  d e f\n"
    assert out(sh, 'echo "$HOME" \'$HOME\' ${HOME}x') == "/root $HOME /rootx\n"
    assert out(sh, "X=1; echo $X; cd /tmp; echo $PWD") == "1\n/tmp\n"
    assert out(sh, "cd${IFS}/var; pwd") == "/var\n"
    assert out(sh, "echo $(id)") == "uid=0(root) gid=0(root) groups=0(root)\n"
    result = sh.run("; ls")
    assert result.output == '-sh: syntax error: unexpected ";"\n'
    assert [(e.kind, e.input) for e in result.events] == [("command.failed", "; ls")]


def test_pipes() -> None:
    sh = shell()
    assert out(sh, "cat /proc/cpuinfo | grep 'model name' | head -n 1") == \
        "model name\t: ARMv7 Processor rev 5 (v7l)\n"
    assert out(sh, "echo a b c | wc -w") == "3\n"
    assert out(sh, "ls /bin | grep -c busybox") == "1\n"
    assert out(sh, "echo 'echo from-stdin' | sh") == "from-stdin\n"
    result = sh.run("cat /etc/passwd | grep root | xyz")
    assert result.output == "-sh: xyz: not found\n"
    assert [e.kind for e in result.events] == ["command.input", "command.input", "command.failed"]


def test_busybox_dispatch() -> None:
    sh = shell()
    assert out(sh, "busybox echo hi; /bin/busybox busybox echo ho") == "hi\nho\n"
    assert out(sh, "busybox XYZ") == "XYZ: applet not found\n"
    listing = out(sh, "busybox")
    assert "Currently defined functions:" in listing and "wget" in listing
    assert "wget\n" in out(sh, "busybox --list")
    # BusyBox picks the applet by the name it runs under, even for a copy.
    assert out(sh, "cp /bin/busybox /tmp/x; /tmp/x ls /tmp") == "x: applet not found\n"
    assert out(sh, "cp /bin/busybox /tmp/ls; /tmp/ls /tmp") == "ls  x\n"


def test_files_and_directories() -> None:
    sh = shell()
    sh.run("cd /tmp")
    assert out(sh, "mkdir -p a/b/c; touch a/b/c/f; ls a a/b/c") == "a:\nb\n\na/b/c:\nf\n"
    assert out(sh, "rm a") == "rm: 'a' is a directory\n"
    assert out(sh, "rm -rf a; ls") == ""
    assert out(sh, "echo 1 > x; cp x y; mv y z; ls; cat z") == "x  z\n1\n"
    assert out(sh, "mv z /tmp/x; cat x; ls") == "1\nx\n"
    assert out(sh, "mkdir d; mv x d; ls d; rmdir d") == "x\nrmdir: 'd': Directory not empty\n"
    assert out(sh, "chmod 4755 d/x; ls -l d").startswith("total 4\n-rwsr-xr-x")
    assert out(sh, "chmod u-x,go= d/x; ls -l d/x").startswith("-rwS------")
    assert out(sh, "chmod nonsense d/x") == "chmod: invalid mode 'nonsense'\n"
    assert out(sh, "rm -rf /tmp") == "rm: can't remove '/tmp': Device or resource busy\n"
    assert out(sh, "rm /bin/busybox") == "rm: can't remove '/bin/busybox': Read-only file system\n"
    assert out(sh, "chmod 777 /bin/busybox") == "chmod: /bin/busybox: Read-only file system\n"
    assert out(sh, "mkdir /x") == "mkdir: can't create directory '/x': Read-only file system\n"
    assert out(sh, "touch /etc/x") == "touch: /etc/x: Read-only file system\n"
    assert out(sh, "cat /tmp") == "cat: read error: Is a directory\n"


def test_system_applets() -> None:
    sh = shell(hostname="cam01")
    assert out(sh, "uname -a") == \
        f"Linux cam01 3.10.14 {sh.sensor.kernel_build} armv7l GNU/Linux\n"
    assert sh.sensor.kernel_build in out(sh, "cat /proc/version")
    assert out(sh, "uname -m; uname -r; uname") == "armv7l\n3.10.14\nLinux\n"
    assert out(sh, "id; whoami; hostname; nproc") == \
        "uid=0(root) gid=0(root) groups=0(root)\nroot\ncam01\n2\n"
    result = sh.run("sleep 5; echo done")
    assert result.output == "done\n" and result.delay == 5.0
    assert out(sh, "sleep forever") == "sleep: invalid number 'forever'\n"
    assert out(sh, "date") == "Fri Nov 27 11:00:00 UTC 2026\n"
    assert out(sh, "df").splitlines()[1].split() == \
        ["/dev/root", "6016", "6016", "0", "100%", "/"]
    assert out(sh, "free").splitlines()[1].split()[:2] == ["Mem:", "61292"]
    ps = out(sh, "ps")
    assert "-sh" in ps and ps.splitlines()[0] == "PID   USER     COMMAND"
    main = next(line.split()[0] for line in ps.splitlines() if line.endswith("/mnt/app/main"))
    assert out(sh, f"kill -9 {main}; ps | grep -c app/mai[n]") == "0\n"
    assert out(sh, "kill 4242") == "kill: can't kill pid 4242: No such process\n"
    assert out(sh, "ls --bogus").startswith("ls: unrecognized option '--bogus'\n")
    assert out(sh, "ls -Z").startswith("ls: invalid option -- 'Z'\nBusyBox v1.35.0 (")


def test_scripts_run_through_the_shell() -> None:
    sh = shell()
    sh.run("cd /tmp")
    sh.run("echo '#!/bin/sh' > s.sh; echo 'wget http://203.0.113.1/a' >> s.sh; "
           "echo 'exit 3' >> s.sh; echo 'echo never' >> s.sh")
    result = sh.run("sh s.sh; echo $?")
    assert result.output.endswith("3\n") and "never" not in result.output
    assert any(e.url == "http://203.0.113.1/a" for e in result.events)
    assert not result.exit  # exit ended the script, not the session
    assert out(sh, "chmod +x s.sh; ./s.sh >/dev/null 2>&1; echo $?") == "3\n"
    assert out(sh, "sh -c 'echo inner; exit 1'; echo outer") == "inner\nouter\n"
    assert out(sh, "./nope") == "-sh: ./nope: not found\n"
    assert out(sh, "echo x > t; ./t") == "-sh: ./t: Permission denied\n"
    # A script that runs itself stops at the nesting limit instead of recursing.
    sh.run("echo 'sh /tmp/r.sh' > r.sh")
    assert "can't fork" in out(sh, "sh r.sh")


def test_exit_ends_session() -> None:
    sh = shell()
    result = sh.run("echo bye; exit; echo after")
    assert result.output == "bye\n" and result.exit
    assert sh.run("echo still").exit
    assert shell().run("logout").exit


def test_copy_on_write_isolation() -> None:
    one, two = shell(), shell()
    one.run("cd /tmp; echo secret > loot; rm /var/run/telnetd.pid; mkdir /mnt/m")
    assert out(one, "cat /tmp/loot") == "secret\n"
    assert out(two, "cat /tmp/loot") == "cat: can't open '/tmp/loot': No such file or directory\n"
    telnetd = out(two, "cat /var/run/telnetd.pid")
    assert f"{int(telnetd):5d} root     /usr/sbin/telnetd -F\n" in out(two, "ps")
    assert out(one, "cat /var/run/telnetd.pid") == \
        "cat: can't open '/var/run/telnetd.pid': No such file or directory\n"
    assert out(two, "ls /mnt") == ""
    assert out(one, "ls /mnt") == "m\n"
    assert out(shell(), "ls /tmp") == ""


def test_limits_on_files_bytes_and_output() -> None:
    limits = ShellLimits(max_files=5, max_bytes=1000, max_output=300)
    sh = shell(limits)
    sh.run("cd /tmp")
    assert out(sh, "touch a b c d e; touch f") == "touch: f: No space left on device\n"
    assert out(sh, "rm a; echo 1 > g; ls | wc -l") == "5\n"
    payload = "x" * 600
    assert out(sh, f"echo {payload} > b") == ""
    assert out(sh, f"echo {payload} >> b") == "-sh: write error: No space left on device\n"
    assert sh.fs.written <= 1000
    assert len(sh.run("cat /dev/zero").data) == 300
    assert len(sh.run("dd if=/dev/urandom bs=1M count=50").data) == 300


def test_limits_on_lines_and_commands() -> None:
    sh = shell(ShellLimits(max_line=100, max_commands=10))
    result = sh.run("echo " + "a" * 200)
    assert result.output == "-sh: line too long\n"
    assert result.events[0].kind == "command.failed" and len(result.events[0].input or "") <= 100
    result = sh.run("; ".join(["true"] * 9) + "; echo last")
    assert not result.exit and result.output == "last\n"
    result = sh.run("true; true")
    assert result.exit and result.output == ""
    assert sh.run("echo hi").exit


def test_deterministic() -> None:
    lines = ["dd if=/dev/urandom bs=16 count=1", "ps", "uptime", "ls -l /tmp"]
    a, b = shell(seed=7), shell(seed=7)
    for line in lines:
        assert a.run(line) == b.run(line)


def test_unknown_arch_is_refused() -> None:
    with pytest.raises(ValueError):
        shell(arch="vax")


_ALPHABET = st.sampled_from(list(
    "ab /.-*?[]'\"\\$;&|<>()`#{}=\n\t0123456789") + ["echo ", "cd ", "rm -rf ", "cat ", "ls ",
                                                   "busybox ", "wget ", "dd ", "sh -c ", "mkdir ",
                                                   "$(", "${", "2>&1", ">>", "\udc80", "\ud800",
                                                   "é"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(_ALPHABET, max_size=40).map("".join), max_size=6))
def test_random_lines_never_raise(lines: list[str]) -> None:
    limits = ShellLimits(max_files=8, max_bytes=4096, max_line=200, max_commands=50,
                         max_output=2048)
    sh = shell(limits)
    commands = 0
    for line in lines:
        result = sh.run(line)
        assert isinstance(result.output, str)
        assert len(result.data) <= limits.max_output
        commands += len(result.events)
        if result.exit:
            break
    assert sh.fs.written <= limits.max_bytes
    assert sh.fs._files <= limits.max_files
