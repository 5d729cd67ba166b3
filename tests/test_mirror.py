"""tests/ mirrors bbs/ module by module, so that the tests of a module are
found by its name: those of bbs/X/Y.py are in tests/X/test_Y.py, those of a
package's own code (bbs/X/__init__.py) in tests/X/test_X.py.

A module needs a mirror when it has code: a function or a class.  A module of
names and constants only (bbs/arches.py, bbs/states.py, bbs/store/bounds.py)
or an entry point that only imports names (bbs/shell/__init__.py) needs none.
A module with code and no mirror must be named below with the test modules
that cover it; an entry there that is no longer true fails too, so the list
stays honest.  Tests of behaviour that cuts across modules (tests/core, e2e,
hardening, bench) live in directories named for what they test, apart.
"""

from __future__ import annotations

import ast
from pathlib import Path, PurePosixPath

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Modules with code whose tests are another module's, and where they are.
COVERED_ELSEWHERE: dict[str, str] = {
    # The registry and the command catalogue: every handler test looks its
    # command up through them.
    "bbs/commands/__init__.py": "tests/commands/test_chat.py, test_accounts.py, test_sysop.py",
    "bbs/commands/catalog.py": "tests/commands/test_chat.py (/help lists the catalogue)",
    # Parts of a session, driven through a session.
    "bbs/applying.py": "tests/test_session.py, tests/core/test_defences.py, test_front_door.py",
    # Values a handler reads and returns, tested with the handlers and the
    # sessions that apply them.
    "bbs/context.py": "tests/commands/ (every handler reads a Context made by invoke.ctx)",
    "bbs/effects.py": "tests/commands/, tests/core/test_defences.py (sessions apply them)",
    "bbs/history.py": "tests/test_hub.py (joining replays a room's last lines)",
    # The report is tested whole, through hfnjbbs-admin report.
    "bbs/report/reading.py": "tests/report/test_report.py",
    "bbs/report/render.py": "tests/report/test_report.py",
    "bbs/report/values.py": "tests/report/test_report.py",
    # Applets run by lines typed at the shell, as a bot runs them.
    "bbs/shell/applets/builtins.py": "tests/shell/test_shell.py (cd, export, read, help...)",
    "bbs/shell/applets/network.py": "tests/shell/test_mirai.py, test_payloads.py (wget, tftp)",
    "bbs/shell/applets/program.py": "tests/shell/test_shell.py (what every applet runs with)",
    "bbs/shell/applets/registry.py": "tests/shell/test_shell.py, applets/test_system.py (usage)",
    "bbs/shell/applets/text.py": "tests/shell/test_shell.py (echo, cat, grep, head in pipes)",
    # Parts of the interpreter and its values, through the interpreter.
    "bbs/shell/arith.py": "tests/shell/test_shell.py (test_grammar: $((...)))",
    "bbs/shell/limits.py": "tests/shell/test_shell.py (test_limits_*)",
    "bbs/shell/results.py": "tests/shell/test_shell.py, tests/test_events.py",
    "bbs/shell/sensor.py": "tests/shell/test_shell.py (test_per_sensor_variation_is_consistent)",
    "bbs/shell/syntax.py": "tests/shell/test_parse.py (the trees the parser builds)",
    # The character-mode bindings, driven by keys fed to an editor.
    "bbs/terminal/keymap.py": "tests/terminal/test_editor.py (test_left, test_kill_keys, history, Tab)",
    # One value of bounds, tested where each bound is enforced.
    "bbs/telnet/limits.py": "tests/telnet/test_parser.py, test_protocol.py, test_sockets.py",
    # The store's interface, values and errors, with the store that has them.
    "bbs/store/errors.py": "tests/store/test_sqlite.py",
    "bbs/store/interface.py": "tests/store/test_sqlite.py (verifyObject(IStore, store))",
    "bbs/store/records.py": "tests/store/test_sqlite.py",
    # Conch's services and listener narrowed to the door: driven by real clients.
    "bbs/ssh/services.py": "tests/e2e/test_ssh.py, test_ssh_bots.py, test_ssh_hostile.py "
                           "(OpenSSH's and asyncssh's clients: keys, keyboard-interactive, "
                           "passwords, channels refused)",
    "bbs/ssh/factory.py": "tests/e2e/test_ssh.py, test_ssh_bots.py (every connection)",
}

