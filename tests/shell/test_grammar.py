"""The shell grammar, builtins, /proc, delays and per-sensor variation bots
meet in the fake BusyBox."""

from __future__ import annotations

import time

import pytest
from twisted.internet.task import Clock

from bbs.shell import BusyBoxShell, ShellLimits
from bbs.shell.regex import Regex, RegexError

START = 1_795_777_200.0


def shell(limits: ShellLimits = ShellLimits(), **kwargs: object) -> BusyBoxShell:
    clock = Clock()
    clock.advance(START)
    return BusyBoxShell(clock=clock, limits=limits, **kwargs)  # type: ignore[arg-type]


def out(sh: BusyBoxShell, line: str) -> str:
    return sh.run(line).output


@pytest.mark.parametrize("line,expected", [
    ("for i in 1 2 3; do echo $i; done", "1\n2\n3\n"),
    ("for f in /bin/c*; do echo $f; done", "/bin/cat\n/bin/chmod\n/bin/cp\n"),
    ("i=0; while [ $i -lt 3 ]; do echo $i; i=$((i+1)); done", "0\n1\n2\n"),
    ("until true; do echo no; done; echo yes", "yes\n"),
    ("if [ -d /tmp ]; then echo dir; elif true; then echo no; else echo no; fi", "dir\n"),
    ("if false; then echo a; else echo b; fi", "b\n"),
    ("case armv7l in mips*) echo m;; arm*) echo a;; *) echo o;; esac", "a\n"),
    ("x=$(echo hi); echo $x `echo back` \"$(echo 'q  r')\"", "hi back q  r\n"),
    ("echo $((3*7)) $((10/3)) $((1<<4)) $((7%3)) $((-2+1)) $((0x10))", "21 3 16 1 -1 16\n"),
    ("echo ${u:-dflt} ${u-x} ${HOME:+set} ${#HOME} ${u:=new} $u", "dflt x set 5 new new\n"),
    ("f=/tmp/a.tar.gz; echo ${f##*/} ${f%.*} ${f#*.} ${f%%.*}", "a.tar.gz /tmp/a.tar tar.gz /tmp/a\n"),
    ("echo ${nope:?missing}; echo after", "-sh: nope: missing\nafter\n"),
    ("echo $((1/0)); echo after", "-sh: divide by zero\nafter\n"),
    ("for i in 1 2 3; do [ $i = 2 ] && continue; [ $i = 3 ] && break; echo $i; done", "1\n"),
    ("! false && echo negated", "negated\n"),
    ("{ echo a; echo b; } | wc -l", "2\n"),
    ("(cd /tmp; pwd); pwd", "/tmp\n/root\n"),
    ("set -- a 'b c'; echo $# $2; shift; echo $1", "2 b c\nb c\n"),
    ("printf '%s=%d %x %5s|%-3s|%c %%\\n' k 42 255 r l chr", "k=42 ff     r|l  |c %\n"),
    ("printf '%s\\n' a b c", "a\nb\nc\n"),
    ("printf '%d\\n' abc", "sh: invalid number 'abc'\n0\n"),
    ("test 1 -eq 1 && [ a != b ] && [ -n x -a -z '' ] && [ ! -e /nope ] && echo ok", "ok\n"),
    ("[ 1; echo $?", "sh: missing ]\n2\n"),
    ("[ 1 -eq a ]; echo $?", "sh: a: bad number\n2\n"),
    ("[ -x /bin/busybox ] && [ -w /tmp ] && ! [ -w /bin ] && echo probes", "probes\n"),
    ("type echo ls if nosuch", "echo is a shell builtin\nls is ls\nif is a shell keyword\n"
                               "nosuch: not found\n"),
    ("ulimit; ulimit -n; ulimit -n 99999; ulimit -n 2048; ulimit -n",
     "unlimited\n1024\nsh: error setting limit: Operation not permitted\n2048\n"),
    ("eval 'echo $HOME'", "/root\n"),
    ("which wget sh nosuch; echo $?", "/usr/bin/wget\n/bin/sh\n1\n"),
    ("echo $RANDOM | grep -c '^[0-9][0-9]*$'", "1\n"),
    ("readonly R=1; R=2; echo $R", "-sh: R: is read only\n1\n"),
    ("local x", "-sh: local: not in a function\n"),
    ("exec 2>&1; echo still", "still\n"),
])
def test_grammar(line: str, expected: str) -> None:
    assert out(shell(), line) == expected


def test_enable_and_friends_are_not_found() -> None:
    sh = shell()
    for word in ("enable", "system", "shell", "linuxshell"):
        result = sh.run(word)
        assert result.output == f"-sh: {word}: not found\n"
        assert [e.kind for e in result.events] == ["command.failed"]


