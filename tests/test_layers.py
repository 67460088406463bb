"""The house rules, checked by parsing every import: edges (ui/) -> qa/ -> index/, never back; tests/ and
bench/ share helpers through `testkit/` (outside the installed package), never through each other, and the
product never imports `testkit`."""
from __future__ import annotations

import ast
import re
from collections import deque
from pathlib import Path

import pytest

from conftest import REPO

pytestmark = pytest.mark.unit  # the fast tier: `pytest -m unit`

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
    (tmp_path / "qa" / "worse.py").write_text("import ui.web.app\n")
    (tmp_path / "qa" / "fine.py").write_text("from index.vectorstore.store import Hit\nfrom . import wording\n")
    (tmp_path / "bench" / "b.py").write_text("from conftest import EVAL\n")
    (tmp_path / "tests" / "conftest.py").write_text("")
    (tmp_path / "tests" / "t.py").write_text("import b\n")
    assert layer_violations(tmp_path) == ["index/bad.py imports qa", "qa/worse.py imports ui"]
    assert crossing_violations(tmp_path) == ["bench/b.py imports conftest", "tests/t.py imports b"]


# Modules imported inside a function on purpose, to keep a heavy library out of processes that do not use it
# (`qa ask` loads no LangChain, Chroma client or LLM client: tests/test_speed_paths.py).
HEAVY = ("langchain_core", "langchain_openai", "langchain_ollama", "chromadb", "torch", "sentence_transformers",
         "gradio", "onnxruntime")
# A function-level import that closes a cycle for another reason, with the reason.
KEPT = {  # registries build their entries when asked, and an entry's module imports the settings naming them
    ("qa.answerers", "qa.extractive.answerer"): "the answerer registry (QA_LLM) makes each answerer when asked",
    ("qa.answerers", "qa.llm.answerer"): "the answerer registry (QA_LLM) makes each answerer when asked",
    ("index.vectorstore.store", "index.vectorstore.live_store"): "the store registry (QA_STORE) makes each store when asked",
    ("index.vectorstore.store", "index.vectorstore.memory_store"): "the store registry (QA_STORE) makes each store when asked",
}


def modules(root: Path) -> dict[str, Path]:
    found = {}
    for layer in LAYERS:
        for path in (root / layer).rglob("*.py"):
            if "evalsets" not in path.parts:
                name = ".".join(path.relative_to(root).with_suffix("").parts)
                found[name.removesuffix(".__init__")] = path
    return found


def _targets(node, known: dict, own: str) -> set[str]:
    names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
        [node.module] + [f"{node.module}.{a.name}" for a in node.names] if node.level == 0 and node.module else [])
    out = set()
    for name in names:
        while name and name not in known:
            name = name.rpartition(".")[0]
        if name and name != own:
            out.add(name)
    return out


def import_graph(root: Path):
    """Module-level imports between the product's modules (`if TYPE_CHECKING:` ones left out), the heavy
    libraries each module imports at module level, and every import made inside a function."""
    known = modules(root)
    top, heavy, inner = {m: set() for m in known}, {m: False for m in known}, []
    for name, path in known.items():
        tree = ast.parse(path.read_text("utf-8"))
        for node in tree.body:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                continue
            for sub in ast.walk(node):
                if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    inner += [(name, t, sub.name) for inside in ast.walk(sub)
                              if isinstance(inside, (ast.Import, ast.ImportFrom))
                              for t in _targets(inside, known, name)]
                elif isinstance(sub, (ast.Import, ast.ImportFrom)) and not _in_function(tree, sub):
                    top[name] |= _targets(sub, known, name)
                    heavy[name] |= bool(imported_names(sub) & set(HEAVY))
    return top, heavy, sorted(set(inner))


def imported_names(node) -> set[str]:
    if isinstance(node, ast.Import):
        return {a.name.split(".")[0] for a in node.names}
    return {node.module.split(".")[0]} if node.level == 0 and node.module else set()


def _in_function(tree, target) -> bool:
    return any(target in ast.walk(fn) for fn in ast.walk(tree) if isinstance(fn, (ast.FunctionDef,
                                                                                     ast.AsyncFunctionDef)))


def reachable(top: dict, start: str) -> set[str]:
    seen, queue = set(), deque([start])
    while queue:
        name = queue.popleft()
        if name not in seen:
            seen.add(name)
            queue.extend(top.get(name, ()))
    return seen


