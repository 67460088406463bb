"""Shared fixtures (one real embedder per session, seeds copies, settings, the CLI) and plain helpers.

Test modules import the helpers directly: `from conftest import assert_provenance, index_state`.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from index import lexical
from index import manifest as mf
from index.embed import SentenceTransformerEmbedder
from index.settings import Settings
from index.store import VectorStore
from index.types import Chunk, LoadedDoc

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "seeds"
EVAL = REPO.parent / "shared" / "eval"


@pytest.fixture(scope="session")
def embedder() -> SentenceTransformerEmbedder:
    """The real default embedding model, loaded once for the whole session."""
    model = SentenceTransformerEmbedder()
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

    def make(seeds: Path, **overrides) -> Settings:
        overrides.setdefault("db_dir", tmp_path / "db")
        return Settings(seeds_dir=seeds, **overrides)

    return make


@dataclass
class IndexState:
    """What the three parts of an index hold: manifest ids (as listed), store ids, lexical ids (as listed)."""

    manifest: mf.Manifest
    manifest_ids: list[str]
    store_ids: set[str]
    lexical_ids: list[str]

    def assert_consistent(self) -> None:
        """Manifest, Chroma and the lexical snapshot hold exactly the same chunk ids, each once."""
        assert self.manifest.complete, "manifest not marked complete"
        assert len(self.manifest_ids) == len(set(self.manifest_ids)), "duplicate ids in manifest"
        assert len(self.lexical_ids) == len(set(self.lexical_ids)), "duplicate ids in lexical snapshot"
        assert set(self.manifest_ids) == self.store_ids
        assert set(self.lexical_ids) == self.store_ids


def index_state(settings: Settings) -> IndexState:
    """Read the manifest, the Chroma collection and the current lexical snapshot of `settings`."""
    manifest = mf.read(settings.db_dir)
    snapshot = lexical.load(settings.db_dir)
    return IndexState(manifest, [i for e in manifest.files.values() for i in e.ids],
                      VectorStore(settings).ids(), snapshot.ids if snapshot else [])


def copy_files(src: Path, dst: Path, names) -> list[Path]:
    """Copy the named files from `src` into `dst` (writable copies); return the new paths. Skips if `src` is absent."""
    if not src.is_dir():
        pytest.skip(f"corpus {src} not available")
    dst.mkdir(parents=True, exist_ok=True)
    return [Path(shutil.copyfile(src / n, dst / n)) for n in names]


def assert_provenance(doc: LoadedDoc, chunks: list[Chunk]) -> None:
    """Every chunk is an exact, stripped slice of `doc.text` inside one segment, with the right lines and page."""
    assert chunks, f"no chunks for {doc.source}"
    lines = doc.text.split("\n")
    for c in chunks:
        assert c.text and c.text == c.text.strip()
        assert doc.text[c.start:c.end] == c.text
        assert c.start_line == doc.text.count("\n", 0, c.start) + 1
        assert c.end_line == doc.text.count("\n", 0, c.end - 1) + 1
        assert c.text in "\n".join(lines[c.start_line - 1:c.end_line])
        seg = next(s for s in doc.segments if s.start <= c.start and c.end <= s.end)
        assert c.page == seg.page
        assert (c.source, c.title, c.published) == (doc.source, doc.title, doc.published)


@pytest.fixture
def qa_cli():
    """`qa_cli(*args, env={}, background=False)` runs `python -m qa ...` (QA_* cleared, then `env`); skips before the CLI exists.

    With `background=True` it returns the Popen (in its own process group); otherwise the CompletedProcess.
    """
    if not (REPO / "qa" / "cli.py").exists():
        pytest.skip("qa/cli.py not written yet")

    def run(*args, env=None, background=False, timeout=300):
        clean = {k: v for k, v in os.environ.items() if not k.startswith("QA_")} | (env or {})
        argv = [sys.executable, "-m", "qa", *map(str, args)]
        if background:
            return subprocess.Popen(argv, env=clean, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    start_new_session=True)
        return subprocess.run(argv, env=clean, cwd=REPO, capture_output=True, text=True, timeout=timeout)

    return run


# --- Fixtures and helpers for the answer, CLI, property and eval tests ---------------------------------

@pytest.fixture(scope="module")
def one_torch_thread():
    """Run the module's model calls on one torch thread, then restore the previous count.

    On a busy 2-core machine two OpenMP threads make one short query embedding ~40x slower
    (about 0.5 s instead of 10 ms), which would make the many-question modules crawl.
    """
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def seed_index(tmp_path_factory, embedder) -> Settings:
    """One index per test module, of a temp copy of the seeds: Settings pointing at it (seeds and db in tmp)."""
    from index.build import build

    root = tmp_path_factory.mktemp("seed-index")
    seeds = root / "seeds"
    shutil.copytree(SEEDS, seeds, copy_function=shutil.copyfile)
    settings = Settings(seeds_dir=seeds, db_dir=root / "db")
    build(settings, embedder=embedder)
    return settings


@pytest.fixture(scope="module")
def clean_qa_env():
    """No QA_* variable of the calling shell leaks into `Settings.from_env` during the module."""
    with pytest.MonkeyPatch.context() as mp:
        for name in [k for k in os.environ if k.startswith("QA_")]:
            mp.delenv(name)
        yield


@pytest.fixture(scope="module")
def shared_model(embedder):
    """Code that constructs its own `SentenceTransformerEmbedder` (the CLI commands, `evaluate`) gets the
    session's already-loaded real model for the default name instead of loading another copy."""
    from index.settings import DEFAULT_MODEL

    def make(name: str = DEFAULT_MODEL, *args, **kwargs):
        return embedder if name == embedder.name else SentenceTransformerEmbedder(name, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("qa.pipeline.SentenceTransformerEmbedder", make)
        mp.setattr("index.build.SentenceTransformerEmbedder", make)
        yield embedder


def file_text(seeds_dir: Path, source: str) -> str:
    """A seed file's text exactly as citations quote it."""
    from index.load import load

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
