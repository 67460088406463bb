"""Faults around the index: rebuilds racing with questions, unwritable index folders, a full disk.

(a) One `Assistant` answers questions while a background thread changes files and rebuilds:
    no answer fails and every citation quotes exactly the file version its passage came from.
(b) An index folder that cannot be created, a read-only one and a full disk give a clear
    `QAError` (exit code 1 and a message from the CLI); the previous index keeps answering.
(c) After the failure is cleared the next build converges: manifest, store and snapshot agree.

Note: when the disk fills inside Chroma's own writes ("Error in compaction"), a later upsert by the
same in-process Chroma client blocked forever in about 1 of 12 runs (chromadb 1.5.9, seen in
`rust.py _upsert`). That case is therefore exercised through separate `qa` processes only.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import SEEDS, index_state
from index.builds.build import build
from index.errors import QAError, StoreError
from index.generations import manifest as mf
from index.ids import prefix_of
from index.ingest.discover import file_hash
from index.ingest.load import load
from index.settings import IndexSettings
from qa.pipeline import build_assistant

XI_QUESTION = "What did Xi herald during his call with Putin?"
XI_QUOTE = "Xi heralded a new year of growing coordination with Russia"
SEED = sorted(p.name for p in SEEDS.iterdir())[0]


def gauge(n: int) -> str:
    """Version `n` of a file that changes on every round."""
    return (f"# Quillmere tide gauge\n\nIn survey round {n} the Quillmere tide gauge read {n + 3} metres at noon. "
            f"The keeper, Odile Franck, wrote the reading in ledger number {n * 7}.\n\n"
            + "The harbour wall was repaired with granite blocks from the northern quarry. " * 8)


FERRY = ("The Varnholt ferry crossing was closed in {year} after the pier collapsed in a winter storm. "
         "Travellers afterwards used the coastal road through Pellmark.\n\n") + "Fishing boats still moor there. " * 10
QUESTIONS = [XI_QUESTION, "What did the Quillmere tide gauge read at noon?",
             "When was the Varnholt ferry crossing closed?", "Who wrote the reading in the ledger?",
             "Which kind of manufacturing is Moscow expanding?"]


def versions_of(seeds: Path, into: dict[str, str]) -> None:
    """Record the loaded text of every file's current version under its chunk-id prefix."""
    for path in seeds.rglob("*"):
        if path.is_file():
            source = path.relative_to(seeds).as_posix()
            prefix = hashlib.sha1(source.encode()).hexdigest()[:12] + "-" + file_hash(path)[:12]
            into[prefix] = load(path, source).text


def check_citations(answer, versions: dict[str, str]) -> list[str]:
    """Each citation quotes its passage's span and, through the chunk id, that file version's text."""
    for c in answer.citations:
        passage = next(p for p in answer.passages if p.id == c.passage_id)
        assert passage.source == c.source
        assert passage.text[c.start - passage.start:c.end - passage.start] == c.quote, (c, passage)
        assert versions[prefix_of(c.passage_id)][c.start:c.end] == c.quote, c
    return [c.passage_id for c in answer.citations]


def test_answers_stay_exact_while_files_change_and_the_index_is_rebuilt(seeds_copy, tmp_path, embedder):
    settings = IndexSettings(seeds_dir=seeds_copy, db_dir=tmp_path / "db", chunk_size=400, chunk_overlap=60)
    (seeds_copy / "gauge.md").write_text(gauge(0), "utf-8")
    (seeds_copy / "ferry.txt").write_text(FERRY.format(year=1931), "utf-8")
    seed_text = (seeds_copy / SEED).read_text("utf-8")
    build(settings, embedder=embedder)
    versions: dict[str, str] = {}
    versions_of(seeds_copy, versions)
    known_ids = set(mf.read(settings.db_dir).expected_ids())
    assistant = build_assistant(settings, embedder=embedder)
    failures: list[BaseException] = []
    rounds = 4

    def rebuild_rounds():
        try:
            for n in range(1, rounds + 1):
                (seeds_copy / "gauge.md").write_text(gauge(n), "utf-8")  # changed every round
                (seeds_copy / f"copy{n}.txt").write_text(seed_text.replace("Xi", f"President{n}"), "utf-8")
                if n % 2:  # removed and re-added with another text
                    (seeds_copy / "ferry.txt").unlink()
                else:
                    (seeds_copy / "ferry.txt").write_text(FERRY.format(year=1900 + n), "utf-8")
                (seeds_copy / f"copy{n - 1}.txt").unlink(missing_ok=True)
                versions_of(seeds_copy, versions)
                build(settings, embedder=assistant.embedder, store=assistant.store)
                known_ids.update(mf.read(settings.db_dir).expected_ids())
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)

    worker = threading.Thread(target=rebuild_rounds)
    worker.start()
    cited, answered, during = [], 0, 0
    deadline = time.monotonic() + 600
    while worker.is_alive() or answered < 30:
        assert time.monotonic() < deadline, "rebuild rounds did not finish"
        during += worker.is_alive()
        answer = assistant.answer(QUESTIONS[answered % len(QUESTIONS)])
        cited += check_citations(answer, versions)
        if QUESTIONS[answered % len(QUESTIONS)] == XI_QUESTION:
            assert not answer.abstained and any(XI_QUOTE in c.quote for c in answer.citations)
        answered += 1
    worker.join()
    assert not failures, failures
    print(f"{answered} answers, {during} of them while rebuilding; {len(cited)} citations")
    assert during >= 5, "the questions did not overlap the rebuilds"
    assert set(cited) <= known_ids, set(cited) - known_ids
    state = index_state(settings)
    state.assert_consistent()
    final = assistant.answer("What did the Quillmere tide gauge read at noon?")
    assert f"read {rounds + 3} metres" in final.citations[0].quote
    assert "1904" in assistant.answer("When was the Varnholt ferry crossing closed?").text


