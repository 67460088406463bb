"""Index benchmark: full builds against the LangChain tutorial's pipeline and against plain encoding.

    .venv/bin/python bench/index_bench.py [CORPUS_DIR ...] [--repeats 3] [--skip-tutorial]

For each corpus (default: the squad-dev and multihop-dev eval corpora), side by side, interleaved,
medians of `--repeats`:

* Fresh processes, as a user runs them (imports, model load, work): `qa index` of the corpus into an
  empty folder, against the tutorial's build (`bench/tutorial.py build`: split 1000/200,
  `HuggingFaceEmbeddings`, `Chroma.from_documents`), with wall and CPU time (user + system).
* In this process, the model loaded once beforehand: the product's full build with the default encoder
  (ONNX Runtime), against a raw `SentenceTransformer.encode` (batch 64) of exactly the texts the build
  embeds, and a raw encode of the same texts with the ONNX encoder; then a no-op build and a build
  after one file changed.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from harness import REPO, high_water_mb, median, run_process

sys.path.insert(0, str(REPO))
from index.builds.build import build  # noqa: E402
from index.embedding.embedders import SentenceTransformerEmbedder, open_embedder  # noqa: E402
from index.generations import manifest as mf  # noqa: E402
from index.ingest.chunk import index_text  # noqa: E402
from index.settings import IndexSettings  # noqa: E402
from index.vectorstore.live_store import ChromaStore  # noqa: E402

DEFAULT_CORPORA = [REPO / "qa/evalsets/squad-dev/corpus", REPO / "qa/evalsets/multihop-dev/corpus"]
PY = sys.executable


@dataclass
class Row:
    """Medians for one corpus."""

    name: str
    files: int
    chunks: int
    qa_index: tuple[float, float]  # wall, cpu of a fresh `qa index`
    tutorial: tuple[float, float] | None  # wall, cpu of a fresh tutorial build
    full: float  # in-process full build, model preloaded
    st_encode: float
    onnx_encode: float
    noop: float
    one_changed: float


def timed(fn) -> float:
    """Seconds `fn()` took."""
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def fresh_builds(corpus: Path, work: Path, repeats: int, tutorial: bool) -> tuple[tuple, tuple | None]:
    """`qa index` and the tutorial's build, each in a fresh process, alternating; (wall, cpu) medians."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")} | {"HF_HUB_OFFLINE": "1",
                                                                              "PYTHONPATH": str(REPO)}
    ours, theirs = [], []
    for i in range(repeats):
        run = run_process([PY, "-m", "ui.cli.main", "index", "--seeds", str(corpus), "--db", str(work / f"qa-{i}")],
                          env=env, cwd=REPO)
        assert run.code == 0, run.err[-2000:]
        ours.append(run)
        if tutorial:
            run = run_process([PY, str(REPO / "bench" / "tutorial.py"), "build", str(corpus), str(work / f"tut-{i}")],
                              env=env, cwd=REPO)
            assert run.code == 0, run.err[-2000:]
            theirs.append(run)
        print(f"  round {i + 1}: qa index {ours[-1].wall:.1f}s" + (f", tutorial {theirs[-1].wall:.1f}s" if theirs
                                                                   else ""), file=sys.stderr, flush=True)
    pair = lambda runs: (median(r.wall for r in runs), median(r.cpu for r in runs))  # noqa: E731
    return pair(ours), (pair(theirs) if theirs else None)


