"""Named collections: several document folders kept apart, each indexed on its own in one index location.

    <db>/collections.json          the registry: {"<name>": {"seeds": "<absolute folder>"}, ...}
    <db>/collections/<name>/       that collection's index, laid out like <db> itself

The default collection (`DEFAULT`) is the documents folder (QA_SEEDS) indexed in <db>, as without
collections. `qa index --collection NAME --seeds FOLDER` registers a collection (or moves it to another
folder) and builds it; every other entry point names it and gets its settings from `settings_for`.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from index.errors import UsageError
from index.generations.manifest import atomic_write
from index.settings import IndexSettings

DEFAULT = "default"
REGISTRY = "collections.json"
FOLDER = "collections"
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")  # whole names only (fullmatch: `$` passes a final newline)


def registry(db_dir: Path) -> dict[str, Path]:
    """The named collections of an index location and their folders (empty when there are none)."""
    try:
        data = json.loads((Path(db_dir) / REGISTRY).read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {n: Path(v["seeds"]) for n, v in data.items()
            if isinstance(v, dict) and isinstance(v.get("seeds"), str) and _NAME.fullmatch(n)}


def names(db_dir: Path) -> list[str]:
    """Every collection: the default one first, then the named ones in order."""
    return [DEFAULT, *sorted(registry(db_dir))]


def check_name(name: str) -> str:
    """`name` if it can name a collection; a `UsageError` saying what names look like otherwise."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise UsageError(f"{name!r} cannot name a collection",
                         hint="use lower-case letters, digits, - and _ (up to 40), for example `papers`")
    return name


def register(settings: IndexSettings, name: str, seeds_dir: Path) -> IndexSettings:
    """Record that collection `name` holds the documents in `seeds_dir`; its settings."""
    if check_name(name) == DEFAULT:
        return settings.replace(seeds_dir=seeds_dir)
    db = Path(settings.db_dir)
    db.mkdir(parents=True, exist_ok=True)
    data = {n: {"seeds": str(p)} for n, p in registry(db).items()}
    data[name] = {"seeds": str(Path(seeds_dir).expanduser().resolve())}
    atomic_write(db / REGISTRY, json.dumps(data, indent=2, sort_keys=True))
    return settings_for(settings, name)


def settings_for(settings: IndexSettings, name: str | None) -> IndexSettings:
    """The settings of collection `name` (None or `DEFAULT`: `settings` themselves): its folder, its own
    index location under <db>, and its own Chroma collection name (for a shared Chroma server)."""
    if not name or name == DEFAULT:
        return settings
    folders = registry(settings.db_dir)
    if check_name(name) not in folders:
        known = ", ".join(names(settings.db_dir))
        raise UsageError(f"there is no collection {name!r} in {settings.db_dir} (there are: {known})",
                         hint=f"create it with `qa index --collection {name} --seeds FOLDER`")
    return settings.replace(seeds_dir=folders[name], db_dir=Path(settings.db_dir) / FOLDER / name,
                            collection=f"{settings.collection}-{name}")


def folder(settings: IndexSettings, name: str | None) -> Path:
    """The documents folder of collection `name` ("" or None: the default one)."""
    return Path(settings_for(settings, name or None).seeds_dir)
