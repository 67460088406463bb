"""The BM25 side of hybrid search: a snapshot of every chunk's text, metadata and BM25 index.

Each generation of the index (index/generations/generation.py) holds its own snapshot in `<generation>/lexical/`,
published with the rest of the generation, so a reader loads one consistent snapshot, old or new.
`parts.json` records the size and a digest of every file, so `qa index` notices a damaged snapshot
without loading it.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import uuid
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from index.ids import chunk_id, prefix_of
from index.ingest.chunk import index_text
from index.memory import release_memory
from index.snapshot import sentvec
from index.snapshot.columns import Metadata
from index.snapshot.vector_file import VectorFile

PARTS = "parts.json"
SENTENCES = "sentences"  # one .npy per array; the vectors are read by row (VectorFile), not loaded whole
_LEGACY_SENTENCES = "sentences.npz"  # snapshots written before that: loaded whole, as then
_WORD = re.compile(r"\w+", re.UNICODE)


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN)


def stem(words: list[str]) -> list[str]:
    """English stems of lower-cased `words` (the stemmer the snapshot uses)."""
    return _stemmer().stemWords(words)


def tokenize(text: str) -> list[str]:
    """Lower-cased, stop-worded, stemmed word tokens (the same for documents and queries)."""
    stop = _stopwords()
    words = [w for w in _WORD.findall(text.lower()) if w not in stop]
    return _stemmer().stemWords(words)


@dataclass
class LexicalIndex:
    """All chunks (ids, texts, metadata) and their BM25 index, loaded in memory."""

    version: str
    ids: list[str]
    texts: list[str]
    metas: Metadata
    bm25: object
    sentences: dict
    _idf: dict | None = None
    _tokens: dict = field(default_factory=dict)
    _groups: dict = field(default_factory=dict)
    _rows: dict | None = None

    def row(self, chunk_id: str) -> int | None:
        """The snapshot row of a chunk id, or None when the snapshot does not hold it."""
        if self._rows is None:
            self._rows = {i: n for n, i in enumerate(self.ids)}
        return self._rows.get(chunk_id)

    def rows_by(self, key: str) -> dict[str, np.ndarray]:
        """Row numbers per value of metadata field `key` (rows without it left out), computed once."""
        if key not in self._groups:
            rows: dict[str, list[int]] = {}
            for n, value in enumerate(self.metas.column(key)):
                if value:
                    rows.setdefault(str(value), []).append(n)
            self._groups[key] = {v: np.asarray(r) for v, r in rows.items()}
        return self._groups[key]

    def sentence_tokens(self, i: int, text: str) -> frozenset[str]:
        """Token set of sentence row `i` (whose text is `text`), memoised: hot rows recur across queries."""
        tokens = self._tokens.get(i)
        if tokens is None:
            if len(self._tokens) > 200_000:
                self._tokens.clear()
            tokens = self._tokens[i] = frozenset(tokenize(text))
        return tokens

    def sentence_rows(self, row: int) -> range:
        """Rows of `sentences` belonging to chunk `row` (empty when it has no sentence vectors)."""
        ptr = self.sentences["ptr"]
        return range(int(ptr[row]), int(ptr[row + 1])) if row + 1 < len(ptr) else range(0)

    @property
    def idf(self) -> dict[str, float]:
        """Inverse document frequency of every stemmed token (computed once per snapshot)."""
        if self._idf is None:
            df = np.diff(np.asarray(self.bm25.scores["indptr"]))
            n = max(1, len(self.ids))
            values = np.log(1 + (n - df + 0.5) / (df + 0.5))
            self._idf = {tok: float(values[i]) for tok, i in self.bm25.vocab_dict.items() if i < len(values)}
        return self._idf

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every chunk for `query`."""
        tokens = [t for t in tokenize(query) if t in self.bm25.vocab_dict]
        if not tokens or not self.ids:
            return np.zeros(len(self.ids), dtype=np.float32)
        return self.bm25.get_scores(tokens)


def _bm25s():
    """bm25s, imported on first use (about 0.3 s) with its logger at WARNING: it sets its own to DEBUG, and
    once anything configures logging its "Building index from tokens" lands on the terminal of `qa index`."""
    import logging

    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


