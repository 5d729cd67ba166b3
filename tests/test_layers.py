"""Imports point down the layer map: no cycle between modules of C{bbs}, and
no door (C{bbs.telnet}, C{bbs.web}, C{bbs.ssh}) imported by what sits above the doors.

The imports are read by L{tests.imports_graph}, which counts every one: at
module level, inside a function, under C{if TYPE_CHECKING:}, and relative.
"""

from __future__ import annotations

from pathlib import Path

from tests.imports_graph import graph, imported

# What sits above the doors and must reach them only through the door interface.
ABOVE_DOORS = ("bbs.session", "bbs.applying", "bbs.hub", "bbs.lines", "bbs.commands",
               "bbs.honeypot", "bbs.shell")
DOORS = ("bbs.telnet", "bbs.web", "bbs.ssh")  # each door's package


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan),
    each as one cycle through it to show."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return [_cycle_through(c, edges) for c in components]


def _cycle_through(component: list[str], edges: dict[str, set[str]]) -> list[str]:
    """One cycle inside a strongly connected C{component}, as a path a → … → a."""
    members = set(component)
    start = component[0]
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(edges[v] & members):
                if w == start:
                    return paths[v] + [start]
                if w not in paths:
                    paths[w] = paths[v] + [w]
                    nxt.append(w)
        frontier = nxt
    return component


def door_imports(edges: dict[str, set[str]]) -> set[tuple[str, str]]:
    return {
        (name, target)
        for name, targets in edges.items()
        if any(name == a or name.startswith(a + ".") for a in ABOVE_DOORS)
        for target in targets
        if any(target == door or target.startswith(door + ".") for door in DOORS)
    }


def test_the_walk_sees_every_kind_of_import(tmp_path: Path) -> None:
    """The checks below are only as good as the walk: it finds imports at
    module level, in functions, under TYPE_CHECKING, and relative ones."""
    source = tmp_path / "m.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "import bbs.a\n"
        "from . import b\n"
        "from .c import thing\n"
        "if TYPE_CHECKING:\n"
        "    from bbs.d import D\n"
        "def f():\n"
        "    from bbs.e import E\n",
        encoding="utf-8",
    )
    known = {"bbs", "bbs.a", "bbs.b", "bbs.c", "bbs.d", "bbs.e", "bbs.m"}
    assert imported("bbs.m", source, known) == {"bbs.a", "bbs.b", "bbs.c", "bbs.d", "bbs.e"}


def test_a_cycle_is_found_and_shown() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(edges) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_in_bbs() -> None:
    edges = graph()
    assert {"bbs.session", "bbs.server", "bbs.service"} <= set(edges)  # the walk saw bbs/
    assert "bbs.session" in edges["bbs.server"]
    found = cycles(edges)
    assert not found, "import cycles in bbs/: " + "; ".join(" -> ".join(c) for c in found)


def test_nothing_above_the_doors_imports_telnet() -> None:
    offenders = door_imports(graph())
    assert not offenders, "imports of bbs.telnet from above the doors: " + ", ".join(
        f"{a} -> {b}" for a, b in sorted(offenders))


def test_the_door_rule_names_an_import_of_telnet_from_above() -> None:
    edges = {"bbs.session": {"bbs.telnet.protocol", "bbs.door"}, "bbs.server": {"bbs.telnet"},
             "bbs.shell.applets": {"bbs.telnet.environ"}, "bbs.hub": {"bbs.web.door"}}
    assert door_imports(edges) == {("bbs.session", "bbs.telnet.protocol"),
                                   ("bbs.shell.applets", "bbs.telnet.environ"),
                                   ("bbs.hub", "bbs.web.door")}