def test_here_documents_and_read_loops() -> None:
    sh = shell()
    assert out(sh, "cat <<EOF\nhome $HOME\nEOF") == "home /root\n"
    assert out(sh, "cat <<'EOF'\nhome $HOME\nEOF") == "home $HOME\n"
    assert out(sh, "read a b <<EOF\none two three\nEOF\necho $b") == "two three\n"
    sh.run("cd /tmp; echo -e 'x\\ny z' > .s")
    assert out(sh, "while read i; do echo \"<$i>\"; done < .s") == "<x>\n<y z>\n"
    assert out(sh, "dd bs=52 count=1 if=.none || cat .none || "
                   "while read i; do echo $i; done < .none") == (
        "dd: can't open '.none': No such file or directory\n"
        "cat: can't open '.none': No such file or directory\n"
        "-sh: can't open .none: no such file\n")


def test_a_script_typed_over_lines_waits_at_the_continuation_prompt() -> None:
    sh = shell()
    assert sh.prompt == "# "
    assert out(sh, "for i in 1 2") == "" and sh.prompt == "> "
    assert out(sh, "do echo $i") == "" and sh.prompt == "> "
    assert out(sh, "done") == "1\n2\n" and sh.prompt == "# "
    assert out(sh, "cat <<EOF") == "" and sh.prompt == "> "
    assert out(sh, "text") == ""
    assert out(sh, "EOF") == "text\n" and sh.prompt == "# "


def test_loops_and_substitutions_are_bounded() -> None:
    limits = ShellLimits(max_iterations=50, max_commands=10_000, max_output=4096)
    sh = shell(limits)
    started = time.monotonic()
    result = sh.run("while true; do echo spin; done; echo after")
    assert result.output.count("spin") == 50 and result.output.endswith("after\n")
    result = sh.run("for i in 1 2 3 4 5 6 7 8 9; do for j in 1 2 3 4 5 6 7 8 9; do "
                    "echo $i$j; done; done | wc -l")
    assert result.output == "81\n"
    assert len(sh.run("while true; do echo xxxxxxxxxxxxxxxx; done").data) <= 4096
    assert "can't fork" in out(sh, "echo " + "$(echo " * 6 + "x" + ")" * 6)
    assert time.monotonic() - started < 5
    # The command budget still ends a session that loops for ever.
    sh = shell(ShellLimits(max_commands=100))
    assert sh.run("while true; do true; done").exit


def test_ps_shows_the_whole_pipeline() -> None:
    sh = shell()
    lines = out(sh, "ps | grep x").splitlines()
    assert len(lines) == 1 and lines[0].endswith(" root     grep x")
    assert out(sh, "ps | grep -c '[{]ps} -sh'") == "1\n"
    assert out(sh, "ps | grep -c grep") == "1\n"  # the pipeline ended: no grep left over


def test_proc_self_and_pid_directories() -> None:
    sh = shell(arch="mips")
    busybox = sh.fs.read("/bin/busybox", 1 << 22)
    assert sh.run("cat /proc/self/exe").data == busybox
    assert out(sh, "cat /proc/self/cmdline") == "cat\0/proc/self/cmdline\0"
    assert out(sh, "head -n 1 /proc/self/status") == "Name:\thead\n"
    assert out(sh, "ls -l /proc/self/exe").split()[-3:] == ["/proc/self/exe", "->",
                                                             "/bin/busybox"]
    pids = out(sh, "ls /proc").split()
    assert "self" in pids and "1" in pids and str(sh.pid) in pids
    assert out(sh, f"cat /proc/{sh.pid}/cmdline") == "-sh\0"
    telnetd = out(sh, "cat /var/run/telnetd.pid").strip()
    assert out(sh, f"cat /proc/{telnetd}/cmdline") == "/usr/sbin/telnetd\0-F\0"
    assert out(sh, f"kill {telnetd}; cat /proc/{telnetd}/cmdline") == \
        f"cat: can't open '/proc/{telnetd}/cmdline': No such file or directory\n"
    assert out(sh, "for p in /proc/[0-9]*; do cat $p/cmdline; done | grep -c main") == "1\n"


def test_system_applets_agree_with_each_other() -> None:
    sh = shell(sensor="x")
    mount = out(sh, "mount")
    assert "/dev/root on / type squashfs (ro,relatime)\n" in mount
    assert "tmpfs on /tmp type tmpfs (rw,relatime)\n" in mount
    ifconfig = out(sh, "ifconfig eth0")
    assert f"HWaddr {sh.sensor.mac}" in ifconfig and f"inet addr:{sh.sensor.address}" in ifconfig
    assert out(sh, "ifconfig wlan9") == \
        "ifconfig: wlan9: error fetching interface information: Device not found\n"
    assert out(sh, "netstat -an | head -n 3") == (
        "Active Internet connections (servers and established)\n"
        "Proto Recv-Q Send-Q Local Address           Foreign Address         State       \n"
        "tcp        0      0 0.0.0.0:23              0.0.0.0:*               LISTEN      \n")
    top = out(sh, "top -bn1").splitlines()
    assert top[0].startswith("Mem: ") and top[3].split() == [
        "PID", "PPID", "USER", "STAT", "VSZ", "%VSZ", "%CPU", "COMMAND"]
    assert any(line.endswith(" top -bn1") for line in top)
    help_text = out(sh, "help")
    assert help_text.startswith("Built-in commands:\n------------------\n\t. : [ [[ alias bg ")
    assert " ulimit umask unalias unset wait " in help_text.replace("\n\t", " ")
    listing = out(sh, "busybox")
    assert listing.startswith(f"{sh.sensor.busybox} multi-call binary.\n")
    assert "\twget, which, whoami\n" in listing or "which, whoami" in listing


