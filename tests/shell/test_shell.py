"""The shell's grammar, semantics, isolation and limits."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bbs.shell import ShellLimits
from tests.shell.run import out, shell


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


# The grammar, built-ins, delays and per-sensor variation bots meet.


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
