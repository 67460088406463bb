"""Filters that narrow a question to some documents: by file, title, date of publication and file type.

One `Filter` object, whatever the edge (`--where source=a.md`, a JSON object in `/ask`, `/v1` and MCP, the
chat's fields). Every condition is about a whole file, so a filter is resolved once per index snapshot to
the set of files it admits (`admitted`), and that set is translated in one place for each side of hybrid
search: the store's metadata filter (`store_where`, in the store contract's terms, which each store
translates) and the BM25 rows (`row_mask`). The two sides therefore always agree, and a filtered question
never cites an excluded document.

Conditions of one kind are alternatives (`type=pdf, type=md`: either); different kinds must all hold.
"""
from __future__ import annotations

import fnmatch
import re
from dataclasses import asdict, dataclass, fields
from pathlib import PurePosixPath
from typing import Any, Iterable

import numpy as np

from index.errors import UsageError
from index.vectorstore.store import Match

KEYS = ("source", "title", "type", "after", "before")
_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
HINT = ("filters look like source=report.pdf (or a pattern, source=2024/*), title=budget, type=pdf, "
        "after=2024-01-01, before=2024-06")


@dataclass(frozen=True)
class Filter:
    """Which documents a question may use. Empty fields do not narrow anything."""

    source: tuple[str, ...] = ()  # file names in the folder, or fnmatch patterns (`reports/*.pdf`)
    title: tuple[str, ...] = ()  # words or phrases the title contains (case-insensitive)
    type: tuple[str, ...] = ()  # file extensions without the dot: pdf, md, txt, html, docx
    after: str = ""  # published on or after: YYYY, YYYY-MM or YYYY-MM-DD
    before: str = ""  # published on or before (a YYYY or YYYY-MM bound includes that whole year or month)

    def __post_init__(self) -> None:
        for name in ("after", "before"):
            value = (getattr(self, name) or "").strip()
            if value and not _DATE.match(value):
                raise UsageError(f"{name}={value!r} is not a date", hint="dates look like 2024, 2024-06 or 2024-06-30")
            object.__setattr__(self, name, value)
        object.__setattr__(self, "type", tuple(t.lower().lstrip(".") for t in self.type))

    @property
    def empty(self) -> bool:
        """True when the filter admits every document."""
        return not any(getattr(self, f.name) for f in fields(self))

    def admits(self, source: str, title: str = "", published: str = "") -> bool:
        """Whether a file (its name, title and date of publication) passes every condition."""
        return (self._source(source) and self._title(title) and self._type(source)
                and (not self.after or (published[:len(self.after)] >= self.after and bool(published)))
                and (not self.before or (bool(published) and published[:len(self.before)] <= self.before)))

    def _source(self, source: str) -> bool:
        return not self.source or any(source == p or fnmatch.fnmatchcase(source, p) for p in self.source)

    def _title(self, title: str) -> bool:
        return not self.title or any(t.lower() in (title or "").lower() for t in self.title)

    def _type(self, source: str) -> bool:
        return not self.type or PurePosixPath(source).suffix.lower().lstrip(".") in self.type

    def to_json(self) -> dict:
        """The filter as a JSON object (only the conditions set)."""
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items() if v}

    def describe(self) -> str:
        """`source=a.md, after=2024-01` for messages."""
        return ", ".join(f"{k}={v}" for k, values in self.to_json().items()
                         for v in (values if isinstance(values, list) else [values]))


def parse(terms: Iterable[str]) -> Filter:
    """A filter from `KEY=VALUE` terms (`--where`, repeatable; a comma inside a value separates choices
    for source, title and type)."""
    data: dict[str, Any] = {}
    for term in terms:
        key, sep, value = str(term).partition("=")
        key, value = key.strip().lower(), value.strip()
        if not sep or key not in KEYS or not value:
            raise UsageError(f"cannot read the filter {term!r}", hint=HINT)
        if key in ("after", "before"):
            data[key] = value
        else:
            data.setdefault(key, []).extend(v.strip() for v in value.split(",") if v.strip())
    return of(data)


def of(value: Any) -> Filter | None:
    """A filter from what an edge received: None, a `Filter`, a JSON object (`{"type": ["pdf"], "after":
    "2024"}`), a list of `KEY=VALUE` terms or one such string (terms separated by `;`)."""
    if value is None or isinstance(value, Filter):
        return None if value is None or value.empty else value
    if isinstance(value, str):
        return parse(t for t in value.split(";") if t.strip()) if value.strip() else None
    if isinstance(value, (list, tuple)):
        return parse(value) if value else None
    if not isinstance(value, dict):
        raise UsageError(f"a filter must be an object like {{\"type\": \"pdf\"}}, not {type(value).__name__}",
                         hint=HINT)
    unknown = sorted(set(value) - set(KEYS))
    if unknown:
        raise UsageError(f"unknown filter field {unknown[0]!r}", hint=HINT)
    made = Filter(**{k: _values(k, v) for k, v in value.items() if v not in (None, "", [])})
    return None if made.empty else made


def _values(key: str, value: Any):
    if key in ("after", "before"):
        if not isinstance(value, str):
            raise UsageError(f"{key} must be a date string, not {value!r}", hint=HINT)
        return value
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not all(isinstance(v, str) for v in items):
        raise UsageError(f"{key} must be a string or a list of strings, not {value!r}", hint=HINT)
    return tuple(v.strip() for v in items if v.strip())


def admitted(where: Filter, files: dict[str, dict]) -> frozenset[str]:
    """The files (name -> metadata with title and published) that `where` admits; a `UsageError` when
    none does, so the person asking learns the filter excluded everything."""
    found = frozenset(s for s, meta in files.items()
                      if where.admits(s, str(meta.get("title") or ""), str(meta.get("published") or "")))
    if not found:
        raise UsageError(f"no indexed document matches the filter {where.describe()}",
                         hint="loosen the filter (the Documents tab lists what is indexed)")
    return found


def store_where(files: frozenset[str]) -> Match:
    """The dense side: the store's metadata filter for chunks of `files`."""
    return Match("source", tuple(sorted(files)))


def row_mask(files: frozenset[str], sources_by_row: list[str]) -> np.ndarray:
    """The BM25 side: which snapshot rows belong to `files`."""
    return np.fromiter((s in files for s in sources_by_row), dtype=bool, count=len(sources_by_row))
