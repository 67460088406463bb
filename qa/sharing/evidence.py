"""Evidence you can verify: a conversation exported with each cited file's SHA-256 (`bundle`), checked later
against the files as they are then (`verify`), and the quick check the chat makes to mark an earlier answer
whose cited file has changed since (`ChangeCheck`).

A bundle is the conversation's JSON (`qa.sharing.export.to_json`: each answer, its numbered sources, every quote with
its offsets and lines) under its own format name, with `sha256` and `bytes` added to each cited document.
A quote holds when the document's text (as the index reads it: PDF and HTML become text) still has it at
its offsets; a changed file whose quotes all hold passes, a quote that moved or vanished is stale.
"""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence, Union

from index.errors import UsageError
from index.formats.limits import DEFAULT, ReadOptions
from index.ids import file_hash_part
from index.ingest.discover import file_hash
from index.ingest.isolate import Reader
from index.types import SkipFile
from qa.sharing import export
from qa.types import Answer

FORMAT = "seedqa.evidence"
VERSION = 1
# Where a collection's documents are: one folder, or a function of the collection's name ("" = default).
Folders = Union[Path, str, Callable[[str], Path]]


def folder_of(folders: Folders, collection: str = "") -> Path:
    """The documents folder of `collection`."""
    return Path(folders(collection)) if callable(folders) else Path(folders)


def bundle(title: str, turns: Sequence[export.Turn], folders: Folders, created: str = "") -> dict:
    """The conversation as an evidence bundle: its JSON export, each cited file with its SHA-256 now."""
    data = export.to_json(title, turns, created) | {"format": FORMAT, "version": VERSION}
    for doc in data["documents"]:
        path = inside(folder_of(folders, doc.get("collection", "")), doc["source"])
        doc.update({"sha256": file_hash(path), "bytes": path.stat().st_size} if path else
                   {"sha256": None, "bytes": None})
    return data


def inside(seeds_dir: Path, source: str) -> Path | None:
    """The file `source` names inside `seeds_dir`, or None (missing, or a name that leads outside it)."""
    root = Path(seeds_dir).resolve()
    try:
        path = (root / source).resolve()
    except (OSError, ValueError):
        return None
    return path if path.is_relative_to(root) and path != root and path.is_file() else None


@dataclass(frozen=True)
class QuoteCheck:
    """One quote of a bundle checked against its file now: `holds`, or why not (`reason`)."""

    turn: int
    n: int
    source: str
    start: int
    end: int
    quote: str
    holds: bool
    reason: str = ""


@dataclass(frozen=True)
class FileCheck:
    """One cited file: whether it is there, and whether its bytes are those the bundle recorded."""

    source: str
    present: bool
    unchanged: bool
    collection: str = ""


@dataclass(frozen=True)
class Verdict:
    """The result of `verify`: every file and quote checked; `ok` when every quote holds."""

    files: tuple[FileCheck, ...]
    quotes: tuple[QuoteCheck, ...]
    stale: tuple[QuoteCheck, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "stale", tuple(q for q in self.quotes if not q.holds))

    @property
    def ok(self) -> bool:
        """True when every quote still stands at its offsets."""
        return not self.stale

    def to_json(self) -> dict:
        """A JSON-ready report."""
        return {"ok": self.ok, "files": [vars(f) for f in self.files], "quotes": len(self.quotes),
                "stale": [vars(q) for q in self.stale]}


