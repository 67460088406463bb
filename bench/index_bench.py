"""Index benchmark: full, no-op and one-file-changed builds against plain model encoding.

    .venv/bin/python bench/index_bench.py [CORPUS_DIR ...] [--repeats 3]

For each corpus (default: the squad-dev and multihop-dev eval corpora) the corpus is copied
to a temp dir and indexed with the default settings. The model is loaded once, before any
timing, and shared by every build and by the plain `SentenceTransformer.encode` baseline
(batch size 64, on exactly the texts the build embeds). Times are medians over repeats.
"""
from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from index import manifest as mf  # noqa: E402
from index.build import build  # noqa: E402
from index.chunk import index_text  # noqa: E402
from index.embed import SentenceTransformerEmbedder  # noqa: E402
from index.settings import IndexSettings  # noqa: E402
from index.store import ChromaStore  # noqa: E402

DEFAULT_CORPORA = [REPO / "qa/evalsets/squad-dev/corpus", REPO / "qa/evalsets/multihop-dev/corpus"]


@dataclass
class Row:
    """Medians for one corpus."""

    name: str
    files: int
    chunks: int
    full: float
    noop: float
    one_changed: float
    encode: float


def timed(fn) -> float:
    """Seconds `fn()` took."""
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def median_of(repeats: int, fn) -> float:
    """Median seconds of `repeats` calls of `fn(i)`."""
    return statistics.median(timed(lambda: fn(i)) for i in range(repeats))


def bench_corpus(corpus: Path, embedder, repeats: int, work: Path) -> Row:
    """Time the builds and the encode baseline on a temp copy of `corpus`."""
    seeds = work / corpus.parent.name / "seeds"
    shutil.copytree(corpus, seeds, copy_function=shutil.copyfile)
    base = IndexSettings(seeds_dir=seeds)

    # Full builds and the plain-encode baseline alternate, so drifting machine load hits both alike.
    full_times, encode_times, texts = [], [], None
    for i in range(repeats):
        settings = base.replace(db_dir=work / corpus.parent.name / f"db-full-{i}")
        full_times.append(timed(lambda: build(settings, embedder=embedder)))
        texts = texts or embedded_texts(settings)
        encode_times.append(timed(lambda: embedder.model.encode(
            texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)))
    report = build(settings, embedder=embedder)
    noop_s = median_of(max(5, repeats), lambda i: build(settings, embedder=embedder))

    target = seeds / sorted(mf.read(settings.db_dir).files)[0]  # an indexed file

    def one_changed(i: int) -> None:
        with open(target, "a", encoding="utf-8") as fh:
            fh.write(f"\nBenchmark edit number {i}: one more sentence.\n")
        got = build(settings, embedder=embedder)
        assert got.updated == 1 and got.added == got.removed == 0, got.summary()

    one_s = median_of(repeats, one_changed)

    return Row(corpus.parent.name, report.files, report.chunks, statistics.median(full_times), noop_s, one_s,
               statistics.median(encode_times))


def embedded_texts(settings: IndexSettings) -> list[str]:
    """Exactly the texts the build gave the model: each stored chunk with its title/site/date prefix."""
    _, docs, metas = ChromaStore(settings).records()
    return [index_text(d, m) for d, m in zip(docs, metas)]


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (ru_maxrss is KB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def print_table(rows: list[Row], load_s: float, repeats: int) -> None:
    """The results as a fixed-width table."""
    head = ("corpus", "files", "chunks", "full s", "no-op s", "1-changed s", "encode s", "full/encode",
            "1-changed/full")
    lines = [head] + [(r.name, str(r.files), str(r.chunks), f"{r.full:.2f}", f"{r.noop:.3f}",
                       f"{r.one_changed:.2f}", f"{r.encode:.2f}", f"{r.full / r.encode:.2f}",
                       f"{r.one_changed / r.full:.3f}") for r in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    for n, line in enumerate(lines):
        print("  ".join(cell.rjust(w) if i else cell.ljust(w) for i, (cell, w) in enumerate(zip(line, widths))))
        if n == 0:
            print("  ".join("-" * w for w in widths))
    print(f"\nmedians of {repeats} runs (no-op: {max(5, repeats)}); model load {load_s:.2f}s (excluded); "
          f"peak RSS {peak_rss_mb():.0f} MB")


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, run every corpus, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpora", nargs="*", type=Path, default=DEFAULT_CORPORA, help="corpus directories")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per measurement (median)")
    args = parser.parse_args(argv)
    embedder = SentenceTransformerEmbedder(batch_size=64)
    load_s = timed(lambda: embedder.embed(["warm up"]))
    rows = []
    with tempfile.TemporaryDirectory(prefix="index-bench-") as tmp:
        for corpus in args.corpora:
            print(f"benchmarking {corpus.resolve()} ...", file=sys.stderr, flush=True)
            rows.append(bench_corpus(corpus.resolve(), embedder, args.repeats, Path(tmp)))
    print_table(rows, load_s, args.repeats)


if __name__ == "__main__":
    main()