def build(target: Path, version: str, ids: list[str], texts: list[str], metas: list[dict],
          gen_dir: Path) -> None:
    """Write the snapshot of `version` into the folder `target` (replacing what is there), sentence
    vectors gathered from the sentence sidecars of the generation in `gen_dir`."""
    bm25s = _bm25s()

    tmp = target.with_name(f".{target.name}-{uuid.uuid4().hex[:8]}.tmp")
    tmp.mkdir(parents=True)
    try:
        retriever = bm25s.BM25()
        retriever.index([tokenize(index_text(t, m)) for t, m in zip(texts, metas)] or [[""]],
                        show_progress=False)
        release_memory()
        retriever.save(str(tmp / "bm25"), show_progress=False)
        with open(tmp / "chunks.json", "w", encoding="utf-8") as out:
            json.dump({"ids": ids, "texts": texts, "metas": metas}, out)  # streamed: no second copy as one string
        _save_sentences(tmp / SENTENCES, _gather_sentences(gen_dir, ids))
        (tmp / PARTS).write_text(json.dumps({"version": version, "files": _parts(tmp)}), "utf-8")
        shutil.rmtree(target, ignore_errors=True)
        os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _parts(folder: Path) -> dict[str, list]:
    """Size and a digest of the head and tail of every file of a snapshot: damage shows without a load."""
    out = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.name != PARTS):
        out[path.relative_to(folder).as_posix()] = [path.stat().st_size, _digest(path)]
    return out


def _digest(path: Path, span: int = 1 << 16) -> str:
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as fh:
        digest.update(fh.read(span))
        fh.seek(max(0, path.stat().st_size - span))
        digest.update(fh.read(span))
    return digest.hexdigest()


def damage(folder: Path, version: str | None) -> str | None:
    """What is wrong with the snapshot in `folder` for `version` (None: it looks intact)."""
    try:
        parts = json.loads((folder / PARTS).read_text("utf-8"))
        files = parts["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return "the BM25 snapshot is missing" if not folder.exists() else "the BM25 snapshot is unreadable"
    if version is not None and parts.get("version") != version:
        return "the BM25 snapshot is of another version of the index"
    try:
        if files != _parts(folder):
            return "the BM25 snapshot is damaged (its files changed)"
    except OSError:
        return "the BM25 snapshot is unreadable"
    return None


def _gather_sentences(gen_dir: Path, ids: list[str]) -> dict:
    """Sentence spans and vectors of every chunk, in chunk-row order, with a row pointer per chunk."""
    row = {cid: n for n, cid in enumerate(ids)}
    parts = []
    for prefix in dict.fromkeys(prefix_of(i) for i in ids):
        data = sentvec.read(gen_dir, prefix)
        if data is None:
            continue
        rows = np.array([row.get(chunk_id(prefix, int(c)), -1) for c in data["chunk"]], dtype=np.int64)
        keep = rows >= 0
        parts.append((rows[keep], data["start"][keep], data["end"][keep], data["vecs"][keep]))
    if not parts:
        return {"ptr": np.zeros(len(ids) + 1, np.int64), "start": np.zeros(0, np.int64),
                "end": np.zeros(0, np.int64), "vecs": np.zeros((0, 384), np.float16)}
    rows, starts, ends, vecs = (np.concatenate(x) for x in zip(*parts))
    order = np.argsort(rows, kind="stable")
    ptr = np.searchsorted(rows[order], np.arange(len(ids) + 1))
    return {"ptr": ptr, "start": starts[order], "end": ends[order], "vecs": vecs[order]}


def _save_sentences(folder: Path, arrays: dict) -> None:
    folder.mkdir()
    for name, array in arrays.items():
        np.save(folder / f"{name}.npy", array)


def _load_sentences(target: Path) -> dict:
    """The sentence rows of a snapshot: spans in memory, vectors read from disk by row (`VectorFile`)."""
    legacy = target / _LEGACY_SENTENCES
    if legacy.exists():
        with np.load(legacy) as npz:
            return {k: npz[k] for k in npz.files}
    folder = target / SENTENCES
    out = {name: np.load(folder / f"{name}.npy") for name in ("ptr", "start", "end")}
    out["vecs"] = VectorFile(folder / "vecs.npy")
    if len(out["vecs"]) != len(out["start"]):
        raise ValueError("sentence vectors and spans differ in length")
    return out


def load(target: Path, version: str | None) -> LexicalIndex | None:
    """The snapshot in the folder `target` (of index `version`), or None when it is missing or unreadable."""
    bm25s = _bm25s()

    try:
        data = json.loads((target / "chunks.json").read_text("utf-8"))
        bm25 = bm25s.BM25.load(str(target / "bm25"), show_progress=False, verbosity=0, mmap=True)
        sents = _load_sentences(target)
    except Exception:  # noqa: BLE001 - any damage (truncated file, bad JSON, pickles) means "no snapshot"
        return None
    if not isinstance(data, dict) or not {"ids", "texts", "metas"} <= set(data):
        return None
    index = LexicalIndex(version, data["ids"], data["texts"], Metadata(data.pop("metas")), bm25, sents)
    release_memory()
    return index