# --- (b) and (c): folders that cannot be written -------------------------------------------------


def assert_clear_cli_error(done: subprocess.CompletedProcess, *words: str) -> None:
    """Exit code 1, one `error:` message naming the problem, no traceback."""
    assert done.returncode == 1, (done.returncode, done.stderr[-2000:])
    assert "error:" in done.stderr and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert all(w.lower() in done.stderr.lower() for w in words), done.stderr[-2000:]


def assert_answers_seed(assistant) -> None:
    answer = assistant.answer(XI_QUESTION)
    assert not answer.abstained and XI_QUOTE in answer.citations[0].quote
    c = answer.citations[0]
    assert (SEEDS / c.source).read_text("utf-8")[c.start:c.end] == c.quote


def test_index_folder_under_a_regular_file(seeds_copy, tmp_path, embedder, qa_cli):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory", "utf-8")
    settings = IndexSettings(seeds_dir=seeds_copy, db_dir=blocker / "db")
    with pytest.raises(QAError) as err:
        build(settings, embedder=embedder)
    assert isinstance(err.value, StoreError) and str(blocker / "db") in str(err.value) and err.value.hint
    with pytest.raises(QAError):
        build_assistant(settings, embedder=embedder).answer(XI_QUESTION)
    assert blocker.read_text("utf-8") == "not a directory"
    assert_clear_cli_error(qa_cli("index", "--seeds", seeds_copy, "--db", blocker / "db"), str(blocker / "db"))
    assert_clear_cli_error(qa_cli("ask", XI_QUESTION, "--seeds", seeds_copy, "--db", blocker / "db"))


@contextlib.contextmanager
def mounted(*args: str):
    """Run `mount args...` (skip the test when not permitted); lazily unmount the last argument afterwards."""
    done = subprocess.run(["mount", *args], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"mount not permitted here: {done.stderr.strip()}")
    try:
        yield
    finally:
        subprocess.run(["umount", "-l", args[-1]], capture_output=True)


def test_read_only_index_folder(seeds_copy, tmp_path, embedder, qa_cli):
    settings = IndexSettings(seeds_dir=seeds_copy, db_dir=tmp_path / "db")
    build(settings, embedder=embedder)
    before = index_state(settings)
    (seeds_copy / "ferry.txt").write_text(FERRY.format(year=1931), "utf-8")
    db = str(settings.db_dir)
    with mounted("--bind", db, db):
        if subprocess.run(["mount", "-o", "remount,ro,bind", db], capture_output=True).returncode:
            pytest.skip("read-only remount not permitted")
        with pytest.raises(QAError, match="index directory"):
            build(settings, embedder=embedder)
        assert_clear_cli_error(qa_cli("index", "--seeds", seeds_copy, "--db", db), "read-only")
        asked = qa_cli("ask", XI_QUESTION, "--seeds", seeds_copy, "--db", db)
        assert asked.returncode == 0 and XI_QUOTE in asked.stdout, asked.stderr[-2000:]  # read-only is readable
        listed = qa_cli("docs", "list", "--seeds", seeds_copy, "--db", db)
        assert listed.returncode == 0 and SEED in listed.stdout, listed.stderr[-2000:]
        for write in (("docs", "exclude", SEED), ("docs", "include", SEED), ("docs", "reindex", SEED),
                      ("docs", "rm", SEED), ("index", "--rebuild")):
            assert_clear_cli_error(qa_cli(*write, "--seeds", seeds_copy, "--db", db), "read-only")
        assert (seeds_copy / SEED).is_file()
        assert_v1_answers(seeds_copy, settings.db_dir, tmp_path)
    assert index_state(settings).store_ids == before.store_ids
    build(settings, embedder=embedder)
    index_state(settings).assert_consistent()
    assert "1931" in build_assistant(settings, embedder=embedder).answer(QUESTIONS[2]).text


