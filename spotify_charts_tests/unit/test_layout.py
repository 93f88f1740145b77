"""The package's layout rules (README, "Where things live"): small modules, a short top level, Dagster
only under defs/, and only its public API."""

from __future__ import annotations

import ast

from spotify_charts_tests.support.helpers import REPO

PACKAGE = REPO / "spotify_charts"
MAX_LINES = 400
MAX_TOP_LEVEL_MODULES = 6


def _modules():
    return sorted(PACKAGE.rglob("*.py"))


def _imports(path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_no_module_is_over_400_lines():
    long = {str(p.relative_to(REPO)): n for p in _modules() if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}


def test_the_top_level_has_at_most_six_modules():
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(top) <= MAX_TOP_LEVEL_MODULES, top


# The one exception: Dagster has no public API for an instance's storage, and defs/event_log.py
# (the local instance's, dagster.yaml) subclasses its SQLite storage and instance defaults.
PRIVATE_ALLOWED = {
    "defs/event_log.py": {
        "dagster._core.instance.ref",
        "dagster._core.storage.event_log",
        "dagster._core.storage.sqlite_storage",
        "dagster._serdes",
    }
}


def test_only_defs_and_definitions_import_dagster_and_nothing_imports_its_private_api():
    dagster_outside, private = [], []
    for path in _modules():
        where = path.relative_to(PACKAGE).as_posix()
        imports = _imports(path)
        if any(name.split(".")[0].startswith("dagster") for name in imports) and not (
            where.startswith("defs/") or where == "definitions.py"
        ):
            dagster_outside.append(where)
        allowed = PRIVATE_ALLOWED.get(where, set())
        private += [
            f"{where}: {name}"
            for name in imports
            if ".\x5f" in name and name.startswith("dagster") and name not in allowed
        ]
    assert dagster_outside == []
    assert private == []
