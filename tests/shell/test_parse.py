"""Script parsing: the tree ash would see."""

from __future__ import annotations

import pytest

from bbs.shell.parse import Incomplete, ShellSyntaxError, parse
from bbs.shell.syntax import Case, Command, For, Group, If, Loop, Redirect, Word


def commands(line: str) -> list[Command]:
    """The simple commands of a flat script, in order."""
    return [node for item in parse(line) for step in item.steps
            for node in step.pipeline.commands]  # type: ignore[misc]


def texts(word: Word) -> list[tuple[str, str, bool]]:
    return [(p.kind, p.text, p.quoted) for p in word.parts]


def test_operators_and_sources() -> None:
    script = parse("a 1;b&&c||d | e & f")
    assert [[s.op for s in item.steps] for item in script] == [[";"], [";", "&&", "||"], [";"]]
    assert [c.source for c in commands("a 1;b&&c||d | e & f")] == ["a 1", "b", "c", "d", "e", "f"]
    assert [c.source for c in commands("cat nope 2>/dev/null; echo x >f")] == [
        "cat nope 2>/dev/null", "echo x >f"]


def test_quoting_and_expansions_are_kept_as_parts() -> None:
    (c,) = commands(r"""echo 'a b' "c $HOME" ${x:-d e} $(id) `uname` $((1+2)) f\ g""")
    assert [texts(w) for w in c.words[1:]] == [
        [("lit", "a b", True)],
        [("lit", "c ", True), ("var", "HOME", True)],
        [("var", "x", False)],
        [("cmd", "id", False)],
        [("cmd", "uname", False)],
        [("arith", "1+2", False)],
        [("lit", "f", False), ("lit", " ", True), ("lit", "g", False)],
    ]
    assert c.words[3].parts[0].op == ":-"
    assert texts(c.words[3].parts[0].arg) == [("lit", "d e", False)]  # type: ignore[arg-type]


def test_redirections() -> None:
    (c,) = commands("cmd >out 2>>err <in 2>&1 3>x")
    assert [(r.fd, r.op, r.target.parts[0].text) for r in c.redirects] == [
        (1, ">", "out"), (2, ">>", "err"), (0, "<", "in"), (2, ">&", "1"), (3, ">", "x")]
    (only,) = commands(">f")
    assert only.words == () and isinstance(only.redirects[0], Redirect)


def test_here_documents() -> None:
    (c, after) = commands("cat <<EOF\nhello $USER\nEOF\necho after")
    (doc,) = c.redirects
    assert doc.op == "<<" and not doc.quoted
    assert texts(doc.body) == [("lit", "hello ", True), ("var", "USER", True), ("lit", "\n", True)]
    assert after.source == "echo after"
    (c,) = commands("cat <<-'X'\n\t$raw\n\tX")
    assert c.redirects[0].quoted and texts(c.redirects[0].body) == [("lit", "$raw\n", True)]


def test_compound_commands() -> None:
    (item,) = parse("while read i; do echo $i; done < .s")
    loop = item.steps[0].pipeline.commands[0]
    assert isinstance(loop, Loop) and not loop.until and loop.redirects[0].op == "<"
    (item,) = parse("for i in 1 2; do echo $i; done")
    assert isinstance(item.steps[0].pipeline.commands[0], For)
    (item,) = parse("if a; then b; elif c; then d; else e; fi")
    node = item.steps[0].pipeline.commands[0]
    assert isinstance(node, If) and len(node.branches) == 2 and node.otherwise
    (item,) = parse("case $x in a|b) echo 1;; *) echo 2;; esac")
    node = item.steps[0].pipeline.commands[0]
    assert isinstance(node, Case) and [len(p) for p, _ in node.arms] == [2, 1]
    (item,) = parse("(cd /tmp; ls) >f; { echo a; }")[0:1]
    assert isinstance(item.steps[0].pipeline.commands[0], Group)
    assert parse("! true")[0].steps[0].pipeline.negate


def test_comments_and_blank_lines() -> None:
    assert parse("# nothing") == ()
    assert parse("   ") == ()
    assert [c.source for c in commands("echo a # b")] == ["echo a"]
    assert [len(c.words) for c in commands("echo a#b")] == [2]
    assert len(commands("a\n\nb")) == 2


@pytest.mark.parametrize("line", [
    "a |", "a ||", "echo 'x", 'echo "x', "cat <<EOF", "if true; then", "while true; do echo",
    "for i in 1", "case x in", "echo $(id", "echo `id", "echo ${x",
])
def test_unfinished_scripts_ask_for_more(line: str) -> None:
    with pytest.raises(Incomplete):
        parse(line)


@pytest.mark.parametrize("line,message", [
    ("| a", 'syntax error: unexpected "|"'),
    ("a ;; b", 'syntax error: unexpected ";;"'),
    ("; ls", 'syntax error: unexpected ";"'),
    ("echo > ;", 'syntax error: unexpected ";"'),
    ("fi", 'syntax error: unexpected "fi"'),
    ("do echo", 'syntax error: unexpected "do"'),
    ("a )", 'syntax error: unexpected ")"'),
    ("echo ${a b}", "syntax error: bad substitution"),
    ("if then fi", 'syntax error: unexpected "then"'),
])
def test_syntax_errors(line: str, message: str) -> None:
    with pytest.raises(ShellSyntaxError) as e:
        parse(line)
    assert str(e.value) == message and not isinstance(e.value, Incomplete)


def test_nesting_is_bounded() -> None:
    with pytest.raises(ShellSyntaxError):
        parse("echo " + "$(" * 40 + "id" + ")" * 40)


def test_glob_pattern_only_when_unquoted() -> None:
    def first(line: str) -> Word:
        return commands(line)[0].words[0]

    assert first("*.sh").pattern == "*.sh"
    assert first("'*.sh'").pattern is None
    assert first("a\\*").pattern is None
    assert first("plain").pattern is None
    assert first("X=1").assignment == "X"
    assert first("'X'=1").assignment is None
