"""The bottom layer stays at the bottom: db.py and config.py import no package of andon.

import-linter (pyproject.toml, `uv run lint-imports`) checks the packages' layers; it analyses
packages only, so the two top-level modules at the bottom are checked here, imports inside
functions included.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ANDON = {
    "spiders",
    "pipeline",
    "search",
    "alerts",
    "web",
    "runtime",
    "commands",
    "demo",
    "cli",
    "scheduler",
}


def imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("module", ["db.py", "config.py"])
def test_bottom_modules_import_no_package(module: str) -> None:
    assert imported_roots(ROOT / module) & ANDON == set()


def test_the_check_sees_imports_inside_functions(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from search.geo import haversine_miles\n    import web.app\n")
    assert imported_roots(probe) == {"search", "web"}
