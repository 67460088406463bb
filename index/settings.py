"""The index layer's settings: where the documents and the index live, the model, chunking, the store."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from index.config import EnvSettings, at_least, between, one_of, setting
from index.embedding.embedders import DEFAULT_MODEL, EMBEDDERS, vectors as made_by
from index.errors import UsageError
from index.formats.limits import ReadOptions
from index.vectorstore.store import DEFAULT as DEFAULT_STORE, NAMES as STORE_NAMES, STORES

SCHEMA = 4  # bump when chunk contents or metadata change shape: a changed key forces a full rebuild


@dataclass(frozen=True)
class IndexSettings(EnvSettings):
    """Everything `index` needs; built once at an edge (`IndexSettings.from_env(os.environ, **flags)`)."""

    seeds_dir: Path = setting(Path("seeds"), "the documents folder", env="QA_SEEDS", flag="--seeds")
    db_dir: Path = setting(Path(".qa-index"), "index folder (Chroma store, manifest, BM25 snapshot, "
                           "sentence vectors)", env="QA_DB", flag="--db")
    store: str = setting(DEFAULT_STORE, "where the vectors live: " + "; ".join(
        f"{spec.name} ({spec.summary})" for spec in STORES.values()), env="QA_STORE", check=one_of(*STORE_NAMES))
    collection: str = setting("seeds", "name of the Chroma collection", env="QA_COLLECTION")
    embed_model: str = setting(DEFAULT_MODEL, "embedding model: the bundled all-MiniLM-L6-v2, or a local "
                               "sentence-transformers directory", env="QA_EMBED_MODEL")
    encoder: str = setting("onnx", "how the model runs: onnx (ONNX Runtime, int8 where harmless; the default), "
                           "onnx-fp32 (torch's exact vectors), onnx-int8 (faster, slightly less accurate), torch "
                           "(sentence-transformers); each but torch and onnx-fp32 has its own index",
                           env="QA_ENCODER", check=lambda v: _known_encoder(v))
    model_cache: Path = setting(Path("~/.cache/seedqa"), "where the model exported for ONNX Runtime is kept "
                                "(`$XDG_CACHE_HOME/seedqa` when that is set; the index folder when this is not "
                                "writable)", env="QA_MODEL_CACHE", shown="~/.cache/seedqa")
    chunk_size: int = setting(1000, "characters per chunk; changing it rebuilds the index",
                              env="QA_CHUNK_SIZE", check=between(50, 20000))
    chunk_overlap: int = setting(200, "characters shared by neighbouring chunks (less than the chunk size)",
                                 env="QA_CHUNK_OVERLAP", check=at_least(0))
    chroma_host: str | None = setting(None, "use a Chroma server (`chroma run --path DIR --port N`) "
                                      "instead of the embedded store", env="QA_CHROMA_HOST", shown="embedded")
    chroma_port: int = setting(8000, "port of the Chroma server", env="QA_CHROMA_PORT", check=between(1, 65535))
    max_file_mb: float = setting(20.0, "larger seed files are skipped with a reason", env="QA_MAX_FILE_MB",
                                 check=between(0.001, 10000))
    max_unzipped_mb: float = setting(100.0, "docx/pptx/xlsx/epub/odt files that expand to more are skipped "
                                     "(so are those expanding over 100x: zip bombs)", env="QA_MAX_UNZIPPED_MB",
                                     check=between(0.001, 100000))
    max_pages: int = setting(2000, "PDFs (and TIFFs) with more pages are skipped", env="QA_MAX_PAGES",
                             check=between(1, 1_000_000))
    read_timeout: float = setting(300.0, "seconds one file may take to read (OCR included); slower files are "
                                  "skipped", env="QA_READ_TIMEOUT", check=between(1, 86400))
    read_memory_mb: int = setting(2048, "memory (MB) the process reading one file may use; files needing more "
                                  "are skipped", env="QA_READ_MEMORY_MB", check=between(200, 1_000_000))
    tesseract: str = setting("tesseract", "the OCR program for scanned pages and images (Debian's tesseract-ocr); "
                             "`none` turns OCR off", env="QA_TESSERACT")

    def validate(self) -> None:
        """The overlap must be smaller than the chunk."""
        if self.chunk_overlap >= self.chunk_size:
            raise UsageError(f"QA_CHUNK_OVERLAP ({self.chunk_overlap}) must be smaller than QA_CHUNK_SIZE "
                             f"({self.chunk_size})", hint="for example QA_CHUNK_SIZE=1000 QA_CHUNK_OVERLAP=200")

    @classmethod
    def _from_env_extra(cls, env: Mapping[str, str], values: dict) -> dict:
        """The model cache follows XDG_CACHE_HOME unless QA_MODEL_CACHE is set."""
        xdg = env.get("XDG_CACHE_HOME", "").strip()
        return {"model_cache": Path(xdg) / "seedqa"} if xdg and "model_cache" not in values else {}

    @property
    def read_options(self) -> ReadOptions:
        """The caps on reading one file, and the OCR program."""
        return ReadOptions(max_unzipped_mb=self.max_unzipped_mb, max_pages=self.max_pages,
                           timeout=self.read_timeout, memory_mb=self.read_memory_mb,
                           tesseract="" if self.tesseract.lower() in ("", "none", "off") else self.tesseract)

    @property
    def chunking_key(self) -> dict:
        """What the collection records so that a change forces a full rebuild. fp32 vectors are the same
        whichever encoder made them (ONNX Runtime or torch), so only mixed and int8 ones are recorded."""
        vectors = made_by(self)
        return {"embed_model": self.embed_model, "chunk_size": self.chunk_size,
                "chunk_overlap": self.chunk_overlap, "schema": SCHEMA} | ({"vectors": vectors} if vectors != "fp32"
                                                                          else {})


def _known_encoder(name: str) -> str | None:
    return None if name in EMBEDDERS else "one of " + ", ".join(EMBEDDERS)
