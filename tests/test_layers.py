"""The house rules, checked by parsing every import: edges (ui/) -> qa/ -> index/, never back; tests/ and
bench/ share helpers through `testkit/` (outside the installed package), never through each other, and the
product never imports `testkit`."""
from __future__ import annotations

import ast
from pathlib import Path

from conftest import REPO

LAYERS = ["index", "qa", "ui"]  # each may import only itself and the layers before it


def imported(path: Path) -> set[str]:
    """Top-level module names a Python file imports (absolute imports only)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def layer_violations(root: Path) -> list[str]:
    """`file imports layer` for every import that flows against the layers."""
    out = []
    for n, layer in enumerate(LAYERS):
        forbidden = set(LAYERS[n + 1:])
        for path in sorted((root / layer).rglob("*.py")):
            out += [f"{path.relative_to(root)} imports {bad}" for bad in sorted(imported(path) & forbidden)]
    return out


def crossing_violations(root: Path) -> list[str]:
    """Imports between tests/ and bench/ (by module name or by sys.path tricks)."""
    tests = {p.stem for p in (root / "tests").glob("*.py")}
    bench = {p.stem for p in (root / "bench").glob("*.py")}
    out = [f"{p.relative_to(root)} imports {m}" for p in sorted((root / "bench").glob("*.py"))
           for m in sorted(imported(p) & (tests | {"tests"}))]
    out += [f"{p.relative_to(root)} imports {m}" for p in sorted((root / "tests").glob("*.py"))
            for m in sorted(imported(p) & (bench | {"bench"}))]
    return out


def test_imports_flow_from_the_edges_to_qa_to_index():
    assert layer_violations(REPO) == []


def test_the_product_does_not_import_the_test_helpers():
    assert [f"{p.relative_to(REPO)}" for layer in LAYERS for p in sorted((REPO / layer).rglob("*.py"))
            if "testkit" in imported(p)] == []


def test_tests_and_benchmarks_do_not_import_each_other():
    assert crossing_violations(REPO) == []


def test_the_checks_catch_a_violation(tmp_path):
    for layer in LAYERS + ["tests", "bench"]:
        (tmp_path / layer).mkdir()
    (tmp_path / "index" / "bad.py").write_text("from qa.pipeline import Assistant\n")
    (tmp_path / "qa" / "worse.py").write_text("import ui.app\n")
    (tmp_path / "qa" / "fine.py").write_text("from index.store import Hit\nfrom . import wording\n")
    (tmp_path / "bench" / "b.py").write_text("from conftest import EVAL\n")
    (tmp_path / "tests" / "conftest.py").write_text("")
    (tmp_path / "tests" / "t.py").write_text("import b\n")
    assert layer_violations(tmp_path) == ["index/bad.py imports qa", "qa/worse.py imports ui"]
    assert crossing_violations(tmp_path) == ["bench/b.py imports conftest", "tests/t.py imports b"]
