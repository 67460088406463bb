"""Builds in one process (the chat's rebuilds, uploads, the document manager) are serialised per collection
(issue #27): a second writer of the same index waits for the first, a writer of another collection does not."""
from __future__ import annotations

import threading

import pytest

from index.generations.locking import write_lock

pytestmark = pytest.mark.unit


def hold(db, entered: threading.Event, release: threading.Event) -> threading.Thread:
    def run():
        with write_lock(db):
            entered.set()
            release.wait(30)
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert entered.wait(30)
    return thread


def test_another_collection_is_written_while_one_is_being_built(tmp_path):
    release, other = threading.Event(), threading.Event()
    first = hold(tmp_path / "default", threading.Event(), release)

    def second():
        with write_lock(tmp_path / "collections" / "papers"):
            other.set()
    thread = threading.Thread(target=second, daemon=True)
    thread.start()
    try:
        assert other.wait(10), "a build of another collection waited for this one"
    finally:
        release.set()
        first.join(30)
        thread.join(30)


def test_a_second_build_of_the_same_collection_waits_for_the_first(tmp_path):
    release, order = threading.Event(), []
    first = hold(tmp_path / "db", threading.Event(), release)

    def second():
        with write_lock(tmp_path / "db"):
            order.append("second")
    waiting = threading.Thread(target=second, daemon=True)
    waiting.start()
    waiting.join(1)
    assert waiting.is_alive() and order == []  # queued, not refused
    order.append("first done")
    release.set()
    first.join(30)
    waiting.join(30)
    assert order == ["first done", "second"]
