"""What the fast paths promise, checked by what they import and create (never by timing): `qa ask` loads
neither torch nor gradio nor LangChain, and a missing index is refused before any model loads, creating
nothing on disk."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO

HEAVY = ("torch", "sentence_transformers", "transformers", "gradio", "langchain_core", "onnxruntime", "chromadb")
QUESTION = "What did Xi herald during his call with Putin?"

# Runs the `qa` command in this interpreter and reports, however it ends (`os._exit` included),
# which heavy modules were imported.
PROBE = r"""
import json, os, sys
HEAVY = {heavy!r}
def report(code):
    sys.stdout.flush()
    print("MODULES " + json.dumps(sorted(m for m in HEAVY if m in sys.modules)), file=sys.stderr, flush=True)
    real_exit(code)
real_exit, os._exit = os._exit, report
from ui.cli.main import run
try:
    run()
except SystemExit as exc:
    report(exc.code if isinstance(exc.code, int) else 1)
"""


def probe(*args: str, env: dict | None = None) -> tuple[subprocess.CompletedProcess, set[str]]:
    """Run `qa ARGS` in a fresh interpreter; (the finished process, heavy modules it imported)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("QA_")} | (env or {})
    done = subprocess.run([sys.executable, "-c", PROBE.format(heavy=HEAVY), *args], cwd=REPO, env=clean,
                          capture_output=True, text=True, timeout=300)
    line = [x for x in done.stderr.splitlines() if x.startswith("MODULES ")][-1]
    return done, set(json.loads(line[len("MODULES "):]))


def test_cold_ask_imports_neither_torch_nor_gradio(seed_index):
    done, modules = probe("ask", QUESTION, "--db", str(seed_index.db_dir), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["citations"], done.stdout
    assert {"onnxruntime", "chromadb"} <= modules  # it did answer with the model and the store
    assert not modules & {"torch", "sentence_transformers", "transformers", "gradio", "langchain_core"}, modules


def test_missing_index_refused_before_any_model_loads_and_creates_nothing(tmp_path: Path):
    db, cache = tmp_path / "no-index", tmp_path / "cache"
    done, modules = probe("ask", QUESTION, "--db", str(db), env={"QA_MODEL_CACHE": str(cache)})
    assert done.returncode == 1
    assert "no index found" in done.stderr and "qa index" in done.stderr
    assert not modules & {"onnxruntime", "torch", "sentence_transformers", "chromadb", "gradio"}, modules
    assert not db.exists() and not cache.exists()
    assert list(tmp_path.iterdir()) == []


def test_ask_with_a_nonexistent_db_creates_nothing(qa_cli):
    target = Path("/nonexistent")
    if target.exists():
        pytest.fail("/nonexistent exists on this machine; the test needs it absent")
    done = qa_cli("ask", QUESTION, "--db", str(target))
    assert done.returncode == 1, done.stderr
    assert "no index found in /nonexistent" in done.stderr
    assert not target.exists()


def test_ask_on_an_index_without_its_model_cache_exports_it_again(seed_index, tmp_path: Path):
    """A fresh user cache (say, another account reading the same index) gets the export on first use,
    with a message on stderr, and the answer is the same."""
    cache = tmp_path / "fresh-cache"
    first, _ = probe("ask", QUESTION, "--db", str(seed_index.db_dir), "--json", env={"QA_MODEL_CACHE": str(cache)})
    again, _ = probe("ask", QUESTION, "--db", str(seed_index.db_dir), "--json", env={"QA_MODEL_CACHE": str(cache)})
    assert first.returncode == again.returncode == 0, first.stderr + again.stderr
    assert "preparing the ONNX encoder" in first.stderr and "preparing" not in again.stderr
    assert list(cache.glob("onnx/*-fp32/model.onnx"))
    assert json.loads(first.stdout)["citations"] == json.loads(again.stdout)["citations"]


def test_the_chat_imports_gradio_without_rewriting_its_type_stubs():
    """`ui.web.gradio_import` replaces the step by which gradio rewrites its own type stubs on every import (0.9 s
    of `qa serve`'s start). The pinned gradio must still have that step, and no finder may stay behind."""
    code = ("import sys, ui.web.app, ui.web.gradio_import as g; "
            "print(g.stubs_skipped(), type(g._finder) in map(type, sys.meta_path), sys.modules['gradio'] is g.gr)")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.stdout.split() == ["True", "False", "True"], done.stderr


def test_the_installed_gradio_is_a_release_the_stub_patch_was_checked_against():
    """The patch replaces a step of gradio's internals: a new gradio release fails here until someone reads its
    `gradio/component_meta.py` again and adds the release to `CHECKED` (or drops the patch)."""
    import importlib.metadata

    from ui.web.gradio_import import CHECKED

    assert importlib.metadata.version("gradio") in CHECKED
    code = "import gradio.component_meta as m, inspect; print('create_or_modify_pyi(' in inspect.getsource(m))"
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.stdout.split() == ["True"], done.stderr


def test_gradio_imported_first_falls_back_and_says_so():
    """The fallback: gradio as it comes (its stubs rewritten), the chat built all the same, and a log line."""
    code = ("import gradio, ui.web.gradio_import as g, ui.web.app; "
            "print(g.stubs_skipped(), g.gr is gradio)")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.stdout.split() == ["False", "True"], done.stderr
    assert "gradio was imported before ui.web.gradio_import" in done.stderr


def test_every_chat_module_takes_gradio_from_gradio_import():
    """A module that imported gradio itself, before `ui.web.gradio_import`, would bring back the stub rewriting
    and could import gradio with analytics on."""
    direct = [p.name for p in (REPO / "ui").rglob("*.py") if p.name != "gradio_import.py"
              and any(line.startswith(("import gradio", "from gradio ", "from gradio."))
                      for line in p.read_text("utf-8").splitlines())]
    assert direct == []
