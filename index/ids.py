"""The chunk-id contract, made and read here only.

A chunk id is `<file prefix>-<number>`: the prefix is 12 hex digits of the source name's SHA-1, a dash,
and the first 12 hex digits of the file's content hash; the number is the chunk's position in the file,
five digits. Ids are deterministic, so a crashed build rewrites the same ids, and a file's sidecars
(sentence vectors) are named after its prefix.
"""
from __future__ import annotations

import hashlib

_WIDTH = 5


def file_prefix(source: str, file_hash: str) -> str:
    """The id prefix shared by every chunk of one version of one file."""
    return hashlib.sha1(source.encode()).hexdigest()[:12] + "-" + file_hash[:12]


def chunk_id(prefix: str, number: int) -> str:
    """The id of chunk `number` (0-based) of the file with id prefix `prefix`."""
    return f"{prefix}-{number:0{_WIDTH}d}"


def prefix_of(chunk_id: str) -> str:
    """The file part of a chunk id."""
    return chunk_id.rsplit("-", 1)[0]


def number_of(chunk_id: str) -> int:
    """The chunk's position in its file."""
    return int(chunk_id.rsplit("-", 1)[1])


def file_hash_part(chunk_id: str) -> str:
    """The start of the content hash of the file version a chunk came from (empty for a foreign id)."""
    parts = chunk_id.rsplit("-", 2)
    return parts[1] if len(parts) == 3 else ""
