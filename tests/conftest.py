"""Shared fixtures (one real embedder per session, seeds copies, settings, the CLI) and plain helpers.

Test modules import the helpers directly: `from conftest import assert_well_formed, file_text`; index
invariants come from `testkit.invariants`, servers and browsers from `testkit.servers` (shared with bench/).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from index.embedding.embedders import Embedder, open_embedder
from index.settings import IndexSettings
from testkit.invariants import IndexState, assert_provenance, index_state  # noqa: F401 (re-exported to tests)

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "seeds"
EVAL = REPO / "qa" / "evalsets"  # vendored: the suite never reads outside the repository


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real default embedding model on the default encoder (ONNX Runtime), loaded once for the session."""
    model = open_embedder(IndexSettings())
    model.embed(["warm up"])
    return model


@pytest.fixture
def seeds_copy(tmp_path: Path) -> Path:
    """A writable copy of the repository's seeds directory."""
    target = tmp_path / "seeds"
    shutil.copytree(SEEDS, target, copy_function=shutil.copyfile)
    return target


@pytest.fixture
def make_settings(tmp_path: Path):
    """Factory: `make_settings(seeds, **overrides)` gives Settings with a fresh db dir under tmp_path."""

    def make(seeds: Path, **overrides) -> IndexSettings:
        overrides.setdefault("db_dir", tmp_path / "db")
        return IndexSettings(seeds_dir=seeds, **overrides)

    return make


def copy_files(src: Path, dst: Path, names) -> list[Path]:
    """Copy the named files from `src` into `dst` (writable copies); return the new paths."""
    assert src.is_dir(), f"corpus {src} is missing: restore it with `git checkout -- {src.relative_to(REPO)}`"
    dst.mkdir(parents=True, exist_ok=True)
    return [Path(shutil.copyfile(src / n, dst / n)) for n in names]


@pytest.fixture
def qa_cli():
    """`qa_cli(*args, env={}, background=False)` runs `python -m ui.cli.main ...` (the `qa` command; QA_* cleared, then `env`).

    With `background=True` it returns the Popen (in its own process group); otherwise the CompletedProcess.
    """
    def run(*args, env=None, background=False, timeout=300):
        clean = {k: v for k, v in os.environ.items() if not k.startswith("QA_")} | (env or {})
        argv = [sys.executable, "-m", "ui.cli.main", *map(str, args)]
        if background:
            return subprocess.Popen(argv, env=clean, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    start_new_session=True)
        return subprocess.run(argv, env=clean, cwd=REPO, capture_output=True, text=True, timeout=timeout)

    return run


# --- Fixtures and helpers for the answer, CLI, property and eval tests ---------------------------------

@pytest.fixture(scope="module")
def one_torch_thread():
    """Run the module's torch model calls (QA_ENCODER=torch, when a test loaded torch) on one thread, then
    restore the previous count. On a busy 2-core machine two OpenMP threads make one short query
    embedding ~40x slower (about 0.5 s instead of 10 ms). The default ONNX encoder does not need this."""
    if "torch" not in sys.modules:
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def seed_index(tmp_path_factory, embedder) -> IndexSettings:
    """One index per test module, of a temp copy of the seeds: IndexSettings pointing at it (seeds and db in tmp)."""
    from index.builds.build import build

    root = tmp_path_factory.mktemp("seed-index")
    seeds = root / "seeds"
    shutil.copytree(SEEDS, seeds, copy_function=shutil.copyfile)
    settings = IndexSettings(seeds_dir=seeds, db_dir=root / "db")
    build(settings, embedder=embedder)
    return settings


@pytest.fixture(scope="module")
def clean_qa_env():
    """No QA_* variable of the calling shell leaks into `IndexSettings.from_env` during the module."""
    with pytest.MonkeyPatch.context() as mp:
        for name in [k for k in os.environ if k.startswith("QA_")]:
            mp.delenv(name)
        yield


@pytest.fixture(scope="module")
def shared_model(embedder):
    """Code that opens its own embedder (the CLI commands, `evaluate`) gets the session's already-loaded
    real model for the default model and encoder instead of loading another copy."""
    def make(settings):
        default = settings.embed_model == embedder.name and settings.encoder == IndexSettings().encoder
        return embedder if default else open_embedder(settings)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("qa.pipeline.open_embedder", make)
        mp.setattr("index.builds.build.open_embedder", make)
        yield embedder


def file_text(seeds_dir: Path, source: str) -> str:
    """A seed file's text exactly as citations quote it."""
    from index.ingest.load import load

    return load(Path(seeds_dir) / source, source).text


def assert_well_formed(answer, seeds_dir: Path) -> None:
    """The documented invariants of any `Answer`: abstained iff no citations; `[n]` markers in the text are
    exactly the citations' n (1..N); every quote is the file's text at its offsets, with the right lines."""
    import re
    import unicodedata

    from qa.types import Answer

    assert isinstance(answer, Answer), type(answer)
    assert isinstance(answer.text, str) and answer.text.strip()
    assert not any(unicodedata.category(ch)[0] == "C" for ch in answer.question), repr(answer.question)
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", answer.text)}
    numbers = [c.n for c in answer.citations]
    assert numbers == list(range(1, len(numbers) + 1)), numbers
    assert markers == set(numbers), (answer.text, numbers)
    assert answer.abstained == (not answer.citations)
    for c in answer.citations:
        text = file_text(seeds_dir, c.source)
        assert c.quote and c.quote == text[c.start:c.end], (c.source, c.start, c.end, c.quote)
        assert c.start_line == text.count("\n", 0, c.start) + 1, (c.start_line, c.start)
        assert c.end_line == c.start_line + c.quote.count("\n")


@pytest.fixture(scope="module")
def browser():
    """One headless chromium (Debian's) for a test module."""
    from playwright.sync_api import sync_playwright

    from testkit.servers import launch_chromium

    with sync_playwright() as p:
        chromium = launch_chromium(p)
        yield chromium
        chromium.close()


def converse(assistant, *questions: str) -> list:
    """Ask `questions` in order, each with the real history (the questions and the assistant's own answers)."""
    history, answers = [], []
    for q in questions:
        answers.append(assistant.answer(q, history=history))
        history += [{"role": "user", "content": q}, {"role": "assistant", "content": answers[-1].text}]
    return answers
