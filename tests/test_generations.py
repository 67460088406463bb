"""Serving survives any writer: readers in one process, builds in others, through the generation pointer.

The reader and writer processes (tests/index_procs.py) run the product's code on a real embedded Chroma
store with the in-memory `HashEmbedder`. Before generations, a reader that another process rebuilt under
failed every query ("Error creating hnsw segment reader: Nothing found on disk") until it restarted, and
after an incremental build elsewhere it served deleted chunks and missed new ones.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from index.builds.build import build
from index.generations import generation
from index_procs import settings, write_file
from testkit.fakes import HashEmbedder

PROCS = Path(__file__).with_name("index_procs.py")


def procs(*args, **kwargs):
    """`python tests/index_procs.py ARGS` as a Popen with piped text output."""
    return subprocess.Popen([sys.executable, str(PROCS), *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kwargs)


def test_a_reader_process_survives_builds_by_another_process(tmp_path):
    db, seeds, stop = tmp_path / "db", tmp_path / "seeds", tmp_path / "stop"
    seeds.mkdir()
    for n in range(50):
        write_file(seeds, n, 0)
    build(settings(db, seeds), embedder=HashEmbedder())
    reader = procs("reader", db, seeds, stop)
    try:
        assert reader.stdout.readline().strip() == "ready", reader.stderr.read()[-3000:]
        writer = procs("writer", db, seeds, 6)
        out, err = writer.communicate(timeout=600)
        assert writer.returncode == 0, err[-3000:]
        print(out)
        time.sleep(3)  # the reader keeps answering after the writer is gone
    finally:
        stop.touch()
        out, err = reader.communicate(timeout=300)
    assert reader.returncode == 0, err[-3000:]
    summary = json.loads(out.splitlines()[-1])
    print({k: v for k, v in summary.items() if k != "final"})
    assert summary["failed"] == 0, summary["errors"]
    assert summary["ok"] > 20 and summary["empty"] == 0 and summary["switches"] >= 6

    fresh = procs("answers", db, seeds)
    out, err = fresh.communicate(timeout=300)
    assert fresh.returncode == 0, err[-3000:]
    assert summary["final"] == json.loads(out), "the long-lived reader answers differently from a fresh one"

    ptr = generation.read(settings(db, seeds))
    assert summary["generation"] == ptr.live.name
    stale = [p for p in summary["held"] if "/gen-" in p and ptr.live.name not in p]
    assert not stale, f"the reader still holds files of older generations: {stale}"
    build(settings(db, seeds), embedder=HashEmbedder())  # a no-op build removes what readers let go of
    assert {p.name for p in db.glob("gen-*")} <= {ptr.live.name, ptr.previous.name}


def test_an_index_built_before_generations_is_read_then_converted_without_embedding(tmp_path):
    db, seeds = tmp_path / "db", tmp_path / "seeds"
    seeds.mkdir()
    for n in range(10):
        write_file(seeds, n, 0)
    s = settings(db, seeds)
    build(s, embedder=HashEmbedder())
    # Rearrange into the layout before generations: db/chroma, db/sentences, db/lexical-*, lexical.json.
    gen = generation.read(s).live
    fingerprint = generation.read(s).fingerprint
    for part in ("chroma", "sentences"):
        (gen.dir / part).rename(db / part)
    (gen.dir / "lexical").rename(db / f"lexical-{fingerprint}-0000")
    (db / "lexical.json").write_text(json.dumps({"version": fingerprint, "dir": f"lexical-{fingerprint}-0000"}))
    (db / generation.POINTER).unlink()
    shutil.rmtree(gen.dir)

    from qa.pipeline import build_assistant
    from test_build import RefusingEmbedder
    from testkit.invariants import index_state

    assistant = build_assistant(s, embedder=HashEmbedder())
    before = assistant.retrieve("What did the keeper write in the ledger?")
    assert before and assistant.store.generation().name is None  # read as it is
    report = build(s, embedder=RefusingEmbedder())
    assert report.repaired == ("the index folder was converted to generations",) and report.added == 0
    index_state(s).assert_consistent()
    assert [p.id for p in assistant.retrieve("What did the keeper write in the ledger?")] == [p.id for p in before]
    assert assistant.store.generation().name == generation.read(s).live.name
    assert sorted(p.name for p in db.iterdir() if not p.name.startswith(".")) == \
        sorted([generation.read(s).live.name, generation.POINTER, "manifest.json"])