def hidden_cycles(root: Path) -> list[str]:
    """Function-level imports that close an import cycle, other than lazy imports of heavy libraries."""
    top, heavy, inner = import_graph(root)
    out = []
    for mod, target, fn in inner:
        loads = reachable(top, target)
        if mod in loads and not any(heavy[m] for m in loads) and (mod, target) not in KEPT:
            out.append(f"{mod} imports {target} in {fn}()")
    return out


def test_no_function_level_import_hides_an_import_cycle():
    """Issue #27: cycles were broken by moving an import into a function; they are broken by design now
    (a type under `TYPE_CHECKING`, a function moved to the module that needs both sides)."""
    assert hidden_cycles(REPO) == []


def test_the_cycle_check_catches_a_hidden_cycle(tmp_path):
    for layer in LAYERS:
        (tmp_path / layer).mkdir()
    (tmp_path / "index" / "a.py").write_text("from index.b import B\n\ndef f():\n    from index.b import g\n")
    (tmp_path / "index" / "b.py").write_text("B = 1\n\ndef g():\n    from index.a import f\n")
    (tmp_path / "index" / "c.py").write_text("import chromadb\nfrom index.d import D\n")
    (tmp_path / "index" / "d.py").write_text("D = 1\n\ndef h():\n    from index.c import x\n")
    assert hidden_cycles(tmp_path) == ["index.b imports index.a in g()"]


# Rooms: each layer's sub-packages, in floor order (a room imports only the rooms before it in its layer, and the layer's
# top-level modules). Sub-packages that hold data or test helpers are no rooms.
ROOMS = {
    "index": ['formats', 'generations', 'ingest', 'embedding', 'snapshot', 'vectorstore', 'builds', 'manager'],
    "qa": ['knowledge', 'retrieval', 'conversation', 'extractive', 'llm', 'sharing', 'evaluation'],
    "ui": ['server', 'api', 'web', 'cli'],
}
NOT_ROOMS = ['evalsets', 'testing']


def room_violations(root: Path) -> list[str]:
    """`file imports room` for every import from a room to a room above it in the same layer."""
    out = []
    for layer, rooms in ROOMS.items():
        for n, room in enumerate(rooms):
            later = {f"{layer}.{r}" for r in rooms[n + 1:]}
            for path in sorted((root / layer / room).rglob("*.py")):
                names = imported_modules(path)
                bad = {r for r in later for name in names if name == r or name.startswith(r + ".")}
                out += [f"{path.relative_to(root)} imports {b}" for b in sorted(bad)]
    return out


def imported_modules(path: Path) -> set[str]:
    """Full dotted names a Python file imports (absolute imports; `from a import b` gives a.b too)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{a.name}" for a in node.names}
    return names


def sub_packages(root: Path, layer: str) -> list[str]:
    return sorted(p.parent.name for p in (root / layer).glob("*/__init__.py") if p.parent.name not in NOT_ROOMS)


def test_rooms_are_floors_inside_each_layer():
    assert room_violations(REPO) == []


def test_every_sub_package_is_a_room_and_the_readme_map_names_it():
    text = (REPO / "README.md").read_text("utf-8")
    section = text[text.index("## How the pieces fit"):]
    section = section[:section.index("\n## ", 1)]
    for layer, rooms in ROOMS.items():
        assert sub_packages(REPO, layer) == sorted(rooms), f"{layer}/: add the new sub-package to ROOMS"
        for room in rooms:
            assert f"{room}/" in section, f"README 'How the pieces fit' does not show {layer}/{room}/"
            for module in sorted(p.stem for p in (REPO / layer / room).glob("*.py") if p.stem != "__init__"):
                assert re.search(rf"\b{module}\b", section), f"the README map misses {layer}/{room}/{module}.py"


def test_the_room_check_catches_a_violation(tmp_path):
    (tmp_path / "qa" / "retrieval").mkdir(parents=True)
    (tmp_path / "qa" / "retrieval" / "bad.py").write_text("from qa.extractive.answerer import X\nfrom qa import llm\n")
    (tmp_path / "qa" / "retrieval" / "fine.py").write_text("from qa.knowledge import corpus\nfrom qa.types import Answer\n")
    assert room_violations(tmp_path) == ["qa/retrieval/bad.py imports qa.extractive", "qa/retrieval/bad.py imports qa.llm"]
