"""The layers' arrows point one way: parsers/ (pure) <- store/ <- daemon/ (DESIGN.md section 5).

Every module's imports are read from its source (nothing is imported), resolved to the layer
they name, and an import of a higher layer fails the test with the file and the line. Inside
the package, imports of our own modules are relative, so that a reader follows them as paths.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LAYERS = ("parsers", "store", "daemon")  # each may import its own layer and those before it
MODULES = sorted(path for layer in LAYERS for path in (REPO / layer).rglob("*.py") if "migrations" not in path.parts)


def package_of(path: Path) -> list[str]:
    parts = ["mentormail", *path.relative_to(REPO).with_suffix("").parts]
    return parts[:-1]  # a module's package; for __init__.py, the package itself


def imported(path: Path, source: str | None = None) -> list[tuple[int, str, bool]]:
    """(line, absolute module name, written relatively) of every import of our own code in the
    module at `path` (its text, or `source` as if it were there)."""
    found = []
    text = path.read_text(encoding="utf-8") if source is None else source
    for node in ast.walk(ast.parse(text, str(path))):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package_of(path)[: len(package_of(path)) - node.level + 1]
            found.append((node.lineno, ".".join([*base, *(node.module or "").split(".")]).rstrip("."), True))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("mentormail."):
            found.append((node.lineno, node.module or "", False))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, False) for alias in node.names if alias.name.startswith("mentormail.")]
    return found


def layer_of(module: str) -> str:
    return module.split(".")[1]


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(REPO)))
def test_no_module_imports_a_layer_above_its_own(path: Path) -> None:
    assert upward_imports(path) == []


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(REPO)))
def test_our_own_modules_are_imported_relatively(path: Path) -> None:
    absolute = [f"{path.relative_to(REPO)}:{line} {module}" for line, module, relative in imported(path) if not relative]
    assert absolute == []


def upward_imports(path: Path, source: str | None = None) -> list[str]:
    own = LAYERS.index(path.relative_to(REPO).parts[0])
    return [
        f"{path.relative_to(REPO)}:{line} imports {module}"
        for line, module, _ in imported(path, source)
        if layer_of(module) in LAYERS and LAYERS.index(layer_of(module)) > own
    ]


def test_an_upward_arrow_is_caught_however_it_is_written() -> None:
    """The check itself can fail: a store module naming the daemon, relatively or not."""
    where = REPO / "store" / "queries" / "example.py"
    source = "from ...daemon.settings import Settings\nimport mentormail.daemon.cli\nfrom ..models import Pair\n"
    assert upward_imports(where, source) == [
        "store/queries/example.py:1 imports mentormail.daemon.settings",
        "store/queries/example.py:2 imports mentormail.daemon.cli",
    ]
