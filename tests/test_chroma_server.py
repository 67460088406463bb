"""Server mode: the index kept in a real `chroma run` server, and a clear error when none answers."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from conftest import index_state
from index.builds.build import build
from index.errors import StoreError
from index.generations import generation, manifest as mf
from index.vectorstore.live_store import ChromaStore
from testkit.servers import free_port, start_chroma, stop_server

CHROMA = Path(sys.executable).with_name("chroma")


@pytest.fixture
def chroma_server(tmp_path):
    """A real Chroma server on a free port with its data in tmp; yields the port, then stops it."""
    assert CHROMA.exists(), f"{CHROMA} is missing: `./run tests` installs chromadb, which provides it"
    proc, port = start_chroma(tmp_path / "server-data", tmp_path / "chroma.log")
    try:
        yield port
    finally:
        stop_server(proc)


def test_build_and_update_in_server(seeds_copy, make_settings, embedder, chroma_server, tmp_path):
    (seeds_copy / "extra.md").write_text("# Tides\n\n" + "The tide turns twice a day in the bay. " * 30, "utf-8")
    settings = make_settings(seeds_copy, chroma_host="127.0.0.1", chroma_port=chroma_server, chunk_size=400)
    report = build(settings, embedder=embedder)
    assert (report.files, report.added) == (2, 2)
    st = index_state(settings)
    st.assert_consistent()
    assert not (settings.db_dir / "chroma").exists()  # the vectors live in the server, not locally

    with open(seeds_copy / "extra.md", "a", encoding="utf-8") as fh:
        fh.write("\nSpring tides are the highest.\n")
    old = set(mf.read(settings.db_dir).files["extra.md"].ids)
    report = build(settings, embedder=embedder)
    assert (report.updated, report.unchanged, report.added) == (1, 1, 0)
    st = index_state(settings)
    st.assert_consistent()
    assert not old & st.store_ids

    # A separate client sees the same data through the server, in the collection the pointer names.
    import chromadb

    live = generation.read(settings).live
    got = chromadb.HttpClient(host="127.0.0.1", port=chroma_server).get_collection(live.collection).get()
    assert set(got["ids"]) == st.store_ids
    assert any("Spring tides are the highest." in d for d in got["documents"])
    hits = ChromaStore(settings).search(embedder.embed(["when are tides highest"])[0], 2)
    assert hits and hits[0].metadata["source"] == "extra.md"

    # Full rebuilds write a new collection each; the server keeps the live and the previous one only.
    server = chromadb.HttpClient(host="127.0.0.1", port=chroma_server)
    for _ in range(2):
        assert build(settings, embedder=embedder, rebuild=True).added == 2
    ptr = generation.read(settings)
    assert {c.name for c in server.list_collections()} == {ptr.live.collection, ptr.previous.collection}
    assert live.collection not in {ptr.live.collection, ptr.previous.collection}
    index_state(settings).assert_consistent()


def test_unreachable_server_is_a_store_error(seeds_copy, make_settings, embedder):
    port = free_port()
    settings = make_settings(seeds_copy, chroma_host="127.0.0.1", chroma_port=port)
    with pytest.raises(StoreError) as err:
        build(settings, embedder=embedder)
    message = str(err.value)
    assert f"Chroma server at 127.0.0.1:{port}" in message and "chroma run" in err.value.hint
    assert "Traceback" not in message and len(message) < 700


def test_cli_reports_unreachable_server_without_traceback(seeds_copy, tmp_path, qa_cli):
    port = free_port()
    done = qa_cli("index", "--seeds", seeds_copy, "--db", tmp_path / "db",
                  env={"QA_CHROMA_HOST": "127.0.0.1", "QA_CHROMA_PORT": str(port)})
    assert done.returncode == 1
    assert f"Chroma server at 127.0.0.1:{port}" in done.stderr and "chroma run" in done.stderr
    assert "Traceback" not in done.stderr