def bench_corpus(corpus: Path, embedder, st, repeats: int, work: Path, tutorial: bool) -> Row:
    """Time the builds and the encode baselines on a temp copy of `corpus`."""
    seeds = work / corpus.parent.name / "seeds"
    shutil.copytree(corpus, seeds, copy_function=shutil.copyfile)
    qa_index, tut = fresh_builds(seeds, work / corpus.parent.name, repeats, tutorial)
    base = IndexSettings(seeds_dir=seeds)
    full, st_encode, onnx_encode, texts = [], [], [], None
    for i in range(repeats):  # builds and plain encodes alternate, so drifting load hits them alike
        settings = base.replace(db_dir=work / corpus.parent.name / f"db-full-{i}")
        full.append(timed(lambda: build(settings, embedder=embedder)))
        texts = texts or embedded_texts(settings)
        st_encode.append(timed(lambda: st.model.encode(texts, batch_size=64, normalize_embeddings=True,
                                                       convert_to_numpy=True, show_progress_bar=False)))
        onnx_encode.append(timed(lambda: embedder.embed(texts)))
    report = build(settings, embedder=embedder)
    noop = median(timed(lambda: build(settings, embedder=embedder)) for _ in range(max(5, repeats)))
    target = seeds / sorted(mf.read(settings.db_dir).files)[0]

    def one_changed(i: int) -> float:
        with open(target, "a", encoding="utf-8") as fh:
            fh.write(f"\nBenchmark edit number {i}: one more sentence.\n")
        started = time.perf_counter()
        got = build(settings, embedder=embedder)
        assert got.updated == 1 and got.added == got.removed == 0, got.summary()
        return time.perf_counter() - started

    changed = median(one_changed(i) for i in range(repeats))
    return Row(corpus.parent.name, report.files, report.chunks, qa_index, tut, median(full), median(st_encode),
               median(onnx_encode), noop, changed)


def embedded_texts(settings: IndexSettings) -> list[str]:
    """Exactly the texts the build gave the model: each stored chunk with its title/site/date prefix."""
    _, docs, metas = ChromaStore(settings).records()
    return [index_text(d, m) for d, m in zip(docs, metas)]


def print_tables(rows: list[Row], repeats: int) -> None:
    """The results as two fixed-width tables."""
    fresh = [("corpus", "chunks", "qa index wall s", "cpu s", "tutorial wall s", "cpu s", "wall ratio", "cpu ratio")]
    for r in rows:
        t = r.tutorial
        fresh.append((r.name, str(r.chunks), f"{r.qa_index[0]:.1f}", f"{r.qa_index[1]:.1f}",
                      f"{t[0]:.1f}" if t else "-", f"{t[1]:.1f}" if t else "-",
                      f"{r.qa_index[0] / t[0]:.2f}" if t else "-", f"{r.qa_index[1] / t[1]:.2f}" if t else "-"))
    inproc = [("corpus", "full build s", "ST encode s", "ONNX encode s", "full/ST encode", "full/ONNX encode",
               "no-op s", "1-changed s")]
    for r in rows:
        inproc.append((r.name, f"{r.full:.2f}", f"{r.st_encode:.2f}", f"{r.onnx_encode:.2f}",
                       f"{r.full / r.st_encode:.2f}", f"{r.full / r.onnx_encode:.2f}", f"{r.noop:.3f}",
                       f"{r.one_changed:.2f}"))
    print(f"Full builds in fresh processes (imports and model load included), medians of {repeats}; "
          "ratio = qa index / the LangChain tutorial's pipeline")
    table(fresh)
    print(f"\nIn one process, model preloaded, medians of {repeats} (no-op: {max(5, repeats)}); peak RSS "
          f"{high_water_mb():.0f} MB")
    table(inproc)


def table(lines: list[tuple]) -> None:
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    for n, line in enumerate(lines):
        print("  ".join(cell.rjust(w) if i else cell.ljust(w) for i, (cell, w) in enumerate(zip(line, widths))))
        if n == 0:
            print("  ".join("-" * w for w in widths))


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, run every corpus, print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpora", nargs="*", type=Path, default=DEFAULT_CORPORA, help="corpus directories")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per measurement (median)")
    parser.add_argument("--skip-tutorial", action="store_true", help="leave out the tutorial's build")
    args = parser.parse_args(argv)
    embedder = open_embedder(IndexSettings())
    st = SentenceTransformerEmbedder(batch_size=64)
    embedder.embed(["warm up"]), st.embed(["warm up"])
    rows = []
    with tempfile.TemporaryDirectory(prefix="index-bench-") as tmp:
        for corpus in args.corpora:
            print(f"benchmarking {corpus.resolve()} ...", file=sys.stderr, flush=True)
            rows.append(bench_corpus(corpus.resolve(), embedder, st, args.repeats, Path(tmp), not args.skip_tutorial))
    print_tables(rows, args.repeats)


if __name__ == "__main__":
    main()