def test_delays_are_pauses_for_the_caller() -> None:
    sh = shell(ShellLimits(max_delay=12.0))
    result = sh.run("echo a; sleep 2; echo b")
    assert result.output == "a\nb\n" and result.pauses == ((2, 2.0),)
    result = sh.run("wget http://198.51.100.1/x")
    assert result.delay == 5.0
    assert result.output.index("Connecting") < result.pauses[0][0]  # the wait comes after it
    assert sh.run("sleep 1m").delay == 12.0  # within the line's limit
    result = sh.run("date +%s; sleep 3; date +%s")
    first, second = result.output.split()
    assert int(second) - int(first) == 3
    assert sh.run("sleep 0; echo x").pauses == ()


def test_per_sensor_variation_is_consistent() -> None:
    a, b, a2 = shell(sensor="one"), shell(sensor="two"), shell(sensor="one")
    probe = "hostname; uname -v; cat /var/run/telnetd.pid; cat /etc/shadow | head -n 1; uptime"
    assert out(a, probe) == out(a2, probe)
    assert out(a, probe) != out(b, probe)
    assert a.banner_after_login() == a2.banner_after_login() != b.banner_after_login()
    assert a.sensor.stamp in out(a, "cat /etc/version")
    assert shell(sensor="one", hostname="cam01").hostname == "cam01"


def test_regex_matches_in_linear_time() -> None:
    assert Regex.compile(b"^ab*c$").search(b"abbbc")
    assert not Regex.compile(b"^ab*c$").search(b"abbbcd")
    assert Regex.compile(b"[[:digit:]][[:digit:]]*").search(b"x42")
    assert Regex.compile(b"a.c").search(b"xxabcxx") and not Regex.compile(b"a.c").search(b"ac")
    assert Regex.compile(b"cat|dog", extended=True).search(b"hotdog")
    assert Regex.compile(b"x+y?z", extended=True).search(b"xxz")
    assert Regex.compile(b"MODEL", fold=True).search(b"model name", fold=True)
    with pytest.raises(RegexError):
        Regex.compile(b"[abc")
    started = time.monotonic()
    assert not Regex.compile(b"a*a*a*a*a*a*a*a*b").search(b"a" * 20_000)
    assert time.monotonic() - started < 2


def test_small_applets() -> None:
    sh = shell()
    telnetd = out(sh, "pidof telnetd").strip()
    assert out(sh, "cat /var/run/telnetd.pid").strip() == telnetd
    assert out(sh, "killall -9 telnetd; pidof telnetd; echo $?") == "1\n"
    assert out(sh, "killall -9 nosuch; echo $?") == "killall: nosuch: no process killed\n1\n"
    assert out(sh, "cd /tmp; ln -s /bin/busybox bb; ./bb echo via; readlink bb; ls -l bb"
               ).startswith("bb: applet not found\n/bin/busybox\nlrwxrwxrwx")
    assert out(sh, "ln -s /bin/busybox /tmp/echo; /tmp/echo via") == "via\n"
    assert out(sh, "ln -s x /bin/y") == "ln: /bin/y: Read-only file system\n"
    assert out(sh, "cp /bin/busybox /tmp/kami; /tmp/kami echo x") == "kami: applet not found\n"
    assert out(sh, "basename /tmp/a.sh .sh; dirname /tmp/a.sh; seq 2 4 | tee /tmp/n | wc -l") == \
        "a\n/tmp\n3\n"
    assert out(sh, "cat /tmp/n") == "2\n3\n4\n"
    assert out(sh, "echo -n abc | md5sum") == "900150983cd24fb0d6963f7d28e17f72  -\n"
    assert out(sh, "sha256sum /nope") == \
        "sha256sum: can't open '/nope': No such file or directory\n"


@pytest.mark.parametrize("line,message", [
    ("(" * 3000 + "echo x" + ")" * 3000, "-sh: syntax error: nesting too deep\n"),
    ("{ " * 2000 + "echo x" + "; }" * 2000, "-sh: syntax error: nesting too deep\n"),
    ("echo ${x:-" * 1000 + "y" + "}" * 1000, "-sh: syntax error: bad substitution\n"),
    ("echo $((" + "(" * 500 + "1" + ")" * 500 + "))", "-sh: arithmetic syntax error\n"),
    ("echo $((" + "-" * 1000 + "1))", "-sh: arithmetic syntax error\n"),
    ("echo " + "$(echo " * 14 + "x" + ")" * 14,
     "-sh: can't fork: Resource temporarily unavailable\n"),
], ids=["subshells", "groups", "parameters", "parentheses", "signs", "substitutions"])
def test_deep_nesting_is_refused_quickly(line: str, message: str) -> None:
    started = time.monotonic()
    assert message in out(shell(), line)
    assert time.monotonic() - started < 2