# Modules being reorganised by other hands; whatever arrives under these
# prefixes is mirrored by tests/telnet/ until that settles.
BEING_REORGANISED: dict[str, str] = {}


def has_code(source: str) -> bool:
    """Whether a module defines a function or a class: logic a test can hold."""
    return any(
        isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        for node in ast.walk(ast.parse(source))
    )


def mirror(module: PurePosixPath) -> PurePosixPath:
    """Where the tests of C{module} (a path under the package) are."""
    package = module.parent.parts[1:]
    name = package[-1] if module.name == "__init__.py" and package else module.stem
    return PurePosixPath("tests", *package, f"test_{name}.py")


def modules_with_code(root: Path, package: str = "bbs") -> list[PurePosixPath]:
    return sorted(
        PurePosixPath(path.relative_to(root).as_posix())
        for path in (root / package).rglob("*.py")
        if has_code(path.read_text(encoding="utf-8"))
    )


def unmirrored(root: Path, covered: dict[str, str], reorganised: dict[str, str]) -> list[str]:
    """Modules with code, neither mirrored nor named as covered elsewhere."""
    return [
        f"{module}: no {mirror(module)}"
        for module in modules_with_code(root)
        if str(module) not in covered
        and not str(module).startswith(tuple(reorganised))
        and not (root / mirror(module)).is_file()
    ]


def stale(root: Path, covered: dict[str, str]) -> list[str]:
    """Entries of C{covered} that name no module with code, or one now mirrored."""
    with_code = {str(m) for m in modules_with_code(root)}
    found = []
    for name in covered:
        tests = mirror(PurePosixPath(name))
        if name not in with_code:
            found.append(f"{name}: has no code here")
        elif (root / tests).is_file():
            found.append(f"{name}: {tests} exists")
    return found


def test_every_module_with_code_has_its_tests_at_its_mirror() -> None:
    assert unmirrored(ROOT, COVERED_ELSEWHERE, BEING_REORGANISED) == []


def test_every_exception_is_still_needed() -> None:
    assert stale(ROOT, COVERED_ELSEWHERE) == []


@pytest.mark.parametrize(("module", "tests"), [
    ("bbs/hub.py", "tests/test_hub.py"),
    ("bbs/store/sqlite.py", "tests/store/test_sqlite.py"),
    ("bbs/shell/applets/text.py", "tests/shell/applets/test_text.py"),
    ("bbs/report/__init__.py", "tests/report/test_report.py"),
])
def test_the_mirror_of_a_module(module: str, tests: str) -> None:
    assert mirror(PurePosixPath(module)) == PurePosixPath(tests)


def _tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def test_the_check_fails_without_a_mirror_and_passes_once_it_exists(tmp_path: Path) -> None:
    _tree(tmp_path, {
        "bbs/__init__.py": '"""The package."""\n',
        "bbs/data.py": "NAMES = ('a', 'b')\n",
        "bbs/hub.py": "def join(): ...\n",
        "bbs/pkg/__init__.py": "class Registry: ...\n",
        "bbs/pkg/leaf.py": "from bbs.pkg import Registry\n\n\nclass Leaf(Registry): ...\n",
        "bbs/telnet/parser.py": "def parse(): ...\n",
        "tests/test_hub.py": "",
    })
    assert unmirrored(tmp_path, {}, {"bbs/telnet/": "elsewhere"}) == [
        "bbs/pkg/__init__.py: no tests/pkg/test_pkg.py",
        "bbs/pkg/leaf.py: no tests/pkg/test_leaf.py",
    ]
    assert unmirrored(tmp_path, {"bbs/pkg/leaf.py": "tests/test_hub.py"}, {"bbs/telnet/": ""}) == [
        "bbs/pkg/__init__.py: no tests/pkg/test_pkg.py",
    ]
    _tree(tmp_path, {"tests/pkg/test_pkg.py": "", "tests/pkg/test_leaf.py": ""})
    assert unmirrored(tmp_path, {}, {"bbs/telnet/": ""}) == []
    assert stale(tmp_path, {"bbs/pkg/leaf.py": "x", "bbs/data.py": "y", "bbs/gone.py": "z"}) == [
        "bbs/pkg/leaf.py: tests/pkg/test_leaf.py exists",
        "bbs/data.py: has no code here",
        "bbs/gone.py: has no code here",
    ]