def assert_v1_answers(seeds: Path, db: Path, tmp_path: Path) -> None:
    """A real `qa serve` on the (read-only) index answers through `/v1`."""
    import openai

    from testkit.servers import free_port, start_ui, stop_server, wait_until_up

    port, log = free_port(), tmp_path / "serve.log"
    proc = start_ui(seeds, db, port, log)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/", proc, log, timeout=300)
        client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="none", max_retries=0, timeout=120)
        reply = client.chat.completions.create(model="extractive", messages=[{"role": "user", "content": XI_QUESTION}])
        assert XI_QUOTE in reply.model_extra["seedqa"]["citations"][0]["quote"]
    finally:
        stop_server(proc)


def fill_disk(disk: Path, leave_kb: int) -> Path:
    """Write a filler file until the disk is full, then shrink it to leave `leave_kb` KB free."""
    filler = disk / "filler"
    with open(filler, "wb", buffering=0) as fh:
        with contextlib.suppress(OSError):
            while True:
                fh.write(b"\1" * 65536)
        with contextlib.suppress(OSError):
            while True:
                fh.write(b"\1" * 1024)
    os.truncate(filler, max(0, filler.stat().st_size - leave_kb * 1024))
    return filler


NEW = {f"gauge{n}.md": gauge(n) + f"\nStation {n} logged {n * 11} gulls on the breakwater.\n" * 6 for n in range(3)}


CHUNKING_ENV = {"QA_CHUNK_SIZE": "300", "QA_CHUNK_OVERLAP": "30"}
GULLS = "How many gulls did station 2 log on the breakwater?"


@pytest.mark.parametrize("leave_kb", [0, 40])
def test_full_disk_then_space_freed(seeds_copy, tmp_path, embedder, qa_cli, leave_kb):
    """The disk fills before the vector store is written (0 KB free: the manifest; 40 KB: the sentence
    vectors): a `StoreError` in-process and from the CLI; the open assistant keeps answering; after
    space is freed the next build converges."""
    disk = tmp_path / "disk"
    disk.mkdir()
    with mounted("-t", "tmpfs", "-o", "size=12m", "tmpfs", str(disk)):
        settings = IndexSettings(seeds_dir=seeds_copy, db_dir=disk / "db", chunk_size=300, chunk_overlap=30)
        build(settings, embedder=embedder)
        before = index_state(settings)
        assistant = build_assistant(settings, embedder=embedder)
        assert_answers_seed(assistant)
        filler = fill_disk(disk, leave_kb)
        for name, text in NEW.items():
            (seeds_copy / name).write_text(text, "utf-8")
        # The real command: a message and exit code 1, no traceback.
        assert_clear_cli_error(qa_cli("index", "--seeds", seeds_copy, "--db", settings.db_dir, env=CHUNKING_ENV),
                               "disk")
        with pytest.raises(QAError) as err:
            build(settings, embedder=embedder)
        assert isinstance(err.value, StoreError) and "cannot write the index" in str(err.value), err.value
        assert "No space left" in str(err.value) and "disk is not full" in err.value.hint
        assert not list(settings.db_dir.glob(".*.tmp")), "temp files left behind on the full disk"
        assert_answers_seed(assistant)  # the open assistant keeps answering from the previous index

        filler.unlink()
        assert_answers_seed(assistant)
        assert_answers_seed(build_assistant(settings, embedder=embedder))
        report = build(settings, embedder=embedder)
        state = index_state(settings)
        state.assert_consistent()
        assert set(state.manifest.files) == {SEED, *NEW} and report.added == len(NEW)
        assert before.store_ids <= state.store_ids
        answer = assistant.answer(GULLS)
        assert not answer.abstained and "22 gulls" in answer.text, answer.text
        assert build(settings, embedder=embedder).chunks == report.chunks  # and it stays converged


