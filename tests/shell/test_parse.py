"""Command-line parsing: the structure ash would see."""

from __future__ import annotations

import pytest

from bbs.shell.parse import Redirect, ShellSyntaxError, Word, expand, parse


def words(line: str, env: dict[str, str] | None = None) -> list[list[str]]:
    """Each command's expanded argv."""
    return [
        [field for word in command.words for field in expand(word, env or {})]
        for step in parse(line) for command in step.pipeline
    ]


def test_operators_and_sources() -> None:
    steps = parse("a 1;b&&c||d | e & f")
    assert [s.op for s in steps] == [";", ";", "&&", "||", ";"]
    assert [[c.source for c in s.pipeline] for s in steps] == [
        ["a 1"], ["b"], ["c"], ["d", "e"], ["f"]]


def test_quoting() -> None:
    assert words(r"""echo 'a b' "c \"d\" \$e \x" f\ g h\\""") == [
        ["echo", "a b", 'c "d" $e \\x', "f g", "h\\"]]
    assert words("echo '' \"\" x") == [["echo", "", "", "x"]]
    assert words("a\\\nb") == [["ab"]]


def test_variables_split_only_when_unquoted() -> None:
    env = {"A": " p  q ", "E": ""}
    assert words('x$A"$A"$E y', env) == [["x", "p", "q", " p  q ", "y"]]
    assert words("$E", env) == [[]]
    assert words('"$E"', env) == [[""]]
    assert words("${A}z $? $$ $9 $", {"A": "1", "?": "0", "$": "7"}) == [["1z", "0", "7", "$"]]


def test_redirections() -> None:
    (step,) = parse("cmd >out 2>>err <in 2>&1 3>x")
    (command,) = step.pipeline
    assert [(r.fd, r.op, r.target.parts[0].text) for r in command.redirects] == [
        (1, ">", "out"), (2, ">>", "err"), (0, "<", "in"), (2, ">&", "1"), (3, ">", "x")]
    assert [w.parts[0].text for w in command.words] == ["cmd"]
    (only,) = parse(">f")[0].pipeline
    assert only.words == () and isinstance(only.redirects[0], Redirect)


def test_comments_and_blank_lines() -> None:
    assert parse("# nothing") == ()
    assert parse("   ") == ()
    assert words("echo a # b") == [["echo", "a"]]
    assert words("echo a#b") == [["echo", "a#b"]]
    assert words("a\n\nb") == [["a"], ["b"]]


@pytest.mark.parametrize("line,message", [
    ("a |", "syntax error: unexpected end of file"),
    ("a ||", "syntax error: unexpected end of file"),
    ("| a", 'syntax error: unexpected "|"'),
    ("a ;; b", 'syntax error: unexpected ";;"'),
    ("echo >", "syntax error: unexpected newline"),
    ("echo > ;", 'syntax error: unexpected ";"'),
    ("(a)", 'syntax error: unexpected "("'),
    ("cat <<EOF", 'syntax error: unexpected "<<"'),
    ("echo 'x", "syntax error: unterminated quoted string"),
    ('echo "x', "syntax error: unterminated quoted string"),
    ("echo ${a b}", "syntax error: bad substitution"),
    ("echo `id`", "can't fork: Out of memory"),
    ("echo $(id)", "can't fork: Out of memory"),
    ("for i in 1; do x; done", 'syntax error: unexpected "for"'),
])
def test_syntax_errors(line: str, message: str) -> None:
    with pytest.raises(ShellSyntaxError) as e:
        parse(line)
    assert str(e.value) == message


def test_glob_pattern_only_when_unquoted() -> None:
    def first(line: str) -> Word:
        return parse(line)[0].pipeline[0].words[0]

    assert first("*.sh").pattern == "*.sh"
    assert first("'*.sh'").pattern is None
    assert first("a\\*").pattern is None
    assert first("plain").pattern is None
    assert first("X=1").assignment == "X"
    assert first("'X'=1").assignment is None
