"""Reader and writer processes for tests/test_generations.py (run as `python tests/index_procs.py ...`).

Both use the product's code on a real embedded Chroma store with the in-memory `HashEmbedder`, so no model
is loaded and a build takes about a second:

    writer DB SEEDS ROUNDS   alternate `--rebuild` and incremental builds (files edited, added, removed)
    reader DB SEEDS STOP     4 threads answer questions until the file STOP exists; prints a JSON summary
    answers DB SEEDS         answers the fixed questions once (a fresh process) and prints them as JSON
"""
from __future__ import annotations

import json
import os
import random
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from index.builds.build import build  # noqa: E402
from index.settings import IndexSettings  # noqa: E402
from qa.pipeline import build_assistant  # noqa: E402
from testkit.fakes import HashEmbedder  # noqa: E402

WORDS = ("harbour tide gauge keeper ledger granite quarry ferry pier storm road beacon lantern net salt "
         "copper wool comet orchard cider press river delta").split()
QUESTIONS = ["What did the keeper write in the ledger?", "When was the ferry pier repaired?",
             "Which quarry supplied the granite?", "What did the beacon lantern show?"]


def settings(db: str, seeds: str) -> IndexSettings:
    """The index settings both sides use (small chunks: about 300 of them)."""
    return IndexSettings(seeds_dir=Path(seeds), db_dir=Path(db), chunk_size=300, chunk_overlap=30)


def write_file(seeds: Path, n: int, version: int) -> None:
    """File `n` in its `version`: six chunks of sentences."""
    rng = random.Random(n * 1000 + version)
    sentences = [f"In round {version} the {rng.choice(WORDS)} keeper {n} wrote about the {rng.choice(WORDS)} "
                 f"and the {rng.choice(WORDS)} near {rng.choice(WORDS)} number {rng.randint(1, 999)}."
                 for _ in range(24)]
    (seeds / f"file{n:03d}.txt").write_text(" ".join(sentences), "utf-8")


def writer(db: str, seeds: str, rounds: int) -> None:
    s, folder, embedder = settings(db, seeds), Path(seeds), HashEmbedder()
    for r in range(1, rounds + 1):
        if r % 2 == 0:  # incremental: a third of the files edited, one added, one removed
            for n in range(0, 50, 3):
                write_file(folder, n, r)
            write_file(folder, 100 + r, r)
            (folder / f"file{100 + r - 2:03d}.txt").unlink(missing_ok=True)
        report = build(s, embedder=embedder, rebuild=r % 2 == 1)
        print(json.dumps({"round": r, "chunks": report.chunks, "rebuilt": report.rebuilt_because}), flush=True)


def _answer(assistant, question: str) -> list:
    answer = assistant.answer(question)
    return [[c.passage_id, c.quote] for c in answer.citations]


def reader(db: str, seeds: str, stop: str) -> None:
    assistant = build_assistant(settings(db, seeds), embedder=HashEmbedder())
    assistant.retrieve(QUESTIONS[0])
    print("ready", flush=True)
    counts, errors, lock = {"ok": 0, "failed": 0, "empty": 0}, {}, threading.Lock()

    def loop(n: int) -> None:
        rng = random.Random(n)
        while not os.path.exists(stop):
            try:
                passages = assistant.retrieve(rng.choice(QUESTIONS), k=4)
                with lock:
                    counts["ok"] += 1
                    counts["empty"] += not passages
            except Exception as exc:  # noqa: BLE001 - counted and reported
                key = f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}"
                with lock:
                    counts["failed"] += 1
                    errors[key] = errors.get(key, 0) + 1
                time.sleep(0.01)

    threads = [threading.Thread(target=loop, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        final = {q: _answer(assistant, q) for q in QUESTIONS}
    except Exception as exc:  # noqa: BLE001 - reported: the test compares it with a fresh process
        final = f"{type(exc).__name__}: {str(exc)[:200]}"
    gen = getattr(assistant.store, "generation", lambda: None)()  # (absent before generations)
    held = sorted({os.readlink(f"/proc/self/fd/{fd}") for fd in os.listdir("/proc/self/fd")
                   if _points_into(f"/proc/self/fd/{fd}", db)})
    print(json.dumps({**counts, "errors": errors, "final": final, "switches": getattr(assistant.store, "switches", None),
                      "generation": gen.name if gen else None, "held": held}), flush=True)


def _points_into(fd_path: str, db: str) -> bool:
    try:
        return os.readlink(fd_path).startswith(os.path.realpath(db))
    except OSError:
        return False


def answers(db: str, seeds: str) -> None:
    assistant = build_assistant(settings(db, seeds), embedder=HashEmbedder())
    print(json.dumps({q: _answer(assistant, q) for q in QUESTIONS}), flush=True)


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    {"writer": lambda: writer(args[0], args[1], int(args[2])), "reader": lambda: reader(*args[:3]),
     "answers": lambda: answers(*args[:2])}[command]()