def read_bundle(path: Path) -> dict:
    """A bundle file, checked to be one; a `UsageError` saying what is wrong otherwise."""
    try:
        data = json.loads(Path(path).read_text("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise UsageError(f"cannot read the bundle {path}: {getattr(exc, 'strerror', None) or exc}",
                         hint="pass a file written by `qa ask --evidence` or the chat's Export JSON") from None
    if not isinstance(data, dict) or data.get("format") not in (FORMAT, export.FORMAT) or \
            not isinstance(data.get("turns"), list):
        raise UsageError(f"{path} is not an evidence bundle (format {FORMAT!r})",
                         hint="pass a file written by `qa ask --evidence` or the chat's Export JSON")
    return data


def verify(data: dict, folders: Folders, options: ReadOptions = DEFAULT) -> Verdict:
    """Check every quote of a bundle against the files (in `folders`) as they are now, read with the
    reader's caps `options`."""
    recorded = {(d.get("collection", ""), d.get("source")): d.get("sha256")
                for d in data.get("documents") or () if isinstance(d, dict)}
    texts: dict[tuple, str | None] = {}
    files, quotes = [], []
    turns = [(t, turn, _quotes(turn)) for t, turn in enumerate(data["turns"])]  # refuse a bad bundle first
    with Reader(options) as reader:  # files are read as indexing reads them: capped, in another process
        for t, turn, cited in turns:
            collection = str(turn.get("collection") or "") if isinstance(turn, dict) else ""
            for q in cited:
                key = (collection, q["source"])
                if key not in texts:
                    path = inside(folder_of(folders, collection), q["source"])
                    texts[key] = _text(reader, path, q["source"])
                    files.append(FileCheck(q["source"], path is not None,
                                           bool(path) and file_hash(path) == recorded.get(key), collection))
                quotes.append(_check(t, q, texts[key]))
    return Verdict(tuple(files), tuple(quotes))


def _quotes(turn: Any) -> list[dict]:
    out = []
    for s in (turn.get("sources") or ()) if isinstance(turn, dict) else ():
        for q in s.get("quotes") or () if isinstance(s, dict) else ():
            try:
                out.append({"n": int(s["n"]), "source": str(s["source"]), "start": int(q["start"]),
                            "end": int(q["end"]), "quote": str(q["quote"])})
            except (KeyError, TypeError, ValueError):
                raise UsageError("a quote in the bundle lacks its source, offsets or text",
                                 hint="the bundle was edited or cut short; export it again") from None
            if not 0 <= out[-1]["start"] <= out[-1]["end"]:  # a negative offset would count from the end
                raise UsageError(f"a quote in the bundle has impossible offsets {out[-1]['start']}..{out[-1]['end']}",
                                 hint="offsets count characters from the start of the file; export it again")
    return out


def _text(reader: Reader, path: Path | None, source: str) -> str | None:
    if path is None:
        return None
    try:
        return reader.load(path, source).text
    except SkipFile:
        return None


def _check(turn: int, q: dict, text: str | None) -> QuoteCheck:
    if text is None:
        reason = "the file is gone or can no longer be read"
    elif text[q["start"]:q["end"]] == q["quote"]:
        reason = ""
    elif q["quote"] in text:
        reason = f"the quote moved: it is now at line {text.count(chr(10), 0, text.index(q['quote'])) + 1}"
    else:
        reason = "the file no longer holds the quote"
    return QuoteCheck(turn, q["n"], q["source"], q["start"], q["end"], q["quote"], not reason, reason)


class ChangeCheck:
    """Which cited files of an answer changed since it was given: the chunk ids an answer cites carry the
    content hash of the file version they came from, compared with the file's hash now (memoised per file
    size and modification time, so a conversation re-rendered often reads each file once)."""

    def __init__(self, folders: Folders):
        self.folders = folders
        self._hashes: dict[tuple, str] = {}
        self._lock = threading.Lock()

    def __call__(self, answer: Answer | None) -> tuple[str, ...]:
        """The cited files of `answer` that changed (or vanished) since it was given, in citation order."""
        changed = []
        for c in answer.citations if answer else ():
            then = file_hash_part(c.passage_id) if c.passage_id else ""
            if c.source not in changed and then and not self._current(answer.collection, c.source).startswith(then):
                changed.append(c.source)
        return tuple(changed)

    def _current(self, collection: str, source: str) -> str:
        try:
            path = inside(folder_of(self.folders, collection), source)
        except UsageError:  # a collection removed since: its files count as gone
            path = None
        if path is None:
            return ""
        stat = path.stat()
        key = (str(path), stat.st_size, stat.st_mtime_ns)
        with self._lock:
            if key not in self._hashes:
                if len(self._hashes) > 10_000:
                    self._hashes.clear()
                self._hashes[key] = file_hash(path)
            return self._hashes[key]