def test_full_disk_inside_the_vector_store(seeds_copy, tmp_path, embedder, qa_cli):
    """The disk fills while Chroma itself writes (150 KB free). The failing build and the recovery run
    as the real command in their own processes (an in-process Chroma client that hit the full disk can
    hang on a later upsert, see the module notes); this process opens the index only at the end."""
    disk = tmp_path / "disk"
    disk.mkdir()
    db = disk / "db"
    prebuilt = IndexSettings(seeds_dir=seeds_copy, db_dir=tmp_path / "prebuilt", chunk_size=300, chunk_overlap=30)
    build(prebuilt, embedder=embedder)
    with mounted("-t", "tmpfs", "-o", "size=12m", "tmpfs", str(disk)):
        shutil.copytree(prebuilt.db_dir, db)
        filler = fill_disk(disk, 150)
        for name, text in NEW.items():
            (seeds_copy / name).write_text(text, "utf-8")
        full = qa_cli("index", "--seeds", seeds_copy, "--db", db, env=CHUNKING_ENV)
        if full.returncode:
            assert_clear_cli_error(full, "disk is not full")

        filler.unlink()
        asked = qa_cli("ask", XI_QUESTION, "--seeds", seeds_copy, "--db", db, "--json", env=CHUNKING_ENV)
        assert asked.returncode == 0, asked.stderr[-2000:]  # the previous index still answers
        assert XI_QUOTE in json.loads(asked.stdout)["citations"][0]["quote"]
        again = qa_cli("index", "--seeds", seeds_copy, "--db", db, "--json", env=CHUNKING_ENV)
        assert again.returncode == 0, again.stderr[-2000:]
        assert json.loads(again.stdout)["files"] == 1 + len(NEW)
        settings = prebuilt.replace(db_dir=db)
        state = index_state(settings)
        state.assert_consistent()
        assert set(state.manifest.files) == {SEED, *NEW}
        answer = build_assistant(settings, embedder=embedder).answer(GULLS)
        assert not answer.abstained and "22 gulls" in answer.text, answer.text
        print(f"build on the full disk: exit code {full.returncode}: {full.stderr.strip()[:160]}")


def pending_generations(db: Path) -> list[str]:
    """Generation folders newer than the live one (unpublished)."""
    live = json.loads((db / "generation.json").read_text("utf-8"))["name"]
    return sorted(p.name for p in db.glob("gen-*") if p.name > live)


@pytest.mark.slow
@pytest.mark.parametrize("leave_kb", [300, 1200, 4000])
def test_a_build_that_fills_the_disk_leaves_no_generation_behind(seeds_copy, tmp_path, embedder, qa_cli, leave_kb):
    """A small disk (tmpfs) filled while a build writes its new generation: the build fails with a clear
    message and removes what it wrote, so the disk is as it was; the next plain `qa index`, once space is
    freed, converges without --rebuild (the issue: the failed generation stayed, filled 99 % of the disk,
    and every later build failed on it)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    db = disk / "db"
    prebuilt = IndexSettings(seeds_dir=seeds_copy, db_dir=tmp_path / "prebuilt", chunk_size=300, chunk_overlap=30)
    build(prebuilt, embedder=embedder)
    with mounted("-t", "tmpfs", "-o", "size=20m", "tmpfs", str(disk)):
        shutil.copytree(prebuilt.db_dir, db)
        filler = fill_disk(disk, leave_kb)
        for name, text in NEW.items():
            (seeds_copy / name).write_text(text * 40, "utf-8")
        full = qa_cli("index", "--seeds", seeds_copy, "--db", db, env=CHUNKING_ENV)
        print(f"{leave_kb} KB free: exit code {full.returncode}: {full.stderr.strip()[-300:]}")
        if full.returncode:
            assert_clear_cli_error(full, "disk")
            assert pending_generations(db) == [], "the failed generation was left on the disk"
        filler.unlink()
        again = qa_cli("index", "--seeds", seeds_copy, "--db", db, "--json", env=CHUNKING_ENV)
        assert again.returncode == 0, again.stderr[-2000:]
        assert json.loads(again.stdout)["files"] == 1 + len(NEW)
        assert pending_generations(db) == []
        asked = qa_cli("ask", GULLS, "--seeds", seeds_copy, "--db", db, "--json", env=CHUNKING_ENV)
        assert asked.returncode == 0 and "22 gulls" in json.loads(asked.stdout)["text"], asked.stderr[-2000:]
