"""Imports point down the layer map (docs/architecture.md).

The ground floor (text rules, styled text, rates, durations, architecture
names) is what every layer shares, so it imports nothing above it; the
telnet and terminal layers, the guard, the store and the event log build on
it alone; handlers never reach a connection.  The imports are read by
L{tests.imports_graph}, the walk the cycle check uses too: imports under
C{TYPE_CHECKING} count (a type is a dependency too), and relative ones.
"""

from __future__ import annotations

import pytest

from tests.imports_graph import ROOT, Import, imports, modules

# (bbs.guard.addresses is the one rule of what an address or network is, and
# of the network a ban covers: the store files bans by it, the guard matches.
# bbs.turns is the end of a reactor turn, where telnet, the hub and the event
# log send what the turn made.  bbs.sockets and bbs.accept_log are what every
# door does to its sockets under Twisted.  bbs.pubkeys is what an SSH public
# key and its fingerprint are: the /key commands and the SSH door share it.)
GROUND = frozenset({"bbs.arches", "bbs.durations", "bbs.rates", "bbs.styled", "bbs.text",
                    "bbs.turns", "bbs.guard.addresses", "bbs.sockets", "bbs.accept_log",
                    "bbs.pubkeys"})

# A module (or package, with its submodules) and what it may import from bbs.
ALLOWED: dict[str, frozenset[str]] = {
    "bbs.arches": GROUND,
    "bbs.durations": GROUND,
    "bbs.rates": GROUND,
    "bbs.styled": GROUND,
    "bbs.text": GROUND,
    "bbs.turns": GROUND,
    "bbs.sockets": GROUND,
    "bbs.accept_log": GROUND,
    "bbs.pubkeys": GROUND,
    # A door knows the interface it implements, and nothing above it.
    "bbs.door": GROUND,
    "bbs.telnet": GROUND | {"bbs.telnet", "bbs.door"},
    "bbs.doors": GROUND | {"bbs.door"},
    "bbs.web": GROUND | {"bbs.web", "bbs.door", "bbs.doors"},
    "bbs.ssh": GROUND | {"bbs.ssh", "bbs.door", "bbs.doors"},
    "bbs.terminal": GROUND | {"bbs.terminal"},
    "bbs.guard": GROUND | {"bbs.guard"},
    "bbs.store": GROUND | {"bbs.store"},
    "bbs.events": GROUND,
    "bbs.shell": GROUND | {"bbs.shell"},
    "bbs.names": GROUND,
    "bbs.pool": GROUND,
    "bbs.samples": GROUND,
    "bbs.passwords": GROUND | {"bbs.pool"},
    "bbs.context": GROUND | {"bbs.names"},
    # What the hub delivers and its shared rendering: terminal text, door bytes.
    "bbs.lines": GROUND | {"bbs.terminal", "bbs.door"},
}

# What a module must not import.  Handlers are plain functions of a snapshot:
# no connection, no live state.
FORBIDDEN: dict[str, frozenset[str]] = {
    "bbs.commands": frozenset({"bbs.telnet", "bbs.terminal", "bbs.session", "bbs.hub",
                               "bbs.service", "bbs.honeypot", "bbs.shell"}),
    "bbs.effects": frozenset({"bbs.telnet", "bbs.terminal", "bbs.session", "bbs.hub"}),
    # The hub delivers to members; it knows no connection and no session.
    "bbs.hub": frozenset({"bbs.telnet", "bbs.session", "bbs.service", "bbs.honeypot",
                          "bbs.commands"}),
    # Beside the hub, not above it: the length of a room's history is the store's.
    "bbs.history": frozenset({"bbs.hub", "bbs.session", "bbs.service"}),
    # Options are checked against names, not against the shell that uses them.
    "bbs.config": frozenset({"bbs.shell", "bbs.session", "bbs.service", "bbs.hub"}),
    # The sysop's report reads the log; it needs no terminal to measure text.
    "bbs.report": frozenset({"bbs.telnet", "bbs.terminal", "bbs.session", "bbs.service"}),
}


def _imports(module: str) -> list[Import]:
    return imports(module, MODULES[module], MODULES)


def _within(module: str, prefixes: frozenset[str]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def _owner(module: str, table: dict[str, frozenset[str]]) -> str | None:
    return next((p for p in table if module == p or module.startswith(p + ".")), None)


MODULES = modules()


def test_the_walk_sees_the_layers() -> None:
    for name in (*GROUND, "bbs.telnet.protocol", "bbs.telnet.parser", "bbs.terminal.editor",
                 "bbs.commands.chat", "bbs.store.sqlite", "bbs.shell.applets.registry"):
        assert name in MODULES, name


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_down(module: str) -> None:
    allowed_key = _owner(module, ALLOWED)
    forbidden_key = _owner(module, FORBIDDEN)
    wrong = []
    for found in _imports(module):
        target = found.target
        if _within(target, frozenset({module})):
            continue
        if allowed_key is not None and not _within(target, ALLOWED[allowed_key]):
            wrong.append(f"line {found.line}: {target}")
        if forbidden_key is not None and _within(target, FORBIDDEN[forbidden_key]):
            wrong.append(f"line {found.line}: {target}")
    assert wrong == [], f"{module} imports above its layer: {wrong}"


def _unit(module: str) -> str:
    """What shares private names: a package (C{bbs.shell}), or a top-level module."""
    return ".".join(module.split(".")[:2])


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_imports_another_ones_private_names(module: str) -> None:
    private = [f"line {i.line}: {i.module}.{i.name}" for i in _imports(module)
               if i.name.startswith("_") and _unit(i.module) != _unit(module)]
    assert private == [], f"{module} reaches into private names: {private}"


def test_the_telnet_parser_is_sans_io() -> None:
    """The parser is bytes in, events out: no reactor, transport, socket or
    clock, not even under C{TYPE_CHECKING}; only the adapter knows Twisted."""
    import ast

    tree = ast.parse(MODULES["bbs.telnet.parser"].read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
        elif isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
    io = {name for name in imported if name.split(".")[0] in ("twisted", "socket", "time", "asyncio")
          or name in ("bbs.rates", "bbs.turns") or name.startswith(("bbs.telnet.protocol",
                                                                    "bbs.sockets"))}
    assert io == set(), f"bbs.telnet.parser imports I/O: {sorted(io)}"


def test_importing_the_telnet_parser_loads_no_twisted() -> None:
    """Nor does anything it imports, all the way down."""
    import subprocess
    import sys

    code = ("import sys, bbs.telnet.parser; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'twisted'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT).stdout
    assert out.strip() == "[]"
