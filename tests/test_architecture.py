"""The layout's rules, checked on the source: modules stay small and the engines do not
import each other (the pipeline in ``api/`` chains them)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("core", "demand", "planner", "routing", "api")
ENGINES = ("demand", "planner", "routing")
MAX_LINES = 500


def _modules(package: str) -> list[Path]:
    return sorted(
        p for p in (ROOT / package).rglob("*.py") if "migrations" not in p.relative_to(ROOT).parts
    )


def _imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_no_module_over_500_lines(package):
    too_long = {
        str(p.relative_to(ROOT)): n
        for p in _modules(package)
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not too_long, f"split these modules by role: {too_long}"


@pytest.mark.parametrize("engine", ENGINES)
def test_engines_do_not_import_each_other_nor_the_api(engine):
    forbidden = (set(ENGINES) - {engine}) | {"api"}
    wrong = {
        str(p.relative_to(ROOT)): sorted(_imported_packages(p) & forbidden)
        for p in _modules(engine)
        if _imported_packages(p) & forbidden
    }
    assert not wrong, f"engines import only core and libraries: {wrong}"


def test_core_imports_no_engine():
    wrong = {
        str(p.relative_to(ROOT)): sorted(_imported_packages(p) & {*ENGINES, "api"})
        for p in _modules("core")
        if _imported_packages(p) & {*ENGINES, "api"}
    }
    assert not wrong, wrong
