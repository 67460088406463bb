"""Crash safety: a build killed at any point, then re-run, ends equal to a fresh build."""
from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest

from conftest import EVAL, copy_files
from index.builds.build import build
from index.generations import generation, manifest as mf
from index.vectorstore.live_store import ChromaStore
from testkit.invariants import assert_same_as_fresh, manifest_view

SQUAD = ["Packet_switching.txt", "1973_oil_crisis.txt", "Harvard_University.txt", "Normans.txt"]
CHUNKING = {"QA_CHUNK_SIZE": "200", "QA_CHUNK_OVERLAP": "20"}  # ~700 chunks: two commit groups


def kill_when(proc, ready, delay: float, timeout: float = 150) -> bool:
    """Wait until `ready()` (None: at once; or until the process ends), sleep `delay`, SIGKILL the process group.

    Returns True if the process was killed while still running, False if it had already finished.
    """
    deadline = time.monotonic() + timeout
    while ready is not None and proc.poll() is None and not ready():
        assert time.monotonic() < deadline, "kill point never reached"
        time.sleep(0.02)
    time.sleep(delay)
    alive = proc.poll() is None
    if alive:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()
    view = manifest_view(db_of(proc))
    print(f"killed={alive} after {delay}s: manifest files={view and view[0]} complete={view and view[1]}")
    return alive


def db_of(proc):
    """The --db argument of a `qa index` process."""
    return Path(proc.args[proc.args.index("--db") + 1])


@pytest.mark.slow
def test_sigkill_at_many_points_then_rerun(tmp_path, qa_cli, embedder, make_settings):
    seeds, db = tmp_path / "seeds", tmp_path / "db"
    copy_files(EVAL / "squad-dev" / "corpus", seeds, SQUAD)
    multihop = EVAL / "multihop-dev" / "corpus"
    names = sorted(os.listdir(multihop))
    copy_files(multihop, seeds, names[:40])
    total = 44

    def start():
        return qa_cli("index", "--seeds", seeds, "--db", db, "--json", env=CHUNKING, background=True)

    def changed_since(before):
        return lambda: (v := manifest_view(db)) is not None and v[2] != (before[2] if before else None)

    # Full build, killed: during start-up, right as work begins, just after a commit, after the last commit.
    assert kill_when(start(), None, 1.5)
    assert kill_when(start(), lambda: manifest_view(db) is not None, 0.0)
    before = manifest_view(db)
    assert kill_when(start(), lambda: (v := manifest_view(db)) and v[0] > before[0], 0.3)
    view = manifest_view(db)
    assert 0 < view[0] < total and not view[1], "the kill should leave a half-done build"
    kill_when(start(), lambda: (v := manifest_view(db)) and v[0] == total and not v[1], 0.0)
    done = start()
    out, err = done.communicate(timeout=300)
    assert done.returncode == 0, err
    assert json.loads(out)["files"] == total

    # Incremental update (edit, add, remove), killed as it starts and part way through.
    with open(seeds / SQUAD[0], "a", encoding="utf-8") as fh:
        fh.write("\nPacket switching was also studied at the National Physical Laboratory.\n")
    with open(seeds / names[0], "a", encoding="utf-8") as fh:
        fh.write("\nAn added closing line.\n")
    copy_files(multihop, seeds, names[40:42])
    (seeds / SQUAD[1]).unlink()
    (seeds / names[1]).unlink()
    assert kill_when(start(), changed_since(manifest_view(db)), 0.0)
    kill_when(start(), changed_since(manifest_view(db)), 3.0)
    with open(seeds / SQUAD[0], "a", encoding="utf-8") as fh:  # edited again before the next run
        fh.write("Donald Davies coined the term.\n")
    done = start()
    out, err = done.communicate(timeout=300)
    assert done.returncode == 0, err
    assert json.loads(out)["files"] == total

    settings = make_settings(seeds, db_dir=db, chunk_size=200, chunk_overlap=20)
    fresh = make_settings(seeds, db_dir=tmp_path / "fresh", chunk_size=200, chunk_overlap=20)
    build(fresh, embedder=embedder)
    assert_same_as_fresh(settings, fresh)


class Crash(Exception):
    """Stands in for the process dying at an exact point."""


class CrashingStore(ChromaStore):
    """The real Chroma store, but the build 'dies' right after the `nth` call of `method` (on the generation
    being written) has reached Chroma."""

    def __init__(self, settings, method: str, nth: int = 1):
        super().__init__(settings)
        self.method, self.left = method, nth

    def stage(self, gen, base):
        writer = super().stage(gen, base)
        real = getattr(writer, self.method)

        def crashing(*args):
            real(*args)
            self.left -= 1
            if self.left == 0:
                raise Crash(f"after {self.method}")

        setattr(writer, self.method, crashing)
        return writer


@pytest.mark.parametrize("method, nth", [("upsert", 1), ("delete", 1), ("delete", 2)])
def test_crash_between_store_write_and_manifest(seeds_copy, tmp_path, make_settings, embedder,
                                                method, nth):
    """Deterministic versions of the most delicate windows: the store changed, the manifest not yet."""
    docs = {f"doc{i}.md": f"# Doc {i}\n\n" + f"Paragraph {i} about harbours and tides. " * 30 for i in range(4)}
    for name, text in docs.items():
        (seeds_copy / name).write_text(text, "utf-8")
    settings = make_settings(seeds_copy, chunk_size=300, chunk_overlap=30)
    build(settings, embedder=embedder)
    (seeds_copy / "doc0.md").unlink()
    (seeds_copy / "doc1.md").write_text(docs["doc1.md"] + "\nA changed ending.", "utf-8")
    (seeds_copy / "doc9.md").write_text("# Doc 9\n\nA brand new file about lighthouses.", "utf-8")
    live = generation.read(settings).live
    with pytest.raises(Crash):
        build(settings, embedder=embedder, store=CrashingStore(settings, method, nth))
    assert generation.read(settings).live == live, "a build that died published its generation"
    assert mf.read(settings.db_dir).complete and not manifest_view(settings.db_dir)[1]
    # The user keeps working before the next run: ids written by the dead run may now belong to nobody.
    (seeds_copy / "doc1.md").write_text(docs["doc1.md"] + "\nChanged once more.", "utf-8")
    (seeds_copy / "doc9.md").unlink()
    report = build(settings, embedder=embedder)
    assert report.files == 4  # the seed, doc1, doc2, doc3
    fresh = make_settings(seeds_copy, db_dir=tmp_path / "fresh", chunk_size=300, chunk_overlap=30)
    build(fresh, embedder=embedder)
    assert_same_as_fresh(settings, fresh)
