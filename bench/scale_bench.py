"""Scale benchmark: a deterministic synthetic corpus of N chunks (default 100,000) through the real pipeline.

    .venv/bin/python bench/scale_bench.py [--chunks 100000] [--modes embedded,server] [--queries 100]

The corpus comes from `synth_corpus.make_corpus` (seeded, nothing downloaded), indexed with
`chunk_size=200, chunk_overlap=0` so one paragraph is one chunk; each file's needle question is asked
to measure answer latency and whether the right file is cited.

Before building, the real embedder's throughput on sample chunks is measured and the full-build time
for N (and for 100,000) estimated. Then, per mode (embedded Chroma in the index folder, or a
`chroma run` server on a free port), it reports: build time with the real `index.builds.build` (model loaded
once beforehand, shared), warm `Assistant.answer()` p50/p95, plain Chroma search (embed + query) p50/p95,
the share of needle questions whose first citation is the right file, and peak RSS sampled during
the build (this process without its children, and the Chroma server process). Modes run in one
process, so the second mode's build RSS also counts what the first one left behind (conservative).
Then a fresh process (what `qa serve` would be) opens the finished index and answers the same
questions: its p50/p95 and its peak RSS (the kernel's high-water mark for that process, VmHWM; not
ru_maxrss, which a child started with vfork inherits from its parent) are the serving figures. It then
asks one follow-up, which builds the conversation's sentence table: its time and the peak RSS after it.
Every figure is measured; nothing is extrapolated except the printed estimate, which is labelled so.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from harness import PeakRSS, live_collection, timed_ms  # noqa: E402
from index.builds.build import build  # noqa: E402
from index.embedding.embedders import open_embedder  # noqa: E402
from index.ingest import sentences  # noqa: E402
from index.ingest.chunk import index_text  # noqa: E402
from index.settings import IndexSettings  # noqa: E402
from qa.evaluation.metrics import percentile  # noqa: E402
from qa.pipeline import build_assistant  # noqa: E402
from synth_corpus import CHUNK_SIZE, make_corpus  # noqa: E402
from testkit.servers import start_chroma  # noqa: E402


def measure_encode(embedder, root: Path, n: int = 512) -> float:
    """Chunks per second of `embed_spans` (what the build calls) on `n` real corpus paragraphs."""
    texts = []
    for path in sorted(root.rglob("*.txt")):
        texts += [p for p in path.read_text("utf-8").split("\n\n") if p.strip()]
        if len(texts) >= n:
            break
    texts = [index_text(t.strip(), {"title": t.strip()[:60]}) for t in texts[:n]]
    spans = [sentences.split(t) for t in texts]
    embedder.embed_spans(texts[:64], spans[:64])  # warm
    started = time.perf_counter()
    embedder.embed_spans(texts, spans)
    return len(texts) / (time.perf_counter() - started)


def run_mode(mode: str, seeds: Path, work: Path, embedder, needles, queries: int, encoder: str) -> dict:
    """Build and query in one mode; returns the row."""
    server = None
    settings = IndexSettings(seeds_dir=seeds, db_dir=work / f"db-{mode}", chunk_size=CHUNK_SIZE, chunk_overlap=0,
                             encoder=encoder)
    try:
        if mode == "server":
            server, port = start_chroma(work / "chroma-server", work / "chroma.log")
            settings = settings.replace(chroma_host="127.0.0.1", chroma_port=port)
        pids = [os.getpid()] + ([server.pid] if server else [])
        with PeakRSS(pids, [False, True]) as built:  # the indexer alone (the server is its child); the server
            print(f"[{mode}] building ...", file=sys.stderr, flush=True)
            started = time.perf_counter()
            report = build(settings, embedder=embedder, progress=_progress(mode))
            build_s = time.perf_counter() - started
        row = query_mode(settings, embedder, needles, queries)
        served = serve_in_fresh_process(settings, row.pop("questions"))
        return {**row, "mode": mode, "files": report.files, "chunks": report.chunks, "build_s": build_s,
                "rss_build": built.mb(0), "rss_server": built.mb(1) if server else None,
                "serve_p50": served["p50"], "serve_p95": served["p95"], "serve_rss": served["rss_mb"],
                "follow_s": served["follow_s"], "serve_rss_conv": served["rss_conv_mb"]}
    finally:
        if server:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def query_mode(settings: IndexSettings, embedder, needles, queries: int) -> dict:
    """Warm `Assistant.answer()` and plain Chroma search on a sample of needle questions, side by side."""
    assistant = build_assistant(settings, embedder=embedder)
    sample = random.Random(7).sample(needles, min(queries, len(needles)))
    assistant.answer(sample[0][1])  # warm: store, lexical snapshot
    col = live_collection(settings)
    plain = timed_ms(lambda q: col.query(query_embeddings=embedder.embed([q[1]]), n_results=4), sample)
    hits = []

    def ask(item):
        answer = assistant.answer(item[1])
        hits.append(bool(answer.citations) and answer.citations[0].source == item[0] and item[2] in answer.text)

    ours = timed_ms(ask, sample)
    return {"answer_p50": percentile(ours, 50), "answer_p95": percentile(ours, 95),
            "plain_p50": percentile(plain, 50), "plain_p95": percentile(plain, 95),
            "hit": sum(hits) / len(hits), "queries": len(sample), "questions": [q for _, q, _ in sample]}


def serve_in_fresh_process(settings: IndexSettings, questions: list[str]) -> dict:
    """Open the index in a new process (`serve_probe.py`), answer `questions` (one warm-up first), then
    one follow-up; its latency and peak RSS."""
    spec = {"seeds": str(settings.seeds_dir), "db": str(settings.db_dir), "chunk_size": settings.chunk_size,
            "host": settings.chroma_host, "port": settings.chroma_port, "questions": questions,
            "encoder": settings.encoder}
    done = subprocess.run([sys.executable, str(Path(__file__).with_name("serve_probe.py"))], input=json.dumps(spec),
                          capture_output=True, text=True, check=True, env=os.environ | {"PYTHONPATH": str(REPO)})
    return json.loads(done.stdout.strip().splitlines()[-1])


def _progress(mode: str):
    last = [0.0]

    def progress(stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if stage == "embedding" and (now - last[0] > 30 or done == total):
            last[0] = now
            print(f"[{mode}] embedded {done}/{total}", file=sys.stderr, flush=True)

    return progress


def print_rows(rows: list[dict]) -> None:
    head = ("mode", "files", "chunks", "build s", "chunks/s", "answer p50/p95 ms", "plain p50/p95 ms",
            "right file", "build peak RSS MB (indexer / server)", "serving process: p50/p95 ms, peak RSS MB",
            "then a follow-up: s, peak RSS MB")
    lines = [head] + [(r["mode"], str(r["files"]), str(r["chunks"]), f"{r['build_s']:.0f}",
                       f"{r['chunks'] / r['build_s']:.1f}", f"{r['answer_p50']:.0f} / {r['answer_p95']:.0f}",
                       f"{r['plain_p50']:.0f} / {r['plain_p95']:.0f}", f"{r['hit'] * 100:.0f}% of {r['queries']}",
                       f"{r['rss_build']:.0f}" + (f" / {r['rss_server']:.0f}" if r["rss_server"] else ""),
                       f"{r['serve_p50']:.0f} / {r['serve_p95']:.0f}, {r['serve_rss']:.0f}",
                       f"{r['follow_s']:.1f}, {r['serve_rss_conv']:.0f}")
                      for r in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    for n, line in enumerate(lines):
        print("  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(line, widths))))
        if n == 0:
            print("  ".join("-" * w for w in widths))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chunks", type=int, default=100_000, help="corpus size in chunks")
    parser.add_argument("--modes", default="embedded,server", help="embedded, server or both")
    parser.add_argument("--queries", type=int, default=100, help="needle questions timed per mode")
    parser.add_argument("--keep", type=Path, help="work in this directory and keep it")
    parser.add_argument("--encoder", default="onnx", help="QA_ENCODER: onnx (default), onnx-fp32, onnx-int8 or torch")
    args = parser.parse_args(argv)
    work = args.keep or Path(tempfile.mkdtemp(prefix="scale-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        t = time.perf_counter()
        needles = make_corpus(work / "seeds", args.chunks)
        print(f"corpus: {len(needles)} files, {args.chunks} paragraphs (~1 chunk each) generated in "
              f"{time.perf_counter() - t:.1f}s", file=sys.stderr, flush=True)
        embedder = open_embedder(IndexSettings(encoder=args.encoder))
        t = time.perf_counter()
        embedder.embed(["warm up"])
        load_s = time.perf_counter() - t
        rate = measure_encode(embedder, work / "seeds")
        modes = [m.strip() for m in args.modes.split(",") if m.strip()]
        print(f"encoder {args.encoder}: model load {load_s:.1f}s; embed_spans throughput {rate:.0f} chunks/s "
              f"on this machine now (load average "
              f"{os.getloadavg()[0]:.1f}); estimated encode time: {args.chunks / rate / 60:.1f} min per build of "
              f"{args.chunks} chunks, {100_000 / rate / 60:.1f} min for 100,000", flush=True)
        rows = [run_mode(m, work / "seeds", work, embedder, needles, args.queries, args.encoder) for m in modes]
        print()
        print(f"scale bench, encoder {args.encoder}: {args.chunks} chunks requested (chunk_size={CHUNK_SIZE}, overlap 0), "
              f"{args.queries} needle questions per mode, real model and real Chroma")
        print_rows(rows)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
