"""The embedding model on ONNX Runtime with Hugging Face `tokenizers`: no torch, no transformers.

It gives what `SentenceTransformerEmbedder` gives (same model, same vectors to within float rounding):
mean-pooled, L2-normalised text vectors, and from the same forward pass one vector per character span
("late chunking"; spans cut off by truncation get a zero vector). Texts are tokenised once, sorted by
length and run in small batches padded only to their longest text, on one session with as many
threads as this process may use.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from index.embedding import onnx_cache, onnx_export
from index.errors import EmbedderError

Spans = Sequence[Sequence[tuple[int, int]]]


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


class OnnxEmbedder:
    """One ONNX Runtime session over the exported model (`onnx_cache`), loaded on first use."""

    def __init__(self, name: str, model_dir: Path, roots: Sequence[Path], variant: str = "fp32",
                 batch_size: int = 32, threads: int | None = None):
        self.name, self.model_dir, self.roots, self.variant = name, Path(model_dir), list(roots), variant
        self.batch_size, self.threads = batch_size, threads or usable_cores()
        self._session = self._tokenizer = None
        self._dimension = 0
        self._lock = threading.Lock()

    @property
    def dimension(self) -> int:
        """Length of the vectors."""
        self._load()
        return self._dimension

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """A (len(texts), dimension) float32 array of unit vectors."""
        self._load()
        out = np.zeros((len(texts), self._dimension), dtype=np.float32)
        for rows, _, hidden, mask in self._batches(texts):
            out[rows] = _mean(hidden, mask)
        return out

    def embed_spans(self, texts: Sequence[str], spans: Spans) -> tuple[np.ndarray, list[np.ndarray]]:
        """The vectors of `texts` and, from the same pass, one unit vector per character span of each."""
        self._load()
        vectors = np.zeros((len(texts), self._dimension), dtype=np.float32)
        span_vectors: list[np.ndarray] = [np.zeros((0, self._dimension), np.float32)] * len(texts)
        for rows, encodings, hidden, mask in self._batches(texts):
            vectors[rows] = _mean(hidden, mask)
            for n, (i, enc) in enumerate(zip(rows, encodings)):
                offsets = np.asarray(enc.offsets, dtype=np.int64).reshape(-1, 2)
                span_vectors[i] = pool(hidden[n, :len(offsets)], offsets, spans[i])
        return vectors, span_vectors

    def _batches(self, texts: Sequence[str]) -> Iterator[tuple[np.ndarray, list, np.ndarray, np.ndarray]]:
        """(rows, encodings, token vectors, mask) per batch of texts of similar length (least padding)."""
        if not len(texts):
            return
        encodings = self._tokenizer.encode_batch(list(texts))
        lengths = np.fromiter((len(e.ids) for e in encodings), dtype=np.int64, count=len(encodings))
        order = np.argsort(-lengths, kind="stable")
        for at in range(0, len(order), self.batch_size):
            rows = order[at:at + self.batch_size]
            ids = np.zeros((len(rows), int(lengths[rows].max())), dtype=np.int64)
            mask = np.zeros_like(ids)
            for n, i in enumerate(rows):
                ids[n, :lengths[i]] = encodings[i].ids
                mask[n, :lengths[i]] = 1
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            yield rows, [encodings[i] for i in rows], self._session.run(None, feed)[0], mask

    def _load(self) -> None:
        with self._lock:
            if self._session is None:
                self._tokenizer = load_tokenizer(self.model_dir)
                try:
                    path = onnx_cache.model_file(self.model_dir, self.variant, self.roots)
                except ImportError as exc:
                    raise EmbedderError(f"exporting the model for ONNX Runtime needs {exc.name!r}, which is "
                                        "not installed", hint="reinstall seedqa, or set QA_ENCODER=torch") from exc
                self._session = open_session(path, self.threads)
                self._dimension = int(self._session.get_outputs()[0].shape[-1])


def load_tokenizer(model_dir: Path):
    """The model's fast tokenizer, truncating where sentence-transformers does and not padding (each
    batch is padded to its own longest text). The shipped tokenizer.json says truncate and pad to 128,
    which would silently cut every chunk in half."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.enable_truncation(int(onnx_export.max_length_config(model_dir).get("max_seq_length", 256)))
    tokenizer.no_padding()
    return tokenizer


def open_session(path: Path, threads: int):
    """An ONNX Runtime CPU session with `threads` intra-op threads that sleep rather than spin when idle
    (spinning never made a batch faster here and burns a core another process could use)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _mean(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    m = mask[:, :, None].astype(np.float32)
    v = (hidden * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9)
    return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)


def pool(tokens: np.ndarray, offsets: np.ndarray, spans) -> np.ndarray:
    """Unit mean of the token vectors lying inside each character span (zero when none does). Special
    tokens have empty offsets and never count."""
    out = np.zeros((len(spans), tokens.shape[1]), dtype=np.float32)
    if not len(spans):
        return out
    sp = np.asarray(spans, dtype=np.int64).reshape(-1, 2)
    real = offsets[:, 1] > offsets[:, 0]
    inside = real[None, :] & (offsets[None, :, 0] >= sp[:, :1]) & (offsets[None, :, 1] <= sp[:, 1:])
    counts = inside.sum(axis=1)
    hit = counts > 0
    if hit.any():
        v = (inside[hit].astype(np.float32) @ tokens) / counts[hit, None]
        out[hit] = v / (np.linalg.norm(v, axis=1, keepdims=True) + 1e-9)
    return out
