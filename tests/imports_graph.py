"""One walk of the imports in C{bbs/}, shared by the layer table
(C{tests/test_imports.py}) and the cycle check (C{tests/test_layers.py}), so
both rules are held against the same reading of the code.

Every import counts: at module level, inside a function, under
C{if TYPE_CHECKING:} (a type is a dependency too), and relative ones.
"""

from __future__ import annotations

import ast
from pathlib import Path

import attrs

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "bbs"


@attrs.frozen
class Import:
    """One imported name: C{from bbs.x import y} is C{module} C{bbs.x} and
    C{name} C{y}; C{import bbs.x} has no name.  C{target} is the module the
    import reaches: C{bbs.x.y} when that is a module, else C{bbs.x}."""

    module: str
    name: str
    line: int
    target: str


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    """Every module and package of C{bbs}, by dotted name."""
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_bbs(module: str) -> bool:
    return module == "bbs" or module.startswith("bbs.")


def imports(name: str, path: Path, known: set[str] | dict[str, Path]) -> list[Import]:
    """The imports of C{bbs} in module C{name} (read from C{path}), anywhere
    in its text; C{known} are the modules there are, to tell a submodule
    from a name defined in its package.

    Importing a submodule runs its package's C{__init__} first, but that is
    no dependency of the importer's own making, so packages are not added.
    """
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[Import] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.extend(Import(alias.name, "", node.lineno, alias.name)
                         for alias in node.names if _is_bbs(alias.name))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            if not _is_bbs(source):
                continue
            for alias in node.names:
                sub = f"{source}.{alias.name}"
                found.append(Import(source, alias.name, node.lineno,
                                    sub if sub in known else source))
    return found


def imported(name: str, path: Path, known: set[str]) -> set[str]:
    """The C{bbs} modules that module C{name} imports, itself left out."""
    return {i.target for i in imports(name, path, known) if i.target in known and i.target != name}


def graph() -> dict[str, set[str]]:
    """Module -> the modules it imports, for all of C{bbs}."""
    found = modules()
    known = set(found)
    return {name: imported(name, path, known) for name, path in found.items()}
